//! The sync protocol between clients and the server: request and response bodies of every
//! endpoint. JSON over HTTP; every request carries [`PROTOCOL_HEADER`]; every error is an
//! [`ApiError`] `{code, message}` with a stable [`ApiErrorCode`].
//!
//! # Endpoints (frozen for protocol version 1)
//! | method and path | body | answer |
//! | --- | --- | --- |
//! | `POST /v1/auth/join` | [`JoinRequest`] | [`Session`] |
//! | `POST /v1/auth/login` | [`LoginRequest`] | [`Session`] |
//! | `POST /v1/auth/logout` | – | 204 (revokes the calling token) |
//! | `GET /v1/auth/tokens` | – | `Vec<`[`TokenInfo`]`>` |
//! | `DELETE /v1/auth/tokens/{token_id}` | – | 204 |
//! | `GET /v1/workspaces/{id}/members` | – | `Vec<`[`crate::Member`]`>` |
//! | `POST /v1/workspaces/{id}/invites` | [`InviteRequest`] | [`Invite`] (owners only) |
//! | `PUT /v1/workspaces/{id}/members/{user_id}/role` | [`SetRoleRequest`] | [`crate::Member`] (owners only) |
//! | `DELETE /v1/workspaces/{id}/members/{user_id}` | – | 204 (owners only) |
//! | `PUT /v1/workspaces/{id}/members/{user_id}/profile` | [`SetProfileRequest`] | [`crate::Member`] (one's own only) |
//! | `POST /v1/push` | [`PushRequest`] | [`PushResponse`] |
//! | `POST /v1/pull` | [`PullRequest`] | [`PullResponse`] |
//! | `GET /v1/events` | – | SSE stream of [`Poke`] as `data:` JSON lines |
//! | `POST /v1/blobs/missing` | [`BlobsMissingRequest`] | [`BlobsMissingResponse`] |
//! | `PUT /v1/blobs/{sha256}` | raw bytes | 204 once verified and stored |
//! | `GET /v1/blobs/{sha256}` | – | raw bytes |
//! | `GET /healthz` | – | 200 `ok` (no auth, no protocol header) |
//!
//! Authentication: `Authorization: Bearer <token>` on everything but join, login and healthz.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::ids::*;
use crate::model::*;
use crate::mutation::MutationEnvelope;
use crate::time::{Hlc, Timestamp};
use crate::{CoreError, Role};

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u32 = 1;
/// The request header that carries [`PROTOCOL_VERSION`].
pub const PROTOCOL_HEADER: &str = "handoff-protocol";
/// The most mutations one push may carry.
pub const MAX_PUSH_BATCH: usize = 500;
/// The most bytes of mutation JSON a client puts in one push, well under the server's
/// default body limit (16 MiB): a batch is cut by count or by size, whichever comes first.
pub const PUSH_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// The most records a pull page holds (a single commit larger than this still comes whole).
pub const MAX_PULL_LIMIT: u32 = 5_000;

/// Stable error codes of the HTTP API. Clients match on these, never on the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    /// The body or a field failed validation.
    Invalid,
    /// The body is not valid JSON of the expected shape.
    MalformedRequest,
    /// No or unknown token, or wrong email or password.
    Unauthorized,
    /// The token expired; sign in again.
    TokenExpired,
    /// The token was revoked; sign in again.
    TokenRevoked,
    /// The caller lacks the role or assignment.
    Forbidden,
    /// Not found, or not visible to the caller.
    NotFound,
    /// The client speaks another protocol version; it keeps its outbox and must upgrade.
    UpgradeRequired,
    /// A push skipped mutation ids; `message` names the expected next id.
    MutationGap,
    /// A request, batch, field or blob is over its limit.
    TooLarge,
    /// Too many requests; retry after a pause.
    RateLimited,
    /// An uploaded blob's content does not match its hash.
    HashMismatch,
    /// A push references blobs the server does not have; nothing was applied. The answer
    /// also carries `missing: [sha256…]`; upload them and push again.
    BlobsMissing,
    /// An invite code is unknown, used or expired.
    InviteInvalid,
    /// The email already has an account (join), or similar uniqueness clash.
    AlreadyExists,
    /// Something failed on the server; details are in its log, not here.
    Internal,
    /// The account's uploads reached the server's quota; nothing more is stored for it.
    QuotaExceeded,
    /// The change (a removal, a role change) would leave the workspace without an owner.
    LastOwner,
}

