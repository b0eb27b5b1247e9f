//! Installing what the project needs, idempotently: each check is cheap, and nothing is
//! installed twice. As root on Debian/Ubuntu it installs; otherwise it says exactly what is
//! missing and how to get it.

use std::process::Command;

use crate::sh;

/// A Debian package and a cheap way to tell whether it is already there.
pub struct Package {
    /// The Debian package name.
    pub name: &'static str,
    /// A program, a pkg-config module or a file that proves it is installed.
    pub probe: Probe,
}

/// How to check for a package without asking apt.
pub enum Probe {
    /// A program on PATH.
    Program(&'static str),
    /// A pkg-config module.
    PkgConfig(&'static str),
    /// A glob-free directory prefix: any entry starting with it under the parent dir.
    DirPrefix(&'static str, &'static str),
    /// A module `python3` can import.
    PythonModule(&'static str),
}

impl Package {
    fn present(&self) -> bool {
        match self.probe {
            Probe::Program(p) => sh::have(p),
            Probe::PkgConfig(m) => {
                Command::new("pkg-config").args(["--exists", m]).status().map(|s| s.success()).unwrap_or(false)
            }
            Probe::DirPrefix(dir, prefix) => std::fs::read_dir(dir)
                .map(|rd| rd.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().starts_with(prefix)))
                .unwrap_or(false),
            Probe::PythonModule(m) => {
                Command::new("python3").args(["-c", &format!("import {m}")]).output().map(|o| o.status.success()).unwrap_or(false)
            }
        }
    }
}

/// What the Rust workspace's tests need: PostgreSQL for the server's storage suite, HAProxy in
/// front of several server processes, a
/// Secret Service (gnome-keyring in a private D-Bus session) for credentials, git and patch
/// for the diff tests, strace for the durability tests, WebKitGTK to build the desktop app, Xvfb, WebKitWebDriver and
/// ImageMagick to drive it and take screenshots.
/// What `cargo xtask fuzz` needs: a C++ compiler for libFuzzer (built from `libfuzzer-sys`).
pub const FUZZ_PACKAGES: &[Package] = &[Package { name: "g++", probe: Probe::Program("g++") }];

/// What `cargo xtask screenshots` needs beyond the app's: libfaketime, to run the server's
/// clock ahead so the turnaround screen has hours to show.
pub const SCREENSHOT_PACKAGES: &[Package] = &[Package { name: "faketime", probe: Probe::Program("faketime") }];

/// What `cargo xtask apifuzz` needs to install schemathesis into a venv (`ensurepip` is
/// Debian's python3-venv).
pub const APIFUZZ_PACKAGES: &[Package] = &[
    Package { name: "python3", probe: Probe::Program("python3") },
    Package { name: "python3-venv", probe: Probe::PythonModule("ensurepip") },
];

pub const TEST_PACKAGES: &[Package] = &[
    Package { name: "build-essential", probe: Probe::Program("cc") },
    Package { name: "pkg-config", probe: Probe::Program("pkg-config") },
    Package { name: "git", probe: Probe::Program("git") },
    Package { name: "patch", probe: Probe::Program("patch") },
    // The durability tests read the binaries' system calls (fsync after each blob rename).
    Package { name: "strace", probe: Probe::Program("strace") },
    // The server package's maintainer scripts create its system user (tests/packages.rs).
    Package { name: "adduser", probe: Probe::Program("adduser") },
    // Machines with wrong clocks: the CLI run under libfaketime (tests/sync/clocks.rs).
    Package { name: "faketime", probe: Probe::Program("faketime") },
    Package { name: "postgresql", probe: Probe::DirPrefix("/usr/lib/postgresql", "1") },
    // Several server processes behind a real load balancer (tests/sync/cluster.rs).
    Package { name: "haproxy", probe: Probe::DirPrefix("/usr/sbin", "haproxy") },
    Package { name: "dbus-x11", probe: Probe::Program("dbus-launch") },
    Package { name: "gnome-keyring", probe: Probe::Program("gnome-keyring-daemon") },
    Package { name: "libsecret-1-dev", probe: Probe::PkgConfig("libsecret-1") },
    Package { name: "libssl-dev", probe: Probe::PkgConfig("openssl") },
    // The workspace builds the desktop app (src-tauri), so its system libraries are test deps too.
    Package { name: "libwebkit2gtk-4.1-dev", probe: Probe::PkgConfig("webkit2gtk-4.1") },
    Package { name: "libxdo-dev", probe: Probe::DirPrefix("/usr/include", "xdo.h") },
    Package { name: "libayatana-appindicator3-dev", probe: Probe::PkgConfig("ayatana-appindicator3-0.1") },
    Package { name: "librsvg2-dev", probe: Probe::PkgConfig("librsvg-2.0") },
    Package { name: "file", probe: Probe::Program("file") },
    // App end-to-end tests and screenshots: a virtual X server and WebKit's WebDriver.
    Package { name: "xvfb", probe: Probe::Program("Xvfb") },
    Package { name: "xauth", probe: Probe::Program("xauth") },
    Package { name: "webkit2gtk-driver", probe: Probe::Program("WebKitWebDriver") },
    Package { name: "imagemagick", probe: Probe::Program("import") },
];

/// What building and starting the desktop app needs (`cargo xtask run`, `bundle`).
pub const APP_PACKAGES: &[Package] = &[
    Package { name: "build-essential", probe: Probe::Program("cc") },
    Package { name: "pkg-config", probe: Probe::Program("pkg-config") },
    Package { name: "libssl-dev", probe: Probe::PkgConfig("openssl") },
    Package { name: "libsecret-1-dev", probe: Probe::PkgConfig("libsecret-1") },
    Package { name: "libwebkit2gtk-4.1-dev", probe: Probe::PkgConfig("webkit2gtk-4.1") },
    Package { name: "libxdo-dev", probe: Probe::DirPrefix("/usr/include", "xdo.h") },
    Package { name: "libayatana-appindicator3-dev", probe: Probe::PkgConfig("ayatana-appindicator3-0.1") },
    Package { name: "librsvg2-dev", probe: Probe::PkgConfig("librsvg-2.0") },
    Package { name: "file", probe: Probe::Program("file") },
];

/// Installs the missing ones (as root) or explains what is missing.
pub fn ensure(packages: &[Package]) -> Result<(), String> {
    let missing: Vec<&str> = packages.iter().filter(|p| !p.present()).map(|p| p.name).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !sh::is_root() || !sh::have("apt-get") {
        return Err(format!(
            "missing system packages: {}\ninstall them with: sudo apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    // Another xtask command (a soak beside a test run) may be installing at the same time:
    // wait for its dpkg lock rather than fail.
    const LOCK_WAIT: &str = "DPkg::Lock::Timeout=600";
    sh::run(Command::new("apt-get").args(["-o", LOCK_WAIT, "update", "-q"]))?;
    sh::run(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["-o", LOCK_WAIT, "install", "-y", "-q", "--no-install-recommends"])
            .args(&missing),
    )?;
    let still: Vec<&str> = packages.iter().filter(|p| !p.present()).map(|p| p.name).collect();
    if still.is_empty() { Ok(()) } else { Err(format!("installed, but still not found: {}", still.join(", "))) }
}

/// Ensures `cargo nextest` is available (the machine image ships it; elsewhere it is built
/// from crates.io once).
pub fn ensure_nextest() -> Result<(), String> {
    let ok = Command::new("cargo").args(["nextest", "--version"]).output().map(|o| o.status.success()).unwrap_or(false);
    if ok {
        return Ok(());
    }
    sh::run(Command::new("cargo").args(["install", "cargo-nextest", "--locked"]))
}

/// Ensures `tauri-driver` (the WebDriver bridge to the real app) is installed: built from
/// crates.io once, then found in `~/.cargo/bin`.
pub fn ensure_tauri_driver() -> Result<std::path::PathBuf, String> {
    let bin = cargo_bin_dir()?.join("tauri-driver");
    if !bin.is_file() {
        sh::run(Command::new("cargo").args(["install", "tauri-driver", "--version", "^2", "--locked"]))?;
    }
    Ok(bin)
}

/// The S3-compatible server the blob store tests start (`s3s-fs`, a crates.io binary): the
/// version is pinned, so a run tests against the same server every time.
const S3S_FS_VERSION: &str = "0.14.1";

/// Ensures `s3s-fs` (an S3-compatible server over a folder, with SigV4 authentication) is
/// installed: built from crates.io once, then found in `~/.cargo/bin`, where the tests look.
pub fn ensure_s3s_fs() -> Result<std::path::PathBuf, String> {
    let bin = cargo_bin_dir()?.join("s3s-fs");
    let version = Command::new(&bin).arg("--version").output();
    let current = version.is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(S3S_FS_VERSION));
    if !current {
        sh::run(Command::new("cargo").args([
            "install",
            "s3s-fs",
            "--version",
            S3S_FS_VERSION,
            "--features",
            "binary",
            "--locked",
        ]))?;
    }
    Ok(bin)
}

/// `~/.cargo/bin` (or `$CARGO_HOME/bin`), where `cargo install` puts binaries.
fn cargo_bin_dir() -> Result<std::path::PathBuf, String> {
    std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"))
        .ok_or_else(|| "cannot find CARGO_HOME or HOME".into())
}

/// Ensures node and npm are on PATH (the UI's build and tests need them).
pub fn ensure_node() -> Result<(), String> {
    if sh::have("node") && sh::have("npm") {
        Ok(())
    } else {
        Err("node and npm are needed for the UI (Node 20+): install them, e.g. from https://nodejs.org or your distribution"
            .into())
    }
}
