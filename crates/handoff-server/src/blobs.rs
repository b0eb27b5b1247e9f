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
        let store = Self { root: root.to_owned() };
        store.sweep_abandoned_uploads();
        Ok(store)
    }

    /// Removes upload temp files no process is writing. Other processes may share this
    /// folder (`handoff-server invite` beside a running server, several servers over one
    /// PostgreSQL), so the writer's lock decides, as in the client's blob store: an upload is
    /// created as `*.new`, locked, renamed to `*.part`, and holds its lock until it is renamed
    /// into place or removed. An unlocked `*.part` is abandoned, and so is a `*.new` older
    /// than any writer keeps one. Failing to sweep costs only disk space.
    fn sweep_abandoned_uploads(&self) {
        let Ok(entries) = std::fs::read_dir(self.root.join("tmp")) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let abandoned = match path.extension().and_then(|e| e.to_str()) {
                Some("part") => std::fs::OpenOptions::new().write(true).open(&path).is_ok_and(|f| f.try_lock().is_ok()),
                Some("new") => entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|idle| idle >= ABANDONED_AFTER)),
                _ => false,
            };
            if abandoned {
                let _ = std::fs::remove_file(&path);
            }
        }
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
        let name = hex::encode(random_bytes::<16>()?);
        let (new, tmp) = (self.root.join("tmp").join(format!("{name}.new")), self.root.join("tmp").join(format!("{name}.part")));
        let part = tmp.clone();
        let file = tokio::task::spawn_blocking(move || locked_temp_file(&new, &part))
            .await
            .map_err(|e| ServerError::Internal(format!("creating an upload's temp file failed: {e}")))??;
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
        tokio::task::spawn_blocking(move || place_durably(&tmp, &dest, &root))
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

/// How old an upload's `*.new` temp file (created, not yet locked) must be to count as abandoned.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Creates `new`, locks it, and renames it to `part`, so no sweep ever sees an unlocked
/// `*.part` that a live upload is writing.
fn locked_temp_file(new: &Path, part: &Path) -> Result<tokio::fs::File> {
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(new)?;
    if let Err(e) = file.lock().and_then(|()| std::fs::rename(new, part)) {
        let _ = std::fs::remove_file(new);
        return Err(e.into());
    }
    Ok(tokio::fs::File::from_std(file))
}

/// Renames a verified upload to its address and syncs the folders whose entries changed: a
/// rename is durable only once its folder is, and without that a power loss could lose a
/// blob that a committed revision already references.
fn place_durably(tmp: &Path, dest: &Path, root: &Path) -> std::io::Result<()> {
    let parent = dest.parent().unwrap_or(root);
    if !parent.is_dir() {
        std::fs::create_dir_all(parent)?;
        sync_dir(root)?;
    }
    std::fs::rename(tmp, dest)?;
    sync_dir(parent)
}

/// Syncs a folder's entries (Unix only: elsewhere a folder cannot be opened to sync it).
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server killed mid-upload leaves an unlocked `*.part`: the next start removes it,
    /// while an upload another process is receiving (locked) and a temp file being created
    /// right now stay. A stale `*.new` goes too.
    #[test]
    fn opening_sweeps_abandoned_uploads_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tmp = dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).expect("tmp");
        std::fs::write(tmp.join("killed.part"), b"half a blob").expect("killed");
        let receiving = std::fs::File::create(tmp.join("receiving.part")).expect("receiving");
        receiving.lock().expect("lock as an upload does");
        std::fs::write(tmp.join("creating.new"), b"").expect("creating");
        let stale = std::fs::File::create(tmp.join("stale.new")).expect("stale");
        stale.set_modified(std::time::SystemTime::now() - ABANDONED_AFTER * 2).expect("age");
        drop(stale);
        BlobStore::open(dir.path()).expect("open");
        let mut left: Vec<String> =
            std::fs::read_dir(&tmp).expect("tmp").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, ["creating.new", "receiving.part"]);
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
