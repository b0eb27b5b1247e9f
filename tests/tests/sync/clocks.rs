//! Machines whose clocks are wrong (issue #13): a contractor a year behind and a reviewer two
//! years ahead, through the real binaries under `faketime`. Their delivery, question and
//! review reach the owner with the server's receive times beside their own, and the owner,
//! looking after the server is stopped, sees the server's time with what their clocks said.

use serde_json::Value;

use super::procs::Team;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `shown_at` is the server's time (between `from` and now) and the author's clock is flagged.
fn assert_server_time(v: &Value, authored_key: &str, from: i64, what: &str) {
    let (shown, authored) = (v["shown_at"].as_i64().unwrap_or(0), v[authored_key].as_i64().unwrap_or(0));
    assert!((from..=now_ms()).contains(&shown), "{what}: shown at the server's time, not {shown}: {v}");
    assert!(authored.abs_diff(shown) > 300 * 86_400_000, "{what}: the author's clock stays on record: {v}");
    assert_eq!(v["author_clock_off"], Value::Bool(true), "{what}: {v}");
}

#[test]
fn work_from_machines_with_wrong_clocks_shows_the_servers_receive_times() {
    let started = now_ms();
    let mut team = Team::new();
    team.server.start();
    let ana = team.join("ana", "owner");
    let mut chen = team.join("chen", "contractor");
    chen.clock = Some("-400d".into());
    let mut rita = team.join("rita", "reviewer");
    rita.clock = Some("+730d".into());
    let spec = ana.ok(&["spec", "new", "--title", "CSV export", "--criterion", "Exports every row"]).trim().to_owned();
    ana.ok(&["spec", "assign", &spec, "chen@wedge.io"]);
    ana.ok(&["thread", "new", &spec, "--text", "Ask here when something is unclear."]);
    ana.ok(&["spec", "status", &spec, "ready", "--override", "handed off for the test"]);
    ana.sync();

    chen.sync();
    let question = chen.ok(&["thread", "new", &spec, "--text", "Which delimiter?"]).trim().to_owned();
    let folder = team.root.join("delivery");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(folder.join("export.py"), "import csv\n").expect("file");
    chen.ok(&["deliver", &spec, &folder.to_string_lossy(), "--note", "first cut"]);
    chen.sync();
    rita.sync();
    rita.ok(&["review", &spec, "1", "--verdict", "comment", "--summary", "Looks right so far"]);
    rita.sync();

    ana.sync();
    team.server.kill();
    let detail = ana.json(&["spec", "show", &spec]);
    assert_server_time(&detail["revisions"][0], "created_at", started, "chen's revision");
    assert_server_time(&detail["reviews"][0], "published_at", started, "rita's review");
    let threads = detail["threads"].as_array().cloned().unwrap_or_default();
    let asked = threads.iter().find(|t| t["thread"]["id"].as_str().is_some_and(|id| id.starts_with(&question)));
    let asked = asked.unwrap_or_else(|| panic!("chen's question {question} among {threads:?}"));
    assert_server_time(&asked["comments"][0], "created_at", started, "chen's question");
    let ana_thread = threads.iter().find(|t| t["comments"][0]["author"] == "ana@wedge.io").expect("ana's thread");
    assert_eq!(ana_thread["comments"][0]["author_clock_off"], Value::Bool(false), "ana's clock is right: {ana_thread}");

    // The text output says both times.
    let shown = ana.ok(&["thread", "show", &question]);
    assert!(shown.contains("received by the server; the author's clock said"), "{shown}");
    let revisions = ana.ok(&["revisions", &spec]);
    assert!(revisions.contains("received by the server; the author's clock said"), "{revisions}");
}
