//! The state every request shares: the database, the blob store, settings, the clocks, the
//! event hub and the rate limiter.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use handoff_core::{Hlc, HlcClock, Timestamp};
use tokio::sync::watch;

use crate::blobs::{BlobStore, BlobsAt};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::error::{Result, ServerError};
use crate::events::{Events, ScopeChange};
use crate::limits::{AuthThrottle, RateLimiter};
use crate::metrics::Metrics;
use crate::passwords::PasswordPool;
use crate::storage::postgres::PgStore;
use crate::storage::sqlite::SqliteStore;
use crate::storage::{Database, Storage};

/// The SQLite file's name inside a data dir.
pub const SQLITE_FILE: &str = "handoff-server.sqlite3";
/// The blob folder's name inside a data dir.
pub const BLOB_DIR: &str = "blobs";

/// Shared server state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Database,
    /// Verified blobs, in a folder or an object store.
    pub blobs: BlobStore,
    /// The server's settings (limits, blob root, password cost).
    pub config: Arc<Config>,
    /// Wall-clock time.
    pub clock: Arc<dyn Clock>,
    /// The server's hybrid logical clock; orders last-writer-wins fields.
    pub hlc: Arc<Mutex<HlcClock>>,
    /// Scope change notices.
    pub events: Events,
    /// Per-token request budget.
    pub limiter: Arc<RateLimiter>,
    /// Sign-in and join attempts per address and per account.
    pub auth_throttle: Arc<AuthThrottle>,
    /// Requests served at once.
    pub request_slots: Arc<tokio::sync::Semaphore>,
    /// The threads that hash and check passwords.
    pub passwords: Arc<PasswordPool>,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// Names this process in change notices to other processes.
    origin: u64,
    shutdown_tx: Arc<watch::Sender<bool>>,
    /// Told to stop, and waiting out `shutdown_grace` (`/readyz` answers 503).
    draining: Arc<std::sync::atomic::AtomicBool>,
}

impl AppState {
    /// State over an open database, with the system clock.
    pub fn new(db: Database, config: Config) -> Result<Self> {
        Self::with_clock(db, config, Arc::new(SystemClock))
    }

    /// State over an open database with an injected clock (tests), blobs in a folder.
    pub fn with_clock(db: Database, config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        let blobs = match &config.blobs {
            BlobsAt::Dir(dir) => BlobStore::dir(dir)?,
            BlobsAt::S3(_) => {
                return Err(ServerError::Internal("an object store is opened with AppState::connect, which awaits it".into()));
            }
        };
        Self::assemble(db, config, blobs, clock)
    }

    /// State over an open database with an injected clock, opening the configured blob store
    /// (an object store must answer and accept the credentials, or this fails saying why).
    pub async fn connect(db: Database, config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        if matches!(config.blobs, BlobsAt::S3(_)) && matches!(db, Database::Sqlite(_)) {
            return Err(ServerError::Config(
                "blobs in an object store are for several server processes, which share a PostgreSQL database: \
                 pass --database-url, or keep the blobs in a folder"
                    .into(),
            ));
        }
        let blobs = BlobStore::open(&config.blobs).await?;
        Self::assemble(db, config, blobs, clock)
    }

    fn assemble(db: Database, config: Config, blobs: BlobStore, clock: Arc<dyn Clock>) -> Result<Self> {
        tracing::info!(backend = db.backend(), blobs = %config.blobs, "storage ready");
        Ok(Self {
            db,
            blobs,
            limiter: Arc::new(RateLimiter::new(config.rate_limit)),
            auth_throttle: Arc::new(AuthThrottle::new(config.auth_rate_limit)),
            request_slots: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_requests)),
            passwords: Arc::new(PasswordPool::new(config.password_threads, config.password_queue)?),
            metrics: Arc::new(Metrics::new()),
            config: Arc::new(config),
            clock,
            hlc: Arc::new(Mutex::new(HlcClock::default())),
            events: Events::new(),
            origin: u64::from_le_bytes(crate::auth::random_bytes::<8>()?),
            shutdown_tx: Arc::new(watch::channel(false).0),
            draining: Arc::default(),
        })
    }

    /// Opens (creating) the SQLite database and blob folder in `data_dir`; `configure`
    /// adjusts the defaults.
    pub fn open_sqlite(data_dir: &Path, configure: impl FnOnce(&mut Config)) -> Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let db = Database::Sqlite(SqliteStore::open(&data_dir.join(SQLITE_FILE))?);
        let mut config = Config::new(data_dir.join(BLOB_DIR));
        configure(&mut config);
        Self::new(db, config)
    }

    /// Connects to PostgreSQL with blobs `at` a folder or an object store.
    pub async fn open_postgres(url: &str, at: impl Into<BlobsAt>, configure: impl FnOnce(&mut Config)) -> Result<Self> {
        let store = PgStore::open(url).await?;
        let mut config = Config::new(PathBuf::new());
        config.blobs = at.into();
        configure(&mut config);
        let state = Self::connect(Database::Postgres(store.clone()), config, Arc::new(SystemClock)).await?;
        store.spawn_listener(state.origin, state.events.clone()).await?;
        Ok(state)
    }

    /// Publishes committed changes to this process's event streams and, on PostgreSQL, to
    /// the other server processes on the same database.
    pub fn publish(&self, changes: Vec<ScopeChange>) {
        if changes.is_empty() {
            return;
        }
        self.events.publish(changes.iter().copied());
        if let Database::Postgres(pg) = &self.db {
            let (pg, origin) = (pg.clone(), self.origin);
            tokio::spawn(async move {
                if let Err(e) = pg.notify(origin, &changes).await {
                    tracing::warn!(error = %e, "could not notify other server processes");
                }
            });
        }
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The HLC's latest reading, ticked to now: what responses carry as `server_hlc`.
    pub fn server_hlc(&self) -> Result<Hlc> {
        let mut clock = self.hlc.lock().map_err(|_| ServerError::Internal("hlc lock poisoned".into()))?;
        Ok(clock.tick(self.now()))
    }

    /// Marks this process as stopping: `/readyz` answers 503 from now on.
    pub fn begin_draining(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether this process was told to stop.
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Tells long-lived responses (event streams) to end: the server is shutting down.
    pub fn begin_shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
    }

    /// Resolves when shutdown began.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }
}
