//! Reviews: one per (revision, reviewer), the newest by HLC wins; a v2 review's comments are
//! published with it, all or nothing. Viewed marks: one per (spec, reviewer, path).

use handoff_core::protocol::{ApiErrorCode, ConflictDetail, Outcome, Record};
use handoff_core::*;

use handoff_core::activity::ActivityEvent;

use super::activity::note;
use super::records::{Lww, Meta, load, lww, record_conflict};
use super::{Ctx, rejected, thread};
use crate::error::Result;

/// `review.publish`: an older review by the same reviewer is kept as a conflict record.
pub(super) async fn publish(
    cx: &mut Ctx<'_, '_>,
    review_id: &ReviewId,
    revision_id: &RevisionId,
    verdict: &Verdict,
    summary: &str,
    criteria: &[CriterionCheck],
) -> Result<Outcome> {
    let Some(number) = revision_number(cx, revision_id).await? else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
    };
    let criteria = criteria.iter().cloned().map(CriterionVerdict::from).collect();
    let outcome = put_review(cx, review_of(cx, review_id, revision_id, verdict, summary, criteria, vec![], vec![])).await?;
    note_review(cx, outcome, review_id, revision_id, number, verdict).await
}

/// The number of the spec's revision `revision_id`, if it has it.
async fn revision_number(cx: &mut Ctx<'_, '_>, revision_id: &RevisionId) -> Result<Option<u32>> {
    let found = load(cx.tx, cx.db, "revision", &revision_id.to_string(), &cx.scope, |r| match r {
        Record::Revision(r) => Some(r.number),
        _ => None,
    })
    .await?;
    Ok(found.map(|(n, _)| n))
}

/// Records a published review for the inbox, unless an older stamp lost it to a conflict.
async fn note_review(
    cx: &mut Ctx<'_, '_>,
    outcome: Outcome,
    review_id: &ReviewId,
    revision_id: &RevisionId,
    number: u32,
    verdict: &Verdict,
) -> Result<Outcome> {
    if matches!(outcome, Outcome::Applied | Outcome::Merged) {
        let published =
            ActivityEvent::ReviewPublished { review_id: *review_id, revision_id: *revision_id, number, verdict: *verdict };
        note(cx, published).await?;
    }
    Ok(outcome)
}

/// `review.publish_v2`: everything is checked before anything is written, so a refused
/// review leaves nothing behind. Its comments are written even when an older stamp loses the
/// verdict to a later review by the same reviewer (that verdict goes to a conflict record):
/// a comment is never lost.
#[allow(clippy::too_many_arguments)]
pub(super) async fn publish_v2(
    cx: &mut Ctx<'_, '_>,
    review_id: &ReviewId,
    revision_id: &RevisionId,
    verdict: &Verdict,
    summary: &str,
    criteria: &[CriterionVerdict],
    threads: &[ReviewThread],
    replies: &[ReviewReply],
) -> Result<Outcome> {
    let Some(number) = revision_number(cx, revision_id).await? else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
    };
    let mut ids = std::collections::HashSet::new();
    let unique = threads.iter().all(|t| ids.insert(t.thread_id.to_string()) && ids.insert(t.comment_id.to_string()))
        && replies.iter().all(|r| ids.insert(r.comment_id.to_string()));
    if !unique {
        return Ok(rejected(ApiErrorCode::Invalid, "two comments of this review share an id"));
    }
    for t in threads {
        if let Some(refused) = thread::check_new(cx, &t.thread_id, &t.anchor, &t.comment_id).await? {
            return Ok(refused);
        }
    }
    for r in replies {
        if let Some(refused) = thread::check_reply(cx, &r.comment_id, &r.thread_id).await? {
            return Ok(refused);
        }
    }
    for t in threads {
        thread::write_new(cx, &t.thread_id, &t.anchor, &t.comment_id, &t.body).await?;
    }
    for r in replies {
        thread::write_reply(cx, &r.comment_id, &r.thread_id, &r.body, r.seen_events).await?;
        // A reply published with a review may answer a question: turnaround counts it.
        thread::note_reply(cx, &r.comment_id, &r.thread_id).await?;
    }
    let (thread_ids, reply_ids) = (threads.iter().map(|t| t.thread_id).collect(), replies.iter().map(|r| r.comment_id).collect());
    let review = review_of(cx, review_id, revision_id, verdict, summary, criteria.to_vec(), thread_ids, reply_ids);
    let outcome = put_review(cx, review).await?;
    note_review(cx, outcome, review_id, revision_id, number, verdict).await
}

