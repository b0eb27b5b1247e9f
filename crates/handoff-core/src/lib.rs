//! Handoff's domain, shared by the client and the server so both apply the same rules.
//!
//! Architecture invariant: this crate is pure. No file or network IO, no SQL, no HTTP and no
//! clock: time is always passed in (see [`time`]). Everything here is deterministic.

pub mod activity;
pub mod describe;
pub mod error;
pub mod hours;
pub mod ids;
pub mod ledger;
pub mod lifecycle;
pub mod model;
pub mod mutation;
pub mod protocol;
pub mod readiness;
pub mod time;
pub mod validate;

pub use error::{CoreError, ErrorCode};
pub use ids::*;
pub use lifecycle::{Action, Role, SpecPermissions, SpecStatus};
pub use model::*;
pub use mutation::{Mutation, MutationEnvelope};
pub use time::{Hlc, HlcClock, Timestamp};
