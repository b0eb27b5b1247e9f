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
    cli(&["spec", "status", &spec, "ready"])?;
    cli(&[
        "deliver",
        &spec,
        &root.join("crates/handoff-core/src").to_string_lossy(),
        "--note",
        "First cut: streaming writer and RFC 4180 quoting",
    ])?;
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
    cli(&["spec", "status", &second, "ready"])?;
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

pub fn screenshots(_args: &[String]) -> Result<(), String> {
    let binary = app::build_app()?;
    let target = app::target_dir();
    let data = target.join("screenshots-data");
    let out = target.join("screenshots");
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    seed(&data)?;
    // The sync screens (08, 09) join a local handoff-server.
    app::build_sync_binaries()?;
    let bins = app::sync_binaries();
    let mut env: Vec<(&str, &Path)> = bins.iter().map(|(k, v)| (*k, v.as_path())).collect();
    env.push(("HANDOFF_SCREENSHOTS_DIR", &out));
    let script = app::ui_dir().join("e2e/screenshots.mjs");
    app::webdriver_run(&binary, &script, &data, &env, 240)?;
    eprintln!("xtask: screenshots in {}", out.display());
    Ok(())
}
