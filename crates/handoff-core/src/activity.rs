//! What happened on a spec, as the server recorded it (issue #14): the inbox's items, the
//! handoffs a person is notified of, and the turnaround between a handoff and its answer.
//!
//! The server writes one [`Activity`] per change others should hear about, in the spec's
//! scope at the version of the change, so every device of every member sees the same items
//! in the same order (the server's, never a client's wall clock). A person's
//! [`ReadMark`] per spec says up to which version they have looked; it only grows, so two
//! devices marking at once cannot move it back.

use serde::{Deserialize, Serialize};

use crate::hours::Zone;
use crate::ids::*;
use crate::lifecycle::{Role, SpecStatus};
use crate::model::{Verdict, WorkingHours};
use crate::time::Timestamp;

/// One change on a spec that others should hear about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Activity {
    /// The spec.
    pub spec_id: SpecId,
    /// The spec scope's version the change was written at (the server's order).
    pub seq: u64,
    /// Its place among the activities written at the same version.
    pub n: u32,
    /// When the server recorded it.
    pub at: Timestamp,
    /// Email of who did it.
    pub actor: String,
    /// What happened.
    pub event: ActivityEvent,
}

impl Activity {
    /// Its key among the spec's records.
    pub fn key(&self) -> String {
        format!("{}:{}:{}", self.spec_id, self.seq, self.n)
    }

    /// The server's order: by version, then by place within it.
    pub fn order(&self) -> (u64, u32) {
        (self.seq, self.n)
    }
}

/// How a criterion changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CriterionChange {
    /// A new criterion.
    Added,
    /// Its text changed.
    Edited,
    /// It moved in the list.
    Moved,
    /// It was removed.
    Removed,
}

/// What happened, with what is needed to open it where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActivityEvent {
    /// A revision was delivered.
    RevisionDelivered {
        /// Its deliverable.
        deliverable_id: DeliverableId,
        /// The revision.
        revision_id: RevisionId,
        /// Its number.
        number: u32,
    },
    /// A review was published.
    ReviewPublished {
        /// The review.
        review_id: ReviewId,
        /// The revision it reviews.
        revision_id: RevisionId,
        /// That revision's number.
        number: u32,
        /// Its verdict.
        verdict: Verdict,
    },
    /// A thread was opened (a question when a contractor asks it on the spec or a section).
    ThreadOpened {
        /// The thread.
        thread_id: ThreadId,
        /// Whether it is a question.
        question: bool,
    },
    /// A reply in a thread (an answer when the thread is a question and someone other than
    /// the asker replies).
    Replied {
        /// The thread.
        thread_id: ThreadId,
        /// The reply.
        comment_id: CommentId,
        /// Whether the thread is a question.
        question: bool,
        /// Email of who opened the thread.
        thread_author: String,
    },
    /// An acceptance criterion changed.
    CriteriaChanged {
        /// The criterion.
        criterion_id: CriterionId,
        /// How.
        change: CriterionChange,
    },
    /// The spec's status changed.
    StatusChanged {
        /// Before.
        from: SpecStatus,
        /// After.
        to: SpecStatus,
        /// Moved by an owner's override of a rule.
        by_override: bool,
    },
    /// Someone was assigned to the spec.
    Assigned {
        /// Their email.
        email: String,
    },
    /// Someone was unassigned from the spec.
    Unassigned {
        /// Their email.
        email: String,
    },
}

impl ActivityEvent {
    /// The event's wire name (`revision_delivered`, …), for grouping and filters.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RevisionDelivered { .. } => "revision_delivered",
            Self::ReviewPublished { .. } => "review_published",
            Self::ThreadOpened { question: true, .. } => "question_asked",
            Self::ThreadOpened { .. } => "thread_opened",
            Self::Replied { .. } => "replied",
            Self::CriteriaChanged { .. } => "criteria_changed",
            Self::StatusChanged { .. } => "status_changed",
            Self::Assigned { .. } => "assigned",
            Self::Unassigned { .. } => "unassigned",
        }
    }

    /// Whether this reply answers a question: the thread is one and its asker did not write it.
    pub fn is_answer(&self, actor: &str) -> bool {
        matches!(self, Self::Replied { question: true, thread_author, .. } if thread_author != actor)
    }
}

/// How far one person has looked at one spec's activity: everything at or before `seq` is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReadMark {
    /// The spec.
    pub spec_id: SpecId,
    /// Email of the reader.
    pub email: String,
    /// The highest activity version read.
    pub seq: u64,
}

impl ReadMark {
    /// Its key among the spec's records.
    pub fn key(spec_id: SpecId, email: &str) -> String {
        format!("{spec_id}:{email}")
    }
}

/// What a reader is, for [`is_handoff_to`].
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    /// Their email.
    pub email: &'a str,
    /// Their role in the spec's workspace.
    pub role: Role,
    /// Whether they are assigned to the spec.
    pub assigned: bool,
}

/// Whether `activity` hands work to `reader`: what their side must answer next, worth a
/// desktop notification. Everything else by others is only listed in the inbox.
pub fn is_handoff_to(activity: &Activity, reader: Reader<'_>) -> bool {
    if activity.actor == reader.email {
        return false;
    }
    let reviews = matches!(reader.role, Role::Owner | Role::Reviewer);
    match &activity.event {
        ActivityEvent::RevisionDelivered { .. } => reviews,
        ActivityEvent::ThreadOpened { question: true, .. } => reviews,
        ActivityEvent::ReviewPublished { .. } => reader.assigned,
        ActivityEvent::Replied { thread_author, .. } => thread_author == reader.email,
        ActivityEvent::Assigned { email } => email == reader.email,
        ActivityEvent::StatusChanged { to: SpecStatus::Ready | SpecStatus::Accepted, .. } => reader.assigned,
        _ => false,
    }
}

