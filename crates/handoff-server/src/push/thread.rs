//! Discussion threads and their comments: created, replied to, edited (last writer wins),
//! redacted, resolved and reopened.

use handoff_core::activity::ActivityEvent;
use handoff_core::lifecycle;
use handoff_core::protocol::{ApiErrorCode, ConflictDetail, Outcome, Record, ThreadRecord};
use handoff_core::*;
use serde_json::json;

use super::records::{Lww, Meta, Tx, exists, load, lww, record_conflict};
use super::{Ctx, rejected, rejected_core};
use crate::auth::new_id;
use crate::error::{Result, ServerError};
use crate::storage::{Sql, queries};

/// `thread.create`: the thread with its first comment, anchored to something of this spec.
pub(super) async fn create(
    cx: &mut Ctx<'_, '_>,
    thread_id: &ThreadId,
    anchor: &Anchor,
    comment_id: &CommentId,
    body: &str,
) -> Result<Outcome> {
    if let Some(refused) = check_new(cx, thread_id, anchor, comment_id).await? {
        return Ok(refused);
    }
    write_new(cx, thread_id, anchor, comment_id, body).await?;
    let question = super::activity::asks(cx, anchor, cx.email).await?;
    super::activity::note(cx, ActivityEvent::ThreadOpened { thread_id: *thread_id, question }).await?;
    Ok(Outcome::Applied)
}

