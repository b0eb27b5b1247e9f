//! Reviewing a revision: drafts kept on this machine until published, a review published
//! with its drafts as one unit, the acceptance ledger, claims, viewed files and acceptance by
//! override.
//!
//! Drafts are not mutations: they never enter the outbox, so nothing of a half-written review
//! reaches anyone. Publishing turns every draft of the reviewed revision into one
//! `review.publish_v2` mutation and deletes those drafts in the same transaction, so a draft is
//! either still a draft or part of a queued review, never both or neither.

use rusqlite::{Connection, Transaction, params};
use serde::{Deserialize, Serialize};

use handoff_core::ledger::{self, Ledger};
use handoff_core::*;

use crate::error::{ClientError, Result};
use crate::store::read;
use crate::{Client, new_id, revision_in, spec_in, thread_in};

/// Lines a draft comment is about, as a person picks them on the diff of the reviewed revision
/// against the one before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineTarget {
    /// The revision the lines are in: the reviewed one (new side) or an older one (old side).
    pub revision: u32,
    /// The file's path in that revision.
    pub path: String,
    /// First line, 1-based.
    pub start: u32,
    /// Last line, inclusive.
    pub end: u32,
    /// Which side of the diff the lines were picked on.
    pub side: DiffSide,
}

/// A comment written while reviewing, not yet published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftView {
    /// Its id; the published comment keeps it.
    pub id: CommentId,
    /// The spec.
    pub spec_id: SpecId,
    /// The revision under review.
    pub revision_id: RevisionId,
    /// That revision's number now.
    pub revision_number: u32,
    /// A reply's thread (`None` for a draft that opens a thread).
    pub thread_id: Option<ThreadId>,
    /// A new thread's anchor (`None` for a reply).
    pub anchor: Option<Anchor>,
    /// The text.
    pub body: String,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
}

/// One criterion's status as a reviewer sets it, named by its position in the spec (from 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CriterionInput {
    /// Position in the spec as listed, from 1.
    pub position: usize,
    /// The status.
    pub status: AcceptanceStatus,
    /// An optional note.
    pub note: String,
    /// An optional link to lines of the reviewed revision.
    pub evidence: Option<Evidence>,
}

/// Which files of a revision this reviewer has marked viewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ViewedFiles {
    /// Paths viewed as they are in this revision.
    pub viewed: Vec<String>,
    /// How many files the revision has.
    pub total: usize,
}

fn corrupt(e: impl std::fmt::Display) -> ClientError {
    ClientError::Corrupt(e.to_string())
}

fn draft_in(conn: &Connection, id: CommentId) -> Result<DraftView> {
    read_drafts(conn, Drafts::One(id))?.pop().ok_or_else(|| ClientError::NotFound { what: "draft", id: id.to_string() })
}

/// Which drafts to read.
enum Drafts {
    One(CommentId),
    OfSpec(SpecId),
    OfRevision(RevisionId),
    All,
}

fn read_drafts(conn: &Connection, which: Drafts) -> Result<Vec<DraftView>> {
    let (filter, value) = match which {
        Drafts::One(id) => ("d.id = ?1", Some(id.to_string())),
        Drafts::OfSpec(id) => ("d.spec_id = ?1", Some(id.to_string())),
        Drafts::OfRevision(id) => ("d.revision_id = ?1", Some(id.to_string())),
        Drafts::All => ("TRUE", None),
    };
    let sql = format!(
        "SELECT d.id, d.spec_id, d.revision_id, r.number, d.thread_id, d.anchor, d.body, d.created_at, d.updated_at
         FROM review_drafts d JOIN revisions r ON r.id = d.revision_id
         WHERE {filter} ORDER BY d.created_at, d.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(value), |r| {
        Ok((
            (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, u32>(3)?),
            (r.get::<_, Option<String>>(4)?, r.get::<_, Option<String>>(5)?, r.get::<_, String>(6)?),
            (r.get::<_, i64>(7)?, r.get::<_, i64>(8)?),
        ))
    })?;
    rows.map(|row| {
        let ((id, spec_id, revision_id, revision_number), (thread_id, anchor, body), (created_at, updated_at)) = row?;
        Ok(DraftView {
            id: read::parse("draft id", &id)?,
            spec_id: read::parse("spec id", &spec_id)?,
            revision_id: read::parse("revision id", &revision_id)?,
            revision_number,
            thread_id: thread_id.map(|t| read::parse("thread id", &t)).transpose()?,
            anchor: anchor.map(|a| serde_json::from_str(&a).map_err(corrupt)).transpose()?,
            body,
            created_at: Timestamp::from_millis(created_at),
            updated_at: Timestamp::from_millis(updated_at),
        })
    })
    .collect()
}

