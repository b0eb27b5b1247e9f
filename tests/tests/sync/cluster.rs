//! Several server processes behind a real load balancer (HAProxy from Debian's packages) on
//! one PostgreSQL and one S3 bucket (`s3s-fs`), with four real CLI clients: each round every
//! client works and syncs while one server process is SIGKILLed and then restarted, each
//! process in turn. At the end every client shows the same specs, revisions and threads,
//! nothing lost or doubled, every revision's files download on both reviewers' machines, and
//! a watching client's event stream, whose process was killed under it, still brings a
//! change made through another process; so it does after every process was stopped gracefully
//! (SIGTERM), which each does at once with the stream open.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::files::stored_blobs;
use super::objectstore::{Running, invite, pg, s3, server, sha};
use super::process::view;
use super::procs::{Cli, binaries, free_port, wait_until};

/// Server processes behind the balancer.
const PROCESSES: usize = 3;

/// `haproxy` on PATH or in /usr/sbin; missing is a failure with the fix.
fn haproxy() -> PathBuf {
    let found = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].iter().map(PathBuf::from).find(|p| p.is_file());
    found.unwrap_or_else(|| {
        let out = Command::new("sh").args(["-c", "command -v haproxy"]).output().expect("sh");
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            !path.is_empty(),
            "this test needs HAProxy: run `cargo xtask test` once (it installs it) or apt-get install haproxy"
        );
        PathBuf::from(path)
    })
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Cluster {
    bin: PathBuf,
    database: String,
    ports: [u16; PROCESSES],
    servers: Vec<Option<Running>>,
}

