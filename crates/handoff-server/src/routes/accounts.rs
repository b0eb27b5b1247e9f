//! `/v1/auth/*` and `/v1/workspaces/*`: joining, signing in, tokens, members, invites.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use handoff_core::protocol::{
    Invite, InviteRequest, JoinRequest, LoginRequest, Session, SetProfileRequest, SetRoleRequest, TokenInfo,
};
use handoff_core::validate::{self, limits};
use handoff_core::{Member, Timestamp, UserId, WorkspaceId};

use super::ApiJson;
use crate::accounts::{self, JoinInput};
use crate::auth::{self, Caller};
use crate::error::{Result, ServerError};
use crate::limits::PeerAddr;
use crate::state::AppState;
use crate::storage::queries;

/// An id in the path, exactly as written (no surrounding white space, unlike ids typed by people).
fn parse_path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T> {
    let not_an_id = || ServerError::invalid(format!("{what} in the path is not an id"));
    if raw.trim() != raw {
        return Err(not_an_id());
    }
    raw.parse::<T>().map_err(|_| not_an_id())
}

/// `POST /v1/auth/join`
pub async fn join(State(state): State<AppState>, peer: PeerAddr, ApiJson(req): ApiJson<JoinRequest>) -> Result<Json<Session>> {
    state.auth_throttle.attempt(peer.0.as_deref(), &req.email, state.now().as_millis())?;
    let email = validate::email(&req.email)?;
    let display_name = validate::one_line("display name", &req.display_name, limits::NAME_CHARS)?;
    let device_name = validate::one_line("device name", &req.device_name, limits::NAME_CHARS)?;
    let timezone = validate::one_line("time zone", &req.timezone, super::TIMEZONE_CHARS)?;
    // Working hours are read in this zone, so it must be one the database knows.
    let timezone = handoff_core::hours::Zone::named(&timezone)?.name().to_owned();
    let code_hash = auth::secret_hash(req.invite_code.trim());
    let now = state.now();
    let (ch, em) = (code_hash.clone(), email.clone());
    let existing = state
        .db
        .read(move |db| {
            Box::pin(async move {
                accounts::check_invite(db, &ch, &em, now).await?;
                queries::user_by_email(db, &em).await
            })
        })
        .await?;
    let account = match existing {
        Some(user) => {
            if !auth::verify_password_async(&state.passwords, req.password.clone(), user.password_hash.clone()).await? {
                return Err(ServerError::unauthorized("an account with this email exists and the password does not match it"));
            }
            Ok(user)
        }
        None => {
            auth::check_password_rules(&req.password)?;
            Err(auth::hash_password_async(&state.passwords, req.password.clone(), state.config.password_cost).await?)
        }
    };
    let input = JoinInput { code_hash, email, display_name, timezone, device_name, account };
    let ttl = state.config.token_ttl_ms;
    let (session, change) = state.db.write(move |db| Box::pin(async move { accounts::join(db, &input, now, ttl).await })).await?;
    state.publish(vec![change]);
    Ok(Json(session))
}

/// `POST /v1/auth/login`
pub async fn login(State(state): State<AppState>, peer: PeerAddr, ApiJson(req): ApiJson<LoginRequest>) -> Result<Json<Session>> {
    state.auth_throttle.attempt(peer.0.as_deref(), &req.email, state.now().as_millis())?;
    let wrong = || ServerError::unauthorized("wrong email or password");
    let email = validate::email(&req.email).map_err(|_| wrong())?;
    let device_name = validate::one_line("device name", &req.device_name, limits::NAME_CHARS)?;
    let user = state.db.read(move |db| Box::pin(async move { queries::user_by_email(db, &email).await })).await?;
    let Some(user) = user else {
        // Spend the same effort as a real check, so timing does not tell which emails exist.
        let _ = auth::hash_password_async(&state.passwords, req.password.clone(), state.config.password_cost).await;
        return Err(wrong());
    };
    if !auth::verify_password_async(&state.passwords, req.password.clone(), user.password_hash.clone()).await? {
        return Err(wrong());
    }
    let (now, ttl) = (state.now(), state.config.token_ttl_ms);
    let session = state
        .db
        .write(move |db| Box::pin(async move { accounts::open_session(db, &user, &device_name, now, ttl).await }))
        .await?;
    Ok(Json(session))
}