impl Client {
    /// Drafts a comment that opens a thread on lines of the diff of revision `reviewing`.
    /// Stays on this machine until [`Client::publish_review`].
    pub fn draft_line_comment(&self, spec_id: SpecId, reviewing: u32, target: LineTarget, body: &str) -> Result<CommentId> {
        validate::comment(body)?;
        let anchor = self.line_anchor(spec_id, &target)?;
        self.insert_draft(spec_id, reviewing, None, Some(anchor), body)
    }

    /// Drafts a reply to a thread, published with the review of revision `reviewing`.
    pub fn draft_reply(&self, reviewing: u32, thread_id: ThreadId, body: &str) -> Result<CommentId> {
        validate::comment(body)?;
        let spec_id = thread_in(&self.conn(), thread_id)?.thread.spec_id;
        self.insert_draft(spec_id, reviewing, Some(thread_id), None, body)
    }

    fn insert_draft(
        &self,
        spec_id: SpecId,
        reviewing: u32,
        thread_id: Option<ThreadId>,
        anchor: Option<Anchor>,
        body: &str,
    ) -> Result<CommentId> {
        let now = self.now();
        let id: CommentId = new_id(now);
        let anchor = anchor.map(|a| serde_json::to_string(&a)).transpose().map_err(corrupt)?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        read::refuse_archived(&tx, spec_id)?;
        let revision = revision_in(&tx, spec_id, reviewing)?;
        tx.execute(
            "INSERT INTO review_drafts (id, spec_id, revision_id, thread_id, anchor, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![
                id.to_string(),
                spec_id.to_string(),
                revision.id.to_string(),
                thread_id.map(|t| t.to_string()),
                anchor,
                body,
                now.as_millis()
            ],
        )?;
        crate::store::commit(tx)?;
        Ok(id)
    }

    /// Changes a draft's text.
    pub fn edit_draft(&self, id: CommentId, body: &str) -> Result<()> {
        validate::comment(body)?;
        let changed = self.conn().execute(
            "UPDATE review_drafts SET body = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.to_string(), body, self.now().as_millis()],
        )?;
        if changed == 0 {
            return Err(ClientError::NotFound { what: "draft", id: id.to_string() });
        }
        Ok(())
    }

    /// Deletes a draft.
    pub fn delete_draft(&self, id: CommentId) -> Result<()> {
        let changed = self.conn().execute("DELETE FROM review_drafts WHERE id = ?1", [id.to_string()])?;
        if changed == 0 {
            return Err(ClientError::NotFound { what: "draft", id: id.to_string() });
        }
        Ok(())
    }

    /// One draft.
    pub fn draft(&self, id: CommentId) -> Result<DraftView> {
        draft_in(&self.conn(), id)
    }

    /// Drafts of one spec (every spec when `None`), oldest first.
    pub fn drafts(&self, spec_id: Option<SpecId>) -> Result<Vec<DraftView>> {
        match spec_id {
            Some(s) => read_drafts(&self.reader(), Drafts::OfSpec(s)),
            None => read_drafts(&self.reader(), Drafts::All),
        }
    }

    /// Resolves a full draft id or a unique prefix of one.
    pub fn resolve_draft(&self, text: &str) -> Result<CommentId> {
        self.resolve_id("draft", "review_drafts", text)
    }

    /// Publishes a review of revision `number` as one unit: the verdict, the summary, a
    /// status per criterion (criteria not given are unchecked), and every draft written on
    /// that revision, which stop being drafts in the same transaction. The revision is the
    /// one the drafts were written on even if a newer one arrived since; the review says so.
    pub fn publish_review(
        &self,
        spec_id: SpecId,
        number: u32,
        verdict: Verdict,
        summary: &str,
        criteria: Vec<CriterionInput>,
    ) -> Result<ReviewId> {
        let now = self.now();
        let review_id: ReviewId = new_id(now);
        let published: std::cell::RefCell<Vec<CommentId>> = Default::default();
        self.write_decided(
            |tx| {
                // Numbers can change when a sync confirms them: resolve inside the write.
                let revision = revision_in(tx, spec_id, number)?;
                let spec = spec_in(tx, spec_id)?;
                let criteria = criterion_verdicts(&spec, criteria)?;
                let drafts = read_drafts(tx, Drafts::OfRevision(revision.id))?;
                let mut threads = Vec::new();
                let mut replies = Vec::new();
                for d in drafts {
                    published.borrow_mut().push(d.id);
                    match (d.thread_id, d.anchor) {
                        (Some(thread_id), _) => {
                            // What the author has seen is what this store holds as it publishes.
                            let seen_events = thread_in(tx, thread_id)?.events;
                            replies.push(ReviewReply { comment_id: d.id, thread_id, body: d.body, seen_events });
                        }
                        (None, Some(anchor)) => {
                            threads.push(ReviewThread { thread_id: new_id(now), comment_id: d.id, anchor, body: d.body })
                        }
                        (None, None) => return Err(corrupt("a draft has neither a thread nor an anchor")),
                    }
                }
                Ok(vec![Mutation::PublishReviewV2 {
                    review_id,
                    revision_id: revision.id,
                    spec_id,
                    verdict,
                    summary: summary.to_owned(),
                    criteria,
                    threads,
                    replies,
                }])
            },
            |tx| delete_published(tx, &published.borrow()),
        )?;
        Ok(review_id)
    }

    /// The acceptance ledger of a spec: criteria × revisions, and whether it may be accepted.
    pub fn ledger(&self, spec_id: SpecId) -> Result<Ledger> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let spec = spec_in(&tx, spec_id)?;
        let (revisions, reviews) = read::ledger_inputs(&tx, spec_id)?;
        let override_ = read::acceptance_override(&tx, spec_id)?;
        let ledger = ledger::ledger(&spec.criteria, &revisions, &reviews, override_.as_ref());
        tx.commit()?;
        Ok(ledger)
    }

    /// Accepts a spec although no approving review settles every criterion: an owner's
    /// decision, recorded with `reason` and shown in the ledger.
    pub fn accept_with_override(&self, spec_id: SpecId, reason: &str) -> Result<()> {
        self.write_deciding(|tx| {
            let from = spec_in(tx, spec_id)?.status;
            Ok(vec![Mutation::AcceptWithOverride { spec_id, from, reason: reason.to_owned() }])
        })
        .map(drop)
    }

    /// Confirms what a revision claimed: resolves the thread.
    pub fn confirm_claim(&self, thread_id: ThreadId) -> Result<()> {
        self.set_thread_state(thread_id, ThreadEventKind::Resolve)
    }

    /// Does not accept a claim: replies why (if `reply` is given) and reopens the thread, as
    /// one action.
    pub fn reopen_claim(&self, thread_id: ThreadId, reply: Option<&str>) -> Result<()> {
        let now = self.now();
        let (comment_id, event_id): (CommentId, ThreadEventId) = (new_id(now), new_id(now));
        self.write_deciding(|tx| {
            let t = thread_in(tx, thread_id)?;
            let spec_id = t.thread.spec_id;
            let mut out = Vec::new();
            if let Some(body) = reply {
                out.push(Mutation::AddComment { comment_id, thread_id, spec_id, body: body.to_owned(), seen_events: t.events });
            }
            // An open thread with no claim waiting is open already: only the reply is new.
            if t.thread.resolved || t.claimed_in.is_some() {
                out.push(Mutation::SetThreadState { event_id, thread_id, spec_id, event: ThreadEventKind::Reopen });
            }
            Ok(out)
        })
        .map(drop)
    }

    /// Marks a file of revision `number` viewed (or not), as its content is there.
    pub fn set_file_viewed(&self, spec_id: SpecId, number: u32, path: &str, viewed: bool) -> Result<()> {
        let path = validate::normalize_path(path)?;
        self.write_deciding(|tx| {
            let revision = revision_in(tx, spec_id, number)?;
            let file = revision
                .files
                .iter()
                .find(|f| f.path == path)
                .ok_or_else(|| ClientError::NotFound { what: "file in revision", id: format!("{path} (revision {number})") })?;
            Ok(vec![Mutation::SetFileViewed {
                spec_id,
                revision_id: revision.id,
                path: path.clone(),
                sha256: file.sha256.clone(),
                viewed,
            }])
        })
        .map(drop)
    }

    /// The files of revision `number` this user has viewed as they are there: a mark made on
    /// an earlier revision holds while the file's content is unchanged.
    pub fn viewed_files(&self, spec_id: SpecId, number: u32) -> Result<ViewedFiles> {
        let conn = self.conn();
        let revision = revision_in(&conn, spec_id, number)?;
        let me = Self::actor(&conn)?.email;
        let marks = read::viewed_marks(&conn, spec_id, &me)?;
        let viewed = revision.files.iter().filter(|f| marks.get(&f.path) == Some(&f.sha256)).map(|f| f.path.clone()).collect();
        Ok(ViewedFiles { viewed, total: revision.files.len() })
    }

    /// The anchor of lines picked on a diff, with the lines' text as the excerpt that later
    /// revisions are compared against.
    pub(crate) fn line_anchor(&self, spec_id: SpecId, target: &LineTarget) -> Result<Anchor> {
        let revision = self.revision(spec_id, target.revision)?;
        let path = validate::normalize_path(&target.path)?;
        let file = revision.files.iter().find(|f| f.path == path).ok_or_else(|| ClientError::NotFound {
            what: "file in revision",
            id: format!("{path} (revision {})", target.revision),
        })?;
        if !self.blobs.contains(&file.sha256) {
            return Err(ClientError::FilesNotHere {
                spec_title: self.spec(spec_id)?.title,
                revision: target.revision,
                missing_files: 1,
                missing_bytes: file.size,
            });
        }
        let bytes = self.blobs.read(&file.sha256)?;
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let (start, end) = (target.start, target.end);
        if start == 0 || end < start || end as usize > lines.len() {
            return Err(ClientError::Rule(CoreError::Invalid {
                what: "line range",
                value: format!("{start}-{end}"),
                reason: "it is outside the file (lines are numbered from 1)",
            }));
        }
        Ok(Anchor::RevisionLines {
            revision_id: revision.id,
            path,
            start_line: start,
            end_line: end,
            side: target.side,
            excerpt: lines[start as usize - 1..end as usize].concat(),
        })
    }
}

