//! Storage: one [`Storage`] trait, two implementations ([`sqlite::SqliteStore`],
//! [`postgres::PgStore`]), and the [`Database`] the server holds.
//!
//! Architecture: the server's rules (push, pull, accounts) are written once, as transaction
//! jobs over [`Sql`], a minimal "run this statement with these parameters" interface that both
//! backends provide. A backend's whole job is to open connections, run migrations, and run a job
//! inside one transaction (SQLite: on a blocking thread, one writer; PostgreSQL: pooled async
//! connections). SQL is written once in the common subset of both dialects with `$1`-style
//! parameters; integers are 64-bit and booleans are stored as 0/1 so rows read back the same.

pub mod migrate;
pub mod postgres;
pub mod queries;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use crate::error::{Result, ServerError};

/// A boxed, sendable future borrowing a transaction for `'a`.
pub type TxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// A parameter of a statement.
#[derive(Clone, Copy, Debug)]
pub enum P<'a> {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Int(i64),
    /// A UTF-8 text parameter.
    Text(&'a str),
}

impl<'a> From<&'a str> for P<'a> {
    fn from(s: &'a str) -> Self {
        P::Text(s)
    }
}

impl<'a> From<&'a String> for P<'a> {
    fn from(s: &'a String) -> Self {
        P::Text(s)
    }
}

impl From<i64> for P<'_> {
    fn from(i: i64) -> Self {
        P::Int(i)
    }
}

impl<'a> From<Option<&'a str>> for P<'a> {
    fn from(s: Option<&'a str>) -> Self {
        s.map_or(P::Null, P::Text)
    }
}

impl From<Option<i64>> for P<'_> {
    fn from(i: Option<i64>) -> Self {
        i.map_or(P::Null, P::Int)
    }
}

/// A value read back from a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A UTF-8 text column.
    Text(String),
}

/// One result row.
#[derive(Clone, Debug, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value> {
        self.0.get(i).ok_or_else(|| ServerError::Internal(format!("row has no column {i}")))
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String> {
        match self.get(i)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(ServerError::Internal(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    /// Column `i` as text, or none for NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Text(s) => Ok(Some(s.clone())),
            other => Err(ServerError::Internal(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(ServerError::Internal(format!("column {i}: expected an integer, got {other:?}"))),
        }
    }

    /// Column `i` as an integer, or none for NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.get(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(ServerError::Internal(format!("column {i}: expected an integer, got {other:?}"))),
        }
    }
}

/// Runs statements inside one open transaction. Statements use `$1`, `$2`, … parameters.
pub trait Sql: Send {
    /// Runs a statement; returns the number of rows it changed.
    fn exec<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, u64>;
    /// Runs a query; returns its rows.
    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, Vec<Row>>;
}

/// Whether a job only reads or also writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A read-only transaction seeing one consistent snapshot.
    Read,
    /// A write transaction (SQLite: the one writer; PostgreSQL: read committed).
    Write,
}

/// A transaction job: gets the open transaction, returns a future that borrows it. Committed
/// when the future returns `Ok`, rolled back otherwise.
pub trait Job<T>: for<'a> FnOnce(&'a mut dyn Sql) -> TxFuture<'a, T> + Send + 'static {}
impl<T, F> Job<T> for F where F: for<'a> FnOnce(&'a mut dyn Sql) -> TxFuture<'a, T> + Send + 'static {}

/// A database that runs jobs in transactions. Implemented by SQLite and PostgreSQL.
pub trait Storage: Send + Sync + 'static {
    /// Runs `job` in one transaction of the given mode.
    fn run<T: Send + 'static>(&self, mode: Mode, job: impl Job<T>) -> impl Future<Output = Result<T>> + Send;
    /// `sqlite` or `postgres`, for logs.
    fn backend(&self) -> &'static str;
}

/// The database a server runs on.
#[derive(Clone)]
pub enum Database {
    /// A SQLite file.
    Sqlite(sqlite::SqliteStore),
    /// A PostgreSQL database.
    Postgres(postgres::PgStore),
}

impl Database {
    /// Runs a read-only job.
    pub async fn read<T: Send + 'static>(&self, job: impl Job<T>) -> Result<T> {
        self.run(Mode::Read, job).await
    }

    /// Runs a write job.
    pub async fn write<T: Send + 'static>(&self, job: impl Job<T>) -> Result<T> {
        self.run(Mode::Write, job).await
    }
}

impl Storage for Database {
    async fn run<T: Send + 'static>(&self, mode: Mode, job: impl Job<T>) -> Result<T> {
        match self {
            Database::Sqlite(s) => s.run(mode, job).await,
            Database::Postgres(p) => p.run(mode, job).await,
        }
    }

    fn backend(&self) -> &'static str {
        match self {
            Database::Sqlite(s) => s.backend(),
            Database::Postgres(p) => p.backend(),
        }
    }
}

impl Database {
    /// What the connections are doing now (`/metrics`).
    pub fn pool_status(&self) -> crate::metrics::PoolStatus {
        match self {
            Database::Sqlite(s) => s.pool_status(),
            Database::Postgres(p) => p.pool_status(),
        }
    }
}

/// `IN ($n, $n+1, …)` for `count` parameters starting at `$first`.
pub fn placeholders(first: usize, count: usize) -> String {
    let mut s = String::from("(");
    for i in 0..count {
        if i > 0 {
            s.push(',');
        }
        s.push('$');
        s.push_str(&(first + i).to_string());
    }
    s.push(')');
    s
}
