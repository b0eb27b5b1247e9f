//! This person's time zone and working hours. Set here at any time, offline too: the local
//! member rows change at once and the profile waits in `meta.pending_profile` until the next
//! sync round sends it (`SyncEngine::send_profile`), before anything is pulled.
//!
//! Why not an outbox mutation: every mutation is scoped to one spec (its outbox row, rebase
//! and the server's push are built on that), while a profile belongs to the person in each
//! workspace; it is one small last-writer-wins value, so resending it until the server has
//! it needs no ids or ordering.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use handoff_core::hours::{self, LocalTime, Zone};
use handoff_core::protocol::SetProfileRequest;
use handoff_core::{Timestamp, WorkingHours};

use crate::Client;
use crate::error::{ClientError, Result};
use crate::outbox::{meta_get, meta_set};

/// One's own time zone and working hours, as this machine has them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MyProfile {
    /// IANA time zone name.
    pub timezone: String,
    /// When one works, in that zone.
    pub working_hours: WorkingHours,
    /// `09:00-17:30 mon-fri`.
    pub hours_text: String,
    /// Set here and not yet sent to the server.
    pub unsent: bool,
    /// The clock there now.
    pub local_now: LocalTime,
    /// Whether now is inside the working hours.
    pub working_now: bool,
}

const PENDING: &str = "pending_profile";

/// A change to one's profile as a person types it (`Europe/Lisbon`, `09:00-17:30`,
/// `mon-fri`); a part left out stays as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfileChange<'a> {
    /// IANA time zone name.
    pub timezone: Option<&'a str>,
    /// Working hours, `HH:MM-HH:MM`.
    pub hours: Option<&'a str>,
    /// Working days, `mon-fri`, `sun-thu`, `mon,wed,fri`.
    pub days: Option<&'a str>,
}

impl Client {
    /// One's own profile: the unsent one set here, else the synced one of the current
    /// workspace, else UTC, 09:00–17:00, Monday to Friday.
    pub fn my_profile(&self) -> Result<MyProfile> {
        // Read before taking the connection: the store's mutex is not reentrant.
        let ws = self.current_workspace().ok().map(|w| w.to_string());
        let conn = self.conn();
        let (set, unsent) = match pending_profile(&conn)? {
            Some(p) => (p, true),
            None => (synced_profile(&conn, ws.as_deref())?, false),
        };
        Ok(describe(&set, self.clock.now(), unsent))
    }

    /// Applies `change` to one's profile as it is now, read by handoff-core's rules, then
    /// [`Client::set_my_profile`].
    pub fn change_my_profile(&self, change: ProfileChange<'_>) -> Result<MyProfile> {
        let now = self.my_profile()?;
        let mut wh = now.working_hours;
        if let Some(h) = change.hours {
            (wh.start_minute, wh.end_minute) = hours::parse_hours(h)?;
        }
        if let Some(d) = change.days {
            wh.days = hours::parse_days(d)?;
        }
        self.set_my_profile(change.timezone.unwrap_or(&now.timezone), wh)
    }

    /// Sets one's own time zone and working hours: checked here by the rules the server
    /// applies (an unknown zone, hours that end before they start and an empty week are
    /// refused, nothing written), shown at once, and sent at the next sync.
    pub fn set_my_profile(&self, timezone: &str, working_hours: WorkingHours) -> Result<MyProfile> {
        let zone = Zone::named(timezone)?;
        let working_hours = working_hours.validated()?;
        let set = SetProfileRequest { timezone: zone.name().to_owned(), working_hours };
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let json = serde_json::to_string(&set).map_err(|e| ClientError::Corrupt(format!("profile: {e}")))?;
        meta_set(&tx, PENDING, &json)?;
        let hours_json = serde_json::to_string(&set.working_hours).map_err(|e| ClientError::Corrupt(format!("profile: {e}")))?;
        if let Some(me) = meta_get(&tx, "identity")? {
            tx.execute(
                "UPDATE members SET timezone = ?1, working_hours = ?2 WHERE email = ?3",
                params![set.timezone, hours_json, me],
            )?;
        }
        crate::store::commit(tx)?;
        Ok(describe(&set, self.clock.now(), true))
    }
}

