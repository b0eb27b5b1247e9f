//! `handoff export`: a spec's whole engagement written as a folder that a person can read
//! without Handoff (Markdown, whole files, git patches) and that `handoff import` restores
//! exactly (the JSON records, with their ids, authors and times). The layout is in
//! [`format`].
//!
//! The output is deterministic: records are sorted, JSON is serde's fixed field order, and
//! nothing in the folder says when or where it was written, so exporting a store, importing
//! the folder elsewhere and exporting again gives byte-identical folders. The folder is
//! written into a temp folder beside the target and renamed into place at the end, so a
//! failure (a revision whose files are not here, a full disk) never leaves half a folder
//! under the target's name.

pub mod format;
mod markdown;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use handoff_core::protocol::ThreadRecord;
use handoff_core::*;
use handoff_diff::{ManifestFile, PatchOptions, RevisionDiffOptions, diff_revisions, revision_patch, sha256_hex};

use crate::error::{ClientError, Result};
use crate::store::read;
use crate::{Client, spec_in};
use format::{ExportedFile, FORMAT_NAME, FORMAT_VERSION, MANIFEST, Manifest, SpecDocument, ThreadDocument};
use markdown::Engagement;

/// What an export wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportReport {
    /// The folder written.
    pub folder: String,
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub title: String,
    /// Revisions, each with its files.
    pub revisions: usize,
    /// Patches between consecutive revisions.
    pub patches: usize,
    /// Threads.
    pub threads: usize,
    /// Comments in them.
    pub comments: usize,
    /// Reviews.
    pub reviews: usize,
    /// Files in the folder, the manifest included.
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// Everything an export holds, read in one transaction.
pub(crate) struct Records {
    /// `spec.json`.
    pub spec: SpecDocument,
    /// Revisions by number.
    pub revisions: Vec<Revision>,
    /// Threads (with comments), oldest first.
    pub threads: Vec<ThreadDocument>,
    /// Reviews, oldest first.
    pub reviews: Vec<Review>,
}

impl Records {
    /// Reads a spec's records from the store, in the order the folder lists them.
    pub(crate) fn read(conn: &rusqlite::Connection, spec_id: SpecId) -> Result<Self> {
        let spec = spec_in(conn, spec_id)?;
        let name: String =
            conn.query_row("SELECT name FROM workspaces WHERE id = ?1", [spec.workspace_id.to_string()], |r| r.get(0))?;
        let workspace = Workspace { id: spec.workspace_id, name };
        let deliverables = read::deliverables(conn, spec_id)?;
        let mut revisions = read::revisions(conn, spec_id)?;
        revisions.sort_by_key(|r| (r.number, r.id));
        let mut threads: Vec<ThreadDocument> = read::threads(conn, spec_id)?
            .into_iter()
            .map(|t| {
                let mut comments: Vec<_> = t.comments.into_iter().map(|c| (c.shown_at, c.record)).collect();
                comments.sort_by_key(|(at, c)| (*at, c.id));
                ThreadDocument {
                    record: ThreadRecord { thread: t.thread, events: t.events, history: t.history },
                    comments: comments.into_iter().map(|(_, c)| c).collect(),
                }
            })
            .collect();
        threads.sort_by_key(|t| (t.record.thread.created_at, t.record.thread.id));
        let mut reviews = read::reviews(conn, spec_id)?;
        reviews.sort_by_key(|r| (handoff_core::time::shown_time(r.published_at, r.received_at).0, r.id));
        let acceptance_override = read::acceptance_override(conn, spec_id)?;
        Ok(Self { spec: SpecDocument { workspace, spec, deliverables, acceptance_override }, revisions, threads, reviews })
    }

    /// The acceptance ledger these records give.
    pub(crate) fn ledger(&self) -> handoff_core::ledger::Ledger {
        let revisions: Vec<handoff_core::ledger::LedgerRevision> =
            self.revisions.iter().map(|r| handoff_core::ledger::LedgerRevision { id: r.id, number: r.number }).collect();
        handoff_core::ledger::ledger(&self.spec.spec.criteria, &revisions, &self.reviews, self.spec.acceptance_override.as_ref())
    }
}

