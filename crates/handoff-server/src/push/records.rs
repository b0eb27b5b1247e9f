//! The push transaction's bookkeeping (scope versions, scopes written), reading and writing
//! records in it, and the field clocks that decide last writer wins.

use std::collections::{BTreeMap, HashMap, HashSet};

use handoff_core::protocol::{ConflictDetail, ConflictRecord, Record, Scope};
use handoff_core::*;
use serde::{Deserialize, Serialize};

use super::{Ctx, PushInput};
use crate::auth::new_id;
use crate::error::{Result, ServerError};
use crate::storage::queries::StoredRecord;
use crate::storage::{Sql, queries};

/// The last write of one last-writer-wins field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Stamp {
    /// The author's HLC, clamped.
    pub(super) h: Hlc,
    /// The author's client.
    pub(super) c: ClientId,
    /// The server's HLC when the write was committed.
    pub(super) s: Hlc,
}

/// Field clocks of one entity.
pub(super) type Meta = BTreeMap<String, Stamp>;

pub(super) enum Lww {
    /// The write is newer; `unseen` when it replaces a value committed after the write was made.
    Wins { unseen: bool },
    /// The write is older than the stored one.
    Loses,
}

pub(super) fn lww(meta: &Meta, field: &str, stamp: &Stamp) -> Lww {
    match meta.get(field) {
        None => Lww::Wins { unseen: false },
        Some(old) if (stamp.h, stamp.c) > (old.h, old.c) => Lww::Wins { unseen: stamp.c != old.c && stamp.h < old.s },
        Some(_) => Lww::Loses,
    }
}

/// Per-transaction bookkeeping, and the push's view of the records it touches.
///
/// Every scope a push writes is locked (bumped) before anything is read, so within the push
/// nobody else changes those records: a record read once is kept here, and writes gather here
/// and go to the database in a few multi-row statements ([`Tx::flush`]) instead of one round
/// trip each. Anything that reads records by query rather than by key calls
/// [`Tx::records_of_kind`], which flushes first.
pub(super) struct Tx<'a> {
    pub(super) input: &'a PushInput,
    pub(super) user: String,
    /// Scope → the version this transaction writes at (bumped once per scope).
    pub(super) versions: BTreeMap<String, i64>,
    /// Scopes written, with their workspace.
    pub(super) written: BTreeMap<String, (Scope, WorkspaceId)>,
    /// Scope → activities written in it so far by this transaction.
    pub(super) activities: BTreeMap<String, u32>,
    /// `(kind, id)` → the record as this push sees it (`None`: there is none).
    cache: HashMap<(String, String), Option<StoredRecord>>,
    /// Keys written since the last flush, in order, and as a set.
    dirty: Vec<(String, String)>,
    dirty_set: HashSet<(String, String)>,
    /// Outcomes of this push's mutations, written at the end.
    outcomes: Vec<queries::OutcomeRow>,
    /// `(workspace, user)` → their membership, read once per push.
    members: HashMap<(String, String), Option<Member>>,
}

impl<'a> Tx<'a> {
    /// A push's bookkeeping for `user`.
    pub(super) fn new(input: &'a PushInput, user: String) -> Self {
        Self {
            input,
            user,
            versions: BTreeMap::new(),
            written: BTreeMap::new(),
            activities: BTreeMap::new(),
            cache: HashMap::new(),
            dirty: Vec::new(),
            dirty_set: HashSet::new(),
            outcomes: Vec::new(),
            members: HashMap::new(),
        }
    }
}

