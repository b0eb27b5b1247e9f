//! `cargo xtask`: the project's own automation. Plain std, so it builds in seconds.
//!
//! - `cargo xtask run`: the main job (see `run.rs`): the desktop app, with a local server.
//! - `cargo xtask test`: every test the project has, installing what it needs first.
//! - `cargo xtask codegen`: regenerate the UI's TypeScript IPC types from the Rust types.
//! - `cargo xtask screenshots`: PNGs of the main screens from the real app under Xvfb.
//! - `cargo xtask bundle [--version V] [--out DIR]`: the .debs of the desktop app (with the CLI)
//!   and of the server, and their debug symbols.
//! - `cargo xtask bench diff|server|sync|ui`: benchmarks that print ratios against references.
//! - `cargo xtask soak [--seeds N]`: the sync simulation over many seeds.
//! - `cargo xtask fuzz [--minutes N]`: the coverage-guided fuzz targets of `fuzz/` (libFuzzer).
//! - `cargo xtask apifuzz`: schemathesis over a real server, driven by its OpenAPI document.

mod apifuzz;
mod app;
mod bench;
mod codegen;
mod deps;
mod fuzz;
mod package;
mod run;
mod screenshots;
mod sh;
mod test;
mod tidy;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run                 build and start the Handoff desktop app (and a local server)
  test                install what the tests need, then run every test
  e2e [NAME…]         only the desktop app's end-to-end scenarios (part of test)
  codegen             regenerate ui/src/lib/ipc/generated from the Rust types
  screenshots         PNGs of the main screens (target/screenshots)
  bundle              build the .debs: desktop app + CLI, server, debug symbols
  bench diff|server|sync|ui
                      run a benchmark and print its table
  soak [--seeds N]    run the sync fault simulation over N seeds (default 10000)
  fuzz [--minutes N | --seconds N] [TARGET…]
                      run the fuzz targets (default 60 s each)
  apifuzz [--examples N] [--seed S]
                      fuzz a real server's HTTP API from its OpenAPI document (schemathesis)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(&args[1..]),
        Some("e2e") => test::e2e(&args[1..]),
        Some("codegen") => codegen::codegen(&args[1..]),
        Some("screenshots") => screenshots::screenshots(&args[1..]),
        Some("bundle") => package::bundle(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("soak") => test::soak(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("apifuzz") => apifuzz::apifuzz(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
