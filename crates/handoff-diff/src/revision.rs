//! The diff between two revisions, given as manifests: what was added, removed, modified, renamed.
//!
//! Renames are found like git finds them: first files with the same hash (same basename first),
//! then, among what is left, text files whose contents are similar above a threshold. Similarity
//! is the share of line bytes two files have in common (a multiset of lines, order ignored),
//! over the larger file, so it is cheap enough to score thousands of candidate pairs.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::DiffError;
use crate::line_diff::{DiffOptions, LineStats, TextDiff, WhitespaceMode};
use crate::lines::{Content, LineIndex, classify};

/// One file of a revision's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Path relative to the deliverable's root, `/`-separated.
    pub path: String,
    /// Lowercase hex SHA-256 of the contents.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the executable bit is set.
    pub executable: bool,
}

impl ManifestFile {
    /// Describes `bytes` as a manifest entry, hashing them.
    pub fn from_bytes(path: impl Into<String>, bytes: &[u8], executable: bool) -> Self {
        ManifestFile { path: path.into(), sha256: sha256_hex(bytes), size: bytes.len() as u64, executable }
    }
}

/// Lowercase hex SHA-256 of `bytes`, the hash manifests use.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where file contents come from, by SHA-256; asked only for files whose contents matter.
///
/// Implemented for closures `Fn(&str) -> Option<&[u8]>` and for maps from hash to bytes.
pub trait ContentSource<'c> {
    /// The contents whose SHA-256 is `sha256`, if available.
    fn content(&self, sha256: &str) -> Option<&'c [u8]>;
}

impl<'c, F> ContentSource<'c> for F
where
    F: Fn(&str) -> Option<&'c [u8]>,
{
    fn content(&self, sha256: &str) -> Option<&'c [u8]> {
        self(sha256)
    }
}

impl<'c> ContentSource<'c> for &'c HashMap<String, Vec<u8>> {
    fn content(&self, sha256: &str) -> Option<&'c [u8]> {
        self.get(sha256).map(Vec::as_slice)
    }
}

impl<'c> ContentSource<'c> for &'c BTreeMap<String, Vec<u8>> {
    fn content(&self, sha256: &str) -> Option<&'c [u8]> {
        self.get(sha256).map(Vec::as_slice)
    }
}

/// Options for [`diff_revisions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RevisionDiffOptions {
    /// Whether to pair removed and added files as renames.
    pub detect_renames: bool,
    /// Minimum similarity (0..=100) for a rename of changed content; git's default is 50.
    pub rename_threshold: u8,
    /// Content-similar renames are skipped when removed × added candidates exceed this squared
    /// (git's `diff.renameLimit`); exact renames are always found.
    pub rename_limit: usize,
    /// Whitespace handling for line counts.
    pub whitespace: WhitespaceMode,
    /// Whether text files are line-diffed for their counts. A caller that diffs each text
    /// itself anyway (to render it) turns this off and fills the counts in from its own diff,
    /// so no file is diffed twice; `Text` counts are then 0 here.
    pub line_counts: bool,
}

impl Default for RevisionDiffOptions {
    fn default() -> Self {
        RevisionDiffOptions {
            detect_renames: true,
            rename_threshold: 50,
            rename_limit: 1000,
            whitespace: WhitespaceMode::Exact,
            line_counts: true,
        }
    }
}

/// A file's identity on one side of a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileVersion {
    /// Path in that revision.
    pub path: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Executable bit.
    pub executable: bool,
}

impl From<&ManifestFile> for FileVersion {
    fn from(f: &ManifestFile) -> Self {
        FileVersion { path: f.path.clone(), sha256: f.sha256.clone(), size: f.size, executable: f.executable }
    }
}

/// What happened to a file between the revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Only in the new revision.
    Added,
    /// Only in the old revision.
    Removed,
    /// Same path, different contents or executable bit.
    Modified,
    /// Moved to another path, with or without changes.
    Renamed,
}

/// What the contents of a changed file look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FileContent {
    /// Same bytes on both sides (a pure rename or a mode change).
    Unchanged,
    /// Text on every side that exists; line counts as `git diff --numstat` gives them.
    Text {
        /// Lines added.
        added: usize,
        /// Lines removed.
        removed: usize,
    },
    /// Binary on some side (NUL bytes or invalid UTF-8): compared by size and hash only.
    Binary,
    /// The content source had no bytes for a needed hash.
    Unavailable,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileChange {
    /// What happened.
    pub status: FileStatus,
    /// The old side (absent when added).
    pub old: Option<FileVersion>,
    /// The new side (absent when removed).
    pub new: Option<FileVersion>,
    /// For renames, how similar the contents are (100 = identical).
    pub similarity: Option<u8>,
    /// Content summary.
    pub content: FileContent,
}

