//! 3-way merge of text, for spec sections edited concurrently.
//!
//! Both sides are diffed against the base with the line diff of this crate; changes from the two
//! sides that overlap in the base form a group, and a group where the sides disagree is a
//! conflict. The stored result is structured ([`Region`]); conflict markers are only a rendering.
//!
//! **Adjacent edits merge cleanly.** Git reports a conflict when the two sides edit neighbouring
//! lines with no unchanged line between them; here two edits conflict only when they touch a
//! common base line, or both insert at the same point. Spec sections are prose and lists in
//! which people routinely edit consecutive paragraphs or items; in asynchronous work a false
//! conflict costs a round trip between time zones, while the merged text still contains each
//! side's edit exactly. An insertion right before (or after) a line the other side edited lands
//! before (or after) that edit.

use serde::{Deserialize, Serialize};

use crate::line_diff::{Change, WhitespaceMode, compute_changes};
use crate::lines::LineIndex;

/// A piece of a conflicted merge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Region {
    /// Text both sides agree on (including one side's uncontested edits).
    Stable {
        /// The text.
        text: String,
    },
    /// Text the sides changed differently.
    Conflict {
        /// The base's version of the region.
        base: String,
        /// Our version.
        ours: String,
        /// Their version.
        theirs: String,
    },
}

/// The result of a 3-way merge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MergeOutcome {
    /// Every edit merged; the merged text.
    Clean {
        /// The merged text.
        text: String,
    },
    /// Some edits conflict; regions in order, concatenating stable text and one side per conflict.
    Conflicted {
        /// Stable and conflicting regions, in order; adjacent stable text is joined.
        regions: Vec<Region>,
    },
}

/// A change from one side, tagged with its side.
#[derive(Clone)]
struct Sided<'c> {
    ours: bool,
    change: &'c Change,
}

/// Whether `c` overlaps a group spanning base lines `start..end` (see the module docs).
fn overlaps(c: &Change, start: usize, end: usize) -> bool {
    let (s, e) = (c.old.start, c.old.end);
    match (s == e, start == end) {
        (false, false) => s < end && start < e,
        (true, false) => start < s && s < end,
        (false, true) => s < start && start < e,
        (true, true) => s == start,
    }
}

/// Merges `ours` and `theirs`, both descended from `base`.
///
/// `merge(b, b, x) == merge(b, x, b) == merge(b, x, x) == Clean(x)`.
pub fn merge(base: &str, ours: &str, theirs: &str) -> MergeOutcome {
    // Shortcuts that also make the merge laws hold trivially for equal inputs.
    if ours == theirs || base == theirs {
        return MergeOutcome::Clean { text: ours.to_string() };
    }
    if base == ours {
        return MergeOutcome::Clean { text: theirs.to_string() };
    }
    let (b, o, t) = (LineIndex::new(base), LineIndex::new(ours), LineIndex::new(theirs));
    let ours_changes = compute_changes(&b, &o, WhitespaceMode::Exact);
    let theirs_changes = compute_changes(&b, &t, WhitespaceMode::Exact);
    let mut all: Vec<Sided<'_>> = ours_changes
        .iter()
        .map(|change| Sided { ours: true, change })
        .chain(theirs_changes.iter().map(|change| Sided { ours: false, change }))
        .collect();
    // Insertions sort before changes starting at the same line, so they land before them.
    all.sort_by_key(|s| (s.change.old.start, s.change.old.end, !s.ours));

    let mut regions: Vec<Region> = Vec::new();
    let mut stable = String::new();
    let mut base_pos = 0;
    let mut i = 0;
    while i < all.len() {
        let (mut start, mut end) = (all[i].change.old.start, all[i].change.old.end);
        let mut j = i + 1;
        while j < all.len() && overlaps(all[j].change, start, end) {
            start = start.min(all[j].change.old.start);
            end = end.max(all[j].change.old.end);
            j += 1;
        }
        let group = &all[i..j];
        stable.push_str(b.raw_range(base_pos..start));
        let side = |is_ours: bool, index: &LineIndex<'_>| -> String {
            let mut out = String::new();
            let mut pos = start;
            for s in group.iter().filter(|s| s.ours == is_ours) {
                out.push_str(b.raw_range(pos..s.change.old.start));
                out.push_str(index.raw_range(s.change.new.clone()));
                pos = s.change.old.end;
            }
            out.push_str(b.raw_range(pos..end));
            out
        };
        let ours_text = side(true, &o);
        let theirs_text = side(false, &t);
        let base_text = b.raw_range(start..end);
        if ours_text == theirs_text || theirs_text == base_text {
            stable.push_str(&ours_text);
        } else if ours_text == base_text {
            stable.push_str(&theirs_text);
        } else {
            if !stable.is_empty() {
                regions.push(Region::Stable { text: std::mem::take(&mut stable) });
            }
            regions.push(Region::Conflict { base: base_text.to_string(), ours: ours_text, theirs: theirs_text });
        }
        base_pos = end;
        i = j;
    }
    stable.push_str(b.raw_range(base_pos..b.len()));
    if regions.is_empty() {
        return MergeOutcome::Clean { text: stable };
    }
    if !stable.is_empty() {
        regions.push(Region::Stable { text: stable });
    }
    MergeOutcome::Conflicted { regions }
}

