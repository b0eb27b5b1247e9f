//! `handoff import`: an export folder (see [`crate::export::format`]) restored into this
//! store with the ids, authors and times it was exported with.
//!
//! Everything is checked before anything is written: the manifest's format and version, every
//! path (relative, no `..`, no symbolic link on the way), every file's size and sha256, and
//! that the records agree with each other and with the files. A refused folder is named by
//! its problem ([`ImportProblem`]) and writes nothing. Then the revision files go into the
//! blob store (each hashed again as it is stored) and every row is written in one
//! transaction; rows already here (by id) are skipped, so importing twice changes nothing.
//!
//! **What an imported spec is:** an *archived record* (`archived_specs`, migration 0008). It
//! is read-only here (every write to it is [`ClientError::SpecArchived`]), it has no outbox
//! entries, no synced records and no cursor, so sync never pushes it and never rebuilds it;
//! if a server later sends the same spec, the server's copy replaces the archive. A spec
//! that is already here as a live (synced or local) spec is left alone: its rows are the
//! server's or its author's, and an export's copy must not mix into them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{Transaction, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use handoff_core::*;

use crate::Client;
use crate::error::{ClientError, ImportProblem, Result};
use crate::export::format::{
    FORMAT_NAME, FORMAT_VERSION, MANIFEST, Manifest, ManifestHead, SpecDocument, ThreadDocument, check_inside, revision_dir,
};
use crate::store::{apply, read};

/// How many records of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Specs.
    pub specs: usize,
    /// Deliverables.
    pub deliverables: usize,
    /// Revisions.
    pub revisions: usize,
    /// Threads.
    pub threads: usize,
    /// Comments.
    pub comments: usize,
    /// Reviews.
    pub reviews: usize,
    /// Acceptance overrides.
    pub acceptance_overrides: usize,
}

/// What an import wrote and what it found already here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The folder read.
    pub folder: String,
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub title: String,
    /// Records written.
    pub imported: ImportCounts,
    /// Records skipped because they were here already.
    pub skipped: ImportCounts,
    /// File contents added to the blob store.
    pub blobs_stored: usize,
    /// File contents the blob store had already.
    pub blobs_present: usize,
    /// The spec is here as a live spec, so nothing of it was imported.
    pub live_spec_kept: bool,
}

/// An export folder that passed every check.
#[derive(Debug)]
pub(crate) struct Verified {
    /// sha256 of `manifest.json`, kept with the archive.
    pub manifest_sha256: String,
    /// `spec.json`.
    pub spec: SpecDocument,
    /// Revisions by number.
    pub revisions: Vec<Revision>,
    /// Threads.
    pub threads: Vec<ThreadDocument>,
    /// Reviews.
    pub reviews: Vec<Review>,
    /// Distinct file contents: sha256 → (size, a file in the folder holding it).
    pub blobs: BTreeMap<String, (u64, PathBuf)>,
}