impl FileChange {
    /// The path the change is listed under: the new path, or the old one for removals.
    pub fn path(&self) -> &str {
        self.new.as_ref().or(self.old.as_ref()).map_or("", |v| v.path.as_str())
    }

    /// Whether the executable bit differs between two existing sides.
    pub fn mode_changed(&self) -> bool {
        matches!((&self.old, &self.new), (Some(o), Some(n)) if o.executable != n.executable)
    }
}

/// The diff of two revisions: changed files sorted by [`FileChange::path`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct RevisionDiff {
    /// Changed files; unchanged ones are left out.
    pub files: Vec<FileChange>,
}

impl RevisionDiff {
    /// Total added and removed text lines over all files.
    pub fn stats(&self) -> LineStats {
        self.files.iter().fold(LineStats::default(), |acc, f| match f.content {
            FileContent::Text { added, removed } => LineStats { added: acc.added + added, removed: acc.removed + removed },
            _ => acc,
        })
    }
}

fn index_manifest<'m>(files: &'m [ManifestFile], side: &'static str) -> Result<BTreeMap<&'m str, &'m ManifestFile>, DiffError> {
    let mut map = BTreeMap::new();
    for f in files {
        if map.insert(f.path.as_str(), f).is_some() {
            return Err(DiffError::DuplicatePath { path: f.path.clone(), side });
        }
    }
    Ok(map)
}

/// Diffs two manifests; contents are asked for lazily, only for files that changed.
pub fn diff_revisions<'c>(
    old: &[ManifestFile],
    new: &[ManifestFile],
    contents: &impl ContentSource<'c>,
    options: &RevisionDiffOptions,
) -> Result<RevisionDiff, DiffError> {
    let old_map = index_manifest(old, "old")?;
    let new_map = index_manifest(new, "new")?;
    let mut files = Vec::new();
    let mut removed: Vec<&ManifestFile> = Vec::new();
    let mut added: Vec<&ManifestFile> = Vec::new();

    for (path, o) in &old_map {
        match new_map.get(path) {
            Some(n) if n.sha256 == o.sha256 && n.executable == o.executable => {}
            Some(n) => files.push(change(FileStatus::Modified, Some(o), Some(n), None, contents, options)),
            None => removed.push(o),
        }
    }
    for (path, n) in &new_map {
        if !old_map.contains_key(path) {
            added.push(n);
        }
    }

    let mut pairs: Vec<(&ManifestFile, &ManifestFile, u8)> = Vec::new();
    if options.detect_renames {
        pair_exact_renames(&mut removed, &mut added, &mut pairs);
        if removed.len().saturating_mul(added.len()) <= options.rename_limit.saturating_mul(options.rename_limit) {
            pair_similar_renames(&mut removed, &mut added, &mut pairs, contents, options.rename_threshold);
        }
    }
    for (o, n, score) in pairs {
        files.push(change(FileStatus::Renamed, Some(o), Some(n), Some(score), contents, options));
    }
    for o in removed {
        files.push(change(FileStatus::Removed, Some(o), None, None, contents, options));
    }
    for n in added {
        files.push(change(FileStatus::Added, None, Some(n), None, contents, options));
    }
    files.sort_by(|a, b| {
        (a.path(), a.old.as_ref().map(|v| v.path.as_str())).cmp(&(b.path(), b.old.as_ref().map(|v| v.path.as_str())))
    });
    Ok(RevisionDiff { files })
}

fn change<'c>(
    status: FileStatus,
    old: Option<&ManifestFile>,
    new: Option<&ManifestFile>,
    similarity: Option<u8>,
    contents: &impl ContentSource<'c>,
    options: &RevisionDiffOptions,
) -> FileChange {
    let content = match (old, new) {
        (Some(o), Some(n)) if o.sha256 == n.sha256 => FileContent::Unchanged,
        _ => content_summary(old, new, contents, options),
    };
    FileChange { status, old: old.map(FileVersion::from), new: new.map(FileVersion::from), similarity, content }
}

/// Loads and classifies one side; `Ok(None)` stands for a side that does not exist.
fn load<'c>(file: Option<&ManifestFile>, contents: &impl ContentSource<'c>) -> Result<Option<Content<'c>>, FileContent> {
    match file {
        None => Ok(None),
        Some(f) => contents.content(&f.sha256).map(|b| Some(classify(b))).ok_or(FileContent::Unavailable),
    }
}

