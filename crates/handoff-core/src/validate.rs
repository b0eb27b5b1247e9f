//! Validation with limits. Every text that a person or a file system supplies passes through
//! here before it is stored or sent, on the client and again on the server.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::CoreError;

/// Limits on sizes. One table, so the client, the server and the docs agree.
pub mod limits {
    /// Characters in a spec title.
    pub const TITLE_CHARS: usize = 200;
    /// Bytes in one long spec section.
    pub const SECTION_BYTES: usize = 256 * 1024;
    /// Acceptance criteria per spec.
    pub const CRITERIA: usize = 200;
    /// Characters in one criterion.
    pub const CRITERION_CHARS: usize = 2_000;
    /// Bytes in a comment body.
    pub const COMMENT_BYTES: usize = 64 * 1024;
    /// Most comments (new threads plus replies) one review may publish.
    pub const REVIEW_COMMENTS: usize = 1_000;
    /// Bytes in a revision summary or a review summary.
    pub const SUMMARY_BYTES: usize = 64 * 1024;
    /// Bytes in one file path.
    pub const PATH_BYTES: usize = 4_096;
    /// Bytes in one path component.
    pub const PATH_COMPONENT_BYTES: usize = 255;
    /// Files in one revision.
    pub const FILES_PER_REVISION: usize = 100_000;
    /// Bytes in one delivered file.
    pub const FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;
    /// Assignees per spec.
    pub const ASSIGNEES: usize = 50;
    /// Characters in an email address.
    pub const EMAIL_CHARS: usize = 254;
    /// Characters in a workspace or display name.
    pub const NAME_CHARS: usize = 100;
}

fn check_chars(field: &'static str, text: &str, allow_newlines: bool) -> Result<(), CoreError> {
    for c in text.chars() {
        if c == '\0' {
            return Err(CoreError::ForbiddenCharacter { field, what: "NUL" });
        }
        if c.is_control() && !(allow_newlines && matches!(c, '\n' | '\r' | '\t')) {
            return Err(CoreError::ForbiddenCharacter {
                field,
                what: if matches!(c, '\n' | '\r') { "line break" } else { "control character" },
            });
        }
    }
    Ok(())
}

/// A one-line name: trimmed, not empty, at most `limit` characters, no control characters.
pub fn one_line(field: &'static str, text: &str, limit: usize) -> Result<String, CoreError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CoreError::Empty { field });
    }
    // Count only up to just past the limit: a 10 MB title must not cost a full scan to refuse.
    let count = trimmed.chars().take(limit + 1).count();
    if count > limit {
        return Err(CoreError::TooLong { field, actual: trimmed.chars().count(), limit, unit: "characters" });
    }
    check_chars(field, trimmed, false)?;
    Ok(trimmed.to_owned())
}

/// A spec title.
pub fn title(text: &str) -> Result<String, CoreError> {
    one_line("title", text, limits::TITLE_CHARS)
}

/// Long text (a section, a summary): may be empty, at most `limit` bytes, no NUL or stray
/// control characters.
pub fn long_text(field: &'static str, text: &str, limit: usize) -> Result<(), CoreError> {
    if text.len() > limit {
        return Err(CoreError::TooLong { field, actual: text.len(), limit, unit: "bytes" });
    }
    check_chars(field, text, true)
}

/// A spec section.
pub fn section(text: &str) -> Result<(), CoreError> {
    long_text("section", text, limits::SECTION_BYTES)
}

/// An acceptance criterion's text; returned trimmed.
pub fn criterion(text: &str) -> Result<String, CoreError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CoreError::Empty { field: "criterion" });
    }
    let count = trimmed.chars().take(limits::CRITERION_CHARS + 1).count();
    if count > limits::CRITERION_CHARS {
        return Err(CoreError::TooLong {
            field: "criterion",
            actual: trimmed.chars().count(),
            limit: limits::CRITERION_CHARS,
            unit: "characters",
        });
    }
    check_chars("criterion", trimmed, true)?;
    Ok(trimmed.to_owned())
}

/// The number of criteria on a spec.
pub fn criteria_count(count: usize) -> Result<(), CoreError> {
    if count > limits::CRITERIA {
        return Err(CoreError::TooLong { field: "acceptance criteria", actual: count, limit: limits::CRITERIA, unit: "items" });
    }
    Ok(())
}

