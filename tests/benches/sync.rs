//! Sync benchmarks (`cargo bench -p handoff-tests --bench sync`; the lead's `cargo xtask bench sync`).
//!
//! 1. Initial sync of a workspace with 1k specs, 5k revisions and 100k comments into an empty
//!    client: records per second, end to end (server pull + client apply, in-process router)
//!    and client-apply only (the same pages replayed from memory). Goal ≥ 50,000/s.
//! 2. A comment committed on client A until it is in client B's store, both online over
//!    loopback HTTP with B listening to `/v1/events`. Goal ≤ 50 ms.
//!
//! `HANDOFF_BENCH_SCALE=0.1` shrinks the workspace for a quick run; `HANDOFF_BENCH_PART=initial`
//! or `latency` runs one part. `HANDOFF_BENCH_KEEP_STORE=DIR` keeps the reviewer's synced
//! store in DIR (a real 1k-spec / 100k-comment data dir for `cargo xtask bench ui`). Prints
//! numbers; asserts nothing about time.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use handoff_client::sync::SyncEngine;
use handoff_client::sync::transport::{BoxFuture, HttpRequest, HttpResponse, Method, Transport, TransportError};
use handoff_client::{Client, JoinParams, SystemClock};
use handoff_core::protocol::*;
use handoff_core::*;
use handoff_server::AppState;
use handoff_server::config::{Config, PasswordCost};
use handoff_server::storage::Database;
use handoff_server::storage::sqlite::SqliteStore;
use tower::ServiceExt;

/// Calls the router in-process; optionally records every answer.
#[derive(Clone)]
struct Router {
    state: AppState,
    recorded: Arc<Mutex<Vec<HttpResponse>>>,
}

impl Transport for Router {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let method = match req.method {
                Method::Get => axum::http::Method::GET,
                Method::Post => axum::http::Method::POST,
                Method::Put => axum::http::Method::PUT,
                Method::Delete => axum::http::Method::DELETE,
            };
            let mut b = axum::http::Request::builder()
                .method(method)
                .uri(&req.path)
                .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
            if let Some(t) = &req.token {
                b = b.header("authorization", format!("Bearer {t}"));
            }
            b = b.header("content-type", req.content_type);
            let request = b.body(Body::from(req.body)).map_err(|e| TransportError::Unreachable(e.to_string()))?;
            let resp = handoff_server::router(self.state.clone())
                .oneshot(request)
                .await
                .map_err(|e| TransportError::Unreachable(e.to_string()))?;
            let status = resp.status().as_u16();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .map_err(|e| TransportError::Unreachable(e.to_string()))?
                .to_vec();
            let out = HttpResponse { status, body };
            if req.path == "/v1/pull" {
                self.recorded.lock().map_err(|_| TransportError::Unreachable("lock".into()))?.push(out.clone());
            }
            Ok(out)
        })
    }
}

/// Answers pulls from a recording: isolates the client's apply cost.
struct Replay {
    answers: Vec<HttpResponse>,
    next: AtomicUsize,
}

impl Transport for Replay {
    fn send(&self, _req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            self.answers.get(i).cloned().ok_or(TransportError::Unreachable("end of recording".into()))
        })
    }
}

fn id<T: From<uuid::Uuid>>(n: u64, kind: u8) -> T {
    let mut bytes = [0u8; 16];
    bytes[0] = kind;
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    bytes[6] = 0x70;
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    T::from(uuid::Uuid::from_bytes(bytes))
}

