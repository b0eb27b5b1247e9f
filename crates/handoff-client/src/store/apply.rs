//! Applies a validated mutation to the local tables: the optimistic local write. The same
//! rules as the server's (they come from handoff-core), minus conflict handling, which only
//! the server can decide.

use rusqlite::{OptionalExtension, Transaction, params};

use handoff_core::lifecycle::{Action, check, check_in};
use handoff_core::mutation::apply_to_spec;
use handoff_core::*;

use super::read;
use crate::error::{ClientError, Result};

/// Who is acting, as the local store knows them.
#[derive(Clone, Debug)]
pub(crate) struct Actor {
    /// Their email.
    pub email: String,
}

fn not_found(what: &'static str, id: impl ToString) -> ClientError {
    ClientError::NotFound { what, id: id.to_string() }
}

/// The actor's role in a workspace: the membership the server sent, or owner of a
/// workspace this client created for itself.
pub(crate) fn role_in(tx: &Transaction<'_>, workspace_id: WorkspaceId, actor: &Actor) -> Result<Role> {
    let local: Option<i64> =
        tx.query_row("SELECT is_local FROM workspaces WHERE id = ?1", [workspace_id.to_string()], |r| r.get(0)).optional()?;
    match local {
        None => Err(not_found("workspace", workspace_id)),
        Some(1) => Ok(Role::Owner),
        Some(_) => {
            let role: Option<String> = tx
                .query_row(
                    "SELECT role FROM members WHERE workspace_id = ?1 AND email = ?2",
                    params![workspace_id.to_string(), actor.email],
                    |r| r.get(0),
                )
                .optional()?;
            let role = role.ok_or_else(|| {
                ClientError::Rule(CoreError::NotAllowed {
                    role: Role::Contractor,
                    action: "act in a workspace you are not a member of".into(),
                    assigned: false,
                })
            })?;
            role.parse().map_err(ClientError::Rule)
        }
    }
}

fn check_spec_action(tx: &Transaction<'_>, spec: &Spec, actor: &Actor, action: Action) -> Result<Role> {
    let role = role_in(tx, spec.workspace_id, actor)?;
    let assigned = spec.assignees.contains(&actor.email);
    check(role, action, assigned)?;
    check_in(spec.status, action)?;
    Ok(role)
}

