//! Tests of the facade on real SQLite files in temp dirs.

use super::*;
use std::fs;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// A clock tests move by hand.
struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.fetch_add(1, Ordering::SeqCst))
    }
}

fn client(dir: &Path) -> Client {
    Client::open_with_clock(dir, Arc::new(TestClock(AtomicI64::new(1_750_000_000_000)))).expect("open")
}

fn spec(c: &Client) -> SpecId {
    c.create_spec(NewSpec {
        title: "CSV importer".into(),
        sections: Sections { system_context: "Billing runs nightly.\n".into(), ..Default::default() },
        criteria: vec!["Imports 1M rows".into(), "Reports bad rows by line".into()],
        ..Default::default()
    })
    .expect("create")
}

#[test]
fn every_kind_of_change_is_stored_queued_and_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    fs::write(work.path().join("main.rs"), "fn main() {\n    println!(\"hi\");\n}\n").expect("write");
    let (id, thread, comment);
    {
        let c = client(dir.path());
        id = spec(&c);
        c.set_title(id, "CSV importer v2").expect("title");
        c.edit_section(id, SectionKind::ApiShape, "POST /imports\n").expect("section");
        c.set_due_date(id, Some("2026-12-24")).expect("due");
        let first = c.spec_detail(id).expect("detail").spec.criteria[0].id;
        let added = c.add_criterion(id, "Idempotent re-runs", None).expect("add");
        c.edit_criterion(id, first, "Imports 1M rows in a minute").expect("edit");
        c.move_criterion(id, added, None).expect("move");
        let second = c.spec_detail(id).expect("detail").spec.criteria[2].id;
        c.remove_criterion(id, second).expect("remove");
        c.assign(id, "Contractor@Example.com").expect("assign");
        c.assign(id, "other@example.com").expect("assign");
        c.unassign(id, "other@example.com").expect("unassign");
        c.mark_ready_with_override(id, "the contractor knows the system").expect("ready");
        let rev = c.deliver(id, work.path(), "first cut", vec![]).expect("deliver");
        assert_eq!((rev.number, rev.files, rev.number_confirmed), (1, 1, false));
        thread = c
            .create_thread(id, ThreadTarget::Lines { revision: 1, path: "main.rs".into(), start: 2, end: 2 }, "Use tracing?")
            .expect("thread");
        comment = c.reply(thread, "Will do").expect("reply");
        c.edit_comment(thread, comment, "Will do.").expect("edit comment");
        c.set_thread_state(thread, ThreadEventKind::Resolve).expect("resolve");
        let section_thread = c.create_thread(id, ThreadTarget::Section(SectionKind::ApiShape), "Paginated?").expect("thread");
        let gone = c.reply(section_thread, "typo").expect("reply");
        c.redact_comment(section_thread, gone).expect("redact");
        c.publish_review(
            id,
            1,
            Verdict::RequestChanges,
            "Close",
            vec![CriterionInput { position: 1, status: AcceptanceStatus::Met, note: String::new(), evidence: None }],
        )
        .expect("review");
    }
    let c = client(dir.path());
    let d = c.spec_detail(id).expect("detail");
    assert_eq!(d.spec.title, "CSV importer v2");
    assert_eq!(d.spec.sections.api_shape, "POST /imports\n");
    assert_eq!(d.spec.sections.system_context, "Billing runs nightly.\n");
    assert_eq!(d.spec.due_date.as_deref(), Some("2026-12-24"));
    let texts: Vec<&str> = d.spec.criteria.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["Idempotent re-runs", "Imports 1M rows in a minute"]);
    assert_eq!(d.spec.assignees, ["contractor@example.com"]);
    assert_eq!(d.spec.status, SpecStatus::Ready);
    assert_eq!(d.revisions.len(), 1);
    assert_eq!(d.threads.len(), 2);
    let line_thread = &d.threads[0];
    assert!(line_thread.thread.resolved);
    assert_eq!(line_thread.events, 1);
    assert!(matches!(&line_thread.thread.anchor, Anchor::RevisionLines { excerpt, .. } if excerpt == "    println!(\"hi\");\n"));
    assert_eq!(line_thread.comments[1].body, "Will do.");
    assert!(d.threads[1].comments[1].redacted && d.threads[1].comments[1].body.is_empty());
    assert_eq!(d.reviews[0].verdict, Verdict::RequestChanges);
    // One outbox entry per change, ids dense from 1, each envelope decodable.
    let outbox = c.outbox().expect("outbox");
    let ids: Vec<u64> = outbox.iter().map(|e| e.mutation_id).collect();
    assert_eq!(ids, (1..=outbox.len() as u64).collect::<Vec<_>>());
    let kinds: std::collections::BTreeSet<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds.len(), 19, "every mutation kind was queued: {kinds:?}");
    assert!(outbox.windows(2).all(|w| w[0].envelope.hlc < w[1].envelope.hlc), "HLC increases");
    assert_eq!(d.pending_changes as usize, outbox.len());
}

