//! No answer from the server wedges a client (issue #13), through the real binaries: a server
//! whose body limit is below a day of offline saves, a data dir signed in as a second account,
//! a server restored from a backup, and a revision whose files were deleted from the data dir.
//! Each time a second person on another data dir receives the work, and looks after the
//! server is stopped.

use std::path::Path;

use serde_json::Value;

use super::procs::{Cli, Team, WHATWG, copy_dir};

/// `len` bytes of the WHATWG HTML source from `at`, cut on character boundaries.
fn slice(text: &str, at: usize, len: usize) -> String {
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[start..end].to_owned()
}

/// How many bytes a text takes inside a JSON body.
fn json_len(text: &str) -> usize {
    serde_json::to_string(text).map_or(0, |s| s.len())
}

fn spec_show(cli: &Cli, spec: &str) -> Value {
    cli.json(&["spec", "show", spec])
}

fn notes(cli: &Cli, spec: &str) -> String {
    spec_show(cli, spec)["spec"]["sections"]["notes"].as_str().unwrap_or_default().to_owned()
}

fn attention(cli: &Cli) -> Vec<Value> {
    cli.json(&["attention"]).as_array().cloned().unwrap_or_default()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn forty_offline_saves_of_a_long_notes_section_sync_at_the_default_body_limit() {
    // The report: 40 offline saves of a ~230 KB section are ~18 MB of pushes, over
    // the server's default 16 MiB body limit when sent as one batch.
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let rita = team.join("rita", "reviewer");
    let spec = ana.ok(&["spec", "new", "--title", "Mirror the HTML standard"]).trim().to_owned();
    ana.sync();
    let source = std::fs::read_to_string(WHATWG).expect("the shared WHATWG fixture");
    let file = team.root.join("notes.html");
    let mut last = String::new();
    for i in 0..40 {
        last = slice(&source, 9_000 * i, 230_000);
        std::fs::write(&file, &last).expect("notes file");
        ana.ok(&["spec", "edit", &spec, "--notes-file", &file.to_string_lossy()]);
    }
    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "the sync goes through in batches the server accepts: {}", stderr(&out));
    assert_eq!(ana.json(&["status"])["pending"], 0);
    rita.sync();
    team.server.kill();
    assert_eq!(notes(&rita, &spec), last, "the reviewer has the last save with the server gone");
}

#[test]
fn a_day_of_offline_saves_over_the_servers_body_limit_still_syncs_and_what_cannot_waits_in_attention() {
    // A day offline: 40 saves of a ~160 KB notes section, then one save too big to send. A
    // section edit carries the text it started from and the new one; the server's limit is
    // set between the largest ordinary save and the big one.
    let source = std::fs::read_to_string(WHATWG).expect("the shared WHATWG fixture");
    let saves: Vec<String> = (0..40).map(|i| slice(&source, 7_000 * i, 160_000)).collect();
    let too_big = slice(&source, 1_000_000, 262_000);
    let last = saves.last().expect("saves").clone();
    let ordinary = saves.windows(2).map(|p| json_len(&p[0]) + json_len(&p[1])).max().unwrap_or(0);
    let big = json_len(&last) + json_len(&too_big);
    assert!(big > ordinary + 40_000, "the big save is well over any ordinary one (the test's premise): {ordinary} vs {big}");
    let limit = (ordinary + big) / 2;
    let mut team = Team::new();
    team.server.start_with(&["--max-request-bytes", &limit.to_string()]);
    let ana = team.join("ana", "owner");
    let rita = team.join("rita", "reviewer");
    let spec = ana.ok(&["spec", "new", "--title", "Mirror the HTML standard"]).trim().to_owned();
    ana.sync();
    rita.sync();
    let file = team.root.join("notes.html");
    for text in saves.iter().chain([&too_big]) {
        std::fs::write(&file, text).expect("notes file");
        ana.ok(&["spec", "edit", &spec, "--notes-file", &file.to_string_lossy()]);
    }
    // Meanwhile the reviewer asks something.
    rita.ok(&["thread", "new", &spec, "--text", "Which revision of the standard is this?"]);
    rita.sync();

    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "the owner's sync goes through: {}", stderr(&out));
    let waiting = attention(&ana);
    assert_eq!(waiting.len(), 1, "only the save that cannot be sent waits: {waiting:?}");
    assert_eq!(waiting[0]["outcome"]["code"], "too_large", "named as too large: {waiting:?}");
    // Set aside by the limit the server announced, not by a refusal that can be lost when the
    // server closes the connection before the body is sent.
    let why = waiting[0]["entry"]["last_error"].as_str().unwrap_or_default();
    assert!(why.contains(&format!("({limit} bytes)")), "names the server's limit: {why}");
    let listed = ana.ok(&["attention"]);
    assert!(listed.contains("Edit the notes of 'Mirror the HTML standard'"), "words for people: {listed}");
    assert!(!listed.contains("spec.edit_section"), "no wire names: {listed}");
    assert_eq!(ana.json(&["status"])["pending"], 0, "nothing else is left behind");
    assert_eq!(notes(&ana, &spec), last, "the refused save is undone here; the last one that went is shown");
    let threads = spec_show(&ana, &spec)["threads"].as_array().map_or(0, Vec::len);
    assert_eq!(threads, 1, "the reviewer's question arrived");

    // The next sync is clean: nothing is stuck.
    let again = ana.run(&["sync"]);
    assert!(again.status.success(), "a later sync: {}", stderr(&again));

    rita.sync();
    team.server.kill();
    assert_eq!(notes(&rita, &spec), last, "the reviewer has the owner's last save with the server gone");
}

