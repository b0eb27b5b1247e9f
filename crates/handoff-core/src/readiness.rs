//! Spec readiness: could someone unfamiliar with the system pick this spec up today and
//! deliver something reviewable without a walkthrough? Each rule is a plain check over the
//! spec's text and state; the client draws them as a checklist and a score, and the server
//! refuses `spec.set_status → ready` while any fails (an owner may override on the record,
//! `spec.ready_override`). Both call [`readiness`], so they cannot disagree.
//!
//! Questions are threads a contractor opens on the spec or one of its sections
//! ([`is_question`]); one nobody else has answered and that is not resolved blocks readiness.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{Anchor, Criterion, Role, SectionKind, Sections, Timestamp};

/// One rule a spec must pass to be handed off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReadinessRule {
    /// The system context says enough for a newcomer to find their way.
    SystemContext,
    /// The API shape names an endpoint, a type or an example.
    ApiShape,
    /// At least one acceptance criterion.
    Criteria,
    /// Every criterion can be checked: no vague words, an observable outcome.
    CheckableCriteria,
    /// What is out of scope is stated.
    OutOfScope,
    /// No question from the contractor is waiting for an answer.
    QuestionsAnswered,
    /// Someone is assigned.
    Assignee,
    /// A due date is set.
    DueDate,
}

impl ReadinessRule {
    /// Every rule, in checklist order.
    pub const ALL: [ReadinessRule; 8] = [
        ReadinessRule::SystemContext,
        ReadinessRule::ApiShape,
        ReadinessRule::Criteria,
        ReadinessRule::CheckableCriteria,
        ReadinessRule::OutOfScope,
        ReadinessRule::QuestionsAnswered,
        ReadinessRule::Assignee,
        ReadinessRule::DueDate,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadinessRule::SystemContext => "system_context",
            ReadinessRule::ApiShape => "api_shape",
            ReadinessRule::Criteria => "criteria",
            ReadinessRule::CheckableCriteria => "checkable_criteria",
            ReadinessRule::OutOfScope => "out_of_scope",
            ReadinessRule::QuestionsAnswered => "questions_answered",
            ReadinessRule::Assignee => "assignee",
            ReadinessRule::DueDate => "due_date",
        }
    }

    /// The checklist line, as a person reads it.
    pub fn title(self) -> &'static str {
        match self {
            ReadinessRule::SystemContext => "System context of substance",
            ReadinessRule::ApiShape => "API shape: endpoints, types or an example",
            ReadinessRule::Criteria => "At least one acceptance criterion",
            ReadinessRule::CheckableCriteria => "Every criterion is checkable",
            ReadinessRule::OutOfScope => "Out of scope stated",
            ReadinessRule::QuestionsAnswered => "No unanswered questions",
            ReadinessRule::Assignee => "Assignee set",
            ReadinessRule::DueDate => "Due date set",
        }
    }
}

impl fmt::Display for ReadinessRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RuleCheck {
    /// The rule.
    pub rule: ReadinessRule,
    /// Its checklist line.
    pub title: String,
    /// Whether it holds.
    pub passed: bool,
    /// What fails and what to do, one sentence each; empty when it passes.
    pub problems: Vec<String>,
}

/// Every rule's result for one spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Readiness {
    /// One per rule, in [`ReadinessRule::ALL`] order.
    pub checks: Vec<RuleCheck>,
    /// How many pass.
    pub passed: u32,
    /// How many there are.
    pub total: u32,
}

impl Readiness {
    /// Whether every rule holds.
    pub fn is_ready(&self) -> bool {
        self.passed == self.total
    }

    /// The rules that fail, in checklist order.
    pub fn failing(&self) -> Vec<ReadinessRule> {
        self.checks.iter().filter(|c| !c.passed).map(|c| c.rule).collect()
    }

