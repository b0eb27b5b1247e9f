//! Files follow revisions, through the real binaries: a contractor delivers two revisions of
//! real files with the CLI; reviewers on other data dirs sync once; the server is stopped;
//! then they review. Also what the download limit holds back, a download that arrives
//! damaged, and a disk that fills up mid-download.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::procs::{Cli, Server, binaries, free_port};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff");
const TITLE: &str = "Upgrade the HTML standard";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(FIXTURES).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read the shared fixture {}: {e}", path.display()))
}

/// Bytes that are not text (NULs, every byte value), seeded.
fn binary(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ ((i >> 8) as u8)).collect()
}

fn write(dir: &Path, path: &str, bytes: &[u8]) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

/// Revision 1 and 2 as folders: the large whatwg pair, a changed binary, a renamed and
/// edited file, and a file both revisions share unchanged.
fn revision_folders(root: &Path) -> (PathBuf, PathBuf) {
    let (r1, r2) = (root.join("r1"), root.join("r2"));
    write(&r1, "source.html", &fixture("whatwg-source.old-large"));
    write(&r1, "assets/logo.png", &binary(1, 70_000));
    write(&r1, "docs/faq-draft.md", &fixture("faq-md.old-small"));
    write(&r1, "README.md", b"Build with `make`.\n");
    write(&r2, "source.html", &fixture("whatwg-source.new"));
    write(&r2, "assets/logo.png", &binary(2, 72_000));
    write(&r2, "docs/faq.md", &fixture("faq-md.new"));
    write(&r2, "README.md", b"Build with `make`.\n");
    (r1, r2)
}

struct Engagement {
    _root: tempfile::TempDir,
    root: PathBuf,
    server: Server,
    url: String,
    spec: String,
    contractor: Cli,
    folders: (PathBuf, PathBuf),
}

impl Engagement {
    /// An owner writes and assigns a spec; the contractor delivers two revisions and marks
    /// it delivered; everything is on the server.
    fn delivered() -> Self {
        let (cli_bin, server_bin) = binaries();
        let dir = tempfile::tempdir().expect("root");
        let root = dir.path().to_owned();
        let mut server = Server { bin: server_bin, data: root.join("server"), port: free_port(), child: None };
        let url = format!("http://127.0.0.1:{}", server.port);
        let owner_code = server.invite("ana@files.io", "owner");
        let contractor_code = server.invite("cole@files.io", "contractor");
        server.start();
        let owner = Cli::new(cli_bin.clone(), root.join("owner"));
        let contractor = Cli::new(cli_bin, root.join("contractor"));
        owner.ok(&["join", "--server", &url, "--invite", &owner_code, "--email", "ana@files.io", "--name", "Ana"]);
        contractor.ok(&["join", "--server", &url, "--invite", &contractor_code, "--email", "cole@files.io", "--name", "Cole"]);
        let spec = owner.ok(&["spec", "new", "--title", TITLE, "--criterion", "Renders every section"]).trim().to_owned();
        owner.ok(&["spec", "assign", &spec, "cole@files.io"]);
        owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
        let pushed = owner.sync();
        assert!(pushed.contains("3 applied"), "the owner's spec is on the server: {pushed}");
        contractor.sync();
        let folders = revision_folders(&root);
        contractor.ok(&["spec", "status", &spec, "in_progress"]);
        contractor.ok(&["deliver", &spec, &folders.0.to_string_lossy(), "--note", "first cut"]);
        contractor.ok(&["deliver", &spec, &folders.1.to_string_lossy(), "--note", "rebased on upstream"]);
        contractor.ok(&["spec", "status", &spec, "delivered"]);
        contractor.sync();
        Self { _root: dir, root, server, url, spec, contractor, folders }
    }

    /// A reviewer on a data dir of their own, joined; optionally with a download limit set
    /// before the first sync.
    fn reviewer(&self, name: &str, limit: Option<&str>) -> Cli {
        let email = format!("{name}@files.io");
        let code = self.server.invite(&email, "reviewer");
        let cli = Cli::new(self.contractor.bin.clone(), self.root.join(name));
        cli.ok(&["join", "--server", &self.url, "--invite", &code, "--email", &email, "--name", name]);
        if let Some(limit) = limit {
            cli.ok(&["settings", "--download-limit", limit]);
        }
        cli
    }

