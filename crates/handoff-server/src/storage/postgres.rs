//! PostgreSQL storage: a small pool of `tokio-postgres` connections, each with its own cache
//! of prepared statements. Writes run at READ COMMITTED and serialize per scope on the
//! `scopes` row they bump first; reads run at REPEATABLE READ so a pull sees one snapshot.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use tokio::sync::Semaphore;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};

use super::{Job, Mode, P, Row, Sql, Storage, TxFuture, Value, migrate};
use crate::error::{Result, ServerError};
use crate::events::{Events, ScopeChange};

/// The channel scope changes travel on between server processes sharing one database.
const NOTIFY_CHANNEL: &str = "handoff_scopes";

/// Most connections one server process opens.
const MAX_CONNECTIONS: usize = 16;
/// Most prepared statements cached per connection (dynamic `IN (…)` lists vary in length).
const MAX_CACHED_STATEMENTS: usize = 512;

/// A PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
}

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

async fn connect(url: &str) -> Result<Conn> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "postgres connection ended");
        }
    });
    Ok(Conn { client, statements: HashMap::new() })
}

impl PgStore {
    /// Connects to `url` and brings the schema up to date. Refuses a database whose schema
    /// is newer than this binary.
    pub async fn open(url: &str) -> Result<Self> {
        let mut conn = connect(url).await?;
        migrate::migrate_postgres(&mut conn.client).await?;
        let store = Self {
            inner: Arc::new(Inner {
                url: url.to_owned(),
                idle: Mutex::new(vec![conn]),
                permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            }),
        };
        Ok(store)
    }

    /// Connections in a transaction, idle, and the most this process opens.
    pub fn pool_status(&self) -> crate::metrics::PoolStatus {
        let idle = self.inner.idle.lock().map(|v| v.len()).unwrap_or(0);
        let in_use = MAX_CONNECTIONS.saturating_sub(self.inner.permits.available_permits());
        crate::metrics::PoolStatus { in_use, idle, max: MAX_CONNECTIONS }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.inner.idle.lock().ok()?;
        while let Some(c) = idle.pop() {
            if !c.client.is_closed() {
                return Some(c);
            }
        }
        None
    }

    fn give_back(&self, conn: Conn) {
        if conn.client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.inner.idle.lock() {
            idle.push(conn);
        }
    }
}

