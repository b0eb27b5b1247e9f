//! After a server was restored from a backup: it answers `mutation_gap` with the last id it
//! still has for this client, which is below ids it answered before. The client sends those
//! again from `outbox_sent` (same client id, same ids, so the server records each once), and
//! withdraws the ones it no longer keeps, so the ids stay gap-free and the outbox moves on.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use handoff_core::*;

use crate::error::Result;
use crate::store::read;

/// How many answered mutations are kept for a restore.
const KEEP_SENT: i64 = 10_000;

/// What to send again for wire ids `from..to` of `client` (local id = wire id + `base`): the
/// envelope when still kept here, else `None` (to withdraw).
pub(crate) fn resend(
    conn: &Connection,
    client: (ClientId, u64),
    from: u64,
    to: u64,
) -> Result<Vec<(u64, Option<MutationEnvelope>)>> {
    let (client_id, base) = client;
    let mut sent = conn.prepare_cached("SELECT envelope FROM outbox_sent WHERE mutation_id = ?1 AND client_id = ?2")?;
    let mut queued = conn.prepare_cached("SELECT envelope FROM outbox WHERE mutation_id = ?1 AND client_id = ?2")?;
    let mut out = Vec::new();
    for wire in from..to {
        let local = (wire + base) as i64;
        let json: Option<String> = match sent.query_row(params![local, client_id.to_string()], |r| r.get(0)).optional()? {
            Some(j) => Some(j),
            None => queued.query_row(params![local, client_id.to_string()], |r| r.get(0)).optional()?,
        };
        out.push((wire, json.map(|j| read::json::<MutationEnvelope>("sent envelope", &j)).transpose()?));
    }
    Ok(out)
}

/// Asks for every scope again from the start: each cursor is set past any version, which the
/// server answers with a reset page holding the scope's whole state (or a lost scope), so
/// records a restored server no longer has are dropped here too.
pub(crate) fn refetch_everything(conn: &Connection) -> Result<()> {
    conn.execute("UPDATE sync_cursors SET version = ?1", [i64::MAX])?;
    conn.execute("UPDATE client_ids SET needs_probe = 1", [])?;
    Ok(())
}

/// Records which server history answered; when it differs from the one known here (the
/// server was restored from a backup, or is another server), asks for everything again and
/// marks every client id to probe. Whether it changed.
///
/// Push answers carry it as well as pull pages: a device that pushed and never pulled
/// before a restore must still see it, or the restore silently loses what it pushed.
pub(crate) fn note_history(tx: &Transaction<'_>, history: Option<&str>) -> Result<bool> {
    let Some(history) = history else { return Ok(false) };
    let known = crate::outbox::meta_get(tx, "server_history")?;
    crate::outbox::meta_set(tx, "server_history", history)?;
    let changed = known.is_some_and(|k| k != history);
    if changed {
        refetch_everything(tx)?;
    }
    Ok(changed)
}

/// A client id with its base, and the newest envelope it had answered.
pub(crate) type Probe = ((ClientId, u64), Option<MutationEnvelope>);

/// The signed-in account's client ids that must check what a restored server still has, each
/// with its base and the newest envelope it had answered (none: nothing to check).
pub(crate) fn to_probe(conn: &Connection) -> Result<Vec<Probe>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.client_id, c.base,
                (SELECT envelope FROM outbox_sent s WHERE s.client_id = c.client_id ORDER BY s.mutation_id DESC LIMIT 1)
         FROM client_ids c
         WHERE c.needs_probe = 1 AND c.user_id = (SELECT value FROM meta WHERE key = 'user_id')",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<String>>(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, base, env)| {
            Ok((
                (read::parse::<ClientId>("client id", &id)?, base as u64),
                env.map(|j| read::json::<MutationEnvelope>("sent envelope", &j)).transpose()?,
            ))
        })
        .collect()
}

/// Marks a client id as checked against the restored server.
pub(crate) fn probed(conn: &Connection, client_id: &ClientId) -> Result<()> {
    conn.execute("UPDATE client_ids SET needs_probe = 0 WHERE client_id = ?1", [client_id.to_string()])?;
    Ok(())
}

/// Keeps only the newest [`KEEP_SENT`] answered mutations.
pub(crate) fn prune_sent(tx: &Transaction<'_>) -> Result<()> {
    tx.execute(
        "DELETE FROM outbox_sent WHERE mutation_id <= (SELECT mutation_id FROM outbox_sent ORDER BY mutation_id DESC LIMIT 1 OFFSET ?1)",
        [KEEP_SENT],
    )?;
    Ok(())
}
