//! Files follow revisions (DESIGN §3, invariant 8): after a pull, the blobs of the revisions
//! this client may see are downloaded newest first, so a reviewer who synced once can review
//! the whole delivery offline.
//!
//! What is fetched in the background is a per-data-dir policy: every revision of the specs
//! someone is about to review (delivered, in review, changes requested), newest first, while
//! the distinct content they need stays within a byte limit (default 2 GB). What the limit
//! holds back is listed by name; it, and every other revision, comes on demand
//! (`handoff fetch`, the app's Download button, `handoff diff` while online).
//!
//! The plan is a pure function ([`plan`]) over the store's revisions and what is already
//! here; the downloads reuse [`SyncEngine::download_blob`] (resumable, hash-verified).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use handoff_core::{SpecId, SpecStatus, Timestamp};

use super::{Progress, SyncEngine, SyncError, SyncResult};
use crate::Client;
use crate::error::{ClientError, Result};
use crate::outbox::{meta_get, meta_set};

/// The default cap on what is downloaded in the background: 2 GB (of 1024³ bytes, as sizes
/// are shown).
pub const DEFAULT_PREFETCH_LIMIT: u64 = 2 << 30;
const LIMIT_KEY: &str = "prefetch_limit_bytes";
/// How often, at most, revision download progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// Downloads of one blob whose content fails its hash before the revision is given up on.
const HASH_ATTEMPTS: u32 = 3;

/// Whether a spec's revisions are fetched in the background: the ones someone is about to
/// review. The rest come on demand.
pub fn prefetched_status(status: SpecStatus) -> bool {
    matches!(status, SpecStatus::Delivered | SpecStatus::InReview | SpecStatus::ChangesRequested)
}

/// One content blob of a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobNeed {
    /// Its sha256.
    pub sha256: String,
    /// Its size.
    pub size: u64,
}

/// A revision as the plan sees it: whose it is, and the distinct blobs it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionNeed {
    /// The spec.
    pub spec_id: SpecId,
    /// The spec's title, for messages.
    pub spec_title: String,
    /// The spec's status (decides whether it is prefetched).
    pub spec_status: SpecStatus,
    /// The revision number.
    pub revision: u32,
    /// When it was made (newest is fetched first).
    pub created_at: Timestamp,
    /// Its distinct blobs.
    pub blobs: Vec<BlobNeed>,
}

/// A revision's files on this machine: how much of them is here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevisionDownload {
    /// The spec.
    pub spec_id: SpecId,
    /// The spec's title.
    pub spec_title: String,
    /// The revision number.
    pub revision: u32,
    /// Bytes of its distinct content already here (including resumable partial downloads).
    pub bytes_here: u64,
    /// Bytes of its distinct content.
    pub bytes_total: u64,
    /// Files whose content is not here yet.
    pub files_missing: u32,
}

/// What the background download will fetch, and what the limit holds back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DownloadsStatus {
    /// The data dir's cap on background downloads, in bytes (0: everything on demand).
    pub limit_bytes: u64,
    /// Revisions within the policy whose files are not all here yet, newest first.
    pub queued: Vec<RevisionDownload>,
    /// Revisions within the policy that the limit keeps from downloading in the background.
    pub held_back: Vec<RevisionDownload>,
}

impl DownloadsStatus {
    /// Bytes still to download for the queued revisions.
    pub fn queued_bytes(&self) -> u64 {
        self.queued.iter().map(|r| r.bytes_total - r.bytes_here.min(r.bytes_total)).sum()
    }
}

/// The background plan: newest revision first; a revision whose not-yet-counted content
/// would take the total over `limit` is held back whole (a half-downloaded revision helps
/// no reviewer), and later, smaller ones may still fit. Content shared between revisions is
/// counted once. `here(sha, size)` says how much of a blob is on this machine.
pub fn plan(
    mut revisions: Vec<RevisionNeed>,
    here: impl Fn(&str, u64) -> BlobHere,
    limit: u64,
) -> (Vec<RevisionNeed>, DownloadsStatus) {
    revisions.retain(|r| prefetched_status(r.spec_status));
    newest_first(&mut revisions);
    let mut counted: BTreeSet<String> = BTreeSet::new();
    let mut used = 0u64;
    let mut status = DownloadsStatus { limit_bytes: limit, ..DownloadsStatus::default() };
    let mut fetch = Vec::new();
    for r in revisions {
        let view = download_view(&r, &here);
        let new_bytes: u64 = r.blobs.iter().filter(|b| !counted.contains(&b.sha256)).map(|b| b.size).sum();
        if used + new_bytes > limit {
            if view.files_missing > 0 {
                status.held_back.push(view);
            }
            continue;
        }
        used += new_bytes;
        counted.extend(r.blobs.iter().map(|b| b.sha256.clone()));
        if view.files_missing > 0 {
            status.queued.push(view);
            fetch.push(r);
        }
    }
    (fetch, status)
}

