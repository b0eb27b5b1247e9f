//! The spec aggregate's own fields: creation, title, due date, status, sections, assignees.

use handoff_core::activity::ActivityEvent;
use handoff_core::lifecycle::{self, Action};
use handoff_core::mutation::apply_to_spec;
use handoff_core::protocol::{ApiErrorCode, ConflictDetail, Outcome, Record, Scope};
use handoff_core::readiness;
use handoff_core::validate::limits;
use handoff_core::*;
use serde_json::json;

use super::activity::note;
use super::records::{Lww, Meta, Stamp, Tx, exists, lww, record_conflict};
use super::{Ctx, rejected, rejected_core};
use crate::error::{Result, ServerError};
use crate::merge::{SectionMerge, merge_section};
use crate::storage::{Sql, queries};

/// `spec.create`: runs before any spec is loaded, since there is none yet.
pub(super) async fn create(
    db: &mut dyn Sql,
    tx: &mut Tx<'_>,
    env: &MutationEnvelope,
    m: Mutation,
    stamp: Stamp,
) -> Result<Outcome> {
    let Mutation::CreateSpec { spec_id, workspace_id, title, sections, criteria, due_date } = m else {
        return Err(ServerError::Internal("create_spec got another kind".into()));
    };
    let ws = workspace_id.to_string();
    let Some(member) = queries::member(db, &ws, &tx.user).await? else {
        return Ok(rejected(ApiErrorCode::NotFound, format!("you are not a member of workspace {workspace_id}")));
    };
    if let Err(e) = lifecycle::check(member.role, Action::CreateSpec, false) {
        return Ok(rejected_core(&e));
    }
    let id = spec_id.to_string();
    let scope = Scope::Spec(spec_id).to_string();
    if exists(tx, db, "spec", &id).await? || queries::scope_version(db, &scope).await?.is_some() {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("spec {id} already exists")));
    }
    let version = queries::create_scope(db, &scope, &ws, "spec", tx.input.now).await?;
    tx.versions.insert(scope, version);
    let mut meta = Meta::new();
    for f in ["title", "due_date", "status"] {
        meta.insert(f.into(), stamp);
    }
    for c in &criteria {
        meta.insert(format!("criterion:{}", c.id), stamp);
    }
    let spec = Spec {
        id: spec_id,
        workspace_id,
        title,
        sections,
        criteria,
        status: SpecStatus::Draft,
        assignees: Vec::new(),
        due_date,
        created_by: tx.input.email.clone(),
        created_at: env.created_at,
        updated_at: tx.input.now,
    };
    tx.put(db, "spec", &id, &spec, &Record::Spec(spec.clone()), &meta).await?;
    Ok(Outcome::Applied)
}

/// `spec.set_title`.
pub(super) async fn set_title(cx: &mut Ctx<'_, '_>, title: &str) -> Result<Outcome> {
    let old = json!(cx.spec.title);
    lww_spec_field(cx, "title".into(), old, json!(title)).await
}

/// `spec.set_due_date`.
pub(super) async fn set_due_date(cx: &mut Ctx<'_, '_>, due_date: &Option<String>) -> Result<Outcome> {
    let old = json!(cx.spec.due_date);
    lww_spec_field(cx, "due_date".into(), old, json!(due_date)).await
}

/// `spec.set_status`: compare-and-set on `from`, then the lifecycle decides.
pub(super) async fn set_status(cx: &mut Ctx<'_, '_>, from: &SpecStatus, to: &SpecStatus) -> Result<Outcome> {
    if cx.spec.status != *from {
        return Ok(rejected(
            ApiErrorCode::Invalid,
            format!("the spec is {} now, not {from}: this status change was made on an outdated view", cx.spec.status),
        ));
    }
    if let Err(e) = from.check_transition(*to, cx.role) {
        return Ok(rejected_core(&e));
    }
    if *to == SpecStatus::Accepted {
        let (revisions, reviews) = ledger_inputs(cx).await?;
        if let Err(e) = ledger::check_acceptance(&cx.spec.criteria, &revisions, &reviews) {
            return Ok(rejected_core(&e));
        }
    }
    if *to == SpecStatus::Ready {
        let readiness = readiness_now(cx).await?;
        if !readiness.is_ready() {
            return Ok(rejected_core(&CoreError::NotReady { reasons: readiness.explain() }));
        }
    }
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.meta.insert("status".into(), cx.stamp);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    note(cx, ActivityEvent::StatusChanged { from: *from, to: *to, by_override: false }).await?;
    Ok(Outcome::Applied)
}