/// The three handoffs whose turnaround is counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TurnKind {
    /// A contractor's question until the first answer by someone else.
    QuestionToAnswer,
    /// A delivered revision until its first published review.
    DeliveryToReview,
    /// A review that requested changes until the next revision.
    ReviewToRevision,
}

impl TurnKind {
    /// Every kind, in the order they are shown.
    pub const ALL: [TurnKind; 3] = [TurnKind::QuestionToAnswer, TurnKind::DeliveryToReview, TurnKind::ReviewToRevision];

    /// Words for people.
    pub fn title(self) -> &'static str {
        match self {
            TurnKind::QuestionToAnswer => "Question → answer",
            TurnKind::DeliveryToReview => "Delivery → review",
            TurnKind::ReviewToRevision => "Review → next revision",
        }
    }
}

/// One handoff and its answer, before working hours are counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    /// Which handoff.
    pub kind: TurnKind,
    /// The spec.
    pub spec_id: SpecId,
    /// When the handoff was recorded.
    pub from: Timestamp,
    /// When the answer was recorded.
    pub to: Timestamp,
    /// Email of who answered (the receiver, in whose working hours it is counted).
    pub receiver: String,
}

/// The turns in one spec's activities (given in any order; read in the server's order).
/// A question counts once, up to its first answer; a revision once, up to its first review;
/// a request for changes from the first one after a revision up to the next revision.
pub fn turns(activities: &[Activity]) -> Vec<Turn> {
    let mut sorted: Vec<&Activity> = activities.iter().collect();
    sorted.sort_by_key(|a| a.order());
    let mut out = Vec::new();
    let mut asked: Vec<(&ThreadId, &Activity)> = Vec::new();
    let mut delivered: Vec<(&RevisionId, &Activity)> = Vec::new();
    let mut changes_requested: Option<&Activity> = None;
    for a in sorted {
        let turn = |kind, from: &Activity| Turn { kind, spec_id: a.spec_id, from: from.at, to: a.at, receiver: a.actor.clone() };
        match &a.event {
            ActivityEvent::ThreadOpened { thread_id, question: true } => asked.push((thread_id, a)),
            ActivityEvent::Replied { thread_id, .. } if a.event.is_answer(&a.actor) => {
                if let Some(i) = asked.iter().position(|(t, _)| *t == thread_id) {
                    let (_, q) = asked.remove(i);
                    out.push(turn(TurnKind::QuestionToAnswer, q));
                }
            }
            ActivityEvent::RevisionDelivered { revision_id, .. } => {
                if let Some(review) = changes_requested.take() {
                    out.push(turn(TurnKind::ReviewToRevision, review));
                }
                delivered.push((revision_id, a));
            }
            ActivityEvent::ReviewPublished { revision_id, verdict, .. } => {
                if let Some(i) = delivered.iter().position(|(r, _)| *r == revision_id) {
                    let (_, d) = delivered.remove(i);
                    out.push(turn(TurnKind::DeliveryToReview, d));
                }
                if *verdict == Verdict::RequestChanges && changes_requested.is_none() {
                    changes_requested = Some(a);
                }
            }
            _ => {}
        }
    }
    out
}

/// A receiver's clock: their zone and working hours (none: every hour counts).
#[derive(Clone, Debug)]
pub struct ReceiverHours {
    /// Their zone.
    pub zone: Zone,
    /// Their working hours, if set.
    pub hours: Option<WorkingHours>,
}

/// How long a turn took in its receiver's working hours (wall-clock time when they set none).
pub fn working_ms(turn: &Turn, receiver: &ReceiverHours) -> i64 {
    match &receiver.hours {
        Some(h) => receiver.zone.working_ms_between(h, turn.from, turn.to),
        None => (turn.to.as_millis() - turn.from.as_millis()).max(0),
    }
}

/// Count, median and slowest of some turns' working times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TurnStats {
    /// Which handoff.
    pub kind: TurnKind,
    /// How many.
    pub count: u32,
    /// The median, in working milliseconds (the lower middle of an even count).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub median_ms: i64,
    /// The slowest, in working milliseconds.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub max_ms: i64,
}

/// [`TurnStats`] per kind that has turns, in [`TurnKind::ALL`] order.
pub fn stats(measured: &[(TurnKind, i64)]) -> Vec<TurnStats> {
    TurnKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let mut ms: Vec<i64> = measured.iter().filter(|(k, _)| *k == kind).map(|(_, ms)| *ms).collect();
            ms.sort_unstable();
            let count = u32::try_from(ms.len()).unwrap_or(u32::MAX);
            let median_ms = *ms.get(ms.len().checked_sub(1)? / 2)?;
            Some(TurnStats { kind, count, median_ms, max_ms: ms.last().copied().unwrap_or(0) })
        })
        .collect()
}

/// A working duration for people: "45 min", "3 h 20 min". It stays in hours however long:
/// working hours are what a person plans with, and a "day" would mean 8 of them or 24.
pub fn duration_text(ms: i64) -> String {
    let minutes = (ms.max(0) + 30_000) / 60_000;
    match minutes {
        0 => "under a minute".into(),
        m if m < 60 => format!("{m} min"),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}

#[cfg(test)]
mod tests;
