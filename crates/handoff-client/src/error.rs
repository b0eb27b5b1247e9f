//! The client's errors: each names the problem in the product's words and keeps its source.

use std::path::PathBuf;
use thiserror::Error;

use crate::code::Code;
use handoff_core::CoreError;

/// Why a client operation failed. Nothing was written when one of these is returned.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Input broke a domain rule (validation, lifecycle, permission).
    #[error(transparent)]
    Rule(#[from] CoreError),
    /// The thing asked for is not in the local store.
    #[error("no {what} {id} in this store")]
    NotFound {
        /// What kind of thing.
        what: &'static str,
        /// The id or text given.
        id: String,
    },
    /// No member of the workspace has this email (on the server, which may know more members
    /// than the last sync did).
    #[error("{email} is not a member of workspace {workspace}")]
    NotAMember {
        /// The email given.
        email: String,
        /// The workspace.
        workspace: String,
    },
    /// A short id matched more than one thing.
    #[error("{what} id {prefix:?} is ambiguous: it matches {count} {what}s; give more characters")]
    Ambiguous {
        /// What kind of thing.
        what: &'static str,
        /// The prefix given.
        prefix: String,
        /// How many matched.
        count: usize,
    },
    /// The store was written by a newer Handoff; opening it could damage it.
    #[error(
        "the local store at {path} has schema version {found}, but this Handoff understands only up to {supported}; upgrade Handoff to open it"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this binary knows.
        supported: i64,
    },
    /// SQLite failed.
    #[error("local store error: {0}")]
    Store(#[from] rusqlite::Error),
    /// A file or folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("cannot read", "cannot create").
        action: &'static str,
        /// Which path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A delivered folder holds something a revision cannot carry.
    #[error("cannot deliver {path}: {reason}")]
    Deliver {
        /// The offending path.
        path: PathBuf,
        /// Which rule it broke, in the product's words.
        reason: String,
    },
    /// A blob's content no longer matches its hash: the file on disk was damaged.
    #[error("blob {sha256} is damaged on disk (its content hashes to {actual}); it will be fetched again")]
    BlobCorrupt {
        /// The expected hash.
        sha256: String,
        /// What the content hashes to now.
        actual: String,
    },
    /// A revision's files have not been downloaded to this machine yet.
    #[error(
        "revision {revision} of '{spec_title}' is not on this machine yet: {missing_files} of its files ({missing_bytes} bytes) are still to download; sync while online, or run `handoff fetch`"
    )]
    FilesNotHere {
        /// The spec's title.
        spec_title: String,
        /// The revision number.
        revision: u32,
        /// How many of its files are missing.
        missing_files: usize,
        /// How many bytes they hold.
        missing_bytes: u64,
    },
    /// The disk is full: nothing was stored, what was stored before is unharmed.
    #[error("the disk is full: {action} {path}; free some space and try again (downloads resume where they stopped)")]
    DiskFull {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
    },
    /// A revision's file kept arriving with content that does not match its hash; it was
    /// dropped each time and never shown.
    #[error(
        "a file of revision {revision} of '{spec_title}' arrived damaged {attempts} times (expected sha256 {sha256}, got {actual}); it was not kept. Try again later, or ask the server's admin to check its blob store"
    )]
    DownloadCorrupt {
        /// The spec's title.
        spec_title: String,
        /// The revision number.
        revision: u32,
        /// The expected hash.
        sha256: String,
        /// What arrived hashes to this.
        actual: String,
        /// How many downloads were tried.
        attempts: u32,
    },
    /// A criterion named by a position the spec does not have.
    #[error("criterion {position} does not exist: this spec has {count} criteria, numbered from 1")]
    NoSuchCriterion {
        /// The position given.
        position: usize,
        /// How many criteria the spec has.
        count: usize,
    },
    /// A server address that is not one.
    #[error("{url:?} is not a server address: it must start with http:// or https://, like https://handoff.example.com")]
    InvalidServerUrl {
        /// The address as given (cut to a readable length).
        url: String,
    },
    /// No home folder to put the data dir in.
    #[error("cannot find a home folder for the data dir; set HANDOFF_DATA_DIR (or pass --data-dir to the CLI)")]
    NoDataDir,
    /// A stored row could not be decoded (a bug, or a damaged store).
    #[error("damaged record in the local store: {0}")]
    Corrupt(String),
    /// An export's target folder already holds something; exports never overwrite.
    #[error("cannot export to {path}: it already exists and is not empty; choose a new folder")]
    ExportTargetExists {
        /// The folder asked for.
        path: PathBuf,
    },
    /// An export folder failed a check before anything was written.
    #[error("cannot import {folder}: {problem}; nothing was imported")]
    ImportRefused {
        /// The folder given.
        folder: PathBuf,
        /// What is wrong with it.
        problem: ImportProblem,
    },
    /// The spec was restored from an export folder: a read-only record here.
    #[error("'{title}' was imported from an export folder and is a read-only record on this machine; it cannot be changed")]
    SpecArchived {
        /// The spec's title.
        title: String,
    },
}