/// Applies `m` (already validated) for `actor` at time `at`.
pub(crate) fn apply(tx: &Transaction<'_>, m: &Mutation, actor: &Actor, at: Timestamp) -> Result<()> {
    use Mutation::*;
    let spec_id = m.spec_id();
    if let CreateSpec { spec_id, workspace_id, title, sections, criteria, due_date } = m {
        let role = role_in(tx, *workspace_id, actor)?;
        check(role, Action::CreateSpec, false)?;
        let spec = Spec {
            id: *spec_id,
            workspace_id: *workspace_id,
            title: title.clone(),
            sections: sections.clone(),
            criteria: criteria.clone(),
            status: SpecStatus::Draft,
            assignees: vec![],
            due_date: due_date.clone(),
            created_by: actor.email.clone(),
            created_at: at,
            updated_at: at,
        };
        return insert_spec(tx, &spec);
    }
    let mut spec = read::spec(tx, spec_id)?.ok_or_else(|| not_found("spec", spec_id))?;
    match m {
        SetTitle { .. }
        | EditSection { .. }
        | SetDueDate { .. }
        | AddCriterion { .. }
        | EditCriterion { .. }
        | MoveCriterion { .. }
        | RemoveCriterion { .. } => {
            check_spec_action(tx, &spec, actor, Action::EditSpec)?;
            if let AddCriterion { .. } = m {
                validate::criteria_count(spec.criteria.len() + 1)?;
            }
            if let EditCriterion { criterion_id, .. } | MoveCriterion { criterion_id, .. } | RemoveCriterion { criterion_id, .. } =
                m
                && spec.criteria.iter().all(|c| c.id != *criterion_id)
            {
                return Err(not_found("criterion", criterion_id));
            }
            apply_to_spec(&mut spec, m, at);
            save_spec(tx, &spec)
        }
        Assign { .. } | Unassign { .. } => {
            check_spec_action(tx, &spec, actor, Action::AssignSpec)?;
            apply_to_spec(&mut spec, m, at);
            validate_assignees(&spec)?;
            save_spec(tx, &spec)
        }
        SetStatus { from, to, .. } => {
            let role = role_in(tx, spec.workspace_id, actor)?;
            if spec.status != *from {
                return Err(ClientError::Rule(CoreError::Invalid {
                    what: "status change",
                    value: format!("{from} → {to}"),
                    reason: "the spec is no longer in the status the change started from",
                }));
            }
            let assigned = spec.assignees.contains(&actor.email);
            if role == Role::Contractor && !assigned {
                check(role, Action::ReadSpec, false)?;
            }
            spec.status.check_transition(*to, role)?;
            if *to == SpecStatus::Accepted {
                let (revisions, reviews) = read::ledger_inputs(tx, spec_id)?;
                handoff_core::ledger::check_acceptance(&spec.criteria, &revisions, &reviews)?;
            }
            if *to == SpecStatus::Ready {
                let readiness = crate::readiness::readiness_in(tx, &spec)?;
                if !readiness.is_ready() {
                    return Err(ClientError::Rule(CoreError::NotReady { reasons: readiness.explain() }));
                }
            }
            apply_to_spec(&mut spec, m, at);
            save_spec(tx, &spec)
        }
        AcceptWithOverride { from, reason, .. } => {
            let role = role_in(tx, spec.workspace_id, actor)?;
            check_override(role, spec.status, *from, SpecStatus::Accepted)?;
            let (revisions, _) = read::ledger_inputs(tx, spec_id)?;
            let latest = revisions.iter().max_by_key(|r| r.number).map(|r| r.id);
            apply_to_spec(&mut spec, m, at);
            save_spec(tx, &spec)?;
            upsert_override(
                tx,
                &AcceptanceOverride { spec_id, revision_id: latest, by: actor.email.clone(), reason: reason.clone(), at },
            )
        }
        ReadyWithOverride { from, reason, .. } => {
            let role = role_in(tx, spec.workspace_id, actor)?;
            check_override(role, spec.status, *from, SpecStatus::Ready)?;
            let failing = crate::readiness::readiness_in(tx, &spec)?.failing();
            apply_to_spec(&mut spec, m, at);
            save_spec(tx, &spec)?;
            upsert_ready_override(tx, &ReadyOverride { spec_id, by: actor.email.clone(), reason: reason.clone(), failing, at })
        }
        MarkRead { seq, .. } => {
            check_spec_action(tx, &spec, actor, Action::ReadSpec)?;
            crate::inbox::raise_read_mark(tx, spec_id, &actor.email, *seq)
        }
        SetFileViewed { revision_id, path, sha256, viewed, .. } => {
            check_spec_action(tx, &spec, actor, Action::ReadSpec)?;
            revision_file(tx, spec_id, *revision_id, path)?;
            upsert_viewed(
                tx,
                &ViewedFile {
                    spec_id,
                    reviewer: actor.email.clone(),
                    path: path.clone(),
                    sha256: sha256.clone(),
                    revision_id: *revision_id,
                    viewed: *viewed,
                    at,
                },
            )
        }
        CreateDeliverable { deliverable_id, .. } => {
            check_spec_action(tx, &spec, actor, Action::Deliver)?;
            tx.execute(
                "INSERT INTO deliverables (id, spec_id, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![deliverable_id.to_string(), spec_id.to_string(), actor.email, at.as_millis()],
            )?;
            Ok(())
        }
        CreateRevision { revision_id, deliverable_id, files, summary, addresses, .. } => {
            check_spec_action(tx, &spec, actor, Action::Deliver)?;
            let owner: Option<String> = tx
                .query_row("SELECT spec_id FROM deliverables WHERE id = ?1", [deliverable_id.to_string()], |r| r.get(0))
                .optional()?;
            if owner.as_deref() != Some(spec_id.to_string().as_str()) {
                return Err(not_found("deliverable", deliverable_id));
            }
            let number: u32 = tx.query_row(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE deliverable_id = ?1",
                [deliverable_id.to_string()],
                |r| r.get(0),
            )?;
            let revision = Revision {
                id: *revision_id,
                deliverable_id: *deliverable_id,
                spec_id,
                number,
                number_confirmed: false,
                files: files.clone(),
                summary: summary.clone(),
                addresses: addresses.clone(),
                created_by: actor.email.clone(),
                created_at: at,
                received_at: None,
            };
            insert_revision(tx, &revision)?;
            for t in addresses {
                thread_in_spec(tx, *t, spec_id)?;
                append_history(tx, *t, ThreadHistoryKind::Claim, actor, at, Some(*revision_id))?;
            }
            Ok(())
        }
        CreateThread { thread_id, anchor, comment_id, body, .. } => {
            check_spec_action(tx, &spec, actor, Action::Discuss)?;
            open_thread(tx, spec_id, *thread_id, anchor, *comment_id, body, actor, at)
        }
        AddComment { comment_id, thread_id, body, .. } => {
            check_spec_action(tx, &spec, actor, Action::Discuss)?;
            thread_in_spec(tx, *thread_id, spec_id)?;
            upsert_comment(tx, &new_comment(*comment_id, *thread_id, body, actor, at), spec_id)
        }
        EditComment { comment_id, body, .. } => {
            check_spec_action(tx, &spec, actor, Action::Discuss)?;
            own_comment(tx, *comment_id, actor)?;
            tx.execute(
                "UPDATE comments SET body = ?1, edited_at = ?2 WHERE id = ?3",
                params![body, at.as_millis(), comment_id.to_string()],
            )?;
            Ok(())
        }
        RedactComment { comment_id, .. } => {
            check_spec_action(tx, &spec, actor, Action::Discuss)?;
            own_comment(tx, *comment_id, actor)?;
            tx.execute(
                "UPDATE comments SET body = '', redacted = 1, edited_at = ?1 WHERE id = ?2",
                params![at.as_millis(), comment_id.to_string()],
            )?;
            Ok(())
        }
        SetThreadState { thread_id, event, .. } => {
            let role = check_spec_action(tx, &spec, actor, Action::Discuss)?;
            thread_in_spec(tx, *thread_id, spec_id)?;
            if *event == ThreadEventKind::Resolve {
                let opened_by: String =
                    tx.query_row("SELECT created_by FROM threads WHERE id = ?1", [thread_id.to_string()], |r| r.get(0))?;
                let assigned = spec.assignees.contains(&actor.email);
                handoff_core::lifecycle::check_resolve(role, assigned, opened_by == actor.email, spec.status)?;
            }
            tx.execute(
                "UPDATE threads SET resolved = ?1, events = events + 1 WHERE id = ?2",
                params![matches!(event, ThreadEventKind::Resolve), thread_id.to_string()],
            )?;
            let kind = match event {
                ThreadEventKind::Resolve => ThreadHistoryKind::Resolve,
                ThreadEventKind::Reopen => ThreadHistoryKind::Reopen,
            };
            append_history(tx, *thread_id, kind, actor, at, None)
        }
        PublishReview { review_id, revision_id, verdict, summary, criteria, .. } => {
            check_spec_action(tx, &spec, actor, Action::Review)?;
            revision_in_spec(tx, *revision_id, spec_id)?;
            let review = Review {
                criteria: criteria.iter().cloned().map(CriterionVerdict::from).collect(),
                ..new_review(*review_id, *revision_id, spec_id, *verdict, summary, actor, at)
            };
            upsert_review(tx, &review)
        }
        PublishReviewV2 { review_id, revision_id, verdict, summary, criteria, threads, replies, .. } => {
            check_spec_action(tx, &spec, actor, Action::Review)?;
            revision_in_spec(tx, *revision_id, spec_id)?;
            for t in threads {
                open_thread(tx, spec_id, t.thread_id, &t.anchor, t.comment_id, &t.body, actor, at)?;
            }
            for r in replies {
                thread_in_spec(tx, r.thread_id, spec_id)?;
                upsert_comment(tx, &new_comment(r.comment_id, r.thread_id, &r.body, actor, at), spec_id)?;
            }
            let review = Review {
                criteria: criteria.clone(),
                threads: threads.iter().map(|t| t.thread_id).collect(),
                replies: replies.iter().map(|r| r.comment_id).collect(),
                ..new_review(*review_id, *revision_id, spec_id, *verdict, summary, actor, at)
            };
            upsert_review(tx, &review)
        }
        CreateSpec { .. } => unreachable_create(),
    }
}

