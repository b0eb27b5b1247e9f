//! Push: applies a client's mutations at most once each, in one transaction per request.
//!
//! Per `(client_id, mutation_id)`: the outcome is recorded in the same transaction as the
//! effects; a replayed id returns the stored outcome; a gap is refused (`mutation_gap`) before
//! anything is applied; a rejection (validation, permission, lifecycle, unknown entity) is
//! recorded and still advances the id.
//!
//! Conflict rules (DESIGN §3), as decided here:
//! - Scalar fields (title, due date, criterion text, comment body, a reviewer's verdict):
//!   last writer wins per field by `(hlc, client_id)`, the client's HLC clamped by
//!   [`HlcClock::observe`]. Each field keeps the `(hlc, client_id)` of its last write and the
//!   server's HLC when that write was committed.
//!   - An *older* write loses: it is not applied, and the outcome is `conflict` with an
//!     `Overwritten` record (`overwritten` = the refused value, `kept` = the stored one), so its
//!     author sees that their edit did not stick and can re-apply it.
//!   - A *newer* write whose HLC is below the commit time of the value it replaces was made
//!     without having seen that value (clients catch their HLC up with the server on every
//!     response): it is applied (`applied`) and an `Overwritten` record keeps the replaced
//!     value so someone can restore it.
//! - Status: compare-and-set. `SetStatus{from, to}` applies only when the stored status is
//!   `from`, then `check_transition` with the member's role decides.
//! - Sections: 3-way merge of (`base`, stored, `text`) with `handoff_diff`'s merge rules; a clean
//!   merge is `merged`, an overlap leaves the stored text alone and records a `Section` conflict.
//! - Revisions: numbered `max + 1` per deliverable at commit. A revision whose blobs are not all
//!   uploaded refuses the whole push (`blobs_missing`, nothing applied) so the client uploads and
//!   retries; it is not a permanent rejection.
//!
//! # Files
//! This file checks a push, walks its mutations and dispatches each to its kind's function
//! (`apply`); `records.rs` holds the transaction's bookkeeping, record access and field
//! clocks; `spec.rs`, `criterion.rs`, `revision.rs` (with deliverables), `thread.rs` (with
//! comments) and `review.rs` one function per mutation kind.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use handoff_core::lifecycle::{self, Action};
use handoff_core::protocol::{ApiErrorCode, Outcome, PushRequest, PushResult, Record, Scope};
use handoff_core::time::MAX_CLOCK_DRIFT_MS;
use handoff_core::*;
use tracing::Instrument;

use crate::error::{Result, ServerError, core_code};
use crate::events::ScopeChange;
use crate::storage::queries::OutcomeRow;
use crate::storage::{Sql, queries};
use records::{Meta, Stamp, Tx, load};

mod activity;
mod criterion;
mod records;
mod review;
mod revision;
mod spec;
mod thread;

/// Who pushes, and when.
#[derive(Clone)]
pub struct PushInput {
    /// The account.
    pub user_id: UserId,
    /// Its email (authorship and assignment are by email).
    pub email: String,
    /// The server's wall clock at the start of the request.
    pub now: Timestamp,
    /// The server's HLC.
    pub hlc: Arc<Mutex<HlcClock>>,
    /// The request.
    pub request: PushRequest,
}

/// What a push did.
#[derive(Debug)]
pub struct PushOutput {
    /// One result per mutation, in order.
    pub results: Vec<PushResult>,
    /// Scopes written, for pokes after commit.
    pub changes: Vec<ScopeChange>,
}

/// The largest mutation id: the store keeps ids as signed 64-bit integers.
pub const MAX_MUTATION_ID: u64 = i64::MAX as u64;

/// Checks a push request's shape before any transaction: size, one client id, consecutive ids
/// (the withdrawn ones first, then the mutations).
pub fn check_shape(req: &PushRequest) -> Result<()> {
    let count = req.mutations.len() + req.withdrawn.len();
    if count > handoff_core::protocol::MAX_PUSH_BATCH {
        return Err(ServerError::api(
            ApiErrorCode::TooLarge,
            format!("a push carries at most {} mutations; this one has {count}", handoff_core::protocol::MAX_PUSH_BATCH),
        ));
    }
    for env in &req.mutations {
        if env.client_id != req.client_id {
            return Err(ServerError::invalid(format!(
                "mutation {} carries client id {}, not the push's {}",
                env.mutation_id, env.client_id, req.client_id
            )));
        }
    }
    for w in &req.withdrawn {
        if !matches!(w.code, ApiErrorCode::TooLarge | ApiErrorCode::BlobsMissing | ApiErrorCode::NotFound) {
            return Err(ServerError::invalid(format!(
                "withdrawn mutation {} gives code {:?}; a client withdraws only for too_large, blobs_missing or not_found",
                w.mutation_id, w.code
            )));
        }
    }
    let mut expected = None;
    for id in req.withdrawn.iter().map(|w| w.mutation_id).chain(req.mutations.iter().map(|e| e.mutation_id)) {
        if id == 0 {
            return Err(ServerError::invalid("mutation ids start at 1"));
        }
        if id > MAX_MUTATION_ID {
            return Err(ServerError::invalid(format!("mutation ids go up to {MAX_MUTATION_ID}; {id} is past that")));
        }
        if let Some(want) = expected
            && id != want
        {
            return Err(ServerError::invalid(format!("mutation ids in a push must be consecutive: expected {want}, got {id}")));
        }
        expected = Some(id + 1);
    }
    Ok(())
}

