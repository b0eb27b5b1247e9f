//! UUIDv7 newtype ids: time-ordered, generated offline by any client without coordination.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::time::Timestamp;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new id whose time prefix is `now`; `entropy` supplies the random bits so
            /// tests can be deterministic.
            pub fn new_at(now: Timestamp, entropy: [u8; 10]) -> Self {
                Self(uuid_v7(now, entropy))
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, ":{}"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = crate::CoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| crate::CoreError::InvalidId {
                    kind: $prefix,
                    value: s.chars().take(64).collect(),
                })
            }
        }
    };
}

/// Builds a UUIDv7 from a caller-supplied time and random bits (the core has no clock or RNG).
fn uuid_v7(now: Timestamp, entropy: [u8; 10]) -> Uuid {
    let ms = now.as_millis().max(0) as u64;
    uuid::Builder::from_unix_timestamp_millis(ms, &entropy).into_uuid()
}

id_type!(/// A team's shared space on one server.
    WorkspaceId, "workspace");
id_type!(/// A user account on a server.
    UserId, "user");
id_type!(/// A unit of contracted work.
    SpecId, "spec");
id_type!(/// One acceptance criterion of a spec; stable across edits and reorders.
    CriterionId, "criterion");
id_type!(/// What a contractor submits for a spec: a sequence of revisions.
    DeliverableId, "deliverable");
id_type!(/// One immutable snapshot of a deliverable.
    RevisionId, "revision");
id_type!(/// A written discussion anchored to a spec section, revision lines or a deliverable.
    ThreadId, "thread");
id_type!(/// One comment in a thread.
    CommentId, "comment");
id_type!(/// A resolve or reopen event of a thread.
    ThreadEventId, "thread_event");
id_type!(/// A reviewer's published verdict on a revision.
    ReviewId, "review");
id_type!(/// One installation of a client (a data dir); the author of a mutation sequence.
    ClientId, "client");
id_type!(/// A conflict the server recorded for a person to resolve.
    ConflictId, "conflict");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip_through_text() {
        let a = SpecId::new_at(Timestamp::from_millis(1_000), [1; 10]);
        let b = SpecId::new_at(Timestamp::from_millis(2_000), [0; 10]);
        assert!(a < b);
        assert_eq!(a.0.get_version_num(), 7);
        let parsed: SpecId = a.to_string().parse().expect("round trip");
        assert_eq!(parsed, a);
        let err = "not-a-uuid".parse::<SpecId>().expect_err("must refuse");
        assert_eq!(err.to_string(), "invalid spec id: \"not-a-uuid\"");
    }
}
