//! Account, sync and "needs attention" commands. Each delegates to the sync engine or the
//! client in one call; the token goes to the OS keychain, never to SQLite.

use std::path::PathBuf;

use std::sync::Arc;

use handoff_client::{AttentionItem, Code, JoinParams, OutboxEntry, SyncEngine, TokenStore, attention, place};
use handoff_core::protocol::Outcome;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use crate::AppState;
use crate::commands::changed;
use crate::error::IpcError;
use crate::sync::{self, SyncState, blocking};

/// Who this app is signed in as, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountView {
    /// The server this data dir joined, if any.
    pub server_url: Option<String>,
    /// The email this client acts as (`me@localhost` before joining).
    pub identity: String,
    /// Whether a token is loaded and the background sync runs.
    pub signed_in: bool,
}

/// What the "join with an invite" form sends.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct JoinInput {
    /// The server, such as `https://handoff.example.com`.
    pub server_url: String,
    /// The invite code.
    pub invite_code: String,
    /// The invited email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Password (new account, or the existing one's).
    pub password: String,
    /// IANA time zone.
    pub timezone: String,
}

/// What the sign-in form sends.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SignInInput {
    /// The server.
    pub server_url: String,
    /// The account's email.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// A one-time invite handed to the app when it starts (`handoff-app --join URL --invite CODE
/// --email EMAIL [--name NAME]`): `cargo xtask run` passes one for the local server it starts,
/// so a newcomer's first run only asks for a password before everything syncs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct FirstRunInvite {
    /// The server to join.
    pub server_url: String,
    /// The invite code.
    pub invite_code: String,
    /// The email the invite is for.
    pub email: String,
    /// A name to start from (the person may change it).
    pub display_name: String,
}

impl FirstRunInvite {
    /// Reads `--join URL --invite CODE --email EMAIL [--name NAME]` from the app's arguments;
    /// `None` unless the first three are all there (anything else is left alone).
    pub fn from_args(args: impl Iterator<Item = String>) -> Option<Self> {
        let (mut server_url, mut invite_code, mut email, mut display_name) = (None, None, None, None);
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--join" => &mut server_url,
                "--invite" => &mut invite_code,
                "--email" => &mut email,
                "--name" => &mut display_name,
                _ => continue,
            };
            *slot = args.next_if(|v| !v.starts_with("--"));
        }
        Some(Self {
            server_url: server_url?,
            invite_code: invite_code?,
            email: email?,
            display_name: display_name.unwrap_or_default(),
        })
    }
}

/// The invite the app was started with, while this data dir has not joined a server yet.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn first_run_invite(state: State<'_, AppState>) -> Result<Option<FirstRunInvite>, IpcError> {
    let Some(invite) = state.first_run.clone() else { return Ok(None) };
    let client = state.client()?;
    let joined = blocking(move || Ok(client.status()?.server.is_some())).await?;
    Ok((!joined).then_some(invite))
}

/// One change needing a person, flattened for the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AttentionView {
    /// The queued change, with its original content.
    pub entry: OutboxEntry,
    /// `true` for a conflict kept for a person, `false` for a refusal or lost access.
    pub conflict: bool,
    /// Why, in the server's words.
    pub reason: String,
    /// The text its author wrote (a title, section, criterion, comment or summary), which
    /// the list lets them edit and send again; `None` for changes without text.
    pub editable_text: Option<String>,
}

impl From<AttentionItem> for AttentionView {
    fn from(i: AttentionItem) -> Self {
        let (conflict, reason) = match i.outcome {
            Some(Outcome::Conflict { message, .. }) => (true, message),
            Some(Outcome::Rejected { message, .. }) => (false, message),
            _ => (false, i.entry.last_error.clone().unwrap_or_default()),
        };
        let editable_text = attention::editable_text(&i.entry.envelope.mutation).map(str::to_owned);
        Self { entry: i.entry, conflict, reason, editable_text }
    }
}

