//! Behaviour cases run on both storage backends: every case runs on SQLite as its own test, and
//! all of them run on PostgreSQL in `postgres_runs_every_case`, each on a fresh database, and
//! again with the blobs in an S3 bucket in `postgres_with_s3_runs_every_case`.

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use handoff_core::protocol::*;
use handoff_core::*;
use serde_json::{Value, json};

use crate::support::pg::PgServer;
use crate::support::*;

on_every_store!(
    sync_round_trip,
    replayed_pushes_return_the_stored_outcomes,
    a_gap_is_refused_naming_the_expected_id,
    a_client_id_belongs_to_one_account,
    rejections_are_recorded_and_advance_the_id,
    withdrawn_mutations_are_recorded_as_refused_and_replay_their_stored_outcome,
    an_older_scalar_write_loses_with_a_conflict_record,
    an_unseen_overwrite_is_applied_and_the_old_value_kept,
    status_changes_are_checked_against_the_stored_status,
    ready_needs_the_readiness_rules_or_an_owners_recorded_override,
    section_edits_apply_or_conflict_without_markers,
    revisions_need_their_blobs_and_are_numbered_at_commit,
    a_reply_without_seeing_a_resolve_reopens_the_thread,
    comments_are_edited_and_redacted_by_their_author_only,
    one_verdict_per_revision_and_reviewer,
    pull_pages_end_on_commit_boundaries,
    lost_access_and_future_cursors_reset_the_scope,
    members_invites_and_removal,
    tokens_expire_and_are_revoked,
    sql_looking_text_is_stored_verbatim,
    concurrent_pushes_are_pulled_gap_free,
    two_owners_removing_each_other_at_once_leave_one,
    roles_change_and_a_workspace_keeps_an_owner,
    members_set_their_own_time_zone_and_hours_and_nobody_elses,
    two_owners_demoting_each_other_at_once_leave_one,
    uploaders_read_what_they_delivered_only_while_they_have_access,
    one_push_reads_its_own_writes,
);

fn outcome_kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Applied => "applied",
        Outcome::Merged => "merged",
        Outcome::Conflict { .. } => "conflict",
        Outcome::Rejected { .. } => "rejected",
    }
}

fn rejected_code(o: &Outcome) -> Option<ApiErrorCode> {
    match o {
        Outcome::Rejected { code, .. } => Some(*code),
        _ => None,
    }
}

/// A push keeps its writes until its end (one statement for many records): what it wrote must
/// still be what it reads, by key and by scan.
async fn one_push_reads_its_own_writes(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let mut c = Device::new(2);
    let question: ThreadId = id(30);
    let ask = c.env(Mutation::CreateThread {
        thread_id: question,
        spec_id: spec,
        anchor: Anchor::Spec,
        comment_id: id(31),
        body: "Negative rows for refunds?".into(),
    });
    w.app.push_ok(&w.contractor.token, c.id, &[ask]).await;
    let reply = |o: &mut Device, body: &str| {
        o.env(Mutation::AddComment { comment_id: id(32), thread_id: question, spec_id: spec, body: body.into(), seen_events: 0 })
    };
    let envs = vec![
        reply(&mut o, "Yes: one negative row per refund."),
        reply(&mut o, "The same id again"),
        o.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Draft, to: SpecStatus::Ready }),
        o.env(Mutation::SetTitle { spec_id: spec, title: "Importer v2".into() }),
    ];
    let out = w.app.push_ok(&w.owner.token, o.id, &envs).await;
    assert_eq!(out[0], Outcome::Applied);
    assert_eq!(
        rejected_code(&out[1]),
        Some(ApiErrorCode::AlreadyExists),
        "a comment written earlier in the push exists: {out:?}"
    );
    assert_eq!(out[2], Outcome::Applied, "readiness (a scan) saw the answer written earlier in the push: {out:?}");
    assert_eq!(out[3], Outcome::Applied);
    let all = w.app.pull_all(&w.contractor.token).await;
    let spec_now = find_spec(&all, spec).expect("the spec");
    assert_eq!((spec_now.title.as_str(), spec_now.status), ("Importer v2", SpecStatus::Ready), "both writes to the spec kept");
    let bodies: Vec<String> = records(&all)
        .into_iter()
        .filter_map(|r| match r {
            Record::Comment(c) => Some(c.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies.len(), 2, "the question and one answer: {bodies:?}");
}

async fn spec_with_contractor(w: &World, owner: &mut Device, spec: SpecId) {
    let ms = [create_spec(spec, w.ws, "Importer"), Mutation::Assign { spec_id: spec, email: w.contractor.email.clone() }];
    let envs: Vec<_> = ms.into_iter().map(|m| owner.env(m)).collect();
    let out = w.app.push_ok(&w.owner.token, owner.id, &envs).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
}

async fn sync_round_trip(app: TestApp) {
    let w = World::on(app).await;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let (thread, comment): (ThreadId, CommentId) = (id(2), id(3));
    let envs = vec![
        dev.env(create_spec(spec, w.ws, "Importer")),
        dev.env(Mutation::AddCriterion {
            spec_id: spec,
            criterion_id: id(901),
            text: "Handles UTF-8".into(),
            after: Some(id(900)),
        }),
        dev.env(Mutation::CreateThread {
            thread_id: thread,
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: comment,
            body: "Which CSV dialect?".into(),
        }),
        dev.env(Mutation::SetDueDate { spec_id: spec, due_date: Some("2026-03-01".into()) }),
    ];
    let out = w.app.push_ok(&w.owner.token, dev.id, &envs).await;
    assert_eq!(out, vec![Outcome::Applied; 4]);
    let pages = w.app.pull_all(&w.reviewer.token).await;
    let s = find_spec(&pages, spec).expect("spec pulled");
    assert_eq!(s.title, "Importer");
    assert_eq!(s.criteria.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), ["Imports CSV", "Handles UTF-8"]);
    assert_eq!(s.due_date.as_deref(), Some("2026-03-01"));
    assert_eq!(s.created_by, "owner@acme.test");
    let recs = records(&pages);
    assert!(recs.iter().any(|r| matches!(r, Record::Thread(t) if t.thread.id == thread && t.events == 0 && !t.thread.resolved)));
    assert!(recs.iter().any(|r| matches!(r, Record::Comment(c) if c.id == comment && c.author == "owner@acme.test")));
    assert!(recs.iter().any(|r| matches!(r, Record::Workspace(ws) if ws.id == w.ws)));
    let members = recs.iter().filter(|r| matches!(r, Record::Member(m) if m.workspace_id == w.ws)).count();
    assert_eq!(members, 3, "owner, reviewer and contractor");
    assert!(!recs.iter().any(|r| matches!(r, Record::Workspace(ws) if ws.id == w.other_ws)), "another workspace never leaks");
}

async fn replayed_pushes_return_the_stored_outcomes(app: TestApp) {
    let w = World::on(app).await;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let first = vec![dev.env(create_spec(spec, w.ws, "One")), dev.env(Mutation::SetTitle { spec_id: spec, title: "   ".into() })];
    let a = w.app.push(&w.owner.token, dev.id, &first).await;
    let b = w.app.push(&w.owner.token, dev.id, &first).await;
    assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(a.1["results"], b.1["results"], "the same push twice answers the same");
    // A push whose response was lost: the client retries with more mutations appended.
    let third = dev.env(Mutation::CreateThread {
        thread_id: id(2),
        spec_id: spec,
        anchor: Anchor::Spec,
        comment_id: id(3),
        body: "once".into(),
    });
    assert_eq!(w.app.push_ok(&w.owner.token, dev.id, std::slice::from_ref(&third)).await, vec![Outcome::Applied]);
    let fourth = dev.env(Mutation::AddComment {
        comment_id: id(4),
        thread_id: id(2),
        spec_id: spec,
        body: "twice?".into(),
        seen_events: 0,
    });
    let out = w.app.push_ok(&w.owner.token, dev.id, &[third, fourth]).await;
    assert_eq!(out, vec![Outcome::Applied, Outcome::Applied]);
    let pages = w.app.pull_all(&w.owner.token).await;
    let comments = records(&pages).into_iter().filter(|r| matches!(r, Record::Comment(_))).count();
    assert_eq!(comments, 2, "the replayed thread was not created twice");
    let specs = records(&pages).into_iter().filter(|r| matches!(r, Record::Spec(_))).count();
    assert_eq!(specs, 1);
}

