//! Shared fixtures: the real server router in-process over a SQLite file (restartable), a
//! transport that calls it through `tower::ServiceExt::oneshot` with seeded faults, clients
//! with their own skewed clocks, and a small seeded RNG.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use handoff_client::sync::transport::{BoxFuture, HttpRequest, HttpResponse, Method, Transport, TransportError};
use handoff_client::{Client, Clock};
use handoff_core::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};
use handoff_core::{Role, Timestamp};
use handoff_server::AppState;
use handoff_server::config::{Config, PasswordCost};
use handoff_server::storage::Database;
use handoff_server::storage::sqlite::SqliteStore;
use tower::ServiceExt;

/// 2026-01-01, the simulated epoch.
pub const T0: i64 = 1_767_225_600_000;

/// SplitMix64: small, seeded, good enough to pick faults and operations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// true with probability `p` (0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() { None } else { items.get(self.below(items.len() as u64) as usize) }
    }
}

/// The simulated wall clock every party reads, plus a per-client skew.
#[derive(Debug)]
pub struct SimClock {
    pub base: Arc<AtomicI64>,
    pub skew_ms: AtomicI64,
}

impl Clock for SimClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.base.load(Ordering::SeqCst) + self.skew_ms.load(Ordering::SeqCst))
    }
}

/// The server clock that follows the simulated base time.
#[derive(Debug)]
pub struct BaseClock(pub Arc<AtomicI64>);

impl handoff_server::clock::Clock for BaseClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// The real server over a SQLite file in a temp dir; restartable from the same file.
pub struct SimServer {
    pub dir: tempfile::TempDir,
    pub time: Arc<AtomicI64>,
    state: Mutex<AppState>,
    /// The database file in use (a restore puts a copy of the backup in a new file).
    db_file: Mutex<PathBuf>,
    /// The largest JSON body the server accepts now.
    body_limit: AtomicUsize,
    /// A copy taken by [`SimServer::backup`], restored by [`SimServer::restore`].
    backup: Mutex<Option<PathBuf>>,
    restores: AtomicUsize,
}

fn config(dir: &Path, body_limit: usize) -> Config {
    let mut c = Config::new(dir.join("blobs"));
    c.password_cost = PasswordCost::TestsOnly;
    c.rate_limit = None;
    c.max_json_bytes = body_limit;
    // The simulation signs in as it likes; sign-in throttling has its own tests in handoff-server.
    c.auth_rate_limit = None;
    c
}

/// The server's default body limit.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

