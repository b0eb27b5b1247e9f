//! The render model: hunks with context, expandable gaps, unified and side-by-side rows.
//!
//! Everything borrows from the diffed texts (`Cow::Borrowed`), so rendering a 100k-line diff
//! copies no line text; the model serializes to JSON for the CLI and the UI.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::line_diff::{Change, LineStats, TextDiff};
use crate::lines::{LineIndex, Terminator};
use crate::words::{Segment, WordScratch};

/// How to render a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RenderOptions {
    /// Unchanged lines shown around each change (git's default is 3).
    pub context: usize,
    /// Whether to compute word-level highlights for paired removed/added lines.
    pub word_highlights: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { context: 3, word_highlights: true }
    }
}

/// One side of a row: a line of the old or the new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell<'a> {
    /// 1-based line number in its text.
    pub line: usize,
    /// The line's text without terminator.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
    /// How the line ends.
    pub terminator: Terminator,
    /// Word highlights; concatenated they equal `text`. `None` for context lines and for changed
    /// lines with no similar partner (the whole line is the change).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<Segment<'a>>>,
}

/// What a unified row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// Unchanged (under the diff's whitespace mode): both cells are set.
    Context,
    /// Only in the old text: `old` is set.
    Removed,
    /// Only in the new text: `new` is set.
    Added,
}

/// A row of the unified form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row<'a> {
    /// Context, removed or added.
    pub kind: RowKind,
    /// The old line, for context and removed rows.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub old: Option<Cell<'a>>,
    /// The new line, for context and added rows.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub new: Option<Cell<'a>>,
}

/// A row of the side-by-side form: removed and added lines are paired in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideBySideRow<'a> {
    /// Left (old) cell, `None` where the right side has an unpaired added line.
    #[serde(borrow)]
    pub old: Option<Cell<'a>>,
    /// Right (new) cell, `None` where the left side has an unpaired removed line.
    #[serde(borrow)]
    pub new: Option<Cell<'a>>,
    /// Whether this row is unchanged context.
    pub context: bool,
}

/// A hunk: a run of changes with their context, numbered like a unified `@@` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk<'a> {
    /// First old line (1-based); when `old_len` is 0, the old line after which lines are inserted.
    pub old_start: usize,
    /// Old lines covered.
    pub old_len: usize,
    /// First new line (1-based); when `new_len` is 0, the new line after which lines were removed.
    pub new_start: usize,
    /// New lines covered.
    pub new_len: usize,
    /// Rows in unified order: context, removed lines before added lines within each change.
    #[serde(borrow)]
    pub rows: Vec<Row<'a>>,
}

/// Unchanged lines hidden between hunks; expand them with [`TextDiff::expand_gap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gap {
    /// First hidden old line (1-based).
    pub old_start: usize,
    /// First hidden new line (1-based).
    pub new_start: usize,
    /// Number of hidden lines (may be 0).
    pub len: usize,
}

/// Which part of a gap to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expand {
    /// The first `n` hidden lines (just below the hunk above).
    Top(usize),
    /// The last `n` hidden lines (just above the hunk below).
    Bottom(usize),
    /// All hidden lines.
    All,
}

/// The render model of one text diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRender<'a> {
    /// Lines in the old text.
    pub old_line_count: usize,
    /// Lines in the new text.
    pub new_line_count: usize,
    /// Added and removed line counts.
    pub stats: LineStats,
    /// Hunks in order.
    #[serde(borrow)]
    pub hunks: Vec<Hunk<'a>>,
    /// `gaps[i]` is hidden before `hunks[i]`; the last gap follows the last hunk.
    /// There are `hunks.len() + 1` gaps (a single one covering the whole file when unchanged).
    pub gaps: Vec<Gap>,
}

