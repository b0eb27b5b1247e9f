//! Blobs in an S3-compatible object store, through the `object_store` crate (SigV4 signing,
//! retries, multipart uploads). Keys are `PREFIX/ab/cdef…`, the folder store's layout, so a
//! blob folder copied into the bucket (without its `tmp/`) is a valid store.
//!
//! An upload is buffered in memory up to [`PART_BYTES`] and put in one request at commit;
//! a larger one becomes a multipart upload whose parts are sent as they fill, and which is
//! completed only at commit. Either way nothing is visible under the blob's key before its
//! content was verified: an aborted multipart upload is discarded, and one whose process was
//! killed stays an incomplete upload, invisible, until the bucket's lifecycle rule removes it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::client::ClientConfigKey;
use object_store::path::Path as Key;
use object_store::{BackoffConfig, GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::{BlobBackend, BlobFuture, Upload};
use crate::error::{Result, ServerError};

/// Bytes buffered before an upload becomes multipart, and the size of each part (S3's
/// smallest part is 5 MiB).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Parts of one upload in flight at once: bounds an upload's memory to about three parts.
const PARTS_IN_FLIGHT: usize = 2;
/// The object that marks a bucket (and prefix) as this server's blob store; written at start,
/// read by `/readyz`.
const MARKER: &str = "handoff-blob-store";

/// A bucket and the key prefix blobs live under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket's name.
    pub bucket: String,
    /// Key prefix without leading or trailing `/` (empty: the bucket's root).
    pub prefix: String,
    /// `AWS_*` settings (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`…) that take precedence over the
    /// environment's: for tests, whose processes cannot change their own environment. Empty
    /// from the command line.
    pub settings: Vec<(String, String)>,
}

impl S3Location {
    /// Reads `BUCKET[/PREFIX]` (what follows `s3://`).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let (bucket, prefix) = text.split_once('/').unwrap_or((text, ""));
        let name_ok = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !name_ok {
            return Err(format!(
                "{bucket:?} is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens): write s3://BUCKET[/PREFIX]"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|s| s == "." || s == ".." || (s.is_empty() && !prefix.is_empty())) {
            return Err(format!("the key prefix {prefix:?} has an empty, . or .. part"));
        }
        Ok(Self { bucket: bucket.to_owned(), prefix: prefix.to_owned(), settings: Vec::new() })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix.as_str() {
            "" => write!(f, "s3://{}", self.bucket),
            p => write!(f, "s3://{}/{p}", self.bucket),
        }
    }
}

/// Blobs in a bucket.
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    location: S3Location,
}

impl fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Blobs({})", self.location)
    }
}

/// Settings the server chooses unless the operator set their `AWS_*` variable: a store that
/// does not answer is noticed within seconds (uploads then answer 503), while a transfer of a
/// large blob to a slow client may take long.
const CLIENT_DEFAULTS: &[(ClientConfigKey, &str, &str)] =
    &[(ClientConfigKey::ConnectTimeout, "AWS_CONNECT_TIMEOUT", "3s"), (ClientConfigKey::Timeout, "AWS_TIMEOUT", "1h")];

