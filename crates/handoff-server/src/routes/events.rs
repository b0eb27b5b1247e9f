//! `GET /v1/events`: an SSE stream of data-less pokes for the scopes the caller can see. Streams
//! are capped per token and in all, and a stream ends when its token is revoked or expires.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use handoff_core::protocol::Poke;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Caller;
use crate::error::Result;
use crate::events::{ScopeChange, StreamSlot};
use crate::pull;
use crate::state::AppState;
use crate::storage::queries;

struct Listener {
    state: AppState,
    user: String,
    token_id: String,
    token_expires_at: i64,
    rx: tokio::sync::broadcast::Receiver<ScopeChange>,
    revoked: tokio::sync::broadcast::Receiver<String>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    _slot: StreamSlot,
}

impl Listener {
    /// Whether the token still holds and its account may see the change. Checked per poke
    /// against the database: tokens are revoked (also by other server processes), assignments
    /// and memberships change, and a poke must not reach someone who just lost access.
    /// `None` when the token no longer holds; else whether the change may be poked.
    async fn may_poke(&self, change: Option<&ScopeChange>) -> Option<bool> {
        let (user, token, scope, now) = (self.user.clone(), self.token_id.clone(), change.map(|c| c.scope), self.state.now());
        self.state
            .db
            .read(move |db| {
                Box::pin(async move {
                    if !queries::token_live(db, &token, now.as_millis()).await? {
                        return Ok(None);
                    }
                    match scope {
                        Some(scope) => pull::can_see(db, &user, &scope).await.map(Some),
                        None => Ok(Some(true)),
                    }
                })
            })
            .await
            .unwrap_or(Some(false))
    }

    /// `Some(poke)`, or `None` when the stream must end (shutdown, revoked or expired token).
    async fn next_poke(&mut self) -> Option<Poke> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            let left_ms = self.token_expires_at - self.state.now().as_millis();
            if left_ms <= 0 {
                return None;
            }
            tokio::select! {
                _ = self.shutdown.changed() => return None,
                _ = tokio::time::sleep(Duration::from_millis(left_ms as u64)) => return None,
                revoked = self.revoked.recv() => match revoked {
                    Ok(id) if id == self.token_id => return None,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) if self.may_poke(None).await.is_none() => return None,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
                msg = self.rx.recv() => match msg {
                    Ok(change) => match self.may_poke(Some(&change)).await {
                        None => return None,
                        Some(true) => return Some(Poke { scope: change.scope, version: change.version }),
                        Some(false) => {}
                    },
                    // Missed some: the client pulls anyway on the next poke it gets.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }
}

/// `GET /v1/events`
pub async fn events(State(state): State<AppState>, caller: Caller) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let slot =
        state.events.open_stream(&caller.token_id, state.config.max_event_streams_per_token, state.config.max_event_streams)?;
    let listener = Listener {
        rx: state.events.subscribe(),
        revoked: state.events.revocations(),
        shutdown: state.shutdown_signal(),
        user: caller.user(),
        token_id: caller.token_id,
        token_expires_at: caller.token_expires_at,
        state,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(listener, |mut l| async move {
        let poke = l.next_poke().await?;
        let event =
            Event::default().event("poke").json_data(&poke).unwrap_or_else(|_| Event::default().comment("unencodable poke"));
        Some((Ok(event), l))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