/// A hunk in side-by-side form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideBySideHunk<'a> {
    /// Same numbering as [`Hunk`].
    pub old_start: usize,
    /// Same numbering as [`Hunk`].
    pub old_len: usize,
    /// Same numbering as [`Hunk`].
    pub new_start: usize,
    /// Same numbering as [`Hunk`].
    pub new_len: usize,
    /// Paired rows.
    #[serde(borrow)]
    pub rows: Vec<SideBySideRow<'a>>,
}

impl<'a> Hunk<'a> {
    /// The same hunk with removed and added lines paired side by side.
    pub fn side_by_side(&self) -> SideBySideHunk<'a> {
        let mut rows = Vec::with_capacity(self.rows.len());
        let mut removed: Vec<Cell<'a>> = Vec::new();
        let mut added: Vec<Cell<'a>> = Vec::new();
        let flush = |rows: &mut Vec<SideBySideRow<'a>>, removed: &mut Vec<Cell<'a>>, added: &mut Vec<Cell<'a>>| {
            let n = removed.len().max(added.len());
            let mut r = removed.drain(..);
            let mut a = added.drain(..);
            for _ in 0..n {
                rows.push(SideBySideRow { old: r.next(), new: a.next(), context: false });
            }
        };
        for row in &self.rows {
            match row.kind {
                RowKind::Context => {
                    flush(&mut rows, &mut removed, &mut added);
                    rows.push(SideBySideRow { old: row.old.clone(), new: row.new.clone(), context: true });
                }
                RowKind::Removed => {
                    if !added.is_empty() {
                        flush(&mut rows, &mut removed, &mut added);
                    }
                    removed.extend(row.old.clone());
                }
                RowKind::Added => added.extend(row.new.clone()),
            }
        }
        flush(&mut rows, &mut removed, &mut added);
        SideBySideHunk {
            old_start: self.old_start,
            old_len: self.old_len,
            new_start: self.new_start,
            new_len: self.new_len,
            rows,
        }
    }
}

impl<'a> FileRender<'a> {
    /// All hunks in side-by-side form.
    pub fn side_by_side(&self) -> Vec<SideBySideHunk<'a>> {
        self.hunks.iter().map(Hunk::side_by_side).collect()
    }
}

fn cell<'a>(index: &LineIndex<'a>, i: usize) -> Cell<'a> {
    let line = index.line(i);
    Cell { line: i + 1, text: Cow::Borrowed(line.text), terminator: line.terminator, segments: None }
}

fn context_row<'a>(diff: &TextDiff<'a>, old_i: usize, new_i: usize) -> Row<'a> {
    Row { kind: RowKind::Context, old: Some(cell(diff.old_side(), old_i)), new: Some(cell(diff.new_side(), new_i)) }
}

/// Groups changes into hunks the way git does: changes whose unchanged gap is at most twice
/// the context share a hunk.
pub(crate) fn group_changes(changes: &[Change], context: usize) -> Vec<&[Change]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=changes.len() {
        let split = match (changes.get(i - 1), changes.get(i)) {
            (Some(prev), Some(next)) => next.old.start - prev.old.end > context.saturating_mul(2),
            _ => true,
        };
        if split {
            groups.push(&changes[start..i]);
            start = i;
        }
    }
    groups
}

