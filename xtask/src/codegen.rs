//! `cargo xtask codegen`: regenerates the TypeScript IPC types in `ui/src/lib/ipc/generated/`
//! from the Rust types (ts-rs, run through src-tauri's codegen test with the write flag).

use std::process::Command;

use crate::sh;

pub fn codegen(_args: &[String]) -> Result<(), String> {
    sh::run(Command::new("cargo").current_dir(sh::root()).env("HANDOFF_CODEGEN_WRITE", "1").args([
        "test",
        "-p",
        "handoff-app",
        "--lib",
        "--",
        "--exact",
        "codegen::generated_typescript_is_fresh",
        "--nocapture",
    ]))
}
