//! Rate limiting: token buckets in memory, per bearer token for requests, and per client
//! address and per account for sign-in and join attempts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::serve::IncomingStream;

use crate::config::RateLimit;
use crate::error::{Result, ServerError};

/// The peer's socket address, recorded per connection by the listener for [`PeerAddr`].
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

#[cfg(feature = "tls")]
impl Connected<IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, crate::tls::TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// The address a request came from, as the listener saw it. `None` for a loopback peer or no
/// socket at all (in-process use): behind a reverse proxy on the same machine every client
/// shares that address, so it says nothing about who is knocking.
#[derive(Clone, Debug)]
pub struct PeerAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> std::result::Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<Peer>>().map(|c| c.0.0.ip()).filter(|ip| !ip.is_loopback());
        Ok(PeerAddr(ip.map(|ip| ip.to_string())))
    }
}

/// Sign-in and join attempts: one bucket per client address and one per account, so neither
/// many guesses at one account from many addresses nor guesses at many accounts from one
/// address get far.
#[derive(Debug)]
pub struct AuthThrottle {
    buckets: RateLimiter,
}

impl AuthThrottle {
    /// A throttle; `None` lets every attempt through.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self { buckets: RateLimiter::new(limit) }
    }

    /// Counts one attempt from `addr` at `email`'s account, or says how long to wait (the
    /// longer of the two waits when both are spent).
    pub fn attempt(&self, addr: Option<&str>, email: &str, now_ms: i64) -> Result<()> {
        let by_addr = addr.map_or(Ok(()), |a| self.buckets.check(&format!("addr:{a}"), now_ms));
        let by_account = self.buckets.check(&format!("account:{}", email.trim().to_lowercase()), now_ms);
        match (by_addr, by_account) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(ServerError::RateLimited { retry_after_secs: a }), Err(ServerError::RateLimited { retry_after_secs: b })) => {
                Err(ServerError::RateLimited { retry_after_secs: a.max(b) })
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

/// Buckets kept before full ones are forgotten.
const MAX_BUCKETS: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Token buckets keyed by token id.
#[derive(Debug)]
pub struct RateLimiter {
    limit: Option<RateLimit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// A limiter; `None` lets everything through.
    pub fn new(limit: Option<RateLimit>) -> Self {
        Self { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `key`'s bucket at `now_ms`, or says how long to wait.
    pub fn check(&self, key: &str, now_ms: i64) -> Result<()> {
        let Some(limit) = self.limit else { return Ok(()) };
        let mut buckets = self.buckets.lock().map_err(|_| ServerError::Internal("rate limiter poisoned".into()))?;
        if buckets.len() > MAX_BUCKETS {
            // Full buckets carry no information: forgetting them changes nothing.
            buckets.retain(|_, b| b.tokens + (now_ms - b.at_ms).max(0) as f64 / 1000.0 * limit.per_second < limit.burst);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket { tokens: limit.burst, at_ms: now_ms });
        let elapsed = (now_ms - b.at_ms).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * limit.per_second).min(limit.burst);
        b.at_ms = now_ms.max(b.at_ms);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / limit.per_second).ceil().max(1.0) as u64;
            Err(ServerError::RateLimited { retry_after_secs: wait })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_refills_and_says_when() {
        let l = RateLimiter::new(Some(RateLimit { per_second: 1.0, burst: 2.0 }));
        assert!(l.check("t", 0).is_ok());
        assert!(l.check("t", 0).is_ok());
        match l.check("t", 0) {
            Err(ServerError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected rate limited, got {other:?}"),
        }
        assert!(l.check("other", 0).is_ok(), "buckets are per token");
        assert!(l.check("t", 1_000).is_ok(), "refilled after a second");
        assert!(RateLimiter::new(None).check("t", 0).is_ok());
    }

    #[test]
    fn sign_in_attempts_count_per_address_and_per_account() {
        let t = AuthThrottle::new(Some(RateLimit { per_second: 0.1, burst: 2.0 }));
        let (one, two, three) = (Some("10.0.0.1"), Some("10.0.0.2"), Some("10.0.0.3"));
        assert!(t.attempt(one, "a@x.test", 0).is_ok());
        assert!(t.attempt(two, "A@x.test", 0).is_ok());
        // The account's bucket is spent, from any address.
        assert!(matches!(t.attempt(three, "a@x.test", 0), Err(ServerError::RateLimited { retry_after_secs: 10 })));
        // The first address's bucket is spent, for any account.
        assert!(t.attempt(one, "b@x.test", 0).is_ok());
        assert!(matches!(t.attempt(one, "c@x.test", 0), Err(ServerError::RateLimited { .. })));
        assert!(t.attempt(one, "c@x.test", 20_000).is_ok(), "refilled");
        // Without an address (loopback), only the account counts.
        assert!(t.attempt(None, "d@x.test", 0).is_ok() && t.attempt(None, "e@x.test", 0).is_ok());
    }
}
