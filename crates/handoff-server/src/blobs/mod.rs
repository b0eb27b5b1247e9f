//! The blob store: content-addressed blobs behind one trait, [`BlobBackend`], with two
//! implementations: a folder ([`fs::DirBlobs`], the default) and an S3-compatible object store
//! ([`s3::S3Blobs`], `--blobs s3://BUCKET/PREFIX`).
//!
//! What makes a blob count is written once, here ([`BlobStore::put`]): an upload streams into
//! a backend's [`Upload`] while it is hashed and counted, and is committed under its address
//! only once its hash matches; anything else aborts it. A backend's whole job is to keep
//! uncommitted bytes invisible (a locked temp file; an object store's buffered put or
//! multipart upload, completed only at commit) and to serve a blob from a byte offset.

pub mod fs;
pub mod s3;

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use handoff_core::protocol::ApiErrorCode;
use sha2::{Digest, Sha256};

use crate::error::{Result, ServerError};

pub use fs::DirBlobs;
pub use s3::{S3Blobs, S3Location};

/// A boxed, sendable future borrowing the store for `'a`.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where blobs are kept, as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobsAt {
    /// A folder on this machine.
    Dir(PathBuf),
    /// A bucket (and key prefix) of an S3-compatible object store.
    S3(S3Location),
}

impl BlobsAt {
    /// Reads `s3://BUCKET[/PREFIX]` as an object store and anything else without a scheme as
    /// a folder; another scheme is refused, naming the one that works.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            return S3Location::parse(rest).map(BlobsAt::S3);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(format!("blobs can be kept in a folder or at s3://BUCKET[/PREFIX], not at {scheme}://"));
        }
        if text.is_empty() {
            return Err("name a folder or s3://BUCKET[/PREFIX] for the blobs".into());
        }
        Ok(BlobsAt::Dir(PathBuf::from(text)))
    }
}

impl From<&Path> for BlobsAt {
    fn from(dir: &Path) -> Self {
        BlobsAt::Dir(dir.to_owned())
    }
}

impl From<PathBuf> for BlobsAt {
    fn from(dir: PathBuf) -> Self {
        BlobsAt::Dir(dir)
    }
}

impl fmt::Display for BlobsAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobsAt::Dir(d) => write!(f, "{}", d.display()),
            BlobsAt::S3(l) => write!(f, "{l}"),
        }
    }
}

/// Bytes on their way into a backend, invisible under any address until [`Upload::commit`].
pub trait Upload: Send {
    /// Appends a chunk.
    fn write(&mut self, chunk: Bytes) -> BlobFuture<'_, ()>;
    /// Makes the bytes written the blob `sha256`, whole (durable once this returns).
    fn commit(self: Box<Self>, sha256: &str) -> BlobFuture<'_, ()>;
    /// Drops the bytes written; nothing of them stays visible.
    fn abort(self: Box<Self>) -> BlobFuture<'static, ()>;
}

/// A place blobs are kept: the part of the store that differs between a folder and a bucket.
pub trait BlobBackend: Send + Sync + fmt::Debug + 'static {
    /// Starts an upload that will become `sha256` only if committed.
    fn begin<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Box<dyn Upload>>;
    /// The blob's length, and its content from byte `from` on (empty when `from` is at or past
    /// the end); `not_found` when it is not stored.
    fn open<'a>(&'a self, sha256: &'a str, from: u64) -> BlobFuture<'a, (u64, Body)>;
    /// Whether the store answers and holds what it should (`/readyz`).
    fn check(&self) -> BlobFuture<'_, ()>;
}

/// The server's blob store: a backend, and the verification every upload goes through.
#[derive(Clone, Debug)]
pub struct BlobStore {
    backend: Arc<dyn BlobBackend>,
}

impl BlobStore {
    /// Opens the store `at`: a folder is created if needed; an object store must answer, accept
    /// the credentials and have the bucket, or this says which of those failed.
    pub async fn open(at: &BlobsAt) -> Result<Self> {
        Ok(match at {
            BlobsAt::Dir(dir) => Self::dir(dir)?,
            BlobsAt::S3(location) => Self { backend: Arc::new(S3Blobs::open(location).await?) },
        })
    }

    /// Opens (creating) a folder store.
    pub fn dir(dir: &Path) -> Result<Self> {
        Ok(Self { backend: Arc::new(DirBlobs::open(dir)?) })
    }

    /// Streams `body` into the store under `sha256`, refusing it (and keeping nothing) when it
    /// is larger than `max_bytes` or its content does not hash to `sha256`. Returns its size.
    pub async fn put(&self, sha256: &str, body: Body, max_bytes: u64) -> Result<u64> {
        let mut upload = self.backend.begin(sha256).await?;
        match write_verified(upload.as_mut(), sha256, body, max_bytes).await {
            Ok(size) => {
                upload.commit(sha256).await?;
                Ok(size)
            }
            Err(e) => {
                if let Err(cleanup) = upload.abort().await {
                    // The bytes stay invisible either way; a folder's sweep or the bucket's
                    // lifecycle rule for incomplete uploads removes them.
                    tracing::warn!(error = %cleanup, "could not discard a refused upload");
                }
                Err(e)
            }
        }
    }

    /// The blob's length, and its content from byte `from` on; `not_found` when it is gone.
    pub async fn open_stream(&self, sha256: &str, from: u64) -> Result<(u64, Body)> {
        self.backend.open(sha256, from).await
    }

    /// Whether the store answers (`/readyz`).
    pub async fn check(&self) -> Result<()> {
        self.backend.check().await
    }
}

/// Writes `body` to `upload`, hashing and counting it; checks its size and hash.
async fn write_verified(upload: &mut dyn Upload, sha256: &str, body: Body, max_bytes: u64) -> Result<u64> {
    let mut stream = body.into_data_stream();
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ServerError::api(ApiErrorCode::MalformedRequest, format!("the upload broke off: {e}")))?;
        size += chunk.len() as u64;
        if size > max_bytes {
            return Err(ServerError::api(ApiErrorCode::TooLarge, format!("the blob is over the limit of {max_bytes} bytes")));
        }
        hasher.update(&chunk);
        upload.write(chunk).await?;
    }
    let actual = hex::encode(hasher.finalize());
    if actual != sha256 {
        return Err(ServerError::api(
            ApiErrorCode::HashMismatch,
            format!("the uploaded content hashes to {actual}, not {sha256}"),
        ));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_locations_are_a_folder_or_an_s3_bucket() {
        let cases: &[(&str, std::result::Result<BlobsAt, &str>)] = &[
            ("/var/lib/blobs", Ok(BlobsAt::Dir("/var/lib/blobs".into()))),
            (
                "s3://team-files",
                Ok(BlobsAt::S3(S3Location { bucket: "team-files".into(), prefix: String::new(), settings: vec![] })),
            ),
            (
                "s3://team-files/handoff/",
                Ok(BlobsAt::S3(S3Location { bucket: "team-files".into(), prefix: "handoff".into(), settings: vec![] })),
            ),
            (
                "s3://team-files/a/b",
                Ok(BlobsAt::S3(S3Location { bucket: "team-files".into(), prefix: "a/b".into(), settings: vec![] })),
            ),
            ("s3://", Err("bucket")),
            ("s3:///prefix", Err("bucket")),
            ("s3://Bad_Bucket", Err("bucket")),
            ("s3://bbb/../x", Err("prefix")),
            ("gs://bucket", Err("not at gs://")),
            ("", Err("name a folder")),
        ];
        for (text, want) in cases {
            match (BlobsAt::parse(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(got), Err(part)) => assert!(got.contains(part), "{text}: {got}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }
}
