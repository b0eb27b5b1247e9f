//! `cargo xtask bundle [--version V] [--out DIR]`: the Debian packages of a release build.
//!
//! - `handoff_V_ARCH.deb`: the desktop app (`/usr/bin/handoff-app`, its menu entry and icons)
//!   and the `handoff` CLI;
//! - `handoff-server_V_ARCH.deb`: the sync server with a systemd unit, a system user, its
//!   configuration in `/etc/handoff-server/` (a conffile) and its data in
//!   `/var/lib/handoff-server/`, and `handoff-server-admin` for the administrator's commands
//!   (files in `packaging/server/`);
//! - `handoff-dbgsym_…` and `handoff-server-dbgsym_…`: the binaries' debug info, split off
//!   before they are stripped, under `/usr/lib/debug/.build-id/` where gdb finds it.
//!
//! The packages are assembled here and built with `dpkg-deb`, not Tauri's bundler: the
//! server needs maintainer scripts and a conffile, the desktop package a second binary, and
//! both need their binaries stripped after the debug info is kept, which the bundler (reading
//! the binary from the target dir as it is) cannot do. The app binary still comes from
//! `tauri build --no-bundle`, which embeds the UI.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{app, deps, sh};

/// Which binaries go into the packages, and how hard `dpkg-deb` compresses them.
pub struct Build {
    dir: PathBuf,
    compression: [&'static str; 2],
}

impl Build {
    /// The release build (`build_release`), compressed as shipped.
    pub fn release() -> Self {
        Self { dir: app::target_dir().join("release"), compression: ["-Zxz", "-z6"] }
    }

    /// The debug build `cargo xtask test` already made. The package test checks how the
    /// packages install, upgrade and remove, which the optimizer does not change; a release
    /// build of the app and its dependencies added about 18 minutes to a clean CI run, and
    /// xz over unoptimized binaries a few more.
    pub fn debug() -> Self {
        Self { dir: app::target_dir().join("debug"), compression: ["-Zgzip", "-z1"] }
    }
}

/// What `bundle` made.
pub struct Packages {
    /// The desktop package.
    pub desktop: PathBuf,
    /// The server package.
    pub server: PathBuf,
}

const MAINTAINER: &str = "Handoff developers <dev@handoff.invalid>";

pub fn bundle(args: &[String]) -> Result<(), String> {
    let mut version = None;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--version" => version = it.next().cloned(),
            "--out" => out = it.next().map(PathBuf::from),
            _ => return Err("usage: cargo xtask bundle [--version V] [--out DIR]".into()),
        }
    }
    let version = match version {
        Some(v) => v,
        None => app_version()?,
    };
    let out = out.unwrap_or_else(|| app::target_dir().join("dist"));
    build_release()?;
    let made = package(&Build::release(), &version, &out)?;
    eprintln!("xtask: {}\nxtask: {}", made.desktop.display(), made.server.display());
    Ok(())
}

