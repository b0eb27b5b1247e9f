//! Blobs in a folder: content-addressed files under `ab/cdef…`. An upload streams to a locked
//! temporary file and is renamed into place, durably, only when committed, so a stored blob is
//! always whole and correct.

use std::path::{Path, PathBuf};

use axum::body::{Body, Bytes};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{BlobBackend, BlobFuture, Upload};
use crate::auth::random_bytes;
use crate::error::{Result, ServerError};

/// Blobs on the local file system.
#[derive(Clone, Debug)]
pub struct DirBlobs {
    root: PathBuf,
}

impl DirBlobs {
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

    async fn begin_upload(&self) -> Result<Box<dyn Upload>> {
        let (name, dir) = (hex::encode(random_bytes::<16>()?), self.root.join("tmp"));
        // Locked until the blob is in place, so a sweep in another process leaves it alone.
        let (file, tmp) = tokio::task::spawn_blocking(move || handoff_durable::create_locked_temp(&dir, &name))
            .await
            .map_err(|e| ServerError::Internal(format!("creating an upload's temp file failed: {e}")))??;
        Ok(Box::new(DirUpload { file: tokio::fs::File::from_std(file), tmp, store: self.clone() }))
    }

    async fn open_at(&self, sha256: &str, from: u64) -> Result<(u64, Body)> {
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

impl BlobBackend for DirBlobs {
    fn begin<'a>(&'a self, _sha256: &'a str) -> BlobFuture<'a, Box<dyn Upload>> {
        Box::pin(self.begin_upload())
    }

    fn open<'a>(&'a self, sha256: &'a str, from: u64) -> BlobFuture<'a, (u64, Body)> {
        Box::pin(self.open_at(sha256, from))
    }

    fn check(&self) -> BlobFuture<'_, ()> {
        Box::pin(async move {
            // The folder uploads land in: gone (an unmounted disk) means not ready.
            tokio::fs::metadata(self.root.join("tmp")).await?;
            Ok(())
        })
    }
}

/// An upload in a locked temp file.
struct DirUpload {
    file: tokio::fs::File,
    tmp: PathBuf,
    store: DirBlobs,
}

impl Upload for DirUpload {
    fn write(&mut self, chunk: Bytes) -> BlobFuture<'_, ()> {
        Box::pin(async move { Ok(self.file.write_all(&chunk).await?) })
    }

    fn commit(self: Box<Self>, sha256: &str) -> BlobFuture<'_, ()> {
        let dest = self.store.path_for(sha256);
        Box::pin(async move {
            let DirUpload { file, tmp, store } = *self;
            let placed = async {
                file.sync_all().await?;
                // Blocking file system calls, on the blocking pool; the file (and its lock) is
                // released only once the blob is in place.
                let (tmp, root) = (tmp.clone(), store.root.clone());
                tokio::task::spawn_blocking(move || handoff_durable::place(&tmp, &dest, &root))
                    .await
                    .map_err(|e| ServerError::Internal(format!("storing a blob failed: {e}")))??;
                Ok::<_, ServerError>(())
            }
            .await;
            if placed.is_err() {
                let _ = tokio::fs::remove_file(&tmp).await;
            }
            drop(file);
            placed
        })
    }

    fn abort(self: Box<Self>) -> BlobFuture<'static, ()> {
        Box::pin(async move {
            let DirUpload { file, tmp, .. } = *self;
            let removed = tokio::fs::remove_file(&tmp).await;
            drop(file);
            Ok(removed?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::BlobStore;
    use sha2::{Digest, Sha256};

    /// A server killed mid-upload leaves an unlocked `*.part`: the next start removes it.
    #[test]
    fn opening_sweeps_an_upload_a_killed_server_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp");
        std::fs::write(tmp.join("killed.part"), b"half a blob").expect("killed");
        DirBlobs::open(dir.path()).expect("open");
        assert_eq!(std::fs::read_dir(&tmp).expect("tmp").count(), 0);
    }

    /// An upload ends as its blob under its address, with no temp file left; a refused one
    /// leaves nothing.
    #[tokio::test]
    async fn an_upload_lands_whole_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::dir(dir.path()).expect("open");
        let sha = hex::encode(Sha256::digest(b"blob\n"));
        assert_eq!(store.put(&sha, Body::from("blob\n"), 100).await.expect("put"), 5);
        let stored = DirBlobs::open(dir.path()).expect("open").path_for(&sha);
        assert_eq!(std::fs::read(stored).expect("stored"), b"blob\n");
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
        let other = hex::encode(Sha256::digest(b"other"));
        assert!(store.put(&other, Body::from("not other"), 100).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
        assert!(!DirBlobs::open(dir.path()).expect("open").path_for(&other).exists());
    }
}