/// Every error answer: `{code, message}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable code.
    pub code: ApiErrorCode,
    /// A sentence for people.
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A member's view of one workspace in a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceMembership {
    /// The workspace.
    pub workspace: Workspace,
    /// The caller's role in it.
    pub role: Role,
}

/// Join a workspace with an invite code, creating the account if needed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The one-time code.
    pub invite_code: String,
    /// Must equal the invited email.
    pub email: String,
    /// Name to show.
    pub display_name: String,
    /// Password (new account) or the existing account's password.
    pub password: String,
    /// Names this device in the token list.
    pub device_name: String,
    /// IANA time zone of the member.
    pub timezone: String,
}

/// Sign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Account email.
    pub email: String,
    /// The account's password (sent over TLS, never stored in clear).
    pub password: String,
    /// Names this device in the token list.
    pub device_name: String,
}

/// A signed-in session: the bearer token is shown only here, once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token (256 random bits, base64url). The server keeps only its hash.
    pub token: String,
    /// The token's id, for listing and revoking.
    pub token_id: String,
    /// The account.
    pub user_id: UserId,
    /// The account's email.
    pub email: String,
    /// The workspaces the account belongs to.
    pub workspaces: Vec<WorkspaceMembership>,
    /// When the token stops working.
    pub expires_at: Timestamp,
}

/// One token of the caller's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Its id.
    pub token_id: String,
    /// The device it was issued to.
    pub device_name: String,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// When it expires.
    pub expires_at: Timestamp,
    /// Whether this is the token making the request.
    pub current: bool,
}

/// Invite someone to a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    /// The invited email; joining must use the same one.
    pub email: String,
    /// With what role.
    pub role: Role,
}

/// Set one's own time zone and working hours in a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetProfileRequest {
    /// IANA time zone name, such as `Europe/Lisbon`.
    pub timezone: String,
    /// When they work, in that zone.
    pub working_hours: crate::WorkingHours,
}

/// Change a member's role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRoleRequest {
    /// The new role.
    pub role: Role,
}

/// An invite; the code is shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invite {
    /// The one-time code to hand to the invitee.
    pub code: String,
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The member's email.
    pub email: String,
    /// What the member may do in the workspace.
    pub role: Role,
    /// When the code stops working.
    pub expires_at: Timestamp,
}

/// Upload mutations, in `mutation_id` order, starting right after the last one the server
/// recorded for this client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    /// The pushing client; every envelope must carry the same id.
    pub client_id: ClientId,
    /// Mutation ids the client gives up sending, in order, right before `mutations`' ids.
    /// Each is recorded as refused with the client's reason, so the ids stay gap-free and
    /// everything behind an unsendable mutation still syncs. An id the server has already
    /// recorded answers its stored outcome instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawn: Vec<Withdrawal>,
    /// At most [`MAX_PUSH_BATCH`], counting `withdrawn`.
    pub mutations: Vec<MutationEnvelope>,
}

impl PushRequest {
    /// A push of `mutations` with nothing withdrawn.
    pub fn new(client_id: ClientId, mutations: Vec<MutationEnvelope>) -> Self {
        Self { client_id, withdrawn: Vec::new(), mutations }
    }
}

/// A mutation its client cannot send (over the server's body limit, its files gone from the
/// client's disk): only its id, kind and spec travel, and the server records it as rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The mutation's id.
    pub mutation_id: u64,
    /// Its kind's wire name (for the record).
    pub kind: String,
    /// The spec it targeted.
    pub spec_id: SpecId,
    /// Why it cannot be sent: `too_large` (over the server's body limit), `blobs_missing` (its
    /// files are gone from the client), `not_found` (lost in a server restore and no longer
    /// kept by the client).
    pub code: ApiErrorCode,
    /// Why, for people (at most [`MAX_WITHDRAWAL_MESSAGE`] characters are kept).
    pub message: String,
}

