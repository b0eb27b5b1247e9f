//! The authorization matrix: every mutation kind and endpoint × every role × own/other
//! workspace × assigned/unassigned/closed spec, against what `handoff_core::lifecycle` allows
//! (resolving someone else's thread, a revision listing another workspace's blob, a closed
//! spec's read-only rule); a refused push bumps no scope; and pull returns exactly the scopes
//! the caller may see.

use axum::http::{Method, StatusCode};
use std::collections::BTreeSet;

use handoff_core::lifecycle::{Action, may, may_in, may_resolve};
use handoff_core::protocol::*;
use handoff_core::*;
use serde_json::json;

use crate::support::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Assigned,
    Unassigned,
    /// Assigned to the contractor, then closed by its owner.
    Closed,
    OtherWorkspace,
}

const KINDS: &[&str] = &[
    "spec.create",
    "spec.set_title",
    "spec.edit_section",
    "spec.set_due_date",
    "spec.assign",
    "spec.unassign",
    "criterion.add",
    "criterion.edit",
    "criterion.move",
    "criterion.remove",
    "deliverable.create",
    "revision.create",
    "thread.create",
    "comment.add",
    "comment.edit",
    "comment.redact",
    "thread.set_state",
    "thread.resolve_theirs",
    "revision.foreign_blob",
    "review.publish",
    "review.publish_v2",
    "file.set_viewed",
    // Last: on a closed spec it is the owner's reopen, after which the spec is no longer closed.
    "spec.set_status",
];

fn action_of(kind: &str) -> Action {
    match kind {
        "spec.create" => Action::CreateSpec,
        "spec.assign" | "spec.unassign" => Action::AssignSpec,
        "deliverable.create" | "revision.create" => Action::Deliver,
        "revision.foreign_blob" => Action::Deliver,
        "thread.create" | "comment.add" | "comment.edit" | "comment.redact" | "thread.set_state" | "thread.resolve_theirs" => {
            Action::Discuss
        }
        "review.publish" | "review.publish_v2" => Action::Review,
        "file.set_viewed" => Action::ReadSpec,
        _ => Action::EditSpec,
    }
}

/// The status change the matrix asks for: draft → ready, or a closed spec's reopen.
fn status_edge(target: Target) -> (SpecStatus, SpecStatus) {
    if target == Target::Closed { (SpecStatus::Closed, SpecStatus::Draft) } else { (SpecStatus::Draft, SpecStatus::Ready) }
}

/// What the core rules say.
fn expected_allowed(role: Role, kind: &str, target: Target) -> bool {
    if target == Target::OtherWorkspace || kind == "revision.foreign_blob" {
        // Another workspace's blob is never the pusher's to list, whatever their role.
        return false;
    }
    let assigned = matches!(target, Target::Assigned | Target::Closed);
    let (status, to) = status_edge(target);
    if kind == "spec.create" {
        return may(role, Action::CreateSpec, false);
    }
    if !may(role, Action::ReadSpec, assigned) {
        return false;
    }
    match kind {
        "spec.set_status" => status.roles_for_edge(to).contains(&role),
        "thread.resolve_theirs" => may_resolve(role, assigned, false, status),
        _ => may(role, action_of(kind), assigned) && may_in(status, action_of(kind)),
    }
}

struct Fixture {
    spec: SpecId,
    ws: WorkspaceId,
    revision: RevisionId,
    /// A thread its owner opened.
    owners_thread: ThreadId,
    blob: String,
    blob_size: u64,
    target: Target,
    /// A blob present on the server that only another workspace's revision lists.
    foreign_blob: (String, u64),
}

