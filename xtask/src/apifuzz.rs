//! `cargo xtask apifuzz [--examples N] [--seed S]`: schemathesis, a schema-driven API fuzzer,
//! over every operation of a real `handoff-server` with every check.
//!
//! The server runs from the debug binary on 127.0.0.1 with a fresh SQLite data dir, request
//! rate limits off (so the fuzzer reaches validation, not 429s); the fuzzer's owner account
//! comes from `handoff-server invite`. The document it reads is the one the server serves,
//! generated from the limits it enforces. Checks are all of schemathesis's, with the
//! statuses the document states added where its defaults lack them, plus one stricter check
//! of our own (`apifuzz/handoff_hooks.py`). `GET /v1/events`, a stream that does not end by
//! itself, is read for a second per request (`apifuzz/schemathesis.toml`).
//!
//! schemathesis is installed once from PyPI, at a pinned version, into a venv under the
//! target dir.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{app, deps, sh};

/// The schemathesis release the checks and config are written for (its CLI changed in 4.x).
const SCHEMATHESIS: &str = "4.32.5";
/// Test cases per operation and phase in `cargo xtask test`: about a minute on two cores.
pub const CI_EXAMPLES: u32 = 100;
/// The seed `cargo xtask test` uses, so CI runs the same cases each time.
pub const CI_SEED: &str = "1";

const EMAIL: &str = "owner@apifuzz.test";
const PASSWORD: &str = "apifuzz-password";

pub fn apifuzz(args: &[String]) -> Result<(), String> {
    let (mut examples, mut seed) = (CI_EXAMPLES, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = it.next().ok_or_else(usage)?;
        match a.as_str() {
            "--examples" => examples = value.parse().ok().filter(|n| *n > 0).ok_or_else(usage)?,
            // schemathesis prints seeds of up to 128 bits.
            "--seed" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => seed = Some(value.as_str()),
            _ => return Err(usage()),
        }
    }
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "-p", "handoff-server"]))?;
    run(examples, seed)
}

fn usage() -> String {
    "usage: cargo xtask apifuzz [--examples N] [--seed S]".into()
}

/// Installs schemathesis when needed, then fuzzes a fresh server built beforehand.
pub fn run(examples: u32, seed: Option<&str>) -> Result<(), String> {
    deps::ensure(deps::APIFUZZ_PACKAGES)?;
    let schemathesis = ensure_schemathesis()?;
    let scratch = crate::test::Scratch::new("apifuzz")?;
    let work = scratch.path().to_owned();
    let server_bin = app::target_dir().join("debug").join("handoff-server");
    let data = work.join("data");
    let (invite, workspace) = make_invite(&server_bin, &data)?;
    let server = Server::start(&server_bin, &data)?;
    let here = sh::root().join("xtask").join("apifuzz");
    let config = work.join("schemathesis.toml");
    std::fs::write(&config, run_config(&here, &workspace)?).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let started = std::time::Instant::now();
    let mut cmd = Command::new(&schemathesis);
    cmd.current_dir(&work)
        .env("PYTHONPATH", &here)
        .env("SCHEMATHESIS_HOOKS", "handoff_hooks")
        .env("HANDOFF_FUZZ_URL", &server.url)
        .env("HANDOFF_FUZZ_EMAIL", EMAIL)
        .env("HANDOFF_FUZZ_PASSWORD", PASSWORD)
        .env("HANDOFF_FUZZ_INVITE", &invite)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/v1/openapi.json", server.url))
        .args(["--header", "handoff-protocol: 1", "--checks", "all"])
        // One worker: with two, Hypothesis's threads parse source concurrently and this
        // machine's Python 3.11 failed a CI run with "SystemError: AST constructor recursion
        // depth mismatch" (schemathesis counts it as an error, not an API failure).
        .args(["--max-examples", &examples.to_string(), "--workers", "1", "--no-color"])
        .args(["--report", "junit", "--report-dir"])
        .arg(work.join("report"));
    if let Some(seed) = seed {
        cmd.args(["--seed", seed]);
    }
    eprintln!("xtask: $ {}", sh::describe(&cmd));
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot start schemathesis: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    drop(server);
    let figures = Figures::read(&text);
    eprintln!(
        "xtask: apifuzz: {} operations, {} test cases generated, {} failures, {} errors in {:.0?}",
        figures.operations,
        figures.cases,
        figures.failures,
        figures.errors,
        started.elapsed(),
    );
    if out.status.success() && figures.failures == 0 && figures.errors == 0 {
        Ok(())
    } else {
        let kept = scratch.keep();
        Err(format!(
            "the API fuzzer found problems ({}); see above, and its report in {}",
            out.status,
            kept.join("report").display()
        ))
    }
}

/// What the fuzzer reports at its end.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    operations: u64,
    cases: u64,
    failures: u64,
    errors: u64,
}