/// The profile as last synced: the current workspace's member row first, else any.
fn synced_profile(conn: &rusqlite::Connection, ws: Option<&str>) -> Result<SetProfileRequest> {
    let Some(me) = meta_get(conn, "identity")? else { return Ok(default_profile()) };
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT timezone, working_hours FROM members WHERE email = ?1 ORDER BY workspace_id = ?2 DESC LIMIT 1",
            params![me, ws],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((timezone, hours)) => SetProfileRequest {
            timezone,
            working_hours: serde_json::from_str(&hours).map_err(|e| ClientError::Corrupt(format!("working hours: {e}")))?,
        },
        None => default_profile(),
    })
}

fn default_profile() -> SetProfileRequest {
    SetProfileRequest { timezone: "UTC".into(), working_hours: WorkingHours::default() }
}

/// `09:00-17:30 mon-fri`.
pub fn hours_text(h: &WorkingHours) -> String {
    format!("{} {}", hours::hours_text(h), hours::days_text(h.days))
}

fn describe(p: &SetProfileRequest, now: Timestamp, unsent: bool) -> MyProfile {
    let zone = Zone::named(&p.timezone).unwrap_or_else(|_| Zone::utc());
    MyProfile {
        timezone: p.timezone.clone(),
        working_hours: p.working_hours,
        hours_text: hours_text(&p.working_hours),
        unsent,
        local_now: zone.local(now),
        working_now: zone.is_working(&p.working_hours, now),
    }
}

/// The profile set here and not yet sent.
pub(crate) fn pending_profile(conn: &rusqlite::Connection) -> Result<Option<SetProfileRequest>> {
    meta_get(conn, PENDING)?
        .map(|json| serde_json::from_str(&json).map_err(|e| ClientError::Corrupt(format!("pending profile: {e}"))))
        .transpose()
}

/// How the time of a handoff reads in its sender's zone, for the person looking here.
pub(crate) struct SenderClocks {
    viewer: Zone,
    senders: std::collections::HashMap<String, Zone>,
}

impl SenderClocks {
    /// The zones of `workspace`'s members, and the viewer's own (the profile set here, else
    /// their member row, else UTC).
    pub(crate) fn of(conn: &rusqlite::Connection, workspace: &str) -> Result<SenderClocks> {
        let mut stmt = conn.prepare_cached("SELECT email, timezone FROM members WHERE workspace_id = ?1")?;
        let rows = stmt.query_map([workspace], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut senders = std::collections::HashMap::new();
        for row in rows {
            let (email, zone) = row?;
            if let Ok(zone) = Zone::named(&zone) {
                senders.insert(email, zone);
            }
        }
        let viewer = match pending_profile(conn)? {
            Some(p) => Zone::named(&p.timezone).ok(),
            None => meta_get(conn, "identity")?.and_then(|me| senders.get(&me).cloned()),
        };
        Ok(SenderClocks { viewer: viewer.unwrap_or_else(Zone::utc), senders })
    }

    /// `Sat 05:05`: when `at` was on the viewer's clock.
    pub(crate) fn viewer_text(&self, at: Timestamp) -> String {
        self.viewer.local(at).day_and_clock()
    }

    /// `18:05 Lisbon time · Sat 05:05 for you`, or none when the sender's zone is unknown or
    /// reads the same as the viewer's.
    pub(crate) fn text(&self, sender: &str, at: Timestamp) -> Option<String> {
        let zone = self.senders.get(sender)?;
        (zone.local(at) != self.viewer.local(at)).then(|| hours::handoff_time_text(at, zone, &self.viewer))
    }
}

/// `(workspace, user id)` of each server workspace the signed-in person is a member of.
pub(crate) fn my_memberships(conn: &rusqlite::Connection) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT m.workspace_id, m.user_id FROM members m JOIN workspaces w ON w.id = m.workspace_id
         WHERE w.is_local = 0 AND m.email = (SELECT value FROM meta WHERE key = 'identity')",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Forgets the pending profile if it is still `sent` (one set since waits for the next round).
pub(crate) fn sent_profile(conn: &rusqlite::Connection, sent: &SetProfileRequest) -> Result<()> {
    if pending_profile(conn)?.as_ref() == Some(sent) {
        conn.execute("DELETE FROM meta WHERE key = ?1", [PENDING])?;
    }
    Ok(())
}
