//! The "needs attention" list (DESIGN §3 inv. 3): changes the server rejected or kept as a
//! conflict, and changes stranded by a lost access. They leave the outbox only when a person
//! retries, edits, discards or exports them.

use std::path::Path;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use handoff_core::protocol::Outcome;
use handoff_core::*;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::outbox;
use crate::store::{apply, read};
use crate::views::OutboxEntry;

/// One change that needs a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    /// The queued change, with its original content.
    pub entry: OutboxEntry,
    /// What the server decided (absent for a change stranded by a lost access before an
    /// answer was recorded).
    pub outcome: Option<Outcome>,
}

impl Client {
    /// Every change needing attention, oldest first.
    pub fn attention(&self) -> Result<Vec<AttentionItem>> {
        let conn = self.conn();
        let entries = outbox::entries(&conn)?;
        let mut out = Vec::new();
        for entry in entries.into_iter().filter(|e| e.state == crate::views::OutboxState::Attention) {
            let outcome: Option<String> = conn
                .query_row("SELECT outcome FROM outbox WHERE mutation_id = ?1", [entry.mutation_id as i64], |r| r.get(0))
                .optional()?
                .flatten();
            let outcome = outcome.map(|o| read::json::<Outcome>("outcome", &o)).transpose()?;
            out.push(AttentionItem { entry, outcome });
        }
        Ok(out)
    }

    fn attention_entry(&self, mutation_id: u64) -> Result<OutboxEntry> {
        self.attention()?
            .into_iter()
            .map(|i| i.entry)
            .find(|e| e.mutation_id == mutation_id)
            .ok_or_else(|| ClientError::NotFound { what: "change needing attention", id: mutation_id.to_string() })
    }

    /// Sends a change again as a new mutation (the server already recorded an answer for the
    /// old id). Fields that carry "what I saw" are refreshed to what this client sees now:
    /// a section edit's base becomes the current text (so retrying a conflicted section edit
    /// means "my text wins"), a status change starts from the current status, a reply has
    /// seen the thread's current events. Returns the new mutation id.
    pub fn retry_attention(&self, mutation_id: u64) -> Result<u64> {
        if self.unanswered(mutation_id)? {
            // Parked by a lost access before it was ever sent: send it as it is.
            self.conn().execute("UPDATE outbox SET state = 'pending' WHERE mutation_id = ?1", [mutation_id as i64])?;
            return Ok(mutation_id);
        }
        let entry = self.attention_entry(mutation_id)?;
        self.requeue(mutation_id, entry.envelope.mutation)
    }

    /// Replaces a change with an edited one of the same kind and spec, and queues it.
    pub fn edit_attention(&self, mutation_id: u64, edited: Mutation) -> Result<u64> {
        let entry = self.attention_entry(mutation_id)?;
        if edited.kind() != entry.envelope.mutation.kind() || edited.spec_id() != entry.spec_id {
            return Err(ClientError::Rule(CoreError::Invalid {
                what: "edited change",
                value: edited.kind().to_owned(),
                reason: "an edit must keep the change's kind and spec",
            }));
        }
        self.requeue(mutation_id, edited)
    }

    /// Replaces the person-written text of a change (see [`editable_text`]) and queues it, so
    /// the attention list can offer an edit without the UI building mutations itself.
    pub fn edit_attention_text(&self, mutation_id: u64, text: &str) -> Result<u64> {
        let entry = self.attention_entry(mutation_id)?;
        let edited = with_text(entry.envelope.mutation, text).ok_or_else(|| {
            ClientError::Rule(CoreError::Invalid {
                what: "change",
                value: entry.kind.clone(),
                reason: "it has no text to edit; retry or discard it instead",
            })
        })?;
        self.edit_attention(mutation_id, edited)
    }

