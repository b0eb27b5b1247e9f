//! The HTTP surface: the router, the protocol-version gate, request spans, and the JSON body
//! extractor that answers malformed or oversized bodies with `{code, message}`.

mod accounts;
mod blobs;
mod events;
mod json_text;
mod ops;
mod sync;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use handoff_core::protocol::{ApiErrorCode, PROTOCOL_HEADER, PROTOCOL_VERSION};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::ServerError;
use crate::state::AppState;

/// Characters in a member's time zone name.
pub const TIMEZONE_CHARS: usize = 64;

/// Every route: method and path as the router and the OpenAPI document spell them.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/v1/auth/join"),
    ("post", "/v1/auth/login"),
    ("post", "/v1/auth/logout"),
    ("get", "/v1/auth/tokens"),
    ("delete", "/v1/auth/tokens/{token_id}"),
    ("get", "/v1/workspaces/{id}/members"),
    ("post", "/v1/workspaces/{id}/invites"),
    ("delete", "/v1/workspaces/{id}/members/{user_id}"),
    ("put", "/v1/workspaces/{id}/members/{user_id}/role"),
    ("put", "/v1/workspaces/{id}/members/{user_id}/profile"),
    ("post", "/v1/push"),
    ("post", "/v1/pull"),
    ("get", "/v1/events"),
    ("post", "/v1/blobs/missing"),
    ("put", "/v1/blobs/{sha256}"),
    ("get", "/v1/blobs/{sha256}"),
    ("get", "/v1/openapi.json"),
];

/// The server's router over `state`.
///
/// Every request holds one of `max_concurrent_requests` slots while it is served (none left:
/// `rate_limited` at once). Requests that exchange a bounded JSON body end after
/// `request_timeout`, so a client that sends its body slowly cannot hold a slot; blob
/// transfers (up to 2 GiB) and event streams are long by design and are bounded by their size,
/// their token's life and the caps on streams instead.
pub fn router(state: AppState) -> Router {
    let json_limit = state.config.max_json_bytes;
    // Built once from the running configuration: the document states this server's limits.
    let document: std::sync::Arc<str> = crate::openapi::document(&state.config).to_string().into();
    let timed = Router::new()
        .route("/v1/auth/join", post(accounts::join))
        .route("/v1/auth/login", post(accounts::login))
        .route("/v1/auth/logout", post(accounts::logout))
        .route("/v1/auth/tokens", get(accounts::tokens))
        .route("/v1/auth/tokens/{token_id}", delete(accounts::revoke_token))
        .route("/v1/workspaces/{id}/members", get(accounts::members))
        .route("/v1/workspaces/{id}/invites", post(accounts::invite))
        .route("/v1/workspaces/{id}/members/{user_id}", delete(accounts::remove_member))
        .route("/v1/workspaces/{id}/members/{user_id}/role", put(accounts::set_role))
        .route("/v1/workspaces/{id}/members/{user_id}/profile", put(accounts::set_profile))
        .route("/v1/push", post(sync::push))
        .route("/v1/pull", post(sync::pull))
        .route("/v1/blobs/missing", post(blobs::missing))
        .route(
            "/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document.to_string()) }
            }),
        )
        .layer(middleware::from_fn_with_state(state.clone(), time_limit));
    let long = Router::new()
        .route("/v1/events", get(events::events))
        // Blob bodies are streamed with their own limit, not buffered.
        .route("/v1/blobs/{sha256}", put(blobs::upload).get(blobs::download).layer(DefaultBodyLimit::disable()));
    let v1 = timed.merge(long).layer(DefaultBodyLimit::max(json_limit)).layer(middleware::from_fn(require_protocol));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(v1)
        .fallback(|| async { ServerError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                axum::Json(handoff_core::protocol::ApiError {
                    code: ApiErrorCode::NotFound,
                    message: "this endpoint does not take that method".into(),
                }),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), concurrency_limit))
        .layer(middleware::from_fn_with_state(state.clone(), trace_request))
        .with_state(state)
}

/// Ends a request that takes longer than `request_timeout` (reading its body included).
async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ServerError::api(
            ApiErrorCode::Internal,
            format!("the request took longer than the server allows ({} s); try again", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Holds one of the server's request slots for the request, or refuses it when none is free.
async fn concurrency_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.request_slots.clone().try_acquire_owned() {
        Ok(_slot) => next.run(req).await,
        Err(_) => ServerError::RateLimited { retry_after_secs: 1 }.into_response(),
    }
}

/// Refuses `/v1` requests that do not speak this protocol version: the client keeps its
/// outbox and must upgrade.
async fn require_protocol(req: Request, next: Next) -> Response {
    let version = req.headers().get(PROTOCOL_HEADER).and_then(|v| v.to_str().ok()).map(str::trim);
    if version != Some(PROTOCOL_VERSION.to_string().as_str()) {
        let message = match version {
            None => format!("send the {PROTOCOL_HEADER} header; this server speaks protocol {PROTOCOL_VERSION}"),
            Some(v) => format!(
                "this server speaks protocol {PROTOCOL_VERSION}, not {:?}; upgrade the app",
                v.chars().take(16).collect::<String>()
            ),
        };
        return ServerError::api(ApiErrorCode::UpgradeRequired, message).into_response();
    }
    next.run(req).await
}

/// One span per request, with the outcome recorded on it; counted and timed per route.
async fn trace_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let span = tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), user = tracing::field::Empty, status = tracing::field::Empty);
    // The router's pattern, not the path: hashes and ids would make a series per request.
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = req.method().clone();
    let started = std::time::Instant::now();
    async move {
        let resp = next.run(req).await;
        tracing::Span::current().record("status", resp.status().as_u16());
        tracing::debug!("answered");
        state.metrics.request(method.as_str(), &route, resp.status().as_u16(), started.elapsed());
        resp
    }
    .instrument(span)
    .await
}

/// A JSON body whose problems are answered as `malformed_request` or `too_large`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ServerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ServerError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ServerError::api(ApiErrorCode::TooLarge, "the request body is over the server's limit")
            } else {
                ServerError::api(ApiErrorCode::MalformedRequest, "the request body could not be read")
            }
        })?;
        let refused = |detail: String| {
            let detail: String = detail.chars().take(300).collect();
            ServerError::api(
                ApiErrorCode::MalformedRequest,
                format!("the body is not valid JSON of the expected shape: {detail}"),
            )
        };
        if !json_text::kinds_are_names(&bytes) {
            return Err(refused("a `kind` must be a name, such as \"spec.create\"".into()));
        }
        match serde_json::from_slice(&bytes) {
            Ok(value) => Ok(ApiJson(value)),
            // JSON has one number type, so `10.0` is the integer 10 (and the API document's
            // integers are JSON Schema's, which say so): read again with whole numbers
            // written as integers. Only bodies that failed pay for the second reading.
            Err(first) => match json_text::whole_numbers_as_integers(&bytes) {
                Some(plain) => serde_json::from_slice(&plain).map(ApiJson).map_err(|e| refused(e.to_string())),
                None => Err(refused(first.to_string())),
            },
        }
    }
}
