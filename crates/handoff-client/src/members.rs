//! The members of a workspace as last synced, readable offline. An owner's changes to them
//! are made by the server (`sync/members.rs`).

use handoff_core::hours::Zone;
use handoff_core::{Role, WorkingHours, WorkspaceId};
use rusqlite::params;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::outbox::meta_get;
use crate::store::read::parse;
use crate::views::{MemberView, MembersView};

impl Client {
    /// The members of `workspace` (the current one when `None`) as last synced, by name.
    pub fn members(&self, workspace: Option<WorkspaceId>) -> Result<MembersView> {
        let ws = match workspace {
            Some(ws) => ws,
            None => self.current_workspace()?,
        };
        let conn = self.conn();
        let me = meta_get(&conn, "identity")?;
        let mut stmt = conn.prepare_cached(
            "SELECT user_id, email, display_name, role, timezone, working_hours FROM members WHERE workspace_id = ?1
             ORDER BY lower(display_name), email",
        )?;
        let rows = stmt.query_map(params![ws.to_string()], |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                (r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?),
            ))
        })?;
        let now = self.clock.now();
        let members = rows
            .map(|row| {
                let ((user_id, email, display_name), (role, timezone, hours)) = row?;
                let working_hours: WorkingHours =
                    serde_json::from_str(&hours).map_err(|e| ClientError::Corrupt(format!("working hours of {email}: {e}")))?;
                // A zone this build does not know (a newer server's database) reads as UTC.
                let zone = Zone::named(&timezone).unwrap_or_else(|_| Zone::utc());
                Ok(MemberView {
                    user_id: parse("user id", &user_id)?,
                    is_me: me.as_deref() == Some(email.as_str()),
                    role: parse_role(&role)?,
                    email,
                    display_name,
                    hours_text: crate::profile::hours_text(&working_hours),
                    local_now: zone.local(now),
                    working_now: zone.is_working(&working_hours, now),
                    working_hours,
                    timezone,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let can_manage =
            members.iter().any(|m| m.is_me && handoff_core::lifecycle::may(m.role, handoff_core::Action::ManageMembers, false));
        Ok(MembersView { workspace_id: ws, members, can_manage })
    }
}

fn parse_role(text: &str) -> Result<Role> {
    text.parse().map_err(|_| ClientError::Corrupt(format!("unknown role {text:?} in the members table")))
}
