//! The spec lifecycle and who may do what. Enforced on the server, mirrored on the client so
//! the UI only offers what will be accepted.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::CoreError;

/// A member's role in a workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Writes specs, moves any edge, manages members.
    Owner,
    /// Reviews deliverables and publishes verdicts; may write specs.
    Reviewer,
    /// Delivers on the specs assigned to them.
    Contractor,
}

impl Role {
    /// All roles, for tables and tests.
    pub const ALL: [Role; 3] = [Role::Owner, Role::Reviewer, Role::Contractor];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Reviewer => "reviewer",
            Role::Contractor => "contractor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| CoreError::UnknownValue {
            what: "role",
            value: s.chars().take(64).collect(),
            expected: "owner, reviewer, contractor",
        })
    }
}

/// Where a spec is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SpecStatus {
    /// Being written; not yet offered to anyone.
    Draft,
    /// Complete enough to hand off.
    Ready,
    /// A contractor is working on it.
    InProgress,
    /// A revision was delivered and awaits review.
    Delivered,
    /// A reviewer is reviewing the latest revision.
    InReview,
    /// The review asked for changes.
    ChangesRequested,
    /// The work meets the acceptance criteria.
    Accepted,
    /// Done or abandoned; read-only.
    Closed,
}

impl SpecStatus {
    /// All statuses in lifecycle order.
    pub const ALL: [SpecStatus; 8] = [
        SpecStatus::Draft,
        SpecStatus::Ready,
        SpecStatus::InProgress,
        SpecStatus::Delivered,
        SpecStatus::InReview,
        SpecStatus::ChangesRequested,
        SpecStatus::Accepted,
        SpecStatus::Closed,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecStatus::Draft => "draft",
            SpecStatus::Ready => "ready",
            SpecStatus::InProgress => "in_progress",
            SpecStatus::Delivered => "delivered",
            SpecStatus::InReview => "in_review",
            SpecStatus::ChangesRequested => "changes_requested",
            SpecStatus::Accepted => "accepted",
            SpecStatus::Closed => "closed",
        }
    }

    /// Whether a spec in this status is read-only: nothing but its status may change (an
    /// owner's reopen), on the client and on the server alike.
    pub fn is_read_only(self) -> bool {
        self == SpecStatus::Closed
    }

    /// The roles that may move a spec from `self` to `to`; empty when the edge does not exist.
    pub fn roles_for_edge(self, to: SpecStatus) -> &'static [Role] {
        use Role::*;
        use SpecStatus::*;
        match (self, to) {
            (Draft, Ready) | (Ready, Draft) => &[Owner, Reviewer],
            (Ready, InProgress) => &[Owner, Contractor],
            (InProgress, Delivered) | (ChangesRequested, Delivered) => &[Owner, Contractor],
            (ChangesRequested, InProgress) => &[Owner, Contractor],
            (Delivered, InReview) => &[Owner, Reviewer],
            (InReview, ChangesRequested) | (InReview, Accepted) => &[Owner, Reviewer],
            (Accepted, Closed) => &[Owner],
            // Abandoning work, and bringing a closed spec back as a draft, are owner decisions.
            (Draft | Ready | InProgress | Delivered | InReview | ChangesRequested, Closed) => &[Owner],
            (Closed, Draft) => &[Owner],
            _ => &[],
        }
    }

    /// The statuses `role` may move a spec to from `self`, for the UI to offer.
    pub fn next_for(self, role: Role) -> Vec<SpecStatus> {
        SpecStatus::ALL.into_iter().filter(|to| self.roles_for_edge(*to).contains(&role)).collect()
    }

    /// Checks that `role` may move a spec from `self` to `to`.
    pub fn check_transition(self, to: SpecStatus, role: Role) -> Result<(), CoreError> {
        let roles = self.roles_for_edge(to);
        if roles.is_empty() {
            return Err(CoreError::InvalidTransition { from: self, to });
        }
        if !roles.contains(&role) {
            return Err(CoreError::TransitionNotAllowed { from: self, to, role });
        }
        Ok(())
    }
}

impl fmt::Display for SpecStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpecStatus {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace('-', "_");
        SpecStatus::ALL.into_iter().find(|st| st.as_str() == wanted).ok_or_else(|| CoreError::UnknownValue {
            what: "status",
            value: s.chars().take(64).collect(),
            expected: "draft, ready, in_progress, delivered, in_review, changes_requested, accepted, closed",
        })
    }
}