fn newest_first(revisions: &mut [RevisionNeed]) {
    revisions.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.revision)));
}

fn download_view(r: &RevisionNeed, here: &impl Fn(&str, u64) -> BlobHere) -> RevisionDownload {
    let mut bytes_here = 0;
    let mut files_missing = 0;
    for b in &r.blobs {
        match here(&b.sha256, b.size) {
            BlobHere::Whole => bytes_here += b.size,
            BlobHere::Part(n) => {
                bytes_here += n.min(b.size);
                files_missing += 1;
            }
        }
    }
    RevisionDownload {
        spec_id: r.spec_id,
        spec_title: r.spec_title.clone(),
        revision: r.revision,
        bytes_here,
        bytes_total: r.blobs.iter().map(|b| b.size).sum(),
        files_missing,
    }
}

/// How much of a blob is on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobHere {
    /// Stored and verified.
    Whole,
    /// Not stored; this many bytes of a resumable download are kept.
    Part(u64),
}

impl Client {
    /// The cap on background downloads of revision files for this data dir, in bytes.
    pub fn prefetch_limit(&self) -> Result<u64> {
        match meta_get(&self.conn(), LIMIT_KEY)? {
            None => Ok(DEFAULT_PREFETCH_LIMIT),
            Some(v) => v.parse().map_err(|_| ClientError::Corrupt(format!("prefetch limit {v:?} is not a number"))),
        }
    }

    /// Sets the cap on background downloads (0: download nothing until asked).
    pub fn set_prefetch_limit(&self, bytes: u64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        meta_set(&tx, LIMIT_KEY, &bytes.to_string())?;
        crate::store::commit(tx)
    }

    /// Every revision in the store with its distinct blobs, for [`plan`].
    pub fn revision_needs(&self) -> Result<Vec<RevisionNeed>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.spec_id, s.title, s.status, r.number, r.created_at, f.sha256, f.size
             FROM revisions r JOIN specs s ON s.id = r.spec_id
             LEFT JOIN revision_files f ON f.revision_id = r.id
             ORDER BY r.id",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Vec<RevisionNeed> = Vec::new();
        let mut last: Option<String> = None;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            if last.as_deref() != Some(id.as_str()) {
                let spec_id: String = row.get(1)?;
                let status: String = row.get(3)?;
                out.push(RevisionNeed {
                    spec_id: crate::store::read::parse("spec id", &spec_id)?,
                    spec_title: row.get(2)?,
                    spec_status: status.parse().map_err(|_| ClientError::Corrupt(format!("spec status {status:?}")))?,
                    revision: row.get(4)?,
                    created_at: Timestamp::from_millis(row.get(5)?),
                    blobs: Vec::new(),
                });
                last = Some(id);
            }
            if let (Some(sha256), Some(size)) = (row.get::<_, Option<String>>(6)?, row.get::<_, Option<i64>>(7)?)
                && let Some(r) = out.last_mut()
                && !r.blobs.iter().any(|b| b.sha256 == sha256)
            {
                r.blobs.push(BlobNeed { sha256, size: u64::try_from(size).unwrap_or(0) });
            }
        }
        Ok(out)
    }

    /// How much of a blob is on this machine: all of it, or the length of a resumable
    /// partial download.
    fn blob_here(&self, sha256: &str, size: u64) -> BlobHere {
        if self.blobs().contains(sha256) {
            return BlobHere::Whole;
        }
        BlobHere::Part(std::fs::metadata(self.blobs().part_path(sha256)).map(|m| m.len().min(size)).unwrap_or(0))
    }

    /// What the background download will fetch and what the limit holds back.
    pub fn downloads_status(&self) -> Result<DownloadsStatus> {
        let limit = self.prefetch_limit()?;
        Ok(plan(self.revision_needs()?, |sha, size| self.blob_here(sha, size), limit).1)
    }
}

/// What a run of downloads did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DownloadReport {
    /// Revisions whose files are now all here.
    pub revisions: u32,
    /// Blobs downloaded.
    pub blobs: u32,
    /// Bytes downloaded.
    pub bytes: u64,
    /// What the limit held back (background runs only).
    pub held_back: Vec<RevisionDownload>,
}

