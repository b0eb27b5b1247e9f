//! Patch output: the unified patch of any two texts, at any context, applies back to the old
//! text and gives the new one exactly (terminators, CRLF and a missing last newline included).
#![no_main]

use handoff_diff::line_diff::{DiffOptions, TextDiff};
use handoff_diff::patch::{PatchOptions, text_patch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String, u8)| {
    let (old, new, context) = input;
    let diff = TextDiff::new(&old, &new, &DiffOptions::default());
    let patch = text_patch(&diff, "a/file", "b/file", &PatchOptions { context: usize::from(context % 8), ..PatchOptions::default() });
    if old == new {
        assert!(patch.is_empty(), "equal texts have an empty patch");
        return;
    }
    match handoff_fuzz::apply_unified(&old, &patch) {
        Ok(applied) => assert_eq!(applied, new, "the patch does not give the new text:\n{patch}"),
        Err(e) => panic!("the patch does not apply: {e}\n{patch}"),
    }
});
