//! The sync engine's local side: reading the outbox for a push, recording the server's
//! answers, and applying pulled pages, each in one transaction.
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

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use handoff_core::protocol::{Outcome, PullResponse, PushResult, Record, Scope, ScopePage};
use handoff_core::time::MAX_CLOCK_DRIFT_MS;
use handoff_core::*;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::{ClientError, Result};
use crate::outbox::{meta_get, meta_set};
use crate::store::{apply, read};
use crate::{Client, LOCAL_IDENTITY};

fn corrupt(e: impl std::fmt::Display) -> ClientError {
    ClientError::Corrupt(e.to_string())
}

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
        Record::Conflict(c) => ("conflict", c.id.to_string()),
    }
}

/// Where comments sit in [`kind_rank`]'s order.
const COMMENT_RANK: u8 = 6;

/// Parents before children, so foreign keys hold whatever order a page lists records in.
fn kind_rank(r: &Record) -> u8 {
    match r {
        Record::Workspace(_) => 0,
        Record::Member(_) | Record::MemberRemoved { .. } => 1,
        Record::Spec(_) => 2,
        Record::Deliverable(_) => 3,
        Record::Revision(_) => 4,
        Record::Thread(_) => 5,
        Record::Comment(_) => COMMENT_RANK,
        Record::Review(_) => 7,
        Record::Conflict(_) => 8,
    }
}

/// Writes one record into the visible tables.
fn materialize(tx: &Transaction<'_>, scope: &Scope, r: &Record) -> Result<()> {
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
            let changed = tx.prepare_cached(
                "UPDATE revisions SET number = ?2, number_confirmed = ?3, summary = ?4, created_by = ?5, created_at = ?6 WHERE id = ?1",
            )?
            .execute(params![r.id.to_string(), r.number, r.number_confirmed, r.summary, r.created_by, r.created_at.as_millis()],
            )?;
            if changed == 0 {
                apply::insert_revision(tx, r)?;
            }
        }
        Record::Thread(t) => apply::upsert_thread(tx, &t.thread, t.events)?,
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
fn drop_visible_spec(tx: &Transaction<'_>, spec_id: &str) -> Result<()> {
    tx.execute("DELETE FROM specs WHERE id = ?1", [spec_id])?;
    tx.execute("DELETE FROM conflicts WHERE spec_id = ?1", [spec_id])?;
    Ok(())
}

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

fn has_pending(tx: &Transaction<'_>, spec_id: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE spec_id = ?1 AND state = 'pending')")?
        .query_row([spec_id], |r| r.get(0))?)
}

