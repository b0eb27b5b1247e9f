//! The core's errors, each with a stable machine-readable code for `{code, message}` answers.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Role, SpecStatus};

/// Why the core refused something. Messages name the problem in the product's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CoreError {
    /// A required text was empty or only white space.
    #[error("{field} must not be empty")]
    Empty {
        /// Which field.
        field: &'static str,
    },
    /// A text or list was over its limit.
    #[error("{field} is too long: {actual} {unit}, the limit is {limit}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// How long it was.
        actual: usize,
        /// The limit.
        limit: usize,
        /// What was counted (characters, bytes, items).
        unit: &'static str,
    },
    /// A text held a character that is never allowed there (NUL, control characters).
    #[error("{field} contains a forbidden character ({what})")]
    ForbiddenCharacter {
        /// Which field.
        field: &'static str,
        /// Which character, described.
        what: &'static str,
    },
    /// A file path in a revision broke the path rules.
    #[error("invalid file path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given (cut to a readable length).
        path: String,
        /// Which rule it broke.
        reason: &'static str,
    },
    /// Two file paths of one revision cannot both exist on disk: they differ only in case or
    /// Unicode normalization, or one is a file and the other lies inside it.
    #[error("invalid file paths {first:?} and {second:?}: {reason}")]
    PathClash {
        /// The path seen first.
        first: String,
        /// The path that clashes with it.
        second: String,
        /// How they clash.
        reason: &'static str,
    },
    /// A file is larger than a revision accepts.
    #[error("file {path:?} is {size} bytes, over the limit of {limit} bytes")]
    FileTooLarge {
        /// The file.
        path: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Text that is not a valid id.
    #[error("invalid {kind} id: {value:?}")]
    InvalidId {
        /// Which kind of id.
        kind: &'static str,
        /// The text given.
        value: String,
    },
    /// A name that is not one of the known values.
    #[error("unknown {what} {value:?}; expected one of: {expected}")]
    UnknownValue {
        /// What kind of value.
        what: &'static str,
        /// The text given.
        value: String,
        /// The values that would have been accepted.
        expected: &'static str,
    },
    /// A malformed value (a date, an email, a time zone, a sha256).
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        /// What kind of value.
        what: &'static str,
        /// The text given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The lifecycle has no such edge.
    #[error("a spec cannot move from {from} to {to}")]
    InvalidTransition {
        /// Current status.
        from: SpecStatus,
        /// Wanted status.
        to: SpecStatus,
    },
    /// The edge exists, but not for this role.
    #[error("a {role} may not move a spec from {from} to {to}")]
    TransitionNotAllowed {
        /// Current status.
        from: SpecStatus,
        /// Wanted status.
        to: SpecStatus,
        /// The member's role.
        role: Role,
    },
    /// A spec cannot be accepted yet: no approving review of its latest revision settles
    /// every criterion, and no owner overrode that.
    #[error("the spec cannot be accepted yet: {reason}")]
    NotAcceptable {
        /// What is missing, in the product's words.
        reason: String,
    },
    /// A spec cannot be marked ready: readiness rules fail and no owner overrode them.
    #[error("the spec is not ready to hand off: {reasons}")]
    NotReady {
        /// The failing rules and what each needs.
        reasons: String,
    },
    /// The spec is closed: it is read-only until an owner brings it back as a draft.
    #[error("the spec is closed and read-only; an owner can reopen it as a draft")]
    SpecClosed,
    /// The role may not take this action.
    #[error("a {role} may not {action} here{}", if *assigned { "" } else { " (the spec is not assigned to them)" })]
    NotAllowed {
        /// The member's role.
        role: Role,
        /// The action, named.
        action: String,
        /// Whether the spec is assigned to the member.
        assigned: bool,
    },
}

/// Stable error codes: the UI and scripts match on these, never on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Input failed validation.
    Invalid,
    /// The caller lacks the role or assignment for this.
    Forbidden,
    /// The lifecycle refuses this status change.
    InvalidTransition,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// Someone else's change overlaps; a conflict record was kept.
    Conflict,
}

impl CoreError {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::InvalidTransition { .. } | CoreError::NotAcceptable { .. } | CoreError::NotReady { .. } => {
                ErrorCode::InvalidTransition
            }
            CoreError::TransitionNotAllowed { .. } | CoreError::NotAllowed { .. } | CoreError::SpecClosed => ErrorCode::Forbidden,
            _ => ErrorCode::Invalid,
        }
    }
}
