//! The .debs on this machine, as an administrator and a team would use them: both installed
//! with dpkg, the CLI run, the server started the way its systemd unit starts it (its user,
//! its environment file, its command line), an owner invited with `handoff-server-admin` and
//! joined with the installed CLI, both packages upgraded with apt to a newer build with the data and
//! the edited configuration in place, a second person joining after the upgrade and looking
//! with the server stopped, then both removed and purged.
//!
//! It changes the machine (packages, a system user), so it only runs when asked:
//! `cargo xtask test` builds the packages twice (`HANDOFF_DEBS_OLD`, `HANDOFF_DEBS_NEW`,
//! folders with `handoff_*.deb` and `handoff-server_*.deb`) and runs it as root.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const UNIT: &str = "/lib/systemd/system/handoff-server.service";
const CONF: &str = "/etc/handoff-server/handoff-server.env";
const DATA: &str = "/var/lib/handoff-server";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn apt(args: &[&str]) -> Output {
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["-y", "-q", "-o", "Dpkg::Options::=--force-confold"])
        .args(args))
}

/// The .deb of `package` in `dir`.
fn deb(dir: &Path, package: &str) -> String {
    let prefix = format!("{package}_");
    let found = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&prefix) && n.to_string_lossy().ends_with(".deb"))
        });
    found.unwrap_or_else(|| panic!("no {package}_*.deb in {}", dir.display())).to_string_lossy().into_owned()
}

fn installed_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query").args(["-W", "-f=${Status}|${Version}", package]).output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    let (status, version) = s.split_once('|')?;
    status.ends_with(" installed").then(|| version.to_owned())
}

/// The service as its unit starts it: `User=`, `EnvironmentFile=`, `ExecStart=`.
struct Service {
    child: Child,
}