fn content_summary<'c>(
    old: Option<&ManifestFile>,
    new: Option<&ManifestFile>,
    contents: &impl ContentSource<'c>,
    options: &RevisionDiffOptions,
) -> FileContent {
    let sides = load(old, contents).and_then(|o| load(new, contents).map(|n| (o, n)));
    match sides {
        Err(unavailable) => unavailable,
        Ok((Some(Content::Binary), _)) | Ok((_, Some(Content::Binary))) => FileContent::Binary,
        Ok(_) if !options.line_counts => FileContent::Text { added: 0, removed: 0 },
        Ok((o, n)) => {
            let text = |c: Option<Content<'c>>| match c {
                Some(Content::Text(t)) => t,
                _ => "",
            };
            let stats = TextDiff::new(text(o), text(n), &DiffOptions { whitespace: options.whitespace }).stats();
            FileContent::Text { added: stats.added, removed: stats.removed }
        }
    }
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Pairs removed and added files with the same non-empty contents; same basename wins, then
/// path order, so the result does not depend on manifest order.
fn pair_exact_renames<'m>(
    removed: &mut Vec<&'m ManifestFile>,
    added: &mut Vec<&'m ManifestFile>,
    pairs: &mut Vec<(&'m ManifestFile, &'m ManifestFile, u8)>,
) {
    // Empty files all share one hash; pairing them would invent renames (git skips them too).
    let mut by_hash: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, o) in removed.iter().enumerate() {
        if o.size > 0 {
            by_hash.entry(o.sha256.as_str()).or_default().push(i);
        }
    }
    let mut taken_old = vec![false; removed.len()];
    let mut taken_new = vec![false; added.len()];
    for same_basename in [true, false] {
        for (j, n) in added.iter().enumerate() {
            if taken_new[j] {
                continue;
            }
            let Some(candidates) = by_hash.get(n.sha256.as_str()) else { continue };
            let found = candidates
                .iter()
                .copied()
                .find(|&i| !taken_old[i] && (!same_basename || basename(&removed[i].path) == basename(&n.path)));
            if let Some(i) = found {
                taken_old[i] = true;
                taken_new[j] = true;
                pairs.push((removed[i], n, 100));
            }
        }
    }
    let mut k = 0;
    removed.retain(|_| {
        k += 1;
        !taken_old[k - 1]
    });
    let mut k = 0;
    added.retain(|_| {
        k += 1;
        !taken_new[k - 1]
    });
}

/// A text's lines as a multiset: sorted (line hash, bytes) with duplicates summed.
struct Fingerprint {
    lines: Vec<(u64, u64)>,
    total: u64,
}

impl Fingerprint {
    fn of(text: &str) -> Self {
        let index = LineIndex::new(text);
        let mut lines: Vec<(u64, u64)> = (0..index.len())
            .map(|i| {
                // Terminators are left out so a CRLF conversion still reads as the same file.
                let line = index.line(i);
                let mut h = DefaultHasher::new();
                line.text.hash(&mut h);
                (h.finish(), line.text.len() as u64 + 1)
            })
            .collect();
        lines.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(lines.len());
        for (h, w) in lines {
            match merged.last_mut() {
                Some((lh, lw)) if *lh == h => *lw += w,
                _ => merged.push((h, w)),
            }
        }
        let total = merged.iter().map(|&(_, w)| w).sum();
        Fingerprint { lines: merged, total }
    }

    /// Similarity 0..=100: bytes of lines in common over the larger file.
    fn similarity(&self, other: &Fingerprint) -> u8 {
        let max = self.total.max(other.total);
        if max == 0 {
            return 100;
        }
        let (mut i, mut j, mut common) = (0, 0, 0u64);
        while let (Some(&(ha, wa)), Some(&(hb, wb))) = (self.lines.get(i), other.lines.get(j)) {
            match ha.cmp(&hb) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    common += wa.min(wb);
                    i += 1;
                    j += 1;
                }
            }
        }
        (common.saturating_mul(100) / max).min(100) as u8
    }
}

