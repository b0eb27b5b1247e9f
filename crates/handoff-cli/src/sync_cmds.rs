//! Sync commands: join, login, logout, sync, attention, and the online part of status.
//! The token lives in the OS keychain; `--insecure-token-file` (or
//! `HANDOFF_INSECURE_TOKEN_FILE=1`) opts into a 0600 file in the data dir instead.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use handoff_client::sync::{DownloadReport, RevisionDownload};
use handoff_client::sync::{ProgressFn, SyncOptions};
use handoff_client::{AttentionItem, Client, CredentialError, JoinParams, Progress, SyncEngine, SyncReport, place};
use handoff_core::SpecId;

use crate::output::Printer;

/// `handoff join`.
#[derive(Args, Debug)]
pub struct JoinArgs {
    /// The server, e.g. https://handoff.example.com.
    #[arg(long)]
    server: String,
    /// The invite code you were sent. (Codes are base64url, so one may start with `-`.)
    #[arg(allow_hyphen_values = true, long)]
    invite: String,
    /// Your email (the one invited).
    #[arg(long)]
    email: String,
    /// Your name as others see it.
    #[arg(long)]
    name: String,
    /// Your IANA time zone.
    #[arg(long, default_value = "UTC")]
    timezone: String,
    #[command(flatten)]
    token: TokenArgs,
}

/// `handoff login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The server.
    #[arg(long)]
    server: String,
    /// Your email.
    #[arg(long)]
    email: String,
    #[command(flatten)]
    token: TokenArgs,
}

/// Where to keep the token.
#[derive(Args, Debug)]
pub struct TokenArgs {
    /// Keep the token in a 0600 file in the data dir instead of the OS keychain. Weaker:
    /// anyone who can read your files (or their backups) can use it until it expires.
    #[arg(long, env = "HANDOFF_INSECURE_TOKEN_FILE", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    insecure_token_file: bool,
}

/// `handoff attention …`.
#[derive(Subcommand, Debug)]
pub enum AttentionCommand {
    /// List changes the server rejected or kept as conflicts (the default).
    List,
    /// Send a change again (as a new change).
    Retry {
        /// Its number, as listed.
        #[arg(value_parser = attention_number())]
        id: u64,
    },
    /// Replace a change's text and send it again (titles, sections, criteria, comments).
    Edit {
        /// Its number.
        #[arg(value_parser = attention_number())]
        id: u64,
        /// The new text (`-` reads standard input).
        #[arg(long)]
        text: String,
    },
    /// Drop a change for good.
    Discard {
        /// Its number.
        #[arg(value_parser = attention_number())]
        id: u64,
    },
    /// Write every change needing attention to a JSON file.
    Export {
        /// The file to write.
        file: PathBuf,
    },
}

/// An attention entry's number as listed: a positive row id.
fn attention_number() -> clap::builder::RangedU64ValueParser<u64> {
    clap::builder::RangedU64ValueParser::<u64>::new().range(1..=i64::MAX as u64)
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")
}

fn password() -> Result<String> {
    if let Ok(p) = std::env::var("HANDOFF_PASSWORD") {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        eprint!("password: ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from standard input")?;
    let p = line.trim_end_matches(['\r', '\n']).to_owned();
    if p.is_empty() {
        bail!("no password given: pipe it on standard input or set HANDOFF_PASSWORD");
    }
    Ok(p)
}

fn progress_printer() -> Option<ProgressFn> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(Arc::new(|p: Progress| {
        let line = match &p {
            Progress::Uploading { sha256, done, total } => {
                format!("uploading {}… {}", &sha256[..sha256.len().min(10)], percent(*done, *total))
            }
            Progress::Downloading { sha256, done, total } => {
                format!("downloading {}… {}", &sha256[..sha256.len().min(10)], percent(*done, *total))
            }
            Progress::Pushed { done, total } => format!("pushed {done}/{total}"),
            Progress::Pulled { records } => format!("pulled {records} records"),
            Progress::RevisionFiles { spec_title, revision, done, total, .. } => {
                format!("downloading revision {revision} of '{spec_title}': {} of {}", size(*done), size(*total))
            }
        };
        eprint!("\r\x1b[2K{line}");
        std::io::stderr().flush().ok();
    }))
}

fn percent(done: u64, total: u64) -> String {
    match done.saturating_mul(100).checked_div(total) {
        Some(p) => format!("{p}% of {total} bytes"),
        None => format!("{done} bytes"),
    }
}