#[test]
fn a_failure_before_commit_leaves_neither_the_change_nor_its_outbox_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);
    let before = c.outbox().expect("outbox").len();
    let err = c
        .write_with(vec![Mutation::SetTitle { spec_id: id, title: "Never".into() }], |tx| {
            // The change and its outbox row are both written at this point…
            let queued: i64 = tx.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
            assert_eq!(queued as usize, before + 1);
            Err(ClientError::Corrupt("injected failure".into()))
        })
        .expect_err("hook fails");
    assert!(err.to_string().contains("injected failure"));
    // …and neither survives the failure, not even across a reopen.
    drop(c);
    let c = client(dir.path());
    assert_eq!(c.spec_detail(id).expect("detail").spec.title, "CSV importer");
    assert_eq!(c.outbox().expect("outbox").len(), before);
    // The next change takes the next id: no gap was burned by the failed one.
    c.set_title(id, "Kept").expect("title");
    assert_eq!(c.outbox().expect("outbox").last().map(|e| e.mutation_id), Some(before as u64 + 1));
}

#[test]
fn bad_input_is_refused_with_a_clear_error_and_nothing_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let empty = c.create_spec(NewSpec { title: "  ".into(), ..Default::default() }).expect_err("empty");
    assert_eq!(empty.to_string(), "title must not be empty");
    let huge = c.create_spec(NewSpec { title: "t".repeat(10_000_000), ..Default::default() }).expect_err("huge");
    assert_eq!(huge.to_string(), "title is too long: 10000000 characters, the limit is 200");
    let id = spec(&c);
    let jump = c.set_status(id, SpecStatus::Accepted).expect_err("no edge");
    assert_eq!(jump.to_string(), "a spec cannot move from draft to accepted");
    assert_eq!(jump.code(), crate::Code::InvalidTransition);
    let bad_date = c.set_due_date(id, Some("2026-02-30")).expect_err("date");
    assert!(bad_date.to_string().contains("that day does not exist"), "{bad_date}");
    let traversal = c
        .write(vec![Mutation::CreateRevision {
            revision_id: new_id(c.now()),
            deliverable_id: new_id(c.now()),
            spec_id: id,
            files: vec![ManifestEntry { path: "../../etc/passwd".into(), sha256: "a".repeat(64), size: 1, executable: false }],
            summary: String::new(),
            addresses: vec![],
        }])
        .expect_err("traversal");
    assert_eq!(traversal.to_string(), "invalid file path \"../../etc/passwd\": it contains '..'");
    assert_eq!(c.outbox().expect("outbox").len(), 1, "only the spec creation was queued");
}

