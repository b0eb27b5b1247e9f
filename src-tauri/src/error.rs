//! The one error shape the UI sees: `{code, message}`. The code is the client's typed
//! [`Code`]; the sentence the user reads is chosen by the UI's text module
//! (`ui/src/lib/ipc/errorText.ts`) from the code, with `message` as the detail.

use handoff_client::{ClientError, Code};
use handoff_core::CoreError;
use serde::Serialize;

/// A failed command as the UI receives it: a stable `code` to branch on and a `message`
/// in the product's words to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{code}: {message}")]
pub struct IpcError {
    /// Stable machine-readable code: what the UI branches on.
    pub code: Code,
    /// What went wrong, for people.
    pub message: String,
    /// Which size limit was exceeded, when that is what went wrong: the UI names the field
    /// and the limit in its own words and keeps the text so it can be trimmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub limit: Option<LimitExceeded>,
}

/// A size limit from `handoff_core::validate::limits` that some input went over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LimitExceeded {
    /// The field as the core names it (`title`, `section`, `comment`, `revision`, …).
    pub field: String,
    /// How much was given.
    pub actual: u64,
    /// The most allowed.
    pub limit: u64,
    /// What was counted: `characters`, `bytes`, `items` or `files`.
    pub unit: String,
}

impl IpcError {
    /// An error with a code and a message and nothing else.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), limit: None }
    }

    /// An error that is not the user's doing (a crashed worker thread, say).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(Code::Internal, message.to_string())
    }
}

impl From<ClientError> for IpcError {
    fn from(e: ClientError) -> Self {
        Self::from(&e)
    }
}

impl From<&ClientError> for IpcError {
    fn from(e: &ClientError) -> Self {
        let limit = match e {
            ClientError::Rule(CoreError::TooLong { field, actual, limit, unit }) => Some(LimitExceeded {
                field: (*field).to_owned(),
                actual: *actual as u64,
                limit: *limit as u64,
                unit: (*unit).to_owned(),
            }),
            _ => None,
        };
        Self { code: e.code(), message: e.to_string(), limit }
    }
}

impl From<handoff_client::SyncError> for IpcError {
    fn from(e: handoff_client::SyncError) -> Self {
        Self::from(&e)
    }
}

impl From<&handoff_client::SyncError> for IpcError {
    fn from(e: &handoff_client::SyncError) -> Self {
        use handoff_client::SyncError;
        match e {
            SyncError::Local(local) => Self::from(local),
            SyncError::Server { message, .. } if !message.is_empty() => Self::new(e.code(), message.clone()),
            other => Self::new(other.code(), other.to_string()),
        }
    }
}

impl From<handoff_client::CredentialError> for IpcError {
    fn from(e: handoff_client::CredentialError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}
