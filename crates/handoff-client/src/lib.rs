//! Everything a Handoff client does without a screen. [`Client`] is the one facade that the
//! desktop app and the `handoff` CLI call.
//!
//! Architecture invariant: every user action is one SQLite transaction that changes the
//! local tables *and* appends its mutation to the outbox; either both are visible or
//! neither is. Nothing here knows about Tauri, a terminal, or the UI.

pub mod attention;
pub mod blobs;
pub mod clock;
pub mod code;
pub mod credentials;
pub mod deliver;
pub mod diffing;
mod engagement;
pub mod error;
pub mod export;
pub mod import;
pub mod inbox;
mod members;
mod outbox;
pub mod place;
pub mod profile;
mod readiness;
pub mod review_diff;
pub mod reviewing;
mod search;
mod store;
pub mod sync;
pub mod thread_places;
pub mod turnaround;
pub mod views;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use handoff_core::*;

pub use attention::AttentionItem;
pub use blobs::BlobStore;
pub use clock::{Clock, SystemClock};
pub use code::Code;
pub use credentials::{CredentialError, TokenStore};
pub use error::{ClientError, ImportProblem, Result};
pub use export::ExportReport;
pub use import::{ImportCounts, ImportReport};
pub use inbox::{Inbox, InboxGroup, InboxItem, Notice, NoticePlan};
pub use profile::{MyProfile, ProfileChange};
pub use reviewing::{CriterionInput, DraftView, LineTarget, ViewedFiles};
pub use sync::{JoinParams, Joined, Progress, SyncEngine, SyncError, SyncReport};
pub use thread_places::{PlacedThread, Placement};
pub use turnaround::{TurnSummary, TurnView, Turnaround};
pub use views::*;

use store::apply::{self, Actor};
use store::read;

/// The email a client acts as before it has joined any server.
pub const LOCAL_IDENTITY: &str = "me@localhost";

/// What a new spec starts with.
#[derive(Clone, Debug, Default)]
pub struct NewSpec {
    /// The workspace; the current one when `None`.
    pub workspace_id: Option<WorkspaceId>,
    /// The one-line title (required).
    pub title: String,
    /// Long sections.
    pub sections: Sections,
    /// Acceptance criteria texts, in order.
    pub criteria: Vec<String>,
    /// Due date, `YYYY-MM-DD`.
    pub due_date: Option<String>,
}

/// Several changes to one spec, made as one action by [`Client::edit_spec`]. Criteria are
/// named by their position (from 1) in the spec as it was before the edit.
#[derive(Clone, Debug, Default)]
pub struct SpecEdit {
    /// A new title.
    pub title: Option<String>,
    /// New texts of sections.
    pub sections: Vec<(SectionKind, String)>,
    /// A new due date (`Some(None)` clears it).
    pub due_date: Option<Option<String>>,
    /// New texts of criteria, by position.
    pub set_criteria: Vec<(usize, String)>,
    /// Criteria to move: from position N to position M.
    pub move_criteria: Vec<(usize, usize)>,
    /// Criteria to remove, by position.
    pub remove_criteria: Vec<usize>,
    /// Criteria to add at the end, in order.
    pub add_criteria: Vec<String>,
}

/// Where a new thread points, as a person gives it.
#[derive(Clone, Debug)]
pub enum ThreadTarget {
    /// The spec as a whole.
    Spec,
    /// One section of the spec.
    Section(SectionKind),
    /// Lines `start..=end` (1-based) of a file in revision `number`.
    Lines {
        /// Revision number.
        revision: u32,
        /// File path in that revision.
        path: String,
        /// First line.
        start: u32,
        /// Last line.
        end: u32,
    },
    /// The spec's deliverable as a whole.
    Deliverable,
}

/// A client over one data dir: the local store, its blobs and its outbox.
pub struct Client {
    data_dir: PathBuf,
    conn: Mutex<Connection>,
    /// The screens' reads (lists, a spec, counts), beside the writer: see [`store::open_reader`].
    reader: Mutex<Connection>,
    blobs: BlobStore,
    clock: Arc<dyn Clock>,
    /// Revision pairs the diff viewer has computed (bounded).
    review_diffs: review_diff::DiffCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("data_dir", &self.data_dir).finish_non_exhaustive()
    }
}

