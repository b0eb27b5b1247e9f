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
    /// Opens (creating) the store at `root`, removing the temp files of uploads that a
    /// crashed or killed server left behind.
    pub fn open(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        // Other processes may share this folder (`handoff-server invite` beside a running
        // server, several servers over one PostgreSQL): the writers' locks decide.
        handoff_durable::sweep_abandoned(&root.join("tmp"));
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
        let (name, dir) = (hex::encode(random_bytes::<16>()?), self.root.join("tmp"));
        // Locked until the blob is in place, so a sweep in another process leaves it alone.
        let (file, tmp) = tokio::task::spawn_blocking(move || handoff_durable::create_locked_temp(&dir, &name))
            .await
            .map_err(|e| ServerError::Internal(format!("creating an upload's temp file failed: {e}")))??;
        let file = tokio::fs::File::from_std(file);
        let result = self.write_verified(file, &tmp, sha256, body.into_data_stream(), max_bytes).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn write_verified(
        &self,
        mut file: tokio::fs::File,
        tmp: &Path,
        sha256: &str,
        mut stream: impl Stream<Item = std::result::Result<Bytes, axum::Error>> + Unpin,
        max_bytes: u64,
    ) -> Result<u64> {
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
        let dest = self.path_for(sha256);
        let (tmp, root) = (tmp.to_owned(), self.root.clone());
        // Blocking file system calls, on the blocking pool; the file (and its lock) is
        // released only once the blob is in place.
        tokio::task::spawn_blocking(move || handoff_durable::place(&tmp, &dest, &root))
            .await
            .map_err(|e| ServerError::Internal(format!("storing a blob failed: {e}")))??;
        drop(file);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A server killed mid-upload leaves an unlocked `*.part`: the next start removes it.
    #[test]
    fn opening_sweeps_an_upload_a_killed_server_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp");
        std::fs::write(tmp.join("killed.part"), b"half a blob").expect("killed");
        BlobStore::open(dir.path()).expect("open");
        assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 0);
    }

    /// An upload ends as its blob under its address, with no temp file left.
    #[tokio::test]
    async fn an_upload_lands_whole_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(dir.path()).expect("open");
        let sha = hex::encode(Sha256::digest(b"blob\n"));
        assert_eq!(store.put(&sha, Body::from("blob\n"), 100).await.expect("put"), 5);
        assert_eq!(std::fs::read(store.path_for(&sha)).expect("stored"), b"blob\n");
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
    }
}
