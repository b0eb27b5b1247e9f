//! The diff viewer's IPC commands. Like every command, each is one call into
//! [`handoff_client::Client`] on the blocking pool (the diff is computed there and cached),
//! answering `T` or [`IpcError`]. The UI asks for what is on screen: the file list, one
//! file's shape, and windows of rows; never a whole render model.

use handoff_client::review_diff::{DefaultDiff, DiffLayout, DiffPair, DiffRow, DiffSummary, FileSide, FileView, GapExpansion};
use handoff_core::SpecId;
use tauri::State;
use tauri::ipc::Response;

use crate::AppState;
use crate::commands::call;
use crate::error::IpcError;

/// The pair the viewer opens on (last reviewed → newest, else previous → newest).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn diff_default(state: State<'_, AppState>, spec_id: SpecId) -> Result<Option<DefaultDiff>, IpcError> {
    call(&state, move |c| c.default_diff(spec_id)).await
}

/// The file list and totals of two revisions.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn diff_summary(state: State<'_, AppState>, pair: DiffPair) -> Result<DiffSummary, IpcError> {
    call(&state, move |c| c.diff_summary(pair).map(|s| (*s).clone())).await
}

/// One file's row count and hunk positions in a layout.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, expanded))]
pub async fn diff_file(
    state: State<'_, AppState>,
    pair: DiffPair,
    file: u32,
    layout: DiffLayout,
    expanded: Vec<GapExpansion>,
) -> Result<FileView, IpcError> {
    call(&state, move |c| c.diff_file(pair, file, layout, &expanded)).await
}

/// A window of one file's rows.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, expanded))]
pub async fn diff_rows(
    state: State<'_, AppState>,
    pair: DiffPair,
    file: u32,
    layout: DiffLayout,
    expanded: Vec<GapExpansion>,
    start: u32,
    count: u32,
) -> Result<Vec<DiffRow>, IpcError> {
    call(&state, move |c| c.diff_rows(pair, file, layout, &expanded, start, count)).await
}

/// One side's whole text as UTF-8 bytes, for the syntax highlighter; empty when binary or
/// absent. Raw bytes rather than a JSON string: a 4 MB file would otherwise be escaped here,
/// then parsed into a string on the UI thread only to be copied to the highlighter's worker.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn diff_file_text(state: State<'_, AppState>, pair: DiffPair, file: u32, side: FileSide) -> Result<Response, IpcError> {
    let text = call(&state, move |c| c.diff_file_text(pair, file, side)).await?;
    Ok(Response::new(text.map(String::into_bytes).unwrap_or_default()))
}

/// The rows showing each of `lines` (side, 1-based line); `None` when hidden. The viewer
/// draws threads after them.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state, expanded, lines))]
pub async fn diff_rows_of_lines(
    state: State<'_, AppState>,
    pair: DiffPair,
    file: u32,
    layout: DiffLayout,
    expanded: Vec<GapExpansion>,
    lines: Vec<(FileSide, u32)>,
) -> Result<Vec<Option<u32>>, IpcError> {
    call(&state, move |c| c.diff_rows_of_lines(pair, file, layout, &expanded, &lines)).await
}
