//! `GET /v1/events`: an SSE stream of data-less pokes for the scopes the caller can see.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use handoff_core::protocol::Poke;
use tokio::sync::broadcast::error::RecvError;

use crate::auth::Caller;
use crate::error::Result;
use crate::events::ScopeChange;
use crate::pull;
use crate::state::AppState;

struct Listener {
    state: AppState,
    user: String,
    rx: tokio::sync::broadcast::Receiver<ScopeChange>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Listener {
    async fn may_see(&self, change: &ScopeChange) -> bool {
        let (user, scope) = (self.user.clone(), change.scope);
        // Checked per poke against the database: assignments and memberships change, and a
        // poke must not reach someone who just lost access.
        self.state.db.read(move |db| Box::pin(async move { pull::can_see(db, &user, &scope).await })).await.unwrap_or(false)
    }

    async fn next_poke(&mut self) -> Option<Poke> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                _ = self.shutdown.changed() => return None,
                msg = self.rx.recv() => match msg {
                    Ok(change) => {
                        if self.may_see(&change).await {
                            return Some(Poke { scope: change.scope, version: change.version });
                        }
                    }
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
    let listener = Listener { rx: state.events.subscribe(), shutdown: state.shutdown_signal(), user: caller.user(), state };
    let stream = futures_util::stream::unfold(listener, |mut l| async move {
        let poke = l.next_poke().await?;
        let event =
            Event::default().event("poke").json_data(&poke).unwrap_or_else(|_| Event::default().comment("unencodable poke"));
        Some((Ok(event), l))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
