//! Server settings: limits, lifetimes and where blobs live. Defaults suit a real deployment;
//! tests shorten lifetimes and cheapen password hashing.

use std::path::PathBuf;

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
    /// Where verified blobs are stored (content-addressed).
    pub blob_dir: PathBuf,
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
    /// Password hashing cost.
    pub password_cost: PasswordCost,
}

impl Config {
    /// Production defaults with blobs in `blob_dir`.
    pub fn new(blob_dir: PathBuf) -> Self {
        Self {
            blob_dir,
            token_ttl_ms: 90 * DAY_MS,
            invite_ttl_ms: 14 * DAY_MS,
            max_json_bytes: 16 * 1024 * 1024,
            max_blob_bytes: 2 * 1024 * 1024 * 1024,
            max_missing_query: 100_000,
            // Generous: a full initial sync of a large workspace is a few hundred requests.
            rate_limit: Some(RateLimit { per_second: 50.0, burst: 500.0 }),
            password_cost: PasswordCost::Default,
        }
    }
}
