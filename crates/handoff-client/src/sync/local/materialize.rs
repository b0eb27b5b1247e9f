//! Writing server records into the visible tables (what screens read), for a pulled page
//! and for a rebuild.

use rusqlite::{Transaction, params};

use handoff_core::protocol::{Record, Scope};
use handoff_core::*;

use super::corrupt;
use crate::error::Result;
use crate::store::apply;

/// Where comments sit in [`kind_rank`]'s order.
pub(super) const COMMENT_RANK: u8 = 6;

/// Parents before children, so foreign keys hold whatever order a page lists records in.
pub(super) fn kind_rank(r: &Record) -> u8 {
    match r {
        Record::Workspace(_) => 0,
        Record::Member(_) | Record::MemberRemoved { .. } => 1,
        Record::Spec(_) => 2,
        Record::Deliverable(_) => 3,
        Record::Revision(_) => 4,
        Record::Thread(_) => 5,
        Record::Comment(_) => COMMENT_RANK,
        Record::Review(_)
        | Record::ViewedFile(_)
        | Record::AcceptanceOverride(_)
        | Record::ReadyOverride(_)
        | Record::Activity(_)
        | Record::ReadMark(_) => 7,
        Record::Conflict(_) => 8,
    }
}

/// Writes one record into the visible tables.
pub(super) fn materialize(tx: &Transaction<'_>, scope: &Scope, r: &Record) -> Result<()> {
    match r {
        Record::Workspace(w) => {
            tx.prepare_cached(
                "INSERT INTO workspaces (id, name, is_local) VALUES (?1, ?2, 0) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )?
            .execute(params![w.id.to_string(), w.name])?;
        }
        Record::Member(m) => {
            ensure_workspace(tx, m.workspace_id)?;
            let wh = serde_json::to_string(&m.working_hours).map_err(corrupt)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO members (workspace_id, user_id, email, display_name, role, timezone, working_hours)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                m.workspace_id.to_string(),
                m.user_id.to_string(),
                m.email,
                m.display_name,
                m.role.as_str(),
                m.timezone,
                wh
            ])?;
        }
        Record::MemberRemoved { workspace_id, user_id } => {
            tx.execute(
                "DELETE FROM members WHERE workspace_id = ?1 AND user_id = ?2",
                params![workspace_id.to_string(), user_id.to_string()],
            )?;
        }
        Record::Spec(s) => {
            ensure_workspace(tx, s.workspace_id)?;
            apply::save_spec(tx, s)?;
        }
        Record::Deliverable(d) => {
            tx.prepare_cached(
                "INSERT INTO deliverables (id, spec_id, created_by, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET created_by = excluded.created_by, created_at = excluded.created_at",
            )?
            .execute(params![d.id.to_string(), d.spec_id.to_string(), d.created_by, d.created_at.as_millis()])?;
        }
        Record::Revision(r) => {
            let changed = tx
                .prepare_cached(
                    "UPDATE revisions SET number = ?2, number_confirmed = ?3, summary = ?4, created_by = ?5, created_at = ?6,
                     received_at = ?7 WHERE id = ?1",
                )?
                .execute(params![
                    r.id.to_string(),
                    r.number,
                    r.number_confirmed,
                    r.summary,
                    r.created_by,
                    r.created_at.as_millis(),
                    r.received_at.map(Timestamp::as_millis)
                ])?;
            if changed == 0 {
                apply::insert_revision(tx, r)?;
            }
        }
        Record::Thread(t) => apply::upsert_thread(tx, &t.thread, t.events, &t.history)?,
        Record::Comment(c) => {
            let spec_id = match scope {
                Scope::Spec(s) => *s,
                Scope::Workspace(_) => return Err(corrupt("a comment arrived in a workspace scope")),
            };
            apply::upsert_comment(tx, c, spec_id)?;
        }
        Record::Review(r) => {
            tx.prepare_cached("DELETE FROM reviews WHERE revision_id = ?1 AND reviewer = ?2 AND id <> ?3")?.execute(params![
                r.revision_id.to_string(),
                r.reviewer,
                r.id.to_string()
            ])?;
            apply::upsert_review(tx, r)?;
        }
        Record::ViewedFile(v) => apply::upsert_viewed(tx, v)?,
        Record::AcceptanceOverride(o) => apply::upsert_override(tx, o)?,
        Record::ReadyOverride(o) => apply::upsert_ready_override(tx, o)?,
        Record::Activity(a) => crate::inbox::store_activity(tx, a)?,
        Record::ReadMark(m) => crate::inbox::raise_read_mark(tx, m.spec_id, &m.email, m.seq)?,
        Record::Conflict(c) => {
            let json = serde_json::to_string(c).map_err(corrupt)?;
            tx.prepare_cached("INSERT OR REPLACE INTO conflicts (id, spec_id, record) VALUES (?1, ?2, ?3)")?.execute(params![
                c.id.to_string(),
                c.spec_id.to_string(),
                json
            ])?;
        }
    }
    Ok(())
}

fn ensure_workspace(tx: &Transaction<'_>, id: WorkspaceId) -> Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO workspaces (id, name, is_local) VALUES (?1, '', 0)")?.execute([id.to_string()])?;
    Ok(())
}

/// Drops a spec's visible rows (children cascade).
pub(super) fn drop_visible_spec(tx: &Transaction<'_>, spec_id: &str) -> Result<()> {
    tx.execute("DELETE FROM specs WHERE id = ?1", [spec_id])?;
    tx.execute("DELETE FROM conflicts WHERE spec_id = ?1", [spec_id])?;
    Ok(())
}
