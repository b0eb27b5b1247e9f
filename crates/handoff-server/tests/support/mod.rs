//! Test fixtures: an app over SQLite or PostgreSQL with a manual clock, requests through
//! `tower::ServiceExt::oneshot`, a workspace with one member of each role, and mutation
//! builders.

#![allow(dead_code)]

pub mod pg;
pub mod s3;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use handoff_core::protocol::*;
use handoff_core::*;
use handoff_server::AppState;
use handoff_server::blobs::BlobsAt;
use handoff_server::clock::ManualClock;
use handoff_server::config::{Config, PasswordCost};
use handoff_server::storage::Database;
use handoff_server::storage::postgres::PgStore;
use handoff_server::storage::sqlite::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Test cases on every storage combination that exists: each `async fn case(app: TestApp)` runs
/// on SQLite with a blob folder as a test of its own (in `mod sqlite`), and all of them run in
/// `postgres_runs_every_case` (PostgreSQL with a blob folder) and in
/// `postgres_with_s3_runs_every_case` (PostgreSQL with the blobs in an `s3s-fs` bucket), each
/// case on a fresh database and, on S3, under a key prefix of its own.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::TestApp::sqlite()).await
                }
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_runs_every_case() {
            let pg = $crate::support::pg::PgServer::start();
            $(
                let url = pg.fresh_database(concat!("pg_", stringify!($name))).await;
                $name($crate::support::TestApp::postgres(&url).await).await;
            )*
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres_with_s3_runs_every_case() {
            let (pg, s3) = ($crate::support::pg::PgServer::start(), $crate::support::s3::S3Server::start());
            s3.create_bucket("cases");
            $(
                let url = pg.fresh_database(concat!("s3_", stringify!($name))).await;
                let at = s3.location("cases", stringify!($name));
                $name($crate::support::TestApp::postgres_with_blobs(&url, at).await).await;
            )*
        }
    };
}
pub(crate) use on_every_store;

/// The manual clock's start: 2026-01-01.
pub const T0: i64 = 1_767_225_600_000;

/// A running app (no socket) with its clock and data folder.
pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config::new(dir.join("blobs"));
    c.password_cost = PasswordCost::TestsOnly;
    c.rate_limit = None;
    c.auth_rate_limit = None;
    c
}

impl TestApp {
    /// Over a fresh SQLite file.
    pub fn sqlite() -> Self {
        Self::sqlite_with(|_| {})
    }

