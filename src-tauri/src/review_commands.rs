//! Reviewing's IPC commands: drafts, publishing a review, the ledger, claims, viewed files,
//! acceptance by override, and where threads sit on a pair. Each is one call into
//! [`handoff_client::Client`]; drafts change only this machine's store, so they tell the UI
//! but need no sync.

use handoff_client::{CriterionInput, DraftView, LineTarget, PlacedThread, ViewedFiles};
use handoff_core::{CommentId, ReviewId, SpecId, ThreadId, Verdict};
use tauri::{AppHandle, State};

use crate::AppState;
use crate::commands::{call, changed, write};
use crate::error::IpcError;

/// Drafts a comment opening a thread on lines of the diff under review.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, body))]
pub async fn draft_line_comment(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    reviewing: u32,
    target: LineTarget,
    body: String,
) -> Result<CommentId, IpcError> {
    let id = call(&state, move |c| c.draft_line_comment(spec_id, reviewing, target, &body)).await?;
    changed(&app, Some(spec_id));
    Ok(id)
}

/// Drafts a reply to a thread, published with the review of `reviewing`.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, body))]
pub async fn draft_reply(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    reviewing: u32,
    thread_id: ThreadId,
    body: String,
) -> Result<CommentId, IpcError> {
    let id = call(&state, move |c| c.draft_reply(reviewing, thread_id, &body)).await?;
    changed(&app, Some(spec_id));
    Ok(id)
}

/// Changes a draft's text.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, body))]
pub async fn edit_draft(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    draft_id: CommentId,
    body: String,
) -> Result<(), IpcError> {
    call(&state, move |c| c.edit_draft(draft_id, &body)).await?;
    changed(&app, Some(spec_id));
    Ok(())
}

/// Deletes a draft.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn delete_draft(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    draft_id: CommentId,
) -> Result<(), IpcError> {
    call(&state, move |c| c.delete_draft(draft_id)).await?;
    changed(&app, Some(spec_id));
    Ok(())
}

/// A spec's drafts, oldest first.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn drafts(state: State<'_, AppState>, spec_id: SpecId) -> Result<Vec<DraftView>, IpcError> {
    call(&state, move |c| c.drafts(Some(spec_id))).await
}

/// Publishes a review of revision `number` with its drafts, as one unit.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, summary, criteria))]
pub async fn publish_review(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    number: u32,
    verdict: Verdict,
    summary: String,
    criteria: Vec<CriterionInput>,
) -> Result<ReviewId, IpcError> {
    write(&app, &state, spec_id, move |c| c.publish_review(spec_id, number, verdict, &summary, criteria)).await
}

/// An owner accepts without a settling review, with a reason.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, reason))]
pub async fn accept_with_override(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    reason: String,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.accept_with_override(spec_id, &reason)).await
}

/// An owner marks a draft ready although readiness rules fail, with a reason.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, reason))]
pub async fn mark_ready_with_override(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    reason: String,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.mark_ready_with_override(spec_id, &reason)).await
}

/// Confirms a revision's claim: resolves the thread.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn confirm_claim(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    thread_id: ThreadId,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.confirm_claim(thread_id)).await
}

/// Does not accept a claim: an optional reply, and the thread reopened.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state, reply))]
pub async fn reopen_claim(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    thread_id: ThreadId,
    reply: Option<String>,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.reopen_claim(thread_id, reply.as_deref())).await
}

/// Marks a file of a revision viewed (or not).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn set_file_viewed(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    number: u32,
    path: String,
    viewed: bool,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.set_file_viewed(spec_id, number, &path, viewed)).await
}

/// The files of a revision this user has viewed.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn viewed_files(state: State<'_, AppState>, spec_id: SpecId, number: u32) -> Result<ViewedFiles, IpcError> {
    call(&state, move |c| c.viewed_files(spec_id, number)).await
}

/// Where the spec's line threads show on the pair `from → to`.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn threads_on_pair(
    state: State<'_, AppState>,
    spec_id: SpecId,
    from: u32,
    to: u32,
) -> Result<Vec<PlacedThread>, IpcError> {
    call(&state, move |c| c.threads_on_pair(spec_id, from, to)).await
}
