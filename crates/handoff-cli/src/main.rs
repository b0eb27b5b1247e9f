//! `handoff`: the headless Handoff client. Every command is a thin call into
//! `handoff_client::Client`; this file only parses arguments and prints.

mod diff_cmd;
mod inbox_cmds;
mod member_cmds;
mod output;
mod review_cmds;
mod sync_cmds;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use handoff_client::sync::SyncOptions;
use handoff_client::{Client, NewSpec, SpecEdit, ThreadTarget};
use handoff_core::{SectionKind, Sections, SpecStatus, ThreadEventKind};

/// Handoff: asynchronous specs, deliverables and reviews, offline first.
#[derive(Parser, Debug)]
#[command(name = "handoff", version, about)]
struct Cli {
    /// Where the local store lives [default: the platform data dir].
    #[arg(long, global = true, env = "HANDOFF_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text (read commands and errors).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create, list, show and change specs.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Deliver a folder as the next revision of a spec's deliverable.
    Deliver {
        /// The spec (id or unique prefix).
        spec: String,
        /// The folder to deliver.
        dir: PathBuf,
        /// What changed and why.
        #[arg(long, default_value = "")]
        note: String,
        /// Threads this revision addresses (ids or prefixes).
        #[arg(long = "addresses")]
        addresses: Vec<String>,
    },
    /// List a spec's revisions.
    Revisions {
        /// The spec.
        spec: String,
    },
    /// Draft a comment on lines of a revision's diff (or a reply); private until `review`.
    Comment(review_cmds::CommentArgs),
    /// List draft comments (of one spec, or all).
    Drafts {
        /// Only this spec.
        spec: Option<String>,
    },
    /// Change or delete a draft comment.
    #[command(subcommand)]
    Draft(review_cmds::DraftCommand),
    /// Publish a review of a revision with its drafts: a verdict, a summary, a status per
    /// criterion.
    Review(review_cmds::ReviewArgs),
    /// Whether a spec is ready to hand off: every readiness rule with what fails (exit 0
    /// ready, 1 not ready, 2 trouble).
    Readiness {
        /// The spec.
        spec: String,
    },
    /// The acceptance ledger: each criterion's status per revision, and whether the spec may
    /// be accepted.
    Ledger {
        /// The spec.
        spec: String,
    },
    /// Mark a file of a revision viewed (or list what is viewed).
    Viewed {
        /// The spec.
        spec: String,
        /// The revision's number.
        #[arg(value_parser = revision_number())]
        revision: u32,
        /// The file to mark; without it, lists the viewed files.
        path: Option<String>,
        /// Take the mark back.
        #[arg(long, requires = "path")]
        undo: bool,
    },
    /// Open, answer, resolve and reopen threads.
    #[command(subcommand)]
    Thread(ThreadCommand),
    /// Search specs, criteria, comments and file paths.
    Search {
        /// Words to look for (prefixes match).
        query: Vec<String>,
        /// Most results.
        #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_SEARCH_RESULTS))]
        limit: usize,
    },
    /// The local store at a glance: identity, outbox, blobs, sync.
    Status,
    /// List queued changes not yet accepted by the server.
    Outbox,
    /// Join a workspace on a server with an invite (password from stdin or HANDOFF_PASSWORD).
    Join(sync_cmds::JoinArgs),
    /// Sign in to a server again (password from stdin or HANDOFF_PASSWORD).
    Login(sync_cmds::LoginArgs),
    /// Revoke this device's token and forget it (local data stays).
    Logout,
    /// Send queued changes and download new ones.
    Sync {
        /// Keep syncing: on every server poke, and every minute, until Ctrl-C.
        #[arg(long)]
        watch: bool,
        /// Records per pulled page (default: the server's maximum). Each page is committed as
        /// it arrives, so smaller pages keep more progress on a link that drops.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(handoff_core::protocol::MAX_PULL_LIMIT)))]
        page_size: Option<u32>,
        /// Changes per push (default: the server's maximum). Each batch is one commit on the
        /// server, so others can pull the first batches before the last one is sent.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=handoff_core::protocol::MAX_PUSH_BATCH as i64))]
        batch_size: Option<u16>,
        /// Do not download revision files after syncing (they come later, or with `handoff fetch`).
        #[arg(long)]
        no_download: bool,
    },
    /// Download a spec's revision files now (all revisions, newest first, or one), whatever
    /// the download limit says.
    Fetch {
        /// The spec (id or unique prefix).
        spec: String,
        /// Only this revision.
        #[arg(value_parser = revision_number())]
        revision: Option<u32>,
    },
    /// Show or change this data dir's settings.
    Settings {
        /// Download revision files in the background up to this much (e.g. 2GB, 500MB, 0 for
        /// none: everything on demand).
        #[arg(long, value_parser = sync_cmds::parse_size)]
        download_limit: Option<u64>,
    },
    /// Changes the server rejected or kept as conflicts: list, retry, edit, discard, export.
    Attention {
        #[command(subcommand)]
        cmd: Option<sync_cmds::AttentionCommand>,
    },
    /// Compare two files, two folders, or two revisions of a spec (exit 0 equal, 1 different, 2 trouble).
    Diff(diff_cmd::DiffArgs),
    /// The current workspace's members: name, email, role, their local time now, whether they
    /// are working, time zone and hours (as last synced).
    Members,
    /// What others did on your specs since you last looked, grouped by spec, newest first
    /// (from the last sync; `handoff sync` brings news): the 50 specs with the newest items,
    /// each with its newest 5; what is left out is counted.
    Inbox {
        /// Read items too (the newest 300).
        #[arg(long)]
        all: bool,
        /// One spec's items only, all of them (the newest 1,000): id, id prefix or title.
        #[arg(long)]
        spec: Option<String>,
        #[command(subcommand)]
        cmd: Option<inbox_cmds::InboxCommand>,
    },
    /// How long handoffs waited for their answer, in the receiver's working hours: question →
    /// answer, delivery → review, review → next revision; for one spec or the whole workspace.
    Turnaround {
        /// The spec (id, id prefix or title); the whole workspace when left out.
        spec: Option<String>,
    },
    /// Your time zone and working hours; with options, change them (the team sees them after
    /// the next sync).
    Me {
        /// IANA time zone, such as Europe/Lisbon or Australia/Adelaide.
        #[arg(long)]
        timezone: Option<String>,
        /// Working hours in that zone, such as 09:00-17:30.
        #[arg(long)]
        hours: Option<String>,
        /// Working days, such as mon-fri, sun-thu or mon,wed,fri.
        #[arg(long)]
        days: Option<String>,
    },
    /// Invite someone to the current workspace (owners only); prints the one-time code.
    Invite {
        /// Their email; they join with the same one.
        email: String,
        /// What they may do: owner, reviewer or contractor.
        #[arg(long)]
        role: handoff_core::Role,
    },
    /// Change a member's role or remove them (owners only).
    #[command(subcommand)]
    Member(member_cmds::MemberCommand),
    /// Write a spec's whole engagement as a folder anyone can read: the spec, every revision's
    /// files, patches between revisions, threads, reviews, the ledger, and a manifest of hashes.
    Export {
        /// The spec (id or unique prefix).
        spec: String,
        /// The folder to create (it must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore an exported folder into this data dir as a read-only record (ids, authors and
    /// times kept; what is already here is skipped; a tampered folder is refused).
    Import {
        /// The folder `handoff export` wrote.
        dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SpecCommand {
    /// Create a spec; prints its id.
    New {
        /// One-line title.
        #[arg(long)]
        title: String,
        #[command(flatten)]
        sections: SectionFiles,
        /// An acceptance criterion (repeat for more, in order).
        #[arg(long = "criterion")]
        criteria: Vec<String>,
        /// Due date, YYYY-MM-DD.
        #[arg(long)]
        due: Option<String>,
    },
    /// List specs.
    List {
        /// Only specs in this status.
        #[arg(long)]
        status: Option<SpecStatus>,
    },
    /// Show one spec with its criteria, revisions and threads.
    Show {
        /// The spec.
        spec: String,
    },
    /// Change a spec's title, sections, due date or criteria.
    Edit {
        /// The spec.
        spec: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        sections: SectionFiles,
        /// New due date (YYYY-MM-DD), or "none" to clear it.
        #[arg(long)]
        due: Option<String>,
        /// Add a criterion at the end (repeatable).
        #[arg(long = "add-criterion")]
        add: Vec<String>,
        /// Remove the criterion at this 1-based position (repeatable).
        #[arg(long = "remove-criterion", value_parser = criterion_position())]
        remove: Vec<usize>,
        /// Replace criterion N's text: N=TEXT (repeatable).
        #[arg(long = "set-criterion", value_parser = parse_numbered)]
        set: Vec<(usize, String)>,
        /// Move criterion N to position M: N=M (repeatable).
        #[arg(long = "move-criterion", value_parser = parse_move)]
        moves: Vec<(usize, usize)>,
    },
    /// Assign a spec to a member by email (or remove with --remove).
    Assign {
        /// The spec.
        spec: String,
        /// The member's email.
        email: String,
        /// Remove the assignee instead.
        #[arg(long)]
        remove: bool,
    },
    /// Move a spec along its lifecycle.
    Status {
        /// The spec.
        spec: String,
        /// draft, ready, in_progress, delivered, in_review, changes_requested, accepted, closed.
        status: SpecStatus,
        /// Accept although no approving review settles every criterion, or mark ready although
        /// readiness rules fail (owners only); the reason is recorded and shown.
        #[arg(long = "override", value_name = "REASON")]
        override_reason: Option<String>,
    },
    /// End the engagement (owners): unassign the spec's contractors and close it.
    End {
        /// The spec.
        spec: String,
        /// Also remove each of them from the workspace when no other open spec is assigned
        /// to them (needs the server).
        #[arg(long)]
        remove_from_workspace: bool,
    },
}

/// Section texts read from files (`-` for standard input).
#[derive(Args, Debug, Default)]
struct SectionFiles {
    /// System context, from a file.
    #[arg(long = "context-file")]
    context: Option<PathBuf>,
    /// API shape, from a file.
    #[arg(long = "api-file")]
    api: Option<PathBuf>,
    /// Out of scope, from a file.
    #[arg(long = "out-of-scope-file")]
    out_of_scope: Option<PathBuf>,
    /// Notes and open questions, from a file.
    #[arg(long = "notes-file")]
    notes: Option<PathBuf>,
}

impl SectionFiles {
    fn read(&self) -> Result<Vec<(SectionKind, String)>> {
        let mut out = Vec::new();
        for (kind, path) in [
            (SectionKind::SystemContext, &self.context),
            (SectionKind::ApiShape, &self.api),
            (SectionKind::OutOfScope, &self.out_of_scope),
            (SectionKind::Notes, &self.notes),
        ] {
            if let Some(path) = path {
                out.push((kind, read_text(path)?));
            }
        }
        Ok(out)
    }
}

#[derive(Subcommand, Debug)]
enum ThreadCommand {
    /// Open a thread on a spec, a section, or lines of a delivered file; prints its id.
    New {
        /// The spec.
        spec: String,
        /// The first comment (`-` reads standard input).
        #[arg(long)]
        text: String,
        /// Revision number, with --file and --lines.
        #[arg(long, requires_all = ["file", "lines"], value_parser = revision_number())]
        rev: Option<u32>,
        /// File path in that revision.
        #[arg(long, requires = "rev")]
        file: Option<String>,
        /// Line range A-B (or a single line A).
        #[arg(long, requires = "rev", value_parser = parse_lines)]
        lines: Option<(u32, u32)>,
        /// A spec section: system_context, api_shape, out_of_scope, notes.
        #[arg(long, conflicts_with = "rev")]
        section: Option<SectionKind>,
    },
    /// Reply in a thread.
    Reply {
        /// The thread.
        thread: String,
        /// The reply (`-` reads standard input).
        #[arg(long)]
        text: String,
    },
    /// Mark a thread answered.
    Resolve {
        /// The thread.
        thread: String,
    },
    /// Reopen a thread (a claimed one: the claim is not accepted), with an optional reply.
    Reopen {
        /// The thread.
        thread: String,
        /// Why (`-` reads standard input).
        #[arg(long)]
        text: Option<String>,
    },
    /// Confirm a revision's claim that it addresses the thread: resolves it.
    Confirm {
        /// The thread.
        thread: String,
    },
    /// Show a thread with its comments.
    Show {
        /// The thread.
        thread: String,
    },
}

fn parse_lines(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('-').unwrap_or((s, s));
    let a: u32 = a.trim().parse().map_err(|_| format!("{s:?} is not a line range like 10-20"))?;
    let b: u32 = b.trim().parse().map_err(|_| format!("{s:?} is not a line range like 10-20"))?;
    if a == 0 || b < a {
        return Err(format!("{s:?}: lines count from 1 and the range must not run backward"));
    }
    Ok((a, b))
}

/// Most search results one query may ask for.
const MAX_SEARCH_RESULTS: u64 = 1_000;

/// A revision number as typed: revisions count from 1.
pub(crate) fn revision_number() -> clap::builder::RangedI64ValueParser<u32> {
    clap::builder::RangedI64ValueParser::<u32>::new().range(1..=i64::from(u32::MAX))
}

/// A criterion's 1-based position, at most as many as a spec may have.
pub(crate) fn criterion_position() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=handoff_core::validate::limits::CRITERIA as u64)
}

/// A criterion position in `N=…`: from 1 to the most criteria a spec may have.
pub(crate) fn parse_position(s: &str, n: &str) -> Result<usize, String> {
    let max = handoff_core::validate::limits::CRITERIA;
    match n.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{s:?}: {:?} is not a criterion position (1 to {max})", n.trim())),
    }
}

