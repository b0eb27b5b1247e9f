//! The acceptance ledger (criteria × revisions, from the published reviews) and the rule it
//! decides: a spec may be accepted only when an approving review of its latest revision
//! settles every criterion (met, or not applicable) and no reviewer's review of that revision
//! asks for changes, unless an owner overrides it on the record. The client draws the ledger
//! and the server enforces the rule from the same function.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    AcceptanceOverride, AcceptanceStatus, CoreError, Criterion, CriterionId, Evidence, Review, ReviewId, RevisionId, Timestamp,
    Verdict,
};

/// A revision as the ledger needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerRevision {
    /// The revision.
    pub id: RevisionId,
    /// Its number.
    pub number: u32,
}

/// One reviewer's status for one criterion on one revision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerEntry {
    /// The review it comes from.
    pub review_id: ReviewId,
    /// Email of the reviewer.
    pub reviewer: String,
    /// The review's verdict.
    pub verdict: Verdict,
    /// The criterion's status in it.
    pub status: AcceptanceStatus,
    /// The reviewer's note.
    pub note: String,
    /// Where it can be seen.
    pub evidence: Option<Evidence>,
    /// The revision reviewed.
    pub revision_number: u32,
    /// When the review was published (the server's time when the reviewer's clock was far off).
    pub published_at: Timestamp,
}

/// One criterion's row: a cell per revision, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerRow {
    /// The criterion.
    pub criterion_id: CriterionId,
    /// Its text now, or as the latest review saw it if it was removed since.
    pub text: String,
    /// The criterion is no longer in the spec; the row stays for the record.
    pub removed: bool,
    /// Per revision (in the ledger's revision order), the reviews' statuses.
    pub cells: Vec<Vec<LedgerEntry>>,
    /// The most recently published status, on any revision.
    pub latest: Option<LedgerEntry>,
}

/// Whether the spec may be accepted now, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Acceptance {
    /// An approving review of the latest revision settles every criterion.
    Ready {
        /// That review.
        review_id: ReviewId,
        /// Its reviewer.
        reviewer: String,
        /// The latest revision's number.
        revision_number: u32,
    },
    /// Not yet; `reason` says what is missing.
    NotYet {
        /// What is missing, in the product's words.
        reason: String,
    },
}

/// The whole ledger of a spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Ledger {
    /// The columns, oldest first.
    pub revisions: Vec<LedgerRevision>,
    /// Current criteria in spec order, then removed ones that reviews referenced.
    pub rows: Vec<LedgerRow>,
    /// Whether the spec may be accepted.
    pub acceptance: Acceptance,
    /// The owner's override, when the spec was accepted by one.
    pub override_: Option<AcceptanceOverride>,
}

/// When a review counts as published: its reviewer's clock, or the server's when that clock
/// was far off (so a wrong clock cannot make an old review outrank a newer one).
fn published(r: &Review) -> Timestamp {
    crate::time::shown_time(r.published_at, r.received_at).0
}

/// Each reviewer's standing review per revision: the latest one they published on it.
fn standing(reviews: &[Review]) -> Vec<&Review> {
    let mut latest: BTreeMap<(RevisionId, &str), &Review> = BTreeMap::new();
    for r in reviews {
        let slot = latest.entry((r.revision_id, r.reviewer.as_str())).or_insert(r);
        if (published(r), r.id) > (published(slot), slot.id) {
            *slot = r;
        }
    }
    let mut out: Vec<&Review> = latest.into_values().collect();
    out.sort_by_key(|r| (published(r), r.id));
    out
}

