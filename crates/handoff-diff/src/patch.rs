//! Unified patches that `git apply` and `patch -p1` accept and that reproduce the new text exactly.
//!
//! Patches are always computed with exact whitespace (an ignore-whitespace diff cannot reproduce
//! the new bytes). Lines are written with their own terminators, so CRLF files round-trip, and a
//! last line without a newline is followed by `\ No newline at end of file`.
//!
//! Binary files are written as `Binary files a/x and b/x differ` by default, as `git diff` does
//! without `--binary`: `git apply` rejects such a patch (it has no data to rebuild the file
//! from) and `patch` skips it. With [`PatchOptions::binary`] they are written as `git diff
//! --binary` does: a `GIT binary patch` with both sides' whole content (zlib, base85), and an
//! `index` line of full git blob ids (SHA-1 of `blob <len>\0<content>`, computed here since
//! manifests carry SHA-256), which `git apply` requires before it rebuilds a binary file.

use serde::{Deserialize, Serialize};

use crate::error::DiffError;
use crate::line_diff::{DiffOptions, TextDiff, WhitespaceMode};
use crate::lines::{Content, Terminator, classify};
use crate::render::{FileRender, RenderOptions, RowKind};
use crate::revision::{ContentSource, FileChange, FileStatus, RevisionDiff};

/// Options for patch output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PatchOptions {
    /// Context lines around each change (git's default is 3).
    pub context: usize,
    /// Write binary changes as git binary patches (`git diff --binary`) instead of
    /// `Binary files … differ`; patches grow by the binary files' compressed content.
    #[serde(default)]
    pub binary: bool,
}

impl Default for PatchOptions {
    fn default() -> Self {
        PatchOptions { context: 3, binary: false }
    }
}

/// The git blob id (SHA-1 of `blob <len>\0` and the content) that a binary patch's `index`
/// line names; git checks it before and after applying.
pub fn git_blob_id(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finalize())
}

/// git's base-85 alphabet (`base85.c`).
const BASE85: &[u8; 85] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~";

/// Appends one `literal` hunk of a git binary patch: the content zlib-compressed, in lines of
/// at most 52 bytes, each prefixed by its length (`A`–`Z` for 1–26, `a`–`z` for 27–52) and
/// base-85 encoded in groups of 4 bytes (the last group zero-padded), then an empty line.
fn write_binary_literal(bytes: &[u8], out: &mut String) {
    // Level 6 is zlib's default; the output only has to inflate back, but a fixed level keeps
    // patches byte-identical from one run to the next.
    let deflated = miniz_oxide::deflate::compress_to_vec_zlib(bytes, 6);
    out.push_str(&format!("literal {}\n", bytes.len()));
    for line in deflated.chunks(52) {
        let n = line.len() as u8;
        out.push(char::from(if n <= 26 { b'A' + n - 1 } else { b'a' + n - 27 }));
        for group in line.chunks(4) {
            let mut acc: u32 = 0;
            for i in 0..4 {
                acc = (acc << 8) | u32::from(group.get(i).copied().unwrap_or(0));
            }
            let mut chars = [0u8; 5];
            for c in chars.iter_mut().rev() {
                *c = BASE85[(acc % 85) as usize];
                acc /= 85;
            }
            out.extend(chars.iter().map(|&c| char::from(c)));
        }
        out.push('\n');
    }
    out.push('\n');
}

fn range_header(start: usize, len: usize) -> String {
    if len == 1 { format!("{start}") } else { format!("{start},{len}") }
}

/// Appends the `@@` hunks of a render (made without highlights) to `out`.
fn write_hunks(render: &FileRender<'_>, out: &mut String) {
    for hunk in &render.hunks {
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range_header(hunk.old_start, hunk.old_len),
            range_header(hunk.new_start, hunk.new_len)
        ));
        for row in &hunk.rows {
            let (sign, cell) = match row.kind {
                // Exact diffs only: both sides of a context row are the same bytes.
                RowKind::Context => (' ', row.new.as_ref()),
                RowKind::Removed => ('-', row.old.as_ref()),
                RowKind::Added => ('+', row.new.as_ref()),
            };
            let Some(cell) = cell else { continue };
            out.push(sign);
            out.push_str(&cell.text);
            match cell.terminator {
                Terminator::None => out.push_str("\n\\ No newline at end of file\n"),
                t => out.push_str(t.as_str()),
            }
        }
    }
}

