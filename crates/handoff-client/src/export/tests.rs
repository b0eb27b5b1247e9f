//! Export and import on real SQLite files and real folders in temp dirs.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use handoff_core::*;

use super::format::{FORMAT_VERSION, MANIFEST, Manifest};
use crate::{Client, ClientError, Clock, Code, CriterionInput, ImportProblem, NewSpec, ThreadTarget};

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.fetch_add(1, Ordering::SeqCst))
    }
}

fn client(dir: &Path, start: i64) -> Client {
    Client::open_with_clock(dir, Arc::new(TestClock(AtomicI64::new(start)))).expect("open")
}

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let p = dir.join(path);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, bytes).expect("write");
}

/// Every file under `dir`: relative path → (bytes, executable).
fn folder(dir: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, bool)>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&path).expect("metadata").permissions().mode();
                let rel = path.strip_prefix(root).expect("inside").to_string_lossy().into_owned();
                out.insert(rel, (fs::read(&path).expect("read"), mode & 0o111 != 0));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Asserts two folders hold the same files, naming the first that differs.
fn assert_same_folder(got: &BTreeMap<String, (Vec<u8>, bool)>, want: &BTreeMap<String, (Vec<u8>, bool)>, what: &str) {
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{what}: the same files");
    for (path, content) in want {
        assert!(got[path] == *content, "{what}: {path} differs");
    }
}