fn parse_numbered(s: &str) -> Result<(usize, String), String> {
    let (n, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected N=VALUE"))?;
    Ok((parse_position(s, n)?, rest.to_owned()))
}

/// `N=M` of `--move-criterion`: both positions count from 1.
fn parse_move(s: &str) -> Result<(usize, usize), String> {
    let (n, m) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected N=M"))?;
    Ok((parse_position(s, n)?, parse_position(s, m)?))
}

fn read_text(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("cannot read standard input")?;
        return Ok(s);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

fn text_arg(text: &str) -> Result<String> {
    if text == "-" { read_text(Path::new("-")) } else { Ok(text.to_owned()) }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    if let Command::Diff(args) = &cli.command {
        // diff(1)'s contract: 0 equal, 1 different, 2 trouble. Files and folders need no store.
        let data_dir = cli.data_dir.clone();
        let open = || -> Result<std::sync::Arc<Client>> {
            Ok(std::sync::Arc::new(Client::open(data_dir.map_or_else(handoff_client::place::default_data_dir, Ok)?)?))
        };
        return match diff_cmd::run(open, args) {
            Ok(differ) => ExitCode::from(u8::from(differ)),
            Err(e) if output::closed_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                output::error(&e, json);
                ExitCode::from(2)
            }
        };
    }
    if let Command::Readiness { spec } = &cli.command {
        // Scripts gate a handoff on it: 0 ready, 1 not ready, 2 trouble.
        let data_dir = cli.data_dir.clone();
        let out = output::Printer { json };
        let check = || -> Result<bool> {
            let client = Client::open(data_dir.map_or_else(handoff_client::place::default_data_dir, Ok)?)?;
            let readiness = client.readiness(client.resolve_spec(spec)?)?;
            out.readiness(&readiness)?;
            Ok(readiness.is_ready())
        };
        return match check() {
            Ok(ready) => ExitCode::from(u8::from(!ready)),
            Err(e) if output::closed_pipe(&e) => ExitCode::SUCCESS,
            Err(e) => {
                output::error(&e, json);
                ExitCode::from(2)
            }
        };
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`handoff spec list | head -1`): it has what it wanted, so
        // this ends quietly, as `git log | head` does.
        Err(e) if output::closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e, json);
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let data_dir = match cli.data_dir {
        Some(d) => d,
        None => handoff_client::place::default_data_dir()?,
    };
    let client = std::sync::Arc::new(Client::open(&data_dir)?);
    let out = output::Printer { json: cli.json };
    match cli.command {
        Command::Spec(cmd) => spec_command(&client, &out, cmd),
        Command::Deliver { spec, dir, note, addresses } => {
            let spec = client.resolve_spec(&spec)?;
            let addresses = addresses.iter().map(|t| client.resolve_thread(t)).collect::<Result<Vec<_>, _>>()?;
            let rev = client.deliver(spec, &dir, &note, addresses)?;
            out.revision_delivered(&rev)
        }
        Command::Revisions { spec } => {
            let spec = client.resolve_spec(&spec)?;
            out.revisions(&client.revisions(spec)?)
        }
        Command::Comment(a) => review_cmds::comment(&client, &out, a),
        Command::Drafts { spec } => review_cmds::drafts(&client, &out, spec),
        Command::Draft(cmd) => review_cmds::draft(&client, &out, cmd),
        Command::Review(a) => review_cmds::review(&client, &out, a),
        Command::Readiness { .. } => unreachable!("answered in main with its own exit codes"),
        Command::Ledger { spec } => out.ledger(&client.ledger(client.resolve_spec(&spec)?)?),
        Command::Viewed { spec, revision, path, undo } => review_cmds::viewed(&client, &out, spec, revision, path, undo),
        Command::Thread(cmd) => thread_command(&client, &out, cmd),
        Command::Search { query, limit } => out.search(&client.search(&query.join(" "), limit)?),
        Command::Status => sync_cmds::status(&client, &out),
        Command::Outbox => out.outbox(&client.outbox()?),
        Command::Join(a) => sync_cmds::join(&client, &out, a),
        Command::Login(a) => sync_cmds::login(&client, &out, a),
        Command::Logout => sync_cmds::logout(&client, &out),
        Command::Sync { watch, page_size, batch_size, no_download } => {
            let defaults = SyncOptions::default();
            let options = SyncOptions {
                pull_limit: page_size.unwrap_or(defaults.pull_limit),
                push_batch: batch_size.map_or(defaults.push_batch, usize::from),
                ..defaults
            };
            sync_cmds::sync(&client, &out, watch, options, !no_download)
        }
        Command::Fetch { spec, revision } => {
            let spec = client.resolve_spec(&spec)?;
            sync_cmds::fetch(&client, &out, spec, revision)
        }
        Command::Settings { download_limit } => {
            if let Some(bytes) = download_limit {
                client.set_prefetch_limit(bytes)?;
            }
            out.settings(client.prefetch_limit()?)
        }
        Command::Attention { cmd } => sync_cmds::attention(&client, &out, cmd),
        Command::Members => member_cmds::members(&client, &out),
        Command::Inbox { all, spec, cmd } => inbox_cmds::inbox(&client, &out, all, spec, cmd),
        Command::Turnaround { spec } => {
            let spec = spec.map(|s| client.resolve_spec(&s)).transpose()?;
            out.turnaround(&client.turnaround(spec)?)
        }
        Command::Me { timezone, hours, days } => member_cmds::me(&client, &out, timezone, hours, days),
        Command::Invite { email, role } => member_cmds::invite(&client, &out, &email, role),
        Command::Member(cmd) => member_cmds::member(&client, &out, cmd),
        Command::Diff(_) => unreachable_diff(),
        Command::Export { spec, out: dir } => {
            let spec = client.resolve_spec(&spec)?;
            // What is not downloaded yet comes first while online (as `diff` does); offline, the
            // export names the revision that is missing.
            let numbers: Vec<u32> = client.revisions(spec)?.iter().map(|r| r.number).collect();
            sync_cmds::fetch_quietly(&client, spec, &numbers);
            out.exported(&client.export_spec(spec, &dir)?)
        }
        Command::Import { dir } => out.imported(&client.import_folder(&dir)?),
    }
}