impl SimServer {
    pub fn start() -> Arc<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let time = Arc::new(AtomicI64::new(T0));
        let db_file = dir.path().join("db.sqlite3");
        let state = Self::open(dir.path(), &db_file, &time, DEFAULT_BODY_LIMIT);
        Arc::new(Self {
            dir,
            time,
            state: Mutex::new(state),
            db_file: Mutex::new(db_file),
            body_limit: AtomicUsize::new(DEFAULT_BODY_LIMIT),
            backup: Mutex::new(None),
            restores: AtomicUsize::new(0),
        })
    }

    fn open(dir: &Path, db_file: &Path, time: &Arc<AtomicI64>, body_limit: usize) -> AppState {
        let db = Database::Sqlite(SqliteStore::open(db_file).expect("open sqlite"));
        AppState::with_clock(db, config(dir, body_limit), Arc::new(BaseClock(time.clone()))).expect("state")
    }

    /// Drops the state (in-memory HLC, event hub) and reopens it from the same SQLite file.
    pub fn restart(&self) {
        let fresh = Self::open(self.dir.path(), &self.db_path(), &self.time, self.body_limit.load(Ordering::SeqCst));
        *self.state.lock().expect("state lock") = fresh;
    }

    /// Restarts the server with another body limit (an operator lowering it).
    pub fn set_body_limit(&self, bytes: usize) {
        self.body_limit.store(bytes, Ordering::SeqCst);
        self.restart();
    }

    /// Takes a consistent copy of the database (as a nightly backup would).
    pub fn backup(&self) {
        let to = self.dir.path().join(format!("backup-{}.sqlite3", self.restores.load(Ordering::SeqCst)));
        let _ = std::fs::remove_file(&to);
        let conn = rusqlite::Connection::open(self.db_path()).expect("open for backup");
        conn.execute("VACUUM INTO ?1", [to.to_string_lossy()]).expect("vacuum into");
        *self.backup.lock().expect("backup lock") = Some(to);
    }

    /// Restores the last backup as an operator would: the database file replaced by the copy
    /// (minutes later), then `handoff-server restored`, then started. Whether one was taken.
    pub async fn restore(&self) -> bool {
        let Some(backup) = self.backup.lock().expect("backup lock").clone() else { return false };
        let n = self.restores.fetch_add(1, Ordering::SeqCst) + 1;
        let file = self.dir.path().join(format!("db-restored-{n}.sqlite3"));
        std::fs::copy(&backup, &file).expect("copy the backup");
        *self.db_file.lock().expect("db file lock") = file;
        self.time.fetch_add(10 * 60_000, Ordering::SeqCst);
        self.restart();
        let id = format!("restored-{n}");
        self.state()
            .db
            .write(move |db| Box::pin(async move { handoff_server::storage::queries::new_history(db, &id).await }))
            .await
            .expect("new history");
        true
    }

    /// How many restores happened.
    pub fn restores(&self) -> usize {
        self.restores.load(Ordering::SeqCst)
    }

    pub fn state(&self) -> AppState {
        self.state.lock().expect("state lock").clone()
    }

    pub fn db_path(&self) -> PathBuf {
        self.db_file.lock().expect("db file lock").clone()
    }

    /// An invite through the bootstrap path (creates the workspace on its first owner invite).
    pub async fn invite(&self, workspace: &str, email: &str, role: Role) -> String {
        let state = self.state();
        let code = handoff_server::auth::new_invite_code().expect("code");
        let hash = handoff_server::auth::secret_hash(&code);
        let (ws, email) = (workspace.to_owned(), email.to_owned());
        let now = state.now();
        let expires = Timestamp::from_millis(now.as_millis() + 400 * 86_400_000);
        state
            .db
            .write(move |db| {
                Box::pin(
                    async move { handoff_server::accounts::bootstrap_invite(db, &ws, &email, role, &hash, now, expires).await },
                )
            })
            .await
            .expect("bootstrap invite");
        code
    }

    /// One request straight through the router.
    pub async fn handle(&self, req: &HttpRequest) -> HttpResponse {
        let method = match req.method {
            Method::Get => axum::http::Method::GET,
            Method::Post => axum::http::Method::POST,
            Method::Put => axum::http::Method::PUT,
            Method::Delete => axum::http::Method::DELETE,
        };
        let mut b =
            axum::http::Request::builder().method(method).uri(&req.path).header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
        if let Some(t) = &req.token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if !req.content_type.is_empty() {
            b = b.header("content-type", req.content_type);
        }
        let request = b.body(Body::from(req.body.clone())).expect("request");
        let resp = handoff_server::router(self.state()).oneshot(request).await.expect("infallible");
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body").to_vec();
        HttpResponse { status, body }
    }
}

/// The faults one client's link suffers.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// No request gets through.
    pub partitioned: bool,
    /// Probability a request is lost before the server sees it.
    pub drop_request: f64,
    /// Probability the answer is lost after the server committed.
    pub drop_response: f64,
    /// Probability a request is delivered twice.
    pub duplicate: f64,
    /// Probability an earlier request is delivered again, late (reordering).
    pub replay_old: f64,
    /// Every pull's answer is lost after the server made it (pushes get through).
    pub lose_pull_answers: bool,
}

/// Counts of what the fault layer did.
#[derive(Clone, Debug, Default)]
pub struct FaultStats {
    pub requests: u64,
    pub dropped_requests: u64,
    pub dropped_responses: u64,
    pub duplicates: u64,
    pub replays: u64,
}

