//! Export and import through the real binaries (issue #15): an owner and a contractor on two
//! data dirs and a real server; three revisions of real text (the WHATWG HTML source and the
//! imgui FAQ from `shared/fixtures`) with a binary file changed and added, a rename, a removal
//! and an executable; a thread with a reply and a review. With the server stopped, the owner
//! exports; the folder is imported into an empty data dir and exported again, byte for byte
//! the same; its patches, applied in order with `git apply` onto revision 1, rebuild every
//! later revision; importing again duplicates nothing; and a folder with a missing file, a
//! changed file, a path out of the folder or a newer format is refused by name, leaving the
//! store as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::procs::{Cli, Team, binaries, copy_dir};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff");

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the shared fixture {}: {e}", path.display()))
}

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Bytes that are not text (NULs, invalid UTF-8), a few KB, the same on every run.
fn binary(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x & 0xff) as u8);
    }
    out
}

/// Every file under `dir` (a `.git` folder aside): relative path → (bytes, executable).
fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).into_iter().filter_entry(|e| e.file_name() != ".git") {
        let entry = entry.expect("walk");
        if entry.file_type().is_file() {
            use std::os::unix::fs::PermissionsExt;
            let executable = entry.metadata().expect("metadata").permissions().mode() & 0o111 != 0;
            let rel = entry.path().strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
            out.insert(rel, (std::fs::read(entry.path()).expect("read"), executable));
        }
    }
    out
}

/// Row counts of a data dir's store, and the blobs it holds.
fn store_counts(data: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open_with_flags(data.join("store.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open store");
    let mut out: Vec<(String, i64)> = [
        "specs",
        "criteria",
        "deliverables",
        "revisions",
        "revision_files",
        "threads",
        "comments",
        "reviews",
        "acceptance_overrides",
        "archived_specs",
        "workspaces",
        "blobs",
        "outbox",
        "synced_records",
        "sync_cursors",
    ]
    .iter()
    .map(|t| (t.to_string(), conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).expect("count")))
    .collect();
    let blob_files = walkdir::WalkDir::new(data.join("blobs"))
        .into_iter()
        .filter(|e| e.as_ref().is_ok_and(|e| e.file_type().is_file()))
        .count();
    out.push(("blob files".into(), blob_files as i64));
    out
}