/// `main` answers `diff` before opening a store; reaching `run` with it is a bug, reported
/// rather than panicking.
fn unreachable_diff() -> Result<()> {
    anyhow::bail!("internal error: diff reached the store commands")
}

fn spec_command(client: &std::sync::Arc<Client>, out: &output::Printer, cmd: SpecCommand) -> Result<()> {
    match cmd {
        SpecCommand::New { title, sections, criteria, due } => {
            let mut s = Sections::default();
            for (kind, text) in sections.read()? {
                *s.get_mut(kind) = text;
            }
            let id = client.create_spec(NewSpec { workspace_id: None, title, sections: s, criteria, due_date: due })?;
            out.id(&id.to_string())
        }
        SpecCommand::List { status } => {
            let mut specs = client.list_specs(None)?;
            if let Some(status) = status {
                specs.retain(|s| s.status == status);
            }
            out.spec_list(&specs)
        }
        SpecCommand::Show { spec } => out.spec_detail(&client.spec_detail(client.resolve_spec(&spec)?)?),
        SpecCommand::Edit { spec, title, sections, due, add, remove, set, moves } => {
            let id = client.resolve_spec(&spec)?;
            // Every input is read before the one write, so a missing file changes nothing.
            let edit = SpecEdit {
                title,
                sections: sections.read()?,
                due_date: due.map(|d| if d == "none" { None } else { Some(d) }),
                set_criteria: set,
                move_criteria: moves,
                remove_criteria: remove,
                add_criteria: add,
            };
            client.edit_spec(id, edit)?;
            out.done("updated")
        }
        SpecCommand::Assign { spec, email, remove } => {
            let id = client.resolve_spec(&spec)?;
            if remove {
                client.unassign(id, &email)?
            } else {
                client.assign(id, &email)?
            }
            out.done(if remove { "unassigned" } else { "assigned" })
        }
        SpecCommand::Status { spec, status, override_reason } => {
            let spec = client.resolve_spec(&spec)?;
            match override_reason {
                Some(reason) if status == SpecStatus::Accepted => client.accept_with_override(spec, &reason)?,
                Some(reason) if status == SpecStatus::Ready => client.mark_ready_with_override(spec, &reason)?,
                Some(_) => anyhow::bail!("--override only applies to moving a spec to ready or accepted"),
                None => client.set_status(spec, status)?,
            }
            out.done(status.as_str())
        }
        SpecCommand::End { spec, remove_from_workspace } => {
            member_cmds::end_engagement(client, out, client.resolve_spec(&spec)?, remove_from_workspace)
        }
    }
}