/// The app's version, from `src-tauri/tauri.conf.json`.
pub fn app_version() -> Result<String, String> {
    let path = sh::root().join("src-tauri/tauri.conf.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.split_once("\"version\": \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_owned())
        .ok_or_else(|| format!("{} has no \"version\"", path.display()))
}

/// Release builds of the app (with the UI embedded), the CLI and the server.
pub fn build_release() -> Result<(), String> {
    deps::ensure(deps::APP_PACKAGES)?;
    app::build_ui()?;
    sh::run(Command::new("cargo").current_dir(sh::root()).args([
        "build",
        "--release",
        "--locked",
        "-p",
        "handoff-cli",
        "-p",
        "handoff-server",
    ]))?;
    sh::run(Command::new("npx").current_dir(sh::root().join("src-tauri")).args([
        "--prefix",
        "../ui",
        "tauri",
        "build",
        "--no-bundle",
    ]))
}

/// Packages `build`'s binaries as version `version` into `out`.
pub fn package(build: &Build, version: &str, out: &Path) -> Result<Packages, String> {
    let release = &build.dir;
    let arch = capture(Command::new("dpkg").arg("--print-architecture"))?;
    let work = out.join(format!("stage-{version}"));
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let root = sh::root();

    // The desktop package.
    let desktop = work.join("handoff");
    let desktop_dbg = work.join("handoff-dbgsym");
    let mut ids = Vec::new();
    for bin in ["handoff-app", "handoff"] {
        ids.push(install_stripped(&release.join(bin), &desktop.join("usr/bin").join(bin), &desktop_dbg)?);
    }
    copy(&root.join("packaging/desktop/handoff.desktop"), &desktop.join("usr/share/applications/handoff.desktop"), 0o644)?;
    for (icon, size) in
        [("32x32.png", "32x32"), ("128x128.png", "128x128"), ("128x128@2x.png", "256x256"), ("icon.png", "512x512")]
    {
        let to = desktop.join(format!("usr/share/icons/hicolor/{size}/apps/handoff-app.png"));
        copy(&root.join("icons").join(icon), &to, 0o644)?;
    }
    let libc = glibc_needed(&[&release.join("handoff-app"), &release.join("handoff")])?;
    let control = Control {
        package: "handoff",
        version,
        arch: &arch,
        section: "utils",
        depends: format!("libc6 (>= {libc}), libgcc-s1, libwebkit2gtk-4.1-0, libgtk-3-0, libdbus-1-3"),
        extra: "Recommends: gnome-keyring\n".into(),
        description: "Specs, deliverables and reviews between a product team and remote contractors\n \
            Handoff is a desktop app for asynchronous work between a product team and\n \
            contractors in other time zones: specs, deliverables as numbered revisions,\n \
            review threads on their diffs. It works offline and syncs with a Handoff server.\n \
            .\n \
            This package holds the desktop app (handoff-app) and the command-line client\n \
            (handoff).",
    };
    let desktop_deb = build_deb(&desktop, &control, &[], build, out)?;
    build_dbgsym(&desktop_dbg, &control, &ids, build, out)?;

    // The server package.
    let server = work.join("handoff-server");
    let server_dbg = work.join("handoff-server-dbgsym");
    let id = install_stripped(&release.join("handoff-server"), &server.join("usr/bin/handoff-server"), &server_dbg)?;
    let files = root.join("packaging/server");
    copy(&files.join("handoff-server-admin"), &server.join("usr/sbin/handoff-server-admin"), 0o755)?;
    copy(&files.join("handoff-server.service"), &server.join("lib/systemd/system/handoff-server.service"), 0o644)?;
    copy(&files.join("handoff-server.env"), &server.join("etc/handoff-server/handoff-server.env"), 0o640)?;
    for script in ["postinst", "prerm", "postrm"] {
        copy(&files.join(script), &server.join("DEBIAN").join(script), 0o755)?;
    }
    let libc = glibc_needed(&[&release.join("handoff-server")])?;
    let control = Control {
        package: "handoff-server",
        version,
        arch: &arch,
        section: "net",
        depends: format!("libc6 (>= {libc}), libgcc-s1, adduser"),
        extra: String::new(),
        description: "Handoff sync server\n \
            The server Handoff's desktop apps and CLIs sync with: accounts, invites,\n \
            specs, revisions and their files, reviews. It runs as a systemd service\n \
            (handoff-server) on SQLite by default, or on PostgreSQL.",
    };
    let server_deb = build_deb(&server, &control, &["/etc/handoff-server/handoff-server.env"], build, out)?;
    build_dbgsym(&server_dbg, &control, &[id], build, out)?;
    std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    Ok(Packages { desktop: desktop_deb, server: server_deb })
}

/// A package's control fields.
struct Control<'a> {
    package: &'a str,
    version: &'a str,
    arch: &'a str,
    section: &'a str,
    depends: String,
    extra: String,
    description: &'a str,
}

/// Copies `bin` to `to` stripped, with its debug info kept in `dbg_root` under
/// `usr/lib/debug/.build-id/`; returns the binary's build id.
fn install_stripped(bin: &Path, to: &Path, dbg_root: &Path) -> Result<String, String> {
    if !bin.is_file() {
        return Err(format!("{} is missing: the build did not make it", bin.display()));
    }
    let id = build_id(bin)?;
    let (head, tail) = id.split_at(2);
    let debug = dbg_root.join(format!("usr/lib/debug/.build-id/{head}/{tail}.debug"));
    mkdir_for(&debug)?;
    mkdir_for(to)?;
    sh::run(Command::new("objcopy").arg("--only-keep-debug").arg("--compress-debug-sections").arg(bin).arg(&debug))?;
    sh::run(Command::new("strip").args(["--strip-debug", "--strip-unneeded", "-o"]).arg(to).arg(bin))?;
    sh::run(Command::new("objcopy").arg(format!("--add-gnu-debuglink={}", debug.display())).arg(to))?;
    set_mode(&debug, 0o644)?;
    set_mode(to, 0o755)?;
    Ok(id)
}

