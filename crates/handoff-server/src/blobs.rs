//! The blob store: content-addressed files under `blobs/ab/cdef…`. An upload streams to a
//! temporary file while it is hashed and counted, and is renamed into place only once its hash
//! matches its address, so a stored blob is always whole and correct.

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use futures_util::{Stream, StreamExt};
use handoff_core::protocol::ApiErrorCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::auth::random_bytes;
use crate::error::{Result, ServerError};

/// Blobs on the local file system.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// Opens (creating) the store at `root`.
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(Self { root: root.to_owned() })
    }

    /// Where a blob lives. `sha256` must already be validated as 64 lowercase hex digits,
    /// which is what keeps this path inside the store.
    pub fn path_for(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(&sha256[2..])
    }

    /// Whether the blob's file is present.
    pub async fn exists(&self, sha256: &str) -> bool {
        tokio::fs::try_exists(self.path_for(sha256)).await.unwrap_or(false)
    }

    /// Streams `body` into the store under `sha256`, refusing it (and keeping nothing) when it
    /// is larger than `max_bytes` or its content does not hash to `sha256`. Returns its size.
    pub async fn put(&self, sha256: &str, body: Body, max_bytes: u64) -> Result<u64> {
        let tmp = self.root.join("tmp").join(hex::encode(random_bytes::<16>()?));
        let result = self.write_verified(&tmp, sha256, body.into_data_stream(), max_bytes).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn write_verified(
        &self,
        tmp: &Path,
        sha256: &str,
        mut stream: impl Stream<Item = std::result::Result<Bytes, axum::Error>> + Unpin,
        max_bytes: u64,
    ) -> Result<u64> {
        let mut file = tokio::fs::File::create(tmp).await?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ServerError::api(ApiErrorCode::MalformedRequest, format!("the upload broke off: {e}")))?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(ServerError::api(ApiErrorCode::TooLarge, format!("the blob is over the limit of {max_bytes} bytes")));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        let actual = hex::encode(hasher.finalize());
        if actual != sha256 {
            return Err(ServerError::api(
                ApiErrorCode::HashMismatch,
                format!("the uploaded content hashes to {actual}, not {sha256}"),
            ));
        }
        file.sync_all().await?;
        drop(file);
        let dest = self.path_for(sha256);
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(tmp, &dest).await?;
        Ok(size)
    }

    /// The blob's length, and its content from byte `from` on as a stream of chunks;
    /// `not_found` when its file is gone.
    pub async fn open_stream(&self, sha256: &str, from: u64) -> Result<(u64, Body)> {
        let mut file = match tokio::fs::File::open(self.path_for(sha256)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ServerError::not_found("no such blob")),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata().await?.len();
        if from > 0 {
            file.seek(std::io::SeekFrom::Start(from.min(len))).await?;
        }
        let stream = futures_util::stream::unfold(Some(file), |state| async move {
            let mut file = state?;
            let mut buf = vec![0u8; 64 * 1024];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok((len, Body::from_stream(stream)))
    }
}
