//! Entities in the product's words (DESIGN §1). These are the shapes stored by the client,
//! sent by the server on pull, and shown by the UI.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::CoreError;
use crate::ids::*;
use crate::lifecycle::{Role, SpecStatus};
use crate::time::Timestamp;

/// A team's shared space on one server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Workspace {
    /// Its id.
    pub id: WorkspaceId,
    /// Its display name.
    pub name: String,
}

/// A member's working hours in their own time zone, so the inbox can say when a handoff
/// will be seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkingHours {
    /// Start, minutes after local midnight.
    pub start_minute: u16,
    /// End, minutes after local midnight (may be less than start for night shifts).
    pub end_minute: u16,
    /// Working days, bit 0 = Monday … bit 6 = Sunday.
    pub days: u8,
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self { start_minute: 9 * 60, end_minute: 17 * 60, days: 0b001_1111 }
    }
}

/// A user in a workspace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// The user's account id.
    pub user_id: UserId,
    /// The user's email, their identity across the product.
    pub email: String,
    /// How their name is shown.
    pub display_name: String,
    /// Their role in this workspace.
    pub role: Role,
    /// IANA time zone name, such as `Europe/Lisbon`.
    pub timezone: String,
    /// When they usually work.
    pub working_hours: WorkingHours,
}

/// The long-text sections of a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// What someone new needs to know about the system to work on this.
    SystemContext,
    /// The interface to build or change.
    ApiShape,
    /// What is deliberately not part of this work.
    OutOfScope,
    /// Anything else, including open questions.
    Notes,
}

impl SectionKind {
    /// All sections in display order.
    pub const ALL: [SectionKind; 4] =
        [SectionKind::SystemContext, SectionKind::ApiShape, SectionKind::OutOfScope, SectionKind::Notes];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SectionKind::SystemContext => "system_context",
            SectionKind::ApiShape => "api_shape",
            SectionKind::OutOfScope => "out_of_scope",
            SectionKind::Notes => "notes",
        }
    }

    /// Its name in a sentence: "system context", "API shape".
    pub fn title(self) -> &'static str {
        match self {
            SectionKind::SystemContext => "system context",
            SectionKind::ApiShape => "API shape",
            SectionKind::OutOfScope => "out of scope",
            SectionKind::Notes => "notes",
        }
    }
}

impl fmt::Display for SectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SectionKind {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_");
        SectionKind::ALL.into_iter().find(|k| k.as_str() == wanted).ok_or_else(|| CoreError::UnknownValue {
            what: "section",
            value: s.chars().take(64).collect(),
            expected: "system_context, api_shape, out_of_scope, notes",
        })
    }
}

/// The text of each long section; empty when not written yet.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Sections {
    /// See [`SectionKind::SystemContext`].
    pub system_context: String,
    /// See [`SectionKind::ApiShape`].
    pub api_shape: String,
    /// See [`SectionKind::OutOfScope`].
    pub out_of_scope: String,
    /// See [`SectionKind::Notes`].
    pub notes: String,
}

impl Sections {
    /// The text of one section.
    pub fn get(&self, kind: SectionKind) -> &str {
        match kind {
            SectionKind::SystemContext => &self.system_context,
            SectionKind::ApiShape => &self.api_shape,
            SectionKind::OutOfScope => &self.out_of_scope,
            SectionKind::Notes => &self.notes,
        }
    }

    /// Mutable access to one section.
    pub fn get_mut(&mut self, kind: SectionKind) -> &mut String {
        match kind {
            SectionKind::SystemContext => &mut self.system_context,
            SectionKind::ApiShape => &mut self.api_shape,
            SectionKind::OutOfScope => &mut self.out_of_scope,
            SectionKind::Notes => &mut self.notes,
        }
    }
}

/// One acceptance criterion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Criterion {
    /// Stable id, so reviews keep pointing at it after edits and reorders.
    pub id: CriterionId,
    /// What must hold.
    pub text: String,
}

/// A unit of contracted work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Spec {
    /// Its id.
    pub id: SpecId,
    /// The workspace it belongs to.
    pub workspace_id: WorkspaceId,
    /// A one-line title.
    pub title: String,
    /// The long sections.
    pub sections: Sections,
    /// Acceptance criteria, in order.
    pub criteria: Vec<Criterion>,
    /// Lifecycle status.
    pub status: SpecStatus,
    /// Emails of the members it is assigned to.
    pub assignees: Vec<String>,
    /// Due date as `YYYY-MM-DD`, in no particular time zone.
    pub due_date: Option<String>,
    /// Email of who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What a contractor submits for a spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deliverable {
    /// Its id.
    pub id: DeliverableId,
    /// The spec it answers.
    pub spec_id: SpecId,
    /// Email of who started it.
    pub created_by: String,
    /// When it was started.
    pub created_at: Timestamp,
}

