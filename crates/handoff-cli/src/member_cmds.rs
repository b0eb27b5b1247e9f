//! `handoff members`, `handoff invite` and `handoff member role|remove`: the workspace's
//! people. The list is the local copy (offline too); changes go to the server at once.

use std::sync::Arc;

use anyhow::Result;
use clap::Subcommand;
use handoff_client::Client;
use handoff_core::{Role, SpecId};

use crate::output::Printer;
use crate::sync_cmds::{engine, runtime};

/// Change or remove a member (owners only; needs the server).
#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// Give a member another role (owner, reviewer or contractor).
    Role {
        /// The member's email.
        email: String,
        /// The new role.
        role: Role,
    },
    /// Remove a member from the workspace: their devices lose it at their next sync.
    Remove {
        /// The member's email.
        email: String,
    },
}

/// `handoff invite EMAIL --role ROLE`: prints the one-time code to hand over.
pub fn invite(client: &Arc<Client>, out: &Printer, email: &str, role: Role) -> Result<()> {
    let engine = engine(client)?;
    let invite = runtime()?.block_on(engine.invite(email, role))?;
    out.invite(&invite)
}

/// `handoff member role|remove`, then a sync so this device's list shows the change.
pub fn member(client: &Arc<Client>, out: &Printer, cmd: MemberCommand) -> Result<()> {
    let engine = engine(client)?;
    let rt = runtime()?;
    let done = match &cmd {
        MemberCommand::Role { email, role } => {
            let m = rt.block_on(engine.set_member_role(email, *role))?;
            format!("{} is now {}", m.email, m.role)
        }
        MemberCommand::Remove { email } => {
            rt.block_on(engine.remove_member(email))?;
            format!("removed {email}")
        }
    };
    // The change is made; a failed sync only delays this device's copy of the list.
    if let Err(e) = rt.block_on(engine.sync_once()) {
        eprintln!("handoff: the member list here updates at the next sync ({e})");
    }
    crate::sync_cmds::clear_progress();
    out.done(&done)
}

/// `handoff me [--timezone ZONE] [--hours 09:00-17:30] [--days mon-fri]`: shows one's own
/// profile, or changes what is given (the rest stays) and syncs so the team sees it.
pub fn me(
    client: &Arc<Client>,
    out: &Printer,
    timezone: Option<String>,
    hours: Option<String>,
    days: Option<String>,
) -> Result<()> {
    if timezone.is_none() && hours.is_none() && days.is_none() {
        return out.profile(&client.my_profile()?);
    }
    let change = handoff_client::ProfileChange { timezone: timezone.as_deref(), hours: hours.as_deref(), days: days.as_deref() };
    let mut profile = client.change_my_profile(change)?;
    // Signed in: send it now, so the team's lists show it; offline it waits for the next sync.
    if client.status()?.server.is_some() {
        let engine = engine(client)?;
        match runtime()?.block_on(engine.sync_once()) {
            Ok(_) => profile = client.my_profile()?,
            Err(e) => eprintln!("handoff: saved here; it goes to the server with the next sync ({e})"),
        }
        crate::sync_cmds::clear_progress();
    }
    out.profile(&profile)
}

/// `handoff members`: the current workspace's members as last synced.
pub fn members(client: &Client, out: &Printer) -> Result<()> {
    out.members(&client.members(None)?.members)
}

/// `handoff spec end SPEC [--remove-from-workspace]`: the local action first (kept and queued
/// whatever the network does), then a sync, then the removals the server must make.
pub fn end_engagement(client: &Arc<Client>, out: &Printer, spec: SpecId, remove: bool) -> Result<()> {
    let ended = client.end_engagement(spec)?;
    let mut lines = vec![format!("closed '{}'", ended.title)];
    lines.extend(ended.contractors.iter().map(|c| format!("unassigned {}", c.email)));
    if client.server_url()?.is_some() {
        let engine = engine(client)?;
        let rt = runtime()?;
        if let Err(e) = rt.block_on(engine.sync_once()) {
            lines.push(format!("not sent yet ({e}); it goes with the next sync"));
        }
        crate::sync_cmds::clear_progress();
        if remove {
            for c in &ended.contractors {
                if c.other_open_specs > 0 {
                    lines.push(format!(
                        "kept {} in the workspace: {} other open spec(s) are assigned to them",
                        c.email, c.other_open_specs
                    ));
                    continue;
                }
                rt.block_on(engine.remove_member(&c.email)).map_err(|e| {
                    anyhow::anyhow!(
                        "{}; the engagement has ended, but {} is still a member: run `handoff member remove {}` when the server answers",
                        e,
                        c.email,
                        c.email
                    )
                })?;
                lines.push(format!("removed {} from the workspace", c.email));
            }
        }
    } else if remove {
        anyhow::bail!("the engagement has ended here, but removing members needs a server: join one first");
    }
    out.engagement_ended(&ended, &lines.join("\n"))
}
