//! A PostgreSQL for tests: `HANDOFF_TEST_POSTGRES_URL` when set, else a throwaway cluster
//! started here (initdb + pg_ctl, as the `postgres` user when running as root) and stopped on
//! drop. Missing PostgreSQL is a failure with instructions, never a silent skip.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A PostgreSQL server for one test (or one test binary section).
pub struct PgServer {
    /// Connection URL to the maintenance database.
    pub url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

const ENV: &str = "HANDOFF_TEST_POSTGRES_URL";

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb, else the folder of `initdb` on PATH.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let out = Command::new("sh").args(["-c", "command -v initdb"]).output().ok()?;
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    path.parent().filter(|p| p.join("pg_ctl").exists()).map(Path::to_owned)
}

fn run(as_postgres: bool, bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let exe = bin.join(tool);
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.args(args).current_dir("/");
    cmd.output().unwrap_or_else(|e| panic!("could not run {}: {e}", exe.display()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port on 127.0.0.1")
}

impl PgServer {
    /// Connects to `HANDOFF_TEST_POSTGRES_URL`, or starts a cluster.
    pub fn start() -> Self {
        if let Ok(url) = std::env::var(ENV) {
            return Self { url, cluster: None };
        }
        let Some(bin) = find_bin() else {
            panic!(
                "PostgreSQL is required by these tests and was not found: set {ENV}=postgres://user@host:port/db, \
                 or install the PostgreSQL server (Debian: apt-get install postgresql) so that initdb and pg_ctl \
                 are in /usr/lib/postgresql/<version>/bin or on PATH"
            );
        };
        let as_postgres = is_root();
        if as_postgres && Command::new("id").arg("postgres").output().map(|o| !o.status.success()).unwrap_or(true) {
            panic!(
                "running as root, PostgreSQL must run as the `postgres` system user, which does not exist (apt-get install postgresql creates it)"
            );
        }
        let dir = tempfile::Builder::new().prefix("handoff-pg-").tempdir().expect("temp dir");
        if as_postgres {
            let st = Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().expect("chown");
            assert!(st.success(), "chown of the cluster dir to postgres failed");
        }
        let data = dir.path().join("data");
        let data_s = data.to_string_lossy().into_owned();
        let out = run(
            as_postgres,
            &bin,
            "initdb",
            &["-D", &data_s, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"],
        );
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let port = free_port();
        let opts = format!(
            "-F -p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB",
            dir.path().display()
        );
        let log = dir.path().join("log").to_string_lossy().into_owned();
        let out = run(as_postgres, &bin, "pg_ctl", &["-D", &data_s, "-l", &log, "-w", "-t", "60", "-o", &opts, "start"]);
        if !out.status.success() {
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("pg_ctl start failed: {}\n{log_text}", String::from_utf8_lossy(&out.stderr));
        }
        Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            cluster: Some(Cluster { _dir: dir, data, bin, as_postgres }),
        }
    }

    /// Creates a fresh database and returns its URL.
    pub async fn fresh_database(&self, name: &str) -> String {
        let (client, conn) =
            tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.expect("connect to the test PostgreSQL");
        let task = tokio::spawn(conn);
        client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await.expect("drop database");
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
        drop(client);
        let _ = task.await;
        with_database(&self.url, name)
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").unwrap_or(("postgres", base));
    let host = rest.split('/').next().unwrap_or(rest);
    let mut out = format!("{scheme}://{host}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(c) = &self.cluster {
            let data = c.data.to_string_lossy().into_owned();
            let _ = run(c.as_postgres, &c.bin, "pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        }
    }
}