impl Tx<'_> {
    /// The record `(kind, id)` as this push sees it.
    pub(super) async fn get(&mut self, db: &mut dyn Sql, kind: &str, id: &str) -> Result<Option<StoredRecord>> {
        let key = (kind.to_owned(), id.to_owned());
        if let Some(known) = self.cache.get(&key) {
            return Ok(known.clone());
        }
        let found = queries::get_record(db, kind, id).await?;
        self.cache.insert(key, found.clone());
        Ok(found)
    }

    /// Reads the records `(kind, id)` this push will look up, in one query per kind, so each
    /// mutation's existence checks and loads need no round trip of their own.
    pub(super) async fn prefetch(&mut self, db: &mut dyn Sql, keys: Vec<(&'static str, String)>) -> Result<()> {
        let mut by_kind: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (kind, id) in keys {
            if !self.cache.contains_key(&(kind.to_owned(), id.clone())) {
                by_kind.entry(kind).or_default().push(id);
            }
        }
        for (kind, mut ids) in by_kind {
            ids.sort_unstable();
            ids.dedup();
            let found: HashMap<String, StoredRecord> = queries::get_records(db, kind, &ids).await?.into_iter().collect();
            for id in ids {
                let record = found.get(&id).cloned();
                self.cache.insert((kind.to_owned(), id), record);
            }
        }
        Ok(())
    }

    /// The JSON of every record of `kind` in `scope`, this push's writes included.
    pub(super) async fn records_of_kind(&mut self, db: &mut dyn Sql, scope: &str, kind: &str) -> Result<Vec<String>> {
        self.flush(db).await?;
        queries::records_of_kind(db, scope, kind).await
    }

    /// A workspace membership, read once per push.
    pub(super) async fn member(&mut self, db: &mut dyn Sql, workspace: &str, user: &str) -> Result<Option<Member>> {
        let key = (workspace.to_owned(), user.to_owned());
        if let Some(known) = self.members.get(&key) {
            return Ok(known.clone());
        }
        let found = queries::member(db, workspace, user).await?;
        self.members.insert(key, found.clone());
        Ok(found)
    }

    /// Keeps a mutation's outcome, written with the others at the end of the push.
    pub(super) fn keep_outcome(&mut self, row: queries::OutcomeRow) {
        self.outcomes.push(row);
    }

    /// Writes the records and outcomes gathered so far.
    pub(super) async fn flush(&mut self, db: &mut dyn Sql) -> Result<()> {
        if !self.dirty.is_empty() {
            let rows: Vec<(&str, &str, &StoredRecord)> = self
                .dirty
                .iter()
                .filter_map(|k| self.cache.get(k).and_then(|r| r.as_ref()).map(|r| (k.0.as_str(), k.1.as_str(), r)))
                .collect();
            queries::put_records(db, &rows).await?;
            self.dirty.clear();
            self.dirty_set.clear();
        }
        if !self.outcomes.is_empty() {
            queries::insert_outcomes(db, &self.outcomes).await?;
            self.outcomes.clear();
        }
        Ok(())
    }
    /// The next activity's place among those this transaction writes at its version of `scope`.
    pub(super) fn next_activity(&mut self, scope: &str) -> u32 {
        let n = self.activities.entry(scope.to_owned()).or_insert(0);
        *n += 1;
        *n - 1
    }

    pub(super) async fn version(&mut self, db: &mut dyn Sql, scope: &str) -> Result<i64> {
        if let Some(v) = self.versions.get(scope) {
            return Ok(*v);
        }
        let v = queries::bump_scope(db, scope, self.input.now)
            .await?
            .ok_or_else(|| ServerError::Internal(format!("scope {scope} vanished")))?;
        self.versions.insert(scope.to_owned(), v);
        Ok(v)
    }

    pub(super) async fn put(
        &mut self,
        db: &mut dyn Sql,
        kind: &str,
        id: &str,
        spec: &Spec,
        record: &Record,
        meta: &Meta,
    ) -> Result<()> {
        let scope = Scope::Spec(spec.id);
        let scope_s = scope.to_string();
        let version = self.version(db, &scope_s).await?;
        let data = serde_json::to_string(record)?;
        let meta = serde_json::to_string(meta)?;
        let key = (kind.to_owned(), id.to_owned());
        if self.dirty_set.insert(key.clone()) {
            self.dirty.push(key.clone());
        }
        self.cache.insert(key, Some(StoredRecord { scope: scope_s.clone(), version, data, meta }));
        self.written.insert(scope_s, (scope, spec.workspace_id));
        Ok(())
    }
}

pub(super) async fn load<T>(
    tx: &mut Tx<'_>,
    db: &mut dyn Sql,
    kind: &str,
    id: &str,
    scope: &str,
    pick: impl Fn(Record) -> Option<T>,
) -> Result<Option<(T, Meta)>> {
    let Some(rec) = tx.get(db, kind, id).await? else { return Ok(None) };
    if rec.scope != scope {
        // Another spec's entity: for this mutation it does not exist.
        return Ok(None);
    }
    let record: Record = serde_json::from_str(&rec.data)?;
    let meta: Meta = serde_json::from_str(&rec.meta)?;
    Ok(pick(record).map(|v| (v, meta)))
}

pub(super) async fn exists(tx: &mut Tx<'_>, db: &mut dyn Sql, kind: &str, id: &str) -> Result<bool> {
    Ok(tx.get(db, kind, id).await?.is_some())
}

/// Records a conflict of the mutation in `cx` on its spec.
pub(super) async fn record_conflict(cx: &mut Ctx<'_, '_>, detail: ConflictDetail) -> Result<ConflictId> {
    let id: ConflictId = new_id(cx.tx.input.now)?;
    let record = ConflictRecord {
        id,
        spec_id: cx.spec.id,
        client_id: cx.env.client_id,
        mutation_id: cx.env.mutation_id,
        author: cx.tx.input.email.clone(),
        created_at: cx.tx.input.now,
        detail,
        resolved: false,
    };
    cx.tx.put(cx.db, "conflict", &id.to_string(), &cx.spec, &Record::Conflict(record), &Meta::new()).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(h: u64, c: u8, s: u64) -> Stamp {
        Stamp {
            h: Hlc { wall_ms: h, counter: 0 },
            c: ClientId::from(uuid::Uuid::from_bytes([c; 16])),
            s: Hlc { wall_ms: s, counter: 0 },
        }
    }

    #[test]
    fn last_writer_wins_by_hlc_then_client_and_flags_unseen_overwrites() {
        let mut meta = Meta::new();
        assert!(matches!(lww(&meta, "title", &stamp(10, 1, 11)), Lww::Wins { unseen: false }));
        meta.insert("title".into(), stamp(10, 1, 50));
        assert!(matches!(lww(&meta, "title", &stamp(9, 2, 60)), Lww::Loses), "older loses");
        assert!(matches!(lww(&meta, "title", &stamp(10, 0, 60)), Lww::Loses), "tie broken by client id");
        assert!(
            matches!(lww(&meta, "title", &stamp(10, 2, 60)), Lww::Wins { unseen: true }),
            "newer, but made before the stored value was committed"
        );
        assert!(matches!(lww(&meta, "title", &stamp(51, 2, 60)), Lww::Wins { unseen: false }), "made after seeing it");
        assert!(
            matches!(lww(&meta, "title", &stamp(11, 1, 60)), Lww::Wins { unseen: false }),
            "same client always saw its own write"
        );
    }
}
