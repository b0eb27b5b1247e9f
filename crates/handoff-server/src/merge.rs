//! Spec section merges: what to store when an edit's `base` is not the stored text. The 3-way
//! merge itself is `handoff_diff::merge`; this decides what its result means for the push.
//! Conflict markers are never produced: an overlap leaves the stored text alone.

use handoff_diff::MergeOutcome;

/// What to do with an incoming section edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SectionMerge {
    /// The stored text already equals the result: nothing to write.
    Unchanged,
    /// The stored text is the edit's base: store the edit as is.
    FastForward,
    /// Both sides changed different parts: store this merged text.
    Merged(String),
    /// The edits overlap: keep the stored text, record a conflict.
    Conflict,
}

/// Decides how `ours` (the incoming edit, made on `base`) meets `stored`.
pub fn merge_section(base: &str, stored: &str, ours: &str) -> SectionMerge {
    if stored == ours {
        return SectionMerge::Unchanged;
    }
    if stored == base {
        return SectionMerge::FastForward;
    }
    match handoff_diff::merge(base, ours, stored) {
        MergeOutcome::Clean { text } if text == stored => SectionMerge::Unchanged,
        MergeOutcome::Clean { text } => SectionMerge::Merged(text),
        MergeOutcome::Conflicted { .. } => SectionMerge::Conflict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_rules_table() {
        assert_eq!(merge_section("a\n", "a\n", "b\n"), SectionMerge::FastForward);
        assert_eq!(merge_section("a\n", "b\n", "b\n"), SectionMerge::Unchanged);
        assert_eq!(
            merge_section("a\n", "b\n", "a\n"),
            SectionMerge::Unchanged,
            "an edit that changes nothing keeps the stored text"
        );
        assert_eq!(merge_section("a\n", "b\n", "c\n"), SectionMerge::Conflict);
        let base = "one\ntwo\nthree\nfour\nfive\n";
        let stored = "ONE\ntwo\nthree\nfour\nfive\n";
        let ours = "one\ntwo\nthree\nfour\nFIVE\n";
        assert_eq!(merge_section(base, stored, ours), SectionMerge::Merged("ONE\ntwo\nthree\nfour\nFIVE\n".into()));
    }
}
