use super::*;
use crate::hours::{parse_days, parse_hours};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// The instant a wall clock in `zone` shows this civil time.
fn at(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
    let tz = jiff::tz::TimeZone::get(zone).expect("zone");
    let dt = jiff::civil::DateTime::new(y, mo, d, h, mi, 0, 0).expect("datetime");
    Timestamp::from_millis(tz.to_timestamp(dt).expect("instant").as_millisecond())
}

fn hours(text: &str, days: &str) -> WorkingHours {
    let (start_minute, end_minute) = parse_hours(text).expect("hours");
    WorkingHours { start_minute, end_minute, days: parse_days(days).expect("days") }
}

struct Script {
    spec_id: SpecId,
    seq: u64,
    out: Vec<Activity>,
}

impl Script {
    fn new() -> Self {
        Self { spec_id: SpecId::from(uuid::Uuid::from_u128(7)), seq: 10, out: Vec::new() }
    }

    fn add(&mut self, actor: &str, at: Timestamp, event: ActivityEvent) {
        self.seq += 1;
        self.out.push(Activity { spec_id: self.spec_id, seq: self.seq, n: 0, at, actor: actor.into(), event });
    }
}

fn id<T: From<uuid::Uuid>>(n: u128) -> T {
    T::from(uuid::Uuid::from_u128(n))
}

const RITA: &str = "rita@team.example";
const CARLOS: &str = "carlos@contractor.example";

/// The engagement of the issue: a contractor in Lisbon asks, a reviewer in Melbourne answers,
/// r1, changes requested, r2, approved.
fn engagement() -> Vec<Activity> {
    let mut s = Script::new();
    let q: ThreadId = id(1);
    let (d, r1, r2): (DeliverableId, RevisionId, RevisionId) = (id(2), id(3), id(4));
    // Friday 18:05 in Lisbon is Saturday 03:05 in Melbourne: answered Monday 09:30 Melbourne.
    s.add(CARLOS, at("Europe/Lisbon", 2026, 6, 5, 18, 5), ActivityEvent::ThreadOpened { thread_id: q, question: true });
    s.add(
        CARLOS,
        at("Europe/Lisbon", 2026, 6, 5, 18, 20),
        ActivityEvent::Replied { thread_id: q, comment_id: id(5), question: true, thread_author: CARLOS.into() },
    );
    s.add(
        RITA,
        at("Australia/Melbourne", 2026, 6, 8, 9, 30),
        ActivityEvent::Replied { thread_id: q, comment_id: id(6), question: true, thread_author: CARLOS.into() },
    );
    s.add(
        RITA,
        at("Australia/Melbourne", 2026, 6, 8, 9, 45),
        ActivityEvent::Replied { thread_id: q, comment_id: id(7), question: true, thread_author: CARLOS.into() },
    );
    // r1 on Monday 16:00 Lisbon (Tue 01:00 Melbourne), reviewed Tuesday 10:00 Melbourne.
    s.add(
        CARLOS,
        at("Europe/Lisbon", 2026, 6, 8, 16, 0),
        ActivityEvent::RevisionDelivered { deliverable_id: d, revision_id: r1, number: 1 },
    );
    s.add(
        RITA,
        at("Australia/Melbourne", 2026, 6, 9, 10, 0),
        ActivityEvent::ReviewPublished { review_id: id(8), revision_id: r1, number: 1, verdict: Verdict::RequestChanges },
    );
    // r2 on Tuesday 10:00 Lisbon, approved Wednesday 09:00 Melbourne.
    s.add(
        CARLOS,
        at("Europe/Lisbon", 2026, 6, 9, 10, 0),
        ActivityEvent::RevisionDelivered { deliverable_id: d, revision_id: r2, number: 2 },
    );
    s.add(
        RITA,
        at("Australia/Melbourne", 2026, 6, 10, 9, 0),
        ActivityEvent::ReviewPublished { review_id: id(9), revision_id: r2, number: 2, verdict: Verdict::Approve },
    );
    s.out
}

#[test]
fn an_engagement_has_one_turn_per_handoff_and_the_askers_own_follow_up_answers_nothing() {
    let mut acts = engagement();
    acts.reverse(); // given in any order, read in the server's
    let t = turns(&acts);
    let kinds: Vec<_> = t.iter().map(|t| (t.kind, t.receiver.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (TurnKind::QuestionToAnswer, RITA),
            (TurnKind::DeliveryToReview, RITA),
            (TurnKind::ReviewToRevision, CARLOS),
            (TurnKind::DeliveryToReview, RITA),
        ]
    );
    // The question waited from Friday 18:05 Lisbon until Rita's first answer, not her second.
    assert_eq!(t[0].to, at("Australia/Melbourne", 2026, 6, 8, 9, 30));
}

