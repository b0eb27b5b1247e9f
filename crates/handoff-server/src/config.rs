//! Server settings: limits, lifetimes and where blobs live (a folder or an object store).
//! Defaults suit a real deployment; tests shorten lifetimes and cheapen password hashing.

use std::path::PathBuf;

use crate::blobs::BlobsAt;

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A token bucket: `per_second` requests on average, bursts up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second per token.
    pub per_second: f64,
    /// Requests that may arrive at once.
    pub burst: f64,
}

/// How expensive password hashing is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id with its recommended parameters.
    Default,
    /// Minimal parameters, for tests only: hashes stay argon2id and verifiable.
    TestsOnly,
}

/// Everything configurable about a running server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where verified blobs are stored (content-addressed): a folder or an object store.
    pub blobs: BlobsAt,
    /// Lifetime of a bearer token.
    pub token_ttl_ms: i64,
    /// Lifetime of an invite code.
    pub invite_ttl_ms: i64,
    /// Largest JSON request body.
    pub max_json_bytes: usize,
    /// Largest blob upload.
    pub max_blob_bytes: u64,
    /// Most hashes in one `blobs/missing` request.
    pub max_missing_query: usize,
    /// Per-token rate limit; none disables it.
    pub rate_limit: Option<RateLimit>,
    /// Sign-in and join attempts, counted per client address and per account (email) apart;
    /// none disables it.
    pub auth_rate_limit: Option<RateLimit>,
    /// Bytes of blobs one account may have uploaded in all (content counted once per
    /// account); none means no quota.
    pub upload_quota_bytes: Option<u64>,
    /// Most record bytes in one pull page (a single commit larger than this still comes whole).
    pub max_pull_bytes: usize,
    /// Open `/v1/events` streams per token.
    pub max_event_streams_per_token: usize,
    /// Open `/v1/events` streams in all.
    pub max_event_streams: usize,
    /// How long a request other than a blob transfer or an event stream may take.
    pub request_timeout: std::time::Duration,
    /// Requests served at once; more are answered `rate_limited` at once.
    pub max_concurrent_requests: usize,
    /// Threads that hash and verify passwords, apart from the database's.
    pub password_threads: usize,
    /// Password checks that may wait for a thread; more are answered `rate_limited`.
    pub password_queue: usize,
    /// Password hashing cost.
    pub password_cost: PasswordCost,
    /// How long a process told to stop keeps serving while `/readyz` answers 503, before it
    /// ends its event streams and stops accepting: time for a load balancer to send new
    /// requests, and the streams' reconnections, to the other processes. Zero for one process.
    pub shutdown_grace: std::time::Duration,
}

impl Config {
    /// Production defaults with blobs in the folder `blob_dir`.
    pub fn new(blob_dir: PathBuf) -> Self {
        Self {
            blobs: BlobsAt::Dir(blob_dir),
            token_ttl_ms: 90 * DAY_MS,
            invite_ttl_ms: 14 * DAY_MS,
            max_json_bytes: 16 * 1024 * 1024,
            max_blob_bytes: 2 * 1024 * 1024 * 1024,
            max_missing_query: 100_000,
            // Generous: a full initial sync of a large workspace is a few hundred requests.
            rate_limit: Some(RateLimit { per_second: 50.0, burst: 500.0 }),
            // Ten attempts at once, then one every ten seconds: plenty for a person, slow for a guesser.
            auth_rate_limit: Some(RateLimit { per_second: 0.1, burst: 10.0 }),
            upload_quota_bytes: Some(50 * 1024 * 1024 * 1024),
            max_pull_bytes: 8 * 1024 * 1024,
            max_event_streams_per_token: 4,
            max_event_streams: 10_000,
            request_timeout: std::time::Duration::from_secs(60),
            max_concurrent_requests: 1024,
            password_threads: 2,
            password_queue: 64,
            password_cost: PasswordCost::Default,
            shutdown_grace: std::time::Duration::ZERO,
        }
    }
}
