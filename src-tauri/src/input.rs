//! Argument shapes for commands whose client-side types are not wire types. Plain field
//! moves into the client's types; no rules here.

use handoff_client::{NewSpec, ThreadTarget};
use handoff_core::{SectionKind, Sections, WorkspaceId};
use serde::Deserialize;

/// What the "new spec" form sends.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct NewSpecInput {
    /// The workspace; the current one when absent.
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub workspace_id: Option<WorkspaceId>,
    /// The one-line title (required).
    pub title: String,
    /// Long sections.
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub sections: Option<Sections>,
    /// Acceptance criteria, in order.
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Due date, `YYYY-MM-DD`.
    #[serde(default)]
    #[cfg_attr(test, ts(optional))]
    pub due_date: Option<String>,
}

impl From<NewSpecInput> for NewSpec {
    fn from(i: NewSpecInput) -> Self {
        NewSpec {
            workspace_id: i.workspace_id,
            title: i.title,
            sections: i.sections.unwrap_or_default(),
            criteria: i.criteria,
            due_date: i.due_date,
        }
    }
}

/// Where a new thread points.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThreadTargetInput {
    /// The spec as a whole.
    Spec,
    /// One section.
    Section {
        /// The section.
        section: SectionKind,
    },
    /// The deliverable as a whole.
    Deliverable,
    /// Lines of a file in a revision.
    Lines {
        /// Revision number.
        revision: u32,
        /// File path.
        path: String,
        /// First line (1-based).
        start: u32,
        /// Last line.
        end: u32,
    },
}

impl From<ThreadTargetInput> for ThreadTarget {
    fn from(t: ThreadTargetInput) -> Self {
        match t {
            ThreadTargetInput::Spec => ThreadTarget::Spec,
            ThreadTargetInput::Section { section } => ThreadTarget::Section(section),
            ThreadTargetInput::Deliverable => ThreadTarget::Deliverable,
            ThreadTargetInput::Lines { revision, path, start, end } => ThreadTarget::Lines { revision, path, start, end },
        }
    }
}
