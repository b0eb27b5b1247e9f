//! Server benchmark: the server on loopback over SQLite and PostgreSQL, driven over HTTP.
//!
//! - batched pushes (100 mutations each) from 1 client and from 50 concurrent clients:
//!   mutations/s and push latency p50/p99;
//! - an initial sync of 100k comments: records/s;
//!
//! on SQLite, PostgreSQL, and PostgreSQL with blobs in an S3-compatible store (`s3s-fs`), plus
//! the 50-client push spread over 3 `handoff-server` processes on one PostgreSQL and one bucket.
//!
//! `cargo bench -p handoff-server --bench server` (the lead wires `cargo xtask bench server`).
//! Environment: `HANDOFF_BENCH_SCALE` (default 1.0) scales the amounts; PostgreSQL comes from
//! `HANDOFF_TEST_POSTGRES_URL` or a throwaway cluster, like the tests.

#[path = "../tests/support/pg.rs"]
#[allow(missing_docs)]
mod pg;
#[path = "../tests/support/s3.rs"]
#[allow(missing_docs)]
mod s3;

use std::sync::Arc;
use std::time::{Duration, Instant};

use handoff_core::protocol::*;
use handoff_core::*;
use handoff_server::AppState;
use handoff_server::config::PasswordCost;
use serde_json::json;

const BATCH: usize = 100;
const CONCURRENT: usize = 50;

fn uid<T: From<uuid::Uuid>>(a: u64, b: u64) -> T {
    T::from(uuid::Uuid::from_u64_pair(0x0190_0000_0000_7000 | a, 0x8000_0000_0000_0000 | b))
}

/// What a benchmark client needs to talk to the server.
#[derive(Clone)]
struct Conn {
    base: String,
    http: reqwest::Client,
    token: String,
    ws: WorkspaceId,
}

struct Bench {
    conn: Conn,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<handoff_server::Result<()>>,
    _dir: tempfile::TempDir,
}

fn http() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(PROTOCOL_HEADER, reqwest::header::HeaderValue::from_static("1"));
    // In a workspace build, feature unification gives reqwest the client crate's
    // `rustls-no-provider`, which panics unless a crypto provider is installed first.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().default_headers(headers).pool_max_idle_per_host(64).build().expect("client")
}

async fn start(pg_url: Option<&str>, blobs: Option<handoff_server::blobs::BlobsAt>) -> Bench {
    let dir = tempfile::tempdir().expect("tempdir");
    let configure = |c: &mut handoff_server::config::Config| {
        c.rate_limit = None;
        c.password_cost = PasswordCost::TestsOnly;
    };
    let state = match pg_url {
        Some(url) => {
            let at = blobs.unwrap_or_else(|| handoff_server::blobs::BlobsAt::Dir(dir.path().join("blobs")));
            AppState::open_postgres(url, at, configure).await.expect("postgres")
        }
        None => AppState::open_sqlite(dir.path(), configure).expect("sqlite"),
    };
    let code = handoff_server::auth::new_invite_code().expect("code");
    let hash = handoff_server::auth::secret_hash(&code);
    let now = state.now();
    let expires = Timestamp::from_millis(now.as_millis() + 3_600_000);
    state
        .db
        .write(move |db| {
            Box::pin(async move {
                handoff_server::accounts::bootstrap_invite(db, "Bench", "owner@bench.test", Role::Owner, &hash, now, expires)
                    .await
            })
        })
        .await
        .expect("invite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(handoff_server::serve(listener, state, async move {
        let _ = rx.await;
    }));
    let http = http();
    let session: Session = http
        .post(format!("{base}/v1/auth/join"))
        .json(&json!({"invite_code": code, "email": "owner@bench.test", "display_name": "B", "password": "password123", "device_name": "bench", "timezone": "UTC"}))
        .send()
        .await
        .expect("join")
        .json()
        .await
        .expect("session");
    let ws = session.workspaces[0].workspace.id;
    Bench { conn: Conn { base, http, token: session.token, ws }, stop: Some(tx), server, _dir: dir }
}

/// One client pushing `batches` batches of comments into its own spec.
struct Pusher {
    client: ClientId,
    next: u64,
    spec: SpecId,
    thread: ThreadId,
    n: u64,
}

