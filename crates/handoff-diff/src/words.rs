//! Word-level highlights inside a pair of changed lines.
//!
//! Lines are split into words (runs of letters, digits and `_`), whitespace runs, and single
//! punctuation characters, and the token sequences are diffed. Work is bounded per line:
//! - the common prefix and suffix tokens are stripped first (most edits are small);
//! - a short middle (up to 64×64 tokens) gets a minimal diff from a plain LCS table over token
//!   hashes: on the 12k line pairs of the large fixture this was about 3× faster than calling a
//!   general diff per pair, which is what dominated the render model's time;
//! - up to [`MAX_MYERS_TOKENS`] tokens, `similar`'s Myers (minimal, readable word diffs);
//! - longer, imara-diff's Histogram (near-linear on real text);
//! - past [`MAX_WORD_TOKENS`], the middle is emphasized whole;
//! - lines over [`MAX_HIGHLIGHT_LINE_BYTES`] get no highlights.
//!
//! Pairs with little in common get no highlights at all (see [`word_segments`]).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffTag};

use crate::line_diff::hash_bytes;

/// Up to this many tokens (per side, after stripping the common ends) the middle gets a minimal diff.
pub const MAX_MYERS_TOKENS: usize = 256;

/// Past this many tokens (per side, after stripping the common ends) the middle is not diffed.
pub const MAX_WORD_TOKENS: usize = 50_000;

/// Lines longer than this (bytes) get no highlights: tokenizing a minified megabyte line costs
/// more memory than a reader gains from coloured words in it.
pub const MAX_HIGHLIGHT_LINE_BYTES: usize = 1 << 20;

/// A piece of a line's text; a line's segments concatenate to exactly its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment<'a> {
    /// The text of this piece.
    #[serde(borrow)]
    pub text: Cow<'a, str>,
    /// Whether this piece was removed (on an old line) or added (on a new line).
    pub emphasized: bool,
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Word,
    Space,
    Other,
}

fn class_of(c: char) -> Class {
    if c.is_alphanumeric() || c == '_' {
        Class::Word
    } else if c.is_whitespace() {
        Class::Space
    } else {
        Class::Other
    }
}

/// Splits a line into word, whitespace-run and single-character tokens.
fn tokenize<'a>(line: &'a str, tokens: &mut Vec<&'a str>) {
    tokens.clear();
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut current: Option<Class> = None;
    let mut i = 0;
    while i < bytes.len() {
        // ASCII is classified from the byte; anything else is decoded (i is a char boundary).
        let (class, width) = match bytes[i] {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (Class::Word, 1),
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => (Class::Space, 1),
            0..=0x7f => (Class::Other, 1),
            _ => match line.get(i..).and_then(|rest| rest.chars().next()) {
                Some(c) => (class_of(c), c.len_utf8()),
                None => break,
            },
        };
        match current {
            Some(prev) if prev == class && class != Class::Other => {}
            Some(_) => {
                tokens.push(line.get(start..i).unwrap_or_default());
                start = i;
            }
            None => {}
        }
        current = Some(class);
        i += width;
    }
    if start < line.len() {
        tokens.push(line.get(start..).unwrap_or_default());
    }
}

/// Whether a token is a whitespace run (tokens are runs of one class, so the first char tells).
fn is_blank(token: &str) -> bool {
    token.chars().next().is_some_and(char::is_whitespace)
}

/// Up to this many DP cells (old middle × new middle tokens) the middle is diffed by a plain LCS
/// table, which on short lines is several times cheaper than setting up a general diff.
const MAX_TABLE_CELLS: usize = 64 * 64;

/// Reusable buffers, so highlighting thousands of line pairs does not allocate per pair.
#[derive(Default)]
pub(crate) struct WordScratch<'a> {
    old_tokens: Vec<&'a str>,
    new_tokens: Vec<&'a str>,
    old_hashes: Vec<u64>,
    new_hashes: Vec<u64>,
    old_bag: Vec<(u64, usize)>,
    new_bag: Vec<(u64, usize)>,
    old_marks: Vec<bool>,
    new_marks: Vec<bool>,
    table: Vec<u16>,
}

