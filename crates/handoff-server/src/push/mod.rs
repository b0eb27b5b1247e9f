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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use handoff_core::lifecycle::{self, Action};
use handoff_core::mutation::apply_to_spec;
use handoff_core::protocol::{
    ApiErrorCode, ConflictDetail, ConflictRecord, Outcome, PushRequest, PushResult, Record, Scope, ThreadRecord,
};
use handoff_core::time::MAX_CLOCK_DRIFT_MS;
use handoff_core::validate::limits;
use handoff_core::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::Instrument;

use crate::auth::new_id;
use crate::error::{Result, ServerError, core_code};
use crate::events::ScopeChange;
use crate::merge::{SectionMerge, merge_section};
use crate::storage::{Sql, queries};

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

/// Checks a push request's shape before any transaction: size, one client id, consecutive ids.
pub fn check_shape(req: &PushRequest) -> Result<()> {
    if req.mutations.len() > handoff_core::protocol::MAX_PUSH_BATCH {
        return Err(ServerError::api(
            ApiErrorCode::TooLarge,
            format!(
                "a push carries at most {} mutations; this one has {}",
                handoff_core::protocol::MAX_PUSH_BATCH,
                req.mutations.len()
            ),
        ));
    }
    let mut expected = None;
    for env in &req.mutations {
        if env.client_id != req.client_id {
            return Err(ServerError::invalid(format!(
                "mutation {} carries client id {}, not the push's {}",
                env.mutation_id, env.client_id, req.client_id
            )));
        }
        if env.mutation_id == 0 {
            return Err(ServerError::invalid("mutation ids start at 1"));
        }
        if let Some(want) = expected
            && env.mutation_id != want
        {
            return Err(ServerError::invalid(format!(
                "mutation ids in a push must be consecutive: expected {want}, got {}",
                env.mutation_id
            )));
        }
        expected = Some(env.mutation_id + 1);
    }
    Ok(())
}

/// The last write of one last-writer-wins field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    /// The author's HLC, clamped.
    h: Hlc,
    /// The author's client.
    c: ClientId,
    /// The server's HLC when the write was committed.
    s: Hlc,
}

/// Field clocks of one entity.
type Meta = BTreeMap<String, Stamp>;

enum Lww {
    /// The write is newer; `unseen` when it replaces a value committed after the write was made.
    Wins { unseen: bool },
    /// The write is older than the stored one.
    Loses,
}

fn lww(meta: &Meta, field: &str, stamp: &Stamp) -> Lww {
    match meta.get(field) {
        None => Lww::Wins { unseen: false },
        Some(old) if (stamp.h, stamp.c) > (old.h, old.c) => Lww::Wins { unseen: stamp.c != old.c && stamp.h < old.s },
        Some(_) => Lww::Loses,
    }
}

fn rejected(code: ApiErrorCode, message: impl Into<String>) -> Outcome {
    Outcome::Rejected { code, message: message.into() }
}

fn rejected_core(e: &CoreError) -> Outcome {
    rejected(core_code(e), e.to_string())
}

/// Per-transaction bookkeeping.
struct Tx<'a> {
    input: &'a PushInput,
    user: String,
    /// Scope → the version this transaction writes at (bumped once per scope).
    versions: BTreeMap<String, i64>,
    /// Scopes written, with their workspace.
    written: BTreeMap<String, (Scope, WorkspaceId)>,
}

impl Tx<'_> {
    async fn version(&mut self, db: &mut dyn Sql, scope: &str) -> Result<i64> {
        if let Some(v) = self.versions.get(scope) {
            return Ok(*v);
        }
        let v = queries::bump_scope(db, scope).await?.ok_or_else(|| ServerError::Internal(format!("scope {scope} vanished")))?;
        self.versions.insert(scope.to_owned(), v);
        Ok(v)
    }

    async fn put(&mut self, db: &mut dyn Sql, kind: &str, id: &str, spec: &Spec, record: &Record, meta: &Meta) -> Result<()> {
        let scope = Scope::Spec(spec.id);
        let scope_s = scope.to_string();
        let version = self.version(db, &scope_s).await?;
        let data = serde_json::to_string(record)?;
        let meta = serde_json::to_string(meta)?;
        queries::put_record(db, kind, id, &scope_s, version, &data, &meta).await?;
        self.written.insert(scope_s, (scope, spec.workspace_id));
        Ok(())
    }
}

