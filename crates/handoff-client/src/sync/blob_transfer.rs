//! Moving blobs: uploading the ones a push needs, downloading one resumably (verified
//! against its hash before it counts), or every blob of a spec.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use handoff_core::protocol::*;
use handoff_core::*;

use crate::code::Code;
use crate::error::ClientError;
use crate::store::read;

use super::{HttpRequest, Method, OFFLINE, ONLINE, Progress, SyncEngine, SyncError, SyncResult, check_status, json_body};

impl SyncEngine {
    /// Asks which of `hashes` the server lacks and uploads those from the local blob store.
    /// Resumable at blob granularity: what the server already has is never sent again.
    /// Answers how many blobs and bytes went up, and the hashes the server lacks that are
    /// no longer on this machine either (deleted from the data dir): the revisions needing
    /// them cannot be sent, which is the caller's to decide, not a failure of the upload.
    pub(super) async fn upload_blobs(
        &self,
        token: &str,
        hashes: &[String],
        sizes: &std::collections::BTreeMap<String, u64>,
    ) -> SyncResult<(u32, u64, Vec<String>)> {
        let mut n = 0;
        let mut bytes = 0;
        let mut gone = Vec::new();
        for chunk in hashes.chunks(10_000) {
            let req = BlobsMissingRequest { hashes: chunk.to_vec() };
            let missing: BlobsMissingResponse =
                self.call(Method::Post, "/v1/blobs/missing", Some(token), json_body(&req)?).await?;
            for sha in missing.missing {
                let path = self.client.blobs().path(&sha);
                if !path.is_file() {
                    gone.push(sha);
                    continue;
                }
                let total = sizes.get(&sha).copied().unwrap_or(0);
                let progress_sink = self.progress.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let sha_for_progress = sha.clone();
                let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |done| {
                    if let Some(f) = &progress_sink {
                        f(Progress::Uploading { sha256: sha_for_progress.clone(), done, total });
                    }
                });
                let resp =
                    match self.transport.upload_file(format!("/v1/blobs/{sha}"), Some(token.to_owned()), path, progress).await {
                        Ok(r) => {
                            self.online.store(ONLINE, Ordering::Relaxed);
                            r
                        }
                        Err(e) => {
                            self.online.store(OFFLINE, Ordering::Relaxed);
                            return Err(e.into());
                        }
                    };
                check_status(&resp)?;
                n += 1;
                bytes += total;
            }
        }
        Ok((n, bytes, gone))
    }

    /// Fetches a blob's bytes from `have` on into its part file: appended on a 206, written
    /// over on a 200 (the whole content).
    async fn fetch_part(
        &self,
        sha256: &str,
        part: &std::path::Path,
        have: u64,
        on_bytes: &mut (dyn FnMut(u64) + Send),
    ) -> SyncResult<()> {
        let req = HttpRequest {
            method: Method::Get,
            path: format!("/v1/blobs/{sha256}"),
            token: Some(self.token()?),
            body: Vec::new(),
            content_type: "",
            range_from: (have > 0).then_some(have),
        };
        let mut file: Option<std::fs::File> = None;
        let mut done = have;
        // Why the sink stopped, when it did: a local write failure (a full disk) is the
        // store's problem, not the network's, and must not read as "offline".
        let mut write_error: Option<std::io::Error> = None;
        let mut sink = |status: u16, chunk: &[u8]| -> std::io::Result<()> {
            if let Err(e) = write_chunk(&mut file, part, status, chunk, &mut done) {
                write_error = Some(e);
                return Err(std::io::Error::other("the download could not be stored"));
            }
            on_bytes(done);
            Ok(())
        };
        let status = match self.transport.download(req, &mut sink).await {
            Ok(s) => s,
            Err(e) => {
                if let Some(source) = write_error {
                    return Err(SyncError::Local(ClientError::io("cannot store the download of", part)(source)));
                }
                self.online.store(OFFLINE, Ordering::Relaxed);
                return Err(e.into());
            }
        };
        self.online.store(ONLINE, Ordering::Relaxed);
        if file.is_none() && status == 200 {
            // An empty blob sends no chunk: its part is an empty file.
            std::fs::File::create(part).map_err(ClientError::io("cannot write", part))?;
        }
        if status == 416 {
            // The part is as long as the blob or longer: it cannot be resumed, start over.
            let _ = std::fs::remove_file(part);
        }
        if !(200..300).contains(&status) {
            return Err(SyncError::Server {
                status,
                code: Code::DownloadFailed,
                message: format!("blob {sha256} could not be downloaded"),
            });
        }
        Ok(())
    }

    /// Downloads one blob into the local blob store unless it is there. Resumable: bytes
    /// already fetched are kept in `blobs/tmp/<sha>.download` and a retry asks for the rest
    /// with `Range: bytes=N-` (206). A server that ignores the range answers 200 and the part
    /// starts over. The content is verified against its hash before it counts; a part that
    /// does not verify is dropped, so the next attempt starts clean.
    pub async fn download_blob(&self, sha256: &str, size: u64) -> SyncResult<()> {
        let progress = self.progress.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let sha = sha256.to_owned();
        let mut report = |done: u64| {
            if let Some(p) = &progress {
                p(Progress::Downloading { sha256: sha.clone(), done, total: size });
            }
        };
        self.download_blob_reporting(sha256, size, &mut report).await
    }

    /// [`SyncEngine::download_blob`], telling only `on_bytes` how many bytes of the blob are
    /// here as they arrive (a revision download reports per revision, not per blob).
    pub async fn download_blob_reporting(
        &self,
        sha256: &str,
        size: u64,
        on_bytes: &mut (dyn FnMut(u64) + Send),
    ) -> SyncResult<()> {
        if self.client.blobs().contains(sha256) {
            return Ok(());
        }
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SyncError::Protocol(format!("{sha256:?} is not a blob hash")));
        }
        let part = self.client.blobs().part_path(sha256);
        let have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have < size || size == 0 {
            self.fetch_part(sha256, &part, have, on_bytes).await?;
        }
        // A part that cannot be stored (a full disk) is kept, so the next attempt resumes.
        let stored = self.client.blobs().put_file(&part)?;
        let _ = std::fs::remove_file(&part);
        if stored.sha256 != sha256 {
            return Err(SyncError::Local(ClientError::BlobCorrupt { sha256: sha256.to_owned(), actual: stored.sha256 }));
        }
        self.client.record_blobs(&[ManifestEntry {
            path: String::new(),
            sha256: sha256.to_owned(),
            size: stored.size,
            executable: false,
        }])?;
        Ok(())
    }

    /// Downloads every blob of a spec's revisions that is not stored locally; returns how
    /// many were fetched.
    pub async fn fetch_spec_blobs(&self, spec_id: SpecId) -> SyncResult<u32> {
        let revisions = read::revisions(&self.client.conn(), spec_id)?;
        let mut n = 0;
        for r in revisions {
            for f in r.files {
                if !self.client.blobs().contains(&f.sha256) {
                    self.download_blob(&f.sha256, f.size).await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

/// Writes one downloaded chunk into the part file. The first chunk decides: the rest of a
/// resumed blob (206) appends, the whole content (200) replaces what the part held.
fn write_chunk(
    file: &mut Option<std::fs::File>,
    part: &std::path::Path,
    status: u16,
    chunk: &[u8],
    done: &mut u64,
) -> std::io::Result<()> {
    if file.is_none() {
        let resumed = status == 206;
        let f = std::fs::OpenOptions::new().create(true).append(resumed).write(true).truncate(!resumed).open(part)?;
        if !resumed {
            *done = 0;
        }
        *file = Some(f);
    }
    if let Some(f) = file.as_mut() {
        f.write_all(chunk)?;
    }
    *done += chunk.len() as u64;
    Ok(())
}