impl Pusher {
    fn env(&mut self, m: Mutation) -> MutationEnvelope {
        let e = MutationEnvelope {
            client_id: self.client,
            mutation_id: self.next,
            hlc: Hlc { wall_ms: 1_767_225_600_000 + self.next, counter: 0 },
            created_at: Timestamp::from_millis(1_767_225_600_000),
            mutation: m,
        };
        self.next += 1;
        e
    }

    fn comment(&mut self) -> MutationEnvelope {
        self.n += 1;
        let (spec_id, thread_id) = (self.spec, self.thread);
        let comment_id = uid(self.client.as_uuid().as_u64_pair().1 & 0xffff, self.n);
        self.env(Mutation::AddComment {
            comment_id,
            thread_id,
            spec_id,
            body: format!("comment {} of a benchmark thread, about as long as a short review remark", self.n),
            seen_events: 0,
        })
    }
}

async fn push(b: &Conn, client: ClientId, mutations: Vec<MutationEnvelope>) -> Duration {
    let started = Instant::now();
    let resp = b
        .http
        .post(format!("{}/v1/push", b.base))
        .bearer_auth(&b.token)
        .json(&PushRequest::new(client, mutations))
        .send()
        .await
        .expect("push");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let body: PushResponse = resp.json().await.expect("push json");
    assert!(body.results.iter().all(|r| r.outcome == Outcome::Applied));
    started.elapsed()
}

