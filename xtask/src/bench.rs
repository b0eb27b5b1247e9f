//! `cargo xtask bench diff|server|sync`: each benchmark measures its reference (git diff, a
//! target figure) in the same run and prints the ratio.

use std::process::Command;

use crate::{deps, sh};

pub fn bench(args: &[String]) -> Result<(), String> {
    let (package, target) = match args.first().map(String::as_str) {
        Some("diff") => ("handoff-diff", "vs_git"),
        Some("server") => ("handoff-server", "server"),
        Some("sync") => ("handoff-tests", "sync"),
        _ => return Err("usage: cargo xtask bench diff|server|sync".into()),
    };
    deps::ensure(deps::TEST_PACKAGES)?;
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["bench", "-p", package, "--bench", target]))
}
