//! Words for people: what a queued or refused change does, in the product's words
//! ("Assign ana@example.com to 'CSV export'"), never its wire name (`spec.assign`). The CLI and
//! the app show these wherever a change is listed (the outbox, the attention list).

use crate::model::{SectionKind, ThreadEventKind, Verdict};
use crate::mutation::Mutation;

/// The longest quote of a person's text kept in a description, in characters.
const QUOTE_CHARS: usize = 60;

/// A section's name in a sentence.
pub fn section_words(s: SectionKind) -> &'static str {
    match s {
        SectionKind::SystemContext => "system context",
        SectionKind::ApiShape => "API shape",
        SectionKind::OutOfScope => "out of scope",
        SectionKind::Notes => "notes",
    }
}

/// A verdict in a sentence.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Approve => "approve",
        Verdict::RequestChanges => "request changes",
        Verdict::Comment => "comment",
    }
}

/// `text` on one line, cut to [`QUOTE_CHARS`] with an ellipsis, in quotation marks.
fn quote(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = line.chars().take(QUOTE_CHARS).collect();
    if line.chars().count() > QUOTE_CHARS {
        cut = format!("{}…", cut.trim_end());
    }
    format!("“{cut}”")
}

/// A status in words: `in progress`.
pub fn status_words(s: crate::SpecStatus) -> String {
    s.as_str().replace('_', " ")
}

/// What `m` does, as a sentence without a final full stop. `spec_title` is the title of the
/// spec it targets as this client knows it (`None`: "a spec"), so a rename reads
/// "Rename 'Old' to 'New'".
pub fn describe(m: &Mutation, spec_title: Option<&str>) -> String {
    let spec = spec_title.map_or_else(|| "a spec".to_owned(), |t| format!("'{t}'"));
    let status = status_words;
    match m {
        Mutation::CreateSpec { title, .. } => format!("Create the spec '{title}'"),
        Mutation::SetTitle { title, .. } => format!("Rename {spec} to '{title}'"),
        Mutation::EditSection { section, .. } => format!("Edit the {} of {spec}", section_words(*section)),
        Mutation::SetDueDate { due_date: Some(d), .. } => format!("Set the due date of {spec} to {d}"),
        Mutation::SetDueDate { due_date: None, .. } => format!("Clear the due date of {spec}"),
        Mutation::SetStatus { from, to, .. } => format!("Move {spec} from {} to {}", status(*from), status(*to)),
        Mutation::Assign { email, .. } => format!("Assign {email} to {spec}"),
        Mutation::Unassign { email, .. } => format!("Unassign {email} from {spec}"),
        Mutation::AddCriterion { text, .. } => format!("Add the criterion {} to {spec}", quote(text)),
        Mutation::EditCriterion { text, .. } => format!("Change a criterion of {spec} to {}", quote(text)),
        Mutation::MoveCriterion { .. } => format!("Reorder the criteria of {spec}"),
        Mutation::RemoveCriterion { .. } => format!("Remove a criterion from {spec}"),
        Mutation::CreateDeliverable { .. } => format!("Start the deliverable of {spec}"),
        Mutation::CreateRevision { files, .. } => {
            let n = files.len();
            format!("Deliver a revision of {spec} ({n} file{})", if n == 1 { "" } else { "s" })
        }
        Mutation::CreateThread { body, .. } => format!("Open a thread on {spec}: {}", quote(body)),
        Mutation::AddComment { body, .. } => format!("Reply on {spec}: {}", quote(body)),
        Mutation::EditComment { body, .. } => format!("Edit a comment on {spec} to {}", quote(body)),
        Mutation::RedactComment { .. } => format!("Delete a comment on {spec}"),
        Mutation::SetThreadState { event: ThreadEventKind::Resolve, .. } => format!("Resolve a thread on {spec}"),
        Mutation::SetThreadState { event: ThreadEventKind::Reopen, .. } => format!("Reopen a thread on {spec}"),
        Mutation::PublishReview { verdict, .. } | Mutation::PublishReviewV2 { verdict, .. } => {
            format!("Publish a review of {spec}: {}", verdict_words(*verdict))
        }
        Mutation::SetFileViewed { path, viewed: true, .. } => format!("Mark {path} viewed in {spec}"),
        Mutation::SetFileViewed { path, viewed: false, .. } => format!("Mark {path} not viewed in {spec}"),
        Mutation::AcceptWithOverride { .. } => format!("Accept {spec} by an owner's override"),
        Mutation::ReadyWithOverride { .. } => format!("Mark {spec} ready by an owner's override"),
        Mutation::MarkRead { .. } => format!("Mark what happened on {spec} as read"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    fn id<T: From<uuid::Uuid>>(n: u8) -> T {
        uuid::Uuid::from_bytes([n; 16]).into()
    }

    #[test]
    fn every_kind_reads_as_a_sentence_without_its_wire_name() {
        let spec: SpecId = id(1);
        let (thread, comment, revision): (ThreadId, CommentId, RevisionId) = (id(2), id(3), id(4));
        let cases: Vec<(Mutation, &str)> = vec![
            (Mutation::Assign { spec_id: spec, email: "ana@example.com".into() }, "Assign ana@example.com to 'CSV export'"),
            (Mutation::Unassign { spec_id: spec, email: "ana@example.com".into() }, "Unassign ana@example.com from 'CSV export'"),
            (
                Mutation::SetTitle { spec_id: spec, title: "CSV and JSON export".into() },
                "Rename 'CSV export' to 'CSV and JSON export'",
            ),
            (
                Mutation::EditSection { spec_id: spec, section: SectionKind::ApiShape, base: String::new(), text: "x".into() },
                "Edit the API shape of 'CSV export'",
            ),
            (
                Mutation::SetStatus { spec_id: spec, from: SpecStatus::Ready, to: SpecStatus::InProgress },
                "Move 'CSV export' from ready to in progress",
            ),
            (Mutation::SetDueDate { spec_id: spec, due_date: None }, "Clear the due date of 'CSV export'"),
            (
                Mutation::AddComment {
                    comment_id: comment,
                    thread_id: thread,
                    spec_id: spec,
                    body: "Should the export\ninclude archived rows? We never said, and the old tool did include them by default"
                        .into(),
                    seen_events: 0,
                },
                "Reply on 'CSV export': “Should the export include archived rows? We never said, and…”",
            ),
            (
                Mutation::SetFileViewed {
                    spec_id: spec,
                    revision_id: revision,
                    path: "src/export.rs".into(),
                    sha256: String::new(),
                    viewed: true,
                },
                "Mark src/export.rs viewed in 'CSV export'",
            ),
        ];
        for (m, want) in cases {
            let got = describe(&m, Some("CSV export"));
            assert_eq!(got, want);
            assert!(!got.contains(m.kind()), "{got} names the wire kind");
        }
        assert_eq!(
            describe(&Mutation::Assign { spec_id: spec, email: "ana@example.com".into() }, None),
            "Assign ana@example.com to a spec"
        );
    }
}