/// Applies a push inside the caller's write transaction.
pub async fn push(db: &mut dyn Sql, input: &PushInput) -> Result<PushOutput> {
    let req = &input.request;
    let Some(first) = req.mutations.first() else {
        return Ok(PushOutput { results: Vec::new(), changes: Vec::new() });
    };
    let cid = req.client_id.to_string();
    let user = input.user_id.to_string();
    let (owner, last) = queries::claim_client(db, &cid, &user).await?;
    if owner != user {
        return Err(ServerError::forbidden("this client id belongs to another account"));
    }
    let last = last as u64;
    if first.mutation_id > last + 1 {
        return Err(ServerError::api(
            ApiErrorCode::MutationGap,
            format!(
                "mutation ids skip ahead: the server has recorded up to {last}, so the next must be {}, not {}",
                last + 1,
                first.mutation_id
            ),
        ));
    }
    let mut tx = Tx { input, user: user.clone(), versions: BTreeMap::new(), written: BTreeMap::new() };
    // Lock (bump) every existing scope this push writes, in one order, before reading any
    // state: concurrent pushes then serialize per scope instead of deadlocking or reading
    // state that a commit ahead of them is about to change.
    let scopes: BTreeSet<String> =
        req.mutations.iter().filter(|e| e.mutation_id > last).map(|e| Scope::Spec(e.mutation.spec_id()).to_string()).collect();
    for scope in scopes {
        if let Some(v) = queries::bump_scope(db, &scope).await? {
            tx.versions.insert(scope, v);
        }
    }
    let mut results = Vec::with_capacity(req.mutations.len());
    let mut new_last = last;
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
        queries::insert_outcome(db, &cid, env.mutation_id as i64, env.mutation.kind(), &stored, input.now.as_millis()).await?;
        results.push(PushResult { mutation_id: env.mutation_id, outcome });
        new_last = env.mutation_id;
    }
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

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Applied => "applied",
        Outcome::Merged => "merged",
        Outcome::Conflict { .. } => "conflict",
        Outcome::Rejected { .. } => "rejected",
    }
}

async fn load<T>(
    db: &mut dyn Sql,
    kind: &str,
    id: &str,
    scope: &str,
    pick: impl Fn(Record) -> Option<T>,
) -> Result<Option<(T, Meta)>> {
    let Some(rec) = queries::get_record(db, kind, id).await? else { return Ok(None) };
    if rec.scope != scope {
        // Another spec's entity: for this mutation it does not exist.
        return Ok(None);
    }
    let record: Record = serde_json::from_str(&rec.data)?;
    let meta: Meta = serde_json::from_str(&rec.meta)?;
    Ok(pick(record).map(|v| (v, meta)))
}

async fn exists(db: &mut dyn Sql, kind: &str, id: &str) -> Result<bool> {
    Ok(queries::get_record(db, kind, id).await?.is_some())
}

