//! `cargo xtask screenshots`: PNGs of the main screens, taken from the real app binary under
//! Xvfb through WebDriver, on a demo data dir written with the `handoff` CLI.

use std::path::Path;
use std::process::Command;

use crate::{app, sh};

/// Writes the demo data with the CLI: a few specs in different states, criteria, sections,
/// a delivered revision with a review, and a conversation.
fn seed(data: &Path) -> Result<(), String> {
    let root = sh::root();
    sh::run(Command::new("cargo").current_dir(&root).args(["build", "-p", "handoff-cli"]))?;
    let handoff = app::target_dir().join("debug").join("handoff");
    let cli = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(&handoff)
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", handoff.display()))?;
        if !out.status.success() {
            return Err(format!("handoff {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let texts = data.join("texts");
    std::fs::create_dir_all(&texts).map_err(|e| format!("cannot create {}: {e}", texts.display()))?;
    let write = |name: &str, text: &str| -> Result<String, String> {
        let p = texts.join(name);
        std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
        Ok(p.to_string_lossy().into_owned())
    };
    let context = write(
        "context.md",
        "The billing service stores invoices in **PostgreSQL** and exposes them over a REST API.\n\n\
         - Invoices are immutable once issued\n- Amounts are integer cents\n- Times are UTC in the database",
    )?;
    let api = write(
        "api.md",
        "```http\nGET /v1/invoices/export?from=2026-01-01&to=2026-03-31\nAccept: text/csv\n```\n\nStreams one row per invoice line.",
    )?;
    let scope = write("scope.md", "No PDF export. No scheduling: the export is on demand only.")?;
    let spec = cli(&[
        "spec",
        "new",
        "--title",
        "CSV export of invoices",
        "--context-file",
        &context,
        "--api-file",
        &api,
        "--out-of-scope-file",
        &scope,
        "--criterion",
        "Exports every invoice line in the date range, one row each",
        "--criterion",
        "Fields with commas, quotes or newlines are quoted per RFC 4180",
        "--criterion",
        "A 100k-line export streams in under 5 seconds",
        "--criterion",
        "Amounts are formatted from cents without rounding errors",
    ])?;
    cli(&["spec", "assign", &spec, "ana.contractor@example.com"])?;
    cli(&["spec", "status", &spec, "ready", "--override", "handed off for the screenshots"])?;
    let (rev1, rev2, rev3) = revision_folders(&root.join("crates/handoff-core/src"), &data.join("revisions"))?;
    cli(&["deliver", &spec, &rev1.to_string_lossy(), "--note", "First cut: streaming writer and RFC 4180 quoting"])?;
    cli(&[
        "review",
        &spec,
        "1",
        "--verdict",
        "request-changes",
        "--summary",
        "Streaming and quoting look right; amounts still go through f64.",
        "--met",
        "1,2",
        "--not-met",
        "4",
    ])?;
    // Revision 2 (after the review of revision 1): an edited file, a renamed one, a changed
    // binary, for the diff viewer's screenshots.
    cli(&["deliver", &spec, &rev2.to_string_lossy(), "--note", "Amounts in integer cents; validation module renamed"])?;
    // Reviewing revision 2: two line comments published with criterion statuses; revision 3
    // changes the lines of one (outdated there) and claims it; two drafts wait on revision 3.
    cli(&[
        "comment",
        &spec,
        "2",
        "--file",
        "lifecycle.rs",
        "--lines",
        "21-22",
        "--text",
        "Say where cents are converted for display.",
    ])?;
    cli(&["comment", &spec, "2", "--file", "lifecycle.rs", "--lines", "60", "--text", "Is this edge reachable from the UI?"])?;
    cli(&[
        "review",
        &spec,
        "2",
        "--verdict",
        "request-changes",
        "--summary",
        "Cents end to end now; one display question left.",
        "--criterion",
        "1=met:checked against the March export",
        "--criterion",
        "2=met@validation.rs:1-20",
        "--criterion",
        "3=na:no 100k fixture yet",
        "--criterion",
        "4=not-met:display conversion unclear@lifecycle.rs:21-22",
    ])?;
    let shown = cli(&["spec", "show", &spec])?;
    let claimed = shown
        .lines()
        .find(|l| l.contains("lifecycle.rs:21-22"))
        .and_then(|l| l.split_whitespace().next())
        .ok_or_else(|| format!("no thread on lifecycle.rs:21-22 in: {shown}"))?
        .to_owned();
    cli(&["deliver", &spec, &rev3.to_string_lossy(), "--note", "Display conversion documented", "--addresses", &claimed])?;
    cli(&["comment", &spec, "3", "--file", "lifecycle.rs", "--lines", "22", "--text", "Thanks, this reads well."])?;
    cli(&["comment", &spec, "3", "--file", "validation.rs", "--lines", "3-4", "--text", "Name the limit's unit."])?;
    let thread =
        cli(&["thread", "new", &spec, "--section", "api_shape", "--text", "Should the date range be inclusive of `to`?"])?;
    cli(&["thread", "reply", &thread, "--text", "Yes: inclusive on both ends, in the workspace's time zone."])?;
    cli(&["thread", "new", &spec, "--text", "Is a header row expected?"])?;
    let second = cli(&[
        "spec",
        "new",
        "--title",
        "Retry webhooks with exponential backoff",
        "--criterion",
        "Retries 5 times with jittered backoff",
        "--criterion",
        "Gives up after 24 hours and marks the delivery failed",
    ])?;
    cli(&["spec", "assign", &second, "li.wei@example.com"])?;
    cli(&["spec", "status", &second, "ready", "--override", "handed off for the screenshots"])?;
    cli(&["spec", "new", "--title", "Dark mode for the customer portal", "--criterion", "Follows the system setting"])?;
    cli(&[
        "spec",
        "new",
        "--title",
        "Audit log for permission changes",
        "--criterion",
        "Every role change is logged with who and when",
    ])?;
    Ok(())
}

/// Three revision folders made from `source` (flat, text files): revision 1 is a copy plus a
/// small binary; revision 2 edits `lifecycle.rs`, renames `validate.rs` to `validation.rs`
/// with one line changed, and changes the binary; revision 3 edits line 22 of `lifecycle.rs`.
fn revision_folders(source: &Path, into: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf), String> {
    let (r1, r2, r3) = (into.join("r1"), into.join("r2"), into.join("r3"));
    let io = |what: &str, p: &Path, e: std::io::Error| format!("cannot {what} {}: {e}", p.display());
    for dir in [&r1, &r2, &r3] {
        std::fs::create_dir_all(dir).map_err(|e| io("create", dir, e))?;
    }
    let entries = std::fs::read_dir(source).map_err(|e| io("read", source, e))?;
    for entry in entries {
        let path = entry.map_err(|e| io("read", source, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        // The top-level source files only: a module's folder of tests is not demo material.
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| io("read", &path, e))?;
        std::fs::write(r1.join(&name), &text).map_err(|e| io("write", &r1, e))?;
        let (name2, text2) = match name.as_str() {
            "lifecycle.rs" => {
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                for i in (12..lines.len()).step_by(37) {
                    if !lines[i].trim().is_empty() {
                        lines[i] = format!("{} // checked in review", lines[i]);
                    }
                }
                lines.insert(20.min(lines.len()), "// Amounts are integer cents end to end: no f64 on the way.".into());
                (name, lines.join("\n") + "\n")
            }
            "validate.rs" => ("validation.rs".to_owned(), text.replacen("pub mod limits", "pub mod limits /* per request */", 1)),
            _ => (name, text),
        };
        let text3 = if name2 == "lifecycle.rs" {
            let mut lines: Vec<&str> = text2.lines().collect();
            if lines.len() > 21 {
                lines[21] = "// Display converts cents with format_cents(), never through f64.";
            }
            lines.join("\n") + "\n"
        } else {
            text2.clone()
        };
        std::fs::write(r2.join(&name2), text2).map_err(|e| io("write", &r2, e))?;
        std::fs::write(r3.join(&name2), text3).map_err(|e| io("write", &r3, e))?;
    }
    let logo = |seed: u8, len: usize| -> Vec<u8> { (0..len).map(|i| (i as u8).wrapping_mul(seed)).collect() };
    std::fs::write(r1.join("logo.png"), logo(7, 1536)).map_err(|e| io("write", &r1, e))?;
    std::fs::write(r2.join("logo.png"), logo(11, 2304)).map_err(|e| io("write", &r2, e))?;
    std::fs::write(r3.join("logo.png"), logo(11, 2304)).map_err(|e| io("write", &r3, e))?;
    Ok((r1, r2, r3))
}

pub fn screenshots(_args: &[String]) -> Result<(), String> {
    crate::deps::ensure(crate::deps::SCREENSHOT_PACKAGES)?;
    let binary = app::build_app()?;
    let target = app::target_dir();
    let data = target.join("screenshots-data");
    let out = target.join("screenshots");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    seed(&data)?;
    // The sync screens (08, 09, 15) join a local handoff-server.
    app::build_sync_binaries()?;
    let bins = app::sync_binaries();
    let mut env: Vec<(&str, &Path)> = bins.iter().map(|(k, v)| (*k, v.as_path())).collect();
    env.push(("HANDOFF_SCREENSHOTS_DIR", &out));
    let script = app::ui_dir().join("e2e/screenshots.mjs");
    app::webdriver_run(&binary, &script, &data, &env, 360)?;
    eprintln!("xtask: screenshots in {}", out.display());
    Ok(())
}
