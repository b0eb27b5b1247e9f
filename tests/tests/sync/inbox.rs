//! The inbox, read marks and turnaround across machines (issue #14), through the real
//! binaries: a reviewer in Melbourne (two devices) and a contractor in Lisbon run a whole
//! engagement (question, answer, r1, changes requested, r2, approved) on a server whose clock
//! is set to each moment; each side's inbox lists the right items at the right local times;
//! a read mark made on one device clears the other; the turnaround figures match a hand
//! computation in each receiver's working hours; and a contractor whose clock jumped back
//! still lands after what the server recorded first.

use serde_json::Value;

use super::procs::{Cli, Team};

/// Every command of `cli` runs with its clock at `when` (UTC), as the server's is.
fn at(cli: &mut Cli, when: &str) {
    cli.clock = Some(format!("@{when}"));
}

fn texts(inbox: &Value) -> Vec<String> {
    inbox["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["items"].as_array().into_iter().flatten())
        .map(|i| i["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn item<'a>(inbox: &'a Value, text: &str) -> &'a Value {
    inbox["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["items"].as_array().into_iter().flatten())
        .find(|i| i["text"] == text)
        .unwrap_or_else(|| panic!("{text:?} in {inbox}"))
}

#[test]
fn a_whole_engagement_between_melbourne_and_lisbon_through_inboxes_read_marks_and_turnaround() {
    let mut team = Team::new();
    // Friday 5 June 2026, 16:00 UTC: 17:00 in Lisbon, 02:00 Saturday in Melbourne.
    team.server.start_at("2026-06-05 16:00:00");
    let mut rita = team.join("rita", "owner");
    let mut carlos = team.join("carlos", "contractor");
    let mut laptop = team.login("rita-laptop", "rita@wedge.io");
    for cli in [&mut rita, &mut carlos, &mut laptop] {
        at(cli, "2026-06-05 16:00:00");
    }
    rita.ok(&["me", "--timezone", "Australia/Melbourne", "--hours", "09:00-17:30", "--days", "mon-fri"]);
    carlos.ok(&["me", "--timezone", "Europe/Lisbon", "--hours", "09:00-18:00", "--days", "mon-fri"]);
    let spec = rita.ok(&["spec", "new", "--title", "Invoice export", "--criterion", "Exports a month as CSV"]).trim().to_owned();
    rita.ok(&["spec", "assign", &spec, "carlos@wedge.io"]);
    rita.ok(&["spec", "status", &spec, "ready", "--override", "Walked through it in the kickoff notes"]);
    rita.sync();
    carlos.sync();
    laptop.sync();

    // The contractor's inbox: assigned (a handoff to him) and the spec handed off.
    let inbox = carlos.json(&["inbox"]);
    assert_eq!(
        texts(&inbox),
        ["rita moved the spec from draft to ready by an owner's override", "rita assigned you"],
        "newest first: {inbox}"
    );
    assert_eq!(item(&inbox, "rita assigned you")["handoff"], true);
    assert!(rita.json(&["inbox"])["groups"].as_array().is_some_and(Vec::is_empty), "one's own doings are not news");
    carlos.ok(&["inbox", "read", &spec]);

    // Friday 18:05 in Lisbon: a question, as Melbourne sleeps (Saturday 03:05 there).
    team.server.kill();
    team.server.start_at("2026-06-05 17:05:00");
    at(&mut carlos, "2026-06-05 17:05:00");
    let question = carlos.ok(&["thread", "new", &spec, "--text", "Should refunds be negative rows?"]).trim().to_owned();
    carlos.sync();

    // Monday 09:30 in Melbourne (Sunday 23:30 UTC): Rita reads it and answers.
    team.server.kill();
    team.server.start_at("2026-06-07 23:30:00");
    at(&mut rita, "2026-06-07 23:30:00");
    rita.sync();
    let inbox = rita.json(&["inbox"]);
    assert_eq!(texts(&inbox), ["carlos asked a question"], "{inbox}");
    let asked = item(&inbox, "carlos asked a question");
    assert_eq!(asked["quote"], "Should refunds be negative rows?");
    assert_eq!(asked["local_time"], "Sat 03:05", "in the reader's zone: {asked}");
    assert_eq!(asked["sender_time"], "18:05 Lisbon time · Sat 03:05 for you");
    assert_eq!(asked["handoff"], true);
    let shown = rita.ok(&["inbox"]);
    assert!(shown.contains("▶ Sat 03:05  carlos asked a question: “Should refunds be negative rows?”"), "{shown}");
    rita.ok(&["thread", "reply", &question, "--text", "Yes: one negative row per refund."]);
    rita.sync();

    // Monday 16:00 in Lisbon: the answer is there; r1.
    team.server.kill();
    team.server.start_at("2026-06-08 15:00:00");
    at(&mut carlos, "2026-06-08 15:00:00");
    carlos.sync();
    let inbox = carlos.json(&["inbox"]);
    assert_eq!(texts(&inbox), ["rita answered your question"], "{inbox}");
    assert_eq!(item(&inbox, "rita answered your question")["local_time"], "Mon 00:30", "Lisbon: {inbox}");
    let r1 = team.root.join("r1");
    std::fs::create_dir_all(&r1).expect("r1");
    std::fs::write(r1.join("export.rs"), "fn export() { /* month as CSV */ }\n").expect("file");
    carlos.ok(&["deliver", &spec, &r1.to_string_lossy(), "--note", "first cut"]);
    carlos.ok(&["inbox", "read", "--all"]);
    carlos.sync();

    // Tuesday 10:00 in Melbourne: changes requested.
    team.server.kill();
    team.server.start_at("2026-06-09 00:00:00");
    at(&mut rita, "2026-06-09 00:00:00");
    rita.sync();
    assert_eq!(texts(&rita.json(&["inbox"])), ["carlos delivered r1", "carlos asked a question"]);
    rita.ok(&["review", &spec, "1", "--verdict", "request-changes", "--summary", "Refunds are missing"]);
    rita.ok(&["inbox", "read", &spec]);
    rita.sync();

    // Tuesday 10:00 in Lisbon, but Carlos's clock jumped back three days: r2 still lands
    // after everything the server recorded before it.
    team.server.kill();
    team.server.start_at("2026-06-09 09:00:00");
    at(&mut carlos, "2026-06-06 09:00:00");
    carlos.sync();
    std::fs::write(r1.join("export.rs"), "fn export() { /* month as CSV, refunds negative */ }\n").expect("file");
    carlos.ok(&["deliver", &spec, &r1.to_string_lossy(), "--note", "refunds as negative rows"]);
    carlos.sync();

    // Wednesday 09:00 in Melbourne: approved. The laptop catches up first.
    team.server.kill();
    team.server.start_at("2026-06-09 23:00:00");
    for cli in [&mut rita, &mut laptop] {
        at(cli, "2026-06-09 23:00:00");
    }
    laptop.sync();
    let on_laptop = laptop.json(&["inbox"]);
    assert_eq!(texts(&on_laptop), ["carlos delivered r2"], "the desktop's read mark followed Rita here: {on_laptop}");
    rita.sync();
    rita.ok(&["review", &spec, "2", "--verdict", "approve", "--criterion", "1=met"]);
    rita.sync();
    laptop.ok(&["inbox", "read", &spec]);
    laptop.sync();
    rita.sync();
    carlos.sync();
    team.server.kill();

    // With the server gone: the desktop shows nothing unread (read on the laptop), but
    // everything with --all, in the server's order.
    assert!(rita.json(&["inbox"])["groups"].as_array().is_some_and(Vec::is_empty), "{}", rita.ok(&["inbox"]));
    let all = rita.json(&["inbox", "--all"]);
    assert_eq!(texts(&all), ["carlos delivered r2", "carlos delivered r1", "carlos asked a question"], "{all}");
    let carlos_inbox = carlos.json(&["inbox"]);
    assert_eq!(texts(&carlos_inbox), ["rita approved r2", "rita requested changes on r1"], "{carlos_inbox}");
    assert_eq!(item(&carlos_inbox, "rita approved r2")["local_time"], "Wed 00:00", "{carlos_inbox}");

    // Turnaround by hand, each in the receiver's working hours:
    // - question Fri 18:05 Lisbon = Sat 03:05 Melbourne → answered Mon 09:30 Melbourne: 30 min;
    // - r1 Mon 16:00 Lisbon = Tue 01:00 Melbourne → reviewed Tue 10:00 Melbourne: 1 h;
    // - changes Tue 10:00 Melbourne = Tue 01:00 Lisbon → r2 Tue 10:00 Lisbon: 1 h;
    // - r2 Tue 10:00 Lisbon = Tue 19:00 Melbourne → approved Wed 09:00 Melbourne: 0.
    // (In whole minutes: each server clock runs on for the milliseconds a step takes.)
    for cli in [&rita, &carlos] {
        let t = cli.json(&["turnaround", &spec]);
        let turns: Vec<(String, i64, String)> = t["turns"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                (
                    x["kind"].as_str().unwrap_or_default().to_owned(),
                    (x["working_ms"].as_i64().unwrap_or(-1) + 30_000) / 60_000,
                    x["receiver"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expect = [
            ("question_to_answer", 30, "rita@wedge.io"),
            ("delivery_to_review", 60, "rita@wedge.io"),
            ("review_to_revision", 60, "carlos@wedge.io"),
            ("delivery_to_review", 0, "rita@wedge.io"),
        ]
        .map(|(k, ms, who)| (k.to_owned(), ms, who.to_owned()));
        assert_eq!(turns, expect, "{t}");
        assert_eq!(t["summary"][1]["median_text"], "under a minute", "median of 1 h and 0 is the lower: {t}");
    }
    let text = rita.ok(&["turnaround"]);
    assert!(text.contains("Question → answer") && text.contains("30 min"), "{text}");
}
