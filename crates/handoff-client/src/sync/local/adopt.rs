//! Adoption: the offline "Local" workspace's work moved into the workspace just joined.

use rusqlite::{Transaction, params};

use handoff_core::*;

use super::corrupt;
use crate::LOCAL_IDENTITY;
use crate::error::Result;
use crate::store::read;

/// Adopts the work made offline in the "Local" workspace into `target` after joining: the
/// never-pushed `spec.create` mutations and the local rows move to the joined workspace, and
/// the placeholder identity becomes `email`. Returns how many specs moved.
pub(crate) fn adopt_local_workspace(tx: &Transaction<'_>, target: WorkspaceId, email: &str) -> Result<u32> {
    let locals: Vec<String> = {
        let mut stmt = tx.prepare_cached("SELECT id FROM workspaces WHERE is_local = 1")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
    };
    let target_s = target.to_string();
    let mut moved = 0u32;
    for local in &locals {
        let rows: Vec<(i64, String)> = {
            let mut stmt = tx.prepare_cached("SELECT mutation_id, envelope FROM outbox WHERE kind = 'spec.create'")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
        };
        for (id, json) in rows {
            let mut env: MutationEnvelope = read::json("outbox envelope", &json)?;
            if let Mutation::CreateSpec { workspace_id, .. } = &mut env.mutation
                && workspace_id.to_string() == *local
            {
                *workspace_id = target;
                let json = serde_json::to_string(&env).map_err(corrupt)?;
                tx.execute("UPDATE outbox SET envelope = ?2 WHERE mutation_id = ?1", params![id, json])?;
            }
        }
        moved += tx.execute("UPDATE specs SET workspace_id = ?2 WHERE workspace_id = ?1", params![local, target_s])? as u32;
        tx.execute("DELETE FROM workspaces WHERE id = ?1", [local])?;
    }
    if email != LOCAL_IDENTITY {
        for sql in [
            "UPDATE specs SET created_by = ?2 WHERE created_by = ?1",
            "UPDATE deliverables SET created_by = ?2 WHERE created_by = ?1",
            "UPDATE revisions SET created_by = ?2 WHERE created_by = ?1",
            "UPDATE threads SET created_by = ?2 WHERE created_by = ?1",
            "UPDATE comments SET author = ?2 WHERE author = ?1",
            "UPDATE reviews SET reviewer = ?2 WHERE reviewer = ?1",
        ] {
            tx.execute(sql, params![LOCAL_IDENTITY, email])?;
        }
    }
    Ok(moved)
}
