//! `cargo xtask run`: the main job. Until the desktop app lands this is a guided tour of the
//! `handoff` CLI on a demo data dir: a spec with criteria, a delivered revision, a thread.

use std::process::Command;

use crate::sh;

pub fn run(_args: &[String]) -> Result<(), String> {
    let root = sh::root();
    sh::run(Command::new("cargo").current_dir(&root).args(["build", "-p", "handoff-cli"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target"));
    let handoff = target.join("debug").join("handoff");
    let data = target.join("demo-data");
    let _ = std::fs::remove_dir_all(&data);
    let cli = |args: &[&str]| -> Result<String, String> {
        let mut cmd = Command::new(&handoff);
        cmd.arg("--data-dir").arg(&data).args(args);
        eprintln!("$ handoff {}", args.join(" "));
        let out = cmd.output().map_err(|e| format!("cannot run {}: {e}", handoff.display()))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        print!("{text}");
        if !out.status.success() {
            return Err(format!("handoff {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
        Ok(text.trim().to_owned())
    };
    let context = root.join("ARCHITECTURE.md");
    let spec = cli(&[
        "spec",
        "new",
        "--title",
        "Local store for the Handoff client",
        "--context-file",
        &context.to_string_lossy(),
        "--criterion",
        "Every change is written with its outbox entry in one transaction",
        "--criterion",
        "A store from a newer Handoff is refused",
    ])?;
    cli(&["spec", "assign", &spec, "contractor@example.com"])?;
    cli(&["spec", "status", &spec, "ready"])?;
    cli(&["deliver", &spec, &root.join("crates/handoff-core").to_string_lossy(), "--note", "The domain crate as revision 1"])?;
    let thread = cli(&["thread", "new", &spec, "--text", "Why UUIDv7 ids?", "--rev", "1", "--file", "src/ids.rs", "--lines", "1-3"])?;
    cli(&["thread", "reply", &thread, "--text", "Time-ordered, and any client can make them offline."])?;
    cli(&["spec", "show", &spec])?;
    cli(&["search", "outbox"])?;
    cli(&["status"])?;
    println!("\nDemo data is in {}; try: {} --data-dir {} spec list", data.display(), handoff.display(), data.display());
    Ok(())
}
