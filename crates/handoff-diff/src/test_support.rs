//! Strategies shared by the property tests.

use proptest::prelude::*;

/// Lines chosen from a small vocabulary, so random texts share lines and diffs are interesting.
const VOCABULARY: &[&str] = &["a", "b", "c", "", "  a", "a ", "x y z", "fn f() {", "}", "é ü", "\t"];

/// A text of up to `max_lines` lines with mixed LF/CRLF terminators and an optional final newline.
pub(crate) fn text(max_lines: usize) -> impl Strategy<Value = String> {
    (prop::collection::vec((0..VOCABULARY.len(), 0..4u8), 0..max_lines), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut out = String::new();
        let count = lines.len();
        for (k, (word, term)) in lines.into_iter().enumerate() {
            out.push_str(VOCABULARY[word]);
            if k + 1 < count || final_newline {
                out.push_str(if term == 0 { "\r\n" } else { "\n" });
            }
        }
        out
    })
}

/// A text and an edited version of it (lines replaced, inserted, deleted).
pub(crate) fn text_pair(max_lines: usize) -> impl Strategy<Value = (String, String)> {
    (text(max_lines), text(max_lines), prop::collection::vec(any::<u8>(), 0..max_lines)).prop_map(|(old, other, picks)| {
        // Mix: keep each old line or take one from `other`, so the two share most lines.
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let other_lines: Vec<&str> = other.split_inclusive('\n').collect();
        let mut new = String::new();
        for (i, line) in old_lines.iter().enumerate() {
            let pick = picks.get(i).copied().unwrap_or(0);
            match pick % 8 {
                0 => {}
                1 => {
                    new.push_str(line);
                    if let Some(extra) = other_lines.get(i % other_lines.len().max(1)) {
                        new.push_str(extra);
                    }
                }
                2 => new.push_str(other_lines.get(i % other_lines.len().max(1)).copied().unwrap_or("")),
                _ => new.push_str(line),
            }
        }
        // Keep the result's lines well-formed: only the very end may lack a newline.
        let new = new
            .split_inclusive('\n')
            .map(|l| if l.ends_with('\n') { l.to_string() } else { format!("{l}\n") })
            .collect::<String>();
        let new = if picks.first().is_some_and(|p| p % 2 == 1) { new.trim_end_matches(['\r', '\n']).to_string() } else { new };
        (old, new)
    })
}
