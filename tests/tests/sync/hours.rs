//! Time zones and working hours across machines (issue #14), through the real binaries: a
//! contractor in Lisbon and a reviewer in Melbourne set theirs (one change made while the
//! server is down), bad input is refused with nothing written, and the reviewer, after the
//! server is gone, sees the contractor's local time and hours.

use serde_json::Value;

use super::procs::Team;

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Minutes after midnight that `local` shows, and what the system clock says it should be
/// (UTC now plus its offset), both taken now.
fn minutes_of_day(local: &Value) -> (i64, i64) {
    let shown = local["hour"].as_i64().unwrap_or(-1) * 60 + local["minute"].as_i64().unwrap_or(-1);
    let expected = (now_ms() / 60_000 + local["offset_minutes"].as_i64().unwrap_or(0)).rem_euclid(24 * 60);
    (shown, expected)
}

#[test]
fn members_set_their_own_hours_in_their_zone_and_the_other_side_sees_them_offline() {
    let mut team = Team::new();
    team.server.start();
    let rita = team.join("rita", "owner");
    let cole = team.join("cole", "contractor");

    let out = cole.ok(&["me", "--timezone", "Europe/Lisbon", "--hours", "09:00-17:30", "--days", "mon-fri"]);
    assert!(out.contains("time zone   Europe/Lisbon") && out.contains("hours       09:00-17:30 mon-fri"), "{out}");
    assert!(!out.contains("not sent yet"), "sent at once while online: {out}");
    rita.ok(&["me", "--timezone", "Australia/Melbourne", "--hours", "08:30-16:30"]);

    // Bad input names the problem and writes nothing.
    for (args, words) in [
        (&["me", "--timezone", "Mars/Olympus_Mons"][..], "\"Mars/Olympus_Mons\": not an IANA time zone name"),
        (&["me", "--hours", "17:00-09:00"][..], "the hours end before they start"),
        (&["me", "--days", ""][..], "a week with no working day"),
        (&["me", "--days", "funday"][..], "name days as mon"),
    ] {
        let refused = cole.run(args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && stderr.contains(words), "{args:?}: {stderr}");
    }
    let mine = cole.json(&["me"]);
    assert_eq!((mine["timezone"].as_str(), mine["hours_text"].as_str()), (Some("Europe/Lisbon"), Some("09:00-17:30 mon-fri")));
    assert_eq!(mine["unsent"], Value::Bool(false));

    // Changed while the server is down: kept here, said to be unsent, sent with the next sync.
    team.server.kill();
    let offline = cole.run(&["me", "--hours", "10:00-18:00", "--days", "sun-thu"]);
    let text = String::from_utf8_lossy(&offline.stdout);
    assert!(offline.status.success(), "{}", String::from_utf8_lossy(&offline.stderr));
    assert!(text.contains("10:00-18:00 sun-thu") && text.contains("not sent yet"), "{text}");
    assert!(String::from_utf8_lossy(&offline.stderr).contains("it goes to the server with the next sync"));
    team.server.start();
    cole.sync();
    assert_eq!(cole.json(&["me"])["unsent"], Value::Bool(false));
    // A handoff: the contractor asks on a spec assigned to them.
    let spec = rita.ok(&["spec", "new", "--title", "Rounding"]).trim().to_owned();
    rita.ok(&["spec", "assign", &spec, "cole@wedge.io"]);
    rita.sync();
    cole.sync();
    let question = cole.ok(&["thread", "new", &spec, "--text", "Banker's rounding or half up?"]).trim().to_owned();
    cole.sync();
    rita.sync();
    team.server.kill();

    // The reviewer sees the question's time in Lisbon and in Melbourne.
    let thread = rita.json(&["thread", "show", &question]);
    let sent = thread["comments"][0]["sender_time"].as_str().unwrap_or("").to_owned();
    let (lisbon, mine) = sent.split_once(" Lisbon time · ").unwrap_or(("", ""));
    assert!(lisbon.len() == 5 && lisbon.as_bytes()[2] == b':' && mine.ends_with(" for you") && mine.len() == 17, "{sent:?}");
    assert!(rita.ok(&["thread", "show", &question]).contains(&format!("({sent})")));
    // Cole's own view of his question needs no second clock.
    assert!(cole.json(&["thread", "show", &question])["comments"][0].get("sender_time").is_none());

    let members = rita.json(&["members"]);
    let list = members.as_array().expect("members");
    let row = |email: &str| list.iter().find(|m| m["email"] == email).unwrap_or_else(|| panic!("{email} in {members}")).clone();
    let cole_row = row("cole@wedge.io");
    assert_eq!(cole_row["timezone"], "Europe/Lisbon");
    assert_eq!(cole_row["hours_text"], "10:00-18:00 sun-thu");
    assert_eq!(cole_row["working_hours"], serde_json::json!({"start_minute": 600, "end_minute": 1080, "days": 0b100_1111}));
    let (shown, expected) = minutes_of_day(&cole_row["local_now"]);
    assert!((shown - expected).abs() <= 1 || (shown - expected).abs() >= 24 * 60 - 1, "Lisbon clock {shown} vs {expected}");
    let offset = cole_row["local_now"]["offset_minutes"].as_i64();
    assert!(matches!(offset, Some(0 | 60)), "Lisbon is UTC+0 or UTC+1: {cole_row}");
    let rita_row = row("rita@wedge.io");
    assert!(matches!(rita_row["local_now"]["offset_minutes"].as_i64(), Some(600 | 660)), "Melbourne: {rita_row}");
    let text = rita.ok(&["members"]);
    assert!(text.contains("Europe/Lisbon · 10:00-18:00 sun-thu") && text.contains("(you)"), "{text}");
}
