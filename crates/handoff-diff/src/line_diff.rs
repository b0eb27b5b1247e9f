//! Line diff of two texts: imara-diff's Histogram plus git-like slider heuristics.
//!
//! Chosen by measurement (`benches/vs_git.rs`, whatwg old-large → new, same run): imara-diff's
//! Histogram with its indent slider heuristic gives git's diff (±4 lines of 32k) in 1× time;
//! `similar`'s Histogram gives a slightly larger diff in ~3.4×; `similar`'s Myers gives a diff
//! 3.9× larger (+65k/-59k lines) in ~19×. Identical and near-identical texts take a fast path:
//! the common prefix and suffix are compared as bytes and never hashed, and only a margin of
//! `SLIDER_MARGIN` lines around the changed middle is interned.
//!
//! Interning is our own (`LineInterner`): it was a third of the diff's time with a general
//! hasher and one cache miss per line.

use std::ops::Range;

use imara_diff::{Algorithm, Diff, IndentHeuristic, IndentLevel, Token};
use serde::{Deserialize, Serialize};

use crate::lines::LineIndex;

/// How whitespace counts when deciding whether two lines are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhitespaceMode {
    /// Every byte counts, terminators included (`"a\r\n"` differs from `"a\n"`).
    #[default]
    Exact,
    /// Whitespace is ignored entirely, like `git diff -w`.
    IgnoreAll,
    /// Runs of whitespace compare equal and trailing whitespace is ignored, like `git diff -b`.
    IgnoreAmount,
}

/// Options for a line diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct DiffOptions {
    /// Whitespace handling when comparing lines.
    pub whitespace: WhitespaceMode,
}

/// One edit: lines `old` (0-based, end exclusive) were replaced by lines `new`.
///
/// Changes are sorted and separated by at least one unchanged line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Change {
    /// Removed lines of the old text.
    pub old: Range<usize>,
    /// Added lines of the new text.
    pub new: Range<usize>,
}

/// Added and removed line counts, like `git diff --numstat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct LineStats {
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

/// Lines kept beside a changed region when the common prefix/suffix is trimmed, so the slider
/// heuristic (which looks at most 100 lines away) sees the same neighbourhood as on the full text.
const SLIDER_MARGIN: usize = 128;

/// The line diff of two texts; keeps both texts indexed so context can be expanded later.
#[derive(Debug, Clone)]
pub struct TextDiff<'a> {
    old: LineIndex<'a>,
    new: LineIndex<'a>,
    changes: Vec<Change>,
    options: DiffOptions,
}

impl<'a> TextDiff<'a> {
    /// Diffs `old` against `new` line by line.
    pub fn new(old: &'a str, new: &'a str, options: &DiffOptions) -> Self {
        let old_index = LineIndex::new(old);
        let new_index = LineIndex::new(new);
        let changes = if old == new { Vec::new() } else { compute_changes(&old_index, &new_index, options.whitespace) };
        TextDiff { old: old_index, new: new_index, changes, options: *options }
    }

    /// The old text, indexed by line.
    pub fn old_side(&self) -> &LineIndex<'a> {
        &self.old
    }

    /// The new text, indexed by line.
    pub fn new_side(&self) -> &LineIndex<'a> {
        &self.new
    }

    /// The edits, sorted.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The options the diff was computed with.
    pub fn options(&self) -> &DiffOptions {
        &self.options
    }

    /// Whether the texts are equal under the diff's whitespace mode.
    pub fn is_unchanged(&self) -> bool {
        self.changes.is_empty()
    }

    /// Added and removed line counts.
    pub fn stats(&self) -> LineStats {
        self.changes
            .iter()
            .fold(LineStats::default(), |acc, c| LineStats { added: acc.added + c.new.len(), removed: acc.removed + c.old.len() })
    }

    /// The line in the new text that old line `old_line` (0-based) became, if it is unchanged.
    pub fn old_to_new(&self, old_line: usize) -> Option<usize> {
        if old_line >= self.old.len() {
            return None;
        }
        // The last change starting at or before the line decides its shift.
        let idx = self.changes.partition_point(|c| c.old.start <= old_line);
        match idx.checked_sub(1).and_then(|i| self.changes.get(i)) {
            None => Some(old_line),
            Some(c) if old_line < c.old.end => None,
            Some(c) => Some(old_line - c.old.end + c.new.end),
        }
    }
}

