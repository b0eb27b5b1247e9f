//! Desktop notices for handoffs to this person: checked after every sync round that brought
//! something and once a minute (so notices held outside working hours appear when they
//! start). The decision is handoff-client's ([`handoff_client::Client::notices`]); this
//! shows them with the notification plugin and tells the UI ([`NOTICES`]).

use std::time::Duration;

use handoff_client::{Notice, NoticePlan};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;
use crate::sync::blocking;

/// The event carrying [`NoticesShown`] after each check.
pub const NOTICES: &str = "notices";

/// How often held notices are looked at again.
const EVERY: Duration = Duration::from_secs(60);

/// What a check showed and what it holds.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct NoticesShown {
    /// Shown now.
    pub shown: Vec<Notice>,
    /// Waiting for working hours.
    pub held: u32,
    /// When they will be shown.
    pub held_until: Option<handoff_core::Timestamp>,
}

/// Checks once a minute for as long as the app runs.
pub fn start(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            check(&app).await;
            tokio::time::sleep(EVERY).await;
        }
    });
}

/// Shows the notices that are due now, records them as shown, and tells the UI.
pub async fn check(app: &AppHandle) {
    let Ok(client) = app.state::<AppState>().client() else { return };
    let plan = blocking(move || {
        let plan = client.notices()?;
        let items: Vec<_> = plan.due.iter().map(|n| n.item.clone()).collect();
        client.notified(&items)?;
        Ok::<NoticePlan, handoff_client::ClientError>(plan).map_err(crate::error::IpcError::from)
    })
    .await;
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            tracing::warn!(code = %e.code, message = %e.message, "cannot read the notices");
            return;
        }
    };
    for n in &plan.due {
        // A desktop without a notification service still gets the UI's own notice below.
        if let Err(e) = app.notification().builder().title(&n.title).body(&n.body).show() {
            tracing::warn!(error = %e, "cannot show a desktop notification");
        }
    }
    let shown = NoticesShown { shown: plan.due, held: plan.held, held_until: plan.held_until };
    if let Err(e) = app.emit(NOTICES, shown) {
        tracing::warn!(error = %e, "cannot emit notices");
    }
}