/// The number of comments one review publishes.
pub fn review_comments(count: usize) -> Result<(), CoreError> {
    if count > limits::REVIEW_COMMENTS {
        return Err(CoreError::TooLong { field: "review", actual: count, limit: limits::REVIEW_COMMENTS, unit: "comments" });
    }
    Ok(())
}

/// A comment body: not blank, at most [`limits::COMMENT_BYTES`].
pub fn comment(text: &str) -> Result<(), CoreError> {
    if text.trim().is_empty() {
        return Err(CoreError::Empty { field: "comment" });
    }
    long_text("comment", text, limits::COMMENT_BYTES)
}

/// An email address, returned trimmed and lowercased (it is an identity, compared exactly).
pub fn email(text: &str) -> Result<String, CoreError> {
    let e = one_line("email", text, limits::EMAIL_CHARS)?.to_lowercase();
    let invalid = |reason| CoreError::Invalid { what: "email", value: e.clone(), reason };
    let (local, domain) = e.split_once('@').ok_or_else(|| invalid("it has no @"))?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(invalid("it must look like name@domain"));
    }
    if e.chars().any(char::is_whitespace) {
        return Err(invalid("it contains white space"));
    }
    Ok(e)
}

/// A due date, `YYYY-MM-DD` with a real month and day.
pub fn due_date(text: &str) -> Result<String, CoreError> {
    let t = text.trim();
    let invalid = |reason| CoreError::Invalid { what: "due date", value: t.chars().take(32).collect(), reason };
    let parts: Vec<&str> = t.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(invalid("expected YYYY-MM-DD"));
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(invalid("expected YYYY-MM-DD"));
    }
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(invalid("expected YYYY-MM-DD"));
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid("the month must be 01 to 12")),
    };
    if d == 0 || d > days {
        return Err(invalid("that day does not exist in that month"));
    }
    Ok(t.to_owned())
}

/// A lowercase hex sha256.
pub fn sha256_hex(text: &str) -> Result<(), CoreError> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(CoreError::Invalid {
            what: "sha256",
            value: text.chars().take(80).collect(),
            reason: "expected 64 lowercase hex digits",
        })
    }
}

