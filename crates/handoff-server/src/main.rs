//! `handoff-server`: runs the sync server, or creates invites (`handoff-server invite …`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use handoff_core::validate;
use handoff_core::{Role, Timestamp};
use handoff_server::blobs::BlobsAt;
use handoff_server::config::{Config, DAY_MS, RateLimit};
use handoff_server::{AppState, accounts, auth};

/// The Handoff sync server.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, env = "HANDOFF_SERVER_LISTEN", default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// PEM certificate chain; serve HTTPS (needs --tls-key).
    #[arg(long, env = "HANDOFF_SERVER_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "HANDOFF_SERVER_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Days a sign-in token lasts.
    #[arg(long, env = "HANDOFF_SERVER_TOKEN_TTL_DAYS", default_value_t = 90)]
    token_ttl_days: u32,
    /// Requests per second per token (0 turns rate limiting off).
    #[arg(long, env = "HANDOFF_SERVER_RATE_LIMIT", default_value_t = 50.0)]
    rate_limit: f64,
    /// Requests a token may send in a burst.
    #[arg(long, env = "HANDOFF_SERVER_RATE_BURST", default_value_t = 500.0)]
    rate_burst: f64,
    /// Sign-in and join attempts per second, per client address and per account, after a
    /// burst of ten (0 turns the throttle off, for test servers only).
    #[arg(long, env = "HANDOFF_SERVER_SIGN_IN_RATE", default_value_t = 0.1)]
    sign_in_rate: f64,
    /// Largest JSON request body in bytes (a push over it is refused as `too_large`;
    /// clients then send smaller batches). Blob uploads have their own limit.
    #[arg(long, env = "HANDOFF_SERVER_MAX_REQUEST_BYTES", default_value_t = 16 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(4096..=1 << 30))]
    max_request_bytes: u64,
    /// Seconds a stopping server (SIGTERM) keeps serving while /readyz answers 503, so a load
    /// balancer sends new requests elsewhere first; set it above the balancer's check
    /// interval times its fall count when several processes share the work.
    #[arg(long, env = "HANDOFF_SERVER_SHUTDOWN_GRACE_SECS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=300))]
    shutdown_grace_secs: u64,
    /// Log lines as text for people, or as JSON objects (one per line) for a log pipeline.
    #[arg(long, env = "HANDOFF_SERVER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Gibibytes of blobs each account may upload in all (0 turns the quota off).
    #[arg(long, env = "HANDOFF_SERVER_UPLOAD_QUOTA_GIB", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    upload_quota_gib: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

/// How log lines are written (to stderr; the level comes from RUST_LOG, default info).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the request span's fields (method, path, status).
    Json,
}

/// Where the data lives.
#[derive(Args, Debug, Clone)]
struct StorageArgs {
    /// Folder with the SQLite database and the blobs (default: the platform's data folder).
    #[arg(long, env = "HANDOFF_SERVER_DATA_DIR", global = true, conflicts_with = "database_url")]
    data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of SQLite: postgres://user@host/db.
    #[arg(long, env = "HANDOFF_SERVER_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Blob folder (default: blobs/ in the data folder).
    #[arg(long, env = "HANDOFF_SERVER_BLOB_DIR", global = true, conflicts_with = "blobs")]
    blob_dir: Option<PathBuf>,
    /// Where blobs live: a folder, or s3://BUCKET[/PREFIX] in an S3-compatible object store
    /// (with --database-url; credentials, endpoint and region from the standard AWS_*
    /// variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT, AWS_REGION…).
    #[arg(long, env = "HANDOFF_SERVER_BLOBS", global = true, value_parser = BlobsAt::parse)]
    blobs: Option<BlobsAt>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create an invite (and the workspace, on its first owner invite); prints the one-time code.
    Invite {
        /// Workspace name.
        #[arg(long)]
        workspace: String,
        /// owner, reviewer or contractor.
        #[arg(long)]
        role: Role,
        /// The invitee's email.
        #[arg(long)]
        email: String,
    },
    /// Run once after restoring the database from a backup, before starting the server:
    /// starts a new history, so every client fetches all it may see again and sends what the
    /// restore lost (nothing the backup lacks stays on a client unnoticed).
    Restored,
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("", "", "handoff-server")
        .map(|d| d.data_dir().to_owned())
        .context("no home folder to put the data in; pass --data-dir")
}

