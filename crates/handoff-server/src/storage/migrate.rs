//! Schema migrations, embedded in the binary, applied in order, tracked in
//! `handoff_schema_migrations`. Append-only: a released migration is never edited. A database
//! whose schema is newer than this binary is refused rather than written to.

use crate::error::{Result, ServerError};

/// One migration: its number, name and SQL.
pub struct Migration {
    /// Version number, from 1, without gaps.
    pub version: i64,
    /// A short name.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// SQLite migrations.
pub const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../../../../migrations/server/sqlite/0001_initial.sql") },
    Migration { version: 2, name: "history", sql: include_str!("../../../../migrations/server/sqlite/0002_history.sql") },
];

/// PostgreSQL migrations.
pub const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "initial", sql: include_str!("../../../../migrations/server/postgres/0001_initial.sql") },
    Migration { version: 2, name: "history", sql: include_str!("../../../../migrations/server/postgres/0002_history.sql") },
];

const TRACKING_TABLE: &str = "CREATE TABLE IF NOT EXISTS handoff_schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

fn latest(list: &[Migration]) -> i64 {
    list.last().map_or(0, |m| m.version)
}

fn check_not_newer(found: i64, list: &[Migration]) -> Result<()> {
    let known = latest(list);
    if found > known {
        return Err(ServerError::SchemaTooNew { found, known });
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Brings a SQLite database up to date, one transaction per migration.
pub fn migrate_sqlite(conn: &mut rusqlite::Connection) -> Result<()> {
    conn.execute_batch(TRACKING_TABLE)?;
    let found: i64 = conn.query_row("SELECT COALESCE(MAX(version), 0) FROM handoff_schema_migrations", [], |r| r.get(0))?;
    check_not_newer(found, SQLITE)?;
    for m in SQLITE.iter().filter(|m| m.version > found) {
        let tx = conn.transaction()?;
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO handoff_schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, now_ms()],
        )?;
        tx.commit()?;
        tracing::info!(version = m.version, name = m.name, "applied sqlite migration");
    }
    Ok(())
}

/// Brings a PostgreSQL database up to date. An advisory lock keeps several server processes
/// starting at once from racing.
pub async fn migrate_postgres(client: &mut tokio_postgres::Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(7243155001)").await?;
    tx.batch_execute(TRACKING_TABLE).await?;
    let found: i64 =
        tx.query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM handoff_schema_migrations", &[]).await?.try_get(0)?;
    check_not_newer(found, POSTGRES)?;
    for m in POSTGRES.iter().filter(|m| m.version > found) {
        tx.batch_execute(m.sql).await?;
        tx.execute(
            "INSERT INTO handoff_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&m.version, &m.name, &now_ms()],
        )
        .await?;
        tracing::info!(version = m.version, name = m.name, "applied postgres migration");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps_on_both_backends() {
        for list in [SQLITE, POSTGRES] {
            for (i, m) in list.iter().enumerate() {
                assert_eq!(m.version, i as i64 + 1, "{}", m.name);
            }
        }
        assert_eq!(latest(SQLITE), latest(POSTGRES), "both backends are at the same schema version");
    }

    #[test]
    fn a_newer_sqlite_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db.sqlite");
        {
            let mut conn = rusqlite::Connection::open(&path).expect("open");
            migrate_sqlite(&mut conn).expect("migrate");
            conn.execute("INSERT INTO handoff_schema_migrations VALUES (999, 'future', 0)", []).expect("insert");
        }
        let mut conn = rusqlite::Connection::open(&path).expect("open");
        let err = migrate_sqlite(&mut conn).expect_err("refused");
        let expected = format!("version 999, newer than this server's {}", latest(SQLITE));
        assert!(err.to_string().contains(&expected), "{err}");
    }
}