/// Computes highlight segments for a removed line and the added line it is paired with.
///
/// Returns `None` when the lines have too little in common for highlights to help (then the
/// whole line is the change). Each returned list concatenates to its input exactly.
pub fn word_segments<'a>(old: &'a str, new: &'a str) -> Option<(Vec<Segment<'a>>, Vec<Segment<'a>>)> {
    WordScratch::default().segments(old, new)
}

impl<'a> WordScratch<'a> {
    /// [`word_segments`] with reused buffers.
    pub(crate) fn segments(&mut self, old: &'a str, new: &'a str) -> Option<(Vec<Segment<'a>>, Vec<Segment<'a>>)> {
        if old == new {
            return Some((plain(old), plain(new)));
        }
        if old.len().max(new.len()) > MAX_HIGHLIGHT_LINE_BYTES {
            return None;
        }
        // The common part cannot exceed the shorter line, so very unequal lengths fail the
        // similarity test below whatever the diff finds: skip the work.
        let (old_len, new_len) = (old.trim().len(), new.trim().len());
        if old_len.min(new_len) * 4 < old_len.max(new_len) {
            return None;
        }
        let WordScratch { old_tokens, new_tokens, old_hashes, new_hashes, old_bag, new_bag, old_marks, new_marks, table } = self;
        tokenize(old, old_tokens);
        tokenize(new, new_tokens);
        let prefix = old_tokens.iter().zip(new_tokens.iter()).take_while(|(a, b)| a == b).count();
        let suffix = old_tokens[prefix..].iter().rev().zip(new_tokens[prefix..].iter().rev()).take_while(|(a, b)| a == b).count();
        let old_mid = &old_tokens[prefix..old_tokens.len() - suffix];
        let new_mid = &new_tokens[prefix..new_tokens.len() - suffix];

        let whole =
            old_mid.is_empty() || new_mid.is_empty() || old_mid.len() > MAX_WORD_TOKENS || new_mid.len() > MAX_WORD_TOKENS;
        if !whole {
            // Most paired lines in a rewritten passage share too little for highlights; an upper
            // bound on what they can share (ends plus the middles as bags of words) rejects them
            // before any alignment work.
            let ends: usize = old_tokens[..prefix]
                .iter()
                .chain(&old_tokens[old_tokens.len() - suffix..])
                .filter(|t| !is_blank(t))
                .map(|t| t.len())
                .sum();
            if (ends + bag_overlap(old_mid, new_mid, old_bag, new_bag)) * 4 < old_len.max(new_len) {
                return None;
            }
        }

        // Marks per token: true = changed.
        old_marks.clear();
        old_marks.resize(old_tokens.len(), false);
        new_marks.clear();
        new_marks.resize(new_tokens.len(), false);
        let (om, nm) = (&mut old_marks[prefix..prefix + old_mid.len()], &mut new_marks[prefix..prefix + new_mid.len()]);
        if whole {
            om.fill(true);
            nm.fill(true);
        } else if (old_mid.len() + 1) * (new_mid.len() + 1) <= MAX_TABLE_CELLS {
            // Hashes first, so the table compares integers and touches bytes only on a match.
            old_hashes.clear();
            old_hashes.extend(old_mid.iter().map(|t| hash_bytes(t.as_bytes())));
            new_hashes.clear();
            new_hashes.extend(new_mid.iter().map(|t| hash_bytes(t.as_bytes())));
            lcs_table_marks((old_mid, old_hashes), (new_mid, new_hashes), om, nm, table);
        } else if old_mid.len() > MAX_MYERS_TOKENS || new_mid.len() > MAX_MYERS_TOKENS {
            let mut interner = imara_diff::Interner::new(old_mid.len() + new_mid.len());
            let before: Vec<_> = old_mid.iter().map(|t| interner.intern(*t)).collect();
            let after: Vec<_> = new_mid.iter().map(|t| interner.intern(*t)).collect();
            let mut diff = imara_diff::Diff::default();
            diff.compute_with(imara_diff::Algorithm::Histogram, &before, &after, interner.num_tokens());
            for h in diff.hunks() {
                om[h.before.start as usize..h.before.end as usize].fill(true);
                nm[h.after.start as usize..h.after.end as usize].fill(true);
            }
        } else {
            for op in similar::capture_diff_slices(Algorithm::Myers, old_mid, new_mid) {
                let (tag, o, n) = op.as_tag_tuple();
                if tag != DiffTag::Equal {
                    om[o].fill(true);
                    nm[n].fill(true);
                }
            }
        }
        absorb_thin_gaps(old_tokens, old_marks);
        absorb_thin_gaps(new_tokens, new_marks);

        // Highlights only help when a fair share of the text is common; otherwise the pair is
        // really a replacement and per-word colour is noise.
        let common: usize =
            old_tokens.iter().zip(old_marks.iter()).filter(|(t, m)| !**m && !is_blank(t)).map(|(t, _)| t.len()).sum();
        if common * 4 < old_len.max(new_len) {
            return None;
        }
        Some((segments(old, old_tokens, old_marks), segments(new, new_tokens, new_marks)))
    }
}

