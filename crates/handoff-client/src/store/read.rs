//! Reads from the local store into the core's entities and the client's views.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use handoff_core::ledger::LedgerRevision;
use handoff_core::*;

use crate::error::{ClientError, Result};
use crate::views::*;

/// The wire name of a serde enum value (`"request_changes"`), for storage.
pub(crate) fn wire_name<T: Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(ClientError::Corrupt(format!("not a named value: {other:?}"))),
    }
}

/// Parses a stored value with `FromStr`, reporting damage instead of panicking.
pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T> {
    s.parse().map_err(|_| ClientError::Corrupt(format!("bad {what} {s:?}")))
}

/// Decodes stored JSON.
pub(crate) fn json<T: DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| ClientError::Corrupt(format!("bad {what}: {e}")))
}

/// Loads a spec aggregate.
pub(crate) fn spec(conn: &Connection, id: SpecId) -> Result<Option<Spec>> {
    let row = conn
        .query_row(
            "SELECT workspace_id, title, system_context, api_shape, out_of_scope, notes, status, due_date,
                    created_by, created_at, updated_at FROM specs WHERE id = ?1",
            [id.to_string()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    Sections { system_context: r.get(2)?, api_shape: r.get(3)?, out_of_scope: r.get(4)?, notes: r.get(5)? },
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, i64>(10)?,
                ))
            },
        )
        .optional()?;
    let Some((workspace_id, title, sections, status, due_date, created_by, created_at, updated_at)) = row else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached("SELECT id, text FROM criteria WHERE spec_id = ?1 ORDER BY position")?;
    let criteria = stmt
        .query_map([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .map(|row| {
            let (cid, text) = row?;
            Ok(Criterion { id: parse("criterion id", &cid)?, text })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached("SELECT email FROM spec_assignees WHERE spec_id = ?1 ORDER BY email")?;
    let assignees = stmt.query_map([id.to_string()], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(Some(Spec {
        id,
        workspace_id: parse("workspace id", &workspace_id)?,
        title,
        sections,
        criteria,
        status: parse("status", &status)?,
        assignees,
        due_date,
        created_by,
        created_at: Timestamp::from_millis(created_at),
        updated_at: Timestamp::from_millis(updated_at),
    }))
}

/// Summaries of every spec in a workspace (or all workspaces), newest change first.
pub(crate) fn spec_summaries(conn: &Connection, workspace: Option<WorkspaceId>) -> Result<Vec<SpecSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.workspace_id, s.title, s.status, s.due_date, s.updated_at,
                (SELECT COUNT(*) FROM criteria c WHERE c.spec_id = s.id),
                (SELECT COUNT(*) FROM threads t WHERE t.spec_id = s.id AND t.resolved = 0),
                (SELECT COUNT(*) FROM revisions r WHERE r.spec_id = s.id),
                (SELECT group_concat(email, ',') FROM (SELECT email FROM spec_assignees a WHERE a.spec_id = s.id ORDER BY email)),
                (SELECT COUNT(*) FROM outbox o WHERE o.spec_id = s.id)
         FROM specs s WHERE (?1 IS NULL OR s.workspace_id = ?1) ORDER BY s.updated_at DESC, s.id",
    )?;
    let rows = stmt.query_map([workspace.map(|w| w.to_string())], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, u32>(6)?,
            r.get::<_, u32>(7)?,
            r.get::<_, u32>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, u32>(10)?,
        ))
    })?;
    rows.map(|row| {
        let (id, ws, title, status, due_date, updated_at, criteria, open_threads, revisions, assignees, pending) = row?;
        Ok(SpecSummary {
            id: parse("spec id", &id)?,
            workspace_id: parse("workspace id", &ws)?,
            title,
            status: parse("status", &status)?,
            due_date,
            updated_at: Timestamp::from_millis(updated_at),
            criteria,
            open_threads,
            revisions,
            assignees: assignees.map(|a| a.split(',').map(str::to_owned).collect()).unwrap_or_default(),
            pending_changes: pending,
            readiness: None,
        })
    })
    .collect::<Result<Vec<SpecSummary>>>()
    .and_then(|mut summaries| {
        for s in summaries.iter_mut().filter(|s| matches!(s.status, SpecStatus::Draft | SpecStatus::Ready)) {
            if let Some(spec) = spec(conn, s.id)? {
                s.readiness = Some(crate::readiness::readiness_in(conn, &spec)?);
            }
        }
        Ok(summaries)
    })
}

