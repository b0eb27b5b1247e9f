//! The Markdown half of an export: what a person reads with no Handoff installed. Every text
//! is a pure function of the exported records, so a re-export writes the same bytes.

use std::collections::HashMap;
use std::fmt::Write as _;

use handoff_core::ledger::{Acceptance, Ledger};
use handoff_core::time::shown_time;
use handoff_core::*;

use super::format::{ThreadDocument, patch_path, revision_dir};

/// `2026-11-28 17:40:05 UTC` from a timestamp (civil-from-days; no time zone data needed).
pub(crate) fn utc(t: Timestamp) -> String {
    let [y, m, d, h, mi, sec] = t.utc_fields();
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{sec:02} UTC")
}

/// The time to show for something written on someone's machine, saying so when the server's
/// receive time is shown because the author's clock was far off.
fn shown(authored: Timestamp, received: Option<Timestamp>) -> String {
    let (at, off) = shown_time(authored, received);
    if off { format!("{} (received by the server; the author's clock said {})", utc(at), utc(authored)) } else { utc(at) }
}

fn section_title(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::SystemContext => "System context",
        SectionKind::ApiShape => "API shape",
        SectionKind::OutOfScope => "Out of scope",
        SectionKind::Notes => "Notes and open questions",
    }
}

fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Approve => "approve",
        Verdict::RequestChanges => "request changes",
        Verdict::Comment => "comment",
    }
}

fn status_text(s: AcceptanceStatus) -> &'static str {
    match s {
        AcceptanceStatus::Unchecked => "unchecked",
        AcceptanceStatus::Met => "met",
        AcceptanceStatus::NotMet => "not met",
        AcceptanceStatus::NotApplicable => "not applicable",
    }
}

/// What a thread is about, in words, with revision numbers instead of ids.
fn anchor_text(anchor: &Anchor, numbers: &HashMap<RevisionId, u32>) -> String {
    match anchor {
        Anchor::Spec => "the spec as a whole".into(),
        Anchor::SpecSection { section } => format!("the spec's section \"{}\"", section_title(*section)),
        Anchor::Deliverable { .. } => "the deliverable as a whole".into(),
        Anchor::RevisionLines { revision_id, path, start_line, end_line, side, .. } => {
            let rev = numbers.get(revision_id).map_or_else(|| format!("revision {revision_id}"), |n| format!("revision {n}"));
            let lines =
                if start_line == end_line { format!("line {start_line}") } else { format!("lines {start_line}–{end_line}") };
            let side = match side {
                DiffSide::New => "",
                DiffSide::Old => " (old side of the diff)",
            };
            format!("`{path}` {lines} in {rev}{side}")
        }
    }
}

/// Quotes text as a Markdown block quote (an empty line stays a quote line).
fn quote(text: &str, out: &mut String) {
    for line in text.lines() {
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
}

/// Everything the Markdown needs, read once.
pub(crate) struct Engagement<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// Its workspace's name.
    pub workspace: &'a str,
    /// Revisions, by number.
    pub revisions: &'a [Revision],
    /// Threads with comments, oldest first.
    pub threads: &'a [ThreadDocument],
    /// Reviews, oldest first.
    pub reviews: &'a [Review],
    /// An owner's acceptance by override.
    pub acceptance_override: Option<&'a AcceptanceOverride>,
}

