//! `cargo xtask`: the project's own automation. Plain std, so it builds in seconds.
//!
//! - `cargo xtask run`: the main job (see `run.rs`).
//! - `cargo xtask test`: every test the project has, installing what it needs first.
//! - `cargo xtask bench diff|server|sync`: benchmarks that print ratios against references.
//! - `cargo xtask soak [--seeds N]`: the sync simulation over many seeds.

mod bench;
mod deps;
mod run;
mod sh;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run                 start Handoff (see README)
  test                install what the tests need, then run every test
  bench diff|server|sync
                      run a benchmark and print its table
  soak [--seeds N]    run the sync fault simulation over N seeds (default 10000)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("soak") => test::soak(&args[1..]),
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
