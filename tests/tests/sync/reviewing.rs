//! Reviewing through the real binaries, two people on two machines: a reviewer drafts line
//! comments while the server is down, publishes the review offline with criterion statuses,
//! and the contractor sees the review and its threads together once both have synced; the
//! contractor claims a thread with a new revision and the reviewer confirms the claim; the
//! ledger decides acceptance and an owner overrides it on the record; viewed marks follow the
//! reviewer to a second device and clear where a file changed.

use std::path::Path;

use serde_json::Value;

use super::procs::{Cli, Server, binaries, free_port};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff");

fn fixture(name: &str) -> String {
    let path = Path::new(FIXTURES).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read the shared fixture {}: {e}", path.display()))
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

fn lines(text: &str, from: usize, to: usize) -> String {
    text.split_inclusive('\n').skip(from - 1).take(to - from + 1).collect()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The thread with this id in `spec show --json`.
fn thread<'a>(detail: &'a Value, id: &str) -> &'a Value {
    detail["threads"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["thread"]["id"] == id))
        .unwrap_or_else(|| panic!("no thread {id} in {detail}"))
}

#[test]
fn a_review_drafted_and_published_offline_reaches_the_contractor_whole_and_drives_acceptance() {
    let (cli_bin, server_bin) = binaries();
    let dir = tempfile::tempdir().expect("root");
    let root = dir.path();
    let mut server = Server { bin: server_bin, data: root.join("server"), port: free_port(), child: None };
    let url = format!("http://127.0.0.1:{}", server.port);
    let person = |name: &str, role: &str| {
        let email = format!("{name}@review.io");
        let code = server.invite(&email, role);
        (Cli::new(cli_bin.clone(), root.join(name)), email, code)
    };
    let (owner, owner_email, owner_code) = person("ana", "owner");
    let (contractor, contractor_email, contractor_code) = person("cole", "contractor");
    let (reviewer, reviewer_email, reviewer_code) = person("rae", "reviewer");
    server.start();
    for (cli, email, code) in [
        (&owner, &owner_email, &owner_code),
        (&contractor, &contractor_email, &contractor_code),
        (&reviewer, &reviewer_email, &reviewer_code),
    ] {
        cli.ok(&["join", "--server", &url, "--invite", code, "--email", email, "--name", email]);
    }
    let spec = owner
        .ok(&[
            "spec",
            "new",
            "--title",
            "FAQ rewrite",
            "--criterion",
            "Every question has an answer",
            "--criterion",
            "Links work",
            "--criterion",
            "Translated to French",
        ])
        .trim()
        .to_owned();
    owner.ok(&["spec", "assign", &spec, &contractor_email]);
    owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    owner.sync();

    // The contractor delivers r1 and r2 of real text: the FAQ is renamed and edited in r2.
    contractor.sync();
    let (faq_old, faq_new) = (fixture("faq-md.old-small"), fixture("faq-md.new"));
    let (r1, r2, r3, r4) = (root.join("r1"), root.join("r2"), root.join("r3"), root.join("r4"));
    write(&r1, "docs/faq-draft.md", &faq_old);
    write(&r1, "README.md", "Build with `make`.\n");
    write(&r2, "docs/faq.md", &faq_new);
    write(&r2, "README.md", "Build with `make`.\n");
    contractor.ok(&["spec", "status", &spec, "in_progress"]);
    contractor.ok(&["deliver", &spec, &r1.to_string_lossy(), "--note", "first cut"]);
    contractor.ok(&["deliver", &spec, &r2.to_string_lossy(), "--note", "renamed, answers filled in"]);
    contractor.ok(&["spec", "status", &spec, "delivered"]);
    contractor.sync();
    reviewer.sync();
    reviewer.ok(&["spec", "status", &spec, "in_review"]);
    reviewer.sync();
    contractor.sync();

    // The server goes away. The reviewer works on r2 offline: a range on the new side, one
    // line on the old side of a file r2 no longer has (renamed away), and a draft dropped.
    server.kill();
    let range = reviewer
        .ok(&["comment", &spec, "2", "--file", "docs/faq.md", "--lines", "3-5", "--text", "Say where the short link points."])
        .trim()
        .to_owned();
    let old_line = reviewer
        .ok(&["comment", &spec, "2", "--file", "docs/faq-draft.md", "--lines", "1", "--side", "old", "--text", "Title?"])
        .trim()
        .to_owned();
    let dropped =
        reviewer.ok(&["comment", &spec, "2", "--file", "README.md", "--lines", "1", "--text", "typo"]).trim().to_owned();
    reviewer.ok(&["draft", "delete", &dropped]);
    reviewer.ok(&["draft", "edit", &old_line, "--text", "Keep the old title: people search for it."]);
    let bad = reviewer.run(&["comment", &spec, "2", "--file", "docs/faq.md", "--lines", "2000-2001", "--text", "x"]);
    assert!(!bad.status.success() && stderr(&bad).contains("outside the file"), "{}", stderr(&bad));
    let drafts = reviewer.json(&["drafts", &spec]);
    assert_eq!(drafts.as_array().map(Vec::len), Some(2), "two drafts kept: {drafts}");
    assert_eq!(reviewer.json(&["drafts"]), drafts, "every spec's drafts are this spec's here");
    let anchor = &drafts[1]["anchor"];
    assert_eq!((anchor["path"].as_str(), anchor["side"].as_str()), (Some("docs/faq-draft.md"), Some("old")), "{drafts}");
    assert_eq!(anchor["excerpt"].as_str(), Some(lines(&faq_old, 1, 1).as_str()));

    // Meanwhile the contractor, also offline, delivers r3: r2 is superseded before the review
    // is even sent.
    write(&r3, "docs/faq.md", &faq_new);
    write(&r3, "README.md", "Build with `make all`.\n");
    contractor.ok(&["deliver", &spec, &r3.to_string_lossy(), "--note", "build fix"]);

    // Published offline: drafts become one queued review; nothing is sent yet.
    reviewer.ok(&[
        "review",
        &spec,
        "2",
        "--verdict",
        "request-changes",
        "--summary",
        "Close; two remarks.",
        "--criterion",
        "1=met:all 80 questions answered@docs/faq.md:10-40",
        "--criterion",
        "2=not-met:the short link is dead",
        "--criterion",
        "3=na",
    ]);
    assert_eq!(reviewer.json(&["drafts", &spec]).as_array().map(Vec::len), Some(0), "published drafts are drafts no more");
    reviewer.ok(&["spec", "status", &spec, "changes_requested"]);
    let outbox = reviewer.json(&["outbox"]);
    assert!(outbox.to_string().contains("review.publish_v2"), "the review waits in the outbox: {outbox}");

    // Back online: the contractor's r3 lands first, then the review of r2.
    server.start();
    contractor.sync();
    reviewer.sync();
    contractor.sync();
    let seen = contractor.json(&["spec", "show", &spec]);
    let review = &seen["reviews"][0];
    assert_eq!(review["verdict"], "request_changes", "{seen}");
    let threads: Vec<&str> = review["threads"].as_array().expect("threads").iter().filter_map(Value::as_str).collect();
    assert_eq!(threads.len(), 2, "the review carries its two threads: {review}");
    for t in &threads {
        let t = thread(&seen, t);
        assert_eq!(t["comments"].as_array().map(Vec::len), Some(1), "each thread arrives with its comment: {t}");
    }
    let range_thread = threads
        .iter()
        .copied()
        .find(|t| thread(&seen, t)["thread"]["anchor"]["path"] == "docs/faq.md")
        .expect("the range thread")
        .to_owned();
    assert_eq!(thread(&seen, &range_thread)["comments"][0]["id"], range, "the draft's id is the comment's id");
    // Published against the revision it was written on, though r3 arrived first.
    let revisions = contractor.json(&["revisions", &spec]);
    let r2_id = revisions[1]["id"].clone();
    assert_eq!(revisions.as_array().map(Vec::len), Some(3));
    assert_eq!(review["revision_id"], r2_id, "the review names r2: {review}");
    let ledger = contractor.json(&["ledger", &spec]);
    let statuses: Vec<&Value> = ledger["rows"].as_array().expect("rows").iter().map(|r| &r["cells"][1][0]["status"]).collect();
    assert_eq!(statuses, [&Value::from("met"), &Value::from("not_met"), &Value::from("not_applicable")], "{ledger}");
    assert_eq!(ledger["rows"][0]["cells"][1][0]["evidence"]["path"], "docs/faq.md");
    assert_eq!(ledger["acceptance"]["state"], "not_yet", "{ledger}");

    // The contractor may not resolve the reviewer's thread; they claim it with r4, which
    // changes the commented lines.
    let refused = contractor.run(&["thread", "resolve", &range_thread]);
    assert!(!refused.status.success() && stderr(&refused).contains("claims it instead"), "{}", stderr(&refused));
    let mut faq_r4: Vec<String> = faq_new.split_inclusive('\n').map(str::to_owned).collect();
    faq_r4[3] = "  https://www.dearimgui.com/faq (redirects to the page below)\n".into();
    write(&r4, "docs/faq.md", &faq_r4.concat());
    write(&r4, "README.md", "Build with `make all`.\n");
    contractor.ok(&["spec", "status", &spec, "in_progress"]);
    contractor.ok(&["deliver", &spec, &r4.to_string_lossy(), "--note", "link explained", "--addresses", &range_thread]);
    contractor.ok(&["spec", "status", &spec, "delivered"]);
    contractor.sync();
    reviewer.sync();
    server.kill();

    // Offline again, the reviewer sees the claim and confirms it.
    let at_reviewer = reviewer.json(&["spec", "show", &spec]);
    let claimed = thread(&at_reviewer, &range_thread);
    assert_eq!(claimed["claimed_in"], 4, "addressed in r4 (claimed): {claimed}");
    assert!(reviewer.ok(&["thread", "show", &range_thread]).contains("addressed in r4 (claimed)"));
    reviewer.ok(&["thread", "confirm", &range_thread]);

    // Acceptance: an approval that leaves a criterion unchecked does not settle it.
    reviewer.ok(&["spec", "status", &spec, "in_review"]);
    reviewer.ok(&["review", &spec, "4", "--verdict", "approve", "--criterion", "1=met", "--criterion", "2=met"]);
    let not_yet = reviewer.run(&["spec", "status", &spec, "accepted"]);
    assert!(
        stderr(&not_yet).contains("does not mark \"Translated to French\" met or not applicable"),
        "refused with the criterion named: {}",
        stderr(&not_yet)
    );
    server.start();
    reviewer.sync();
    contractor.sync();
    let after = contractor.json(&["spec", "show", &spec]);
    let history = &thread(&after, &range_thread)["history"];
    let kinds: Vec<&str> = history.as_array().expect("history").iter().filter_map(|h| h["kind"].as_str()).collect();
    assert_eq!(kinds, ["claim", "resolve"], "the history shows claim and verdict: {history}");

    // Only an owner overrides, with a reason everyone sees.
    let refused = reviewer.run(&["spec", "status", &spec, "accepted", "--override", "Client signed off by mail"]);
    assert!(stderr(&refused).contains("may not move a spec to accepted by override"), "{}", stderr(&refused));
    owner.sync();
    owner.ok(&["spec", "status", &spec, "accepted", "--override", "Client signed off by mail"]);
    // A criterion removed after reviews referenced it: the ledger keeps it, as reviewed.
    owner.ok(&["spec", "edit", &spec, "--remove-criterion", "3"]);
    owner.sync();

    // Viewed marks: the reviewer marks both files of r2 on this machine; on a second device
    // they hold where the content is the same (README in r3 changed, so only the FAQ holds).
    reviewer.ok(&["viewed", &spec, "2", "docs/faq.md"]);
    reviewer.ok(&["viewed", &spec, "2", "README.md"]);
    reviewer.sync();
    let laptop = Cli::new(cli_bin.clone(), root.join("rae-laptop"));
    laptop.ok(&["login", "--server", &url, "--email", &reviewer_email]);
    laptop.sync();
    contractor.sync();
    server.kill();

    assert_eq!(laptop.json(&["viewed", &spec, "2"])["viewed"], serde_json::json!(["README.md", "docs/faq.md"]));
    let at_r3 = laptop.json(&["viewed", &spec, "3"]);
    assert_eq!((at_r3["viewed"].clone(), at_r3["total"].clone()), (serde_json::json!(["docs/faq.md"]), Value::from(2)));
    assert!(laptop.ok(&["viewed", &spec, "4"]).contains("0 of 2 files viewed"), "both files changed by r4");
    // The contractor, offline, reads the accepted spec and the override in the ledger.
    let ledger = contractor.json(&["ledger", &spec]);
    assert_eq!(ledger["override_"]["reason"], "Client signed off by mail", "{ledger}");
    let removed: Vec<(&str, bool)> = ledger["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| Some((r["text"].as_str()?, r["removed"].as_bool()?)))
        .collect();
    assert_eq!(
        removed,
        [("Every question has an answer", false), ("Links work", false), ("Translated to French", true)],
        "{ledger}"
    );
    assert_eq!(contractor.json(&["spec", "show", &spec])["spec"]["status"], "accepted");
}

#[test]
fn two_reviewers_partitioned_each_publish_a_review_of_the_same_revision_and_both_stand() {
    let (cli_bin, server_bin) = binaries();
    let dir = tempfile::tempdir().expect("root");
    let root = dir.path();
    let mut server = Server { bin: server_bin, data: root.join("server"), port: free_port(), child: None };
    let url = format!("http://127.0.0.1:{}", server.port);
    let mut people = Vec::new();
    for (name, role) in [("ana", "owner"), ("cole", "contractor"), ("rae", "reviewer"), ("ray", "reviewer")] {
        let email = format!("{name}@partition.io");
        let code = server.invite(&email, role);
        people.push((Cli::new(cli_bin.clone(), root.join(name)), email, code));
    }
    server.start();
    for (cli, email, code) in &people {
        cli.ok(&["join", "--server", &url, "--invite", code, "--email", email, "--name", email]);
    }
    let [(owner, _, _), (contractor, contractor_email, _), (rae, _, _), (ray, _, _)] = &people[..] else { panic!("four people") };
    let spec = owner.ok(&["spec", "new", "--title", "Partitioned", "--criterion", "Builds"]).trim().to_owned();
    owner.ok(&["spec", "assign", &spec, contractor_email]);
    owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    owner.sync();
    contractor.sync();
    let r1 = root.join("r1");
    write(&r1, "docs/faq.md", &fixture("faq-md.new"));
    contractor.ok(&["spec", "status", &spec, "in_progress"]);
    contractor.ok(&["deliver", &spec, &r1.to_string_lossy()]);
    contractor.ok(&["spec", "status", &spec, "delivered"]);
    contractor.sync();
    rae.sync();
    ray.sync();
    server.kill();

    // Each reviewer, cut off from the other, comments on the same lines and publishes.
    for (who, verdict, status) in [(rae, "approve", "1=met"), (ray, "request-changes", "1=not-met:fails on a clean checkout")] {
        who.ok(&["comment", &spec, "1", "--file", "docs/faq.md", "--lines", "1-2", "--text", "Heading?"]);
        who.ok(&["review", &spec, "1", "--verdict", verdict, "--criterion", status]);
    }
    server.start();
    rae.sync();
    ray.sync();
    rae.sync();
    contractor.sync();
    server.kill();

    for who in [rae, ray, contractor] {
        let detail = who.json(&["spec", "show", &spec]);
        let reviews = detail["reviews"].as_array().expect("reviews");
        assert_eq!(reviews.len(), 2, "both reviews stand: {detail}");
        assert_eq!(detail["threads"].as_array().map(Vec::len), Some(2), "both reviews' threads: {detail}");
        let ledger = who.json(&["ledger", &spec]);
        let cell: Vec<&str> =
            ledger["rows"][0]["cells"][0].as_array().expect("cell").iter().filter_map(|e| e["status"].as_str()).collect();
        assert_eq!(cell.len(), 2, "the cell holds both reviewers' statuses: {ledger}");
        assert!(cell.contains(&"met") && cell.contains(&"not_met"), "{ledger}");
        assert_eq!(ledger["acceptance"]["reason"], "ray@partition.io requested changes on revision 1", "{ledger}");
    }
}

/// The ids `spec show` prints resolve, even for threads one review opened in the same
/// millisecond (they share their time prefix).
#[test]
fn printed_thread_ids_of_one_review_resolve() {
    let (cli_bin, _) = binaries();
    let dir = tempfile::tempdir().expect("root");
    let me = Cli::new(cli_bin, dir.path().join("me"));
    let spec = me.ok(&["spec", "new", "--title", "Short ids"]).trim().to_owned();
    let r1 = dir.path().join("r1");
    write(&r1, "a.txt", "one\ntwo\nthree\n");
    me.ok(&["deliver", &spec, &r1.to_string_lossy()]);
    for line in ["1", "2", "3"] {
        me.ok(&["comment", &spec, "1", "--file", "a.txt", "--lines", line, "--text", "why?"]);
    }
    me.ok(&["review", &spec, "1", "--verdict", "comment"]);
    let shown = me.ok(&["spec", "show", &spec]);
    let ids: Vec<&str> = shown.lines().filter(|l| l.contains("a.txt:")).filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(ids.len(), 3, "{shown}");
    for id in ids {
        assert!(me.ok(&["thread", "show", id]).contains("why?"), "{id} resolves");
    }
}