/// Something a member wants to do to a spec and what hangs off it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Create a spec in the workspace.
    CreateSpec,
    /// Change a spec's title, sections, criteria, due date.
    EditSpec,
    /// Add or remove assignees.
    AssignSpec,
    /// See the spec and everything attached to it.
    ReadSpec,
    /// Submit a revision of a deliverable.
    Deliver,
    /// Open threads, comment, resolve and reopen.
    Discuss,
    /// Publish a review with a verdict.
    Review,
    /// Invite and remove members.
    ManageMembers,
}

/// Whether a member with `role` may take `action` on a spec; `assigned` says whether the spec
/// is assigned to that member (contractors only see and act on their own specs).
pub fn may(role: Role, action: Action, assigned: bool) -> bool {
    use Action::*;
    match role {
        Role::Owner => true,
        Role::Reviewer => !matches!(action, ManageMembers | Deliver),
        Role::Contractor => assigned && matches!(action, ReadSpec | Deliver | Discuss),
    }
}

/// Whether `action` may touch a spec in `status`: a closed spec is read-only (its status
/// changes are checked by [`SpecStatus::check_transition`] instead, which lets an owner reopen).
pub fn may_in(status: SpecStatus, action: Action) -> bool {
    !status.is_read_only() || action == Action::ReadSpec
}

/// Checks [`may_in`].
pub fn check_in(status: SpecStatus, action: Action) -> Result<(), CoreError> {
    if may_in(status, action) { Ok(()) } else { Err(CoreError::SpecClosed) }
}

/// Whether a member may resolve a thread of a spec in `status`: owners and reviewers may, and
/// so may whoever opened it; a contractor otherwise marks it addressed by delivering a revision
/// that claims it, and a reviewer confirms the claim. Nothing is resolved on a closed spec.
pub fn may_resolve(role: Role, assigned: bool, opened_it: bool, status: SpecStatus) -> bool {
    may(role, Action::Discuss, assigned) && may_in(status, Action::Discuss) && (role != Role::Contractor || opened_it)
}

/// Checks [`may_resolve`].
pub fn check_resolve(role: Role, assigned: bool, opened_it: bool, status: SpecStatus) -> Result<(), CoreError> {
    check_in(status, Action::Discuss)?;
    if may_resolve(role, assigned, opened_it, status) {
        Ok(())
    } else {
        Err(CoreError::NotAllowed {
            role,
            action: "resolve a thread someone else opened (deliver a revision that claims it instead)".into(),
            assigned,
        })
    }
}

/// Checks [`may`], with an error that names the role and the action.
pub fn check(role: Role, action: Action, assigned: bool) -> Result<(), CoreError> {
    if may(role, action, assigned) {
        Ok(())
    } else {
        Err(CoreError::NotAllowed { role, action: format!("{action:?}"), assigned })
    }
}

/// What a member may do to one spec now, by the same rules the client and the server
/// enforce ([`may`] and [`SpecStatus::roles_for_edge`]), so a screen offers only what will be
/// accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SpecPermissions {
    /// Change the title, sections, criteria and due date.
    pub edit: bool,
    /// Add and remove assignees.
    pub assign: bool,
    /// Deliver a revision.
    pub deliver: bool,
    /// Open threads, reply, resolve and reopen.
    pub discuss: bool,
    /// Publish a review of a revision.
    pub review: bool,
    /// The statuses the member may move the spec to from where it is.
    pub next_statuses: Vec<SpecStatus>,
    /// Accepted is out of reach by review (the ledger is not settled) but this member is an
    /// owner who may accept by override, with a reason.
    pub accept_by_override: bool,
    /// Ready is out of reach (readiness rules fail) but this member is an owner who may
    /// mark it ready by override, with a reason.
    pub ready_by_override: bool,
    /// End the engagement: unassign the contractors and close the spec (and, separately,
    /// remove them from the workspace).
    pub end_engagement: bool,
}

