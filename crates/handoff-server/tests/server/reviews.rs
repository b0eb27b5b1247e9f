//! The server enforces the reviewing rules by itself (a client that skipped its own checks
//! gets the same answers): a review is applied whole or not at all, only owners, reviewers and
//! a thread's author resolve, a spec is accepted only through the ledger or an owner's
//! override, and claims enter a thread's history.

use axum::http::{Method, StatusCode};
use handoff_core::protocol::*;
use handoff_core::*;

use crate::support::*;

const FILE: &str = "line one\nline two\nline three\n";

struct Case {
    w: World,
    owner: Device,
    spec: SpecId,
    deliverable: DeliverableId,
    revision: RevisionId,
}

/// A spec assigned to the contractor, in review, with one revision of one file.
async fn in_review() -> Case {
    let w = World::sqlite().await;
    let mut owner = Device::new(1);
    let blob = sha(FILE.as_bytes());
    let (s, _) = w
        .app
        .call_raw(Method::PUT, &format!("/v1/blobs/{blob}"), Some(&w.owner.token), Some(FILE.as_bytes().to_vec()), true)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (spec, deliverable, revision) = (id(1), id(2), id(3));
    let file = ManifestEntry { path: "a.txt".into(), sha256: blob, size: FILE.len() as u64, executable: false };
    let mut envs = vec![
        owner.env(create_spec(spec, w.ws, "Importer")),
        owner.env(Mutation::Assign { spec_id: spec, email: w.contractor.email.clone() }),
        owner.env(Mutation::CreateDeliverable { deliverable_id: deliverable, spec_id: spec }),
        owner.env(Mutation::CreateRevision {
            revision_id: revision,
            deliverable_id: deliverable,
            spec_id: spec,
            files: vec![file],
            summary: String::new(),
            addresses: vec![],
        }),
    ];
    for (from, to) in [
        (SpecStatus::Draft, SpecStatus::Ready),
        (SpecStatus::Ready, SpecStatus::InProgress),
        (SpecStatus::InProgress, SpecStatus::Delivered),
        (SpecStatus::Delivered, SpecStatus::InReview),
    ] {
        envs.push(owner.env(Mutation::SetStatus { spec_id: spec, from, to }));
    }
    let out = w.app.push_ok(&w.owner.token, owner.id, &envs).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
    Case { w, owner, spec, deliverable, revision }
}

fn line_thread(n: u128, revision: RevisionId, path: &str) -> ReviewThread {
    ReviewThread {
        thread_id: id(n),
        comment_id: id(n + 1),
        anchor: Anchor::RevisionLines {
            revision_id: revision,
            path: path.into(),
            start_line: 2,
            end_line: 2,
            side: DiffSide::New,
            excerpt: "line two\n".into(),
        },
        body: format!("remark {n}"),
    }
}

fn review(c: &Case, n: u128, verdict: Verdict, status: AcceptanceStatus, threads: Vec<ReviewThread>) -> Mutation {
    Mutation::PublishReviewV2 {
        review_id: id(n),
        revision_id: c.revision,
        spec_id: c.spec,
        verdict,
        summary: "summary".into(),
        criteria: vec![CriterionVerdict {
            criterion_id: id(900),
            text: "Imports CSV".into(),
            status,
            note: String::new(),
            evidence: None,
        }],
        threads,
        replies: vec![],
    }
}