/// Every id in `table` starting with `prefix`.
pub(crate) fn ids_with_prefix(conn: &Connection, table: &'static str, prefix: &str) -> Result<Vec<String>> {
    let sql = format!("SELECT id FROM {table} WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 3");
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids = stmt.query_map([prefix.to_lowercase()], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

fn revision_from_row(conn: &Connection, r: &Row<'_>) -> Result<Revision> {
    let id: String = r.get(0)?;
    let addresses: String = r.get(6)?;
    let mut files_stmt =
        conn.prepare_cached("SELECT path, sha256, size, executable FROM revision_files WHERE revision_id = ?1 ORDER BY path")?;
    let files = files_stmt
        .query_map([&id], |f| {
            Ok(ManifestEntry { path: f.get(0)?, sha256: f.get(1)?, size: f.get::<_, i64>(2)? as u64, executable: f.get(3)? })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Revision {
        id: parse("revision id", &id)?,
        deliverable_id: parse("deliverable id", &r.get::<_, String>(1)?)?,
        spec_id: parse("spec id", &r.get::<_, String>(2)?)?,
        number: r.get(3)?,
        number_confirmed: r.get(4)?,
        files,
        summary: r.get(5)?,
        addresses: json("revision addresses", &addresses)?,
        created_by: r.get(7)?,
        created_at: Timestamp::from_millis(r.get(8)?),
        received_at: r.get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
    })
}

const REVISION_COLUMNS: &str =
    "id, deliverable_id, spec_id, number, number_confirmed, summary, addresses, created_by, created_at, received_at";

/// The revisions of a spec, oldest first.
pub(crate) fn revisions(conn: &Connection, spec_id: SpecId) -> Result<Vec<Revision>> {
    let sql = format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE spec_id = ?1 ORDER BY number, created_at");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([spec_id.to_string()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(revision_from_row(conn, row)?);
    }
    Ok(out)
}

/// One revision of a spec by its number.
pub(crate) fn revision_by_number(conn: &Connection, spec_id: SpecId, number: u32) -> Result<Option<Revision>> {
    let sql = format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE spec_id = ?1 AND number = ?2 ORDER BY created_at LIMIT 1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![spec_id.to_string(), number])?;
    match rows.next()? {
        Some(row) => Ok(Some(revision_from_row(conn, row)?)),
        None => Ok(None),
    }
}

/// The deliverables of a spec, oldest first.
pub(crate) fn deliverables(conn: &Connection, spec_id: SpecId) -> Result<Vec<Deliverable>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, created_by, created_at FROM deliverables WHERE spec_id = ?1 ORDER BY created_at, id")?;
    let rows =
        stmt.query_map([spec_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
    rows.map(|row| {
        let (id, created_by, created_at) = row?;
        Ok(Deliverable { id: parse("deliverable id", &id)?, spec_id, created_by, created_at: Timestamp::from_millis(created_at) })
    })
    .collect()
}

/// The threads of a spec with their comments, oldest first.
pub(crate) fn threads(conn: &Connection, spec_id: SpecId) -> Result<Vec<ThreadView>> {
    threads_where(conn, spec_id, "")
}

/// A spec's threads that can be questions (a contractor's, about the spec itself or one of its
/// sections: `handoff_core::readiness::is_question`), without reading the others' comments:
/// what the spec list's readiness needs. An owner's ten threads on each of 1,000 specs made the
/// list read all 100,000 comments on every refresh.
pub(crate) fn question_threads(conn: &Connection, spec_id: SpecId) -> Result<Vec<ThreadView>> {
    threads_where(
        conn,
        spec_id,
        "AND json_extract(anchor, '$.kind') IN ('spec', 'spec_section')
         AND created_by IN (SELECT m.email FROM members m JOIN specs s ON s.workspace_id = m.workspace_id
                            WHERE s.id = ?1 AND m.role = 'contractor')",
    )
}

fn threads_where(conn: &Connection, spec_id: SpecId, filter: &'static str) -> Result<Vec<ThreadView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, anchor, resolved, events, created_by, created_at, history, received_at FROM threads WHERE spec_id = ?1
         {filter} ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map([spec_id.to_string()], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?, r.get::<_, u32>(3)?),
                (r.get::<_, String>(4)?, r.get::<_, i64>(5)?, r.get::<_, String>(6)?, r.get::<_, Option<i64>>(7)?),
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let numbers = revision_numbers(conn, spec_id)?;
    rows.into_iter()
        .map(|((id, anchor, resolved, events), (created_by, created_at, history, received_at))| {
            let thread_id: ThreadId = parse("thread id", &id)?;
            let history: Vec<ThreadHistoryEntry> = json("thread history", &history)?;
            // A claim stands until the thread is resolved (confirmed) or reopened after it.
            let claimed_in = match history.last() {
                Some(ThreadHistoryEntry { kind: ThreadHistoryKind::Claim, revision_id: Some(r), .. }) if !resolved => {
                    numbers.get(r).copied()
                }
                _ => None,
            };
            Ok(ThreadView {
                thread: Thread {
                    id: thread_id,
                    spec_id,
                    anchor: json("thread anchor", &anchor)?,
                    resolved,
                    created_by,
                    created_at: Timestamp::from_millis(created_at),
                    received_at: received_at.map(Timestamp::from_millis),
                },
                events,
                comments: crate::views::shown_in_order(comments(conn, thread_id)?),
                history,
                claimed_in,
                // Filled in by the callers that know who is looking.
                may_resolve: false,
                // Filled in by `readiness::mark_questions`, which reads the members.
                question: None,
            })
        })
        .collect()
}

/// One thread with its comments.
pub(crate) fn thread(conn: &Connection, thread_id: ThreadId) -> Result<Option<ThreadView>> {
    let spec: Option<String> =
        conn.query_row("SELECT spec_id FROM threads WHERE id = ?1", [thread_id.to_string()], |r| r.get(0)).optional()?;
    let Some(spec) = spec else { return Ok(None) };
    Ok(threads(conn, parse("spec id", &spec)?)?.into_iter().find(|t| t.thread.id == thread_id))
}

fn comments(conn: &Connection, thread_id: ThreadId) -> Result<Vec<Comment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, author, body, created_at, edited_at, redacted, received_at FROM comments WHERE thread_id = ?1
         ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([thread_id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, Option<i64>>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (id, author, body, created_at, edited_at, redacted, received_at) = row?;
        Ok(Comment {
            id: parse("comment id", &id)?,
            thread_id,
            author,
            body,
            created_at: Timestamp::from_millis(created_at),
            edited_at: edited_at.map(Timestamp::from_millis),
            redacted,
            received_at: received_at.map(Timestamp::from_millis),
        })
    })
    .collect()
}

/// The numbers of a spec's revisions by id.
pub(crate) fn revision_numbers(conn: &Connection, spec_id: SpecId) -> Result<HashMap<RevisionId, u32>> {
    let mut stmt = conn.prepare_cached("SELECT id, number FROM revisions WHERE spec_id = ?1")?;
    let rows = stmt.query_map([spec_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
    rows.map(|row| {
        let (id, number) = row?;
        Ok((parse("revision id", &id)?, number))
    })
    .collect()
}

/// What the acceptance rule reads: a spec's revisions and its reviews.
pub(crate) fn ledger_inputs(conn: &Connection, spec_id: SpecId) -> Result<(Vec<LedgerRevision>, Vec<Review>)> {
    let revisions = revision_numbers(conn, spec_id)?.into_iter().map(|(id, number)| LedgerRevision { id, number }).collect();
    Ok((revisions, reviews(conn, spec_id)?))
}

/// A spec's acceptance override, if an owner accepted it by one.
pub(crate) fn acceptance_override(conn: &Connection, spec_id: SpecId) -> Result<Option<AcceptanceOverride>> {
    let row = conn
        .query_row(
            "SELECT revision_id, by, reason, at FROM acceptance_overrides WHERE spec_id = ?1",
            [spec_id.to_string()],
            |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)),
        )
        .optional()?;
    row.map(|(revision_id, by, reason, at)| {
        Ok(AcceptanceOverride {
            spec_id,
            revision_id: revision_id.map(|r| parse("revision id", &r)).transpose()?,
            by,
            reason,
            at: Timestamp::from_millis(at),
        })
    })
    .transpose()
}

/// A spec's ready override, if an owner marked it ready by one.
pub(crate) fn ready_override(conn: &Connection, spec_id: SpecId) -> Result<Option<ReadyOverride>> {
    let row = conn
        .query_row("SELECT by, reason, failing, at FROM ready_overrides WHERE spec_id = ?1", [spec_id.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
        })
        .optional()?;
    row.map(|(by, reason, failing, at)| {
        Ok(ReadyOverride {
            spec_id,
            by,
            reason,
            failing: json("ready override rules", &failing)?,
            at: Timestamp::from_millis(at),
        })
    })
    .transpose()
}

/// One reviewer's viewed marks on a spec's files: path → the content viewed.
pub(crate) fn viewed_marks(conn: &Connection, spec_id: SpecId, reviewer: &str) -> Result<HashMap<String, String>> {
    let mut stmt =
        conn.prepare_cached("SELECT path, sha256 FROM viewed_files WHERE spec_id = ?1 AND reviewer = ?2 AND viewed = 1")?;
    let rows =
        stmt.query_map(params![spec_id.to_string(), reviewer], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Reviews of a spec, newest first.
pub(crate) fn reviews(conn: &Connection, spec_id: SpecId) -> Result<Vec<Review>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, revision_id, reviewer, verdict, summary, criteria, published_at, threads, replies, received_at FROM reviews
         WHERE spec_id = ?1 ORDER BY published_at DESC, id",
    )?;
    let rows = stmt.query_map([spec_id.to_string()], |r| {
        Ok((
            (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?),
            (r.get::<_, String>(4)?, r.get::<_, String>(5)?, r.get::<_, i64>(6)?),
            (r.get::<_, String>(7)?, r.get::<_, String>(8)?, r.get::<_, Option<i64>>(9)?),
        ))
    })?;
    rows.map(|row| {
        let ((id, revision_id, reviewer, verdict), (summary, criteria, published_at), (threads, replies, received_at)) = row?;
        Ok(Review {
            id: parse("review id", &id)?,
            revision_id: parse("revision id", &revision_id)?,
            spec_id,
            reviewer,
            verdict: json("verdict", &format!("\"{verdict}\""))?,
            summary,
            criteria: json("review criteria", &criteria)?,
            threads: json("review threads", &threads)?,
            replies: json("review replies", &replies)?,
            published_at: Timestamp::from_millis(published_at),
            received_at: received_at.map(Timestamp::from_millis),
        })
    })
    .collect()
}

/// Every workspace in the store.
pub(crate) fn workspaces(conn: &Connection) -> Result<Vec<WorkspaceView>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, is_local FROM workspaces ORDER BY is_local DESC, name, id")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))?;
    rows.map(|row| {
        let (id, name, is_local) = row?;
        Ok(WorkspaceView { workspace: Workspace { id: parse("workspace id", &id)?, name }, is_local })
    })
    .collect()
}

/// Whether a spec is an archived record restored by `handoff import` (read-only here).
pub(crate) fn is_archived(conn: &Connection, spec_id: SpecId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM archived_specs WHERE spec_id = ?1)")?
        .query_row([spec_id.to_string()], |r| r.get(0))?)
}

/// Refuses a change to an archived spec, naming it.
pub(crate) fn refuse_archived(conn: &Connection, spec_id: SpecId) -> Result<()> {
    if is_archived(conn, spec_id)? {
        let title = spec(conn, spec_id)?.map(|s| s.title).unwrap_or_else(|| spec_id.to_string());
        return Err(crate::error::ClientError::SpecArchived { title });
    }
    Ok(())
}
