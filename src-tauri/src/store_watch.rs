//! Notices changes that other processes (the `handoff` CLI, a second app) commit to the same
//! data dir and tells the UI with `store-changed`, so their work shows up within a second.
//!
//! SQLite's `PRAGMA data_version` changes only when *another* connection commits, so one tiny
//! query a second is the whole cost and the app's own writes (which emit `store-changed`
//! themselves) never fire it twice. A file watcher on the WAL would fire for the app's own
//! writes too, and would need another dependency and inotify limits.

use std::time::Duration;

use tauri::{AppHandle, Manager};

use crate::AppState;
use crate::commands::changed;
use crate::sync::blocking;

/// How often the store is asked whether someone else wrote to it.
const EVERY: Duration = Duration::from_secs(1);

/// Starts the watcher for the app's lifetime. The first reading is taken at once, before the
/// window loads anything, so a write between start-up and the first tick is not missed.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(client) = app.state::<AppState>().client() else { return };
        let mut seen: Option<i64> = None;
        loop {
            let c = client.clone();
            match blocking(move || c.data_version().map_err(Into::into)).await {
                Ok(v) => {
                    if seen.is_some_and(|s| s != v) {
                        tracing::debug!("another process changed the store");
                        changed(&app, None);
                    }
                    seen = Some(v);
                }
                Err(e) => tracing::debug!(code = %e.code, "cannot read the store's data_version"),
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}
