//! The inbox (issue #14): what others did on the specs one can see since one last looked,
//! grouped by spec, in the server's order; read marks that follow one across devices; and
//! the desktop notices for handoffs to oneself, held outside one's working hours.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use handoff_core::activity::{self, Activity, ActivityEvent, CriterionChange, Reader};
use handoff_core::describe;
use handoff_core::readiness::excerpt;
use handoff_core::*;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::outbox::{meta_get, meta_set};
use crate::profile::SenderClocks;

/// One thing someone else did, as the inbox shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxItem {
    /// The spec.
    pub spec_id: SpecId,
    /// The server's order within the spec: its version…
    pub seq: u64,
    /// …and its place within that version.
    pub n: u32,
    /// When the server recorded it.
    pub at: Timestamp,
    /// Email of who did it.
    pub actor: String,
    /// Their name.
    pub actor_name: String,
    /// What happened, with where to open it.
    pub event: ActivityEvent,
    /// A sentence for people: "Carlos delivered r2".
    pub text: String,
    /// What it says, when it says something (a question, a reply, a criterion).
    pub quote: Option<String>,
    /// When, on the viewer's clock: `Sat 03:05`.
    pub local_time: String,
    /// The time in the sender's zone and the viewer's, when they differ.
    pub sender_time: Option<String>,
    /// Not read yet.
    pub unread: bool,
    /// It hands work to the viewer (a delivery to review, a question to answer, a review to act on).
    pub handoff: bool,
}

/// One spec's items, newest first: the newest [`INBOX_GROUP_ITEMS`] unread in the inbox,
/// up to [`INBOX_SPEC_LIMIT`] from [`Client::inbox_spec`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxGroup {
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: SpecStatus,
    /// How many of its items are unread, listed or not.
    pub unread: u32,
    /// How many of its unread items are older than those listed and left out
    /// ([`Client::inbox_spec`] lists them).
    pub more: u32,
    /// The items, newest first.
    pub items: Vec<InboxItem>,
}

/// The inbox: groups by spec, the spec with the newest item first, at most
/// [`INBOX_GROUPS`] of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inbox {
    /// Unread items in all, listed or not.
    pub unread: u32,
    /// The groups.
    pub groups: Vec<InboxGroup>,
    /// How many specs with unread items have no group here (their newest items are older
    /// than those of the specs listed).
    pub more_specs: u32,
}

/// A desktop notice to show for a handoff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    /// The notice's title: the spec.
    pub title: String,
    /// Its body: what happened.
    pub body: String,
    /// The item, to open when the notice is clicked.
    pub item: InboxItem,
}

/// What to notify now, and what waits for one's working hours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NoticePlan {
    /// To show now.
    pub due: Vec<Notice>,
    /// How many wait for one's working hours.
    pub held: u32,
    /// When they will be shown.
    pub held_until: Option<Timestamp>,
}

/// How many items `inbox(all: true)` lists at most (the newest).
pub const INBOX_ALL_LIMIT: usize = 300;

/// How many unread items one spec's group lists at most in the inbox (the newest): a reader
/// back from leave, or new to a busy workspace, has thousands on a spec, and one screen of
/// them says what happened; the group's `more` counts the rest.
pub const INBOX_GROUP_ITEMS: usize = 5;

/// How many specs the inbox lists at most (those with the newest items), so its answer stays
/// small whatever the workspace (a screen of 4,000 items cost the app 100 MiB): 50 groups of
/// at most 5 items; `more_specs` counts the rest.
pub const INBOX_GROUPS: usize = 50;

/// How many items [`Client::inbox_spec`] lists at most (the newest): every unread item of
/// all but the busiest specs, and still one answer the screen can draw.
pub const INBOX_SPEC_LIMIT: usize = 1000;

/// How far before the first look a handoff may have been recorded and still be notified:
/// the server's clock and this machine's may differ by this much.
const NOTICE_SLACK_MS: i64 = 10 * 60_000;

const HOLD_KEY: &str = "notify_hold_outside_hours";
const SINCE_KEY: &str = "notify_since";