    /// What the contractor's own folders diff to (no store involved).
    fn folder_diff(&self, extra: &[&str]) -> String {
        let (a, b) = (self.folders.0.to_string_lossy().into_owned(), self.folders.1.to_string_lossy().into_owned());
        let mut args = vec!["diff", a.as_str(), b.as_str()];
        args.extend_from_slice(extra);
        let out = self.contractor.run(&args);
        assert_eq!(out.status.code(), Some(1), "the folders differ: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every blob file in a data dir's store, by name (its hash).
pub(super) fn stored_blobs(data: &Path) -> Vec<String> {
    let root = data.join("blobs");
    let mut out = Vec::new();
    for shard in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = shard.file_name().to_string_lossy().into_owned();
        if name == "tmp" || !shard.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            out.push(format!("{name}{}", f.file_name().to_string_lossy()));
        }
    }
    out.sort();
    out
}

fn hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn a_reviewer_who_synced_once_reviews_the_whole_delivery_with_the_server_gone() {
    let mut e = Engagement::delivered();
    let ben = e.reviewer("ben", None);
    let synced = ben.ok(&["sync"]);
    assert!(synced.contains("downloaded"), "the sync downloads the revisions' files: {synced}");
    e.server.kill();

    // Content shared by both revisions (README.md) is stored once: one file per distinct hash.
    let mut distinct: Vec<String> = [&e.folders.0, &e.folders.1]
        .iter()
        .flat_map(|d| walkdir::WalkDir::new(d).into_iter().flatten().filter(|f| f.file_type().is_file()))
        .map(|f| hash(&std::fs::read(f.path()).expect("read")))
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(stored_blobs(&ben.data), distinct, "every distinct file once, nothing else");

    let status = ben.json(&["status"]);
    assert_eq!(status["downloads"]["queued"], serde_json::json!([]), "{status}");
    assert_eq!(status["downloads"]["held_back"], serde_json::json!([]), "{status}");

    // The reviewer's revision diff is exactly the contractor's folder diff: every byte arrived.
    for extra in [&[][..], &["--stat"][..]] {
        let mut args = vec!["diff", e.spec.as_str(), "1", "2"];
        args.extend_from_slice(extra);
        let out = ben.run(&args);
        assert_eq!(out.status.code(), Some(1), "offline diff: {}", stderr_of(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), e.folder_diff(extra), "diff {extra:?}");
    }
    let stat = String::from_utf8_lossy(&ben.run(&["diff", &e.spec, "1", "2", "--stat"]).stdout).into_owned();
    assert!(stat.contains("docs/faq-draft.md => docs/faq.md"), "the rename is followed: {stat}");
    assert!(stat.contains("assets/logo.png | Bin 70000 -> 72000 bytes"), "the binary is shown by size: {stat}");
}

#[test]
fn what_is_not_downloaded_is_named_once_and_fetched_on_demand() {
    let mut e = Engagement::delivered();
    // No background downloads at all.
    let dee = e.reviewer("dee", Some("0"));
    let synced = dee.ok(&["sync"]);
    assert!(synced.contains("held back by the download limit"), "{synced}");
    // A limit that fits revision 2 (the newest) but not revision 1 as well.
    let eve = e.reviewer("eve", Some("5MB"));
    eve.ok(&["sync"]);
    e.server.kill();

    let out = dee.run(&["diff", &e.spec, "1", "2"]);
    assert_eq!(out.status.code(), Some(2), "trouble, not a diff");
    let err = stderr_of(&out);
    assert_eq!(err.matches("is not on this machine yet").count(), 1, "said once: {err}");
    assert!(err.contains(&format!("revision 1 of '{TITLE}'")) && err.contains("sync while online"), "{err}");
    assert!(!err.contains("os error"), "no OS error: {err}");
    let out = dee.run(&["--json", "diff", &e.spec, "1", "2"]);
    let body: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert_eq!(body["code"], "files_not_here");

    let held = dee.json(&["status"]);
    assert_eq!(held["downloads"]["held_back"].as_array().map(Vec::len), Some(2), "{held}");
    let text = dee.ok(&["status"]);
    assert!(text.contains("held back by the download limit") && text.contains(&format!("revision 2 of '{TITLE}'")), "{text}");

    // Revision 2 fit eve's limit; revision 1 was held back and is named.
    let st = eve.json(&["status"]);
    let held: Vec<u64> =
        st["downloads"]["held_back"].as_array().into_iter().flatten().filter_map(|r| r["revision"].as_u64()).collect();
    assert_eq!(held, vec![1], "{st}");
    assert_eq!(eve.missing(&e.spec, 2), 0);

    // Server stopped: fetching says nothing listens at its address.
    let out = dee.run(&["fetch", &e.spec]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("refused the connection"), "{}", stderr_of(&out));

    // Online again: fetch one revision, then a diff downloads the other by itself.
    e.server.start();
    dee.ok(&["fetch", &e.spec, "2"]);
    assert_eq!(dee.missing(&e.spec, 2), 0);
    assert!(dee.missing(&e.spec, 1) > 0);
    let out = dee.run(&["diff", &e.spec, "1", "2", "--stat"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), e.folder_diff(&["--stat"]));
}

#[test]
fn a_download_that_arrives_damaged_is_dropped_retried_and_never_kept() {
    let mut e = Engagement::delivered();
    // Damage the server's copy of revision 2's binary (the server verifies uploads, not the
    // disk under it afterwards).
    let logo = hash(&binary(2, 72_000));
    let on_server = e.server.data.join("blobs").join(&logo[..2]).join(&logo[2..]);
    let good = std::fs::read(&on_server).expect("the server stores the logo");
    let mut bad = good.clone();
    bad[1000] ^= 0xff;
    std::fs::write(&on_server, &bad).expect("damage");

    let fay = e.reviewer("fay", None);
    let out = fay.run(&["--json", "sync"]);
    assert!(!out.status.success(), "a download that keeps failing its hash fails the command");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert_eq!(err["code"], "download_corrupt", "{err}");
    let message = err["message"].as_str().unwrap_or_default();
    assert!(message.contains(&format!("revision 2 of '{TITLE}'")) && message.contains("3 times"), "{message}");
    assert!(!stored_blobs(&fay.data).contains(&logo), "the damaged content is not kept");
    let parts = std::fs::read_dir(fay.data.join("blobs").join("tmp")).expect("tmp").count();
    assert_eq!(parts, 0, "no partial download is left behind");
    e.server.kill();
    let out = fay.run(&["diff", &e.spec, "1", "2"]);
    assert!(stderr_of(&out).contains("revision 2 of"), "never shown: {}", stderr_of(&out));

    // Repaired on the server: the next sync completes.
    std::fs::write(&on_server, &good).expect("repair");
    e.server.start();
    fay.ok(&["sync"]);
    assert_eq!(fay.missing(&e.spec, 2), 0);
}

#[test]
fn a_disk_that_fills_up_mid_download_is_named_and_the_store_is_unharmed() {
    let e = Engagement::delivered();
    let gus = e.reviewer("gus", None);
    // The blob store on a 1 MB file system; the whatwg files are 4 MB each.
    let blobs = gus.data.join("blobs");
    std::fs::create_dir_all(&blobs).expect("blobs");
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"]).arg(&blobs).status().expect("run mount");
    assert!(mounted.success(), "this test mounts a 1 MB tmpfs and needs root, as CI has");
    let unmount = Unmount(blobs.clone());

    let out = gus.run(&["--json", "sync"]);
    assert!(!out.status.success(), "the download cannot complete");
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).expect("json error");
    assert_eq!(err["code"], "disk_full", "{err}");
    assert!(err["message"].as_str().unwrap_or_default().contains("the disk is full"), "{err}");
    // The store is fine: the spec list reads, SQLite's check passes, nothing is pending.
    assert_eq!(gus.json(&["spec", "list"]).as_array().map(Vec::len), Some(1));
    let conn = rusqlite::Connection::open(gus.data.join("store.db")).expect("open store");
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
    assert_eq!(check, "ok");
    assert_eq!(gus.json(&["status"])["pending"], 0);

    // Room again (the small file system goes; the store is kept): the next sync completes.
    drop(unmount);
    gus.ok(&["sync"]);
    assert_eq!(gus.missing(&e.spec, 1) + gus.missing(&e.spec, 2), 0);
}

/// Unmounts on drop, so a failed assertion never leaves a mount behind.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

impl Cli {
    /// How many of a revision's files are not here, per `handoff status` and the store.
    fn missing(&self, spec: &str, revision: u32) -> usize {
        let revisions = self.json(&["revisions", spec]);
        let files = revisions
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["number"].as_u64() == Some(u64::from(revision)))
            .and_then(|r| r["files"].as_array().cloned())
            .unwrap_or_default();
        files
            .iter()
            .filter_map(|f| f["sha256"].as_str())
            .filter(|sha| !self.data.join("blobs").join(&sha[..2]).join(&sha[2..]).is_file())
            .count()
    }
}
