//! `cargo xtask test`: install what the tests need, then run every test the project has.
//!
//! The Rust tests run inside a private D-Bus session with a freshly unlocked gnome-keyring,
//! so credential tests talk to a real Secret Service (the recipe in shared/TAURI.md), and
//! with a fresh XDG_DATA_HOME so an old keyring can never prompt for a password.

use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{deps, sh};

/// A fresh temp dir for one run.
fn fresh_dir(label: &str) -> Result<PathBuf, String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("handoff-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs `inner` (a shell command line) inside a private D-Bus session with an unlocked,
/// empty gnome-keyring.
pub fn with_keychain(inner: &str) -> Result<Command, String> {
    let xdg = fresh_dir("keyring")?;
    let mut cmd = Command::new("dbus-run-session");
    cmd.current_dir(sh::root()).env("XDG_DATA_HOME", &xdg).args([
        "--",
        "sh",
        "-c",
        &format!("echo -n test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && {inner}"),
    ]);
    Ok(cmd)
}

pub fn test(args: &[String]) -> Result<(), String> {
    let filter = args.join(" ");
    deps::ensure(deps::TEST_PACKAGES)?;
    deps::ensure_nextest()?;
    let started = std::time::Instant::now();
    // Build everything first, outside the D-Bus session, so a compile error reads plainly.
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "--workspace", "--all-targets", "--bins"]))?;
    sh::run(&mut with_keychain(&format!("exec cargo nextest run --workspace --profile ci --no-tests=fail {filter}"))?)?;
    if filter.is_empty() {
        sh::run(Command::new("cargo").current_dir(sh::root()).args(["test", "--workspace", "--doc", "--quiet"]))?;
    }
    eprintln!("xtask: all tests passed in {:.0?}", started.elapsed());
    Ok(())
}

/// `cargo xtask soak [--seeds N]`: the seeded sync fault simulation over many seeds.
pub fn soak(args: &[String]) -> Result<(), String> {
    let seeds = match args {
        [] => "10000".to_owned(),
        [flag, n] if flag == "--seeds" && n.parse::<u64>().is_ok() => n.clone(),
        _ => return Err("usage: cargo xtask soak [--seeds N]".into()),
    };
    deps::ensure(deps::TEST_PACKAGES)?;
    let mut cmd = Command::new("cargo");
    cmd.current_dir(sh::root())
        .env("HANDOFF_SIM_SEEDS", &seeds)
        .args(["test", "--release", "-p", "handoff-tests", "--test", "sync", "--", "sim", "--nocapture"]);
    sh::run(&mut cmd)
}