fn exact_hunks(old: &str, new: &str, options: &PatchOptions, out: &mut String) {
    let diff = TextDiff::new(old, new, &DiffOptions { whitespace: WhitespaceMode::Exact });
    write_hunks(&diff.render(&RenderOptions { context: options.context, word_highlights: false }), out);
}

/// A plain unified diff of two texts with the given `---`/`+++` labels (like `diff -u`).
///
/// Returns an empty string when the texts are equal. `diff`'s whitespace mode is ignored:
/// a patch always describes the exact bytes.
pub fn text_patch(diff: &TextDiff<'_>, old_label: &str, new_label: &str, options: &PatchOptions) -> String {
    let (old, new) = (diff.old_side().text(), diff.new_side().text());
    if old == new {
        return String::new();
    }
    let (old_label, new_label) = (quote_path(old_label), quote_path(new_label));
    let tab = |name: &str| if name.contains(' ') { "\t" } else { "" };
    let mut out = format!("--- {old_label}{}\n+++ {new_label}{}\n", tab(&old_label), tab(&new_label));
    if diff.options().whitespace == WhitespaceMode::Exact {
        write_hunks(&diff.render(&RenderOptions { context: options.context, word_highlights: false }), &mut out);
    } else {
        exact_hunks(old, new, options, &mut out);
    }
    out
}

/// Quotes a path the way git does when it has characters a patch header cannot hold plainly.
pub fn quote_path(path: &str) -> String {
    let needs = path.bytes().any(|b| b < 0x20 || b == 0x7f || b >= 0x80 || b == b'"' || b == b'\\');
    if !needs {
        return path.to_string();
    }
    let mut out = String::from("\"");
    for b in path.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0b => out.push_str("\\v"),
            0x0c => out.push_str("\\f"),
            b if !(0x20..0x7f).contains(&b) => out.push_str(&format!("\\{b:03o}")),
            b => out.push(char::from(b)),
        }
    }
    out.push('"');
    out
}

/// Git's (abbreviated) blob id of the empty file.
const EMPTY_BLOB: &str = "e69de29";

fn mode(executable: bool) -> &'static str {
    if executable { "100755" } else { "100644" }
}

