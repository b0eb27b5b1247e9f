//! `POST /v1/push` and `POST /v1/pull`.

use axum::Json;
use axum::extract::State;
use handoff_core::protocol::{Outcome, PullRequest, PullResponse, PushRequest, PushResponse};

use super::ApiJson;
use crate::auth::Caller;
use crate::error::Result;
use crate::pull;
use crate::push::{self, PushInput};
use crate::state::AppState;

/// `POST /v1/push`: applies the mutations in one transaction and answers one result each.
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>> {
    push::check_shape(&req)?;
    tracing::info!(client = %req.client_id, count = req.mutations.len(), "push");
    let input =
        PushInput { user_id: caller.user_id, email: caller.email, now: state.now(), hlc: state.hlc.clone(), request: req };
    let (out, history) = state
        .db
        .write(move |db| {
            Box::pin(async move {
                let out = push::push(db, &input).await?;
                Ok((out, crate::storage::queries::history(db).await?))
            })
        })
        .await?;
    // Only after commit: a poke must never announce a version that could still roll back.
    state.publish(out.changes);
    for r in &out.results {
        state.metrics.push_outcome(match r.outcome {
            Outcome::Applied => "applied",
            Outcome::Merged => "merged",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Rejected { .. } => "rejected",
        });
    }
    Ok(Json(PushResponse {
        results: out.results,
        server_hlc: state.server_hlc()?,
        history: Some(history),
        max_request_bytes: Some(state.config.max_json_bytes as u64),
    }))
}

/// `POST /v1/pull`: one page of changes in the scopes the caller can see.
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PullRequest>,
) -> Result<Json<PullResponse>> {
    let (user, max_bytes) = (caller.user(), state.config.max_pull_bytes);
    let (pages, more, history) = state
        .db
        .read(move |db| {
            Box::pin(async move {
                let (pages, more) = pull::pull(db, &user, &req, max_bytes).await?;
                Ok((pages, more, crate::storage::queries::history(db).await?))
            })
        })
        .await?;
    state.metrics.pulled(pages.iter().map(|p| p.records.len()).sum());
    Ok(Json(PullResponse {
        pages,
        more,
        server_hlc: state.server_hlc()?,
        history: Some(history),
        max_request_bytes: Some(state.config.max_json_bytes as u64),
    }))
}