/// A spec with three revisions (an edit, a binary file changed, a rename, a removal, an
/// executable), a line thread with a reply, and a review.
fn engagement(c: &Client, work: &Path) -> SpecId {
    let id = c
        .create_spec(NewSpec {
            title: "CSV importer".into(),
            sections: Sections { system_context: "Billing runs nightly.\n".into(), ..Default::default() },
            criteria: vec!["Imports 1M rows".into(), "Reports bad rows by line".into()],
            ..Default::default()
        })
        .expect("create");
    let (r1, r2, r3) = (work.join("r1"), work.join("r2"), work.join("r3"));
    write(&r1, "src/main.rs", b"fn main() {\n    println!(\"hi\");\n}\n");
    write(&r1, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0one");
    write(&r1, "old-notes.md", b"# Notes\n\nfirst\nsecond\nthird\nfourth\n");
    write(&r1, "gone.txt", b"bye\n");
    write(&r2, "src/main.rs", b"fn main() {\n    println!(\"hello\");\n}\n");
    write(&r2, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0two!");
    write(&r2, "docs/notes.md", b"# Notes\n\nfirst\nsecond\nthird\nfourth\nfifth\n");
    write(&r2, "run.sh", b"#!/bin/sh\necho run\n");
    write(&r3, "src/main.rs", b"fn main() {\n    println!(\"hello, world\");\n}");
    write(&r3, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0two!");
    write(&r3, "docs/notes.md", b"# Notes\n\nfirst\nsecond\nthird\nfourth\nfifth\n");
    write(&r3, "run.sh", b"#!/bin/sh\necho run\n");
    {
        use std::os::unix::fs::PermissionsExt;
        for r in [&r2, &r3] {
            fs::set_permissions(r.join("run.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
        }
    }
    for (dir, note) in [(&r1, "first cut"), (&r2, "renamed the notes"), (&r3, "no newline at the end")] {
        c.deliver(id, dir, note, vec![]).expect("deliver");
    }
    let thread = c
        .create_thread(
            id,
            ThreadTarget::Lines { revision: 2, path: "src/main.rs".into(), start: 2, end: 2 },
            "Say hello to whom?",
        )
        .expect("thread");
    c.reply(thread, "The world, in r3.").expect("reply");
    c.create_thread(id, ThreadTarget::Section(SectionKind::SystemContext), "Which timezone?").expect("thread");
    c.publish_review(
        id,
        3,
        Verdict::Approve,
        "Good",
        vec![
            CriterionInput { position: 1, status: AcceptanceStatus::Met, note: "checked".into(), evidence: None },
            CriterionInput { position: 2, status: AcceptanceStatus::NotApplicable, note: String::new(), evidence: None },
        ],
    )
    .expect("review");
    id
}

fn counts(c: &Client) -> Vec<i64> {
    let conn = c.conn();
    [
        "specs",
        "deliverables",
        "revisions",
        "revision_files",
        "threads",
        "comments",
        "reviews",
        "outbox",
        "blobs",
        "archived_specs",
        "workspaces",
        "synced_records",
    ]
    .iter()
    .map(|t| conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).expect("count"))
    .collect()
}

#[test]
fn an_export_is_deterministic_and_survives_an_import_into_an_empty_store_byte_for_byte() {
    let (home, work, away, out) = (
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
    );
    let c = client(home.path(), 1_750_000_000_000);
    let id = engagement(&c, work.path());
    let first = out.path().join("first");
    let report = c.export_spec(id, &first).expect("export");
    assert_eq!((report.revisions, report.patches, report.threads, report.comments, report.reviews), (3, 2, 2, 3, 1));

    // The manifest lists every other file, sorted, with its hash and size.
    let files = folder(&first);
    let manifest: Manifest = serde_json::from_slice(&files[MANIFEST].0).expect("manifest");
    assert_eq!(manifest.version, FORMAT_VERSION);
    let listed: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted, "sorted by path");
    let on_disk: Vec<&str> = files.keys().map(String::as_str).filter(|p| *p != MANIFEST).collect();
    assert_eq!(listed, on_disk, "every file listed, nothing else");
    for f in &manifest.files {
        assert_eq!(handoff_diff::sha256_hex(&files[&f.path].0), f.sha256, "{}", f.path);
    }
    assert_eq!(report.files, files.len());
    assert!(files["revisions/002/files/run.sh"].1, "the executable bit is kept");
    assert!(files.contains_key("patches/001-002.patch") && files.contains_key("patches/002-003.patch"));
    let patch = String::from_utf8_lossy(&files["patches/001-002.patch"].0).into_owned();
    assert!(patch.contains("GIT binary patch") && patch.contains("rename from old-notes.md"), "{patch}");

    // The same store exported again: the same bytes.
    let second = out.path().join("second");
    c.export_spec(id, &second).expect("export again");
    assert_same_folder(&folder(&second), &files, "a second export");

    // Imported into an empty store (another clock, another client id), then exported.
    let there = client(away.path(), 1_900_000_000_000);
    let before = counts(&there);
    let imported = there.import_folder(&first).expect("import");
    assert_eq!(imported.imported.revisions, 3);
    assert_eq!(imported.imported.comments, 3);
    assert!(!imported.live_spec_kept);
    let after = counts(&there);
    assert_eq!(after[7], before[7], "nothing queued to push");
    assert_eq!(after[11], 0, "nothing pretends to be synced");
    let third = out.path().join("third");
    there.export_spec(id, &third).expect("export from the import");
    assert_same_folder(&folder(&third), &files, "an export of the import");

    // Importing again writes nothing new.
    let again = there.import_folder(&first).expect("import again");
    assert_eq!(again.imported, crate::ImportCounts::default());
    assert_eq!((again.skipped.revisions, again.skipped.comments, again.skipped.reviews), (3, 3, 1));
    assert_eq!(counts(&there), after);

    // The archive is read-only and says so; reading it works.
    let refused = there.set_title(id, "changed").expect_err("read-only");
    assert_eq!(refused.code(), Code::SpecArchived, "{refused}");
    let detail = there.spec_detail(id).expect("detail");
    assert!(!detail.permissions.edit && !detail.permissions.discuss && detail.permissions.next_statuses.is_empty());
    assert_eq!(counts(&there), after);

    // Into the store it came from: everything is already there, as a live spec.
    let home_again = c.import_folder(&first).expect("import at home");
    assert!(home_again.live_spec_kept);
    assert_eq!(home_again.imported, crate::ImportCounts::default());
}

/// The problem an import of `dir` into a fresh store reports, checking the store is unchanged.
fn refusal(dir: &Path) -> (Code, ImportProblem) {
    let target = tempfile::tempdir().expect("test setup");
    let c = client(target.path(), 1_900_000_000_000);
    let before = counts(&c);
    let blobs_before = folder(&target.path().join("blobs")).len();
    let e = c.import_folder(dir).expect_err("refused");
    assert_eq!(counts(&c), before, "nothing written: {e}");
    assert_eq!(folder(&target.path().join("blobs")).len(), blobs_before, "no blob stored: {e}");
    let code = e.code();
    match e {
        ClientError::ImportRefused { problem, .. } => (code, problem),
        other => panic!("not a refusal: {other}"),
    }
}

#[test]
fn a_tampered_folder_is_refused_by_name_and_writes_nothing() {
    let (home, work, out) = (
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
    );
    let c = client(home.path(), 1_750_000_000_000);
    let id = engagement(&c, work.path());
    let good = out.path().join("good");
    c.export_spec(id, &good).expect("export");
    let copy = |name: &str| {
        let to = out.path().join(name);
        for (rel, (bytes, _)) in folder(&good) {
            write(&to, &rel, &bytes);
        }
        to
    };
    let edit_manifest = |dir: &Path, f: &dyn Fn(&mut serde_json::Value)| {
        let path = dir.join(MANIFEST);
        let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&path).expect("test setup")).expect("test setup");
        f(&mut m);
        fs::write(path, serde_json::to_vec_pretty(&m).expect("test setup")).expect("test setup");
    };

    let missing = copy("missing");
    fs::remove_file(missing.join("revisions/002/files/logo.png")).expect("test setup");
    let (code, problem) = refusal(&missing);
    assert_eq!(
        (code, problem),
        (Code::ImportMissingFile, ImportProblem::MissingFile { path: "revisions/002/files/logo.png".into() })
    );

    let changed = copy("changed");
    write(&changed, "spec.md", b"# Someone else's spec\n");
    let (code, problem) = refusal(&changed);
    assert_eq!(code, Code::ImportChangedFile);
    assert!(matches!(&problem, ImportProblem::ChangedFile { path, .. } if path == "spec.md"), "{problem}");

    let escaping = copy("escaping");
    edit_manifest(&escaping, &|m| m["files"][0]["path"] = "../../etc/passwd".into());
    assert_eq!(
        refusal(&escaping),
        (
            Code::ImportPathEscapes,
            ImportProblem::PathEscapes { path: "../../etc/passwd".into(), reason: "climbs out of the folder with `..`" }
        )
    );

    let absolute = copy("absolute");
    edit_manifest(&absolute, &|m| m["files"][0]["path"] = "/etc/passwd".into());
    assert_eq!(refusal(&absolute).0, Code::ImportPathEscapes);

    let linked = copy("linked");
    fs::remove_file(linked.join("spec.md")).expect("test setup");
    std::os::unix::fs::symlink(good.join("spec.md"), linked.join("spec.md")).expect("test setup");
    let (code, problem) = refusal(&linked);
    assert_eq!(code, Code::ImportPathEscapes, "{problem}");

    let newer = copy("newer");
    edit_manifest(&newer, &|m| {
        m["version"] = (FORMAT_VERSION + 1).into();
        m["files"] = "a shape this build does not know".into();
    });
    assert_eq!(
        refusal(&newer),
        (Code::ImportNewerFormat, ImportProblem::NewerFormat { found: FORMAT_VERSION + 1, supported: FORMAT_VERSION })
    );

    let not_an_export = out.path().join("empty");
    fs::create_dir(&not_an_export).expect("test setup");
    assert_eq!(refusal(&not_an_export).0, Code::ImportMalformed);
}

#[test]
fn an_export_never_leaves_half_a_folder() {
    let (home, work, out) = (
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
        tempfile::tempdir().expect("test setup"),
    );
    let c = client(home.path(), 1_750_000_000_000);
    let id = engagement(&c, work.path());

    // A revision whose files are not here: named, and nothing is written.
    let r2 = c.revision(id, 2).expect("r2");
    let logo = r2.files.iter().find(|f| f.path == "logo.png").expect("logo");
    fs::remove_file(c.blobs().path(&logo.sha256)).expect("test setup");
    let target = out.path().join("engagement");
    let e = c.export_spec(id, &target).expect_err("files missing");
    assert!(matches!(e, ClientError::FilesNotHere { revision: 2, .. }), "{e}");
    assert!(e.to_string().contains("handoff fetch"), "{e}");
    assert_eq!(fs::read_dir(out.path()).expect("test setup").count(), 0, "no folder, no temp folder");

    // A target that holds something is never written into.
    c.blobs().put_bytes(b"\x89PNG\r\n\x1a\n\0\0\0two!").expect("the file back");
    write(&target, "mine.txt", b"keep me");
    let e = c.export_spec(id, &target).expect_err("not empty");
    assert_eq!(e.code(), Code::ExportTargetExists);
    assert_eq!(folder(&target).len(), 1);
}

#[test]
fn export_folder_names_are_readable_safe_and_unique_per_spec() {
    let a: SpecId = "0190e0e0-0000-7000-8000-0000000000a1".parse().expect("id");
    let b: SpecId = "0190e0e0-0000-7000-8000-0000000000b2".parse().expect("id");
    assert_eq!(super::folder_name("Upgrade SQLite 3.46 → 3.54!", a), "handoff-upgrade-sqlite-3-46-3-54-000000a1");
    assert_ne!(super::folder_name("Same", a), super::folder_name("Same", b));
    assert_eq!(super::folder_name("../../etc/passwd", a), "handoff-etc-passwd-000000a1");
    assert_eq!(super::folder_name("///", a), "handoff-spec-000000a1");
    assert!(super::folder_name(&"x".repeat(500), a).len() < 80);
}