impl S3Blobs {
    /// Connects with the standard `AWS_*` variables (credentials, `AWS_ENDPOINT`,
    /// `AWS_REGION`, `AWS_ALLOW_HTTP`…) and proves the store usable by listing the bucket and
    /// writing its marker: a bucket that does not exist, credentials it refuses, or a store
    /// that does not answer are errors saying so.
    pub async fn open(location: &S3Location) -> Result<Self> {
        // reqwest is built without a bundled TLS provider: the process's is ring, as elsewhere.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(&location.bucket).with_retry(RetryConfig {
            backoff: BackoffConfig { init_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(1), base: 2.0 },
            max_retries: 3,
            retry_timeout: Duration::from_secs(10),
        });
        for (key, var, value) in CLIENT_DEFAULTS {
            if std::env::var_os(var).is_none() {
                builder = builder.with_config(AmazonS3ConfigKey::Client(*key), *value);
            }
        }
        for (name, value) in &location.settings {
            let key: AmazonS3ConfigKey = name
                .to_ascii_lowercase()
                .parse()
                .map_err(|e| ServerError::Config(format!("object store setting {name}: {e}")))?;
            builder = builder.with_config(key, value);
        }
        let store = builder.build().map_err(|e| ServerError::Config(format!("the object store settings: {e}")))?;
        let blobs = Self { store: Arc::new(store), location: location.clone() };
        // A listing fails on a bucket that does not exist (some stores create one on a put),
        // and the marker's put proves the right to write.
        let marker_key = blobs.key(MARKER);
        blobs.store.list_with_delimiter(Some(&marker_key)).await.map_err(|e| blobs.refused_at_start(e))?;
        let marker = format!("a Handoff server's blob store: blobs are under {}/ab/cdef…\n", blobs.location);
        blobs.store.put(&marker_key, Bytes::from(marker).into()).await.map_err(|e| blobs.refused_at_start(e))?;
        Ok(blobs)
    }

    /// Why the store cannot be used, in words an operator can act on.
    fn refused_at_start(&self, e: object_store::Error) -> ServerError {
        let bucket = &self.location.bucket;
        let said = e.to_string();
        // Some requests' errors keep the HTTP status as a variant, others (listings) only in
        // their text, with S3's error code.
        let refused = matches!(e, object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })
            || ["403 Forbidden", "401 Unauthorized", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"]
                .iter()
                .any(|s| said.contains(s));
        let missing = said.contains("NoSuchBucket") || matches!(e, object_store::Error::NotFound { .. });
        ServerError::Config(if missing {
            format!("the bucket {bucket} does not exist: create it, or correct --blobs ({said})")
        } else if refused {
            format!(
                "the object store refused these credentials for bucket {bucket}: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may list, read and write it ({said})"
            )
        } else {
            format!("cannot use the object store for {}: is AWS_ENDPOINT right and the store up? ({said})", self.location)
        })
    }

    fn key(&self, name: &str) -> Key {
        match self.location.prefix.as_str() {
            "" => Key::from(name),
            p => Key::from(format!("{p}/{name}")),
        }
    }

    /// `PREFIX/ab/cdef…`; `sha256` is validated hex, so the key stays under the prefix.
    fn blob_key(&self, sha256: &str) -> Key {
        self.key(&format!("{}/{}", &sha256[..2], &sha256[2..]))
    }

    async fn open_at(&self, sha256: &str, from: u64) -> Result<(u64, Body)> {
        let key = self.blob_key(sha256);
        let answer = if from == 0 {
            self.store.get(&key).await
        } else {
            // A range past the end is an error from S3; the length decides first (resumed
            // downloads only, so the extra request is rare).
            let len = self.store.head(&key).await.map_err(unavailable)?.size;
            if from >= len {
                return Ok((len, Body::empty()));
            }
            let options = GetOptions { range: Some(GetRange::Offset(from)), ..GetOptions::default() };
            self.store.get_opts(&key, options).await
        };
        let answer = answer.map_err(unavailable)?;
        Ok((answer.meta.size, Body::from_stream(answer.into_stream())))
    }
}

/// A store error while serving: `not_found` for a missing object, else unavailable (503).
fn unavailable(e: object_store::Error) -> ServerError {
    match e {
        object_store::Error::NotFound { .. } => ServerError::not_found("no such blob"),
        other => ServerError::BlobStoreUnavailable(other.to_string()),
    }
}

impl BlobBackend for S3Blobs {
    fn begin<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Box<dyn Upload>> {
        let writer =
            BufWriter::with_capacity(self.store.clone(), self.blob_key(sha256), PART_BYTES).with_max_concurrency(PARTS_IN_FLIGHT);
        Box::pin(async move { Ok(Box::new(S3Upload { writer }) as Box<dyn Upload>) })
    }

    fn open<'a>(&'a self, sha256: &'a str, from: u64) -> BlobFuture<'a, (u64, Body)> {
        Box::pin(self.open_at(sha256, from))
    }

    fn check(&self) -> BlobFuture<'_, ()> {
        Box::pin(async move {
            match self.store.head(&self.key(MARKER)).await {
                Ok(_) => Ok(()),
                Err(object_store::Error::NotFound { .. }) => Err(ServerError::BlobStoreUnavailable(format!(
                    "the marker {MARKER} is gone from {}: was the bucket emptied or replaced?",
                    self.location
                ))),
                Err(e) => Err(ServerError::BlobStoreUnavailable(e.to_string())),
            }
        })
    }
}

/// An upload that becomes visible only when its writer is shut down.
struct S3Upload {
    writer: BufWriter,
}

impl Upload for S3Upload {
    fn write(&mut self, chunk: Bytes) -> BlobFuture<'_, ()> {
        Box::pin(async move { self.writer.put(chunk).await.map_err(unavailable) })
    }

    fn commit(mut self: Box<Self>, _sha256: &str) -> BlobFuture<'_, ()> {
        Box::pin(async move {
            self.writer.shutdown().await.map_err(|e| ServerError::BlobStoreUnavailable(format!("completing an upload: {e}")))
        })
    }

    fn abort(mut self: Box<Self>) -> BlobFuture<'static, ()> {
        Box::pin(async move { self.writer.abort().await.map_err(unavailable) })
    }
}
