//! No input makes this crate panic: arbitrary bytes, huge lines, many lines, empty texts.

use proptest::prelude::*;

use crate::anchor::{Anchor, carry_anchor};
use crate::line_diff::{DiffOptions, TextDiff, WhitespaceMode};
use crate::lines::{Content, classify};
use crate::merge::{MarkerStyle, MergeOutcome, merge, render_conflict_markers};
use crate::patch::tests::apply;
use crate::patch::{PatchOptions, text_patch};
use crate::render::{Expand, Gap, RenderOptions};
use crate::revision::{ManifestFile, RevisionDiffOptions, diff_revisions};

fn exercise(old: &str, new: &str) {
    for whitespace in [WhitespaceMode::Exact, WhitespaceMode::IgnoreAll, WhitespaceMode::IgnoreAmount] {
        let diff = TextDiff::new(old, new, &DiffOptions { whitespace });
        let render = diff.render(&RenderOptions { context: 2, word_highlights: true });
        let _ = render.side_by_side();
        for gap in &render.gaps {
            let _ = diff.expand_gap(gap, Expand::Top(2));
            let _ = diff.expand_gap(gap, Expand::Bottom(usize::MAX));
        }
        let _ = diff.expand_gap(&Gap { old_start: usize::MAX, new_start: 0, len: usize::MAX }, Expand::All);
        let patch = text_patch(&diff, "a/f", "b/f", &PatchOptions { context: 1, ..PatchOptions::default() });
        assert_eq!(apply(old, &patch).as_deref(), Some(new));
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(old in prop::collection::vec(any::<u8>(), 0..300), new in prop::collection::vec(any::<u8>(), 0..300), base in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = classify(&old);
        let (o, n, b) = (String::from_utf8_lossy(&old), String::from_utf8_lossy(&new), String::from_utf8_lossy(&base));
        exercise(&o, &n);
        if let MergeOutcome::Conflicted { regions } = merge(&b, &o, &n) {
            let _ = render_conflict_markers(&regions, &MarkerStyle::default());
        }
        let anchor = Anchor { path: "f".into(), start: 1 + old.len() % 7, end: 1 + old.len() % 7 + new.len() % 3, text: b.to_string() };
        let _ = carry_anchor(&anchor, &o, &n, "f");
        let mut blobs = std::collections::HashMap::new();
        let mut manifest = |bytes: &[u8], path: &str| {
            let f = ManifestFile::from_bytes(path, bytes, bytes.len().is_multiple_of(2));
            blobs.insert(f.sha256.clone(), bytes.to_vec());
            vec![f]
        };
        let (om, nm) = (manifest(&old, "x"), manifest(&new, if base.len().is_multiple_of(2) { "x" } else { "y" }));
        let diff = diff_revisions(&om, &nm, &&blobs, &RevisionDiffOptions::default());
        prop_assert!(diff.is_ok());
    }
}

#[test]
fn large_and_degenerate_inputs() {
    let many_empty = "\n".repeat(300_000);
    let many_empty_changed = format!("{}x\n{}", "\n".repeat(150_000), "\n".repeat(150_000));
    exercise(&many_empty, &many_empty_changed);
    let long_line = "word ".repeat(400_000);
    let long_line_changed = format!("{}changed {}", "word ".repeat(200_000), "word ".repeat(199_999));
    exercise(&long_line, &long_line_changed);
    exercise("", "");
    exercise("\r", "\r\n");
    exercise("\r\n", "");
    assert_eq!(classify(&[0xc3]), Content::Binary);
}

/// Run by hand: `cargo test -p handoff-diff --release -- --ignored huge`. 200 MB texts.
#[test]
#[ignore = "allocates several GB; run by hand in release"]
fn huge_inputs_do_not_panic() {
    let line = "The quick brown fox jumps over the lazy dog, again and again.\n";
    let old = line.repeat(200_000_000 / line.len());
    let mut new = old.clone();
    new.insert_str(new.len() / 2, "an inserted line\n");
    let diff = TextDiff::new(&old, &new, &DiffOptions::default());
    assert_eq!(diff.stats().added, 1);
    let render = diff.render(&RenderOptions::default());
    assert_eq!(render.hunks.len(), 1);
    let single = "x".repeat(200_000_000);
    let diff = TextDiff::new(&single, "x", &DiffOptions::default());
    assert_eq!(diff.stats().removed, 1);
}