/// `spec.accept_override`: an owner accepts without a settling review; the override is
/// recorded beside the spec, with the latest revision and the reason.
pub(super) async fn accept_override(cx: &mut Ctx<'_, '_>, from: &SpecStatus, reason: &str) -> Result<Outcome> {
    if let Some(refused) = refuse_override(cx, *from, SpecStatus::Accepted) {
        return Ok(refused);
    }
    let (revisions, _) = ledger_inputs(cx).await?;
    let record = AcceptanceOverride {
        spec_id: cx.spec_id,
        revision_id: revisions.iter().max_by_key(|r| r.number).map(|r| r.id),
        by: cx.email.to_owned(),
        reason: reason.to_owned(),
        at: cx.now,
    };
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.meta.insert("status".into(), cx.stamp);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    let key = cx.spec_id_s.clone();
    cx.tx.put(cx.db, "acceptance_override", &key, &cx.spec, &Record::AcceptanceOverride(record), &Meta::new()).await?;
    note(cx, ActivityEvent::StatusChanged { from: *from, to: SpecStatus::Accepted, by_override: true }).await?;
    Ok(Outcome::Applied)
}

/// `spec.ready_override`: an owner marks a draft ready although readiness rules fail; the
/// override is recorded beside the spec with the rules that failed and the reason.
pub(super) async fn ready_override(cx: &mut Ctx<'_, '_>, from: &SpecStatus, reason: &str) -> Result<Outcome> {
    if let Some(refused) = refuse_override(cx, *from, SpecStatus::Ready) {
        return Ok(refused);
    }
    let record = ReadyOverride {
        spec_id: cx.spec_id,
        by: cx.email.to_owned(),
        reason: reason.to_owned(),
        failing: readiness_now(cx).await?.failing(),
        at: cx.now,
    };
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.meta.insert("status".into(), cx.stamp);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    let key = cx.spec_id_s.clone();
    cx.tx.put(cx.db, "ready_override", &key, &cx.spec, &Record::ReadyOverride(record), &Meta::new()).await?;
    note(cx, ActivityEvent::StatusChanged { from: *from, to: SpecStatus::Ready, by_override: true }).await?;
    Ok(Outcome::Applied)
}

/// Why an override to `to` is refused: only owners override, from the status the spec is in
/// now, along an edge the lifecycle has.
fn refuse_override(cx: &Ctx<'_, '_>, from: SpecStatus, to: SpecStatus) -> Option<Outcome> {
    if cx.role != Role::Owner {
        let e = CoreError::NotAllowed { role: cx.role, action: format!("move a spec to {to} by override"), assigned: false };
        return Some(rejected_core(&e));
    }
    if cx.spec.status != from {
        return Some(rejected(
            ApiErrorCode::Invalid,
            format!("the spec is {} now, not {from}: this change was made on an outdated view", cx.spec.status),
        ));
    }
    from.check_transition(to, cx.role).err().map(|e| rejected_core(&e))
}

/// The spec's readiness as stored now: its own fields, and its threads and comments for the
/// open questions (a thread's opener's role is looked up in the workspace).
async fn readiness_now(cx: &mut Ctx<'_, '_>) -> Result<readiness::Readiness> {
    let mut threads = Vec::new();
    for data in cx.tx.records_of_kind(cx.db, &cx.scope, "thread").await? {
        if let Record::Thread(t) = serde_json::from_str(&data)? {
            threads.push(t.thread);
        }
    }
    let mut comments: Vec<Comment> = Vec::new();
    for data in cx.tx.records_of_kind(cx.db, &cx.scope, "comment").await? {
        if let Record::Comment(c) = serde_json::from_str(&data)? {
            comments.push(c);
        }
    }
    // Creation order within a thread: comment ids are UUIDv7, made in order by each author.
    comments.sort_by_key(|c| (c.received_at.unwrap_or(c.created_at), c.id));
    let ws = cx.spec.workspace_id.to_string();
    let mut roles = std::collections::HashMap::new();
    for t in &threads {
        if !roles.contains_key(&t.created_by) {
            let role = queries::member_by_email(cx.db, &ws, &t.created_by).await?.map(|m| m.role);
            roles.insert(t.created_by.clone(), role);
        }
    }
    let of_spec: Vec<readiness::ThreadOfSpec<'_>> = threads
        .iter()
        .map(|t| {
            let mine: Vec<&Comment> = comments.iter().filter(|c| c.thread_id == t.id).collect();
            readiness::ThreadOfSpec {
                anchor: &t.anchor,
                asker: &t.created_by,
                asker_role: roles.get(&t.created_by).copied().flatten(),
                resolved: t.resolved,
                text: mine.first().map_or("", |c| c.body.as_str()),
                comments: mine
                    .iter()
                    .map(|c| readiness::ReplyRef { author: &c.author, at: c.created_at, redacted: c.redacted })
                    .collect(),
            }
        })
        .collect();
    let open_questions = readiness::open_questions(&of_spec);
    Ok(readiness::readiness(readiness::ReadinessInput {
        sections: &cx.spec.sections,
        criteria: &cx.spec.criteria,
        assignees: &cx.spec.assignees,
        due_date: cx.spec.due_date.as_deref(),
        open_questions: &open_questions,
    }))
}