/// The review the mutation's author publishes.
#[allow(clippy::too_many_arguments)]
fn review_of(
    cx: &Ctx<'_, '_>,
    review_id: &ReviewId,
    revision_id: &RevisionId,
    verdict: &Verdict,
    summary: &str,
    criteria: Vec<CriterionVerdict>,
    threads: Vec<ThreadId>,
    replies: Vec<CommentId>,
) -> Review {
    Review {
        id: *review_id,
        revision_id: *revision_id,
        spec_id: cx.spec_id,
        reviewer: cx.email.to_owned(),
        verdict: *verdict,
        summary: summary.to_owned(),
        criteria,
        threads,
        replies,
        published_at: cx.env.created_at,
        received_at: Some(cx.now),
    }
}

/// Stores a reviewer's review of a revision under the pair's key, the newest by HLC winning.
async fn put_review(cx: &mut Ctx<'_, '_>, review: Review) -> Result<Outcome> {
    let revision_id = review.revision_id;
    // One review per (revision, reviewer): the key is the pair, the newest wins.
    let key = format!("{revision_id}/{}", cx.email);
    let (old, mut rmeta) = match load(cx.tx, cx.db, "review", &key, &cx.scope, |r| match r {
        Record::Review(r) => Some(r),
        _ => None,
    })
    .await?
    {
        Some((r, m)) => (Some(r), m),
        None => (None, Meta::new()),
    };
    match (old, lww(&rmeta, "review", &cx.stamp)) {
        (_, Lww::Wins { .. }) | (None, _) => {
            rmeta.insert("review".into(), cx.stamp);
            cx.tx.put(cx.db, "review", &key, &cx.spec, &Record::Review(review), &rmeta).await?;
            Ok(Outcome::Applied)
        }
        (Some(old), Lww::Loses) => {
            let detail = ConflictDetail::Overwritten {
                field: format!("review:{revision_id}"),
                overwritten: serde_json::to_value(&review)?,
                kept: serde_json::to_value(&old)?,
            };
            let id = record_conflict(cx, detail).await?;
            Ok(Outcome::Conflict {
                conflict_id: id,
                message: "a later review of this revision by you won; this one is kept in the conflict record".into(),
            })
        }
    }
}

/// `file.set_viewed`: the file must be in the revision with that content; the newest mark by
/// HLC wins, and an older one is simply dropped (nothing of value is lost).
pub(super) async fn set_viewed(
    cx: &mut Ctx<'_, '_>,
    revision_id: &RevisionId,
    path: &str,
    sha256: &str,
    viewed: bool,
) -> Result<Outcome> {
    let revision = load(cx.tx, cx.db, "revision", &revision_id.to_string(), &cx.scope, |r| match r {
        Record::Revision(r) => Some(r),
        _ => None,
    })
    .await?;
    let Some((revision, _)) = revision else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
    };
    if !revision.files.iter().any(|f| f.path == path && f.sha256 == sha256) {
        return Ok(rejected(
            ApiErrorCode::NotFound,
            format!("revision {} has no file {path:?} with that content", revision.number),
        ));
    }
    let key = format!("{}/{}/{path}", cx.spec_id, cx.email);
    let mut meta = match load(cx.tx, cx.db, "viewed_file", &key, &cx.scope, |_| Some(())).await? {
        Some(((), m)) => m,
        None => Meta::new(),
    };
    if let Lww::Loses = lww(&meta, "viewed", &cx.stamp) {
        return Ok(Outcome::Applied);
    }
    meta.insert("viewed".into(), cx.stamp);
    let mark = ViewedFile {
        spec_id: cx.spec_id,
        reviewer: cx.email.to_owned(),
        path: path.to_owned(),
        sha256: sha256.to_owned(),
        revision_id: *revision_id,
        viewed,
        at: cx.env.created_at,
    };
    cx.tx.put(cx.db, "viewed_file", &key, &cx.spec, &Record::ViewedFile(mark), &meta).await?;
    Ok(Outcome::Applied)
}