/// The sha256 and size of a file, read in pieces (revision files may be large).
fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = fs::File::open(path).map_err(ClientError::io("cannot read", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ClientError::io("cannot read", path)(e)),
        };
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Checks an export folder against its manifest and reads its records; nothing is written.
pub(crate) fn verify(dir: &Path) -> Result<Verified> {
    let refuse = |problem: ImportProblem| ClientError::ImportRefused { folder: dir.to_owned(), problem };
    let malformed = |what: String| refuse(ImportProblem::Malformed(what));
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(malformed("it is not a folder".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(malformed("there is no such folder".into())),
        Err(e) => return Err(ClientError::io("cannot read", dir)(e)),
    }

    let manifest_path = inside(dir, MANIFEST).map_err(|p| match p {
        ImportProblem::MissingFile { .. } => ImportProblem::Malformed(format!("it has no {MANIFEST}")),
        p => p,
    });
    let manifest_path = manifest_path.map_err(refuse)?;
    let manifest_bytes = fs::read(&manifest_path).map_err(ClientError::io("cannot read", &manifest_path))?;
    let head: ManifestHead = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| malformed(format!("{MANIFEST} does not say which format it is ({e})")))?;
    if head.format != FORMAT_NAME {
        return Err(malformed(format!("{MANIFEST} says format {:?}, not {FORMAT_NAME:?}", head.format)));
    }
    if head.version > FORMAT_VERSION {
        return Err(refuse(ImportProblem::NewerFormat { found: head.version, supported: FORMAT_VERSION }));
    }
    if head.version == 0 {
        return Err(malformed(format!("{MANIFEST} says version 0, which no Handoff writes")));
    }
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| malformed(format!("{MANIFEST} cannot be read: {e}")))?;

    // Every path is checked before any file is opened: a path that escapes is refused as
    // such, never followed.
    let mut listed: BTreeMap<&str, &crate::export::format::ExportedFile> = BTreeMap::new();
    for f in &manifest.files {
        check_inside(&f.path).map_err(|reason| refuse(ImportProblem::PathEscapes { path: f.path.clone(), reason }))?;
        if f.path == MANIFEST || listed.insert(f.path.as_str(), f).is_some() {
            return Err(malformed(format!("{MANIFEST} lists {} twice", f.path)));
        }
    }
    let mut on_disk: HashMap<&str, PathBuf> = HashMap::new();
    for f in &manifest.files {
        let path = inside(dir, &f.path).map_err(refuse)?;
        let (sha256, size) = hash_file(&path)?;
        if sha256 != f.sha256 || size != f.size {
            return Err(refuse(ImportProblem::ChangedFile {
                path: f.path.clone(),
                expected: format!("{} ({} bytes)", f.sha256, f.size),
                actual: format!("{sha256} ({size} bytes)"),
            }));
        }
        on_disk.insert(f.path.as_str(), path);
    }

    let json = |rel: &str| read_json(dir, &on_disk, rel);
    let spec: SpecDocument = json("spec.json")?;
    let spec_id = spec.spec.id;
    if manifest.spec_id != spec_id {
        return Err(malformed(format!("{MANIFEST} names spec {} but spec.json holds {spec_id}", manifest.spec_id)));
    }
    let mut revisions: Vec<Revision> = Vec::new();
    let mut threads: Vec<ThreadDocument> = Vec::new();
    let mut reviews: Vec<Review> = Vec::new();
    for path in listed.keys() {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["revisions", _, "revision.json"] => revisions.push(read_json(dir, &on_disk, path)?),
            ["threads", name] if name.ends_with(".json") => threads.push(read_json(dir, &on_disk, path)?),
            ["reviews", name] if name.ends_with(".json") => reviews.push(read_json(dir, &on_disk, path)?),
            _ => {}
        }
    }

    // The records must agree with each other and with the files beside them.
    let deliverables: BTreeSet<DeliverableId> = spec.deliverables.iter().map(|d| d.id).collect();
    if spec.deliverables.iter().any(|d| d.spec_id != spec_id) {
        return Err(malformed("a deliverable in spec.json belongs to another spec".into()));
    }
    let mut blobs: BTreeMap<String, (u64, PathBuf)> = BTreeMap::new();
    let mut numbers = BTreeSet::new();
    for r in &revisions {
        let dir_name = revision_dir(r.number);
        if r.spec_id != spec_id || !deliverables.contains(&r.deliverable_id) || !numbers.insert(r.number) {
            return Err(malformed(format!("{dir_name}/revision.json does not belong to this spec's deliverable")));
        }
        if !listed.contains_key(format!("{dir_name}/revision.json").as_str()) {
            return Err(malformed(format!("revision {} is not in {dir_name}", r.number)));
        }
        for f in &r.files {
            let rel = format!("{dir_name}/files/{}", f.path);
            let entry = listed.get(rel.as_str()).ok_or_else(|| refuse(ImportProblem::MissingFile { path: rel.clone() }))?;
            if entry.sha256 != f.sha256 || entry.size != f.size {
                return Err(refuse(ImportProblem::ChangedFile {
                    path: rel.clone(),
                    expected: format!("{} ({} bytes), as revision {} records it", f.sha256, f.size, r.number),
                    actual: format!("{} ({} bytes)", entry.sha256, entry.size),
                }));
            }
            if let Some(path) = on_disk.get(rel.as_str()) {
                blobs.entry(f.sha256.clone()).or_insert_with(|| (f.size, path.clone()));
            }
        }
    }
    revisions.sort_by_key(|r| r.number);
    let revision_ids: BTreeSet<RevisionId> = revisions.iter().map(|r| r.id).collect();
    for t in &threads {
        let id = t.record.thread.id;
        if t.record.thread.spec_id != spec_id || t.comments.iter().any(|c| c.thread_id != id) {
            return Err(malformed(format!("threads/{id}.json does not belong to this spec")));
        }
    }
    for r in &reviews {
        if r.spec_id != spec_id || !revision_ids.contains(&r.revision_id) {
            return Err(malformed(format!("reviews/{}.json does not review a revision of this spec", r.id)));
        }
    }
    Ok(Verified { manifest_sha256: hex::encode(Sha256::digest(&manifest_bytes)), spec, revisions, threads, reviews, blobs })
}

