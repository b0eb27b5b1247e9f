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
//! # Files
//! `error.rs` the failures; `session.rs` join, sign-in, sign-out and moving to a new address;
//! `round.rs` one push/pull round; `blob_transfer.rs` uploads and resumable downloads;
//! `watch.rs` the keep-in-sync loop; `local/` what each answer does to the local store (push
//! bookkeeping, pulled pages, rebase, adoption; its `mod.rs` lists the files).
//!
//! # Async API
//! [`SyncEngine`]'s network methods are `async` (tokio). The [`Client`] facade stays
//! synchronous for local work; the desktop app calls the engine from its async commands,
//! and the CLI runs it on a small tokio runtime. One engine per data dir; it is `Send + Sync`
//! and its methods take `&self`.

mod blob_transfer;
mod error;
pub mod files;
pub(crate) mod local;
mod members;
pub mod planner;
mod round;
mod session;
pub mod transport;
mod watch;

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use handoff_core::protocol::*;

use crate::Client;
use crate::code::Code;

pub use error::{SyncError, SyncResult};
pub use files::{DownloadReport, DownloadsStatus, RevisionDownload};
pub use local::{PullTally, PushTally};
pub use planner::Step;
pub use session::{JoinParams, Joined};
pub use transport::{HttpRequest, HttpResponse, HttpTransport, Method, Transport, TransportError};

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
    /// Downloading a revision's files: bytes here of its distinct content.
    RevisionFiles {
        /// The spec.
        spec_id: handoff_core::SpecId,
        /// The spec's title.
        spec_title: String,
        /// The revision number.
        revision: u32,
        /// Bytes here so far.
        done: u64,
        /// Bytes of the revision's distinct content.
        total: u64,
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
    /// Serializes revision file downloads (they run beside rounds, not inside them).
    downloads: tokio::sync::Mutex<()>,
    /// Whether a background prefetch is spawned.
    prefetching: std::sync::atomic::AtomicBool,
    /// Bytes of mutations per push: [`PUSH_BATCH_BYTES`], halved each time the server
    /// answers `too_large` (its body limit may be lower than the default), doubled back after
    /// each accepted push (see `sync_once`).
    push_bytes: std::sync::atomic::AtomicUsize,
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
            downloads: tokio::sync::Mutex::new(()),
            prefetching: std::sync::atomic::AtomicBool::new(false),
            push_bytes: std::sync::atomic::AtomicUsize::new(PUSH_BATCH_BYTES),
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
        /// With `mutation_gap`: the last id the server recorded for this client.
        #[serde(default)]
        recorded: Option<u64>,
    }
    match serde_json::from_slice::<Body>(&resp.body) {
        Ok(Body { code: Code::MutationGap, message, recorded: Some(recorded) }) => {
            Err(SyncError::ServerBehind { recorded, message })
        }
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