/// An engine for the joined server with the stored token.
pub fn engine(client: &Arc<Client>) -> Result<SyncEngine> {
    let url = client.server_url()?.context("this client has not joined a server; run `handoff join` first")?;
    let engine = SyncEngine::http(client.clone(), &url)?;
    let token = client.token_store()?.load().map_err(|e| match e {
        CredentialError::Missing => anyhow::anyhow!("not signed in to {url}; run `handoff login --server {url} --email …`"),
        other => other.into(),
    })?;
    engine.set_token(Some(token));
    engine.set_progress(progress_printer());
    Ok(engine)
}

/// This program in the server's token list.
const DEVICE: &str = "handoff CLI";

/// `handoff join`.
pub fn join(client: &Arc<Client>, out: &Printer, a: JoinArgs) -> Result<()> {
    let store = client.prepare_token_store(a.token.insecure_token_file)?;
    let engine = SyncEngine::http(client.clone(), &place::server_url(&a.server)?)?;
    let params = JoinParams {
        invite_code: a.invite,
        email: a.email,
        display_name: a.name,
        password: password()?,
        device_name: place::device_name(DEVICE),
        timezone: a.timezone,
    };
    let joined = runtime()?.block_on(engine.join_keeping(params, &store))?;
    out.joined(&joined.email, &joined.workspaces, joined.adopted_specs)
}

/// `handoff login`.
pub fn login(client: &Arc<Client>, out: &Printer, a: LoginArgs) -> Result<()> {
    let store = client.prepare_token_store(a.token.insecure_token_file)?;
    let engine = SyncEngine::http(client.clone(), &place::server_url(&a.server)?)?;
    let pw = password()?;
    let joined = runtime()?.block_on(engine.login_keeping(&a.email, &pw, &place::device_name(DEVICE), &store))?;
    out.joined(&joined.email, &joined.workspaces, joined.adopted_specs)
}

/// `handoff logout`: revokes the token on the server (when reachable) and forgets it here.
pub fn logout(client: &Arc<Client>, out: &Printer) -> Result<()> {
    let store = client.token_store()?;
    if let Ok(engine) = engine(client)
        && let Err(e) = runtime()?.block_on(engine.logout())
    {
        eprintln!("handoff: the server could not revoke the token ({e}); it is forgotten here anyway");
    }
    store.delete()?;
    out.done("signed out")
}

/// The longest pause between failed rounds of `sync --watch`.
const WATCH_BACKOFF_CAP: Duration = Duration::from_secs(10);

/// `handoff sync [--watch]`: a round, then (unless `download` is false) the revision files
/// the data dir's download limit allows.
pub fn sync(client: &Arc<Client>, out: &Printer, watch: bool, options: SyncOptions, download: bool) -> Result<()> {
    // A watcher is someone waiting for news: after failed rounds (a server process restarting)
    // it tries again within seconds, as the app does, not after a minute of backoff during
    // which no poke can reach it.
    let options =
        if watch { SyncOptions { backoff_cap: WATCH_BACKOFF_CAP.min(options.backoff_cap), ..options } } else { options };
    let engine = Arc::new(engine(client)?.with_options(options));
    let rt = runtime()?;
    if !watch {
        let report = rt.block_on(engine.sync_with_retry(3));
        clear_progress();
        let report = report?;
        let downloads = if download { Some(rt.block_on(engine.prefetch())) } else { None };
        clear_progress();
        let downloads = downloads.transpose();
        out.sync_report(&report, downloads.as_ref().ok().and_then(Option::as_ref))?;
        return downloads.map(drop).map_err(Into::into);
    }
    rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop_tx.send(true);
        });
        engine
            .watch(stop_rx, Duration::from_secs(60), |r| match r {
                Ok(report) => {
                    let _ = out.sync_report(report, None);
                    if download {
                        // Beside the rounds, so a long download never delays a change.
                        engine.prefetch_in_background(|r| match r {
                            Ok(d) if d.blobs > 0 => eprintln!("handoff: downloaded {}", downloaded(&d)),
                            Ok(_) => {}
                            Err(e) => eprintln!("handoff: downloading revision files failed: {e} (will retry)"),
                        });
                    }
                }
                Err(e) => {
                    eprintln!("handoff: sync failed: {e} (will retry)");
                    // Signed in again from another terminal: pick up the new token.
                    if e.needs_sign_in()
                        && let Some(token) = client.token_store().ok().and_then(|s| s.load().ok())
                    {
                        engine.set_token(Some(token));
                    }
                }
            })
            .await;
    });
    Ok(())
}