/// Normalizes a revision file path and checks the path rules: relative, UTF-8 (the type
/// guarantees it), `/`-separated, no `..`, no absolute path, no NUL or control characters, no
/// backslash, nothing inside `.git/`, bounded length. Redundant `./` and repeated slashes
/// are removed.
pub fn normalize_path(path: &str) -> Result<String, CoreError> {
    let shown = || path.chars().take(200).collect::<String>();
    let bad = |reason| CoreError::InvalidPath { path: shown(), reason };
    if path.is_empty() {
        return Err(bad("it is empty"));
    }
    if path.len() > limits::PATH_BYTES {
        return Err(bad("it is longer than 4096 bytes"));
    }
    if path.contains('\0') {
        return Err(bad("it contains a NUL character"));
    }
    if path.chars().any(char::is_control) {
        return Err(bad("it contains a control character"));
    }
    if path.contains('\\') {
        return Err(bad("it contains a backslash; use / between folders"));
    }
    if path.starts_with('/') {
        return Err(bad("it is absolute; paths must be relative to the deliverable's root"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(bad("it contains '..'")),
            p if p.len() > limits::PATH_COMPONENT_BYTES => {
                return Err(bad("a folder or file name is longer than 255 bytes"));
            }
            p if p.eq_ignore_ascii_case(".git") => return Err(bad("it is inside a .git folder")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(bad("it names no file"));
    }
    // Checked on the normal form: `./C:/x` is `C:/x` once the `.` is gone.
    let first = parts[0].as_bytes();
    if first.len() >= 2 && first[1] == b':' && first[0].is_ascii_alphabetic() {
        return Err(bad("it starts with a drive letter; paths must be relative"));
    }
    Ok(parts.join("/"))
}

/// Checks a delivered file's size against [`limits::FILE_BYTES`].
pub fn file_size(path: &str, size: u64) -> Result<(), CoreError> {
    if size > limits::FILE_BYTES {
        return Err(CoreError::FileTooLarge { path: path.to_owned(), size, limit: limits::FILE_BYTES });
    }
    Ok(())
}

/// Checks a whole manifest: every path normalized, hashes well-formed, no duplicates, no file
/// also used as a folder, within the file count.
pub fn manifest(files: &[crate::ManifestEntry]) -> Result<(), CoreError> {
    if files.len() > limits::FILES_PER_REVISION {
        return Err(CoreError::TooLong {
            field: "revision",
            actual: files.len(),
            limit: limits::FILES_PER_REVISION,
            unit: "files",
        });
    }
    for f in files {
        let normal = normalize_path(&f.path)?;
        if normal != f.path {
            return Err(CoreError::InvalidPath { path: f.path.clone(), reason: "it is not in normal form" });
        }
        sha256_hex(&f.sha256)?;
        file_size(&f.path, f.size)?;
    }
    // Paths are compared as a case-insensitive, normalizing file system (macOS, Windows)
    // would store them: two that fold to one name would overwrite each other there.
    let mut by_key: HashMap<String, &str> = HashMap::with_capacity(files.len());
    for f in files {
        if let Some(earlier) = by_key.insert(path_key(&f.path), &f.path) {
            if earlier == f.path {
                return Err(CoreError::InvalidPath { path: f.path.clone(), reason: "it appears twice in the revision" });
            }
            return Err(CoreError::PathClash {
                first: earlier.to_owned(),
                second: f.path.clone(),
                reason: "they differ only in letter case or Unicode normalization",
            });
        }
    }
    // Every folder on a file's way must not also be a file: `a` with `a/b`, whatever sorts
    // between them (`a-x`), and whatever case the folder is spelled in.
    for f in files {
        for (end, _) in f.path.match_indices('/') {
            if let Some(file) = by_key.get(&path_key(&f.path[..end])) {
                return Err(CoreError::PathClash {
                    first: (*file).to_owned(),
                    second: f.path.clone(),
                    reason: "the first is a file and also a folder of the second",
                });
            }
        }
    }
    Ok(())
}

/// The name a path has on a case-insensitive, normalizing file system: NFC, lower case, NFC
/// again (lowering can produce decomposed sequences).
pub fn path_key(path: &str) -> String {
    path.nfc().collect::<String>().to_lowercase().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_titles_are_refused_with_the_reason() {
        assert_eq!(title("   ").expect_err("blank").to_string(), "title must not be empty");
        let huge = "x".repeat(10 * 1024 * 1024);
        assert_eq!(title(&huge).expect_err("huge").to_string(), "title is too long: 10485760 characters, the limit is 200");
        assert_eq!(title("a\nb").expect_err("newline").to_string(), "title contains a forbidden character (line break)");
        assert_eq!(title("  Ship the importer ").expect("ok"), "Ship the importer");
    }

    #[test]
    fn path_rules_table() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("src/main.rs", Ok("src/main.rs")),
            ("./src//lib.rs", Ok("src/lib.rs")),
            ("a/./b/", Ok("a/b")),
            ("../../etc/passwd", Err("it contains '..'")),
            ("a/../b", Err("it contains '..'")),
            ("/etc/passwd", Err("it is absolute; paths must be relative to the deliverable's root")),
            ("C:/x", Err("it starts with a drive letter; paths must be relative")),
            // Found by the manifest fuzz target: the `.` hid the drive letter.
            ("./C:)", Err("it starts with a drive letter; paths must be relative")),
            (".//c:/x", Err("it starts with a drive letter; paths must be relative")),
            ("a\\b", Err("it contains a backslash; use / between folders")),
            (".git/config", Err("it is inside a .git folder")),
            ("sub/.GIT/HEAD", Err("it is inside a .git folder")),
            ("a\0b", Err("it contains a NUL character")),
            ("a\nb", Err("it contains a control character")),
            ("", Err("it is empty")),
            ("./", Err("it names no file")),
            (".gitignore", Ok(".gitignore")),
        ];
        for (input, want) in cases {
            let got = normalize_path(input);
            match (want, got) {
                (Ok(w), Ok(g)) => assert_eq!(&g, w, "{input:?}"),
                (Err(reason), Err(CoreError::InvalidPath { reason: r, .. })) => {
                    assert_eq!(&r, reason, "{input:?}")
                }
                (w, g) => panic!("{input:?}: wanted {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn manifests_refuse_duplicates_and_file_folder_clashes() {
        let e = |p: &str| crate::ManifestEntry { path: p.into(), sha256: "a".repeat(64), size: 1, executable: false };
        assert!(manifest(&[e("a"), e("b/c")]).is_ok());
        assert!(manifest(&[e("a"), e("a")]).is_err());
        assert!(manifest(&[e("a"), e("a/b")]).is_err());
        assert!(manifest(&[e("./a")]).is_err());
    }

    /// `a`, `a-x`, `a/b` sort with `a-x` between the file and its would-be folder, which once
    /// hid the clash; paths that one case-insensitive or normalizing disk stores as one file
    /// were accepted too. Each refusal names both paths.
    #[test]
    fn manifests_refuse_paths_that_clash_on_disk_and_name_both() {
        let e = |p: &str| crate::ManifestEntry { path: p.into(), sha256: "a".repeat(64), size: 1, executable: false };
        let clash = |paths: &[&str]| match manifest(&paths.iter().map(|p| e(p)).collect::<Vec<_>>()) {
            Err(CoreError::PathClash { first, second, reason }) => (first, second, reason),
            other => panic!("{paths:?}: wanted a clash, got {other:?}"),
        };
        let folder = "the first is a file and also a folder of the second";
        let folded = "they differ only in letter case or Unicode normalization";
        assert_eq!(clash(&["a", "a-x", "a/b"]), ("a".into(), "a/b".into(), folder));
        assert_eq!(clash(&["docs", "docs.md", "docs/x/y.md"]), ("docs".into(), "docs/x/y.md".into(), folder));
        assert_eq!(clash(&["README.md", "readme.md"]), ("README.md".into(), "readme.md".into(), folded));
        assert_eq!(clash(&["Src", "src/lib.rs"]), ("Src".into(), "src/lib.rs".into(), folder));
        // "é" precomposed (NFC) and as "e" + combining acute (NFD).
        assert_eq!(clash(&["caf\u{e9}.txt", "cafe\u{301}.txt"]), ("caf\u{e9}.txt".into(), "cafe\u{301}.txt".into(), folded));
        assert_eq!(clash(&["\u{c9}t\u{e9}/a", "\u{e9}te\u{301}/a", "x"]).2, folded);
        let message = manifest(&[e("a"), e("a-x"), e("a/b")]).expect_err("clash").to_string();
        assert!(message.contains("\"a\"") && message.contains("\"a/b\""), "{message}");
        assert!(manifest(&[e("a"), e("a-x"), e("ab/c"), e("b/a")]).is_ok());
    }

    #[test]
    fn dates_and_emails() {
        assert!(due_date("2024-02-29").is_ok());
        assert!(due_date("2023-02-29").is_err());
        assert!(due_date("2024-13-01").is_err());
        assert!(due_date("tomorrow").is_err());
        assert_eq!(email(" Ana@Example.COM ").expect("ok"), "ana@example.com");
        assert!(email("ana").is_err());
        assert!(email("a b@c").is_err());
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("".to_owned()),
            Just(".git".to_owned()),
            "[a-zA-Z0-9_.\\- ]{1,12}",
            "\\PC{1,6}",
        ]
    }

    proptest! {
        /// Normal form is a fixed point, and it never escapes the root or names .git.
        #[test]
        fn normalized_paths_are_safe_and_stable(segs in prop::collection::vec(segment(), 1..8), lead in prop::bool::ANY) {
            let raw = format!("{}{}", if lead { "/" } else { "" }, segs.join("/"));
            if let Ok(p) = normalize_path(&raw) {
                let again = normalize_path(&p);
                prop_assert_eq!(again.as_ref(), Ok(&p));
                prop_assert!(!p.starts_with('/'));
                prop_assert!(!p.ends_with('/'));
                prop_assert!(p.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.eq_ignore_ascii_case(".git")));
                prop_assert!(!p.contains('\0') && !p.contains('\\'));
                prop_assert!(!lead);
            }
        }

        /// Any path with a '..' component is refused, wherever it stands.
        #[test]
        fn dot_dot_is_always_refused(before in "[a-z/]{0,10}", after in "[a-z/]{0,10}") {
            let raw = format!("{before}/../{after}");
            prop_assert!(normalize_path(&raw).is_err());
        }

        /// Arbitrary strings never panic the validator.
        #[test]
        fn arbitrary_input_never_panics(s in "\\PC*") {
            let _ = normalize_path(&s);
            let _ = title(&s);
            let _ = email(&s);
            let _ = due_date(&s);
        }
    }
}
