//! Per-token rate limiting: a token bucket per bearer token, in memory.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::RateLimit;
use crate::error::{Result, ServerError};

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
}
