//! What the client shows: read models for the CLI and the app, serialized as they are for
//! `--json` output and the IPC layer.

use serde::{Deserialize, Serialize};

use handoff_core::*;

/// A workspace as this client knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WorkspaceView {
    /// The workspace.
    pub workspace: Workspace,
    /// True for the workspace this client made for itself before joining a server.
    pub is_local: bool,
}

/// A member of a workspace, as the member list shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberView {
    /// Their account.
    pub user_id: UserId,
    /// Their email, their identity across the product.
    pub email: String,
    /// How their name is shown.
    pub display_name: String,
    /// What they may do here.
    pub role: Role,
    /// Their IANA time zone.
    pub timezone: String,
    /// When they work, in their zone.
    pub working_hours: WorkingHours,
    /// `09:00-17:30 mon-fri`.
    pub hours_text: String,
    /// Their clock now.
    pub local_now: handoff_core::hours::LocalTime,
    /// Whether now is inside their working hours.
    pub working_now: bool,
    /// Whether this is the account signed in on this device.
    pub is_me: bool,
}

/// A workspace's member list, with what this account may do to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MembersView {
    /// The workspace.
    pub workspace_id: WorkspaceId,
    /// Its members, by name.
    pub members: Vec<MemberView>,
    /// Whether this account may invite, change roles and remove (by `handoff_core`'s rules).
    pub can_manage: bool,
}

/// What ending the engagement on a spec does: whom it unassigns, and whether each of them
/// still has other open work in the workspace (if not, an owner may remove them from it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EngagementEnd {
    /// The spec.
    pub spec_id: SpecId,
    /// Its title.
    pub title: String,
    /// The contractors assigned to it.
    pub contractors: Vec<EndingContractor>,
}

/// A contractor whose engagement on a spec ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EndingContractor {
    /// Their email.
    pub email: String,
    /// Their name.
    pub display_name: String,
    /// Other specs of the workspace, not closed, still assigned to them.
    pub other_open_specs: u32,
}

/// One line of the specs list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpecSummary {
    /// The spec.
    pub id: SpecId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The spec's one-line title.
    pub title: String,
    /// Lifecycle status.
    pub status: SpecStatus,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
    /// Last change.
    pub updated_at: Timestamp,
    /// Number of acceptance criteria.
    pub criteria: u32,
    /// Threads not resolved.
    pub open_threads: u32,
    /// Revisions delivered.
    pub revisions: u32,
    /// Assignee emails.
    pub assignees: Vec<String>,
    /// Local changes to it not yet answered by the server.
    pub pending_changes: u32,
    /// Its readiness checklist while it is a draft or ready (what the handoff needs); none
    /// once work has started.
    pub readiness: Option<handoff_core::readiness::Readiness>,
}

/// A thread with its comments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadView {
    /// The thread.
    pub thread: Thread,
    /// Resolve/reopen events so far.
    pub events: u32,
    /// Its comments, oldest first by the time shown.
    pub comments: Vec<Shown<Comment>>,
    /// Resolves, reopens and claims, oldest first.
    pub history: Vec<ThreadHistoryEntry>,
    /// The revision that claims to address it, while the claim waits for a reviewer (the
    /// thread is open and nothing happened to it since the claim).
    pub claimed_in: Option<u32>,
    /// Whether this user may resolve it (owners, reviewers, whoever opened it), by
    /// `handoff_core::lifecycle::may_resolve`.
    pub may_resolve: bool,
    /// Set when it is a question: a contractor's thread on the spec or one of its sections.
    pub question: Option<QuestionView>,
}

/// A question's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuestionView {
    /// Who answered it first and when, if anyone other than the asker did.
    pub answer: Option<handoff_core::readiness::QuestionAnswer>,
    /// Unanswered and unresolved: it blocks readiness.
    pub open: bool,
}

/// A record written on someone's machine, with the time to show for it: its author's clock,
/// or the server's receive time when the two disagree by more than
/// `handoff_core::time::SHOWN_TIME_TOLERANCE_MS` (a backdated or far-off clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Shown<T> {
    /// The record, its fields inline.
    #[serde(flatten)]
    pub record: T,
    /// The time to show.
    pub shown_at: Timestamp,
    /// `shown_at` is the server's time because the author's clock was far off.
    pub author_clock_off: bool,
    /// The time in its author's zone too, when theirs reads differently from the viewer's:
    /// `18:05 Lisbon time · Sat 05:05 for you`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub sender_time: Option<String>,
}

/// A record made on an author's machine: its author's time and the server's receive time.
pub trait Authored {
    /// When it was made, by its author's clock.
    fn authored_at(&self) -> Timestamp;
    /// When the server received it.
    fn received_at(&self) -> Option<Timestamp>;
}

impl Authored for Comment {
    fn authored_at(&self) -> Timestamp {
        self.created_at
    }
    fn received_at(&self) -> Option<Timestamp> {
        self.received_at
    }
}

impl Authored for Review {
    fn authored_at(&self) -> Timestamp {
        self.published_at
    }
    fn received_at(&self) -> Option<Timestamp> {
        self.received_at
    }
}

impl<T: Authored> From<T> for Shown<T> {
    fn from(record: T) -> Self {
        let (shown_at, author_clock_off) = handoff_core::time::shown_time(record.authored_at(), record.received_at());
        Self { record, shown_at, author_clock_off, sender_time: None }
    }
}

impl<T> std::ops::Deref for Shown<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.record
    }
}