/// `CreateSpec` returns early above; reaching the match arm would be a logic error, reported
/// as a damaged-state error rather than a panic.
fn unreachable_create() -> Result<()> {
    Err(ClientError::Corrupt("spec creation reached the edit path".into()))
}

fn validate_assignees(spec: &Spec) -> Result<()> {
    if spec.assignees.len() > validate::limits::ASSIGNEES {
        return Err(ClientError::Rule(CoreError::TooLong {
            field: "assignees",
            actual: spec.assignees.len(),
            limit: validate::limits::ASSIGNEES,
            unit: "people",
        }));
    }
    Ok(())
}

fn thread_in_spec(tx: &Transaction<'_>, thread_id: ThreadId, spec_id: SpecId) -> Result<()> {
    let found: Option<String> =
        tx.query_row("SELECT spec_id FROM threads WHERE id = ?1", [thread_id.to_string()], |r| r.get(0)).optional()?;
    match found {
        Some(s) if s == spec_id.to_string() => Ok(()),
        _ => Err(not_found("thread", thread_id)),
    }
}

/// Opens a thread with its first comment (a plain thread, or one a review publishes).
#[allow(clippy::too_many_arguments)]
fn open_thread(
    tx: &Transaction<'_>,
    spec_id: SpecId,
    thread_id: ThreadId,
    anchor: &Anchor,
    comment_id: CommentId,
    body: &str,
    actor: &Actor,
    at: Timestamp,
) -> Result<()> {
    if let Anchor::RevisionLines { revision_id, path, .. } = anchor {
        revision_file(tx, spec_id, *revision_id, path)?;
    }
    let thread = Thread {
        id: thread_id,
        spec_id,
        anchor: anchor.clone(),
        resolved: false,
        created_by: actor.email.clone(),
        created_at: at,
        received_at: None,
    };
    upsert_thread(tx, &thread, 0, &[])?;
    upsert_comment(tx, &new_comment(comment_id, thread_id, body, actor, at), spec_id)
}

