//! Ending an engagement: the spec is closed and its contractors lose access to it, in one
//! local action (queued like any other). Removing a contractor from the whole workspace is a
//! separate, confirmed step that the server makes ([`crate::SyncEngine::remove_member`]).

use handoff_core::{Mutation, Role, SpecId, SpecStatus};
use rusqlite::{Connection, params};

use crate::error::{ClientError, Result};
use crate::views::{EndingContractor, EngagementEnd};
use crate::{Client, spec_in};

impl Client {
    /// Who ending the engagement on `spec_id` would affect, for the confirmation.
    pub fn engagement_end(&self, spec_id: SpecId) -> Result<EngagementEnd> {
        plan(&self.conn(), spec_id)
    }

    /// Ends the engagement on `spec_id`: unassigns its contractors, then closes it (a closed
    /// spec is read-only, so the order matters), as one action. Returns whom it affected.
    pub fn end_engagement(&self, spec_id: SpecId) -> Result<EngagementEnd> {
        let mut ended = None;
        self.write_deciding(|tx| {
            let plan = plan(tx, spec_id)?;
            let spec = spec_in(tx, spec_id)?;
            if spec.status == SpecStatus::Closed {
                return Err(ClientError::Rule(handoff_core::CoreError::InvalidTransition {
                    from: SpecStatus::Closed,
                    to: SpecStatus::Closed,
                }));
            }
            let mut mutations: Vec<Mutation> =
                plan.contractors.iter().map(|c| Mutation::Unassign { spec_id, email: c.email.clone() }).collect();
            mutations.push(Mutation::SetStatus { spec_id, from: spec.status, to: SpecStatus::Closed });
            ended = Some(plan);
            Ok(mutations)
        })?;
        ended.ok_or_else(|| ClientError::Corrupt("the engagement's end was written without its plan".into()))
    }
}

/// The spec's contractors (assignees whose role in its workspace is contractor), each with how
/// many other open specs of the workspace they are still assigned to.
fn plan(conn: &Connection, spec_id: SpecId) -> Result<EngagementEnd> {
    let spec = spec_in(conn, spec_id)?;
    let mut stmt = conn.prepare_cached(
        "SELECT a.email, m.display_name,
                (SELECT COUNT(*) FROM spec_assignees o JOIN specs s ON s.id = o.spec_id
                 WHERE o.email = a.email AND s.workspace_id = ?2 AND s.id <> ?1 AND s.status <> 'closed')
         FROM spec_assignees a JOIN members m ON m.workspace_id = ?2 AND m.email = a.email
         WHERE a.spec_id = ?1 AND m.role = ?3 ORDER BY a.email",
    )?;
    let rows = stmt.query_map(params![spec_id.to_string(), spec.workspace_id.to_string(), Role::Contractor.as_str()], |r| {
        Ok(EndingContractor { email: r.get(0)?, display_name: r.get(1)?, other_open_specs: r.get(2)? })
    })?;
    Ok(EngagementEnd { spec_id, title: spec.title, contractors: rows.collect::<rusqlite::Result<_>>()? })
}
