//! Real processes: the `handoff-server` binary and two `handoff` CLI clients with their own
//! data dirs. Offline edits on both sides, the server SIGKILLed during a large push and
//! restarted, a client SIGKILLed during a pull; at the end both show the same specs,
//! revisions and threads, nothing doubled.

use std::path::Path;
use std::process::{Command, Stdio};

use super::procs::{Cli, Server, binaries, free_port, wait_until};

/// Comments committed in a client's store, read beside the running CLI (WAL readers do not
/// block its writer).
pub(super) fn comment_rows(cli: &Cli) -> i64 {
    rusqlite::Connection::open_with_flags(cli.data.join("store.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM comments", [], |r| r.get(0)))
        .unwrap_or(0)
}

/// What must be equal on both clients: specs with their fields, revisions, threads.
pub(super) fn view(cli: &Cli) -> serde_json::Value {
    let mut specs = cli.json(&["spec", "list"]);
    let mut out = Vec::new();
    for s in specs.as_array_mut().into_iter().flatten() {
        let id = s["id"].as_str().unwrap_or_default().to_owned();
        let mut d = cli.json(&["spec", "show", &id]);
        let mut threads = d["threads"].take();
        for t in threads.as_array_mut().into_iter().flatten() {
            let comments = t["comments"].as_array().map(|c| c.len()).unwrap_or(0);
            let ids: std::collections::BTreeSet<String> =
                t["comments"].as_array().into_iter().flatten().map(|c| c["id"].to_string()).collect();
            assert_eq!(ids.len(), comments, "a comment appears twice");
        }
        out.push(serde_json::json!({ "spec": d["spec"].take(), "revisions": d["revisions"].take(), "threads": threads }));
    }
    serde_json::Value::Array(out)
}