impl Client {
    /// What others did on the specs here: unread only (the [`INBOX_GROUPS`] specs with the
    /// newest items, each with its newest [`INBOX_GROUP_ITEMS`]), or with `all` the newest
    /// [`INBOX_ALL_LIMIT`] read and unread. Counts are exact either way, and say what was
    /// left out.
    pub fn inbox(&self, all: bool) -> Result<Inbox> {
        let conn = self.reader();
        inbox_in(&conn, all)
    }

    /// How many items are unread: what [`Client::inbox`] counts, without building it (the
    /// header's badge asks after every change).
    pub fn inbox_unread(&self) -> Result<u32> {
        let conn = self.reader();
        let me = crate::Client::actor(&conn)?.email;
        let n: i64 = conn.prepare_cached(concat!("SELECT count(*) ", unread_activity!()))?.query_row([&me], |r| r.get(0))?;
        Ok(count(n))
    }

    /// One spec's items, newest first: unread only, or with `all` read ones too, at most
    /// [`INBOX_SPEC_LIMIT`]; what the inbox's group left out (its `more`).
    pub fn inbox_spec(&self, spec_id: SpecId, all: bool) -> Result<InboxGroup> {
        let conn = self.reader();
        // One snapshot: the count and the items agree even while a sync writes.
        let tx = conn.unchecked_transaction()?;
        let mut items = Items::new(&tx)?;
        let Some(mut group) = items.group(spec_id)? else {
            return Err(ClientError::NotFound { what: "spec", id: spec_id.to_string() });
        };
        let read_up_to = items.read_up_to(spec_id)?;
        let unread: i64 = tx
            .prepare_cached("SELECT count(*) FROM activity WHERE spec_id = ?1 AND actor <> ?2 AND seq > ?3")?
            .query_row(params![spec_id.to_string(), items.me, read_up_to], |r| r.get(0))?;
        let after = if all { i64::MIN } else { read_up_to };
        group.items = items.of_spec(spec_id, after, INBOX_SPEC_LIMIT)?;
        group.unread = count(unread);
        group.more = group.unread.saturating_sub(listed_unread(&group.items));
        Ok(group)
    }

    /// Marks `spec_id`'s items read up to `seq` (everything on it when `None`); synced so one's
    /// other devices stop showing them. Nothing is written when it is read that far already.
    pub fn mark_read(&self, spec_id: SpecId, seq: Option<u64>) -> Result<bool> {
        let mut wrote = false;
        self.write_deciding(|tx| {
            let me = crate::Client::actor(tx)?.email;
            let newest: Option<i64> =
                tx.query_row("SELECT max(seq) FROM activity WHERE spec_id = ?1", [spec_id.to_string()], |r| r.get(0))?;
            let Some(newest) = newest else { return Ok(vec![]) };
            let seq = seq.unwrap_or(newest as u64).min(newest as u64);
            if read_mark(tx, spec_id, &me)? >= seq {
                return Ok(vec![]);
            }
            wrote = true;
            Ok(vec![Mutation::MarkRead { spec_id, seq }])
        })?;
        Ok(wrote)
    }

