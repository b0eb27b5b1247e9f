//! Keeping in sync: a round now, then on every server poke or timer, backing off while
//! offline.

use std::time::Duration;

use handoff_core::protocol::*;

use super::{SyncEngine, SyncReport, SyncResult, jitter_seed, planner};

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
        let mut events: Option<tokio::sync::mpsc::Receiver<Poke>> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if events.is_none()
                && let Ok(t) = self.token()
            {
                events = self.transport.events(t).await.ok();
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
                    tokio::select! {
                        _ = tokio::time::sleep(every.min(self.options.backoff_cap)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }
}
