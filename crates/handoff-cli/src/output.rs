//! Printing: human text by default, JSON with `--json`. Errors always go to stderr.

use anyhow::Result;
use serde::Serialize;
use std::io::Write;

use handoff_client::{
    ClientError, Code, DraftView, EngagementEnd, ExportReport, ImportCounts, ImportReport, MemberView, OutboxEntry, QuestionView,
    RevisionSummary, SearchHit, SpecDetail, SpecSummary, StoreStatus, ThreadView, ViewedFiles,
};
use handoff_core::ledger::{Acceptance, Ledger};
use handoff_core::protocol::Invite;
use handoff_core::readiness::Readiness;
use handoff_core::{AcceptanceStatus, Anchor, DiffSide, Revision, SpecStatus, ThreadHistoryKind, Timestamp};

/// Prints results in the chosen form.
pub struct Printer {
    /// JSON instead of text.
    pub json: bool,
}

/// Prints a failure to stderr: `{code, message}` with `--json`, else `handoff: message`.
pub fn error(e: &anyhow::Error, json: bool) {
    let code = error_code(e);
    let message = chain_text(e);
    if json {
        let body = serde_json::json!({ "code": code, "message": message });
        eprintln!("{body}");
    } else {
        eprintln!("handoff: {message}");
    }
}