/// Every criterion of the spec with the status given for it (unchecked when not given) and
/// its text as the reviewer saw it.
fn criterion_verdicts(spec: &Spec, inputs: Vec<CriterionInput>) -> Result<Vec<CriterionVerdict>> {
    let mut out: Vec<CriterionVerdict> = spec
        .criteria
        .iter()
        .map(|c| CriterionVerdict {
            criterion_id: c.id,
            text: c.text.clone(),
            status: AcceptanceStatus::Unchecked,
            note: String::new(),
            evidence: None,
        })
        .collect();
    for input in inputs {
        let count = out.len();
        let v = input
            .position
            .checked_sub(1)
            .and_then(|i| out.get_mut(i))
            .ok_or(ClientError::NoSuchCriterion { position: input.position, count })?;
        v.status = input.status;
        v.note = input.note;
        v.evidence = input.evidence;
    }
    Ok(out)
}

fn delete_published(tx: &Transaction<'_>, ids: &[CommentId]) -> Result<()> {
    let mut stmt = tx.prepare_cached("DELETE FROM review_drafts WHERE id = ?1")?;
    for id in ids {
        stmt.execute([id.to_string()])?;
    }
    Ok(())
}

/// How many drafts wait on this spec (the app's "Review (3 drafts)").
pub(crate) fn draft_count(conn: &Connection, spec_id: SpecId) -> Result<u32> {
    Ok(conn.query_row("SELECT COUNT(*) FROM review_drafts WHERE spec_id = ?1", [spec_id.to_string()], |r| r.get(0))?)
}