impl Service {
    fn start() -> Self {
        let unit = std::fs::read_to_string(UNIT).expect("the installed unit");
        let field = |key: &str| {
            unit.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{UNIT} has no {key}="))
                .trim()
                .to_owned()
        };
        let (user, env_file, exec) = (field("User"), field("EnvironmentFile"), field("ExecStart"));
        let env = std::fs::read_to_string(&env_file).unwrap_or_else(|e| panic!("{env_file}: {e}"));
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", &user, "--", "env", "-i"]);
        for line in env.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            cmd.arg(line);
        }
        cmd.args(exec.split_whitespace()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit());
        Self { child: cmd.spawn().expect("start the service's command line") }
    }

    /// Stops it as systemd does (SIGTERM), and waits.
    fn stop(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the service never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// The installed CLI on a data dir of its own.
fn handoff(data: &Path, args: &[&str]) -> Output {
    run(Command::new("/usr/bin/handoff")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("HANDOFF_PASSWORD", "password123")
        .env("HANDOFF_INSECURE_TOKEN_FILE", "1")
        .stdin(Stdio::null()))
}

fn invite(email: &str, role: &str) -> String {
    let out = run(Command::new("/usr/sbin/handoff-server-admin").args([
        "invite",
        "--workspace",
        "Acme",
        "--role",
        role,
        "--email",
        email,
    ]));
    text(&out).lines().last().unwrap_or_default().trim().to_owned()
}

fn join(data: &Path, url: &str, email: &str, role: &str) {
    let code = invite(email, role);
    handoff(data, &["join", "--server", url, "--invite", &code, "--email", email, "--name", email]);
}

/// Purges what an earlier, interrupted run left (dpkg skips what is not installed).
fn remove_everything() {
    let _ = Command::new("dpkg").args(["--purge", "handoff", "handoff-server"]).output();
}

#[test]
#[ignore = "installs .debs into this machine as root: `cargo xtask test` builds them and runs it"]
fn the_packages_install_run_upgrade_and_remove() {
    let dirs = |var: &str| PathBuf::from(std::env::var(var).unwrap_or_else(|_| panic!("{var} names a folder of .debs")));
    let (old, new) = (dirs("HANDOFF_DEBS_OLD"), dirs("HANDOFF_DEBS_NEW"));
    assert_eq!(text(&run(Command::new("id").arg("-u"))), "0", "installing packages needs root");
    remove_everything();
    let keep_data = Path::new(DATA).exists();
    let work = tempfile::tempdir().expect("work dir");

    // Install with dpkg (their dependencies are on this machine already); the upgrade below
    // goes through apt.
    run(Command::new("dpkg").args(["-i", &deb(&old, "handoff"), &deb(&old, "handoff-server")]));
    let old_version = installed_version("handoff").expect("handoff installed");
    assert_eq!(installed_version("handoff-server").as_deref(), Some(old_version.as_str()));
    let version = text(&run(Command::new("/usr/bin/handoff").arg("--version")));
    assert!(version.starts_with("handoff "), "{version}");
    assert!(Path::new("/usr/bin/handoff-app").is_file(), "the desktop app is installed");
    assert!(Path::new("/usr/share/applications/handoff.desktop").is_file(), "with its menu entry");
    for bin in ["/usr/bin/handoff-app", "/usr/bin/handoff", "/usr/bin/handoff-server"] {
        let sections = text(&run(Command::new("readelf").args(["-S", "--wide", bin])));
        assert!(!sections.contains(".debug_info") && !sections.contains(".symtab"), "{bin} is stripped: {sections}");
        assert!(sections.contains(".gnu_debuglink"), "{bin} names its debug file");
    }
    let owner = text(&run(Command::new("stat").args(["-c", "%U:%G %a", DATA])));
    assert_eq!(owner, "handoff-server:handoff-server 750", "the data dir belongs to the service's user");

    // The administrator moves the service to another port (a conffile edit the upgrade keeps).
    let port = free_port();
    let conf = std::fs::read_to_string(CONF).expect("the configuration");
    assert!(conf.contains("HANDOFF_SERVER_LISTEN=127.0.0.1:8470"), "{conf}");
    std::fs::write(CONF, conf.replace("127.0.0.1:8470", &format!("127.0.0.1:{port}"))).expect("edit the configuration");
    let url = format!("http://127.0.0.1:{port}");

    let service = Service::start();
    wait_for_port(port);
    let ana = work.path().join("ana");
    join(&ana, &url, "ana@acme.io", "owner");
    let spec = text(&handoff(&ana, &["spec", "new", "--title", "Installed by the package", "--criterion", "Runs"]));
    handoff(&ana, &["sync"]);
    service.stop();
    let files = text(&run(Command::new("find").args([DATA, "-not", "-user", "handoff-server"])));
    assert!(files.is_empty(), "everything in the data dir is the service's: {files}");

    // Upgrade both to a newer build with the data and the configuration in place.
    apt(&["install", &deb(&new, "handoff"), &deb(&new, "handoff-server")]);
    let new_version = installed_version("handoff").expect("still installed");
    assert_ne!(new_version, old_version, "upgraded");
    assert_eq!(installed_version("handoff-server").as_deref(), Some(new_version.as_str()));
    assert!(
        std::fs::read_to_string(CONF).expect("conf").contains(&format!("127.0.0.1:{port}")),
        "the edited configuration is kept"
    );

    let service = Service::start();
    wait_for_port(port);
    let rui = work.path().join("rui");
    join(&rui, &url, "rui@acme.io", "reviewer");
    handoff(&rui, &["sync"]);
    service.stop();
    let listed = text(&handoff(&rui, &["spec", "list"]));
    assert!(listed.contains("Installed by the package"), "the spec made before the upgrade reached the reviewer: {listed}");
    let shown = text(&handoff(&rui, &["spec", "show", &spec]));
    assert!(shown.contains("Runs"), "{shown}");

    // Remove keeps the configuration and the data; purge drops the configuration only.
    apt(&["remove", "handoff", "handoff-server"]);
    assert!(!Path::new("/usr/bin/handoff").exists() && !Path::new("/usr/bin/handoff-server").exists(), "binaries removed");
    assert_eq!((installed_version("handoff"), installed_version("handoff-server")), (None, None));
    assert!(Path::new(CONF).exists(), "remove keeps the configuration");
    // The desktop package has no configuration: removing it left nothing to purge.
    apt(&["purge", "handoff-server"]);
    assert!(!Path::new(CONF).exists(), "purge removes the configuration");
    let kept = Path::new(DATA).read_dir().is_ok_and(|mut d| d.next().is_some());
    assert!(kept, "the team's data is never deleted by the package manager");
    if !keep_data {
        let _ = std::fs::remove_dir_all(DATA);
    }
}
