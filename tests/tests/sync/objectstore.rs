//! The real server on PostgreSQL with its blobs in an S3 bucket (a real `s3s-fs`), driven by
//! real CLI clients: the store goes down while a contractor delivers; the sync fails as
//! "try again", nothing of the files is in the bucket, and the same sync goes through once the
//! store is back; the owner then downloads every file, byte for byte.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::files::stored_blobs;
use super::procs::{Cli, binaries, free_port};

#[path = "../../../crates/handoff-server/tests/support/pg.rs"]
pub(super) mod pg;
#[path = "../../../crates/handoff-server/tests/support/s3.rs"]
pub(super) mod s3;

/// The server binary with its database and blobs in the store's bucket `team`.
pub(super) fn server(bin: &Path, database: &str, store: &s3::S3Server) -> Command {
    let mut c = Command::new(bin);
    c.args(["--database-url", database, "--blobs", "s3://team/blobs"]).envs(store.env()).env("RUST_LOG", "warn");
    c
}

/// A one-time invite code for `email` as `role` in the workspace `Buckets`.
pub(super) fn invite(bin: &Path, database: &str, store: &s3::S3Server, email: &str, role: &str) -> String {
    let out = server(bin, database, store)
        .args(["invite", "--workspace", "Buckets", "--role", role, "--email", email])
        .output()
        .expect("invite");
    assert!(out.status.success(), "invite: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A process killed (SIGKILL) when dropped.
pub(super) struct Running(pub(super) Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn a_delivery_while_the_object_store_is_down_is_retried_whole_once_it_is_back() {
    let (cli_bin, server_bin) = binaries();
    let (pg, mut store) = (pg::PgServer::start(), s3::S3Server::start());
    store.create_bucket("team");
    let root = tempfile::tempdir().expect("root");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let owner_code = invite(&server_bin, &pg.url, &store, "ana@bucket.io", "owner");
    let contractor_code = invite(&server_bin, &pg.url, &store, "cole@bucket.io", "contractor");
    let mut child = server(&server_bin, &pg.url, &store)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--rate-limit", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line).expect("announce");
    assert!(line.contains("listening on"), "{line}");
    let _server = Running(child);

    let owner = Cli::new(cli_bin.clone(), root.path().join("owner"));
    let contractor = Cli::new(cli_bin, root.path().join("contractor"));
    owner.ok(&["join", "--server", &url, "--invite", &owner_code, "--email", "ana@bucket.io", "--name", "Ana"]);
    contractor.ok(&["join", "--server", &url, "--invite", &contractor_code, "--email", "cole@bucket.io", "--name", "Cole"]);
    let spec = owner.ok(&["spec", "new", "--title", "Buckets", "--criterion", "Stores files"]).trim().to_owned();
    owner.ok(&["spec", "assign", &spec, "cole@bucket.io"]);
    owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    owner.sync();
    contractor.sync();

    // Over an object store's part size, so the upload is a multipart one, and a small file.
    let folder: PathBuf = root.path().join("work");
    std::fs::create_dir_all(&folder).expect("folder");
    let big: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    std::fs::write(folder.join("data.bin"), &big).expect("big");
    std::fs::write(folder.join("README.md"), b"Stored in a bucket.\n").expect("readme");
    contractor.ok(&["spec", "status", &spec, "in_progress"]);
    contractor.ok(&["deliver", &spec, &folder.to_string_lossy(), "--note", "first cut"]);
    let bucket_before = store.keys("team");

    store.stop();
    let out = contractor.run(&["sync"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a sync needing the store fails while it is down");
    assert!(said.contains("try again"), "and says to try again: {said}");
    store.resume();
    assert_eq!(store.keys("team"), bucket_before, "nothing of the files reached the bucket");

    let pushed = contractor.sync();
    assert!(pushed.contains("applied"), "the same sync goes through once the store is back: {pushed}");
    let mut want = vec![sha(&big), sha(b"Stored in a bucket.\n")];
    want.sort();
    let in_bucket: Vec<String> =
        store.keys("team").iter().filter_map(|k| k.strip_prefix("blobs/")).map(|k| k.replace('/', "")).collect();
    assert!(want.iter().all(|h| in_bucket.contains(h)), "{in_bucket:?}");
    owner.sync();
    owner.ok(&["fetch", &spec]);
    assert_eq!(stored_blobs(&root.path().join("owner")), want, "the owner has both files");
    let big_hash = sha(&big);
    let big_file = root.path().join("owner").join("blobs").join(&big_hash[..2]).join(&big_hash[2..]);
    assert!(std::fs::read(&big_file).expect("downloaded") == big, "byte for byte");
}
