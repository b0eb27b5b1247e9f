//! Real processes for the end-to-end tests: the `handoff-server` binary on a loopback port
//! and `handoff` CLI clients, each with its own data dir (two people, two machines).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use super::support::target_dir;

/// The WHATWG HTML source from `shared/fixtures`: long real text for large saves.
pub const WHATWG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff/whatwg-source.new");

/// The binaries, built on demand when missing.
pub fn binaries() -> (PathBuf, PathBuf) {
    let dir = target_dir();
    let (cli, server) = (dir.join("handoff"), dir.join("handoff-server"));
    if !cli.is_file() || !server.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "handoff-cli", "-p", "handoff-server"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("cargo build");
        assert!(status.success(), "building the binaries failed");
    }
    (cli, server)
}

/// Runs `c` with its wall clock moved by libfaketime (`FAKETIME` syntax: `-400d`, `@2026-06-05
/// 17:05:00`), preloaded directly: the `faketime` wrapper's named semaphore collides between
/// wrappers started at once ("sem_open: File exists"), and its child outlives a kill.
/// Monotonic timers stay real.
pub fn faked(c: &mut Command, clock: &str) {
    let lib = std::fs::read_dir("/usr/lib")
        .expect("/usr/lib")
        .flatten()
        .map(|d| d.path().join("faketime/libfaketimeMT.so.1"))
        .find(|p| p.is_file())
        .expect("libfaketime (Debian's faketime package)");
    c.env("LD_PRELOAD", lib).env("FAKETIME", clock).env("TZ", "UTC").env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub struct Server {
    pub bin: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    pub child: Option<Child>,
}

impl Server {
    pub fn start(&mut self) {
        self.start_with(&[]);
    }

    /// Starts the server with more flags.
    pub fn start_with(&mut self, extra: &[&str]) {
        self.spawn(Command::new(&self.bin), extra);
    }

    /// Starts the server with its wall clock set to `when` (UTC, `2026-06-05 17:05:00`) and
    /// running from there ([`faked`]).
    pub fn start_at(&mut self, when: &str) {
        let mut c = Command::new(&self.bin);
        faked(&mut c, &format!("@{when}"));
        self.spawn(c, &[]);
    }

    fn spawn(&mut self, mut command: Command, extra: &[&str]) {
        let mut child = command
            .args([
                "--data-dir",
                &self.data.to_string_lossy(),
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--rate-limit",
                "0",
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read announce");
        assert!(line.contains("listening on"), "server said {line:?}");
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    pub fn invite(&self, email: &str, role: &str) -> String {
        let out = Command::new(&self.bin)
            .args(["--data-dir", &self.data.to_string_lossy(), "invite", "--workspace", "Proc", "--role", role, "--email", email])
            .env("RUST_LOG", "warn")
            .output()
            .expect("invite");
        assert!(out.status.success(), "invite: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Cli {
    pub bin: PathBuf,
    pub data: PathBuf,
    /// A machine whose clock is off: `faketime`'s offset (e.g. `-400d`) for every command.
    pub clock: Option<String>,
}

impl Cli {
    pub fn new(bin: PathBuf, data: PathBuf) -> Self {
        Self { bin, data, clock: None }
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        if let Some(clock) = &self.clock {
            faked(&mut c, clock);
        }
        c.arg("--data-dir").arg(&self.data).args(args);
        c.env("HANDOFF_PASSWORD", "password123").env("HANDOFF_INSECURE_TOKEN_FILE", "1").stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run handoff")
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "handoff {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("json output")
    }

    /// Syncs until it succeeds (the server may still be starting).
    pub fn sync(&self) -> String {
        for _ in 0..20 {
            let out = self.run(&["sync"]);
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.ok(&["sync"])
    }
}

/// A server and the people on it, each on a data dir of their own (joined as `NAME@wedge.io`).
pub struct Team {
    _root: tempfile::TempDir,
    pub root: PathBuf,
    pub server: Server,
    pub url: String,
}

impl Team {
    pub fn new() -> Self {
        let (_, server_bin) = binaries();
        let dir = tempfile::tempdir().expect("root");
        let root = dir.path().to_owned();
        let server = Server { bin: server_bin, data: root.join("server"), port: free_port(), child: None };
        let url = format!("http://127.0.0.1:{}", server.port);
        Self { _root: dir, root, server, url }
    }

    /// Someone on a data dir of their own, joined with an invite.
    pub fn join(&self, name: &str, role: &str) -> Cli {
        let (cli_bin, _) = binaries();
        let email = format!("{name}@wedge.io");
        let code = self.server.invite(&email, role);
        let cli = Cli::new(cli_bin, self.root.join(name));
        cli.ok(&["join", "--server", &self.url, "--invite", &code, "--email", &email, "--name", name]);
        cli
    }

    /// A data dir that signs in to an existing account.
    pub fn login(&self, dir: &str, email: &str) -> Cli {
        let (cli_bin, _) = binaries();
        let cli = Cli::new(cli_bin, self.root.join(dir));
        cli.ok(&["login", "--server", &self.url, "--email", email]);
        cli
    }
}

/// Copies a folder tree.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Polls `cond` every millisecond for up to a minute; whether it came true.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}