#[test]
fn roles_limit_status_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    // A server workspace where this client is a contractor (as a pull would have stored it).
    let ws: WorkspaceId = new_id(c.now());
    {
        let conn = c.conn();
        conn.execute("INSERT INTO workspaces (id, name, is_local) VALUES (?1, 'Acme', 0)", [ws.to_string()]).expect("ws");
        conn.execute(
            "INSERT INTO members VALUES (?1, ?2, 'me@localhost', 'Me', 'contractor', 'UTC', '{}')",
            params![ws.to_string(), uuid::Uuid::nil().to_string()],
        )
        .expect("member");
        conn.execute(
            "INSERT INTO specs (id, workspace_id, title, status, created_by, created_at, updated_at)
             VALUES ('01900000-0000-7000-8000-000000000001', ?1, 'Theirs', 'ready', 'owner@acme.io', 0, 0)",
            [ws.to_string()],
        )
        .expect("spec");
    }
    let theirs: SpecId = "01900000-0000-7000-8000-000000000001".parse().expect("id");
    let err =
        c.create_spec(NewSpec { workspace_id: Some(ws), title: "Mine".into(), ..Default::default() }).expect_err("contractor");
    assert_eq!(err.code(), crate::Code::Forbidden);
    let err = c.set_status(theirs, SpecStatus::InProgress).expect_err("not assigned");
    assert_eq!(err.code(), crate::Code::Forbidden, "{err}");
    c.conn().execute("INSERT INTO spec_assignees VALUES (?1, 'me@localhost')", [theirs.to_string()]).expect("assign");
    c.set_status(theirs, SpecStatus::InProgress).expect("assigned contractor starts work");
    let err = c.set_status(theirs, SpecStatus::Closed).expect_err("owner only");
    assert_eq!(err.to_string(), "a contractor may not move a spec from in_progress to closed");
    assert_eq!(c.spec_detail(theirs).expect("detail").permissions.next_statuses, vec![SpecStatus::Delivered]);
}

#[test]
fn delivering_honours_handoffignore_and_skips_git() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    let w = work.path();
    fs::create_dir_all(w.join(".git/objects")).expect("git");
    fs::write(w.join(".git/HEAD"), "ref").expect("head");
    fs::create_dir_all(w.join("target/debug")).expect("target");
    fs::write(w.join("target/debug/app"), "bin").expect("bin");
    fs::write(w.join(".handoffignore"), "target/\n*.log\n").expect("ignore");
    fs::write(w.join("run.log"), "noise").expect("log");
    fs::create_dir_all(w.join("src")).expect("src");
    fs::write(w.join("src/lib.rs"), "pub fn f() {}\n").expect("lib");
    fs::write(w.join("run.sh"), "#!/bin/sh\n").expect("sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(w.join("run.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let c = client(dir.path());
    let id = spec(&c);
    c.deliver(id, w, "", vec![]).expect("deliver");
    let rev = c.revision(id, 1).expect("rev");
    let paths: Vec<(&str, bool)> = rev.files.iter().map(|f| (f.path.as_str(), f.executable)).collect();
    assert_eq!(paths, [(".handoffignore", false), ("run.sh", cfg!(unix)), ("src/lib.rs", false)]);
    assert_eq!(c.blobs().read(&rev.files[2].sha256).expect("blob"), b"pub fn f() {}\n");
    // A second delivery is revision 2 of the same deliverable.
    fs::write(w.join("src/lib.rs"), "pub fn g() {}\n").expect("lib");
    assert_eq!(c.deliver(id, w, "rename", vec![]).expect("again").number, 2);
    assert_eq!(c.spec_detail(id).expect("detail").deliverables.len(), 1);
}

