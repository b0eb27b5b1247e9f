//! Data written by an older release, opened by this one (what a package upgrade does): the
//! server database and an owner's store made by commit fd63183's binaries
//! (`tests/fixtures/make-upgrade-fixture.sh`: client migrations 0001-0004, server 0001), with
//! a delivered revision, a question, a published review and an edit still in the owner's
//! outbox. Both migrate in place; nothing is lost; the queued edit goes out; people on new
//! machines receive everything, and look after the server is stopped.

use std::path::Path;

use serde_json::Value;

use super::procs::{Cli, Team, binaries, copy_dir};

#[test]
fn data_written_by_an_older_release_migrates_in_place_and_loses_nothing() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/upgrade-fd63183");
    let spec = std::fs::read_to_string(fixture.join("spec-id")).expect("the fixture's spec id").trim().to_owned();
    let mut team = Team::new();
    copy_dir(&fixture.join("server"), &team.server.data);
    copy_dir(&fixture.join("ana"), &team.root.join("ana"));
    team.server.start();

    // Ana's store migrates on first use; her offline edit is still queued.
    let ana = Cli::new(binaries().0, team.root.join("ana"));
    let status = ana.json(&["status"]);
    assert_eq!((status["identity"].as_str(), status["pending"].as_u64()), (Some("ana@acme.io"), Some(1)), "{status}");
    ana.ok(&["login", "--server", &team.url, "--email", "ana@acme.io"]);
    ana.sync();
    let status = ana.json(&["status"]);
    assert_eq!(
        (status["pending"].as_u64(), status["attention"].as_u64()),
        (Some(0), Some(0)),
        "the queued edit went out: {status}"
    );

    // Chen, on a new machine, delivers revision 2 on top of the old release's revision 1.
    let chen = team.login("chen", "chen@acme.io");
    chen.sync();
    let folder = team.root.join("r2");
    std::fs::create_dir_all(folder.join("src")).expect("folder");
    std::fs::write(folder.join("src/main.rs"), "fn main() {\n    println!(\"new release\");\n}\n").expect("file");
    std::fs::write(folder.join("README.md"), "# Upgrade me\n\nBuilt by the old release.\n").expect("file");
    chen.ok(&["deliver", &spec, &folder.to_string_lossy(), "--note", "says which release"]);
    chen.sync();

    // Rita, on a new machine, receives it all; then the server goes away.
    let rita = team.login("rita", "rita@acme.io");
    rita.sync();
    rita.ok(&["fetch", &spec]);
    team.server.kill();
    let detail: Value = rita.json(&["spec", "show", &spec]);
    assert_eq!(detail["spec"]["title"], "Upgrade me, edited before the upgrade", "{detail}");
    assert_eq!(detail["spec"]["sections"]["system_context"], "The old release wrote this.\n");
    assert_eq!(detail["spec"]["criteria"].as_array().map(Vec::len), Some(2));
    assert_eq!(detail["revisions"].as_array().map(Vec::len), Some(2));
    let reviews = detail["reviews"].as_array().cloned().unwrap_or_default();
    assert_eq!(reviews.len(), 1, "{detail}");
    assert_eq!(
        (reviews[0]["verdict"].as_str(), reviews[0]["summary"].as_str()),
        (Some("request_changes"), Some("Close; one line to change."))
    );
    let texts: Vec<String> = detail["threads"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t["comments"][0]["body"].as_str().map(str::to_owned))
        .collect();
    assert!(texts.contains(&"Which Rust edition?".to_owned()) && texts.contains(&"Say which release.".to_owned()), "{texts:?}");
    let patch = rita.run(&["diff", &spec, "1", "2"]);
    let patch = String::from_utf8_lossy(&patch.stdout);
    assert!(patch.contains("-    println!(\"old release\");") && patch.contains("+    println!(\"new release\");"), "{patch}");
}
