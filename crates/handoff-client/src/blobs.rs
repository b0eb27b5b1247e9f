//! The content-addressed blob store: every delivered file's bytes, named by their sha256.

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{ClientError, Result};

/// Blobs under one folder: `ab/cdef…` for hash `abcdef…`.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
}

/// A blob as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lowercase hex sha256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl BlobStore {
    /// A store rooted at `root` (created if needed).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join("tmp")).map_err(ClientError::io("cannot create", &root))?;
        Ok(Self { root })
    }

    /// Where the blob with this hash lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        let (head, tail) = sha256.split_at(sha256.len().min(2));
        self.root.join(head).join(tail)
    }

    /// Where a resumable download of the blob keeps the bytes fetched so far.
    pub fn part_path(&self, sha256: &str) -> PathBuf {
        self.root.join("tmp").join(format!("{sha256}.download"))
    }

    /// Whether the blob is present.
    pub fn contains(&self, sha256: &str) -> bool {
        self.path(sha256).is_file()
    }

    /// Copies everything `reader` yields into the store, hashing as it goes, and names the
    /// blob by its hash. The temp-file-then-rename dance means a crash leaves either the whole
    /// blob or none of it under its name.
    pub fn put_reader(&self, mut reader: impl Read, source: &Path) -> Result<StoredBlob> {
        let tmp_dir = self.root.join("tmp");
        let mut tmp = tempfile_in(&tmp_dir)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ClientError::io("cannot read", source)(e)),
            };
            hasher.update(&buf[..n]);
            tmp.file.write_all(&buf[..n]).map_err(ClientError::io("cannot write", &tmp.path))?;
            size += n as u64;
        }
        tmp.file.sync_all().map_err(ClientError::io("cannot write", &tmp.path))?;
        let sha256 = hex::encode(hasher.finalize());
        let dest = self.path(&sha256);
        if dest.is_file() {
            tmp.discard();
        } else {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent).map_err(ClientError::io("cannot create", parent))?;
            }
            fs::rename(&tmp.path, &dest).map_err(ClientError::io("cannot store blob at", &dest))?;
            tmp.kept();
        }
        Ok(StoredBlob { sha256, size })
    }

    /// Stores a file's content.
    pub fn put_file(&self, path: &Path) -> Result<StoredBlob> {
        let file = File::open(path).map_err(ClientError::io("cannot read", path))?;
        self.put_reader(file, path)
    }

    /// Stores bytes.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<StoredBlob> {
        self.put_reader(bytes, Path::new("<memory>"))
    }

    /// Reads a blob, checking that it still hashes to its name.
    pub fn read(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path(sha256);
        let bytes = fs::read(&path).map_err(ClientError::io("cannot read blob", &path))?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(ClientError::BlobCorrupt { sha256: sha256.to_owned(), actual });
        }
        Ok(bytes)
    }
}

/// A temp file removed on drop unless kept.
struct TempBlob {
    file: File,
    path: PathBuf,
    keep: bool,
}

impl TempBlob {
    fn kept(mut self) {
        self.keep = true;
    }
    fn discard(self) {}
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn tempfile_in(dir: &Path) -> Result<TempBlob> {
    for _ in 0..16 {
        let name = format!("{}.part", uuid::Uuid::new_v4().simple());
        let path = dir.join(name);
        match fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                return Ok(TempBlob { file, path, keep: false });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ClientError::io("cannot create", &path)(e)),
        }
    }
    Err(ClientError::Io { action: "cannot create a temp file in", path: dir.to_owned(), source: io::Error::other("name clash") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_named_by_content_and_verified_on_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(dir.path()).expect("open");
        let a = store.put_bytes(b"hello\n").expect("put");
        assert_eq!(a.sha256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        assert_eq!(a.size, 6);
        assert_eq!(store.put_bytes(b"hello\n").expect("again"), a);
        assert_eq!(store.read(&a.sha256).expect("read"), b"hello\n");
        fs::write(store.path(&a.sha256), b"tampered").expect("tamper");
        let err = store.read(&a.sha256).expect_err("must notice");
        assert_eq!(err.code(), crate::Code::BlobCorrupt);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0, "no temp files left");
    }
}