async fn a_gap_is_refused_naming_the_expected_id(app: TestApp) {
    let w = World::on(app).await;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let one = dev.env(create_spec(spec, w.ws, "One"));
    w.app.push_ok(&w.owner.token, dev.id, &[one]).await;
    dev.next = 3;
    let three = dev.env(Mutation::SetTitle { spec_id: spec, title: "Three".into() });
    let (status, body) = w.app.push(&w.owner.token, dev.id, &[three]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "mutation_gap");
    assert!(body["message"].as_str().unwrap_or_default().contains("next must be 2"), "{body}");
    assert_eq!(body["recorded"], 1, "the answer says what the server has, for a client to resend the rest: {body}");
    let s = find_spec(&w.app.pull_all(&w.owner.token).await, spec).expect("spec");
    assert_eq!(s.title, "One", "nothing from the refused push was applied");
}

async fn a_client_id_belongs_to_one_account(app: TestApp) {
    let w = World::on(app).await;
    let mut dev = Device::new(1);
    let e = dev.env(create_spec(id(1), w.ws, "Mine"));
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    let e2 = dev.env(Mutation::SetTitle { spec_id: id(1), title: "Theirs".into() });
    let (status, body) = w.app.push(&w.reviewer.token, dev.id, &[e2]).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{body}");
}