/// `handoff status`, with whether the server answers.
pub fn status(client: &Arc<Client>, out: &Printer) -> Result<()> {
    let mut s = client.status()?;
    let downloads = client.downloads_status()?;
    if let Some(url) = client.server_url()? {
        let engine = SyncEngine::http(client.clone(), &url)?;
        let online =
            runtime()?.block_on(async { tokio::time::timeout(Duration::from_secs(3), engine.probe()).await.unwrap_or(false) });
        s.online = Some(online);
    }
    #[derive(serde::Serialize)]
    struct Status<'a> {
        #[serde(flatten)]
        store: &'a handoff_client::StoreStatus,
        downloads: &'a handoff_client::sync::DownloadsStatus,
    }
    out.print_json_or(
        &Status { store: &s, downloads: &downloads },
        &format!("{}{}", out.status_text(&s), downloads_text(&downloads)),
    )
}

/// What is queued and held back, as `handoff status` says it.
fn downloads_text(d: &handoff_client::sync::DownloadsStatus) -> String {
    let mut text = String::new();
    for r in &d.queued {
        text.push_str(&format!(
            "\ndownloading revision {} of '{}': {} of {}",
            r.revision,
            r.spec_title,
            size(r.bytes_here),
            size(r.bytes_total)
        ));
    }
    if d.queued.is_empty() && d.held_back.is_empty() {
        text.push_str("\nfiles       every revision within the download limit is here");
    }
    text.push_str(&held_back_text(&d.held_back));
    text
}

fn held_back_text(held: &[RevisionDownload]) -> String {
    if held.is_empty() {
        return String::new();
    }
    let list: Vec<String> = held
        .iter()
        .map(|r| format!("revision {} of '{}' ({})", r.revision, r.spec_title, size(r.bytes_total - r.bytes_here)))
        .collect();
    format!(
        "\nheld back by the download limit (`handoff settings --download-limit`): {}; `handoff fetch SPEC REV` downloads one now",
        list.join(", ")
    )
}

pub fn clear_progress() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

/// `handoff fetch SPEC [REV]`.
pub fn fetch(client: &Arc<Client>, out: &Printer, spec: SpecId, revision: Option<u32>) -> Result<()> {
    let engine = engine(client)?;
    let report = runtime()?.block_on(engine.fetch_revision_files(spec, revision));
    clear_progress();
    let report = report?;
    out.print_json_or(
        &report,
        &if report.blobs == 0 { "every file is here already".to_owned() } else { format!("downloaded {}", downloaded(&report)) },
    )
}

/// Downloads the files of these revisions that are not here yet, when a server is joined and
/// answers; says nothing on failure (the caller reads the revisions and names what is
/// missing).
pub fn fetch_quietly(client: &Arc<Client>, spec: SpecId, revisions: &[u32]) {
    let missing = revisions.iter().any(|&n| client.missing_revision_files(spec, n).is_ok_and(|m| !m.is_empty()));
    if !missing {
        return;
    }
    let (Ok(engine), Ok(rt)) = (engine(client), runtime()) else { return };
    for &n in revisions {
        if let Err(e) = rt.block_on(engine.fetch_revision_files(spec, Some(n))) {
            note_download_failure(&e);
            break;
        }
    }
    clear_progress();
}

/// A failed on-demand download is not the command's error (what is missing is named next),
/// but a full disk or damaged download would otherwise go unexplained.
fn note_download_failure(e: &handoff_client::SyncError) {
    if !matches!(e, handoff_client::SyncError::Offline(_)) {
        eprintln!("handoff: could not download: {e}");
    }
}

fn downloaded(d: &DownloadReport) -> String {
    format!("{} file(s), {} ({} revision(s) complete)", d.blobs, size(d.bytes), d.revisions)
}

/// Bytes for people: `10.8 MB`, in units of 1024 as the app shows them.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// `2GB`, `500 MB`, `1.5GiB`, `0`: a byte count for `--download-limit`, in units of 1024
/// (as [`size`] prints them).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("{s:?} is not a size like 2GB, 500MB or 0"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" | "kib" => 1024.0,
        "mb" | "m" | "mib" => 1024f64.powi(2),
        "gb" | "g" | "gib" => 1024f64.powi(3),
        "tb" | "t" | "tib" => 1024f64.powi(4),
        other => return Err(format!("unknown size unit {other:?}: use KB, MB, GB or TB")),
    };
    let bytes = n * mult;
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(format!("{s:?} is too large"));
    }
    Ok(bytes as u64)
}