/// The GNU build id of an ELF binary.
fn build_id(bin: &Path) -> Result<String, String> {
    let notes = capture(Command::new("readelf").arg("-n").arg(bin))?;
    notes
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .map(|s| s.trim().to_owned())
        .filter(|s| s.len() > 2)
        .ok_or_else(|| format!("{} has no GNU build id", bin.display()))
}

/// The newest glibc symbol version the binaries use (what `libc6 (>= …)` must say).
fn glibc_needed(bins: &[&Path]) -> Result<String, String> {
    let mut newest: Vec<u32> = vec![2, 17];
    for bin in bins {
        let symbols = capture(Command::new("objdump").arg("-T").arg(bin))?;
        for v in symbols.split("GLIBC_").skip(1) {
            let digits: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            let parsed: Vec<u32> = digits.split('.').filter_map(|p| p.parse().ok()).collect();
            if !parsed.is_empty() && parsed > newest {
                newest = parsed;
            }
        }
    }
    Ok(newest.iter().map(u32::to_string).collect::<Vec<_>>().join("."))
}

/// Writes `DEBIAN/control`, `md5sums` and `conffiles` into `stage` and builds the .deb.
fn build_deb(stage: &Path, c: &Control<'_>, conffiles: &[&str], build: &Build, out: &Path) -> Result<PathBuf, String> {
    let debian = stage.join("DEBIAN");
    std::fs::create_dir_all(&debian).map_err(|e| format!("cannot create {}: {e}", debian.display()))?;
    let (size_kib, md5sums) = contents(stage)?;
    write(&debian.join("md5sums"), &md5sums)?;
    if !conffiles.is_empty() {
        write(&debian.join("conffiles"), &format!("{}\n", conffiles.join("\n")))?;
    }
    let control = format!(
        "Package: {}\nVersion: {}\nArchitecture: {}\nMaintainer: {MAINTAINER}\nInstalled-Size: {size_kib}\n\
         Depends: {}\n{}Section: {}\nPriority: optional\nDescription: {}\n",
        c.package, c.version, c.arch, c.depends, c.extra, c.section, c.description
    );
    write(&debian.join("control"), &control)?;
    let deb = out.join(format!("{}_{}_{}.deb", c.package, c.version, c.arch));
    sh::run(Command::new("dpkg-deb").arg("--root-owner-group").args(build.compression).arg("--build").arg(stage).arg(&deb))?;
    Ok(deb)
}

/// The debug-symbols package of `c`'s package.
fn build_dbgsym(stage: &Path, c: &Control<'_>, build_ids: &[String], build: &Build, out: &Path) -> Result<PathBuf, String> {
    let package = format!("{}-dbgsym", c.package);
    let control = Control {
        package: &package,
        version: c.version,
        arch: c.arch,
        section: "debug",
        depends: format!("{} (= {})", c.package, c.version),
        extra: format!("Auto-Built-Package: debug-symbols\nBuild-Ids: {}\n", build_ids.join(" ")),
        description: &format!("debug symbols for {}", c.package),
    };
    build_deb(stage, &control, &[], build, out)
}

/// The installed size in KiB and the `md5sums` lines of every file under `stage` (outside
/// `DEBIAN/`).
fn contents(stage: &Path) -> Result<(u64, String), String> {
    let mut files = Vec::new();
    walk(stage, &mut files)?;
    files.sort();
    let mut bytes = 0u64;
    let mut sums = String::new();
    for f in files {
        let rel = f.strip_prefix(stage).map_err(|e| e.to_string())?;
        if rel.starts_with("DEBIAN") {
            continue;
        }
        bytes += std::fs::metadata(&f).map_err(|e| format!("{}: {e}", f.display()))?.len();
        let sum = capture(Command::new("md5sum").arg(&f))?;
        let hash = sum.split_whitespace().next().unwrap_or_default().to_owned();
        sums.push_str(&format!("{hash}  {}\n", rel.display()));
    }
    Ok((bytes.div_ceil(1024), sums))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() { walk(&path, out)? } else { out.push(path) }
    }
    Ok(())
}

fn capture(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("cannot start {}: {e}", sh::describe(cmd)))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", sh::describe(cmd), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn mkdir_for(path: &Path) -> Result<(), String> {
    match path.parent() {
        Some(p) => std::fs::create_dir_all(p).map_err(|e| format!("cannot create {}: {e}", p.display())),
        None => Ok(()),
    }
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<(), String> {
    mkdir_for(to)?;
    std::fs::copy(from, to).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
    set_mode(to, mode)
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    set_mode(path, 0o644)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| format!("{}: {e}", path.display()))
}