    /// Marks everything read, listed in the inbox or not; returns how many specs it marked.
    pub fn mark_all_read(&self) -> Result<u32> {
        let mut marked = 0;
        // One transaction for every spec: a thousand specs are one commit, not a thousand.
        self.write_deciding(|tx| {
            let me = crate::Client::actor(tx)?.email;
            // Each spec with unread items, marked up to its newest item (as `mark_read` with
            // no seq), one's own included.
            let mut stmt = tx.prepare_cached(concat!(
                "SELECT a.spec_id, (SELECT max(b.seq) FROM activity b WHERE b.spec_id = a.spec_id) ",
                unread_activity!(),
                " GROUP BY a.spec_id"
            ))?;
            let rows = stmt.query_map([&me], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut mutations = Vec::new();
            for row in rows {
                let (spec_id, seq) = row?;
                let spec_id = spec_id.parse().map_err(|_| ClientError::Corrupt(format!("activity of spec {spec_id:?}")))?;
                mutations.push(Mutation::MarkRead { spec_id, seq: seq as u64 });
            }
            marked = u32::try_from(mutations.len()).unwrap_or(u32::MAX);
            Ok(mutations)
        })?;
        Ok(marked)
    }

    /// Whether notices wait for one's working hours (on unless turned off).
    pub fn holds_notices(&self) -> Result<bool> {
        Ok(meta_get(&self.conn(), HOLD_KEY)?.as_deref() != Some("0"))
    }

    /// Turns holding notices outside working hours on or off.
    pub fn set_holds_notices(&self, hold: bool) -> Result<()> {
        meta_set(&self.conn(), HOLD_KEY, if hold { "1" } else { "0" })
    }

    /// The handoffs to notify of now: unread, to oneself, recorded since notices started on
    /// this machine (the first call: nothing older floods a new device), and not notified
    /// before. Outside one's working hours they are held (unless holding is off) and
    /// `held_until` says when they start. Call [`Client::notified`] once they are shown.
    pub fn notices(&self) -> Result<NoticePlan> {
        let profile = self.my_profile()?;
        let hold = self.holds_notices()?;
        let now = self.now();
        let conn = self.conn();
        let since = match meta_get(&conn, SINCE_KEY)?.and_then(|v| v.parse::<i64>().ok()) {
            Some(since) => since,
            None => {
                // Stamps are the server's clock: a few minutes' slack for this machine's.
                let since = now.as_millis() - NOTICE_SLACK_MS;
                meta_set(&conn, SINCE_KEY, &since.to_string())?;
                since
            }
        };
        // Only the unread items recorded since then and not notified, not the whole inbox:
        // the unread ones of a workspace one just joined are all older than `since`. And only
        // those that can be a handoff: the others pile up unread in a busy workspace.
        let mut stmt = conn.prepare_cached(NOTICE_CANDIDATES)?;
        let mut items = Items::new(&conn)?;
        let recent = stmt.query_map(params![items.me, since], activity_row)?.map(|r| r?).collect::<Result<Vec<_>>>()?;
        let mut due = Vec::new();
        for a in recent {
            // Only handoffs are described: the rest are news for the inbox, not notices.
            if items.is_handoff(&a)? != Some(true) {
                continue;
            }
            let spec_id = a.spec_id;
            let (Some(item), Some(title)) = (items.item(a)?, items.title(spec_id)) else { continue };
            due.push(Notice { title, body: item.text.clone(), item });
        }
        let zone = hours::Zone::named(&profile.timezone).unwrap_or_else(|_| hours::Zone::utc());
        if hold && !due.is_empty() && !zone.is_working(&profile.working_hours, now) {
            let held = u32::try_from(due.len()).unwrap_or(u32::MAX);
            return Ok(NoticePlan { due: vec![], held, held_until: zone.next_working_start(&profile.working_hours, now) });
        }
        Ok(NoticePlan { due, held: 0, held_until: None })
    }

    /// Records that these items were notified on this machine, so they are not again.
    pub fn notified(&self, items: &[InboxItem]) -> Result<()> {
        let now = self.now().as_millis();
        let conn = self.conn();
        let mut put = conn.prepare_cached("INSERT OR IGNORE INTO notified (spec_id, seq, n, at) VALUES (?1, ?2, ?3, ?4)")?;
        for i in items {
            put.execute(params![i.spec_id.to_string(), i.seq as i64, i.n, now])?;
        }
        Ok(())
    }

    /// The specs' activity as stored here, in the server's order (for turnaround).
    pub(crate) fn activities(conn: &Connection, spec_id: Option<SpecId>) -> Result<Vec<Activity>> {
        let mut stmt = conn.prepare_cached(
            "SELECT spec_id, seq, n, at, actor, event FROM activity WHERE ?1 IS NULL OR spec_id = ?1 ORDER BY spec_id, seq, n",
        )?;
        let rows = stmt.query_map([spec_id.map(|s| s.to_string())], activity_row)?;
        rows.map(|r| r?).collect::<Result<Vec<_>>>()
    }
}

type Row = std::result::Result<Activity, ClientError>;

fn activity_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let spec_id: String = r.get(0)?;
    let event: String = r.get(5)?;
    let parsed = (|| -> Result<Activity> {
        Ok(Activity {
            spec_id: spec_id.parse().map_err(|_| ClientError::Corrupt(format!("activity of spec {spec_id:?}")))?,
            seq: r.get::<_, i64>(1)? as u64,
            n: r.get(2)?,
            at: Timestamp::from_millis(r.get(3)?),
            actor: r.get(4)?,
            event: serde_json::from_str(&event).map_err(|e| ClientError::Corrupt(format!("activity event: {e}")))?,
        })
    })();
    Ok(parsed)
}