/// Labels and style for [`render_conflict_markers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MarkerStyle<'l> {
    /// Shown after `<<<<<<<`.
    pub ours_label: &'l str,
    /// Shown after `>>>>>>>`.
    pub theirs_label: &'l str,
    /// Also show the base between `|||||||` and `=======` (git's `diff3` style).
    pub with_base: bool,
}

impl Default for MarkerStyle<'_> {
    fn default() -> Self {
        MarkerStyle { ours_label: "ours", theirs_label: "theirs", with_base: false }
    }
}

/// Renders regions with git-style conflict markers, for display or export only.
///
/// A side that does not end with a newline gets one before the next marker, so this rendering
/// is not byte-faithful; the regions are the stored form.
pub fn render_conflict_markers(regions: &[Region], style: &MarkerStyle<'_>) -> String {
    let mut out = String::new();
    let push_block = |out: &mut String, text: &str| {
        out.push_str(text);
        if !text.is_empty() && !text.ends_with('\n') {
            out.push('\n');
        }
    };
    for region in regions {
        match region {
            Region::Stable { text } => out.push_str(text),
            Region::Conflict { base, ours, theirs } => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("<<<<<<< {}\n", style.ours_label));
                push_block(&mut out, ours);
                if style.with_base {
                    out.push_str("||||||| base\n");
                    push_block(&mut out, base);
                }
                out.push_str("=======\n");
                push_block(&mut out, theirs);
                out.push_str(&format!(">>>>>>> {}\n", style.theirs_label));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(outcome: &MergeOutcome) -> String {
        match outcome {
            MergeOutcome::Clean { text } => format!("clean:{text}"),
            MergeOutcome::Conflicted { regions } => {
                format!("conflict:{}", render_conflict_markers(regions, &MarkerStyle { with_base: true, ..Default::default() }))
            }
        }
    }

    #[test]
    fn table_of_merges() {
        let base = "a\nb\nc\nd\ne\n";
        let cases: &[(&str, &str, &str, &str)] = &[
            ("ours only", "a\nB\nc\nd\ne\n", base, "clean:a\nB\nc\nd\ne\n"),
            ("theirs only", base, "a\nb\nc\nD\ne\n", "clean:a\nb\nc\nD\ne\n"),
            ("same edit both", "a\nX\nc\nd\ne\n", "a\nX\nc\nd\ne\n", "clean:a\nX\nc\nd\ne\n"),
            ("separate edits", "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "clean:A\nb\nc\nd\nE\n"),
            ("adjacent edits merge", "a\nB\nc\nd\ne\n", "a\nb\nC\nd\ne\n", "clean:a\nB\nC\nd\ne\n"),
            ("insert before other's edit", "a\nnew\nb\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "clean:a\nnew\nB\nc\nd\ne\n"),
            ("delete next to edit", "a\nc\nd\ne\n", "a\nb\nC\nd\ne\n", "clean:a\nC\nd\ne\n"),
            (
                "same line differently",
                "a\nours\nc\nd\ne\n",
                "a\ntheirs\nc\nd\ne\n",
                "conflict:a\n<<<<<<< ours\nours\n||||||| base\nb\n=======\ntheirs\n>>>>>>> theirs\nc\nd\ne\n",
            ),
            (
                "both insert at the same point",
                "a\nb\nc\nd\ne\nX\n",
                "a\nb\nc\nd\ne\nY\n",
                "conflict:a\nb\nc\nd\ne\n<<<<<<< ours\nX\n||||||| base\n=======\nY\n>>>>>>> theirs\n",
            ),
            (
                "edit vs delete",
                "a\nB\nc\nd\ne\n",
                "a\nc\nd\ne\n",
                "conflict:a\n<<<<<<< ours\nB\n||||||| base\nb\n=======\n>>>>>>> theirs\nc\nd\ne\n",
            ),
            ("missing final newline kept", "a\nb\nc\nd\ne", "A\nb\nc\nd\ne\n", "clean:A\nb\nc\nd\ne"),
        ];
        for (name, ours, theirs, expected) in cases {
            assert_eq!(show(&merge(base, ours, theirs)), *expected, "{name}");
        }
    }

    #[test]
    fn conflict_regions_are_structured() {
        let got = merge("x\n", "o\n", "t");
        assert_eq!(
            got,
            MergeOutcome::Conflicted {
                regions: vec![Region::Conflict { base: "x\n".into(), ours: "o\n".into(), theirs: "t".into() }]
            }
        );
        let MergeOutcome::Conflicted { regions } = got else { return };
        assert_eq!(render_conflict_markers(&regions, &MarkerStyle::default()), "<<<<<<< ours\no\n=======\nt\n>>>>>>> theirs\n");
    }

    mod properties {
        use super::super::{MergeOutcome, merge};
        use crate::test_support::{text, text_pair};
        use proptest::prelude::*;

        fn clean(text: &str) -> MergeOutcome {
            MergeOutcome::Clean { text: text.to_string() }
        }

        /// Applies edits `(start, delete, insert)` (sorted, disjoint) to unique base lines.
        fn edit(base: &[String], edits: &[(usize, usize, Vec<String>)]) -> String {
            let mut out = String::new();
            let mut pos = 0;
            for (start, delete, insert) in edits {
                out.extend(base[pos..*start].iter().cloned());
                out.extend(insert.iter().cloned());
                pos = start + delete;
            }
            out.extend(base[pos..].iter().cloned());
            out
        }

        proptest! {
            #[test]
            fn merge_laws((b, x) in text_pair(30)) {
                prop_assert_eq!(merge(&b, &b, &x), clean(&x));
                prop_assert_eq!(merge(&b, &x, &b), clean(&x));
                prop_assert_eq!(merge(&b, &x, &x), clean(&x));
            }

            #[test]
            fn merge_laws_unrelated(b in text(20), x in text(20)) {
                prop_assert_eq!(merge(&b, &b, &x), clean(&x));
                prop_assert_eq!(merge(&b, &x, &b), clean(&x));
                prop_assert_eq!(merge(&b, &x, &x), clean(&x));
            }

            /// Edits on disjoint parts of the base (at least one untouched line between) merge
            /// cleanly into a text containing both.
            #[test]
            fn separate_edits_merge_cleanly(
                n in 4usize..30,
                split in 0.0f64..1.0,
                ours_edit in (0.0f64..1.0, 0usize..4, 0usize..4),
                theirs_edit in (0.0f64..1.0, 0usize..4, 0usize..4),
            ) {
                let base: Vec<String> = (0..n).map(|i| format!("line {i}\n")).collect();
                // Ours edits within [0, k), theirs within [k + 1, n): line k stays between them.
                let k = 1 + ((n - 3) as f64 * split) as usize;
                let place = |lo: usize, hi: usize, (at, del, ins): (f64, usize, usize), tag: &str| {
                    let start = lo + ((hi - lo) as f64 * at) as usize;
                    let delete = del.min(hi - start);
                    let insert: Vec<String> = (0..ins).map(|j| format!("{tag} {j}\n")).collect();
                    (start, delete, insert)
                };
                let o = place(0, k, ours_edit, "ours");
                let t = place(k + 1, n, theirs_edit, "theirs");
                let ours = edit(&base, std::slice::from_ref(&o));
                let theirs = edit(&base, std::slice::from_ref(&t));
                let expected = edit(&base, &[o, t]);
                prop_assert_eq!(merge(&base.concat(), &ours, &theirs), clean(&expected));
            }
        }
    }
}
