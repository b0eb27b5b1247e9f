use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use handoff_core::activity::{Activity, ActivityEvent};

use super::*;
use crate::{Clock, LOCAL_IDENTITY, NewSpec};

/// A clock the test sets.
struct SetClock(AtomicI64);

impl Clock for SetClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// 2026-06-06 is a Saturday; 2026-06-08 a Monday (UTC, the profile's default zone).
const SATURDAY_NOON: i64 = 1_780_747_200_000;
const MONDAY_0900: i64 = 1_780_909_200_000;
const HOUR: i64 = 3_600_000;

fn id<T: From<uuid::Uuid>>(n: u128) -> T {
    T::from(uuid::Uuid::from_u128(n))
}

fn put(c: &Client, spec_id: SpecId, seq: u64, at: i64, actor: &str, event: ActivityEvent) {
    let mut conn = c.conn();
    let tx = conn.transaction().expect("tx");
    store_activity(&tx, &Activity { spec_id, seq, n: 0, at: Timestamp::from_millis(at), actor: actor.into(), event })
        .expect("store");
    tx.commit().expect("commit");
}

fn setup() -> (tempfile::TempDir, Client, Arc<SetClock>, SpecId, SpecId) {
    let dir = tempfile::tempdir().expect("dir");
    let clock = Arc::new(SetClock(AtomicI64::new(SATURDAY_NOON - 2 * HOUR)));
    let c = Client::open_with_clock(dir.path(), clock.clone()).expect("open");
    let new = |title: &str| NewSpec { title: title.into(), ..Default::default() };
    let (a, b) = (c.create_spec(new("CSV export")).expect("a"), c.create_spec(new("Rounding")).expect("b"));
    (dir, c, clock, a, b)
}

#[test]
fn the_inbox_groups_by_spec_keeps_the_servers_order_and_leaves_out_ones_own_doings() {
    let (_dir, c, _clock, export, rounding) = setup();
    let q: ThreadId = id(1);
    let carlos = "carlos@contractor.example";
    put(&c, export, 3, SATURDAY_NOON, carlos, ActivityEvent::ThreadOpened { thread_id: q, question: true });
    put(&c, export, 4, SATURDAY_NOON + 60_000, LOCAL_IDENTITY, ActivityEvent::Assigned { email: carlos.into() });
    // Recorded later by the server although its clock read earlier (a server clock moved back).
    let delivered = ActivityEvent::RevisionDelivered { deliverable_id: id(2), revision_id: id(3), number: 1 };
    put(&c, export, 5, SATURDAY_NOON - HOUR, carlos, delivered);
    put(&c, rounding, 2, SATURDAY_NOON - 3 * HOUR, carlos, ActivityEvent::Assigned { email: carlos.into() });

    let inbox = c.inbox(false).expect("inbox");
    assert_eq!(inbox.unread, 3);
    let titles: Vec<_> = inbox.groups.iter().map(|g| g.title.as_str()).collect();
    assert_eq!(titles, ["CSV export", "Rounding"], "the spec with the newest item first");
    let texts: Vec<_> = inbox.groups[0].items.iter().map(|i| (i.seq, i.text.as_str())).collect();
    assert_eq!(texts, [(5, "carlos@contractor.example delivered r1"), (3, "carlos@contractor.example asked a question")]);
    assert!(inbox.groups[0].items.iter().all(|i| i.handoff && i.unread), "an owner reviews deliveries and answers questions");
    assert!(!inbox.groups[1].items[0].handoff, "someone else's assignment is news, not work");
    assert_eq!(inbox.groups[0].items[0].local_time, "Sat 11:00");
}

#[test]
fn read_marks_only_move_forward_and_queue_one_mutation_for_ones_other_devices() {
    let (_dir, c, _clock, export, _) = setup();
    let carlos = "carlos@contractor.example";
    for seq in [3, 5, 8] {
        put(
            &c,
            export,
            seq,
            SATURDAY_NOON + seq as i64,
            carlos,
            ActivityEvent::ThreadOpened { thread_id: id(seq as u128), question: false },
        );
    }
    let queued = || c.outbox().expect("outbox").iter().filter(|e| e.kind == "inbox.mark_read").count();
    assert!(c.mark_read(export, Some(5)).expect("mark"));
    let left: Vec<u64> = c.inbox(false).expect("inbox").groups[0].items.iter().map(|i| i.seq).collect();
    assert_eq!(left, [8]);
    assert!(!c.mark_read(export, Some(3)).expect("older"), "a mark never moves back");
    assert_eq!(queued(), 1, "nothing queued for a mark that changes nothing");
    assert!(c.mark_read(export, Some(99)).expect("past the end"));
    assert!(c.inbox(false).expect("inbox").groups.is_empty());
    assert_eq!(c.inbox(true).expect("all").groups[0].items.len(), 3, "--all still lists read items");
    // A mark pulled from another device that is behind this one's changes nothing here.
    let mut conn = c.conn();
    let tx = conn.transaction().expect("tx");
    raise_read_mark(&tx, export, LOCAL_IDENTITY, 2).expect("raise");
    tx.commit().expect("commit");
    drop(conn);
    assert!(c.inbox(false).expect("inbox").groups.is_empty());
}

