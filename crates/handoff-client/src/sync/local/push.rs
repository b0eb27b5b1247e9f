//! Push bookkeeping: what to send from the outbox, and what the server's answers do to it.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use handoff_core::protocol::{Outcome, PushResult};
use handoff_core::*;

use super::{corrupt, observe_hlc};
use crate::error::Result;
use crate::store::read;

/// Outbox ids still to send, in order: the pending ones, and the ones parked in the
/// attention list by a lost access before the server recorded any answer (they are still
/// sent, so mutation ids stay gap-free and the server records a reason for each).
pub(crate) fn pending_ids(conn: &Connection) -> Result<Vec<u64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT mutation_id FROM outbox WHERE state = 'pending' OR (state = 'attention' AND outcome IS NULL) ORDER BY mutation_id",
    )?;
    let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(ids.into_iter().map(|i| i as u64).collect())
}

/// The envelopes of `ids`, in order.
pub(crate) fn envelopes(conn: &Connection, ids: &[u64]) -> Result<Vec<MutationEnvelope>> {
    let mut stmt = conn.prepare_cached("SELECT envelope FROM outbox WHERE mutation_id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let json: Option<String> = stmt.query_row([*id as i64], |r| r.get(0)).optional()?;
        if let Some(json) = json {
            out.push(read::json("outbox envelope", &json)?);
        }
    }
    Ok(out)
}

/// Blob hashes the envelopes' revisions reference, deduplicated, in order.
pub(crate) fn blob_hashes(envs: &[MutationEnvelope]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for e in envs {
        if let Mutation::CreateRevision { files, .. } = &e.mutation {
            for f in files {
                if seen.insert(f.sha256.clone()) {
                    out.push(f.sha256.clone());
                }
            }
        }
    }
    out
}

/// What a push's answers did to the outbox.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushTally {
    /// Applied as sent.
    pub applied: u32,
    /// Applied after a clean merge.
    pub merged: u32,
    /// Kept as a conflict record (moved to the attention list).
    pub conflicts: u32,
    /// Refused (moved to the attention list).
    pub rejected: u32,
}

/// Records the server's answers: applied and merged entries leave the outbox, conflicted
/// and rejected ones move to the attention list with the reason and their content. Every
/// answered entry's spec is marked for a rebuild. One transaction, with the HLC catch-up.
pub(crate) fn record_push_results(
    tx: &Transaction<'_>,
    results: &[PushResult],
    server_hlc: Hlc,
    now: Timestamp,
) -> Result<PushTally> {
    let mut tally = PushTally::default();
    for r in results {
        let spec: Option<String> = tx
            .query_row("SELECT spec_id FROM outbox WHERE mutation_id = ?1 AND outcome IS NULL", [r.mutation_id as i64], |row| {
                row.get(0)
            })
            .optional()?;
        let Some(spec) = spec else { continue };
        let outcome = serde_json::to_string(&r.outcome).map_err(corrupt)?;
        match &r.outcome {
            Outcome::Applied | Outcome::Merged => {
                tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", [r.mutation_id as i64])?;
                if matches!(r.outcome, Outcome::Applied) {
                    tally.applied += 1;
                } else {
                    tally.merged += 1;
                }
            }
            Outcome::Conflict { message, .. } | Outcome::Rejected { message, .. } => {
                tx.execute(
                    "UPDATE outbox SET state = 'attention', outcome = ?2, last_error = ?3, attempts = attempts + 1 WHERE mutation_id = ?1",
                    params![r.mutation_id as i64, outcome, message],
                )?;
                if matches!(r.outcome, Outcome::Conflict { .. }) {
                    tally.conflicts += 1;
                } else {
                    tally.rejected += 1;
                }
            }
        }
        tx.execute("INSERT OR IGNORE INTO sync_dirty (scope) VALUES (?1)", [format!("spec:{spec}")])?;
    }
    observe_hlc(tx, server_hlc, now)?;
    Ok(tally)
}

/// Notes a failed push attempt on the entries it carried.
pub(crate) fn note_push_failure(conn: &Connection, ids: &[u64], error: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE mutation_id = ?1 AND state = 'pending'",
    )?;
    for id in ids {
        stmt.execute(params![*id as i64, error])?;
    }
    Ok(())
}
