//! Scope change notices: every committed write publishes the scopes it bumped on an in-process
//! broadcast channel, and `GET /v1/events` turns them into data-less pokes for the members
//! who can see the scope.
//!
//! Several server processes on one PostgreSQL hear each other's commits through
//! LISTEN/NOTIFY (see `storage::postgres`), republished here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use handoff_core::WorkspaceId;
use handoff_core::protocol::Scope;
use tokio::sync::broadcast;

use crate::error::{Result, ServerError};

/// A scope reached a new version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeChange {
    /// The scope.
    pub scope: Scope,
    /// Its version now.
    pub version: u64,
    /// The workspace it belongs to, for filtering.
    pub workspace_id: WorkspaceId,
}

/// The broadcast hub, and the event streams open on it.
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<ScopeChange>,
    /// Ids of tokens revoked in this process: their streams end at once.
    revoked: broadcast::Sender<String>,
    /// Open streams: per token id, and in all.
    open: Arc<Mutex<(HashMap<String, usize>, usize)>>,
}

/// One open event stream, counted until it is dropped.
#[derive(Debug)]
pub struct StreamSlot {
    open: Arc<Mutex<(HashMap<String, usize>, usize)>>,
    token_id: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.0.get_mut(&self.token_id) {
            *n -= 1;
            if *n == 0 {
                open.0.remove(&self.token_id);
            }
        }
        open.1 = open.1.saturating_sub(1);
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// A hub whose slowest listener may lag 4096 changes before it is told it missed some.
    pub fn new() -> Self {
        Self { tx: broadcast::channel(4096).0, revoked: broadcast::channel(256).0, open: Arc::default() }
    }

    /// Counts a new stream for `token_id`, or refuses it (`rate_limited`) when the token already
    /// has `per_token` open or the server `total`.
    pub fn open_stream(&self, token_id: &str, per_token: usize, total: usize) -> Result<StreamSlot> {
        let mut open = self.open.lock().map_err(|_| ServerError::Internal("event stream count poisoned".into()))?;
        let mine = open.0.get(token_id).copied().unwrap_or(0);
        if mine >= per_token || open.1 >= total {
            return Err(ServerError::RateLimited { retry_after_secs: 30 });
        }
        open.0.insert(token_id.to_owned(), mine + 1);
        open.1 += 1;
        Ok(StreamSlot { open: self.open.clone(), token_id: token_id.to_owned() })
    }

    /// How many streams are open in this process.
    pub fn open_streams(&self) -> usize {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1
    }

    /// Ends the streams of a token that was just revoked.
    pub fn revoke(&self, token_id: &str) {
        let _ = self.revoked.send(token_id.to_owned());
    }

    /// Listens for revoked tokens from now on.
    pub fn revocations(&self) -> broadcast::Receiver<String> {
        self.revoked.subscribe()
    }

    /// Publishes committed changes; nobody listening is fine.
    pub fn publish(&self, changes: impl IntoIterator<Item = ScopeChange>) {
        for c in changes {
            let _ = self.tx.send(c);
        }
    }

    /// Listens for changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ScopeChange> {
        self.tx.subscribe()
    }
}