impl<'a> TextDiff<'a> {
    /// Builds the render model with `options.context` lines of context around each change.
    pub fn render(&self, options: &RenderOptions) -> FileRender<'a> {
        let (old, new) = (self.old_side(), self.new_side());
        let ctx = options.context;
        let mut hunks = Vec::new();
        let mut gaps = Vec::new();
        let mut scratch = WordScratch::default();
        // Next old/new line (0-based) not yet shown.
        let (mut shown_old, mut shown_new) = (0usize, 0usize);
        for group in group_changes(self.changes(), ctx) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
            let lead = ctx.min(first.old.start - shown_old);
            let (hunk_old, hunk_new) = (first.old.start - lead, first.new.start - lead);
            gaps.push(Gap { old_start: shown_old + 1, new_start: shown_new + 1, len: hunk_old - shown_old });
            let trail = ctx.min(old.len() - last.old.end);
            let mut rows = Vec::new();
            let (mut oi, mut ni) = (hunk_old, hunk_new);
            for change in group {
                while oi < change.old.start {
                    rows.push(context_row(self, oi, ni));
                    oi += 1;
                    ni += 1;
                }
                let first_removed = rows.len();
                rows.extend(change.old.clone().map(|i| Row { kind: RowKind::Removed, old: Some(cell(old, i)), new: None }));
                let first_added = rows.len();
                rows.extend(change.new.clone().map(|i| Row { kind: RowKind::Added, old: None, new: Some(cell(new, i)) }));
                if options.word_highlights {
                    highlight_pairs(&mut rows, first_removed, first_added, &mut scratch);
                }
                oi = change.old.end;
                ni = change.new.end;
            }
            for _ in 0..trail {
                rows.push(context_row(self, oi, ni));
                oi += 1;
                ni += 1;
            }
            let (old_len, new_len) = (oi - hunk_old, ni - hunk_new);
            hunks.push(Hunk {
                old_start: if old_len == 0 { hunk_old } else { hunk_old + 1 },
                old_len,
                new_start: if new_len == 0 { hunk_new } else { hunk_new + 1 },
                new_len,
                rows,
            });
            shown_old = oi;
            shown_new = ni;
        }
        gaps.push(Gap { old_start: shown_old + 1, new_start: shown_new + 1, len: old.len() - shown_old });
        FileRender { old_line_count: old.len(), new_line_count: new.len(), stats: self.stats(), hunks, gaps }
    }

    /// Context rows for part of a gap, without recomputing the diff.
    ///
    /// The gap is clamped to the texts, so a stale or made-up gap yields fewer rows, never a panic.
    pub fn expand_gap(&self, gap: &Gap, how: Expand) -> Vec<Row<'a>> {
        let (old_start, new_start) = (gap.old_start.saturating_sub(1), gap.new_start.saturating_sub(1));
        let len =
            gap.len.min(self.old_side().len().saturating_sub(old_start)).min(self.new_side().len().saturating_sub(new_start));
        let (skip, take) = match how {
            Expand::Top(n) => (0, n.min(len)),
            Expand::Bottom(n) => (len - n.min(len), n.min(len)),
            Expand::All => (0, len),
        };
        (skip..skip + take).map(|k| context_row(self, old_start + k, new_start + k)).collect()
    }
}