/// One of the folder's JSON records, already checked against the manifest.
fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, on_disk: &HashMap<&str, PathBuf>, rel: &str) -> Result<T> {
    let malformed = |what: String| ClientError::ImportRefused { folder: dir.to_owned(), problem: ImportProblem::Malformed(what) };
    let path = on_disk.get(rel).ok_or_else(|| malformed(format!("{MANIFEST} does not list {rel}")))?;
    let bytes = fs::read(path).map_err(ClientError::io("cannot read", path))?;
    serde_json::from_slice(&bytes).map_err(|e| malformed(format!("{rel} cannot be read: {e}")))
}

/// The path of `rel` inside `dir`, refusing a symbolic link anywhere on the way (a link
/// could point outside the folder) and a missing file.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf, ImportProblem> {
    let mut path = dir.to_owned();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ImportProblem::PathEscapes { path: rel.to_owned(), reason: "is or passes through a symbolic link" });
            }
            Ok(m) if i + 1 == parts.len() && !m.is_file() => return Err(ImportProblem::MissingFile { path: rel.to_owned() }),
            Ok(_) => {}
            Err(_) => return Err(ImportProblem::MissingFile { path: rel.to_owned() }),
        }
    }
    Ok(path)
}

/// Whether a row with this id is in `table` (one of the fixed tables below).
fn present(tx: &Transaction<'_>, table: &'static str, id: &str) -> Result<bool> {
    Ok(tx.prepare_cached(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)"))?.query_row([id], |r| r.get(0))?)
}

impl Client {
    /// Restores an export folder into this store: checks everything first (a refused folder
    /// writes nothing), then stores the files and writes every record in one transaction,
    /// skipping what is already here. The spec becomes a read-only archived record.
    pub fn import_folder(&self, dir: &Path) -> Result<ImportReport> {
        let v = verify(dir)?;
        let mut report = ImportReport {
            folder: dir.display().to_string(),
            spec_id: v.spec.spec.id,
            title: v.spec.spec.title.clone(),
            imported: ImportCounts::default(),
            skipped: ImportCounts::default(),
            blobs_stored: 0,
            blobs_present: 0,
            live_spec_kept: false,
        };
        // Contents first, as a delivery stores them: a revision row is never committed
        // before its files are in the blob store.
        for (sha256, (_, path)) in &v.blobs {
            if self.blobs.contains(sha256) {
                report.blobs_present += 1;
                continue;
            }
            let stored = self.blobs.put_file(path)?;
            if stored.sha256 != *sha256 {
                // The file changed after it was checked.
                let rel = path.strip_prefix(dir).unwrap_or(path).display().to_string();
                return Err(ClientError::ImportRefused {
                    folder: dir.to_owned(),
                    problem: ImportProblem::ChangedFile { path: rel, expected: sha256.clone(), actual: stored.sha256 },
                });
            }
            report.blobs_stored += 1;
        }
        let now = self.now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_records(&tx, &v, &mut report, now)?;
        let mut blob_row = tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, stored_at) VALUES (?1, ?2, ?3)")?;
        for (sha256, (size, _)) in &v.blobs {
            blob_row.execute(params![sha256, *size as i64, now.as_millis()])?;
        }
        drop(blob_row);
        crate::store::commit(tx)?;
        Ok(report)
    }
}