struct LinkState {
    faults: Faults,
    rng: Rng,
    old: Vec<HttpRequest>,
    stats: FaultStats,
}

/// A client's link to the in-process server, through the seeded fault layer.
#[derive(Clone)]
pub struct SimTransport {
    server: Arc<SimServer>,
    link: Arc<Mutex<LinkState>>,
}

impl SimTransport {
    pub fn new(server: Arc<SimServer>, seed: u64) -> Self {
        Self {
            server,
            link: Arc::new(Mutex::new(LinkState {
                faults: Faults::default(),
                rng: Rng::new(seed),
                old: Vec::new(),
                stats: FaultStats::default(),
            })),
        }
    }

    pub fn set_faults(&self, f: Faults) {
        self.link.lock().expect("link").faults = f;
    }

    pub fn faults(&self) -> Faults {
        self.link.lock().expect("link").faults.clone()
    }

    pub fn stats(&self) -> FaultStats {
        self.link.lock().expect("link").stats.clone()
    }
}

enum Plan {
    Partitioned,
    DropRequest,
    Deliver { replay: Option<HttpRequest>, duplicate: bool, drop_response: bool },
}

impl Transport for SimTransport {
    fn send(&self, req: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        Box::pin(async move {
            let plan = {
                let mut l = self.link.lock().expect("link");
                l.stats.requests += 1;
                let f = l.faults.clone();
                if f.partitioned {
                    Plan::Partitioned
                } else if l.rng.chance(f.drop_request) {
                    l.stats.dropped_requests += 1;
                    Plan::DropRequest
                } else {
                    let replay = if !l.old.is_empty() && l.rng.chance(f.replay_old) {
                        let n = l.old.len() as u64;
                        let i = l.rng.below(n) as usize;
                        l.stats.replays += 1;
                        Some(l.old.remove(i))
                    } else {
                        None
                    };
                    let duplicate = l.rng.chance(f.duplicate);
                    let drop_response = l.rng.chance(f.drop_response) || f.lose_pull_answers && req.path == "/v1/pull";
                    if duplicate {
                        l.stats.duplicates += 1;
                    }
                    if drop_response {
                        l.stats.dropped_responses += 1;
                    }
                    if matches!(req.method, Method::Post)
                        && (req.path == "/v1/push" || req.path == "/v1/pull")
                        && l.old.len() < 16
                    {
                        l.old.push(req.clone());
                    }
                    Plan::Deliver { replay, duplicate, drop_response }
                }
            };
            match plan {
                Plan::Partitioned => Err(TransportError::Unreachable("partitioned".into())),
                Plan::DropRequest => Err(TransportError::Unreachable("request lost".into())),
                Plan::Deliver { replay, duplicate, drop_response } => {
                    if let Some(old) = replay {
                        // A late copy of an earlier request arrives first; its answer goes nowhere.
                        let _ = self.server.handle(&old).await;
                    }
                    let mut resp = self.server.handle(&req).await;
                    if duplicate {
                        resp = self.server.handle(&req).await;
                    }
                    if drop_response { Err(TransportError::Unreachable("response lost".into())) } else { Ok(resp) }
                }
            }
        })
    }
}

/// The `target/debug` folder this test binary was built into.
pub fn target_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && let Some(deps) = exe.parent()
        && let Some(profile) = deps.parent()
    {
        return profile.to_owned();
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug")
}

/// Opens a client with a skewable simulated clock.
pub fn open_client(dir: &Path, base: &Arc<AtomicI64>, skew_ms: i64) -> (Arc<Client>, Arc<SimClock>) {
    let clock = Arc::new(SimClock { base: base.clone(), skew_ms: AtomicI64::new(skew_ms) });
    let client = Client::open_with_clock(dir, clock.clone()).expect("open client");
    (Arc::new(client), clock)
}