fn is_dirty(tx: &Transaction<'_>, scope: &str) -> Result<bool> {
    Ok(tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM sync_dirty WHERE scope = ?1)")?.query_row([scope], |r| r.get(0))?)
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

impl crate::Client {
    /// A canonical JSON dump of the visible synced data (specs and everything attached,
    /// members), for comparing stores in tests and simulations.
    pub fn snapshot(&self) -> Result<serde_json::Value> {
        snapshot(&self.conn())
    }
}

/// A canonical dump of everything synced and visible, for comparing two stores (tests, the
/// simulation) and for support bundles: specs with criteria and assignees, deliverables,
/// revisions with manifests, threads with comments, reviews, conflicts and members.
pub(crate) fn snapshot(conn: &Connection) -> Result<serde_json::Value> {
    let mut specs = Vec::new();
    let ids: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id FROM specs ORDER BY id")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
    };
    for id in ids {
        let spec_id: SpecId = read::parse("spec id", &id)?;
        let Some(spec) = read::spec(conn, spec_id)? else { continue };
        let mut threads = read::threads(conn, spec_id)?;
        threads.sort_by_key(|t| t.thread.id);
        for t in &mut threads {
            t.comments.sort_by_key(|c| c.id);
        }
        let mut reviews = read::reviews(conn, spec_id)?;
        reviews.sort_by_key(|r| r.id);
        let conflicts: Vec<String> = {
            let mut stmt = conn.prepare("SELECT record FROM conflicts WHERE spec_id = ?1 ORDER BY id")?;
            stmt.query_map([&id], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
        };
        specs.push(serde_json::json!({
            "spec": spec,
            "deliverables": read::deliverables(conn, spec_id)?,
            "revisions": read::revisions(conn, spec_id)?,
            "threads": threads,
            "reviews": reviews,
            "conflicts": conflicts,
        }));
    }
    let members: Vec<(String, String, String, String)> = {
        let mut stmt = conn.prepare("SELECT workspace_id, user_id, email, role FROM members ORDER BY workspace_id, user_id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?
    };
    Ok(serde_json::json!({ "specs": specs, "members": members }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewSpec;
    use handoff_core::protocol::{ApiErrorCode, PushResult};

    fn joined_client(dir: &std::path::Path) -> (Client, WorkspaceId) {
        let client = Client::open(dir).expect("open");
        let ws: WorkspaceId = uuid::Uuid::from_bytes([9; 16]).into();
        {
            let conn = client.conn();
            meta_set(&conn, "identity", "me@x.io").expect("identity");
            conn.execute("INSERT INTO workspaces (id, name, is_local) VALUES (?1, 'W', 0)", [ws.to_string()]).expect("ws");
            conn.execute("INSERT INTO members VALUES (?1, 'u1', 'me@x.io', 'Me', 'owner', 'UTC', '{}')", [ws.to_string()])
                .expect("member");
        }
        (client, ws)
    }

    fn page(spec: &Spec, version: u64) -> PullResponse<Pulled> {
        PullResponse {
            pages: vec![ScopePage {
                scope: Scope::Spec(spec.id),
                reset: false,
                to_version: version,
                records: vec![Pulled::try_from(Record::Spec(spec.clone())).expect("json")],
            }],
            more: false,
            server_hlc: Hlc::ZERO,
        }
    }

    fn title(client: &Client, id: SpecId) -> String {
        read::spec(&client.conn(), id).expect("read").expect("spec").title
    }

    fn with_tx<T>(client: &Client, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> T {
        let mut conn = client.conn();
        let tx = conn.transaction().expect("tx");
        let out = f(&tx).expect("step");
        crate::store::commit(tx).expect("commit");
        out
    }

    /// A spec made locally, pushed (answered `applied`) and pulled back at version 1: the
    /// server's copy, and the time used.
    fn synced_spec(client: &Client, ws: WorkspaceId) -> (Spec, Timestamp) {
        let id =
            client.create_spec(NewSpec { workspace_id: Some(ws), title: "first".into(), ..Default::default() }).expect("spec");
        let now = client.now();
        with_tx(client, |tx| {
            record_push_results(tx, &[PushResult { mutation_id: 1, outcome: Outcome::Applied }], Hlc::ZERO, now)
        });
        let server = read::spec(&client.conn(), id).expect("read").expect("spec");
        with_tx(client, |tx| apply_pull(tx, &page(&server, 1), now));
        (server, now)
    }

    #[test]
    fn pending_edits_stay_on_top_of_pulled_state_and_a_rejection_is_undone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (client, ws) = joined_client(dir.path());
        let (mut server, now) = synced_spec(&client, ws);
        let id = server.id;

        client.set_title(id, "mine").expect("local edit");
        server.title = "theirs".into();
        with_tx(&client, |tx| apply_pull(tx, &page(&server, 2), now));
        assert_eq!(title(&client, id), "mine", "the pending edit wins locally until answered");

        let rejected = Outcome::Rejected { code: ApiErrorCode::Forbidden, message: "no".into() };
        let tally =
            with_tx(&client, |tx| record_push_results(tx, &[PushResult { mutation_id: 2, outcome: rejected }], Hlc::ZERO, now));
        assert_eq!(tally.rejected, 1);
        with_tx(&client, rebuild_dirty);
        assert_eq!(title(&client, id), "theirs", "the rejected edit's optimistic effect is gone");
        let attention = client.attention().expect("attention");
        assert_eq!(attention.len(), 1);
        assert!(matches!(&attention[0].entry.envelope.mutation, Mutation::SetTitle { title, .. } if title == "mine"));
        assert_eq!(cursors(&client.conn()).expect("cursors").get(&Scope::Spec(id)), Some(&2));
    }

    #[test]
    fn a_lost_scope_drops_its_rows_and_parks_unsent_work_without_a_gap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (client, ws) = joined_client(dir.path());
        let (server, now) = synced_spec(&client, ws);
        let id = server.id;
        client.set_title(id, "unsent").expect("edit");
        let lost = PullResponse::<Pulled> {
            pages: vec![ScopePage { scope: Scope::Spec(id), reset: true, to_version: 0, records: vec![] }],
            more: false,
            server_hlc: Hlc::ZERO,
        };
        let tally = with_tx(&client, |tx| apply_pull(tx, &lost, now));
        assert_eq!((tally.lost_scopes, tally.orphaned), (1, 1));
        assert!(read::spec(&client.conn(), id).expect("read").is_none());
        // Still sent (ids stay gap-free), but listed for a person.
        assert_eq!(pending_ids(&client.conn()).expect("ids"), vec![2]);
        assert_eq!(client.attention().expect("attention").len(), 1);
        assert!(client.discard_attention(2).is_err(), "not discardable before the server recorded it");
    }
}