/// The git-style patch of one changed file; contents come from `contents`.
pub fn file_patch<'c>(
    change: &FileChange,
    contents: &impl ContentSource<'c>,
    options: &PatchOptions,
) -> Result<String, DiffError> {
    let old_path = change.old.as_ref().map(|v| v.path.as_str());
    let new_path = change.new.as_ref().map(|v| v.path.as_str());
    let (a, b) = match (old_path, new_path) {
        (Some(o), Some(n)) => (o, n),
        (Some(o), None) => (o, o),
        (None, Some(n)) => (n, n),
        (None, None) => return Ok(String::new()),
    };
    let load = |sha: &str| contents.content(sha).ok_or_else(|| DiffError::MissingContent { sha256: sha.to_string() });
    let old_bytes = change.old.as_ref().map(|v| load(&v.sha256)).transpose()?.unwrap_or_default();
    let new_bytes = change.new.as_ref().map(|v| load(&v.sha256)).transpose()?.unwrap_or_default();
    let a_name = quote_path(&format!("a/{a}"));
    let b_name = quote_path(&format!("b/{b}"));
    let mut out = format!("diff --git {a_name} {b_name}\n");
    match (&change.old, &change.new) {
        (None, Some(n)) => out.push_str(&format!("new file mode {}\n", mode(n.executable))),
        (Some(o), None) => out.push_str(&format!("deleted file mode {}\n", mode(o.executable))),
        (Some(o), Some(n)) => {
            if o.executable != n.executable {
                out.push_str(&format!("old mode {}\nnew mode {}\n", mode(o.executable), mode(n.executable)));
            }
            if change.status == FileStatus::Renamed {
                out.push_str(&format!(
                    "similarity index {}%\nrename from {}\nrename to {}\n",
                    change.similarity.unwrap_or(100),
                    quote_path(a),
                    quote_path(b)
                ));
            }
        }
        (None, None) => {}
    }

    // Manifests carry SHA-256, not git blob ids, so there is no `index` line, except for an
    // empty file, whose blob id is known: GNU patch needs it to delete an empty file.
    match (&change.old, &change.new) {
        (Some(_), None) if old_bytes.is_empty() => out.push_str(&format!("index {EMPTY_BLOB}..0000000\n")),
        (None, Some(_)) if new_bytes.is_empty() => out.push_str(&format!("index 0000000..{EMPTY_BLOB}\n")),
        _ => {}
    }
    if old_bytes == new_bytes {
        return Ok(out);
    }
    let minus = if change.old.is_some() { a_name.clone() } else { "/dev/null".to_string() };
    let plus = if change.new.is_some() { b_name.clone() } else { "/dev/null".to_string() };
    match (classify(old_bytes), classify(new_bytes)) {
        (Content::Text(old), Content::Text(new)) => {
            // Like git: a name with a space gets a trailing tab, which is where GNU patch ends
            // a file name (otherwise it stops at the first space).
            let tab = |name: &str| if name.contains(' ') { "\t" } else { "" };
            out.push_str(&format!("--- {minus}{}\n+++ {plus}{}\n", tab(&minus), tab(&plus)));
            exact_hunks(old, new, options, &mut out);
        }
        _ if options.binary => {
            let id = |present: bool, bytes: &[u8]| if present { git_blob_id(bytes) } else { "0".repeat(40) };
            out.push_str(&format!("index {}..{}", id(change.old.is_some(), old_bytes), id(change.new.is_some(), new_bytes)));
            match (&change.old, &change.new) {
                (Some(o), Some(n)) if o.executable == n.executable => out.push_str(&format!(" {}\n", mode(n.executable))),
                _ => out.push('\n'),
            }
            // Forward (the new content) then reverse (the old), as `git diff --binary` writes.
            out.push_str("GIT binary patch\n");
            write_binary_literal(new_bytes, &mut out);
            write_binary_literal(old_bytes, &mut out);
        }
        _ => out.push_str(&format!("Binary files {minus} and {plus} differ\n")),
    }
    Ok(out)
}