/// Applies a push inside the caller's write transaction.
pub async fn push(db: &mut dyn Sql, input: &PushInput) -> Result<PushOutput> {
    let req = &input.request;
    let first = match (req.withdrawn.first(), req.mutations.first()) {
        (Some(w), _) => w.mutation_id,
        (None, Some(env)) => env.mutation_id,
        (None, None) => return Ok(PushOutput { results: Vec::new(), changes: Vec::new() }),
    };
    let cid = req.client_id.to_string();
    let user = input.user_id.to_string();
    let (owner, last) = queries::claim_client(db, &cid, &user).await?;
    if owner != user {
        return Err(ServerError::forbidden("this client id belongs to another account"));
    }
    let last = last as u64;
    if first > last + 1 {
        return Err(ServerError::MutationGap { recorded: last, got: first });
    }
    let mut tx = Tx::new(input, user.clone());
    // Lock (bump) every existing scope this push writes and its pusher can see, in one order,
    // before reading any state: concurrent pushes then serialize per scope instead of
    // deadlocking or reading state that a commit ahead of them is about to change.
    let scopes: BTreeSet<String> =
        req.mutations.iter().filter(|e| e.mutation_id > last).map(|e| Scope::Spec(e.mutation.spec_id()).to_string()).collect();
    for scope in scopes {
        // Authorization before any write: a scope the pusher cannot see is never bumped (its
        // mutations are refused below as unknown), so a stranger's push leaves no trace in it.
        if !crate::pull::can_see(db, &user, &queries::parse::<Scope>(&scope)?).await? {
            continue;
        }
        if let Some(v) = queries::bump_scope(db, &scope, input.now).await? {
            tx.versions.insert(scope, v);
        }
    }
    tx.prefetch(db, req.mutations.iter().filter(|e| e.mutation_id > last).flat_map(|e| looked_up(&e.mutation)).collect()).await?;
    let mut results = Vec::with_capacity(req.mutations.len() + req.withdrawn.len());
    let mut new_last = last;
    for w in &req.withdrawn {
        let outcome = match queries::outcome(db, &cid, w.mutation_id as i64).await? {
            Some(stored) if w.mutation_id <= last => serde_json::from_str(&stored)?,
            _ => {
                let message: String = w.message.chars().take(handoff_core::protocol::MAX_WITHDRAWAL_MESSAGE).collect();
                let outcome = rejected(w.code, format!("not sent by its client: {message}"));
                let stored = serde_json::to_string(&outcome)?;
                let kind: String = w.kind.chars().take(40).collect();
                tx.keep_outcome(OutcomeRow {
                    client_id: cid.clone(),
                    mutation_id: w.mutation_id as i64,
                    kind,
                    outcome: stored,
                    at: input.now.as_millis(),
                });
                new_last = w.mutation_id;
                outcome
            }
        };
        results.push(PushResult { mutation_id: w.mutation_id, outcome });
    }
    for env in &req.mutations {
        if env.mutation_id <= last {
            let stored = queries::outcome(db, &cid, env.mutation_id as i64)
                .await?
                .ok_or_else(|| ServerError::Internal(format!("no recorded outcome for {cid}/{}", env.mutation_id)))?;
            results.push(PushResult { mutation_id: env.mutation_id, outcome: serde_json::from_str(&stored)? });
            continue;
        }
        let span = tracing::info_span!("mutation", client = %cid, id = env.mutation_id, kind = env.mutation.kind(), outcome = tracing::field::Empty);
        let outcome = apply(db, &mut tx, env).instrument(span.clone()).await?;
        span.record("outcome", outcome_name(&outcome));
        let stored = serde_json::to_string(&outcome)?;
        tx.keep_outcome(OutcomeRow {
            client_id: cid.clone(),
            mutation_id: env.mutation_id as i64,
            kind: env.mutation.kind().to_owned(),
            outcome: stored,
            at: input.now.as_millis(),
        });
        results.push(PushResult { mutation_id: env.mutation_id, outcome });
        new_last = env.mutation_id;
    }
    tx.flush(db).await?;
    if new_last != last {
        queries::set_client_last(db, &cid, &user, new_last as i64).await?;
    }
    let changes = tx
        .written
        .iter()
        .filter_map(|(s, (scope, ws))| {
            tx.versions.get(s).map(|v| ScopeChange { scope: *scope, version: *v as u64, workspace_id: *ws })
        })
        .collect();
    Ok(PushOutput { results, changes })
}

