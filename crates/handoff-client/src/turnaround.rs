//! Turnaround (issue #14): how long each handoff waited for its answer, counted in the
//! receiver's working hours (question → answer, delivery → review, review → next revision),
//! per spec and for a whole workspace. Computed from the activity the server recorded, so
//! every member's device gets the same figures.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use handoff_core::activity::{self, ReceiverHours, TurnKind, TurnStats};
use handoff_core::hours::Zone;
use handoff_core::*;

use crate::Client;
use crate::error::Result;

/// One handoff and how long its answer took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TurnView {
    /// Which handoff.
    pub kind: TurnKind,
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub spec_title: String,
    /// When the handoff was recorded.
    pub from: Timestamp,
    /// When the answer was recorded.
    pub to: Timestamp,
    /// Email of who answered.
    pub receiver: String,
    /// Their name.
    pub receiver_name: String,
    /// How long, in the receiver's working hours (wall-clock time when they set none).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub working_ms: i64,
    /// `3 h 20 min`.
    pub text: String,
    /// Whether the receiver has working hours set (else the wall clock counted).
    pub in_working_hours: bool,
}

/// One kind's figures, with words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TurnSummary {
    /// The figures.
    pub stats: TurnStats,
    /// `Question → answer`.
    pub title: String,
    /// The median in words.
    pub median_text: String,
    /// The slowest in words.
    pub max_text: String,
}

/// Turnaround of one spec or a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Turnaround {
    /// Per kind that has turns.
    pub summary: Vec<TurnSummary>,
    /// Every turn, oldest first.
    pub turns: Vec<TurnView>,
}

impl TurnView {
    /// `Delivery → review`.
    pub fn kind_title(&self) -> &'static str {
        self.kind.title()
    }
}

impl Client {
    /// Turnaround of `spec_id`, or of every spec of the current workspace.
    pub fn turnaround(&self, spec_id: Option<SpecId>) -> Result<Turnaround> {
        let workspace = match spec_id {
            Some(_) => None,
            None => Some(self.current_workspace()?),
        };
        let conn = self.conn();
        turnaround_in(&conn, spec_id, workspace)
    }
}

fn turnaround_in(conn: &Connection, spec_id: Option<SpecId>, workspace: Option<WorkspaceId>) -> Result<Turnaround> {
    let mut activities = Client::activities(conn, spec_id)?;
    let mut specs: HashMap<SpecId, (String, String)> = HashMap::new();
    let mut stmt = conn.prepare_cached("SELECT title, workspace_id FROM specs WHERE id = ?1")?;
    for a in &activities {
        if !specs.contains_key(&a.spec_id)
            && let Some(row) =
                stmt.query_row([a.spec_id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).optional()?
        {
            specs.insert(a.spec_id, row);
        }
    }
    activities.retain(|a| specs.get(&a.spec_id).is_some_and(|(_, ws)| workspace.is_none_or(|w| w.to_string() == *ws)));
    let mut by_spec: HashMap<SpecId, Vec<activity::Activity>> = HashMap::new();
    for a in activities {
        by_spec.entry(a.spec_id).or_default().push(a);
    }
    let mut turns = Vec::new();
    let mut hours_of: HashMap<(String, String), (ReceiverHours, String)> = HashMap::new();
    for (spec, acts) in by_spec {
        let Some((title, ws)) = specs.get(&spec) else { continue };
        for t in activity::turns(&acts) {
            let key = (ws.clone(), t.receiver.clone());
            if !hours_of.contains_key(&key) {
                hours_of.insert(key.clone(), receiver(conn, ws, &t.receiver)?);
            }
            let Some((hours, name)) = hours_of.get(&key) else { continue };
            let working_ms = activity::working_ms(&t, hours);
            turns.push(TurnView {
                kind: t.kind,
                spec_id: spec,
                spec_title: title.clone(),
                from: t.from,
                to: t.to,
                receiver: t.receiver.clone(),
                receiver_name: name.clone(),
                working_ms,
                text: activity::duration_text(working_ms),
                in_working_hours: hours.hours.is_some(),
            });
        }
    }
    turns.sort_by_key(|t| (t.from, t.to));
    let measured: Vec<(TurnKind, i64)> = turns.iter().map(|t| (t.kind, t.working_ms)).collect();
    let summary = activity::stats(&measured)
        .into_iter()
        .map(|stats| TurnSummary {
            title: stats.kind.title().to_owned(),
            median_text: activity::duration_text(stats.median_ms),
            max_text: activity::duration_text(stats.max_ms),
            stats,
        })
        .collect();
    Ok(Turnaround { summary, turns })
}

/// The receiver's zone and hours in `workspace`, and their name; a member who left counts
/// on the wall clock in UTC.
fn receiver(conn: &Connection, workspace: &str, email: &str) -> Result<(ReceiverHours, String)> {
    let row: Option<(String, String, String)> = conn
        .query_row(
            "SELECT timezone, working_hours, display_name FROM members WHERE workspace_id = ?1 AND email = ?2",
            params![workspace, email],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    Ok(match row {
        Some((zone, hours, name)) => {
            let zone = Zone::named(&zone).unwrap_or_else(|_| Zone::utc());
            let hours: Option<WorkingHours> = serde_json::from_str(&hours).ok();
            let name = if name.trim().is_empty() { email.to_owned() } else { name };
            (ReceiverHours { zone, hours }, name)
        }
        None => (ReceiverHours { zone: Zone::utc(), hours: None }, email.to_owned()),
    })
}