/// `POST /v1/auth/logout`: revokes the calling token.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    let now = state.now().as_millis();
    let token_id = caller.token_id.clone();
    state
        .db
        .write(move |db| Box::pin(async move { queries::revoke_token(db, &caller.user(), &caller.token_id, now).await }))
        .await?;
    state.events.revoke(&token_id);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/auth/tokens`
pub async fn tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<TokenInfo>>> {
    let user = caller.user();
    let rows = state.db.read(move |db| Box::pin(async move { queries::tokens_of(db, &user).await })).await?;
    let now = state.now().as_millis();
    Ok(Json(
        rows.into_iter()
            .filter(|t| t.expires_at > now)
            .map(|t| TokenInfo {
                current: t.id == caller.token_id,
                token_id: t.id,
                device_name: t.device_name,
                created_at: Timestamp::from_millis(t.created_at),
                last_used_at: t.last_used_at.map(Timestamp::from_millis),
                expires_at: Timestamp::from_millis(t.expires_at),
            })
            .collect(),
    ))
}

/// `DELETE /v1/auth/tokens/{token_id}`
pub async fn revoke_token(State(state): State<AppState>, caller: Caller, Path(token_id): Path<String>) -> Result<StatusCode> {
    let now = state.now().as_millis();
    let id = token_id.clone();
    let done =
        state.db.write(move |db| Box::pin(async move { queries::revoke_token(db, &caller.user(), &id, now).await })).await?;
    if !done {
        return Err(ServerError::not_found("no such live token of yours"));
    }
    state.events.revoke(&token_id);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/workspaces/{id}/members`
pub async fn members(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Vec<Member>>> {
    let ws: WorkspaceId = parse_path_id(&id, "the workspace")?;
    let user = caller.user();
    let members = state
        .db
        .read(move |db| {
            Box::pin(async move {
                accounts::require_member(db, &ws.to_string(), &user).await?;
                queries::members(db, &ws.to_string()).await
            })
        })
        .await?;
    Ok(Json(members))
}

/// `POST /v1/workspaces/{id}/invites` (owners only)
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<Json<Invite>> {
    let ws: WorkspaceId = parse_path_id(&id, "the workspace")?;
    let email = validate::email(&req.email)?;
    let code = auth::new_invite_code()?;
    let now = state.now();
    let expires = Timestamp::from_millis(now.as_millis().saturating_add(state.config.invite_ttl_ms));
    let user = caller.user();
    let invite = state
        .db
        .write(move |db| {
            Box::pin(async move { accounts::create_invite(db, ws, &user, &email, req.role, &code, now, expires).await })
        })
        .await?;
    Ok(Json(invite))
}

/// `PUT /v1/workspaces/{id}/members/{user_id}/role` (owners only)
pub async fn set_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetRoleRequest>,
) -> Result<Json<Member>> {
    let ws: WorkspaceId = parse_path_id(&id, "the workspace")?;
    let target: UserId = parse_path_id(&user_id, "the user")?;
    let user = caller.user();
    let now = state.now();
    let (member, change) =
        state.db.write(move |db| Box::pin(async move { accounts::set_role(db, ws, &user, target, req.role, now).await })).await?;
    state.publish(vec![change]);
    Ok(Json(member))
}

/// `PUT /v1/workspaces/{id}/members/{user_id}/profile` (one's own only)
pub async fn set_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
    ApiJson(req): ApiJson<SetProfileRequest>,
) -> Result<Json<Member>> {
    let ws: WorkspaceId = parse_path_id(&id, "the workspace")?;
    let target: UserId = parse_path_id(&user_id, "the user")?;
    let user = caller.user();
    let now = state.now();
    let (member, change) =
        state.db.write(move |db| Box::pin(async move { accounts::set_profile(db, ws, &user, target, req, now).await })).await?;
    state.publish(vec![change]);
    Ok(Json(member))
}

/// `DELETE /v1/workspaces/{id}/members/{user_id}` (owners only)
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let ws: WorkspaceId = parse_path_id(&id, "the workspace")?;
    let target: UserId = parse_path_id(&user_id, "the user")?;
    let user = caller.user();
    let now = state.now();
    let change =
        state.db.write(move |db| Box::pin(async move { accounts::remove_member(db, ws, &user, target, now).await })).await?;
    state.publish(vec![change]);
    Ok(StatusCode::NO_CONTENT)
}