fn pair_similar_renames<'m, 'c>(
    removed: &mut Vec<&'m ManifestFile>,
    added: &mut Vec<&'m ManifestFile>,
    pairs: &mut Vec<(&'m ManifestFile, &'m ManifestFile, u8)>,
    contents: &impl ContentSource<'c>,
    threshold: u8,
) {
    let text_of = |f: &ManifestFile| -> Option<Fingerprint> {
        match classify(contents.content(&f.sha256)?) {
            Content::Text(t) if !t.is_empty() => Some(Fingerprint::of(t)),
            _ => None,
        }
    };
    if removed.is_empty() || added.is_empty() {
        return;
    }
    let old_prints: Vec<Option<Fingerprint>> = removed.iter().map(|f| text_of(f)).collect();
    let new_prints: Vec<Option<Fingerprint>> = added.iter().map(|f| text_of(f)).collect();
    let mut scored: Vec<(u8, usize, usize)> = Vec::new();
    for (i, op) in old_prints.iter().enumerate() {
        let Some(op) = op else { continue };
        for (j, np) in new_prints.iter().enumerate() {
            let Some(np) = np else { continue };
            // The size ratio bounds the score, so most pairs are rejected without a merge-join.
            let (lo, hi) = (op.total.min(np.total), op.total.max(np.total));
            if lo.saturating_mul(100) < hi.saturating_mul(u64::from(threshold)) {
                continue;
            }
            let score = op.similarity(np);
            if score >= threshold {
                scored.push((score, i, j));
            }
        }
    }
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0).then_with(|| added[a.2].path.cmp(&added[b.2].path)).then_with(|| removed[a.1].path.cmp(&removed[b.1].path))
    });
    let mut taken_old = vec![false; removed.len()];
    let mut taken_new = vec![false; added.len()];
    for (score, i, j) in scored {
        if taken_old[i] || taken_new[j] {
            continue;
        }
        taken_old[i] = true;
        taken_new[j] = true;
        pairs.push((removed[i], added[j], score));
    }
    let mut k = 0;
    removed.retain(|_| {
        k += 1;
        !taken_old[k - 1]
    });
    let mut k = 0;
    added.retain(|_| {
        k += 1;
        !taken_new[k - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds both manifests and a content map from (path, contents, executable) triples.
    fn setup(
        old: &[(&str, &[u8], bool)],
        new: &[(&str, &[u8], bool)],
    ) -> (Vec<ManifestFile>, Vec<ManifestFile>, HashMap<String, Vec<u8>>) {
        let mut blobs = HashMap::new();
        let mut manifest = |files: &[(&str, &[u8], bool)]| -> Vec<ManifestFile> {
            files
                .iter()
                .map(|(p, b, x)| {
                    let f = ManifestFile::from_bytes(*p, b, *x);
                    blobs.insert(f.sha256.clone(), b.to_vec());
                    f
                })
                .collect()
        };
        let (o, n) = (manifest(old), manifest(new));
        (o, n, blobs)
    }

    /// One line per change: `status old->new similarity content mode`.
    fn summary(diff: &RevisionDiff) -> Vec<String> {
        diff.files
            .iter()
            .map(|f| {
                let side = |v: &Option<FileVersion>| v.as_ref().map_or("-".to_string(), |v| v.path.clone());
                let content = match f.content {
                    FileContent::Unchanged => "same".to_string(),
                    FileContent::Text { added, removed } => format!("+{added}-{removed}"),
                    FileContent::Binary => "binary".to_string(),
                    FileContent::Unavailable => "unavailable".to_string(),
                };
                let sim = f.similarity.map_or(String::new(), |s| format!(" {s}%"));
                let mode = if f.mode_changed() { " mode" } else { "" };
                format!("{:?} {}->{}{sim} {content}{mode}", f.status, side(&f.old), side(&f.new))
            })
            .collect()
    }

    fn run(old: &[(&str, &[u8], bool)], new: &[(&str, &[u8], bool)]) -> Vec<String> {
        let (o, n, blobs) = setup(old, new);
        let diff = diff_revisions(&o, &n, &&blobs, &RevisionDiffOptions::default()).expect("no duplicates");
        summary(&diff)
    }

    const TEN: &[u8] = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";
    const TEN_EDITED: &[u8] = b"one\ntwo\nthree\nfour\nFIVE\nsix\nseven\neight\nnine\nten\n";

    #[test]
    fn table_of_revision_diffs() {
        type Files = &'static [(&'static str, &'static [u8], bool)];
        let cases: &[(&str, Files, Files, &[&str])] = &[
            ("nothing changed", &[("a", b"x\n", false)], &[("a", b"x\n", false)], &[]),
            (
                "added and removed",
                &[("gone", b"bye\n", false)],
                &[("new", b"hi\nthere\n", false)],
                &["Removed gone->- +0-1", "Added -->new +2-0"],
            ),
            ("modified text", &[("a", b"x\ny\n", false)], &[("a", b"x\nz\n", false)], &["Modified a->a +1-1"]),
            (
                "exact rename",
                &[("docs/a.md", TEN, false)],
                &[("guide/b.md", TEN, false)],
                &["Renamed docs/a.md->guide/b.md 100% same"],
            ),
            ("similar rename", &[("a.md", TEN, false)], &[("b.md", TEN_EDITED, false)], &["Renamed a.md->b.md 89% +1-1"]),
            (
                "too different to be a rename",
                &[("a.md", TEN, false)],
                &[("b.md", b"entirely\nunrelated\n", false)],
                &["Removed a.md->- +0-10", "Added -->b.md +2-0"],
            ),
            (
                "executable bit only",
                &[("run.sh", b"echo\n", false)],
                &[("run.sh", b"echo\n", true)],
                &["Modified run.sh->run.sh same mode"],
            ),
            ("rename with mode change", &[("a.sh", TEN, false)], &[("b.sh", TEN, true)], &["Renamed a.sh->b.sh 100% same mode"]),
            (
                "binary modified",
                &[("img.png", b"\x89PNG\0\x01", false)],
                &[("img.png", b"\x89PNG\0\x02", false)],
                &["Modified img.png->img.png binary"],
            ),
            ("invalid utf-8 is binary", &[("f", b"ok\n", false)], &[("f", b"\xff\xfe\n", false)], &["Modified f->f binary"]),
            (
                "binary exact rename",
                &[("a.bin", b"\0\x01\x02", false)],
                &[("b.bin", b"\0\x01\x02", false)],
                &["Renamed a.bin->b.bin 100% same"],
            ),
            (
                "empty files are not renames",
                &[("a", b"", false)],
                &[("b", b"", false)],
                &["Removed a->- +0-0", "Added -->b +0-0"],
            ),
            ("empty file gains content", &[("a", b"", false)], &[("a", b"x", false)], &["Modified a->a +1-0"]),
            (
                "same basename wins among equal hashes",
                &[("x/readme.md", TEN, false), ("y/notes.md", TEN, false)],
                &[("z/notes.md", TEN, false), ("z/readme.md", TEN, false)],
                &["Renamed y/notes.md->z/notes.md 100% same", "Renamed x/readme.md->z/readme.md 100% same"],
            ),
            ("crlf conversion", &[("a", b"x\ny\n", false)], &[("a", b"x\r\ny\r\n", false)], &["Modified a->a +2-2"]),
        ];
        for (name, old, new, expected) in cases {
            assert_eq!(run(old, new), *expected, "{name}");
        }
    }

    #[test]
    fn order_of_manifests_does_not_matter() {
        let old = [("b", TEN, false), ("a", b"1\n" as &[u8], false), ("c", b"gone\n", false)];
        let new = [("d", TEN_EDITED, false), ("a", b"2\n" as &[u8], false)];
        let mut old_rev = old;
        old_rev.reverse();
        let mut new_rev = new;
        new_rev.reverse();
        assert_eq!(run(&old, &new), run(&old_rev, &new_rev));
    }

    #[test]
    fn duplicate_paths_are_an_error() {
        let (o, n, blobs) = setup(&[("a", b"1", false), ("a", b"2", false)], &[]);
        let err = diff_revisions(&o, &n, &&blobs, &RevisionDiffOptions::default());
        assert_eq!(err, Err(DiffError::DuplicatePath { path: "a".into(), side: "old" }));
    }

    #[test]
    fn missing_contents_are_reported_not_refused() {
        let (o, n, _) = setup(&[("a", b"1\n", false)], &[("a", b"2\n", false)]);
        let nothing = |_: &str| -> Option<&[u8]> { None };
        let diff = diff_revisions(&o, &n, &nothing, &RevisionDiffOptions::default()).expect("valid");
        assert_eq!(summary(&diff), vec!["Modified a->a unavailable"]);
    }

    #[test]
    fn whitespace_mode_applies_to_counts() {
        let (o, n, blobs) = setup(&[("a", b"x = 1\n", false)], &[("a", b"x  =  1\n", false)]);
        let opts = RevisionDiffOptions { whitespace: WhitespaceMode::IgnoreAll, ..Default::default() };
        let diff = diff_revisions(&o, &n, &&blobs, &opts).expect("valid");
        assert_eq!(summary(&diff), vec!["Modified a->a +0-0"]);
    }

    #[test]
    fn without_line_counts_texts_are_classified_but_not_counted() {
        let (o, n, blobs) = setup(&[("a", b"1\n", false), ("b", b"\0", false)], &[("a", b"2\n", false), ("b", b"\0\x01", false)]);
        let opts = RevisionDiffOptions { line_counts: false, ..Default::default() };
        let diff = diff_revisions(&o, &n, &&blobs, &opts).expect("valid");
        assert_eq!(summary(&diff), vec!["Modified a->a +0-0", "Modified b->b binary"]);
    }
}