    /// The failing rules and their first problem, for an error message.
    pub fn explain(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| match c.problems.first() {
                Some(p) => format!("{}: {p}", c.title),
                None => c.title.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What the rules read.
#[derive(Clone, Copy, Debug)]
pub struct ReadinessInput<'a> {
    /// The spec's sections.
    pub sections: &'a Sections,
    /// Its criteria, in order.
    pub criteria: &'a [Criterion],
    /// Emails of its assignees.
    pub assignees: &'a [String],
    /// Its due date.
    pub due_date: Option<&'a str>,
    /// The first line of each open question.
    pub open_questions: &'a [String],
}

/// Fewer words than this in the system context cannot orient a newcomer.
pub const SYSTEM_CONTEXT_MIN_WORDS: usize = 25;

/// Checks every rule.
pub fn readiness(input: ReadinessInput<'_>) -> Readiness {
    let checks: Vec<RuleCheck> = ReadinessRule::ALL
        .into_iter()
        .map(|rule| {
            let problems = problems_of(rule, &input);
            RuleCheck { rule, title: rule.title().into(), passed: problems.is_empty(), problems }
        })
        .collect();
    let passed = checks.iter().filter(|c| c.passed).count() as u32;
    Readiness { total: checks.len() as u32, passed, checks }
}

fn problems_of(rule: ReadinessRule, input: &ReadinessInput<'_>) -> Vec<String> {
    let s = input.sections;
    match rule {
        ReadinessRule::SystemContext => {
            let text = &s.system_context;
            if let Some(p) = unfinished(SectionKind::SystemContext, text) {
                return vec![p];
            }
            let words = word_count(text);
            if words < SYSTEM_CONTEXT_MIN_WORDS {
                return vec![format!(
                    "the system context has {words} word{}: say what the system is, where this work fits and what it talks to (at least {SYSTEM_CONTEXT_MIN_WORDS} words)",
                    if words == 1 { "" } else { "s" }
                )];
            }
            Vec::new()
        }
        ReadinessRule::ApiShape => {
            if let Some(p) = unfinished(SectionKind::ApiShape, &s.api_shape) {
                return vec![p];
            }
            if !names_an_interface(&s.api_shape) {
                return vec![
                    "the API shape names no endpoint, type or example: add one (GET /v1/…, a type with its fields, or a sample request and answer)"
                        .into(),
                ];
            }
            Vec::new()
        }
        ReadinessRule::Criteria => {
            if input.criteria.is_empty() {
                vec!["there is no acceptance criterion: add what a reviewer will check".into()]
            } else {
                Vec::new()
            }
        }
        ReadinessRule::CheckableCriteria => input
            .criteria
            .iter()
            .enumerate()
            .filter_map(|(i, c)| criterion_problem(&c.text).map(|p| format!("criterion {} “{}”: {p}", i + 1, excerpt(&c.text))))
            .collect(),
        ReadinessRule::OutOfScope => unfinished(SectionKind::OutOfScope, &s.out_of_scope).into_iter().collect(),
        ReadinessRule::QuestionsAnswered => {
            input.open_questions.iter().map(|q| format!("the question “{}” has no answer yet", excerpt(q))).collect()
        }
        ReadinessRule::Assignee => {
            if input.assignees.is_empty() {
                vec!["nobody is assigned: assign the contractor who will deliver it".into()]
            } else {
                Vec::new()
            }
        }
        ReadinessRule::DueDate => {
            if input.due_date.is_none() {
                vec!["there is no due date: set the day the deliverable is due".into()]
            } else {
                Vec::new()
            }
        }
    }
}

/// Words that stand in for unwritten text.
const PLACEHOLDERS: &[&str] = &["tbd", "tbc", "todo", "fixme", "lorem ipsum", "to be defined", "to be determined"];

/// An empty section, or one that still holds a placeholder.
fn unfinished(section: SectionKind, text: &str) -> Option<String> {
    let name = section.title();
    if text.trim().is_empty() {
        return Some(format!("the {name} section is empty"));
    }
    let words = normalized_words(text);
    PLACEHOLDERS
        .iter()
        .find(|p| contains_phrase(&words, p))
        .map(|p| format!("the {name} section still says “{}”: finish it", p.to_uppercase()))
}

/// An endpoint (`GET /path`, a `/v1/…` path), a type or signature, a code block, a JSON
/// object or a command line.
fn names_an_interface(text: &str) -> bool {
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    const TYPE_WORDS: [&str; 9] = ["struct", "interface", "type", "enum", "fn", "function", "message", "class", "schema"];
    const PRIMITIVES: [&str; 14] =
        ["string", "number", "integer", "int", "bool", "boolean", "u32", "u64", "i32", "i64", "f64", "float", "uuid", "bytes"];
    if text.contains("```") || text.contains("->") || text.contains("=>") {
        return true;
    }
    for line in text.lines() {
        let line = line.trim_start_matches(['-', '*', ' ', '\t', '`']);
        let mut tokens = line.split_whitespace();
        let first = tokens.next().unwrap_or("");
        let second = tokens.next().unwrap_or("");
        if METHODS.contains(&first) && (second.starts_with('/') || second.starts_with("http")) {
            return true;
        }
        if first == "$" && !second.is_empty() {
            return true;
        }
        if TYPE_WORDS.contains(&first) && second.chars().next().is_some_and(char::is_alphabetic) {
            return true;
        }
        // `name: string`, `"id": 7`
        if let Some((left, right)) = line.split_once(':') {
            let left = left.trim().trim_matches('"');
            let right = right.trim().trim_end_matches([',', ';']);
            let is_name = !left.is_empty() && left.chars().all(|c| c.is_alphanumeric() || c == '_');
            let right_word = right.split(|c: char| !c.is_alphanumeric()).next().unwrap_or("").to_lowercase();
            if is_name && (PRIMITIVES.contains(&right_word.as_str()) || right.starts_with('"') || right.starts_with('{')) {
                return true;
            }
        }
    }
    text.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '/');
        w.starts_with("/v") && w[2..].chars().next().is_some_and(|c| c.is_ascii_digit())
    })
}

