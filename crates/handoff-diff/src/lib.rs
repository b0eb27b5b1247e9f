//! Pure text machinery: diffs, render model, anchors, merge, patches. No IO.
//!
//! Callers pass bytes and strings in; nothing here reads files, clocks or the network.
//!
//! Module map:
//! - [`lines`]: lines with their terminators (`\n`, `\r\n`, none); text vs binary.
//! - [`line_diff`]: the line diff ([`TextDiff`]): imara-diff Histogram + git's slider heuristic.
//! - [`words`]: word-level highlight segments inside a pair of changed lines.
//! - [`render`]: hunks with context, expandable gaps, unified and side-by-side rows (serde).
//! - [`revision`]: the diff of two revision manifests (adds, removes, renames, modes, binaries).
//! - [`anchor`]: carrying review-thread anchors forward to later revisions.
//! - [`merge`](mod@merge): 3-way merge of text into structured regions.
//! - [`patch`]: unified patches that `git apply` and `patch -p1` accept.
//!
//! A tour of the main entry points:
//!
//! ```
//! use std::collections::HashMap;
//! use handoff_diff::*;
//!
//! // A line diff, its render model (JSON for the UI), and a patch.
//! let diff = TextDiff::new("a\nb\nc\n", "a\nB\nc\n", &DiffOptions::default());
//! let render = diff.render(&RenderOptions { context: 3, word_highlights: true });
//! assert_eq!(render.stats, LineStats { added: 1, removed: 1 });
//! let _json = serde_json::to_string(&render);
//! let patch = text_patch(&diff, "a/f", "b/f", &PatchOptions::default());
//! assert_eq!(patch, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
//!
//! // A revision diff over manifests, with contents supplied by hash.
//! let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
//! let mut entry = |path: &str, bytes: &[u8]| {
//!     let f = ManifestFile::from_bytes(path, bytes, false);
//!     blobs.insert(f.sha256.clone(), bytes.to_vec());
//!     f
//! };
//! let old = vec![entry("spec.md", b"one\ntwo\n")];
//! let new = vec![entry("docs/spec.md", b"one\ntwo\n")];
//! let revision = diff_revisions(&old, &new, &&blobs, &RevisionDiffOptions::default())?;
//! assert_eq!(revision.files[0].status, FileStatus::Renamed);
//!
//! // A thread anchored on line 2 follows the rename.
//! let anchor = Anchor { path: "spec.md".into(), start: 2, end: 2, text: "two\n".into() };
//! let moved = carry_anchors(&[anchor], &revision, &&blobs)?;
//! assert_eq!((moved[0].path.as_str(), moved[0].state), ("docs/spec.md", AnchorState::Current));
//!
//! // A 3-way merge of a spec section.
//! let merged = merge("a\nb\nc\n", "A\nb\nc\n", "a\nb\nC\n");
//! assert_eq!(merged, MergeOutcome::Clean { text: "A\nb\nC\n".into() });
//! # Ok::<(), DiffError>(())
//! ```
//!
//! Architecture invariants:
//! - **Pure and total.** No IO, no clock, no global state; no panic on any input (arbitrary bytes,
//!   empty, 200 MB, one huge line). The only errors are [`DiffError`]s for caller mistakes.
//! - **Borrowing render model.** [`FileRender`] rows borrow the caller's texts (`Cow::Borrowed`),
//!   so a 100k-line diff copies no line text; it serializes to JSON as is.
//! - **Line numbers are 1-based** in everything a user sees (render, anchors, gaps); internal
//!   [`Change`] ranges are 0-based and end-exclusive.
//! - **Exact bytes in patches.** Whitespace options change what is shown, never what a patch
//!   says; a patch always reproduces the new text byte for byte.
//! - **Deterministic.** Same input, same output: revision diffs are sorted by path and rename
//!   pairing breaks ties by path, never by manifest order or hash-map order.

pub mod anchor;
pub mod line_diff;
pub mod lines;
pub mod merge;
pub mod patch;
pub mod render;
pub mod revision;
pub mod words;

mod error;
#[cfg(test)]
mod robustness;
#[cfg(test)]
mod test_support;

pub use anchor::{Anchor, AnchorPosition, AnchorState, LineSpan, carry_anchor, carry_anchors};
pub use error::DiffError;
pub use line_diff::{Change, DiffOptions, LineStats, TextDiff, WhitespaceMode};
pub use lines::{Content, Line, LineIndex, Terminator, classify};
pub use merge::{MarkerStyle, MergeOutcome, Region, merge, render_conflict_markers};
pub use patch::{PatchOptions, file_patch, git_blob_id, quote_path, revision_patch, text_patch};
pub use render::{Cell, Expand, FileRender, Gap, Hunk, RenderOptions, Row, RowKind, SideBySideHunk, SideBySideRow};
pub use revision::{
    ContentSource, FileChange, FileContent, FileStatus, FileVersion, ManifestFile, RevisionDiff, RevisionDiffOptions,
    diff_revisions, sha256_hex,
};
pub use words::{Segment, word_segments};
