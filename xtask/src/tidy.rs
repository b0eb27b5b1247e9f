//! Tidy tests (in the style of rust-analyzer's): rules about the source tree that the
//! compilers cannot check, run with the workspace's tests.
//!
//! Error codes: a code is compared as a value of its type (`Code`, `ApiErrorCode`) in Rust,
//! and interpreted in one place per surface: `handoff-client`'s `code.rs` turns codes into
//! text and back, and the UI's `errorText.ts` turns them into sentences. A string
//! comparison anywhere else would silently stop matching when a code changes.

#![cfg(test)]

use std::path::{Path, PathBuf};

/// The only files allowed to spell codes as strings and branch on them.
const CODE_MODULES: [&str; 2] = ["crates/handoff-client/src/code.rs", "ui/src/lib/ipc/errorText.ts"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_owned).unwrap_or_default()
}

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | "generated" | "dist" | ".git") {
                files(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// Why `line` compares an error code as a string, if it does. Whitespace is ignored, so
/// `code == "x"` and `code=="x"` are the same finding.
fn string_code_comparison(line: &str, rust: bool) -> Option<&'static str> {
    let l: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let found = |needle: &str| l.contains(needle);
    let common = [
        ("code==\"", "a code compared with == to a string"),
        ("code!=\"", "a code compared with != to a string"),
        ("code()==\"", "a code compared with == to a string"),
        ("code()!=\"", "a code compared with != to a string"),
        ("code.as_str()", "a code turned into a string to be compared"),
    ];
    for (needle, why) in common {
        if found(needle) {
            return Some(why);
        }
    }
    if rust {
        if found(".code(),\"") {
            return Some("a code asserted equal to a string");
        }
        if found("IpcError::new(\"")
            || found("code:\"") && (found("\".into()") || found("\".to_string()") || found("\".to_owned()"))
        {
            return Some("a code made from a string instead of a `Code`");
        }
    } else {
        // `typeof x.code === "string"` checks a type, not a code.
        let typed = l.replace("code===\"string\"", "").replace("code!==\"string\"", "");
        if ["code===\"", "code!==\"", "\"===e.code", "\"===error.code"].iter().any(|n| typed.contains(n)) {
            return Some("a code compared with === to a string outside errorText.ts");
        }
        if found(".code)") && (found("switch(") || found(".has(")) {
            return Some("a branch on a code outside errorText.ts");
        }
    }
    None
}

fn findings(root: &Path) -> Vec<String> {
    let mut paths = Vec::new();
    for dir in ["crates", "src-tauri/src", "tests", "xtask/src"] {
        files(&root.join(dir), &[".rs"], &mut paths);
    }
    let rust_count = paths.len();
    files(&root.join("ui/src"), &[".ts", ".svelte"], &mut paths);
    let mut out = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        if CODE_MODULES.contains(&rel.as_str()) || rel == "xtask/src/tidy.rs" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        for (n, line) in text.lines().enumerate() {
            if let Some(why) = string_code_comparison(line, i < rust_count) {
                out.push(format!("{rel}:{}: {why}: {}", n + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn error_codes_are_compared_as_values_outside_their_one_mapping_module() {
    let root = workspace_root();
    assert!(root.join("crates/handoff-client/src/code.rs").is_file(), "the workspace root is {}", root.display());
    let found = findings(&root);
    assert!(
        found.is_empty(),
        "compare error codes as `Code` values (Rust) or through errorText.ts (UI), never as strings:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rule_catches_what_it_is_for() {
    let caught = [
        (r#"Err(SyncError::Server { code, .. }) if code == "blobs_missing" => {}"#, true),
        (r#"if e.code == "not_signed_in" {"#, true),
        (r#"assert_eq!(err.code(), "forbidden");"#, true),
        (r#"IpcError::new("offline", "x")"#, true),
        (r#"code: "download_failed".into(),"#, true),
        (r#"if (error.code === "no_keychain") return"#, false),
        (r#"switch (e.code) {"#, false),
        (r#"return SIGN_IN_CODES.has(error.code);"#, false),
    ];
    for (line, rust) in caught {
        assert!(string_code_comparison(line, rust).is_some(), "missed: {line}");
    }
    let fine = [
        (r#"Err(SyncError::Server { code: Code::BlobsMissing, .. }) => {}"#, true),
        (r#"if e.code == Code::NotSignedIn {"#, true),
        (r#"let outcome = serde_json::json!({"outcome": "rejected", "code": "invalid"});"#, true),
        (r#"if (cmd === "sync_now") throw { code: "offline", message: "x" };"#, false),
        (r#"assert_eq!(out.status.code(), Some(1));"#, true),
        (r#"typeof (e as Record<string, unknown>).code === "string" &&"#, false),
    ];
    for (line, rust) in fine {
        assert_eq!(string_code_comparison(line, rust), None, "flagged: {line}");
    }
}