/// Bytes of non-blank tokens the two middles have in common as multisets (an upper bound on
/// what any alignment can keep).
fn bag_overlap(a: &[&str], b: &[&str], a_bag: &mut Vec<(u64, usize)>, b_bag: &mut Vec<(u64, usize)>) -> usize {
    let fill = |tokens: &[&str], bag: &mut Vec<(u64, usize)>| {
        bag.clear();
        bag.extend(tokens.iter().filter(|t| !is_blank(t)).map(|t| (hash_bytes(t.as_bytes()), t.len())));
        bag.sort_unstable();
    };
    fill(a, a_bag);
    fill(b, b_bag);
    let (mut i, mut j, mut common) = (0, 0, 0);
    while let (Some(&(ha, la)), Some(&(hb, _))) = (a_bag.get(i), b_bag.get(j)) {
        match ha.cmp(&hb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += la;
                i += 1;
                j += 1;
            }
        }
    }
    common
}

/// Marks the tokens outside a longest common subsequence, from a full LCS-length table.
fn lcs_table_marks(
    (a, ah): (&[&str], &[u64]),
    (b, bh): (&[&str], &[u64]),
    a_marks: &mut [bool],
    b_marks: &mut [bool],
    table: &mut Vec<u16>,
) {
    let (n, m) = (a.len(), b.len());
    let same = |i: usize, j: usize| ah[i] == bh[j] && a[i] == b[j];
    let w = m + 1;
    table.clear();
    table.resize((n + 1) * w, 0);
    // table[i * w + j] = LCS length of a[i..] and b[j..].
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * w + j] =
                if same(i, j) { table[(i + 1) * w + j + 1] + 1 } else { table[(i + 1) * w + j].max(table[i * w + j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if same(i, j) {
            i += 1;
            j += 1;
        } else if table[(i + 1) * w + j] >= table[i * w + j + 1] {
            a_marks[i] = true;
            i += 1;
        } else {
            b_marks[j] = true;
            j += 1;
        }
    }
    a_marks[i..].fill(true);
    b_marks[j..].fill(true);
}

fn plain(text: &str) -> Vec<Segment<'_>> {
    if text.is_empty() { Vec::new() } else { vec![Segment { text: Cow::Borrowed(text), emphasized: false }] }
}

