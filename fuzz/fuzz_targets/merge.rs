//! 3-way merge: never panics; with no edits on one side it is the other side; a conflicted
//! merge renders its markers; a clean merge of two sides that made the same edit is that edit.
#![no_main]

use handoff_diff::merge::{MarkerStyle, MergeOutcome, merge, render_conflict_markers};
use libfuzzer_sys::fuzz_target;

fn clean(text: &str) -> MergeOutcome {
    MergeOutcome::Clean { text: text.to_owned() }
}

fuzz_target!(|input: (String, String, String)| {
    let (base, ours, theirs) = input;
    assert_eq!(merge(&base, &base, &theirs), clean(&theirs), "ours is the base: theirs wins");
    assert_eq!(merge(&base, &ours, &base), clean(&ours), "theirs is the base: ours wins");
    assert_eq!(merge(&base, &ours, &ours), clean(&ours), "both made the same edit");
    match merge(&base, &ours, &theirs) {
        MergeOutcome::Clean { .. } => {}
        MergeOutcome::Conflicted { regions } => {
            let _ = render_conflict_markers(&regions, &MarkerStyle::default());
        }
    }
});
