//! The background sync: one [`SyncEngine`] for the joined server, driven by the engine's own
//! [`SyncEngine::watch`] loop, and nudged after local changes. Everything it learns goes to
//! the UI as events: [`SYNC_STATE`] (online, pending, attention, last error), [`SYNC_PROGRESS`]
//! and [`crate::commands::STORE_CHANGED`] after a round that pulled or pushed.
//!
//! No sync rules live here: the engine decides what to push, pull and when to back off.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use handoff_client::sync::{DownloadsStatus, ProgressFn, SyncOptions};
use handoff_client::{Client, Code, Progress, SyncEngine, SyncError, SyncReport};
use handoff_core::Timestamp;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};

use crate::AppState;
use crate::commands::announce;
use crate::error::IpcError;

/// The event carrying a [`SyncState`] after every round and every sign-in change.
pub const SYNC_STATE: &str = "sync-state";
/// The event carrying [`Progress`] during a round.
pub const SYNC_PROGRESS: &str = "sync-progress";

/// How often the loop syncs when the server sends no pokes.
const EVERY: Duration = Duration::from_secs(30);
/// The longest pause between retries while the server does not answer.
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// How long local changes gather before a nudge syncs them.
const NUDGE_DELAY: Duration = Duration::from_millis(300);

/// What the sync bar shows: connection, queue and the last problem.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct SyncState {
    /// Whether a background sync runs (signed in with a stored token).
    pub signed_in: bool,
    /// `true` when the server answered the last request, `false` when it did not, `None`
    /// before any request.
    pub online: Option<bool>,
    /// Local changes not yet sent.
    pub pending: usize,
    /// Changes the server rejected or kept as conflicts.
    pub attention: usize,
    /// When the last sync finished, if ever.
    pub last_sync: Option<Timestamp>,
    /// Why the last round failed (`offline`, `token_revoked`, `no_keychain`, …), if it did.
    pub error: Option<IpcError>,
    /// Revision files still to download, and what the download limit holds back.
    pub downloads: Option<DownloadsStatus>,
    /// Why the last background download of revision files stopped short, if it did.
    pub download_error: Option<IpcError>,
}

/// The running engine and the switch that stops its loop.
struct Running {
    engine: Arc<SyncEngine>,
    stop: tokio::sync::watch::Sender<bool>,
}

/// The app's sync slot: at most one engine at a time, plus the last state shown.
#[derive(Default)]
pub struct SyncSlot {
    running: Mutex<Option<Running>>,
    last: Mutex<SyncState>,
    nudge_queued: Arc<AtomicBool>,
    download_error: Mutex<Option<IpcError>>,
}

impl SyncSlot {
    /// The running engine, if signed in.
    pub fn engine(&self) -> Option<Arc<SyncEngine>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|r| r.engine.clone())
    }

    /// The last state sent to the UI.
    pub fn last(&self) -> SyncState {
        self.last.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_last(&self, s: SyncState) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = s;
    }

    /// Stops the loop (if any) and forgets the engine; returns it for a last call (logout).
    pub fn stop(&self) -> Option<Arc<SyncEngine>> {
        let old = self.running.lock().unwrap_or_else(PoisonError::into_inner).take();
        old.map(|r| {
            let _ = r.stop.send(true);
            r.engine
        })
    }
}

/// Runs blocking work (SQLite, keychain) on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<T, IpcError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, IpcError> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(f).await.map_err(IpcError::internal)?
}

/// An engine for `server_url` whose progress goes to the UI.
pub fn engine(app: &AppHandle, client: Arc<Client>, server_url: &str) -> Result<Arc<SyncEngine>, IpcError> {
    let engine =
        SyncEngine::http(client, server_url)?.with_options(SyncOptions { backoff_cap: BACKOFF_CAP, ..SyncOptions::default() });
    let handle = app.clone();
    let progress: ProgressFn = Arc::new(move |p: Progress| {
        if let Err(e) = handle.emit(SYNC_PROGRESS, p) {
            tracing::debug!(error = %e, "cannot emit sync-progress");
        }
    });
    engine.set_progress(Some(progress));
    Ok(Arc::new(engine))
}

