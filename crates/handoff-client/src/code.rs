//! The one language of error codes, from the server and the local store to the CLI's
//! `--json` output and the app's `IpcError`. Every error that crosses a boundary carries a
//! [`Code`]; the UI's TypeScript type of the same name is generated from this enum.
//!
//! This module is the only place that turns codes into text and back: everywhere else
//! compares [`Code`] values, never strings (the `tidy` test in `xtask` enforces it). The
//! text of each code is frozen: it is stored in the outbox, printed by `handoff --json` and
//! sent by the server, so a variant may be added but never renamed.

use serde::{Deserialize, Serialize};

use handoff_core::ErrorCode;
use handoff_core::protocol::ApiErrorCode;

/// A stable, machine-readable reason for a failure. Match on it, never on a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Input failed validation (a field, a value, a stale status change).
    Invalid,
    /// The caller's role or assignment does not allow this.
    Forbidden,
    /// The lifecycle has no such status change.
    InvalidTransition,
    /// The thing asked for does not exist, or is not visible to the caller.
    NotFound,
    /// Someone else's change overlaps; a conflict record was kept.
    Conflict,
    /// A short id matched more than one thing.
    Ambiguous,
    /// The local store was written by a newer Handoff.
    NewerSchema,
    /// The disk is full; nothing was written.
    DiskFull,
    /// Another process holds the store's write lock longer than the busy timeout.
    StoreBusy,
    /// The local store (SQLite) failed for another reason.
    Store,
    /// A file or folder could not be read or written.
    Io,
    /// A delivered folder holds something a revision cannot carry.
    InvalidDeliverable,
    /// A blob on disk no longer matches its hash.
    BlobCorrupt,
    /// A revision's files are not downloaded to this machine yet.
    FilesNotHere,
    /// A revision's file kept arriving with content that does not match its hash.
    DownloadCorrupt,
    /// A stored row could not be decoded.
    StoreCorrupt,
    /// A server address that is not an http(s) URL.
    InvalidServerUrl,
    /// An export's target folder already exists and is not empty.
    ExportTargetExists,
    /// An export folder lacks a file its manifest lists.
    ImportMissingFile,
    /// An export folder's file does not match the hash its manifest recorded.
    ImportChangedFile,
    /// An export folder's manifest names a path outside the folder (or a link).
    ImportPathEscapes,
    /// An export folder was written by a newer Handoff.
    ImportNewerFormat,
    /// A folder that is not a Handoff export, or whose parts disagree.
    ImportMalformed,
    /// The spec was imported from an export folder and is read-only here.
    SpecArchived,
    /// No answer from the server: no route to it (the network is down, or it is).
    Offline,
    /// Nothing listens at the server's address and port.
    ConnectionRefused,
    /// The server's host name does not resolve.
    DnsFailed,
    /// The server's certificate is signed by no authority this machine trusts.
    TlsUntrusted,
    /// The server's certificate expired or is not valid yet.
    TlsExpired,
    /// The server's certificate is for another host name.
    TlsWrongName,
    /// The secure connection failed for another reason.
    TlsFailed,
    /// The configured proxy failed.
    ProxyFailed,
    /// No sign-in token: join or sign in first.
    NotSignedIn,
    /// The server keeps answering a push without consuming the mutation.
    Stuck,
    /// The server's answer did not have the protocol's shape.
    Protocol,
    /// A blob download was refused.
    DownloadFailed,
    /// The server answered an HTTP error without a `{code, message}` body.
    HttpError,
    /// The body was not valid JSON of the expected shape.
    MalformedRequest,
    /// No or unknown token, or wrong email or password.
    Unauthorized,
    /// The session expired.
    TokenExpired,
    /// The session was revoked.
    TokenRevoked,
    /// The server speaks a newer protocol: update Handoff.
    UpgradeRequired,
    /// A push skipped mutation ids.
    MutationGap,
    /// A request, batch, field or blob is over its limit.
    TooLarge,
    /// Too many requests; retry after a pause.
    RateLimited,
    /// An uploaded blob's content did not match its hash.
    HashMismatch,
    /// A push referenced blobs the server lacks; upload them and push again.
    BlobsMissing,
    /// An invite code is unknown, used or expired.
    InviteInvalid,
    /// The thing (an account, a member, an id) already exists.
    AlreadyExists,
    /// The account's uploads reached the server's quota.
    QuotaExceeded,
    /// The change would leave the workspace without an owner.
    LastOwner,
    /// No OS keychain is reachable to keep the sign-in token.
    NoKeychain,
    /// The OS keychain refused.
    Keychain,
    /// The opt-in token file could not be read or written.
    TokenFile,
    /// The app found no home folder for its data dir.
    NoDataDir,
    /// A failure that is nobody's input: a crashed worker, a server bug.
    Internal,
    /// The CLI's code for a failure outside the client (bad arguments, a broken pipe).
    Error,
    /// A code this build does not know (a newer server's); the message still says what
    /// happened.
    #[serde(other)]
    Unknown,
}

