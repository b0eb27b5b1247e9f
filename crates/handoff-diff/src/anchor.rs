//! Carrying review-thread anchors from the revision they were made on to a later one.
//!
//! An anchor is never lost: unchanged lines map exactly; changed lines map to where their
//! replacement is (marked outdated); a removed file keeps the anchor as `file_removed` with its
//! original text. Map from the anchor's own revision straight to the target revision (one diff
//! N→M), not step by step: after a step marks an anchor outdated, its recorded text no longer
//! describes the lines it points at.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::DiffError;
use crate::line_diff::{DiffOptions, TextDiff};
use crate::lines::{Content, Line, classify};
use crate::revision::{ContentSource, FileChange, FileContent, RevisionDiff};

/// Where a thread was made: lines `start..=end` (1-based) of `path` in its revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Anchor {
    /// File path in the anchor's revision.
    pub path: String,
    /// First anchored line, 1-based.
    pub start: usize,
    /// Last anchored line, 1-based, inclusive.
    pub end: usize,
    /// Text of the anchored lines when the thread was made (terminators optional).
    pub text: String,
}

/// An inclusive, 1-based line range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LineSpan {
    /// First line, 1-based.
    pub start: usize,
    /// Last line, 1-based, inclusive.
    pub end: usize,
}

/// How faithfully an anchor could be carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnchorState {
    /// The anchored lines are unchanged; `lines` is their new position.
    Current,
    /// The anchored lines changed; `lines` is the nearest surviving position (if any).
    Outdated,
    /// The file was removed; the anchor keeps its original text only.
    FileRemoved,
}

/// An anchor's position in a later revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AnchorPosition {
    /// Path in the later revision (follows renames; the old path when removed).
    pub path: String,
    /// Position in the later revision; `None` when the file is gone, empty or binary.
    pub lines: Option<LineSpan>,
    /// Whether the anchor is current, outdated or on a removed file.
    pub state: AnchorState,
    /// The anchor as made, text included.
    pub original: Anchor,
}

fn validate(anchor: &Anchor) -> Result<(), DiffError> {
    if anchor.start == 0 || anchor.end < anchor.start {
        return Err(DiffError::InvalidAnchor { start: anchor.start, end: anchor.end });
    }
    Ok(())
}

/// Whether `recorded` (the anchor's text) matches the old lines `range` (0-based), ignoring
/// terminators; an empty recorded text is taken on trust.
fn text_matches(diff: &TextDiff<'_>, recorded: &str, range: std::ops::Range<usize>) -> bool {
    if recorded.is_empty() {
        return true;
    }
    let mut recorded_lines = recorded.split_inclusive('\n').map(|raw| Line::from_raw(raw).text);
    range.clone().all(|i| recorded_lines.next() == Some(diff.old_side().line(i).text)) && recorded_lines.next().is_none()
}

/// The nearest new position (0-based) of old line `i`: its own if unchanged, otherwise the
/// first (`first = true`) or last line of whatever replaced it, or the line after a deletion.
fn nearest(diff: &TextDiff<'_>, i: usize, first: bool) -> usize {
    if let Some(n) = diff.old_to_new(i) {
        return n;
    }
    let changes = diff.changes();
    let idx = changes.partition_point(|c| c.old.start <= i);
    match idx.checked_sub(1).and_then(|k| changes.get(k)) {
        Some(c) if i < c.old.end => {
            if c.new.is_empty() || first {
                c.new.start
            } else {
                c.new.end - 1
            }
        }
        // Past the end of the old text: the end of the new one.
        _ => diff.new_side().len(),
    }
}

/// Carries one anchor across a text change; `new_path` is where the file lives now.
pub fn carry_anchor(anchor: &Anchor, old_text: &str, new_text: &str, new_path: &str) -> Result<AnchorPosition, DiffError> {
    validate(anchor)?;
    let diff = TextDiff::new(old_text, new_text, &DiffOptions::default());
    Ok(carry_with(anchor, &diff, new_path))
}

/// Carries a validated anchor with an already computed diff of its file.
fn carry_with(anchor: &Anchor, diff: &TextDiff<'_>, new_path: &str) -> AnchorPosition {
    let (a, b) = (anchor.start - 1, anchor.end - 1);
    let old_len = diff.old_side().len();
    let new_len = diff.new_side().len();
    let in_range = b < old_len;
    let exact = in_range
        && text_matches(diff, &anchor.text, a..b + 1)
        // Every line unchanged, and nothing inserted between them: a line replaced inside the
        // range by one of the same count keeps both ends and their distance, so the ends alone
        // do not tell.
        && (a..=b).all(|i| diff.old_to_new(i).is_some())
        && match (diff.old_to_new(a), diff.old_to_new(b)) {
            (Some(na), Some(nb)) => nb - na == b - a,
            _ => false,
        };
    let position = |state: AnchorState, lines: Option<LineSpan>| AnchorPosition {
        path: new_path.to_string(),
        lines,
        state,
        original: anchor.clone(),
    };
    if exact {
        let start = diff.old_to_new(a).unwrap_or(a) + 1;
        return position(AnchorState::Current, Some(LineSpan { start, end: start + (b - a) }));
    }
    if new_len == 0 {
        return position(AnchorState::Outdated, None);
    }
    let last = new_len - 1;
    let start = nearest(diff, a.min(old_len.saturating_sub(1)), true).min(last);
    let end = nearest(diff, b.min(old_len.saturating_sub(1)), false).min(last).max(start);
    position(AnchorState::Outdated, Some(LineSpan { start: start + 1, end: end + 1 }))
}

