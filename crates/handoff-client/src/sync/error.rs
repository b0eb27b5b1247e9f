//! Why a sync step failed, and what each failure means for the caller (retry later, sign
//! in again), with its [`Code`].

use crate::code::Code;
use crate::error::ClientError;

use super::TransportError;

/// Why a sync step failed. Local state is consistent after any of these: every answer that
/// arrived was recorded whole, nothing half-applied.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The local store failed.
    #[error(transparent)]
    Local(#[from] ClientError),
    /// No answer from the server (offline, timeout): retry later.
    #[error(transparent)]
    Offline(#[from] TransportError),
    /// The server refused the request.
    #[error("the server refused: {message} ({code})")]
    Server {
        /// HTTP status.
        status: u16,
        /// The stable code from `{code, message}` ([`Code::Unknown`] for a newer server's).
        code: Code,
        /// The server's sentence.
        message: String,
    },
    /// The server has recorded fewer of this client's mutations than the push assumed (it was
    /// restored from a backup): the round sends the lost ones again.
    #[error("the server has recorded this device's changes only up to {recorded} (was it restored from a backup?): {message}")]
    ServerBehind {
        /// The last mutation id the server still has for this client.
        recorded: u64,
        /// The server's sentence.
        message: String,
    },
    /// No token: join or sign in first.
    #[error("not signed in to a server; run `handoff join` or `handoff login` first")]
    NotSignedIn,
    /// The server keeps answering a push without consuming the mutation.
    #[error("the server did not accept mutation {0} after repeated pushes; run `handoff sync` again later or report this")]
    Stuck(u64),
    /// The server's answer did not have the protocol's shape.
    #[error("the server's answer was not understood: {0}")]
    Protocol(String),
    /// The token could not be kept or read (no keychain, no token stored).
    #[error(transparent)]
    Credential(crate::CredentialError),
}

impl SyncError {
    /// The stable code for `{code, message}` answers.
    pub fn code(&self) -> Code {
        match self {
            SyncError::Local(e) => e.code(),
            SyncError::Offline(e) => e.code(),
            SyncError::Server { code, .. } => *code,
            SyncError::ServerBehind { .. } => Code::MutationGap,
            SyncError::NotSignedIn => Code::NotSignedIn,
            SyncError::Stuck(_) => Code::Stuck,
            SyncError::Protocol(_) => Code::Protocol,
            SyncError::Credential(e) => e.code(),
        }
    }

    /// Whether trying again later may succeed without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(e) => e.is_transient(),
            SyncError::Stuck(_) | SyncError::Protocol(_) => true,
            SyncError::Server { status, code, .. } => *status >= 500 || matches!(code, Code::RateLimited | Code::BlobsMissing),
            SyncError::Local(e) => e.code() == Code::StoreBusy,
            SyncError::NotSignedIn | SyncError::Credential(_) | SyncError::ServerBehind { .. } => false,
        }
    }

    /// Whether the user must sign in again.
    pub fn needs_sign_in(&self) -> bool {
        self.code().needs_sign_in()
    }
}

/// The sync engine's result type.
pub type SyncResult<T> = std::result::Result<T, SyncError>;