#[test]
fn another_account_signed_in_on_the_same_data_dir_syncs_and_the_first_accounts_work_waits_for_it() {
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let bob = team.join("bob", "reviewer");
    let spec = ana.ok(&["spec", "new", "--title", "Shared laptop"]).trim().to_owned();
    ana.sync();
    bob.sync();

    // Ana edits offline, then Bob signs in on Ana's laptop.
    ana.ok(&["spec", "edit", &spec, "--title", "Shared laptop, edited by Ana"]);
    ana.ok(&["login", "--server", &team.url, "--email", "bob@wedge.io"]);
    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "Bob syncs on Ana's data dir: {}", stderr(&out));
    ana.ok(&["thread", "new", &spec, "--text", "Bob, from Ana's laptop"]);
    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "Bob's thread goes out: {}", stderr(&out));
    let waiting = attention(&ana);
    assert_eq!(waiting.len(), 1, "Ana's edit waits for Ana, never sent as Bob: {waiting:?}");
    assert!(waiting[0]["entry"]["last_error"].as_str().unwrap_or_default().contains("another account"), "{waiting:?}");

    // Ana signs in again: her edit goes out under her name.
    ana.ok(&["login", "--server", &team.url, "--email", "ana@wedge.io"]);
    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "Ana syncs again: {}", stderr(&out));
    assert!(attention(&ana).is_empty(), "nothing waits any more");

    bob.sync();
    team.server.kill();
    let seen = spec_show(&bob, &spec);
    assert_eq!(seen["spec"]["title"], "Shared laptop, edited by Ana");
    let threads = seen["threads"].as_array().cloned().unwrap_or_default();
    assert_eq!(threads.len(), 1, "Bob's thread: {threads:?}");
    assert_eq!(threads[0]["thread"]["created_by"], "bob@wedge.io", "written as Bob: {threads:?}");
}

