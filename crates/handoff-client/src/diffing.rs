//! Loading what to compare: folders on disk, files, and delivered revisions from the blob
//! store, as inputs for `handoff-diff` (which does no IO itself); and a tree diff rendered
//! the two ways the CLI prints it (the render model per file, a git patch).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use handoff_diff::{
    Content, DiffOptions, FileChange, FileContent, FileRender, FileVersion, ManifestFile, PatchOptions, RenderOptions,
    RevisionDiff, RevisionDiffOptions, TextDiff, WhitespaceMode, classify, diff_revisions, revision_patch,
};
use serde::Serialize;

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

/// One file of a tree diff with its render model (`None` for binary and unchanged files).
#[derive(Serialize)]
pub struct RenderedFile<'a> {
    /// What happened to the file.
    pub change: &'a FileChange,
    /// Hunks, rows and word highlights.
    pub render: Option<FileRender<'a>>,
}

/// Two trees and their diff, ready to be rendered.
pub struct TreeDiff<'a> {
    old: &'a Tree,
    new: &'a Tree,
    /// The file-level diff.
    pub diff: RevisionDiff,
    whitespace: WhitespaceMode,
}

impl<'a> TreeDiff<'a> {
    /// Diffs `old` against `new`, following renames.
    pub fn new(old: &'a Tree, new: &'a Tree, whitespace: WhitespaceMode) -> Result<Self> {
        let diff = diff_trees(old, new, &RevisionDiffOptions { whitespace, ..Default::default() })?;
        Ok(Self { old, new, diff, whitespace })
    }

    fn contents(&self, sha: &str) -> Option<&'a [u8]> {
        self.old.contents.get(sha).or_else(|| self.new.contents.get(sha)).map(Vec::as_slice)
    }

    /// Every changed file with its render model (`context` lines around each change).
    pub fn rendered(&self, context: usize) -> Vec<RenderedFile<'_>> {
        let text = |v: &Option<FileVersion>| -> Option<&'a str> {
            match v {
                Some(v) => match classify(self.contents(&v.sha256)?) {
                    Content::Text(t) => Some(t),
                    Content::Binary => None,
                },
                None => Some(""),
            }
        };
        self.diff
            .files
            .iter()
            .map(|f| {
                let render = match (f.content, text(&f.old), text(&f.new)) {
                    (FileContent::Text { .. }, Some(o), Some(n)) => Some(
                        TextDiff::new(o, n, &DiffOptions { whitespace: self.whitespace })
                            .render(&RenderOptions { context, word_highlights: true }),
                    ),
                    _ => None,
                };
                RenderedFile { change: f, render }
            })
            .collect()
    }

    /// A patch that `git apply` and `patch -p1` accept.
    pub fn patch(&self, context: usize) -> Result<String> {
        revision_patch(&self.diff, &|sha: &str| self.contents(sha), &PatchOptions { context, ..PatchOptions::default() })
            .map_err(|e| ClientError::Corrupt(e.to_string()))
    }
}