#[cfg(unix)]
#[test]
fn folders_a_revision_cannot_carry_are_refused_by_name() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);

    let looped = tempfile::tempdir().expect("loop");
    fs::create_dir(looped.path().join("a")).expect("a");
    symlink("..", looped.path().join("a/up")).expect("link");
    let err = c.deliver(id, looped.path(), "", vec![]).expect_err("loop");
    assert!(err.to_string().contains("loops back"), "{err}");
    assert!(err.to_string().contains("a/up"), "{err}");

    let outside = tempfile::tempdir().expect("outside");
    symlink("/etc/hostname", outside.path().join("host")).expect("link");
    let err = c.deliver(id, outside.path(), "", vec![]).expect_err("outside");
    assert!(err.to_string().contains("outside the delivered folder"), "{err}");

    let dangling = tempfile::tempdir().expect("dangling");
    symlink("missing.txt", dangling.path().join("ghost")).expect("link");
    let err = c.deliver(id, dangling.path(), "", vec![]).expect_err("dangling");
    assert!(err.to_string().contains("ghost"), "{err}");

    let unreadable = tempfile::tempdir().expect("unreadable");
    let secret = unreadable.path().join("secret.txt");
    fs::write(&secret, "x").expect("write");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    if fs::File::open(&secret).is_err() {
        // Only meaningful when not running as root (root reads anything).
        let err = c.deliver(id, unreadable.path(), "", vec![]).expect_err("unreadable");
        assert!(err.to_string().starts_with("cannot read") && err.to_string().contains("secret.txt"), "{err}");
    }

    let fifo_dir = tempfile::tempdir().expect("fifo");
    let status = std::process::Command::new("mkfifo").arg(fifo_dir.path().join("pipe")).status();
    if status.map(|s| s.success()).unwrap_or(false) {
        let err = c.deliver(id, fifo_dir.path(), "", vec![]).expect_err("fifo");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    let odd = tempfile::tempdir().expect("non-utf8");
    use std::os::unix::ffi::OsStrExt;
    fs::write(odd.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.txt")), "x").expect("write");
    let err = c.deliver(id, odd.path(), "", vec![]).expect_err("non-utf8");
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");

    assert!(c.spec_detail(id).expect("detail").revisions.is_empty(), "no failed delivery left a revision");
    assert_eq!(c.outbox().expect("outbox").len(), 1);
}

#[test]
fn search_finds_spec_text_criteria_comments_and_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    fs::create_dir_all(work.path().join("src/importer")).expect("dirs");
    fs::write(work.path().join("src/importer/parse_rows.rs"), "x").expect("file");
    let c = client(dir.path());
    let id = spec(&c);
    c.deliver(id, work.path(), "", vec![]).expect("deliver");
    let t = c.create_thread(id, ThreadTarget::Spec, "What about quoted commas?").expect("thread");
    c.reply(t, "Handled by the tokenizer").expect("reply");
    let kinds = |q: &str| c.search(q, 20).expect("search").into_iter().map(|h| h.kind).collect::<Vec<_>>();
    assert_eq!(kinds("nightly"), ["spec"]);
    assert_eq!(kinds("bad rows"), ["criterion"]);
    assert_eq!(kinds("tokeniz"), ["comment"]);
    assert_eq!(kinds("parse_rows"), ["file"]);
    assert!(kinds("\"unbalanced AND (").is_empty());
    c.set_title(id, "Ledger export").expect("rename");
    assert_eq!(kinds("ledger"), ["spec"]);
    assert!(kinds("importer").iter().all(|k| k == "file"));
}

/// FTS5's own check of an external-content index against its documents: fails when an
/// entry is missing, extra or holds old text.
fn assert_search_index_matches_documents(c: &Client) {
    let conn = c.conn();
    conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)", []).expect("index matches");
    let stale: i64 = conn.query_row("SELECT count(*) FROM search_stale", [], |r| r.get(0)).expect("stale");
    assert_eq!(stale, 0, "every commit leaves the index current");
}

#[test]
fn search_follows_edits_and_deletions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);
    let kinds = |q: &str| c.search(q, 20).expect("search").into_iter().map(|h| h.kind).collect::<Vec<_>>();
    c.set_title(id, "Ledger export").expect("rename");
    assert!(kinds("importer").is_empty(), "the old title is no longer found");
    c.edit_section(id, SectionKind::SystemContext, "Payroll runs weekly.").expect("section");
    assert!(kinds("nightly").is_empty());
    assert_eq!(kinds("payroll"), ["spec"]);
    let criteria = c.spec(id).expect("spec").criteria;
    c.edit_criterion(id, criteria[0].id, "Imports ten million lines").expect("edit criterion");
    assert!(kinds("1M").is_empty());
    assert_eq!(kinds("million"), ["criterion"]);
    c.remove_criterion(id, criteria[1].id).expect("remove criterion");
    assert!(kinds("bad rows").is_empty());
    let t = c.create_thread(id, ThreadTarget::Spec, "What about quoted commas?").expect("thread");
    let reply = c.reply(t, "Handled by the tokenizer").expect("reply");
    c.edit_comment(t, reply, "Handled by the splitter").expect("edit comment");
    assert!(kinds("tokenizer").is_empty());
    assert_eq!(kinds("splitter"), ["comment"]);
    c.redact_comment(t, reply).expect("redact");
    assert!(kinds("splitter").is_empty(), "a redacted comment is not searchable");
    assert_search_index_matches_documents(&c);
}

