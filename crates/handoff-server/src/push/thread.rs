//! Discussion threads and their comments: created, replied to, edited (last writer wins),
//! redacted, resolved and reopened.

use handoff_core::protocol::{ApiErrorCode, ConflictDetail, Outcome, Record, ThreadRecord};
use handoff_core::*;
use serde_json::json;

use super::records::{Lww, Meta, exists, load, lww, record_conflict};
use super::{Ctx, rejected};
use crate::auth::new_id;
use crate::error::Result;
use crate::storage::{Sql, queries};

/// `thread.create`: the thread with its first comment, anchored to something of this spec.
pub(super) async fn create(
    cx: &mut Ctx<'_, '_>,
    thread_id: &ThreadId,
    anchor: &Anchor,
    comment_id: &CommentId,
    body: &str,
) -> Result<Outcome> {
    let (tid, cid) = (thread_id.to_string(), comment_id.to_string());
    if exists(cx.db, "thread", &tid).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("thread {tid} already exists")));
    }
    if exists(cx.db, "comment", &cid).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists")));
    }
    match anchor {
        Anchor::RevisionLines { revision_id, .. }
            if load(cx.db, "revision", &revision_id.to_string(), &cx.scope, |_| Some(())).await?.is_none() =>
        {
            return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
        }
        Anchor::Deliverable { deliverable_id }
            if load(cx.db, "deliverable", &deliverable_id.to_string(), &cx.scope, |_| Some(())).await?.is_none() =>
        {
            return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no deliverable {deliverable_id}")));
        }
        _ => {}
    }
    let thread = Thread {
        id: *thread_id,
        spec_id: cx.spec_id,
        anchor: anchor.clone(),
        resolved: false,
        created_by: cx.email.to_owned(),
        created_at: cx.env.created_at,
    };
    let comment = Comment {
        id: *comment_id,
        thread_id: *thread_id,
        author: cx.email.to_owned(),
        body: body.to_owned(),
        created_at: cx.env.created_at,
        edited_at: None,
        redacted: false,
    };
    cx.tx.put(cx.db, "thread", &tid, &cx.spec, &Record::Thread(ThreadRecord { thread, events: 0 }), &Meta::new()).await?;
    cx.tx.put(cx.db, "comment", &cid, &cx.spec, &Record::Comment(comment), &Meta::new()).await?;
    Ok(Outcome::Applied)
}

/// `comment.add`: a reply written without having seen the thread's resolve reopens it.
pub(super) async fn add_comment(
    cx: &mut Ctx<'_, '_>,
    comment_id: &CommentId,
    thread_id: &ThreadId,
    body: &str,
    seen_events: u32,
) -> Result<Outcome> {
    let tid = thread_id.to_string();
    let Some((mut tr, tmeta)) = load(cx.db, "thread", &tid, &cx.scope, |r| match r {
        Record::Thread(t) => Some(t),
        _ => None,
    })
    .await?
    else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {tid}")));
    };
    let cid = comment_id.to_string();
    if exists(cx.db, "comment", &cid).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists")));
    }
    if tr.thread.resolved && seen_events < tr.events {
        // A reply written without having seen the resolve: the question is open again.
        let event: ThreadEventId = new_id(cx.now)?;
        queries::insert_thread_event(cx.db, &event.to_string(), &tid, "reopen", cx.email, cx.now.as_millis()).await?;
        tr.events += 1;
        tr.thread.resolved = false;
        cx.tx.put(cx.db, "thread", &tid, &cx.spec, &Record::Thread(tr), &tmeta).await?;
    }
    let comment = Comment {
        id: *comment_id,
        thread_id: *thread_id,
        author: cx.email.to_owned(),
        body: body.to_owned(),
        created_at: cx.env.created_at,
        edited_at: None,
        redacted: false,
    };
    cx.tx.put(cx.db, "comment", &cid, &cx.spec, &Record::Comment(comment), &Meta::new()).await?;
    Ok(Outcome::Applied)
}

/// `comment.edit`: by its author only, last writer wins.
pub(super) async fn edit_comment(
    cx: &mut Ctx<'_, '_>,
    comment_id: &CommentId,
    thread_id: &ThreadId,
    body: &str,
) -> Result<Outcome> {
    let cid = comment_id.to_string();
    let Some((mut c, mut cmeta)) = load_comment(cx.db, &cid, thread_id, &cx.scope).await? else {
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
    let Some((mut c, cmeta)) = load_comment(cx.db, &cid, thread_id, &cx.scope).await? else {
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

/// `thread.set_state`: resolve or reopen, each event recorded once by its id.
pub(super) async fn set_state(
    cx: &mut Ctx<'_, '_>,
    event_id: &ThreadEventId,
    thread_id: &ThreadId,
    event: &ThreadEventKind,
) -> Result<Outcome> {
    let tid = thread_id.to_string();
    let Some((mut tr, tmeta)) = load(cx.db, "thread", &tid, &cx.scope, |r| match r {
        Record::Thread(t) => Some(t),
        _ => None,
    })
    .await?
    else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {tid}")));
    };
    let kind = match event {
        ThreadEventKind::Resolve => "resolve",
        ThreadEventKind::Reopen => "reopen",
    };
    if !queries::insert_thread_event(cx.db, &event_id.to_string(), &tid, kind, cx.email, cx.now.as_millis()).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("thread event {event_id} already exists")));
    }
    tr.events += 1;
    tr.thread.resolved = *event == ThreadEventKind::Resolve;
    cx.tx.put(cx.db, "thread", &tid, &cx.spec, &Record::Thread(tr), &tmeta).await?;
    Ok(Outcome::Applied)
}

async fn load_comment(db: &mut dyn Sql, cid: &str, thread_id: &ThreadId, scope: &str) -> Result<Option<(Comment, Meta)>> {
    Ok(load(db, "comment", cid, scope, |r| match r {
        Record::Comment(c) => Some(c),
        _ => None,
    })
    .await?
    .filter(|(c, _)| c.thread_id == *thread_id))
}
