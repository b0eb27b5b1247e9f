//! An S3-compatible object store for tests: the `s3s-fs` binary (crates.io; `cargo xtask test`
//! installs it) serving a temp folder on 127.0.0.1, with SigV4 authentication on. Missing
//! `s3s-fs` is a failure with instructions, never a silent skip.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use handoff_server::blobs::{BlobsAt, S3Location};

/// The access key the store accepts.
pub const ACCESS_KEY: &str = "handoff-test-key";
/// Its secret.
pub const SECRET_KEY: &str = "handoff-test-secret";

/// A running `s3s-fs` over a temp folder; stopped on drop.
pub struct S3Server {
    /// Where it listens: `http://127.0.0.1:PORT`.
    pub endpoint: String,
    port: u16,
    root: tempfile::TempDir,
    child: Option<Child>,
}

/// `s3s-fs` from `HANDOFF_TEST_S3S_FS`, `~/.cargo/bin` or PATH.
fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("HANDOFF_TEST_S3S_FS") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(bin) = home.map(|h| h.join("bin").join("s3s-fs")).filter(|b| b.is_file()) {
        return bin;
    }
    let out = Command::new("sh").args(["-c", "command -v s3s-fs"]).output().expect("sh");
    let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        !path.is_empty(),
        "these tests need an S3-compatible server, s3s-fs, which was not found: run `cargo xtask test` once (it installs it), \
         or `cargo install s3s-fs --version 0.14.1 --features binary --locked`, or set HANDOFF_TEST_S3S_FS"
    );
    PathBuf::from(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port on 127.0.0.1")
}

impl S3Server {
    /// Starts a store with no buckets.
    pub fn start() -> Self {
        let root = tempfile::Builder::new().prefix("handoff-s3-").tempdir().expect("temp dir");
        let port = free_port();
        let mut server = Self { endpoint: format!("http://127.0.0.1:{port}"), port, root, child: None };
        server.resume();
        server
    }

    /// Creates a bucket (s3s-fs keeps a bucket as a folder).
    pub fn create_bucket(&self, name: &str) {
        std::fs::create_dir_all(self.root.path().join(name)).expect("bucket folder");
    }

    /// The files the store holds in `bucket` (keys, sorted), without s3s-fs's own bookkeeping.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let base = self.root.path().join(bucket);
        let mut keys: Vec<String> = walk(&base)
            .into_iter()
            .filter_map(|p| p.strip_prefix(&base).ok().map(|k| k.to_string_lossy().into_owned()))
            .filter(|k| !k.starts_with(".") && !k.contains("/."))
            .collect();
        keys.sort();
        keys
    }

    /// Multipart uploads begun and neither completed nor aborted (s3s-fs keeps each one's
    /// record at its root).
    pub fn open_multipart_uploads(&self) -> usize {
        std::fs::read_dir(self.root.path())
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.starts_with(".upload-") && name.ends_with(".json")
            })
            .count()
    }

    /// The folder the store keeps its data in.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Blobs in `bucket` under `prefix`, reached with the right credentials.
    pub fn location(&self, bucket: &str, prefix: &str) -> BlobsAt {
        self.location_with_secret(bucket, prefix, SECRET_KEY)
    }

    /// Blobs in `bucket`, signed with `secret` (a wrong one is refused by the store).
    pub fn location_with_secret(&self, bucket: &str, prefix: &str, secret: &str) -> BlobsAt {
        BlobsAt::S3(S3Location {
            bucket: bucket.into(),
            prefix: prefix.into(),
            settings: self.env_with_secret(secret).into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        })
    }

    /// The `AWS_*` variables a server process needs to reach this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.env_with_secret(SECRET_KEY)
    }

    fn env_with_secret(&self, secret: &str) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", secret.into()),
        ]
    }

    /// Stops the store (SIGKILL): it is down until [`S3Server::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the store again on the same port and folder, and waits until it answers.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the store is already running");
        let port = self.port.to_string();
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port, "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(self.root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not listen on port {port} within 30 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}