fn main() {
    let scale: f64 = std::env::var("HANDOFF_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    // HANDOFF_BENCH_PART=initial|latency runs one part (profiling); both by default.
    let part = std::env::var("HANDOFF_BENCH_PART").unwrap_or_default();
    rt.block_on(async move {
        if part != "latency" {
            initial_sync(scale).await;
        }
        if part != "initial" {
            comment_latency().await;
        }
    });
}

fn state_in(dir: &std::path::Path) -> AppState {
    let db = Database::Sqlite(SqliteStore::open(&dir.join("db.sqlite3")).expect("sqlite"));
    let mut c = Config::new(dir.join("blobs"));
    c.password_cost = PasswordCost::TestsOnly;
    c.rate_limit = None;
    // The simulation signs in as it likes; sign-in throttling has its own tests in handoff-server.
    c.auth_rate_limit = None;
    AppState::new(db, c).expect("state")
}

async fn invite(state: &AppState, email: &str, role: Role) -> String {
    let code = handoff_server::auth::new_invite_code().expect("code");
    let hash = handoff_server::auth::secret_hash(&code);
    let (email, now) = (email.to_owned(), state.now());
    let expires = Timestamp::from_millis(now.as_millis() + 86_400_000);
    state
        .db
        .write(move |db| {
            Box::pin(
                async move { handoff_server::accounts::bootstrap_invite(db, "Bench", &email, role, &hash, now, expires).await },
            )
        })
        .await
        .expect("invite");
    code
}

fn join_params(code: &str, email: &str) -> JoinParams {
    JoinParams {
        invite_code: code.into(),
        email: email.into(),
        display_name: email.into(),
        password: "password123".into(),
        device_name: "bench".into(),
        timezone: "UTC".into(),
    }
}

async fn initial_sync(scale: f64) {
    let (n_specs, n_revisions, n_comments) =
        ((1_000.0 * scale) as usize, (5_000.0 * scale) as usize, (100_000.0 * scale) as usize);
    let dir = tempfile::tempdir().expect("dir");
    let state = state_in(dir.path());
    let recorded = Arc::new(Mutex::new(Vec::new()));
    let transport = Arc::new(Router { state: state.clone(), recorded: recorded.clone() });

    // Seed through the real push path with one writer client (not timed).
    let seed_dir = tempfile::tempdir().expect("seed");
    let seeder = Arc::new(Client::open(seed_dir.path()).expect("seeder"));
    let seed_engine = SyncEngine::new(seeder.clone(), transport.clone(), "http://bench");
    let joined = seed_engine
        .join(join_params(&invite(&state, "owner@bench.io", Role::Owner).await, "owner@bench.io"))
        .await
        .expect("join");
    let ws = joined.workspaces[0];
    let token = joined.session.token.clone();
    let client_id = seeder.status().expect("status").client_id;
    let started = Instant::now();
    let mut muts = Vec::with_capacity(n_specs * 3 + n_revisions + n_comments);
    let threads_per_spec = 10usize;
    for s in 0..n_specs as u64 {
        let spec_id: SpecId = id(s, 1);
        muts.push(Mutation::CreateSpec {
            spec_id,
            workspace_id: ws,
            title: format!("Spec {s}"),
            sections: Sections { api_shape: "fn api()\n".repeat(10), ..Default::default() },
            criteria: vec![],
            due_date: None,
        });
        let deliverable_id: DeliverableId = id(s, 2);
        muts.push(Mutation::CreateDeliverable { deliverable_id, spec_id });
        for r in 0..(n_revisions / n_specs.max(1)) as u64 {
            muts.push(Mutation::CreateRevision {
                revision_id: id(s * 100 + r, 3),
                deliverable_id,
                spec_id,
                files: vec![],
                summary: format!("revision {r}"),
                addresses: vec![],
            });
        }
        for t in 0..threads_per_spec as u64 {
            muts.push(Mutation::CreateThread {
                thread_id: id(s * 100 + t, 4),
                spec_id,
                anchor: Anchor::Spec,
                comment_id: id(s * 1000 + t, 5),
                body: "First comment in the thread, with a few words.".into(),
            });
        }
        let per_thread = (n_comments / n_specs.max(1)).saturating_sub(threads_per_spec) / threads_per_spec;
        for t in 0..threads_per_spec as u64 {
            for c in 0..per_thread as u64 {
                muts.push(Mutation::AddComment {
                    comment_id: id(s * 100_000 + t * 1000 + c + 100, 6),
                    thread_id: id(s * 100 + t, 4),
                    spec_id,
                    body: format!("Reply {c}: looks good, but check the edge case in line {c}."),
                    seen_events: 0,
                });
            }
        }
    }
    let total = muts.len();
    let mut next_id = 1u64;
    for chunk in muts.chunks(MAX_PUSH_BATCH) {
        let mutations = chunk
            .iter()
            .map(|m| {
                let env = MutationEnvelope {
                    client_id,
                    mutation_id: next_id,
                    hlc: Hlc { wall_ms: 1_767_225_600_000 + next_id, counter: 0 },
                    created_at: Timestamp::from_millis(1_767_225_600_000),
                    mutation: m.clone(),
                };
                next_id += 1;
                env
            })
            .collect();
        let body = serde_json::to_vec(&PushRequest::new(client_id, mutations)).expect("json");
        let resp = transport.send(HttpRequest::json(Method::Post, "/v1/push", Some(&token), body)).await.expect("push");
        assert_eq!(resp.status, 200, "seed push: {}", String::from_utf8_lossy(&resp.body));
    }
    eprintln!("seeded {total} mutations in {:.1} s", started.elapsed().as_secs_f64());

    // A reviewer's empty client syncs everything.
    let code = invite(&state, "rev@bench.io", Role::Reviewer).await;
    let r_dir = tempfile::tempdir().expect("r");
    let reader = Arc::new(Client::open(r_dir.path()).expect("reader"));
    let engine = SyncEngine::new(reader.clone(), transport.clone(), "http://bench");
    engine.join(join_params(&code, "rev@bench.io")).await.expect("join reader");
    recorded.lock().expect("lock").clear();
    let t = Instant::now();
    let report = engine.sync_once().await.expect("initial sync");
    let e2e = t.elapsed();
    let records = report.records_pulled as f64;
    println!(
        "initial sync (server + client, in-process): {} records in {:.2} s = {:.0} records/s ({} pulls)",
        report.records_pulled,
        e2e.as_secs_f64(),
        records / e2e.as_secs_f64(),
        report.pulls
    );

    if let Some(keep) = std::env::var_os("HANDOFF_BENCH_KEEP_STORE") {
        keep_store(&reader, std::path::Path::new(&keep));
    }

    // The same pages replayed into fresh empty clients: the client's apply rate alone. Best of
    // three, since the apply is short and this machine is shared.
    let answers = recorded.lock().expect("lock").clone();
    let mut rates = Vec::new();
    for _ in 0..3 {
        let c_dir = tempfile::tempdir().expect("c");
        let copy = Arc::new(Client::open(c_dir.path()).expect("copy"));
        let replay = SyncEngine::new(
            copy.clone(),
            Arc::new(Replay { answers: answers.clone(), next: AtomicUsize::new(0) }),
            "http://bench",
        );
        replay.set_token(Some("replay".into()));
        let t = Instant::now();
        let report = replay.sync_once().await.expect("replayed sync");
        rates.push(report.records_pulled as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "initial sync (client apply only, pages from memory): {} records, best {:.0} records/s, median {:.0} records/s (goal ≥ 50000)",
        report.records_pulled, rates[2], rates[1]
    );
}

/// Writes a consistent copy of `client`'s store into `dir` (SQLite's `VACUUM INTO`), so the
/// synced workspace outlives this run.
fn keep_store(client: &Client, dir: &std::path::Path) {
    std::fs::create_dir_all(dir).expect("keep dir");
    let target = dir.join("store.db");
    let _ = std::fs::remove_file(&target);
    let source = client.data_dir().join("store.db");
    let conn = rusqlite::Connection::open(&source).expect("open the synced store");
    conn.execute("VACUUM INTO ?1", [target.to_string_lossy()]).expect("copy the synced store");
    eprintln!("kept the synced store in {}", target.display());
}

async fn comment_latency() {
    let dir = tempfile::tempdir().expect("dir");
    let state = state_in(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let serve_state = state.clone();
    tokio::spawn(async move {
        let _ = handoff_server::serve(listener, serve_state, std::future::pending()).await;
    });
    let a_dir = tempfile::tempdir().expect("a");
    let b_dir = tempfile::tempdir().expect("b");
    let a = SyncEngine::http(Arc::new(Client::open_with_clock(a_dir.path(), Arc::new(SystemClock)).expect("a")), &url)
        .expect("engine a");
    let b = Arc::new(SyncEngine::http(Arc::new(Client::open(b_dir.path()).expect("b")), &url).expect("engine b"));
    a.join(join_params(&invite(&state, "a@bench.io", Role::Owner).await, "a@bench.io")).await.expect("join a");
    b.join(join_params(&invite(&state, "b@bench.io", Role::Reviewer).await, "b@bench.io")).await.expect("join b");
    let spec = a.client().create_spec(handoff_client::NewSpec { title: "Latency".into(), ..Default::default() }).expect("spec");
    let thread = a.client().create_thread(spec, handoff_client::ThreadTarget::Spec, "ping").expect("thread");
    a.sync_once().await.expect("a sync");
    b.sync_once().await.expect("b sync");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watcher = b.clone();
    let rounds = Arc::new(AtomicI64::new(0));
    let counter = rounds.clone();
    let task = tokio::spawn(async move {
        watcher
            .watch(stop_rx, Duration::from_secs(30), move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .await
    });
    // Let B's event stream connect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut samples = Vec::new();
    for i in 0..30 {
        let t = Instant::now();
        let comment = a.client().reply(thread, &format!("comment {i}")).expect("reply");
        a.sync_once().await.expect("a push");
        loop {
            let seen = b.client().thread(thread).map(|t| t.comments.iter().any(|c| c.id == comment)).unwrap_or(false);
            if seen {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                eprintln!("comment {i} did not arrive within 10 s");
                break;
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        samples.push(t.elapsed());
    }
    let _ = stop_tx.send(true);
    let _ = task.await;
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "comment A→B over loopback (push + poke + pull): median {:.1} ms, p90 {:.1} ms, max {:.1} ms over {} comments (goal ≤ 50 ms)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
}
