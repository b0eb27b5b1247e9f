//! Readiness and questions across machines (issue #14), through the real binaries: an owner
//! cannot hand off a thin spec, a contractor's question blocks it until someone answers, and
//! an owner's override is recorded and seen on another machine after the server is gone.

use std::fs;

use super::procs::Team;

#[test]
fn a_spec_is_handed_off_only_when_ready_or_on_an_owners_recorded_override() {
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let cole = team.join("cole", "contractor");
    let rita = team.join("rita", "reviewer");

    let spec = ana.ok(&["spec", "new", "--title", "CSV export", "--criterion", "Export is fast"]).trim().to_owned();
    ana.ok(&["spec", "assign", &spec, "cole@wedge.io"]);
    ana.sync();

    // Thin: `handoff readiness` exits 1 and names every failing rule with what to do.
    let out = ana.run(&["readiness", &spec]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for line in [
        "not ready to hand off: 3 of 8 rules pass",
        "✗ System context of substance",
        "the system context section is empty",
        "✗ Every criterion is checkable",
        "criterion 1 “Export is fast”: “fast” is vague",
        "✗ Out of scope stated",
        "✗ Due date set",
        "✓ Assignee set",
        "✓ No unanswered questions",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    let json = ana.run(&["--json", "readiness", &spec]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json readiness");
    assert_eq!((v["passed"].as_u64(), v["total"].as_u64()), (Some(3), Some(8)), "{v}");
    // Moving it to ready is refused before anything is queued.
    let refused = ana.run(&["--json", "spec", "status", &spec, "ready"]);
    assert_eq!(refused.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&refused.stderr).expect("json error");
    assert_eq!(err["code"], "invalid_transition", "{err}");
    let message = err["message"].as_str().unwrap_or("");
    assert!(message.contains("not ready to hand off") && message.contains("Due date set"), "{message}");
    assert!(ana.json(&["outbox"]).as_array().is_some_and(Vec::is_empty), "nothing queued");

    // The contractor asks on the API shape before the owner fills it in.
    cole.sync();
    let question = cole
        .ok(&["thread", "new", &spec, "--section", "api_shape", "--text", "Should refunds be negative rows?"])
        .trim()
        .to_owned();
    cole.sync();

    let dir = &team.root;
    fs::write(
        dir.join("context.md"),
        "Billing (Rust, axum) owns invoices; a nightly worker pulls them from Stripe. Accountants \
         download a month of invoices as CSV from the dashboard, which calls the endpoint below.\n",
    )
    .expect("context");
    fs::write(dir.join("api.md"), "GET /v1/invoices/export?month=YYYY-MM → text/csv\n").expect("api");
    fs::write(dir.join("scope.md"), "The dashboard button; PDF export.\n").expect("scope");
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    ana.ok(&[
        "spec",
        "edit",
        &spec,
        "--context-file",
        &file("context.md"),
        "--api-file",
        &file("api.md"),
        "--out-of-scope-file",
        &file("scope.md"),
        "--set-criterion",
        "1=Exports 50,000 invoices in under 10 s",
        "--due",
        "2026-12-18",
    ]);
    ana.sync();
    let out = ana.run(&["readiness", &spec]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("7 of 8") && text.contains("“Should refunds be negative rows?” has no answer yet"), "{text}");
    let shown = ana.ok(&["spec", "show", &spec]);
    assert!(shown.contains("question waiting for an answer"), "{shown}");

    // A reviewer may move a ready spec, but not this one, and has no override.
    rita.sync();
    let refused = rita.run(&["spec", "status", &spec, "ready"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("has no answer yet"));
    let no_override = rita.run(&["spec", "status", &spec, "ready", "--override", "please"]);
    assert!(String::from_utf8_lossy(&no_override.stderr).contains("a reviewer may not move a spec to ready by override"));

    // The owner answers: ready, and the move is accepted.
    ana.ok(&["thread", "reply", &question, "--text", "Yes, negative amounts, one row per refund."]);
    assert_eq!(ana.run(&["readiness", &spec]).status.code(), Some(0));
    ana.ok(&["spec", "status", &spec, "ready"]);
    ana.sync();

    // A second, thin spec goes out on the owner's word.
    let rushed = ana.ok(&["spec", "new", "--title", "Hotfix: rounding"]).trim().to_owned();
    ana.ok(&["spec", "status", &rushed, "ready", "--override", "Scope agreed on the call with Cole"]);
    ana.sync();
    cole.sync();
    rita.sync();
    team.server.kill();

    // The contractor, offline, sees the answer and a spec that is ready.
    let shown = cole.ok(&["spec", "show", &spec]);
    assert!(shown.contains("CSV export  [ready]"), "{shown}");
    assert!(shown.contains("readiness 8/8: ready to hand off"), "{shown}");
    assert!(shown.contains("question answered by ana@wedge.io"), "{shown}");
    assert_eq!(cole.run(&["readiness", &spec]).status.code(), Some(0));
    // The reviewer, offline, sees the override with its reason and what failed then.
    let shown = rita.ok(&["spec", "show", &rushed]);
    assert!(shown.contains("Hotfix: rounding  [ready]"), "{shown}");
    assert!(
        shown.contains("marked ready by ana@wedge.io") && shown.contains("by override: \"Scope agreed on the call with Cole\""),
        "{shown}"
    );
    assert!(shown.contains("failing then: System context of substance; API shape"), "{shown}");
    let detail = rita.json(&["spec", "show", &rushed]);
    assert_eq!(detail["ready_override"]["failing"].as_array().map(Vec::len), Some(6), "{detail}");
}