async fn withdrawn_mutations_are_recorded_as_refused_and_replay_their_stored_outcome(app: TestApp) {
    let w = World::on(app).await;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let one = dev.env(create_spec(spec, w.ws, "One"));
    let two = dev.env(Mutation::SetTitle { spec_id: spec, title: "Two".into() });
    let three = dev.env(Mutation::SetTitle { spec_id: spec, title: "Three".into() });
    w.app.push_ok(&w.owner.token, dev.id, std::slice::from_ref(&one)).await;
    let withdraw = |m: &MutationEnvelope, code| Withdrawal {
        mutation_id: m.mutation_id,
        kind: m.mutation.kind().into(),
        spec_id: spec,
        code,
        message: "it is over the server's limit".into(),
    };
    // Id 2 withdrawn, id 3 sent behind it in the same push.
    let req = PushRequest {
        client_id: dev.id,
        withdrawn: vec![withdraw(&two, ApiErrorCode::TooLarge)],
        mutations: vec![three.clone()],
    };
    let (status, body) =
        w.app.call(Method::POST, "/v1/push", Some(&w.owner.token), Some(serde_json::to_value(&req).expect("json"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp: PushResponse = serde_json::from_value(body).expect("push response");
    assert_eq!(resp.results.iter().map(|r| r.mutation_id).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(rejected_code(&resp.results[0].outcome), Some(ApiErrorCode::TooLarge));
    assert_eq!(outcome_kind(&resp.results[1].outcome), "applied");
    // Withdrawing an id the server already recorded answers what it recorded.
    let again = PushRequest { client_id: dev.id, withdrawn: vec![withdraw(&one, ApiErrorCode::TooLarge)], mutations: vec![] };
    let (status, body) =
        w.app.call(Method::POST, "/v1/push", Some(&w.owner.token), Some(serde_json::to_value(&again).expect("json"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resp: PushResponse = serde_json::from_value(body).expect("push response");
    assert_eq!(outcome_kind(&resp.results[0].outcome), "applied", "id 1 stays applied");
    let s = find_spec(&w.app.pull_all(&w.owner.token).await, spec).expect("spec");
    assert_eq!(s.title, "Three");
    // A client may withdraw only for the reasons a client can have.
    let mut dev2 = Device::new(2);
    let first = dev2.env(Mutation::SetTitle { spec_id: spec, title: "x".into() });
    let bad = PushRequest { client_id: dev2.id, withdrawn: vec![withdraw(&first, ApiErrorCode::Forbidden)], mutations: vec![] };
    let (status, body) =
        w.app.call(Method::POST, "/v1/push", Some(&w.owner.token), Some(serde_json::to_value(&bad).expect("json"))).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")), "{body}");
}

async fn rejections_are_recorded_and_advance_the_id(app: TestApp) {
    let w = World::on(app).await;
    let mut owner = Device::new(1);
    let spec: SpecId = id(1);
    let e = owner.env(create_spec(spec, w.ws, "One"));
    w.app.push_ok(&w.owner.token, owner.id, &[e]).await;
    let mut c = Device::new(2);
    let envs = vec![
        c.env(Mutation::SetTitle { spec_id: spec, title: "Contractor title".into() }),
        c.env(Mutation::SetTitle { spec_id: id(77), title: "Unknown spec".into() }),
        c.env(Mutation::SetTitle { spec_id: spec, title: "x".repeat(300) }),
    ];
    let out = w.app.push_ok(&w.contractor.token, c.id, &envs).await;
    assert_eq!(
        out.iter().map(rejected_code).collect::<Vec<_>>(),
        vec![Some(ApiErrorCode::Forbidden), Some(ApiErrorCode::NotFound), Some(ApiErrorCode::TooLarge)]
    );
    // The ids advanced: the next push continues at 4, and a replay answers the same rejections.
    let next = c.env(Mutation::SetTitle { spec_id: spec, title: "again".into() });
    assert_eq!(next.mutation_id, 4);
    let out2 = w.app.push_ok(&w.contractor.token, c.id, &[envs[0].clone(), envs[1].clone(), envs[2].clone(), next]).await;
    assert_eq!(&out2[..3], &out[..]);
    let s = find_spec(&w.app.pull_all(&w.owner.token).await, spec).expect("spec");
    assert_eq!(s.title, "One");
}

async fn an_older_scalar_write_loses_with_a_conflict_record(app: TestApp) {
    let w = World::on(app).await;
    let (mut a, mut b) = (Device::new(1), Device::new(2));
    let spec: SpecId = id(1);
    let e = a.env(create_spec(spec, w.ws, "Start"));
    w.app.push_ok(&w.owner.token, a.id, &[e]).await;
    a.wall += 1_000;
    let ea = a.env(Mutation::SetTitle { spec_id: spec, title: "A's title".into() });
    w.app.push_ok(&w.owner.token, a.id, &[ea]).await;
    b.wall += 500; // B edited offline before A did, and syncs later
    let eb = b.env(Mutation::SetTitle { spec_id: spec, title: "B's title".into() });
    let out = w.app.push_ok(&w.reviewer.token, b.id, &[eb]).await;
    let Outcome::Conflict { conflict_id, .. } = &out[0] else { panic!("expected a conflict, got {out:?}") };
    let pages = w.app.pull_all(&w.owner.token).await;
    assert_eq!(find_spec(&pages, spec).expect("spec").title, "A's title");
    let conflict = records(&pages)
        .into_iter()
        .find_map(|r| match r {
            Record::Conflict(c) if c.id == *conflict_id => Some(c.clone()),
            _ => None,
        })
        .expect("conflict record pulled");
    assert_eq!(
        conflict.detail,
        ConflictDetail::Overwritten { field: "title".into(), overwritten: json!("B's title"), kept: json!("A's title") }
    );
    assert_eq!(conflict.author, "reviewer@acme.test");
}

async fn an_unseen_overwrite_is_applied_and_the_old_value_kept(app: TestApp) {
    let w = World::on(app).await;
    let (mut a, mut b) = (Device::new(1), Device::new(2));
    let spec: SpecId = id(1);
    let e = a.env(create_spec(spec, w.ws, "Start"));
    w.app.push_ok(&w.owner.token, a.id, &[e]).await;
    a.wall += 100;
    let ea = a.env(Mutation::SetDueDate { spec_id: spec, due_date: Some("2026-02-01".into()) });
    // A's edit reaches the server ten seconds after it was made.
    w.app.clock.advance(10_000);
    w.app.push_ok(&w.owner.token, a.id, &[ea]).await;
    // B edited after A (by HLC) but before A's edit reached the server: B never saw it.
    b.wall += 200;
    let eb = b.env(Mutation::SetDueDate { spec_id: spec, due_date: Some("2026-04-01".into()) });
    assert_eq!(w.app.push_ok(&w.reviewer.token, b.id, &[eb]).await, vec![Outcome::Applied]);
    let pages = w.app.pull_all(&w.owner.token).await;
    assert_eq!(find_spec(&pages, spec).expect("spec").due_date.as_deref(), Some("2026-04-01"));
    let kept = records(&pages).into_iter().find_map(|r| match r {
        Record::Conflict(c) => Some(c.detail.clone()),
        _ => None,
    });
    assert_eq!(
        kept,
        Some(ConflictDetail::Overwritten {
            field: "due_date".into(),
            overwritten: json!("2026-02-01"),
            kept: json!("2026-04-01")
        })
    );
}

async fn status_changes_are_checked_against_the_stored_status(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let e = o.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Draft, to: SpecStatus::Ready });
    assert_eq!(w.app.push_ok(&w.owner.token, o.id, &[e]).await, vec![Outcome::Applied]);
    let mut r = Device::new(2);
    let stale = r.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Draft, to: SpecStatus::Ready });
    let wrong_role = r.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Ready, to: SpecStatus::InProgress });
    let out = w.app.push_ok(&w.reviewer.token, r.id, &[stale, wrong_role]).await;
    match &out[0] {
        Outcome::Rejected { code: ApiErrorCode::Invalid, message } => {
            assert!(message.contains("the spec is ready now, not draft"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rejected_code(&out[1]), Some(ApiErrorCode::Forbidden));
    let mut c = Device::new(3);
    let start = c.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Ready, to: SpecStatus::InProgress });
    assert_eq!(w.app.push_ok(&w.contractor.token, c.id, &[start]).await, vec![Outcome::Applied]);
    let s = find_spec(&w.app.pull_all(&w.contractor.token).await, spec).expect("assigned spec visible");
    assert_eq!(s.status, SpecStatus::InProgress);
}

async fn ready_needs_the_readiness_rules_or_an_owners_recorded_override(app: TestApp) {
    let w = World::on(app).await;
    let (mut o, mut r, mut c) = (Device::new(1), Device::new(2), Device::new(3));
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    // The contractor asks on the API shape: an open question blocks readiness.
    let ask = c.env(Mutation::CreateThread {
        thread_id: id(10),
        spec_id: spec,
        anchor: Anchor::SpecSection { section: SectionKind::ApiShape },
        comment_id: id(11),
        body: "Are quoted newlines allowed inside a field?".into(),
    });
    assert_eq!(w.app.push_ok(&w.contractor.token, c.id, &[ask]).await, vec![Outcome::Applied]);
    let vague =
        o.env(Mutation::AddCriterion { spec_id: spec, criterion_id: id(12), text: "Parsing is fast".into(), after: None });
    assert_eq!(w.app.push_ok(&w.owner.token, o.id, &[vague]).await, vec![Outcome::Applied]);
    let ready = |d: &mut Device| d.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Draft, to: SpecStatus::Ready });
    let out = w.app.push_ok(&w.reviewer.token, r.id, &[ready(&mut r)]).await;
    match &out[0] {
        Outcome::Rejected { code: ApiErrorCode::Invalid, message } => {
            assert!(message.contains("not ready to hand off"), "{message}");
            assert!(message.contains("“fast” is vague"), "{message}");
            assert!(message.contains("“Are quoted newlines allowed inside a field?” has no answer yet"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A reviewer may not override; an owner may, and the failing rules are recorded.
    let by_reviewer = r.env(Mutation::ReadyWithOverride { spec_id: spec, from: SpecStatus::Draft, reason: "go".into() });
    assert_eq!(rejected_code(&w.app.push_ok(&w.reviewer.token, r.id, &[by_reviewer]).await[0]), Some(ApiErrorCode::Forbidden));
    // The owner answers and fixes the criterion: the rules pass and a plain move is accepted.
    let answer = o.env(Mutation::AddComment {
        comment_id: id(13),
        thread_id: id(10),
        spec_id: spec,
        body: "Yes, RFC 4180 quoting.".into(),
        seen_events: 0,
    });
    let fix = o.env(Mutation::EditCriterion { spec_id: spec, criterion_id: id(12), text: "Parses 1 GB in under 20 s".into() });
    assert_eq!(w.app.push_ok(&w.owner.token, o.id, &[answer, fix]).await, vec![Outcome::Applied, Outcome::Applied]);
    assert_eq!(w.app.push_ok(&w.reviewer.token, r.id, &[ready(&mut r)]).await, vec![Outcome::Applied]);
    // Back to draft, the due date cleared: only the owner's override moves it, on the record.
    let back = o.env(Mutation::SetStatus { spec_id: spec, from: SpecStatus::Ready, to: SpecStatus::Draft });
    let undated = o.env(Mutation::SetDueDate { spec_id: spec, due_date: None });
    let anyway =
        o.env(Mutation::ReadyWithOverride { spec_id: spec, from: SpecStatus::Draft, reason: "Date agreed on the call".into() });
    let out = w.app.push_ok(&w.owner.token, o.id, &[back, undated, anyway]).await;
    assert!(out.iter().all(|x| *x == Outcome::Applied), "{out:?}");
    let pages = w.app.pull_all(&w.contractor.token).await;
    let overrides: Vec<&ReadyOverride> = pages
        .iter()
        .flat_map(|p| &p.records)
        .filter_map(|rec| match rec {
            Record::ReadyOverride(x) => Some(x),
            _ => None,
        })
        .collect();
    assert_eq!(overrides.len(), 1, "{overrides:?}");
    assert_eq!(
        (overrides[0].by.as_str(), overrides[0].reason.as_str(), overrides[0].failing.as_slice()),
        (w.owner.email.as_str(), "Date agreed on the call", &[handoff_core::readiness::ReadinessRule::DueDate][..])
    );
    assert_eq!(find_spec(&pages, spec).expect("spec").status, SpecStatus::Ready);
}

async fn section_edits_apply_or_conflict_without_markers(app: TestApp) {
    let w = World::on(app).await;
    let (mut a, mut b) = (Device::new(1), Device::new(2));
    let spec: SpecId = id(1);
    let e = a.env(create_spec(spec, w.ws, "Sections"));
    w.app.push_ok(&w.owner.token, a.id, &[e]).await;
    let base = "GET /items\n".to_owned();
    let ea = a.env(Mutation::EditSection {
        spec_id: spec,
        section: SectionKind::ApiShape,
        base: base.clone(),
        text: "GET /items?page=1\n".into(),
    });
    assert_eq!(w.app.push_ok(&w.owner.token, a.id, &[ea]).await, vec![Outcome::Applied]);
    let same = a.env(Mutation::EditSection {
        spec_id: spec,
        section: SectionKind::ApiShape,
        base: base.clone(),
        text: "GET /items?page=1\n".into(),
    });
    assert_eq!(
        w.app.push_ok(&w.owner.token, a.id, &[same]).await,
        vec![Outcome::Applied],
        "an edit equal to the stored text is a no-op"
    );
    // A clean 3-way merge with an edit the author had not seen: `merged`.
    let en = a.env(Mutation::EditSection {
        spec_id: spec,
        section: SectionKind::Notes,
        base: String::new(),
        text: "one\ntwo\nthree\n".into(),
    });
    w.app.push_ok(&w.owner.token, a.id, &[en]).await;
    let mut c = Device::new(3);
    let mine = c.env(Mutation::EditSection {
        spec_id: spec,
        section: SectionKind::Notes,
        base: "one\ntwo\nthree\n".into(),
        text: "ONE\ntwo\nthree\n".into(),
    });
    let theirs = b.env(Mutation::EditSection {
        spec_id: spec,
        section: SectionKind::Notes,
        base: "one\ntwo\nthree\n".into(),
        text: "one\ntwo\nTHREE\n".into(),
    });
    assert_eq!(w.app.push_ok(&w.owner.token, c.id, &[mine]).await, vec![Outcome::Applied]);
    assert_eq!(w.app.push_ok(&w.reviewer.token, b.id, &[theirs]).await, vec![Outcome::Merged]);
    let eb = b.env(Mutation::EditSection { spec_id: spec, section: SectionKind::ApiShape, base, text: "GET /things\n".into() });
    let out = w.app.push_ok(&w.reviewer.token, b.id, &[eb]).await;
    assert_eq!(outcome_kind(&out[0]), "conflict", "{out:?}");
    let pages = w.app.pull_all(&w.owner.token).await;
    let s = find_spec(&pages, spec).expect("spec");
    assert_eq!(s.sections.api_shape, "GET /items?page=1\n");
    assert!(!s.sections.api_shape.contains("<<<<<<<"));
    assert_eq!(s.sections.notes, "ONE\ntwo\nTHREE\n");
    let detail = records(&pages).into_iter().find_map(|r| match r {
        Record::Conflict(c) => Some(c.detail.clone()),
        _ => None,
    });
    assert_eq!(
        detail,
        Some(ConflictDetail::Section {
            section: SectionKind::ApiShape,
            base: "GET /items\n".into(),
            theirs: "GET /items?page=1\n".into(),
            ours: "GET /things\n".into()
        })
    );
}

async fn put_blob(app: &TestApp, token: &str, content: &[u8], claimed: &str) -> (StatusCode, Value) {
    let (s, v) = app.call_raw(Method::PUT, &format!("/v1/blobs/{claimed}"), Some(token), Some(content.to_vec()), true).await;
    (s, v)
}

async fn revisions_need_their_blobs_and_are_numbered_at_commit(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let (mut c1, mut c2) = (Device::new(2), Device::new(3));
    let deliverable: DeliverableId = id(10);
    let content = b"fn main() {}\n";
    let hash = sha(content);
    let files =
        vec![ManifestEntry { path: "src/main.rs".into(), sha256: hash.clone(), size: content.len() as u64, executable: false }];
    let rev = |n: u128| Mutation::CreateRevision {
        revision_id: id(n),
        deliverable_id: deliverable,
        spec_id: spec,
        files: files.clone(),
        summary: "first cut".into(),
        addresses: vec![],
    };
    let envs = vec![c1.env(Mutation::CreateDeliverable { deliverable_id: deliverable, spec_id: spec }), c1.env(rev(11))];
    let (status, body) = w.app.push(&w.contractor.token, c1.id, &envs).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "blobs_missing");
    assert_eq!(body["missing"], json!([hash]));
    let (missing_status, missing) =
        w.app.call(Method::POST, "/v1/blobs/missing", Some(&w.contractor.token), Some(json!({"hashes": [hash, hash]}))).await;
    assert_eq!((missing_status, missing), (StatusCode::OK, json!({"missing": [hash]})));
    assert_eq!(put_blob(&w.app, &w.contractor.token, b"something else", &hash).await.1["code"], "hash_mismatch");
    assert_eq!(put_blob(&w.app, &w.contractor.token, content, &hash).await.0, StatusCode::NO_CONTENT);
    // The same push, retried after the upload, applies whole.
    assert_eq!(w.app.push_ok(&w.contractor.token, c1.id, &envs).await, vec![Outcome::Applied, Outcome::Applied]);
    // A second device's offline "revision 1" becomes revision 2.
    let e2 = c2.env(rev(12));
    assert_eq!(w.app.push_ok(&w.contractor.token, c2.id, &[e2]).await, vec![Outcome::Applied]);
    let pages = w.app.pull_all(&w.reviewer.token).await;
    let mut numbers: Vec<(RevisionId, u32)> = records(&pages)
        .into_iter()
        .filter_map(|r| match r {
            Record::Revision(r) => Some((r.id, r.number)),
            _ => None,
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, vec![(id(11), 1), (id(12), 2)]);
    let (s, _) = w.app.call_raw(Method::GET, &format!("/v1/blobs/{hash}"), Some(&w.reviewer.token), None, true).await;
    assert_eq!(s, StatusCode::OK, "a reviewer sees blobs of revisions in their workspace");
    let (s, body) = w.app.call_raw(Method::GET, &format!("/v1/blobs/{hash}"), Some(&w.other_owner.token), None, true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
}

fn thread_state(pages: &[ScopePage], thread: ThreadId) -> Option<(bool, u32)> {
    records(pages).into_iter().rev().find_map(|r| match r {
        Record::Thread(t) if t.thread.id == thread => Some((t.thread.resolved, t.events)),
        _ => None,
    })
}

async fn a_reply_without_seeing_a_resolve_reopens_the_thread(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let thread: ThreadId = id(20);
    let envs = vec![
        o.env(Mutation::CreateThread {
            thread_id: thread,
            spec_id: spec,
            anchor: Anchor::SpecSection { section: SectionKind::ApiShape },
            comment_id: id(21),
            body: "Paging?".into(),
        }),
        o.env(Mutation::SetThreadState { event_id: id(22), thread_id: thread, spec_id: spec, event: ThreadEventKind::Resolve }),
    ];
    w.app.push_ok(&w.owner.token, o.id, &envs).await;
    assert_eq!(thread_state(&w.app.pull_all(&w.owner.token).await, thread), Some((true, 1)));
    let mut c = Device::new(2);
    let reply = c.env(Mutation::AddComment {
        comment_id: id(23),
        thread_id: thread,
        spec_id: spec,
        body: "Not answered yet".into(),
        seen_events: 0,
    });
    assert_eq!(w.app.push_ok(&w.contractor.token, c.id, &[reply]).await, vec![Outcome::Applied]);
    assert_eq!(thread_state(&w.app.pull_all(&w.owner.token).await, thread), Some((false, 2)), "reopened by an event");
    let resolve =
        o.env(Mutation::SetThreadState { event_id: id(24), thread_id: thread, spec_id: spec, event: ThreadEventKind::Resolve });
    w.app.push_ok(&w.owner.token, o.id, &[resolve]).await;
    let seen = c.env(Mutation::AddComment {
        comment_id: id(25),
        thread_id: thread,
        spec_id: spec,
        body: "Thanks".into(),
        seen_events: 3,
    });
    w.app.push_ok(&w.contractor.token, c.id, &[seen]).await;
    assert_eq!(
        thread_state(&w.app.pull_all(&w.owner.token).await, thread),
        Some((true, 3)),
        "a reply that saw the resolve leaves it resolved"
    );
}

async fn comments_are_edited_and_redacted_by_their_author_only(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    let (thread, comment): (ThreadId, CommentId) = (id(2), id(3));
    let envs = vec![
        o.env(create_spec(spec, w.ws, "C")),
        o.env(Mutation::CreateThread {
            thread_id: thread,
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: comment,
            body: "v1".into(),
        }),
    ];
    w.app.push_ok(&w.owner.token, o.id, &envs).await;
    let mut r = Device::new(2);
    let steal = r.env(Mutation::EditComment { comment_id: comment, thread_id: thread, spec_id: spec, body: "mine now".into() });
    let redact = r.env(Mutation::RedactComment { comment_id: comment, thread_id: thread, spec_id: spec });
    let out = w.app.push_ok(&w.reviewer.token, r.id, &[steal, redact]).await;
    assert_eq!(out.iter().map(rejected_code).collect::<Vec<_>>(), vec![Some(ApiErrorCode::Forbidden); 2]);
    let envs = vec![
        o.env(Mutation::EditComment { comment_id: comment, thread_id: thread, spec_id: spec, body: "v2".into() }),
        o.env(Mutation::RedactComment { comment_id: comment, thread_id: thread, spec_id: spec }),
        o.env(Mutation::EditComment { comment_id: comment, thread_id: thread, spec_id: spec, body: "v3".into() }),
    ];
    let out = w.app.push_ok(&w.owner.token, o.id, &envs).await;
    assert_eq!(out.iter().map(outcome_kind).collect::<Vec<_>>(), ["applied", "applied", "rejected"]);
    let c = records(&w.app.pull_all(&w.owner.token).await)
        .into_iter()
        .find_map(|r| match r {
            Record::Comment(c) if c.id == comment => Some(c.clone()),
            _ => None,
        })
        .expect("redacted comments still come");
    assert!(c.redacted);
    assert_eq!(c.body, "");
}

async fn one_verdict_per_revision_and_reviewer(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let mut c = Device::new(2);
    let content = b"x";
    let hash = sha(content);
    assert_eq!(put_blob(&w.app, &w.contractor.token, content, &hash).await.0, StatusCode::NO_CONTENT);
    let envs = vec![
        c.env(Mutation::CreateDeliverable { deliverable_id: id(10), spec_id: spec }),
        c.env(Mutation::CreateRevision {
            revision_id: id(11),
            deliverable_id: id(10),
            spec_id: spec,
            files: vec![ManifestEntry { path: "x".into(), sha256: hash, size: 1, executable: false }],
            summary: String::new(),
            addresses: vec![],
        }),
    ];
    assert_eq!(w.app.push_ok(&w.contractor.token, c.id, &envs).await, vec![Outcome::Applied; 2]);
    let review = |n: u128, verdict| Mutation::PublishReview {
        review_id: id(n),
        revision_id: id(11),
        spec_id: spec,
        verdict,
        summary: format!("review {n}"),
        criteria: vec![],
    };
    let (mut laptop, mut phone) = (Device::new(3), Device::new(4));
    laptop.wall += 5_000;
    let newer = laptop.env(review(30, Verdict::Approve));
    phone.wall += 1_000;
    let older = phone.env(review(31, Verdict::RequestChanges));
    assert_eq!(w.app.push_ok(&w.reviewer.token, laptop.id, &[newer]).await, vec![Outcome::Applied]);
    assert_eq!(outcome_kind(&w.app.push_ok(&w.reviewer.token, phone.id, &[older]).await[0]), "conflict");
    let mut c2 = Device::new(5);
    let by_contractor = c2.env(review(32, Verdict::Approve));
    assert_eq!(
        rejected_code(&w.app.push_ok(&w.contractor.token, c2.id, &[by_contractor]).await[0]),
        Some(ApiErrorCode::Forbidden)
    );
    let reviews: Vec<Review> = records(&w.app.pull_all(&w.owner.token).await)
        .into_iter()
        .filter_map(|r| match r {
            Record::Review(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].verdict, Verdict::Approve);
}

async fn pull_pages_end_on_commit_boundaries(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    let mut first = vec![
        o.env(create_spec(spec, w.ws, "Big")),
        o.env(Mutation::CreateThread {
            thread_id: id(2),
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: id(3),
            body: "0".into(),
        }),
    ];
    for n in 0..10u128 {
        first.push(o.env(Mutation::AddComment {
            comment_id: id(100 + n),
            thread_id: id(2),
            spec_id: spec,
            body: format!("c{n}"),
            seen_events: 0,
        }));
    }
    w.app.push_ok(&w.owner.token, o.id, &first).await;
    for batch in 0..3u128 {
        let envs: Vec<_> = (0..4u128)
            .map(|n| {
                o.env(Mutation::AddComment {
                    comment_id: id(200 + batch * 10 + n),
                    thread_id: id(2),
                    spec_id: spec,
                    body: format!("b{batch}{n}"),
                    seen_events: 0,
                })
            })
            .collect();
        w.app.push_ok(&w.owner.token, o.id, &envs).await;
    }
    // Skip the workspace scope so the numbers below are about the spec alone.
    let mut cursors = BTreeMap::new();
    let ws_version = w
        .app
        .pull_all(&w.owner.token)
        .await
        .iter()
        .filter(|p| p.scope == Scope::Workspace(w.ws))
        .map(|p| p.to_version)
        .max()
        .expect("ws");
    cursors.insert(Scope::Workspace(w.ws), ws_version);
    let req = PullRequest { cursors: cursors.clone(), limit: 5 };
    let (_, body) =
        w.app.call(Method::POST, "/v1/pull", Some(&w.owner.token), Some(serde_json::to_value(&req).expect("json"))).await;
    let page: PullResponse = serde_json::from_value(body).expect("pull");
    assert!(page.more);
    assert_eq!(page.pages.len(), 1);
    assert_eq!(
        page.pages[0].records.len(),
        24,
        "the first commit (spec, thread, 11 comments, and the inbox activity of the thread and its 10 replies) is bigger than the limit and comes whole"
    );
    let (pages, _) = w.app.pull_from(&w.owner.token, cursors, 5).await;
    let spec_pages: Vec<_> = pages.iter().filter(|p| p.scope == Scope::Spec(spec)).collect();
    assert_eq!(
        spec_pages.iter().map(|p| p.records.len()).collect::<Vec<_>>(),
        vec![24, 8, 8, 8],
        "each later page is exactly one commit (4 replies and their activity)"
    );
    let mut last = 0;
    for p in &spec_pages {
        assert!(p.to_version > last, "cursors only move forward");
        last = p.to_version;
    }
    let all = w.app.pull_all(&w.owner.token).await;
    let comments = records(&all).into_iter().filter(|r| matches!(r, Record::Comment(_))).count();
    assert_eq!(comments, 1 + 10 + 12);
}

async fn lost_access_and_future_cursors_reset_the_scope(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut o, spec).await;
    let (pages, cursors) = w.app.pull_from(&w.contractor.token, BTreeMap::new(), 100).await;
    assert!(find_spec(&pages, spec).is_some());
    let future: BTreeMap<Scope, u64> = cursors.iter().map(|(s, v)| (*s, v + 1_000)).collect();
    let req = PullRequest { cursors: future, limit: 100 };
    let (_, body) =
        w.app.call(Method::POST, "/v1/pull", Some(&w.contractor.token), Some(serde_json::to_value(&req).expect("json"))).await;
    let resp: PullResponse = serde_json::from_value(body).expect("pull");
    let sp = resp.pages.iter().find(|p| p.scope == Scope::Spec(spec)).expect("spec page");
    assert!(sp.reset && !sp.records.is_empty(), "a cursor from the future starts the scope over");
    let un = o.env(Mutation::Unassign { spec_id: spec, email: w.contractor.email.clone() });
    w.app.push_ok(&w.owner.token, o.id, &[un]).await;
    let req = PullRequest { cursors: cursors.clone(), limit: 100 };
    let (_, body) =
        w.app.call(Method::POST, "/v1/pull", Some(&w.contractor.token), Some(serde_json::to_value(&req).expect("json"))).await;
    let resp: PullResponse = serde_json::from_value(body).expect("pull");
    let sp = resp.pages.iter().find(|p| p.scope == Scope::Spec(spec)).expect("reset page");
    assert!(sp.reset && sp.records.is_empty());
    let mut c = Device::new(2);
    let late = c.env(Mutation::CreateThread {
        thread_id: id(5),
        spec_id: spec,
        anchor: Anchor::Spec,
        comment_id: id(6),
        body: "still there?".into(),
    });
    assert_eq!(rejected_code(&w.app.push_ok(&w.contractor.token, c.id, &[late]).await[0]), Some(ApiErrorCode::Forbidden));
}

async fn members_invites_and_removal(app: TestApp) {
    let w = World::on(app).await;
    let path = format!("/v1/workspaces/{}/invites", w.ws);
    let (s, body) =
        w.app.call(Method::POST, &path, Some(&w.reviewer.token), Some(json!({"email": "x@y.test", "role": "contractor"}))).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")));
    let (s, body) = w
        .app
        .call(Method::POST, &path, Some(&w.owner.token), Some(json!({"email": "New@Remote.test", "role": "contractor"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let invite: Invite = serde_json::from_value(body).expect("invite");
    assert_eq!(invite.email, "new@remote.test");
    let wrong_email = json!({"invite_code": invite.code, "email": "other@remote.test", "display_name": "N", "password": "password123", "device_name": "d", "timezone": "UTC"});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/join", None, Some(wrong_email)).await.1["code"], "invite_invalid");
    let newbie = w.app.join(&invite.code, "new@remote.test").await;
    let again = json!({"invite_code": invite.code, "email": "new@remote.test", "display_name": "N", "password": "password123", "device_name": "d", "timezone": "UTC"});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/join", None, Some(again)).await.1["code"], "invite_invalid", "codes work once");
    let (s, members) =
        w.app.call(Method::GET, &format!("/v1/workspaces/{}/members", w.ws), Some(&w.contractor.token), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(members.as_array().map(Vec::len), Some(4));
    let (s, _) =
        w.app.call(Method::GET, &format!("/v1/workspaces/{}/members", w.other_ws), Some(&w.contractor.token), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let remove = format!("/v1/workspaces/{}/members/{}", w.ws, newbie.user_id);
    assert_eq!(w.app.call(Method::DELETE, &remove, Some(&w.reviewer.token), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(w.app.call(Method::DELETE, &remove, Some(&w.owner.token), None).await.0, StatusCode::NO_CONTENT);
    let removed = records(&w.app.pull_all(&w.owner.token).await)
        .into_iter()
        .any(|r| matches!(r, Record::MemberRemoved { user_id, .. } if *user_id == newbie.user_id));
    assert!(removed);
    let (pages, _) = w.app.pull_from(&newbie.token, [(Scope::Workspace(w.ws), 1)].into_iter().collect(), 100).await;
    assert!(pages.iter().any(|p| p.scope == Scope::Workspace(w.ws) && p.reset), "a removed member's client drops the workspace");
    let last_owner = format!("/v1/workspaces/{}/members/{}", w.ws, w.owner.user_id);
    assert_eq!(
        w.app.call(Method::DELETE, &last_owner, Some(&w.owner.token), None).await,
        (
            StatusCode::CONFLICT,
            json!({"code": "last_owner", "message": "a workspace keeps at least one owner: make another member an owner first"})
        )
    );
}

/// Role changes: owners only, synced to every member as a member record, changing what the
/// member may see; an existing member cannot be invited again; the last owner stays one.
async fn members_set_their_own_time_zone_and_hours_and_nobody_elses(app: TestApp) {
    let w = World::on(app).await;
    let profile_of = |user: UserId| format!("/v1/workspaces/{}/members/{user}/profile", w.ws);
    let body = |zone: &str, start: u16, end: u16, days: u8| {
        Some(json!({"timezone": zone, "working_hours": {"start_minute": start, "end_minute": end, "days": days}}))
    };
    let mine = profile_of(w.contractor.user_id);
    // Nobody sets someone else's, not even an owner.
    let (s, b) = w.app.call(Method::PUT, &mine, Some(&w.owner.token), body("Asia/Kathmandu", 540, 1080, 0b100_1111)).await;
    assert_eq!((s, b["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{b}");
    assert!(b["message"].as_str().is_some_and(|m| m.contains("only their own")), "{b}");
    // Bad input is refused with what is wrong, and nothing is written.
    for (zone, start, end, days, words) in [
        ("Mars/Olympus_Mons", 540, 1020, 31, "not an IANA time zone name"),
        ("Europe/Lisbon", 1020, 540, 31, "the hours end before they start"),
        ("Europe/Lisbon", 540, 1020, 0, "no working day"),
    ] {
        let (s, b) = w.app.call(Method::PUT, &mine, Some(&w.contractor.token), body(zone, start, end, days)).await;
        assert_eq!((s, b["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")), "{b}");
        assert!(b["message"].as_str().is_some_and(|m| m.contains(words)), "{words}: {b}");
    }
    let unchanged = records(&w.app.pull_all(&w.owner.token).await)
        .into_iter()
        .any(|r| matches!(r, Record::Member(m) if m.user_id == w.contractor.user_id && m.timezone == "Europe/Lisbon"));
    assert!(unchanged, "a refused profile leaves the member as it was");
    let (s, b) = w.app.call(Method::PUT, &mine, Some(&w.contractor.token), body("Asia/Kathmandu", 540, 1080, 0b100_1111)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let member: Member = serde_json::from_value(b).expect("member");
    assert_eq!(
        (member.timezone.as_str(), member.working_hours),
        ("Asia/Kathmandu", WorkingHours { start_minute: 540, end_minute: 1080, days: 0b100_1111 })
    );
    let seen = records(&w.app.pull_all(&w.owner.token).await)
        .into_iter()
        .any(|r| matches!(r, Record::Member(m) if m.user_id == w.contractor.user_id && m.timezone == "Asia/Kathmandu"));
    assert!(seen, "every member's client learns the new hours");
}

async fn roles_change_and_a_workspace_keeps_an_owner(app: TestApp) {
    let w = World::on(app).await;
    let mut owner = Device::new(1);
    let unassigned: SpecId = id(70);
    let out = w.app.push_ok(&w.owner.token, owner.id, &[owner.env(create_spec(unassigned, w.ws, "Billing"))]).await;
    assert_eq!(out, vec![Outcome::Applied]);
    let sees = |pages: &[ScopePage]| pages.iter().any(|p| p.scope == Scope::Spec(unassigned) && !p.records.is_empty());
    assert!(!sees(&w.app.pull_all(&w.contractor.token).await), "a contractor sees only assigned specs");

    let role_of = |user: UserId| format!("/v1/workspaces/{}/members/{user}/role", w.ws);
    let to_reviewer = Some(json!({"role": "reviewer"}));
    let path = role_of(w.contractor.user_id);
    for refused in [&w.reviewer, &w.contractor] {
        let (s, body) = w.app.call(Method::PUT, &path, Some(&refused.token), to_reviewer.clone()).await;
        assert_eq!((s, body["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{}", refused.email);
    }
    let (s, body) = w.app.call(Method::PUT, &path, Some(&w.owner.token), to_reviewer.clone()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let member: Member = serde_json::from_value(body).expect("member");
    assert_eq!((member.role, member.email.as_str()), (Role::Reviewer, "contractor@remote.test"));
    let synced = records(&w.app.pull_all(&w.reviewer.token).await)
        .into_iter()
        .any(|r| matches!(r, Record::Member(m) if m.user_id == w.contractor.user_id && m.role == Role::Reviewer));
    assert!(synced, "every member's client learns the new role");
    assert!(sees(&w.app.pull_all(&w.contractor.token).await), "as a reviewer they see every spec");

    let (s, body) = w.app.call(Method::PUT, &path, Some(&w.owner.token), Some(json!({"role": "admin"}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let nobody = format!("/v1/workspaces/{}/members/{}/role", w.ws, w.other_owner.user_id);
    assert_eq!(w.app.call(Method::PUT, &nobody, Some(&w.owner.token), to_reviewer.clone()).await.0, StatusCode::NOT_FOUND);

    let invites = format!("/v1/workspaces/{}/invites", w.ws);
    let again = Some(json!({"email": "Reviewer@Acme.test", "role": "owner"}));
    let (s, body) = w.app.call(Method::POST, &invites, Some(&w.owner.token), again).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::CONFLICT, json!("already_exists")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("reviewer@acme.test")), "{body}");

    let me = role_of(w.owner.user_id);
    let (s, body) = w.app.call(Method::PUT, &me, Some(&w.owner.token), to_reviewer.clone()).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::CONFLICT, json!("last_owner")), "the last owner stays one");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("at least one owner")), "{body}");
    let promote = role_of(w.reviewer.user_id);
    assert_eq!(w.app.call(Method::PUT, &promote, Some(&w.owner.token), Some(json!({"role": "owner"}))).await.0, StatusCode::OK);
    let (s, body) = w.app.call(Method::PUT, &me, Some(&w.owner.token), to_reviewer.clone()).await;
    assert_eq!(s, StatusCode::OK, "with another owner, stepping down is allowed: {body}");
    let (s, _) = w.app.call(Method::PUT, &path, Some(&w.owner.token), to_reviewer).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "no longer an owner");
}

/// A contractor reads the files they delivered while assigned; unassigned (an ended
/// engagement) or removed, having uploaded them grants nothing, until they upload them again.
async fn uploaders_read_what_they_delivered_only_while_they_have_access(app: TestApp) {
    let w = World::on(app).await;
    let mut owner = Device::new(1);
    let mut contractor = Device::new(2);
    let spec: SpecId = id(1);
    spec_with_contractor(&w, &mut owner, spec).await;
    let content = b"the contractor's delivery\n";
    let hash = sha(content);
    let blob = format!("/v1/blobs/{hash}");
    let upload = |token: String| {
        let (app, blob) = (&w.app, blob.clone());
        async move { app.call_raw(Method::PUT, &blob, Some(&token), Some(content.to_vec()), true).await.0 }
    };
    assert_eq!(upload(w.contractor.token.clone()).await, StatusCode::NO_CONTENT);
    let delivery = [
        contractor.env(Mutation::CreateDeliverable { deliverable_id: id(2), spec_id: spec }),
        contractor.env(Mutation::CreateRevision {
            revision_id: id(3),
            deliverable_id: id(2),
            spec_id: spec,
            files: vec![ManifestEntry {
                path: "a.txt".into(),
                sha256: hash.clone(),
                size: content.len() as u64,
                executable: false,
            }],
            summary: "r1".into(),
            addresses: vec![],
        }),
    ];
    let out = w.app.push_ok(&w.contractor.token, contractor.id, &delivery).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
    let read = |token: String| {
        let (app, blob) = (&w.app, blob.clone());
        async move { app.call_raw(Method::GET, &blob, Some(&token), None, true).await.0 }
    };
    assert_eq!(read(w.contractor.token.clone()).await, StatusCode::OK, "assigned");

    let unassign = owner.env(Mutation::Unassign { spec_id: spec, email: w.contractor.email.clone() });
    assert_eq!(w.app.push_ok(&w.owner.token, owner.id, &[unassign]).await, vec![Outcome::Applied]);
    assert_eq!(read(w.contractor.token.clone()).await, StatusCode::NOT_FOUND, "unassigned, their upload grants nothing");
    assert_eq!(read(w.reviewer.token.clone()).await, StatusCode::OK, "others who see the spec still read it");
    assert_eq!(upload(w.contractor.token.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(read(w.contractor.token.clone()).await, StatusCode::OK, "uploading it again proves holding it");

    let removal = format!("/v1/workspaces/{}/members/{}", w.ws, w.contractor.user_id);
    let assign = owner.env(Mutation::Assign { spec_id: spec, email: w.contractor.email.clone() });
    assert_eq!(w.app.push_ok(&w.owner.token, owner.id, &[assign]).await, vec![Outcome::Applied]);
    assert_eq!(w.app.call(Method::DELETE, &removal, Some(&w.owner.token), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(read(w.contractor.token.clone()).await, StatusCode::NOT_FOUND, "removed from the workspace");
}

/// The last-owner rule under concurrency for role changes: two owners demote each other (or
/// one demotes while the other removes) at the same moment; each workspace keeps one owner.
async fn two_owners_demoting_each_other_at_once_leave_one(app: TestApp) {
    let mut rounds = Vec::new();
    for i in 0..12 {
        let ws = format!("Pair {i}");
        let a = app.member(&ws, &format!("a{i}@pair.test"), Role::Owner).await;
        let b = app.member(&ws, &format!("b{i}@pair.test"), Role::Owner).await;
        rounds.push((a.workspaces[0].workspace.id, a, b));
    }
    let mut tasks = Vec::new();
    for (i, (ws, a, b)) in rounds.iter().enumerate() {
        for (j, (me, them)) in [(a, b), (b, a)].into_iter().enumerate() {
            let (state, token) = (app.state.clone(), me.token.clone());
            // Every third workspace: one demotes while the other removes.
            let (method, path, body) = if i % 3 == 0 && j == 1 {
                (Method::DELETE, format!("/v1/workspaces/{ws}/members/{}", them.user_id), None)
            } else {
                (
                    Method::PUT,
                    format!("/v1/workspaces/{ws}/members/{}/role", them.user_id),
                    Some(json!({"role": "contractor"}).to_string().into_bytes()),
                )
            };
            tasks.push(tokio::spawn(async move { call_state(&state, method, &path, Some(&token), body, true).await }));
        }
    }
    for t in tasks {
        let (status, body) = t.await.expect("changer");
        match status {
            // Done; refused as the last owner; no longer an owner; or no longer a member.
            StatusCode::OK | StatusCode::NO_CONTENT | StatusCode::CONFLICT | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    for (ws, a, b) in &rounds {
        let mut owners = BTreeMap::new();
        for who in [a, b] {
            let (s, members) = app.call(Method::GET, &format!("/v1/workspaces/{ws}/members"), Some(&who.token), None).await;
            if s == StatusCode::OK {
                let n = members.as_array().map(|m| m.iter().filter(|m| m["role"] == "owner").count());
                owners.insert(who.email.clone(), n);
            }
        }
        assert!(!owners.is_empty(), "{ws}: someone is still a member");
        assert!(owners.values().all(|n| *n == Some(1)), "{ws}: exactly one owner: {owners:?}");
    }
}

/// The last-owner rule under concurrency: two owners remove each other at the same moment, in
/// many workspaces; each workspace keeps exactly one owner.
async fn two_owners_removing_each_other_at_once_leave_one(app: TestApp) {
    let mut rounds = Vec::new();
    for i in 0..12 {
        let ws = format!("Duo {i}");
        let a = app.member(&ws, &format!("a{i}@duo.test"), Role::Owner).await;
        let b = app.member(&ws, &format!("b{i}@duo.test"), Role::Owner).await;
        rounds.push((a.workspaces[0].workspace.id, a, b));
    }
    let mut tasks = Vec::new();
    for (ws, a, b) in &rounds {
        for (me, them) in [(a, b), (b, a)] {
            let (state, token) = (app.state.clone(), me.token.clone());
            let path = format!("/v1/workspaces/{ws}/members/{}", them.user_id);
            tasks.push(tokio::spawn(async move { call_state(&state, Method::DELETE, &path, Some(&token), None, true).await }));
        }
    }
    let mut removed = 0;
    for t in tasks {
        let (status, body) = t.await.expect("remover");
        match status {
            StatusCode::NO_CONTENT => removed += 1,
            // Refused as the last owner, or as no longer a member.
            StatusCode::CONFLICT | StatusCode::NOT_FOUND => {}
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(removed, rounds.len(), "exactly one removal per workspace");
    for (ws, a, b) in &rounds {
        let survivor =
            if app.call(Method::GET, &format!("/v1/workspaces/{ws}/members"), Some(&a.token), None).await.0 == StatusCode::OK {
                a
            } else {
                b
            };
        let (s, members) = app.call(Method::GET, &format!("/v1/workspaces/{ws}/members"), Some(&survivor.token), None).await;
        assert_eq!(s, StatusCode::OK, "one of the two is still a member of {ws}");
        let owners = members.as_array().map(|m| m.iter().filter(|m| m["role"] == "owner").count());
        assert_eq!(owners, Some(1), "{ws}: {members}");
    }
}

async fn tokens_expire_and_are_revoked(app: TestApp) {
    let w = World::on(app).await;
    let login = json!({"email": "reviewer@acme.test", "password": "password123", "device_name": "phone"});
    let (s, body) = w.app.call(Method::POST, "/v1/auth/login", None, Some(login)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let phone: Session = serde_json::from_value(body).expect("session");
    let bad = json!({"email": "reviewer@acme.test", "password": "wrong-password", "device_name": "phone"});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/login", None, Some(bad)).await.1["code"], "unauthorized");
    let (_, list) = w.app.call(Method::GET, "/v1/auth/tokens", Some(&phone.token), None).await;
    let list: Vec<TokenInfo> = serde_json::from_value(list).expect("tokens");
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|t| t.current).map(|t| t.device_name.as_str()).collect::<Vec<_>>(), ["phone"]);
    let revoke = format!("/v1/auth/tokens/{}", w.reviewer.token_id);
    assert_eq!(w.app.call(Method::DELETE, &revoke, Some(&phone.token), None).await.0, StatusCode::NO_CONTENT);
    let (s, body) =
        w.app.call(Method::POST, "/v1/pull", Some(&w.reviewer.token), Some(json!({"cursors": {}, "limit": 10}))).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("token_revoked")));
    assert_eq!(w.app.call(Method::POST, "/v1/auth/logout", Some(&phone.token), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(w.app.call(Method::GET, "/v1/auth/tokens", Some(&phone.token), None).await.1["code"], "token_revoked");
    w.app.clock.advance(91 * 24 * 3600 * 1000);
    let (s, body) = w.app.call(Method::GET, "/v1/auth/tokens", Some(&w.owner.token), None).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("token_expired")));
    assert_eq!(w.app.call(Method::GET, "/v1/auth/tokens", Some("not-a-token"), None).await.1["code"], "unauthorized");
}

async fn sql_looking_text_is_stored_verbatim(app: TestApp) {
    let w = World::on(app).await;
    let evil = "'); DROP TABLE specs;--";
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    let envs = vec![
        o.env(Mutation::CreateSpec {
            spec_id: spec,
            workspace_id: w.ws,
            title: evil.into(),
            sections: Sections {
                system_context: evil.into(),
                api_shape: evil.into(),
                out_of_scope: evil.into(),
                notes: evil.into(),
            },
            criteria: vec![Criterion { id: id(2), text: evil.into() }],
            due_date: None,
        }),
        o.env(Mutation::CreateThread {
            thread_id: id(3),
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: id(4),
            body: evil.into(),
        }),
        o.env(Mutation::AddComment { comment_id: id(5), thread_id: id(3), spec_id: spec, body: evil.into(), seen_events: 0 }),
        o.env(Mutation::SetDueDate { spec_id: spec, due_date: Some(evil.into()) }),
        o.env(Mutation::Assign { spec_id: spec, email: format!("{evil}@x") }),
    ];
    let out = w.app.push_ok(&w.owner.token, o.id, &envs).await;
    assert_eq!(out.iter().map(outcome_kind).collect::<Vec<_>>(), ["applied", "applied", "applied", "rejected", "rejected"]);
    let pages = w.app.pull_all(&w.owner.token).await;
    let s = find_spec(&pages, spec).expect("spec");
    assert_eq!((s.title.as_str(), s.sections.notes.as_str(), s.criteria[0].text.as_str()), (evil, evil, evil));
    let bodies: Vec<String> = records(&pages)
        .into_iter()
        .filter_map(|r| match r {
            Record::Comment(c) => Some(c.body.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(bodies, vec![evil.to_owned(); 2]);
    let evil_invite = json!({"invite_code": evil, "email": "a@b.test", "display_name": evil, "password": evil, "device_name": evil, "timezone": "Europe/Lisbon"});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/join", None, Some(evil_invite)).await.1["code"], "invite_invalid");
    let evil_zone = json!({"invite_code": evil, "email": "a@b.test", "display_name": evil, "password": evil, "device_name": evil, "timezone": evil});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/join", None, Some(evil_zone)).await.1["code"], "invalid", "not a time zone");
    let evil_login = json!({"email": format!("{evil}@x.test"), "password": evil, "device_name": evil});
    assert_eq!(w.app.call(Method::POST, "/v1/auth/login", None, Some(evil_login)).await.1["code"], "unauthorized");
    // Everything still works: the tables are all there.
    assert!(find_spec(&w.app.pull_all(&w.reviewer.token).await, spec).is_some());
}

/// Invariant 4 under concurrency: several clients push into one spec at once while another
/// client pulls incrementally; every comment reaches the puller exactly once (a version
/// committed out of order would be skipped by a cursor that already moved past it).
async fn concurrent_pushes_are_pulled_gap_free(app: TestApp) {
    let w = World::on(app).await;
    let mut o = Device::new(1);
    let spec: SpecId = id(1);
    let setup = vec![
        o.env(create_spec(spec, w.ws, "Busy")),
        o.env(Mutation::CreateThread {
            thread_id: id(2),
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: id(3),
            body: "start".into(),
        }),
    ];
    w.app.push_ok(&w.owner.token, o.id, &setup).await;
    const PUSHERS: u128 = 4;
    const BATCHES: u128 = 8;
    const PER_BATCH: u128 = 10;
    let mut tasks = Vec::new();
    for p in 0..PUSHERS {
        let (state, token) = (w.app.state.clone(), if p % 2 == 0 { w.owner.token.clone() } else { w.reviewer.token.clone() });
        tasks.push(tokio::spawn(async move {
            let mut dev = Device::new(10 + p);
            for b in 0..BATCHES {
                let envs: Vec<_> = (0..PER_BATCH)
                    .map(|n| {
                        dev.env(Mutation::AddComment {
                            comment_id: id(10_000 * (p + 1) + 100 * b + n),
                            thread_id: id(2),
                            spec_id: spec,
                            body: format!("{p}/{b}/{n}"),
                            seen_events: 0,
                        })
                    })
                    .collect();
                let req = PushRequest::new(dev.id, envs);
                let (s, body) = call_state(
                    &state,
                    Method::POST,
                    "/v1/push",
                    Some(&token),
                    Some(serde_json::to_vec(&req).expect("json")),
                    true,
                )
                .await;
                assert_eq!(s, StatusCode::OK, "{body}");
            }
        }));
    }
    let mut cursors: BTreeMap<Scope, u64> = BTreeMap::new();
    let mut seen: BTreeMap<CommentId, usize> = BTreeMap::new();
    let mut pull_once = async |cursors: &mut BTreeMap<Scope, u64>| -> bool {
        let req = PullRequest { cursors: cursors.clone(), limit: 7 };
        let (s, body) =
            w.app.call(Method::POST, "/v1/pull", Some(&w.reviewer.token), Some(serde_json::to_value(&req).expect("json"))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let resp: PullResponse = serde_json::from_value(body).expect("pull");
        for p in &resp.pages {
            let before = cursors.get(&p.scope).copied().unwrap_or(0);
            assert!(p.reset || p.to_version >= before, "a cursor never moves backward");
            cursors.insert(p.scope, p.to_version);
            for r in &p.records {
                if let Record::Comment(c) = r {
                    *seen.entry(c.id).or_default() += 1;
                }
            }
        }
        resp.more
    };
    while tasks.iter().any(|t| !t.is_finished()) {
        pull_once(&mut cursors).await;
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.expect("pusher");
    }
    while pull_once(&mut cursors).await {}
    assert_eq!(seen.len() as u128, 1 + PUSHERS * BATCHES * PER_BATCH, "every comment arrived");
    assert!(seen.values().all(|n| *n == 1), "and only once");
}

/// Two server processes on one PostgreSQL: a commit through one pokes the other's listeners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_processes_hear_each_others_changes() {
    let pg = PgServer::start();
    let url = pg.fresh_database("two_processes").await;
    let w = World::on(TestApp::postgres(&url).await).await;
    let blobs = tempfile::tempdir().expect("tempdir");
    let other = handoff_server::AppState::open_postgres(&url, blobs.path(), |_| {}).await.expect("second process");
    let mut rx = other.events.subscribe();
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let e = dev.env(create_spec(spec, w.ws, "Shared"));
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    // The listener connects in the background: keep changing the spec until a notice arrives.
    for n in 0..100 {
        let e = dev.env(Mutation::SetTitle { spec_id: spec, title: format!("Title {n}") });
        w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
        if let Ok(Ok(change)) = tokio::time::timeout(std::time::Duration::from_millis(200), rx.recv()).await {
            assert_eq!(change.scope, Scope::Spec(spec));
            assert_eq!(change.workspace_id, w.ws);
            return;
        }
    }
    panic!("the second process never heard of the first one's commits");
}

/// A process whose listening connection is cut pokes its streams for every workspace once it
/// listens again: what another process committed in the gap (its notice went nowhere) is then
/// pulled by every client of the workspace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_process_that_lost_its_listener_hears_what_changed_meanwhile() {
    let pg = PgServer::start();
    let url = pg.fresh_database("listener_gap").await;
    let w = World::on(TestApp::postgres(&url).await).await;
    let blobs = tempfile::tempdir().expect("tempdir");
    let other = handoff_server::AppState::open_postgres(&url, blobs.path(), |_| {}).await.expect("second process");
    let mut rx = other.events.subscribe();
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let e = dev.env(create_spec(spec, w.ws, "Shared"));
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    // Cut every LISTEN connection (both processes'), then commit while they reconnect.
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(conn);
    admin
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        )
        .await
        .expect("terminate the listeners");
    while rx.try_recv().is_ok() {}
    let e = dev.env(Mutation::SetTitle { spec_id: spec, title: "Changed in the gap".into() });
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    let heard = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            match rx.recv().await {
                Ok(change) if change.scope == Scope::Workspace(w.ws) => return change,
                Ok(_) => {}
                Err(e) => panic!("the event channel: {e}"),
            }
        }
    })
    .await
    .expect("the second process poked its streams after listening again");
    assert_eq!(heard.workspace_id, w.ws);
}
