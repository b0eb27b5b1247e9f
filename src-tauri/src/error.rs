//! The one error shape the UI sees: `{code, message}`.

use handoff_client::ClientError;
use handoff_core::CoreError;
use serde::Serialize;

/// A failed command as the UI receives it: a stable `code` to branch on and a `message`
/// in the product's words to show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[error("{code}: {message}")]
pub struct IpcError {
    /// Stable machine-readable code (see `ClientError::code`), or `internal`/`unavailable`.
    pub code: String,
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
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into(), limit: None }
    }

    /// An error that is not the user's doing (a crashed worker thread, say).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new("internal", message.to_string())
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
        Self { code: e.code().into(), message: e.to_string(), limit }
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
        let message = match e {
            SyncError::Offline(inner) => format!(
                "The server does not answer ({inner}). Check the server address and your connection; \
                 everything you do is kept on this computer and syncs when the server is back."
            ),
            SyncError::Server { message, .. } if !message.is_empty() => message.clone(),
            other => other.to_string(),
        };
        match e {
            SyncError::Local(local) => Self { message, ..Self::from(local) },
            _ => Self::new(e.code(), message),
        }
    }
}

impl From<handoff_client::CredentialError> for IpcError {
    fn from(e: handoff_client::CredentialError) -> Self {
        use handoff_client::CredentialError;
        match e {
            CredentialError::NoKeychain { detail } => Self::new(
                "no_keychain",
                format!(
                    "No OS keychain is available to keep your sign-in token ({detail}). Handoff never stores it in its database: \
                     start a desktop session with an unlocked keyring (GNOME Keyring or KWallet) and try again."
                ),
            ),
            CredentialError::Missing => Self::new("not_signed_in", "You are not signed in to a server."),
            CredentialError::Keychain(m) => Self::new("keychain", format!("The OS keychain failed: {m}")),
            other @ CredentialError::File { .. } => Self::new("token_file", other.to_string()),
        }
    }
}