/// The records applying `m` looks up by key: its spec, and the thread and comment a
/// discussion mutation names (the common bulk of a push; others are read when needed).
fn looked_up(m: &Mutation) -> Vec<(&'static str, String)> {
    let mut keys = vec![("spec", m.spec_id().to_string())];
    match m {
        Mutation::CreateThread { thread_id, comment_id, .. } | Mutation::AddComment { thread_id, comment_id, .. } => {
            keys.push(("thread", thread_id.to_string()));
            keys.push(("comment", comment_id.to_string()));
        }
        _ => {}
    }
    keys
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Applied => "applied",
        Outcome::Merged => "merged",
        Outcome::Conflict { .. } => "conflict",
        Outcome::Rejected { .. } => "rejected",
    }
}

fn rejected(code: ApiErrorCode, message: impl Into<String>) -> Outcome {
    Outcome::Rejected { code, message: message.into() }
}

fn rejected_core(e: &CoreError) -> Outcome {
    rejected(core_code(e), e.to_string())
}

/// What every mutation kind's function works with: the push's transaction, the mutation, and
/// the spec it targets, loaded and its reader's role checked by [`apply`].
struct Ctx<'c, 'p> {
    db: &'c mut dyn Sql,
    tx: &'c mut Tx<'p>,
    env: &'c MutationEnvelope,
    /// The validated mutation (`env.mutation` is the one as sent).
    m: &'c Mutation,
    /// This write's field clock.
    stamp: Stamp,
    /// The spec as stored; a kind that changes it writes it back with `tx.put`.
    spec: Spec,
    /// The spec's field clocks.
    meta: Meta,
    spec_id: SpecId,
    /// `spec_id` as the record key.
    spec_id_s: String,
    /// The spec's scope, as stored.
    scope: String,
    /// The author's role in the spec's workspace.
    role: Role,
    /// The author's email (authorship and assignment are by email).
    email: &'p str,
    now: Timestamp,
}