#[test]
fn notices_wait_for_working_hours_are_shown_once_and_nothing_older_floods_a_new_device() {
    let (_dir, c, clock, export, _) = setup();
    let carlos = "carlos@contractor.example";
    put(&c, export, 2, SATURDAY_NOON - 3 * HOUR, carlos, ActivityEvent::ThreadOpened { thread_id: id(1), question: true });
    // The first look starts notices on this machine: what came before is in the inbox only.
    assert!(c.notices().expect("first").due.is_empty());
    clock.0.store(SATURDAY_NOON, Ordering::SeqCst);
    let delivered = ActivityEvent::RevisionDelivered { deliverable_id: id(2), revision_id: id(3), number: 1 };
    put(&c, export, 4, SATURDAY_NOON - HOUR, carlos, delivered);
    // Saturday noon, outside 09:00–17:00 Monday to Friday: held until Monday 09:00.
    let plan = c.notices().expect("held");
    assert_eq!((plan.due.len(), plan.held, plan.held_until), (0, 1, Some(Timestamp::from_millis(MONDAY_0900))));
    clock.0.store(MONDAY_0900, Ordering::SeqCst);
    let plan = c.notices().expect("due");
    assert_eq!(plan.due.len(), 1);
    assert_eq!((plan.due[0].title.as_str(), plan.due[0].body.as_str()), ("CSV export", "carlos@contractor.example delivered r1"));
    c.notified(&[plan.due[0].item.clone()]).expect("notified");
    assert!(c.notices().expect("again").due.is_empty(), "shown once");
    // With holding off, a weekend handoff is shown at once.
    clock.0.store(SATURDAY_NOON + 7 * 24 * HOUR, Ordering::SeqCst);
    put(&c, export, 6, SATURDAY_NOON + 7 * 24 * HOUR, carlos, ActivityEvent::ThreadOpened { thread_id: id(9), question: true });
    assert_eq!(c.notices().expect("held").held, 1);
    c.set_holds_notices(false).expect("setting");
    assert_eq!(c.notices().expect("now").due.len(), 1);
    // Read on another device: no notice.
    c.mark_read(export, None).expect("read");
    assert!(c.notices().expect("read").due.is_empty());
}

#[test]
fn notices_find_every_kind_of_handoff_and_leave_the_rest_in_the_inbox() {
    let (_dir, c, _clock, export, _) = setup();
    c.set_holds_notices(false).expect("setting");
    assert!(c.notices().expect("start").due.is_empty());
    c.assign(export, LOCAL_IDENTITY).expect("assign");
    let (carlos, ana) = ("carlos@contractor.example", "ana@team.example");
    let status = |to| ActivityEvent::StatusChanged { from: SpecStatus::InReview, to, by_override: false };
    let reply = |author: &str| ActivityEvent::Replied {
        thread_id: id(1),
        comment_id: id(2),
        question: false,
        thread_author: author.into(),
    };
    let events = [
        (true, ActivityEvent::RevisionDelivered { deliverable_id: id(3), revision_id: id(4), number: 1 }),
        (true, ActivityEvent::ThreadOpened { thread_id: id(5), question: true }),
        (
            true,
            ActivityEvent::ReviewPublished { review_id: id(6), revision_id: id(4), number: 1, verdict: Verdict::RequestChanges },
        ),
        (true, reply(LOCAL_IDENTITY)),
        (true, ActivityEvent::Assigned { email: LOCAL_IDENTITY.into() }),
        (true, status(SpecStatus::Accepted)),
        (false, ActivityEvent::ThreadOpened { thread_id: id(7), question: false }),
        (false, reply(ana)),
        (false, ActivityEvent::CriteriaChanged { criterion_id: id(8), change: CriterionChange::Added }),
        (false, ActivityEvent::Unassigned { email: ana.into() }),
        (false, status(SpecStatus::InProgress)),
    ];
    let mut handoffs = Vec::new();
    for (k, (handoff, event)) in events.into_iter().enumerate() {
        let seq = k as u64 + 1;
        put(&c, export, seq, SATURDAY_NOON - 2 * HOUR, carlos, event);
        if handoff {
            handoffs.push(seq);
        }
    }
    let due: Vec<u64> = c.notices().expect("notices").due.iter().map(|n| n.item.seq).collect();
    assert_eq!(due, handoffs);
    assert_eq!(c.inbox(false).expect("inbox").unread, 11, "the rest is news in the inbox");
}

#[test]
fn notices_read_only_the_activity_that_can_be_a_handoff() {
    let (_dir, c, _clock, _, _) = setup();
    let conn = c.conn();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {NOTICE_CANDIDATES}")).expect("plan");
    let plan: Vec<String> =
        stmt.query_map(params!["me@team.example", 0], |r| r.get(3)).expect("rows").map(|r| r.expect("row")).collect();
    let uses = |what: &str| plan.iter().any(|step| step.contains(what));
    assert!(uses("activity_handoff_kinds") && uses("activity_replies_by_thread_author"), "{plan:#?}");
    // Walking the time index or the table reads every unread row since notices started.
    assert!(!uses("activity_by_time") && !uses("SCAN activity"), "{plan:#?}");
}