impl Engagement<'_> {
    fn numbers(&self) -> HashMap<RevisionId, u32> {
        self.revisions.iter().map(|r| (r.id, r.number)).collect()
    }

    /// `README.md`: what the folder is and how to use it without Handoff.
    pub fn readme(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# {} — Handoff export\n", self.spec.title);
        o.push_str(
            "This folder is the whole engagement on one spec, written by `handoff export`. It needs no \
             Handoff to read:\n\n\
             - `spec.md`: the spec (sections, acceptance criteria, status and its history).\n\
             - `ledger.md`: the acceptance ledger, each criterion's status per revision.\n\
             - `revisions/NNN/`: each revision's note (`revision.md`) and its files, whole (`files/`).\n\
             - `patches/NNN-MMM.patch`: what changed from one revision to the next, as a git patch. \
             From a copy of `revisions/001/files`, `git apply` each patch in order to get each later \
             revision (binary files are included as git binary patches).\n\
             - `threads/`: each discussion with its comments; `reviews/`: each published review.\n\
             - The `.json` files hold the same records for `handoff import`, which restores them \
             with their ids, authors and times.\n\
             - `manifest.json`: the sha256 of every other file; `handoff import` refuses a folder whose \
             files do not match it. Check by hand with `sha256sum`.\n",
        );
        o
    }

    /// `spec.md`.
    pub fn spec(&self) -> String {
        let s = self.spec;
        let mut o = String::new();
        let _ = writeln!(o, "# {}\n", s.title);
        let _ = writeln!(o, "- Spec id: `{}`", s.id);
        let _ = writeln!(o, "- Workspace: {}", if self.workspace.is_empty() { "(unnamed)" } else { self.workspace });
        let _ = writeln!(o, "- Status: **{}** (last change to the spec {})", s.status.as_str(), utc(s.updated_at));
        let _ = writeln!(o, "- Created by {} at {}", s.created_by, utc(s.created_at));
        let assignees = if s.assignees.is_empty() { "nobody".to_owned() } else { s.assignees.join(", ") };
        let _ = writeln!(o, "- Assigned to: {assignees}");
        if let Some(due) = &s.due_date {
            let _ = writeln!(o, "- Due: {due}");
        }
        for kind in SectionKind::ALL {
            let _ = writeln!(o, "\n## {}\n", section_title(kind));
            let text = s.sections.get(kind);
            if text.trim().is_empty() {
                o.push_str("(empty)\n");
            } else {
                o.push_str(text);
                if !text.ends_with('\n') {
                    o.push('\n');
                }
            }
        }
        o.push_str("\n## Acceptance criteria\n\n");
        if s.criteria.is_empty() {
            o.push_str("(none)\n");
        }
        for (i, c) in s.criteria.iter().enumerate() {
            let _ = writeln!(o, "{}. {} <!-- criterion {} -->", i + 1, c.text.replace('\n', " "), c.id);
        }
        o.push_str("\n## History\n\n");
        o.push_str(
            "Handoff records a spec's current status, not each change of it; this is the spec's \
             history as its records hold it, oldest first.\n\n",
        );
        for (_, line) in self.history() {
            let _ = writeln!(o, "- {line}");
        }
        o
    }

    /// Dated events of the engagement, oldest first (ties in a fixed order).
    fn history(&self) -> Vec<((Timestamp, u8, String), String)> {
        let numbers = self.numbers();
        let s = self.spec;
        let mut events =
            vec![((s.created_at, 0, s.id.to_string()), format!("{}: created by {}", utc(s.created_at), s.created_by))];
        for r in self.revisions {
            let (at, _) = shown_time(r.created_at, r.received_at);
            let note = if r.summary.is_empty() { String::new() } else { format!(": \"{}\"", r.summary.replace('\n', " ")) };
            events.push((
                (at, 1, r.id.to_string()),
                format!(
                    "{}: revision {} delivered by {} ({} files){note}",
                    shown(r.created_at, r.received_at),
                    r.number,
                    r.created_by,
                    r.files.len()
                ),
            ));
        }
        for t in self.threads {
            let th = &t.record.thread;
            let (at, _) = shown_time(th.created_at, th.received_at);
            events.push((
                (at, 2, th.id.to_string()),
                format!(
                    "{}: thread opened by {} on {}",
                    shown(th.created_at, th.received_at),
                    th.created_by,
                    anchor_text(&th.anchor, &numbers)
                ),
            ));
            for (i, h) in t.record.history.iter().enumerate() {
                let what = match h.kind {
                    ThreadHistoryKind::Resolve => "resolved".to_owned(),
                    ThreadHistoryKind::Reopen => "reopened".to_owned(),
                    ThreadHistoryKind::Claim => match h.revision_id.and_then(|r| numbers.get(&r)) {
                        Some(n) => format!("claimed as addressed by revision {n}"),
                        None => "claimed as addressed".to_owned(),
                    },
                };
                events.push((
                    (h.at, 3, format!("{}/{i:06}", th.id)),
                    format!("{}: thread {} {what} by {}", utc(h.at), th.id, h.by),
                ));
            }
        }
        for r in self.reviews {
            let (at, _) = shown_time(r.published_at, r.received_at);
            let rev = numbers.get(&r.revision_id).map_or_else(|| r.revision_id.to_string(), u32::to_string);
            events.push((
                (at, 4, r.id.to_string()),
                format!(
                    "{}: review of revision {rev} by {}: {}",
                    shown(r.published_at, r.received_at),
                    r.reviewer,
                    verdict_text(r.verdict)
                ),
            ));
        }
        if let Some(o) = self.acceptance_override {
            events.push(((o.at, 5, String::new()), format!("{}: accepted by override by {}: \"{}\"", utc(o.at), o.by, o.reason)));
        }
        events.push((
            (s.updated_at, 6, String::new()),
            format!("{}: last change to the spec; status now **{}**", utc(s.updated_at), s.status.as_str()),
        ));
        events.sort();
        events
    }

    /// `revisions/NNN/revision.md`.
    pub fn revision(&self, r: &Revision) -> String {
        let numbers = self.numbers();
        let mut o = String::new();
        let _ = writeln!(o, "# Revision {} of \"{}\"\n", r.number, self.spec.title);
        let _ = writeln!(o, "- Revision id: `{}`", r.id);
        let _ = writeln!(o, "- Delivered by {} at {}", r.created_by, shown(r.created_at, r.received_at));
        if !r.number_confirmed {
            o.push_str("- Its number was not confirmed by the server yet (it had not been sent when exported).\n");
        }
        if let Some(prev) = self.revisions.iter().filter(|p| p.number < r.number).map(|p| p.number).max() {
            let _ = writeln!(o, "- Changes since revision {prev}: `../../{}`", patch_path(prev, r.number));
        }
        if !r.addresses.is_empty() {
            o.push_str("- Claims to address threads:");
            for t in &r.addresses {
                let _ = write!(o, " `threads/{t}.md`");
            }
            o.push('\n');
        }
        o.push_str("\n## Note\n\n");
        if r.summary.trim().is_empty() {
            o.push_str("(none)\n");
        } else {
            quote(&r.summary, &mut o);
        }
        let _ = writeln!(o, "\n## Files ({})\n", r.files.len());
        o.push_str("| path | size | sha256 |\n| --- | ---: | --- |\n");
        for f in &r.files {
            let x = if f.executable { " (executable)" } else { "" };
            let _ = writeln!(o, "| `files/{}`{x} | {} | `{}` |", f.path.replace('|', "\\|"), f.size, f.sha256);
        }
        let _ = numbers;
        o
    }

    /// `threads/<id>.md`.
    pub fn thread(&self, t: &ThreadDocument) -> String {
        let numbers = self.numbers();
        let th = &t.record.thread;
        let mut o = String::new();
        let _ = writeln!(o, "# Thread on {}\n", anchor_text(&th.anchor, &numbers));
        let _ = writeln!(o, "- Thread id: `{}`", th.id);
        let _ = writeln!(o, "- Opened by {} at {}", th.created_by, shown(th.created_at, th.received_at));
        let _ = writeln!(o, "- State: {}", if th.resolved { "resolved" } else { "open" });
        if let Anchor::RevisionLines { excerpt, .. } = &th.anchor
            && !excerpt.is_empty()
        {
            o.push_str("\nThe lines as they were when the thread was opened:\n\n````\n");
            o.push_str(excerpt);
            if !excerpt.ends_with('\n') {
                o.push('\n');
            }
            o.push_str("````\n");
        }
        o.push_str("\n## Comments\n");
        for c in &t.comments {
            let _ = writeln!(o, "\n### {} at {}\n", c.author, shown(c.created_at, c.received_at));
            if c.redacted {
                o.push_str("(deleted by its author)\n");
            } else {
                quote(&c.body, &mut o);
                if let Some(e) = c.edited_at {
                    let _ = writeln!(o, "\n(edited {})", utc(e));
                }
            }
        }
        if !t.record.history.is_empty() {
            o.push_str("\n## History\n\n");
            for h in &t.record.history {
                let what = match h.kind {
                    ThreadHistoryKind::Resolve => "resolved".to_owned(),
                    ThreadHistoryKind::Reopen => "reopened".to_owned(),
                    ThreadHistoryKind::Claim => match h.revision_id.and_then(|r| numbers.get(&r)) {
                        Some(n) => format!("claimed as addressed by revision {n}"),
                        None => "claimed as addressed".to_owned(),
                    },
                };
                let _ = writeln!(o, "- {}: {what} by {}", utc(h.at), h.by);
            }
        }
        o
    }

    /// `reviews/<id>.md`.
    pub fn review(&self, r: &Review) -> String {
        let numbers = self.numbers();
        let rev = numbers.get(&r.revision_id).map_or_else(|| r.revision_id.to_string(), u32::to_string);
        let mut o = String::new();
        let _ = writeln!(o, "# Review of revision {rev} by {}\n", r.reviewer);
        let _ = writeln!(o, "- Review id: `{}`", r.id);
        let _ = writeln!(o, "- Verdict: **{}**", verdict_text(r.verdict));
        let _ = writeln!(o, "- Published at {}", shown(r.published_at, r.received_at));
        o.push_str("\n## Summary\n\n");
        if r.summary.trim().is_empty() {
            o.push_str("(none)\n");
        } else {
            quote(&r.summary, &mut o);
        }
        o.push_str("\n## Acceptance criteria\n\n");
        for c in &r.criteria {
            let _ = write!(o, "- **{}**: {}", status_text(c.status), c.text.replace('\n', " "));
            if !c.note.is_empty() {
                let _ = write!(o, " — {}", c.note.replace('\n', " "));
            }
            if let Some(e) = &c.evidence {
                let _ = write!(o, " (see `{}` lines {}–{})", e.path, e.start_line, e.end_line);
            }
            o.push('\n');
        }
        if !r.threads.is_empty() || !r.replies.is_empty() {
            o.push_str("\n## Comments\n\n");
            for t in &r.threads {
                let _ = writeln!(o, "- opened `../threads/{t}.md`");
            }
            for c in &r.replies {
                let thread = self.threads.iter().find(|t| t.comments.iter().any(|x| x.id == *c));
                match thread {
                    Some(t) => {
                        let _ = writeln!(o, "- replied in `../threads/{}.md`", t.record.thread.id);
                    }
                    None => {
                        let _ = writeln!(o, "- replied (comment `{c}`)");
                    }
                }
            }
        }
        o
    }

    /// `ledger.md`.
    pub fn ledger(&self, ledger: &Ledger) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "# Acceptance ledger of \"{}\"\n", self.spec.title);
        match &ledger.acceptance {
            Acceptance::Ready { reviewer, revision_number, .. } => {
                let _ = writeln!(
                    o,
                    "May be accepted: {reviewer}'s approving review of revision {revision_number} settles every criterion."
                );
            }
            Acceptance::NotYet { reason } => {
                let _ = writeln!(o, "Not ready for acceptance: {reason}");
            }
        }
        if let Some(ov) = &ledger.override_ {
            let _ = writeln!(o, "\nAccepted by override by {} at {}: \"{}\"", ov.by, utc(ov.at), ov.reason);
        }
        o.push_str("\n| criterion |");
        for r in &ledger.revisions {
            let _ = write!(o, " r{} |", r.number);
        }
        o.push_str("\n| --- |");
        for _ in &ledger.revisions {
            o.push_str(" --- |");
        }
        o.push('\n');
        for row in &ledger.rows {
            let removed = if row.removed { " (removed from the spec)" } else { "" };
            let _ = write!(o, "| {}{removed} |", row.text.replace('\n', " ").replace('|', "\\|"));
            for cell in &row.cells {
                let entries: Vec<String> = cell.iter().map(|e| format!("{} ({})", status_text(e.status), e.reviewer)).collect();
                let _ = write!(o, " {} |", if entries.is_empty() { "—".to_owned() } else { entries.join("; ") });
            }
            o.push('\n');
        }
        o
    }
}

/// The folder of a revision's files, relative to the export root.
pub(crate) fn files_dir(number: u32) -> String {
    format!("{}/files", revision_dir(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        assert_eq!(utc(Timestamp::from_millis(0)), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(Timestamp::from_millis(1_795_887_605_000)), "2026-11-28 17:40:05 UTC");
        assert_eq!(utc(Timestamp::from_millis(-1000)), "1969-12-31 23:59:59 UTC");
    }
}