/// Builds the ledger of a spec from its criteria, revisions and published reviews.
pub fn ledger(
    criteria: &[Criterion],
    revisions: &[LedgerRevision],
    reviews: &[Review],
    override_: Option<&AcceptanceOverride>,
) -> Ledger {
    let mut revisions = revisions.to_vec();
    revisions.sort_by_key(|r| r.number);
    let column: BTreeMap<RevisionId, usize> = revisions.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut rows: Vec<LedgerRow> = criteria
        .iter()
        .map(|c| LedgerRow {
            criterion_id: c.id,
            text: c.text.clone(),
            removed: false,
            cells: vec![Vec::new(); revisions.len()],
            latest: None,
        })
        .collect();
    let mut row_of: BTreeMap<CriterionId, usize> = rows.iter().enumerate().map(|(i, r)| (r.criterion_id, i)).collect();
    for review in standing(reviews) {
        let Some(&col) = column.get(&review.revision_id) else { continue };
        for v in &review.criteria {
            let row = *row_of.entry(v.criterion_id).or_insert_with(|| {
                rows.push(LedgerRow {
                    criterion_id: v.criterion_id,
                    text: String::new(),
                    removed: true,
                    cells: vec![Vec::new(); revisions.len()],
                    latest: None,
                });
                rows.len() - 1
            });
            let entry = LedgerEntry {
                review_id: review.id,
                reviewer: review.reviewer.clone(),
                verdict: review.verdict,
                status: v.status,
                note: v.note.clone(),
                evidence: v.evidence.clone(),
                revision_number: revisions[col].number,
                published_at: published(review),
            };
            let r = &mut rows[row];
            // A removed criterion shows the text its latest review saw.
            if r.removed && !v.text.is_empty() {
                r.text = v.text.clone();
            }
            r.cells[col].push(entry.clone());
            r.latest = Some(entry);
        }
    }
    let acceptance = acceptance(criteria, &revisions, reviews);
    Ledger { revisions, rows, acceptance, override_: override_.cloned() }
}

/// Whether a spec with these criteria, revisions and reviews may be accepted now.
pub fn acceptance(criteria: &[Criterion], revisions: &[LedgerRevision], reviews: &[Review]) -> Acceptance {
    let not_yet = |reason: String| Acceptance::NotYet { reason };
    let Some(latest) = revisions.iter().max_by_key(|r| r.number) else {
        return not_yet("no revision has been delivered".into());
    };
    let on_latest: Vec<&Review> = standing(reviews).into_iter().filter(|r| r.revision_id == latest.id).collect();
    if let Some(r) = on_latest.iter().find(|r| r.verdict == Verdict::RequestChanges) {
        return not_yet(format!("{} requested changes on revision {}", r.reviewer, latest.number));
    }
    let unsettled = |r: &Review| -> Vec<&Criterion> {
        criteria.iter().filter(|c| !r.criteria.iter().any(|v| v.criterion_id == c.id && v.status.settles())).collect()
    };
    let approving: Vec<&&Review> = on_latest.iter().filter(|r| r.verdict == Verdict::Approve).collect();
    if let Some(r) = approving.iter().rev().find(|r| unsettled(r).is_empty()) {
        return Acceptance::Ready { review_id: r.id, reviewer: r.reviewer.clone(), revision_number: latest.number };
    }
    match approving.last() {
        None => not_yet(format!("revision {} has no approving review", latest.number)),
        Some(r) => {
            let open = unsettled(r);
            let first = open.first().map(|c| c.text.as_str()).unwrap_or_default();
            let more = if open.len() > 1 { format!(" and {} more", open.len() - 1) } else { String::new() };
            not_yet(format!(
                "the approving review of revision {} by {} does not mark \"{first}\"{more} met or not applicable",
                latest.number, r.reviewer
            ))
        }
    }
}

