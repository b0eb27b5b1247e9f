//! The server's one error type. Every HTTP error leaves as `handoff_core::protocol::ApiError`
//! `{code, message}`; internal failures are logged and answered with `internal` only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handoff_core::CoreError;
use handoff_core::protocol::{ApiError, ApiErrorCode};
use serde::Serialize;

/// Everything that can go wrong while serving a request or running a command.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A refusal meant for the caller, with a stable code.
    #[error("{message}")]
    Api {
        /// The stable code.
        code: ApiErrorCode,
        /// A sentence for people.
        message: String,
    },
    /// A push carried a revision whose blobs were not uploaded yet: nothing was applied.
    #[error("the server lacks {} blob(s) a revision needs; upload them and push again", .0.len())]
    BlobsMissing(Vec<String>),
    /// A push skipped mutation ids: the server has recorded up to `recorded` for this client
    /// (after a restore from backup it can be behind what the client knows was recorded).
    #[error("mutation ids skip ahead: the server has recorded up to {recorded}, so the next must be {}, not {got}", recorded + 1)]
    MutationGap {
        /// The last id the server recorded for the client.
        recorded: u64,
        /// The first id the push carried.
        got: u64,
    },
    /// The caller's token spent its request budget.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be accepted again.
        retry_after_secs: u64,
    },
    /// The database schema was written by a newer server.
    #[error("the database schema is at version {found}, newer than this server's {known}; run a newer handoff-server")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this binary knows.
        known: i64,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A file operation failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Stored JSON could not be read or written.
    #[error("stored json: {0}")]
    Json(#[from] serde_json::Error),
    /// A background task died.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The blob store did not answer, or refused, while serving: the request may succeed
    /// later (answered 503 with `Retry-After`; the details stay in the log).
    #[error("the blob store is unavailable: {0}")]
    BlobStoreUnavailable(String),
    /// The server cannot start as configured (an object store that refuses, a missing bucket).
    #[error("{0}")]
    Config(String),
    /// Any other internal failure, described for the log.
    #[error("{0}")]
    Internal(String),
}

/// Seconds a client is told to wait after the blob store was unavailable.
pub const BLOB_STORE_RETRY_SECS: u64 = 5;

/// Shorthand for results in this crate.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl ServerError {
    /// A refusal with a code and a message for the caller.
    pub fn api(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ServerError::Api { code, message: message.into() }
    }

    /// `invalid`: a field failed validation.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::api(ApiErrorCode::Invalid, message)
    }

    /// `forbidden`: the caller lacks the role or assignment.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::api(ApiErrorCode::Forbidden, message)
    }

    /// `not_found`: missing, or not visible to the caller.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::api(ApiErrorCode::NotFound, message)
    }

    /// `unauthorized`: no, unknown or wrong credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::api(ApiErrorCode::Unauthorized, message)
    }

    /// The stable code this error answers with.
    pub fn code(&self) -> ApiErrorCode {
        match self {
            ServerError::Api { code, .. } => *code,
            ServerError::BlobsMissing(_) => ApiErrorCode::NotFound,
            ServerError::MutationGap { .. } => ApiErrorCode::MutationGap,
            ServerError::RateLimited { .. } => ApiErrorCode::RateLimited,
            _ => ApiErrorCode::Internal,
        }
    }
}

impl From<CoreError> for ServerError {
    fn from(e: CoreError) -> Self {
        ServerError::api(core_code(&e), e.to_string())
    }
}

/// The API code for a core rule's refusal.
pub fn core_code(e: &CoreError) -> ApiErrorCode {
    use handoff_core::ErrorCode;
    match e {
        CoreError::TooLong { .. } | CoreError::FileTooLarge { .. } => ApiErrorCode::TooLarge,
        _ => match e.code() {
            ErrorCode::Forbidden => ApiErrorCode::Forbidden,
            ErrorCode::NotFound => ApiErrorCode::NotFound,
            ErrorCode::Invalid | ErrorCode::InvalidTransition | ErrorCode::Conflict => ApiErrorCode::Invalid,
        },
    }
}

/// The HTTP status for an API code.
pub fn status_for(code: ApiErrorCode) -> StatusCode {
    use ApiErrorCode::*;
    match code {
        Invalid | MalformedRequest | InviteInvalid => StatusCode::BAD_REQUEST,
        Unauthorized | TokenExpired | TokenRevoked => StatusCode::UNAUTHORIZED,
        Forbidden => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        UpgradeRequired => StatusCode::UPGRADE_REQUIRED,
        MutationGap | AlreadyExists | BlobsMissing | LastOwner => StatusCode::CONFLICT,
        TooLarge | QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer to a push that skipped ids: an `ApiError` plus the last id the server recorded.
#[derive(Serialize)]
struct MutationGapBody {
    code: ApiErrorCode,
    message: String,
    recorded: u64,
}

/// The answer to a push that needs blobs first: an `ApiError` plus the hashes to upload.
#[derive(Serialize)]
struct BlobsMissingBody<'a> {
    code: ApiErrorCode,
    message: String,
    missing: &'a [String],
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        match &self {
            ServerError::Api { code, message } => {
                tracing::info!(code = ?code, %message, "request refused");
                (status_for(*code), axum::Json(ApiError { code: *code, message: message.clone() })).into_response()
            }
            ServerError::BlobsMissing(missing) => {
                tracing::info!(count = missing.len(), "push refused: blobs missing");
                let body = BlobsMissingBody { code: ApiErrorCode::BlobsMissing, message: self.to_string(), missing };
                (StatusCode::CONFLICT, axum::Json(body)).into_response()
            }
            ServerError::MutationGap { recorded, .. } => {
                tracing::info!(recorded, "push refused: mutation ids skip ahead");
                let body = MutationGapBody { code: ApiErrorCode::MutationGap, message: self.to_string(), recorded: *recorded };
                (StatusCode::CONFLICT, axum::Json(body)).into_response()
            }
            ServerError::RateLimited { retry_after_secs } => {
                let body = ApiError { code: ApiErrorCode::RateLimited, message: self.to_string() };
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                resp
            }
            ServerError::BlobStoreUnavailable(detail) => {
                tracing::warn!(%detail, "blob store unavailable");
                let body = ApiError {
                    code: ApiErrorCode::Internal,
                    message: format!(
                        "the server's file storage is unavailable; nothing was stored, try again in {BLOB_STORE_RETRY_SECS} s"
                    ),
                };
                let mut resp = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(BLOB_STORE_RETRY_SECS));
                resp
            }
            internal => {
                // The details stay in the log: they can name files, queries and hosts.
                tracing::error!(error = %internal, "internal error");
                let body = ApiError {
                    code: ApiErrorCode::Internal,
                    message: "internal server error; the details are in the server log".into(),
                };
                (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
            }
        }
    }
}