/// A spec with a criterion, a revision (blob uploaded) and the owner's thread, owned by
/// `owner_token`; assigned to `assign`, and closed when `target` says so.
#[allow(clippy::too_many_arguments)]
async fn fixture(
    app: &TestApp,
    owner_token: &str,
    owner: &mut Device,
    ws: WorkspaceId,
    n: u128,
    assign: Option<&str>,
    target: Target,
    foreign_blob: (String, u64),
) -> Fixture {
    let spec: SpecId = id(n);
    let content = format!("file of spec {n}");
    let blob = sha(content.as_bytes());
    let (s, _) = app
        .call_raw(Method::PUT, &format!("/v1/blobs/{blob}"), Some(owner_token), Some(content.clone().into_bytes()), true)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let mut envs = vec![
        owner.env(create_spec(spec, ws, "Fixture")),
        owner.env(Mutation::CreateDeliverable { deliverable_id: id(n + 1), spec_id: spec }),
        owner.env(Mutation::CreateRevision {
            revision_id: id(n + 2),
            deliverable_id: id(n + 1),
            spec_id: spec,
            files: vec![ManifestEntry {
                path: "a.txt".into(),
                sha256: blob.clone(),
                size: content.len() as u64,
                executable: false,
            }],
            summary: String::new(),
            addresses: vec![],
        }),
    ];
    envs.push(owner.env(Mutation::CreateThread {
        thread_id: id(n + 3),
        spec_id: spec,
        anchor: Anchor::Spec,
        comment_id: id(n + 4),
        body: "The owner asks".into(),
    }));
    if let Some(email) = assign {
        envs.push(owner.env(Mutation::Assign { spec_id: spec, email: email.into() }));
    }
    if target == Target::Closed {
        envs.push(owner.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Draft, to: SpecStatus::Closed }));
    }
    let out = app.push_ok(owner_token, owner.id, &envs).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
    Fixture {
        spec,
        ws,
        revision: id(n + 2),
        owners_thread: id(n + 3),
        blob,
        blob_size: content.len() as u64,
        target,
        foreign_blob,
    }
}

/// Uploads a blob as `token` and lists it in a revision of a new spec of `ws`: present on the
/// server, readable in that workspace only. Returns its hash and size.
async fn blob_in_workspace(app: &TestApp, token: &str, dev: &mut Device, ws: WorkspaceId, n: u128) -> (String, u64) {
    let f = fixture(app, token, dev, ws, n, None, Target::Unassigned, (String::new(), 0)).await;
    (f.blob, f.blob_size)
}

fn mutation(kind: &str, f: &Fixture, n: u128, reviewer_email: &str) -> Mutation {
    let spec_id = f.spec;
    let (thread, deliverable) = (id(n + 50), id(n + 51));
    match kind {
        "spec.create" => create_spec(id(n + 60), f.ws, "New"),
        "spec.set_title" => Mutation::SetTitle { spec_id, title: "T".into() },
        "spec.edit_section" => Mutation::EditSection {
            spec_id,
            section: SectionKind::ApiShape,
            base: "GET /items\n".into(),
            text: "GET /v2/items\n".into(),
        },
        "spec.set_due_date" => Mutation::SetDueDate { spec_id, due_date: Some("2027-01-01".into()) },
        "spec.set_status" => {
            let (from, to) = status_edge(f.target);
            Mutation::SetStatus { spec_id, from, to }
        }
        "spec.assign" => Mutation::Assign { spec_id, email: reviewer_email.into() },
        "spec.unassign" => Mutation::Unassign { spec_id, email: reviewer_email.into() },
        "criterion.add" => Mutation::AddCriterion {
            spec_id,
            criterion_id: id(n + 52),
            text: "Returns 404 for an unknown item".into(),
            after: None,
        },
        "criterion.edit" => Mutation::EditCriterion { spec_id, criterion_id: id(900), text: "Edited".into() },
        "criterion.move" => Mutation::MoveCriterion { spec_id, criterion_id: id(900), after: None },
        "criterion.remove" => Mutation::RemoveCriterion { spec_id, criterion_id: id(900) },
        "deliverable.create" => Mutation::CreateDeliverable { deliverable_id: deliverable, spec_id },
        "revision.create" => Mutation::CreateRevision {
            revision_id: id(n + 53),
            deliverable_id: deliverable,
            spec_id,
            files: vec![ManifestEntry { path: "b.txt".into(), sha256: f.blob.clone(), size: f.blob_size, executable: false }],
            summary: "mine".into(),
            addresses: vec![],
        },
        "thread.create" => {
            Mutation::CreateThread { thread_id: thread, spec_id, anchor: Anchor::Spec, comment_id: id(n + 54), body: "Q".into() }
        }
        "comment.add" => {
            Mutation::AddComment { comment_id: id(n + 55), thread_id: thread, spec_id, body: "A".into(), seen_events: 0 }
        }
        "comment.edit" => Mutation::EditComment { comment_id: id(n + 54), thread_id: thread, spec_id, body: "Q2".into() },
        "comment.redact" => Mutation::RedactComment { comment_id: id(n + 55), thread_id: thread, spec_id },
        "thread.set_state" => {
            Mutation::SetThreadState { event_id: id(n + 56), thread_id: thread, spec_id, event: ThreadEventKind::Resolve }
        }
        "thread.resolve_theirs" => Mutation::SetThreadState {
            event_id: id(n + 62),
            thread_id: f.owners_thread,
            spec_id,
            event: ThreadEventKind::Resolve,
        },
        "revision.foreign_blob" => Mutation::CreateRevision {
            revision_id: id(n + 63),
            deliverable_id: deliverable,
            spec_id,
            files: vec![ManifestEntry {
                path: "theirs.txt".into(),
                sha256: f.foreign_blob.0.clone(),
                size: f.foreign_blob.1,
                executable: false,
            }],
            summary: "someone else's file".into(),
            addresses: vec![],
        },
        "review.publish" => Mutation::PublishReview {
            review_id: id(n + 57),
            revision_id: f.revision,
            spec_id,
            verdict: Verdict::Comment,
            summary: "ok".into(),
            criteria: vec![],
        },
        "review.publish_v2" => Mutation::PublishReviewV2 {
            review_id: id(n + 58),
            revision_id: f.revision,
            spec_id,
            verdict: Verdict::Comment,
            summary: "ok".into(),
            criteria: vec![],
            threads: vec![ReviewThread {
                thread_id: id(n + 59),
                comment_id: id(n + 61),
                anchor: Anchor::RevisionLines {
                    revision_id: f.revision,
                    path: "a.txt".into(),
                    start_line: 1,
                    end_line: 1,
                    side: DiffSide::New,
                    excerpt: String::new(),
                },
                body: "Why?".into(),
            }],
            replies: vec![],
        },
        "file.set_viewed" => Mutation::SetFileViewed {
            spec_id,
            revision_id: f.revision,
            path: "a.txt".into(),
            sha256: f.blob.clone(),
            viewed: true,
        },
        other => panic!("unknown kind {other}"),
    }
}