/// Computes the sorted changes between two indexed texts.
pub(crate) fn compute_changes(old: &LineIndex<'_>, new: &LineIndex<'_>, whitespace: WhitespaceMode) -> Vec<Change> {
    match whitespace {
        WhitespaceMode::Exact => changes_with(old, new, ExactLines),
        mode => changes_with(old, new, WhitespaceLines(mode)),
    }
}

/// Line equality (and a hash consistent with it) under a whitespace mode.
trait LineEquality: Copy {
    fn eq(self, a: &[u8], b: &[u8]) -> bool;
    fn hash(self, line: &[u8]) -> u64;
}

#[derive(Clone, Copy)]
struct ExactLines;

impl LineEquality for ExactLines {
    fn eq(self, a: &[u8], b: &[u8]) -> bool {
        a == b
    }
    fn hash(self, line: &[u8]) -> u64 {
        hash_bytes(line)
    }
}

#[derive(Clone, Copy)]
struct WhitespaceLines(WhitespaceMode);

impl LineEquality for WhitespaceLines {
    fn eq(self, a: &[u8], b: &[u8]) -> bool {
        normalized(a, self.0).eq(normalized(b, self.0))
    }
    fn hash(self, line: &[u8]) -> u64 {
        let mut h = Mixer::default();
        let mut word = 0u64;
        let mut filled = 0;
        for b in normalized(line, self.0) {
            word |= u64::from(b) << (8 * filled);
            filled += 1;
            if filled == 8 {
                h.add(word);
                word = 0;
                filled = 0;
            }
        }
        if filled > 0 {
            h.add(word);
        }
        h.finish()
    }
}

/// A multiply-rotate hash over 8-byte words (in the spirit of rustc's FxHash) with a final
/// avalanche, so the low bits are usable as a table index. Interning every line of two 100k-line
/// texts is a third of the diff's time; this is several times faster than a general hasher.
#[derive(Default)]
struct Mixer(u64);

impl Mixer {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = Mixer(bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h.add(u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h.add(u64::from_le_bytes(word));
    }
    h.finish()
}

/// Maps equal lines to one token id: open addressing, each slot packing the hash's high 32 bits
/// with the token id, so a probe touches one cache line until a real candidate turns up.
struct LineInterner<'t, E> {
    equality: E,
    slots: Vec<u64>,
    mask: usize,
    /// The first line seen for each token (the slider heuristic reads its indentation).
    lines: Vec<&'t [u8]>,
}

const EMPTY_SLOT: u64 = u64::MAX;
const TAG_MASK: u64 = 0xFFFF_FFFF_0000_0000;

impl<'t, E: LineEquality> LineInterner<'t, E> {
    fn new(equality: E, capacity: usize) -> Self {
        // Real texts repeat most lines between revisions, so size for about half of them being
        // distinct and grow if not: a smaller table misses the cache less.
        let size = capacity.max(16).next_power_of_two();
        LineInterner { equality, slots: vec![EMPTY_SLOT; size], mask: size - 1, lines: Vec::with_capacity(capacity) }
    }

