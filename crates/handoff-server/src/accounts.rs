//! Accounts and workspaces: invites, joining, sessions, tokens, members. Transaction bodies
//! over [`Sql`]; the HTTP handlers and the `invite` command call these.

use handoff_core::protocol::{ApiErrorCode, Invite, Record, Scope, Session, WorkspaceMembership};
use handoff_core::validate::{self, limits};
use handoff_core::{Member, Role, Timestamp, UserId, Workspace, WorkspaceId};

use crate::auth::{new_id, new_token, secret_hash};
use crate::error::{Result, ServerError};
use crate::events::ScopeChange;
use crate::storage::queries::{self, TokenRow, UserRow};
use crate::storage::{Sql, queries::parse};

/// Validates a workspace name.
pub fn workspace_name(name: &str) -> Result<String> {
    Ok(validate::one_line("workspace name", name, limits::NAME_CHARS)?)
}

/// Bumps the workspace scope and writes a record in it.
async fn put_workspace_record(
    db: &mut dyn Sql,
    ws: WorkspaceId,
    kind: &str,
    id: &str,
    record: &Record,
    at: Timestamp,
) -> Result<ScopeChange> {
    let scope = Scope::Workspace(ws);
    let s = scope.to_string();
    let version =
        queries::bump_scope(db, &s, at).await?.ok_or_else(|| ServerError::Internal(format!("workspace scope {s} missing")))?;
    queries::put_record(db, kind, id, &s, version, &serde_json::to_string(record)?, "{}").await?;
    Ok(ScopeChange { scope, version: version as u64, workspace_id: ws })
}

/// Writes a member's record into the workspace scope.
pub async fn put_member_record(db: &mut dyn Sql, m: &Member, at: Timestamp) -> Result<ScopeChange> {
    let id = format!("{}/{}", m.workspace_id, m.user_id);
    put_workspace_record(db, m.workspace_id, "member", &id, &Record::Member(m.clone()), at).await
}

