//! Acceptance criteria of a spec: added, edited (last writer wins), moved, removed.

use handoff_core::mutation::apply_to_spec;
use handoff_core::protocol::{ApiErrorCode, Outcome, Record};
use handoff_core::validate::limits;
use handoff_core::*;
use serde_json::json;

use handoff_core::activity::{ActivityEvent, CriterionChange};

use super::activity::note;
use super::spec::lww_spec_field;
use super::{Ctx, rejected};
use crate::error::Result;

/// `criterion.add`: a new id, up to the criteria limit.
pub(super) async fn add(cx: &mut Ctx<'_, '_>, criterion_id: &CriterionId) -> Result<Outcome> {
    if cx.spec.criteria.iter().any(|c| c.id == *criterion_id) {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("the spec already has criterion {criterion_id}")));
    }
    if cx.spec.criteria.len() >= limits::CRITERIA {
        return Ok(rejected(ApiErrorCode::TooLarge, format!("a spec has at most {} acceptance criteria", limits::CRITERIA)));
    }
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.meta.insert(format!("criterion:{criterion_id}"), cx.stamp);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    note(cx, ActivityEvent::CriteriaChanged { criterion_id: *criterion_id, change: CriterionChange::Added }).await?;
    Ok(Outcome::Applied)
}

/// `criterion.edit`: last writer wins per criterion.
pub(super) async fn edit(cx: &mut Ctx<'_, '_>, criterion_id: &CriterionId, text: &str) -> Result<Outcome> {
    let Some(old) = cx.spec.criteria.iter().find(|c| c.id == *criterion_id).map(|c| c.text.clone()) else {
        // Removed by someone else: nothing left to edit (the core's rule for criteria).
        return Ok(Outcome::Applied);
    };
    let outcome = lww_spec_field(cx, format!("criterion:{criterion_id}"), json!(old), json!(text)).await?;
    if cx.spec.criteria.iter().any(|c| c.id == *criterion_id && c.text != old) {
        note(cx, ActivityEvent::CriteriaChanged { criterion_id: *criterion_id, change: CriterionChange::Edited }).await?;
    }
    Ok(outcome)
}

/// `criterion.move` and `criterion.remove`: applied as they come.
pub(super) async fn move_or_remove(cx: &mut Ctx<'_, '_>) -> Result<Outcome> {
    let before = cx.spec.criteria.clone();
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    let change = match cx.m {
        Mutation::RemoveCriterion { criterion_id, .. } => Some((*criterion_id, CriterionChange::Removed)),
        Mutation::MoveCriterion { criterion_id, .. } => Some((*criterion_id, CriterionChange::Moved)),
        _ => None,
    };
    if let Some((criterion_id, change)) = change
        && before != cx.spec.criteria
    {
        note(cx, ActivityEvent::CriteriaChanged { criterion_id, change }).await?;
    }
    Ok(Outcome::Applied)
}