/// Copies a folder (the server's data dir) as a backup would.
#[test]
fn a_server_restored_from_a_backup_gets_back_what_it_lost_and_nobody_keeps_what_it_no_longer_has() {
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let rita = team.join("rita", "reviewer");
    let first = ana.ok(&["spec", "new", "--title", "Before the backup"]).trim().to_owned();
    ana.sync();

    // The nightly backup (server stopped, data dir copied).
    team.server.kill();
    let backup = team.root.join("backup");
    copy_dir(&team.server.data, &backup);
    team.server.start();

    // The day's work after the backup, synced by both.
    let second = ana.ok(&["spec", "new", "--title", "After the backup"]).trim().to_owned();
    ana.ok(&["spec", "edit", &first, "--title", "Before the backup, renamed after it"]);
    ana.sync();
    rita.sync();
    assert_eq!(rita.json(&["spec", "list"]).as_array().map_or(0, Vec::len), 2);

    // The disk dies; the backup is restored and the server told so.
    team.server.kill();
    std::fs::remove_dir_all(&team.server.data).expect("remove the lost data dir");
    copy_dir(&backup, &team.server.data);
    let restored = std::process::Command::new(&team.server.bin)
        .args(["--data-dir", &team.server.data.to_string_lossy(), "restored"])
        .output()
        .expect("handoff-server restored");
    assert!(restored.status.success(), "restored: {}", stderr(&restored));
    team.server.start();

    // Ana keeps working: her next sync sends what the server lost, then her new edit.
    ana.ok(&["spec", "edit", &second, "--title", "After the backup, edited after the restore"]);
    let out = ana.run(&["sync"]);
    assert!(out.status.success(), "Ana's sync after the restore: {}", stderr(&out));
    assert!(attention(&ana).is_empty(), "nothing needs Ana: {:?}", attention(&ana));
    rita.sync();

    // A third machine that never saw the old history agrees with both.
    let fresh = team.login("rita-laptop", "rita@wedge.io");
    fresh.sync();
    team.server.kill();
    for (who, cli) in [("ana", &ana), ("rita", &rita), ("a fresh sign-in", &fresh)] {
        let titles: Vec<String> = cli
            .json(&["spec", "list"])
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| s["title"].as_str().unwrap_or_default().to_owned())
            .collect();
        let mut titles = titles;
        titles.sort();
        assert_eq!(
            titles,
            vec!["After the backup, edited after the restore".to_owned(), "Before the backup, renamed after it".to_owned()],
            "{who} sees every change once, none lost"
        );
    }
}

#[test]
fn a_revision_whose_files_were_deleted_from_the_data_dir_waits_in_attention_and_the_rest_syncs() {
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let cole = team.join("cole", "contractor");
    let spec = ana.ok(&["spec", "new", "--title", "FAQ page"]).trim().to_owned();
    ana.ok(&["spec", "assign", &spec, "cole@wedge.io"]);
    ana.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    ana.sync();
    cole.sync();
    cole.ok(&["spec", "status", &spec, "in_progress"]);

    let folder = team.root.join("faq");
    std::fs::create_dir_all(&folder).expect("folder");
    let faq = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff/faq-md.new")).expect("fixture");
    std::fs::write(folder.join("faq.md"), &faq).expect("faq");
    cole.ok(&["deliver", &spec, &folder.to_string_lossy(), "--note", "first cut"]);
    cole.ok(&["thread", "new", &spec, "--text", "The FAQ links to the old forum; keep them?"]);
    // A disk cleanup removes the delivered file's stored copy before it was sent.
    let removed = remove_blobs(&cole.data);
    assert_eq!(removed, 1, "one stored file");

    let out = cole.run(&["sync", "--no-download"]);
    assert!(out.status.success(), "the contractor's sync goes through: {}", stderr(&out));
    let waiting = attention(&cole);
    assert_eq!(waiting.len(), 1, "the revision waits: {waiting:?}");
    assert_eq!(waiting[0]["outcome"]["code"], "blobs_missing", "{waiting:?}");
    assert!(waiting[0]["outcome"]["message"].as_str().unwrap_or_default().contains("deliver the folder again"), "{waiting:?}");

    ana.sync();
    team.server.kill();
    let seen = spec_show(&ana, &spec);
    assert_eq!(seen["threads"].as_array().map_or(0, Vec::len), 1, "the question behind the revision arrived");
    assert_eq!(seen["spec"]["status"], "in_progress", "the status change before it arrived");
    assert_eq!(seen["revisions"].as_array().map_or(0, Vec::len), 0, "no revision without its files");
}

/// Deletes every stored blob of a data dir; how many.
fn remove_blobs(data: &Path) -> usize {
    let mut n = 0;
    for shard in std::fs::read_dir(data.join("blobs")).into_iter().flatten().flatten() {
        if !shard.path().is_dir() || shard.file_name() == "tmp" {
            continue;
        }
        for f in std::fs::read_dir(shard.path()).into_iter().flatten().flatten() {
            if f.path().is_file() && std::fs::remove_file(f.path()).is_ok() {
                n += 1;
            }
        }
    }
    n
}
