//! Sync with a Handoff server (DESIGN §3): push the outbox in order and in batches, pull pages
//! per scope, upload blobs before the revisions that need them, download blobs on demand,
//! listen for pokes.
//!
//! # Shape
//! - [`planner`] is pure: given the local state and how the round went, it says what to do
//!   next ([`planner::Step`]) and how long to back off.
//! - [`SyncEngine`] is the executor: it reads the store, asks the planner, does the IO through
//!   a [`Transport`], and writes each answer in one transaction.
//! - [`Transport`] is the only network seam: [`HttpTransport`] is reqwest over rustls; the
//!   simulation in `tests/` routes requests into the server's router in-process with faults.
//!
//! # Async API
//! [`SyncEngine`]'s network methods are `async` (tokio). The [`Client`] facade stays
//! synchronous for local work; the desktop app calls the engine from its async commands,
//! and the CLI runs it on a small tokio runtime. One engine per data dir; it is `Send + Sync`
//! and its methods take `&self`.

pub(crate) mod local;
pub mod planner;
mod session;
pub mod transport;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::TransactionBehavior;
use serde::Serialize;
use serde::de::DeserializeOwned;

use handoff_core::protocol::*;
use handoff_core::*;

use crate::Client;
use crate::code::Code;
use crate::error::ClientError;
use crate::outbox::{self, meta_get, meta_set};
use crate::store::read;

pub use local::{PullTally, PushTally};
pub use planner::Step;
pub use transport::{HttpRequest, HttpResponse, HttpTransport, Method, Transport, TransportError};

/// Why a sync step failed. Local state is consistent after any of these: every answer that
/// arrived was recorded whole, nothing half-applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The local store failed.
    #[error(transparent)]
    Local(#[from] ClientError),
    /// No answer from the server (offline, timeout): retry later.
    #[error(transparent)]
    Offline(#[from] TransportError),
    /// The server refused the request.
    #[error("the server refused: {message} ({code})")]
    Server {
        /// HTTP status.
        status: u16,
        /// The stable code from `{code, message}` ([`Code::Unknown`] for a newer server's).
        code: Code,
        /// The server's sentence.
        message: String,
    },
    /// No token: join or sign in first.
    #[error("not signed in to a server; run `handoff join` or `handoff login` first")]
    NotSignedIn,
    /// The server keeps answering a push without consuming the mutation.
    #[error("the server did not accept mutation {0} after repeated pushes; run `handoff sync` again later or report this")]
    Stuck(u64),
    /// The server's answer did not have the protocol's shape.
    #[error("the server's answer was not understood: {0}")]
    Protocol(String),
    /// The token could not be kept or read (no keychain, no token stored).
    #[error(transparent)]
    Credential(crate::CredentialError),
}

impl SyncError {
    /// The stable code for `{code, message}` answers.
    pub fn code(&self) -> Code {
        match self {
            SyncError::Local(e) => e.code(),
            SyncError::Offline(_) => Code::Offline,
            SyncError::Server { code, .. } => *code,
            SyncError::NotSignedIn => Code::NotSignedIn,
            SyncError::Stuck(_) => Code::Stuck,
            SyncError::Protocol(_) => Code::Protocol,
            SyncError::Credential(e) => e.code(),
        }
    }

    /// Whether trying again later may succeed without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) | SyncError::Stuck(_) | SyncError::Protocol(_) => true,
            SyncError::Server { status, code, .. } => *status >= 500 || matches!(code, Code::RateLimited | Code::BlobsMissing),
            SyncError::Local(e) => e.code() == Code::StoreBusy,
            SyncError::NotSignedIn | SyncError::Credential(_) => false,
        }
    }

    /// Whether the user must sign in again.
    pub fn needs_sign_in(&self) -> bool {
        self.code().needs_sign_in()
    }
}

/// The sync engine's result type.
pub type SyncResult<T> = std::result::Result<T, SyncError>;

