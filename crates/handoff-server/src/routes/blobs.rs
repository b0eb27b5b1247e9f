//! `/v1/blobs/*`: which blobs are missing, upload (streamed, verified), download (only what
//! the caller may see).

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use handoff_core::protocol::{ApiErrorCode, BlobsMissingRequest, BlobsMissingResponse};
use handoff_core::validate;

use super::ApiJson;
use crate::auth::Caller;
use crate::error::{Result, ServerError};
use crate::pull;
use crate::state::AppState;
use crate::storage::queries;

/// `POST /v1/blobs/missing`
pub async fn missing(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BlobsMissingRequest>,
) -> Result<Json<BlobsMissingResponse>> {
    if req.hashes.len() > state.config.max_missing_query {
        return Err(ServerError::api(
            ApiErrorCode::TooLarge,
            format!("ask about at most {} blobs at once", state.config.max_missing_query),
        ));
    }
    for h in &req.hashes {
        validate::sha256_hex(h)?;
    }
    let mut seen = BTreeSet::new();
    let hashes: Vec<String> = req.hashes.into_iter().filter(|h| seen.insert(h.clone())).collect();
    let (asked, user) = (hashes.clone(), caller.user());
    // Answered per caller: a blob only someone else may read is missing for this caller, who
    // then proves having its content by uploading it.
    let readable = state.db.read(move |db| Box::pin(async move { pull::readable_blobs(db, &user, &asked).await })).await?;
    Ok(Json(BlobsMissingResponse { missing: hashes.into_iter().filter(|h| !readable.contains(h)).collect() }))
}

/// `PUT /v1/blobs/{sha256}`: stored once its content hashes to its address.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode> {
    validate::sha256_hex(&sha256)?;
    let max = state.config.max_blob_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ServerError::api(ApiErrorCode::TooLarge, format!("the blob is over the limit of {max} bytes")));
    }
    let (user, sha) = (caller.user(), sha256.clone());
    // Content the account already uploaded is not counted twice.
    let used = state
        .db
        .read(move |db| {
            Box::pin(async move {
                let mine = !queries::blobs_uploaded_by(db, std::slice::from_ref(&sha), &user).await?.is_empty();
                if mine { Ok(None) } else { queries::bytes_uploaded_by(db, &user).await.map(Some) }
            })
        })
        .await?;
    let room = match (state.config.upload_quota_bytes, used) {
        (Some(quota), Some(used)) => Some(quota.saturating_sub(used)),
        _ => None,
    };
    let over_quota = || {
        ServerError::api(
            ApiErrorCode::QuotaExceeded,
            format!(
                "your account reached this server's upload quota of {} bytes; ask its operator to raise it",
                state.config.upload_quota_bytes.unwrap_or(0)
            ),
        )
    };
    if let Some(room) = room
        && declared.unwrap_or(0) > room
    {
        return Err(over_quota());
    }
    let size = match state.blobs.put(&sha256, body, room.map_or(max, |r| r.min(max))).await {
        Err(ServerError::Api { code: ApiErrorCode::TooLarge, .. }) if room.is_some_and(|r| r < max) => {
            return Err(over_quota());
        }
        other => other?,
    };
    let (user, now) = (caller.user(), state.now().as_millis());
    state.db.write(move |db| Box::pin(async move { queries::insert_blob(db, &sha256, size as i64, &user, now).await })).await?;
    state.metrics.blob_bytes_in().inc_by(size);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v1/blobs/{sha256}`: only a blob the caller uploaded or that a revision in a scope they
/// can see references; anything else is `not_found`, whether or not it exists.
///
/// Resumable: `Range: bytes=N-` answers 206 with the bytes from N on, and 416 when N is at or
/// past the end. Other range forms are answered with the whole blob (200), as RFC 9110 allows.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    validate::sha256_hex(&sha256)?;
    let (user, sha) = (caller.user(), sha256.clone());
    let allowed = state
        .db
        .read(move |db| {
            Box::pin(async move {
                if queries::blobs_present(db, std::slice::from_ref(&sha)).await?.is_empty() {
                    return Ok(false);
                }
                Ok(!pull::readable_blobs(db, &user, std::slice::from_ref(&sha)).await?.is_empty())
            })
        })
        .await?;
    if !allowed {
        return Err(ServerError::not_found("no such blob, or not one you may read"));
    }
    let from = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(open_ended_range);
    let (len, body) = state.blobs.open_stream(&sha256, from.unwrap_or(0)).await?;
    // Counted as sent, so a download that breaks off counts what left.
    let served = state.metrics.blob_bytes_out();
    let body = Body::from_stream(body.into_data_stream().inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            served.inc_by(bytes.len() as u64);
        }
    }));
    let octets = (header::CONTENT_TYPE, "application/octet-stream".to_owned());
    let ranges = (header::ACCEPT_RANGES, "bytes".to_owned());
    match from {
        Some(from) if from >= len => {
            Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))]).into_response())
        }
        Some(from) => Ok((
            StatusCode::PARTIAL_CONTENT,
            [
                octets,
                ranges,
                (header::CONTENT_LENGTH, (len - from).to_string()),
                (header::CONTENT_RANGE, format!("bytes {from}-{}/{len}", len - 1)),
            ],
            body,
        )
            .into_response()),
        None => Ok(([octets, ranges, (header::CONTENT_LENGTH, len.to_string())], body).into_response()),
    }
}

/// The start of a `bytes=N-` range, the only form a resuming client sends.
fn open_ended_range(value: &str) -> Option<u64> {
    value.trim().strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()
}