/// Writes a pulled activity into the visible table.
pub(crate) fn store_activity(tx: &Transaction<'_>, a: &Activity) -> Result<()> {
    let event = serde_json::to_string(&a.event).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO activity (spec_id, seq, n, at, actor, kind, event) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![a.spec_id.to_string(), a.seq as i64, a.n, a.at.as_millis(), a.actor, a.event.kind(), event])?;
    Ok(())
}

/// Moves `email`'s read mark on `spec_id` up to `seq` (never back).
pub(crate) fn raise_read_mark(tx: &Connection, spec_id: SpecId, email: &str, seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO read_marks (spec_id, email, seq) VALUES (?1, ?2, ?3)
         ON CONFLICT (spec_id, email) DO UPDATE SET seq = max(seq, excluded.seq)",
    )?
    .execute(params![spec_id.to_string(), email, seq as i64])?;
    Ok(())
}

fn read_mark(conn: &Connection, spec_id: SpecId, email: &str) -> Result<u64> {
    let seq: Option<i64> = conn
        .query_row("SELECT seq FROM read_marks WHERE spec_id = ?1 AND email = ?2", params![spec_id.to_string(), email], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(seq.map_or(0, |s| s as u64))
}

/// What a spec is to the viewer, for the inbox.
struct SpecFacts {
    title: String,
    status: SpecStatus,
    workspace: String,
    role: Role,
    assigned: bool,
    read_up_to: u64,
}

/// The FROM and WHERE of the reader's unread activity (`?1` is the reader's email): others'
/// doings above the reader's read mark, on specs stored here. One definition for the count,
/// the groups, mark-all and notices, so they cannot disagree; a macro so it can be `concat!`ed
/// into literal SQL for `prepare_cached`. Read per spec along `activity`'s primary key.
macro_rules! unread_activity {
    () => {
        "FROM specs s
         LEFT JOIN read_marks r ON r.spec_id = s.id AND r.email = ?1
         JOIN activity a ON a.spec_id = s.id AND a.seq > COALESCE(r.seq, 0)
         WHERE a.actor <> ?1"
    };
}
use unread_activity;

/// The unread activity since `?2` (ms) that can be a handoff to `?1` (an email) and was not
/// notified: the kinds [`activity::is_handoff_to`] can accept, and replies in one's own threads,
/// each found by its index (migration 0012) without reading the rows that cannot be one.
/// `is_handoff_to` still decides; this must only never leave out a row it would accept.
const NOTICE_CANDIDATES: &str = concat!(
    "SELECT a.spec_id, a.seq, a.n, a.at, a.actor, a.event ",
    unread_activity!(),
    " AND a.rowid IN (
        SELECT rowid FROM activity
         WHERE kind IN ('revision_delivered', 'question_asked', 'review_published', 'assigned', 'status_changed')
           AND at >= ?2
        UNION ALL
        SELECT rowid FROM activity
         WHERE kind = 'replied' AND json_extract(event, '$.thread_author') = ?1 AND at >= ?2)
      AND NOT EXISTS (SELECT 1 FROM notified x WHERE x.spec_id = a.spec_id AND x.seq = a.seq AND x.n = a.n)
     ORDER BY a.at, a.spec_id, a.seq, a.n"
);

/// A count from SQL as the u32 the inbox carries.
fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(if n < 0 { 0 } else { u32::MAX })
}

/// How many of `items` are unread.
fn listed_unread(items: &[InboxItem]) -> u32 {
    count(items.iter().filter(|i| i.unread).count() as i64)
}

/// A spec with unread items, and the totals over all of them.
struct UnreadSpec {
    spec_id: SpecId,
    unread: u32,
    /// Specs with unread items, in all.
    specs: u32,
    /// Unread items, in all.
    total: u32,
}