/// Applies one validated-or-rejected mutation. `Err` only for failures that must abort the
/// whole push (internal errors, missing blobs).
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
        return create_spec(db, tx, env, m, stamp).await;
    }
    let spec_id = m.spec_id();
    let scope = Scope::Spec(spec_id).to_string();
    let unknown = || rejected(ApiErrorCode::NotFound, format!("there is no spec {spec_id}"));
    let Some((mut spec, mut meta)) = load(db, "spec", &spec_id.to_string(), &scope, |r| match r {
        Record::Spec(s) => Some(s),
        _ => None,
    })
    .await?
    else {
        return Ok(unknown());
    };
    // Not a member of the spec's workspace: the spec does not exist as far as they can tell.
    let Some(member) = queries::member(db, &spec.workspace_id.to_string(), &tx.user).await? else { return Ok(unknown()) };
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
        Mutation::PublishReview { .. } => Some(Action::Review),
        _ => Some(Action::EditSpec),
    };
    if let Some(action) = action
        && let Err(e) = lifecycle::check(role, action, assigned)
    {
        return Ok(rejected_core(&e));
    }
    let now = tx.input.now;
    let spec_id_s = spec_id.to_string();
    match &m {
        Mutation::SetTitle { title, .. } => {
            let old = json!(spec.title);
            lww_spec_field(db, tx, env, &mut spec, &mut meta, "title".into(), old, json!(title), &m, stamp).await
        }
        Mutation::SetDueDate { due_date, .. } => {
            let old = json!(spec.due_date);
            lww_spec_field(db, tx, env, &mut spec, &mut meta, "due_date".into(), old, json!(due_date), &m, stamp).await
        }
        Mutation::EditCriterion { criterion_id, text, .. } => {
            let Some(old) = spec.criteria.iter().find(|c| c.id == *criterion_id).map(|c| c.text.clone()) else {
                // Removed by someone else: nothing left to edit (the core's rule for criteria).
                return Ok(Outcome::Applied);
            };
            lww_spec_field(
                db,
                tx,
                env,
                &mut spec,
                &mut meta,
                format!("criterion:{criterion_id}"),
                json!(old),
                json!(text),
                &m,
                stamp,
            )
            .await
        }
        Mutation::SetStatus { from, to, .. } => {
            if spec.status != *from {
                return Ok(rejected(
                    ApiErrorCode::Invalid,
                    format!("the spec is {} now, not {from}: this status change was made on an outdated view", spec.status),
                ));
            }
            if let Err(e) = from.check_transition(*to, role) {
                return Ok(rejected_core(&e));
            }
            apply_to_spec(&mut spec, &m, now);
            meta.insert("status".into(), stamp);
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::EditSection { section, base, text, .. } => {
            let stored = spec.sections.get(*section).to_owned();
            let outcome = match merge_section(base, &stored, text) {
                SectionMerge::Unchanged => return Ok(Outcome::Applied),
                SectionMerge::FastForward => Outcome::Applied,
                SectionMerge::Merged(merged) => {
                    *spec.sections.get_mut(*section) = merged;
                    spec.updated_at = now;
                    tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
                    return Ok(Outcome::Merged);
                }
                SectionMerge::Conflict => {
                    let detail =
                        ConflictDetail::Section { section: *section, base: base.clone(), theirs: stored, ours: text.clone() };
                    let id = record_conflict(db, tx, env, &spec, detail).await?;
                    return Ok(Outcome::Conflict {
                        conflict_id: id,
                        message: format!(
                            "someone else's edit of {section} overlaps yours; the stored text was kept and the conflict record holds both"
                        ),
                    });
                }
            };
            apply_to_spec(&mut spec, &m, now);
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(outcome)
        }
        Mutation::Assign { email: who, .. } => {
            if spec.assignees.contains(who) {
                return Ok(Outcome::Applied);
            }
            if queries::member_by_email(db, &spec.workspace_id.to_string(), who).await?.is_none() {
                return Ok(rejected(ApiErrorCode::NotFound, format!("{who} is not a member of this workspace")));
            }
            if spec.assignees.len() >= limits::ASSIGNEES {
                return Ok(rejected(ApiErrorCode::TooLarge, format!("a spec has at most {} assignees", limits::ASSIGNEES)));
            }
            apply_to_spec(&mut spec, &m, now);
            queries::set_assigned(db, &scope, who, true).await?;
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::Unassign { email: who, .. } => {
            if !spec.assignees.contains(who) {
                return Ok(Outcome::Applied);
            }
            apply_to_spec(&mut spec, &m, now);
            queries::set_assigned(db, &scope, who, false).await?;
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::AddCriterion { criterion_id, .. } => {
            if spec.criteria.iter().any(|c| c.id == *criterion_id) {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("the spec already has criterion {criterion_id}")));
            }
            if spec.criteria.len() >= limits::CRITERIA {
                return Ok(rejected(
                    ApiErrorCode::TooLarge,
                    format!("a spec has at most {} acceptance criteria", limits::CRITERIA),
                ));
            }
            apply_to_spec(&mut spec, &m, now);
            meta.insert(format!("criterion:{criterion_id}"), stamp);
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::MoveCriterion { .. } | Mutation::RemoveCriterion { .. } => {
            apply_to_spec(&mut spec, &m, now);
            tx.put(db, "spec", &spec_id_s, &spec, &Record::Spec(spec.clone()), &meta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::CreateDeliverable { deliverable_id, .. } => {
            let id = deliverable_id.to_string();
            if exists(db, "deliverable", &id).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("deliverable {id} already exists")));
            }
            let d = Deliverable { id: *deliverable_id, spec_id, created_by: email.to_owned(), created_at: env.created_at };
            tx.put(db, "deliverable", &id, &spec, &Record::Deliverable(d), &Meta::new()).await?;
            Ok(Outcome::Applied)
        }
        Mutation::CreateRevision { revision_id, deliverable_id, files, summary, addresses, .. } => {
            if load(db, "deliverable", &deliverable_id.to_string(), &scope, |_| Some(())).await?.is_none() {
                return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no deliverable {deliverable_id}")));
            }
            let id = revision_id.to_string();
            if exists(db, "revision", &id).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("revision {id} already exists")));
            }
            for t in addresses {
                if load(db, "thread", &t.to_string(), &scope, |_| Some(())).await?.is_none() {
                    return Ok(rejected(
                        ApiErrorCode::NotFound,
                        format!("this spec has no thread {t} for the revision to address"),
                    ));
                }
            }
            let hashes: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect::<BTreeSet<_>>().into_iter().collect();
            let present = queries::blobs_present(db, &hashes).await?;
            let missing: Vec<String> = hashes.iter().filter(|h| !present.contains_key(*h)).cloned().collect();
            if !missing.is_empty() {
                return Err(ServerError::BlobsMissing(missing));
            }
            if let Some(f) = files.iter().find(|f| present.get(&f.sha256).is_some_and(|s| *s as u64 != f.size)) {
                return Ok(rejected(
                    ApiErrorCode::Invalid,
                    format!("file {:?} is {} bytes in the manifest, but its blob has a different size", f.path, f.size),
                ));
            }
            let number = queries::assign_revision_number(db, &deliverable_id.to_string(), &id).await?;
            for h in &hashes {
                queries::add_revision_blob(db, h, &scope).await?;
            }
            let r = Revision {
                id: *revision_id,
                deliverable_id: *deliverable_id,
                spec_id,
                number: u32::try_from(number).map_err(|_| ServerError::Internal("revision number overflow".into()))?,
                number_confirmed: true,
                files: files.clone(),
                summary: summary.clone(),
                addresses: addresses.clone(),
                created_by: email.to_owned(),
                created_at: env.created_at,
            };
            tx.put(db, "revision", &id, &spec, &Record::Revision(r), &Meta::new()).await?;
            Ok(Outcome::Applied)
        }
        Mutation::CreateThread { thread_id, anchor, comment_id, body, .. } => {
            let (tid, cid) = (thread_id.to_string(), comment_id.to_string());
            if exists(db, "thread", &tid).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("thread {tid} already exists")));
            }
            if exists(db, "comment", &cid).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists")));
            }
            match anchor {
                Anchor::RevisionLines { revision_id, .. }
                    if load(db, "revision", &revision_id.to_string(), &scope, |_| Some(())).await?.is_none() =>
                {
                    return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
                }
                Anchor::Deliverable { deliverable_id }
                    if load(db, "deliverable", &deliverable_id.to_string(), &scope, |_| Some(())).await?.is_none() =>
                {
                    return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no deliverable {deliverable_id}")));
                }
                _ => {}
            }
            let thread = Thread {
                id: *thread_id,
                spec_id,
                anchor: anchor.clone(),
                resolved: false,
                created_by: email.to_owned(),
                created_at: env.created_at,
            };
            let comment = Comment {
                id: *comment_id,
                thread_id: *thread_id,
                author: email.to_owned(),
                body: body.clone(),
                created_at: env.created_at,
                edited_at: None,
                redacted: false,
            };
            tx.put(db, "thread", &tid, &spec, &Record::Thread(ThreadRecord { thread, events: 0 }), &Meta::new()).await?;
            tx.put(db, "comment", &cid, &spec, &Record::Comment(comment), &Meta::new()).await?;
            Ok(Outcome::Applied)
        }
        Mutation::AddComment { comment_id, thread_id, body, seen_events, .. } => {
            let tid = thread_id.to_string();
            let Some((mut tr, tmeta)) = load(db, "thread", &tid, &scope, |r| match r {
                Record::Thread(t) => Some(t),
                _ => None,
            })
            .await?
            else {
                return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {tid}")));
            };
            let cid = comment_id.to_string();
            if exists(db, "comment", &cid).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("comment {cid} already exists")));
            }
            if tr.thread.resolved && *seen_events < tr.events {
                // A reply written without having seen the resolve: the question is open again.
                let event: ThreadEventId = new_id(now)?;
                queries::insert_thread_event(db, &event.to_string(), &tid, "reopen", email, now.as_millis()).await?;
                tr.events += 1;
                tr.thread.resolved = false;
                tx.put(db, "thread", &tid, &spec, &Record::Thread(tr), &tmeta).await?;
            }
            let comment = Comment {
                id: *comment_id,
                thread_id: *thread_id,
                author: email.to_owned(),
                body: body.clone(),
                created_at: env.created_at,
                edited_at: None,
                redacted: false,
            };
            tx.put(db, "comment", &cid, &spec, &Record::Comment(comment), &Meta::new()).await?;
            Ok(Outcome::Applied)
        }
        Mutation::EditComment { comment_id, thread_id, body, .. } => {
            let cid = comment_id.to_string();
            let Some((mut c, mut cmeta)) = load_comment(db, &cid, thread_id, &scope).await? else {
                return Ok(rejected(ApiErrorCode::NotFound, format!("thread {thread_id} has no comment {cid}")));
            };
            if c.author != email {
                return Ok(rejected(ApiErrorCode::Forbidden, "only its author may edit a comment"));
            }
            if c.redacted {
                return Ok(rejected(ApiErrorCode::Invalid, "the comment was deleted; it can no longer be edited"));
            }
            match lww(&cmeta, "body", &stamp) {
                Lww::Wins { .. } => {
                    c.body = body.clone();
                    c.edited_at = Some(env.created_at);
                    cmeta.insert("body".into(), stamp);
                    tx.put(db, "comment", &cid, &spec, &Record::Comment(c), &cmeta).await?;
                    Ok(Outcome::Applied)
                }
                Lww::Loses if c.body == *body => Ok(Outcome::Applied),
                Lww::Loses => {
                    let detail = ConflictDetail::Overwritten {
                        field: format!("comment:{cid}"),
                        overwritten: json!(body),
                        kept: json!(c.body),
                    };
                    let id = record_conflict(db, tx, env, &spec, detail).await?;
                    Ok(Outcome::Conflict {
                        conflict_id: id,
                        message: "a later edit of this comment won; your text is kept in the conflict record".into(),
                    })
                }
            }
        }
        Mutation::RedactComment { comment_id, thread_id, .. } => {
            let cid = comment_id.to_string();
            let Some((mut c, cmeta)) = load_comment(db, &cid, thread_id, &scope).await? else {
                return Ok(rejected(ApiErrorCode::NotFound, format!("thread {thread_id} has no comment {cid}")));
            };
            if c.author != email {
                return Ok(rejected(ApiErrorCode::Forbidden, "only its author may delete a comment"));
            }
            if c.redacted {
                return Ok(Outcome::Applied);
            }
            c.body.clear();
            c.redacted = true;
            tx.put(db, "comment", &cid, &spec, &Record::Comment(c), &cmeta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::SetThreadState { event_id, thread_id, event, .. } => {
            let tid = thread_id.to_string();
            let Some((mut tr, tmeta)) = load(db, "thread", &tid, &scope, |r| match r {
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
            if !queries::insert_thread_event(db, &event_id.to_string(), &tid, kind, email, now.as_millis()).await? {
                return Ok(rejected(ApiErrorCode::AlreadyExists, format!("thread event {event_id} already exists")));
            }
            tr.events += 1;
            tr.thread.resolved = *event == ThreadEventKind::Resolve;
            tx.put(db, "thread", &tid, &spec, &Record::Thread(tr), &tmeta).await?;
            Ok(Outcome::Applied)
        }
        Mutation::PublishReview { review_id, revision_id, verdict, summary, criteria, .. } => {
            if load(db, "revision", &revision_id.to_string(), &scope, |_| Some(())).await?.is_none() {
                return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no revision {revision_id}")));
            }
            // One review per (revision, reviewer): the key is the pair, the newest wins.
            let key = format!("{revision_id}/{email}");
            let review = Review {
                id: *review_id,
                revision_id: *revision_id,
                spec_id,
                reviewer: email.to_owned(),
                verdict: *verdict,
                summary: summary.clone(),
                criteria: criteria.clone(),
                published_at: env.created_at,
            };
            let (old, mut rmeta) = match load(db, "review", &key, &scope, |r| match r {
                Record::Review(r) => Some(r),
                _ => None,
            })
            .await?
            {
                Some((r, m)) => (Some(r), m),
                None => (None, Meta::new()),
            };
            match (old, lww(&rmeta, "review", &stamp)) {
                (_, Lww::Wins { .. }) | (None, _) => {
                    rmeta.insert("review".into(), stamp);
                    tx.put(db, "review", &key, &spec, &Record::Review(review), &rmeta).await?;
                    Ok(Outcome::Applied)
                }
                (Some(old), Lww::Loses) => {
                    let detail = ConflictDetail::Overwritten {
                        field: format!("review:{revision_id}"),
                        overwritten: serde_json::to_value(&review)?,
                        kept: serde_json::to_value(&old)?,
                    };
                    let id = record_conflict(db, tx, env, &spec, detail).await?;
                    Ok(Outcome::Conflict {
                        conflict_id: id,
                        message: "a later review of this revision by you won; this one is kept in the conflict record".into(),
                    })
                }
            }
        }
        Mutation::CreateSpec { .. } => Err(ServerError::Internal("spec.create reached the spec dispatcher".into())),
    }
}

async fn load_comment(db: &mut dyn Sql, cid: &str, thread_id: &ThreadId, scope: &str) -> Result<Option<(Comment, Meta)>> {
    Ok(load(db, "comment", cid, scope, |r| match r {
        Record::Comment(c) => Some(c),
        _ => None,
    })
    .await?
    .filter(|(c, _)| c.thread_id == *thread_id))
}

/// A last-writer-wins field of the spec aggregate.
#[allow(clippy::too_many_arguments)]
async fn lww_spec_field(
    db: &mut dyn Sql,
    tx: &mut Tx<'_>,
    env: &MutationEnvelope,
    spec: &mut Spec,
    meta: &mut Meta,
    field: String,
    old: serde_json::Value,
    new: serde_json::Value,
    m: &Mutation,
    stamp: Stamp,
) -> Result<Outcome> {
    match lww(meta, &field, &stamp) {
        Lww::Wins { unseen } => {
            apply_to_spec(spec, m, tx.input.now);
            meta.insert(field.clone(), stamp);
            tx.put(db, "spec", &spec.id.to_string(), spec, &Record::Spec(spec.clone()), meta).await?;
            if unseen && old != new {
                // Applied, but it replaced a value its author never saw: keep that value.
                record_conflict(db, tx, env, spec, ConflictDetail::Overwritten { field, overwritten: old, kept: new }).await?;
            }
            Ok(Outcome::Applied)
        }
        Lww::Loses if old == new => Ok(Outcome::Applied),
        Lww::Loses => {
            let message = format!("a later edit of {field} won (last writer wins); your value is kept in the conflict record");
            let id =
                record_conflict(db, tx, env, spec, ConflictDetail::Overwritten { field, overwritten: new, kept: old }).await?;
            Ok(Outcome::Conflict { conflict_id: id, message })
        }
    }
}

async fn record_conflict(
    db: &mut dyn Sql,
    tx: &mut Tx<'_>,
    env: &MutationEnvelope,
    spec: &Spec,
    detail: ConflictDetail,
) -> Result<ConflictId> {
    let id: ConflictId = new_id(tx.input.now)?;
    let record = ConflictRecord {
        id,
        spec_id: spec.id,
        client_id: env.client_id,
        mutation_id: env.mutation_id,
        author: tx.input.email.clone(),
        created_at: tx.input.now,
        detail,
        resolved: false,
    };
    tx.put(db, "conflict", &id.to_string(), spec, &Record::Conflict(record), &Meta::new()).await?;
    Ok(id)
}

async fn create_spec(db: &mut dyn Sql, tx: &mut Tx<'_>, env: &MutationEnvelope, m: Mutation, stamp: Stamp) -> Result<Outcome> {
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
    if exists(db, "spec", &id).await? || queries::scope_version(db, &scope).await?.is_some() {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("spec {id} already exists")));
    }
    let version = queries::create_scope(db, &scope, &ws, "spec").await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(h: u64, c: u8, s: u64) -> Stamp {
        Stamp {
            h: Hlc { wall_ms: h, counter: 0 },
            c: ClientId::from(uuid::Uuid::from_bytes([c; 16])),
            s: Hlc { wall_ms: s, counter: 0 },
        }
    }

    #[test]
    fn last_writer_wins_by_hlc_then_client_and_flags_unseen_overwrites() {
        let mut meta = Meta::new();
        assert!(matches!(lww(&meta, "title", &stamp(10, 1, 11)), Lww::Wins { unseen: false }));
        meta.insert("title".into(), stamp(10, 1, 50));
        assert!(matches!(lww(&meta, "title", &stamp(9, 2, 60)), Lww::Loses), "older loses");
        assert!(matches!(lww(&meta, "title", &stamp(10, 0, 60)), Lww::Loses), "tie broken by client id");
        assert!(
            matches!(lww(&meta, "title", &stamp(10, 2, 60)), Lww::Wins { unseen: true }),
            "newer, but made before the stored value was committed"
        );
        assert!(matches!(lww(&meta, "title", &stamp(51, 2, 60)), Lww::Wins { unseen: false }), "made after seeing it");
        assert!(
            matches!(lww(&meta, "title", &stamp(11, 1, 60)), Lww::Wins { unseen: false }),
            "same client always saw its own write"
        );
    }
}