/// One file in a revision's manifest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ManifestEntry {
    /// Normalized relative path with `/` separators (see [`crate::validate::normalize_path`]).
    pub path: String,
    /// Lowercase hex sha256 of the content; the blob's address.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Whether the executable bit is set.
    pub executable: bool,
}

/// One immutable, numbered snapshot of a deliverable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Revision {
    /// Client-generated id; the revision's identity everywhere.
    pub id: RevisionId,
    /// The deliverable it belongs to.
    pub deliverable_id: DeliverableId,
    /// The spec, for scoping.
    pub spec_id: SpecId,
    /// The number: assigned by the server at commit (`max + 1`); a provisional local number
    /// until then.
    pub number: u32,
    /// Whether `number` is the server's (false while the revision waits to be pushed).
    pub number_confirmed: bool,
    /// The files, sorted by path.
    pub files: Vec<ManifestEntry>,
    /// The contractor's note on what changed and why.
    pub summary: String,
    /// Threads this revision claims to address.
    pub addresses: Vec<ThreadId>,
    /// Email of the author.
    pub created_by: String,
    /// When it was made, by its author's clock (which may be anything).
    pub created_at: Timestamp,
    /// When the server received it, by the server's clock; none until it is pushed, and on
    /// records from servers that predate the field (old clients ignore it).
    #[serde(default)]
    pub received_at: Option<Timestamp>,
}

/// Which side of a revision diff a line anchor points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DiffSide {
    /// The older revision.
    Old,
    /// The newer revision.
    New,
}

/// What a thread is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anchor {
    /// A section of the spec (a question about the API shape, say).
    SpecSection {
        /// The section.
        section: SectionKind,
    },
    /// Lines of a file in a revision.
    RevisionLines {
        /// The revision.
        revision_id: RevisionId,
        /// The file's path in that revision.
        path: String,
        /// First line, 1-based.
        start_line: u32,
        /// Last line, inclusive.
        end_line: u32,
        /// Which side of the diff.
        side: DiffSide,
        /// The anchored lines' text when the thread was made, so it can be carried to later
        /// revisions and shown as outdated when they change.
        excerpt: String,
    },
    /// The whole deliverable.
    Deliverable {
        /// The deliverable.
        deliverable_id: DeliverableId,
    },
    /// The spec as a whole.
    Spec,
}

/// A written discussion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Thread {
    /// Its id.
    pub id: ThreadId,
    /// The spec it belongs to.
    pub spec_id: SpecId,
    /// What it is about.
    pub anchor: Anchor,
    /// Derived from its resolve/reopen events.
    pub resolved: bool,
    /// Email of who opened it.
    pub created_by: String,
    /// When it was opened, by its author's clock (which may be anything).
    pub created_at: Timestamp,
    /// When the server received it, by the server's clock; none until it is pushed, and on
    /// records from servers that predate the field (old clients ignore it).
    #[serde(default)]
    pub received_at: Option<Timestamp>,
}

/// One comment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Comment {
    /// Its id.
    pub id: CommentId,
    /// The thread.
    pub thread_id: ThreadId,
    /// Email of the author.
    pub author: String,
    /// Markdown text; empty when redacted.
    pub body: String,
    /// When it was written, by its author's clock (which may be anything).
    pub created_at: Timestamp,
    /// When it was last edited.
    pub edited_at: Option<Timestamp>,
    /// Deleting a comment redacts it: the row stays, the text goes.
    pub redacted: bool,
    /// When the server received it, by the server's clock; none until it is pushed, and on
    /// records from servers that predate the field (old clients ignore it).
    #[serde(default)]
    pub received_at: Option<Timestamp>,
}

/// Resolve or reopen; a thread's state is derived from these events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ThreadEventKind {
    /// The thread was answered.
    Resolve,
    /// The thread needs attention again.
    Reopen,
}

/// What happened to a thread, in order: the history a thread shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ThreadHistoryKind {
    /// Resolved (for a claimed thread: the reviewer confirmed the claim).
    Resolve,
    /// Reopened (for a claimed thread: the reviewer did not accept the claim).
    Reopen,
    /// A revision claimed to address it.
    Claim,
}

/// One entry of a thread's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadHistoryEntry {
    /// What happened.
    pub kind: ThreadHistoryKind,
    /// Email of who did it.
    pub by: String,
    /// When the server recorded it.
    pub at: Timestamp,
    /// For a claim: the revision that claims it.
    #[serde(default)]
    pub revision_id: Option<RevisionId>,
}