/// A fresh random id whose time prefix comes from the injected clock.
fn new_id<T: From<uuid::Uuid>>(now: Timestamp) -> T {
    let random = *uuid::Uuid::new_v4().as_bytes();
    let mut entropy = [0u8; 10];
    entropy.copy_from_slice(&random[..10]);
    let ms = now.as_millis().max(0) as u64;
    T::from(uuid::Builder::from_unix_timestamp_millis(ms, &entropy).into_uuid())
}

impl Client {
    /// Opens the client in `data_dir` (created if needed) with the system clock.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with_clock(data_dir, Arc::new(SystemClock))
    }

    /// Opens the client with an injected clock (tests, simulations).
    pub fn open_with_clock(data_dir: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self> {
        let data_dir = data_dir.as_ref().to_owned();
        std::fs::create_dir_all(&data_dir).map_err(ClientError::io("cannot create the data folder", &data_dir))?;
        let path = data_dir.join("store.db");
        let mut conn = store::open(&path)?;
        let blobs = BlobStore::open(data_dir.join("blobs"))?;
        Self::initialize(&mut conn, clock.now())?;
        Self::sweep_unwanted_downloads(&conn, &blobs);
        let reader = store::open_reader(&path)?;
        Ok(Self {
            data_dir,
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            blobs,
            clock,
            review_diffs: review_diff::DiffCache::default(),
        })
    }

    /// First-open setup: a client id, and a local workspace to work in before joining a
    /// server. Idempotent, and safe when two processes open a new store at once.
    fn initialize(conn: &mut Connection, now: Timestamp) -> Result<()> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if outbox::meta_get(&tx, "client_id")?.is_none() {
            let id = new_id::<ClientId>(now).to_string();
            outbox::meta_set(&tx, "client_id", &id)?;
            tx.execute("INSERT OR IGNORE INTO client_ids (client_id, user_id, base) VALUES (?1, NULL, 0)", [id])?;
        }
        let has_workspace: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM workspaces)", [], |r| r.get(0))?;
        if !has_workspace {
            let id: WorkspaceId = new_id(now);
            tx.execute("INSERT INTO workspaces (id, name, is_local) VALUES (?1, 'Local', 1)", [id.to_string()])?;
            outbox::meta_set(&tx, "current_workspace", &id.to_string())?;
        }
        crate::store::commit(tx)?;
        Ok(())
    }

    /// Drops partial downloads of blobs no revision here names any more (a spec removed, a
    /// store reset) and of blobs stored since; the rest are resumed by the next download.
    fn sweep_unwanted_downloads(conn: &Connection, blobs: &BlobStore) {
        let Ok(mut named) = conn.prepare("SELECT EXISTS (SELECT 1 FROM revision_files WHERE sha256 = ?1)") else { return };
        // A failed look-up keeps the file: losing a partial download costs a refetch.
        blobs.sweep_downloads(|sha256| named.query_row([sha256], |r| r.get::<_, bool>(0)).unwrap_or(true));
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (rusqlite rolls back
        // on drop), so the connection is still sound.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The read connection, for what the screens reload after every change (a read that
    /// needs one snapshot opens a transaction on it).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// SQLite's `data_version` for this client's connection: it changes when another
    /// connection (the CLI, another app) commits to the store, and not for this client's own
    /// writes, so a watcher can tell "someone else changed the store" cheaply.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn().query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The blob store.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// The clock this client reads.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn actor(conn: &Connection) -> Result<Actor> {
        Ok(Actor { email: outbox::meta_get(conn, "identity")?.unwrap_or_else(|| LOCAL_IDENTITY.to_owned()) })
    }

    /// Writes mutations as one local action: each is validated, applied to the local tables
    /// and appended to the outbox, all in one transaction. Returns their mutation ids.
    pub fn write(&self, mutations: Vec<Mutation>) -> Result<Vec<u64>> {
        self.write_with(mutations, |_| Ok(()))
    }

    /// [`Client::write`] with a hook that runs after everything is written and before the
    /// commit; an error from it rolls the whole action back. Tests use it to prove atomicity.
    fn write_with(
        &self,
        mutations: Vec<Mutation>,
        before_commit: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<Vec<u64>> {
        self.write_decided(|_| Ok(mutations), before_commit)
    }

    /// [`Client::write_decided`] without a hook: the action's mutations are decided from what
    /// the store holds inside the write transaction.
    fn write_deciding(&self, decide: impl FnOnce(&Transaction<'_>) -> Result<Vec<Mutation>>) -> Result<Vec<u64>> {
        self.write_decided(decide, |_| Ok(()))
    }

    /// [`Client::write_with`] for an action whose mutations depend on what the store holds
    /// (say, "the spec's deliverable, or a new one"): `decide` reads inside the write
    /// transaction, so another process cannot change the answer before the commit.
    fn write_decided(
        &self,
        decide: impl FnOnce(&Transaction<'_>) -> Result<Vec<Mutation>>,
        before_commit: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<Vec<u64>> {
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mutations = decide(&tx)?.into_iter().map(Mutation::validated).collect::<Result<Vec<_>, _>>()?;
        for m in &mutations {
            read::refuse_archived(&tx, m.spec_id())?;
        }
        let actor = Self::actor(&tx)?;
        let mut ids = Vec::with_capacity(mutations.len());
        for m in &mutations {
            apply::apply(&tx, m, &actor, now)?;
            ids.push(outbox::append(&tx, m, now)?);
        }
        before_commit(&tx)?;
        crate::store::commit(tx)?;
        Ok(ids)
    }

    /// The workspace new specs go to.
    pub fn current_workspace(&self) -> Result<WorkspaceId> {
        let conn = self.conn();
        match outbox::meta_get(&conn, "current_workspace")? {
            Some(id) => read::parse("workspace id", &id),
            None => read::workspaces(&conn)?
                .first()
                .map(|w| w.workspace.id)
                .ok_or_else(|| ClientError::NotFound { what: "workspace", id: "any".into() }),
        }
    }

    /// Every workspace this client knows.
    pub fn workspaces(&self) -> Result<Vec<WorkspaceView>> {
        read::workspaces(&self.conn())
    }

    /// Creates a spec; returns its id.
    pub fn create_spec(&self, new: NewSpec) -> Result<SpecId> {
        let now = self.now();
        let workspace_id = match new.workspace_id {
            Some(w) => w,
            None => self.current_workspace()?,
        };
        let spec_id: SpecId = new_id(now);
        let criteria = new.criteria.into_iter().map(|text| Criterion { id: new_id(now), text }).collect();
        self.write(vec![Mutation::CreateSpec {
            spec_id,
            workspace_id,
            title: new.title,
            sections: new.sections,
            criteria,
            due_date: new.due_date,
        }])?;
        Ok(spec_id)
    }

    fn spec(&self, id: SpecId) -> Result<Spec> {
        spec_in(&self.conn(), id)
    }

    /// Renames a spec.
    pub fn set_title(&self, spec_id: SpecId, title: &str) -> Result<()> {
        self.write(vec![Mutation::SetTitle { spec_id, title: title.to_owned() }]).map(drop)
    }

    /// Replaces a section's text; the text it replaces travels along as the merge base.
    pub fn edit_section(&self, spec_id: SpecId, section: SectionKind, text: &str) -> Result<()> {
        self.write_deciding(|tx| {
            let base = spec_in(tx, spec_id)?.sections.get(section).to_owned();
            Ok(if base == text { vec![] } else { vec![Mutation::EditSection { spec_id, section, base, text: text.to_owned() }] })
        })
        .map(drop)
    }

    /// Applies several changes to one spec as one action: all of them or, when any is
    /// refused, none. Criterion positions count from 1 in the spec as it was before the edit.
    pub fn edit_spec(&self, spec_id: SpecId, edit: SpecEdit) -> Result<()> {
        let now = self.now();
        self.write_deciding(|tx| {
            let before = spec_in(tx, spec_id)?;
            let at = |n: usize| {
                n.checked_sub(1).and_then(|i| before.criteria.get(i)).map(|c| c.id).ok_or_else(|| ClientError::NotFound {
                    what: "criterion at position",
                    id: format!("{n} (the spec has {})", before.criteria.len()),
                })
            };
            let mut planned = Vec::new();
            if let Some(title) = edit.title {
                planned.push(Mutation::SetTitle { spec_id, title });
            }
            for (section, text) in edit.sections {
                let base = before.sections.get(section).to_owned();
                if base != text {
                    planned.push(Mutation::EditSection { spec_id, section, base, text });
                }
            }
            if let Some(due_date) = edit.due_date {
                planned.push(Mutation::SetDueDate { spec_id, due_date });
            }
            for (n, text) in edit.set_criteria {
                planned.push(Mutation::EditCriterion { spec_id, criterion_id: at(n)?, text });
            }
            let moves = edit.move_criteria.iter().map(|&(n, to)| Ok((at(n)?, to))).collect::<Result<Vec<_>>>()?;
            let removals = edit.remove_criteria.iter().map(|&n| at(n)).collect::<Result<Vec<_>>>()?;
            // Moves and appends are placed relative to the spec as the earlier changes left
            // it, so they are worked out on a copy that each planned change is applied to.
            let mut work = before.clone();
            for m in &planned {
                mutation::apply_to_spec(&mut work, m, now);
            }
            let mut then = |m: Mutation, work: &mut Spec| {
                mutation::apply_to_spec(work, &m, now);
                planned.push(m);
            };
            for (criterion_id, to) in moves {
                let others: Vec<CriterionId> = work.criteria.iter().map(|c| c.id).filter(|c| *c != criterion_id).collect();
                let after = if to <= 1 { None } else { others.get((to - 2).min(others.len().saturating_sub(1))).copied() };
                then(Mutation::MoveCriterion { spec_id, criterion_id, after }, &mut work);
            }
            for criterion_id in removals {
                then(Mutation::RemoveCriterion { spec_id, criterion_id }, &mut work);
            }
            for text in edit.add_criteria {
                let after = work.criteria.last().map(|c| c.id);
                then(Mutation::AddCriterion { spec_id, criterion_id: new_id(now), text, after }, &mut work);
            }
            Ok(planned)
        })
        .map(drop)
    }

    /// Sets or clears the due date.
    pub fn set_due_date(&self, spec_id: SpecId, due_date: Option<&str>) -> Result<()> {
        self.write(vec![Mutation::SetDueDate { spec_id, due_date: due_date.map(str::to_owned) }]).map(drop)
    }

    /// Moves a spec along its lifecycle, if the viewer's role allows that edge.
    pub fn set_status(&self, spec_id: SpecId, to: SpecStatus) -> Result<()> {
        self.write_deciding(|tx| Ok(vec![Mutation::SetStatus { spec_id, from: spec_in(tx, spec_id)?.status, to }])).map(drop)
    }

    /// Assigns a spec to a member by email.
    pub fn assign(&self, spec_id: SpecId, email: &str) -> Result<()> {
        self.write(vec![Mutation::Assign { spec_id, email: email.to_owned() }]).map(drop)
    }

    /// Removes an assignee.
    pub fn unassign(&self, spec_id: SpecId, email: &str) -> Result<()> {
        self.write(vec![Mutation::Unassign { spec_id, email: email.to_owned() }]).map(drop)
    }

    /// Adds an acceptance criterion after `after` (or at the end when `None`); returns its id.
    pub fn add_criterion(&self, spec_id: SpecId, text: &str, after: Option<CriterionId>) -> Result<CriterionId> {
        let criterion_id: CriterionId = new_id(self.now());
        self.write_deciding(|tx| {
            // "At the end" is the end as this write finds it, not as an earlier read saw it.
            let after = match after {
                Some(a) => Some(a),
                None => spec_in(tx, spec_id)?.criteria.last().map(|c| c.id),
            };
            Ok(vec![Mutation::AddCriterion { spec_id, criterion_id, text: text.to_owned(), after }])
        })?;
        Ok(criterion_id)
    }

    /// Changes a criterion's text.
    pub fn edit_criterion(&self, spec_id: SpecId, criterion_id: CriterionId, text: &str) -> Result<()> {
        self.write(vec![Mutation::EditCriterion { spec_id, criterion_id, text: text.to_owned() }]).map(drop)
    }

    /// Moves a criterion after another (`None`: to the top).
    pub fn move_criterion(&self, spec_id: SpecId, criterion_id: CriterionId, after: Option<CriterionId>) -> Result<()> {
        self.write(vec![Mutation::MoveCriterion { spec_id, criterion_id, after }]).map(drop)
    }

    /// Removes a criterion.
    pub fn remove_criterion(&self, spec_id: SpecId, criterion_id: CriterionId) -> Result<()> {
        self.write(vec![Mutation::RemoveCriterion { spec_id, criterion_id }]).map(drop)
    }

    /// Delivers the folder `dir` as the next revision of the spec's deliverable (starting
    /// the deliverable if there is none yet). Files are hashed into the blob store first;
    /// the revision appears only when everything is stored.
    pub fn deliver(&self, spec_id: SpecId, dir: &Path, summary: &str, addresses: Vec<ThreadId>) -> Result<RevisionSummary> {
        self.deliver_with_progress(spec_id, dir, summary, addresses, &mut |_, _| {})
    }

    /// [`Client::deliver`], calling `progress(stored, total)` as files are stored (see
    /// [`deliver::collect_with_progress`]).
    pub fn deliver_with_progress(
        &self,
        spec_id: SpecId,
        dir: &Path,
        summary: &str,
        addresses: Vec<ThreadId>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<RevisionSummary> {
        self.spec(spec_id)?;
        let files = deliver::collect_with_progress(dir, &self.blobs, progress)?;
        self.record_blobs(&files)?;
        let now = self.now();
        let revision_id: RevisionId = new_id(now);
        // The spec's deliverable is looked up inside the write: two processes delivering at
        // once must not each create one (revision numbers count per deliverable).
        self.write_decided(
            |tx| {
                let mut mutations = Vec::new();
                let deliverable_id = match read::deliverables(tx, spec_id)?.first() {
                    Some(d) => d.id,
                    None => {
                        let id: DeliverableId = new_id(now);
                        mutations.push(Mutation::CreateDeliverable { deliverable_id: id, spec_id });
                        id
                    }
                };
                mutations.push(Mutation::CreateRevision {
                    revision_id,
                    deliverable_id,
                    spec_id,
                    files,
                    summary: summary.to_owned(),
                    addresses,
                });
                Ok(mutations)
            },
            |_| Ok(()),
        )?;
        let revisions = read::revisions(&self.conn(), spec_id)?;
        revisions
            .iter()
            .find(|r| r.id == revision_id)
            .map(RevisionSummary::from)
            .ok_or_else(|| ClientError::NotFound { what: "revision", id: revision_id.to_string() })
    }

    fn record_blobs(&self, files: &[ManifestEntry]) -> Result<()> {
        let now = self.now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, stored_at) VALUES (?1, ?2, ?3)")?;
            for f in files {
                stmt.execute(params![f.sha256, f.size as i64, now.as_millis()])?;
            }
        }
        crate::store::commit(tx)?;
        Ok(())
    }

    /// Opens a thread with its first comment; returns its id.
    pub fn create_thread(&self, spec_id: SpecId, target: ThreadTarget, body: &str) -> Result<ThreadId> {
        let anchor = match target {
            ThreadTarget::Spec => Anchor::Spec,
            ThreadTarget::Section(section) => Anchor::SpecSection { section },
            ThreadTarget::Deliverable => Anchor::Deliverable { deliverable_id: spec_deliverable(&self.conn(), spec_id)? },
            ThreadTarget::Lines { revision, path, start, end } => {
                self.line_anchor(spec_id, &reviewing::LineTarget { revision, path, start, end, side: DiffSide::New })?
            }
        };
        let now = self.now();
        let thread_id: ThreadId = new_id(now);
        self.write(vec![Mutation::CreateThread { thread_id, spec_id, anchor, comment_id: new_id(now), body: body.to_owned() }])?;
        Ok(thread_id)
    }

    fn thread_view(&self, thread_id: ThreadId) -> Result<ThreadView> {
        thread_in(&self.conn(), thread_id)
    }

    /// Replies in a thread; returns the comment id.
    pub fn reply(&self, thread_id: ThreadId, body: &str) -> Result<CommentId> {
        let comment_id: CommentId = new_id(self.now());
        self.write_deciding(|tx| {
            // The resolve/reopen events the author has seen are those committed before this
            // reply, so they are counted inside its write.
            let t = thread_in(tx, thread_id)?;
            Ok(vec![Mutation::AddComment {
                comment_id,
                thread_id,
                spec_id: t.thread.spec_id,
                body: body.to_owned(),
                seen_events: t.events,
            }])
        })?;
        Ok(comment_id)
    }

    /// Edits one's own comment.
    pub fn edit_comment(&self, thread_id: ThreadId, comment_id: CommentId, body: &str) -> Result<()> {
        let t = self.thread_view(thread_id)?;
        self.write(vec![Mutation::EditComment { comment_id, thread_id, spec_id: t.thread.spec_id, body: body.to_owned() }])
            .map(drop)
    }

    /// Deletes one's own comment (the text is redacted; the comment stays as a marker).
    pub fn redact_comment(&self, thread_id: ThreadId, comment_id: CommentId) -> Result<()> {
        let t = self.thread_view(thread_id)?;
        self.write(vec![Mutation::RedactComment { comment_id, thread_id, spec_id: t.thread.spec_id }]).map(drop)
    }

    /// Resolves or reopens a thread.
    pub fn set_thread_state(&self, thread_id: ThreadId, event: ThreadEventKind) -> Result<()> {
        let event_id: ThreadEventId = new_id(self.now());
        self.write_deciding(|tx| {
            let t = thread_in(tx, thread_id)?;
            let already =
                matches!((event, t.thread.resolved), (ThreadEventKind::Resolve, true) | (ThreadEventKind::Reopen, false));
            Ok(if already {
                vec![]
            } else {
                vec![Mutation::SetThreadState { event_id, thread_id, spec_id: t.thread.spec_id, event }]
            })
        })
        .map(drop)
    }

    /// Summaries of the specs in a workspace (all workspaces when `None`).
    pub fn list_specs(&self, workspace: Option<WorkspaceId>) -> Result<Vec<SpecSummary>> {
        let conn = self.reader();
        // One snapshot for the whole list, as spec_detail has.
        let tx = conn.unchecked_transaction()?;
        read::spec_summaries(&tx, workspace)
    }

    /// Everything about one spec.
    pub fn spec_detail(&self, spec_id: SpecId) -> Result<SpecDetail> {
        let mut conn = self.reader();
        // One read transaction, so the screen never shows half of a concurrent write.
        let tx = conn.transaction()?;
        let spec = read::spec(&tx, spec_id)?.ok_or_else(|| ClientError::NotFound { what: "spec", id: spec_id.to_string() })?;
        let actor = Self::actor(&tx)?;
        let archived = read::is_archived(&tx, spec_id)?;
        let role = match apply::role_in(&tx, spec.workspace_id, &actor) {
            // An imported archive's workspace may have no members here; its screens are
            // read-only whatever the role, and reviewer is the role that reads everything.
            Err(_) if archived => Role::Reviewer,
            other => other?,
        };
        let revisions = read::revisions(&tx, spec_id)?;
        let pending: u32 = tx.query_row("SELECT COUNT(*) FROM outbox WHERE spec_id = ?1", [spec_id.to_string()], |r| r.get(0))?;
        let assigned = spec.assignees.contains(&actor.email);
        let mut threads = read::threads(&tx, spec_id)?;
        for t in &mut threads {
            t.may_resolve = lifecycle::may_resolve(role, assigned, t.thread.created_by == actor.email, spec.status);
        }
        readiness::mark_questions(&tx, spec.workspace_id, &mut threads)?;
        let spec_readiness = readiness::readiness_of(&spec, &threads);
        // Every handoff's time also in its sender's zone, when it reads differently.
        let clocks = profile::SenderClocks::of(&tx, &spec.workspace_id.to_string())?;
        for c in threads.iter_mut().flat_map(|t| t.comments.iter_mut()) {
            c.sender_time = clocks.text(&c.record.author, c.shown_at);
        }
        let (ledger_revisions, reviews) = read::ledger_inputs(&tx, spec_id)?;
        let override_ = read::acceptance_override(&tx, spec_id)?;
        let ledger = handoff_core::ledger::ledger(&spec.criteria, &ledger_revisions, &reviews, override_.as_ref());
        let ready = matches!(ledger.acceptance, handoff_core::ledger::Acceptance::Ready { .. });
        let detail = SpecDetail {
            permissions: if archived {
                SpecPermissions::none()
            } else {
                SpecPermissions::of(role, assigned, spec.status)
                    .with_acceptance(ready, role)
                    .with_readiness(spec_readiness.is_ready(), role)
            },
            role,
            deliverables: read::deliverables(&tx, spec_id)?,
            revisions: revisions
                .iter()
                .map(|r| {
                    let mut summary = RevisionSummary::from(r);
                    summary.sender_time = clocks.text(&summary.created_by, summary.shown_at);
                    summary
                })
                .collect(),
            threads,
            reviews: {
                let mut shown: Vec<crate::views::Shown<Review>> = reviews
                    .into_iter()
                    .map(|r| {
                        let mut s = crate::views::Shown::from(r);
                        s.sender_time = clocks.text(&s.record.reviewer, s.shown_at);
                        s
                    })
                    .collect();
                shown.sort_by_key(|r| std::cmp::Reverse(r.shown_at));
                shown
            },
            drafts: reviewing::draft_count(&tx, spec_id)?,
            ledger,
            pending_changes: pending,
            readiness: spec_readiness,
            ready_override: read::ready_override(&tx, spec_id)?,
            spec,
        };
        // A read ends with a plain commit: `store::commit`'s index statements would make it a
        // write, and SQLite refuses (at once, "database is locked") to turn a read into a
        // write once another process has committed since the read began.
        tx.commit()?;
        Ok(detail)
    }

    /// A spec's revisions, oldest first, with their manifests.
    pub fn revisions(&self, spec_id: SpecId) -> Result<Vec<Revision>> {
        self.spec(spec_id)?;
        read::revisions(&self.conn(), spec_id)
    }

    /// One revision of a spec by number.
    pub fn revision(&self, spec_id: SpecId, number: u32) -> Result<Revision> {
        revision_in(&self.conn(), spec_id, number)
    }

    /// The files of a revision whose content is not in the local blob store yet (each
    /// distinct content once).
    pub fn missing_revision_files(&self, spec_id: SpecId, number: u32) -> Result<Vec<ManifestEntry>> {
        let revision = self.revision(spec_id, number)?;
        let mut seen = std::collections::BTreeSet::new();
        Ok(revision.files.into_iter().filter(|f| !self.blobs.contains(&f.sha256) && seen.insert(f.sha256.clone())).collect())
    }

    /// A delivered revision's files and contents, read from the blob store. A revision whose
    /// files are not all here yet is [`ClientError::FilesNotHere`], never an OS error.
    pub fn revision_tree(&self, spec_id: SpecId, number: u32) -> Result<diffing::Tree> {
        let missing = self.missing_revision_files(spec_id, number)?;
        if !missing.is_empty() {
            return Err(ClientError::FilesNotHere {
                spec_title: self.spec(spec_id)?.title,
                revision: number,
                missing_files: missing.len(),
                missing_bytes: missing.iter().map(|f| f.size).sum(),
            });
        }
        let revision = self.revision(spec_id, number)?;
        let mut tree = diffing::Tree::default();
        for f in revision.files {
            let bytes = self.blobs.read(&f.sha256)?;
            tree.insert(f.path, bytes, f.executable);
        }
        Ok(tree)
    }

    /// A thread with its comments.
    pub fn thread(&self, thread_id: ThreadId) -> Result<ThreadView> {
        let t = self.thread_view(thread_id)?;
        self.spec_detail(t.thread.spec_id)?
            .threads
            .into_iter()
            .find(|v| v.thread.id == thread_id)
            .ok_or_else(|| ClientError::NotFound { what: "thread", id: thread_id.to_string() })
    }

    /// Full-text search over specs, criteria, comments and file paths.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        search::search(&self.conn(), query, limit)
    }

    /// Every queued local change, oldest first.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        outbox::entries(&self.conn())
    }

    /// The store at a glance.
    pub fn status(&self) -> Result<StoreStatus> {
        let reader = self.reader();
        // One snapshot: the pending and attention counts add up while a sync writes.
        let conn = reader.unchecked_transaction()?;
        let count = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(StoreStatus {
            data_dir: self.data_dir.display().to_string(),
            client_id: outbox::client_id(&conn)?,
            identity: Self::actor(&conn)?.email,
            workspaces: count("SELECT COUNT(*) FROM workspaces")? as usize,
            specs: count("SELECT COUNT(*) FROM specs")? as usize,
            pending: count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")? as usize,
            attention: count("SELECT COUNT(*) FROM outbox WHERE state = 'attention'")? as usize,
            blobs: count("SELECT COUNT(*) FROM blobs")? as usize,
            blob_bytes: count("SELECT COALESCE(SUM(size), 0) FROM blobs")? as u64,
            server: outbox::meta_get(&conn, "server_url")?,
            last_sync: outbox::meta_get(&conn, "last_sync")?
                .map(|s| read::parse::<i64>("last sync", &s))
                .transpose()?
                .map(Timestamp::from_millis),
            online: None,
        })
    }

    /// Resolves a full spec id or a unique prefix of one (as printed by `spec list`).
    pub fn resolve_spec(&self, text: &str) -> Result<SpecId> {
        self.resolve_id("spec", "specs", text)
    }

    /// Resolves a full thread id or a unique prefix of one.
    pub fn resolve_thread(&self, text: &str) -> Result<ThreadId> {
        self.resolve_id("thread", "threads", text)
    }

    /// Resolves a full comment id or a unique prefix of one.
    pub fn resolve_comment(&self, text: &str) -> Result<CommentId> {
        self.resolve_id("comment", "comments", text)
    }

    fn resolve_id<T: std::str::FromStr + From<uuid::Uuid>>(
        &self,
        what: &'static str,
        table: &'static str,
        text: &str,
    ) -> Result<T> {
        let text = text.trim();
        if let Ok(uuid) = uuid::Uuid::parse_str(text) {
            return Ok(T::from(uuid));
        }
        if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(ClientError::NotFound { what, id: text.to_owned() });
        }
        let ids = read::ids_with_prefix(&self.conn(), table, text)?;
        match ids.as_slice() {
            [one] => read::parse(what, one),
            [] => Err(ClientError::NotFound { what, id: text.to_owned() }),
            many => Err(ClientError::Ambiguous { what, prefix: text.to_owned(), count: many.len() }),
        }
    }
}

fn spec_in(conn: &Connection, spec_id: SpecId) -> Result<Spec> {
    read::spec(conn, spec_id)?.ok_or_else(|| ClientError::NotFound { what: "spec", id: spec_id.to_string() })
}

fn thread_in(conn: &Connection, thread_id: ThreadId) -> Result<ThreadView> {
    read::thread(conn, thread_id)?.ok_or_else(|| ClientError::NotFound { what: "thread", id: thread_id.to_string() })
}

fn revision_in(conn: &Connection, spec_id: SpecId, number: u32) -> Result<Revision> {
    read::revision_by_number(conn, spec_id, number)?
        .ok_or_else(|| ClientError::NotFound { what: "revision", id: format!("{number} of spec {spec_id}") })
}

fn spec_deliverable(conn: &Connection, spec_id: SpecId) -> Result<DeliverableId> {
    read::deliverables(conn, spec_id)?
        .first()
        .map(|d| d.id)
        .ok_or_else(|| ClientError::NotFound { what: "deliverable for spec", id: spec_id.to_string() })
}

#[cfg(test)]
mod tests;
