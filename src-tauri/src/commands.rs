//! The IPC commands. Each one is a single call into [`handoff_client::Client`], run on the
//! blocking pool (the client does SQLite and file IO), traced, and answered as `T` or
//! [`IpcError`]. Commands that change the store emit [`STORE_CHANGED`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use handoff_client::{Client, OutboxEntry, RevisionSummary, SearchHit, SpecDetail, SpecSummary, StoreStatus, WorkspaceView};
use handoff_core::{CommentId, CriterionId, SectionKind, SpecId, SpecStatus, ThreadEventKind, ThreadId, WorkspaceId};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};

use crate::AppState;
use crate::error::IpcError;
use crate::input::{NewSpecInput, ThreadTargetInput};

/// The event emitted after every change to the local store.
pub const STORE_CHANGED: &str = "store-changed";

/// Payload of [`STORE_CHANGED`]: which spec changed, if one did.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct StoreChanged {
    /// The spec whose data changed; `None` when the change is store-wide.
    pub spec_id: Option<SpecId>,
}

/// The event carrying [`DeliverProgress`] while a folder is stored as a revision.
pub const DELIVER_PROGRESS: &str = "deliver-progress";

/// How often, at most, [`DELIVER_PROGRESS`] is emitted.
const PROGRESS_EVERY: Duration = Duration::from_millis(150);

/// Payload of [`DELIVER_PROGRESS`]: how many of a folder's files are stored so far.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct DeliverProgress {
    /// The spec the revision is for.
    pub spec_id: SpecId,
    /// Files stored so far.
    pub stored: usize,
    /// Files in the folder (after `.handoffignore` and `.git/`).
    pub total: usize,
}

/// Runs one client call on the blocking pool and maps its error for the UI.
pub(crate) async fn call<T, F>(state: &State<'_, AppState>, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&Client) -> handoff_client::Result<T> + Send + 'static,
{
    let client = state.client()?;
    let result =
        tauri::async_runtime::spawn_blocking(move || f(&client)).await.map_err(IpcError::internal)?.map_err(IpcError::from);
    if let Err(e) = &result {
        tracing::warn!(code = %e.code, message = %e.message, "command failed");
    }
    result
}

/// Tells the UI a spec changed (best effort: a closed window cannot listen anyway), and
/// nudges the background sync to send the change.
pub(crate) fn changed(app: &AppHandle, spec_id: Option<SpecId>) {
    announce(app, spec_id);
    crate::sync::nudge(app);
}

/// Tells the UI the store changed (`spec_id`, or anything when `None`), nothing more: for
/// changes the sync made, which have nothing to send.
pub(crate) fn announce(app: &AppHandle, spec_id: Option<SpecId>) {
    if let Err(e) = app.emit(STORE_CHANGED, StoreChanged { spec_id }) {
        tracing::warn!(error = %e, "cannot emit store-changed");
    }
}

/// [`call`] for a command that changes `spec_id`: on success the UI hears of it and the
/// background sync is nudged.
pub(crate) async fn write<T, F>(app: &AppHandle, state: &State<'_, AppState>, spec_id: SpecId, f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce(&Client) -> handoff_client::Result<T> + Send + 'static,
{
    let answer = call(state, f).await?;
    changed(app, Some(spec_id));
    Ok(answer)
}

/// Summaries of the specs in a workspace (all when `None`).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn list_specs(state: State<'_, AppState>, workspace_id: Option<WorkspaceId>) -> Result<Vec<SpecSummary>, IpcError> {
    call(&state, move |c| c.list_specs(workspace_id)).await
}

/// Everything about one spec.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn spec_detail(state: State<'_, AppState>, spec_id: SpecId) -> Result<SpecDetail, IpcError> {
    call(&state, move |c| c.spec_detail(spec_id)).await
}

/// Creates a spec; returns its id.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, input), fields(title_len = input.title.len()))]
pub async fn create_spec(app: AppHandle, state: State<'_, AppState>, input: NewSpecInput) -> Result<SpecId, IpcError> {
    let id = call(&state, move |c| c.create_spec(input.into())).await?;
    changed(&app, Some(id));
    Ok(id)
}

/// Renames a spec.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, title))]
pub async fn set_title(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId, title: String) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.set_title(spec_id, &title)).await
}

/// Replaces a section's text.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, text), fields(text_len = text.len()))]
pub async fn edit_section(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    section: SectionKind,
    text: String,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.edit_section(spec_id, section, &text)).await
}