/// Pretty JSON with a final newline: the same records always give the same bytes.
pub(crate) fn json_bytes(v: &impl Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A folder being written, with the path, hash and size of each file put in it.
struct FolderWriter {
    root: PathBuf,
    files: Vec<ExportedFile>,
}

impl FolderWriter {
    fn put(&mut self, rel: &str, bytes: &[u8], executable: bool) -> Result<()> {
        let path = self.root.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(ClientError::io("cannot create", parent))?;
        }
        let mut file = fs::File::create(&path).map_err(ClientError::io("cannot create", &path))?;
        file.write_all(bytes).map_err(ClientError::io("cannot write", &path))?;
        // The folder may be all that is left of an engagement: it is on disk before it is
        // renamed into place.
        file.sync_all().map_err(ClientError::io("cannot write", &path))?;
        set_executable(&file, &path, executable)?;
        self.files.push(ExportedFile { path: rel.to_owned(), sha256: sha256_hex(bytes), size: bytes.len() as u64 });
        Ok(())
    }
}

#[cfg(unix)]
fn set_executable(file: &fs::File, path: &Path, executable: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if executable {
        file.set_permissions(fs::Permissions::from_mode(0o755)).map_err(ClientError::io("cannot set the mode of", path))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_: &fs::File, _: &Path, _: bool) -> Result<()> {
    Ok(())
}

/// A temp folder beside the target, removed on drop unless renamed into place.
struct TempFolder(Option<PathBuf>);

impl Drop for TempFolder {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // Best effort: a leftover temp folder is named as one and harms nothing.
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// Whether `path` can be the target: absent, or an empty folder.
fn check_target(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ClientError::io("cannot look at", path)(e)),
        Ok(m) if m.is_dir() => {
            let mut entries = fs::read_dir(path).map_err(ClientError::io("cannot read", path))?;
            if entries.next().is_none() { Ok(()) } else { Err(ClientError::ExportTargetExists { path: path.to_owned() }) }
        }
        Ok(_) => Err(ClientError::ExportTargetExists { path: path.to_owned() }),
    }
}

/// The folder an export of `title` gets inside a folder someone picked: readable, safe on any
/// file system, and unique per spec (two specs may share a title).
pub fn folder_name(title: &str, spec_id: SpecId) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.chars().count() >= 60 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    let short: String =
        spec_id.to_string().chars().filter(|c| *c != '-').rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
    if slug.is_empty() { format!("handoff-spec-{short}") } else { format!("handoff-{slug}-{short}") }
}

impl Client {
    /// [`Client::export_spec`] into a new folder inside `parent`, named by [`folder_name`].
    pub fn export_spec_into(&self, spec_id: SpecId, parent: &Path) -> Result<ExportReport> {
        let title = spec_in(&self.conn(), spec_id)?.title;
        self.export_spec(spec_id, &parent.join(folder_name(&title, spec_id)))
    }

    /// Writes a spec's whole engagement into the new folder `out` (absent or empty): the
    /// spec, every revision's files, a patch between consecutive revisions, every thread and
    /// review, the acceptance ledger and a manifest of sha256 hashes. A revision whose files
    /// are not on this machine is [`ClientError::FilesNotHere`], and nothing is written.
    pub fn export_spec(&self, spec_id: SpecId, out: &Path) -> Result<ExportReport> {
        let records = {
            let mut conn = self.conn();
            // One read transaction: never half of a concurrent write.
            let tx = conn.transaction()?;
            let records = Records::read(&tx, spec_id)?;
            tx.commit()?;
            records
        };
        // Every revision's files must be here before anything is written.
        for r in &records.revisions {
            let missing: Vec<&ManifestEntry> = r.files.iter().filter(|f| !self.blobs.contains(&f.sha256)).collect();
            if !missing.is_empty() {
                return Err(ClientError::FilesNotHere {
                    spec_title: records.spec.spec.title.clone(),
                    revision: r.number,
                    missing_files: missing.len(),
                    missing_bytes: missing.iter().map(|f| f.size).sum(),
                });
            }
        }
        check_target(out)?;
        let name = out.file_name().ok_or_else(|| ClientError::ExportTargetExists { path: out.to_owned() })?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(ClientError::io("cannot create", &parent))?;
        let temp_path = parent.join(format!(".{}.export-{}", name.to_string_lossy(), uuid::Uuid::new_v4()));
        fs::create_dir(&temp_path).map_err(ClientError::io("cannot create", &temp_path))?;
        let mut temp = TempFolder(Some(temp_path.clone()));
        let mut w = FolderWriter { root: temp_path.clone(), files: Vec::new() };
        let report = self.write_folder(&records, &mut w)?;
        // An empty target folder is replaced by the rename (rename(2) takes an empty folder).
        fs::rename(&temp_path, out).map_err(|e| match fs::symlink_metadata(out) {
            Ok(_) if e.kind() != std::io::ErrorKind::StorageFull => ClientError::ExportTargetExists { path: out.to_owned() },
            _ => ClientError::io("cannot move the export into place at", out)(e),
        })?;
        temp.0 = None;
        if let Ok(dir) = fs::File::open(&parent) {
            // Best effort: the rename itself is durable once the parent folder is synced.
            let _ = dir.sync_all();
        }
        Ok(ExportReport { folder: out.display().to_string(), ..report })
    }

