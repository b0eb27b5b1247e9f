//! SQLite storage: one file, WAL, foreign keys on, a busy timeout. One writer connection (SQLite
//! has one writer anyway) and a few reader connections; rusqlite blocks, so every job runs on
//! tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::{Job, Mode, P, Row, Sql, Storage, TxFuture, Value, migrate};
use crate::error::{Result, ServerError};

/// How many idle reader connections to keep.
const MAX_IDLE_READERS: usize = 8;

/// A SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Transactions running now, or waiting for the writer (for `/metrics`).
    busy: std::sync::atomic::AtomicUsize,
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL lets pulls read while a push writes. FULL syncs the WAL at every commit: a push is
    // acknowledged only once it would survive a power loss, because the client drops what
    // the server acknowledged (ARCHITECTURE.md, Storage).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Refuses a database whose schema is newer than this binary.
    pub fn open(path: &Path) -> Result<Self> {
        let mut writer = open_connection(path)?;
        migrate::migrate_sqlite(&mut writer)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                busy: Default::default(),
            }),
        })
    }

    /// Transactions running, idle pooled connections, and the most kept open (the writer and
    /// the idle readers; more readers open while reads pile up).
    pub fn pool_status(&self) -> crate::metrics::PoolStatus {
        let idle_readers = self.inner.readers.lock().map(|r| r.len()).unwrap_or(0);
        let in_use = self.inner.busy.load(std::sync::atomic::Ordering::Relaxed);
        let writer_idle = usize::from(self.inner.writer.try_lock().is_ok());
        crate::metrics::PoolStatus { in_use, idle: idle_readers + writer_idle, max: 1 + MAX_IDLE_READERS }
    }

    fn run_blocking<T>(&self, mode: Mode, job: impl Job<T>) -> Result<T> {
        use std::sync::atomic::Ordering::Relaxed;
        self.inner.busy.fetch_add(1, Relaxed);
        let out = self.run_counted(mode, job);
        self.inner.busy.fetch_sub(1, Relaxed);
        out
    }

    fn run_counted<T>(&self, mode: Mode, job: impl Job<T>) -> Result<T> {
        match mode {
            Mode::Write => {
                let mut conn =
                    self.inner.writer.lock().map_err(|_| ServerError::Internal("sqlite writer lock poisoned".into()))?;
                in_transaction(&mut conn, "BEGIN IMMEDIATE", job)
            }
            Mode::Read => {
                let pooled =
                    self.inner.readers.lock().map_err(|_| ServerError::Internal("sqlite reader pool poisoned".into()))?.pop();
                let mut conn = match pooled {
                    Some(c) => c,
                    None => open_connection(&self.inner.path)?,
                };
                let out = in_transaction(&mut conn, "BEGIN DEFERRED", job);
                if let Ok(mut readers) = self.inner.readers.lock()
                    && readers.len() < MAX_IDLE_READERS
                {
                    readers.push(conn);
                }
                out
            }
        }
    }
}

/// Runs `job` between `begin` and COMMIT; rolls back on error.
fn in_transaction<T>(conn: &mut Connection, begin: &str, job: impl Job<T>) -> Result<T> {
    conn.execute_batch(begin)?;
    let out = {
        let mut tx = SqliteTx { conn };
        block_on(job(&mut tx))
    };
    match out {
        Ok(v) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(v),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        },
        Err(e) => {
            if let Err(rb) = conn.execute_batch("ROLLBACK") {
                tracing::warn!(error = %rb, "sqlite rollback failed");
            }
            Err(e)
        }
    }
}

/// Drives a job's future on this (blocking) thread. SQLite statements complete synchronously,
/// so the future is ready on its first poll; a pending one would be a bug, reported as such.
fn block_on<T>(fut: TxFuture<'_, T>) -> Result<T> {
    let mut fut = fut;
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => Err(ServerError::Internal("a sqlite job waited on something other than sqlite".into())),
    }
}

impl Storage for SqliteStore {
    async fn run<T: Send + 'static>(&self, mode: Mode, job: impl Job<T>) -> Result<T> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.run_blocking(mode, job)).await?
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

struct SqliteTx<'c> {
    conn: &'c mut Connection,
}

impl ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            P::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            P::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            P::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// `$1` → `?1`: SQLite numbers `?NNN` parameters exactly, whatever order they appear in.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl SqliteTx<'_> {
    fn exec_now(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
    }

    fn query_now(&mut self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>> {
        let mut stmt = self.conn.prepare_cached(&sqlite_sql(sql))?;
        let cols = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(cols);
            for i in 0..cols {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(f) => Value::Int(f as i64),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }
}

impl Sql for SqliteTx<'_> {
    fn exec<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, u64> {
        let r = self.exec_now(sql, params);
        Box::pin(std::future::ready(r))
    }

    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, Vec<Row>> {
        let r = self.query_now(sql, params);
        Box::pin(std::future::ready(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer and every reader connection sync each commit (FULL, 2) in WAL mode: a push
    /// is acknowledged only once it is on disk (ARCHITECTURE.md, Storage).
    #[test]
    fn connections_sync_every_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = open_connection(&dir.path().join("server.db")).expect("open");
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).expect("journal_mode");
        let sync: i64 = conn.pragma_query_value(None, "synchronous", |r| r.get(0)).expect("synchronous");
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
