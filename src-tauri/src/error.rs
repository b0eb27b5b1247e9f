//! The one error shape the UI sees: `{code, message}`.

use handoff_client::ClientError;
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
}

impl IpcError {
    /// An error that is not the user's doing (a crashed worker thread, say).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self { code: "internal".into(), message: message.to_string() }
    }
}

impl From<ClientError> for IpcError {
    fn from(e: ClientError) -> Self {
        Self { code: e.code().into(), message: e.to_string() }
    }
}

impl From<&ClientError> for IpcError {
    fn from(e: &ClientError) -> Self {
        Self { code: e.code().into(), message: e.to_string() }
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
        Self { code: e.code(), message }
    }
}

impl From<handoff_client::CredentialError> for IpcError {
    fn from(e: handoff_client::CredentialError) -> Self {
        use handoff_client::CredentialError;
        match e {
            CredentialError::NoKeychain { detail } => Self {
                code: "no_keychain".into(),
                message: format!(
                    "No OS keychain is available to keep your sign-in token ({detail}). Handoff never stores it in its database: \
                     start a desktop session with an unlocked keyring (GNOME Keyring or KWallet) and try again."
                ),
            },
            CredentialError::Missing => {
                Self { code: "not_signed_in".into(), message: "You are not signed in to a server.".into() }
            }
            CredentialError::Keychain(m) => Self { code: "keychain".into(), message: format!("The OS keychain failed: {m}") },
            other @ CredentialError::File { .. } => Self { code: "token_file".into(), message: other.to_string() },
        }
    }
}