#[test]
fn a_schema_2_store_keeps_its_search_after_the_upgrade() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut conn = Connection::open(dir.path().join("store.db")).expect("open");
        let tx = conn.transaction().expect("tx");
        for (_, sql) in &store::MIGRATIONS[..2] {
            tx.execute_batch(sql).expect("old schema");
        }
        tx.execute_batch(
            "INSERT INTO workspaces (id, name, is_local) VALUES ('01900000-0000-7000-8000-000000000001', 'Local', 1);
             INSERT INTO specs (id, workspace_id, title, status, created_by, created_at, updated_at)
             VALUES ('01900000-0000-7000-8000-000000000002', '01900000-0000-7000-8000-000000000001', 'Invoice reminders',
                     'draft', 'me', 1, 1);
             PRAGMA user_version = 2;",
        )
        .expect("old data");
        tx.commit().expect("commit");
    }
    let c = client(dir.path());
    let hits = c.search("reminders", 10).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].spec_title, "Invoice reminders");
    assert_search_index_matches_documents(&c);
}

#[test]
fn short_ids_resolve_when_unique() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);
    let text = id.to_string();
    assert_eq!(c.resolve_spec(&text[..13]).expect("prefix"), id);
    assert_eq!(c.resolve_spec(&text.to_uppercase()).expect("full"), id);
    let other = spec(&c);
    // Both were made in the same few milliseconds: a short prefix is ambiguous.
    let common = text.chars().zip(other.to_string().chars()).take_while(|(a, b)| a == b).count();
    if common >= 4 {
        let err = c.resolve_spec(&text[..common]).expect_err("ambiguous");
        assert_eq!(err.code(), crate::Code::Ambiguous);
    }
    assert_eq!(c.resolve_spec("zzzz").expect_err("bad").code(), crate::Code::NotFound);
}

#[test]
fn a_refused_change_can_be_edited_from_the_attention_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);
    c.set_title(id, "A title the server refused").expect("title");
    let refused = c.outbox().expect("outbox").last().expect("entry").mutation_id;
    // What a push records for a refusal (the sync engine's job, done by hand here).
    let outcome = serde_json::json!({"outcome": "rejected", "code": "invalid", "message": "no"}).to_string();
    c.conn()
        .execute(
            "UPDATE outbox SET state = 'attention', outcome = ?1 WHERE mutation_id = ?2",
            rusqlite::params![outcome, refused as i64],
        )
        .expect("park");
    let item = c.attention().expect("attention").pop().expect("one item");
    assert_eq!(attention::editable_text(&item.entry.envelope.mutation), Some("A title the server refused"));

    let new_id = c.edit_attention_text(refused, "A better title").expect("edit");
    assert!(new_id > refused);
    assert!(c.attention().expect("attention").is_empty());
    assert_eq!(c.spec_detail(id).expect("detail").spec.title, "A better title");
    let queued = c.outbox().expect("outbox").into_iter().find(|e| e.mutation_id == new_id).expect("queued");
    assert_eq!(attention::editable_text(&queued.envelope.mutation), Some("A better title"));

    // A change without text says so instead of guessing.
    c.set_status(id, SpecStatus::Closed).expect("status");
    let status_change = c.outbox().expect("outbox").last().expect("entry").mutation_id;
    c.conn()
        .execute(
            "UPDATE outbox SET state = 'attention', outcome = ?1 WHERE mutation_id = ?2",
            rusqlite::params![outcome, status_change as i64],
        )
        .expect("park");
    let err = c.edit_attention_text(status_change, "text").expect_err("no text to edit");
    assert_eq!(err.code(), crate::Code::Invalid);
}

#[test]
fn data_version_changes_only_for_other_connections_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = client(dir.path());
    let cli = client(dir.path());
    let before = app.data_version().expect("version");
    spec(&app);
    assert_eq!(app.data_version().expect("version"), before, "own writes do not count");
    spec(&cli);
    assert_ne!(app.data_version().expect("version"), before, "another connection's commit does");
}

