//! The local SQLite store: opening it, its pragmas and its append-only migrations.

pub(crate) mod apply;
pub(crate) mod read;

use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

use crate::error::{ClientError, Result};

/// The client schema's migrations, in order, embedded at compile time. Append-only: a
/// released migration is never edited; a change is a new file.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../../../migrations/client/0001_init.sql")),
    ("0002_sync", include_str!("../../../../migrations/client/0002_sync.sql")),
    ("0003_search_docs", include_str!("../../../../migrations/client/0003_search_docs.sql")),
    ("0004_reviewing", include_str!("../../../../migrations/client/0004_reviewing.sql")),
    ("0005_client_ids", include_str!("../../../../migrations/client/0005_client_ids.sql")),
    ("0006_received_at", include_str!("../../../../migrations/client/0006_received_at.sql")),
    ("0007_received_times", include_str!("../../../../migrations/client/0007_received_times.sql")),
    ("0008_archived_specs", include_str!("../../../../migrations/client/0008_archived_specs.sql")),
    ("0009_ready_overrides", include_str!("../../../../migrations/client/0009_ready_overrides.sql")),
    ("0010_inbox", include_str!("../../../../migrations/client/0010_inbox.sql")),
    ("0011_spec_indexes", include_str!("../../../../migrations/client/0011_spec_indexes.sql")),
    ("0012_notice_candidates", include_str!("../../../../migrations/client/0012_notice_candidates.sql")),
];

/// How long a writer waits for another process (the app and the CLI share a data dir)
/// before giving up with `store_busy`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Opens (creating if needed) the store at `path` and brings its schema up to date.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers (the app's screens) run while the CLI writes. FULL syncs the WAL at
    // every commit, so a change shown as saved, and a mutation id handed to the outbox, survive
    // a power loss too: NORMAL could roll back the last commits, and a mutation id already
    // pushed would then be handed out again for a different change (ARCHITECTURE.md, Storage).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Upserts and trigger-firing statements each open a statement journal; on disk (the
    // default) that is a temp-file write per row during a pull. They are small and live
    // only for one statement.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32768)?;
    // A pull cycles through a few dozen statements; rusqlite's default cache of 16 evicts them
    // and re-parses (triggers included) on every page.
    conn.set_prepared_statement_cache_capacity(256);
    migrate(&mut conn, path)?;
    // Per-connection staging for bulk writes (see apply::upsert_comments); never persisted.
    conn.execute_batch(
        "CREATE TEMP TABLE pulled_comments (
            id TEXT NOT NULL, thread_id TEXT NOT NULL, author TEXT NOT NULL, body TEXT NOT NULL,
            created_at INTEGER NOT NULL, edited_at INTEGER, redacted INTEGER NOT NULL, received_at INTEGER
        )",
    )?;
    Ok(conn)
}

/// How much page cache the screens' read connection keeps (KiB, as SQLite's negative
/// `cache_size` counts): the screens read a spec or a list, not a whole pull.
const READER_CACHE_KIB: i64 = 8192;

/// Opens a second connection to a store [`open`] has brought up to date, for the screens'
/// reads: in WAL mode it reads while the writer connection writes, so a screen reloading
/// after a change never holds up the person's next action. It refuses to write
/// (`query_only`), so a read that would write fails in tests instead of racing the writer.
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -READER_CACHE_KIB)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Commits a write transaction, bringing the full-text index up to date first. Every write
/// transaction of the store ends here: the index is written once per transaction, not per
/// row (why: migrations/client/0003_search_docs.sql).
pub(crate) fn commit(tx: rusqlite::Transaction<'_>) -> Result<()> {
    crate::search::index_stale(&tx)?;
    tx.commit()?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let supported = MIGRATIONS.len() as i64;
    // Take the write lock first, so two processes opening a new store do not both migrate.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > supported {
        return Err(ClientError::NewerSchema { path: path.to_owned(), found, supported });
    }
    for (_, sql) in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    if found < supported {
        tx.pragma_update(None, "user_version", supported)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/client");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("migrations dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = MIGRATIONS.iter().map(|(n, _)| format!("{n}.sql")).collect();
        assert_eq!(files, embedded, "add new migration files to MIGRATIONS");
    }

    /// Every commit is synced (FULL, 2), in WAL mode: what the outbox holds survives a power
    /// loss (see ARCHITECTURE.md, Storage, for why NORMAL is not enough here).
    #[test]
    fn the_store_syncs_every_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open(&dir.path().join("store.db")).expect("store");
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).expect("journal_mode");
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).expect("synchronous");
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn a_store_from_a_newer_handoff_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.db");
        open(&path).expect("fresh store");
        let conn = Connection::open(&path).expect("raw");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        let err = open(&path).expect_err("must refuse");
        assert_eq!(err.code(), crate::Code::NewerSchema);
        assert!(err.to_string().contains("schema version 99"), "{err}");
        // Refusing must not have touched it.
        let conn = Connection::open(&path).expect("raw");
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("read");
        assert_eq!(v, 99);
    }

    #[test]
    fn reopening_is_idempotent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store.db");
        drop(open(&path).expect("first"));
        let conn = open(&path).expect("second");
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).expect("read");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