/// Progress of a sync or a transfer, for a progress bar (and the app's `sync-progress` event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "SyncProgress"))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Progress {
    /// Uploading a blob: bytes sent of its size.
    Uploading {
        /// The blob.
        sha256: String,
        /// Bytes sent.
        done: u64,
        /// Its size.
        total: u64,
    },
    /// Downloading a blob.
    Downloading {
        /// The blob.
        sha256: String,
        /// Bytes stored (including a resumed part).
        done: u64,
        /// Its size.
        total: u64,
    },
    /// Pushed mutations so far this round, of those pending at its start.
    Pushed {
        /// Answered so far.
        done: u64,
        /// Pending at the start.
        total: u64,
    },
    /// Records pulled so far this round.
    Pulled {
        /// Records applied.
        records: u64,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// What one sync round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Mutations the server applied as sent.
    pub applied: u32,
    /// Mutations applied after a clean merge.
    pub merged: u32,
    /// Mutations kept as conflicts (now in the attention list).
    pub conflicts: u32,
    /// Mutations refused (now in the attention list).
    pub rejected: u32,
    /// Push requests made.
    pub pushes: u32,
    /// Pull requests made.
    pub pulls: u32,
    /// Records pulled.
    pub records_pulled: u32,
    /// Scopes lost (access removed); their unsent work is in the attention list.
    pub lost_scopes: u32,
    /// Blobs uploaded.
    pub blobs_uploaded: u32,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Still pending after the round (made while it ran).
    pub pending: u32,
    /// Waiting in the attention list.
    pub attention: u32,
}

/// Joining a workspace with an invite.
#[derive(Clone, Debug)]
pub struct JoinParams {
    /// The invite code.
    pub invite_code: String,
    /// Email (must match the invite).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Password (new or existing account).
    pub password: String,
    /// This device's name in the token list.
    pub device_name: String,
    /// IANA time zone.
    pub timezone: String,
}

/// What joining or signing in recorded locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Joined {
    /// The session (holds the token: store it with [`crate::credentials`], never in SQLite).
    #[serde(skip)]
    pub session: Session,
    /// The email this client now acts as.
    pub email: String,
    /// The workspaces recorded.
    pub workspaces: Vec<WorkspaceId>,
    /// Specs made offline in the local workspace that moved into the joined one.
    pub adopted_specs: u32,
}

const ONLINE_UNKNOWN: u8 = 0;
const ONLINE: u8 = 1;
const OFFLINE: u8 = 2;

/// Tuning knobs.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    /// Mutations per push (≤ [`MAX_PUSH_BATCH`]).
    pub push_batch: usize,
    /// Records per pull page (≤ [`MAX_PULL_LIMIT`]).
    pub pull_limit: u32,
    /// Backoff base and cap.
    pub backoff_base: Duration,
    /// Backoff cap.
    pub backoff_cap: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            push_batch: MAX_PUSH_BATCH,
            pull_limit: MAX_PULL_LIMIT,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(60),
        }
    }
}

/// Syncs one [`Client`] with one server.
pub struct SyncEngine {
    client: Arc<Client>,
    transport: Arc<dyn Transport>,
    server_url: String,
    token: Mutex<Option<String>>,
    online: AtomicU8,
    progress: Mutex<Option<ProgressFn>>,
    options: SyncOptions,
    /// Serializes rounds: one push/pull at a time per engine.
    round: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine").field("server_url", &self.server_url).finish_non_exhaustive()
    }
}

fn json_body<T: Serialize>(v: &T) -> SyncResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// Pseudo-random bits for jitter without an RNG dependency.
fn jitter_seed() -> u64 {
    u64::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..8].try_into().unwrap_or([7; 8]))
}

impl SyncEngine {
    /// An engine over `transport` for the server at `server_url` (recorded on join/login).
    pub fn new(client: Arc<Client>, transport: Arc<dyn Transport>, server_url: &str) -> Self {
        Self {
            client,
            transport,
            server_url: server_url.trim_end_matches('/').to_owned(),
            token: Mutex::new(None),
            online: AtomicU8::new(ONLINE_UNKNOWN),
            progress: Mutex::new(None),
            options: SyncOptions::default(),
            round: tokio::sync::Mutex::new(()),
        }
    }

