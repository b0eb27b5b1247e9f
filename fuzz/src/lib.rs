//! What the fuzz targets check, shared: wire round trips and applying a unified patch.
//! The targets live in `fuzz_targets/`; `cargo xtask fuzz` builds and runs them.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decoding never panics, and whatever decodes encodes and decodes back to the same value.
pub fn round_trips<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) -> Option<T> {
    let first: T = serde_json::from_slice(data).ok()?;
    let encoded = serde_json::to_vec(&first).expect("a decoded value encodes");
    let second: T = serde_json::from_slice(&encoded).expect("what was encoded decodes");
    assert_eq!(first, second, "decode(encode(x)) != x for {}", String::from_utf8_lossy(&encoded));
    Some(first)
}

/// Applies a unified patch (as `handoff_diff::patch` writes it: lines keep their own
/// terminators, `\ No newline at end of file` after a last line without one) to `old`,
/// checking every context and removed line and each hunk's counts. A strict `patch -p0`.
pub fn apply_unified(old: &str, patch: &str) -> Result<String, String> {
    const NO_NEWLINE: &str = "\\ No newline at end of file\n";
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let lines: Vec<&str> = patch.split_inclusive('\n').collect();
    let mut out = String::new();
    let mut pos = 0usize;
    let mut i = 0usize;
    while i < lines.len() && !lines[i].starts_with("@@ ") {
        if !(lines[i].starts_with("--- ") || lines[i].starts_with("+++ ")) {
            return Err(format!("unexpected header line {:?}", lines[i]));
        }
        i += 1;
    }
    while i < lines.len() {
        let (old_start, old_len, new_len) = hunk_header(lines[i])?;
        i += 1;
        let start = if old_len == 0 { old_start } else { old_start.checked_sub(1).ok_or("hunk starts at line 0")? };
        if start < pos || start > old_lines.len() {
            return Err(format!("hunk at old line {old_start} is out of order or past the end"));
        }
        out.extend(old_lines[pos..start].iter().copied());
        pos = start;
        let (mut seen_old, mut seen_new) = (0usize, 0usize);
        while i < lines.len() && !lines[i].starts_with("@@ ") {
            let line = lines[i];
            let mut chars = line.chars();
            let sign = chars.next().ok_or("empty patch line")?;
            let mut content = chars.as_str().to_owned();
            if lines.get(i + 1) == Some(&NO_NEWLINE) {
                content.pop();
                i += 1;
            } else if !content.ends_with('\n') {
                return Err(format!("patch line {line:?} has no end"));
            }
            match sign {
                ' ' | '-' => {
                    if old_lines.get(pos) != Some(&content.as_str()) {
                        return Err(format!("line {} is {:?}, the patch expects {content:?}", pos + 1, old_lines.get(pos)));
                    }
                    pos += 1;
                    seen_old += 1;
                    if sign == ' ' {
                        out.push_str(&content);
                        seen_new += 1;
                    }
                }
                '+' => {
                    out.push_str(&content);
                    seen_new += 1;
                }
                _ => return Err(format!("patch line {line:?} has no sign")),
            }
            i += 1;
        }
        if (seen_old, seen_new) != (old_len, new_len) {
            return Err(format!("hunk says -{old_len} +{new_len}, holds -{seen_old} +{seen_new}"));
        }
    }
    out.extend(old_lines[pos..].iter().copied());
    Ok(out)
}

/// `@@ -A[,B] +C[,D] @@` as (A, B, D), a missing count meaning 1.
fn hunk_header(line: &str) -> Result<(usize, usize, usize), String> {
    let bad = || format!("bad hunk header {line:?}");
    let body = line.strip_prefix("@@ -").and_then(|l| l.strip_suffix(" @@\n")).ok_or_else(bad)?;
    let (old, new) = body.split_once(" +").ok_or_else(bad)?;
    let range = |r: &str| -> Result<(usize, usize), String> {
        let (start, len) = r.split_once(',').unwrap_or((r, "1"));
        Ok((start.parse().map_err(|_| bad())?, len.parse().map_err(|_| bad())?))
    };
    let ((old_start, old_len), (_, new_len)) = (range(old)?, range(new)?);
    Ok((old_start, old_len, new_len))
}