/// The `invite` command: finds the workspace by name, creating it on its first owner invite,
/// and stores an invite for `email` whose code hashes to `code_hash`.
pub async fn bootstrap_invite(
    db: &mut dyn Sql,
    name: &str,
    email: &str,
    role: Role,
    code_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Workspace> {
    let ws = match queries::workspace_by_name(db, name).await? {
        Some(ws) => ws,
        None if role == Role::Owner => {
            let ws = Workspace { id: new_id(now)?, name: name.to_owned() };
            queries::insert_workspace(db, &ws, now.as_millis()).await?;
            let scope = Scope::Workspace(ws.id).to_string();
            let version = queries::create_scope(db, &scope, &ws.id.to_string(), "workspace", now).await?;
            queries::put_record(
                db,
                "workspace",
                &ws.id.to_string(),
                &scope,
                version,
                &serde_json::to_string(&Record::Workspace(ws.clone()))?,
                "{}",
            )
            .await?;
            ws
        }
        None => {
            return Err(ServerError::invalid(format!(
                "there is no workspace named {name:?} yet; its first invite must be for an owner"
            )));
        }
    };
    queries::insert_invite(db, code_hash, &ws.id.to_string(), email, role, None, now.as_millis(), expires_at.as_millis()).await?;
    Ok(ws)
}

/// The caller's membership of a workspace, or `not_found` (not revealing other workspaces).
pub async fn require_member(db: &mut dyn Sql, ws: &str, user: &str) -> Result<Member> {
    queries::member(db, ws, user).await?.ok_or_else(|| ServerError::not_found("no such workspace among yours"))
}

/// An owner's invite through the API.
#[allow(clippy::too_many_arguments)]
pub async fn create_invite(
    db: &mut dyn Sql,
    ws: WorkspaceId,
    caller: &str,
    email: &str,
    role: Role,
    code: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Invite> {
    let member = require_member(db, &ws.to_string(), caller).await?;
    handoff_core::lifecycle::check(member.role, handoff_core::Action::ManageMembers, false)?;
    if queries::member_by_email(db, &ws.to_string(), email).await?.is_some() {
        return Err(ServerError::api(
            ApiErrorCode::AlreadyExists,
            format!("{email} is already a member of this workspace: change their role instead"),
        ));
    }
    queries::insert_invite(
        db,
        &secret_hash(code),
        &ws.to_string(),
        email,
        role,
        Some(caller),
        now.as_millis(),
        expires_at.as_millis(),
    )
    .await?;
    Ok(Invite { code: code.to_owned(), workspace_id: ws, email: email.to_owned(), role, expires_at })
}

/// Issues a new bearer token and builds the session that shows it once.
pub async fn open_session(db: &mut dyn Sql, user: &UserRow, device_name: &str, now: Timestamp, ttl_ms: i64) -> Result<Session> {
    let token = new_token()?;
    let token_id: uuid::Uuid = new_id(now)?;
    let row = TokenRow {
        id: token_id.to_string(),
        user_id: user.id.to_string(),
        device_name: device_name.to_owned(),
        created_at: now.as_millis(),
        last_used_at: None,
        expires_at: now.as_millis().saturating_add(ttl_ms),
        revoked_at: None,
    };
    queries::insert_token(db, &row, &secret_hash(&token)).await?;
    let workspaces = queries::memberships(db, &user.id.to_string())
        .await?
        .into_iter()
        .map(|(workspace, m)| WorkspaceMembership { workspace, role: m.role })
        .collect();
    Ok(Session {
        token,
        token_id: row.id,
        user_id: user.id,
        email: user.email.clone(),
        workspaces,
        expires_at: Timestamp::from_millis(row.expires_at),
    })
}

/// A validated join request's fields.
#[derive(Clone, Debug)]
pub struct JoinInput {
    /// Hash of the invite code.
    pub code_hash: String,
    /// Normalized email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Time zone.
    pub timezone: String,
    /// Device for the token.
    pub device_name: String,
    /// The account when it exists already (password verified), or the new password hash.
    pub account: Result<UserRow, String>,
}

/// Uses the invite, creates the account if new, adds the membership, opens a session.
pub async fn join(db: &mut dyn Sql, input: &JoinInput, now: Timestamp, ttl_ms: i64) -> Result<(Session, ScopeChange)> {
    let invite = check_invite(db, &input.code_hash, &input.email, now).await?;
    if !queries::use_invite(db, &input.code_hash, now.as_millis()).await? {
        return Err(ServerError::api(ApiErrorCode::InviteInvalid, "this invite code was already used"));
    }
    let user = match &input.account {
        Ok(user) => user.clone(),
        Err(password_hash) => {
            if queries::user_by_email(db, &input.email).await?.is_some() {
                return Err(ServerError::api(
                    ApiErrorCode::AlreadyExists,
                    "an account with this email was just created; join again with its password",
                ));
            }
            let user = UserRow {
                id: new_id(now)?,
                email: input.email.clone(),
                display_name: input.display_name.clone(),
                password_hash: password_hash.clone(),
            };
            queries::insert_user(db, &user, now.as_millis()).await?;
            user
        }
    };
    if queries::member(db, &invite.workspace_id, &user.id.to_string()).await?.is_some() {
        return Err(ServerError::api(ApiErrorCode::AlreadyExists, "you are already a member of this workspace"));
    }
    let member = Member {
        workspace_id: parse(&invite.workspace_id)?,
        user_id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: invite.role,
        timezone: input.timezone.clone(),
        working_hours: Default::default(),
    };
    queries::insert_member(db, &member, now.as_millis()).await?;
    let change = put_member_record(db, &member, now).await?;
    let session = open_session(db, &user, &input.device_name, now, ttl_ms).await?;
    Ok((session, change))
}

/// Checks that an invite can be used by `email` now.
pub async fn check_invite(db: &mut dyn Sql, code_hash: &str, email: &str, now: Timestamp) -> Result<queries::InviteRow> {
    let invite = queries::invite(db, code_hash)
        .await?
        .ok_or_else(|| ServerError::api(ApiErrorCode::InviteInvalid, "unknown invite code"))?;
    if invite.used_at.is_some() {
        return Err(ServerError::api(ApiErrorCode::InviteInvalid, "this invite code was already used"));
    }
    if invite.expires_at <= now.as_millis() {
        return Err(ServerError::api(ApiErrorCode::InviteInvalid, "this invite code expired; ask for a new one"));
    }
    if invite.email != email {
        return Err(ServerError::api(ApiErrorCode::InviteInvalid, "this invite code was issued for another email address"));
    }
    Ok(invite)
}

/// Changes a member's role (owners only). Like removal, it keeps at least one owner, also when
/// two owners demote each other at once.
pub async fn set_role(
    db: &mut dyn Sql,
    ws: WorkspaceId,
    caller: &str,
    user: UserId,
    role: Role,
    now: Timestamp,
) -> Result<(Member, ScopeChange)> {
    let ws_s = ws.to_string();
    // Serializes concurrent member changes in this workspace (see remove_member).
    queries::lock_workspace(db, &ws_s).await?;
    let me = require_member(db, &ws_s, caller).await?;
    handoff_core::lifecycle::check(me.role, handoff_core::Action::ManageMembers, false)?;
    let Some(mut target) = queries::member(db, &ws_s, &user.to_string()).await? else {
        return Err(ServerError::not_found("no such member in this workspace"));
    };
    if target.role == Role::Owner && role != Role::Owner && queries::owner_count(db, &ws_s).await? <= 1 {
        return Err(ServerError::api(
            ApiErrorCode::LastOwner,
            "a workspace keeps at least one owner: make another member an owner first",
        ));
    }
    queries::set_member_role(db, &ws_s, &user.to_string(), role).await?;
    target.role = role;
    let change = put_member_record(db, &target, now).await?;
    Ok((target, change))
}

/// A member sets their own time zone and working hours; nobody sets someone else's.
pub async fn set_profile(
    db: &mut dyn Sql,
    ws: WorkspaceId,
    caller: &str,
    user: UserId,
    profile: handoff_core::protocol::SetProfileRequest,
    now: Timestamp,
) -> Result<(Member, ScopeChange)> {
    let ws_s = ws.to_string();
    let mut me = require_member(db, &ws_s, caller).await?;
    if me.user_id != user {
        return Err(ServerError::api(ApiErrorCode::Forbidden, "a member sets only their own time zone and working hours"));
    }
    let zone = handoff_core::hours::Zone::named(&profile.timezone)?;
    let hours = profile.working_hours.validated()?;
    queries::set_member_profile(db, &ws_s, caller, zone.name(), &hours).await?;
    me.timezone = zone.name().to_owned();
    me.working_hours = hours;
    let change = put_member_record(db, &me, now).await?;
    Ok((me, change))
}

/// An owner removes a member; the last owner cannot be removed.
pub async fn remove_member(db: &mut dyn Sql, ws: WorkspaceId, caller: &str, user: UserId, now: Timestamp) -> Result<ScopeChange> {
    let ws_s = ws.to_string();
    // Two owners removing each other at once: the second waits here for the first to commit,
    // then reads the members (itself included) and counts the owners the first left.
    queries::lock_workspace(db, &ws_s).await?;
    let me = require_member(db, &ws_s, caller).await?;
    handoff_core::lifecycle::check(me.role, handoff_core::Action::ManageMembers, false)?;
    let Some(target) = queries::member(db, &ws_s, &user.to_string()).await? else {
        return Err(ServerError::not_found("no such member in this workspace"));
    };
    if target.role == Role::Owner && queries::owner_count(db, &ws_s).await? <= 1 {
        return Err(ServerError::api(
            ApiErrorCode::LastOwner,
            "a workspace keeps at least one owner: make another member an owner first",
        ));
    }
    queries::delete_member(db, &ws, &user).await?;
    queries::forget_uploads_in_workspace(db, &user.to_string(), &ws_s).await?;
    put_workspace_record(
        db,
        ws,
        "member",
        &format!("{ws}/{user}"),
        &Record::MemberRemoved { workspace_id: ws, user_id: user },
        now,
    )
    .await
}
