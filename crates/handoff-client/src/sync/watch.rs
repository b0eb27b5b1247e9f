//! Keeping in sync: a round now, then on every server poke or timer, backing off while
//! offline.

use std::time::Duration;

use handoff_core::protocol::*;

use super::{SyncEngine, SyncReport, SyncResult, jitter_seed, planner};

/// The first wait before opening the event stream again after it could not be opened.
const STREAM_RETRY_BASE: Duration = Duration::from_millis(500);
/// The longest such wait.
const STREAM_RETRY_CAP: Duration = Duration::from_secs(15);

impl SyncEngine {
    /// Syncs now, then whenever the server pokes (`/v1/events`, SSE) or `every` passes,
    /// until `stop` turns true. The event stream is opened before each catch-up sync and kept
    /// open across rounds (reconnected when it ends), so no poke falls between a sync and
    /// the next subscription. Failures are handed to `on_round` like successes and never end
    /// the loop: a transient one (offline, busy) backs off exponentially with jitter; one
    /// that needs a person (signed out, a refused push, upgrade required) is tried again
    /// every `backoff_cap`, so the loop resumes by itself once the person acted (signed in
    /// again with the same engine, upgraded the server).
    pub async fn watch(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        every: Duration,
        on_round: impl Fn(&SyncResult<SyncReport>) + Send + Sync,
    ) {
        let mut failures = 0u32;
        // Event streams that could not be opened in a row: without one, the loop tries again
        // soon (backing off) rather than at the timer, so a client whose server process went
        // away hears pokes again as soon as another process takes its stream.
        let mut stream_failures = 0u32;
        let mut events: Option<tokio::sync::mpsc::Receiver<Poke>> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if events.is_none()
                && let Ok(t) = self.token()
            {
                events = self.transport.events(t).await.ok();
                stream_failures = if events.is_some() { 0 } else { stream_failures.saturating_add(1) };
            }
            let result = self.sync_once().await;
            on_round(&result);
            if let Err(e) = &result {
                let delay = if e.is_transient() {
                    planner::backoff(failures, self.options.backoff_base, self.options.backoff_cap, jitter_seed())
                } else {
                    self.options.backoff_cap
                };
                failures += 1;
                events = None;
                tokio::select! {
                    _ = tokio::time::sleep(delay) => continue,
                    _ = stop.changed() => return,
                }
            }
            failures = 0;
            match events.as_mut() {
                Some(rx) => {
                    tokio::select! {
                        p = rx.recv() => {
                            if p.is_none() {
                                events = None;
                            } else {
                                // Several pokes may be queued: one pull answers them all.
                                while rx.try_recv().is_ok() {}
                            }
                        }
                        _ = tokio::time::sleep(every) => {}
                        _ = stop.changed() => return,
                    }
                }
                None => {
                    let retry = planner::backoff(stream_failures, STREAM_RETRY_BASE, STREAM_RETRY_CAP, jitter_seed());
                    tokio::select! {
                        _ = tokio::time::sleep(every.min(self.options.backoff_cap).min(retry)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }
}
