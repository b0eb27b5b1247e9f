//! An owner's changes to the members of a workspace: invites, roles, removal. Only the server
//! can make them, so they need a connection and are not queued in the outbox (a queued invite
//! would hand out no code); each device learns the result from its next pull.

use handoff_core::protocol::{Invite, InviteRequest, SetRoleRequest};
use handoff_core::{Member, Role, WorkspaceId};

use super::{Method, SyncEngine, SyncResult, json_body};
use crate::error::ClientError;

impl SyncEngine {
    /// Invites `email` to the current workspace with `role` (owners only). The answer holds
    /// the one-time code; the server keeps only its hash, so it cannot be shown again.
    pub async fn invite(&self, email: &str, role: Role) -> SyncResult<Invite> {
        let ws = self.client().current_workspace()?;
        let token = self.token()?;
        let req = InviteRequest { email: email.trim().to_owned(), role };
        self.call(Method::Post, &format!("/v1/workspaces/{ws}/invites"), Some(&token), json_body(&req)?).await
    }

    /// Changes the role of the member with `email` in the current workspace (owners only).
    pub async fn set_member_role(&self, email: &str, role: Role) -> SyncResult<Member> {
        let (ws, member) = self.member_on_server(email).await?;
        let token = self.token()?;
        let path = format!("/v1/workspaces/{ws}/members/{}/role", member.user_id);
        self.call(Method::Put, &path, Some(&token), json_body(&SetRoleRequest { role })?).await
    }

    /// Removes the member with `email` from the current workspace (owners only). Their devices
    /// drop the workspace at their next sync.
    pub async fn remove_member(&self, email: &str) -> SyncResult<()> {
        let (ws, member) = self.member_on_server(email).await?;
        let token = self.token()?;
        let path = format!("/v1/workspaces/{ws}/members/{}", member.user_id);
        self.call::<()>(Method::Delete, &path, Some(&token), Vec::new()).await
    }

    /// Sends the profile set on this machine (`Client::set_my_profile`) to every workspace of
    /// this server where the signed-in person is a member; forgotten once the server has it.
    /// A refusal (the server's time zone database lacks the zone, say) drops it and ends this
    /// round with the server's reason, once: the next pull shows what the server kept, and
    /// nothing is retried forever.
    pub(crate) async fn send_profile(&self, token: &str) -> SyncResult<()> {
        let (pending, targets) = {
            let conn = self.client().conn();
            let Some(pending) = crate::profile::pending_profile(&conn)? else { return Ok(()) };
            (pending, crate::profile::my_memberships(&conn)?)
        };
        let mut refused = None;
        for (ws, user) in targets {
            let path = format!("/v1/workspaces/{ws}/members/{user}/profile");
            match self.call::<Member>(Method::Put, &path, Some(token), json_body(&pending)?).await {
                Ok(_) => {}
                Err(e @ super::SyncError::Server { .. }) => refused = Some(e),
                Err(e) => return Err(e),
            }
        }
        crate::profile::sent_profile(&self.client().conn(), &pending)?;
        refused.map_or(Ok(()), Err)
    }

    /// The member with `email` as the server has it now (the local list may predate them).
    async fn member_on_server(&self, email: &str) -> SyncResult<(WorkspaceId, Member)> {
        let ws = self.client().current_workspace()?;
        let token = self.token()?;
        let members: Vec<Member> =
            self.call(Method::Get, &format!("/v1/workspaces/{ws}/members"), Some(&token), Vec::new()).await?;
        let wanted = email.trim();
        members
            .into_iter()
            .find(|m| m.email.eq_ignore_ascii_case(wanted))
            .map(|m| (ws, m))
            .ok_or_else(|| ClientError::NotAMember { email: wanted.to_owned(), workspace: ws.to_string() }.into())
    }
}
