//! The `handoff` binary as a user runs it: several processes on one data dir at once, and
//! bad input answered on stderr with a non-zero exit and nothing written.

use std::path::Path;
use std::process::{Command, Output};

use handoff_tests::workspace_bin;

fn handoff(data: &Path, args: &[&str]) -> Output {
    Command::new(workspace_bin("handoff")).arg("--data-dir").arg(data).args(args).output().expect("run handoff")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = handoff(data, args);
    assert!(out.status.success(), "handoff {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn json(data: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(data, &all)).expect("json output")
}

/// What an action writes is decided inside its write transaction: processes appending
/// criteria at once each place theirs after the criterion that was last *when it committed*,
/// so every `criterion.add` names the one committed before it and none lands in the middle.
/// (Deciding from a read taken before the write lock let two appends name the same
/// predecessor, and one of them moved in front of the other.)
#[test]
fn concurrent_cli_processes_decide_each_change_inside_its_write() {
    let data = tempfile::tempdir().expect("tempdir");
    let spec = ok(data.path(), &["spec", "new", "--title", "Shared", "--criterion", "seed"]);
    const PROCESSES: usize = 8;
    const EACH: usize = 4;
    // 1 + 8 × 4 × 6 = 193 criteria: under the limit of 200 a spec may hold.
    const PER_EDIT: usize = 6;
    let workers: Vec<_> = (0..PROCESSES)
        .map(|p| {
            let data = data.path().to_owned();
            let spec = spec.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    // A long section keeps each write busy indexing it for a while, so the
                    // other processes often wait for the lock: a decision taken before
                    // waiting would be stale by the time it is written.
                    let file = data.join(format!("context-{p}-{i}.md"));
                    let words: String = (0..20_000).map(|w| format!("w{p}x{i}x{w} ")).collect();
                    std::fs::write(&file, words).expect("write");
                    let mut args = vec!["spec".to_owned(), "edit".into(), spec.clone(), "--context-file".into()];
                    args.push(file.to_string_lossy().into_owned());
                    for k in 0..PER_EDIT {
                        args.extend(["--add-criterion".to_owned(), format!("c{p}-{i}-{k}")]);
                    }
                    ok(&data, &args.iter().map(String::as_str).collect::<Vec<_>>());
                    // Reading while others write never fails with "database is locked".
                    ok(&data, &["--json", "spec", "show", &spec]);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let shown = json(data.path(), &["spec", "show", &spec]);
    let criteria: Vec<(String, String)> = shown["spec"]["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .map(|c| (c["id"].as_str().unwrap_or_default().to_owned(), c["text"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(criteria.len(), 1 + PROCESSES * EACH * PER_EDIT, "every criterion is there");
    let outbox = json(data.path(), &["outbox"]);
    let entries = outbox.as_array().expect("outbox");
    let mutation = |e: &serde_json::Value| e["envelope"]["mutation"].clone();
    let adds: Vec<serde_json::Value> = entries.iter().map(mutation).filter(|m| m["kind"] == "criterion.add").collect();
    let mut last = criteria[0].0.clone();
    for m in &adds {
        assert_eq!(m["after"].as_str(), Some(last.as_str()), "each append follows the one committed before it: {m}");
        last = m["criterion_id"].as_str().unwrap_or_default().to_owned();
    }
    let in_commit_order: Vec<&str> = adds.iter().filter_map(|m| m["text"].as_str()).collect();
    let in_spec: Vec<&str> = criteria[1..].iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(in_spec, in_commit_order, "the spec lists criteria in the order they were added");
    let mut text = String::new();
    for m in entries.iter().map(mutation).filter(|m| m["kind"] == "spec.edit_section") {
        assert_eq!(m["base"].as_str(), Some(text.as_str()), "each section edit's base is the text it replaced: {m}");
        text = m["text"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(shown["spec"]["sections"]["system_context"].as_str(), Some(text.as_str()));
}

#[test]
fn concurrent_cli_processes_on_one_data_dir_lose_nothing() {
    let data = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    std::fs::write(work.path().join("a.txt"), "a\n").expect("write");
    // The first open creates the store; the rest race on an existing one.
    let first = ok(data.path(), &["spec", "new", "--title", "seed"]);
    const PROCESSES: usize = 8;
    const EACH: usize = 10;
    let workers: Vec<_> = (0..PROCESSES)
        .map(|p| {
            let data = data.path().to_owned();
            let work = work.path().to_owned();
            let first = first.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    let title = format!("spec {p}-{i}");
                    ok(&data, &["spec", "new", "--title", &title, "--criterion", "holds"]);
                    if i % 5 == 0 {
                        ok(&data, &["deliver", &first, &work.to_string_lossy()]);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let specs = json(data.path(), &["spec", "list"]);
    assert_eq!(specs.as_array().map(Vec::len), Some(1 + PROCESSES * EACH));
    let revisions = json(data.path(), &["revisions", &first]);
    let mut numbers: Vec<u64> = revisions.as_array().expect("array").iter().filter_map(|r| r["number"].as_u64()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=(PROCESSES * 2) as u64).collect::<Vec<_>>(), "dense, unique revision numbers");
    let outbox = json(data.path(), &["outbox"]);
    let ids: Vec<u64> = outbox.as_array().expect("array").iter().filter_map(|e| e["mutation_id"].as_u64()).collect();
    // One spec.create per spec, one deliverable.create, and PROCESSES*2 revisions.
    let expected = 1 + PROCESSES * EACH + 1 + PROCESSES * 2;
    assert_eq!(ids, (1..=expected as u64).collect::<Vec<_>>(), "outbox ids dense and in order");
    let conn = rusqlite::Connection::open(data.path().join("store.db")).expect("open");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
    assert_eq!(check, "ok");
}

#[test]
fn bad_input_fails_with_a_message_and_writes_nothing() {
    let data = tempfile::tempdir().expect("tempdir");
    let spec = ok(data.path(), &["spec", "new", "--title", "Importer"]);
    let cases: &[(&[&str], &str)] = &[
        (&["spec", "new", "--title", ""], "title must not be empty"),
        (&["spec", "status", &spec, "accepted"], "a spec cannot move from draft to accepted"),
        (&["spec", "status", &spec, "shipped"], "unknown status \"shipped\""),
        (&["spec", "show", "ffffffff"], "no spec ffffffff"),
        (&["deliver", &spec, "/nonexistent/folder"], "cannot read /nonexistent/folder"),
        (&["spec", "edit", &spec, "--due", "2026-13-01"], "the month must be 01 to 12"),
        (&["spec", "edit", &spec, "--context-file", "/nonexistent.md", "--title", "Renamed"], "cannot read /nonexistent.md"),
        (&["thread", "new", &spec, "--text", "x", "--rev", "1", "--file", "a", "--lines", "1"], "no revision 1"),
    ];
    for (args, message) in cases {
        let out = handoff(data.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(stderr.contains(message), "{args:?}: stderr {stderr:?} lacks {message:?}");
    }
    let err = handoff(data.path(), &["--json", "spec", "new", "--title", " "]);
    let body: serde_json::Value = serde_json::from_slice(&err.stderr).expect("json error");
    assert_eq!(body["code"], "invalid");
    let shown = json(data.path(), &["spec", "show", &spec]);
    assert_eq!(shown["spec"]["title"], "Importer", "the failed multi-part edit changed nothing");
    assert_eq!(json(data.path(), &["outbox"]).as_array().map(Vec::len), Some(1));
}

#[test]
fn a_store_from_a_newer_handoff_is_refused_by_the_cli() {
    let data = tempfile::tempdir().expect("tempdir");
    ok(data.path(), &["status"]);
    let conn = rusqlite::Connection::open(data.path().join("store.db")).expect("open");
    conn.pragma_update(None, "user_version", 1000).expect("bump");
    drop(conn);
    let out = handoff(data.path(), &["spec", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("upgrade Handoff to open it"));
}

#[test]
fn diff_exit_codes_and_patches_that_git_applies() {
    let data = tempfile::tempdir().expect("tempdir");
    let old = tempfile::tempdir().expect("old");
    let new = tempfile::tempdir().expect("new");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff");
    let faq_old = std::fs::read(format!("{fixtures}/faq-md.old-large")).expect("fixture");
    let faq_new = std::fs::read(format!("{fixtures}/faq-md.new")).expect("fixture");
    std::fs::write(old.path().join("FAQ.md"), &faq_old).expect("write");
    std::fs::write(new.path().join("FAQ.md"), &faq_new).expect("write");
    std::fs::write(old.path().join("crlf.txt"), "a\r\nb\r\n").expect("write");
    std::fs::write(new.path().join("crlf.txt"), "a\r\nB\r\nc").expect("write");
    std::fs::write(old.path().join("gone.txt"), "bye\n").expect("write");
    std::fs::create_dir(new.path().join("docs")).expect("dir");
    std::fs::write(new.path().join("docs/new.txt"), "hello\n").expect("write");

    let diff = |args: &[&str]| handoff(data.path(), &[&["diff"], args].concat());
    let same = diff(&[&old.path().to_string_lossy(), &old.path().to_string_lossy()]);
    assert_eq!(same.status.code(), Some(0));
    assert!(same.stdout.is_empty());
    let out = diff(&[&old.path().to_string_lossy(), &new.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    let mixed = diff(&[&old.path().to_string_lossy(), &new.path().join("docs/new.txt").to_string_lossy()]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("cannot compare a folder with a file"));

    // The patch turns a copy of the old folder into the new one, byte for byte.
    let applied = tempfile::tempdir().expect("applied");
    for name in ["FAQ.md", "crlf.txt", "gone.txt"] {
        std::fs::copy(old.path().join(name), applied.path().join(name)).expect("copy");
    }
    let patch = applied.path().join("change.patch");
    std::fs::write(&patch, &out.stdout).expect("patch");
    let git = Command::new("git").args(["apply", "--whitespace=nowarn"]).arg(&patch).current_dir(applied.path()).status();
    assert!(git.map(|s| s.success()).unwrap_or(false), "git apply failed on:\n{}", String::from_utf8_lossy(&out.stdout));
    std::fs::remove_file(&patch).expect("rm");
    for name in ["FAQ.md", "crlf.txt", "docs/new.txt"] {
        assert_eq!(
            std::fs::read(applied.path().join(name)).expect("read"),
            std::fs::read(new.path().join(name)).expect("read"),
            "{name}"
        );
    }
    assert!(!applied.path().join("gone.txt").exists());

    // The same comparison between two delivered revisions of a spec.
    let spec = ok(data.path(), &["spec", "new", "--title", "FAQ"]);
    ok(data.path(), &["deliver", &spec, &old.path().to_string_lossy()]);
    ok(data.path(), &["deliver", &spec, &new.path().to_string_lossy()]);
    let revs = diff(&[&spec, "1", "2"]);
    assert_eq!(revs.status.code(), Some(1));
    assert_eq!(revs.stdout, out.stdout, "revision diff equals the folder diff");
    let stat = String::from_utf8_lossy(&diff(&["--stat", &spec, "1", "2"]).stdout).into_owned();
    assert!(stat.contains("4 files changed, 531 insertions(+), 218 deletions(-)"), "{stat}");
    let json: serde_json::Value = serde_json::from_slice(&diff(&["--format", "json", &spec, "r1", "r2"]).stdout).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert!(json[0]["render"]["hunks"].as_array().is_some_and(|h| !h.is_empty()));
}

#[test]
fn a_review_records_the_verdict_and_each_criterion() {
    let data = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    std::fs::write(work.path().join("export.rs"), "fn export() {}\n").expect("write");
    let spec = ok(
        data.path(),
        &["spec", "new", "--title", "Export", "--criterion", "CSV per month", "--criterion", "Quotes per RFC 4180"],
    );
    ok(data.path(), &["deliver", &spec, &work.path().to_string_lossy()]);
    for (args, message) in [
        (
            vec!["review", &spec, "1", "--verdict", "approve", "--met", "3"],
            "criterion 3 does not exist: this spec has 2 criteria",
        ),
        (vec!["review", &spec, "1", "--verdict", "approve", "--met", "0"], "0 is not in 1..=200"),
        (vec!["review", &spec, "2", "--verdict", "approve"], "no revision 2"),
        (vec!["review", &spec, "1", "--verdict", "maybe"], "invalid value 'maybe'"),
    ] {
        let out = handoff(data.path(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{args:?}: stderr {stderr:?} lacks {message:?}");
    }
    ok(
        data.path(),
        &["review", &spec, "1", "--verdict", "request-changes", "--summary", "Quoting is off", "--met", "1", "--not-met", "2"],
    );
    let shown = json(data.path(), &["spec", "show", &spec]);
    let reviews = shown["reviews"].as_array().expect("reviews");
    assert_eq!(reviews.len(), 1, "the refused reviews wrote nothing: {reviews:?}");
    assert_eq!(
        (reviews[0]["verdict"].as_str(), reviews[0]["summary"].as_str()),
        (Some("request_changes"), Some("Quoting is off"))
    );
    let statuses: Vec<_> = reviews[0]["criteria"].as_array().expect("criteria").iter().map(|c| c["status"].clone()).collect();
    assert_eq!(statuses, [serde_json::json!("met"), serde_json::json!("not_met")]);
}

/// A reader that closes the pipe early (`handoff spec list | head -1`) ends the command
/// quietly with status 0, as `git log | head` does, for text, JSON and diff output alike.
/// The pipe's read end is closed before the process starts, so its first write fails.
#[test]
fn a_closed_pipe_ends_quietly_with_status_zero() {
    let data = tempfile::tempdir().expect("tempdir");
    for n in 0..30 {
        ok(data.path(), &["spec", "new", "--title", &format!("Spec {n}")]);
    }
    let (old, new) = (data.path().join("old.txt"), data.path().join("new.txt"));
    std::fs::write(&old, "a\n").expect("old");
    std::fs::write(&new, "b\n").expect("new");
    let (old, new) = (old.to_string_lossy().into_owned(), new.to_string_lossy().into_owned());
    let runs: [&[&str]; 4] = [&["spec", "list"], &["--json", "spec", "list"], &["search", "Spec"], &["diff", &old, &new]];
    for args in runs {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = Command::new(workspace_bin("handoff"))
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("run handoff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?} ended with {:?}: {stderr}", out.status);
        assert!(stderr.is_empty(), "{args:?} said something on a closed pipe: {stderr:?}");
    }
}

/// Every number typed on the command line is range-checked before anything runs: a
/// position 0 (which once became `0 - 1`), a revision 0, an empty page, a zero batch, a
/// search for no results, a criterion past the most a spec may have, an attention entry 0.
#[test]
fn numeric_arguments_out_of_range_are_refused_by_the_parser() {
    let data = tempfile::tempdir().expect("tempdir");
    let spec = ok(data.path(), &["spec", "new", "--title", "Ranges", "--criterion", "One", "--criterion", "Two"]);
    let cases: &[(&[&str], &str)] = &[
        (&["spec", "edit", &spec, "--remove-criterion", "0"], "0 is not in 1..=200"),
        (&["spec", "edit", &spec, "--remove-criterion", "201"], "201 is not in 1..=200"),
        (&["spec", "edit", &spec, "--set-criterion", "0=x"], "\"0\" is not a criterion position (1 to 200)"),
        (&["spec", "edit", &spec, "--move-criterion", "1=0"], "\"0\" is not a criterion position (1 to 200)"),
        (&["spec", "edit", &spec, "--move-criterion", "1=-1"], "\"-1\" is not a criterion position (1 to 200)"),
        (&["review", &spec, "1", "--verdict", "approve", "--not-met", "0"], "0 is not in 1..=200"),
        (&["review", &spec, "1", "--verdict", "approve", "--criterion", "0=met"], "is not a criterion position"),
        (&["review", &spec, "0", "--verdict", "approve"], "0 is not in 1..=4294967295"),
        (&["comment", &spec, "0", "--text", "x"], "0 is not in 1..=4294967295"),
        (&["viewed", &spec, "0"], "0 is not in 1..=4294967295"),
        (&["fetch", &spec, "0"], "0 is not in 1..=4294967295"),
        (&["thread", "new", &spec, "--text", "x", "--rev", "0", "--file", "a", "--lines", "1"], "0 is not in 1..=4294967295"),
        (&["thread", "new", &spec, "--text", "x", "--rev", "1", "--file", "a", "--lines", "0-2"], "lines count from 1"),
        (&["diff", &spec, "r0", "r1"], "\"r0\" is not a revision number (they count from 1)"),
        (&["diff", "a", "b", "-U", "-1"], "unexpected argument '-1'"),
        (&["diff", "a", "b", "-U", "1000001"], "1000001 is not in 0..=1000000"),
        (&["search", "x", "--limit", "0"], "0 is not in 1..=1000"),
        (&["sync", "--page-size", "0"], "0 is not in 1..=5000"),
        (&["sync", "--batch-size", "501"], "501 is not in 1..=500"),
        (&["attention", "retry", "0"], "0 is not in 1..=9223372036854775807"),
        (&["settings", "--download-limit=-5"], "is not a size"),
    ];
    for (args, message) in cases {
        let out = handoff(data.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should be refused");
        assert!(stderr.contains(message), "{args:?}: stderr {stderr:?} lacks {message:?}");
    }
    let shown = json(data.path(), &["spec", "show", &spec]);
    assert_eq!(shown["spec"]["criteria"].as_array().map(Vec::len), Some(2), "nothing was removed: {shown}");
}
