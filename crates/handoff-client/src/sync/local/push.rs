//! Push bookkeeping: what to send from the outbox, and what the server's answers do to it.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use handoff_core::protocol::{Outcome, PushResult};
use handoff_core::*;

use super::{corrupt, observe_hlc};
use crate::error::Result;
use crate::store::read;
use crate::sync::planner::Sendable;

/// What the signed-in account still has to send, in local id order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pending {
    /// The entries.
    pub entries: Vec<Sendable>,
    /// The client ids they go out under, with each one's base (wire id = local id − base).
    pub clients: Vec<(ClientId, u64)>,
}

/// Outbox entries still to send, in order: the pending ones, and the ones parked in the
/// attention list before the server recorded any answer (by a lost access, or made while
/// signed in as this account before another signed in); they are still sent, so mutation
/// ids stay gap-free and the server records a reason for each. Only the signed-in account's
/// client ids are sent: nothing goes out under another account's name.
pub(crate) fn pending(conn: &Connection) -> Result<Pending> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.mutation_id, o.client_id, c.base, length(o.envelope)
         FROM outbox o JOIN client_ids c ON c.client_id = o.client_id
         WHERE (o.state = 'pending' OR (o.state = 'attention' AND o.outcome IS NULL))
           AND c.user_id = (SELECT value FROM meta WHERE key = 'user_id')
         ORDER BY o.mutation_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Pending::default();
    for (id, client, base, bytes) in rows {
        let client: ClientId = read::parse("client id", &client)?;
        let index = match out.clients.iter().position(|(c, _)| *c == client) {
            Some(i) => i,
            None => {
                out.clients.push((client, base as u64));
                out.clients.len() - 1
            }
        };
        out.entries.push(Sendable { id: id as u64, client: index, bytes: bytes as usize });
    }
    Ok(out)
}

/// The local ids of [`pending`].
#[cfg(test)]
pub(crate) fn pending_ids(conn: &Connection) -> Result<Vec<u64>> {
    Ok(pending(conn)?.entries.iter().map(|e| e.id).collect())
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
    client: (ClientId, u64),
    results: &[PushResult],
    server_hlc: Hlc,
    now: Timestamp,
) -> Result<PushTally> {
    let mut tally = PushTally::default();
    let (client_id, base) = client;
    for r in results {
        let local = r.mutation_id + base;
        let spec: Option<String> = tx
            .query_row(
                "SELECT spec_id FROM outbox WHERE mutation_id = ?1 AND client_id = ?2 AND outcome IS NULL",
                params![local as i64, client_id.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        let Some(spec) = spec else { continue };
        let r = &PushResult { mutation_id: local, outcome: r.outcome.clone() };
        // Kept after it leaves the outbox, to send again if the server is restored from a backup.
        tx.prepare_cached(
            "INSERT OR REPLACE INTO outbox_sent (mutation_id, client_id, envelope)
             SELECT mutation_id, client_id, envelope FROM outbox WHERE mutation_id = ?1",
        )?
        .execute([local as i64])?;
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
