//! The diff viewer's model: what the app shows when a reviewer compares two revisions.
//!
//! The UI never receives a whole render model. It asks for a [`DiffSummary`] (the file list
//! and totals), then for one file's [`FileView`] (row count and where its hunks start) and
//! for windows of [`DiffRow`]s as it scrolls. Everything is computed here, once per pair of
//! revisions and file, and kept in a small bounded cache ([`DiffCache`]), so scrolling a
//! 100k-line file neither recomputes the diff nor ships it whole.
//!
//! A file's rows, in order: for each hunk, the context revealed from the top of the gap before
//! it, a `hunk` row (its `@@` header and how many lines stay hidden above it), the context
//! revealed from the bottom of that gap, then the hunk's rows; after the last hunk, the
//! context revealed from the last gap and a `gap` row while some of it is still hidden.
//! Which parts of which gaps are revealed is sent with each request ([`GapExpansion`]), so the
//! cache holds no per-screen state.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use handoff_core::{ManifestEntry, SpecId};
use handoff_diff::{
    Content, DiffOptions, FileChange, FileContent, FileStatus, Gap, Line, ManifestFile, RenderOptions, RevisionDiffOptions, Row,
    RowKind, SideBySideRow, TextDiff, WhitespaceMode, classify, diff_revisions, word_segments,
};
use serde::{Deserialize, Serialize};

use crate::Client;
use crate::error::{ClientError, Result};

/// Pairs of revisions kept computed at once (the one on screen, and a couple to go back to).
const PAIRS_KEPT: usize = 3;
/// Files of one pair whose row models are kept (a 100k-line file's model is a few MB).
const FILES_KEPT: usize = 4;
/// Most rows one window request answers, whatever it asks for.
pub const MAX_WINDOW_ROWS: usize = 2000;
/// Longest line text shipped in a row; the rest is cut and the cell marked `truncated`.
pub const MAX_CELL_BYTES: usize = 20_000;
/// Context lines around each change, as git shows them.
const CONTEXT: usize = 3;

/// Which two revisions of a spec to compare, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffPair {
    /// The spec.
    pub spec_id: SpecId,
    /// The old revision's number; 0 stands for "nothing yet", so revision 1 shows as all added.
    pub from: u32,
    /// The new revision's number.
    pub to: u32,
    /// Whether lines that differ only in white space count as unchanged (`git diff -w`).
    pub ignore_whitespace: bool,
}

/// The pair the viewer opens by default, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DefaultDiff {
    /// Old revision (0: nothing, when only one revision exists).
    pub from: u32,
    /// New revision: the newest.
    pub to: u32,
    /// True when `from` is the revision this reviewer last reviewed.
    pub since_my_review: bool,
}

/// What happened to a file between the two revisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DiffFileStatus {
    /// Only in the new revision.
    Added,
    /// Only in the old revision.
    Removed,
    /// Same path, other contents or executable bit.
    Modified,
    /// Moved to another path, with or without changes.
    Renamed,
}

/// How a changed file's contents are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DiffFileContent {
    /// Line by line.
    Text,
    /// By size and hash only: a NUL byte or invalid UTF-8 on some side, never shown as text.
    Binary,
    /// Same bytes on both sides (a pure rename or a mode change).
    Unchanged,
}

/// One side of a changed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffFileSide {
    /// Path in that revision.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Executable bit.
    pub executable: bool,
}

/// One line of the viewer's file list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffFile {
    /// The path it is listed under: the new path, or the old one when removed.
    pub path: String,
    /// Added, removed, modified or renamed.
    pub status: DiffFileStatus,
    /// For renames, how similar the contents are (100 = identical).
    pub similarity: Option<u8>,
    /// Text, binary or unchanged contents.
    pub content: DiffFileContent,
    /// Lines added (0 unless text).
    pub added: u32,
    /// Lines removed (0 unless text).
    pub removed: u32,
    /// Whether the executable bit changed.
    pub mode_changed: bool,
    /// The old side, absent when added.
    pub old: Option<DiffFileSide>,
    /// The new side, absent when removed.
    pub new: Option<DiffFileSide>,
}

/// Totals over a diff's files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffTotals {
    /// Files changed.
    pub files: u32,
    /// Lines added over all text files.
    pub added: u32,
    /// Lines removed over all text files.
    pub removed: u32,
    /// Binary files among them.
    pub binary: u32,
}

/// The file list of a pair of revisions, sorted by path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffSummary {
    /// What was compared.
    pub pair: DiffPair,
    /// Changed files; a file is addressed by its index here in later requests.
    pub files: Vec<DiffFile>,
    /// Totals.
    pub totals: DiffTotals,
}

/// Unified (one column) or side by side (old left, new right).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DiffLayout {
    /// Removed lines above added lines, one column.
    Unified,
    /// Removed and added lines paired in two columns.
    Split,
}

/// Which side of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum FileSide {
    /// The old revision's file.
    Old,
    /// The new revision's file.
    New,
}

/// How much of one gap of hidden unchanged lines is revealed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GapExpansion {
    /// The gap: `i` is hidden before hunk `i`; the last one follows the last hunk.
    pub gap: u32,
    /// Lines revealed from the top of the gap (just below the hunk above).
    pub top: u32,
    /// Lines revealed from the bottom of the gap (just above the hunk below).
    pub bottom: u32,
}

/// One file's shape in a layout: enough to size the scroll area and jump between hunks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FileView {
    /// Rows in this layout with these expansions.
    pub total_rows: u32,
    /// The row index of each hunk's header row, in order.
    pub hunk_rows: Vec<u32>,
    /// Lines of the old side.
    pub old_lines: u32,
    /// Lines of the new side.
    pub new_lines: u32,
    /// Each gap's size (hidden unchanged lines before hunk `i`; the last after the last hunk).
    pub gaps: Vec<u32>,
}

/// What a row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DiffRowKind {
    /// Unchanged: both cells.
    Context,
    /// Only the old cell.
    Removed,
    /// Only the new cell.
    Added,
    /// Side by side only: a removed line beside the added line that replaced it.
    Changed,
    /// A hunk's header; `marker` says how much is hidden above it.
    Hunk,
    /// Hidden unchanged lines after the last hunk.
    Gap,
}

/// One line of one side, as shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffCell {
    /// 1-based line number.
    pub line: u32,
    /// The text without its terminator (cut at [`MAX_CELL_BYTES`] when `truncated`).
    pub text: String,
    /// The file's last line, with no newline after it.
    pub no_newline: bool,
    /// The text was longer than what is shipped.
    pub truncated: bool,
    /// Word-level changes inside the line as `[start, end)` in UTF-16 code units (what
    /// JavaScript strings index by); empty when the whole line is the change or it is context.
    pub emphasis: Vec<(u32, u32)>,
}

