//! Scope change notices: every committed write publishes the scopes it bumped on an in-process
//! broadcast channel, and `GET /v1/events` turns them into data-less pokes for the members
//! who can see the scope.
//!
//! Several server processes on one PostgreSQL hear each other's commits through
//! LISTEN/NOTIFY (see `storage::postgres`), republished here.

use handoff_core::WorkspaceId;
use handoff_core::protocol::Scope;
use tokio::sync::broadcast;

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

/// The broadcast hub.
#[derive(Clone, Debug)]
pub struct Events {
    tx: broadcast::Sender<ScopeChange>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// A hub whose slowest listener may lag 4096 changes before it is told it missed some.
    pub fn new() -> Self {
        Self { tx: broadcast::channel(4096).0 }
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
