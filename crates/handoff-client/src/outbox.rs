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

/// The client id this data dir pushes as now (one per account it has signed in as).
pub(crate) fn client_id(conn: &rusqlite::Connection) -> Result<ClientId> {
    let id = meta_get(conn, "client_id")?.ok_or_else(|| ClientError::Corrupt("no client id".into()))?;
    read::parse("client id", &id)
}

/// The current client id's base: its wire mutation ids are local outbox ids minus this.
fn client_base(conn: &rusqlite::Connection, client_id: &ClientId) -> Result<u64> {
    let base: Option<i64> = conn
        .prepare_cached("SELECT base FROM client_ids WHERE client_id = ?1")?
        .query_row([client_id.to_string()], |r| r.get(0))
        .optional()?;
    Ok(base.unwrap_or(0) as u64)
}

/// The last local outbox id handed out.
pub(crate) fn last_local_id(conn: &rusqlite::Connection) -> Result<u64> {
    Ok(meta_get(conn, "last_mutation_id")?.map(|s| read::parse("mutation id", &s)).transpose()?.unwrap_or(0))
}

/// Makes the data dir push as `user_id`: the first account to sign in takes the current
/// client id; another account gets a fresh client id whose wire ids start at 1, and the
/// previous accounts' unsent changes wait in the attention list (they are sent again when
/// that account signs in here, and never under another account's name).
pub(crate) fn client_for_account(tx: &Transaction<'_>, user_id: &str, fresh: ClientId) -> Result<()> {
    let current = client_id(tx)?.to_string();
    let owner: Option<Option<String>> =
        tx.query_row("SELECT user_id FROM client_ids WHERE client_id = ?1", [&current], |r| r.get(0)).optional()?;
    match owner {
        Some(Some(o)) if o == user_id => return Ok(()),
        Some(None) => {
            tx.execute("UPDATE client_ids SET user_id = ?2 WHERE client_id = ?1", params![current, user_id])?;
            return Ok(());
        }
        None => {
            tx.execute("INSERT INTO client_ids (client_id, user_id, base) VALUES (?1, ?2, 0)", params![current, user_id])?;
            return Ok(());
        }
        Some(Some(_)) => {}
    }
    let base = last_local_id(tx)?;
    tx.execute(
        "INSERT INTO client_ids (client_id, user_id, base) VALUES (?1, ?2, ?3)",
        params![fresh.to_string(), user_id, base as i64],
    )?;
    meta_set(tx, "client_id", &fresh.to_string())?;
    tx.execute(
        "UPDATE outbox SET state = 'attention',
                last_error = 'made while signed in as another account: sign in as that account on this data dir to send it, or export it'
         WHERE state = 'pending' AND client_id NOT IN (SELECT client_id FROM client_ids WHERE user_id = ?1)",
        [user_id],
    )?;
    Ok(())
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

/// Appends `m` to the outbox with the next local id (its envelope carries the current client
/// id's wire id); returns the local id.
pub(crate) fn append(tx: &Transaction<'_>, m: &Mutation, now: Timestamp) -> Result<u64> {
    let client_id = client_id(tx)?;
    let mutation_id = last_local_id(tx)? + 1;
    let wire_id = mutation_id - client_base(tx, &client_id)?;
    let envelope =
        MutationEnvelope { client_id, mutation_id: wire_id, hlc: tick(tx, now)?, created_at: now, mutation: m.clone() };
    let json = serde_json::to_string(&envelope).map_err(|e| ClientError::Corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO outbox (mutation_id, kind, spec_id, envelope, created_at, client_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![mutation_id as i64, m.kind(), m.spec_id().to_string(), json, now.as_millis(), client_id.to_string()],
    )?;
    meta_set(tx, "last_mutation_id", &mutation_id.to_string())?;
    Ok(mutation_id)
}

/// Every queued change, oldest first.
pub(crate) fn entries(conn: &rusqlite::Connection) -> Result<Vec<OutboxEntry>> {
    // The spec's title as the server last sent it (a pending rename must not describe itself
    // as "Rename 'New' to 'New'"), else as shown here.
    let mut stmt = conn.prepare_cached(
        "SELECT o.mutation_id, o.kind, o.spec_id, o.envelope, o.created_at, o.state, o.last_error,
                COALESCE((SELECT json_extract(r.data, '$.data.title') FROM synced_records r WHERE r.kind = 'spec' AND r.key = o.spec_id),
                         (SELECT s.title FROM specs s WHERE s.id = o.spec_id))
         FROM outbox o ORDER BY o.mutation_id",
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
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    rows.map(|row| {
        let (id, kind, spec_id, envelope, created_at, state, last_error, title) = row?;
        let envelope: MutationEnvelope = read::json("outbox envelope", &envelope)?;
        Ok(OutboxEntry {
            mutation_id: id as u64,
            kind,
            description: handoff_core::describe::describe(&envelope.mutation, title.as_deref()),
            spec_id: read::parse("spec id", &spec_id)?,
            created_at: Timestamp::from_millis(created_at),
            state: if state == "attention" { OutboxState::Attention } else { OutboxState::Pending },
            last_error,
            envelope,
        })
    })
    .collect()
}
