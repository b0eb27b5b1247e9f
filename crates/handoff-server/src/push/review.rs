//! Reviews: one per (revision, reviewer), the newest by HLC wins.

use handoff_core::protocol::{ApiErrorCode, ConflictDetail, Outcome, Record};
use handoff_core::*;

use super::records::{Lww, Meta, load, lww, record_conflict};
use super::{Ctx, rejected};
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
    if load(cx.db, "revision", &revision_id.to_string(), &cx.scope, |_| Some(())).await?.is_none() {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
    }
    // One review per (revision, reviewer): the key is the pair, the newest wins.
    let key = format!("{revision_id}/{}", cx.email);
    let review = Review {
        id: *review_id,
        revision_id: *revision_id,
        spec_id: cx.spec_id,
        reviewer: cx.email.to_owned(),
        verdict: *verdict,
        summary: summary.to_owned(),
        criteria: criteria.to_vec(),
        published_at: cx.env.created_at,
    };
    let (old, mut rmeta) = match load(cx.db, "review", &key, &cx.scope, |r| match r {
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
