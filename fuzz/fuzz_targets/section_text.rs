//! The Rust side of the markdown input path. Spec sections are markdown that the UI renders
//! and sanitizes (marked + DOMPurify, in TypeScript); before that, Rust validates the text,
//! 3-way merges concurrent edits of it (the `merge` target), and carries thread anchors
//! across versions of a text. These never panic, and a carried anchor lands inside the new
//! text.
#![no_main]

use handoff_core::validate;
use handoff_diff::anchor::{Anchor, carry_anchor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String, u8, u8)| {
    let (old, new, start, span) = input;
    let _ = validate::section(&old);
    let start = usize::from(start % 64) + 1;
    let end = start + usize::from(span % 8);
    let text = old.lines().skip(start - 1).take(end - start + 1).collect::<Vec<_>>().join("\n");
    let anchor = Anchor { path: "notes.md".into(), start, end, text };
    if let Ok(position) = carry_anchor(&anchor, &old, &new, "notes.md") {
        if let Some(lines) = position.lines {
            let count = new.lines().count().max(1);
            assert!(
                1 <= lines.start && lines.start <= lines.end && lines.end <= count,
                "anchor {start}-{end} carried to {}-{} of a {count}-line text",
                lines.start,
                lines.end
            );
        }
    }
});