#[test]
fn a_multi_field_spec_edit_is_one_action_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let id = spec(&c);
    let queued = c.outbox().expect("outbox").len();
    let refused = SpecEdit {
        title: Some("Renamed".into()),
        add_criteria: vec!["Resumes after a crash".into()],
        remove_criteria: vec![7],
        ..Default::default()
    };
    let err = c.edit_spec(id, refused).expect_err("no criterion 7");
    assert_eq!(err.code(), crate::Code::NotFound, "{err}");
    let empty = SpecEdit { title: Some("Renamed".into()), add_criteria: vec!["   ".into()], ..Default::default() };
    c.edit_spec(id, empty).expect_err("an empty criterion is refused");
    let unchanged = c.spec_detail(id).expect("detail").spec;
    assert_eq!(unchanged.title, "CSV importer", "a refused edit changes nothing");
    assert_eq!(c.outbox().expect("outbox").len(), queued, "and queues nothing");

    let edit = SpecEdit {
        title: Some("Renamed".into()),
        sections: vec![(SectionKind::Notes, "Ask ops.\n".into())],
        due_date: Some(Some("2031-01-31".into())),
        set_criteria: vec![(1, "Imports 1M rows in a minute".into())],
        move_criteria: vec![(2, 1)],
        remove_criteria: vec![1],
        add_criteria: vec!["Idempotent".into(), "Resumable".into()],
    };
    c.edit_spec(id, edit).expect("edit");
    let s = c.spec_detail(id).expect("detail").spec;
    assert_eq!(
        (s.title.as_str(), s.sections.notes.as_str(), s.due_date.as_deref()),
        ("Renamed", "Ask ops.\n", Some("2031-01-31"))
    );
    let texts: Vec<&str> = s.criteria.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(texts, ["Reports bad rows by line", "Idempotent", "Resumable"]);
    let ids: Vec<u64> = c.outbox().expect("outbox").iter().map(|e| e.mutation_id).collect();
    assert_eq!(ids.len(), queued + 8, "one mutation per change, gap-free: {ids:?}");
}

/// `SpecDetail.permissions` says yes exactly where the store accepts the action, for each
/// role (the UI hides the buttons it says no to).
#[test]
fn permissions_match_what_the_rules_accept() {
    for (role, assigned) in [("owner", false), ("reviewer", false), ("contractor", true), ("contractor", false)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = client(dir.path());
        let ws: WorkspaceId = new_id(c.now());
        let spec: SpecId = new_id(c.now());
        {
            let conn = c.conn();
            conn.execute("INSERT INTO workspaces (id, name, is_local) VALUES (?1, 'Acme', 0)", [ws.to_string()]).expect("ws");
            conn.execute(
                "INSERT INTO members VALUES (?1, ?2, 'me@localhost', 'Me', ?3, 'UTC', '{}')",
                params![ws.to_string(), uuid::Uuid::nil().to_string(), role],
            )
            .expect("member");
            conn.execute(
                "INSERT INTO specs (id, workspace_id, title, status, created_by, created_at, updated_at)
                 VALUES (?1, ?2, 'Theirs', 'ready', 'owner@acme.io', 0, 0)",
                params![spec.to_string(), ws.to_string()],
            )
            .expect("spec");
            if assigned {
                conn.execute("INSERT INTO spec_assignees VALUES (?1, 'me@localhost')", [spec.to_string()]).expect("assign");
            }
        }
        let may = c.spec_detail(spec).expect("detail").permissions;
        let who = format!("{role} (assigned: {assigned})");
        assert_eq!(c.create_thread(spec, ThreadTarget::Spec, "Question?").is_ok(), may.discuss, "discuss: {who}");
        assert_eq!(c.set_due_date(spec, Some("2031-01-01")).is_ok(), may.edit, "edit: {who}");
        assert_eq!(c.assign(spec, "ana@acme.io").is_ok(), may.assign, "assign: {who}");
        for to in SpecStatus::ALL {
            let allowed = may.next_statuses.contains(&to);
            assert_eq!(c.set_status(spec, to).is_ok(), allowed, "ready → {to}: {who}");
            if allowed {
                break;
            }
        }
    }
}

