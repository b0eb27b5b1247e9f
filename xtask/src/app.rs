//! The desktop app's moving parts for xtask: the UI build, the app binary, a private
//! Xvfb display, and WebDriver runs through tauri-driver (end-to-end tests, screenshots).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{deps, sh};

/// The UI folder.
pub fn ui_dir() -> PathBuf {
    sh::root().join("ui")
}

/// The cargo target dir.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| sh::root().join("target"))
}

/// `npm ci` when node_modules is missing or older than package-lock.json; otherwise nothing.
pub fn npm_ci() -> Result<(), String> {
    deps::ensure_node()?;
    let ui = ui_dir();
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(&ui.join("package-lock.json"));
    let installed = modified(&ui.join("node_modules/.package-lock.json"));
    match (lock, installed) {
        (Some(lock), Some(installed)) if installed >= lock => Ok(()),
        _ => sh::run(Command::new("npm").current_dir(&ui).args(["ci", "--no-audit", "--no-fund"])),
    }
}

/// Installs the UI's packages if needed and builds `ui/dist` (embedded into the app binary).
pub fn build_ui() -> Result<(), String> {
    npm_ci()?;
    sh::run(Command::new("npx").current_dir(ui_dir()).args(["vite", "build", "--logLevel", "warn"]))
}

/// Builds the UI, then the app binary (debug); returns the binary's path.
pub fn build_app() -> Result<PathBuf, String> {
    deps::ensure(deps::APP_PACKAGES)?;
    build_ui()?;
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "-p", "handoff-app"]))?;
    Ok(target_dir().join("debug").join("handoff-app"))
}

/// The debug `handoff-server` and `handoff` binaries the sync scenarios run against, as the
/// environment the scenarios read (`HANDOFF_SERVER_BIN`, `HANDOFF_CLI_BIN`).
pub fn sync_binaries() -> [(&'static str, PathBuf); 2] {
    let debug = target_dir().join("debug");
    [("HANDOFF_SERVER_BIN", debug.join("handoff-server")), ("HANDOFF_CLI_BIN", debug.join("handoff"))]
}

/// Builds the server and CLI binaries the sync scenarios need.
pub fn build_sync_binaries() -> Result<(), String> {
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "-p", "handoff-server", "-p", "handoff-cli"]))
}

/// A private X display that is stopped when dropped.
pub struct Xvfb {
    child: Child,
    /// The `DISPLAY` value, such as `:93`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb on the first free display from :90 at 1280x800.
    pub fn start() -> Result<Self, String> {
        for n in 90..140 {
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            if socket.exists() || lock.exists() {
                if lock_holder_alive(&lock) {
                    continue;
                }
                // Left by an X server that was killed before it could clean up.
                let _ = std::fs::remove_file(&lock);
                let _ = std::fs::remove_file(&socket);
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start Xvfb: {e}"))?;
            let started = Instant::now();
            while !socket.exists() {
                if started.elapsed() > Duration::from_secs(10) {
                    return Err(format!("Xvfb {display} did not start within 10 s"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Ok(Self { child, display });
        }
        Err("no free X display between :90 and :139".into())
    }
}

/// Whether the process named in an X lock file (its pid, as text) is still running. An
/// unreadable lock counts as held.
fn lock_holder_alive(lock: &Path) -> bool {
    match std::fs::read_to_string(lock) {
        Ok(text) => text.trim().parse::<u32>().map_or(true, |pid| Path::new(&format!("/proc/{pid}")).exists()),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its lock file and socket; SIGKILL would leave them, and
        // enough leftovers exhaust the displays this picks from.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `node <script>` against the real app through tauri-driver (ports 4544/4545) on a
/// private display and D-Bus session (with an unlocked gnome-keyring), with `data_dir` as HANDOFF_DATA_DIR and an outer
/// timeout so a hung WebDriver session fails instead of hanging.
pub fn webdriver_run(
    app: &Path,
    script: &Path,
    data_dir: &Path,
    extra_env: &[(&str, &Path)],
    timeout_s: u32,
) -> Result<(), String> {
    let driver = deps::ensure_tauri_driver()?;
    let x = Xvfb::start()?;
    // The app keeps its sign-in token in the OS keychain: a fresh, unlocked gnome-keyring in
    // this private D-Bus session (shared/TAURI.md), with its own XDG_DATA_HOME so an old
    // keyring can never prompt.
    let keyring_home = data_dir.with_extension("keyring");
    std::fs::create_dir_all(&keyring_home).map_err(|e| format!("cannot create {}: {e}", keyring_home.display()))?;
    let inner = format!(
        "echo -n test-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 1; \
         '{driver}' --port 4544 --native-port 4545 >\"$HANDOFF_E2E_LOG\" 2>&1 & td=$!; \
         i=0; while ! (exec 3<>/dev/tcp/127.0.0.1/4544) 2>/dev/null; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.1; done; \
         node '{script}'; rc=$?; kill $td 2>/dev/null; wait $td 2>/dev/null; exit $rc",
        driver = driver.display(),
        script = script.display(),
    );
    let log = data_dir.with_extension("tauri-driver.log");
    let mut cmd = Command::new("timeout");
    cmd.current_dir(ui_dir())
        .args(["-k", "10", &timeout_s.to_string(), "dbus-run-session", "--", "bash", "-c", &inner])
        .env("DISPLAY", &x.display)
        .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
        .env("LANG", "C.UTF-8")
        .env("HANDOFF_APP", app)
        .env("HANDOFF_DATA_DIR", data_dir)
        .env("XDG_DATA_HOME", &keyring_home)
        .env("HANDOFF_E2E_LOG", &log)
        .env("RUST_LOG", "warn,handoff_app=info");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let result = sh::run(&mut cmd);
    if result.is_err()
        && let Ok(text) = std::fs::read_to_string(&log)
    {
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        eprintln!("xtask: tauri-driver log ({}):\n{tail}", log.display());
    }
    drop(x);
    result
}