/// The longest reason a [`Withdrawal`] keeps.
pub const MAX_WITHDRAWAL_MESSAGE: usize = 500;

/// What the server decided for one mutation. Recorded with the mutation's effects; a replay
/// returns the same outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied as sent.
    Applied,
    /// Applied after a clean 3-way merge with changes the author had not seen.
    Merged,
    /// Not applied; a conflict record keeps both sides for a person to resolve.
    Conflict {
        /// The conflict record.
        conflict_id: ConflictId,
        /// What overlapped.
        message: String,
    },
    /// Permanently refused (validation, permission, lifecycle). The id still advances.
    Rejected {
        /// Why, as a stable code.
        code: ApiErrorCode,
        /// Why, for people.
        message: String,
    },
}

/// The outcome of one pushed mutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    /// The mutation.
    pub mutation_id: u64,
    /// What happened.
    pub outcome: Outcome,
}

/// The answer to a push.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// One per pushed mutation, in order (replays included).
    pub results: Vec<PushResult>,
    /// The server's clock; clients catch their HLC up with it.
    pub server_hlc: Hlc,
    /// Which history of the server's database answered, as in [`PullResponse::history`]: a
    /// client that has only pushed so far learns it here, so a later restore is seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// The largest request body the server accepts, in bytes: a client sizes its pushes under
    /// it, and sets aside a change too big to ever fit without sending it (a body over it is
    /// refused, and the refusal can be lost when the server closes the connection before the
    /// client has finished sending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_bytes: Option<u64>,
}

/// A unit of authorization and of ordering: a workspace (its members) or one spec with
/// everything attached to it. Written `workspace:<uuid>` or `spec:<uuid>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// A workspace's members and its own record.
    Workspace(WorkspaceId),
    /// A spec with its deliverables, revisions, threads, comments, reviews and conflicts.
    Spec(SpecId),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Workspace(id) => write!(f, "workspace:{id}"),
            Scope::Spec(id) => write!(f, "spec:{id}"),
        }
    }
}

impl FromStr for Scope {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("workspace", id)) => Ok(Scope::Workspace(id.parse()?)),
            Some(("spec", id)) => Ok(Scope::Spec(id.parse()?)),
            _ => Err(CoreError::Invalid {
                what: "scope",
                value: s.chars().take(80).collect(),
                reason: "expected workspace:<id> or spec:<id>",
            }),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Download changes. `cursors` holds the last version the client applied per scope; scopes
/// it has never seen are absent (the server sends them from version 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PullRequest {
    /// Last applied version per scope.
    pub cursors: BTreeMap<Scope, u64>,
    /// Most records wanted in this page; the server caps it at [`MAX_PULL_LIMIT`].
    pub limit: u32,
}

/// One page of one scope: every record changed after the client's cursor, up to
/// `to_version`. Pages end on commit boundaries, so applying a page and setting the cursor
/// to `to_version` in one transaction never shows half a commit. `R` is how a reader holds
/// each record (the client keeps the exact JSON beside the parsed [`Record`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopePage<R = Record> {
    /// The scope.
    pub scope: Scope,
    /// True when the client must drop everything it holds for this scope first (it lost
    /// access, or its cursor is from another server history). `records` is then empty for a
    /// lost scope.
    pub reset: bool,
    /// The scope's version after this page; the client's new cursor.
    pub to_version: u64,
    /// The current state of every record changed in the page's versions.
    pub records: Vec<R>,
}

/// The answer to a pull.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse<R = Record> {
    /// Pages, at most one per scope.
    pub pages: Vec<ScopePage<R>>,
    /// True when more changes wait; pull again with the new cursors.
    pub more: bool,
    /// The server's clock.
    pub server_hlc: Hlc,
    /// Which history of the server's database answered (it changes when the server is
    /// restored from a backup): a client that sees it change fetches every scope again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// The largest request body the server accepts, as in [`PushResponse::max_request_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_bytes: Option<u64>,
}

/// A thread with its derived state and how many resolve/reopen events it has had.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    /// The thread.
    pub thread: Thread,
    /// Resolve/reopen events so far; a reply carries it as `seen_events`.
    pub events: u32,
    /// Resolves, reopens and claims in the order the server recorded them (threads from
    /// before history was kept have only their count).
    #[serde(default)]
    pub history: Vec<ThreadHistoryEntry>,
}