async fn account_view(state: &State<'_, AppState>) -> Result<AccountView, IpcError> {
    let client = state.client()?;
    let signed_in = state.sync.engine().is_some();
    blocking(move || {
        let status = client.status()?;
        Ok(AccountView { server_url: status.server, identity: status.identity, signed_in })
    })
    .await
}

/// The account as it stands.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn account(state: State<'_, AppState>) -> Result<AccountView, IpcError> {
    account_view(&state).await
}

/// Joins a workspace with an invite; the token goes to the OS keychain and the background
/// sync starts.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, input), fields(server = %input.server_url))]
pub async fn join_workspace(app: AppHandle, state: State<'_, AppState>, input: JoinInput) -> Result<AccountView, IpcError> {
    let (engine, store) = prepare(&app, &state, &input.server_url).await?;
    let params = JoinParams {
        invite_code: input.invite_code.trim().to_owned(),
        email: input.email,
        display_name: input.name,
        password: input.password,
        device_name: place::device_name(DEVICE),
        // The server refuses a zone its database lacks; a webview that reports none it knows
        // joins as UTC, and the person sets theirs on the Members screen.
        timezone: handoff_core::hours::Zone::named(&input.timezone).map_or_else(|_| "UTC".to_owned(), |z| z.name().to_owned()),
    };
    engine.join_keeping(params, &store).await?;
    signed_in(&app, &state, engine).await
}

/// Signs in to an existing account.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, input), fields(server = %input.server_url))]
pub async fn sign_in(app: AppHandle, state: State<'_, AppState>, input: SignInInput) -> Result<AccountView, IpcError> {
    let (engine, store) = prepare(&app, &state, &input.server_url).await?;
    engine.login_keeping(&input.email, &input.password, &place::device_name(DEVICE), &store).await?;
    signed_in(&app, &state, engine).await
}

/// This app in the server's token list.
const DEVICE: &str = "Handoff desktop";

/// The checked address's engine and a token store that works, before anything is sent.
async fn prepare(
    app: &AppHandle,
    state: &State<'_, AppState>,
    server_url: &str,
) -> Result<(Arc<SyncEngine>, TokenStore), IpcError> {
    let url = place::server_url(server_url)?;
    let client = state.client()?;
    let c = client.clone();
    let store = blocking(move || Ok(c.prepare_token_store(false)?)).await?;
    Ok((sync::engine(app, client, &url)?, store))
}

async fn signed_in(app: &AppHandle, state: &State<'_, AppState>, engine: Arc<SyncEngine>) -> Result<AccountView, IpcError> {
    sync::start(app, engine);
    changed(app, None);
    account_view(state).await
}

/// Signs out: stops the sync, revokes the token on the server when it answers, forgets it
/// here. Local data and unsent changes stay.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn sign_out(app: AppHandle, state: State<'_, AppState>) -> Result<AccountView, IpcError> {
    let client = state.client()?;
    if let Some(engine) = state.sync.stop()
        && let Err(e) = engine.logout().await
    {
        tracing::warn!(error = %e, "the server could not revoke the token; it is forgotten here anyway");
    }
    blocking(move || client.token_store()?.delete().map_err(IpcError::from)).await?;
    sync::publish(&app, None, None).await;
    account_view(&state).await
}

/// Syncs now; answers the state after the round (its error, if any, is in `error`).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn sync_now(app: AppHandle, state: State<'_, AppState>) -> Result<SyncState, IpcError> {
    let engine = state
        .sync
        .engine()
        .ok_or_else(|| IpcError::new(Code::NotSignedIn, "Join a workspace or sign in to a server first (Account)."))?;
    let result = engine.sync_once().await;
    if result.is_ok() {
        sync::download_in_background(&app, &engine);
    }
    let pulled = matches!(&result, Ok(r) if r.records_pulled > 0 || r.pushes > 0);
    if pulled {
        changed(&app, None);
    }
    // Signed out while the round ran: the sign-out's state stands (as after a background round).
    if sync::is_running(&app, &engine) {
        sync::publish(&app, engine.is_online(), result.err().map(IpcError::from)).await;
    }
    Ok(state.sync.last())
}