/// Checks that a spec may move to accepted by review (not by override).
pub fn check_acceptance(criteria: &[Criterion], revisions: &[LedgerRevision], reviews: &[Review]) -> Result<(), CoreError> {
    match acceptance(criteria, revisions, reviews) {
        Acceptance::Ready { .. } => Ok(()),
        Acceptance::NotYet { reason } => Err(CoreError::NotAcceptable { reason }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CriterionVerdict;

    fn id<T: From<uuid::Uuid>>(n: u8) -> T {
        uuid::Uuid::from_bytes([n; 16]).into()
    }

    fn criterion(n: u8, text: &str) -> Criterion {
        Criterion { id: id(n), text: text.into() }
    }

    fn review(n: u8, revision: u8, reviewer: &str, verdict: Verdict, at: i64, statuses: &[(u8, AcceptanceStatus)]) -> Review {
        Review {
            id: id(n),
            revision_id: id(revision),
            spec_id: id(1),
            reviewer: reviewer.into(),
            verdict,
            summary: String::new(),
            criteria: statuses
                .iter()
                .map(|&(c, status)| CriterionVerdict {
                    criterion_id: id(c),
                    text: format!("criterion {c} as reviewed"),
                    status,
                    note: String::new(),
                    evidence: None,
                })
                .collect(),
            threads: vec![],
            replies: vec![],
            published_at: Timestamp::from_millis(at),
            received_at: None,
        }
    }

    const DAY: i64 = 86_400_000;

    /// `r` as the server received it at `at`.
    fn received(r: Review, at: i64) -> Review {
        Review { received_at: Some(Timestamp::from_millis(at)), ..r }
    }

    fn revs(n: u8) -> Vec<LedgerRevision> {
        (1..=n).map(|i| LedgerRevision { id: id(100 + i), number: u32::from(i) }).collect()
    }

    #[test]
    fn table_of_acceptance() {
        use AcceptanceStatus::*;
        use Verdict::*;
        let criteria = [criterion(10, "imports"), criterion(11, "exports")];
        let a = "a@x.io";
        let b = "b@x.io";
        type Case<'a> = (&'a str, u8, Vec<Review>, Result<&'a str, &'a str>);
        let cases: Vec<Case> = vec![
            ("nothing delivered", 0, vec![], Err("no revision has been delivered")),
            ("no review", 2, vec![], Err("revision 2 has no approving review")),
            (
                "approval on an older revision",
                2,
                vec![review(1, 101, a, Approve, 1, &[(10, Met), (11, Met)])],
                Err("revision 2 has no approving review"),
            ),
            ("every criterion met", 2, vec![review(1, 102, a, Approve, 1, &[(10, Met), (11, NotApplicable)])], Ok(a)),
            (
                "one criterion unchecked",
                2,
                vec![review(1, 102, a, Approve, 1, &[(10, Met), (11, Unchecked)])],
                Err("the approving review of revision 2 by a@x.io does not mark \"exports\" met or not applicable"),
            ),
            (
                "another reviewer asks for changes",
                2,
                vec![review(1, 102, a, Approve, 1, &[(10, Met), (11, Met)]), review(2, 102, b, RequestChanges, 2, &[])],
                Err("b@x.io requested changes on revision 2"),
            ),
            (
                "the same reviewer approves after asking for changes",
                2,
                vec![review(2, 102, a, RequestChanges, 1, &[]), review(3, 102, a, Approve, 2, &[(10, Met), (11, Met)])],
                Ok(a),
            ),
            (
                "a later comment replaces the approval",
                2,
                vec![review(3, 102, a, Approve, 1, &[(10, Met), (11, Met)]), review(4, 102, a, Comment, 2, &[])],
                Err("revision 2 has no approving review"),
            ),
            (
                "a later approval from a clock a year behind still replaces the request for changes",
                2,
                vec![
                    received(review(5, 102, a, RequestChanges, DAY, &[]), DAY),
                    received(review(6, 102, a, Approve, DAY - 365 * DAY, &[(10, Met), (11, Met)]), 2 * DAY),
                ],
                Ok(a),
            ),
        ];
        for (name, n, reviews, expected) in cases {
            let got = acceptance(&criteria, &revs(n), &reviews);
            let got = match &got {
                Acceptance::Ready { reviewer, .. } => Ok(reviewer.as_str()),
                Acceptance::NotYet { reason } => Err(reason.as_str()),
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn the_ledger_keeps_removed_criteria_with_the_text_reviews_saw() {
        use AcceptanceStatus::*;
        let criteria = [criterion(10, "imports")];
        let reviews = [
            review(1, 101, "a@x.io", Verdict::RequestChanges, 1, &[(10, NotMet), (12, Met)]),
            review(2, 102, "a@x.io", Verdict::Approve, 2, &[(10, Met)]),
        ];
        let l = ledger(&criteria, &revs(2), &reviews, None);
        assert_eq!(l.rows.len(), 2);
        assert_eq!((l.rows[0].text.as_str(), l.rows[0].removed), ("imports", false));
        assert_eq!(
            l.rows[0].cells.iter().map(|c| c.iter().map(|e| e.status).collect::<Vec<_>>()).collect::<Vec<_>>(),
            vec![vec![NotMet], vec![Met]]
        );
        assert_eq!(l.rows[0].latest.as_ref().map(|e| e.status), Some(Met));
        assert_eq!((l.rows[1].text.as_str(), l.rows[1].removed), ("criterion 12 as reviewed", true));
        assert!(matches!(l.acceptance, Acceptance::Ready { revision_number: 2, .. }));
    }
}