/// `handoff attention …`.
pub fn attention(client: &Client, out: &Printer, cmd: Option<AttentionCommand>) -> Result<()> {
    match cmd.unwrap_or(AttentionCommand::List) {
        AttentionCommand::List => out.attention(&client.attention()?),
        AttentionCommand::Retry { id } => {
            let new = client.retry_attention(id)?;
            out.done(&format!("queued again as change {new}; run `handoff sync` to send it"))
        }
        AttentionCommand::Edit { id, text } => {
            let new = client.edit_attention_text(id, &crate::text_arg(&text)?)?;
            out.done(&format!("edited and queued as change {new}"))
        }
        AttentionCommand::Discard { id } => {
            client.discard_attention(id)?;
            out.done("discarded")
        }
        AttentionCommand::Export { file } => {
            let n = client.export_attention(&file)?;
            out.done(&format!("exported {n} change(s) to {}", file.display()))
        }
    }
}

impl Printer {
    fn joined(&self, email: &str, workspaces: &[handoff_core::WorkspaceId], adopted: u32) -> Result<()> {
        let value = serde_json::json!({ "email": email, "workspaces": workspaces, "adopted_specs": adopted });
        let text = format!(
            "signed in as {email}; {} workspace(s){}\nrun `handoff sync` to download and send changes",
            workspaces.len(),
            if adopted > 0 {
                format!("; {adopted} spec(s) made offline moved into the workspace and will be sent")
            } else {
                String::new()
            }
        );
        self.print_json_or(&value, &text)
    }

    fn sync_report(&self, r: &SyncReport, downloads: Option<&DownloadReport>) -> Result<()> {
        let mut text = format!(
            "pushed {} change(s): {} applied, {} merged, {} conflict(s), {} rejected; pulled {} record(s)",
            r.applied + r.merged + r.conflicts + r.rejected,
            r.applied,
            r.merged,
            r.conflicts,
            r.rejected,
            r.records_pulled
        );
        if r.blobs_uploaded > 0 {
            text.push_str(&format!("; uploaded {} file(s), {} bytes", r.blobs_uploaded, r.bytes_uploaded));
        }
        if r.lost_scopes > 0 {
            text.push_str(&format!("; lost access to {} scope(s)", r.lost_scopes));
        }
        if r.attention > 0 {
            text.push_str(&format!("\n{} change(s) need attention: `handoff attention`", r.attention));
        }
        if let Some(d) = downloads {
            if d.blobs > 0 {
                text.push_str(&format!("\ndownloaded {}", downloaded(d)));
            }
            text.push_str(&held_back_text(&d.held_back));
        }
        #[derive(serde::Serialize)]
        struct Both<'a> {
            #[serde(flatten)]
            sync: &'a SyncReport,
            #[serde(skip_serializing_if = "Option::is_none")]
            downloads: Option<&'a DownloadReport>,
        }
        self.print_json_or(&Both { sync: r, downloads }, &text)
    }

    /// This data dir's settings.
    pub fn settings(&self, download_limit: u64) -> Result<()> {
        let value = serde_json::json!({ "download_limit_bytes": download_limit });
        let text = if download_limit == 0 {
            "download limit  0: revision files download only on demand (`handoff fetch`, `handoff diff`)".to_owned()
        } else {
            format!(
                "download limit  {}: revisions of delivered and in-review specs download after each sync, newest first, up to this much",
                size(download_limit)
            )
        };
        self.print_json_or(&value, &text)
    }

    fn attention(&self, items: &[AttentionItem]) -> Result<()> {
        let mut text = String::new();
        if items.is_empty() {
            text.push_str("nothing needs attention");
        }
        for i in items {
            let e = &i.entry;
            text.push_str(&format!(
                "{:>6}  {}  {}\n        {}\n",
                e.mutation_id,
                match &i.outcome {
                    Some(handoff_core::protocol::Outcome::Conflict { .. }) => "CONFLICT",
                    Some(_) => "REJECTED",
                    None => "WAITING ",
                },
                e.description,
                e.last_error.as_deref().unwrap_or("")
            ));
        }
        if !items.is_empty() {
            text.push_str("retry, edit, discard or export them: `handoff attention retry|edit|discard|export`");
        }
        self.print_json_or(items, text.trim_end())
    }

    pub(crate) fn print_json_or<T: serde::Serialize + ?Sized>(&self, value: &T, text: &str) -> Result<()> {
        let stdout = std::io::stdout();
        let mut o = stdout.lock();
        if self.json {
            serde_json::to_writer_pretty(&mut o, value)?;
            writeln!(o)?;
        } else {
            writeln!(o, "{text}")?;
        }
        o.flush()?;
        Ok(())
    }
}
