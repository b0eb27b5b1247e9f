//! Writing what happened on a spec for others' inboxes ([`handoff_core::activity`]), and
//! `inbox.mark_read`.

use handoff_core::activity::{Activity, ActivityEvent, ReadMark};
use handoff_core::protocol::{Outcome, Record};
use handoff_core::readiness::is_question;
use handoff_core::*;

use super::Ctx;
use super::records::{Meta, load};
use crate::error::Result;
use crate::storage::queries;

/// Records `event` as done by the pusher now, at the spec scope's version of this push.
pub(super) async fn note(cx: &mut Ctx<'_, '_>, event: ActivityEvent) -> Result<()> {
    let scope = cx.scope.clone();
    let seq = cx.tx.version(cx.db, &scope).await?;
    let n = cx.tx.next_activity(&scope);
    let activity = Activity {
        spec_id: cx.spec_id,
        seq: u64::try_from(seq).unwrap_or_default(),
        n,
        at: cx.now,
        actor: cx.email.to_owned(),
        event,
    };
    cx.tx.put(cx.db, "activity", &activity.key(), &cx.spec, &Record::Activity(activity), &Meta::new()).await
}

/// Whether a thread opened by `author` on `anchor` is a question: the author's role now decides.
pub(super) async fn asks(cx: &mut Ctx<'_, '_>, anchor: &Anchor, author: &str) -> Result<bool> {
    if !matches!(anchor, Anchor::Spec | Anchor::SpecSection { .. }) {
        return Ok(false);
    }
    let role = if author == cx.email {
        Some(cx.role)
    } else {
        queries::member_by_email(cx.db, &cx.spec.workspace_id.to_string(), author).await?.map(|m| m.role)
    };
    Ok(is_question(anchor, role))
}

/// `inbox.mark_read`: the author's read mark on the spec moves up to `seq`, never back.
pub(super) async fn mark_read(cx: &mut Ctx<'_, '_>, seq: u64) -> Result<Outcome> {
    let key = ReadMark::key(cx.spec_id, cx.email);
    let known = load(cx.tx, cx.db, "read_mark", &key, &cx.scope, |r| match r {
        Record::ReadMark(m) => Some(m.seq),
        _ => None,
    })
    .await?
    .map(|(seq, _)| seq);
    if known.is_some_and(|k| k >= seq) {
        return Ok(Outcome::Applied);
    }
    let mark = ReadMark { spec_id: cx.spec_id, email: cx.email.to_owned(), seq };
    cx.tx.put(cx.db, "read_mark", &key, &cx.spec, &Record::ReadMark(mark), &Meta::new()).await?;
    Ok(Outcome::Applied)
}
