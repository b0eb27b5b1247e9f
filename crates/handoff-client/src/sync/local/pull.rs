//! Pull: the client's cursors, and a pull answer's pages kept as the synced copy and applied
//! to the visible tables (or rebased onto, for a spec with pending edits), each page with its
//! cursor.

use std::collections::BTreeMap;

use rusqlite::{Connection, Transaction, params};

use handoff_core::protocol::{PullResponse, Record, Scope, ScopePage};
use handoff_core::*;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::materialize::{COMMENT_RANK, drop_visible_spec, kind_rank, materialize};
use super::rebase::{has_pending, is_dirty, rebuild_spec};
use super::{corrupt, observe_hlc};
use crate::error::{ClientError, Result};
use crate::store::{apply, read};

/// The client's cursors.
pub(crate) fn cursors(conn: &Connection) -> Result<BTreeMap<Scope, u64>> {
    let mut stmt = conn.prepare_cached("SELECT scope, version FROM sync_cursors")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (s, v) = row?;
        out.insert(read::parse::<Scope>("scope", &s)?, v as u64);
    }
    Ok(out)
}

/// What a pull changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullTally {
    /// Records received.
    pub records: u32,
    /// Scopes whose pages were applied.
    pub scopes: u32,
    /// Scopes dropped because access was lost.
    pub lost_scopes: u32,
    /// Pending entries moved to the attention list because their scope was lost.
    pub orphaned: u32,
}

/// The storage key of a record in `synced_records`: `(kind, key)`. Reviews are keyed by
/// `(revision, reviewer)`, matching "one verdict per reviewer and revision".
fn record_key(r: &Record) -> (&'static str, String) {
    match r {
        Record::Workspace(w) => ("workspace", w.id.to_string()),
        Record::Member(m) => ("member", format!("{}/{}", m.workspace_id, m.user_id)),
        Record::MemberRemoved { workspace_id, user_id } => ("member", format!("{workspace_id}/{user_id}")),
        Record::Spec(s) => ("spec", s.id.to_string()),
        Record::Deliverable(d) => ("deliverable", d.id.to_string()),
        Record::Revision(r) => ("revision", r.id.to_string()),
        Record::Thread(t) => ("thread", t.thread.id.to_string()),
        Record::Comment(c) => ("comment", c.id.to_string()),
        Record::Review(r) => ("review", format!("{}/{}", r.revision_id, r.reviewer)),
        Record::ViewedFile(v) => ("viewed_file", format!("{}/{}/{}", v.spec_id, v.reviewer, v.path)),
        Record::AcceptanceOverride(o) => ("acceptance_override", o.spec_id.to_string()),
        Record::ReadyOverride(o) => ("ready_override", o.spec_id.to_string()),
        Record::Activity(a) => ("activity", a.key()),
        Record::ReadMark(m) => ("read_mark", handoff_core::activity::ReadMark::key(m.spec_id, &m.email)),
        Record::Conflict(c) => ("conflict", c.id.to_string()),
    }
}

fn set_cursor(tx: &Transaction<'_>, scope: &str, version: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sync_cursors (scope, version) VALUES (?1, ?2) ON CONFLICT (scope) DO UPDATE SET version = excluded.version",
    )?
    .execute(params![scope, version as i64])?;
    Ok(())
}

/// A lost scope: drop everything held for it; its unsent work moves to the attention list
/// as rejected, exportable (DESIGN §3 inv. 6).
fn lose_scope(tx: &Transaction<'_>, scope: &Scope, tally: &mut PullTally) -> Result<()> {
    let s = scope.to_string();
    tx.execute("DELETE FROM synced_records WHERE scope = ?1", [&s])?;
    tx.execute("DELETE FROM sync_cursors WHERE scope = ?1", [&s])?;
    tx.execute("DELETE FROM sync_dirty WHERE scope = ?1", [&s])?;
    tally.lost_scopes += 1;
    match scope {
        Scope::Spec(id) => {
            let id = id.to_string();
            // No outcome yet: they are still sent (ids stay gap-free) and the server's
            // refusal is recorded on them then.
            tally.orphaned += tx.execute(
                "UPDATE outbox SET state = 'attention', last_error = 'you lost access to this spec before this change was sent'
                 WHERE spec_id = ?1 AND state = 'pending'",
                params![id],
            )? as u32;
            drop_visible_spec(tx, &id)?;
        }
        Scope::Workspace(ws) => {
            let ws = ws.to_string();
            tx.execute("DELETE FROM members WHERE workspace_id = ?1", [&ws])?;
            // Its specs are reset by their own pages; the workspace row goes once it is empty.
            tx.execute("DELETE FROM workspaces WHERE id = ?1 AND is_local = 0 AND NOT EXISTS (SELECT 1 FROM specs WHERE workspace_id = ?1)", [&ws])?;
        }
    }
    Ok(())
}