/// A comment by the actor, as written now.
fn new_comment(id: CommentId, thread_id: ThreadId, body: &str, actor: &Actor, at: Timestamp) -> Comment {
    Comment {
        id,
        thread_id,
        author: actor.email.clone(),
        body: body.to_owned(),
        created_at: at,
        edited_at: None,
        redacted: false,
        received_at: None,
    }
}

/// The actor's review, before its criteria, threads and replies are filled in.
fn new_review(
    id: ReviewId,
    revision_id: RevisionId,
    spec_id: SpecId,
    verdict: Verdict,
    summary: &str,
    actor: &Actor,
    at: Timestamp,
) -> Review {
    Review {
        id,
        revision_id,
        spec_id,
        reviewer: actor.email.clone(),
        verdict,
        summary: summary.to_owned(),
        criteria: vec![],
        threads: vec![],
        replies: vec![],
        published_at: at,
        received_at: None,
    }
}

/// Checks that `revision_id` is a revision of the spec.
fn revision_in_spec(tx: &Transaction<'_>, revision_id: RevisionId, spec_id: SpecId) -> Result<()> {
    let in_spec: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM revisions WHERE id = ?1 AND spec_id = ?2)",
        params![revision_id.to_string(), spec_id.to_string()],
        |r| r.get(0),
    )?;
    if !in_spec {
        return Err(not_found("revision", revision_id));
    }
    Ok(())
}