/// Words that make a criterion impossible to check as written, and what to say instead.
const VAGUE: &[(&str, &str)] = &[
    ("fast", "say how fast: a number and how it is measured"),
    ("faster", "say how much faster, against what"),
    ("quick", "say how quick: a number and how it is measured"),
    ("quickly", "say how quickly: a number and how it is measured"),
    ("slow", "say what counts as slow: a number"),
    ("performant", "name the figure and how it is measured"),
    ("efficient", "name the figure: time, memory or size, and the limit"),
    ("scalable", "say to what: how many users, records or requests"),
    ("user-friendly", "say what a user can do, and how you would see it"),
    ("user friendly", "say what a user can do, and how you would see it"),
    ("intuitive", "say what a first-time user can do without help"),
    ("easy", "say what someone can do, in how many steps"),
    ("easily", "say what someone can do, in how many steps"),
    ("seamless", "say what the user sees at the boundary"),
    ("seamlessly", "say what the user sees at the boundary"),
    ("robust", "name the failures it must survive and what happens then"),
    ("nice", "say what a reviewer will look for"),
    ("good", "say what a reviewer will look for"),
    ("clean", "say what a reviewer will look for"),
    ("modern", "say what a reviewer will look for"),
    ("properly", "say what the right behaviour is"),
    ("reasonable", "name the limit"),
    ("etc", "list every case: a reviewer cannot check “etc.”"),
    ("and so on", "list every case: a reviewer cannot check “and so on”"),
    ("tbd", "decide it before handing off"),
    ("as needed", "say when it is needed"),
    ("as appropriate", "say what is appropriate"),
    ("if necessary", "say when it is necessary"),
];

/// Word stems of outcomes someone can observe: a criterion with none of these, and no
/// number, quote or code, describes a wish rather than a check.
const OBSERVABLE: &[&str] = &[
    "return", "respond", "answer", "show", "display", "print", "output", "exit", "log", "emit", "send", "sent", "receive",
    "store", "save", "write", "written", "read", "persist", "refus", "reject", "fail", "pass", "list", "contain", "include",
    "match", "equal", "appear", "render", "redirect", "open", "download", "upload", "creat", "delet", "remov", "updat", "sort",
    "rais", "throw", "error", "status", "count", "report", "notif", "compil", "build", "run", "produc", "accept", "allow",
    "block", "prevent", "deny", "denie", "validat", "export", "import", "load", "pars", "keep", "kept", "lose", "lost",
    "restart", "resum", "complet", "succeed", "exist", "given",
];

