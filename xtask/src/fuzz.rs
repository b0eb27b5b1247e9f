//! `cargo xtask fuzz [--minutes N | --seconds N] [TARGET…]`: the coverage-guided fuzz targets
//! of `fuzz/`, with libFuzzer, on the stable toolchain.
//!
//! `cargo fuzz` needs nightly for its sanitizer flags; the coverage instrumentation libFuzzer
//! feeds on (`-Cpasses=sancov-module` and the `sanitizer-coverage-*` LLVM options) is stable,
//! and `libfuzzer-sys` builds libFuzzer from its own C++ source. So this builds the targets
//! with exactly those flags (no sanitizer: Rust's own checks, debug assertions and overflow
//! checks, catch what the properties do not) into `target/fuzz`, then runs each for its
//! share of time. A crash fails the run and leaves its input in `target/fuzz/artifacts/T/`;
//! the case then becomes a unit test beside the code it broke.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{deps, sh};

/// Every target in `fuzz/Cargo.toml`, in the order they run.
pub const TARGETS: &[&str] =
    &["wire_push", "wire_pull", "wire_mutation", "manifest", "handoffignore", "patch", "merge", "section_text"];

/// The stable coverage instrumentation libFuzzer needs (what `cargo fuzz build -s none` passes).
const RUSTFLAGS: &str = "--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares -Cforce-frame-pointers=yes";

/// What one target did: executions, coverage (libFuzzer's `cov`: edges; `ft`: features).
struct Figures {
    target: String,
    executions: u64,
    edges: u64,
    features: u64,
    corpus: u64,
}

pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |unit: u64| -> Result<u64, String> {
            it.next().and_then(|n| n.parse::<u64>().ok()).filter(|n| *n > 0).map(|n| n * unit).ok_or_else(usage)
        };
        match a.as_str() {
            "--minutes" => seconds = number(60)?,
            "--seconds" => seconds = number(1)?,
            t if TARGETS.contains(&t) => only.push(t),
            _ => return Err(usage()),
        }
    }
    let targets: Vec<&str> = if only.is_empty() { TARGETS.to_vec() } else { only };
    deps::ensure(deps::FUZZ_PACKAGES)?;
    let dir = fuzz_dir();
    build(&dir)?;
    let mut figures = Vec::new();
    for t in &targets {
        figures.push(run(&dir, t, seconds)?);
    }
    eprintln!("xtask: fuzzed {} target(s), {seconds} s each:", figures.len());
    eprintln!("  {:<14} {:>14} {:>8} {:>9} {:>7}", "TARGET", "EXECUTIONS", "EDGES", "FEATURES", "CORPUS");
    for f in &figures {
        eprintln!("  {:<14} {:>14} {:>8} {:>9} {:>7}", f.target, f.executions, f.edges, f.features, f.corpus);
    }
    Ok(())
}

fn usage() -> String {
    format!("usage: cargo xtask fuzz [--minutes N | --seconds N] [TARGET…]\ntargets: {}", TARGETS.join(" "))
}

/// `target/fuzz` beside the workspace's build (its own folder: every crate is instrumented).
fn fuzz_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| sh::root().join("target"));
    target.join("fuzz")
}

fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc").arg("-vV").output().map_err(|e| format!("cannot run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV named no host".to_owned())
}

fn binary(dir: &Path, target: &str) -> Result<PathBuf, String> {
    Ok(dir.join(host_triple()?).join("release").join(target))
}

fn build(dir: &Path) -> Result<(), String> {
    // An explicit --target keeps the instrumentation off build scripts and proc macros.
    sh::run(
        Command::new("cargo")
            .current_dir(sh::root().join("fuzz"))
            .env("CARGO_TARGET_DIR", dir)
            .env("RUSTFLAGS", RUSTFLAGS)
            .args(["build", "--release", "--locked", "--bins", "--target", &host_triple()?]),
    )
}

fn run(dir: &Path, target: &str, seconds: u64) -> Result<Figures, String> {
    let corpus = dir.join("corpus").join(target);
    let artifacts = dir.join("artifacts").join(target);
    let seeds = sh::root().join("fuzz").join("seeds").join(target);
    for d in [&corpus, &artifacts] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let mut cmd = Command::new(binary(dir, target)?);
    cmd.arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-max_len=16384")
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    eprintln!("xtask: $ {}", sh::describe(&cmd));
    let out = cmd.output().map_err(|e| format!("cannot start {}: {e}", sh::describe(&cmd)))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!(
            "fuzz target {target} failed ({}); its input is in {}:\n{}",
            out.status,
            artifacts.display(),
            tail.join("\n")
        ));
    }
    Ok(figures(target, &log))
}

/// Reads libFuzzer's closing numbers: `stat::number_of_executed_units`, and the last status
/// line's `cov:` (edges), `ft:` (features) and `corp:` (corpus entries).
fn figures(target: &str, log: &str) -> Figures {
    let field = |line: &str, key: &str| -> u64 {
        line.split_whitespace()
            .skip_while(|w| *w != key)
            .nth(1)
            .and_then(|v| v.split('/').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let executions = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let last = log.lines().rfind(|l| l.starts_with('#') && l.contains(" cov: ")).unwrap_or("");
    Figures {
        target: target.to_owned(),
        executions,
        edges: field(last, "cov:"),
        features: field(last, "ft:"),
        corpus: field(last, "corp:"),
    }
}