/// Checks that `path` is a file of revision `revision_id` of the spec.
fn revision_file(tx: &Transaction<'_>, spec_id: SpecId, revision_id: RevisionId, path: &str) -> Result<()> {
    let has_file: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM revision_files f JOIN revisions r ON r.id = f.revision_id
         WHERE f.revision_id = ?1 AND f.path = ?2 AND r.spec_id = ?3)",
        params![revision_id.to_string(), path, spec_id.to_string()],
        |r| r.get(0),
    )?;
    if !has_file {
        return Err(not_found("file in that revision", path));
    }
    Ok(())
}

/// Only an owner accepts by override, and only along an edge to accepted that exists from
/// where the spec is.
pub(crate) fn check_override(role: Role, status: SpecStatus, from: SpecStatus, to: SpecStatus) -> Result<()> {
    if role != Role::Owner {
        return Err(ClientError::Rule(CoreError::NotAllowed {
            role,
            action: format!("move a spec to {to} by override"),
            assigned: false,
        }));
    }
    if status != from {
        return Err(ClientError::Rule(CoreError::Invalid {
            what: "status change",
            value: format!("{from} → {to}"),
            reason: "the spec is no longer in the status the change started from",
        }));
    }
    from.check_transition(to, role)?;
    Ok(())
}

/// Appends an entry to a thread's history (the local, optimistic copy; the server's replaces
/// it on the next pull).
fn append_history(
    tx: &Transaction<'_>,
    thread_id: ThreadId,
    kind: ThreadHistoryKind,
    actor: &Actor,
    at: Timestamp,
    revision_id: Option<RevisionId>,
) -> Result<()> {
    let entry = ThreadHistoryEntry { kind, by: actor.email.clone(), at, revision_id };
    let entry = serde_json::to_string(&entry).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.prepare_cached("UPDATE threads SET history = json_insert(history, '$[#]', json(?2)) WHERE id = ?1")?
        .execute(params![thread_id.to_string(), entry])?;
    Ok(())
}

/// Inserts or replaces a reviewer's viewed mark on a file.
pub(crate) fn upsert_viewed(tx: &Transaction<'_>, v: &ViewedFile) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO viewed_files (spec_id, reviewer, path, sha256, revision_id, viewed, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        v.spec_id.to_string(),
        v.reviewer,
        v.path,
        v.sha256,
        v.revision_id.to_string(),
        v.viewed,
        v.at.as_millis()
    ])?;
    Ok(())
}

/// Inserts or replaces a spec's acceptance override.
pub(crate) fn upsert_override(tx: &Transaction<'_>, o: &AcceptanceOverride) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO acceptance_overrides (spec_id, revision_id, by, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![o.spec_id.to_string(), o.revision_id.map(|r| r.to_string()), o.by, o.reason, o.at.as_millis()])?;
    Ok(())
}

