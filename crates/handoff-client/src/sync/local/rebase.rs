//! Rebase: a spec's visible rows rebuilt from its synced copy with its pending edits on top.
//!
//! # Pending edits on top of synced state (DESIGN §3 inv. 5): rebase by replay
//! Every pulled record is kept as the server sent it in `synced_records`. The visible tables
//! (what screens read) are that synced copy with the still-pending outbox mutations applied
//! on top. When a page arrives for a spec that has pending mutations, or whose mutations the
//! server answered since its last rebuild ("dirty"), the spec is *rebuilt* in the same
//! transaction as the page and its cursor: its visible rows are dropped, the synced records
//! re-materialized, and the pending mutations replayed in order (Replicache-style rebase). A
//! spec with nothing pending takes the page as plain upserts (the fast path of an initial
//! sync). An answered mutation leaves the pending set, so its optimistic effect is replaced
//! by the server's state at the next rebuild; a rejected one is thereby undone.

use rusqlite::Transaction;

use handoff_core::protocol::{Record, Scope};
use handoff_core::*;

use super::materialize::{drop_visible_spec, kind_rank, materialize};
use crate::Client;
use crate::error::{ClientError, Result};
use crate::store::{apply, read};

fn synced_records_of(tx: &Transaction<'_>, scope: &str) -> Result<Vec<Record>> {
    let mut stmt = tx.prepare_cached("SELECT data FROM synced_records WHERE scope = ?1")?;
    let rows = stmt.query_map([scope], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(read::json::<Record>("synced record", &row?)?);
    }
    out.sort_by_key(kind_rank);
    Ok(out)
}

/// Rebuilds one spec's visible rows: the synced copy, then every pending mutation of it
/// replayed in order. A replay that no longer applies (its target is gone) is skipped here
/// and left for the server to decide.
pub(crate) fn rebuild_spec(tx: &Transaction<'_>, spec_id: SpecId) -> Result<()> {
    let id = spec_id.to_string();
    let scope = Scope::Spec(spec_id);
    drop_visible_spec(tx, &id)?;
    for r in synced_records_of(tx, &scope.to_string())? {
        materialize(tx, &scope, &r)?;
    }
    let actor = Client::actor(tx)?;
    let pending: Vec<String> = {
        let mut stmt =
            tx.prepare_cached("SELECT envelope FROM outbox WHERE spec_id = ?1 AND state = 'pending' ORDER BY mutation_id")?;
        stmt.query_map([&id], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
    };
    for json in pending {
        let env: MutationEnvelope = read::json("outbox envelope", &json)?;
        tx.execute_batch("SAVEPOINT replay")?;
        match apply::apply(tx, &env.mutation, &actor, env.created_at) {
            Ok(()) => tx.execute_batch("RELEASE replay")?,
            Err(ClientError::Store(e)) => return Err(ClientError::Store(e)),
            Err(_) => tx.execute_batch("ROLLBACK TO replay; RELEASE replay")?,
        }
    }
    tx.execute("DELETE FROM sync_dirty WHERE scope = ?1", [scope.to_string()])?;
    Ok(())
}

pub(super) fn has_pending(tx: &Transaction<'_>, spec_id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE spec_id = ?1 AND state = 'pending')")?
        .query_row([spec_id], |r| r.get(0))?)
}

pub(super) fn is_dirty(tx: &Transaction<'_>, scope: &str) -> Result<bool> {
    Ok(tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM sync_dirty WHERE scope = ?1)")?.query_row([scope], |r| r.get(0))?)
}

/// Rebuilds every spec still marked dirty (answered mutations whose scope got no page).
pub(crate) fn rebuild_dirty(tx: &Transaction<'_>) -> Result<u32> {
    let scopes: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT scope FROM sync_dirty")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
    };
    let mut n = 0;
    for s in scopes {
        match read::parse::<Scope>("scope", &s)? {
            Scope::Spec(id) => {
                rebuild_spec(tx, id)?;
                n += 1;
            }
            Scope::Workspace(_) => {
                tx.execute("DELETE FROM sync_dirty WHERE scope = ?1", [&s])?;
            }
        }
    }
    Ok(n)
}