/// Why a new thread cannot be opened (its ids are taken, its anchor names something this spec
/// lacks), or `None` when it can.
pub(super) async fn check_new(
    cx: &mut Ctx<'_, '_>,
    thread_id: &ThreadId,
    anchor: &Anchor,
    comment_id: &CommentId,
) -> Result<Option<Outcome>> {
    let (tid, cid) = (thread_id.to_string(), comment_id.to_string());
    if exists(cx.tx, cx.db, "thread", &tid).await? {
        return Ok(Some(rejected(ApiErrorCode::AlreadyExists, format!("thread {tid} already exists"))));
    }
    if exists(cx.tx, cx.db, "comment", &cid).await? {
        return Ok(Some(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists"))));
    }
    match anchor {
        Anchor::RevisionLines { revision_id, path, .. } => {
            let revision = load(cx.tx, cx.db, "revision", &revision_id.to_string(), &cx.scope, |r| match r {
                Record::Revision(r) => Some(r),
                _ => None,
            })
            .await?;
            match revision {
                None => return Ok(Some(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")))),
                Some((r, _)) if !r.files.iter().any(|f| f.path == *path) => {
                    return Ok(Some(rejected(ApiErrorCode::NotFound, format!("revision {} has no file {path:?}", r.number))));
                }
                Some(_) => {}
            }
        }
        Anchor::Deliverable { deliverable_id }
            if load(cx.tx, cx.db, "deliverable", &deliverable_id.to_string(), &cx.scope, |_| Some(())).await?.is_none() =>
        {
            return Ok(Some(rejected(ApiErrorCode::NotFound, format!("this spec has no deliverable {deliverable_id}"))));
        }
        _ => {}
    }
    Ok(None)
}

/// Writes a new thread and its first comment, checked by [`check_new`].
pub(super) async fn write_new(
    cx: &mut Ctx<'_, '_>,
    thread_id: &ThreadId,
    anchor: &Anchor,
    comment_id: &CommentId,
    body: &str,
) -> Result<()> {
    let thread = Thread {
        id: *thread_id,
        spec_id: cx.spec_id,
        anchor: anchor.clone(),
        resolved: false,
        created_by: cx.email.to_owned(),
        created_at: cx.env.created_at,
        received_at: Some(cx.now),
    };
    let comment = new_comment(cx, comment_id, thread_id, body);
    let record = Record::Thread(ThreadRecord { thread, events: 0, history: vec![] });
    cx.tx.put(cx.db, "thread", &thread_id.to_string(), &cx.spec, &record, &Meta::new()).await?;
    cx.tx.put(cx.db, "comment", &comment_id.to_string(), &cx.spec, &Record::Comment(comment), &Meta::new()).await?;
    Ok(())
}

/// A new comment by the mutation's author.
fn new_comment(cx: &Ctx<'_, '_>, comment_id: &CommentId, thread_id: &ThreadId, body: &str) -> Comment {
    Comment {
        id: *comment_id,
        thread_id: *thread_id,
        author: cx.email.to_owned(),
        body: body.to_owned(),
        created_at: cx.env.created_at,
        edited_at: None,
        redacted: false,
        received_at: Some(cx.now),
    }
}

/// A thread of this spec with its field clocks.
pub(super) async fn load_thread(cx: &mut Ctx<'_, '_>, thread_id: &ThreadId) -> Result<Option<(ThreadRecord, Meta)>> {
    load(cx.tx, cx.db, "thread", &thread_id.to_string(), &cx.scope, |r| match r {
        Record::Thread(t) => Some(t),
        _ => None,
    })
    .await
}

/// Appends an entry to a thread's history, as the server records it now.
pub(super) fn push_history(cx: &Ctx<'_, '_>, tr: &mut ThreadRecord, kind: ThreadHistoryKind, revision_id: Option<RevisionId>) {
    tr.history.push(ThreadHistoryEntry { kind, by: cx.email.to_owned(), at: cx.now, revision_id });
}

/// `comment.add`: a reply written without having seen the thread's resolve reopens it.
pub(super) async fn add_comment(
    cx: &mut Ctx<'_, '_>,
    comment_id: &CommentId,
    thread_id: &ThreadId,
    body: &str,
    seen_events: u32,
) -> Result<Outcome> {
    if let Some(refused) = check_reply(cx, comment_id, thread_id).await? {
        return Ok(refused);
    }
    write_reply(cx, comment_id, thread_id, body, seen_events).await?;
    note_reply(cx, comment_id, thread_id).await?;
    Ok(Outcome::Applied)
}

/// Records a reply for the inbox, saying whether it is in a question and whose thread it is.
pub(super) async fn note_reply(cx: &mut Ctx<'_, '_>, comment_id: &CommentId, thread_id: &ThreadId) -> Result<()> {
    let Some((tr, _)) = load_thread(cx, thread_id).await? else { return Ok(()) };
    let thread_author = tr.thread.created_by;
    let question = super::activity::asks(cx, &tr.thread.anchor, &thread_author).await?;
    let replied = ActivityEvent::Replied { thread_id: *thread_id, comment_id: *comment_id, question, thread_author };
    super::activity::note(cx, replied).await
}

/// Why a reply cannot be added (no such thread here, the id is taken), or `None`.
pub(super) async fn check_reply(cx: &mut Ctx<'_, '_>, comment_id: &CommentId, thread_id: &ThreadId) -> Result<Option<Outcome>> {
    if load_thread(cx, thread_id).await?.is_none() {
        return Ok(Some(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {thread_id}"))));
    }
    let cid = comment_id.to_string();
    if exists(cx.tx, cx.db, "comment", &cid).await? {
        return Ok(Some(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists"))));
    }
    Ok(None)
}

/// Writes a reply checked by [`check_reply`], reopening a resolved thread whose resolve its
/// author had not seen.
pub(super) async fn write_reply(
    cx: &mut Ctx<'_, '_>,
    comment_id: &CommentId,
    thread_id: &ThreadId,
    body: &str,
    seen_events: u32,
) -> Result<()> {
    let tid = thread_id.to_string();
    let Some((mut tr, tmeta)) = load_thread(cx, thread_id).await? else {
        return Err(ServerError::Internal(format!("thread {tid} vanished inside its push")));
    };
    if tr.thread.resolved && seen_events < tr.events {
        // A reply written without having seen the resolve: the question is open again.
        let event: ThreadEventId = new_id(cx.now)?;
        queries::insert_thread_event(cx.db, &event.to_string(), &tid, "reopen", cx.email, cx.now.as_millis()).await?;
        tr.events += 1;
        tr.thread.resolved = false;
        push_history(cx, &mut tr, ThreadHistoryKind::Reopen, None);
        cx.tx.put(cx.db, "thread", &tid, &cx.spec, &Record::Thread(tr), &tmeta).await?;
    }
    let comment = new_comment(cx, comment_id, thread_id, body);
    cx.tx.put(cx.db, "comment", &comment_id.to_string(), &cx.spec, &Record::Comment(comment), &Meta::new()).await?;
    Ok(())
}

/// `comment.edit`: by its author only, last writer wins.
pub(super) async fn edit_comment(
    cx: &mut Ctx<'_, '_>,
    comment_id: &CommentId,
    thread_id: &ThreadId,
    body: &str,
) -> Result<Outcome> {
    let cid = comment_id.to_string();
    let Some((mut c, mut cmeta)) = load_comment(cx.tx, cx.db, &cid, thread_id, &cx.scope).await? else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("thread {thread_id} has no comment {cid}")));
    };
    if c.author != cx.email {
        return Ok(rejected(ApiErrorCode::Forbidden, "only its author may edit a comment"));
    }
    if c.redacted {
        return Ok(rejected(ApiErrorCode::Invalid, "the comment was deleted; it can no longer be edited"));
    }
    match lww(&cmeta, "body", &cx.stamp) {
        Lww::Wins { .. } => {
            c.body = body.to_owned();
            c.edited_at = Some(cx.env.created_at);
            cmeta.insert("body".into(), cx.stamp);
            cx.tx.put(cx.db, "comment", &cid, &cx.spec, &Record::Comment(c), &cmeta).await?;
            Ok(Outcome::Applied)
        }
        Lww::Loses if c.body == *body => Ok(Outcome::Applied),
        Lww::Loses => {
            let detail =
                ConflictDetail::Overwritten { field: format!("comment:{cid}"), overwritten: json!(body), kept: json!(c.body) };
            let id = record_conflict(cx, detail).await?;
            Ok(Outcome::Conflict {
                conflict_id: id,
                message: "a later edit of this comment won; your text is kept in the conflict record".into(),
            })
        }
    }
}

/// `comment.redact`: by its author only; the body is cleared, the comment stays as a marker.
pub(super) async fn redact_comment(cx: &mut Ctx<'_, '_>, comment_id: &CommentId, thread_id: &ThreadId) -> Result<Outcome> {
    let cid = comment_id.to_string();
    let Some((mut c, cmeta)) = load_comment(cx.tx, cx.db, &cid, thread_id, &cx.scope).await? else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("thread {thread_id} has no comment {cid}")));
    };
    if c.author != cx.email {
        return Ok(rejected(ApiErrorCode::Forbidden, "only its author may delete a comment"));
    }
    if c.redacted {
        return Ok(Outcome::Applied);
    }
    c.body.clear();
    c.redacted = true;
    cx.tx.put(cx.db, "comment", &cid, &cx.spec, &Record::Comment(c), &cmeta).await?;
    Ok(Outcome::Applied)
}

/// `thread.set_state`: resolve or reopen, each event recorded once by its id. Resolving is
/// for owners, reviewers and whoever opened the thread; a contractor claims instead.
pub(super) async fn set_state(
    cx: &mut Ctx<'_, '_>,
    event_id: &ThreadEventId,
    thread_id: &ThreadId,
    event: &ThreadEventKind,
) -> Result<Outcome> {
    let tid = thread_id.to_string();
    let Some((mut tr, tmeta)) = load(cx.tx, cx.db, "thread", &tid, &cx.scope, |r| match r {
        Record::Thread(t) => Some(t),
        _ => None,
    })
    .await?
    else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {tid}")));
    };
    if *event == ThreadEventKind::Resolve {
        let assigned = cx.spec.assignees.iter().any(|a| a == cx.email);
        if let Err(e) = lifecycle::check_resolve(cx.role, assigned, tr.thread.created_by == cx.email, cx.spec.status) {
            return Ok(rejected_core(&e));
        }
    }
    let (kind, history) = match event {
        ThreadEventKind::Resolve => ("resolve", ThreadHistoryKind::Resolve),
        ThreadEventKind::Reopen => ("reopen", ThreadHistoryKind::Reopen),
    };
    if !queries::insert_thread_event(cx.db, &event_id.to_string(), &tid, kind, cx.email, cx.now.as_millis()).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("thread event {event_id} already exists")));
    }
    tr.events += 1;
    tr.thread.resolved = *event == ThreadEventKind::Resolve;
    push_history(cx, &mut tr, history, None);
    cx.tx.put(cx.db, "thread", &tid, &cx.spec, &Record::Thread(tr), &tmeta).await?;
    Ok(Outcome::Applied)
}

async fn load_comment(
    tx: &mut Tx<'_>,
    db: &mut dyn Sql,
    cid: &str,
    thread_id: &ThreadId,
    scope: &str,
) -> Result<Option<(Comment, Meta)>> {
    Ok(load(tx, db, "comment", cid, scope, |r| match r {
        Record::Comment(c) => Some(c),
        _ => None,
    })
    .await?
    .filter(|(c, _)| c.thread_id == *thread_id))
}
