//! `cargo xtask run`: the main job. Builds the UI and the desktop app, makes sure a local
//! `handoff-server` answers on 127.0.0.1:8470 (starting one on its default SQLite store if
//! nothing does), then starts the app on the shared data dir.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{app, sh};

const SERVER_ADDR: &str = "127.0.0.1:8470";

fn server_answers() -> bool {
    SERVER_ADDR
        .parse::<SocketAddr>()
        .map(|addr| TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok())
        .unwrap_or(false)
}

/// What the app is started with so that its first run joins the local server: an owner
/// invite for the server this run started.
struct FirstRun {
    code: String,
    email: &'static str,
}

/// Starts `handoff-server` when nothing listens on its default address, with an owner invite
/// for the app's first run. `Ok(None)` when one already answers; an error (reported, not
/// fatal) when it cannot be built or started.
fn ensure_server() -> Result<Option<(Child, Option<FirstRun>)>, String> {
    if server_answers() {
        eprintln!("xtask: a server already answers on {SERVER_ADDR}; using it");
        return Ok(None);
    }
    sh::run(Command::new("cargo").current_dir(sh::root()).args(["build", "-p", "handoff-server", "--bin", "handoff-server"]))?;
    let bin = app::target_dir().join("debug").join("handoff-server");
    let child = Command::new(&bin).spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let started = Instant::now();
    while !server_answers() {
        if started.elapsed() > Duration::from_secs(15) {
            return Err(format!("handoff-server did not answer on {SERVER_ADDR} within 15 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("xtask: handoff-server listening on {SERVER_ADDR} (pid {})", child.id());
    let first_run = owner_invite(&bin);
    Ok(Some((child, first_run)))
}

/// A newcomer needs an invite to join the local server: make one, hand it to the app (which
/// then asks only for a password, unless its data dir already joined a server) and print it
/// for anyone joining by hand. Failing to make one is not fatal (the app works offline).
fn owner_invite(server: &std::path::Path) -> Option<FirstRun> {
    let email = "owner@localhost";
    let out = Command::new(server).args(["invite", "--workspace", "Local team", "--role", "owner", "--email", email]).output();
    match out {
        Ok(o) if o.status.success() => {
            let code = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            eprintln!(
                "xtask: the app opens ready to join the local server (choose a password); by hand:\n\
                 xtask:   server  http://{SERVER_ADDR}\n\
                 xtask:   invite  {code}\n\
                 xtask:   email   {email}  (the code works once)"
            );
            Some(FirstRun { code, email })
        }
        Ok(o) => {
            eprintln!("xtask: could not create an invite: {}", String::from_utf8_lossy(&o.stderr).trim());
            None
        }
        Err(e) => {
            eprintln!("xtask: could not create an invite: {e}");
            None
        }
    }
}

pub fn run(_args: &[String]) -> Result<(), String> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err("no display: Handoff is a desktop app. Run this in a desktop session, or on a headless \
                    machine under a virtual one: `xvfb-run -a cargo xtask run` (package xvfb)"
            .into());
    }
    let binary = app::build_app()?;
    let (mut server, first_run) = match ensure_server() {
        Ok(Some((child, first_run))) => (Some(child), first_run),
        Ok(None) => (None, None),
        Err(e) => {
            eprintln!("xtask: starting the app without a local server: {e}");
            (None, None)
        }
    };
    let mut cmd = Command::new(&binary);
    if let Some(f) = &first_run {
        let name = std::env::var("USER").unwrap_or_default();
        cmd.args(["--join", &format!("http://{SERVER_ADDR}"), "--invite", &f.code, "--email", f.email, "--name", &name]);
    }
    if std::env::var_os("WEBKIT_DISABLE_DMABUF_RENDERER").is_none() {
        cmd.env("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    let result = sh::run(&mut cmd);
    if let Some(child) = server.as_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    result
}
