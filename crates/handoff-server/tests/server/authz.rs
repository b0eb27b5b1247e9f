//! The authorization matrix: every mutation kind and endpoint × every role × own/other
//! workspace × assigned/unassigned spec, against what `handoff_core::lifecycle` allows; and pull
//! never returns a record the caller may not see.

use axum::http::{Method, StatusCode};
use handoff_core::lifecycle::{Action, may};
use handoff_core::protocol::*;
use handoff_core::*;
use serde_json::json;

use crate::support::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Assigned,
    Unassigned,
    OtherWorkspace,
}

const KINDS: &[&str] = &[
    "spec.create",
    "spec.set_title",
    "spec.edit_section",
    "spec.set_due_date",
    "spec.set_status",
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
    "review.publish",
    "review.publish_v2",
    "file.set_viewed",
];

fn action_of(kind: &str) -> Action {
    match kind {
        "spec.create" => Action::CreateSpec,
        "spec.assign" | "spec.unassign" => Action::AssignSpec,
        "deliverable.create" | "revision.create" => Action::Deliver,
        "thread.create" | "comment.add" | "comment.edit" | "comment.redact" | "thread.set_state" => Action::Discuss,
        "review.publish" | "review.publish_v2" => Action::Review,
        "file.set_viewed" => Action::ReadSpec,
        _ => Action::EditSpec,
    }
}

/// What the core rules say, for a spec moving draft → ready in the status case.
fn expected_allowed(role: Role, kind: &str, target: Target) -> bool {
    if target == Target::OtherWorkspace {
        return false;
    }
    let assigned = target == Target::Assigned;
    if kind == "spec.create" {
        return may(role, Action::CreateSpec, false);
    }
    if !may(role, Action::ReadSpec, assigned) {
        return false;
    }
    if kind == "spec.set_status" {
        return SpecStatus::Draft.roles_for_edge(SpecStatus::Ready).contains(&role);
    }
    may(role, action_of(kind), assigned)
}

struct Fixture {
    spec: SpecId,
    ws: WorkspaceId,
    revision: RevisionId,
    blob: String,
    blob_size: u64,
}

/// A spec with a criterion, a revision (blob uploaded) and nothing else, owned by `owner_token`.
async fn fixture(
    app: &TestApp,
    owner_token: &str,
    owner: &mut Device,
    ws: WorkspaceId,
    n: u128,
    assign: Option<&str>,
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
    if let Some(email) = assign {
        envs.push(owner.env(Mutation::Assign { spec_id: spec, email: email.into() }));
    }
    let out = app.push_ok(owner_token, owner.id, &envs).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
    Fixture { spec, ws, revision: id(n + 2), blob, blob_size: content.len() as u64 }
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
        "spec.set_status" => Mutation::SetStatus { spec_id, from: SpecStatus::Draft, to: SpecStatus::Ready },
        "spec.assign" => Mutation::Assign { spec_id, email: reviewer_email.into() },
        "spec.unassign" => Mutation::Unassign { spec_id, email: reviewer_email.into() },
        "criterion.add" => Mutation::AddCriterion { spec_id, criterion_id: id(n + 52), text: "More".into(), after: None },
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_kind_by_every_role_on_every_kind_of_spec() {
    let w = World::sqlite().await;
    let mut owner_dev = Device::new(100);
    let mut other_dev = Device::new(101);
    let actors = [(Role::Owner, &w.owner), (Role::Reviewer, &w.reviewer), (Role::Contractor, &w.contractor)];
    let mut n: u128 = 1_000;
    for (ai, (role, session)) in actors.iter().enumerate() {
        let mut dev = Device::new(ai as u128 + 1);
        // Edits made after the fixtures were written, as in real use: last writer wins.
        dev.wall += 100_000;
        for target in [Target::Assigned, Target::Unassigned, Target::OtherWorkspace] {
            n += 1_000;
            let f = match target {
                Target::Assigned => fixture(&w.app, &w.owner.token, &mut owner_dev, w.ws, n, Some(&w.contractor.email)).await,
                Target::Unassigned => fixture(&w.app, &w.owner.token, &mut owner_dev, w.ws, n, None).await,
                Target::OtherWorkspace => fixture(&w.app, &w.other_owner.token, &mut other_dev, w.other_ws, n, None).await,
            };
            for kind in KINDS {
                let env = dev.env(mutation(kind, &f, n, &w.reviewer.email));
                let out = w.app.push_ok(&session.token, dev.id, &[env]).await;
                let refused = matches!(&out[0], Outcome::Rejected { code: ApiErrorCode::Forbidden | ApiErrorCode::NotFound, .. });
                let want = expected_allowed(*role, kind, target);
                assert_eq!(!refused, want, "{role:?} {kind} on {target:?}: {:?}", out[0]);
                if want {
                    assert_eq!(out[0], Outcome::Applied, "{role:?} {kind} on {target:?}");
                }
            }
        }
    }
    // Pull never returns what the caller may not see.
    for (role, session) in actors {
        let pages = w.app.pull_all(&session.token).await;
        for p in &pages {
            match p.scope {
                Scope::Workspace(ws) => assert_eq!(ws, w.ws, "{role:?} got another workspace"),
                Scope::Spec(_) => {}
            }
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
                if role == Role::Contractor
                    && let Record::Spec(s) = r
                {
                    assert!(s.assignees.contains(&w.contractor.email), "a contractor got an unassigned spec {}", s.id);
                }
            }
        }
        let specs = pages
            .iter()
            .filter(|p| matches!(p.scope, Scope::Spec(_)))
            .map(|p| p.scope)
            .collect::<std::collections::BTreeSet<_>>();
        let expected_specs = match role {
            // Own-workspace fixtures (2 per actor) and the 4 specs owner and reviewer created.
            Role::Owner | Role::Reviewer => 6 + 4,
            Role::Contractor => 3,
        };
        assert_eq!(specs.len(), expected_specs, "{role:?} sees {specs:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_by_every_role_in_own_and_other_workspaces() {
    let w = World::sqlite().await;
    let mut od = Device::new(1);
    let assigned = fixture(&w.app, &w.owner.token, &mut od, w.ws, 10, Some(&w.contractor.email)).await;
    let unassigned = fixture(&w.app, &w.owner.token, &mut od, w.ws, 20, None).await;
    let mut xd = Device::new(2);
    let other = fixture(&w.app, &w.other_owner.token, &mut xd, w.other_ws, 30, None).await;
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
    // Without a token, everything but join, login, healthz and the OpenAPI document is refused.
    for (method, path) in handoff_server::routes::ROUTES {
        let open = matches!(*path, "/healthz" | "/v1/auth/join" | "/v1/auth/login" | "/v1/openapi.json");
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
