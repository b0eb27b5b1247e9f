use super::*;
use crate::CriterionId;

const CONTEXT: &str = "The billing service (Rust, axum) owns invoices and talks to Stripe through a queue worker. \
Invoices are created by the nightly job in billing-worker and read by the web dashboard. \
This work adds CSV export of a month's invoices for accountants; the dashboard team will add the button.";

const API: &str = "GET /v1/invoices/export?month=2026-11\n\nAnswers `text/csv` with one row per invoice:\n\
```\nid,number,customer,amount_cents,currency,issued_at\n```";

fn criterion(n: u8, text: &str) -> Criterion {
    Criterion { id: CriterionId::from(uuid::Uuid::from_bytes([n; 16])), text: text.into() }
}

struct Spec {
    sections: Sections,
    criteria: Vec<Criterion>,
    assignees: Vec<String>,
    due_date: Option<String>,
    open_questions: Vec<String>,
}

/// A spec a contractor could pick up today.
fn good() -> Spec {
    Spec {
        sections: Sections {
            system_context: CONTEXT.into(),
            api_shape: API.into(),
            out_of_scope: "The dashboard button; PDF export; invoices before 2024.".into(),
            notes: String::new(),
        },
        criteria: vec![
            criterion(1, "GET /v1/invoices/export?month=2026-11 returns every invoice issued in November 2026, one per row"),
            criterion(2, "A month with no invoices answers a CSV with only the header row"),
            criterion(3, "Amounts are written in cents as integers, never as floats"),
            criterion(4, "An export of 50,000 invoices completes in under 10 seconds on the staging box"),
        ],
        assignees: vec!["ana@contractor.example".into()],
        due_date: Some("2026-12-18".into()),
        open_questions: Vec::new(),
    }
}

fn check(spec: &Spec) -> Readiness {
    readiness(ReadinessInput {
        sections: &spec.sections,
        criteria: &spec.criteria,
        assignees: &spec.assignees,
        due_date: spec.due_date.as_deref(),
        open_questions: &spec.open_questions,
    })
}

#[test]
fn a_complete_spec_passes_every_rule() {
    let r = check(&good());
    assert!(r.is_ready(), "{}", r.explain());
    assert_eq!((r.passed, r.total), (8, 8));
    assert_eq!(r.checks.iter().map(|c| c.rule).collect::<Vec<_>>(), ReadinessRule::ALL);
}

/// Each row breaks one thing in the good spec; exactly that rule fails, with a problem
/// that says what (a fragment of it is checked).
#[test]
fn each_rule_fails_on_what_it_is_about_and_only_that() {
    type Break = fn(&mut Spec);
    let table: Vec<(&str, Break, ReadinessRule, &str)> = vec![
        ("empty context", |s| s.sections.system_context.clear(), ReadinessRule::SystemContext, "system context section is empty"),
        (
            "a one-liner context",
            |s| s.sections.system_context = "Billing service. Add CSV export.".into(),
            ReadinessRule::SystemContext,
            "has 5 words",
        ),
        (
            "TBD in the context",
            |s| s.sections.system_context = format!("{CONTEXT} Auth: TBD."),
            ReadinessRule::SystemContext,
            "still says “TBD”",
        ),
        ("empty API shape", |s| s.sections.api_shape = "  \n".into(), ReadinessRule::ApiShape, "API shape section is empty"),
        (
            "API shape in prose only",
            |s| s.sections.api_shape = "An endpoint that gives accountants the invoices of a month as a spreadsheet.".into(),
            ReadinessRule::ApiShape,
            "names no endpoint, type or example",
        ),
        (
            "API shape with a lorem ipsum",
            |s| s.sections.api_shape = "Lorem ipsum dolor sit amet".into(),
            ReadinessRule::ApiShape,
            "“LOREM IPSUM”",
        ),
        ("no criterion", |s| s.criteria.clear(), ReadinessRule::Criteria, "no acceptance criterion"),
        (
            "a fast criterion",
            |s| s.criteria.push(criterion(5, "The export is fast")),
            ReadinessRule::CheckableCriteria,
            "criterion 5 “The export is fast”: “fast” is vague",
        ),
        (
            "user-friendly",
            |s| s.criteria[0].text = "The CSV is user-friendly for accountants".into(),
            ReadinessRule::CheckableCriteria,
            "criterion 1 “The CSV is user-friendly for accountants”: “user-friendly” is vague",
        ),
        (
            "etc.",
            |s| s.criteria[1].text = "Handles empty months, refunds, credit notes, etc.".into(),
            ReadinessRule::CheckableCriteria,
            "“etc” is vague",
        ),
        (
            "as needed",
            |s| s.criteria[2].text = "Rounds amounts as needed".into(),
            ReadinessRule::CheckableCriteria,
            "“as needed” is vague",
        ),
        (
            "TBD criterion",
            |s| s.criteria[2].text = "Currency handling TBD".into(),
            ReadinessRule::CheckableCriteria,
            "“tbd” is vague",
        ),
        (
            "no observable outcome",
            |s| s.criteria[3].text = "The code is maintainable and idiomatic".into(),
            ReadinessRule::CheckableCriteria,
            "no observable outcome",
        ),
        ("out of scope empty", |s| s.sections.out_of_scope.clear(), ReadinessRule::OutOfScope, "out of scope section is empty"),
        (
            "open question",
            |s| s.open_questions.push("Should refunds appear as negative rows or be left out?".into()),
            ReadinessRule::QuestionsAnswered,
            "“Should refunds appear as negative rows or be left out?” has no answer yet",
        ),
        ("nobody assigned", |s| s.assignees.clear(), ReadinessRule::Assignee, "nobody is assigned"),
        ("no due date", |s| s.due_date = None, ReadinessRule::DueDate, "no due date"),
    ];
    for (name, break_it, rule, fragment) in table {
        let mut spec = good();
        break_it(&mut spec);
        let r = check(&spec);
        assert_eq!(r.failing(), vec![rule], "{name}: {}", r.explain());
        assert_eq!(r.passed, 7, "{name}");
        let problems = &r.checks.iter().find(|c| c.rule == rule).expect("rule checked").problems;
        assert!(problems.iter().any(|p| p.contains(fragment)), "{name}: {problems:?} lacks {fragment:?}");
        assert!(r.explain().starts_with(rule.title()), "{name}: {}", r.explain());
    }
}

