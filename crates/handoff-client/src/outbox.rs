//! The outbox: every local change as a mutation envelope, appended in the same transaction
//! as the change itself (DESIGN §3 invariant 1), kept until the server has recorded a result.

use rusqlite::{OptionalExtension, Transaction, params};

use handoff_core::{ClientId, Hlc, HlcClock, Mutation, MutationEnvelope, Timestamp};

use crate::error::{ClientError, Result};
use crate::store::read;
use crate::views::{OutboxEntry, OutboxState};

pub(crate) fn meta_get(tx: &rusqlite::Connection, key: &str) -> Result<Option<String>> {
    Ok(tx.prepare_cached("SELECT value FROM meta WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?)
}

pub(crate) fn meta_set(tx: &rusqlite::Connection, key: &str, value: &str) -> Result<()> {
    tx.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
        .execute(params![key, value])?;
    Ok(())
}

/// This installation's client id.
pub(crate) fn client_id(conn: &rusqlite::Connection) -> Result<ClientId> {
    let id = meta_get(conn, "client_id")?.ok_or_else(|| ClientError::Corrupt("no client id".into()))?;
    read::parse("client id", &id)
}

/// Ticks the store's HLC and saves it, inside the caller's transaction.
pub(crate) fn tick(tx: &Transaction<'_>, now: Timestamp) -> Result<Hlc> {
    let last: Hlc = match meta_get(tx, "hlc")? {
        Some(s) => read::json("hlc", &s)?,
        None => Hlc::ZERO,
    };
    let mut clock = HlcClock::resume(last);
    let hlc = clock.tick(now);
    meta_set(tx, "hlc", &serde_json::to_string(&hlc).map_err(|e| ClientError::Corrupt(e.to_string()))?)?;
    Ok(hlc)
}

/// Appends `m` to the outbox with the next mutation id; returns the id.
pub(crate) fn append(tx: &Transaction<'_>, m: &Mutation, now: Timestamp) -> Result<u64> {
    let client_id = client_id(tx)?;
    let last: u64 = meta_get(tx, "last_mutation_id")?.map(|s| read::parse("mutation id", &s)).transpose()?.unwrap_or(0);
    let mutation_id = last + 1;
    let envelope = MutationEnvelope { client_id, mutation_id, hlc: tick(tx, now)?, created_at: now, mutation: m.clone() };
    let json = serde_json::to_string(&envelope).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO outbox (mutation_id, kind, spec_id, envelope, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![mutation_id as i64, m.kind(), m.spec_id().to_string(), json, now.as_millis()],
    )?;
    meta_set(tx, "last_mutation_id", &mutation_id.to_string())?;
    Ok(mutation_id)
}

/// Every queued change, oldest first.
pub(crate) fn entries(conn: &rusqlite::Connection) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT mutation_id, kind, spec_id, envelope, created_at, state, last_error FROM outbox ORDER BY mutation_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (id, kind, spec_id, envelope, created_at, state, last_error) = row?;
        Ok(OutboxEntry {
            mutation_id: id as u64,
            kind,
            spec_id: read::parse("spec id", &spec_id)?,
            created_at: Timestamp::from_millis(created_at),
            state: if state == "attention" { OutboxState::Attention } else { OutboxState::Pending },
            last_error,
            envelope: read::json("outbox envelope", &envelope)?,
        })
    })
    .collect()
}
