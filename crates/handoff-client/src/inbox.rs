//! The inbox (issue #14): what others did on the specs one can see since one last looked,
//! grouped by spec, in the server's order; read marks that follow one across devices; and
//! the desktop notices for handoffs to oneself, held outside one's working hours.

use std::collections::HashMap;

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

/// One spec's items, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxGroup {
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: SpecStatus,
    /// How many of its items are unread.
    pub unread: u32,
    /// The items, newest first.
    pub items: Vec<InboxItem>,
}

/// The inbox: groups by spec, the spec with the newest item first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Inbox {
    /// Unread items in all.
    pub unread: u32,
    /// The groups.
    pub groups: Vec<InboxGroup>,
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

/// How far before the first look a handoff may have been recorded and still be notified:
/// the server's clock and this machine's may differ by this much.
const NOTICE_SLACK_MS: i64 = 10 * 60_000;

const HOLD_KEY: &str = "notify_hold_outside_hours";
const SINCE_KEY: &str = "notify_since";

impl Client {
    /// What others did on the specs here: unread only, or with `all` the newest
    /// [`INBOX_ALL_LIMIT`] read and unread.
    pub fn inbox(&self, all: bool) -> Result<Inbox> {
        let conn = self.conn();
        inbox_in(&conn, all)
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

    /// Marks everything read; returns how many specs it marked.
    pub fn mark_all_read(&self) -> Result<u32> {
        let specs: Vec<SpecId> = self.inbox(false)?.groups.into_iter().map(|g| g.spec_id).collect();
        let mut marked = 0;
        for spec_id in specs {
            if self.mark_read(spec_id, None)? {
                marked += 1;
            }
        }
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
        let inbox = inbox_in(&conn, false)?;
        let mut shown =
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM notified WHERE spec_id = ?1 AND seq = ?2 AND n = ?3)")?;
        let mut due = Vec::new();
        for g in &inbox.groups {
            for item in g.items.iter().rev().filter(|i| i.handoff && i.at.as_millis() >= since) {
                if !shown.query_row(params![item.spec_id.to_string(), item.seq as i64, item.n], |r| r.get::<_, bool>(0))? {
                    due.push(Notice { title: g.title.clone(), body: item.text.clone(), item: item.clone() });
                }
            }
        }
        due.sort_by_key(|n| n.item.at);
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

fn inbox_in(conn: &Connection, all: bool) -> Result<Inbox> {
    let me = crate::Client::actor(conn)?.email;
    let mut stmt = conn.prepare_cached(
        "SELECT a.spec_id, a.seq, a.n, a.at, a.actor, a.event FROM activity a
         WHERE a.actor <> ?1
           AND (?2 OR a.seq > COALESCE((SELECT r.seq FROM read_marks r WHERE r.spec_id = a.spec_id AND r.email = ?1), 0))
         ORDER BY a.at DESC, a.spec_id, a.seq DESC, a.n DESC LIMIT ?3",
    )?;
    let limit = if all { INBOX_ALL_LIMIT as i64 } else { -1 };
    let activities = stmt.query_map(params![me, all, limit], activity_row)?.map(|r| r?).collect::<Result<Vec<_>>>()?;
    let mut facts: HashMap<SpecId, SpecFacts> = HashMap::new();
    let mut clocks: HashMap<String, SenderClocks> = HashMap::new();
    let mut groups: Vec<InboxGroup> = Vec::new();
    for a in activities {
        let f = match facts.entry(a.spec_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => match spec_facts(conn, a.spec_id, &me)? {
                Some(f) => v.insert(f),
                None => continue,
            },
        };
        if !clocks.contains_key(&f.workspace) {
            clocks.insert(f.workspace.clone(), SenderClocks::of(conn, &f.workspace)?);
        }
        let reader = Reader { email: &me, role: f.role, assigned: f.assigned };
        let handoff = activity::is_handoff_to(&a, reader);
        let unread = a.seq > f.read_up_to;
        let actor_name = name_of(conn, &f.workspace, &a.actor)?;
        let (text, quote) = describe(conn, &f.workspace, &a, &actor_name, &me)?;
        let clock = clocks.get(&f.workspace);
        let sender_time = clock.and_then(|c| c.text(&a.actor, a.at));
        let local_time = clock.map(|c| c.viewer_text(a.at)).unwrap_or_default();
        let item = InboxItem {
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
        };
        match groups.iter_mut().find(|g| g.spec_id == item.spec_id) {
            Some(g) => {
                g.unread += u32::from(unread);
                g.items.push(item);
            }
            None => groups.push(InboxGroup {
                spec_id: item.spec_id,
                title: f.title.clone(),
                status: f.status,
                unread: u32::from(unread),
                items: vec![item],
            }),
        }
    }
    // Within a spec the server's order decides, whatever the clocks said.
    for g in &mut groups {
        g.items.sort_by_key(|i| std::cmp::Reverse((i.seq, i.n)));
    }
    let unread = groups.iter().map(|g| g.unread).sum();
    Ok(Inbox { unread, groups })
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
