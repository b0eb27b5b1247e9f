//! The Handoff desktop shell: the Tauri builder, its plugins, and the IPC commands in
//! [`commands`], each of which delegates in one call to [`handoff_client::Client`].
//!
//! Architecture invariant: no business logic, SQL or HTTP here. Nothing below this crate
//! knows Tauri exists.

pub mod account;
pub mod commands;
pub mod diff_commands;
pub mod error;
pub mod inbox_commands;
pub mod input;
pub mod member_commands;
pub mod navigation;
pub mod notices;
pub mod review_commands;
pub mod store_watch;
pub mod sync;

#[cfg(test)]
mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use handoff_client::Client;

use crate::error::IpcError;

/// The environment variable that overrides the data dir (shared with the `handoff` CLI).
pub use handoff_client::place::DATA_DIR_ENV;

/// What the commands share: the client, or why it could not be opened (shown by the UI).
pub struct AppState {
    client: Result<Arc<Client>, IpcError>,
    /// The background sync, when signed in.
    pub sync: sync::SyncSlot,
    /// An invite handed to the app at start (see [`account::FirstRunInvite`]).
    pub first_run: Option<account::FirstRunInvite>,
}

impl AppState {
    /// Opens the client in `data_dir`; a failure is kept and answered to every command.
    pub fn open(data_dir: Result<PathBuf, IpcError>) -> Self {
        let client = data_dir.and_then(|dir| {
            tracing::info!(data_dir = %dir.display(), "opening the local store");
            Client::open(&dir).map(Arc::new).map_err(IpcError::from)
        });
        if let Err(e) = &client {
            tracing::error!(code = %e.code, message = %e.message, "cannot open the local store");
        }
        Self { client, sync: sync::SyncSlot::default(), first_run: None }
    }

    /// The client, or the error that kept it from opening.
    pub fn client(&self) -> Result<Arc<Client>, IpcError> {
        self.client.clone()
    }
}

/// The data dir: `$HANDOFF_DATA_DIR`, else the platform data dir the CLI uses too.
pub fn data_dir() -> Result<PathBuf, IpcError> {
    Ok(handoff_client::place::data_dir_from_env()?)
}

/// Starts the app; returns when its last window closes.
pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,handoff_app=debug")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut state = AppState::open(data_dir());
    state.first_run = account::FirstRunInvite::from_args(std::env::args().skip(1));
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        // Desktop notices for handoffs (shown from Rust after a sync; the UI has no access).
        .plugin(tauri_plugin_notification::init())
        // Links open in the system browser, from the UI, after the person saw the address.
        .plugin(tauri_plugin_opener::init())
        .plugin(navigation::guard())
        .manage(state)
        .setup(|app| {
            sync::resume(app.handle());
            store_watch::start(app.handle());
            notices::start(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_specs,
            commands::spec_detail,
            commands::create_spec,
            commands::set_title,
            commands::edit_section,
            commands::set_status,
            commands::set_due_date,
            commands::assign,
            commands::unassign,
            commands::add_criterion,
            commands::edit_criterion,
            commands::move_criterion,
            commands::remove_criterion,
            commands::deliver,
            commands::create_thread,
            commands::reply,
            commands::set_thread_state,
            commands::search,
            commands::status,
            commands::outbox,
            commands::workspaces,
            account::account,
            account::first_run_invite,
            account::join_workspace,
            account::sign_in,
            account::sign_out,
            account::sync_now,
            account::sync_state,
            account::attention,
            account::retry_attention,
            account::discard_attention,
            account::edit_attention,
            account::change_server,
            account::export_attention,
            inbox_commands::inbox,
            inbox_commands::inbox_unread,
            inbox_commands::inbox_spec,
            inbox_commands::mark_read,
            inbox_commands::mark_all_read,
            inbox_commands::turnaround,
            inbox_commands::holds_notices,
            inbox_commands::notice_plan,
            inbox_commands::set_holds_notices,
            member_commands::members,
            member_commands::my_profile,
            member_commands::set_my_profile,
            member_commands::invite_member,
            member_commands::set_member_role,
            member_commands::remove_member,
            member_commands::engagement_end,
            member_commands::end_engagement,
            member_commands::export_spec,
            sync::fetch_revision_files,
            sync::download_limit,
            sync::set_download_limit,
            diff_commands::diff_default,
            diff_commands::diff_summary,
            diff_commands::diff_file,
            diff_commands::diff_rows,
            diff_commands::diff_file_text,
            diff_commands::diff_rows_of_lines,
            review_commands::draft_line_comment,
            review_commands::draft_reply,
            review_commands::edit_draft,
            review_commands::delete_draft,
            review_commands::drafts,
            review_commands::publish_review,
            review_commands::accept_with_override,
            review_commands::mark_ready_with_override,
            review_commands::confirm_claim,
            review_commands::reopen_claim,
            review_commands::set_file_viewed,
            review_commands::viewed_files,
            review_commands::threads_on_pair,
        ])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the app failed");
            eprintln!("handoff-app: {e}");
            ExitCode::FAILURE
        }
    }
}
