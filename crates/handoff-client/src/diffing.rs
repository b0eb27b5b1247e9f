//! Loading what to compare: folders on disk, files, and delivered revisions from the blob
//! store, as inputs for `handoff-diff` (which does no IO itself).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use handoff_diff::{ManifestFile, RevisionDiff, RevisionDiffOptions, diff_revisions};

use crate::deliver;
use crate::error::{ClientError, Result};

/// A set of files with their contents, keyed by sha256: one side of a revision diff.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// The manifest.
    pub files: Vec<ManifestFile>,
    /// Contents by sha256.
    pub contents: HashMap<String, Vec<u8>>,
}

impl Tree {
    /// Adds a file.
    pub fn insert(&mut self, path: String, bytes: Vec<u8>, executable: bool) {
        let file = ManifestFile::from_bytes(path, &bytes, executable);
        self.contents.entry(file.sha256.clone()).or_insert(bytes);
        self.files.push(file);
    }
}

/// Reads a folder the way a delivery would see it (`.handoffignore` honoured, `.git/`
/// skipped).
pub fn load_folder(dir: &Path) -> Result<Tree> {
    let mut tree = Tree::default();
    for f in deliver::walk(dir)? {
        let bytes = fs::read(&f.source).map_err(ClientError::io("cannot read", &f.source))?;
        tree.insert(f.path, bytes, f.executable);
    }
    Ok(tree)
}

/// Diffs two trees.
pub fn diff_trees(old: &Tree, new: &Tree, options: &RevisionDiffOptions) -> Result<RevisionDiff> {
    let merged: HashMap<&str, &[u8]> =
        old.contents.iter().chain(new.contents.iter()).map(|(k, v)| (k.as_str(), v.as_slice())).collect();
    let source = |sha: &str| merged.get(sha).copied();
    diff_revisions(&old.files, &new.files, &source, options).map_err(|e| ClientError::Corrupt(e.to_string()))
}