/// A conflict kept for a person to resolve. Never contains conflict markers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    /// Its id.
    pub id: ConflictId,
    /// The spec.
    pub spec_id: SpecId,
    /// The client whose mutation met the conflict.
    pub client_id: ClientId,
    /// That mutation.
    pub mutation_id: u64,
    /// Its author.
    pub author: String,
    /// When it was recorded.
    pub created_at: Timestamp,
    /// What overlapped.
    pub detail: ConflictDetail,
    /// Whether someone resolved it.
    pub resolved: bool,
}

/// The two sides of a conflict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictDetail {
    /// Overlapping edits to a spec section: the stored text was left unchanged.
    Section {
        /// The section.
        section: SectionKind,
        /// The text both edits started from.
        base: String,
        /// The stored text (someone else's edit).
        theirs: String,
        /// The incoming edit, not applied.
        ours: String,
    },
    /// A last-writer-wins field where an edit overwrote a value its author had not seen;
    /// the overwritten value is kept so it can be restored.
    Overwritten {
        /// The field, e.g. `title` or `criterion:<id>`.
        field: String,
        /// The value that was overwritten.
        overwritten: serde_json::Value,
        /// The value that won.
        kept: serde_json::Value,
    },
}

/// One record in a pull page: the current state of one entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Record {
    /// A workspace.
    Workspace(Workspace),
    /// A member (added or changed).
    Member(Member),
    /// A member left the workspace.
    MemberRemoved {
        /// The workspace.
        workspace_id: WorkspaceId,
        /// The account.
        user_id: UserId,
    },
    /// A spec aggregate: fields, sections, criteria, assignees.
    Spec(Spec),
    /// A deliverable.
    Deliverable(Deliverable),
    /// A revision, numbered by the server.
    Revision(Revision),
    /// A thread with its state.
    Thread(ThreadRecord),
    /// A comment (redacted ones too).
    Comment(Comment),
    /// A review.
    Review(Review),
    /// A reviewer's viewed mark on a file.
    ViewedFile(ViewedFile),
    /// An owner accepted the spec by override.
    AcceptanceOverride(AcceptanceOverride),
    /// An owner marked the spec ready by override.
    ReadyOverride(ReadyOverride),
    /// Something others should hear about happened on the spec.
    Activity(crate::activity::Activity),
    /// How far a member has read the spec's activity.
    ReadMark(crate::activity::ReadMark),
    /// A conflict record.
    Conflict(ConflictRecord),
}

/// Ask which blobs the server lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobsMissingRequest {
    /// sha256 hex of each blob the client is about to reference.
    pub hashes: Vec<String>,
}

/// The blobs the server lacks, to upload before the revision that needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobsMissingResponse {
    /// The subset of the request the server does not have.
    pub missing: Vec<String>,
}

/// A data-less notice that a scope changed; the client pulls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poke {
    /// The scope that changed.
    pub scope: Scope,
    /// Its version now.
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_strings_on_the_wire_and_map_keys() {
        let id: SpecId = uuid::Uuid::from_bytes([7; 16]).into();
        let mut req = PullRequest { limit: 10, ..Default::default() };
        req.cursors.insert(Scope::Spec(id), 4);
        let json = serde_json::to_string(&req).expect("json");
        assert_eq!(json, format!(r#"{{"cursors":{{"spec:{id}":4}},"limit":10}}"#));
        assert_eq!(serde_json::from_str::<PullRequest>(&json).expect("back"), req);
        assert!("blob:1".parse::<Scope>().is_err());
    }

    #[test]
    fn outcomes_and_errors_have_stable_shapes() {
        let o = Outcome::Rejected { code: ApiErrorCode::Forbidden, message: "no".into() };
        assert_eq!(serde_json::to_string(&o).expect("json"), r#"{"outcome":"rejected","code":"forbidden","message":"no"}"#);
        let e = ApiError { code: ApiErrorCode::UpgradeRequired, message: "upgrade".into() };
        assert_eq!(serde_json::to_string(&e).expect("json"), r#"{"code":"upgrade_required","message":"upgrade"}"#);
    }
}