/// The last sync state (for a sync bar that mounts after the first event).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn sync_state(state: State<'_, AppState>) -> Result<SyncState, IpcError> {
    Ok(state.sync.last())
}

/// Every change needing attention, oldest first.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn attention(state: State<'_, AppState>) -> Result<Vec<AttentionView>, IpcError> {
    let client = state.client()?;
    blocking(move || Ok(client.attention()?.into_iter().map(AttentionView::from).collect())).await
}

/// Queues a change again; returns its new number.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn retry_attention(app: AppHandle, state: State<'_, AppState>, mutation_id: u64) -> Result<u64, IpcError> {
    let client = state.client()?;
    let id = blocking(move || client.retry_attention(mutation_id).map_err(IpcError::from)).await?;
    changed(&app, None);
    Ok(id)
}

/// Drops a change for good.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn discard_attention(app: AppHandle, state: State<'_, AppState>, mutation_id: u64) -> Result<(), IpcError> {
    let client = state.client()?;
    blocking(move || client.discard_attention(mutation_id).map_err(IpcError::from)).await?;
    changed(&app, None);
    Ok(())
}

/// Writes every change needing attention to `path` (chosen in the save dialog) as JSON;
/// returns how many.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn export_attention(state: State<'_, AppState>, path: PathBuf) -> Result<usize, IpcError> {
    let client = state.client()?;
    blocking(move || client.export_attention(&path).map_err(IpcError::from)).await
}

/// Replaces a change's text with `text` (the author's fix) and queues it again; returns its
/// new number.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, text), fields(text_len = text.len()))]
pub async fn edit_attention(app: AppHandle, state: State<'_, AppState>, mutation_id: u64, text: String) -> Result<u64, IpcError> {
    let client = state.client()?;
    let id = blocking(move || client.edit_attention_text(mutation_id, &text).map_err(IpcError::from)).await?;
    changed(&app, None);
    Ok(id)
}

/// Moves this data dir to a new address of the same server (it moved, or its name changed)
/// while keeping the session: the new address must answer and accept the stored token, else
/// nothing changes and the old address keeps syncing.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn change_server(app: AppHandle, state: State<'_, AppState>, server_url: String) -> Result<AccountView, IpcError> {
    let url = place::server_url(&server_url)?;
    let engine = sync::engine(&app, state.client()?, &url)?;
    // The old loop is paused so the two addresses never sync at once.
    let old = state.sync.stop();
    if let Err(e) = engine.move_to_this_address().await {
        if let Some(old) = old {
            sync::start(&app, old);
        }
        return Err(e.into());
    }
    signed_in(&app, &state, engine).await
}

#[cfg(test)]
mod tests {
    use super::FirstRunInvite;

    fn args(a: &[&str]) -> impl Iterator<Item = String> {
        a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn a_first_run_invite_needs_its_server_code_and_email() {
        let full = FirstRunInvite::from_args(args(&[
            "--join",
            "http://127.0.0.1:8470",
            "--invite",
            "ABCD-EFGH",
            "--email",
            "owner@localhost",
            "--name",
            "Ana",
        ]));
        let full = full.expect("all of it given");
        assert_eq!(
            [full.server_url.as_str(), &full.invite_code, &full.email, &full.display_name],
            ["http://127.0.0.1:8470", "ABCD-EFGH", "owner@localhost", "Ana"]
        );
        assert_eq!(FirstRunInvite::from_args(args(&["--join", "http://x", "--invite", "C"])), None, "no email");
        assert_eq!(
            FirstRunInvite::from_args(args(&["--join", "--invite", "C", "--email", "e@x"])),
            None,
            "a flag is not a value"
        );
        assert_eq!(FirstRunInvite::from_args(args(&[])), None);
    }
}
