//! Reviewing from the terminal: draft comments, publish a review with them, the acceptance
//! ledger, viewed files, claims and acceptance by override. Thin over `handoff_client`.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};

use handoff_client::{Client, CriterionInput, LineTarget};
use handoff_core::{AcceptanceStatus, DiffSide, Evidence, Verdict};

use crate::output::Printer;
use crate::{criterion_position, parse_lines, parse_position, revision_number, text_arg};

/// `handoff comment`: a draft comment on lines of a revision's diff.
#[derive(Args, Debug)]
pub struct CommentArgs {
    /// The spec (id or unique prefix).
    spec: String,
    /// The revision under review.
    #[arg(value_parser = revision_number())]
    revision: u32,
    /// File path (with --lines): opens a thread on those lines.
    #[arg(long, requires = "lines", conflicts_with = "reply")]
    file: Option<String>,
    /// Line range A-B (or a single line A).
    #[arg(long, value_parser = parse_lines, requires = "file")]
    lines: Option<(u32, u32)>,
    /// Which side of the diff against the previous revision: new (this revision) or old (the
    /// one before it).
    #[arg(long, value_enum, default_value_t = SideArg::New)]
    side: SideArg,
    /// Reply to this thread instead (id or prefix).
    #[arg(long)]
    reply: Option<String>,
    /// The comment (`-` reads standard input).
    #[arg(long)]
    text: String,
}

/// A side of a diff, as typed.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SideArg {
    /// The older revision.
    Old,
    /// The revision under review.
    New,
}

/// `handoff draft`: change or delete a draft.
#[derive(Subcommand, Debug)]
pub enum DraftCommand {
    /// Replace a draft's text.
    Edit {
        /// The draft (id or prefix, from `handoff drafts`).
        draft: String,
        /// The new text (`-` reads standard input).
        #[arg(long)]
        text: String,
    },
    /// Delete a draft.
    Delete {
        /// The draft.
        draft: String,
    },
}

/// `handoff review`: publish a review with the drafts written on that revision.
#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The spec (id or unique prefix).
    spec: String,
    /// The revision's number.
    #[arg(value_parser = revision_number())]
    revision: u32,
    /// approve, request-changes or comment.
    #[arg(long, value_enum)]
    verdict: VerdictArg,
    /// The review's text.
    #[arg(long, default_value = "")]
    summary: String,
    /// A criterion's status: N=met|not-met|na, optionally with :NOTE and @PATH:A-B evidence
    /// (e.g. `2=met:covered by tests@src/lib.rs:10-40`). Repeatable; unlisted are unchecked.
    #[arg(long = "criterion", value_parser = parse_criterion)]
    criteria: Vec<CriterionInput>,
    /// Criteria that hold, by their number in `spec show` (shorthand for N=met).
    #[arg(long, value_delimiter = ',', value_parser = criterion_position())]
    met: Vec<usize>,
    /// Criteria that do not hold, by number (shorthand for N=not-met).
    #[arg(long, value_delimiter = ',', value_parser = criterion_position())]
    not_met: Vec<usize>,
}

/// A review's verdict, as typed.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum VerdictArg {
    /// Good to accept.
    Approve,
    /// Changes are needed.
    RequestChanges,
    /// Remarks only.
    Comment,
}

impl From<VerdictArg> for Verdict {
    fn from(v: VerdictArg) -> Self {
        match v {
            VerdictArg::Approve => Verdict::Approve,
            VerdictArg::RequestChanges => Verdict::RequestChanges,
            VerdictArg::Comment => Verdict::Comment,
        }
    }
}