/// Opening a data dir keeps the partial download of a blob a revision still needs and
/// removes one that no revision names.
#[test]
fn opening_keeps_wanted_partial_downloads_and_drops_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = tempfile::tempdir().expect("work");
    fs::write(work.path().join("a.txt"), "needed\n").expect("write");
    let c = client(dir.path());
    let id = spec(&c);
    let rev = c.deliver(id, work.path(), "", vec![]).expect("deliver");
    let needed = c.revision(id, rev.number).expect("revision").files[0].sha256.clone();
    fs::remove_file(c.blobs().path(&needed)).expect("lose the blob");
    let orphan = "cd".repeat(32);
    for sha in [&needed, &orphan] {
        fs::write(c.blobs().part_path(sha), b"partial").expect("part");
    }
    drop(c);
    let c = client(dir.path());
    assert!(c.blobs().part_path(&needed).exists(), "the revision still needs it");
    assert!(!c.blobs().part_path(&orphan).exists(), "no revision names it");
}

#[test]
fn ones_own_hours_are_set_offline_checked_by_the_core_and_refusals_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = client(dir.path());
    let start = c.my_profile().expect("default profile");
    assert_eq!((start.timezone.as_str(), start.hours_text.as_str(), start.unsent), ("UTC", "09:00-17:00 mon-fri", false));
    let wh = WorkingHours { start_minute: 9 * 60, end_minute: 18 * 60, days: 0b100_1111 };
    let set = c.set_my_profile(" Asia/Kathmandu ", wh).expect("set");
    assert_eq!((set.timezone.as_str(), set.hours_text.as_str(), set.unsent), ("Asia/Kathmandu", "09:00-18:00 sun-thu", true));
    assert_eq!(set.local_now.offset_minutes, 345);
    for (zone, hours) in [
        ("Mars/Olympus_Mons", wh),
        ("Europe/Lisbon", WorkingHours { start_minute: 18 * 60, end_minute: 9 * 60, days: 1 }),
        ("Europe/Lisbon", WorkingHours { days: 0, ..wh }),
    ] {
        let e = c.set_my_profile(zone, hours).expect_err("refused");
        assert_eq!(e.code(), crate::Code::Invalid, "{e}");
    }
    assert_eq!(c.my_profile().expect("profile"), Client::my_profile(&client(dir.path())).expect("another connection"));
    assert_eq!(c.my_profile().expect("profile").timezone, "Asia/Kathmandu", "the refusals changed nothing");
}

#[test]
fn the_screens_read_while_a_write_is_open_and_see_only_what_is_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let c = Arc::new(client(dir.path()));
    let id = spec(&c);
    let (inside_tx, inside) = std::sync::mpsc::channel();
    let (read_tx, read) = std::sync::mpsc::channel::<()>();
    let writer = {
        let c = c.clone();
        std::thread::spawn(move || {
            c.write_with(vec![Mutation::SetTitle { spec_id: id, title: "Committed later".into() }], move |_| {
                inside_tx.send(()).expect("signal");
                // Held open until the screens have read (or long enough to prove they could not).
                let read_meanwhile = read.recv_timeout(Duration::from_secs(10)).is_ok();
                assert!(read_meanwhile, "the screens' reads waited for the write");
                Ok(())
            })
        })
    };
    inside.recv_timeout(Duration::from_secs(10)).expect("the write started");
    // Each of these waited for the writer's lock before the screens had their own connection.
    assert_eq!(c.spec_detail(id).expect("detail").spec.title, "CSV importer");
    assert_eq!(c.list_specs(None).expect("list")[0].title, "CSV importer");
    assert_eq!(c.status().expect("status").pending, 1);
    c.inbox_unread().expect("unread");
    c.drafts(Some(id)).expect("drafts");
    read_tx.send(()).expect("release");
    writer.join().expect("writer thread").expect("write");
    assert_eq!(c.spec_detail(id).expect("detail").spec.title, "Committed later");
    assert_eq!(c.status().expect("status").pending, 2);
}