#[test]
fn a_big_inbox_lists_the_newest_of_each_spec_counts_the_rest_exactly_and_mark_all_reaches_every_spec() {
    let (_dir, c, _clock, busy, quiet) = setup();
    let carlos = "carlos@contractor.example";
    let thread = |n: u128| ActivityEvent::ThreadOpened { thread_id: id(n), question: false };
    // The busy spec has the newest items: more than one group lists, and one of one's own.
    let busy_items = INBOX_GROUP_ITEMS as u64 + 5;
    for seq in 1..=busy_items {
        put(&c, busy, seq, SATURDAY_NOON + seq as i64 * 1000, carlos, thread(seq as u128));
    }
    put(&c, busy, busy_items + 1, SATURDAY_NOON + HOUR, LOCAL_IDENTITY, thread(999));
    // One item on each of more specs than the inbox lists, each older than the one before.
    let mut others = vec![quiet];
    for i in 0..INBOX_GROUPS {
        others.push(c.create_spec(NewSpec { title: format!("Spec {i}"), ..Default::default() }).expect("spec"));
    }
    for (i, spec) in others.iter().enumerate() {
        put(&c, *spec, 1, SATURDAY_NOON - (i as i64 + 1) * 1000, carlos, thread(10_000 + i as u128));
    }
    // The quiet spec's first item is read; a second, newer one is not.
    c.mark_read(quiet, Some(1)).expect("mark");
    put(&c, quiet, 2, SATURDAY_NOON - 500, carlos, thread(20_000));
    let total = busy_items as u32 + others.len() as u32;

    let inbox = c.inbox(false).expect("inbox");
    assert_eq!(inbox.unread, total, "every unread item counted, listed or not");
    assert_eq!(c.inbox_unread().expect("count"), total);
    assert_eq!(inbox.groups.len(), INBOX_GROUPS);
    // The busy spec, the quiet one, then Spec 0, 1, …: two specs with older items left out.
    assert_eq!(inbox.more_specs, 2, "{} + 2 specs have unread items", INBOX_GROUPS);
    let order: Vec<SpecId> = inbox.groups.iter().map(|g| g.spec_id).collect();
    assert_eq!(order[..3], [busy, quiet, others[1]], "the spec with the newest item first");
    assert_eq!(order[2..], others[1..INBOX_GROUPS - 1]);
    let first = &inbox.groups[0];
    assert_eq!((first.unread, first.more, first.items.len()), (busy_items as u32, 5, INBOX_GROUP_ITEMS));
    let seqs: Vec<u64> = first.items.iter().map(|i| i.seq).collect();
    assert_eq!(seqs, (6..=busy_items).rev().collect::<Vec<_>>(), "the newest, newest first; one's own left out");
    let quiet_group = &inbox.groups[1];
    assert_eq!((quiet_group.unread, quiet_group.more, quiet_group.items.len()), (1, 0, 1), "above the read mark only");
    let listed: u32 = inbox.groups.iter().map(|g| g.unread).sum();
    assert_eq!(listed + 2, total, "the specs left out have one unread item each");

    // The older items of a group, and a spec left out, on demand.
    let whole = c.inbox_spec(busy, false).expect("busy spec");
    assert_eq!((whole.unread, whole.more), (busy_items as u32, 0));
    assert_eq!(whole.items.iter().map(|i| i.seq).collect::<Vec<_>>(), (1..=busy_items).rev().collect::<Vec<_>>());
    let left_out = others[INBOX_GROUPS];
    assert!(!order.contains(&left_out));
    let group = c.inbox_spec(left_out, false).expect("left out");
    assert_eq!((group.title.as_str(), group.unread, group.items.len()), (format!("Spec {}", INBOX_GROUPS - 1).as_str(), 1, 1));
    assert_eq!(c.inbox_spec(quiet, true).expect("with read").items.len(), 2, "all: read items too");
    assert!(matches!(c.inbox_spec(id(77), false), Err(ClientError::NotFound { .. })));

    // --all: the newest 300 read and unread, with the same exact counts.
    let all = c.inbox(true).expect("all");
    assert_eq!((all.unread, all.more_specs), (total, 0));
    assert_eq!(all.groups.iter().map(|g| g.items.len()).sum::<usize>(), busy_items as usize + others.len() + 1);

    // Mark all read reaches the specs the inbox left out too, in one write.
    assert_eq!(c.mark_all_read().expect("mark all"), INBOX_GROUPS as u32 + 2);
    assert_eq!(c.inbox_unread().expect("count"), 0);
    let inbox = c.inbox(false).expect("inbox");
    assert!(inbox.groups.is_empty() && inbox.more_specs == 0 && inbox.unread == 0, "{inbox:?}");
    assert_eq!(c.inbox_spec(left_out, false).expect("left out").unread, 0);
    assert_eq!(c.mark_all_read().expect("again"), 0, "nothing left to mark");
}