/// The specs with unread items, the one with the newest item first, at most `limit`, each
/// with its exact count and the totals over every spec (so what `limit` leaves out is
/// counted, not lost).
fn unread_specs(conn: &Connection, me: &str, limit: Option<usize>) -> Result<Vec<UnreadSpec>> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT a.spec_id, count(*), count(*) OVER (), sum(count(*)) OVER () ",
        unread_activity!(),
        " GROUP BY a.spec_id ORDER BY max(a.at) DESC, a.spec_id LIMIT ?2"
    ))?;
    let limit = limit.map_or(-1, |l| l as i64);
    let rows = stmt.query_map(params![me, limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
    })?;
    let mut specs = Vec::new();
    for row in rows {
        let (spec_id, unread, all_specs, total) = row?;
        specs.push(UnreadSpec {
            spec_id: spec_id.parse().map_err(|_| ClientError::Corrupt(format!("activity of spec {spec_id:?}")))?,
            unread: count(unread),
            specs: count(all_specs),
            total: count(total),
        });
    }
    Ok(specs)
}

/// Turns activity into inbox items for one reader, keeping what it looked up (a spec's
/// facts, a workspace's clocks) for the next item.
struct Items<'c> {
    conn: &'c Connection,
    me: String,
    facts: HashMap<SpecId, Option<SpecFacts>>,
    clocks: HashMap<String, SenderClocks>,
}

impl<'c> Items<'c> {
    fn new(conn: &'c Connection) -> Result<Self> {
        Ok(Items { conn, me: crate::Client::actor(conn)?.email, facts: HashMap::new(), clocks: HashMap::new() })
    }

    /// The spec's facts; `None` when it is not stored here.
    fn facts(&mut self, spec_id: SpecId) -> Result<Option<&SpecFacts>> {
        Self::facts_in(&mut self.facts, self.conn, spec_id, &self.me)
    }

    /// [`Items::facts`] borrowing only the cache, so the clocks can be borrowed beside it.
    fn facts_in<'m>(
        facts: &'m mut HashMap<SpecId, Option<SpecFacts>>,
        conn: &Connection,
        spec_id: SpecId,
        me: &str,
    ) -> Result<Option<&'m SpecFacts>> {
        let facts = match facts.entry(spec_id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(spec_facts(conn, spec_id, me)?),
        };
        Ok(facts.as_ref())
    }

    /// The spec's title, once its facts were looked up.
    fn title(&self, spec_id: SpecId) -> Option<String> {
        self.facts.get(&spec_id).and_then(Option::as_ref).map(|f| f.title.clone())
    }

    /// The reader's read mark on the spec (0 when none or the spec is not here).
    fn read_up_to(&mut self, spec_id: SpecId) -> Result<i64> {
        Ok(self.facts(spec_id)?.map_or(0, |f| f.read_up_to as i64))
    }

    /// An empty group for the spec; `None` when it is not stored here.
    fn group(&mut self, spec_id: SpecId) -> Result<Option<InboxGroup>> {
        Ok(self.facts(spec_id)?.map(|f| InboxGroup {
            spec_id,
            title: f.title.clone(),
            status: f.status,
            unread: 0,
            more: 0,
            items: Vec::new(),
        }))
    }

    /// Whether the activity hands work to the reader; `None` when its spec is not here.
    fn is_handoff(&mut self, a: &Activity) -> Result<Option<bool>> {
        let me = self.me.clone();
        Ok(self.facts(a.spec_id)?.map(|f| activity::is_handoff_to(a, Reader { email: &me, role: f.role, assigned: f.assigned })))
    }

    /// The item for the activity, described; `None` when its spec is not here.
    fn item(&mut self, a: Activity) -> Result<Option<InboxItem>> {
        let conn = self.conn;
        let Some(f) = Self::facts_in(&mut self.facts, conn, a.spec_id, &self.me)? else { return Ok(None) };
        let clock = match self.clocks.entry(f.workspace.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => v.insert(SenderClocks::of(conn, &f.workspace)?),
        };
        let me = self.me.as_str();
        let handoff = activity::is_handoff_to(&a, Reader { email: me, role: f.role, assigned: f.assigned });
        let unread = a.seq > f.read_up_to;
        let actor_name = name_of(conn, &f.workspace, &a.actor)?;
        let (text, quote) = describe(conn, &f.workspace, &a, &actor_name, me)?;
        let sender_time = clock.text(&a.actor, a.at);
        let local_time = clock.viewer_text(a.at);
        Ok(Some(InboxItem {
            spec_id: a.spec_id,
            seq: a.seq,
            n: a.n,
            at: a.at,
            actor: a.actor,
            actor_name,
            event: a.event,
            text,
            quote,
            local_time,
            sender_time,
            unread,
            handoff,
        }))
    }

    /// The spec's items by others above `after`, newest `limit` in the server's order.
    /// Read along the primary key, so a spec with 100,000 items costs `limit` rows.
    fn of_spec(&mut self, spec_id: SpecId, after: i64, limit: usize) -> Result<Vec<InboxItem>> {
        let conn = self.conn;
        let mut stmt = conn.prepare_cached(
            "SELECT spec_id, seq, n, at, actor, event FROM activity
             WHERE spec_id = ?1 AND actor <> ?2 AND seq > ?3 ORDER BY seq DESC, n DESC LIMIT ?4",
        )?;
        let rows = stmt
            .query_map(params![spec_id.to_string(), self.me, after, limit as i64], activity_row)?
            .map(|r| r?)
            .collect::<Result<Vec<_>>>()?;
        let mut items = Vec::with_capacity(rows.len());
        for a in rows {
            items.extend(self.item(a)?);
        }
        Ok(items)
    }
}

