//! The export folder's format (version [`FORMAT_VERSION`]): its manifest, the JSON documents
//! that sit beside the Markdown (what `handoff import` reads back), where each part lives, and
//! the rule every path in a manifest must follow.
//!
//! ```text
//! manifest.json                      format, version, spec id, sha256 and size of every other file
//! README.md                          how to read the folder without Handoff
//! spec.md, spec.json                 the spec (sections, criteria, history); workspace, deliverables, override
//! ledger.md, ledger.json             the acceptance ledger
//! revisions/NNN/revision.{md,json}   each revision's note, author, times and manifest
//! revisions/NNN/files/…              each revision's files, whole
//! patches/NNN-MMM.patch              `git apply`-able patch from one revision to the next
//! threads/<id>.{md,json}             each thread with its comments and history
//! reviews/<id>.{md,json}             each published review
//! ```

use serde::{Deserialize, Serialize};

use handoff_core::protocol::ThreadRecord;
use handoff_core::*;

/// What `manifest.json`'s `format` says.
pub const FORMAT_NAME: &str = "handoff-export";

/// The newest format this build writes and reads. A change to what a folder holds (a new
/// part, a changed document shape) is a new version; import refuses a newer one by name.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's path inside the folder.
pub const MANIFEST: &str = "manifest.json";

/// `manifest.json`: every other file of the folder with its hash. Nothing in it depends on
/// when or where the export ran, so exporting the same store twice gives the same bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The format version that wrote the folder.
    pub version: u32,
    /// The exported spec.
    pub spec_id: SpecId,
    /// Its title, for a person opening the file.
    pub title: String,
    /// Every file but the manifest, sorted by path.
    pub files: Vec<ExportedFile>,
}

/// One file of an export folder.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Relative path with `/` separators.
    pub path: String,
    /// Lowercase hex sha256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// The first two fields of a manifest, read alone so that a newer format is refused by its
/// version, not by a shape this build cannot parse.
#[derive(Debug, Deserialize)]
pub(crate) struct ManifestHead {
    /// The format's name.
    pub format: String,
    /// Its version.
    pub version: u32,
}

/// `spec.json`: the spec and what hangs off it directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecDocument {
    /// The workspace the spec belongs to (its id and name as the exporting store had them).
    pub workspace: Workspace,
    /// The spec: sections, criteria in order, status, assignees.
    pub spec: Spec,
    /// Its deliverables, oldest first.
    pub deliverables: Vec<Deliverable>,
    /// An owner's acceptance by override, if any.
    pub acceptance_override: Option<AcceptanceOverride>,
}

/// `threads/<id>.json`: a thread with its state, history and comments in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadDocument {
    /// The thread, its event count and history, as sync records carry them.
    #[serde(flatten)]
    pub record: ThreadRecord,
    /// Its comments, oldest first (redacted ones too).
    pub comments: Vec<Comment>,
}

/// The folder of revision `number`.
pub fn revision_dir(number: u32) -> String {
    format!("revisions/{number:03}")
}

/// The patch from revision `from` to revision `to`.
pub fn patch_path(from: u32, to: u32) -> String {
    format!("patches/{from:03}-{to:03}.patch")
}

/// Checks that a manifest path stays inside the folder: relative, `/`-separated, with no
/// empty, `.` or `..` part. Returns how it escapes otherwise, in words for the refusal.
pub fn check_inside(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.starts_with('/') || path.starts_with('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err("is an absolute path");
    }
    if path.contains('\\') || path.contains('\0') {
        return Err("holds a backslash or NUL, which no export writes");
    }
    for part in path.split('/') {
        match part {
            ".." => return Err("climbs out of the folder with `..`"),
            "" | "." => return Err("has an empty or `.` part"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_named() {
        let table: [(&str, Result<(), &str>); 10] = [
            ("spec.json", Ok(())),
            ("revisions/001/files/src/a b.rs", Ok(())),
            ("../etc/passwd", Err("climbs out of the folder with `..`")),
            ("revisions/../../x", Err("climbs out of the folder with `..`")),
            ("/etc/passwd", Err("is an absolute path")),
            ("C:/Windows", Err("is an absolute path")),
            ("a\\..\\b", Err("holds a backslash or NUL, which no export writes")),
            ("a//b", Err("has an empty or `.` part")),
            ("./a", Err("has an empty or `.` part")),
            ("", Err("is empty")),
        ];
        for (path, expected) in table {
            assert_eq!(check_inside(path), expected, "{path:?}");
        }
    }

    #[test]
    fn part_paths_sort_by_revision_number() {
        assert_eq!(revision_dir(7), "revisions/007");
        assert_eq!(patch_path(1, 2), "patches/001-002.patch");
        assert!(revision_dir(9) < revision_dir(10));
    }
}