/// A hunk header or a hidden-lines marker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffMarker {
    /// The gap it expands.
    pub gap: u32,
    /// Unchanged lines of that gap still hidden.
    pub hidden: u32,
    /// `@@ -a,b +c,d @@` for hunk rows.
    pub header: Option<String>,
    /// Index of the hunk, for hunk rows.
    pub hunk: Option<u32>,
}

/// One row of the viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiffRow {
    /// What the row shows.
    pub kind: DiffRowKind,
    /// The old line, if the row has one.
    pub old: Option<DiffCell>,
    /// The new line, if the row has one.
    pub new: Option<DiffCell>,
    /// For hunk and gap rows.
    pub marker: Option<DiffMarker>,
}

/// A text with the offset of each line start; the text is the pair's read contents, shared
/// rather than copied (a 4 MB file is kept once, not once per model).
#[derive(Debug, Default)]
struct Text {
    text: Arc<String>,
    /// Start of each line plus `text.len()` at the end.
    starts: Vec<usize>,
}

impl Text {
    fn new(text: Arc<String>) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(i, _)| i + 1));
        if starts.last().is_some_and(|&last| last < text.len()) {
            starts.push(text.len());
        }
        Text { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i` (0-based); out of range is an empty line rather than a panic.
    fn line(&self, i: usize) -> Line<'_> {
        let raw = match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&s), Some(&e)) => self.text.get(s..e).unwrap_or(""),
            _ => "",
        };
        Line::from_raw(raw)
    }
}

/// A cell of a precomputed row: a 0-based line, and the line it is paired with on the other
/// side when the two are a replacement (their word emphasis is computed when a window is
/// asked for, so opening a 100k-line file does not word-diff every changed line first).
#[derive(Debug, Clone, Copy)]
struct CellRef {
    line: u32,
    partner: Option<u32>,
}

/// A precomputed row of a hunk, unified or side by side.
#[derive(Debug, Clone)]
struct RowRef {
    kind: DiffRowKind,
    old: Option<CellRef>,
    new: Option<CellRef>,
}

#[derive(Debug)]
struct HunkModel {
    header: String,
    unified: Vec<RowRef>,
    split: Vec<RowRef>,
}

/// One file's computed diff, owning its texts.
#[derive(Debug, Default)]
struct FileModel {
    old: Text,
    new: Text,
    hunks: Vec<HunkModel>,
    gaps: Vec<Gap>,
}

/// A run of rows in a file's layout.
#[derive(Debug, Clone, Copy)]
enum Segment {
    /// `len` unchanged lines from 0-based `old`/`new`.
    Context { old: usize, new: usize, len: usize },
    /// A hunk header (when `hunk` is set) or a trailing hidden-lines marker: one row.
    Marker { gap: usize, hidden: usize, hunk: Option<usize> },
    /// The rows of hunk `i`.
    Hunk(usize),
}

/// UTF-16 `[start, end)` ranges of the emphasized segments of a line.
fn emphasis(segments: &[handoff_diff::Segment<'_>]) -> Vec<(u32, u32)> {
    let mut at = 0u32;
    let mut out = Vec::new();
    for s in segments {
        let len = s.text.encode_utf16().count() as u32;
        if s.emphasized && len > 0 {
            out.push((at, at + len));
        }
        at += len;
    }
    out
}

fn cell_ref(cell: &Option<handoff_diff::Cell<'_>>, partners: &HashMap<u32, u32>) -> Option<CellRef> {
    cell.as_ref().map(|c| {
        let line = c.line.saturating_sub(1) as u32;
        CellRef { line, partner: partners.get(&line).copied() }
    })
}

impl FileModel {
    /// Diffs two texts and keeps the rows of both layouts, borrowing nothing.
    fn build(old: Arc<String>, new: Arc<String>, whitespace: WhitespaceMode) -> Self {
        let (hunks, gaps) = {
            let diff = TextDiff::new(&old, &new, &DiffOptions { whitespace });
            let render = diff.render(&RenderOptions { context: CONTEXT, word_highlights: false });
            let hunks = render
                .hunks
                .iter()
                .map(|h| {
                    let side_by_side = h.side_by_side();
                    // Replacement pairs, old line → new line and back (0-based).
                    let (mut old_partner, mut new_partner) = (HashMap::new(), HashMap::new());
                    for r in &side_by_side.rows {
                        if let (false, Some(o), Some(n)) = (r.context, &r.old, &r.new) {
                            let (o, n) = (o.line.saturating_sub(1) as u32, n.line.saturating_sub(1) as u32);
                            old_partner.insert(o, n);
                            new_partner.insert(n, o);
                        }
                    }
                    let unified = h
                        .rows
                        .iter()
                        .map(|r: &Row<'_>| RowRef {
                            kind: match r.kind {
                                RowKind::Context => DiffRowKind::Context,
                                RowKind::Removed => DiffRowKind::Removed,
                                RowKind::Added => DiffRowKind::Added,
                            },
                            old: cell_ref(&r.old, &old_partner),
                            new: cell_ref(&r.new, &new_partner),
                        })
                        .collect();
                    let split = side_by_side
                        .rows
                        .iter()
                        .map(|r: &SideBySideRow<'_>| RowRef {
                            kind: match (r.context, &r.old, &r.new) {
                                (true, _, _) => DiffRowKind::Context,
                                (false, Some(_), Some(_)) => DiffRowKind::Changed,
                                (false, Some(_), None) => DiffRowKind::Removed,
                                (false, None, _) => DiffRowKind::Added,
                            },
                            old: cell_ref(&r.old, &old_partner),
                            new: cell_ref(&r.new, &new_partner),
                        })
                        .collect();
                    HunkModel {
                        header: format!("@@ -{},{} +{},{} @@", h.old_start, h.old_len, h.new_start, h.new_len),
                        unified,
                        split,
                    }
                })
                .collect();
            (hunks, render.gaps)
        };
        FileModel { old: Text::new(old), new: Text::new(new), hunks, gaps }
    }

    /// Lines added and removed, as `git diff --numstat` counts them.
    fn counts(&self) -> (usize, usize) {
        let rows = self.hunks.iter().flat_map(|h| &h.unified);
        rows.fold((0, 0), |(a, r), row| match row.kind {
            DiffRowKind::Added => (a + 1, r),
            DiffRowKind::Removed => (a, r + 1),
            _ => (a, r),
        })
    }

    fn rows(&self, hunk: usize, layout: DiffLayout) -> &[RowRef] {
        match (self.hunks.get(hunk), layout) {
            (Some(h), DiffLayout::Unified) => &h.unified,
            (Some(h), DiffLayout::Split) => &h.split,
            (None, _) => &[],
        }
    }

    /// The file's rows as runs, given which parts of which gaps are revealed.
    fn segments(&self, expanded: &[GapExpansion]) -> Vec<Segment> {
        let mut reveal: HashMap<usize, (usize, usize)> = HashMap::new();
        for e in expanded {
            let r = reveal.entry(e.gap as usize).or_default();
            r.0 = r.0.max(e.top as usize);
            r.1 = r.1.max(e.bottom as usize);
        }
        let mut out = Vec::with_capacity(self.gaps.len() * 4);
        for (i, gap) in self.gaps.iter().enumerate() {
            let (old, new) = (gap.old_start.saturating_sub(1), gap.new_start.saturating_sub(1));
            // Clamped to the texts, so a made-up expansion shows fewer rows, never a panic.
            let len = gap.len.min(self.old.len().saturating_sub(old)).min(self.new.len().saturating_sub(new));
            let (top, bottom) = reveal.get(&i).copied().unwrap_or_default();
            let top = top.min(len);
            let bottom = bottom.min(len - top);
            let hidden = len - top - bottom;
            let is_hunk = i < self.hunks.len();
            if top > 0 {
                out.push(Segment::Context { old, new, len: top });
            }
            if is_hunk || hidden > 0 {
                out.push(Segment::Marker { gap: i, hidden, hunk: is_hunk.then_some(i) });
            }
            if bottom > 0 {
                let skip = len - bottom;
                out.push(Segment::Context { old: old + skip, new: new + skip, len: bottom });
            }
            if is_hunk {
                out.push(Segment::Hunk(i));
            }
        }
        out
    }

    fn segment_len(&self, s: &Segment, layout: DiffLayout) -> usize {
        match s {
            Segment::Context { len, .. } => *len,
            Segment::Marker { .. } => 1,
            Segment::Hunk(i) => self.rows(*i, layout).len(),
        }
    }

    fn view(&self, layout: DiffLayout, expanded: &[GapExpansion]) -> FileView {
        let mut total = 0usize;
        let mut hunk_rows = Vec::with_capacity(self.hunks.len());
        for s in self.segments(expanded) {
            if let Segment::Marker { hunk: Some(_), .. } = s {
                hunk_rows.push(total as u32);
            }
            total += self.segment_len(&s, layout);
        }
        FileView {
            total_rows: total as u32,
            hunk_rows,
            old_lines: self.old.len() as u32,
            new_lines: self.new.len() as u32,
            gaps: self.gaps.iter().map(|g| g.len as u32).collect(),
        }
    }

    /// Word emphasis of a cell that replaces (or is replaced by) its partner line.
    fn emphasis(&self, side: FileSide, cell: CellRef) -> Vec<(u32, u32)> {
        let Some(partner) = cell.partner else { return Vec::new() };
        let (old, new) = match side {
            FileSide::Old => (self.old.line(cell.line as usize), self.new.line(partner as usize)),
            FileSide::New => (self.old.line(partner as usize), self.new.line(cell.line as usize)),
        };
        match word_segments(old.text, new.text) {
            Some((o, n)) => emphasis(if side == FileSide::Old { &o } else { &n }),
            None => Vec::new(),
        }
    }

    fn cell(text: &Text, line: usize, emphasis: &[(u32, u32)]) -> DiffCell {
        let l = text.line(line);
        let (shown, truncated) = if l.text.len() > MAX_CELL_BYTES {
            let mut end = MAX_CELL_BYTES;
            while !l.text.is_char_boundary(end) {
                end -= 1;
            }
            (&l.text[..end], true)
        } else {
            (l.text, false)
        };
        let limit = if truncated { shown.encode_utf16().count() as u32 } else { u32::MAX };
        DiffCell {
            line: line as u32 + 1,
            text: shown.to_owned(),
            no_newline: l.terminator == handoff_diff::Terminator::None,
            truncated,
            emphasis: emphasis.iter().filter(|r| r.0 < limit).map(|&(s, e)| (s, e.min(limit))).collect(),
        }
    }

    fn row_at(&self, s: &Segment, k: usize, layout: DiffLayout) -> Option<DiffRow> {
        Some(match *s {
            Segment::Context { old, new, .. } => DiffRow {
                kind: DiffRowKind::Context,
                old: Some(Self::cell(&self.old, old + k, &[])),
                new: Some(Self::cell(&self.new, new + k, &[])),
                marker: None,
            },
            Segment::Marker { gap, hidden, hunk } => DiffRow {
                kind: if hunk.is_some() { DiffRowKind::Hunk } else { DiffRowKind::Gap },
                old: None,
                new: None,
                marker: Some(DiffMarker {
                    gap: gap as u32,
                    hidden: hidden as u32,
                    header: hunk.and_then(|h| self.hunks.get(h)).map(|h| h.header.clone()),
                    hunk: hunk.map(|h| h as u32),
                }),
            },
            Segment::Hunk(i) => {
                let r = self.rows(i, layout).get(k)?;
                DiffRow {
                    kind: r.kind,
                    old: r.old.map(|c| Self::cell(&self.old, c.line as usize, &self.emphasis(FileSide::Old, c))),
                    new: r.new.map(|c| Self::cell(&self.new, c.line as usize, &self.emphasis(FileSide::New, c))),
                    marker: None,
                }
            }
        })
    }

    /// The row that shows 1-based `line` of `side`, or `None` when it is in hidden context.
    fn row_of(&self, layout: DiffLayout, expanded: &[GapExpansion], side: FileSide, line: u32) -> Option<usize> {
        let want = (line as usize).checked_sub(1)?;
        let mut at = 0usize;
        for s in self.segments(expanded) {
            match s {
                Segment::Context { old, new, len } => {
                    let first = if side == FileSide::Old { old } else { new };
                    if (first..first + len).contains(&want) {
                        return Some(at + want - first);
                    }
                }
                Segment::Marker { .. } => {}
                Segment::Hunk(i) => {
                    let cell = |r: &RowRef| if side == FileSide::Old { r.old } else { r.new };
                    if let Some(k) = self.rows(i, layout).iter().position(|r| cell(r).is_some_and(|c| c.line as usize == want)) {
                        return Some(at + k);
                    }
                }
            }
            at += self.segment_len(&s, layout);
        }
        None
    }

    /// Rows `start..start + count` of the layout (fewer at the end, at most [`MAX_WINDOW_ROWS`]).
    fn window(&self, layout: DiffLayout, expanded: &[GapExpansion], start: usize, count: usize) -> Vec<DiffRow> {
        let count = count.min(MAX_WINDOW_ROWS);
        let mut out = Vec::with_capacity(count);
        let mut at = 0usize;
        for s in self.segments(expanded) {
            if out.len() == count {
                break;
            }
            let len = self.segment_len(&s, layout);
            if at + len <= start {
                at += len;
                continue;
            }
            let from = start.saturating_sub(at);
            for k in from..len {
                if out.len() == count {
                    break;
                }
                out.extend(self.row_at(&s, k, layout));
            }
            at += len;
        }
        out
    }
}

/// A file model being computed or computed; concurrent asks wait for one computation.
type ModelSlot = Arc<OnceLock<Arc<FileModel>>>;

/// A computed pair: its summary, the contents of its changed files, and the file models
/// computed so far (the most recent [`FILES_KEPT`]).
#[derive(Debug)]
struct PairData {
    summary: Arc<DiffSummary>,
    changes: Vec<FileChange>,
    contents: HashMap<String, Blob>,
    models: Mutex<VecDeque<(usize, ModelSlot)>>,
}

/// A changed file's contents as read, told apart once: text is kept as a string the file
/// models share, anything else as bytes.
#[derive(Debug)]
enum Blob {
    Text(Arc<String>),
    Binary(Vec<u8>),
}

impl Blob {
    fn new(bytes: Vec<u8>) -> Self {
        if !matches!(classify(&bytes), Content::Text(_)) {
            return Blob::Binary(bytes);
        }
        match String::from_utf8(bytes) {
            Ok(text) => Blob::Text(Arc::new(text)),
            Err(e) => Blob::Binary(e.into_bytes()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Blob::Text(t) => t.as_bytes(),
            Blob::Binary(b) => b,
        }
    }
}

impl PairData {
    /// A side's text: `Some("")` for a side that does not exist, `None` when binary.
    fn text(&self, side: &Option<handoff_diff::FileVersion>) -> Option<Arc<String>> {
        side_text(&self.contents, side)
    }

    fn change(&self, file: u32) -> Result<&FileChange> {
        self.changes.get(file as usize).ok_or_else(|| ClientError::NotFound {
            what: "file",
            id: format!("{file} of the diff of revisions {} and {}", self.summary.pair.from, self.summary.pair.to),
        })
    }

    fn model(&self, file: u32) -> Result<Arc<FileModel>> {
        let change = self.change(file)?;
        let slot = {
            let mut models = self.models.lock().unwrap_or_else(PoisonError::into_inner);
            let found = models.iter().position(|(i, _)| *i == file as usize);
            let slot = match found.and_then(|p| models.remove(p)) {
                Some((_, slot)) => slot,
                None => Arc::new(OnceLock::new()),
            };
            models.push_front((file as usize, Arc::clone(&slot)));
            models.truncate(FILES_KEPT);
            slot
        };
        // Two windows asked for at once wait for one computation instead of doing two.
        let model = slot.get_or_init(|| {
            let whitespace = whitespace(self.summary.pair.ignore_whitespace);
            match (self.text(&change.old), self.text(&change.new)) {
                (Some(o), Some(n)) => Arc::new(FileModel::build(o, n, whitespace)),
                // Binary files have no rows; the summary shows their sizes and hashes.
                _ => Arc::new(FileModel::default()),
            }
        });
        Ok(Arc::clone(model))
    }
}

/// A side's text among read contents: `Some("")` for a side that does not exist, `None` when
/// binary (or not read).
fn side_text(contents: &HashMap<String, Blob>, side: &Option<handoff_diff::FileVersion>) -> Option<Arc<String>> {
    match side {
        None => Some(Arc::default()),
        Some(v) => match contents.get(&v.sha256)? {
            Blob::Text(t) => Some(Arc::clone(t)),
            Blob::Binary(_) => None,
        },
    }
}

fn whitespace(ignore: bool) -> WhitespaceMode {
    if ignore { WhitespaceMode::IgnoreAll } else { WhitespaceMode::Exact }
}

/// The computed pairs a client keeps, most recent first, at most [`PAIRS_KEPT`].
#[derive(Debug, Default)]
pub struct DiffCache {
    pairs: Mutex<VecDeque<(DiffPair, PairSlot)>>,
}

/// A pair being computed or computed; the lock makes concurrent asks wait for one computation.
type PairSlot = Arc<Mutex<Option<Arc<PairData>>>>;

impl DiffCache {
    fn slot(&self, pair: DiffPair) -> PairSlot {
        let mut pairs = self.pairs.lock().unwrap_or_else(PoisonError::into_inner);
        let found = pairs.iter().position(|(p, _)| *p == pair);
        let slot = found.and_then(|i| pairs.remove(i)).map_or_else(PairSlot::default, |(_, slot)| slot);
        pairs.push_front((pair, Arc::clone(&slot)));
        pairs.truncate(PAIRS_KEPT);
        slot
    }

    /// How many pairs are kept now.
    pub fn len(&self) -> usize {
        self.pairs.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn summarize(pair: DiffPair, changes: &[FileChange]) -> DiffSummary {
    let side = |v: &Option<handoff_diff::FileVersion>| {
        v.as_ref().map(|v| DiffFileSide {
            path: v.path.clone(),
            size: v.size,
            sha256: v.sha256.clone(),
            executable: v.executable,
        })
    };
    let mut totals = DiffTotals::default();
    let files = changes
        .iter()
        .map(|c| {
            let (content, added, removed) = match c.content {
                FileContent::Text { added, removed } => (DiffFileContent::Text, added as u32, removed as u32),
                FileContent::Unchanged => (DiffFileContent::Unchanged, 0, 0),
                // Unavailable cannot happen (every needed blob was read); show it by hash.
                FileContent::Binary | FileContent::Unavailable => (DiffFileContent::Binary, 0, 0),
            };
            totals.files += 1;
            totals.added += added;
            totals.removed += removed;
            totals.binary += u32::from(content == DiffFileContent::Binary);
            DiffFile {
                path: c.path().to_owned(),
                status: match c.status {
                    FileStatus::Added => DiffFileStatus::Added,
                    FileStatus::Removed => DiffFileStatus::Removed,
                    FileStatus::Modified => DiffFileStatus::Modified,
                    FileStatus::Renamed => DiffFileStatus::Renamed,
                },
                similarity: c.similarity,
                content,
                added,
                removed,
                mode_changed: c.mode_changed(),
                old: side(&c.old),
                new: side(&c.new),
            }
        })
        .collect();
    DiffSummary { pair, files, totals }
}

fn manifest(files: Vec<ManifestEntry>) -> Vec<ManifestFile> {
    files.into_iter().map(|f| ManifestFile { path: f.path, sha256: f.sha256, size: f.size, executable: f.executable }).collect()
}

impl Client {
    /// A revision's manifest; a revision whose files are not all on this machine is
    /// [`ClientError::FilesNotHere`] (the same answer as [`Client::revision_tree`]).
    fn manifest_here(&self, spec_id: SpecId, number: u32) -> Result<Vec<ManifestFile>> {
        if number == 0 {
            return Ok(Vec::new());
        }
        if !self.missing_revision_files(spec_id, number)?.is_empty() {
            // Answers FilesNotHere, worded in one place.
            self.revision_tree(spec_id, number)?;
        }
        Ok(manifest(self.revision(spec_id, number)?.files))
    }

    fn pair_data(&self, pair: DiffPair) -> Result<Arc<PairData>> {
        let slot = self.review_diffs.slot(pair);
        let mut computed = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(data) = computed.as_ref() {
            return Ok(Arc::clone(data));
        }
        // A failure (files not here yet) is not kept: the next ask tries again.
        let data = Arc::new(self.compute_pair(pair)?);
        *computed = Some(Arc::clone(&data));
        Ok(data)
    }

    fn compute_pair(&self, pair: DiffPair) -> Result<PairData> {
        let old = self.manifest_here(pair.spec_id, pair.from)?;
        let new = self.manifest_here(pair.spec_id, pair.to)?;
        // Only files that are not identical on both sides are read: a 20,000-file revision
        // with a few changes reads a few blobs.
        let same: HashSet<(&str, &str)> = {
            let old_set: HashSet<(&str, &str)> = old.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
            new.iter().map(|f| (f.path.as_str(), f.sha256.as_str())).filter(|k| old_set.contains(k)).collect()
        };
        let mut contents: HashMap<String, Blob> = HashMap::new();
        for f in old.iter().chain(&new) {
            if !same.contains(&(f.path.as_str(), f.sha256.as_str())) && !contents.contains_key(&f.sha256) {
                contents.insert(f.sha256.clone(), Blob::new(self.blobs().read(&f.sha256)?));
            }
        }
        // The counts come from the rows' own diff below: each text file is line-diffed once,
        // and the first few files' models (the one the viewer opens first among them) are
        // kept, so opening a file does not diff it again.
        let ws = whitespace(pair.ignore_whitespace);
        let options = RevisionDiffOptions { whitespace: ws, line_counts: false, ..Default::default() };
        let mut changes = diff_revisions(&old, &new, &|sha: &str| contents.get(sha).map(Blob::bytes), &options)
            .map_err(|e| ClientError::Corrupt(e.to_string()))?
            .files;
        let mut kept = VecDeque::new();
        for (i, change) in changes.iter_mut().enumerate() {
            if !matches!(change.content, FileContent::Text { .. }) {
                continue;
            }
            let (Some(o), Some(n)) = (side_text(&contents, &change.old), side_text(&contents, &change.new)) else { continue };
            let model = FileModel::build(o, n, ws);
            let (added, removed) = model.counts();
            change.content = FileContent::Text { added, removed };
            if kept.len() < FILES_KEPT {
                // Most recently used first: the first file is the one the viewer opens.
                kept.push_back((i, Arc::new(OnceLock::from(Arc::new(model)))));
            }
        }
        Ok(PairData { summary: Arc::new(summarize(pair, &changes)), changes, contents, models: Mutex::new(kept) })
    }

    /// The pair the diff viewer opens on: from the revision this reviewer last reviewed to
    /// the newest, else from the one before the newest (or from nothing when there is one).
    /// `None` when nothing has been delivered.
    pub fn default_diff(&self, spec_id: SpecId) -> Result<Option<DefaultDiff>> {
        let detail = self.spec_detail(spec_id)?;
        let Some(newest) = detail.revisions.iter().map(|r| r.number).max() else { return Ok(None) };
        let me = Self::actor(&self.conn())?.email;
        // The latest revision reviewed, by number: two reviews published in the same
        // millisecond (two devices, a script) must not make the answer depend on id order.
        let reviewed = detail
            .reviews
            .iter()
            .filter(|r| r.reviewer.eq_ignore_ascii_case(&me))
            .filter_map(|r| detail.revisions.iter().find(|rev| rev.id == r.revision_id))
            .map(|rev| rev.number)
            .max()
            .filter(|&n| n < newest);
        Ok(Some(match reviewed {
            Some(from) => DefaultDiff { from, to: newest, since_my_review: true },
            None => {
                let previous = detail.revisions.iter().map(|r| r.number).filter(|&n| n < newest).max().unwrap_or(0);
                DefaultDiff { from: previous, to: newest, since_my_review: false }
            }
        }))
    }

    /// The file list and totals of a pair of revisions (computed once, then cached).
    pub fn diff_summary(&self, pair: DiffPair) -> Result<Arc<DiffSummary>> {
        Ok(Arc::clone(&self.pair_data(pair)?.summary))
    }

    /// One file's shape in a layout, given which gaps are revealed.
    pub fn diff_file(&self, pair: DiffPair, file: u32, layout: DiffLayout, expanded: &[GapExpansion]) -> Result<FileView> {
        Ok(self.pair_data(pair)?.model(file)?.view(layout, expanded))
    }

    /// Rows `start..start + count` of one file (at most [`MAX_WINDOW_ROWS`]).
    pub fn diff_rows(
        &self,
        pair: DiffPair,
        file: u32,
        layout: DiffLayout,
        expanded: &[GapExpansion],
        start: u32,
        count: u32,
    ) -> Result<Vec<DiffRow>> {
        Ok(self.pair_data(pair)?.model(file)?.window(layout, expanded, start as usize, count as usize))
    }

    /// The rows that show each of `lines` (a side and a 1-based line), in this layout with
    /// these expansions; `None` for a line in hidden context. Threads are drawn after them.
    pub fn diff_rows_of_lines(
        &self,
        pair: DiffPair,
        file: u32,
        layout: DiffLayout,
        expanded: &[GapExpansion],
        lines: &[(FileSide, u32)],
    ) -> Result<Vec<Option<u32>>> {
        let model = self.pair_data(pair)?.model(file)?;
        Ok(lines.iter().map(|&(side, line)| model.row_of(layout, expanded, side, line).map(|r| r as u32)).collect())
    }

    /// The whole text of one side of a file, for the syntax highlighter (which parses a file
    /// once, as a whole); `None` for a binary side or one that does not exist.
    pub fn diff_file_text(&self, pair: DiffPair, file: u32, side: FileSide) -> Result<Option<String>> {
        let data = self.pair_data(pair)?;
        let change = data.change(file)?;
        let version = match side {
            FileSide::Old => &change.old,
            FileSide::New => &change.new,
        };
        if version.is_none() {
            return Ok(None);
        }
        Ok(data.text(version).map(|t| t.as_str().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(old: &str, new: &str) -> FileModel {
        FileModel::build(Arc::new(old.to_owned()), Arc::new(new.to_owned()), WhitespaceMode::Exact)
    }

    fn numbered(n: usize, change: impl Fn(usize) -> Option<String>) -> String {
        (1..=n).map(|i| change(i).unwrap_or_else(|| format!("line {i}")) + "\n").collect()
    }

    /// Every row of a layout, fetched in windows of `step`.
    fn all_rows(m: &FileModel, layout: DiffLayout, expanded: &[GapExpansion], step: usize) -> Vec<DiffRow> {
        let total = m.view(layout, expanded).total_rows as usize;
        let mut rows = Vec::new();
        let mut start = 0;
        while start < total {
            let w = m.window(layout, expanded, start, step);
            assert!(!w.is_empty(), "window at {start} of {total} is empty");
            start += w.len();
            rows.extend(w);
        }
        assert_eq!(m.window(layout, expanded, total, step), vec![], "nothing past the end");
        rows
    }

    /// Lines of one side shown in rows, in order.
    fn lines(rows: &[DiffRow], side: FileSide) -> Vec<u32> {
        rows.iter()
            .filter_map(|r| match side {
                FileSide::Old => r.old.as_ref(),
                FileSide::New => r.new.as_ref(),
            })
            .map(|c| c.line)
            .collect()
    }

    #[test]
    fn every_shown_line_maps_to_the_row_that_shows_it() {
        let old = numbered(300, |_| None);
        let new = numbered(300, |i| (i % 41 == 0).then(|| format!("changed {i}")));
        let m = model(&old, &new);
        for layout in [DiffLayout::Unified, DiffLayout::Split] {
            let rows = m.window(layout, &[], 0, MAX_WINDOW_ROWS);
            for (side, pick) in [(FileSide::Old, 0), (FileSide::New, 1)] {
                for line in 1..=300u32 {
                    let shown = rows.iter().position(|r| {
                        let c = if pick == 0 { &r.old } else { &r.new };
                        c.as_ref().is_some_and(|c| c.line == line)
                    });
                    assert_eq!(m.row_of(layout, &[], side, line), shown, "{layout:?} {side:?} line {line}");
                }
            }
        }
        assert_eq!(m.row_of(DiffLayout::Unified, &[], FileSide::New, 0), None);
    }

    #[test]
    fn windows_join_back_to_the_full_model() {
        let old = numbered(1000, |_| None);
        let new = numbered(1000, |i| (i % 97 == 0).then(|| format!("changed {i}")));
        let m = model(&old, &new);
        for layout in [DiffLayout::Unified, DiffLayout::Split] {
            let whole = m.window(layout, &[], 0, MAX_WINDOW_ROWS);
            for step in [1, 7, 50, 333] {
                assert_eq!(all_rows(&m, layout, &[], step), whole, "{layout:?} in windows of {step}");
            }
            let view = m.view(layout, &[]);
            assert_eq!(view.total_rows as usize, whole.len());
            assert_eq!(view.hunk_rows.len(), 10);
            for &h in &view.hunk_rows {
                assert_eq!(whole[h as usize].kind, DiffRowKind::Hunk);
            }
        }
    }

    #[test]
    fn split_and_unified_show_the_same_lines_and_counts() {
        let old = numbered(300, |i| (i % 40 == 0).then(|| format!("{i} gone")).or((i == 7).then(String::new)));
        let new = numbered(310, |i| (i % 30 == 0).then(|| format!("new {i}")));
        let m = model(&old, &new);
        let unified = all_rows(&m, DiffLayout::Unified, &[], 64);
        let split = all_rows(&m, DiffLayout::Split, &[], 64);
        for side in [FileSide::Old, FileSide::New] {
            assert_eq!(lines(&unified, side), lines(&split, side), "{side:?}");
        }
        let count = |rows: &[DiffRow], kind: DiffRowKind| rows.iter().filter(|r| r.kind == kind).count();
        let removed = |rows: &[DiffRow]| rows.iter().filter(|r| r.old.is_some() && r.kind != DiffRowKind::Context).count();
        let added = |rows: &[DiffRow]| rows.iter().filter(|r| r.new.is_some() && r.kind != DiffRowKind::Context).count();
        assert_eq!(removed(&unified), removed(&split));
        assert_eq!(added(&unified), added(&split));
        assert_eq!(count(&unified, DiffRowKind::Hunk), count(&split, DiffRowKind::Hunk));
        assert!(split.len() < unified.len(), "pairs share rows");
        // Word emphasis is the same line by line in both layouts, and some line has it.
        let emphasis = |rows: &[DiffRow]| -> Vec<(u32, Vec<(u32, u32)>)> {
            let mut out: Vec<(u32, Vec<(u32, u32)>)> = rows
                .iter()
                .flat_map(|r| {
                    [
                        r.old.as_ref().map(|c| (c.line, c.emphasis.clone())),
                        r.new.as_ref().map(|c| (c.line + 100_000, c.emphasis.clone())),
                    ]
                })
                .flatten()
                .collect();
            out.sort();
            out
        };
        assert_eq!(emphasis(&unified), emphasis(&split));
        assert!(emphasis(&split).iter().any(|(_, e)| !e.is_empty()));
    }

    #[test]
    fn gaps_expand_top_bottom_and_all() {
        let old = numbered(100, |_| None);
        let new = numbered(100, |i| (i == 50).then(|| "fifty".into()));
        let m = model(&old, &new);
        let view = m.view(DiffLayout::Unified, &[]);
        assert_eq!(view.gaps, vec![46, 47]);
        // Collapsed: hunk row, 3 + 1 + 1 + 3 rows, trailing gap row.
        assert_eq!(view.total_rows, 1 + 8 + 1);
        let rows = all_rows(&m, DiffLayout::Unified, &[], 100);
        assert_eq!(rows[0].marker.as_ref().map(|mk| (mk.hidden, mk.header.as_deref())), Some((46, Some("@@ -47,7 +47,7 @@"))));
        assert_eq!(rows.last().and_then(|r| r.marker.as_ref()).map(|mk| mk.hidden), Some(47));

        let expanded = [GapExpansion { gap: 0, top: 2, bottom: 5 }, GapExpansion { gap: 1, top: 10, bottom: 0 }];
        let rows = all_rows(&m, DiffLayout::Unified, &expanded, 9);
        let new_lines = lines(&rows, FileSide::New);
        assert_eq!(&new_lines[..7], &[1, 2, 42, 43, 44, 45, 46]);
        assert_eq!(rows[2].marker.as_ref().map(|mk| mk.hidden), Some(39));
        assert_eq!(new_lines.last(), Some(&63));

        let all = [GapExpansion { gap: 0, top: 1000, bottom: 0 }, GapExpansion { gap: 1, top: 0, bottom: u32::MAX }];
        let rows = all_rows(&m, DiffLayout::Unified, &all, 33);
        assert_eq!(lines(&rows, FileSide::Old), (1..=100).collect::<Vec<_>>());
        assert_eq!(lines(&rows, FileSide::New), (1..=100).collect::<Vec<_>>());
        assert_eq!(rows.iter().filter(|r| r.kind == DiffRowKind::Gap).count(), 0, "nothing left hidden");
        // A gap that does not exist changes nothing.
        assert_eq!(m.view(DiffLayout::Unified, &[GapExpansion { gap: 9, top: 5, bottom: 5 }]), view);
    }

    #[test]
    fn word_emphasis_is_in_utf16_units_and_missing_newline_is_marked() {
        let m = model("naïve 😀 old\nend\n", "naïve 😀 new\nend");
        let rows = all_rows(&m, DiffLayout::Split, &[], 10);
        let changed: Vec<&DiffRow> = rows.iter().filter(|r| r.kind == DiffRowKind::Changed).collect();
        let first = changed[0];
        let old = first.old.as_ref().map(|c| c.emphasis.clone());
        // "naïve 😀 " is 9 UTF-16 units: 5 letters, a space, a surrogate pair, a space.
        assert_eq!(old, Some(vec![(9, 12)]));
        let last = changed[1].new.as_ref().map(|c| (c.text.as_str(), c.no_newline));
        assert_eq!(last, Some(("end", true)));
    }

    #[test]
    fn a_long_line_is_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_CELL_BYTES);
        let m = model("a\n", &format!("{long}\n"));
        let rows = m.window(DiffLayout::Unified, &[], 0, 10);
        let cell = rows.iter().find_map(|r| r.new.as_ref()).map(|c| (c.text.len(), c.truncated));
        assert_eq!(cell, Some((MAX_CELL_BYTES, true)));
    }

    #[test]
    fn an_unchanged_file_is_one_expandable_gap() {
        let text = numbered(20, |_| None);
        let m = model(&text, &text);
        let rows = m.window(DiffLayout::Split, &[], 0, 100);
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].kind, rows[0].marker.as_ref().map(|mk| mk.hidden)), (DiffRowKind::Gap, Some(20)));
        let rows = m.window(DiffLayout::Split, &[GapExpansion { gap: 0, top: 20, bottom: 0 }], 0, 100);
        assert_eq!(rows.len(), 20);
    }

    mod facade {
        use super::super::*;
        use crate::NewSpec;
        use handoff_core::Verdict;
        use std::path::Path;

        fn spec_with_revisions(c: &Client, folders: &[&Path]) -> SpecId {
            let id = c.create_spec(NewSpec { title: "Viewer".into(), ..Default::default() }).expect("spec");
            c.mark_ready_with_override(id, "a test").expect("ready");
            for f in folders {
                c.deliver(id, f, "", vec![]).expect("deliver");
            }
            id
        }

        fn write(dir: &Path, name: &str, bytes: &[u8]) {
            let p = dir.join(name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, bytes).expect("write");
        }

        /// A client with a spec whose revisions 1 and 2 change one line of `a.txt`.
        fn one_file_changed() -> (tempfile::TempDir, Client, SpecId) {
            let (data, r1, r2) =
                (tempfile::tempdir().expect("d"), tempfile::tempdir().expect("1"), tempfile::tempdir().expect("2"));
            write(r1.path(), "a.txt", b"one\n");
            write(r2.path(), "a.txt", b"two\n");
            let c = Client::open(data.path()).expect("open");
            let id = spec_with_revisions(&c, &[r1.path(), r2.path()]);
            (data, c, id)
        }

        fn pair(spec_id: SpecId, from: u32, to: u32) -> DiffPair {
            DiffPair { spec_id, from, to, ignore_whitespace: false }
        }

        #[test]
        fn a_pair_lists_statuses_and_shows_non_utf8_as_binary() {
            let (data, r1, r2) =
                (tempfile::tempdir().expect("d"), tempfile::tempdir().expect("1"), tempfile::tempdir().expect("2"));
            let notes: String = (1..=30).map(|i| format!("note {i}\n")).collect();
            write(r1.path(), "same.txt", b"unchanged\n");
            write(r1.path(), "code.rs", b"fn a() {}\nfn b() {}\n");
            write(r1.path(), "latin1.txt", b"caf\xe9 au lait\n");
            write(r1.path(), "img.bin", &[0, 1, 2]);
            write(r1.path(), "old/notes.md", notes.as_bytes());
            write(r2.path(), "same.txt", b"unchanged\n");
            write(r2.path(), "code.rs", b"fn a() {}\nfn b2() {}\nfn c() {}");
            write(r2.path(), "latin1.txt", b"caf\xe9 cr\xe8me\n");
            write(r2.path(), "img.bin", &[0, 1, 2, 3, 4]);
            write(r2.path(), "new/notes.md", notes.replace("note 7", "note seven").as_bytes());
            let c = Client::open(data.path()).expect("open");
            let id = spec_with_revisions(&c, &[r1.path(), r2.path()]);
            let s = c.diff_summary(pair(id, 1, 2)).expect("summary");
            type Shape<'a> = (&'a str, DiffFileStatus, DiffFileContent, u32, u32, Option<u8>);
            let shape: Vec<Shape<'_>> =
                s.files.iter().map(|f| (f.path.as_str(), f.status, f.content, f.added, f.removed, f.similarity)).collect();
            use DiffFileContent::*;
            use DiffFileStatus::*;
            assert_eq!(
                shape,
                vec![
                    ("code.rs", Modified, Text, 2, 1, None),
                    ("img.bin", Modified, Binary, 0, 0, None),
                    ("latin1.txt", Modified, Binary, 0, 0, None),
                    ("new/notes.md", Renamed, Text, 1, 1, Some(95)),
                ]
            );
            assert_eq!(s.totals, DiffTotals { files: 4, added: 3, removed: 2, binary: 2 });
            let img = &s.files[1];
            assert_eq!((img.old.as_ref().map(|v| v.size), img.new.as_ref().map(|v| v.size)), (Some(3), Some(5)));
            // A non-UTF-8 file has no rows and no text for the highlighter: never garbled.
            assert_eq!(c.diff_rows(pair(id, 1, 2), 2, DiffLayout::Unified, &[], 0, 100).expect("rows"), vec![]);
            assert_eq!(c.diff_file_text(pair(id, 1, 2), 2, FileSide::New).expect("text"), None);
            assert_eq!(
                c.diff_file_text(pair(id, 1, 2), 0, FileSide::Old).expect("text").as_deref(),
                Some("fn a() {}\nfn b() {}\n")
            );
            let rows = c.diff_rows(pair(id, 1, 2), 0, DiffLayout::Split, &[], 0, 100).expect("rows");
            assert!(rows.iter().any(|r| r.new.as_ref().is_some_and(|n| n.text == "fn c() {}" && n.no_newline)), "{rows:?}");
            // From nothing, everything is added.
            let all = c.diff_summary(pair(id, 0, 1)).expect("from nothing");
            assert!(all.files.iter().all(|f| f.status == Added), "{all:?}");
            assert_eq!(all.files.len(), 5);
            // A file index the pair does not have is a clear error.
            let err = c.diff_rows(pair(id, 1, 2), 99, DiffLayout::Unified, &[], 0, 1).expect_err("no such file");
            assert_eq!(err.code(), crate::Code::NotFound);
        }

        #[test]
        fn a_revision_whose_files_are_not_here_is_files_not_here_until_they_are() {
            let (_data, c, id) = one_file_changed();
            let blob = c.revision(id, 2).expect("rev").files[0].sha256.clone();
            let path = c.blobs().path(&blob);
            let bytes = std::fs::read(&path).expect("blob");
            std::fs::remove_file(&path).expect("remove");
            let err = c.diff_summary(pair(id, 1, 2)).expect_err("missing");
            assert_eq!(err.code(), crate::Code::FilesNotHere);
            assert!(err.to_string().contains("revision 2 of 'Viewer'"), "{err}");
            // The failure is not cached: once the file is back, the diff opens.
            std::fs::write(&path, bytes).expect("restore");
            assert_eq!(c.diff_summary(pair(id, 1, 2)).expect("summary").files.len(), 1);
        }

        #[test]
        fn the_default_pair_starts_at_my_last_review() {
            let data = tempfile::tempdir().expect("d");
            let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().expect("r")).collect();
            for (i, d) in dirs.iter().enumerate() {
                write(d.path(), "a.txt", format!("{i}\n").as_bytes());
            }
            let c = Client::open(data.path()).expect("open");
            let id = c.create_spec(NewSpec { title: "Viewer".into(), ..Default::default() }).expect("spec");
            assert_eq!(c.default_diff(id).expect("none"), None);
            c.mark_ready_with_override(id, "a test").expect("ready");
            c.deliver(id, dirs[0].path(), "", vec![]).expect("deliver");
            assert_eq!(c.default_diff(id).expect("one"), Some(DefaultDiff { from: 0, to: 1, since_my_review: false }));
            c.deliver(id, dirs[1].path(), "", vec![]).expect("deliver");
            c.deliver(id, dirs[2].path(), "", vec![]).expect("deliver");
            assert_eq!(c.default_diff(id).expect("three"), Some(DefaultDiff { from: 2, to: 3, since_my_review: false }));
            c.publish_review(id, 1, Verdict::RequestChanges, "", vec![]).expect("review");
            assert_eq!(c.default_diff(id).expect("reviewed"), Some(DefaultDiff { from: 1, to: 3, since_my_review: true }));
            // Having reviewed the newest, the default is previous → newest again.
            c.publish_review(id, 3, Verdict::Approve, "", vec![]).expect("review");
            assert_eq!(c.default_diff(id).expect("all reviewed"), Some(DefaultDiff { from: 2, to: 3, since_my_review: false }));
        }

        #[test]
        fn the_cache_keeps_a_few_pairs_and_answers_from_them() {
            let (_data, c, id) = one_file_changed();
            let first = c.diff_summary(pair(id, 1, 2)).expect("summary");
            assert!(Arc::ptr_eq(&first, &c.diff_summary(pair(id, 1, 2)).expect("again")), "answered from the cache");
            for (from, to, ws) in [(0, 1, false), (0, 2, false), (1, 2, true), (2, 1, false)] {
                c.diff_summary(DiffPair { spec_id: id, from, to, ignore_whitespace: ws }).expect("pair");
            }
            assert_eq!(c.review_diffs.len(), PAIRS_KEPT);
            assert!(!Arc::ptr_eq(&first, &c.diff_summary(pair(id, 1, 2)).expect("recomputed")), "the oldest pair was dropped");
        }

        #[test]
        fn the_summary_diff_is_the_one_the_open_file_uses() {
            let (_data, c, id) = one_file_changed();
            let s = c.diff_summary(pair(id, 1, 2)).expect("summary");
            let counted = {
                let f = &s.files[0];
                (f.added, f.removed)
            };
            let data = c.pair_data(pair(id, 1, 2)).expect("data");
            let computed = data
                .models
                .lock()
                .expect("models")
                .front()
                .and_then(|(i, slot)| (*i == 0).then(|| slot.get().cloned()))
                .flatten();
            let computed = computed.expect("the first file's rows were built with the counts");
            assert!(Arc::ptr_eq(&computed, &data.model(0).expect("model")), "opening the file reuses that diff");
            let (added, removed) = computed.counts();
            assert_eq!(counted, (added as u32, removed as u32));
            let (old, new) = (data.text(&data.changes[0].old).expect("old"), data.text(&data.changes[0].new).expect("new"));
            // The model reads the pair's texts; it keeps no copy of its own.
            assert!(Arc::ptr_eq(&computed.old.text, &old) && Arc::ptr_eq(&computed.new.text, &new));
            let stats = TextDiff::new(&old, &new, &DiffOptions::default()).stats();
            assert_eq!(counted, (stats.added as u32, stats.removed as u32), "the same counts as the plain line diff");
        }

        #[test]
        fn a_large_revision_reads_only_the_changed_files() {
            let (data, r1, r2) =
                (tempfile::tempdir().expect("d"), tempfile::tempdir().expect("1"), tempfile::tempdir().expect("2"));
            for i in 0..300 {
                let name = format!("d{}/f{i}.txt", i % 10);
                write(r1.path(), &name, format!("file {i}\n").as_bytes());
                write(r2.path(), &name, format!("file {i}\n").as_bytes());
            }
            write(r2.path(), "d7/f7.txt", b"changed\n");
            let c = Client::open(data.path()).expect("open");
            let id = spec_with_revisions(&c, &[r1.path(), r2.path()]);
            let s = c.diff_summary(pair(id, 1, 2)).expect("summary");
            assert_eq!(s.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), vec!["d7/f7.txt"]);
            let data = c.pair_data(pair(id, 1, 2)).expect("data");
            assert_eq!(data.contents.len(), 2, "only the changed file's two versions were read");
        }
    }
}
