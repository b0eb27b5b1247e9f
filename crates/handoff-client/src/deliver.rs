//! Turning a folder into a revision manifest: walk it, honour `.handoffignore`, skip `.git/`,
//! refuse what a revision cannot carry, hash every file into the blob store.

use ignore::WalkBuilder;
use std::fs;
use std::path::{Path, PathBuf};

use handoff_core::{ManifestEntry, validate};

use crate::blobs::BlobStore;
use crate::error::{ClientError, Result};

/// The ignore file a contractor puts in a delivered folder (gitignore syntax).
pub const IGNORE_FILE: &str = ".handoffignore";

fn refuse(path: &Path, reason: impl Into<String>) -> ClientError {
    ClientError::Deliver { path: path.to_owned(), reason: reason.into() }
}

/// A file found in a folder, named as it would be in a revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderFile {
    /// Normalized relative path.
    pub path: String,
    /// Where it is on disk.
    pub source: PathBuf,
    /// Size in bytes when walked.
    pub size: u64,
    /// Whether the executable bit is set.
    pub executable: bool,
}

/// Walks `root` and stores every file in `blobs`, returning the manifest sorted by path.
pub fn collect(root: &Path, blobs: &BlobStore) -> Result<Vec<ManifestEntry>> {
    collect_with_progress(root, blobs, &mut |_, _| {})
}

/// [`collect`], calling `progress(stored, total)` before the first file and after each one,
/// so a screen can show how far a large folder has got.
pub fn collect_with_progress(
    root: &Path,
    blobs: &BlobStore,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<ManifestEntry>> {
    let files = walk(root)?;
    let total = files.len();
    progress(0, total);
    let mut manifest = Vec::with_capacity(total);
    for f in files {
        // Refuse an oversized file before copying gigabytes into the blob store.
        validate::file_size(&f.path, f.size)?;
        let stored = blobs.put_file(&f.source)?;
        validate::file_size(&f.path, stored.size)?;
        manifest.push(ManifestEntry { path: f.path, sha256: stored.sha256, size: stored.size, executable: f.executable });
        progress(manifest.len(), total);
    }
    manifest.sort();
    validate::manifest(&manifest)?;
    Ok(manifest)
}

/// Lists the files of `root` that a revision would carry, sorted by path.
///
/// Symbolic links are followed when they stay inside the folder, and refused when they
/// point outside it (delivering `/etc/passwd` by accident must not be possible) or form a
/// loop. Anything that is not a regular file (a FIFO, a socket, a device) is refused with its
/// path, as is a name that is not UTF-8: a revision must mean the same on every machine.
pub fn walk(root: &Path) -> Result<Vec<FolderFile>> {
    let meta = fs::metadata(root).map_err(ClientError::io("cannot read", root))?;
    if !meta.is_dir() {
        return Err(refuse(root, "it is not a folder"));
    }
    let canonical_root = fs::canonicalize(root).map_err(ClientError::io("cannot read", root))?;
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(true)
        .add_custom_ignore_filename(IGNORE_FILE)
        .filter_entry(|e| !e.file_name().eq_ignore_ascii_case(".git"))
        .sort_by_file_path(|a, b| a.cmp(b))
        .build();
    let mut files = Vec::new();
    for entry in walker {
        let entry = entry.map_err(|e| walk_error(root, e))?;
        let path = entry.path();
        let Some(ft) = entry.file_type() else { continue };
        if entry.path_is_symlink() {
            let target = fs::canonicalize(path).map_err(ClientError::io("cannot follow the link", path))?;
            if !target.starts_with(&canonical_root) {
                return Err(refuse(path, format!("it is a link to {}, outside the delivered folder", target.display())));
            }
        }
        if ft.is_dir() {
            continue;
        }
        if !ft.is_file() {
            return Err(refuse(path, format!("it is not a regular file (a FIFO, socket or device); add it to {IGNORE_FILE}")));
        }
        if files.len() >= validate::limits::FILES_PER_REVISION {
            return Err(refuse(
                root,
                format!("it holds more than {} files, the most a revision holds", validate::limits::FILES_PER_REVISION),
            ));
        }
        let meta = fs::metadata(path).map_err(ClientError::io("cannot read", path))?;
        files.push(FolderFile {
            path: relative_name(root, path)?,
            source: path.to_owned(),
            size: meta.len(),
            executable: is_executable(&meta),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn relative_name(root: &Path, path: &Path) -> Result<String> {
    let rel: PathBuf = path.strip_prefix(root).map(Path::to_owned).unwrap_or_else(|_| path.to_owned());
    let Some(text) = rel.to_str() else {
        return Err(refuse(path, "its name is not valid UTF-8; rename it or add it to .handoffignore"));
    };
    Ok(validate::normalize_path(text)?)
}

fn walk_error(root: &Path, e: ignore::Error) -> ClientError {
    let path = error_path(&e).unwrap_or_else(|| root.to_owned());
    if is_loop(&e) {
        return refuse(&path, "it is a symbolic link that loops back to one of its own parent folders");
    }
    match e.into_io_error() {
        Some(io) => ClientError::Io { action: "cannot read", path, source: io },
        None => refuse(&path, "it could not be read"),
    }
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        ignore::Error::Partial(errs) => errs.iter().any(is_loop),
        _ => false,
    }
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}