fn rejected_with(o: &Outcome, code: ApiErrorCode, words: &str) {
    match o {
        Outcome::Rejected { code: c, message } => {
            assert_eq!(*c, code, "{message}");
            assert!(message.contains(words), "{message:?} should say {words:?}");
        }
        other => panic!("expected a rejection saying {words:?}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_with_one_bad_comment_leaves_nothing_behind() {
    let c = in_review().await;
    let mut rd = Device::new(2);
    let bad = review(
        &c,
        100,
        Verdict::RequestChanges,
        AcceptanceStatus::NotMet,
        vec![line_thread(110, c.revision, "a.txt"), line_thread(120, c.revision, "missing.txt")],
    );
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(bad)]).await;
    rejected_with(&out[0], ApiErrorCode::NotFound, "has no file \"missing.txt\"");
    let pages = c.w.app.pull_all(&c.w.contractor.token).await;
    let kinds: Vec<&Record> =
        records(&pages).into_iter().filter(|r| matches!(r, Record::Thread(_) | Record::Comment(_) | Record::Review(_))).collect();
    assert!(kinds.is_empty(), "nothing of the refused review was written: {kinds:?}");

    let good = review(&c, 200, Verdict::RequestChanges, AcceptanceStatus::NotMet, vec![line_thread(210, c.revision, "a.txt")]);
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(good)]).await;
    assert_eq!(out[0], Outcome::Applied);
    let pages = c.w.app.pull_all(&c.w.contractor.token).await;
    let all = records(&pages);
    assert!(all.iter().any(|r| matches!(r, Record::Thread(t) if t.thread.id == id(210))));
    assert!(all.iter().any(|r| matches!(r, Record::Comment(cm) if cm.id == id(211) && cm.body == "remark 210")));
    assert!(all.iter().any(|r| matches!(r, Record::Review(rv) if rv.threads == vec![id::<ThreadId>(210)])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_resolves_and_what_a_claim_records() {
    let mut c = in_review().await;
    let (mut rd, mut cd) = (Device::new(2), Device::new(3));
    let r = review(&c, 100, Verdict::RequestChanges, AcceptanceStatus::NotMet, vec![line_thread(110, c.revision, "a.txt")]);
    assert_eq!(c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(r)]).await[0], Outcome::Applied);
    let own = Mutation::CreateThread {
        thread_id: id(130),
        spec_id: c.spec,
        anchor: Anchor::Spec,
        comment_id: id(131),
        body: "Q?".into(),
    };
    let resolve = |n: u128, thread: u128| Mutation::SetThreadState {
        event_id: id(n),
        thread_id: id(thread),
        spec_id: c.spec,
        event: ThreadEventKind::Resolve,
    };
    let out =
        c.w.app.push_ok(&c.w.contractor.token, cd.id, &[cd.env(own), cd.env(resolve(140, 110)), cd.env(resolve(141, 130))]).await;
    assert_eq!(out[0], Outcome::Applied);
    rejected_with(&out[1], ApiErrorCode::Forbidden, "claims it instead");
    assert_eq!(out[2], Outcome::Applied, "a contractor resolves a thread they opened");

    // The contractor claims the reviewer's thread with a revision; the reviewer confirms.
    let claim = Mutation::CreateRevision {
        revision_id: id(150),
        deliverable_id: c.deliverable,
        spec_id: c.spec,
        files: vec![],
        summary: "addressed".into(),
        addresses: vec![id(110)],
    };
    assert_eq!(c.w.app.push_ok(&c.w.contractor.token, cd.id, &[cd.env(claim)]).await[0], Outcome::Applied);
    assert_eq!(c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(resolve(160, 110))]).await[0], Outcome::Applied);
    let pages = c.w.app.pull_all(&c.w.owner.token).await;
    let history = records(&pages)
        .into_iter()
        .rev()
        .find_map(|r| match r {
            Record::Thread(t) if t.thread.id == id(110) => Some(t.history.clone()),
            _ => None,
        })
        .expect("thread 110");
    let got: Vec<(ThreadHistoryKind, &str, Option<RevisionId>)> =
        history.iter().map(|h| (h.kind, h.by.as_str(), h.revision_id)).collect();
    assert_eq!(
        got,
        vec![
            (ThreadHistoryKind::Claim, c.w.contractor.email.as_str(), Some(id(150))),
            (ThreadHistoryKind::Resolve, c.w.reviewer.email.as_str(), None),
        ]
    );
    let _ = &mut c.owner;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acceptance_takes_a_settling_approval_or_an_owners_override() {
    let mut c = in_review().await;
    let mut rd = Device::new(2);
    let accept = |from| Mutation::SetStatus { spec_id: c.spec, from, to: SpecStatus::Accepted };
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(accept(SpecStatus::InReview))]).await;
    rejected_with(&out[0], ApiErrorCode::Invalid, "revision 1 has no approving review");
    let unsettled = review(&c, 100, Verdict::Approve, AcceptanceStatus::Unchecked, vec![]);
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(unsettled), rd.env(accept(SpecStatus::InReview))]).await;
    assert_eq!(out[0], Outcome::Applied);
    rejected_with(&out[1], ApiErrorCode::Invalid, "does not mark \"Imports CSV\" met or not applicable");

    let overrule = |from| Mutation::AcceptWithOverride { spec_id: c.spec, from, reason: "Signed off by the client".into() };
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(overrule(SpecStatus::InReview))]).await;
    rejected_with(&out[0], ApiErrorCode::Forbidden, "move a spec to accepted by override");

    let od = &mut c.owner;
    let out = c.w.app.push_ok(&c.w.owner.token, od.id, &[od.env(overrule(SpecStatus::InReview))]).await;
    assert_eq!(out[0], Outcome::Applied);
    let pages = c.w.app.pull_all(&c.w.contractor.token).await;
    assert_eq!(find_spec(&pages, c.spec).map(|s| s.status), Some(SpecStatus::Accepted));
    let over = records(&pages).into_iter().find_map(|r| match r {
        Record::AcceptanceOverride(o) => Some(o.clone()),
        _ => None,
    });
    let over = over.expect("the override reaches the contractor");
    assert_eq!(
        (over.by.as_str(), over.reason.as_str(), over.revision_id),
        (c.w.owner.email.as_str(), "Signed off by the client", Some(c.revision))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settling_approval_lets_a_reviewer_accept() {
    let c = in_review().await;
    let mut rd = Device::new(2);
    let approve = review(&c, 100, Verdict::Approve, AcceptanceStatus::Met, vec![]);
    let accept = Mutation::SetStatus { spec_id: c.spec, from: SpecStatus::InReview, to: SpecStatus::Accepted };
    let out = c.w.app.push_ok(&c.w.reviewer.token, rd.id, &[rd.env(approve), rd.env(accept)]).await;
    assert_eq!(out, vec![Outcome::Applied, Outcome::Applied]);
}