/// Carries anchors made on the old side of `diff` to its new side, following renames.
///
/// Files absent from the diff are unchanged, so their anchors stay where they are. Each changed
/// file is diffed once however many anchors it has; results are in the order of `anchors`.
pub fn carry_anchors<'c>(
    anchors: &[Anchor],
    diff: &RevisionDiff,
    contents: &impl ContentSource<'c>,
) -> Result<Vec<AnchorPosition>, DiffError> {
    anchors.iter().try_for_each(validate)?;
    let by_old_path: HashMap<&str, &FileChange> =
        diff.files.iter().filter_map(|f| f.old.as_ref().map(|o| (o.path.as_str(), f))).collect();
    let text = |sha: &str| match contents.content(sha).map(classify) {
        Some(Content::Text(t)) => Some(t),
        _ => None,
    };
    let mut diffs: HashMap<&str, Option<TextDiff<'c>>> = HashMap::new();
    let mut out = Vec::with_capacity(anchors.len());
    for anchor in anchors {
        let unchanged = |path: &str| AnchorPosition {
            path: path.to_string(),
            lines: Some(LineSpan { start: anchor.start, end: anchor.end }),
            state: AnchorState::Current,
            original: anchor.clone(),
        };
        let Some(change) = by_old_path.get(anchor.path.as_str()) else {
            out.push(unchanged(&anchor.path));
            continue;
        };
        let (Some(old), Some(new)) = (&change.old, &change.new) else {
            out.push(AnchorPosition {
                path: anchor.path.clone(),
                lines: None,
                state: AnchorState::FileRemoved,
                original: anchor.clone(),
            });
            continue;
        };
        if change.content == FileContent::Unchanged || old.sha256 == new.sha256 {
            out.push(unchanged(&new.path));
            continue;
        }
        let file_diff = diffs.entry(old.path.as_str()).or_insert_with(|| {
            let (o, n) = (text(&old.sha256)?, text(&new.sha256)?);
            Some(TextDiff::new(o, n, &DiffOptions::default()))
        });
        out.push(match file_diff {
            Some(d) => carry_with(anchor, d, &new.path),
            // Binary or unavailable contents: the file is known, the lines are not.
            None => {
                AnchorPosition { path: new.path.clone(), lines: None, state: AnchorState::Outdated, original: anchor.clone() }
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use crate::revision::{ManifestFile, RevisionDiffOptions, diff_revisions};

    fn anchor(path: &str, start: usize, end: usize, text: &str) -> Anchor {
        Anchor { path: path.into(), start, end, text: text.into() }
    }

    fn carried(old: &str, new: &str, start: usize, end: usize, text: &str) -> (AnchorState, Option<(usize, usize)>) {
        let pos = carry_anchor(&anchor("f", start, end, text), old, new, "f").expect("valid anchor");
        (pos.state, pos.lines.map(|l| (l.start, l.end)))
    }

    #[test]
    fn table_of_anchor_moves() {
        use AnchorState::*;
        let old = "a\nb\nc\nd\ne\n";
        type Expected = (AnchorState, Option<(usize, usize)>);
        let cases: &[(&str, &str, usize, usize, &str, Expected)] = &[
            ("unchanged file", old, 2, 3, "b\nc\n", (Current, Some((2, 3)))),
            ("lines above inserted", "x\ny\na\nb\nc\nd\ne\n", 2, 3, "b\nc", (Current, Some((4, 5)))),
            ("lines above removed", "c\nd\ne\n", 4, 5, "d\ne\n", (Current, Some((2, 3)))),
            ("anchored line edited", "a\nB\nc\nd\ne\n", 2, 2, "b\n", (Outdated, Some((2, 2)))),
            ("line inserted inside range", "a\nb\nX\nc\nd\ne\n", 2, 3, "b\nc\n", (Outdated, Some((2, 4)))),
            ("line replaced inside range", "a\nb\nX\nd\ne\n", 2, 4, "b\nc\nd\n", (Outdated, Some((2, 4)))),
            ("anchored lines deleted", "a\nd\ne\n", 2, 3, "b\nc\n", (Outdated, Some((2, 2)))),
            ("deleted at the end", "a\nb\nc\n", 4, 5, "d\ne\n", (Outdated, Some((3, 3)))),
            ("file emptied", "", 1, 1, "a\n", (Outdated, None)),
            ("recorded text differs", old, 2, 2, "not b", (Outdated, Some((2, 2)))),
            ("anchor past the end", old, 9, 9, "z", (Outdated, Some((5, 5)))),
            ("crlf text recorded", "a\nb\nc\nd\ne\n", 1, 1, "a\r\n", (Current, Some((1, 1)))),
        ];
        for (name, new, start, end, text, expected) in cases {
            assert_eq!(carried(old, new, *start, *end, text), *expected, "{name}");
        }
    }

    #[test]
    fn invalid_anchors_are_errors() {
        assert_eq!(carry_anchor(&anchor("f", 0, 1, ""), "a", "a", "f"), Err(DiffError::InvalidAnchor { start: 0, end: 1 }));
        assert_eq!(carry_anchor(&anchor("f", 3, 2, ""), "a", "a", "f"), Err(DiffError::InvalidAnchor { start: 3, end: 2 }));
    }

    #[test]
    fn anchors_follow_renames_and_survive_removal() {
        let mut blobs = HashMap::new();
        let mut file = |path: &str, text: &str| {
            let f = ManifestFile::from_bytes(path, text.as_bytes(), false);
            blobs.insert(f.sha256.clone(), text.as_bytes().to_vec());
            f
        };
        let old = vec![file("spec.md", "one\ntwo\nthree\nfour\nfive\nsix\n"), file("gone.md", "bye\n"), file("same.md", "s\n")];
        let new = vec![file("docs/spec.md", "zero\none\ntwo\nthree\nfour\nfive\nsix\n"), file("same.md", "s\n")];
        let diff = diff_revisions(&old, &new, &&blobs, &RevisionDiffOptions::default()).expect("valid");
        let anchors = [anchor("spec.md", 2, 3, "two\nthree\n"), anchor("gone.md", 1, 1, "bye\n"), anchor("same.md", 1, 1, "s\n")];
        let got: Vec<(String, AnchorState, Option<LineSpan>)> =
            carry_anchors(&anchors, &diff, &&blobs).expect("valid").into_iter().map(|p| (p.path, p.state, p.lines)).collect();
        assert_eq!(
            got,
            vec![
                ("docs/spec.md".into(), AnchorState::Current, Some(LineSpan { start: 3, end: 4 })),
                ("gone.md".into(), AnchorState::FileRemoved, None),
                ("same.md".into(), AnchorState::Current, Some(LineSpan { start: 1, end: 1 })),
            ]
        );
    }

    mod properties {
        use super::super::{Anchor, AnchorState, carry_anchor};
        use crate::line_diff::{DiffOptions, TextDiff};
        use crate::test_support::text_pair;
        use proptest::prelude::*;

        proptest! {
            /// Anchors on unchanged lines map exactly, keep their text, and keep their order.
            #[test]
            fn unchanged_lines_map_exactly_and_monotonically((old, new) in text_pair(40)) {
                let diff = TextDiff::new(&old, &new, &DiffOptions::default());
                let mut last: Option<usize> = None;
                for i in 0..diff.old_side().len() {
                    let text = diff.old_side().raw(i).to_string();
                    let anchor = Anchor { path: "f".into(), start: i + 1, end: i + 1, text };
                    let pos = carry_anchor(&anchor, &old, &new, "f").map_err(|e| TestCaseError::fail(e.to_string()))?;
                    match diff.old_to_new(i) {
                        Some(n) => {
                            prop_assert_eq!(pos.state, AnchorState::Current);
                            let lines = pos.lines.ok_or_else(|| TestCaseError::fail("no lines"))?;
                            prop_assert_eq!((lines.start, lines.end), (n + 1, n + 1));
                            prop_assert_eq!(diff.new_side().line(n).text, diff.old_side().line(i).text);
                            prop_assert!(last.is_none_or(|l| l < n));
                            last = Some(n);
                        }
                        None => prop_assert_eq!(pos.state, AnchorState::Outdated),
                    }
                }
            }

            /// Any range, valid or past the end, lands inside the new text or reports no lines.
            #[test]
            fn any_anchor_lands_in_bounds((old, new) in text_pair(30), start in 1usize..40, len in 0usize..10) {
                let anchor = Anchor { path: "f".into(), start, end: start + len, text: String::new() };
                let pos = carry_anchor(&anchor, &old, &new, "f").map_err(|e| TestCaseError::fail(e.to_string()))?;
                let new_len = new.split_inclusive('\n').count();
                match pos.lines {
                    Some(l) => prop_assert!(1 <= l.start && l.start <= l.end && l.end <= new_len),
                    None => prop_assert_eq!(new_len, 0),
                }
            }
        }
    }
}