impl PgStore {
    /// Tells the other server processes on this database about committed changes (pokes for
    /// their event streams). `origin` names this process so it can ignore its own notices.
    pub async fn notify(&self, origin: u64, changes: &[ScopeChange]) -> Result<()> {
        let payloads: Vec<String> =
            changes.iter().map(|c| format!("{origin} {} {} {}", c.scope, c.version, c.workspace_id)).collect();
        self.run(Mode::Write, move |db| {
            Box::pin(async move {
                for p in &payloads {
                    db.query("SELECT pg_notify($1, $2)::TEXT", &[P::Text(NOTIFY_CHANNEL), P::Text(p)]).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Listens for other processes' changes and republishes them on `events`, reconnecting
    /// after failures, for as long as the runtime runs. Resolves once the first LISTEN is in
    /// place: a process that served event streams before then could miss a change another
    /// process committed meanwhile, and its clients would hear of it only at their next timer.
    pub async fn spawn_listener(&self, origin: u64, events: Events) -> Result<()> {
        let url = self.inner.url.clone();
        let (listening_tx, listening) = tokio::sync::oneshot::channel();
        let mut listening_tx = Some(listening_tx);
        tokio::spawn(async move {
            loop {
                // Once it has listened, a new connection follows a gap in which notices were lost.
                let again = listening_tx.is_none();
                if let Err(e) = listen(&url, origin, &events, &mut listening_tx, again).await {
                    tracing::warn!(error = %e, "postgres change listener stopped; reconnecting");
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        match tokio::time::timeout(std::time::Duration::from_secs(30), listening).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(ServerError::Internal("could not LISTEN for other server processes' changes within 30 s".into())),
        }
    }
}

/// Listens on one connection until it fails. After a reconnect (`again`), every workspace
/// scope is published as a change: the notices other processes sent while nobody here was
/// listening are lost, and a poke for its workspace makes every client of this process pull
/// whatever it missed (one pull each, once per reconnect).
async fn listen(
    url: &str,
    origin: u64,
    events: &Events,
    listening: &mut Option<tokio::sync::oneshot::Sender<()>>,
    again: bool,
) -> Result<()> {
    use futures_util::StreamExt;
    use tokio_postgres::AsyncMessage;
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN {NOTIFY_CHANNEL}");
    {
        let listen = client.batch_execute(&sql);
        tokio::pin!(listen);
        // The connection must be driven while LISTEN runs, so poll both until it is done.
        loop {
            tokio::select! {
                r = &mut listen => { r?; break; }
                m = messages.next() => match m {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(()),
                },
            }
        }
    }
    if let Some(tx) = listening.take() {
        let _ = tx.send(());
    }
    if again {
        let missed = client.query("SELECT scope, version, workspace_id FROM scopes WHERE kind = 'workspace'", &[]);
        tokio::pin!(missed);
        let rows = loop {
            tokio::select! {
                r = &mut missed => break r?,
                m = messages.next() => match m {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(()),
                },
            }
        };
        let changes: Vec<ScopeChange> = rows
            .iter()
            .filter_map(|r| {
                let scope: String = r.try_get(0).ok()?;
                let version: i64 = r.try_get(1).ok()?;
                let workspace: String = r.try_get(2).ok()?;
                Some(ScopeChange {
                    scope: scope.parse().ok()?,
                    version: u64::try_from(version).ok()?,
                    workspace_id: workspace.parse().ok()?,
                })
            })
            .collect();
        tracing::info!(workspaces = changes.len(), "listening again; poking every stream for what changed meanwhile");
        events.publish(changes);
    }
    while let Some(msg) = messages.next().await {
        if let AsyncMessage::Notification(n) = msg? {
            match parse_notice(n.payload()) {
                Some((from, change)) if from != origin => events.publish([change]),
                Some(_) => {}
                None => tracing::warn!(payload = n.payload(), "unreadable change notice"),
            }
        }
    }
    drop(client);
    Ok(())
}

fn parse_notice(payload: &str) -> Option<(u64, ScopeChange)> {
    let mut parts = payload.split(' ');
    let origin = parts.next()?.parse().ok()?;
    let scope = parts.next()?.parse().ok()?;
    let version = parts.next()?.parse().ok()?;
    let workspace_id = parts.next()?.parse().ok()?;
    Some((origin, ScopeChange { scope, version, workspace_id }))
}

impl Storage for PgStore {
    async fn run<T: Send + 'static>(&self, mode: Mode, job: impl Job<T>) -> Result<T> {
        let _permit =
            self.inner.permits.clone().acquire_owned().await.map_err(|_| ServerError::Internal("postgres pool closed".into()))?;
        let mut conn = match self.take_idle() {
            Some(c) => c,
            None => connect(&self.inner.url).await?,
        };
        let out = run_in_transaction(&mut conn, mode, job).await;
        self.give_back(conn);
        out
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

async fn run_in_transaction<T>(conn: &mut Conn, mode: Mode, job: impl Job<T>) -> Result<T> {
    let Conn { client, statements } = conn;
    let mut tx = match mode {
        Mode::Read => client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?,
        Mode::Write => client.transaction().await?,
    };
    let out = {
        let mut pg = PgTx { tx: &mut tx, statements };
        job(&mut pg).await
    };
    match out {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            if let Err(rb) = tx.rollback().await {
                tracing::warn!(error = %rb, "postgres rollback failed");
            }
            Err(e)
        }
    }
}

struct PgTx<'t, 'c> {
    tx: &'t mut Transaction<'c>,
    statements: &'t mut HashMap<String, Statement>,
}

impl ToSql for P<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            P::Null => Ok(IsNull::Yes),
            P::Int(i) => i.to_sql(ty, out),
            P::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <i64 as ToSql>::accepts(ty) || <&str as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl PgTx<'_, '_> {
    async fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.tx.prepare(sql).await?;
        // A statement with an `IN (…)` list is prepared afresh each time, so it is planned
        // with its values: PostgreSQL's generic plan for a reused one is picked from the
        // statistics of the moment, and on a young table that was a sequential scan for a
        // push's `id IN (…)` look-up, which then slowed every push as the table grew (0.3 ms
        // to 25 ms each in `cargo bench -p handoff-server --bench server`).
        if self.statements.len() < MAX_CACHED_STATEMENTS && !sql.contains(" IN (") {
            self.statements.insert(sql.to_owned(), stmt.clone());
        }
        Ok(stmt)
    }
}

fn to_value(row: &tokio_postgres::Row, i: usize) -> Result<Value> {
    let ty = row.columns()[i].type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?.map_or(Value::Null, |v| Value::Int(v.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?.map_or(Value::Null, |v| Value::Int(v.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?.map_or(Value::Null, |v| Value::Int(v.into()))
    } else {
        row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text)
    })
}

fn dyn_params<'p>(params: &'p [P<'p>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Sql for PgTx<'_, '_> {
    fn exec<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, u64> {
        Box::pin(async move {
            let stmt = self.statement(sql).await?;
            Ok(self.tx.execute(&stmt, &dyn_params(params)).await?)
        })
    }

    fn query<'a>(&'a mut self, sql: &'a str, params: &'a [P<'a>]) -> TxFuture<'a, Vec<Row>> {
        Box::pin(async move {
            let stmt = self.statement(sql).await?;
            let rows = self.tx.query(&stmt, &dyn_params(params)).await?;
            rows.iter().map(|r| Ok(Row((0..r.len()).map(|i| to_value(r, i)).collect::<Result<Vec<_>>>()?))).collect()
        })
    }
}
