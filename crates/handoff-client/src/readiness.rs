//! Readiness and questions on this machine: the rules are `handoff_core::readiness`'s, fed
//! from the local store, so the checklist a screen draws is the one the server enforces.

use rusqlite::{Connection, OptionalExtension};

use handoff_core::readiness::{self, Readiness, ReadinessInput, ReplyRef};
use handoff_core::*;

use crate::error::Result;
use crate::store::read;
use crate::views::{QuestionView, ThreadView};
use crate::{Client, spec_in};

impl Client {
    /// A spec's readiness checklist, from what this machine holds.
    pub fn readiness(&self, spec_id: SpecId) -> Result<Readiness> {
        let conn = self.conn();
        let spec = spec_in(&conn, spec_id)?;
        readiness_in(&conn, &spec)
    }

    /// An owner moves a draft to ready although readiness rules fail; the reason and the
    /// failing rules are recorded and shown.
    pub fn mark_ready_with_override(&self, spec_id: SpecId, reason: &str) -> Result<()> {
        self.write_deciding(|tx| {
            let from = spec_in(tx, spec_id)?.status;
            Ok(vec![Mutation::ReadyWithOverride { spec_id, from, reason: reason.to_owned() }])
        })
        .map(drop)
    }
}

/// A spec's readiness, reading the threads that can be questions (not every comment: the spec
/// list asks this for every draft on each refresh).
pub(crate) fn readiness_in(conn: &Connection, spec: &Spec) -> Result<Readiness> {
    let mut threads = read::question_threads(conn, spec.id)?;
    mark_questions(conn, spec.workspace_id, &mut threads)?;
    Ok(readiness_of(spec, &threads))
}

/// The checklist for `spec`, whose threads were marked by [`mark_questions`].
pub(crate) fn readiness_of(spec: &Spec, threads: &[ThreadView]) -> Readiness {
    let open: Vec<String> = threads
        .iter()
        .filter(|t| t.question.as_ref().is_some_and(|q| q.open))
        .map(|t| readiness::excerpt(t.comments.first().map_or("", |c| c.record.body.as_str())))
        .collect();
    readiness::readiness(ReadinessInput {
        sections: &spec.sections,
        criteria: &spec.criteria,
        assignees: &spec.assignees,
        due_date: spec.due_date.as_deref(),
        open_questions: &open,
    })
}

/// Fills each thread's `question`: a contractor's thread on the spec or a section is one,
/// answered by the first reply from someone else (`handoff_core::readiness`).
pub(crate) fn mark_questions(conn: &Connection, workspace_id: WorkspaceId, threads: &mut [ThreadView]) -> Result<()> {
    let mut role_stmt = conn.prepare_cached("SELECT role FROM members WHERE workspace_id = ?1 AND email = ?2")?;
    for t in threads {
        let role: Option<String> =
            role_stmt.query_row([workspace_id.to_string(), t.thread.created_by.clone()], |r| r.get(0)).optional()?;
        let role: Option<Role> = role.map(|r| read::parse("role", &r)).transpose()?;
        if !readiness::is_question(&t.thread.anchor, role) {
            t.question = None;
            continue;
        }
        let replies: Vec<ReplyRef<'_>> = t
            .comments
            .iter()
            .map(|c| ReplyRef { author: &c.record.author, at: c.shown_at, redacted: c.record.redacted })
            .collect();
        let answer = readiness::answer_of(&t.thread.created_by, &replies);
        let open = readiness::question_is_open(answer.as_ref(), t.thread.resolved);
        t.question = Some(QuestionView { answer, open });
    }
    Ok(())
}