    /// Whether the server has not recorded an answer for this entry yet.
    fn unanswered(&self, mutation_id: u64) -> Result<bool> {
        let outcome: Option<Option<String>> = self
            .conn()
            .query_row("SELECT outcome FROM outbox WHERE mutation_id = ?1 AND state = 'attention'", [mutation_id as i64], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(matches!(outcome, Some(None)))
    }

    fn not_yet_answered(mutation_id: u64) -> ClientError {
        ClientError::Rule(CoreError::Invalid {
            what: "change",
            value: mutation_id.to_string(),
            reason: "the server has not recorded an answer for it yet; sync first (it is sent so mutation ids stay in order)",
        })
    }

    fn requeue(&self, old_id: u64, mutation: Mutation) -> Result<u64> {
        if self.unanswered(old_id)? {
            return Err(Self::not_yet_answered(old_id));
        }
        let now = self.now();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mutation = refresh(&tx, mutation)?.validated()?;
        let actor = Client::actor(&tx)?;
        apply::apply(&tx, &mutation, &actor, now)?;
        let id = outbox::append(&tx, &mutation, now)?;
        tx.execute("DELETE FROM outbox WHERE mutation_id = ?1 AND state = 'attention'", [old_id as i64])?;
        crate::store::commit(tx)?;
        Ok(id)
    }

    /// Drops a change for good.
    pub fn discard_attention(&self, mutation_id: u64) -> Result<()> {
        if self.unanswered(mutation_id)? {
            return Err(Self::not_yet_answered(mutation_id));
        }
        let n = self
            .conn()
            .execute("DELETE FROM outbox WHERE mutation_id = ?1 AND state = 'attention'", params![mutation_id as i64])?;
        if n == 0 {
            return Err(ClientError::NotFound { what: "change needing attention", id: mutation_id.to_string() });
        }
        Ok(())
    }

    /// Writes every change needing attention (original content, reason) to `path` as JSON;
    /// returns how many.
    pub fn export_attention(&self, path: &Path) -> Result<usize> {
        let items = self.attention()?;
        let json = serde_json::to_vec_pretty(&items).map_err(|e| ClientError::Corrupt(e.to_string()))?;
        std::fs::write(path, json).map_err(ClientError::io("cannot write", path))?;
        Ok(items.len())
    }
}

/// The text a person wrote in a change (a title, a section, a criterion, a comment, a
/// summary), which is what they would fix after a refusal; `None` for changes without one.
pub fn editable_text(m: &Mutation) -> Option<&str> {
    match m {
        Mutation::SetTitle { title, .. } => Some(title),
        Mutation::EditSection { text, .. } | Mutation::AddCriterion { text, .. } | Mutation::EditCriterion { text, .. } => {
            Some(text)
        }
        Mutation::CreateThread { body, .. } | Mutation::AddComment { body, .. } | Mutation::EditComment { body, .. } => {
            Some(body)
        }
        Mutation::CreateRevision { summary, .. }
        | Mutation::PublishReview { summary, .. }
        | Mutation::PublishReviewV2 { summary, .. } => Some(summary),
        Mutation::AcceptWithOverride { reason, .. } | Mutation::ReadyWithOverride { reason, .. } => Some(reason),
        _ => None,
    }
}

/// `m` with its [`editable_text`] replaced by `new`; `None` when it has none.
fn with_text(mut m: Mutation, new: &str) -> Option<Mutation> {
    let slot = match &mut m {
        Mutation::SetTitle { title, .. } => title,
        Mutation::EditSection { text, .. } | Mutation::AddCriterion { text, .. } | Mutation::EditCriterion { text, .. } => text,
        Mutation::CreateThread { body, .. } | Mutation::AddComment { body, .. } | Mutation::EditComment { body, .. } => body,
        Mutation::CreateRevision { summary, .. }
        | Mutation::PublishReview { summary, .. }
        | Mutation::PublishReviewV2 { summary, .. } => summary,
        Mutation::AcceptWithOverride { reason, .. } | Mutation::ReadyWithOverride { reason, .. } => reason,
        _ => return None,
    };
    new.clone_into(slot);
    Some(m)
}

/// Brings a change's "what I saw" fields up to the current local view.
fn refresh(tx: &rusqlite::Transaction<'_>, m: Mutation) -> Result<Mutation> {
    Ok(match m {
        Mutation::EditSection { spec_id, section, text, .. } => {
            let base = read::spec(tx, spec_id)?.map(|s| s.sections.get(section).to_owned()).unwrap_or_default();
            Mutation::EditSection { spec_id, section, base, text }
        }
        Mutation::SetStatus { spec_id, to, from } => {
            let from = read::spec(tx, spec_id)?.map(|s| s.status).unwrap_or(from);
            Mutation::SetStatus { spec_id, from, to }
        }
        Mutation::AcceptWithOverride { spec_id, from, reason } => {
            let from = read::spec(tx, spec_id)?.map(|s| s.status).unwrap_or(from);
            Mutation::AcceptWithOverride { spec_id, from, reason }
        }
        Mutation::ReadyWithOverride { spec_id, from, reason } => {
            let from = read::spec(tx, spec_id)?.map(|s| s.status).unwrap_or(from);
            Mutation::ReadyWithOverride { spec_id, from, reason }
        }
        Mutation::AddComment { comment_id, thread_id, spec_id, body, seen_events } => {
            let seen = read::thread(tx, thread_id)?.map(|t| t.events).unwrap_or(seen_events);
            Mutation::AddComment { comment_id, thread_id, spec_id, body, seen_events: seen }
        }
        other => other,
    })
}