/// `records` as shown, oldest first by the time shown (ties keep their order).
pub fn shown_in_order<T: Authored>(records: Vec<T>) -> Vec<Shown<T>> {
    let mut shown: Vec<Shown<T>> = records.into_iter().map(Shown::from).collect();
    shown.sort_by_key(|s| s.shown_at);
    shown
}

/// A revision without its manifest, for timelines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevisionSummary {
    /// The revision.
    pub id: RevisionId,
    /// Its deliverable.
    pub deliverable_id: DeliverableId,
    /// Its number (provisional until `number_confirmed`).
    pub number: u32,
    /// Whether the server assigned the number.
    pub number_confirmed: bool,
    /// The contractor's note.
    pub summary: String,
    /// How many files.
    pub files: usize,
    /// Total size of its files in bytes.
    pub bytes: u64,
    /// Threads it claims to address.
    pub addresses: Vec<ThreadId>,
    /// The email of the member who delivered it.
    pub created_by: String,
    /// When it was delivered (on the author's clock).
    pub created_at: Timestamp,
    /// The time to show: the author's, or the server's receive time when the two disagree by
    /// more than `handoff_core::time::SHOWN_TIME_TOLERANCE_MS`.
    pub shown_at: Timestamp,
    /// `shown_at` is the server's time because the author's clock was far off.
    pub author_clock_off: bool,
    /// The time in its author's zone too, when theirs reads differently from the viewer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub sender_time: Option<String>,
}

impl From<&Revision> for RevisionSummary {
    fn from(r: &Revision) -> Self {
        let (shown_at, author_clock_off) = handoff_core::time::shown_time(r.created_at, r.received_at);
        Self {
            id: r.id,
            deliverable_id: r.deliverable_id,
            number: r.number,
            number_confirmed: r.number_confirmed,
            summary: r.summary.clone(),
            files: r.files.len(),
            bytes: r.files.iter().map(|f| f.size).sum(),
            addresses: r.addresses.clone(),
            created_by: r.created_by.clone(),
            created_at: r.created_at,
            shown_at,
            author_clock_off,
            sender_time: None,
        }
    }
}

/// Everything about one spec, for its screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpecDetail {
    /// The spec aggregate.
    pub spec: Spec,
    /// The viewer's role in its workspace.
    pub role: Role,
    /// What the viewer may do to it now (the UI offers only these).
    pub permissions: SpecPermissions,
    /// Its deliverables.
    pub deliverables: Vec<Deliverable>,
    /// Its revisions, oldest first.
    pub revisions: Vec<RevisionSummary>,
    /// Its threads.
    pub threads: Vec<ThreadView>,
    /// Its reviews, newest first by the time shown.
    pub reviews: Vec<Shown<Review>>,
    /// This user's unpublished review comments on it.
    pub drafts: u32,
    /// The acceptance ledger, read in the same transaction (one answer per screen refresh).
    pub ledger: handoff_core::ledger::Ledger,
    /// Local changes to it not yet answered by the server.
    pub pending_changes: u32,
    /// Its readiness checklist (`handoff_core::readiness`).
    pub readiness: handoff_core::readiness::Readiness,
    /// An owner marked it ready although rules failed.
    pub ready_override: Option<ReadyOverride>,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SearchHit {
    /// What matched: `spec`, `criterion`, `comment` or `file`.
    pub kind: String,
    /// The spec it belongs to.
    pub spec_id: SpecId,
    /// That spec's title.
    pub spec_title: String,
    /// The matching entity's id (for files: `<revision id>/<path>`).
    pub ref_id: String,
    /// The matching text with the match in `[` `]`.
    pub snippet: String,
}

/// Whether a queued change still waits to be sent or needs a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be pushed.
    Pending,
    /// Rejected or conflicted: kept, with the reason, until someone retries, edits,
    /// discards or exports it.
    Attention,
}

/// One queued local change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxEntry {
    /// Its id, increasing per client.
    pub mutation_id: u64,
    /// The mutation's wire kind (for scripts; people read `description`).
    pub kind: String,
    /// What it does, in words for people ("Assign ana@… to 'CSV export'").
    #[serde(default)]
    pub description: String,
    /// The spec it changes.
    pub spec_id: SpecId,
    /// When it was made.
    pub created_at: Timestamp,
    /// Pending or needing attention.
    pub state: OutboxState,
    /// The last failure or the server's reason.
    pub last_error: Option<String>,
    /// The whole envelope, for export.
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub envelope: MutationEnvelope,
}

/// The local store at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoreStatus {
    /// The data dir.
    pub data_dir: String,
    /// This installation's client id.
    pub client_id: ClientId,
    /// Who this client acts as.
    pub identity: String,
    /// Workspaces known.
    pub workspaces: usize,
    /// Specs stored.
    pub specs: usize,
    /// Changes waiting to be sent.
    pub pending: usize,
    /// Changes the server refused or conflicted, waiting for a person.
    pub attention: usize,
    /// Blobs stored locally.
    pub blobs: usize,
    /// Their total size.
    pub blob_bytes: u64,
    /// The server this client syncs with, if any.
    pub server: Option<String>,
    /// When the last sync finished, if ever.
    pub last_sync: Option<Timestamp>,
    /// Whether the server answered just now; `None` when not asked (the store alone cannot
    /// know; the CLI and the app fill it from the sync engine).
    #[serde(default)]
    pub online: Option<bool>,
}