    /// Doubles the table, re-placing tokens by their stored tags (lines are not rehashed: the
    /// low bits are recomputed from the line only when needed, which is here).
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let mut slots = vec![EMPTY_SLOT; size];
        let mask = size - 1;
        for (token, line) in self.lines.iter().enumerate() {
            let h = self.equality.hash(line);
            let mut i = (h as usize) & mask;
            while slots[i] != EMPTY_SLOT {
                i = (i + 1) & mask;
            }
            slots[i] = (h & TAG_MASK) | token as u64;
        }
        self.slots = slots;
        self.mask = mask;
    }

    /// Interns every line, appending tokens to `out`.
    ///
    /// Lines go in batches: hash a batch, touch each hash's slot (independent loads the CPU
    /// overlaps), then insert. The table is larger than the L2 cache on 100k-line inputs, and
    /// one slot miss at a time was most of the interning time.
    fn intern_all(&mut self, lines: impl Iterator<Item = &'t [u8]>, out: &mut Vec<Token>) {
        const BATCH: usize = 16;
        let mut batch: [(&'t [u8], u64); BATCH] = [(&[], 0); BATCH];
        let mut lines = lines.peekable();
        while lines.peek().is_some() {
            let mut len = 0;
            for (slot, line) in batch.iter_mut().zip(lines.by_ref()) {
                *slot = (line, self.equality.hash(line));
                len += 1;
            }
            let warm = batch[..len].iter().fold(0u64, |acc, &(_, h)| acc ^ self.slots[(h as usize) & self.mask]);
            std::hint::black_box(warm);
            for &(line, h) in &batch[..len] {
                out.push(self.intern_hashed(line, h));
            }
        }
    }

    fn intern_hashed(&mut self, line: &'t [u8], h: u64) -> Token {
        // Keep the load under 3/4 so linear probing stays short.
        if (self.lines.len() + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let tag = h & TAG_MASK;
        let mut i = (h as usize) & self.mask;
        loop {
            let slot = self.slots[i];
            if slot == EMPTY_SLOT {
                let token = self.lines.len() as u32;
                self.slots[i] = tag | u64::from(token);
                self.lines.push(line);
                return Token(token);
            }
            if slot & TAG_MASK == tag {
                let token = slot as u32;
                if self.lines.get(token as usize).is_some_and(|l| self.equality.eq(l, line)) {
                    return Token(token);
                }
            }
            i = (i + 1) & self.mask;
        }
    }
}

fn changes_with<E: LineEquality>(old: &LineIndex<'_>, new: &LineIndex<'_>, equality: E) -> Vec<Change> {
    let (n, m) = (old.len(), new.len());
    let old_raw = |i: usize| old.raw(i).as_bytes();
    let new_raw = |i: usize| new.raw(i).as_bytes();

    // Byte comparison of the common ends is much cheaper than hashing every line.
    let mut prefix = 0;
    while prefix < n && prefix < m && equality.eq(old_raw(prefix), new_raw(prefix)) {
        prefix += 1;
    }
    let mut suffix = 0;
    while suffix < n - prefix && suffix < m - prefix && equality.eq(old_raw(n - 1 - suffix), new_raw(m - 1 - suffix)) {
        suffix += 1;
    }
    if prefix == n && prefix == m {
        return Vec::new();
    }

    let lead = prefix.min(SLIDER_MARGIN);
    let trail = suffix.min(SLIDER_MARGIN);
    let old_window = (prefix - lead)..(n - suffix + trail);
    let new_window = (prefix - lead)..(m - suffix + trail);

    // imara-diff refuses more than i32::MAX tokens; texts that large are shown as one change.
    // (The interner's u32 ids are safe below that too.)
    let limit = i32::MAX as usize - 1;
    if old_window.len().saturating_add(new_window.len()) >= limit {
        return vec![Change { old: prefix..n - suffix, new: prefix..m - suffix }];
    }

    let mut interner = LineInterner::new(equality, old_window.len() + new_window.len());
    let mut before: Vec<Token> = Vec::with_capacity(old_window.len());
    interner.intern_all(old_window.clone().map(old_raw), &mut before);
    let mut after: Vec<Token> = Vec::with_capacity(new_window.len());
    interner.intern_all(new_window.clone().map(new_raw), &mut after);
    let lines = &interner.lines;

    let mut diff = Diff::default();
    diff.compute_with(Algorithm::Histogram, &before, &after, lines.len() as u32);
    diff.postprocess_with(
        &before,
        &after,
        IndentHeuristic::new(|token: Token| {
            let raw = lines.get(token.0 as usize).copied().unwrap_or_default();
            IndentLevel::for_ascii_line(raw.iter().copied(), 8)
        }),
    );
    let (old_off, new_off) = (old_window.start, new_window.start);
    diff.hunks()
        .map(|h| Change {
            old: old_off + h.before.start as usize..old_off + h.before.end as usize,
            new: new_off + h.after.start as usize..new_off + h.after.end as usize,
        })
        .collect()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0b' | b'\x0c')
}

/// The bytes of a line that matter under `mode`: `IgnoreAll` drops whitespace, `IgnoreAmount`
/// turns each inner whitespace run into one space and drops trailing whitespace (terminators too).
fn normalized(raw: &[u8], mode: WhitespaceMode) -> impl Iterator<Item = u8> + '_ {
    let trimmed_len = raw.iter().rposition(|&b| !is_space(b)).map_or(0, |p| p + 1);
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            match mode {
                WhitespaceMode::Exact => {
                    let b = *raw.get(i)?;
                    i += 1;
                    return Some(b);
                }
                WhitespaceMode::IgnoreAll => {
                    let b = *raw.get(i)?;
                    i += 1;
                    if !is_space(b) {
                        return Some(b);
                    }
                }
                WhitespaceMode::IgnoreAmount => {
                    if i >= trimmed_len {
                        return None;
                    }
                    let b = *raw.get(i)?;
                    i += 1;
                    if is_space(b) {
                        while i < trimmed_len && raw.get(i).is_some_and(|&c| is_space(c)) {
                            i += 1;
                        }
                        return Some(b' ');
                    }
                    return Some(b);
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(old: &str, new: &str, whitespace: WhitespaceMode) -> Vec<(Range<usize>, Range<usize>)> {
        TextDiff::new(old, new, &DiffOptions { whitespace }).changes().iter().map(|c| (c.old.clone(), c.new.clone())).collect()
    }

    #[test]
    fn table_of_line_changes() {
        use WhitespaceMode::*;
        type Case = (&'static str, &'static str, WhitespaceMode, Vec<(Range<usize>, Range<usize>)>);
        let cases: Vec<Case> = vec![
            ("", "", Exact, vec![]),
            ("", "a\n", Exact, vec![(0..0, 0..1)]),
            ("a\n", "", Exact, vec![(0..1, 0..0)]),
            ("a\nb\nc\n", "a\nB\nc\n", Exact, vec![(1..2, 1..2)]),
            // Missing final newline: the last line differs by its terminator.
            ("a\nb\n", "a\nb", Exact, vec![(1..2, 1..2)]),
            // CRLF vs LF differs exactly, and is whitespace when ignoring it.
            ("a\r\nb\r\n", "a\nb\r\n", Exact, vec![(0..1, 0..1)]),
            ("a\r\nb\r\n", "a\nb\r\n", IgnoreAll, vec![]),
            ("a\r\nb\r\n", "a\nb\r\n", IgnoreAmount, vec![]),
            // Whitespace-only changes.
            ("f(a, b)\n", "f(a,b)\n", Exact, vec![(0..1, 0..1)]),
            ("f(a, b)\n", "f(a,b)\n", IgnoreAll, vec![]),
            ("f(a, b)\n", "f(a,b)\n", IgnoreAmount, vec![(0..1, 0..1)]),
            ("f(a,  b)  \n", "f(a,\tb)\n", IgnoreAmount, vec![]),
            ("x\n", "  x\n", IgnoreAmount, vec![(0..1, 0..1)]),
            // An inserted blank line in a run slides to git's preferred spot.
            ("a\n\nb\n", "a\n\n\nb\n", Exact, vec![(2..2, 2..3)]),
        ];
        for (old, new, mode, expected) in cases {
            assert_eq!(changes(old, new, mode), expected, "{old:?} -> {new:?} {mode:?}");
        }
    }

    #[test]
    fn old_to_new_follows_shifts() {
        let diff = TextDiff::new("a\nb\nc\nd\n", "a\nX\nY\nc\nd\n", &DiffOptions::default());
        let mapped: Vec<Option<usize>> = (0..5).map(|i| diff.old_to_new(i)).collect();
        assert_eq!(mapped, vec![Some(0), None, Some(3), Some(4), None]);
    }

    #[test]
    fn indent_heuristic_places_function_insertions_like_git() {
        let old = "fn a() {\n    1\n}\n\nfn c() {\n    3\n}\n";
        let new = "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n\nfn c() {\n    3\n}\n";
        let diff = TextDiff::new(old, new, &DiffOptions::default());
        assert_eq!(diff.changes(), &[Change { old: 4..4, new: 4..8 }]);
    }
}