impl SyncEngine {
    /// Downloads, newest first, the files of the revisions the data dir's policy prefetches.
    /// One run at a time per engine; a second call while one runs returns at once with an
    /// empty report. Offline or with a full disk it stops at once (the next run resumes where
    /// this one stopped); a revision whose file keeps arriving damaged, or that the server
    /// cannot serve, is skipped so the others still arrive, and its error is returned at the
    /// end.
    pub async fn prefetch(&self) -> SyncResult<DownloadReport> {
        let Ok(_running) = self.downloads.try_lock() else { return Ok(DownloadReport::default()) };
        let client = self.client().clone();
        let (fetch, status) = blocking(&client, |c| {
            let limit = c.prefetch_limit()?;
            Ok(plan(c.revision_needs()?, |sha, size| c.blob_here(sha, size), limit))
        })
        .await?;
        let mut report = DownloadReport { held_back: status.held_back, ..DownloadReport::default() };
        let mut skipped: Option<SyncError> = None;
        for r in &fetch {
            match self.download_revision(r, &mut report).await {
                Ok(()) => {}
                Err(e) if revision_only(&e) => {
                    skipped.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        skipped.map_or(Ok(report), Err)
    }

    /// Downloads the files of one revision of a spec, or of all its revisions (newest first)
    /// when `revision` is `None`, whatever the prefetch limit says.
    pub async fn fetch_revision_files(&self, spec_id: SpecId, revision: Option<u32>) -> SyncResult<DownloadReport> {
        let _running = self.downloads.lock().await;
        let client = self.client().clone();
        let mut wanted = blocking(&client, move |c| {
            if let Some(n) = revision {
                c.revision(spec_id, n)?;
            } else {
                c.revisions(spec_id)?;
            }
            Ok(c.revision_needs()?
                .into_iter()
                .filter(|r| r.spec_id == spec_id && revision.is_none_or(|n| n == r.revision))
                .collect::<Vec<_>>())
        })
        .await?;
        newest_first(&mut wanted);
        let mut report = DownloadReport::default();
        for r in &wanted {
            self.download_revision(r, &mut report).await?;
        }
        Ok(report)
    }

    /// Spawns [`SyncEngine::prefetch`] unless one is running; `on_done` gets its result.
    pub fn prefetch_in_background(self: &Arc<Self>, on_done: impl FnOnce(SyncResult<DownloadReport>) + Send + 'static) {
        if self.prefetching.swap(true, Ordering::AcqRel) {
            return;
        }
        let engine = self.clone();
        tokio::spawn(async move {
            let result = engine.prefetch().await;
            engine.prefetching.store(false, Ordering::Release);
            on_done(result);
        });
    }

    async fn download_revision(&self, r: &RevisionNeed, report: &mut DownloadReport) -> SyncResult<()> {
        let client = self.client().clone();
        let total: u64 = r.blobs.iter().map(|b| b.size).sum();
        let mut sizes_here: HashMap<&str, u64> = r
            .blobs
            .iter()
            .map(|b| {
                let n = match client.blob_here(&b.sha256, b.size) {
                    BlobHere::Whole => b.size,
                    BlobHere::Part(n) => n,
                };
                (b.sha256.as_str(), n)
            })
            .collect();
        let mut last_report = Instant::now() - PROGRESS_EVERY;
        let mut fetched_any = false;
        for b in &r.blobs {
            if client.blobs().contains(&b.sha256) {
                continue;
            }
            let base: u64 = sizes_here.iter().filter(|(k, _)| **k != b.sha256.as_str()).map(|(_, v)| *v).sum();
            let on_bytes = |done: u64| {
                if last_report.elapsed() >= PROGRESS_EVERY || base + done >= total {
                    last_report = Instant::now();
                    self.report(Progress::RevisionFiles {
                        spec_id: r.spec_id,
                        spec_title: r.spec_title.clone(),
                        revision: r.revision,
                        done: base + done.min(b.size),
                        total,
                    });
                }
            };
            let mut on_bytes = on_bytes;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.download_blob_reporting(&b.sha256, b.size, &mut on_bytes).await {
                    Ok(()) => break,
                    // A download that fails its hash was dropped: ask again, a few times.
                    Err(SyncError::Local(ClientError::BlobCorrupt { .. })) if attempt < HASH_ATTEMPTS => {}
                    Err(SyncError::Local(ClientError::BlobCorrupt { sha256, actual })) => {
                        return Err(SyncError::Local(ClientError::DownloadCorrupt {
                            spec_title: r.spec_title.clone(),
                            revision: r.revision,
                            sha256,
                            actual,
                            attempts: attempt,
                        }));
                    }
                    Err(e) => return Err(e),
                }
            }
            sizes_here.insert(b.sha256.as_str(), b.size);
            report.blobs += 1;
            report.bytes += b.size;
            fetched_any = true;
        }
        if fetched_any {
            report.revisions += 1;
        }
        Ok(())
    }
}

/// Whether a download failure concerns only that revision (its content is damaged or the
/// server cannot serve it), so the other revisions are still worth fetching.
fn revision_only(e: &SyncError) -> bool {
    match e {
        SyncError::Local(ClientError::DownloadCorrupt { .. }) => true,
        SyncError::Server { status, .. } => *status == 404 || *status == 403,
        _ => false,
    }
}

/// Runs store work on the blocking pool (the engine is driven from async tasks).
async fn blocking<T: Send + 'static>(
    client: &Arc<Client>,
    f: impl FnOnce(&Client) -> Result<T> + Send + 'static,
) -> SyncResult<T> {
    let client = client.clone();
    tokio::task::spawn_blocking(move || f(&client))
        .await
        .map_err(|e| SyncError::Local(ClientError::Corrupt(format!("a download worker stopped: {e}"))))?
        .map_err(SyncError::Local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::new_id;

    fn rev(spec: SpecId, status: SpecStatus, n: u32, at: i64, blobs: &[(&str, u64)]) -> RevisionNeed {
        RevisionNeed {
            spec_id: spec,
            spec_title: format!("spec {n}"),
            spec_status: status,
            revision: n,
            created_at: Timestamp::from_millis(at),
            blobs: blobs.iter().map(|(s, z)| BlobNeed { sha256: (*s).to_owned(), size: *z }).collect(),
        }
    }

    fn nothing_here(_: &str, _: u64) -> BlobHere {
        BlobHere::Part(0)
    }

    #[test]
    fn newest_first_shared_content_counted_once_and_the_limit_holds_back_whole_revisions() {
        let a: SpecId = new_id(Timestamp::from_millis(1));
        let b: SpecId = new_id(Timestamp::from_millis(2));
        let revs = vec![
            rev(a, SpecStatus::InReview, 1, 10, &[("x", 600), ("y", 100)]),
            rev(a, SpecStatus::InReview, 2, 20, &[("x", 600), ("z", 300)]),
            rev(b, SpecStatus::Delivered, 1, 15, &[("w", 500)]),
            rev(b, SpecStatus::Draft, 9, 30, &[("q", 1)]),
        ];
        // r2 of a (900) first; then b r1 (500) would make 1400 > 1000: held back; then a r1
        // needs only y (x is counted): 1000, fits.
        let (fetch, status) = plan(revs.clone(), nothing_here, 1000);
        let order: Vec<(SpecId, u32)> = fetch.iter().map(|r| (r.spec_id, r.revision)).collect();
        assert_eq!(order, vec![(a, 2), (a, 1)]);
        assert_eq!(status.held_back.iter().map(|r| (r.spec_id, r.revision)).collect::<Vec<_>>(), vec![(b, 1)]);
        assert_eq!(status.queued_bytes(), 900 + 700);

        // Nothing held back with room for all; drafts are never prefetched.
        let (fetch, status) = plan(revs.clone(), nothing_here, u64::MAX);
        assert_eq!(fetch.len(), 3);
        assert!(status.held_back.is_empty());

        // A limit of 0 prefetches nothing and says what it held back.
        let (fetch, status) = plan(revs, nothing_here, 0);
        assert!(fetch.is_empty());
        assert_eq!(status.held_back.len(), 3);
    }

    #[test]
    fn revisions_already_here_are_not_queued_and_partial_downloads_count() {
        let a: SpecId = new_id(Timestamp::from_millis(1));
        let revs = vec![
            rev(a, SpecStatus::ChangesRequested, 1, 10, &[("x", 600), ("e", 0)]),
            rev(a, SpecStatus::ChangesRequested, 2, 20, &[("y", 400)]),
        ];
        let here = |sha: &str, _size: u64| match sha {
            "x" | "e" => BlobHere::Whole,
            "y" => BlobHere::Part(100),
            _ => BlobHere::Part(0),
        };
        let (fetch, status) = plan(revs, here, u64::MAX);
        assert_eq!(fetch.iter().map(|r| r.revision).collect::<Vec<_>>(), vec![2]);
        assert_eq!(status.queued.len(), 1);
        assert_eq!((status.queued[0].bytes_here, status.queued[0].bytes_total, status.queued[0].files_missing), (100, 400, 1));
    }
}