impl Figures {
    /// Reads schemathesis's summary: `Tested: 14`, `1000 generated, …` and the last line
    /// (`=== 2 failures, 1 error, 1 warning in 15.29s ===`).
    fn read(out: &str) -> Self {
        let number_before = |line: &str, word: &str| -> u64 {
            let words: Vec<&str> = line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
            words.windows(2).find(|w| w[1].starts_with(word)).and_then(|w| w[0].parse().ok()).unwrap_or(0)
        };
        let mut f = Figures::default();
        for line in out.lines() {
            let t = line.trim();
            if let Some(n) = t.strip_prefix("Tested:") {
                f.operations = n.trim().parse().unwrap_or(0);
            } else if t.contains(" generated") {
                f.cases = number_before(t, "generated");
            } else if t.starts_with('=') && t.contains(" in ") {
                f.failures = number_before(t, "failure");
                f.errors = number_before(t, "error");
            }
        }
        f
    }
}

/// The pinned schemathesis in a venv under the target dir, installed from PyPI when missing.
fn ensure_schemathesis() -> Result<PathBuf, String> {
    let venv = app::target_dir().join("apifuzz").join("venv");
    let bin = venv.join("bin").join("schemathesis");
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().ends_with(SCHEMATHESIS))
        .unwrap_or(false);
    if !installed {
        sh::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
        sh::run(Command::new(venv.join("bin").join("pip")).args(["install", "-q", &format!("schemathesis=={SCHEMATHESIS}")]))?;
    }
    Ok(bin)
}

/// The checked-in configuration, plus ids that exist on this run's server: the fuzzer uses
/// them for half the path parameters, so requests reach past `not_found` (the sha256 is
/// the empty blob's, which a generated empty upload stores).
fn run_config(here: &Path, workspace: &str) -> Result<String, String> {
    let path = here.join("schemathesis.toml");
    let base = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(format!(
        "{base}\n[dictionaries.workspaces]\nvalues = [\"{workspace}\"]\n\n[dictionaries.blobs]\nvalues = [\"{EMPTY_SHA256}\"]\n\n\
         [parameters]\n\"path.id\" = {{ dictionary = \"workspaces\", probability = 0.5 }}\n\
         \"path.sha256\" = {{ dictionary = \"blobs\", probability = 0.5 }}\n"
    ))
}

/// The sha256 of no bytes.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A one-time owner invite (creating the workspace) from the server's own command: its code
/// and the workspace's id.
fn make_invite(server_bin: &Path, data: &Path) -> Result<(String, String), String> {
    let out = Command::new(server_bin)
        .arg("--data-dir")
        .arg(data)
        .args(["invite", "--workspace", "API fuzz", "--role", "owner", "--email", EMAIL])
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|e| format!("cannot start {}: {e}", server_bin.display()))?;
    let code = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().trim().to_owned();
    let said = String::from_utf8_lossy(&out.stderr);
    // `invite for workspace "API fuzz" (<id>) as owner; …`
    let workspace = said.split_once("\" (").and_then(|(_, rest)| rest.split_once(')')).map(|(id, _)| id.to_owned());
    match workspace {
        Some(workspace) if out.status.success() && !code.is_empty() => Ok((code, workspace)),
        _ => Err(format!("handoff-server invite failed: {said}")),
    }
}

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    url: String,
    /// Its stdout, kept open so a late line does not meet a closed pipe.
    _stdout: Option<BufReader<std::process::ChildStdout>>,
}

impl Server {
    /// Starts it on a free port and waits for the line that announces its address.
    fn start(server_bin: &Path, data: &Path) -> Result<Self, String> {
        let mut child = Command::new(server_bin)
            .arg("--data-dir")
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--sign-in-rate", "0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", server_bin.display()))?;
        let mut line = String::new();
        let mut stdout = child.stdout.take().map(BufReader::new);
        if let Some(out) = stdout.as_mut() {
            let _ = out.read_line(&mut line);
        }
        let Some(url) = line.trim().strip_prefix("handoff-server listening on ").map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("handoff-server did not start (it said {line:?})"));
        };
        Ok(Server { child, url, _stdout: stdout })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_from_the_summary() {
        let out = "API Operations:\n  Selected: 14/15\n  Tested: 14\n\nTest cases:\n  1000 generated, 1 found 1 unique failure, 1 errored, 12 skipped\n\n=================== 1 failure, 1 error, 2 warnings in 15.29s ===================\n";
        assert_eq!(Figures::read(out), Figures { operations: 14, cases: 1000, failures: 1, errors: 1 });
        let clean = "  Tested: 14\n  1400 generated, 1400 passed\n======== 2 warnings in 65.0s ========\n";
        assert_eq!(Figures::read(clean), Figures { operations: 14, cases: 1400, failures: 0, errors: 0 });
    }
}