fn thread_command(client: &Client, out: &output::Printer, cmd: ThreadCommand) -> Result<()> {
    match cmd {
        ThreadCommand::New { spec, text, rev, file, lines, section } => {
            let spec = client.resolve_spec(&spec)?;
            let target = match (rev, file, lines, section) {
                (Some(revision), Some(path), Some((start, end)), _) => ThreadTarget::Lines { revision, path, start, end },
                (_, _, _, Some(section)) => ThreadTarget::Section(section),
                _ => ThreadTarget::Spec,
            };
            let id = client.create_thread(spec, target, &text_arg(&text)?)?;
            out.id(&id.to_string())
        }
        ThreadCommand::Reply { thread, text } => {
            let id = client.reply(client.resolve_thread(&thread)?, &text_arg(&text)?)?;
            out.id(&id.to_string())
        }
        ThreadCommand::Resolve { thread } => {
            client.set_thread_state(client.resolve_thread(&thread)?, ThreadEventKind::Resolve)?;
            out.done("resolved")
        }
        ThreadCommand::Reopen { thread, text } => {
            let text = text.map(|t| text_arg(&t)).transpose()?;
            client.reopen_claim(client.resolve_thread(&thread)?, text.as_deref())?;
            out.done("reopened")
        }
        ThreadCommand::Confirm { thread } => {
            client.confirm_claim(client.resolve_thread(&thread)?)?;
            out.done("confirmed (resolved)")
        }
        ThreadCommand::Show { thread } => out.thread(&client.thread(client.resolve_thread(&thread)?)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invite codes are base64url, so one in 32 starts with `-`; it must parse as the value.
    #[test]
    fn an_invite_code_starting_with_a_hyphen_is_a_value_not_a_flag() {
        let cli = Cli::try_parse_from([
            "handoff",
            "join",
            "--server",
            "http://127.0.0.1:8470",
            "--invite",
            "-_Vyg6OeH2kK3yUEUMg0XL9a-yE",
            "--email",
            "a@b.io",
            "--name",
            "A",
        ])
        .expect("parses");
        let Command::Join(args) = cli.command else { panic!("not a join") };
        assert!(format!("{args:?}").contains("invite: \"-_Vyg6OeH2kK3yUEUMg0XL9a-yE\""), "{args:?}");
    }
}