    /// Over a fresh SQLite file, with adjusted settings.
    pub fn sqlite_with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::Sqlite(SqliteStore::open(&dir.path().join("db.sqlite3")).expect("open sqlite"));
        Self::over(db, dir, configure)
    }

    /// Over a PostgreSQL database.
    pub async fn postgres(url: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::Postgres(PgStore::open(url).await.expect("open postgres"));
        Self::over(db, dir, |_| {})
    }

    /// Over a PostgreSQL database with blobs `at` an object store (or a folder).
    pub async fn postgres_with_blobs(url: &str, at: BlobsAt) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::Postgres(PgStore::open(url).await.expect("open postgres"));
        let (clock, config) = prepared(dir.path(), |c| c.blobs = at);
        let state = AppState::connect(db, config, clock.clone()).await.expect("state");
        Self { state, clock, dir }
    }

    fn over(db: Database, dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> Self {
        let (clock, config) = prepared(dir.path(), configure);
        let state = AppState::with_clock(db, config, clock.clone()).expect("state");
        Self { state, clock, dir }
    }

    /// One request through the router. `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let body = body.map(|b| b.to_string());
        self.call_raw(method, path, token, body.map(|b| b.into_bytes()), true).await
    }

    /// One request with a raw body; `protocol` says whether to send the protocol header.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        protocol: bool,
    ) -> (StatusCode, Value) {
        call_state(&self.state, method, path, token, body, protocol).await
    }

    /// Creates an invite through the bootstrap path (the `invite` command's code).
    pub async fn bootstrap_invite(&self, workspace: &str, email: &str, role: Role) -> String {
        let code = handoff_server::auth::new_invite_code().expect("code");
        let hash = handoff_server::auth::secret_hash(&code);
        let (ws, email) = (workspace.to_owned(), email.to_owned());
        let now = self.state.now();
        let expires = Timestamp::from_millis(now.as_millis() + 86_400_000);
        self.state
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

    /// Joins with an invite code; returns the session.
    pub async fn join(&self, code: &str, email: &str) -> Session {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/auth/join",
                None,
                Some(json!({"invite_code": code, "email": email, "display_name": email, "password": "password123", "device_name": "laptop", "timezone": "Europe/Lisbon"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "join {email}: {body}");
        serde_json::from_value(body).expect("session")
    }

    /// Creates a member with `role` in `workspace` (creating the workspace with an owner first
    /// if needed is the caller's business).
    pub async fn member(&self, workspace: &str, email: &str, role: Role) -> Session {
        let code = self.bootstrap_invite(workspace, email, role).await;
        self.join(&code, email).await
    }

    /// Pushes envelopes; returns status and body.
    pub async fn push(&self, token: &str, client: ClientId, mutations: &[MutationEnvelope]) -> (StatusCode, Value) {
        let req = PushRequest::new(client, mutations.to_vec());
        self.call(Method::POST, "/v1/push", Some(token), Some(serde_json::to_value(&req).expect("json"))).await
    }

    /// Pushes and expects success; returns the outcomes.
    pub async fn push_ok(&self, token: &str, client: ClientId, mutations: &[MutationEnvelope]) -> Vec<Outcome> {
        let (status, body) = self.push(token, client, mutations).await;
        assert_eq!(status, StatusCode::OK, "push: {body}");
        let resp: PushResponse = serde_json::from_value(body).expect("push response");
        resp.results.into_iter().map(|r| r.outcome).collect()
    }

    /// Pulls everything visible from scratch (following `more`); returns all records by scope.
    pub async fn pull_all(&self, token: &str) -> Vec<ScopePage> {
        self.pull_from(token, Default::default(), 5_000).await.0
    }

    /// Pulls to quiescence from `cursors`; returns all pages and the final cursors.
    pub async fn pull_from(
        &self,
        token: &str,
        mut cursors: std::collections::BTreeMap<Scope, u64>,
        limit: u32,
    ) -> (Vec<ScopePage>, std::collections::BTreeMap<Scope, u64>) {
        let mut pages = Vec::new();
        for _ in 0..10_000 {
            let req = PullRequest { cursors: cursors.clone(), limit };
            let (status, body) =
                self.call(Method::POST, "/v1/pull", Some(token), Some(serde_json::to_value(&req).expect("json"))).await;
            assert_eq!(status, StatusCode::OK, "pull: {body}");
            let resp: PullResponse = serde_json::from_value(body).expect("pull response");
            for p in &resp.pages {
                if p.reset && p.records.is_empty() && p.to_version == 0 {
                    cursors.remove(&p.scope);
                } else {
                    cursors.insert(p.scope, p.to_version);
                }
            }
            pages.extend(resp.pages);
            if !resp.more {
                return (pages, cursors);
            }
        }
        panic!("pull never finished");
    }
}

/// Logging for tests, a clock at [`T0`] and the test settings, adjusted by `configure`.
fn prepared(dir: &std::path::Path, configure: impl FnOnce(&mut Config)) -> (Arc<ManualClock>, Config) {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into());
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter(filter).try_init();
    let mut config = test_config(dir);
    configure(&mut config);
    (Arc::new(ManualClock::at(T0)), config)
}

/// One request through a router over `state` (usable from spawned tasks).
pub async fn call_state(
    state: &AppState,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
    protocol: bool,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if protocol {
        req = req.header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string());
    }
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b)),
        None => req.body(Body::empty()),
    }
    .expect("request");
    let resp = handoff_server::router(state.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, value)
}

/// The library server serving a [`TestApp`]'s state on 127.0.0.1 until stopped.
pub struct LoopbackServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Sending stops it (graceful shutdown).
    pub stop: tokio::sync::oneshot::Sender<()>,
    /// Ends when `serve` returns.
    pub task: tokio::task::JoinHandle<handoff_server::Result<()>>,
}

impl LoopbackServer {
    /// Serves `app` on a free loopback port.
    pub async fn start(app: &TestApp) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(handoff_server::serve(listener, app.state.clone(), async move {
            let _ = stop_rx.await;
        }));
        Self { addr, stop, task }
    }

    /// Stops it and waits for `serve` to return.
    pub async fn shut_down(self) {
        self.stop.send(()).expect("stop");
        self.task.await.expect("join").expect("serve");
    }
}

/// Fixed ids for readable tests.
pub fn id<T: From<uuid::Uuid>>(n: u128) -> T {
    T::from(uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n))
}