/// Applies one validated-or-rejected mutation. `Err` only for failures that must abort the
/// whole push (internal errors, missing blobs).
///
/// A new mutation kind is one function in the file of its family, taking the [`Ctx`] and the
/// variant's fields, and one line in the dispatch below (plus its [`Action`] here when it is
/// not `EditSpec`).
async fn apply(db: &mut dyn Sql, tx: &mut Tx<'_>, env: &MutationEnvelope) -> Result<Outcome> {
    let m = match env.mutation.clone().validated() {
        Ok(m) => m,
        Err(e) => return Ok(rejected_core(&e)),
    };
    let stamp = {
        let mut clock = tx.input.hlc.lock().map_err(|_| ServerError::Internal("hlc lock poisoned".into()))?;
        let o = clock.observe(env.hlc, tx.input.now, MAX_CLOCK_DRIFT_MS);
        Stamp { h: o.remote, c: env.client_id, s: o.now }
    };
    if let Mutation::CreateSpec { .. } = m {
        return spec::create(db, tx, env, m, stamp).await;
    }
    let spec_id = m.spec_id();
    let scope = Scope::Spec(spec_id).to_string();
    let unknown = || rejected(ApiErrorCode::NotFound, format!("there is no spec {spec_id}"));
    let Some((spec, meta)) = load(tx, db, "spec", &spec_id.to_string(), &scope, |r| match r {
        Record::Spec(s) => Some(s),
        _ => None,
    })
    .await?
    else {
        return Ok(unknown());
    };
    // Not a member of the spec's workspace: the spec does not exist as far as they can tell.
    let user = tx.user.clone();
    let Some(member) = tx.member(db, &spec.workspace_id.to_string(), &user).await? else { return Ok(unknown()) };
    let email = tx.input.email.as_str();
    let assigned = spec.assignees.iter().any(|a| a == email);
    let role = member.role;
    if let Err(e) = lifecycle::check(role, Action::ReadSpec, assigned) {
        return Ok(rejected_core(&e));
    }
    let action = match &m {
        Mutation::SetStatus { .. } => None,
        Mutation::Assign { .. } | Mutation::Unassign { .. } => Some(Action::AssignSpec),
        Mutation::CreateDeliverable { .. } | Mutation::CreateRevision { .. } => Some(Action::Deliver),
        Mutation::CreateThread { .. }
        | Mutation::AddComment { .. }
        | Mutation::EditComment { .. }
        | Mutation::RedactComment { .. }
        | Mutation::SetThreadState { .. } => Some(Action::Discuss),
        Mutation::PublishReview { .. } | Mutation::PublishReviewV2 { .. } => Some(Action::Review),
        // Anyone who reads the spec keeps their own viewed marks; an override is checked
        // inside (owners only).
        Mutation::SetFileViewed { .. }
        | Mutation::AcceptWithOverride { .. }
        | Mutation::ReadyWithOverride { .. }
        | Mutation::MarkRead { .. } => None,
        _ => Some(Action::EditSpec),
    };
    if let Some(action) = action
        && let Err(e) = lifecycle::check(role, action, assigned)
    {
        return Ok(rejected_core(&e));
    }
    // A closed spec is read-only; its status edges (an owner's reopen) are the lifecycle's to judge.
    if !matches!(m, Mutation::SetStatus { .. })
        && let Err(e) = lifecycle::check_in(spec.status, action.unwrap_or(Action::ReadSpec))
    {
        return Ok(rejected_core(&e));
    }
    let now = tx.input.now;
    let spec_id_s = spec_id.to_string();
    let cx = &mut Ctx { db, tx, env, m: &m, stamp, spec, meta, spec_id, spec_id_s, scope, role, email, now };
    match &m {
        Mutation::SetTitle { title, .. } => spec::set_title(cx, title).await,
        Mutation::SetDueDate { due_date, .. } => spec::set_due_date(cx, due_date).await,
        Mutation::SetStatus { from, to, .. } => spec::set_status(cx, from, to).await,
        Mutation::EditSection { section, base, text, .. } => spec::edit_section(cx, section, base, text).await,
        Mutation::Assign { email: who, .. } => spec::assign(cx, who).await,
        Mutation::Unassign { email: who, .. } => spec::unassign(cx, who).await,
        Mutation::AddCriterion { criterion_id, .. } => criterion::add(cx, criterion_id).await,
        Mutation::EditCriterion { criterion_id, text, .. } => criterion::edit(cx, criterion_id, text).await,
        Mutation::MoveCriterion { .. } | Mutation::RemoveCriterion { .. } => criterion::move_or_remove(cx).await,
        Mutation::CreateDeliverable { deliverable_id, .. } => revision::create_deliverable(cx, deliverable_id).await,
        Mutation::CreateRevision { revision_id, deliverable_id, files, summary, addresses, .. } => {
            revision::create_revision(cx, revision_id, deliverable_id, files, summary, addresses).await
        }
        Mutation::CreateThread { thread_id, anchor, comment_id, body, .. } => {
            thread::create(cx, thread_id, anchor, comment_id, body).await
        }
        Mutation::AddComment { comment_id, thread_id, body, seen_events, .. } => {
            thread::add_comment(cx, comment_id, thread_id, body, *seen_events).await
        }
        Mutation::EditComment { comment_id, thread_id, body, .. } => thread::edit_comment(cx, comment_id, thread_id, body).await,
        Mutation::RedactComment { comment_id, thread_id, .. } => thread::redact_comment(cx, comment_id, thread_id).await,
        Mutation::SetThreadState { event_id, thread_id, event, .. } => thread::set_state(cx, event_id, thread_id, event).await,
        Mutation::PublishReview { review_id, revision_id, verdict, summary, criteria, .. } => {
            review::publish(cx, review_id, revision_id, verdict, summary, criteria).await
        }
        Mutation::PublishReviewV2 { review_id, revision_id, verdict, summary, criteria, threads, replies, .. } => {
            review::publish_v2(cx, review_id, revision_id, verdict, summary, criteria, threads, replies).await
        }
        Mutation::SetFileViewed { revision_id, path, sha256, viewed, .. } => {
            review::set_viewed(cx, revision_id, path, sha256, *viewed).await
        }
        Mutation::AcceptWithOverride { from, reason, .. } => spec::accept_override(cx, from, reason).await,
        Mutation::ReadyWithOverride { from, reason, .. } => spec::ready_override(cx, from, reason).await,
        Mutation::MarkRead { seq, .. } => activity::mark_read(cx, *seq).await,
        Mutation::CreateSpec { .. } => Err(ServerError::Internal("spec.create reached the spec dispatcher".into())),
    }
}