impl Cluster {
    /// Starts process `i` and waits until it listens.
    fn start(&mut self, i: usize, store: &s3::S3Server) {
        let mut child = server(&self.bin, &self.database, store)
            // Stopping, a process answers /readyz 503 for two seconds first: the balancer
            // (two failed checks 200 ms apart) takes it out before its event streams end and
            // reconnect.
            .args(["--listen", &format!("127.0.0.1:{}", self.ports[i]), "--rate-limit", "0", "--shutdown-grace-secs", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a server process");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("announce");
        assert!(line.contains("listening on"), "process {i} said {line:?}");
        self.servers[i] = Some(Running(child));
    }

    /// SIGKILLs process `i`.
    fn kill(&mut self, i: usize) {
        self.servers[i] = None;
    }

    /// Sends process `i` SIGTERM; whether it then exited cleanly within 30 s.
    fn terminate(&mut self, i: usize) -> bool {
        let Some(mut running) = self.servers[i].take() else { return false };
        let pid = running.0.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while sent && Instant::now() < deadline {
            if let Ok(Some(status)) = running.0.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

/// HAProxy on `port` in front of `backends`, checking each one's `/readyz` (a process is out
/// after two failed checks; a slow answer on this busy machine is not one); a request that
/// cannot connect to one process is sent to another.
fn balancer(dir: &Path, port: u16, backends: &[u16]) -> Running {
    let mut config = format!(
        "global\n    maxconn 512\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout check 2s\n    timeout client 1h\n    timeout server 1h\n    retries 3\n    option redispatch 1\n\
         frontend handoff\n    bind 127.0.0.1:{port}\n    default_backend servers\n\
         backend servers\n    balance roundrobin\n    option httpchk GET /readyz\n    default-server inter 200ms fall 2 rise 1\n"
    );
    for (i, p) in backends.iter().enumerate() {
        config.push_str(&format!("    server s{i} 127.0.0.1:{p} check\n"));
    }
    let file = dir.join("haproxy.cfg");
    std::fs::write(&file, config).expect("haproxy config");
    let check = Command::new(haproxy()).arg("-c").arg("-q").arg("-f").arg(&file).output().expect("haproxy -c");
    assert!(check.status.success(), "haproxy refuses its config: {}", String::from_utf8_lossy(&check.stderr));
    let child = Command::new(haproxy())
        .args(["-db", "-q", "-f"])
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy");
    wait_for_port(port);
    Running(child)
}

/// Syncs until a run succeeds: a request in flight when its process died fails the run, and
/// the next one goes through another process.
fn sync_through(cli: &Cli) {
    for _ in 0..30 {
        if cli.run(&["sync"]).status.success() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    cli.ok(&["sync"]);
}

/// The `/v1` requests a process answered, from its own `/metrics` (asked directly, not
/// through the balancer).
fn v1_requests_served(port: u16) -> f64 {
    use std::io::{Read, Write};
    let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return 0.0 };
    let mut text = String::new();
    if conn.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").is_err() || conn.read_to_string(&mut text).is_err() {
        return 0.0;
    }
    text.lines()
        .filter(|l| l.starts_with("handoff_http_requests_total{") && l.contains("route=\"/v1/"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `author` starts a thread on `spec` and syncs; waits for it to reach `watcher` by a poke:
/// bounded at 40 s, below the 60 s of the watcher's timer, so only a poke explains it arriving.
fn poke_through(author: &Cli, spec: &str, watcher: &Cli, body: &str) {
    author.ok(&["thread", "new", spec, "--text", body]);
    sync_through(author);
    let deadline = Instant::now() + Duration::from_secs(40);
    while !has_comment(watcher, body) {
        assert!(Instant::now() < deadline, "the watching client never heard of {body:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a comment with this body is in the client's store (read beside the running CLI).
fn has_comment(cli: &Cli, body: &str) -> bool {
    rusqlite::Connection::open_with_flags(cli.data.join("store.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM comments WHERE body = ?1", [body], |r| r.get::<_, i64>(0)))
        .is_ok_and(|n| n > 0)
}

/// A client's view without what differs by person (whether they may resolve a thread).
fn shared(mut view: serde_json::Value) -> serde_json::Value {
    for spec in view.as_array_mut().into_iter().flatten() {
        for thread in spec["threads"].as_array_mut().into_iter().flatten() {
            thread.as_object_mut().map(|t| t.remove("may_resolve"));
        }
    }
    view
}

#[test]
fn clients_behind_a_load_balancer_converge_while_server_processes_are_killed_and_restarted() {
    let (cli_bin, server_bin) = binaries();
    let (pg, store) = (pg::PgServer::start(), s3::S3Server::start());
    store.create_bucket("team");
    let root = tempfile::tempdir().expect("root");
    let mut cluster = Cluster {
        bin: server_bin,
        database: pg.url.clone(),
        ports: [free_port(), free_port(), free_port()],
        servers: (0..PROCESSES).map(|_| None).collect(),
    };
    let people = [("ana", "owner"), ("cole", "contractor"), ("ben", "reviewer"), ("dee", "reviewer")];
    let codes: Vec<String> =
        people.iter().map(|(name, role)| invite(&cluster.bin, &pg.url, &store, &format!("{name}@lb.io"), role)).collect();
    for i in 0..PROCESSES {
        cluster.start(i, &store);
    }
    let lb_port = free_port();
    let _balancer = balancer(root.path(), lb_port, &cluster.ports);
    let url = format!("http://127.0.0.1:{lb_port}");
    let clis: Vec<Cli> = people.iter().map(|(name, _)| Cli::new(cli_bin.clone(), root.path().join(name))).collect();
    for ((name, _), (cli, code)) in people.iter().zip(clis.iter().zip(&codes)) {
        cli.ok(&["join", "--server", &url, "--invite", code, "--email", &format!("{name}@lb.io"), "--name", name]);
    }
    let [owner, contractor, ben, dee] = [&clis[0], &clis[1], &clis[2], &clis[3]];
    let spec = owner.ok(&["spec", "new", "--title", "Balanced", "--criterion", "Survives a lost process"]).trim().to_owned();
    owner.ok(&["spec", "assign", &spec, "cole@lb.io"]);
    owner.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    for cli in [owner, contractor, dee] {
        sync_through(cli);
    }
    contractor.ok(&["spec", "status", &spec, "in_progress"]);

    // Ben keeps an event stream open through the balancer the whole time.
    let watcher = ben.cmd(&["sync", "--watch"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("watch");
    let _watcher = Running(watcher);

    let mut files: Vec<Vec<u8>> = Vec::new();
    let mut threads = 0;
    let mut last_thread: Option<String> = None;
    for round in 0..PROCESSES {
        // Each revision: a text file that changes, and a binary one (over an object store's
        // part size in the first round, so that upload is a multipart one).
        let folder = root.path().join(format!("rev{round}"));
        std::fs::create_dir_all(&folder).expect("folder");
        let size = if round == 0 { 9 * 1024 * 1024 } else { 300_000 };
        let mut data: Vec<u8> = (0..size as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect();
        // Each round's content differs, so each round uploads.
        data[..8].copy_from_slice(&(round as u64 + 1).to_le_bytes());
        let text = format!("round {round}\n");
        std::fs::write(folder.join("data.bin"), &data).expect("data");
        std::fs::write(folder.join("notes.md"), &text).expect("notes");
        files.extend([data, text.into_bytes()]);
        contractor.ok(&["deliver", &spec, &folder.to_string_lossy(), "--note", &format!("round {round}")]);
        for (cli, who) in [(owner, "ana"), (contractor, "cole"), (dee, "dee")] {
            let id = cli.ok(&["thread", "new", &spec, "--text", &format!("{who} in round {round}")]).trim().to_owned();
            threads += 1;
            if who == "dee" {
                if let Some(previous) = &last_thread {
                    dee.ok(&["thread", "reply", previous, "--text", &format!("dee again in round {round}")]);
                }
                last_thread = Some(id);
            }
        }
        // Everyone syncs at once (a change per push, so many requests) and the process is
        // killed once it has served some of this round's requests.
        let before = v1_requests_served(cluster.ports[round]);
        let running: Vec<_> = [owner, contractor, dee]
            .iter()
            .map(|c| c.cmd(&["sync", "--batch-size", "1"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("sync"))
            .collect();
        let serving = wait_until(|| v1_requests_served(cluster.ports[round]) > before);
        cluster.kill(round);
        assert!(serving, "process {round} never served this round's syncs");
        for mut r in running {
            let _ = r.wait();
        }
        for cli in [owner, contractor, dee] {
            sync_through(cli);
        }
        cluster.start(round, &store);
    }

    // Every process was killed once, so Ben's stream lost its process; a comment made through
    // the balancer reaches him by a poke (his timer is 60 s, the wait 40 s).
    poke_through(owner, &spec, ben, "made after every process was restarted");
    threads += 1;

    // Then each process is stopped gracefully (SIGTERM, as systemd stops it) and started
    // again: it ends its event streams and exits, rather than waiting on them, and Ben's
    // stream moves to another process again.
    for i in 0..PROCESSES {
        assert!(cluster.terminate(i), "process {i} did not exit after SIGTERM with its event streams open");
        cluster.start(i, &store);
    }
    poke_through(owner, &spec, ben, "made after every process was stopped gracefully");
    threads += 1;

    for _ in 0..2 {
        for cli in &clis {
            sync_through(cli);
        }
    }
    let views: Vec<serde_json::Value> = clis.iter().map(|c| shared(view(c))).collect();
    for (v, (name, _)) in views.iter().zip(&people).skip(1) {
        assert_eq!(v, &views[0], "{name} shows what ana shows");
    }
    let s = &views[0][0];
    let numbers: Vec<u64> = s["revisions"].as_array().into_iter().flatten().filter_map(|r| r["number"].as_u64()).collect();
    assert_eq!(numbers.len(), PROCESSES, "one revision per round, none doubled: {numbers:?}");
    assert_eq!(s["threads"].as_array().map(Vec::len), Some(threads), "every thread once");
    let comments: usize =
        s["threads"].as_array().into_iter().flatten().map(|t| t["comments"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(comments, threads + PROCESSES - 1, "every comment and reply once");
    let mut want: Vec<String> = files.iter().map(|f| sha(f)).collect();
    want.sort();
    for reviewer in [ben, dee] {
        for n in 1..=PROCESSES {
            reviewer.ok(&["fetch", &spec, &n.to_string()]);
        }
        let have = stored_blobs(&reviewer.data);
        assert!(want.iter().all(|h| have.contains(h)), "every revision's files on the reviewer's machine: {have:?}");
    }
}