/// A scope's version, read straight from the database.
async fn scope_version(app: &TestApp, scope: Scope) -> Option<i64> {
    let s = scope.to_string();
    app.state
        .db
        .read(move |db| Box::pin(async move { handoff_server::storage::queries::scope_version(db, &s).await }))
        .await
        .expect("scope version")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_kind_by_every_role_on_every_kind_of_spec() {
    let w = World::sqlite().await;
    let mut owner_dev = Device::new(100);
    let mut other_dev = Device::new(101);
    let actors = [(Role::Owner, &w.owner), (Role::Reviewer, &w.reviewer), (Role::Contractor, &w.contractor)];
    let globex_blob = blob_in_workspace(&w.app, &w.other_owner.token, &mut other_dev, w.other_ws, 200).await;
    let acme_blob = blob_in_workspace(&w.app, &w.owner.token, &mut owner_dev, w.ws, 300).await;
    // Every spec of Acme, and whether it is assigned to the contractor.
    let mut acme_specs: Vec<(SpecId, bool)> = vec![(id(300), false)];
    let mut n: u128 = 1_000;
    for (ai, (role, session)) in actors.iter().enumerate() {
        let mut dev = Device::new(ai as u128 + 1);
        // Edits made after the fixtures were written, as in real use: last writer wins.
        dev.wall += 100_000;
        for target in [Target::Assigned, Target::Unassigned, Target::Closed, Target::OtherWorkspace] {
            n += 1_000;
            let contractor = Some(w.contractor.email.as_str());
            let f = match target {
                Target::Assigned | Target::Closed => {
                    fixture(&w.app, &w.owner.token, &mut owner_dev, w.ws, n, contractor, target, globex_blob.clone()).await
                }
                // Assigned to its owner, so the spec may move to ready, but not to the contractor.
                Target::Unassigned => {
                    let owner = Some(w.owner.email.as_str());
                    fixture(&w.app, &w.owner.token, &mut owner_dev, w.ws, n, owner, target, globex_blob.clone()).await
                }
                Target::OtherWorkspace => {
                    fixture(&w.app, &w.other_owner.token, &mut other_dev, w.other_ws, n, None, target, acme_blob.clone()).await
                }
            };
            if f.ws == w.ws {
                acme_specs.push((f.spec, target != Target::Unassigned));
            }
            let before = scope_version(&w.app, Scope::Spec(f.spec)).await;
            for kind in KINDS {
                let env = dev.env(mutation(kind, &f, n, &w.reviewer.email));
                let out = w.app.push_ok(&session.token, dev.id, &[env]).await;
                let refused = matches!(&out[0], Outcome::Rejected { code: ApiErrorCode::Forbidden | ApiErrorCode::NotFound, .. });
                let want = expected_allowed(*role, kind, target);
                assert_eq!(!refused, want, "{role:?} {kind} on {target:?}: {:?}", out[0]);
                if want {
                    assert_eq!(out[0], Outcome::Applied, "{role:?} {kind} on {target:?}");
                    if *kind == "spec.create" {
                        acme_specs.push((id(n + 60), false));
                    }
                }
            }
            if target == Target::OtherWorkspace {
                // Authorization comes before any write: a stranger's pushes leave the scope as it was.
                assert_eq!(scope_version(&w.app, Scope::Spec(f.spec)).await, before, "{role:?} bumped another workspace's spec");
            }
        }
    }
    // Pull returns exactly the scopes the caller may see, and no record of anything else.
    for (role, session) in actors {
        let pages = w.app.pull_all(&session.token).await;
        for p in &pages {
            for r in &p.records {
                let spec_ws = match r {
                    Record::Spec(s) => Some(s.workspace_id),
                    Record::Workspace(ws) => Some(ws.id),
                    Record::Member(m) => Some(m.workspace_id),
                    _ => None,
                };
                if let Some(ws) = spec_ws {
                    assert_eq!(ws, w.ws, "{role:?} got a record of another workspace: {r:?}");
                }
            }
        }
        let seen: BTreeSet<Scope> = pages.iter().map(|p| p.scope).collect();
        let expected: BTreeSet<Scope> = std::iter::once(Scope::Workspace(w.ws))
            .chain(
                acme_specs
                    .iter()
                    .filter(|(_, assigned)| role != Role::Contractor || *assigned)
                    .map(|(spec, _)| Scope::Spec(*spec)),
            )
            .collect();
        assert_eq!(seen, expected, "{role:?} sees exactly its scopes");
    }
}

/// A member of one workspace who knows the hash of another workspace's file can neither read
/// it nor list it in a revision, and the server does not tell them it exists; uploading the
/// same content makes it theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_workspaces_blob_is_neither_readable_nor_listable_by_its_hash() {
    let w = World::sqlite().await;
    let mut globex = Device::new(1);
    let secret = blob_in_workspace(&w.app, &w.other_owner.token, &mut globex, w.other_ws, 10).await;
    let content = "file of spec 10";
    assert_eq!(secret.0, sha(content.as_bytes()));
    let mut acme = Device::new(2);
    let spec: SpecId = id(100);
    let revision = |dev: &mut Device, n: u128| {
        dev.env(Mutation::CreateRevision {
            revision_id: id(n),
            deliverable_id: id(101),
            spec_id: spec,
            files: vec![ManifestEntry { path: "stolen.txt".into(), sha256: secret.0.clone(), size: secret.1, executable: false }],
            summary: String::new(),
            addresses: vec![],
        })
    };
    let envs = vec![
        acme.env(create_spec(spec, w.ws, "Mine")),
        acme.env(Mutation::CreateDeliverable { deliverable_id: id(101), spec_id: spec }),
        revision(&mut acme, 102),
        acme.env(Mutation::SetTitle { spec_id: spec, title: "Still mine".into() }),
    ];
    let out = w.app.push_ok(&w.owner.token, acme.id, &envs).await;
    assert!(matches!(&out[2], Outcome::Rejected { code: ApiErrorCode::Forbidden, .. }), "{:?}", out[2]);
    assert_eq!((&out[0], &out[1], &out[3]), (&Outcome::Applied, &Outcome::Applied, &Outcome::Applied), "only that mutation");
    let blob_path = format!("/v1/blobs/{}", secret.0);
    let (st, _) = w.app.call_raw(Method::GET, &blob_path, Some(&w.owner.token), None, true).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let ask = || Some(json!({"hashes": [secret.0.clone()]}));
    let (st, body) = w.app.call(Method::POST, "/v1/blobs/missing", Some(&w.owner.token), ask()).await;
    assert_eq!((st, body["missing"].clone()), (StatusCode::OK, json!([secret.0])), "missing for this caller");
    let (st, body) = w.app.call(Method::POST, "/v1/blobs/missing", Some(&w.other_owner.token), ask()).await;
    assert_eq!((st, body["missing"].clone()), (StatusCode::OK, json!([])), "present for its uploader");
    // Having the content is what counts: upload it, and it is Acme's too.
    let (st, _) = w.app.call_raw(Method::PUT, &blob_path, Some(&w.owner.token), Some(content.as_bytes().to_vec()), true).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, body) = w.app.call(Method::POST, "/v1/blobs/missing", Some(&w.owner.token), ask()).await;
    assert_eq!(body["missing"], json!([]));
    let out = w.app.push_ok(&w.owner.token, acme.id, &[revision(&mut acme, 103)]).await;
    assert_eq!(out, vec![Outcome::Applied]);
    let (st, _) = w.app.call_raw(Method::GET, &blob_path, Some(&w.reviewer.token), None, true).await;
    assert_eq!(st, StatusCode::OK, "now listed by a revision Acme's reviewer can see");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_by_every_role_in_own_and_other_workspaces() {
    let w = World::sqlite().await;
    let mut od = Device::new(1);
    let none = || (String::new(), 0);
    let assigned = fixture(&w.app, &w.owner.token, &mut od, w.ws, 10, Some(&w.contractor.email), Target::Assigned, none()).await;
    let unassigned = fixture(&w.app, &w.owner.token, &mut od, w.ws, 20, None, Target::Unassigned, none()).await;
    let mut xd = Device::new(2);
    let other = fixture(&w.app, &w.other_owner.token, &mut xd, w.other_ws, 30, None, Target::OtherWorkspace, none()).await;
    let actors = [(Role::Owner, &w.owner), (Role::Reviewer, &w.reviewer), (Role::Contractor, &w.contractor)];
    for (role, s) in actors {
        let t = Some(s.token.as_str());
        for (ws, own) in [(w.ws, true), (w.other_ws, false)] {
            let (st, _) = w.app.call(Method::GET, &format!("/v1/workspaces/{ws}/members"), t, None).await;
            assert_eq!(st, if own { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{role:?} members own={own}");
            let (st, _) = w
                .app
                .call(
                    Method::POST,
                    &format!("/v1/workspaces/{ws}/invites"),
                    t,
                    Some(json!({"email": "n@x.test", "role": "reviewer"})),
                )
                .await;
            let want = match (own, role) {
                (false, _) => StatusCode::NOT_FOUND,
                (true, Role::Owner) => StatusCode::OK,
                (true, _) => StatusCode::FORBIDDEN,
            };
            assert_eq!(st, want, "{role:?} invite own={own}");
        }
        let promoted = w.app.member("Acme", &format!("promoted-{role}@x.test"), Role::Contractor).await;
        for (ws, user, own) in [(w.ws, promoted.user_id, true), (w.other_ws, w.other_owner.user_id, false)] {
            let path = format!("/v1/workspaces/{ws}/members/{user}/role");
            let (st, _) = w.app.call(Method::PUT, &path, t, Some(json!({"role": "reviewer"}))).await;
            let want = match (own, role) {
                (false, _) => StatusCode::NOT_FOUND,
                (true, Role::Owner) => StatusCode::OK,
                (true, _) => StatusCode::FORBIDDEN,
            };
            assert_eq!(st, want, "{role:?} role change own={own}");
        }
        let victim = w.app.member("Acme", &format!("victim-{role}@x.test"), Role::Reviewer).await;
        let (st, _) = w.app.call(Method::DELETE, &format!("/v1/workspaces/{}/members/{}", w.ws, victim.user_id), t, None).await;
        assert_eq!(
            st,
            if role == Role::Owner { StatusCode::NO_CONTENT } else { StatusCode::FORBIDDEN },
            "{role:?} remove member"
        );
        let (st, _) = w
            .app
            .call(Method::DELETE, &format!("/v1/workspaces/{}/members/{}", w.other_ws, w.other_owner.user_id), t, None)
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{role:?} remove in another workspace");
        for (f, visible) in [(&assigned, true), (&unassigned, role != Role::Contractor), (&other, false)] {
            let (st, _) = w.app.call_raw(Method::GET, &format!("/v1/blobs/{}", f.blob), t, None, true).await;
            assert_eq!(st, if visible { StatusCode::OK } else { StatusCode::NOT_FOUND }, "{role:?} blob of {}", f.spec);
        }
        for (method, path) in [(Method::GET, "/v1/auth/tokens"), (Method::POST, "/v1/blobs/missing")] {
            let body = (method == Method::POST).then(|| json!({"hashes": []}));
            assert_eq!(w.app.call(method, path, t, body).await.0, StatusCode::OK);
        }
        let (st, _) = w.app.call(Method::DELETE, &format!("/v1/auth/tokens/{}", w.other_owner.token_id), t, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{role:?} cannot revoke someone else's token");
    }
    // Without a token, everything but join, login, the probes, the metrics and the OpenAPI
    // document is refused.
    for (method, path) in handoff_server::routes::ROUTES {
        let open = matches!(*path, "/healthz" | "/readyz" | "/metrics" | "/v1/auth/join" | "/v1/auth/login" | "/v1/openapi.json");
        let path = path
            .replace("{id}", &w.ws.to_string())
            .replace("{user_id}", &w.owner.user_id.to_string())
            .replace("{token_id}", "x")
            .replace("{sha256}", &assigned.blob);
        let method: Method = method.to_uppercase().parse().expect("method");
        let (st, body) = w.app.call_raw(method.clone(), &path, None, Some(b"{}".to_vec()), true).await;
        if !open {
            assert_eq!((st, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("unauthorized")), "{method} {path}");
        }
    }
}