fn inbox_in(conn: &Connection, all: bool) -> Result<Inbox> {
    // One snapshot: the counts and the items agree even while a sync writes.
    let tx = conn.unchecked_transaction()?;
    let mut items = Items::new(&tx)?;
    let me = items.me.clone();
    let mut groups: Vec<InboxGroup> = Vec::new();
    if !all {
        // The groups and their exact counts in one GROUP BY; then each group's newest items
        // by the primary key (a window numbering every unread row of 50 specs would read
        // all of them to keep a few of each).
        let specs = unread_specs(&tx, &me, Some(INBOX_GROUPS))?;
        let (total_specs, total) = specs.first().map_or((0, 0), |s| (s.specs, s.total));
        for s in &specs {
            let Some(mut group) = items.group(s.spec_id)? else { continue };
            let read_up_to = items.read_up_to(s.spec_id)?;
            group.items = items.of_spec(s.spec_id, read_up_to, INBOX_GROUP_ITEMS)?;
            group.unread = s.unread;
            group.more = s.unread.saturating_sub(listed_unread(&group.items));
            groups.push(group);
        }
        let more_specs = total_specs.saturating_sub(count(groups.len() as i64));
        return Ok(Inbox { unread: total, groups, more_specs });
    }
    let mut stmt = tx.prepare_cached(
        "SELECT a.spec_id, a.seq, a.n, a.at, a.actor, a.event FROM activity a
         WHERE a.actor <> ?1
         ORDER BY a.at DESC, a.spec_id, a.seq DESC, a.n DESC LIMIT ?2",
    )?;
    let activities =
        stmt.query_map(params![me, INBOX_ALL_LIMIT as i64], activity_row)?.map(|r| r?).collect::<Result<Vec<_>>>()?;
    let mut index: HashMap<SpecId, usize> = HashMap::new();
    for a in activities {
        let at = match index.entry(a.spec_id) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(v) => match items.group(a.spec_id)? {
                Some(g) => {
                    groups.push(g);
                    *v.insert(groups.len() - 1)
                }
                None => continue,
            },
        };
        if let Some(item) = items.item(a)? {
            groups[at].items.push(item);
        }
    }
    // Counts are exact whatever the newest 300 held: one row per spec with unread items.
    let specs = unread_specs(&tx, &me, None)?;
    let unread: HashMap<SpecId, u32> = specs.iter().map(|s| (s.spec_id, s.unread)).collect();
    for g in &mut groups {
        // Within a spec the server's order decides, whatever the clocks said.
        g.items.sort_by_key(|i| std::cmp::Reverse((i.seq, i.n)));
        g.unread = unread.get(&g.spec_id).copied().unwrap_or(0);
        g.more = g.unread.saturating_sub(listed_unread(&g.items));
    }
    let listed = groups.iter().filter(|g| g.unread > 0).count();
    let (total_specs, total) = specs.first().map_or((0, 0), |s| (s.specs, s.total));
    Ok(Inbox { unread: total, groups, more_specs: total_specs.saturating_sub(count(listed as i64)) })
}