#[test]
fn server_and_clients_killed_mid_sync_lose_nothing_and_double_nothing() {
    let (cli_bin, server_bin) = binaries();
    let root = tempfile::tempdir().expect("root");
    let mut server = Server { bin: server_bin, data: root.path().join("server"), port: free_port(), child: None };
    let url = format!("http://127.0.0.1:{}", server.port);
    let owner = server.invite("ana@proc.io", "owner");
    let reviewer = server.invite("ben@proc.io", "reviewer");
    server.start();
    let a = Cli::new(cli_bin.clone(), root.path().join("a"));
    let b = Cli::new(cli_bin, root.path().join("b"));

    // A works offline before joining; joining keeps it.
    let spec = a.ok(&["spec", "new", "--title", "Billing export", "--criterion", "CSV per month"]).trim().to_owned();
    a.ok(&["join", "--server", &url, "--invite", &owner, "--email", "ana@proc.io", "--name", "Ana"]);
    b.ok(&["join", "--server", &url, "--invite", &reviewer, "--email", "ben@proc.io", "--name", "Ben"]);
    assert!(a.sync().contains("pushed 1 change"), "the offline spec is pushed");
    b.sync();
    assert_eq!(b.json(&["spec", "list"]).as_array().map(Vec::len), Some(1));
    let status = a.ok(&["status"]);
    assert!(status.contains("online") && status.contains("0 pending"), "{status}");

    // Both edit the same spec while the server is down.
    server.kill();
    let notes_a = root.path().join("notes-a.md");
    std::fs::write(&notes_a, "Export runs nightly.\n").expect("notes");
    a.ok(&["spec", "edit", &spec, "--title", "Billing export v2", "--notes-file", &notes_a.to_string_lossy()]);
    let thread = b.ok(&["thread", "new", &spec, "--text", "Which currency?"]).trim().to_owned();
    b.ok(&["spec", "edit", &spec, "--add-criterion", "Totals match the ledger"]);
    let offline = a.run(&["sync"]);
    assert!(!offline.status.success(), "sync fails while the server is down");
    let status = a.ok(&["status"]);
    assert!(status.contains("offline") && status.contains("pending"), "{status}");
    server.start();
    a.sync();
    b.sync();
    a.sync();

    // A large push: a delivery with big files and many replies; the server is killed mid-push.
    let work = root.path().join("work");
    std::fs::create_dir_all(&work).expect("work");
    let mut seed = 7u64;
    for f in 0..3 {
        let bytes: Vec<u8> = (0..6 * 1024 * 1024)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (seed >> 56) as u8
            })
            .collect();
        std::fs::write(work.join(format!("data{f}.bin")), bytes).expect("big file");
    }
    a.ok(&["deliver", &spec, &work.to_string_lossy(), "--note", "big drop"]);
    for i in 0..40 {
        a.ok(&["thread", "reply", &thread, "--text", &format!("reply {i}")]);
    }
    let mut push = a.cmd(&["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn sync");
    // Killed while a blob of the delivery is streaming into the server's temp folder: the
    // push has started and not finished.
    let receiving = server.data.join("blobs").join("tmp");
    // A `.part` is a temp file its writer named after locking it: the upload is streaming.
    let mid_upload = wait_until(|| {
        std::fs::read_dir(&receiving).is_ok_and(|d| d.flatten().any(|e| e.path().extension().is_some_and(|x| x == "part")))
    });
    server.kill();
    assert!(mid_upload, "the server never started receiving the delivery");
    let _ = push.wait();
    server.start();
    let left: Vec<_> = std::fs::read_dir(&receiving).expect("tmp").flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "the killed upload's temp file is swept when the server starts: {left:?}");
    // Pushed in batches of 5, so the server holds the replies as several commits and a
    // pull can stop between them.
    a.ok(&["sync", "--batch-size", "5"]);

    // B pulls all of it in small pages and is killed once some, not all, are committed; a
    // second run completes.
    let mut pull = b.cmd(&["sync", "--page-size", "5"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn pull");
    let comments_before = comment_rows(&b);
    let mid_pull = wait_until(|| comment_rows(&b) > comments_before);
    let _ = pull.kill();
    let _ = pull.wait();
    let comments_at_kill = comment_rows(&b);
    assert!(mid_pull, "B never committed a pulled page");
    assert!(comments_at_kill < 41, "B was killed after its pull had finished ({comments_at_kill} comments)");
    b.sync();
    a.sync();

    let (va, vb) = (view(&a), view(&b));
    assert_eq!(va, vb, "both clients show the same specs, revisions and threads");
    let s = &va[0];
    assert_eq!(s["spec"]["title"], "Billing export v2");
    assert_eq!(s["spec"]["sections"]["notes"], "Export runs nightly.\n");
    assert_eq!(s["spec"]["criteria"].as_array().map(Vec::len), Some(2));
    assert_eq!(s["revisions"].as_array().map(Vec::len), Some(1), "one revision, not two");
    assert_eq!(s["revisions"][0]["number"], 1);
    assert_eq!(s["threads"][0]["comments"].as_array().map(Vec::len), Some(41), "every reply exactly once");
    for c in [&a, &b] {
        let st = c.json(&["status"]);
        assert_eq!((st["pending"].as_u64(), st["attention"].as_u64()), (Some(0), Some(0)), "{st}");
    }
    let _ = Path::new(&url);
}

#[test]
fn without_a_keychain_join_names_the_fix_and_the_file_opt_in_works() {
    let (cli_bin, _) = binaries();
    let root = tempfile::tempdir().expect("root");
    let out = Command::new(&cli_bin)
        .arg("--data-dir")
        .arg(root.path())
        .args(["join", "--server", "http://127.0.0.1:9", "--invite", "x", "--email", "a@b.io", "--name", "A"])
        .env("HANDOFF_PASSWORD", "pw")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/handoff-test-bus")
        .env_remove("HANDOFF_INSECURE_TOKEN_FILE")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keychain") && err.contains("--insecure-token-file"), "{err}");
}