/// Why a criterion cannot be checked as written, if it cannot.
pub fn criterion_problem(text: &str) -> Option<String> {
    let words = normalized_words(text);
    if let Some((word, hint)) = VAGUE.iter().find(|(w, _)| contains_phrase(&words, w)) {
        return Some(format!("“{word}” is vague: {hint}"));
    }
    let has_number = text.chars().any(|c| c.is_ascii_digit());
    let has_literal = text.contains(['"', '`', '“', '\'']);
    let observable = words.iter().any(|w| OBSERVABLE.iter().any(|stem| w.starts_with(stem)));
    if has_number || has_literal || observable {
        None
    } else {
        Some("no observable outcome: say what someone can see, run or measure to check it".into())
    }
}

/// Lowercase words, hyphens kept inside a word.
fn normalized_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(|w| w.trim_matches('-').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the words hold `phrase`, one word or several in a row.
fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split(' ').collect();
    words.windows(wanted.len()).any(|win| win.iter().zip(&wanted).all(|(a, b)| a == b))
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
}

/// A text's first line, cut to a readable length.
pub fn excerpt(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        out.push('…');
    }
    out
}

/// Whether a thread is a question: opened on the spec or one of its sections by a contractor.
/// `author_role` is the opener's role in the workspace now (none once they left it).
pub fn is_question(anchor: &Anchor, author_role: Option<Role>) -> bool {
    matches!(anchor, Anchor::Spec | Anchor::SpecSection { .. }) && author_role == Some(Role::Contractor)
}

/// Who answered a question and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuestionAnswer {
    /// Email of who answered.
    pub by: String,
    /// When (the time shown for that reply).
    pub at: Timestamp,
}

/// A comment as [`answer_of`] reads it.
#[derive(Clone, Copy, Debug)]
pub struct ReplyRef<'a> {
    /// Its author's email.
    pub author: &'a str,
    /// The time it is shown at.
    pub at: Timestamp,
    /// Deleted: its text is gone, so it answers nothing.
    pub redacted: bool,
}

/// The answer to a question asked by `asker`: the first reply, in the order given (the
/// thread's order), by someone else that was not deleted.
pub fn answer_of(asker: &str, replies: &[ReplyRef<'_>]) -> Option<QuestionAnswer> {
    replies.iter().find(|r| r.author != asker && !r.redacted).map(|r| QuestionAnswer { by: r.author.to_owned(), at: r.at })
}

/// Whether a question still blocks readiness: nobody else answered it and it is not resolved.
pub fn question_is_open(answer: Option<&QuestionAnswer>, resolved: bool) -> bool {
    answer.is_none() && !resolved
}

/// A thread as [`open_questions`] reads it.
#[derive(Clone, Debug)]
pub struct ThreadOfSpec<'a> {
    /// What it is about.
    pub anchor: &'a Anchor,
    /// Who opened it.
    pub asker: &'a str,
    /// The opener's role in the workspace now, if they are still a member.
    pub asker_role: Option<Role>,
    /// Whether it is resolved.
    pub resolved: bool,
    /// Its first comment's text.
    pub text: &'a str,
    /// Its comments, the first included, in the thread's order.
    pub comments: Vec<ReplyRef<'a>>,
}

/// The first line of every question that still blocks readiness, in the order given. The
/// client and the server both decide readiness from this.
pub fn open_questions(threads: &[ThreadOfSpec<'_>]) -> Vec<String> {
    threads
        .iter()
        .filter(|t| is_question(t.anchor, t.asker_role))
        .filter(|t| question_is_open(answer_of(t.asker, &t.comments).as_ref(), t.resolved))
        .map(|t| excerpt(t.text))
        .collect()
}

#[cfg(test)]
mod tests;
