//! The engagement from start to end through the real binaries, two people on two machines:
//! the owner's CLI invites a contractor (whose CLI joins with the printed code), changes their
//! role, and ends the engagement on two specs: one while the server answers (the contractor,
//! with other open work, stays a member), one while it is down (queued, and the removal that
//! needs the server is refused by name); once the server is back the contractor is removed and
//! their next sync loses the workspace. The owner's member list reads offline throughout.

use serde_json::Value;

use super::procs::{Cli, Team, binaries};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn titles(cli: &Cli) -> Vec<String> {
    cli.json(&["spec", "list"])
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["title"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn role_of(cli: &Cli, email: &str) -> Option<String> {
    cli.json(&["members"]).as_array()?.iter().find(|m| m["email"] == email).and_then(|m| m["role"].as_str().map(str::to_owned))
}

#[test]
fn an_engagement_runs_from_invite_to_end_between_two_machines() {
    let mut team = Team::new();
    team.server.start();
    let owner = team.join("olive", "owner");
    let cal_email = "cal@wedge.io";
    let importer = owner.ok(&["spec", "new", "--title", "Importer"]).trim().to_owned();
    let exporter = owner.ok(&["spec", "new", "--title", "Exporter"]).trim().to_owned();

    // The invite's code is printed once; the contractor joins with it on their machine.
    let invite: Value = owner.json(&["invite", cal_email, "--role", "contractor"]);
    assert_eq!((invite["email"].as_str(), invite["role"].as_str()), (Some(cal_email), Some("contractor")), "{invite}");
    let code = invite["code"].as_str().expect("code").to_owned();
    let again = owner.run(&["invite", "olive@wedge.io", "--role", "reviewer"]);
    assert!(!again.status.success() && stderr(&again).contains("olive@wedge.io is already a member"), "{}", stderr(&again));
    let (cli_bin, _) = binaries();
    let cal = Cli::new(cli_bin, team.root.join("cal"));
    cal.ok(&["join", "--server", &team.url, "--invite", &code, "--email", cal_email, "--name", "Cal"]);
    for spec in [&importer, &exporter] {
        owner.ok(&["spec", "assign", spec, cal_email]);
    }
    owner.sync();
    cal.sync();
    assert!(titles(&cal).contains(&"Importer".to_owned()) && titles(&cal).contains(&"Exporter".to_owned()), "{:?}", titles(&cal));

    // A role change reaches the contractor's device; the last owner stays one.
    assert!(owner.ok(&["member", "role", cal_email, "reviewer"]).contains("cal@wedge.io is now reviewer"));
    cal.sync();
    assert_eq!(role_of(&cal, cal_email).as_deref(), Some("reviewer"));
    owner.ok(&["member", "role", cal_email, "contractor"]);
    assert_eq!(role_of(&owner, cal_email).as_deref(), Some("contractor"), "the owner's list follows at once");
    cal.sync();
    let demote = owner.run(&["member", "role", "olive@wedge.io", "reviewer"]);
    assert!(!demote.status.success() && stderr(&demote).contains("at least one owner"), "{}", stderr(&demote));
    let last = owner.run(&["member", "remove", "olive@wedge.io"]);
    assert!(!last.status.success() && stderr(&last).contains("at least one owner"), "{}", stderr(&last));
    let nobody = owner.run(&["member", "remove", "nobody@wedge.io"]);
    assert!(!nobody.status.success() && stderr(&nobody).contains("nobody@wedge.io is not a member"), "{}", stderr(&nobody));
    let bad_role = owner.run(&["member", "role", cal_email, "admin"]);
    assert!(!bad_role.status.success() && stderr(&bad_role).contains("admin"), "{}", stderr(&bad_role));

    // The contractor delivers; the owner ends the engagement on the importer while online:
    // Cal still has the exporter, so stays a member.
    let work = team.root.join("work");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::copy(super::procs::WHATWG, work.join("source.html")).expect("fixture");
    cal.ok(&["deliver", &importer, &work.to_string_lossy(), "--note", "first cut"]);
    cal.sync();
    let ended = owner.ok(&["spec", "end", &importer, "--remove-from-workspace"]);
    assert!(ended.contains("closed 'Importer'") && ended.contains("unassigned cal@wedge.io"), "{ended}");
    assert!(ended.contains("kept cal@wedge.io in the workspace: 1 other open spec"), "{ended}");
    cal.sync();
    assert_eq!(titles(&cal), ["Exporter"], "the importer is gone from the contractor's machine");
    let show = owner.json(&["spec", "show", &importer]);
    assert_eq!(show["spec"]["status"], "closed", "{show}");
    assert_eq!(show["spec"]["assignees"], serde_json::json!([]), "{show}");

    // The record of the ended engagement: its files, never prefetched (a draft spec's are
    // fetched on demand), are downloaded for the export while the server answers.
    let record = team.root.join("importer-record");
    let exported = owner.ok(&["export", &importer, "--out", &record.to_string_lossy()]);
    assert!(record.join("manifest.json").is_file(), "{exported}");

    // The server goes down. Cal, offline too, opens a thread on the exporter; ending the
    // exporter's engagement is kept and queued; the removal is refused with what to do.
    team.server.kill();
    cal.ok(&["thread", "new", &exporter, "--text", "Which delimiter does the export use?"]);
    let offline = owner.run(&["spec", "end", &exporter, "--remove-from-workspace"]);
    let said = format!("{}{}", String::from_utf8_lossy(&offline.stdout), stderr(&offline));
    assert!(!offline.status.success(), "{said}");
    assert!(
        said.contains("the engagement has ended, but cal@wedge.io is still a member")
            && said.contains("handoff member remove cal@wedge.io"),
        "{said}"
    );
    assert_eq!(owner.json(&["spec", "show", &exporter])["spec"]["status"], "closed");
    let members = owner.json(&["members"]);
    assert_eq!(members.as_array().map(Vec::len), Some(2), "the member list reads offline: {members}");

    // The server is back: the queued end syncs, the removal is made, and Cal's next sync loses
    // the workspace.
    team.server.start();
    owner.sync();
    owner.ok(&["member", "remove", cal_email]);
    assert_eq!(role_of(&owner, cal_email), None);
    cal.sync();
    assert!(titles(&cal).is_empty(), "{:?}", titles(&cal));
    let attention = cal.json(&["attention"]);
    let kept = attention.as_array().map(|a| a.iter().filter(|e| e.to_string().contains("Which delimiter")).count());
    assert_eq!(kept, Some(1), "the unsent thread waits in attention, to export: {attention}");
    team.server.kill();
    let list = cal.run(&["--json", "members"]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(!listed.contains("olive@wedge.io"), "nothing of the workspace stays listed: {listed}");
}