/// A pulled record with the exact JSON it arrived as: the synced copy stores those bytes
/// instead of serializing the record again.
#[derive(Clone, Debug)]
pub(crate) struct Pulled {
    /// The record.
    pub record: Record,
    /// Its JSON, as received.
    pub json: Box<RawValue>,
}

impl<'de> Deserialize<'de> for Pulled {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let json = Box::<RawValue>::deserialize(d)?;
        let record = serde_json::from_str(json.get()).map_err(serde::de::Error::custom)?;
        Ok(Self { record, json })
    }
}

impl TryFrom<Record> for Pulled {
    type Error = ClientError;
    fn try_from(record: Record) -> Result<Self> {
        let json = serde_json::value::to_raw_value(&record).map_err(corrupt)?;
        Ok(Self { record, json })
    }
}

/// Stores a page's records in the synced copy.
fn keep_synced(tx: &Transaction<'_>, scope: &str, records: &[Pulled]) -> Result<()> {
    let mut put = tx.prepare_cached(
        "INSERT INTO synced_records (scope, kind, key, data) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (scope, kind, key) DO UPDATE SET data = excluded.data",
    )?;
    let mut del = tx.prepare_cached("DELETE FROM synced_records WHERE scope = ?1 AND kind = ?2 AND key = ?3")?;
    for p in records {
        let (kind, key) = record_key(&p.record);
        if let Record::MemberRemoved { .. } = p.record {
            del.execute(params![scope, kind, key])?;
        } else {
            put.execute(params![scope, kind, key, p.json.get()])?;
        }
    }
    Ok(())
}

fn apply_page(tx: &Transaction<'_>, page: &ScopePage<Pulled>, tally: &mut PullTally) -> Result<()> {
    let s = page.scope.to_string();
    if page.reset {
        if page.records.is_empty() && page.to_version == 0 {
            return lose_scope(tx, &page.scope, tally);
        }
        // Another server history: start this scope over from the page.
        tx.execute("DELETE FROM synced_records WHERE scope = ?1", [&s])?;
        if let Scope::Spec(id) = page.scope {
            drop_visible_spec(tx, &id.to_string())?;
            tx.execute("INSERT OR IGNORE INTO sync_dirty (scope) VALUES (?1)", [&s])?;
        }
    }
    if let Scope::Spec(id) = page.scope
        && read::is_archived(tx, id)?
    {
        // The server has this spec: its copy replaces the archive an import made (the
        // archive's mark goes with its rows), so the two never mix.
        drop_visible_spec(tx, &id.to_string())?;
    }
    keep_synced(tx, &s, &page.records)?;
    match page.scope {
        Scope::Spec(id) if has_pending(tx, &id.to_string())? || is_dirty(tx, &s)? => rebuild_spec(tx, id)?,
        _ => {
            let mut records: Vec<&Record> = page.records.iter().map(|p| &p.record).collect();
            records.sort_by_key(|r| kind_rank(r));
            // Comments are most of a page: written with one statement (see upsert_comments).
            let comments = records.iter().filter_map(|r| if let Record::Comment(c) = r { Some(c) } else { None });
            match page.scope {
                Scope::Spec(spec_id) => {
                    for r in records.iter().filter(|r| kind_rank(r) < COMMENT_RANK) {
                        materialize(tx, &page.scope, r)?;
                    }
                    apply::upsert_comments(tx, comments, spec_id)?;
                    for r in records.iter().filter(|r| kind_rank(r) > COMMENT_RANK) {
                        materialize(tx, &page.scope, r)?;
                    }
                }
                Scope::Workspace(_) => {
                    for r in records {
                        materialize(tx, &page.scope, r)?;
                    }
                }
            }
        }
    }
    set_cursor(tx, &s, page.to_version)?;
    tally.records += page.records.len() as u32;
    tally.scopes += 1;
    Ok(())
}

/// Applies a pull answer: every page with its cursor, and the HLC catch-up, in the caller's
/// transaction. A cursor moves backward only on an explicit reset.
pub(crate) fn apply_pull(tx: &Transaction<'_>, resp: &PullResponse<Pulled>, now: Timestamp) -> Result<PullTally> {
    let mut tally = PullTally::default();
    for page in &resp.pages {
        apply_page(tx, page, &mut tally)?;
    }
    observe_hlc(tx, resp.server_hlc, now)?;
    Ok(tally)
}