/// Moves a spec along its lifecycle.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn set_status(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId, to: SpecStatus) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.set_status(spec_id, to)).await
}

/// Sets or clears the due date (`YYYY-MM-DD`).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn set_due_date(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    due_date: Option<String>,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.set_due_date(spec_id, due_date.as_deref())).await
}

/// Assigns a spec to a member by email.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn assign(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId, email: String) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.assign(spec_id, &email)).await
}

/// Removes an assignee.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn unassign(app: AppHandle, state: State<'_, AppState>, spec_id: SpecId, email: String) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.unassign(spec_id, &email)).await
}

/// Adds an acceptance criterion after `after` (at the end when `None`).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, text), fields(text_len = text.len()))]
pub async fn add_criterion(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    text: String,
    after: Option<CriterionId>,
) -> Result<CriterionId, IpcError> {
    write(&app, &state, spec_id, move |c| c.add_criterion(spec_id, &text, after)).await
}

/// Changes a criterion's text.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, text), fields(text_len = text.len()))]
pub async fn edit_criterion(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    criterion_id: CriterionId,
    text: String,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.edit_criterion(spec_id, criterion_id, &text)).await
}

/// Moves a criterion after another (`None`: to the top).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn move_criterion(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    criterion_id: CriterionId,
    after: Option<CriterionId>,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.move_criterion(spec_id, criterion_id, after)).await
}

/// Removes a criterion.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn remove_criterion(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    criterion_id: CriterionId,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.remove_criterion(spec_id, criterion_id)).await
}

/// Delivers a folder as the spec's next revision, emitting [`DELIVER_PROGRESS`] as its files
/// are stored (a folder of 20,000 files takes about a minute on a slow disk).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, summary))]
pub async fn deliver(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    dir: PathBuf,
    summary: String,
    addresses: Vec<ThreadId>,
) -> Result<RevisionSummary, IpcError> {
    let handle = app.clone();
    let mut last_sent: Option<Instant> = None;
    // One event per file would flood the IPC channel; a few per second is enough to read.
    let mut progress = move |stored: usize, total: usize| {
        let due = last_sent.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY) || stored == total;
        if due {
            last_sent = Some(Instant::now());
            if let Err(e) = handle.emit(DELIVER_PROGRESS, DeliverProgress { spec_id, stored, total }) {
                tracing::debug!(error = %e, "cannot emit deliver-progress");
            }
        }
    };
    write(&app, &state, spec_id, move |c| c.deliver_with_progress(spec_id, &dir, &summary, addresses, &mut progress)).await
}

/// Opens a thread with its first comment.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, body), fields(body_len = body.len()))]
pub async fn create_thread(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    target: ThreadTargetInput,
    body: String,
) -> Result<ThreadId, IpcError> {
    write(&app, &state, spec_id, move |c| c.create_thread(spec_id, target.into(), &body)).await
}

/// Replies in a thread.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app, body), fields(body_len = body.len()))]
pub async fn reply(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    thread_id: ThreadId,
    body: String,
) -> Result<CommentId, IpcError> {
    write(&app, &state, spec_id, move |c| c.reply(thread_id, &body)).await
}

/// Resolves or reopens a thread.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, app))]
pub async fn set_thread_state(
    app: AppHandle,
    state: State<'_, AppState>,
    spec_id: SpecId,
    thread_id: ThreadId,
    event: ThreadEventKind,
) -> Result<(), IpcError> {
    write(&app, &state, spec_id, move |c| c.set_thread_state(thread_id, event)).await
}

/// Full-text search.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn search(state: State<'_, AppState>, query: String, limit: usize) -> Result<Vec<SearchHit>, IpcError> {
    call(&state, move |c| c.search(&query, limit)).await
}

/// The store at a glance (the sync bar), with whether the server answered last.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn status(state: State<'_, AppState>) -> Result<StoreStatus, IpcError> {
    let online = state.sync.engine().and_then(|e| e.is_online());
    let mut status = call(&state, |c| c.status()).await?;
    status.online = online;
    Ok(status)
}

/// Every queued local change.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn outbox(state: State<'_, AppState>) -> Result<Vec<OutboxEntry>, IpcError> {
    call(&state, |c| c.outbox()).await
}

/// Every workspace this client knows.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn workspaces(state: State<'_, AppState>) -> Result<Vec<WorkspaceView>, IpcError> {
    call(&state, |c| c.workspaces()).await
}