/// The spec's revisions and reviews, as the acceptance rule reads them.
async fn ledger_inputs(cx: &mut Ctx<'_, '_>) -> Result<(Vec<ledger::LedgerRevision>, Vec<Review>)> {
    let mut revisions = Vec::new();
    for data in cx.tx.records_of_kind(cx.db, &cx.scope, "revision").await? {
        if let Record::Revision(r) = serde_json::from_str(&data)? {
            revisions.push(ledger::LedgerRevision { id: r.id, number: r.number });
        }
    }
    let mut reviews = Vec::new();
    for data in cx.tx.records_of_kind(cx.db, &cx.scope, "review").await? {
        if let Record::Review(r) = serde_json::from_str(&data)? {
            reviews.push(r);
        }
    }
    Ok((revisions, reviews))
}

/// `spec.edit_section`: a 3-way merge with what was stored since the author's `base`.
pub(super) async fn edit_section(cx: &mut Ctx<'_, '_>, section: &SectionKind, base: &str, text: &str) -> Result<Outcome> {
    let stored = cx.spec.sections.get(*section).to_owned();
    let outcome = match merge_section(base, &stored, text) {
        SectionMerge::Unchanged => return Ok(Outcome::Applied),
        SectionMerge::FastForward => Outcome::Applied,
        SectionMerge::Merged(merged) => {
            *cx.spec.sections.get_mut(*section) = merged;
            cx.spec.updated_at = cx.now;
            cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
            return Ok(Outcome::Merged);
        }
        SectionMerge::Conflict => {
            let detail =
                ConflictDetail::Section { section: *section, base: base.to_owned(), theirs: stored, ours: text.to_owned() };
            let id = record_conflict(cx, detail).await?;
            return Ok(Outcome::Conflict {
                conflict_id: id,
                message: format!(
                    "someone else's edit of {section} overlaps yours; the stored text was kept and the conflict record holds both"
                ),
            });
        }
    };
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    Ok(outcome)
}

/// `spec.assign`: only a member of the spec's workspace, up to the assignee limit.
pub(super) async fn assign(cx: &mut Ctx<'_, '_>, who: &str) -> Result<Outcome> {
    if cx.spec.assignees.iter().any(|a| a == who) {
        return Ok(Outcome::Applied);
    }
    if queries::member_by_email(cx.db, &cx.spec.workspace_id.to_string(), who).await?.is_none() {
        return Ok(rejected(ApiErrorCode::NotFound, format!("{who} is not a member of this workspace")));
    }
    if cx.spec.assignees.len() >= limits::ASSIGNEES {
        return Ok(rejected(ApiErrorCode::TooLarge, format!("a spec has at most {} assignees", limits::ASSIGNEES)));
    }
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    queries::set_assigned(cx.db, &cx.scope, who, true).await?;
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    note(cx, ActivityEvent::Assigned { email: who.to_owned() }).await?;
    Ok(Outcome::Applied)
}

/// `spec.unassign`.
pub(super) async fn unassign(cx: &mut Ctx<'_, '_>, who: &str) -> Result<Outcome> {
    if !cx.spec.assignees.iter().any(|a| a == who) {
        return Ok(Outcome::Applied);
    }
    apply_to_spec(&mut cx.spec, cx.m, cx.now);
    queries::set_assigned(cx.db, &cx.scope, who, false).await?;
    if let Some(member) = queries::member_by_email(cx.db, &cx.spec.workspace_id.to_string(), who).await? {
        queries::forget_uploads_in_scope(cx.db, &member.user_id.to_string(), &cx.scope).await?;
    }
    cx.tx.put(cx.db, "spec", &cx.spec_id_s, &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
    note(cx, ActivityEvent::Unassigned { email: who.to_owned() }).await?;
    Ok(Outcome::Applied)
}

/// A last-writer-wins field of the spec aggregate.
pub(super) async fn lww_spec_field(
    cx: &mut Ctx<'_, '_>,
    field: String,
    old: serde_json::Value,
    new: serde_json::Value,
) -> Result<Outcome> {
    match lww(&cx.meta, &field, &cx.stamp) {
        Lww::Wins { unseen } => {
            apply_to_spec(&mut cx.spec, cx.m, cx.tx.input.now);
            cx.meta.insert(field.clone(), cx.stamp);
            cx.tx.put(cx.db, "spec", &cx.spec.id.to_string(), &cx.spec, &Record::Spec(cx.spec.clone()), &cx.meta).await?;
            if unseen && old != new {
                // Applied, but it replaced a value its author never saw: keep that value.
                record_conflict(cx, ConflictDetail::Overwritten { field, overwritten: old, kept: new }).await?;
            }
            Ok(Outcome::Applied)
        }
        Lww::Loses if old == new => Ok(Outcome::Applied),
        Lww::Loses => {
            let message = format!("a later edit of {field} won (last writer wins); your value is kept in the conflict record");
            let id = record_conflict(cx, ConflictDetail::Overwritten { field, overwritten: new, kept: old }).await?;
            Ok(Outcome::Conflict { conflict_id: id, message })
        }
    }
}