async fn new_pusher(b: &Conn, n: u64) -> Pusher {
    let client: ClientId = uid(0xC11E, n);
    let mut p = Pusher { client, next: 1, spec: uid(0x5BEC, n), thread: uid(0x7EAD, n), n: 0 };
    let (spec, ws, thread) = (p.spec, b.ws, p.thread);
    let setup = vec![
        p.env(Mutation::CreateSpec {
            spec_id: spec,
            workspace_id: ws,
            title: format!("Bench {n}"),
            sections: Sections::default(),
            criteria: vec![],
            due_date: None,
        }),
        p.env(Mutation::CreateThread {
            thread_id: thread,
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: uid(0xC0, n),
            body: "start".into(),
        }),
    ];
    push(b, client, setup).await;
    p
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

struct Row {
    backend: &'static str,
    scenario: String,
    rate: f64,
    unit: &'static str,
    p50: Option<Duration>,
    p99: Option<Duration>,
}

async fn scenario_pushes(servers: &[Conn], clients: usize, batches_each: usize, backend: &'static str, rows: &mut Vec<Row>) {
    let mut pushers = Vec::new();
    for i in 0..clients {
        // Client i talks to server i mod n, as a round-robin load balancer would place them.
        let b = &servers[i % servers.len()];
        pushers.push((new_pusher(b, 1_000 * clients as u64 + i as u64).await, Arc::new(b.clone())));
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (mut p, b) in pushers {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(batches_each);
            for _ in 0..batches_each {
                let batch: Vec<_> = (0..BATCH).map(|_| p.comment()).collect();
                lat.push(push(&b, p.client, batch).await);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("pusher"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort();
    let total = (clients * batches_each * BATCH) as f64;
    rows.push(Row {
        backend,
        scenario: format!("push, {clients} client(s), batches of {BATCH}"),
        rate: total / elapsed,
        unit: "mutations/s",
        p50: Some(percentile(&lat, 0.5)),
        p99: Some(percentile(&lat, 0.99)),
    });
}

async fn scenario_initial_pull(b: &Conn, comments: usize, backend: &'static str, rows: &mut Vec<Row>) {
    let mut p = new_pusher(b, 9_999_999).await;
    let mut left = comments.saturating_sub(1);
    while left > 0 {
        let n = left.min(MAX_PUSH_BATCH);
        let batch: Vec<_> = (0..n).map(|_| p.comment()).collect();
        push(b, p.client, batch).await;
        left -= n;
    }
    // A fresh reviewer-less sync: the owner's client starting from nothing.
    let started = Instant::now();
    let mut cursors = std::collections::BTreeMap::new();
    let mut records = 0usize;
    loop {
        let resp: PullResponse = b
            .http
            .post(format!("{}/v1/pull", b.base))
            .bearer_auth(&b.token)
            .json(&PullRequest { cursors: cursors.clone(), limit: MAX_PULL_LIMIT })
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("pull json");
        for page in &resp.pages {
            cursors.insert(page.scope, page.to_version);
            records += page.records.len();
        }
        if !resp.more {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(records >= comments, "pulled {records} records, expected at least {comments}");
    rows.push(Row {
        backend,
        scenario: format!("initial pull, {records} records (≥{comments} comments)"),
        rate: records as f64 / elapsed,
        unit: "records/s",
        p50: None,
        p99: None,
    });
}

async fn run_backend(
    backend: &'static str,
    pg_url: Option<&str>,
    blobs: Option<handoff_server::blobs::BlobsAt>,
    scale: f64,
    rows: &mut Vec<Row>,
) {
    let mut b = start(pg_url, blobs).await;
    let s = |n: f64| ((n * scale).round() as usize).max(1);
    scenario_pushes(std::slice::from_ref(&b.conn), 1, s(100.0), backend, rows).await;
    scenario_pushes(std::slice::from_ref(&b.conn), CONCURRENT, s(10.0), backend, rows).await;
    scenario_initial_pull(&b.conn, s(100_000.0), backend, rows).await;
    if let Some(stop) = b.stop.take() {
        let _ = stop.send(());
    }
    let _ = (&mut b.server).await;
}

/// A `handoff-server` process of this build, on PostgreSQL and the bucket; stopped on drop.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The 50-client push spread over 3 server processes on one PostgreSQL database and one bucket.
async fn three_processes(url: &str, store: &s3::S3Server, scale: f64, rows: &mut Vec<Row>) {
    use std::io::BufRead;
    // The account and token are made through an in-process server on the same database.
    let mut b = start(Some(url), Some(store.location("bench-procs", ""))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut processes = Vec::new();
    let mut servers = Vec::new();
    for i in 0..3 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_handoff-server"))
            .args(["--database-url", url, "--blobs", "s3://bench-procs", "--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .envs(store.env())
            .env("RUST_LOG", "warn")
            .current_dir(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn handoff-server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("announce");
        let base = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "process {i} said {line:?}");
        processes.push(Process(child));
        servers.push(Conn { base, ..b.conn.clone() });
    }
    let s = |n: f64| ((n * scale).round() as usize).max(1);
    scenario_pushes(&servers, CONCURRENT, s(10.0), "pg+s3 ×3", rows).await;
    let last = rows.len() - 1;
    rows[last].scenario = format!("push, {CONCURRENT} clients on 3 processes, batches of {BATCH}");
    drop(processes);
    if let Some(stop) = b.stop.take() {
        let _ = stop.send(());
    }
    let _ = (&mut b.server).await;
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0))
}

fn main() {
    let scale: f64 = std::env::var("HANDOFF_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut rows = Vec::new();
    rt.block_on(async {
        run_backend("sqlite", None, None, scale, &mut rows).await;
        let pg = pg::PgServer::start();
        let url = pg.fresh_database("handoff_bench").await;
        run_backend("postgres", Some(&url), None, scale, &mut rows).await;
        let store = s3::S3Server::start();
        store.create_bucket("bench");
        store.create_bucket("bench-procs");
        let url = pg.fresh_database("handoff_bench_s3").await;
        run_backend("pg+s3", Some(&url), Some(store.location("bench", "")), scale, &mut rows).await;
        let url = pg.fresh_database("handoff_bench_procs").await;
        three_processes(&url, &store, scale, &mut rows).await;
    });
    println!();
    println!("{:<9} | {:<48} | {:>14} | {:>9} | {:>9}", "backend", "scenario", "rate", "p50", "p99");
    println!("{}", "-".repeat(100));
    for r in &rows {
        println!(
            "{:<9} | {:<48} | {:>8.0} {:<5} | {:>9} | {:>9}",
            r.backend,
            r.scenario,
            r.rate,
            r.unit.split('/').next().unwrap_or(""),
            ms(r.p50),
            ms(r.p99)
        );
    }
    println!(
        "(rates: mutations/s for pushes, records/s for pulls; goals on 2 cores: ≥5,000 mutations/s batched on SQLite, ≥15,000 on PostgreSQL with 50 clients, ≥50,000 records/s initial pull)"
    );
}
