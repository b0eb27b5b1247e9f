//! The inbox, read marks, turnaround and the desktop notices' setting, each one call to
//! handoff-client.

use handoff_client::{Inbox, InboxGroup, NoticePlan, Turnaround};
use handoff_core::SpecId;
use tauri::{AppHandle, State};

use crate::AppState;
use crate::commands::{call, changed};
use crate::error::IpcError;

/// What others did since one last looked (with `all`, read items too).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn inbox(state: State<'_, AppState>, all: bool) -> Result<Inbox, IpcError> {
    call(&state, move |c| c.inbox(all)).await
}

/// How many items are unread, for the header's badge (counted, not listed).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn inbox_unread(state: State<'_, AppState>) -> Result<u32, IpcError> {
    call(&state, |c| c.inbox_unread()).await
}

/// One spec's items (with `all`, read ones too), the newest 1,000: what its inbox group left out.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn inbox_spec(state: State<'_, AppState>, spec_id: SpecId, all: bool) -> Result<InboxGroup, IpcError> {
    call(&state, move |c| c.inbox_spec(spec_id, all)).await
}

/// Marks a spec's items read up to `seq` (all of them when `None`); synced to one's other
/// devices. Whether anything changed.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn mark_read(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId, seq: Option<u64>) -> Result<bool, IpcError> {
    let marked = call(&state, move |c| c.mark_read(spec_id, seq)).await?;
    if marked {
        changed(&app, Some(spec_id));
    }
    Ok(marked)
}

/// Marks every spec's items read; how many specs.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn mark_all_read(app: AppHandle, state: State<'_, AppState>) -> Result<u32, IpcError> {
    let marked = call(&state, |c| c.mark_all_read()).await?;
    if marked > 0 {
        changed(&app, None);
    }
    Ok(marked)
}

/// Turnaround of a spec, or of the current workspace when `None`.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn turnaround(state: State<'_, AppState>, spec_id: Option<SpecId>) -> Result<Turnaround, IpcError> {
    call(&state, move |c| c.turnaround(spec_id)).await
}

/// The notices due now and those held for one's working hours (what the inbox says is
/// waiting); showing them is the notifier's.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn notice_plan(state: State<'_, AppState>) -> Result<NoticePlan, IpcError> {
    call(&state, |c| c.notices()).await
}

/// Whether desktop notices wait for one's working hours.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn holds_notices(state: State<'_, AppState>) -> Result<bool, IpcError> {
    call(&state, |c| c.holds_notices()).await
}

/// Turns holding notices outside working hours on or off; what is due is shown at once.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn set_holds_notices(app: AppHandle, state: State<'_, AppState>, hold: bool) -> Result<(), IpcError> {
    call(&state, move |c| c.set_holds_notices(hold)).await?;
    crate::notices::check(&app).await;
    Ok(())
}