/// Starts the background loop for `engine` (which holds a token), replacing any other.
pub fn start(app: &AppHandle, engine: Arc<SyncEngine>) {
    let state = app.state::<AppState>();
    let (tx, rx) = tokio::sync::watch::channel(false);
    if let Some(old) =
        state.sync.running.lock().unwrap_or_else(PoisonError::into_inner).replace(Running { engine: engine.clone(), stop: tx })
    {
        let _ = old.stop.send(true);
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let on_round = |r: &Result<SyncReport, SyncError>| after_round(&app, &engine, r);
        engine.watch(rx, EVERY, on_round).await;
        tracing::info!("the background sync stopped");
    });
}

/// Syncs soon after a local change (several changes in a row share one round).
pub fn nudge(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Some(engine) = state.sync.engine() else { return };
    let queued = state.sync.nudge_queued.clone();
    if queued.swap(true, Ordering::AcqRel) {
        return;
    }
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(NUDGE_DELAY).await;
        queued.store(false, Ordering::Release);
        // Signed out (or in elsewhere) while the changes gathered: this engine is done.
        if !is_running(&app, &engine) {
            return;
        }
        let result = engine.sync_once().await;
        after_round(&app, &engine, &result);
    });
}

/// Resumes the background sync at start-up when this data dir joined a server and its
/// token is in the keychain; a missing keychain is shown in the sync bar.
pub fn resume(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(client) = app.state::<AppState>().client() else { return };
        let c = client.clone();
        let found = blocking(move || {
            let Some(url) = c.server_url()? else { return Ok(None) };
            let token = c.token_store()?.load().map_err(IpcError::from)?;
            Ok(Some((url, token)))
        })
        .await;
        match found {
            Ok(Some((url, token))) => match engine(&app, client, &url) {
                Ok(engine) => {
                    engine.set_token(Some(token));
                    start(&app, engine);
                }
                Err(e) => publish(&app, None, Some(e)).await,
            },
            Ok(None) => publish(&app, None, None).await,
            Err(e) if e.code == Code::NotSignedIn => publish(&app, None, None).await,
            Err(e) => publish(&app, None, Some(e)).await,
        }
    });
}

/// Whether `engine` is the one the app syncs with now (not stopped by a sign-out, nor replaced).
pub(crate) fn is_running(app: &AppHandle, engine: &Arc<SyncEngine>) -> bool {
    app.state::<AppState>().sync.engine().is_some_and(|running| Arc::ptr_eq(&running, engine))
}

/// After a round: tell the UI the new state, and that the store changed when it did.
fn after_round(app: &AppHandle, engine: &Arc<SyncEngine>, result: &Result<SyncReport, SyncError>) {
    let changed = matches!(result, Ok(r) if r.records_pulled > 0 || r.pushes > 0 || r.lost_scopes > 0);
    if !is_running(app, engine) {
        // A round that ended after a sign-out: its "not signed in" would overwrite the
        // signed-out state the sign-out showed (and move the Account form under the pointer).
        // What it wrote to the store still shows.
        tracing::debug!("a round of a stopped sync ended; its state is not shown");
        if changed {
            announce(app, None);
        }
        return;
    }
    let error = result.as_ref().err().map(IpcError::from);
    if let Some(e) = &error {
        tracing::warn!(code = %e.code, message = %e.message, "sync round failed");
    }
    if matches!(result, Err(e) if e.needs_sign_in()) {
        // A revoked or expired token: stop syncing until the user signs in again.
        app.state::<AppState>().sync.stop();
    }
    if result.is_ok() {
        download_in_background(app, engine);
    }
    let app = app.clone();
    let online = engine.is_online();
    tauri::async_runtime::spawn(async move {
        if changed {
            announce(&app, None);
        }
        publish(&app, online, error).await;
        if changed {
            crate::notices::check(&app).await;
        }
    });
}

