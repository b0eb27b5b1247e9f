//! `cargo xtask test`: install what the tests need, then run every test the project has.
//!
//! The Rust tests run inside a private D-Bus session with a freshly unlocked gnome-keyring,
//! so credential tests talk to a real Secret Service (the recipe in shared/TAURI.md), and
//! with a fresh XDG_DATA_HOME so an old keyring can never prompt for a password.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{app, deps, sh};

/// A fresh temp dir for one run.
pub fn fresh_dir(label: &str) -> Result<PathBuf, String> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("handoff-{label}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// A fresh temp dir that is removed when dropped, unless [`Scratch::keep`] says a failure
/// left something in it to read. A run leaves nothing behind when it passes: a test run
/// writes hundreds of MB of data dirs, and CI machines have failed for want of disk.
pub struct Scratch {
    path: PathBuf,
    kept: bool,
}

impl Scratch {
    /// A fresh, empty dir named after `label`.
    pub fn new(label: &str) -> Result<Self, String> {
        Ok(Self { path: fresh_dir(label)?, kept: false })
    }

    /// Where the dir is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the dir in place (for a failure to be looked into) and says where it is.
    pub fn keep(mut self) -> PathBuf {
        self.kept = true;
        self.path.clone()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `inner` (a shell command line) inside a private D-Bus session with an unlocked,
/// empty gnome-keyring, whose files live in the returned dir.
pub fn with_keychain(inner: &str) -> Result<(Command, Scratch), String> {
    let xdg = Scratch::new("keyring")?;
    let mut cmd = Command::new("dbus-run-session");
    cmd.current_dir(sh::root()).env("XDG_DATA_HOME", xdg.path()).args([
        "--",
        "sh",
        "-c",
        &format!("echo -n test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && {inner}"),
    ]);
    Ok((cmd, xdg))
}

/// Seconds each fuzz target runs in `cargo xtask test`.
const CI_FUZZ_SECONDS: &str = "5";

pub fn test(args: &[String]) -> Result<(), String> {
    let filter = args.join(" ");
    deps::ensure(deps::TEST_PACKAGES)?;
    deps::ensure_nextest()?;
    // The blob store tests run the server against a real S3-compatible server.
    deps::ensure_s3s_fs()?;
    warn_when_disk_is_short(filter.is_empty());
    let started = std::time::Instant::now();
    // The app binary embeds ui/dist, so the UI is built before the workspace.
    app::build_ui()?;
    // Build everything first, outside the D-Bus session, so a compile error reads plainly.
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "--workspace", "--all-targets", "--bins"]))?;
    let (mut nextest, _keyring) =
        with_keychain(&format!("exec cargo nextest run --workspace --profile ci --no-tests=fail {filter}"))?;
    sh::run(&mut nextest)?;
    if filter.is_empty() {
        sh::run(Command::new("cargo").current_dir(sh::root()).args(["test", "--workspace", "--doc", "--quiet"]))?;
        ui_tests()?;
        app_e2e(&[])?;
        // Every fuzz target briefly: a decoder or property broken since the last long run
        // shows here (`cargo xtask fuzz --minutes N` runs them for longer).
        crate::fuzz::fuzz(&["--seconds".into(), CI_FUZZ_SECONDS.into()])?;
        // The HTTP API against its own document (the server binary is built above).
        crate::apifuzz::run(crate::apifuzz::CI_EXAMPLES, Some(crate::apifuzz::CI_SEED))?;
        packages()?;
    }
    eprintln!("xtask: all tests passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Bytes a clean `cargo xtask test` needs: its target dir peaked at 3.1 GiB with the fuzz
/// build (5550ca8, sampled every 30 s), with the temp files of the step running beside it.
const CLEAN_RUN_BYTES: u64 = CLEAN_RUN_GIB * 1024 * 1024 * 1024;
const CLEAN_RUN_GIB: u64 = 4;

/// Says up front when the disk is too full for a whole run: a build that runs out of space
/// fails late, and the linker may say only "Bus error" (a CI run did).
fn warn_when_disk_is_short(whole_run: bool) {
    let target = app::target_dir();
    let Some(free) = sh::free_bytes(&target) else { return };
    let gib = |b: u64| b as f64 / (1024.0 * 1024.0 * 1024.0);
    eprintln!("xtask: {:.1} GiB free for {}", gib(free), target.display());
    if whole_run && free < CLEAN_RUN_BYTES {
        eprintln!(
            "xtask: WARNING: a clean run of every test writes about {CLEAN_RUN_GIB} GiB (less when {} already holds \
             a build); if the disk fills, the build fails with \"No space left on device\" or a linker \"Bus error\"",
            target.display()
        );
    }
}

/// The .debs installed, upgraded and removed on this machine (`tests/tests/packages.rs`): the
/// debug build made above packaged twice, as the app's version and as a newer build of it
/// (`cargo xtask bundle` packages a release build the same way). It runs through nextest
/// over the whole workspace, as the other tests do: `cargo test -p handoff-tests` resolves
/// features for that one package and rebuilt 91 crates a second time.
fn packages() -> Result<(), String> {
    if !sh::is_root() {
        eprintln!("xtask: SKIPPED the package test: it installs .debs and needs root");
        return Ok(());
    }
    let build = crate::package::Build::debug();
    let version = crate::package::app_version()?;
    let base = Scratch::new("debs")?;
    let (old, new) = (base.path().join("old"), base.path().join("new"));
    crate::package::package(&build, &version, &old)?;
    crate::package::package(&build, &format!("{version}+rebuild1"), &new)?;
    let started = std::time::Instant::now();
    sh::run(Command::new("cargo").current_dir(sh::root()).env("HANDOFF_DEBS_OLD", &old).env("HANDOFF_DEBS_NEW", &new).args([
        "nextest",
        "run",
        "--workspace",
        "--profile",
        "ci",
        "--run-ignored",
        "only",
        "--no-capture",
        "-E",
        "binary(packages)",
    ]))?;
    eprintln!("xtask: package test passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The UI's unit and component tests (Vitest, jsdom) and its type check (svelte-check).
fn ui_tests() -> Result<(), String> {
    app::npm_ci()?;
    let ui = app::ui_dir();
    sh::run(Command::new("npx").current_dir(&ui).args(["vitest", "run"]))?;
    sh::run(Command::new("npx").current_dir(&ui).args([
        "svelte-check",
        "--tsconfig",
        "./tsconfig.app.json",
        "--fail-on-warnings",
    ]))
}

/// `cargo xtask e2e [NAME…]`: builds the app, server and CLI, and runs only the app's
/// end-to-end scenarios (those whose file name contains a NAME, when given).
pub fn e2e(args: &[String]) -> Result<(), String> {
    deps::ensure(deps::TEST_PACKAGES)?;
    app::build_app()?;
    app::build_sync_binaries()?;
    app_e2e(args)
}

/// End-to-end scenarios against the real app binary: each `ui/e2e/*.e2e.mjs` (those whose
/// file name contains one of `only`, when given) runs in its own Xvfb display, D-Bus session
/// with an unlocked keyring and data dir, under an outer timeout. The sync scenarios start
/// their own `handoff-server` and `handoff` CLI from the debug binaries.
fn app_e2e(only: &[String]) -> Result<(), String> {
    let binary = app::target_dir().join("debug").join("handoff-app");
    let dir = app::ui_dir().join("e2e");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".e2e.mjs"))
        .filter(|p| only.is_empty() || only.iter().any(|o| p.to_string_lossy().contains(o.as_str())))
        .collect();
    let bins = app::sync_binaries();
    let env: Vec<(&str, &std::path::Path)> = bins.iter().map(|(k, v)| (*k, v.as_path())).collect();
    scenarios.sort();
    for scenario in &scenarios {
        // The data dir, keyring, driver log and every temp dir the scenario makes (servers'
        // data, delivered folders) live in one dir, removed when the scenario passes.
        let scratch = Scratch::new("e2e")?;
        let (data, tmp) = (scratch.path().join("data"), scratch.path().join("tmp"));
        for dir in [&data, &tmp] {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut env = env.clone();
        env.push(("TMPDIR", tmp.as_path()));
        let started = std::time::Instant::now();
        if let Err(e) = app::webdriver_run(&binary, scenario, &data, &env, 360) {
            let kept = scratch.keep();
            return Err(format!(
                "app E2E {} failed: {e} (its data, temp files and driver log are in {})",
                scenario.display(),
                kept.display()
            ));
        }
        eprintln!("xtask: app E2E {} passed in {:.1?}", scenario.display(), started.elapsed());
    }
    Ok(())
}

/// Seeds per `cargo xtask soak` step: a run cut short still says how far it got.
const SOAK_CHUNK: u64 = 500;

/// `cargo xtask soak [--seeds N]`: the seeded sync fault simulation over seeds `0..N`, in steps
/// of [`SOAK_CHUNK`] from the highest down, a line per step. The simulation checks sync logic,
/// not durability, so its SQLite files live in `/dev/shm` when there is one (with
/// `synchronous=FULL` on a disk, fsyncs made a step several times slower).
pub fn soak(args: &[String]) -> Result<(), String> {
    let seeds: u64 = match args {
        [] => 10_000,
        [flag, n] if flag == "--seeds" => n.parse().map_err(|_| format!("--seeds takes a number, not {n:?}"))?,
        _ => return Err("usage: cargo xtask soak [--seeds N]".into()),
    };
    deps::ensure(deps::TEST_PACKAGES)?;
    let started = std::time::Instant::now();
    let mut start = seeds.div_ceil(SOAK_CHUNK) * SOAK_CHUNK;
    while start > 0 {
        start -= SOAK_CHUNK;
        let count = SOAK_CHUNK.min(seeds - start);
        let step = std::time::Instant::now();
        let mut cmd = Command::new("cargo");
        cmd.current_dir(sh::root())
            .env("HANDOFF_SIM_START", start.to_string())
            .env("HANDOFF_SIM_SEEDS", count.to_string())
            .args(["test", "--release", "-p", "handoff-tests", "--test", "sync", "--", "sim", "--nocapture"]);
        if std::path::Path::new("/dev/shm").is_dir() {
            cmd.env("TMPDIR", "/dev/shm");
        }
        sh::run(&mut cmd)
            .map_err(|e| format!("soak: seeds {start}..{} failed ({e}); the lines above name each seed", start + count))?;
        eprintln!(
            "xtask: soak: seeds {start}..{} passed in {:.0?} ({} of {seeds} done, {:.0?} in all)",
            start + count,
            step.elapsed(),
            seeds - start,
            started.elapsed()
        );
    }
    eprintln!("xtask: soak: {seeds} seeds passed in {:.0?}", started.elapsed());
    Ok(())
}