impl SpecPermissions {
    /// What a member with `role` may do to a spec in `status`; `assigned` says whether the
    /// spec is assigned to them (a contractor acts only on their own specs). A closed spec
    /// offers nothing but the owner's reopen.
    pub fn of(role: Role, assigned: bool, status: SpecStatus) -> Self {
        let can = |action| may(role, action, assigned) && may_in(status, action);
        Self {
            edit: can(Action::EditSpec),
            assign: can(Action::AssignSpec),
            deliver: can(Action::Deliver),
            discuss: can(Action::Discuss),
            review: can(Action::Review),
            next_statuses: if can(Action::ReadSpec) { status.next_for(role) } else { Vec::new() },
            accept_by_override: false,
            ready_by_override: false,
            end_engagement: can(Action::AssignSpec)
                && may(role, Action::ManageMembers, assigned)
                && status.roles_for_edge(SpecStatus::Closed).contains(&role),
        }
    }

    /// Nothing at all: what a read-only archive (an imported record) offers.
    pub fn none() -> Self {
        Self {
            edit: false,
            assign: false,
            deliver: false,
            discuss: false,
            review: false,
            next_statuses: Vec::new(),
            accept_by_override: false,
            ready_by_override: false,
            end_engagement: false,
        }
    }

    /// Folds in whether the acceptance ledger is settled (`crate::ledger::acceptance`): when
    /// it is not, accepted is not offered, and an owner who could move there is offered the
    /// override instead.
    pub fn with_acceptance(mut self, ready: bool, role: Role) -> Self {
        if !ready && let Some(i) = self.next_statuses.iter().position(|s| *s == SpecStatus::Accepted) {
            self.next_statuses.remove(i);
            self.accept_by_override = role == Role::Owner;
        }
        self
    }