/// Downloads the revision files the data dir's limit allows, beside the sync rounds (one
/// run at a time); when files arrive the UI hears `store-changed`, and the sync bar the new
/// state either way.
pub fn download_in_background(app: &AppHandle, engine: &Arc<SyncEngine>) {
    let app = app.clone();
    let online = engine.is_online();
    engine.prefetch_in_background(move |result| {
        let error = result.as_ref().err().map(IpcError::from);
        if let Some(e) = &error {
            tracing::warn!(code = %e.code, message = %e.message, "downloading revision files failed");
        }
        let arrived = matches!(&result, Ok(r) if r.blobs > 0);
        *app.state::<AppState>().sync.download_error.lock().unwrap_or_else(PoisonError::into_inner) = error;
        tauri::async_runtime::spawn(async move {
            if arrived {
                announce(&app, None);
            }
            let error = app.state::<AppState>().sync.last().error;
            publish(&app, online, error).await;
        });
    });
}

/// Downloads one revision's files now, whatever the limit says (the diff viewer's Download).
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn fetch_revision_files(
    app: AppHandle,
    state: tauri::State<'_, AppState>,
    spec_id: handoff_core::SpecId,
    number: u32,
) -> Result<(), IpcError> {
    let engine = state.sync.engine().ok_or_else(|| {
        IpcError::new(
            Code::NotSignedIn,
            format!("Revision {number}'s files are not on this computer, and it is not signed in to a server to download them (Account)."),
        )
    })?;
    let result = engine.fetch_revision_files(spec_id, Some(number)).await;
    if matches!(&result, Ok(r) if r.blobs > 0) {
        crate::commands::changed(&app, Some(spec_id));
    }
    let error = state.sync.last().error;
    publish(&app, engine.is_online(), error).await;
    result.map(drop).map_err(IpcError::from)
}

/// The data dir's cap on background downloads of revision files, in bytes.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(state))]
pub async fn download_limit(state: tauri::State<'_, AppState>) -> Result<u64, IpcError> {
    let client = state.client()?;
    blocking(move || client.prefetch_limit().map_err(IpcError::from)).await
}

/// Sets the cap on background downloads and starts downloading what now fits.
#[tauri::command(rename_all = "snake_case")]
#[tracing::instrument(skip(app, state))]
pub async fn set_download_limit(app: AppHandle, state: tauri::State<'_, AppState>, bytes: u64) -> Result<(), IpcError> {
    let client = state.client()?;
    blocking(move || client.set_prefetch_limit(bytes).map_err(IpcError::from)).await?;
    match state.sync.engine() {
        Some(engine) => download_in_background(&app, &engine),
        None => publish(&app, None, None).await,
    }
    Ok(())
}

/// Reads the queue counts, records and emits the state.
pub async fn publish(app: &AppHandle, online: Option<bool>, error: Option<IpcError>) {
    let state = app.state::<AppState>();
    let signed_in = state.sync.engine().is_some();
    let download_error = state.sync.download_error.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let mut next = SyncState { signed_in, online, error, download_error, ..SyncState::default() };
    if let Ok(client) = state.client()
        && let Ok((status, downloads)) =
            blocking(move || Ok((client.status().map_err(IpcError::from)?, client.downloads_status().map_err(IpcError::from)?)))
                .await
    {
        next.pending = status.pending;
        next.attention = status.attention;
        next.last_sync = status.last_sync;
        next.downloads = Some(downloads);
    }
    state.sync.set_last(next.clone());
    if let Err(e) = app.emit(SYNC_STATE, next) {
        tracing::warn!(error = %e, "cannot emit sync-state");
    }
}
