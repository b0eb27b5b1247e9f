//! The sync engine's local side: reading the outbox for a push, recording the server's
//! answers, and applying pulled pages, each in one transaction.
//!
//!
//! # Files
//! `push.rs` what to send and what the answers do to the outbox; `pull.rs` cursors and pulled
//! pages; `rebase.rs` rebuilding a spec with its pending edits on top (the rebase rule is
//! documented there); `materialize.rs` server records into the visible tables; `adopt.rs` the
//! offline workspace moved into a joined one; `restore.rs` what is sent again to a server
//! restored from a backup; `snapshot.rs` a canonical dump for comparisons.

mod adopt;
mod materialize;
mod pull;
mod push;
mod rebase;
mod restore;
mod snapshot;
#[cfg(test)]
mod tests;

use rusqlite::Connection;

use handoff_core::time::MAX_CLOCK_DRIFT_MS;
use handoff_core::*;

use crate::error::{ClientError, Result};
use crate::outbox::{meta_get, meta_set};
use crate::store::read;

pub(crate) use adopt::adopt_local_workspace;
pub use pull::PullTally;
pub(crate) use pull::{Pulled, apply_pull, cursors};
pub use push::PushTally;
#[cfg(test)]
pub(crate) use push::pending_ids;
pub(crate) use push::{blob_hashes, envelopes, note_push_failure, pending, record_push_results};
pub(crate) use rebase::rebuild_dirty;
pub(crate) use restore::{note_history, probed, prune_sent, refetch_everything, resend, to_probe};

/// Keeps the request body limit the server last answered with, inside the caller's
/// transaction (a server that does not say leaves the known one).
pub(crate) fn note_request_limit(tx: &Connection, limit: Option<u64>) -> Result<()> {
    match limit {
        Some(limit) => meta_set(tx, "server_max_request_bytes", &limit.to_string()),
        None => Ok(()),
    }
}

/// The request body limit the server last answered with, if it has said.
pub(crate) fn request_limit(conn: &Connection) -> Result<Option<usize>> {
    Ok(meta_get(conn, "server_max_request_bytes")?.and_then(|v| v.parse().ok()))
}

fn corrupt(e: impl std::fmt::Display) -> ClientError {
    ClientError::Corrupt(e.to_string())
}

/// Catches the store's HLC up with the server's, inside the caller's transaction.
pub(crate) fn observe_hlc(tx: &Connection, remote: Hlc, now: Timestamp) -> Result<()> {
    let last: Hlc = match meta_get(tx, "hlc")? {
        Some(s) => read::json("hlc", &s)?,
        None => Hlc::ZERO,
    };
    let mut clock = HlcClock::resume(last);
    clock.observe(remote, now, MAX_CLOCK_DRIFT_MS);
    meta_set(tx, "hlc", &serde_json::to_string(&clock.last()).map_err(corrupt)?)
}