impl Code {
    /// The code as it appears on the wire, in storage and in `--json` output.
    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            Invalid => "invalid",
            Forbidden => "forbidden",
            InvalidTransition => "invalid_transition",
            NotFound => "not_found",
            Conflict => "conflict",
            Ambiguous => "ambiguous",
            NewerSchema => "newer_schema",
            DiskFull => "disk_full",
            StoreBusy => "store_busy",
            Store => "store",
            Io => "io",
            InvalidDeliverable => "invalid_deliverable",
            BlobCorrupt => "blob_corrupt",
            FilesNotHere => "files_not_here",
            DownloadCorrupt => "download_corrupt",
            StoreCorrupt => "store_corrupt",
            InvalidServerUrl => "invalid_server_url",
            ExportTargetExists => "export_target_exists",
            ImportMissingFile => "import_missing_file",
            ImportChangedFile => "import_changed_file",
            ImportPathEscapes => "import_path_escapes",
            ImportNewerFormat => "import_newer_format",
            ImportMalformed => "import_malformed",
            SpecArchived => "spec_archived",
            Offline => "offline",
            ConnectionRefused => "connection_refused",
            DnsFailed => "dns_failed",
            TlsUntrusted => "tls_untrusted",
            TlsExpired => "tls_expired",
            TlsWrongName => "tls_wrong_name",
            TlsFailed => "tls_failed",
            ProxyFailed => "proxy_failed",
            NotSignedIn => "not_signed_in",
            Stuck => "stuck",
            Protocol => "protocol",
            DownloadFailed => "download_failed",
            HttpError => "http_error",
            MalformedRequest => "malformed_request",
            Unauthorized => "unauthorized",
            TokenExpired => "token_expired",
            TokenRevoked => "token_revoked",
            UpgradeRequired => "upgrade_required",
            MutationGap => "mutation_gap",
            TooLarge => "too_large",
            RateLimited => "rate_limited",
            HashMismatch => "hash_mismatch",
            BlobsMissing => "blobs_missing",
            InviteInvalid => "invite_invalid",
            AlreadyExists => "already_exists",
            QuotaExceeded => "quota_exceeded",
            LastOwner => "last_owner",
            NoKeychain => "no_keychain",
            Keychain => "keychain",
            TokenFile => "token_file",
            NoDataDir => "no_data_dir",
            Internal => "internal",
            Error => "error",
            Unknown => "unknown",
        }
    }

    /// Whether only signing in again can fix this (the session is gone or was never there).
    pub fn needs_sign_in(self) -> bool {
        matches!(self, Code::NotSignedIn | Code::Unauthorized | Code::TokenExpired | Code::TokenRevoked)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<ApiErrorCode> for Code {
    /// Exhaustive: a new server code does not compile until the client knows it.
    fn from(c: ApiErrorCode) -> Self {
        match c {
            ApiErrorCode::Invalid => Code::Invalid,
            ApiErrorCode::MalformedRequest => Code::MalformedRequest,
            ApiErrorCode::Unauthorized => Code::Unauthorized,
            ApiErrorCode::TokenExpired => Code::TokenExpired,
            ApiErrorCode::TokenRevoked => Code::TokenRevoked,
            ApiErrorCode::Forbidden => Code::Forbidden,
            ApiErrorCode::NotFound => Code::NotFound,
            ApiErrorCode::UpgradeRequired => Code::UpgradeRequired,
            ApiErrorCode::MutationGap => Code::MutationGap,
            ApiErrorCode::TooLarge => Code::TooLarge,
            ApiErrorCode::RateLimited => Code::RateLimited,
            ApiErrorCode::HashMismatch => Code::HashMismatch,
            ApiErrorCode::BlobsMissing => Code::BlobsMissing,
            ApiErrorCode::InviteInvalid => Code::InviteInvalid,
            ApiErrorCode::AlreadyExists => Code::AlreadyExists,
            ApiErrorCode::Internal => Code::Internal,
            ApiErrorCode::QuotaExceeded => Code::QuotaExceeded,
            ApiErrorCode::LastOwner => Code::LastOwner,
        }
    }
}

impl From<ErrorCode> for Code {
    fn from(c: ErrorCode) -> Self {
        match c {
            ErrorCode::Invalid => Code::Invalid,
            ErrorCode::Forbidden => Code::Forbidden,
            ErrorCode::InvalidTransition => Code::InvalidTransition,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::Conflict => Code::Conflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant (`as_str`'s exhaustive match makes a new one name its text; list it here too).
    const ALL: [Code; 58] = {
        use Code::*;
        [
            Invalid,
            Forbidden,
            InvalidTransition,
            NotFound,
            Conflict,
            Ambiguous,
            NewerSchema,
            DiskFull,
            StoreBusy,
            Store,
            Io,
            InvalidDeliverable,
            BlobCorrupt,
            FilesNotHere,
            DownloadCorrupt,
            StoreCorrupt,
            InvalidServerUrl,
            ExportTargetExists,
            ImportMissingFile,
            ImportChangedFile,
            ImportPathEscapes,
            ImportNewerFormat,
            ImportMalformed,
            SpecArchived,
            Offline,
            ConnectionRefused,
            DnsFailed,
            TlsUntrusted,
            TlsExpired,
            TlsWrongName,
            TlsFailed,
            ProxyFailed,
            NotSignedIn,
            Stuck,
            Protocol,
            DownloadFailed,
            HttpError,
            MalformedRequest,
            Unauthorized,
            TokenExpired,
            TokenRevoked,
            UpgradeRequired,
            MutationGap,
            TooLarge,
            RateLimited,
            HashMismatch,
            BlobsMissing,
            InviteInvalid,
            AlreadyExists,
            QuotaExceeded,
            LastOwner,
            NoKeychain,
            Keychain,
            TokenFile,
            NoDataDir,
            Internal,
            Error,
            Unknown,
        ]
    };

    #[test]
    fn serde_and_as_str_agree_and_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ALL {
            assert_eq!(serde_json::to_string(&c).expect("json"), format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Code>(&format!("\"{}\"", c.as_str())).expect("parses"), c);
            assert!(seen.insert(c.as_str()), "{c} twice");
        }
        assert_eq!(seen.len(), ALL.len());
    }

    #[test]
    fn a_server_code_keeps_its_wire_text() {
        use ApiErrorCode::*;
        let every = [
            Invalid,
            MalformedRequest,
            Unauthorized,
            TokenExpired,
            TokenRevoked,
            Forbidden,
            NotFound,
            UpgradeRequired,
            MutationGap,
            TooLarge,
            RateLimited,
            HashMismatch,
            BlobsMissing,
            InviteInvalid,
            AlreadyExists,
            Internal,
            QuotaExceeded,
            LastOwner,
        ];
        for c in every {
            let wire = serde_json::to_string(&c).expect("json");
            assert_eq!(wire, serde_json::to_string(&Code::from(c)).expect("json"));
            assert_eq!(serde_json::from_str::<Code>(&wire).expect("parses"), Code::from(c));
        }
    }

    #[test]
    fn a_newer_servers_code_is_unknown_not_an_error() {
        let c: Code = serde_json::from_str("\"dinosaurs_loose\"").expect("parses");
        assert_eq!(c, Code::Unknown);
    }
}