#[test]
fn every_unclear_criterion_is_named_not_only_the_first() {
    let mut spec = good();
    spec.criteria = vec![
        criterion(1, "Export is quick"),
        criterion(2, "Returns 404 for a month in the future"),
        criterion(3, "Looks nice in Excel"),
        criterion(4, "Works well"),
    ];
    let r = check(&spec);
    let problems = &r.checks[3].problems;
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].starts_with("criterion 1 "));
    assert!(problems[1].starts_with("criterion 3 "));
    assert!(problems[2].starts_with("criterion 4 ") && problems[2].contains("no observable outcome"));
}

#[test]
fn checkable_criteria_from_real_specs_pass() {
    for text in [
        "`handoff diff SPEC 1 2` exits 1 and prints the unified diff when the revisions differ",
        "Given a revoked token, when the app syncs, then the sync bar says \"signed out\" and offers Sign in",
        "p95 latency of POST /v1/push stays under 50 ms with 50 clients",
        "A reviewer on a second machine can open every delivered file after the server is stopped",
        "Invalid emails are refused with a message naming the email",
        "The migration keeps every existing invoice and loses no row",
        "Uploading the same file twice stores it once",
    ] {
        assert_eq!(criterion_problem(text), None, "{text}");
    }
}

#[test]
fn vague_words_are_whole_words() {
    // "fastest" and "goodwill" are not "fast" and "good"; "breakfast" neither.
    assert_eq!(criterion_problem("Shows the breakfast menu with the goodwill discount"), None);
    assert!(criterion_problem("A good export").is_some_and(|p| p.contains("“good”")));
    assert!(criterion_problem("Fast.").is_some_and(|p| p.contains("“fast”")));
}

#[test]
fn api_shapes_in_the_forms_people_write_them() {
    for text in [
        "POST /v1/invoices/{id}/void",
        "- `GET /invoices` lists invoices",
        "struct InvoiceRow { id: Uuid, amount_cents: i64 }",
        "interface Invoice {\n  id: string\n  amount: number\n}",
        "{\n  \"id\": \"inv_01\",\n  \"amount_cents\": 1250\n}",
        "$ billing export --month 2026-11 > nov.csv",
        "fn export(month: Month) -> Result<Csv, ExportError>",
        "Served at /v2/export with the usual auth.",
    ] {
        assert!(names_an_interface(text), "{text:?}");
    }
    for text in ["Export the invoices.", "See the ticket for the endpoint.", "Note: ask Ana"] {
        assert!(!names_an_interface(text), "{text:?}");
    }
}

#[test]
fn questions_are_contractors_threads_on_the_spec() {
    let section = Anchor::SpecSection { section: SectionKind::ApiShape };
    assert!(is_question(&Anchor::Spec, Some(Role::Contractor)));
    assert!(is_question(&section, Some(Role::Contractor)));
    assert!(!is_question(&section, Some(Role::Reviewer)), "a reviewer's thread is a comment, not a question");
    assert!(!is_question(&section, None), "someone who left the workspace asks nothing");
    let deliverable = Anchor::Deliverable { deliverable_id: uuid::Uuid::from_bytes([3; 16]).into() };
    assert!(!is_question(&deliverable, Some(Role::Contractor)));
}

#[test]
fn a_question_is_answered_by_the_first_reply_from_someone_else() {
    let at = |ms| Timestamp::from_millis(ms);
    let replies = [
        ReplyRef { author: "ana@c.example", at: at(1), redacted: false },
        ReplyRef { author: "raj@team.example", at: at(2), redacted: true },
        ReplyRef { author: "li@team.example", at: at(3), redacted: false },
        ReplyRef { author: "raj@team.example", at: at(4), redacted: false },
    ];
    let answer = answer_of("ana@c.example", &replies);
    assert_eq!(answer, Some(QuestionAnswer { by: "li@team.example".into(), at: at(3) }));
    assert!(!question_is_open(answer.as_ref(), false));
    let unanswered = answer_of("ana@c.example", &replies[..2]);
    assert_eq!(unanswered, None, "the asker's own follow-up and a deleted reply answer nothing");
    assert!(question_is_open(None, false));
    assert!(!question_is_open(None, true), "a resolved question no longer blocks");
}