/// `N=STATUS[:NOTE][@PATH:A-B]`.
fn parse_criterion(s: &str) -> Result<CriterionInput, String> {
    let (n, rest) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected N=met|not-met|na[:NOTE][@PATH:A-B]"))?;
    let position = parse_position(s, n)?;
    let (rest, evidence) = match rest.rsplit_once('@') {
        Some((head, link)) => (head, Some(parse_evidence(link).map_err(|e| format!("{s:?}: {e}"))?)),
        None => (rest, None),
    };
    let (status, note) = rest.split_once(':').unwrap_or((rest, ""));
    let status = match status.trim() {
        "met" => AcceptanceStatus::Met,
        "not-met" | "not_met" => AcceptanceStatus::NotMet,
        "na" | "n/a" | "not-applicable" => AcceptanceStatus::NotApplicable,
        "unchecked" => AcceptanceStatus::Unchecked,
        other => return Err(format!("{s:?}: unknown status {other:?}; expected met, not-met or na")),
    };
    Ok(CriterionInput { position, status, note: note.trim().to_owned(), evidence })
}

fn parse_evidence(link: &str) -> Result<Evidence, String> {
    let (path, lines) = link.rsplit_once(':').ok_or("evidence must be PATH:A-B")?;
    let (start_line, end_line) = parse_lines(lines)?;
    Ok(Evidence { path: path.to_owned(), start_line, end_line })
}

/// Runs `handoff comment`.
pub fn comment(client: &Client, out: &Printer, a: CommentArgs) -> Result<()> {
    let spec = client.resolve_spec(&a.spec)?;
    let text = text_arg(&a.text)?;
    let id = match (a.reply, a.file, a.lines) {
        (Some(thread), _, _) => client.draft_reply(a.revision, client.resolve_thread(&thread)?, &text)?,
        (None, Some(path), Some((start, end))) => {
            let (revision, side) = match a.side {
                SideArg::New => (a.revision, DiffSide::New),
                SideArg::Old => (previous(client, spec, a.revision)?, DiffSide::Old),
            };
            client.draft_line_comment(spec, a.revision, LineTarget { revision, path, start, end, side }, &text)?
        }
        _ => anyhow::bail!("say what the comment is on: --file PATH --lines A-B, or --reply THREAD"),
    };
    out.id(&id.to_string())
}

/// The revision before `number` (the old side of its diff).
fn previous(client: &Client, spec: handoff_core::SpecId, number: u32) -> Result<u32> {
    let older = client.revisions(spec)?.into_iter().map(|r| r.number).filter(|n| *n < number).max();
    older.ok_or_else(|| anyhow::anyhow!("revision {number} has no earlier revision, so its diff has no old side"))
}

/// Runs `handoff drafts`.
pub fn drafts(client: &Client, out: &Printer, spec: Option<String>) -> Result<()> {
    let spec = spec.map(|s| client.resolve_spec(&s)).transpose()?;
    out.drafts(&client.drafts(spec)?)
}

/// Runs `handoff draft edit|delete`.
pub fn draft(client: &Client, out: &Printer, cmd: DraftCommand) -> Result<()> {
    match cmd {
        DraftCommand::Edit { draft, text } => {
            client.edit_draft(client.resolve_draft(&draft)?, &text_arg(&text)?)?;
            out.done("draft changed")
        }
        DraftCommand::Delete { draft } => {
            client.delete_draft(client.resolve_draft(&draft)?)?;
            out.done("draft deleted")
        }
    }
}

/// Runs `handoff review`.
pub fn review(client: &Client, out: &Printer, a: ReviewArgs) -> Result<()> {
    let spec = client.resolve_spec(&a.spec)?;
    let mut criteria = a.criteria;
    for (positions, status) in [(a.met, AcceptanceStatus::Met), (a.not_met, AcceptanceStatus::NotMet)] {
        criteria.extend(positions.into_iter().map(|position| CriterionInput {
            position,
            status,
            note: String::new(),
            evidence: None,
        }));
    }
    let id = client.publish_review(spec, a.revision, a.verdict.into(), &a.summary, criteria)?;
    out.id(&id.to_string())
}

/// Runs `handoff viewed`: marks a file viewed (or not), or lists what is viewed.
pub fn viewed(client: &Client, out: &Printer, spec: String, revision: u32, path: Option<String>, undo: bool) -> Result<()> {
    let spec = client.resolve_spec(&spec)?;
    if let Some(path) = path {
        client.set_file_viewed(spec, revision, &path, !undo)?;
    }
    out.viewed(&client.viewed_files(spec, revision)?)
}
