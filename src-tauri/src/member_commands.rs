//! The workspace's members: the list from the local store (offline too), and an owner's
//! invites, role changes and removals, which the server makes (each one call to the engine);
//! ending an engagement and exporting its record.

use handoff_client::export::ExportReport;
use handoff_client::{Code, EngagementEnd, MembersView, MyProfile, ProfileChange, SyncEngine};
use handoff_core::protocol::Invite;
use handoff_core::{Role, SpecId};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, State};

use crate::AppState;
use crate::commands::{call, changed, write};
use crate::error::IpcError;

/// The running engine: member changes need the server.
fn engine(state: &State<'_, AppState>) -> Result<Arc<SyncEngine>, IpcError> {
    state
        .sync
        .engine()
        .ok_or_else(|| IpcError::new(Code::NotSignedIn, "Join a workspace or sign in to a server first (Account)."))
}

/// The current workspace's members as last synced.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn members(state: State<'_, AppState>) -> Result<MembersView, IpcError> {
    call(&state, |c| c.members(None)).await
}

/// One's own time zone and working hours.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn my_profile(state: State<'_, AppState>) -> Result<MyProfile, IpcError> {
    call(&state, |c| c.my_profile()).await
}

/// Sets one's own time zone and working hours (`09:00-17:30`, `mon-fri`), read and checked by
/// handoff-core; sent with the next sync, which this asks for at once.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn set_my_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    timezone: String,
    hours: String,
    days: String,
) -> Result<MyProfile, IpcError> {
    let profile = call(&state, move |c| {
        c.change_my_profile(ProfileChange { timezone: Some(&timezone), hours: Some(&hours), days: Some(&days) })
    })
    .await?;
    changed(&app, None);
    crate::sync::nudge(&app);
    // New hours may release notices held until they start.
    crate::notices::check(&app).await;
    Ok(profile)
}

/// Invites `email` with `role` (owners only); the answer's code is shown once.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn invite_member(state: State<'_, AppState>, email: String, role: Role) -> Result<Invite, IpcError> {
    Ok(engine(&state)?.invite(&email, role).await?)
}

/// Gives the member with `email` another role (owners only); the sync that follows brings
/// the new role into the list.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn set_member_role(app: AppHandle, state: State<'_, AppState>, email: String, role: Role) -> Result<(), IpcError> {
    engine(&state)?.set_member_role(&email, role).await?;
    changed(&app, None);
    Ok(())
}

/// Removes the member with `email` from the workspace (owners only).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn remove_member(app: AppHandle, state: State<'_, AppState>, email: String) -> Result<(), IpcError> {
    engine(&state)?.remove_member(&email).await?;
    changed(&app, None);
    Ok(())
}

/// Whom ending the engagement on a spec affects, for the confirmation.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn engagement_end(state: State<'_, AppState>, spec_id: SpecId) -> Result<EngagementEnd, IpcError> {
    call(&state, move |c| c.engagement_end(spec_id)).await
}

/// Ends the engagement on a spec: its contractors are unassigned and it is closed (queued like
/// any change). Removing them from the workspace is `remove_member`, asked for separately.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn end_engagement(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId) -> Result<EngagementEnd, IpcError> {
    write(&app, &state, spec_id, move |c| c.end_engagement(spec_id)).await
}

/// Writes the spec's whole record (files, patches, threads, reviews, ledger, hashes) into a new
/// folder inside `parent`, downloading first what is not here yet while signed in (offline,
/// the export names the revision still missing).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn export_spec(state: State<'_, AppState>, spec_id: SpecId, parent: PathBuf) -> Result<ExportReport, IpcError> {
    if let Some(engine) = state.sync.engine()
        && let Err(e) = engine.fetch_revision_files(spec_id, None).await
    {
        tracing::info!(error = %e, "export: downloading the revision files failed; the export says what is missing");
    }
    call(&state, move |c| c.export_spec_into(spec_id, &parent)).await
}