    fn write_folder(&self, records: &Records, w: &mut FolderWriter) -> Result<ExportReport> {
        let spec = &records.spec.spec;
        let engagement = Engagement {
            spec,
            workspace: &records.spec.workspace.name,
            revisions: &records.revisions,
            threads: &records.threads,
            reviews: &records.reviews,
            acceptance_override: records.spec.acceptance_override.as_ref(),
        };
        w.put("README.md", engagement.readme().as_bytes(), false)?;
        w.put("spec.md", engagement.spec().as_bytes(), false)?;
        w.put("spec.json", &json_bytes(&records.spec)?, false)?;
        let ledger = records.ledger();
        w.put("ledger.md", engagement.ledger(&ledger).as_bytes(), false)?;
        w.put("ledger.json", &json_bytes(&ledger)?, false)?;

        let mut previous: Option<(&Revision, Vec<ManifestFile>)> = None;
        let mut patches = 0;
        for r in &records.revisions {
            let dir = format::revision_dir(r.number);
            w.put(&format!("{dir}/revision.md"), engagement.revision(r).as_bytes(), false)?;
            w.put(&format!("{dir}/revision.json"), &json_bytes(r)?, false)?;
            let files_dir = markdown::files_dir(r.number);
            for f in &r.files {
                let bytes = self.blobs.read(&f.sha256)?;
                w.put(&format!("{files_dir}/{}", f.path), &bytes, f.executable)?;
            }
            let manifest: Vec<ManifestFile> = r
                .files
                .iter()
                .map(|f| ManifestFile { path: f.path.clone(), sha256: f.sha256.clone(), size: f.size, executable: f.executable })
                .collect();
            if let Some((prev, prev_manifest)) = &previous {
                let patch = self.revision_patch(prev_manifest, &manifest)?;
                w.put(&format::patch_path(prev.number, r.number), patch.as_bytes(), false)?;
                patches += 1;
            }
            previous = Some((r, manifest));
        }
        let mut comments = 0;
        for t in &records.threads {
            let id = t.record.thread.id;
            w.put(&format!("threads/{id}.md"), engagement.thread(t).as_bytes(), false)?;
            w.put(&format!("threads/{id}.json"), &json_bytes(t)?, false)?;
            comments += t.comments.len();
        }
        for r in &records.reviews {
            w.put(&format!("reviews/{}.md", r.id), engagement.review(r).as_bytes(), false)?;
            w.put(&format!("reviews/{}.json", r.id), &json_bytes(r)?, false)?;
        }
        w.files.sort();
        let manifest = Manifest {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            spec_id: spec.id,
            title: spec.title.clone(),
            files: w.files.clone(),
        };
        let manifest_bytes = json_bytes(&manifest)?;
        let bytes = w.files.iter().map(|f| f.size).sum::<u64>() + manifest_bytes.len() as u64;
        let files = w.files.len() + 1;
        // Written last, without an entry of its own: it lists every other file.
        w.put(MANIFEST, &manifest_bytes, false)?;
        Ok(ExportReport {
            folder: String::new(),
            spec_id: spec.id,
            title: spec.title.clone(),
            revisions: records.revisions.len(),
            patches,
            threads: records.threads.len(),
            comments,
            reviews: records.reviews.len(),
            files,
            bytes,
        })
    }

    /// The git patch from one revision's files to the next, binary files included as git
    /// binary patches so that `git apply` rebuilds every file.
    fn revision_patch(&self, old: &[ManifestFile], new: &[ManifestFile]) -> Result<String> {
        let mut contents: std::collections::HashMap<String, Vec<u8>> = std::collections::HashMap::new();
        for f in old.iter().chain(new) {
            if !contents.contains_key(&f.sha256) {
                contents.insert(f.sha256.clone(), self.blobs.read(&f.sha256)?);
            }
        }
        let corrupt = |e: handoff_diff::DiffError| ClientError::Corrupt(e.to_string());
        let diff = diff_revisions(old, new, &&contents, &RevisionDiffOptions::default()).map_err(corrupt)?;
        revision_patch(&diff, &&contents, &PatchOptions { binary: true, ..PatchOptions::default() }).map_err(corrupt)
    }
}

#[cfg(test)]
mod tests;