async fn open(storage: &StorageArgs, configure: impl FnOnce(&mut Config)) -> anyhow::Result<AppState> {
    let blobs = storage.blobs.clone().or_else(|| storage.blob_dir.clone().map(BlobsAt::Dir));
    Ok(match &storage.database_url {
        Some(url) => {
            let at = match blobs {
                Some(at) => at,
                None => BlobsAt::Dir(storage.data_dir.clone().map_or_else(default_data_dir, Ok)?.join("blobs")),
            };
            let what = format!("opening the PostgreSQL database with the blobs at {at}");
            AppState::open_postgres(url, at, configure).await.context(what)?
        }
        None => {
            if let Some(at @ BlobsAt::S3(_)) = &blobs {
                bail!(
                    "blobs at {at} need --database-url: an object store is for several server processes, which share a PostgreSQL database"
                );
            }
            let dir = storage.data_dir.clone().map_or_else(default_data_dir, Ok)?;
            AppState::open_sqlite(&dir, |c| {
                if let Some(at) = blobs {
                    c.blobs = at;
                }
                configure(c)
            })
            .with_context(|| format!("opening the data folder {}", dir.display()))?
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
    }
    match cli.command {
        Some(Command::Invite { workspace, role, email }) => {
            let state = open(&cli.storage, |_| {}).await?;
            let name = accounts::workspace_name(&workspace)?;
            let email = validate::email(&email)?;
            let code = auth::new_invite_code()?;
            let hash = auth::secret_hash(&code);
            let now = state.now();
            let expires = Timestamp::from_millis(now.as_millis() + state.config.invite_ttl_ms);
            let ws = state
                .db
                .write(move |db| {
                    Box::pin(async move { accounts::bootstrap_invite(db, &name, &email, role, &hash, now, expires).await })
                })
                .await?;
            eprintln!("invite for workspace {:?} ({}) as {role}; the code works once:", ws.name, ws.id);
            println!("{code}");
            Ok(())
        }
        Some(Command::Restored) => {
            let state = open(&cli.storage, |_| {}).await?;
            let id = uuid::Uuid::new_v4().simple().to_string();
            let saved = id.clone();
            state
                .db
                .write(move |db| Box::pin(async move { handoff_server::storage::queries::new_history(db, &saved).await }))
                .await?;
            eprintln!("started history {id}: clients will fetch everything again and resend what the restore lost");
            Ok(())
        }
        None => {
            let (ttl, rate, burst, quota) = (cli.token_ttl_days, cli.rate_limit, cli.rate_burst, cli.upload_quota_gib);
            let max_json = usize::try_from(cli.max_request_bytes).context("--max-request-bytes is too large for this machine")?;
            let (sign_in_rate, grace) = (cli.sign_in_rate, cli.shutdown_grace_secs);
            if rate < 0.0 || burst < 1.0 && rate > 0.0 {
                bail!("--rate-limit must be ≥ 0 and --rate-burst ≥ 1");
            }
            if sign_in_rate.is_nan() || sign_in_rate < 0.0 {
                bail!("--sign-in-rate must be ≥ 0");
            }
            let state = open(&cli.storage, |c| {
                c.token_ttl_ms = i64::from(ttl) * DAY_MS;
                c.rate_limit = (rate > 0.0).then_some(RateLimit { per_second: rate, burst });
                if sign_in_rate <= 0.0 {
                    c.auth_rate_limit = None;
                } else if let Some(limit) = c.auth_rate_limit.as_mut() {
                    limit.per_second = sign_in_rate;
                }
                c.max_json_bytes = max_json;
                c.shutdown_grace = std::time::Duration::from_secs(grace);
                c.upload_quota_bytes = (quota > 0).then_some(quota * 1024 * 1024 * 1024);
            })
            .await?;
            let listener =
                tokio::net::TcpListener::bind(cli.listen).await.with_context(|| format!("listening on {}", cli.listen))?;
            let addr = listener.local_addr()?;
            match (cli.tls_cert, cli.tls_key) {
                (Some(cert), Some(key)) => serve_tls(listener, addr, &cert, &key, state).await,
                _ => {
                    announce(&format!("http://{addr}"))?;
                    handoff_server::serve(listener, state, shutdown_signal()).await?;
                    Ok(())
                }
            }
        }
    }
}

/// Prints the address on stdout (one line, flushed): scripts and tests read it to find the port.
fn announce(url: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "handoff-server listening on {url}")?;
    out.flush()?;
    tracing::info!(%url, "listening");
    Ok(())
}

#[cfg(feature = "tls")]
async fn serve_tls(
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
    cert: &std::path::Path,
    key: &std::path::Path,
    state: AppState,
) -> anyhow::Result<()> {
    let config = handoff_server::tls::load_config(cert, key).context("loading the TLS certificate and key")?;
    announce(&format!("https://{addr}"))?;
    handoff_server::serve_tls(listener, config, state, shutdown_signal()).await?;
    Ok(())
}

#[cfg(not(feature = "tls"))]
async fn serve_tls(
    _: tokio::net::TcpListener,
    _: SocketAddr,
    _: &std::path::Path,
    _: &std::path::Path,
    _: AppState,
) -> anyhow::Result<()> {
    bail!("this handoff-server was built without the `tls` feature")
}
