//! Operations routes, outside `/v1` and without auth (like `/healthz`): `/readyz` says whether
//! this process can serve (its database and blob store answer), so a load balancer sends
//! requests only to processes that can; `/metrics` is for Prometheus (a deployment keeps it
//! off the public address, README.md).

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handoff_core::protocol::{ApiError, ApiErrorCode};

use crate::state::AppState;

/// How long each readiness check may take: a store that does not answer in time is not ready.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Seconds a load balancer is told to wait before asking again.
pub const NOT_READY_RETRY_SECS: u64 = 5;

/// `GET /readyz`: `ready` when a read of the database and a look at the blob store both
/// succeed; else 503 naming which failed (the details go to the log), and 503 while the
/// process is stopping.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.is_draining() {
        return not_ready("this process is stopping".into());
    }
    let db = state.db.clone();
    let database = tokio::time::timeout(
        CHECK_TIMEOUT,
        db.read(|db| Box::pin(async move { crate::storage::queries::history(db).await.map(|_| ()) })),
    )
    .await;
    let blobs = tokio::time::timeout(CHECK_TIMEOUT, state.blobs.check()).await;
    let mut failed = Vec::new();
    for (what, outcome) in [("the database", database), ("the blob store", blobs)] {
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: {what} failed");
                failed.push(what);
            }
            Err(_) => {
                tracing::warn!("not ready: {what} did not answer within {} s", CHECK_TIMEOUT.as_secs());
                failed.push(what);
            }
        }
    }
    if failed.is_empty() {
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ready").into_response();
    }
    not_ready(format!("{} failed", failed.join(" and ")))
}

/// 503 with `Retry-After`, saying why.
fn not_ready(why: String) -> Response {
    let body = ApiError { code: ApiErrorCode::Internal, message: format!("not ready: {why}") };
    let mut resp = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(NOT_READY_RETRY_SECS));
    resp
}

/// `GET /metrics`: this process's metrics in the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> crate::error::Result<Response> {
    let text = state.metrics.render(state.events.open_streams(), state.db.pool_status())?;
    Ok(([(header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE)], text).into_response())
}