/// The git-style patch of a whole revision diff, files in the diff's order.
pub fn revision_patch<'c>(
    diff: &RevisionDiff,
    contents: &impl ContentSource<'c>,
    options: &PatchOptions,
) -> Result<String, DiffError> {
    let mut out = String::new();
    for change in &diff.files {
        out.push_str(&file_patch(change, contents, options)?);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Applies a single-file unified patch (header lines are skipped) to `old`, strictly: every
    /// context and removed line must match byte for byte. Returns `None` on any mismatch.
    pub(crate) fn apply(old: &str, patch: &str) -> Option<String> {
        type HunkLines = (usize, usize, Vec<(u8, String)>);
        let mut hunks: Vec<HunkLines> = Vec::new();
        for line in patch.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("@@ -") {
                let old_range = rest.split(' ').next()?;
                let (start, len) = match old_range.split_once(',') {
                    Some((s, n)) => (s.parse().ok()?, n.parse().ok()?),
                    None => (old_range.parse().ok()?, 1),
                };
                hunks.push((start, len, Vec::new()));
                continue;
            }
            let Some(hunk) = hunks.last_mut() else { continue };
            if line == "\\ No newline at end of file\n" {
                let last = hunk.2.last_mut()?;
                if last.1.pop() != Some('\n') {
                    return None;
                }
                continue;
            }
            let sign = *line.as_bytes().first()?;
            hunk.2.push((sign, line.get(1..)?.to_string()));
        }
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut pos = 0;
        for (start, len, lines) in hunks {
            let target = if len == 0 { start } else { start.checked_sub(1)? };
            out.push_str(&old_lines.get(pos..target)?.concat());
            pos = target;
            for (sign, body) in lines {
                match sign {
                    b' ' | b'-' => {
                        if *old_lines.get(pos)? != body {
                            return None;
                        }
                        pos += 1;
                        if sign == b' ' {
                            out.push_str(&body);
                        }
                    }
                    b'+' => out.push_str(&body),
                    _ => return None,
                }
            }
        }
        out.push_str(&old_lines.get(pos..)?.concat());
        Some(out)
    }

    fn patch_of(old: &str, new: &str) -> String {
        text_patch(&TextDiff::new(old, new, &DiffOptions::default()), "a/f", "b/f", &PatchOptions::default())
    }

    #[test]
    fn table_of_patches() {
        let cases: &[(&str, &str, &str, &str)] = &[
            ("equal", "a\n", "a\n", ""),
            ("empty to text", "", "a\nb\n", "--- a/f\n+++ b/f\n@@ -0,0 +1,2 @@\n+a\n+b\n"),
            ("text to empty", "a\n", "", "--- a/f\n+++ b/f\n@@ -1 +0,0 @@\n-a\n"),
            (
                "newline removed at end",
                "a\nb\n",
                "a\nb",
                "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
            ),
            (
                "newline added at end",
                "a\nb",
                "a\nb\n",
                "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
            ),
            ("crlf kept", "a\r\nb\r\n", "a\r\nc\r\n", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n"),
            (
                "no newline context",
                "a\nb\nc",
                "A\nb\nc",
                "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n\\ No newline at end of file\n",
            ),
            ("whitespace only", "x = 1\n", "x  = 1\n", "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-x = 1\n+x  = 1\n"),
        ];
        for (name, old, new, expected) in cases {
            let patch = patch_of(old, new);
            assert_eq!(patch, *expected, "{name}");
            assert_eq!(apply(old, &patch).as_deref(), Some(*new), "{name}: apply");
        }
    }

    #[test]
    fn ignore_whitespace_diffs_still_patch_exactly() {
        let diff = TextDiff::new("x = 1\n", "x  = 1\n", &DiffOptions { whitespace: WhitespaceMode::IgnoreAll });
        assert!(diff.is_unchanged());
        let patch = text_patch(&diff, "a/f", "b/f", &PatchOptions::default());
        assert_eq!(apply("x = 1\n", &patch).as_deref(), Some("x  = 1\n"));
    }

    #[test]
    fn quotes_paths_like_git() {
        assert_eq!(quote_path("a/plain name.txt"), "a/plain name.txt");
        assert_eq!(quote_path("a/tab\there"), "\"a/tab\\there\"");
        assert_eq!(quote_path("a/q\"uote"), "\"a/q\\\"uote\"");
        assert_eq!(quote_path("a/é"), "\"a/\\303\\251\"");
    }

    #[test]
    fn revision_patch_headers() {
        use crate::revision::{ManifestFile, RevisionDiffOptions, diff_revisions};
        use std::collections::HashMap;
        let mut blobs = HashMap::new();
        let mut file = |path: &str, bytes: &[u8], x: bool| {
            let f = ManifestFile::from_bytes(path, bytes, x);
            blobs.insert(f.sha256.clone(), bytes.to_vec());
            f
        };
        let ten = b"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
        let ten2 = b"1\n2\n3\n4\n5\n6\n7\n8\n9\nten\n";
        let old = vec![
            file("moved.txt", ten, false),
            file("gone.txt", b"bye\n", false),
            file("run.sh", b"echo\n", false),
            file("img.bin", b"\0\x01", false),
            file("empty-gone", b"", false),
        ];
        let new = vec![
            file("renamed.txt", ten2, false),
            file("run.sh", b"echo\n", true),
            file("img.bin", b"\0\x02", false),
            file("new.txt", b"hi", true),
            file("empty-new", b"", false),
        ];
        let diff = diff_revisions(&old, &new, &&blobs, &RevisionDiffOptions::default()).expect("valid");
        let patch =
            revision_patch(&diff, &&blobs, &PatchOptions { context: 1, ..PatchOptions::default() }).expect("contents present");
        let expected = "\
diff --git a/empty-gone b/empty-gone
deleted file mode 100644
index e69de29..0000000
diff --git a/empty-new b/empty-new
new file mode 100644
index 0000000..e69de29
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/img.bin b/img.bin
Binary files a/img.bin and b/img.bin differ
diff --git a/new.txt b/new.txt
new file mode 100755
--- /dev/null
+++ b/new.txt
@@ -0,0 +1 @@
+hi
\\ No newline at end of file
diff --git a/moved.txt b/renamed.txt
similarity index 81%
rename from moved.txt
rename to renamed.txt
--- a/moved.txt
+++ b/renamed.txt
@@ -9,2 +9,2 @@
 9
-10
+ten
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
";
        assert_eq!(patch, expected);
    }

    #[test]
    fn git_blob_ids_match_git_hash_object() {
        // `git hash-object /dev/null` and `printf 'hello\n' | git hash-object --stdin`.
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(git_blob_id(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    /// Decodes one `literal` hunk back into bytes: length characters, base 85, inflate.
    fn decode_literal(lines: &[&str]) -> Vec<u8> {
        let mut deflated = Vec::new();
        for line in lines {
            let (len, body) = line.split_at(1);
            let n = match len.as_bytes()[0] {
                c @ b'A'..=b'Z' => usize::from(c - b'A') + 1,
                c => usize::from(c - b'a') + 27,
            };
            let mut bytes = Vec::new();
            for group in body.as_bytes().chunks(5) {
                let mut acc: u64 = 0;
                for c in group {
                    acc = acc * 85 + BASE85.iter().position(|b| b == c).expect("base85 character") as u64;
                }
                bytes.extend_from_slice(&(acc as u32).to_be_bytes());
            }
            deflated.extend_from_slice(&bytes[..n]);
        }
        miniz_oxide::inflate::decompress_to_vec_zlib(&deflated).expect("zlib")
    }

    #[test]
    fn binary_patches_carry_both_sides_whole_with_full_blob_ids() {
        use crate::revision::{ManifestFile, RevisionDiffOptions, diff_revisions};
        use std::collections::HashMap;
        let old_bytes: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let new_bytes: Vec<u8> = (0..=255u8).rev().cycle().take(301).collect();
        let mut blobs = HashMap::new();
        let mut file = |path: &str, bytes: &[u8]| {
            let f = ManifestFile::from_bytes(path, bytes, false);
            blobs.insert(f.sha256.clone(), bytes.to_vec());
            f
        };
        let old = vec![file("img.bin", &old_bytes), file("gone.bin", b"\0gone")];
        let new = vec![file("img.bin", &new_bytes), file("new.bin", b"\0new")];
        let diff = diff_revisions(&old, &new, &&blobs, &RevisionDiffOptions::default()).expect("valid");
        let binary = PatchOptions { binary: true, ..PatchOptions::default() };
        let patch = revision_patch(&diff, &&blobs, &binary).expect("contents present");
        let zeros = "0".repeat(40);
        assert!(patch.contains(&format!("index {}..{zeros}\nGIT binary patch\n", git_blob_id(b"\0gone"))), "{patch}");
        assert!(patch.contains(&format!("index {zeros}..{}\nGIT binary patch\n", git_blob_id(b"\0new"))), "{patch}");
        let modified = format!("index {}..{} 100644\nGIT binary patch\n", git_blob_id(&old_bytes), git_blob_id(&new_bytes));
        let at = patch.find(&modified).expect("the modified file's header");
        // Forward hunk (new content), then reverse hunk (old content), each ending in an empty line.
        let body: Vec<&str> = patch[at + modified.len()..].lines().collect();
        assert_eq!(body[0], format!("literal {}", new_bytes.len()));
        let end = body.iter().position(|l| l.is_empty()).expect("end of the forward hunk");
        assert_eq!(decode_literal(&body[1..end]), new_bytes);
        assert_eq!(body[end + 1], format!("literal {}", old_bytes.len()));
        let rest = &body[end + 2..];
        let end2 = rest.iter().position(|l| l.is_empty()).expect("end of the reverse hunk");
        assert_eq!(decode_literal(&rest[..end2]), old_bytes);
        // Without the option, the old one-line summary.
        let plain = revision_patch(&diff, &&blobs, &PatchOptions::default()).expect("contents present");
        assert!(plain.contains("Binary files a/img.bin and b/img.bin differ\n") && !plain.contains("GIT binary"), "{plain}");
    }

    mod properties {
        use super::{PatchOptions, apply, text_patch};
        use crate::line_diff::{DiffOptions, TextDiff};
        use crate::test_support::{text, text_pair};
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn patch_applies_to_old_and_yields_new((old, new) in text_pair(40), context in 0usize..5) {
                let patch = text_patch(&TextDiff::new(&old, &new, &DiffOptions::default()), "a/f", "b/f", &PatchOptions { context, ..PatchOptions::default() });
                prop_assert_eq!(apply(&old, &patch), Some(new));
            }

            #[test]
            fn patch_between_unrelated_texts_applies(old in text(30), new in text(30)) {
                let patch = text_patch(&TextDiff::new(&old, &new, &DiffOptions::default()), "a/f", "b/f", &PatchOptions::default());
                prop_assert_eq!(apply(&old, &patch), Some(new));
            }
        }
    }

    /// The real fixture pairs (see `shared/fixtures/diff/README.md`).
    mod fixtures {
        use super::{PatchOptions, apply, text_patch};
        use crate::line_diff::{DiffOptions, TextDiff};

        const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/diff/");
        const PAIRS: &[(&str, &str)] = &[
            ("whatwg-source.old-small", "whatwg-source.new"),
            ("whatwg-source.old-mid", "whatwg-source.new"),
            ("whatwg-source.old-large", "whatwg-source.new"),
            ("faq-md.old-small", "faq-md.new"),
            ("faq-md.old-large", "faq-md.new"),
        ];

        fn read(name: &str) -> String {
            std::fs::read_to_string(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("fixture {name} under {DIR}: {e}"))
        }

        /// git's `--numstat` (+, -) per old file, from the README's table.
        fn git_numstat() -> Vec<(String, usize, usize)> {
            read("README.md")
                .lines()
                .filter_map(|line| {
                    let cols: Vec<&str> = line.split('|').map(str::trim).collect();
                    let name = cols.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                    let (added, removed) = cols.get(4)?.split_once('/')?;
                    let num = |s: &str| s.trim().replace(',', "").parse::<usize>().ok();
                    Some((name.to_string(), num(added)?, num(removed)?))
                })
                .collect()
        }

        #[test]
        fn fixture_patches_reproduce_new_byte_for_byte() {
            for (old_name, new_name) in PAIRS {
                let (old, new) = (read(old_name), read(new_name));
                let patch =
                    text_patch(&TextDiff::new(&old, &new, &DiffOptions::default()), "a/f", "b/f", &PatchOptions::default());
                assert!(apply(&old, &patch) == Some(new), "{old_name}: patch does not reproduce {new_name}");
            }
        }

        #[test]
        fn fixture_changed_lines_are_at_most_gits_plus_one_percent() {
            let git = git_numstat();
            assert_eq!(git.len(), PAIRS.len(), "README table rows: {git:?}");
            for (old_name, new_name) in PAIRS {
                let Some((_, git_added, git_removed)) = git.iter().find(|(n, ..)| n == old_name) else {
                    panic!("{old_name} missing from README table");
                };
                let stats = TextDiff::new(&read(old_name), &read(new_name), &DiffOptions::default()).stats();
                let limit = |git: usize| git + git.div_ceil(100);
                assert!(stats.added <= limit(*git_added), "{old_name}: +{} vs git +{git_added}", stats.added);
                assert!(stats.removed <= limit(*git_removed), "{old_name}: -{} vs git -{git_removed}", stats.removed);
            }
        }
    }
}