/// Writes a verified folder's records, skipping those already here by id.
fn write_records(tx: &Transaction<'_>, v: &Verified, report: &mut ImportReport, now: Timestamp) -> Result<()> {
    let spec = &v.spec.spec;
    let id = spec.id.to_string();
    let (imported, skipped) = (&mut report.imported, &mut report.skipped);
    let exists = present(tx, "specs", &id)?;
    if exists && !read::is_archived(tx, spec.id)? {
        // A live spec: the store's rows stand; count the folder's records as skipped.
        report.live_spec_kept = true;
        *skipped = ImportCounts {
            specs: 1,
            deliverables: v.spec.deliverables.len(),
            revisions: v.revisions.len(),
            threads: v.threads.len(),
            comments: v.threads.iter().map(|t| t.comments.len()).sum(),
            reviews: v.reviews.len(),
            acceptance_overrides: usize::from(v.spec.acceptance_override.is_some()),
        };
        return Ok(());
    }
    // A workspace this store does not know is recorded as a plain (not local) one, as a pull
    // records one it meets first through a spec; it has no members here.
    tx.execute(
        "INSERT OR IGNORE INTO workspaces (id, name, is_local) VALUES (?1, ?2, 0)",
        params![v.spec.workspace.id.to_string(), v.spec.workspace.name],
    )?;
    if exists {
        skipped.specs += 1;
    } else {
        apply::insert_spec(tx, spec)?;
        tx.execute(
            "INSERT INTO archived_specs (spec_id, manifest_sha256, imported_at) VALUES (?1, ?2, ?3)",
            params![id, v.manifest_sha256, now.as_millis()],
        )?;
        imported.specs += 1;
    }
    for d in &v.spec.deliverables {
        if present(tx, "deliverables", &d.id.to_string())? {
            skipped.deliverables += 1;
        } else {
            tx.execute(
                "INSERT INTO deliverables (id, spec_id, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![d.id.to_string(), d.spec_id.to_string(), d.created_by, d.created_at.as_millis()],
            )?;
            imported.deliverables += 1;
        }
    }
    for r in &v.revisions {
        if present(tx, "revisions", &r.id.to_string())? {
            skipped.revisions += 1;
        } else {
            apply::insert_revision(tx, r)?;
            imported.revisions += 1;
        }
    }
    for t in &v.threads {
        let th = &t.record.thread;
        if present(tx, "threads", &th.id.to_string())? {
            skipped.threads += 1;
        } else {
            apply::upsert_thread(tx, th, t.record.events, &t.record.history)?;
            imported.threads += 1;
        }
        for c in &t.comments {
            if present(tx, "comments", &c.id.to_string())? {
                skipped.comments += 1;
            } else {
                apply::upsert_comment(tx, c, spec.id)?;
                imported.comments += 1;
            }
        }
    }
    for r in &v.reviews {
        if present(tx, "reviews", &r.id.to_string())? {
            skipped.reviews += 1;
        } else {
            apply::upsert_review(tx, r)?;
            imported.reviews += 1;
        }
    }
    if let Some(o) = &v.spec.acceptance_override {
        if read::acceptance_override(tx, spec.id)?.is_some() {
            skipped.acceptance_overrides += 1;
        } else {
            apply::upsert_override(tx, o)?;
            imported.acceptance_overrides += 1;
        }
    }
    Ok(())
}
