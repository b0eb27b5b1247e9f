//! `cargo xtask bench diff|server|sync|ui`: each benchmark measures its reference (git diff, a
//! target figure) in the same run and prints the ratio.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{app, deps, sh, test};

pub fn bench(args: &[String]) -> Result<(), String> {
    let (package, target) = match args.first().map(String::as_str) {
        Some("diff") => ("handoff-diff", "vs_git"),
        Some("server") => ("handoff-server", "server"),
        Some("sync") => ("handoff-tests", "sync"),
        Some("ui") => return ui(),
        _ => return Err("usage: cargo xtask bench diff|server|sync|ui".into()),
    };
    deps::ensure(deps::TEST_PACKAGES)?;
    if target == "server" {
        // Its PostgreSQL + S3 rows run against s3s-fs, as the storage suite does.
        deps::ensure_s3s_fs()?;
    }
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["bench", "-p", package, "--bench", target]))
}

/// The shared real-world fixtures (`../shared/fixtures/diff`).
fn fixtures() -> PathBuf {
    sh::root().join("../shared/fixtures/diff")
}

/// `cargo xtask bench ui`: the release app under Xvfb (WebKitGTK), driven through WebDriver.
/// Measures, on a data dir with the whatwg pair delivered as two revisions: cold start to the
/// first screen (the median of 7 starts: a WebDriver session sometimes holds a start up by
/// half a second), the click on a diff until its first rows are painted, frame times while
/// scrolling the 100k-line file top to bottom (and the CPU per frame), the total RSS of the
/// app and its WebKit processes before and with the diff open (right after the scroll and
/// settled), and the IPC round trip of a local action
/// (a reply). Then the total RSS with a 1,000-spec / 100,000-comment workspace open (a real
/// store made by the sync benchmark's initial sync). Prints each figure beside its goal.
fn ui() -> Result<(), String> {
    deps::ensure(deps::TEST_PACKAGES)?;
    app::build_ui()?;
    sh::run(Command::new("cargo").current_dir(sh::root()).args([
        "build",
        "--release",
        "-p",
        "handoff-app",
        "-p",
        "handoff-cli",
    ]))?;
    let release = app::target_dir().join("release");
    let (app_bin, cli) = (release.join("handoff-app"), release.join("handoff"));
    let work = test::fresh_dir("bench-ui")?;

    // The diff: the whatwg pair as revisions 1 and 2 of one spec, delivered with the CLI.
    let diff_data = work.join("diff-data");
    let spec = handoff(&cli, &diff_data, &["spec", "new", "--title", "Upgrade the HTML standard"])?;
    for (n, file) in [(1, "whatwg-source.old-large"), (2, "whatwg-source.new")] {
        let folder = work.join(format!("r{n}"));
        std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
        std::fs::copy(fixtures().join(file), folder.join("source.html"))
            .map_err(|e| format!("cannot copy the fixture {file}: {e}"))?;
        handoff(&cli, &diff_data, &["deliver", &spec, &folder.to_string_lossy(), "--note", &format!("revision {n}")])?;
    }
    handoff(&cli, &diff_data, &["thread", "new", &spec, "--text", "Where does the bench reply go?"])?;

    // The large workspace: the sync benchmark's reviewer store after its initial sync.
    let big_data = work.join("workspace-data");
    sh::run(
        Command::new("cargo")
            .current_dir(sh::root())
            .env("HANDOFF_BENCH_PART", "initial")
            .env("HANDOFF_BENCH_KEEP_STORE", &big_data)
            .args(["bench", "-p", "handoff-tests", "--bench", "sync"]),
    )?;

    let script = app::ui_dir().join("e2e").join("bench-ui.mjs");
    let mut results = Vec::new();
    for (mode, data) in [("diff", &diff_data), ("workspace", &big_data)] {
        let out = work.join(format!("{mode}.json"));
        let mode_path = PathBuf::from(mode);
        app::webdriver_run(
            &app_bin,
            &script,
            data,
            &[("HANDOFF_BENCH_MODE", mode_path.as_path()), ("HANDOFF_BENCH_OUT", out.as_path())],
            900,
        )?;
        results.push(std::fs::read_to_string(&out).map_err(|e| format!("the {mode} run wrote no results: {e}"))?);
    }
    // The stores and delivered folders are a few hundred MB, made anew each run; the results stay.
    for dir in [diff_data, big_data, work.join("r1"), work.join("r2")] {
        let _ = std::fs::remove_dir_all(dir);
    }
    println!("\nUI benchmark (release app, WebKitGTK under Xvfb), results in {}:", work.display());
    for r in results {
        println!("{}", r.trim_end());
    }
    Ok(())
}

/// Runs the CLI on a data dir; its standard output, trimmed.
fn handoff(cli: &Path, data: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cli)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cli.display()))?;
    if !out.status.success() {
        return Err(format!("handoff {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