/// A reviewer's mark that they looked at a file, as the file was then (its hash): it holds
/// for every revision where the file has that content, and clears when the content changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ViewedFile {
    /// The spec.
    pub spec_id: SpecId,
    /// Email of the reviewer whose mark it is.
    pub reviewer: String,
    /// The file's path.
    pub path: String,
    /// The content that was viewed.
    pub sha256: String,
    /// The revision it was marked on.
    pub revision_id: RevisionId,
    /// False when the mark was taken back.
    pub viewed: bool,
    /// When it was marked.
    pub at: Timestamp,
}

/// An owner's decision to mark a spec ready although readiness rules failed; recorded and
/// shown on the spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReadyOverride {
    /// The spec.
    pub spec_id: SpecId,
    /// Email of the owner.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The rules that failed when it was overridden.
    pub failing: Vec<crate::readiness::ReadinessRule>,
    /// When the server recorded it.
    pub at: Timestamp,
}

/// An owner's decision to accept a spec without an approving review that settles every
/// criterion; recorded and shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AcceptanceOverride {
    /// The spec.
    pub spec_id: SpecId,
    /// The latest revision when it was accepted, if there was one.
    pub revision_id: Option<RevisionId>,
    /// Email of the owner.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// A reviewer's overall decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Good to accept.
    Approve,
    /// Changes are needed.
    RequestChanges,
    /// Remarks only.
    Comment,
}

/// How a revision stands against one acceptance criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AcceptanceStatus {
    /// Not looked at yet.
    Unchecked,
    /// The reviewer found the criterion holds.
    Met,
    /// Does not hold.
    NotMet,
    /// Does not apply to this deliverable; counts as settled for acceptance.
    NotApplicable,
}

impl AcceptanceStatus {
    /// Whether this status settles the criterion for acceptance.
    pub fn settles(self) -> bool {
        matches!(self, AcceptanceStatus::Met | AcceptanceStatus::NotApplicable)
    }
}

/// Lines of a file in the reviewed revision that show a criterion holds (or does not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Evidence {
    /// The file's path in the reviewed revision.
    pub path: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, inclusive.
    pub end_line: u32,
}

/// A criterion's status in a published review, with why.
///
/// Reads a v1 review's `{criterion_id, status}` too: the text, note and evidence default to
/// empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CriterionVerdict {
    /// The criterion.
    pub criterion_id: CriterionId,
    /// The criterion's text when the review was written, so the ledger can still show it
    /// after the criterion is edited or removed.
    #[serde(default)]
    pub text: String,
    /// Its status.
    pub status: AcceptanceStatus,
    /// The reviewer's note on it.
    #[serde(default)]
    pub note: String,
    /// Where in the reviewed revision it can be seen.
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

impl From<CriterionCheck> for CriterionVerdict {
    fn from(c: CriterionCheck) -> Self {
        Self { criterion_id: c.criterion_id, text: String::new(), status: c.status, note: String::new(), evidence: None }
    }
}

/// A thread a review opens when it is published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewThread {
    /// New thread id.
    pub thread_id: ThreadId,
    /// Id of its first comment.
    pub comment_id: CommentId,
    /// What it is about (usually lines of the diff).
    pub anchor: Anchor,
    /// The first comment.
    pub body: String,
}

/// A reply a review adds to an existing thread when it is published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewReply {
    /// New comment id.
    pub comment_id: CommentId,
    /// The thread.
    pub thread_id: ThreadId,
    /// The reply.
    pub body: String,
    /// Resolve/reopen events the author had seen (a reply to a resolved thread written
    /// without seeing the resolve reopens it, as a plain reply does).
    pub seen_events: u32,
}

/// A criterion's status in a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CriterionCheck {
    /// The criterion.
    pub criterion_id: CriterionId,
    /// Its status.
    pub status: AcceptanceStatus,
}

/// A reviewer's published review of a revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Review {
    /// Its id.
    pub id: ReviewId,
    /// The revision reviewed.
    pub revision_id: RevisionId,
    /// The spec.
    pub spec_id: SpecId,
    /// Email of the reviewer.
    pub reviewer: String,
    /// The decision.
    pub verdict: Verdict,
    /// The reviewer's summary.
    pub summary: String,
    /// Status per acceptance criterion.
    pub criteria: Vec<CriterionVerdict>,
    /// Threads opened by this review (its line comments), in the order written.
    #[serde(default)]
    pub threads: Vec<ThreadId>,
    /// Replies this review added to existing threads.
    #[serde(default)]
    pub replies: Vec<CommentId>,
    /// When it was published, by its reviewer's clock (which may be anything).
    pub published_at: Timestamp,
    /// When the server received it, by the server's clock; none until it is pushed, and on
    /// records from servers that predate the field (old clients ignore it).
    #[serde(default)]
    pub received_at: Option<Timestamp>,
}