    /// Folds in whether the spec passes its readiness rules (`crate::readiness`): when it
    /// does not, ready is not offered, and an owner who could move there is offered the
    /// override instead.
    pub fn with_readiness(mut self, ready: bool, role: Role) -> Self {
        if !ready && let Some(i) = self.next_statuses.iter().position(|s| *s == SpecStatus::Ready) {
            self.next_statuses.remove(i);
            self.ready_by_override = role == Role::Owner;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in SpecStatus::ALL {
            assert_eq!(s.as_str().parse::<SpecStatus>().expect("parses"), s);
            assert_eq!(serde_json::to_string(&s).expect("json"), format!("\"{}\"", s.as_str()));
        }
        assert_eq!("in-review".parse::<SpecStatus>().expect("dash form"), SpecStatus::InReview);
        assert!("shipped".parse::<SpecStatus>().is_err());
    }

    #[test]
    fn the_happy_path_is_walkable_by_the_right_roles() {
        use Role::*;
        use SpecStatus::*;
        let path = [
            (Draft, Ready, Owner),
            (Ready, InProgress, Contractor),
            (InProgress, Delivered, Contractor),
            (Delivered, InReview, Reviewer),
            (InReview, ChangesRequested, Reviewer),
            (ChangesRequested, Delivered, Contractor),
            (Delivered, InReview, Reviewer),
            (InReview, Accepted, Reviewer),
            (Accepted, Closed, Owner),
        ];
        for (from, to, role) in path {
            from.check_transition(to, role).expect("edge allowed");
        }
    }

    #[test]
    fn refused_edges_name_the_problem() {
        let err = SpecStatus::Draft.check_transition(SpecStatus::Accepted, Role::Owner).expect_err("no such edge");
        assert_eq!(err.to_string(), "a spec cannot move from draft to accepted");
        let err = SpecStatus::InReview.check_transition(SpecStatus::Accepted, Role::Contractor).expect_err("wrong role");
        assert_eq!(err.to_string(), "a contractor may not move a spec from in_review to accepted");
        assert_eq!(SpecStatus::Draft.next_for(Role::Contractor), vec![]);
        assert_eq!(SpecStatus::Draft.next_for(Role::Owner), vec![SpecStatus::Ready, SpecStatus::Closed]);
    }

    #[test]
    fn contractors_act_only_on_assigned_specs() {
        assert!(may(Role::Contractor, Action::Deliver, true));
        assert!(!may(Role::Contractor, Action::ReadSpec, false));
        assert!(!may(Role::Contractor, Action::EditSpec, true));
        assert!(!may(Role::Reviewer, Action::ManageMembers, true));
        assert!(may(Role::Reviewer, Action::ReadSpec, false));
    }

    #[test]
    fn table_of_who_may_resolve() {
        use Role::*;
        // (role, assigned, opened it, may resolve)
        let cases = [
            (Owner, false, false, true),
            (Reviewer, false, false, true),
            (Contractor, true, false, false),
            (Contractor, true, true, true),
            (Contractor, false, true, false),
        ];
        for (role, assigned, opened, expected) in cases {
            let open = SpecStatus::InReview;
            assert_eq!(may_resolve(role, assigned, opened, open), expected, "{role} assigned={assigned} opened={opened}");
            assert_eq!(check_resolve(role, assigned, opened, open).is_ok(), expected);
            assert!(!may_resolve(role, assigned, opened, SpecStatus::Closed), "nothing is resolved on a closed spec");
        }
    }

    #[test]
    fn permissions_follow_the_rules() {
        let contractor = SpecPermissions::of(Role::Contractor, true, SpecStatus::Ready);
        assert!(!contractor.edit && !contractor.assign && !contractor.review);
        assert!(contractor.deliver && contractor.discuss);
        assert_eq!(contractor.next_statuses, vec![SpecStatus::InProgress]);
        let stranger = SpecPermissions::of(Role::Contractor, false, SpecStatus::Ready);
        assert!(!stranger.deliver && !stranger.discuss && stranger.next_statuses.is_empty());
        let in_review = |role| SpecPermissions::of(role, false, SpecStatus::InReview);
        assert!(in_review(Role::Reviewer).next_statuses.contains(&SpecStatus::Accepted));
        let unsettled = in_review(Role::Reviewer).with_acceptance(false, Role::Reviewer);
        assert!(!unsettled.next_statuses.contains(&SpecStatus::Accepted) && !unsettled.accept_by_override);
        let owner = in_review(Role::Owner).with_acceptance(false, Role::Owner);
        assert!(!owner.next_statuses.contains(&SpecStatus::Accepted) && owner.accept_by_override);
        let settled = in_review(Role::Owner).with_acceptance(true, Role::Owner);
        assert!(settled.next_statuses.contains(&SpecStatus::Accepted) && !settled.accept_by_override);
        let draft = |role| SpecPermissions::of(role, false, SpecStatus::Draft);
        let failing_reviewer = draft(Role::Reviewer).with_readiness(false, Role::Reviewer);
        assert!(!failing_reviewer.next_statuses.contains(&SpecStatus::Ready) && !failing_reviewer.ready_by_override);
        let failing_owner = draft(Role::Owner).with_readiness(false, Role::Owner);
        assert!(!failing_owner.next_statuses.contains(&SpecStatus::Ready) && failing_owner.ready_by_override);
        let passing_owner = draft(Role::Owner).with_readiness(true, Role::Owner);
        assert!(passing_owner.next_statuses.contains(&SpecStatus::Ready) && !passing_owner.ready_by_override);
        let in_progress = SpecPermissions::of(Role::Owner, false, SpecStatus::InProgress).with_readiness(false, Role::Owner);
        assert!(!in_progress.ready_by_override, "readiness only gates the move to ready");
        for role in Role::ALL {
            let closed = SpecPermissions::of(role, true, SpecStatus::Closed);
            assert!(!closed.edit && !closed.assign && !closed.deliver && !closed.discuss && !closed.review, "{role}");
            let reopen = if role == Role::Owner { vec![SpecStatus::Draft] } else { vec![] };
            assert_eq!(closed.next_statuses, reopen, "{role}");
            assert!(!closed.end_engagement, "{role}: a closed spec's engagement has ended");
        }
        for status in SpecStatus::ALL.into_iter().filter(|s| *s != SpecStatus::Closed) {
            for role in Role::ALL {
                let ends = SpecPermissions::of(role, true, status).end_engagement;
                assert_eq!(ends, role == Role::Owner, "{role} on a {status} spec");
            }
        }
        assert_eq!(check_in(SpecStatus::Closed, Action::Deliver).map_err(|e| e.code()), Err(crate::ErrorCode::Forbidden));
        assert!(
            check_in(SpecStatus::Closed, Action::ReadSpec).is_ok() && check_in(SpecStatus::Accepted, Action::Deliver).is_ok()
        );
        let reviewer = SpecPermissions::of(Role::Reviewer, false, SpecStatus::Delivered);
        assert!(reviewer.edit && reviewer.review && !reviewer.deliver);
        assert_eq!(reviewer.next_statuses, vec![SpecStatus::InReview]);
    }
}