/// Inserts or replaces a spec's ready override.
pub(crate) fn upsert_ready_override(tx: &Transaction<'_>, o: &ReadyOverride) -> Result<()> {
    let failing = serde_json::to_string(&o.failing).map_err(|e| ClientError::Corrupt(format!("ready override rules: {e}")))?;
    tx.prepare_cached("INSERT OR REPLACE INTO ready_overrides (spec_id, by, reason, failing, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![o.spec_id.to_string(), o.by, o.reason, failing, o.at.as_millis()])?;
    Ok(())
}

fn own_comment(tx: &Transaction<'_>, comment_id: CommentId, actor: &Actor) -> Result<()> {
    let author: Option<String> =
        tx.query_row("SELECT author FROM comments WHERE id = ?1", [comment_id.to_string()], |r| r.get(0)).optional()?;
    match author {
        None => Err(not_found("comment", comment_id)),
        Some(a) if a == actor.email => Ok(()),
        Some(_) => Err(ClientError::Rule(CoreError::Invalid {
            what: "comment",
            value: comment_id.to_string(),
            reason: "only its author may edit or delete a comment",
        })),
    }
}

/// Inserts a new spec aggregate.
pub(crate) fn insert_spec(tx: &Transaction<'_>, spec: &Spec) -> Result<()> {
    tx.execute(
        "INSERT INTO specs (id, workspace_id, title, system_context, api_shape, out_of_scope, notes, status, due_date,
                            created_by, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            spec.id.to_string(),
            spec.workspace_id.to_string(),
            spec.title,
            spec.sections.system_context,
            spec.sections.api_shape,
            spec.sections.out_of_scope,
            spec.sections.notes,
            spec.status.as_str(),
            spec.due_date,
            spec.created_by,
            spec.created_at.as_millis(),
            spec.updated_at.as_millis(),
        ],
    )?;
    save_children(tx, spec)
}

/// Writes a spec aggregate over the stored one (or inserts it): fields, criteria in order,
/// assignees.
pub(crate) fn save_spec(tx: &Transaction<'_>, spec: &Spec) -> Result<()> {
    let changed = tx
        .prepare_cached(
            "UPDATE specs SET workspace_id = ?2, title = ?3, system_context = ?4, api_shape = ?5, out_of_scope = ?6,
                          notes = ?7, status = ?8, due_date = ?9, created_by = ?10, created_at = ?11, updated_at = ?12
         WHERE id = ?1",
        )?
        .execute(params![
            spec.id.to_string(),
            spec.workspace_id.to_string(),
            spec.title,
            spec.sections.system_context,
            spec.sections.api_shape,
            spec.sections.out_of_scope,
            spec.sections.notes,
            spec.status.as_str(),
            spec.due_date,
            spec.created_by,
            spec.created_at.as_millis(),
            spec.updated_at.as_millis(),
        ])?;
    if changed == 0 {
        return insert_spec(tx, spec);
    }
    tx.prepare_cached("DELETE FROM criteria WHERE spec_id = ?1")?.execute([spec.id.to_string()])?;
    tx.prepare_cached("DELETE FROM spec_assignees WHERE spec_id = ?1")?.execute([spec.id.to_string()])?;
    save_children(tx, spec)
}

fn save_children(tx: &Transaction<'_>, spec: &Spec) -> Result<()> {
    let mut crit = tx.prepare_cached("INSERT INTO criteria (id, spec_id, position, text) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, c) in spec.criteria.iter().enumerate() {
        crit.execute(params![c.id.to_string(), spec.id.to_string(), i as i64, c.text])?;
    }
    let mut assignee = tx.prepare_cached("INSERT INTO spec_assignees (spec_id, email) VALUES (?1, ?2)")?;
    for email in &spec.assignees {
        assignee.execute(params![spec.id.to_string(), email])?;
    }
    Ok(())
}

/// Inserts a revision and its manifest.
pub(crate) fn insert_revision(tx: &Transaction<'_>, r: &Revision) -> Result<()> {
    let addresses = serde_json::to_string(&r.addresses).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO revisions (id, deliverable_id, spec_id, number, number_confirmed, summary, addresses, created_by, created_at,
             received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
            r.id.to_string(),
            r.deliverable_id.to_string(),
            r.spec_id.to_string(),
            r.number,
            r.number_confirmed,
            r.summary,
            addresses,
            r.created_by,
            r.created_at.as_millis(),
            r.received_at.map(Timestamp::as_millis),
        ],
    )?;
    let mut file = tx
        .prepare_cached("INSERT INTO revision_files (revision_id, path, sha256, size, executable) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for f in &r.files {
        file.execute(params![r.id.to_string(), f.path, f.sha256, f.size as i64, f.executable])?;
    }
    Ok(())
}