/// A client device: its id, next mutation id and HLC.
pub struct Device {
    pub id: ClientId,
    pub next: u64,
    pub wall: u64,
}

impl Device {
    /// A device whose HLC starts at `wall`.
    pub fn new(n: u128) -> Self {
        Self {
            id: ClientId::from(uuid::Uuid::from_u128(0xC11E_0000_0000_7000_8000_0000_0000_0000 | n)),
            next: 1,
            wall: T0 as u64,
        }
    }

    /// Wraps a mutation with the next id and an HLC reading.
    pub fn env(&mut self, m: Mutation) -> MutationEnvelope {
        let e = MutationEnvelope {
            client_id: self.id,
            mutation_id: self.next,
            hlc: Hlc { wall_ms: self.wall, counter: self.next as u32 },
            created_at: Timestamp::from_millis(self.wall as i64),
            mutation: m,
        };
        self.next += 1;
        e
    }
}

/// A workspace with an owner, a reviewer and a contractor, plus a second workspace with its own
/// owner.
pub struct World {
    pub app: TestApp,
    pub ws: WorkspaceId,
    pub owner: Session,
    pub reviewer: Session,
    pub contractor: Session,
    pub other_owner: Session,
    pub other_ws: WorkspaceId,
}

impl World {
    /// Builds the world on `app`.
    pub async fn on(app: TestApp) -> Self {
        let owner = app.member("Acme", "owner@acme.test", Role::Owner).await;
        let reviewer = app.member("Acme", "reviewer@acme.test", Role::Reviewer).await;
        let contractor = app.member("Acme", "contractor@remote.test", Role::Contractor).await;
        let other_owner = app.member("Globex", "owner@globex.test", Role::Owner).await;
        let ws = owner.workspaces[0].workspace.id;
        let other_ws = other_owner.workspaces[0].workspace.id;
        Self { app, ws, owner, reviewer, contractor, other_owner, other_ws }
    }

    /// A world over SQLite.
    pub async fn sqlite() -> Self {
        Self::on(TestApp::sqlite()).await
    }
}

/// `spec.create` with a title and one criterion.
/// A spec that passes every readiness rule but the assignee's: once someone is assigned, it
/// may move to ready.
pub fn create_spec(spec: SpecId, ws: WorkspaceId, title: &str) -> Mutation {
    Mutation::CreateSpec {
        spec_id: spec,
        workspace_id: ws,
        title: title.into(),
        sections: Sections {
            system_context: "The catalogue service keeps the shop's items in PostgreSQL; a nightly job imports the \
                suppliers' CSV files into it. This work replaces that job's parser, which drops rows with quoted commas."
                .into(),
            api_shape: "GET /items\n".into(),
            out_of_scope: "The nightly schedule and the supplier portal.".into(),
            notes: String::new(),
        },
        criteria: vec![Criterion { id: id(900), text: "Imports CSV".into() }],
        due_date: Some("2026-12-24".into()),
    }
}

/// A new spec `id(1)` in `ws` with deliverable `id(2)` and its revision `id(3)`, holding one
/// file `path` with `content` (upload it first).
pub fn first_delivery(dev: &mut Device, ws: WorkspaceId, title: &str, path: &str, content: &[u8]) -> Vec<MutationEnvelope> {
    let spec: SpecId = id(1);
    vec![
        dev.env(create_spec(spec, ws, title)),
        dev.env(Mutation::CreateDeliverable { deliverable_id: id(2), spec_id: spec }),
        dev.env(Mutation::CreateRevision {
            revision_id: id(3),
            deliverable_id: id(2),
            spec_id: spec,
            files: vec![ManifestEntry { path: path.into(), sha256: sha(content), size: content.len() as u64, executable: false }],
            summary: "hi".into(),
            addresses: vec![],
        }),
    ]
}

/// The sha256 hex of `bytes`.
pub fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every record of the given pages.
pub fn records(pages: &[ScopePage]) -> Vec<&Record> {
    pages.iter().flat_map(|p| p.records.iter()).collect()
}

/// The latest state of a spec in pulled pages.
pub fn find_spec(pages: &[ScopePage], spec: SpecId) -> Option<Spec> {
    records(pages).into_iter().rev().find_map(|r| match r {
        Record::Spec(s) if s.id == spec => Some(s.clone()),
        _ => None,
    })
}
