//! Shared helpers for the end-to-end tests in `tests/tests/*.rs`.

use std::path::PathBuf;
use std::process::Command;

/// The path of a workspace binary (`handoff`, `handoff-server`), building it if missing.
///
/// Test executables live in `<target>/<profile>/deps/`, so the binaries are one level up.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().and_then(|deps| deps.parent()).map(PathBuf::from).unwrap_or_default();
    let bin = dir.join(name);
    if !bin.is_file() {
        let package = if name == "handoff" { "handoff-cli" } else { name };
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", package])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status();
        assert!(status.map(|s| s.success()).unwrap_or(false), "could not build {name} ({package})");
    }
    assert!(bin.is_file(), "{} is missing after building", bin.display());
    bin
}