fn failure(cli: &Cli, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = cli.run(&all);
    assert!(!out.status.success(), "handoff {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    serde_json::from_slice(&out.stderr).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_engagement_exported_offline_round_trips_byte_for_byte_and_its_patches_rebuild_every_revision() {
    let mut team = Team::new();
    team.server.start();
    let owner = team.join("ana", "owner");
    let contractor = team.join("cole", "contractor");
    let spec = owner
        .ok(&[
            "spec",
            "new",
            "--title",
            "HTML standard mirror",
            "--criterion",
            "The standard renders",
            "--criterion",
            "The logo loads",
        ])
        .trim()
        .to_owned();
    let context = team.root.join("context.md");
    write(&team.root, "context.md", b"A static mirror of the WHATWG HTML standard.\n");
    owner.ok(&["spec", "edit", &spec, "--context-file", &context.to_string_lossy()]);
    owner.ok(&["spec", "assign", &spec, "cole@wedge.io"]);
    owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    owner.sync();

    // Three revisions of real text: the HTML source at three points of its history, the FAQ
    // renamed in r2 and edited in r3; a binary logo changed in r2, a binary icon added in r3; a
    // file removed in r2; an executable build script from r2; no final newline in r3's source.
    contractor.sync();
    contractor.ok(&["spec", "status", &spec, "in_progress"]);
    let root = team.root.clone();
    let (r1, r2, r3) = (root.join("r1"), root.join("r2"), root.join("r3"));
    write(&r1, "source.html", &fixture("whatwg-source.old-mid"));
    write(&r1, "faq.md", &fixture("faq-md.old-large"));
    write(&r1, "assets/logo.png", &binary(1, 4000));
    write(&r1, "obsolete.txt", b"to be removed\n");
    write(&r2, "source.html", &fixture("whatwg-source.old-small"));
    write(&r2, "docs/faq.md", &fixture("faq-md.old-large"));
    write(&r2, "assets/logo.png", &binary(2, 4100));
    write(&r2, "build.sh", b"#!/bin/sh\nmake all\n");
    make_executable(&r2.join("build.sh"));
    write(&r3, "source.html", &fixture("whatwg-source.new"));
    write(&r3, "docs/faq.md", &fixture("faq-md.new"));
    write(&r3, "assets/logo.png", &binary(2, 4100));
    write(&r3, "assets/icon.ico", &binary(3, 1500));
    write(&r3, "build.sh", b"#!/bin/sh\nmake all\n");
    make_executable(&r3.join("build.sh"));
    for (dir, note) in [(&r1, "first mirror"), (&r2, "FAQ moved under docs/, new logo"), (&r3, "latest standard, icon")] {
        contractor.ok(&["deliver", &spec, &dir.to_string_lossy(), "--note", note]);
    }
    contractor.ok(&["spec", "status", &spec, "delivered"]);
    contractor.sync();

    // The owner reviews r3: a line comment and a criterion per status; a spec thread the
    // contractor answers.
    owner.sync();
    owner.ok(&["spec", "status", &spec, "in_review"]);
    owner.ok(&["comment", &spec, "3", "--file", "docs/faq.md", "--lines", "3-5", "--text", "Say where the short link points."]);
    owner.ok(&[
        "review",
        &spec,
        "3",
        "--verdict",
        "request-changes",
        "--summary",
        "Renders; the logo is wrong.",
        "--criterion",
        "1=met:renders in three browsers@source.html:1-20",
        "--criterion",
        "2=not-met:the old logo is still served",
    ]);
    let question = owner.ok(&["thread", "new", &spec, "--text", "Which browsers did you try?"]).trim().to_owned();
    owner.ok(&["spec", "status", &spec, "changes_requested"]);
    owner.sync();
    contractor.sync();
    contractor.ok(&["thread", "reply", &question, "--text", "Firefox, Chromium and WebKit."]);
    contractor.sync();
    owner.sync();
    assert_eq!(owner.json(&["outbox"]).as_array().map(Vec::len), Some(0), "everything is on the server");

    // The server goes away; the owner exports from what is on this machine.
    team.server.kill();
    let first = root.join("export-1");
    let report = owner.json(&["export", &spec, "--out", &first.to_string_lossy()]);
    assert_eq!(
        (&report["revisions"], &report["patches"], &report["threads"], &report["comments"], &report["reviews"]),
        (&Value::from(3), &Value::from(2), &Value::from(2), &Value::from(3), &Value::from(1)),
        "{report}"
    );
    let exported = tree(&first);
    for part in ["README.md", "spec.md", "spec.json", "ledger.md", "ledger.json", "manifest.json", "patches/001-002.patch"] {
        assert!(exported.contains_key(part), "{part} in the folder");
    }
    let spec_md = String::from_utf8_lossy(&exported["spec.md"].0).into_owned();
    assert!(spec_md.contains("HTML standard mirror") && spec_md.contains("changes_requested"), "{spec_md}");
    let manifest: Value = serde_json::from_slice(&exported["manifest.json"].0).expect("manifest");
    assert_eq!(manifest["files"].as_array().map(Vec::len), Some(exported.len() - 1), "every other file listed");

    // Into a fresh, empty data dir (no server, no account), and out again: the same bytes.
    let (cli_bin, _) = binaries();
    let fresh = Cli::new(cli_bin.clone(), root.join("fresh"));
    let imported = fresh.json(&["import", &first.to_string_lossy()]);
    assert_eq!(imported["imported"]["revisions"], 3, "{imported}");
    assert_eq!(imported["imported"]["comments"], 3, "{imported}");
    assert_eq!(imported["spec_id"].as_str(), Some(spec.as_str()), "the same ids: {imported}");
    let second = root.join("export-2");
    fresh.ok(&["export", &spec, "--out", &second.to_string_lossy()]);
    let again = tree(&second);
    assert_eq!(again.keys().collect::<Vec<_>>(), exported.keys().collect::<Vec<_>>(), "the same files");
    for (path, content) in &exported {
        assert!(again[path] == *content, "{path} differs after the round trip");
    }
    // The restored spec reads the same to a person: ids, authors, times.
    let original = owner.json(&["spec", "show", &spec]);
    let restored = fresh.json(&["spec", "show", &spec]);
    for key in ["spec", "revisions", "reviews", "ledger"] {
        assert_eq!(restored[key], original[key], "{key} restored exactly");
    }
    assert_eq!(fresh.json(&["outbox"]).as_array().map(Vec::len), Some(0), "an import queues nothing to push");

    // The patches, in order, onto a copy of revision 1 in a scratch git repository: each
    // rebuilds the next revision exactly (renames, removals, binaries, modes).
    let work = root.join("apply");
    copy_dir(&first.join("revisions/001/files"), &work);
    git(&work, &["init", "-q"]);
    let patches: Vec<PathBuf> = {
        let mut p: Vec<PathBuf> =
            std::fs::read_dir(first.join("patches")).expect("patches").map(|e| e.expect("entry").path()).collect();
        p.sort();
        p
    };
    assert_eq!(patches.len(), 2);
    for (i, patch) in patches.iter().enumerate() {
        git(&work, &["apply", &patch.to_string_lossy()]);
        let want = tree(&first.join(format!("revisions/{:03}/files", i + 2)));
        let got = tree(&work);
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "files of revision {}", i + 2);
        for (path, content) in &want {
            assert!(got[path] == *content, "{path} of revision {} differs after git apply", i + 2);
        }
    }

    // Importing the same folder again adds nothing.
    let counts = store_counts(&fresh.data);
    let twice = fresh.json(&["import", &first.to_string_lossy()]);
    assert_eq!(twice["imported"]["revisions"], 0, "{twice}");
    assert_eq!(twice["skipped"]["comments"], 3, "{twice}");
    assert_eq!(store_counts(&fresh.data), counts, "nothing duplicated");
    // The archive is read-only.
    let refused = failure(&fresh, &["spec", "edit", &spec, "--title", "Mine now"]);
    assert_eq!(refused["code"], "spec_archived", "{refused}");

    // Tampered folders: each refused by name, and neither an empty store nor one holding the
    // archive changes.
    let empty = Cli::new(cli_bin, root.join("empty"));
    empty.ok(&["status"]);
    let tamper = |name: &str, edit: &dyn Fn(&Path)| {
        let dir = root.join(name);
        copy_dir(&first, &dir);
        edit(&dir);
        dir
    };
    let edit_manifest = |dir: &Path, f: &dyn Fn(&mut Value)| {
        let path = dir.join("manifest.json");
        let mut m: Value = serde_json::from_slice(&std::fs::read(&path).expect("manifest")).expect("json");
        f(&mut m);
        std::fs::write(path, serde_json::to_vec_pretty(&m).expect("json")).expect("write");
    };
    let cases: Vec<(PathBuf, &str, &str)> = vec![
        (
            tamper("missing", &|d| std::fs::remove_file(d.join("revisions/002/files/assets/logo.png")).expect("rm")),
            "import_missing_file",
            "revisions/002/files/assets/logo.png",
        ),
        (tamper("changed", &|d| write(d, "spec.md", b"# A different spec\n")), "import_changed_file", "spec.md"),
        (
            tamper("escaping", &|d| edit_manifest(d, &|m| m["files"][0]["path"] = "../outside.txt".into())),
            "import_path_escapes",
            "../outside.txt",
        ),
        (tamper("newer", &|d| edit_manifest(d, &|m| m["version"] = 2.into())), "import_newer_format", "newer Handoff"),
    ];
    for store in [&empty, &fresh] {
        let before = store_counts(&store.data);
        for (dir, code, names) in &cases {
            let e = failure(store, &["import", &dir.to_string_lossy()]);
            assert_eq!(e["code"], *code, "{e}");
            let message = e["message"].as_str().unwrap_or_default();
            assert!(message.contains(names) && message.contains("nothing was imported"), "{message}");
            assert_eq!(store_counts(&store.data), before, "{code} left the store as it was");
        }
    }
}