/// Whether a failure is standard output's reader having closed the pipe, directly or
/// through the JSON writer.
pub fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        let kind = match (cause.downcast_ref::<std::io::Error>(), cause.downcast_ref::<serde_json::Error>()) {
            (Some(io), _) => Some(io.kind()),
            (None, Some(json)) => json.io_error_kind(),
            (None, None) => None,
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, each said once: a cause whose text the message already holds
/// (errors that name their source in their own sentence) is not repeated.
fn chain_text(e: &anyhow::Error) -> String {
    let mut message = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
}

/// The typed code of a failure: the client's, the sync engine's or the keychain's, else
/// [`Code::Error`] for a failure outside the client (bad arguments, say).
fn error_code(e: &anyhow::Error) -> Code {
    if let Some(e) = e.downcast_ref::<handoff_client::SyncError>() {
        e.code()
    } else if let Some(e) = e.downcast_ref::<ClientError>() {
        e.code()
    } else if let Some(e) = e.downcast_ref::<handoff_client::CredentialError>() {
        e.code()
    } else {
        Code::Error
    }
}

/// `2026-11-28 17:40 UTC`, from milliseconds since the epoch (civil-from-days, no tz data).
/// The time shown for something written on someone's machine, saying what their clock said
/// when the server's receive time was shown instead.
fn shown(shown_at: Timestamp, authored: Timestamp, author_clock_off: bool) -> String {
    if author_clock_off {
        format!("{} (received by the server; the author's clock said {})", when(shown_at), when(authored))
    } else {
        when(shown_at)
    }
}

fn when(t: Timestamp) -> String {
    let [y, m, d, h, mi, _] = t.utc_fields();
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// A spec's line and its items, as the inbox prints them.
fn inbox_group(o: &mut dyn Write, g: &handoff_client::InboxGroup) -> std::io::Result<()> {
    writeln!(o, "{}  {} ({}) · {} unread", short(&g.spec_id), g.title, g.status.as_str(), g.unread)?;
    for i in &g.items {
        let mark = match (i.unread, i.handoff) {
            (true, true) => "▶",
            (true, false) => "•",
            _ => " ",
        };
        write!(o, "  {mark} {:<9}  {}", i.local_time, i.text)?;
        if let Some(q) = &i.quote {
            write!(o, ": “{q}”")?;
        }
        writeln!(o)?;
        if let Some(t) = &i.sender_time {
            writeln!(o, "    {:<9}  {t}", "")?;
        }
    }
    Ok(())
}

/// An id shortened for reading, still long enough to resolve: ids made in the same
/// millisecond (a review's threads) share their first 13 characters, so the version and
/// 12 random bits are kept too.
fn short(id: &impl ToString) -> String {
    id.to_string().chars().take(SHORT_ID).collect()
}

/// Characters of an id that [`short`] keeps.
const SHORT_ID: usize = 23;

impl Printer {
    fn emit<T: Serialize + ?Sized>(&self, value: &T, text: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        if self.json {
            serde_json::to_writer_pretty(&mut out, value)?;
            writeln!(out)?;
        } else {
            text(&mut out)?;
        }
        out.flush()?;
        Ok(())
    }

    /// A new entity's id.
    pub fn id(&self, id: &str) -> Result<()> {
        self.emit(&serde_json::json!({ "id": id }), |o| writeln!(o, "{id}"))
    }

    /// A change that has nothing to print but its success.
    pub fn done(&self, what: &str) -> Result<()> {
        self.emit(&serde_json::json!({ "ok": what }), |o| writeln!(o, "{what}"))
    }

    /// A spec's readiness checklist.
    pub fn readiness(&self, r: &Readiness) -> Result<()> {
        self.emit(r, |o| {
            if r.is_ready() {
                writeln!(o, "ready to hand off: {} of {} rules pass", r.passed, r.total)?;
            } else {
                writeln!(o, "not ready to hand off: {} of {} rules pass", r.passed, r.total)?;
            }
            for c in &r.checks {
                writeln!(o, "  {} {}", if c.passed { "✓" } else { "✗" }, c.title)?;
                for p in &c.problems {
                    writeln!(o, "      {p}")?;
                }
            }
            Ok(())
        })
    }

    /// The inbox, grouped by spec, saying what it left out and how to see it.
    pub fn inbox(&self, inbox: &handoff_client::Inbox) -> Result<()> {
        self.emit(inbox, |o| {
            if inbox.groups.is_empty() {
                return writeln!(o, "nothing new since you last looked (as of the last sync)");
            }
            writeln!(o, "{} unread", inbox.unread)?;
            for g in &inbox.groups {
                writeln!(o)?;
                inbox_group(o, g)?;
                if g.more > 0 {
                    let items = if g.more == 1 { "item" } else { "items" };
                    writeln!(o, "    … {} earlier unread {items}: handoff inbox --spec {}", g.more, short(&g.spec_id))?;
                }
            }
            if inbox.more_specs > 0 {
                let specs = if inbox.more_specs == 1 { "spec" } else { "specs" };
                writeln!(o)?;
                writeln!(
                    o,
                    "{} more {specs} with older unread items not listed: `handoff inbox read --all` marks everything read, `handoff inbox --spec SPEC` lists one",
                    inbox.more_specs
                )?;
            }
            writeln!(o)?;
            writeln!(o, "▶ hands work to you · • unread · `handoff inbox read SPEC` marks a spec read")
        })
    }

    /// One spec's inbox items (`handoff inbox --spec`).
    pub fn inbox_spec(&self, group: &handoff_client::InboxGroup, all: bool) -> Result<()> {
        self.emit(group, |o| {
            if group.items.is_empty() {
                let what = if all { "nothing by others" } else { "nothing new since you last looked" };
                return writeln!(o, "{}  {}: {what} (as of the last sync)", short(&group.spec_id), group.title);
            }
            inbox_group(o, group)?;
            if group.more > 0 {
                let items = if group.more == 1 { "item" } else { "items" };
                writeln!(o, "    … {} older unread {items} not listed (the newest {} are)", group.more, group.items.len())?;
            }
            writeln!(o)?;
            writeln!(o, "▶ hands work to you · • unread · `handoff inbox read {}` marks it read", short(&group.spec_id))
        })
    }

    /// Turnaround: per kind, then every turn.
    pub fn turnaround(&self, t: &handoff_client::Turnaround) -> Result<()> {
        self.emit(t, |o| {
            if t.turns.is_empty() {
                return writeln!(o, "no handoff has been answered yet");
            }
            writeln!(o, "{:<24}  {:>5}  {:>14}  {:>14}", "HANDOFF", "COUNT", "MEDIAN", "SLOWEST")?;
            for s in &t.summary {
                writeln!(o, "{:<24}  {:>5}  {:>14}  {:>14}", s.title, s.stats.count, s.median_text, s.max_text)?;
            }
            writeln!(o)?;
            writeln!(o, "in the receiver's working hours:")?;
            for turn in &t.turns {
                writeln!(
                    o,
                    "  {:<24}  {:>14}  {} · {} · {}",
                    turn.kind_title(),
                    turn.text,
                    turn.receiver_name,
                    when(turn.from),
                    turn.spec_title
                )?;
            }
            Ok(())
        })
    }

    /// The specs list.
    pub fn spec_list(&self, specs: &[SpecSummary]) -> Result<()> {
        self.emit(specs, |o| {
            if specs.is_empty() {
                return writeln!(o, "no specs yet: create one with `handoff spec new --title ...`");
            }
            writeln!(o, "{:<SHORT_ID$}  {:<17}  {:>4}  {:>4}  {:>4}  TITLE", "ID", "STATUS", "CRIT", "REVS", "OPEN")?;
            for s in specs {
                let pending = if s.pending_changes > 0 { format!("  ({} unsent)", s.pending_changes) } else { String::new() };
                writeln!(
                    o,
                    "{:<SHORT_ID$}  {:<17}  {:>4}  {:>4}  {:>4}  {}{}",
                    short(&s.id),
                    s.status.as_str(),
                    s.criteria,
                    s.revisions,
                    s.open_threads,
                    s.title,
                    pending
                )?;
            }
            Ok(())
        })
    }

    /// One spec in full.
    pub fn spec_detail(&self, d: &SpecDetail) -> Result<()> {
        self.emit(d, |o| {
            let s = &d.spec;
            writeln!(o, "{}  [{}]", s.title, s.status.as_str())?;
            writeln!(o, "id {}  ·  created by {} {}  ·  updated {}", s.id, s.created_by, when(s.created_at), when(s.updated_at))?;
            if !s.assignees.is_empty() {
                writeln!(o, "assigned to {}", s.assignees.join(", "))?;
            }
            if let Some(due) = &s.due_date {
                writeln!(o, "due {due}")?;
            }
            let next: Vec<&str> = d.permissions.next_statuses.iter().map(|s| s.as_str()).collect();
            writeln!(
                o,
                "you are {}; you may move it to: {}",
                d.role,
                if next.is_empty() { "—".into() } else { next.join(", ") }
            )?;
            if matches!(s.status, SpecStatus::Draft | SpecStatus::Ready) {
                write_readiness_line(o, &d.readiness)?;
            }
            if let Some(r) = &d.ready_override {
                let rules: Vec<&str> = r.failing.iter().map(|rule| rule.title()).collect();
                writeln!(
                    o,
                    "marked ready by {} {} by override: \"{}\" (failing then: {})",
                    r.by,
                    when(r.at),
                    r.reason,
                    rules.join("; ")
                )?;
            }
            for kind in handoff_core::SectionKind::ALL {
                let text = s.sections.get(kind);
                if !text.trim().is_empty() {
                    writeln!(o, "\n## {}\n{}", kind.as_str().replace('_', " "), text.trim_end())?;
                }
            }
            writeln!(o, "\n## acceptance criteria")?;
            for (i, c) in s.criteria.iter().enumerate() {
                writeln!(o, "{:>3}. {}", i + 1, c.text)?;
            }
            if !d.revisions.is_empty() {
                writeln!(o, "\n## revisions")?;
                for r in &d.revisions {
                    write_revision(o, r)?;
                }
            }
            if !d.threads.is_empty() {
                writeln!(o, "\n## threads")?;
                for t in &d.threads {
                    write_thread_head(o, t)?;
                }
            }
            if d.pending_changes > 0 {
                writeln!(o, "\n{} local change(s) not yet sent", d.pending_changes)?;
            }
            Ok(())
        })
    }

    /// A just-delivered revision.
    pub fn revision_delivered(&self, r: &RevisionSummary) -> Result<()> {
        self.emit(r, |o| {
            writeln!(
                o,
                "delivered revision {} ({} files, {} bytes){}",
                r.number,
                r.files,
                r.bytes,
                if r.number_confirmed { "" } else { ", not yet sent" }
            )
        })
    }

    /// What `export` wrote.
    pub fn exported(&self, r: &ExportReport) -> Result<()> {
        self.emit(r, |o| {
            writeln!(o, "exported '{}' to {}", r.title, r.folder)?;
            writeln!(
                o,
                "  {} revisions, {} patches, {} threads ({} comments), {} reviews; {} files, {} bytes, listed with their sha256 in manifest.json",
                r.revisions, r.patches, r.threads, r.comments, r.reviews, r.files, r.bytes
            )
        })
    }

    /// What `import` wrote and skipped.
    pub fn imported(&self, r: &ImportReport) -> Result<()> {
        let counts = |c: &ImportCounts| {
            format!(
                "{} spec, {} deliverables, {} revisions, {} threads, {} comments, {} reviews, {} acceptance overrides",
                c.specs, c.deliverables, c.revisions, c.threads, c.comments, c.reviews, c.acceptance_overrides
            )
        };
        self.emit(r, |o| {
            writeln!(o, "imported '{}' ({}) from {}", r.title, r.spec_id, r.folder)?;
            if r.live_spec_kept {
                writeln!(o, "  this spec is already here as a live spec: nothing of the folder was written over it")?;
            }
            writeln!(o, "  written: {}", counts(&r.imported))?;
            writeln!(o, "  skipped (already here): {}", counts(&r.skipped))?;
            writeln!(o, "  files: {} stored, {} already here", r.blobs_stored, r.blobs_present)?;
            if r.live_spec_kept { Ok(()) } else { writeln!(o, "  the spec is a read-only record on this machine") }
        })
    }

    /// A spec's revisions.
    pub fn revisions(&self, revisions: &[Revision]) -> Result<()> {
        self.emit(revisions, |o| {
            if revisions.is_empty() {
                return writeln!(o, "no revisions yet: deliver one with `handoff deliver SPEC DIR`");
            }
            for r in revisions {
                write_revision(o, &RevisionSummary::from(r))?;
            }
            Ok(())
        })
    }

    /// One thread.
    pub fn thread(&self, t: &ThreadView) -> Result<()> {
        self.emit(t, |o| {
            write_thread_head(o, t)?;
            for c in &t.comments {
                let body = if c.redacted { "(deleted)" } else { c.body.as_str() };
                writeln!(
                    o,
                    "  {} · {}{}{}\n    {}",
                    c.author,
                    shown(c.shown_at, c.created_at, c.author_clock_off),
                    c.sender_time.as_ref().map(|t| format!(" ({t})")).unwrap_or_default(),
                    if c.edited_at.is_some() { " (edited)" } else { "" },
                    body.replace('\n', "\n    ")
                )?;
            }
            write_history(o, t)
        })
    }

    /// Draft comments.
    pub fn drafts(&self, drafts: &[DraftView]) -> Result<()> {
        self.emit(drafts, |o| {
            if drafts.is_empty() {
                return writeln!(o, "no drafts: write one with `handoff comment SPEC REV --file PATH --lines A-B --text ...`");
            }
            for d in drafts {
                let on = match (&d.anchor, &d.thread_id) {
                    (Some(a), _) => anchor_text(a),
                    (None, Some(t)) => format!("reply in {}", short(t)),
                    (None, None) => String::new(),
                };
                let first = d.body.lines().next().unwrap_or("");
                writeln!(o, "  {}  r{} · {} · {}", short(&d.id), d.revision_number, on, first)?;
            }
            writeln!(o, "{} draft(s); publish them with `handoff review SPEC REV --verdict ...`", drafts.len())
        })
    }

    /// The acceptance ledger.
    pub fn ledger(&self, l: &Ledger) -> Result<()> {
        self.emit(l, |o| {
            let heads: Vec<String> = l.revisions.iter().map(|r| format!("r{}", r.number)).collect();
            writeln!(o, "{:<40}  {}", "CRITERION", heads.iter().map(|h| format!("{h:<10}")).collect::<String>())?;
            for row in &l.rows {
                let mut text: String = row.text.chars().take(38).collect();
                if row.removed {
                    text = format!("(removed) {text}").chars().take(38).collect();
                }
                let cells: String = row
                    .cells
                    .iter()
                    .map(|c| {
                        let marks: Vec<&str> = c.iter().map(|e| status_mark(e.status)).collect();
                        format!("{:<10}", if marks.is_empty() { "·".to_owned() } else { marks.join("/") })
                    })
                    .collect();
                writeln!(o, "{text:<40}  {cells}")?;
                for e in row.cells.iter().flatten().filter(|e| !e.note.is_empty() || e.evidence.is_some()) {
                    let evidence =
                        e.evidence.as_ref().map(|v| format!(" [{}:{}-{}]", v.path, v.start_line, v.end_line)).unwrap_or_default();
                    writeln!(o, "    r{} {}: {}{}", e.revision_number, e.reviewer, e.note, evidence)?;
                }
            }
            match &l.acceptance {
                Acceptance::Ready { reviewer, revision_number, .. } => {
                    writeln!(o, "\nready to accept: {reviewer}'s approving review of r{revision_number} settles every criterion")?
                }
                Acceptance::NotYet { reason } => writeln!(o, "\nnot ready to accept: {reason}")?,
            }
            if let Some(ov) = &l.override_ {
                writeln!(o, "accepted by override: {} on {}: {}", ov.by, when(ov.at), ov.reason)?;
            }
            Ok(())
        })
    }

    /// Viewed files of a revision.
    pub fn viewed(&self, v: &ViewedFiles) -> Result<()> {
        self.emit(v, |o| {
            for p in &v.viewed {
                writeln!(o, "  ✓ {p}")?;
            }
            writeln!(o, "{} of {} files viewed", v.viewed.len(), v.total)
        })
    }

    /// Search results.
    pub fn search(&self, hits: &[SearchHit]) -> Result<()> {
        self.emit(hits, |o| {
            if hits.is_empty() {
                return writeln!(o, "nothing found");
            }
            for h in hits {
                writeln!(o, "{:<9} {}  {}\n          {}", h.kind, short(&h.spec_id), h.spec_title, h.snippet.replace('\n', " "))?;
            }
            Ok(())
        })
    }

    /// The store status.
    pub fn status_text(&self, s: &StoreStatus) -> String {
        let mut buf = Vec::new();
        let o: &mut dyn Write = &mut buf;
        let _ = (|| -> std::io::Result<()> {
            writeln!(o, "data dir    {}", s.data_dir)?;
            writeln!(o, "acting as   {}", s.identity)?;
            writeln!(o, "server      {}", s.server.as_deref().unwrap_or("none (working offline; `handoff join` connects)"))?;
            if let Some(online) = s.online {
                writeln!(o, "connection  {}", if online { "online" } else { "offline (changes wait in the outbox)" })?;
            }
            writeln!(o, "last sync   {}", s.last_sync.map(when).unwrap_or_else(|| "never".into()))?;
            writeln!(o, "specs       {} in {} workspace(s)", s.specs, s.workspaces)?;
            writeln!(
                o,
                "outbox      {} pending, {} needing attention{}",
                s.pending,
                s.attention,
                if s.attention > 0 { " (`handoff attention`)" } else { "" }
            )?;
            write!(o, "blobs       {} ({} bytes)", s.blobs, s.blob_bytes)
        })();
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// A workspace's members.
    pub fn members(&self, members: &[MemberView]) -> Result<()> {
        self.emit(members, |o| {
            if members.is_empty() {
                return writeln!(o, "no members known here yet: run `handoff sync`");
            }
            for m in members {
                let me = if m.is_me { "  (you)" } else { "" };
                let state = if m.working_now { "working" } else { "off" };
                writeln!(
                    o,
                    "{:<10}  {}  <{}>  {} {} ({state}) · {} · {}{me}",
                    m.role.as_str(),
                    m.display_name,
                    m.email,
                    m.local_now.day_and_clock(),
                    m.local_now.offset_text(),
                    m.timezone,
                    m.hours_text
                )?;
            }
            Ok(())
        })
    }

    /// One's own time zone and working hours.
    pub fn profile(&self, p: &handoff_client::MyProfile) -> Result<()> {
        self.emit(p, |o| {
            writeln!(o, "time zone   {} (now {} {})", p.timezone, p.local_now.day_and_clock(), p.local_now.offset_text())?;
            writeln!(o, "hours       {} ({} now)", p.hours_text, if p.working_now { "working" } else { "off" })?;
            if p.unsent {
                writeln!(o, "not sent yet: it goes to the server with the next sync")?;
            }
            Ok(())
        })
    }

    /// An ended engagement, with what happened line by line.
    pub fn engagement_ended(&self, ended: &EngagementEnd, text: &str) -> Result<()> {
        self.emit(ended, |o| writeln!(o, "{text}"))
    }

    /// A new invite: the code is printed once, with what to do with it.
    pub fn invite(&self, invite: &Invite) -> Result<()> {
        self.emit(invite, |o| {
            writeln!(o, "invite for {} as {}: {}", invite.email, invite.role, invite.code)?;
            writeln!(
                o,
                "it works once, until {}; it is not shown again, so hand it over now (`handoff join --invite CODE …`)",
                when(invite.expires_at)
            )
        })
    }

    /// The outbox.
    pub fn outbox(&self, entries: &[OutboxEntry]) -> Result<()> {
        self.emit(entries, |o| {
            if entries.is_empty() {
                return writeln!(o, "outbox empty: everything is sent");
            }
            for e in entries {
                let state = match e.state {
                    handoff_client::OutboxState::Pending => "pending",
                    handoff_client::OutboxState::Attention => "ATTENTION",
                };
                writeln!(o, "{:>6}  {:<9}  {}  ({})", e.mutation_id, state, e.description, when(e.created_at))?;
                if let Some(err) = &e.last_error {
                    writeln!(o, "        {err}")?;
                }
            }
            Ok(())
        })
    }
}

fn write_revision(o: &mut dyn Write, r: &RevisionSummary) -> std::io::Result<()> {
    let provisional = if r.number_confirmed { "" } else { " (provisional number, not yet sent)" };
    writeln!(
        o,
        "  r{}  {} · {} files, {} bytes · {}{}{}",
        r.number,
        r.created_by,
        r.files,
        r.bytes,
        shown(r.shown_at, r.created_at, r.author_clock_off),
        r.sender_time.as_ref().map(|t| format!(" ({t})")).unwrap_or_default(),
        provisional
    )?;
    if !r.summary.trim().is_empty() {
        writeln!(o, "      {}", r.summary.trim().replace('\n', "\n      "))?;
    }
    Ok(())
}

fn anchor_text(a: &Anchor) -> String {
    match a {
        Anchor::Spec => "the spec".to_owned(),
        Anchor::SpecSection { section } => format!("section {}", section.as_str()),
        Anchor::RevisionLines { path, start_line, end_line, side, .. } => {
            let side = if *side == DiffSide::Old { " (old side)" } else { "" };
            format!("{path}:{start_line}-{end_line}{side}")
        }
        Anchor::Deliverable { .. } => "the deliverable".to_owned(),
    }
}

fn status_mark(s: AcceptanceStatus) -> &'static str {
    match s {
        AcceptanceStatus::Met => "met",
        AcceptanceStatus::NotMet => "NOT MET",
        AcceptanceStatus::NotApplicable => "n/a",
        AcceptanceStatus::Unchecked => "?",
    }
}

/// `readiness 6/8: missing Due date set; Every criterion is checkable`.
fn write_readiness_line(o: &mut dyn Write, r: &Readiness) -> std::io::Result<()> {
    if r.is_ready() {
        writeln!(o, "readiness {}/{}: ready to hand off", r.passed, r.total)
    } else {
        let failing: Vec<&str> = r.checks.iter().filter(|c| !c.passed).map(|c| c.title.as_str()).collect();
        writeln!(o, "readiness {}/{}: failing {} (see `handoff readiness`)", r.passed, r.total, failing.join("; "))
    }
}

fn write_thread_head(o: &mut dyn Write, t: &ThreadView) -> std::io::Result<()> {
    let first = t.comments.first().map(|c| c.body.lines().next().unwrap_or("")).unwrap_or("");
    let mut state = match (t.thread.resolved, t.claimed_in) {
        (true, _) => "resolved".to_owned(),
        (false, Some(n)) => format!("addressed in r{n} (claimed)"),
        (false, None) => "open".to_owned(),
    };
    match &t.question {
        Some(QuestionView { answer: Some(a), .. }) => state = format!("question answered by {} {}; {state}", a.by, when(a.at)),
        Some(QuestionView { answer: None, open: true }) => state = "question waiting for an answer".to_owned(),
        Some(QuestionView { answer: None, open: false }) => state = format!("question; {state}"),
        None => {}
    }
    writeln!(
        o,
        "  {}  [{}] on {} · {} comment(s) · {}",
        short(&t.thread.id),
        state,
        anchor_text(&t.thread.anchor),
        t.comments.len(),
        first
    )
}

fn write_history(o: &mut dyn Write, t: &ThreadView) -> std::io::Result<()> {
    for h in &t.history {
        let what = match h.kind {
            ThreadHistoryKind::Resolve => "resolved",
            ThreadHistoryKind::Reopen => "reopened",
            ThreadHistoryKind::Claim => "claimed as addressed by a revision",
        };
        writeln!(o, "  · {} {} {}", when(h.at), h.by, what)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::when(handoff_core::Timestamp::from_millis(0)), "1970-01-01 00:00 UTC");
        assert_eq!(super::when(handoff_core::Timestamp::from_millis(1_795_887_600_000)), "2026-11-28 17:40 UTC");
        assert_eq!(super::when(handoff_core::Timestamp::from_millis(951_782_400_000)), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn an_error_that_names_its_source_is_printed_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = anyhow::Error::new(handoff_client::ClientError::io("cannot read blob", "/x/blobs/8a/77")(io));
        let text = super::chain_text(&e);
        assert_eq!(text.matches("entity not found").count(), 1, "{text}");
        let wrapped = anyhow::Error::new(std::io::Error::other("inner cause")).context("outer");
        assert_eq!(super::chain_text(&wrapped), "outer: inner cause");
    }

    #[test]
    fn sizes_for_people_and_for_flags() {
        use crate::sync_cmds::{parse_size, size};
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(11_324_621), "10.8 MB");
        assert_eq!(parse_size("2GB"), Ok(2 << 30));
        assert_eq!(parse_size("500 MB"), Ok(500 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