/// Why an export folder is refused by `handoff import`, named so a person can find the file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportProblem {
    /// A file its manifest lists is not there.
    #[error("{path} is listed in its manifest but missing")]
    MissingFile {
        /// The path inside the folder.
        path: String,
    },
    /// A file's content is not what the manifest recorded at export.
    #[error("{path} was changed after the export (the manifest says sha256 {expected}, the file hashes to {actual})")]
    ChangedFile {
        /// The path inside the folder.
        path: String,
        /// The sha256 (and size) the manifest records.
        expected: String,
        /// What the file hashes to now.
        actual: String,
    },
    /// A path that would reach outside the folder.
    #[error("the manifest names {path:?}, which {reason}")]
    PathEscapes {
        /// The path as the manifest gives it.
        path: String,
        /// How it escapes.
        reason: &'static str,
    },
    /// A newer Handoff wrote it.
    #[error(
        "it was written by a newer Handoff (export format {found}; this Handoff reads format {supported} and older); upgrade Handoff to import it"
    )]
    NewerFormat {
        /// The manifest's format version.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// Not an export folder, or one whose parts disagree.
    #[error("it is not a Handoff export folder: {0}")]
    Malformed(String),
}

impl ImportProblem {
    /// The stable code of this refusal.
    pub fn code(&self) -> Code {
        match self {
            ImportProblem::MissingFile { .. } => Code::ImportMissingFile,
            ImportProblem::ChangedFile { .. } => Code::ImportChangedFile,
            ImportProblem::PathEscapes { .. } => Code::ImportPathEscapes,
            ImportProblem::NewerFormat { .. } => Code::ImportNewerFormat,
            ImportProblem::Malformed(_) => Code::ImportMalformed,
        }
    }
}

impl ClientError {
    /// Wraps an IO error with what was being done and where.
    pub fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ClientError {
        let path = path.into();
        move |source| {
            if source.kind() == std::io::ErrorKind::StorageFull {
                ClientError::DiskFull { action, path }
            } else {
                ClientError::Io { action, path, source }
            }
        }
    }

    /// The stable code for `{code, message}` answers (the app and `--json` output).
    pub fn code(&self) -> Code {
        match self {
            ClientError::Rule(e) => e.code().into(),
            ClientError::NotFound { .. } | ClientError::NotAMember { .. } => Code::NotFound,
            ClientError::Ambiguous { .. } => Code::Ambiguous,
            ClientError::NewerSchema { .. } => Code::NewerSchema,
            ClientError::Store(e) if is_disk_full(e) => Code::DiskFull,
            ClientError::Store(e) if is_busy(e) => Code::StoreBusy,
            ClientError::Store(_) => Code::Store,
            ClientError::Io { .. } => Code::Io,
            ClientError::Deliver { .. } => Code::InvalidDeliverable,
            ClientError::BlobCorrupt { .. } => Code::BlobCorrupt,
            ClientError::FilesNotHere { .. } => Code::FilesNotHere,
            ClientError::DiskFull { .. } => Code::DiskFull,
            ClientError::DownloadCorrupt { .. } => Code::DownloadCorrupt,
            ClientError::NoSuchCriterion { .. } => Code::NotFound,
            ClientError::InvalidServerUrl { .. } => Code::InvalidServerUrl,
            ClientError::NoDataDir => Code::NoDataDir,
            ClientError::Corrupt(_) => Code::StoreCorrupt,
            ClientError::ExportTargetExists { .. } => Code::ExportTargetExists,
            ClientError::ImportRefused { problem, .. } => problem.code(),
            ClientError::SpecArchived { .. } => Code::SpecArchived,
        }
    }
}

fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// The client's result type.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
