//! Durability as the kernel sees it: every rename that makes a blob visible, on the client
//! (`handoff deliver`) and on the server (an upload), is followed by an fsync of the folder
//! it landed in, in the same thread. Read from `strace` of the real binaries; without that
//! fsync a power loss can keep the revision that names a blob and lose the blob.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::procs::{Cli, Server, binaries, free_port};

const TRACED: &str = "trace=openat,close,rename,renameat,renameat2,fsync";

/// The quoted strings of a traced call, in order.
fn quoted(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

/// Renames into `blobs` (not into its temp folder) and whether each was followed, in its
/// thread, by opening its folder and syncing that descriptor.
fn blob_renames(log: &str, blobs: &Path) -> Vec<(String, bool)> {
    let tmp = blobs.join("tmp");
    let mut open: Vec<(String, PathBuf, Option<String>, usize)> = Vec::new(); // (tid, folder, fd, index)
    let mut out: Vec<(String, bool)> = Vec::new();
    for (tid, call) in whole_calls(log) {
        let (tid, call) = (tid.as_str(), call.as_str());
        if call.starts_with("rename") && call.contains(") = 0") {
            let Some(dest) = quoted(call).last().map(PathBuf::from) else { continue };
            if dest.starts_with(blobs) && !dest.starts_with(&tmp) {
                let folder = dest.parent().map(Path::to_owned).unwrap_or_default();
                open.push((tid.to_owned(), folder, None, out.len()));
                out.push((dest.to_string_lossy().into_owned(), false));
            }
        } else if call.starts_with("openat(") {
            let path = quoted(call).first().map(PathBuf::from);
            let fd = call.rsplit_once("= ").map(|(_, fd)| fd.trim().to_owned());
            for pending in open.iter_mut().filter(|p| p.0 == tid && p.2.is_none()) {
                if path.as_ref() == Some(&pending.1) {
                    pending.2 = fd.clone();
                }
            }
        } else if let Some(rest) = call.strip_prefix("fsync(") {
            let fd: String = rest.chars().take_while(char::is_ascii_digit).collect();
            for pending in open.iter().filter(|p| p.0 == tid && p.2.as_deref() == Some(fd.as_str())) {
                out[pending.3].1 = true;
            }
            open.retain(|p| !(p.0 == tid && p.2.as_deref() == Some(fd.as_str())));
        } else if let Some(rest) = call.strip_prefix("close(") {
            // A folder closed before it was synced: its descriptor number may be reused.
            let fd: String = rest.chars().take_while(char::is_ascii_digit).collect();
            open.retain(|p| !(p.0 == tid && p.2.as_deref() == Some(fd.as_str())));
        }
    }
    out
}

/// `(thread, call)` per system call, a call that another thread's interrupted
/// (`<unfinished ...>` … `<... rename resumed>`) joined back into one line.
fn whole_calls(log: &str) -> Vec<(String, String)> {
    let mut unfinished: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let mut calls = Vec::new();
    for line in log.lines() {
        let Some((tid, call)) = line.split_once(' ') else { continue };
        let call = call.trim_start();
        if let Some(head) = call.strip_suffix("<unfinished ...>") {
            unfinished.insert(tid, head.trim_end().to_owned());
        } else if call.starts_with("<...") {
            let tail = call.split_once("resumed>").map_or("", |(_, t)| t);
            let head = unfinished.remove(tid).unwrap_or_default();
            calls.push((tid.to_owned(), format!("{head}{tail}")));
        } else {
            calls.push((tid.to_owned(), call.to_owned()));
        }
    }
    calls
}

fn folder_with_files(root: &Path) -> PathBuf {
    let work = root.join("work");
    std::fs::create_dir_all(work.join("src")).expect("work");
    std::fs::write(work.join("README.md"), "# Export\n").expect("readme");
    std::fs::write(work.join("src/main.rs"), "fn main() {}\n").expect("main");
    std::fs::write(work.join("src/lib.rs"), "pub fn export() {}\n").expect("lib");
    work
}

#[test]
fn the_client_syncs_the_blob_folder_after_each_rename() {
    let (cli_bin, _) = binaries();
    let root = tempfile::tempdir().expect("root");
    let data = root.path().join("a");
    let cli = Cli::new(cli_bin.clone(), data.clone());
    let spec = cli.ok(&["spec", "new", "--title", "Export"]).trim().to_owned();
    let work = folder_with_files(root.path());
    let log = root.path().join("client.strace");
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", TRACED, "-o"])
        .arg(&log)
        .arg(&cli_bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["deliver", &spec])
        .arg(&work)
        .output()
        .expect("strace (apt-get install strace)");
    assert!(out.status.success(), "traced deliver failed: {}", String::from_utf8_lossy(&out.stderr));
    let renames = blob_renames(&std::fs::read_to_string(&log).expect("log"), &data.join("blobs"));
    assert_eq!(renames.len(), 3, "one rename per delivered file: {renames:?}");
    assert!(renames.iter().all(|(_, synced)| *synced), "a blob's folder was not synced after its rename: {renames:?}");
}

#[test]
fn the_server_syncs_the_blob_folder_after_each_upload() {
    let (cli_bin, server_bin) = binaries();
    let root = tempfile::tempdir().expect("root");
    let mut server = Server { bin: server_bin, data: root.path().join("server"), port: free_port(), child: None };
    let url = format!("http://127.0.0.1:{}", server.port);
    let owner = server.invite("ana@trace.io", "owner");
    server.start();
    let pid = server.child.as_ref().map(|c| c.id()).expect("server pid");
    let a = Cli::new(cli_bin, root.path().join("a"));
    a.ok(&["join", "--server", &url, "--invite", &owner, "--email", "ana@trace.io", "--name", "Ana"]);
    let spec = a.ok(&["spec", "new", "--title", "Export"]).trim().to_owned();
    a.ok(&["deliver", &spec, &folder_with_files(root.path()).to_string_lossy()]);

    let log = root.path().join("server.strace");
    let mut strace = Command::new("strace")
        .args(["-f", "-e", TRACED, "-p", &pid.to_string(), "-o"])
        .arg(&log)
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace (apt-get install strace)");
    // strace says so on stderr once it is attached to the server's threads. The rest of its
    // stderr (threads started later) is drained: a closed pipe would kill it mid-log.
    let mut stderr = BufReader::new(strace.stderr.take().expect("stderr"));
    let mut attached = String::new();
    stderr.read_line(&mut attached).expect("strace attached");
    assert!(attached.contains("attached"), "strace: {attached}");
    let drain = std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    a.sync();
    // The server stops on SIGTERM; strace ends with it, its log complete.
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let _ = strace.wait();
    let _ = drain.join();
    server.kill();
    let text = std::fs::read_to_string(&log).expect("log");
    let renames = blob_renames(&text, &server.data.join("blobs"));
    assert_eq!(renames.len(), 3, "one rename per uploaded blob: {renames:?}");
    assert!(renames.iter().all(|(_, synced)| *synced), "a blob's folder was not synced after its rename: {renames:?}");
}