    /// An engine over HTTP(S) to `server_url`.
    pub fn http(client: Arc<Client>, server_url: &str) -> SyncResult<Self> {
        let transport = Arc::new(HttpTransport::new(server_url)?);
        Ok(Self::new(client, transport, server_url))
    }

    /// Replaces the tuning knobs.
    pub fn with_options(mut self, options: SyncOptions) -> Self {
        self.options = SyncOptions {
            push_batch: options.push_batch.clamp(1, MAX_PUSH_BATCH),
            pull_limit: options.pull_limit.clamp(1, MAX_PULL_LIMIT),
            ..options
        };
        self
    }

    /// The client this engine syncs.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }

    /// Uses `token` for requests (read from the keychain by the caller).
    pub fn set_token(&self, token: Option<String>) {
        *self.token.lock().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// Calls `f` with transfer and sync progress.
    pub fn set_progress(&self, f: Option<ProgressFn>) {
        *self.progress.lock().unwrap_or_else(PoisonError::into_inner) = f;
    }

    fn report(&self, p: Progress) {
        let f = self.progress.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(f) = f {
            f(p);
        }
    }

    fn token(&self) -> SyncResult<String> {
        self.token.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or(SyncError::NotSignedIn)
    }

    /// `Some(true)` after the last request got an answer, `Some(false)` after it got none,
    /// `None` before any request.
    pub fn is_online(&self) -> Option<bool> {
        match self.online.load(Ordering::Relaxed) {
            ONLINE => Some(true),
            OFFLINE => Some(false),
            _ => None,
        }
    }

    /// Asks `/healthz` whether the server answers.
    pub async fn probe(&self) -> bool {
        let req = HttpRequest {
            method: Method::Get,
            path: "/healthz".into(),
            token: None,
            body: Vec::new(),
            content_type: "",
            range_from: None,
        };
        let ok = matches!(self.transport.send(req).await, Ok(r) if r.status == 200);
        self.online.store(if ok { ONLINE } else { OFFLINE }, Ordering::Relaxed);
        ok
    }

    async fn raw(&self, req: HttpRequest) -> SyncResult<HttpResponse> {
        match self.transport.send(req).await {
            Ok(resp) => {
                self.online.store(ONLINE, Ordering::Relaxed);
                Ok(resp)
            }
            Err(e) => {
                self.online.store(OFFLINE, Ordering::Relaxed);
                Err(SyncError::Offline(e))
            }
        }
    }

    /// One JSON call: a 2xx answer is decoded as `R`; anything else becomes
    /// [`SyncError::Server`] with the answer's `{code, message}`.
    async fn call<R: DeserializeOwned>(&self, method: Method, path: &str, token: Option<&str>, body: Vec<u8>) -> SyncResult<R> {
        let resp = self.raw(HttpRequest::json(method, path, token, body)).await?;
        check_status(&resp)?;
        let body = if resp.body.is_empty() { b"null".as_slice() } else { &resp.body };
        serde_json::from_slice(body).map_err(|e| SyncError::Protocol(format!("{path}: {e}")))
    }

    /// Joins a workspace with an invite code, creating the account if needed, and records the
    /// identity, server and workspaces locally. Work made offline in the "Local" workspace
    /// (its never-pushed `spec.create` mutations and its rows) moves into the first joined
    /// workspace and will be pushed there: nothing made before joining is lost.
    pub async fn join(&self, p: JoinParams) -> SyncResult<Joined> {
        let req = JoinRequest {
            invite_code: p.invite_code,
            email: p.email,
            display_name: p.display_name.clone(),
            password: p.password,
            device_name: p.device_name,
            timezone: p.timezone.clone(),
        };
        let session: Session = self.call(Method::Post, "/v1/auth/join", None, json_body(&req)?).await?;
        self.record_session(session, &p.display_name, &p.timezone)
    }

    /// Signs in to an existing account; records the session like [`SyncEngine::join`].
    pub async fn login(&self, email: &str, password: &str, device_name: &str) -> SyncResult<Joined> {
        let req = LoginRequest { email: email.to_owned(), password: password.to_owned(), device_name: device_name.to_owned() };
        let session: Session = self.call(Method::Post, "/v1/auth/login", None, json_body(&req)?).await?;
        self.record_session(session, email, "UTC")
    }

    fn record_session(&self, session: Session, display_name: &str, timezone: &str) -> SyncResult<Joined> {
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        meta_set(&tx, "identity", &session.email)?;
        meta_set(&tx, "server_url", &self.server_url)?;
        meta_set(&tx, "user_id", &session.user_id.to_string())?;
        let mut workspaces = Vec::new();
        for m in &session.workspaces {
            let ws = m.workspace.id.to_string();
            tx.execute(
                "INSERT INTO workspaces (id, name, is_local) VALUES (?1, ?2, 0) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                rusqlite::params![ws, m.workspace.name],
            )
            .map_err(ClientError::from)?;
            let wh = serde_json::to_string(&WorkingHours::default()).map_err(|e| ClientError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT OR IGNORE INTO members (workspace_id, user_id, email, display_name, role, timezone, working_hours)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![ws, session.user_id.to_string(), session.email, display_name, m.role.as_str(), timezone, wh],
            )
            .map_err(ClientError::from)?;
            workspaces.push(m.workspace.id);
        }
        let mut adopted = 0;
        if let Some(first) = workspaces.first() {
            adopted = local::adopt_local_workspace(&tx, *first, &session.email)?;
            let current = meta_get(&tx, "current_workspace")?;
            let current_ok = match current {
                Some(c) => tx
                    .query_row("SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = ?1 AND is_local = 0)", [c], |r| {
                        r.get::<_, bool>(0)
                    })
                    .map_err(ClientError::from)?,
                None => false,
            };
            if !current_ok {
                meta_set(&tx, "current_workspace", &first.to_string())?;
            }
        }
        crate::store::commit(tx)?;
        drop(conn);
        self.set_token(Some(session.token.clone()));
        Ok(Joined { email: session.email.clone(), workspaces, adopted_specs: adopted, session })
    }

    /// Revokes this device's token on the server and forgets it here. Local data stays.
    pub async fn logout(&self) -> SyncResult<()> {
        let token = self.token()?;
        let resp = self.raw(HttpRequest::json(Method::Post, "/v1/auth/logout", Some(&token), Vec::new())).await?;
        self.set_token(None);
        check_status(&resp)
    }

    /// One sync round: upload the blobs pending revisions need, push the outbox in order and
    /// in batches, then pull until the server has nothing more. Every answer is recorded in
    /// one transaction as it arrives, so a failure or a crash at any point loses nothing and
    /// the next round continues where this one stopped.
    pub async fn sync_once(&self) -> SyncResult<SyncReport> {
        let _round = self.round.lock().await;
        let token = self.token()?;
        let mut report = SyncReport::default();
        let mut round = planner::RoundState::default();
        let mut checked: BTreeSet<String> = BTreeSet::new();
        let total_pending = local::pending_ids(&self.client.conn())?.len() as u64;
        let mut blob_retries = 0u32;
        loop {
            let (local_state, batch_envs) = {
                let conn = self.client.conn();
                let pending = local::pending_ids(&conn)?;
                let batch = planner::next_batch(&pending, self.options.push_batch);
                let envs = local::envelopes(&conn, &batch)?;
                let unchecked = local::blob_hashes(&envs).into_iter().filter(|h| !checked.contains(h)).collect();
                (planner::LocalState { pending, unchecked_blobs: unchecked }, envs)
            };
            match planner::next_step(&local_state, &round, self.options.push_batch) {
                Step::UploadBlobs(hashes) => {
                    let sizes = batch_envs
                        .iter()
                        .flat_map(|e| match &e.mutation {
                            Mutation::CreateRevision { files, .. } => files.clone(),
                            _ => Vec::new(),
                        })
                        .map(|f| (f.sha256, f.size))
                        .collect::<std::collections::BTreeMap<_, _>>();
                    let (n, bytes) = self.upload_blobs(&token, &hashes, &sizes).await?;
                    report.blobs_uploaded += n;
                    report.bytes_uploaded += bytes;
                    checked.extend(hashes);
                }
                Step::Push(batch) => {
                    round.last_push_first = batch.first().copied();
                    match self.push(&token, batch_envs).await {
                        Ok(tally) => {
                            report.applied += tally.applied;
                            report.merged += tally.merged;
                            report.conflicts += tally.conflicts;
                            report.rejected += tally.rejected;
                            report.pushes += 1;
                            round.pushes += 1;
                            let done = (report.applied + report.merged + report.conflicts + report.rejected) as u64;
                            self.report(Progress::Pushed { done, total: total_pending.max(done) });
                        }
                        Err(SyncError::Server { code: Code::BlobsMissing, .. }) if blob_retries < 3 => {
                            // Someone (a server restore, a cleanup) lost blobs we had uploaded: ask again.
                            blob_retries += 1;
                            round.last_push_first = None;
                            checked.clear();
                        }
                        Err(e) => {
                            let conn = self.client.conn();
                            local::note_push_failure(&conn, &batch, &e.to_string())?;
                            return Err(e);
                        }
                    }
                }
                Step::Pull => {
                    let (tally, more) = self.pull_page(&token).await?;
                    report.pulls += 1;
                    report.records_pulled += tally.records;
                    report.lost_scopes += tally.lost_scopes;
                    round.pulls += 1;
                    round.more = more;
                    self.report(Progress::Pulled { records: report.records_pulled as u64 });
                }
                Step::Stuck(id) => return Err(SyncError::Stuck(id)),
                Step::Done => break,
            }
        }
        {
            let mut conn = self.client.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
            local::rebuild_dirty(&tx)?;
            meta_set(&tx, "last_sync", &self.client.now().as_millis().to_string())?;
            crate::store::commit(tx)?;
            let count = |sql: &str| -> SyncResult<u32> {
                Ok(conn.query_row(sql, [], |r| r.get::<_, u32>(0)).map_err(ClientError::from)?)
            };
            report.pending = count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")?;
            report.attention = count("SELECT COUNT(*) FROM outbox WHERE state = 'attention'")?;
        }
        Ok(report)
    }

    /// [`SyncEngine::sync_once`], retried with exponential backoff and jitter while the
    /// failure is transient, at most `attempts` times.
    pub async fn sync_with_retry(&self, attempts: u32) -> SyncResult<SyncReport> {
        let mut attempt = 0;
        loop {
            match self.sync_once().await {
                Ok(r) => return Ok(r),
                Err(e) if e.is_transient() && attempt + 1 < attempts => {
                    let delay = planner::backoff(attempt, self.options.backoff_base, self.options.backoff_cap, jitter_seed());
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn push(&self, token: &str, envs: Vec<MutationEnvelope>) -> SyncResult<PushTally> {
        let client_id = outbox::client_id(&self.client.conn())?;
        let req = PushRequest { client_id, mutations: envs };
        let resp: PushResponse = self.call(Method::Post, "/v1/push", Some(token), json_body(&req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        let tally = local::record_push_results(&tx, &resp.results, resp.server_hlc, self.client.now())?;
        crate::store::commit(tx)?;
        Ok(tally)
    }

    async fn pull_page(&self, token: &str) -> SyncResult<(PullTally, bool)> {
        let cursors = local::cursors(&self.client.conn())?;
        let req = PullRequest { cursors, limit: self.options.pull_limit };
        let resp: PullResponse<local::Pulled> = self.call(Method::Post, "/v1/pull", Some(token), json_body(&req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        let tally = local::apply_pull(&tx, &resp, self.client.now())?;
        if !resp.more {
            local::rebuild_dirty(&tx)?;
        }
        crate::store::commit(tx)?;
        Ok((tally, resp.more))
    }

    /// Asks which of `hashes` the server lacks and uploads those from the local blob store.
    /// Resumable at blob granularity: what the server already has is never sent again.
    async fn upload_blobs(
        &self,
        token: &str,
        hashes: &[String],
        sizes: &std::collections::BTreeMap<String, u64>,
    ) -> SyncResult<(u32, u64)> {
        let mut n = 0;
        let mut bytes = 0;
        for chunk in hashes.chunks(10_000) {
            let req = BlobsMissingRequest { hashes: chunk.to_vec() };
            let missing: BlobsMissingResponse =
                self.call(Method::Post, "/v1/blobs/missing", Some(token), json_body(&req)?).await?;
            for sha in missing.missing {
                let path = self.client.blobs().path(&sha);
                if !path.is_file() {
                    return Err(SyncError::Local(ClientError::NotFound { what: "local blob to upload", id: sha }));
                }
                let total = sizes.get(&sha).copied().unwrap_or(0);
                let progress_sink = self.progress.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let sha_for_progress = sha.clone();
                let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |done| {
                    if let Some(f) = &progress_sink {
                        f(Progress::Uploading { sha256: sha_for_progress.clone(), done, total });
                    }
                });
                let resp =
                    match self.transport.upload_file(format!("/v1/blobs/{sha}"), Some(token.to_owned()), path, progress).await {
                        Ok(r) => {
                            self.online.store(ONLINE, Ordering::Relaxed);
                            r
                        }
                        Err(e) => {
                            self.online.store(OFFLINE, Ordering::Relaxed);
                            return Err(e.into());
                        }
                    };
                check_status(&resp)?;
                n += 1;
                bytes += total;
            }
        }
        Ok((n, bytes))
    }

    /// Fetches a blob's bytes from `have` on into its part file: appended on a 206, written
    /// over on a 200 (the whole content).
    async fn fetch_part(&self, sha256: &str, size: u64, part: &std::path::Path, have: u64) -> SyncResult<()> {
        let req = HttpRequest {
            method: Method::Get,
            path: format!("/v1/blobs/{sha256}"),
            token: Some(self.token()?),
            body: Vec::new(),
            content_type: "",
            range_from: (have > 0).then_some(have),
        };
        let mut file: Option<std::fs::File> = None;
        let mut done = have;
        let progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let sha = sha256.to_owned();
        let mut sink = |status: u16, chunk: &[u8]| -> std::io::Result<()> {
            if file.is_none() {
                // The first chunk decides: the rest of a resumed blob appends, the whole one
                // replaces what the part held.
                let resumed = status == 206;
                let f = std::fs::OpenOptions::new().create(true).append(resumed).write(true).truncate(!resumed).open(part)?;
                if !resumed {
                    done = 0;
                }
                file = Some(f);
            }
            if let Some(f) = file.as_mut() {
                f.write_all(chunk)?;
            }
            done += chunk.len() as u64;
            if let Some(p) = &progress {
                p(Progress::Downloading { sha256: sha.clone(), done, total: size });
            }
            Ok(())
        };
        let status = match self.transport.download(req, &mut sink).await {
            Ok(s) => s,
            Err(e) => {
                self.online.store(OFFLINE, Ordering::Relaxed);
                return Err(e.into());
            }
        };
        self.online.store(ONLINE, Ordering::Relaxed);
        if file.is_none() && status == 200 {
            // An empty blob sends no chunk: its part is an empty file.
            std::fs::File::create(part).map_err(ClientError::io("cannot write", part))?;
        }
        if status == 416 {
            // The part is as long as the blob or longer: it cannot be resumed, start over.
            let _ = std::fs::remove_file(part);
        }
        if !(200..300).contains(&status) {
            return Err(SyncError::Server {
                status,
                code: Code::DownloadFailed,
                message: format!("blob {sha256} could not be downloaded"),
            });
        }
        Ok(())
    }

    /// Downloads one blob into the local blob store unless it is there. Resumable: bytes
    /// already fetched are kept in `blobs/tmp/<sha>.download` and a retry asks for the rest
    /// with `Range: bytes=N-` (206). A server that ignores the range answers 200 and the part
    /// starts over. The content is verified against its hash before it counts; a part that
    /// does not verify is dropped, so the next attempt starts clean.
    pub async fn download_blob(&self, sha256: &str, size: u64) -> SyncResult<()> {
        if self.client.blobs().contains(sha256) {
            return Ok(());
        }
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SyncError::Protocol(format!("{sha256:?} is not a blob hash")));
        }
        let part = self.client.data_dir().join("blobs").join("tmp").join(format!("{sha256}.download"));
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have < size || size == 0 {
            self.fetch_part(sha256, size, &part, have).await?;
        }
        let stored = self.client.blobs().put_file(&part)?;
        let _ = std::fs::remove_file(&part);
        if stored.sha256 != sha256 {
            return Err(SyncError::Local(ClientError::BlobCorrupt { sha256: sha256.to_owned(), actual: stored.sha256 }));
        }
        self.client.record_blobs(&[ManifestEntry {
            path: String::new(),
            sha256: sha256.to_owned(),
            size: stored.size,
            executable: false,
        }])?;
        Ok(())
    }

    /// Downloads every blob of a spec's revisions that is not stored locally; returns how
    /// many were fetched.
    pub async fn fetch_spec_blobs(&self, spec_id: SpecId) -> SyncResult<u32> {
        let revisions = read::revisions(&self.client.conn(), spec_id)?;
        let mut n = 0;
        for r in revisions {
            for f in r.files {
                if !self.client.blobs().contains(&f.sha256) {
                    self.download_blob(&f.sha256, f.size).await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Syncs now, then whenever the server pokes (`/v1/events`, SSE) or `every` passes,
    /// until `stop` turns true. The event stream is opened before each catch-up sync and kept
    /// open across rounds (reconnected when it ends), so no poke falls between a sync and
    /// the next subscription. Failures back off exponentially with jitter and are handed to
    /// `on_round` like successes; the loop keeps going while offline and ends on a failure
    /// no retry can fix (signed out, upgrade required).
    pub async fn watch(
        &self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        every: Duration,
        on_round: impl Fn(&SyncResult<SyncReport>) + Send + Sync,
    ) {
        let mut failures = 0u32;
        let mut events: Option<tokio::sync::mpsc::Receiver<Poke>> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if events.is_none()
                && let Ok(t) = self.token()
            {
                events = self.transport.events(t).await.ok();
            }
            let result = self.sync_once().await;
            let transient = matches!(&result, Err(e) if e.is_transient());
            let fatal = matches!(&result, Err(e) if !e.is_transient());
            on_round(&result);
            if fatal {
                return;
            }
            if transient {
                let delay = planner::backoff(failures, self.options.backoff_base, self.options.backoff_cap, jitter_seed());
                failures += 1;
                events = None;
                tokio::select! {
                    _ = tokio::time::sleep(delay) => continue,
                    _ = stop.changed() => return,
                }
            }
            failures = 0;
            match events.as_mut() {
                Some(rx) => {
                    tokio::select! {
                        p = rx.recv() => {
                            if p.is_none() {
                                events = None;
                            } else {
                                // Several pokes may be queued: one pull answers them all.
                                while rx.try_recv().is_ok() {}
                            }
                        }
                        _ = tokio::time::sleep(every) => {}
                        _ = stop.changed() => return,
                    }
                }
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep(every.min(self.options.backoff_cap)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }
}

fn check_status(resp: &HttpResponse) -> SyncResult<()> {
    if (200..300).contains(&resp.status) {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Body {
        code: Code,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Body>(&resp.body) {
        Ok(b) => Err(SyncError::Server { status: resp.status, code: b.code, message: b.message }),
        Err(_) => Err(SyncError::Server {
            status: resp.status,
            code: if resp.status >= 500 { Code::Internal } else { Code::HttpError },
            message: format!(
                "HTTP {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body).chars().take(200).collect::<String>()
            ),
        }),
    }
}