fn to_json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| ClientError::Corrupt(e.to_string()))
}

/// Inserts or replaces a thread with its event count and history.
pub(crate) fn upsert_thread(tx: &Transaction<'_>, t: &Thread, events: u32, history: &[ThreadHistoryEntry]) -> Result<()> {
    let anchor = serde_json::to_string(&t.anchor).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    let history = serde_json::to_string(history).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO threads (id, spec_id, anchor, resolved, events, created_by, created_at, history, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET anchor = excluded.anchor, resolved = excluded.resolved, events = excluded.events,
                                        history = excluded.history, received_at = excluded.received_at",
    )?
    .execute(params![
        t.id.to_string(),
        t.spec_id.to_string(),
        anchor,
        t.resolved,
        events,
        t.created_by,
        t.created_at.as_millis(),
        history,
        t.received_at.map(Timestamp::as_millis)
    ])?;
    Ok(())
}

/// Inserts or replaces a comment.
pub(crate) fn upsert_comment(tx: &Transaction<'_>, c: &Comment, spec_id: SpecId) -> Result<()> {
    upsert_comments(tx, [c], spec_id)
}

/// Inserts or replaces comments of one spec. A pull brings thousands: they are staged in a
/// temp table (plain single-row inserts) and moved with one statement, so SQLite's
/// statement journal, which every trigger-firing statement writes, is paid once per batch
/// instead of once per row.
pub(crate) fn upsert_comments<'a>(
    tx: &Transaction<'_>,
    comments: impl IntoIterator<Item = &'a Comment>,
    spec_id: SpecId,
) -> Result<()> {
    let mut stage = tx.prepare_cached(
        "INSERT INTO temp.pulled_comments (id, thread_id, author, body, created_at, edited_at, redacted, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for c in comments {
        stage.execute(params![
            c.id.to_string(),
            c.thread_id.to_string(),
            c.author,
            c.body,
            c.created_at.as_millis(),
            c.edited_at.map(Timestamp::as_millis),
            c.redacted,
            c.received_at.map(Timestamp::as_millis),
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO comments (id, thread_id, spec_id, author, body, created_at, edited_at, redacted, received_at)
         SELECT id, thread_id, ?1, author, body, created_at, edited_at, redacted, received_at FROM temp.pulled_comments WHERE true
         ON CONFLICT (id) DO UPDATE SET author = excluded.author, body = excluded.body, edited_at = excluded.edited_at,
                                        redacted = excluded.redacted, received_at = excluded.received_at",
    )?
    .execute([spec_id.to_string()])?;
    tx.prepare_cached("DELETE FROM temp.pulled_comments")?.execute([])?;
    Ok(())
}

/// Inserts or replaces a review.
pub(crate) fn upsert_review(tx: &Transaction<'_>, r: &Review) -> Result<()> {
    let (criteria, threads, replies) = (to_json(&r.criteria)?, to_json(&r.threads)?, to_json(&r.replies)?);
    let verdict = read::wire_name(&r.verdict)?;
    tx.prepare_cached(
        "INSERT INTO reviews (id, revision_id, spec_id, reviewer, verdict, summary, criteria, published_at, threads, replies,
                              received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (id) DO UPDATE SET verdict = excluded.verdict, summary = excluded.summary, criteria = excluded.criteria,
                                        threads = excluded.threads, replies = excluded.replies, received_at = excluded.received_at",
    )?
    .execute(params![
        r.id.to_string(),
        r.revision_id.to_string(),
        r.spec_id.to_string(),
        r.reviewer,
        verdict,
        r.summary,
        criteria,
        r.published_at.as_millis(),
        threads,
        replies,
        r.received_at.map(Timestamp::as_millis),
    ])?;
    Ok(())
}