#[test]
fn turnaround_counts_the_receivers_working_hours_only() {
    let t = turns(&engagement());
    let melbourne =
        ReceiverHours { zone: Zone::named("Australia/Melbourne").expect("zone"), hours: Some(hours("09:00-17:30", "mon-fri")) };
    let lisbon =
        ReceiverHours { zone: Zone::named("Europe/Lisbon").expect("zone"), hours: Some(hours("09:00-18:00", "mon-fri")) };
    // By hand: asked Sat 03:05 Melbourne (a weekend), answered Mon 09:30: 30 working minutes.
    assert_eq!(working_ms(&t[0], &melbourne), 30 * MIN);
    // r1 at Tue 01:00 Melbourne, reviewed Tue 10:00: one working hour.
    assert_eq!(working_ms(&t[1], &melbourne), HOUR);
    // Changes requested Tue 10:00 Melbourne = Tue 01:00 Lisbon; r2 Tue 10:00 Lisbon: one hour.
    assert_eq!(working_ms(&t[2], &lisbon), HOUR);
    // r2 Tue 10:00 Lisbon = Tue 19:00 Melbourne (after hours); approved Wed 09:00: nothing.
    assert_eq!(working_ms(&t[3], &melbourne), 0);
    // Without hours set, the wall clock counts: 19:00 → 09:00 is 14 hours.
    let unset = ReceiverHours { zone: Zone::utc(), hours: None };
    assert_eq!(working_ms(&t[3], &unset), 14 * HOUR);
}

#[test]
fn several_requests_for_changes_start_the_clock_at_the_first() {
    let mut s = Script::new();
    let (d, r1, r2): (DeliverableId, RevisionId, RevisionId) = (id(2), id(3), id(4));
    let t0 = at("UTC", 2026, 6, 8, 8, 0);
    let later = |h: i64| Timestamp::from_millis(t0.as_millis() + h * HOUR);
    s.add(CARLOS, t0, ActivityEvent::RevisionDelivered { deliverable_id: d, revision_id: r1, number: 1 });
    let changes = |n: u128| ActivityEvent::ReviewPublished {
        review_id: id(n),
        revision_id: r1,
        number: 1,
        verdict: Verdict::RequestChanges,
    };
    s.add(RITA, later(1), changes(10));
    s.add("omar@team.example", later(2), changes(11));
    s.add(CARLOS, later(5), ActivityEvent::RevisionDelivered { deliverable_id: d, revision_id: r2, number: 2 });
    let t = turns(&s.out);
    assert_eq!(t.len(), 2, "{t:?}");
    assert_eq!((t[0].kind, t[0].receiver.as_str(), t[0].to), (TurnKind::DeliveryToReview, RITA, later(1)), "first review only");
    assert_eq!((t[1].kind, t[1].from, t[1].to), (TurnKind::ReviewToRevision, later(1), later(5)));
}

#[test]
fn handoffs_go_to_the_side_that_must_answer_and_never_to_the_one_who_acted() {
    let acts = engagement();
    let rita = Reader { email: RITA, role: Role::Reviewer, assigned: false };
    let carlos = Reader { email: CARLOS, role: Role::Contractor, assigned: true };
    let to = |r: Reader<'_>| acts.iter().map(|a| is_handoff_to(a, r)).collect::<Vec<_>>();
    // question, Carlos's follow-up, two answers, r1, review, r2, approval
    assert_eq!(to(rita), [true, false, false, false, true, false, true, false]);
    assert_eq!(to(carlos), [false, false, true, true, false, true, false, true]);
    let assigned = Activity {
        spec_id: acts[0].spec_id,
        seq: 99,
        n: 0,
        at: acts[0].at,
        actor: "olga@team.example".into(),
        event: ActivityEvent::Assigned { email: CARLOS.into() },
    };
    assert!(is_handoff_to(&assigned, carlos));
    assert!(!is_handoff_to(&assigned, rita), "someone else's assignment is news, not a handoff");
}

#[test]
fn stats_give_count_median_and_slowest_per_kind() {
    let measured = [
        (TurnKind::DeliveryToReview, 3 * HOUR),
        (TurnKind::QuestionToAnswer, 20 * MIN),
        (TurnKind::DeliveryToReview, HOUR),
        (TurnKind::DeliveryToReview, 2 * HOUR),
        (TurnKind::DeliveryToReview, 7 * HOUR),
    ];
    let s = stats(&measured);
    assert_eq!(
        s,
        [
            TurnStats { kind: TurnKind::QuestionToAnswer, count: 1, median_ms: 20 * MIN, max_ms: 20 * MIN },
            TurnStats { kind: TurnKind::DeliveryToReview, count: 4, median_ms: 2 * HOUR, max_ms: 7 * HOUR },
        ]
    );
    assert!(stats(&[]).is_empty());
}

#[test]
fn durations_read_in_minutes_and_hours() {
    let table = [
        (0, "under a minute"),
        (29_999, "under a minute"),
        (45 * MIN, "45 min"),
        (3 * HOUR, "3 h"),
        (200 * MIN, "3 h 20 min"),
        (50 * HOUR, "50 h"),
    ];
    for (ms, text) in table {
        assert_eq!(duration_text(ms), text, "{ms}");
    }
}

#[test]
fn an_activity_keeps_its_wire_shape() {
    let a = &engagement()[4];
    let json = serde_json::to_value(a).expect("json");
    assert_eq!(json["event"]["kind"], "revision_delivered");
    assert_eq!(json["event"]["number"], 1);
    let back: Activity = serde_json::from_value(json).expect("back");
    assert_eq!(&back, a);
    assert_eq!(a.event.kind(), "revision_delivered");
    assert_eq!(engagement()[0].event.kind(), "question_asked");
}