/// Pairs removed and added rows of one change in order and fills in their word highlights.
fn highlight_pairs<'a>(rows: &mut [Row<'a>], first_removed: usize, first_added: usize, scratch: &mut WordScratch<'a>) {
    let pairs = (first_added - first_removed).min(rows.len() - first_added);
    for k in 0..pairs {
        let (head, tail) = rows.split_at_mut(first_added + k);
        let (Some(Row { old: Some(old), .. }), Some(Row { new: Some(new), .. })) =
            (head.get_mut(first_removed + k), tail.first_mut())
        else {
            continue;
        };
        // Cells made by `render` always borrow the input; owned ones (deserialized) are skipped.
        let (Cow::Borrowed(o), Cow::Borrowed(n)) = (&old.text, &new.text) else { continue };
        if let Some((o, n)) = scratch.segments(o, n) {
            old.segments = Some(o);
            new.segments = Some(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_diff::{DiffOptions, WhitespaceMode};

    /// A compact textual view of a render: one line per row.
    fn show(render: &FileRender<'_>) -> String {
        let mut out = String::new();
        for (gap, hunk) in render.gaps.iter().zip(&render.hunks) {
            out += &format!("~{}@{}/{}\n", gap.len, gap.old_start, gap.new_start);
            out += &format!("@@ -{},{} +{},{} @@\n", hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len);
            for row in &hunk.rows {
                let (sign, cell) = match row.kind {
                    RowKind::Context => (' ', row.new.as_ref()),
                    RowKind::Removed => ('-', row.old.as_ref()),
                    RowKind::Added => ('+', row.new.as_ref()),
                };
                let Some(cell) = cell else { continue };
                let text = match &cell.segments {
                    Some(segs) => {
                        segs.iter().map(|s| if s.emphasized { format!("[{}]", s.text) } else { s.text.to_string() }).collect()
                    }
                    None => cell.text.to_string(),
                };
                let term = match cell.terminator {
                    Terminator::Lf => "",
                    Terminator::Crlf => "⏎crlf",
                    Terminator::None => "⏎none",
                };
                out += &format!("{sign}{}|{}{term}\n", cell.line, text);
            }
        }
        if let Some(last) = render.gaps.last() {
            out += &format!("~{}@{}/{}\n", last.len, last.old_start, last.new_start);
        }
        out
    }

    fn render(old: &str, new: &str, whitespace: WhitespaceMode, context: usize) -> String {
        let diff = TextDiff::new(old, new, &DiffOptions { whitespace });
        show(&diff.render(&RenderOptions { context, word_highlights: true }))
    }

    #[test]
    fn table_of_renders() {
        use WhitespaceMode::*;
        let ten = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let cases: &[(&str, &str, &str, WhitespaceMode, usize, &str)] = &[
            ("empty files", "", "", Exact, 3, "~0@1/1\n"),
            ("empty to one line", "", "a\n", Exact, 3, "~0@1/1\n@@ -0,0 +1,1 @@\n+1|a\n~0@1/2\n"),
            ("one line to empty", "a\n", "", Exact, 3, "~0@1/1\n@@ -1,1 +0,0 @@\n-1|a\n~0@2/1\n"),
            (
                "middle change with context 1",
                ten,
                "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n",
                Exact,
                1,
                "~3@1/1\n@@ -4,3 +4,3 @@\n 4|4\n-5|5\n+5|five\n 6|6\n~4@7/7\n",
            ),
            ("missing final newline", "a\nb\n", "a\nb", Exact, 3, "~0@1/1\n@@ -1,2 +1,2 @@\n 1|a\n-2|b\n+2|b⏎none\n~0@3/3\n"),
            (
                "crlf line changed",
                "a\r\nold word\r\n",
                "a\r\nnew word\r\n",
                Exact,
                3,
                "~0@1/1\n@@ -1,2 +1,2 @@\n 1|a⏎crlf\n-2|[old] word⏎crlf\n+2|[new] word⏎crlf\n~0@3/3\n",
            ),
            (
                "whitespace-only change, exact",
                "fn f() {\n  x(a, b);\n}\n",
                "fn f() {\n    x(a,b);\n}\n",
                Exact,
                0,
                "~1@1/1\n@@ -2,1 +2,1 @@\n-2|[  ]x(a,[ ]b);\n+2|[    ]x(a,b);\n~1@3/3\n",
            ),
            (
                "whitespace-only change, ignored",
                "fn f() {\n  x(a, b);\n}\n",
                "fn f() {\n    x(a,b);\n}\n",
                IgnoreAll,
                0,
                "~3@1/1\n",
            ),
            (
                "two changes far apart make two hunks",
                ten,
                "one\n2\n3\n4\n5\n6\n7\n8\n9\nten\n",
                Exact,
                2,
                "~0@1/1\n@@ -1,3 +1,3 @@\n-1|1\n+1|one\n 2|2\n 3|3\n~4@4/4\n@@ -8,3 +8,3 @@\n 8|8\n 9|9\n-10|10\n+10|ten\n~0@11/11\n",
            ),
        ];
        for (name, old, new, ws, ctx, expected) in cases {
            assert_eq!(render(old, new, *ws, *ctx), *expected, "{name}");
        }
    }

    #[test]
    fn gaps_expand_without_recomputing() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let new = "1\n2\n3\n4\n5\n6\n7\n8\n9\nten\n";
        let diff = TextDiff::new(old, new, &DiffOptions::default());
        let render = diff.render(&RenderOptions { context: 1, word_highlights: false });
        let gap = render.gaps[0];
        assert_eq!(gap, Gap { old_start: 1, new_start: 1, len: 8 });
        let lines = |rows: Vec<Row<'_>>| -> Vec<usize> { rows.iter().filter_map(|r| r.new.as_ref()).map(|c| c.line).collect() };
        assert_eq!(lines(diff.expand_gap(&gap, Expand::Top(2))), vec![1, 2]);
        assert_eq!(lines(diff.expand_gap(&gap, Expand::Bottom(3))), vec![6, 7, 8]);
        assert_eq!(lines(diff.expand_gap(&gap, Expand::All)).len(), 8);
        assert_eq!(lines(diff.expand_gap(&Gap { old_start: 9, new_start: 9, len: 100 }, Expand::All)), vec![9, 10]);
    }

    #[test]
    fn side_by_side_pairs_changes() {
        let diff = TextDiff::new("a\nb\nc\nd\n", "a\nB\nC\nX\nd\n", &DiffOptions::default());
        let render = diff.render(&RenderOptions { context: 1, word_highlights: false });
        let sbs = render.side_by_side();
        let shape: Vec<(Option<usize>, Option<usize>, bool)> =
            sbs[0].rows.iter().map(|r| (r.old.as_ref().map(|c| c.line), r.new.as_ref().map(|c| c.line), r.context)).collect();
        assert_eq!(
            shape,
            vec![
                (Some(1), Some(1), true),
                (Some(2), Some(2), false),
                (Some(3), Some(3), false),
                (None, Some(4), false),
                (Some(4), Some(5), true)
            ]
        );
    }

    #[test]
    fn render_serializes_to_json() {
        let diff = TextDiff::new("a\r\nb", "a\r\nc", &DiffOptions::default());
        let render = diff.render(&RenderOptions::default());
        let json = serde_json::to_string(&render).unwrap_or_default();
        assert!(json.contains(r#""terminator":"crlf""#), "{json}");
        assert!(json.contains(r#""terminator":"none""#), "{json}");
        let back: FileRender<'_> = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, render);
    }

    mod properties {
        use super::super::{Expand, RenderOptions, RowKind};
        use crate::line_diff::{DiffOptions, TextDiff, WhitespaceMode};
        use crate::test_support::text_pair;
        use proptest::prelude::*;

        proptest! {
            /// Gaps expanded plus hunk rows rebuild both texts; every segment list rejoins its line.
            #[test]
            fn hunks_and_gaps_cover_both_texts((old, new) in text_pair(40), context in 0usize..4, ws in 0u8..3) {
                let whitespace = [WhitespaceMode::Exact, WhitespaceMode::IgnoreAll, WhitespaceMode::IgnoreAmount][ws as usize];
                let diff = TextDiff::new(&old, &new, &DiffOptions { whitespace });
                let render = diff.render(&RenderOptions { context, word_highlights: true });
                prop_assert_eq!(render.gaps.len(), render.hunks.len() + 1);
                let (mut rebuilt_old, mut rebuilt_new) = (String::new(), String::new());
                let mut push = |row: &super::super::Row<'_>| {
                    for (cell, out) in [(&row.old, &mut rebuilt_old), (&row.new, &mut rebuilt_new)] {
                        if let Some(cell) = cell {
                            out.push_str(&cell.text);
                            out.push_str(cell.terminator.as_str());
                            if let Some(segs) = &cell.segments {
                                assert_eq!(segs.iter().map(|s| s.text.as_ref()).collect::<String>(), cell.text);
                            }
                        }
                    }
                };
                for (i, gap) in render.gaps.iter().enumerate() {
                    for row in diff.expand_gap(gap, Expand::All) {
                        prop_assert_eq!(row.kind, RowKind::Context);
                        push(&row);
                    }
                    if let Some(hunk) = render.hunks.get(i) {
                        for row in &hunk.rows {
                            push(row);
                        }
                    }
                }
                prop_assert_eq!(rebuilt_old, old);
                prop_assert_eq!(rebuilt_new, new);
            }
        }
    }
}