/// Turns an unchanged whitespace run between two changed tokens into part of the change, so a
/// reader sees one highlighted phrase instead of a row of separate words.
fn absorb_thin_gaps(tokens: &[&str], marks: &mut [bool]) {
    for i in 1..tokens.len().saturating_sub(1) {
        if !marks[i] && marks[i - 1] && marks[i + 1] && is_blank(tokens[i]) {
            marks[i] = true;
        }
    }
}

/// Joins consecutive tokens with the same mark into segments borrowing from `line`.
fn segments<'a>(line: &'a str, tokens: &[&'a str], marks: &[bool]) -> Vec<Segment<'a>> {
    let mut out: Vec<Segment<'a>> = Vec::new();
    let mut offset = 0;
    let mut run_start = 0;
    let mut run_mark: Option<bool> = None;
    for (tok, &mark) in tokens.iter().zip(marks) {
        if run_mark.is_some_and(|m| m != mark) {
            out.push(Segment { text: Cow::Borrowed(&line[run_start..offset]), emphasized: run_mark == Some(true) });
            run_start = offset;
        }
        run_mark = Some(mark);
        offset += tok.len();
    }
    if let Some(mark) = run_mark {
        out.push(Segment { text: Cow::Borrowed(&line[run_start..offset]), emphasized: mark });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(segs: &[Segment<'_>]) -> String {
        segs.iter().map(|s| if s.emphasized { format!("[{}]", s.text) } else { s.text.to_string() }).collect()
    }

    #[test]
    fn table_of_word_highlights() {
        type Case<'c> = (&'c str, &'c str, Option<(&'c str, &'c str)>);
        let cases: &[Case<'_>] = &[
            ("let x = 1;", "let x = 2;", Some(("let x = [1];", "let x = [2];"))),
            ("the quick brown fox", "the slow brown fox", Some(("the [quick] brown fox", "the [slow] brown fox"))),
            ("a b c d e f", "a b X Y e f", Some(("a b [c d] e f", "a b [X Y] e f"))),
            ("same", "same", Some(("same", "same"))),
            ("", "added text", None),
            ("completely different", "nothing alike here", None),
            ("f(a, b)", "f(a,b)", Some(("f(a,[ ]b)", "f(a,b)"))),
            ("héllo wörld", "héllo world", Some(("héllo [wörld]", "héllo [world]"))),
        ];
        for (old, new, expected) in cases {
            let got = word_segments(old, new).map(|(o, n)| (show(&o), show(&n)));
            let expected = expected.map(|(o, n)| (o.to_string(), n.to_string()));
            assert_eq!(got, expected, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn long_lines_with_distant_edits_keep_highlights() {
        let body: String = (0..1000).map(|i| format!("w{i} ")).collect();
        let old = format!("alpha {body}omega");
        let new = format!("ALPHA {body}OMEGA");
        let (o, n) = word_segments(&old, &new).unwrap_or_default();
        assert_eq!(show(&o), format!("[alpha] {body}[omega]"));
        assert_eq!(show(&n), format!("[ALPHA] {body}[OMEGA]"));
    }

    mod properties {
        use super::super::word_segments;
        use proptest::prelude::*;

        fn joined(segs: &[super::Segment<'_>]) -> String {
            segs.iter().map(|s| s.text.as_ref()).collect()
        }

        proptest! {
            #[test]
            fn segments_rejoin_to_their_lines(old in "[a-c _.(),é\t]{0,60}", new in "[a-c _.(),é\t]{0,60}") {
                if let Some((o, n)) = word_segments(&old, &new) {
                    prop_assert_eq!(joined(&o), old.clone());
                    prop_assert_eq!(joined(&n), new.clone());
                }
            }

            #[test]
            fn segments_of_any_strings_rejoin(old in any::<String>(), new in any::<String>()) {
                if let Some((o, n)) = word_segments(&old, &new) {
                    prop_assert_eq!(joined(&o), old.clone());
                    prop_assert_eq!(joined(&n), new.clone());
                }
            }
        }
    }
}