fn spec_facts(conn: &Connection, spec_id: SpecId, me: &str) -> Result<Option<SpecFacts>> {
    let row = conn
        .query_row(
            "SELECT s.title, s.status, s.workspace_id,
                    (SELECT m.role FROM members m WHERE m.workspace_id = s.workspace_id AND m.email = ?2),
                    EXISTS (SELECT 1 FROM spec_assignees a WHERE a.spec_id = s.id AND a.email = ?2),
                    COALESCE((SELECT r.seq FROM read_marks r WHERE r.spec_id = s.id AND r.email = ?2), 0)
             FROM specs s WHERE s.id = ?1",
            params![spec_id.to_string(), me],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, bool>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((title, status, workspace, role, assigned, read_up_to)) = row else { return Ok(None) };
    Ok(Some(SpecFacts {
        title,
        status: status.parse().map_err(|_| ClientError::Corrupt(format!("spec status {status:?}")))?,
        workspace,
        role: role.and_then(|r| r.parse().ok()).unwrap_or(Role::Owner),
        assigned,
        read_up_to: read_up_to as u64,
    }))
}

fn name_of(conn: &Connection, workspace: &str, email: &str) -> Result<String> {
    let name: Option<String> = conn
        .query_row("SELECT display_name FROM members WHERE workspace_id = ?1 AND email = ?2", params![workspace, email], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.to_owned()))
}

fn comment_body(conn: &Connection, comment_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT body, redacted FROM comments WHERE id = ?1", [comment_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })
        .optional()?
        .map(|(body, redacted)| if redacted { "(deleted)".to_owned() } else { excerpt(&body) }))
}

fn first_comment(conn: &Connection, thread_id: &str) -> Result<Option<String>> {
    let id: Option<String> = conn
        .query_row("SELECT id FROM comments WHERE thread_id = ?1 ORDER BY created_at, id LIMIT 1", [thread_id], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => comment_body(conn, &id),
        None => Ok(None),
    }
}

/// The item's sentence and what it quotes.
fn describe(conn: &Connection, workspace: &str, a: &Activity, who: &str, me: &str) -> Result<(String, Option<String>)> {
    use ActivityEvent::*;
    Ok(match &a.event {
        RevisionDelivered { number, .. } => (format!("{who} delivered r{number}"), None),
        ReviewPublished { number, verdict, .. } => {
            let did = match verdict {
                Verdict::Approve => "approved",
                Verdict::RequestChanges => "requested changes on",
                Verdict::Comment => "commented on",
            };
            (format!("{who} {did} r{number}"), None)
        }
        ThreadOpened { thread_id, question } => {
            let did = if *question { "asked a question" } else { "opened a thread" };
            (format!("{who} {did}"), first_comment(conn, &thread_id.to_string())?)
        }
        Replied { comment_id, thread_author, .. } => {
            let whose = if thread_author == me { "your question".to_owned() } else { "the question".to_owned() };
            let did = if a.event.is_answer(&a.actor) { format!("answered {whose}") } else { "replied".to_owned() };
            (format!("{who} {did}"), comment_body(conn, &comment_id.to_string())?)
        }
        CriteriaChanged { criterion_id, change } => {
            let did = match change {
                CriterionChange::Added => "added an acceptance criterion",
                CriterionChange::Edited => "changed an acceptance criterion",
                CriterionChange::Moved => "reordered the acceptance criteria",
                CriterionChange::Removed => "removed an acceptance criterion",
            };
            let text: Option<String> =
                conn.query_row("SELECT text FROM criteria WHERE id = ?1", [criterion_id.to_string()], |r| r.get(0)).optional()?;
            (format!("{who} {did}"), text.map(|t| excerpt(&t)))
        }
        StatusChanged { from, to, by_override } => {
            let how = if *by_override { " by an owner's override" } else { "" };
            let (from, to) = (describe::status_words(*from), describe::status_words(*to));
            (format!("{who} moved the spec from {from} to {to}{how}"), None)
        }
        Assigned { email } if email == me => (format!("{who} assigned you"), None),
        Assigned { email } => (format!("{who} assigned {}", name_of(conn, workspace, email)?), None),
        Unassigned { email } if email == me => (format!("{who} unassigned you"), None),
        Unassigned { email } => (format!("{who} unassigned {}", name_of(conn, workspace, email)?), None),
    })
}

#[cfg(test)]
mod tests;
