//! Where each line thread shows on the pair of revisions on screen. A thread is anchored to
//! lines of the revision it was made on; on a later pair it is carried with `handoff-diff`'s
//! anchor mapping (following renames) straight from that revision to the pair's newer side.
//! Nothing is hidden: a thread whose lines changed is outdated and shown with the excerpt it
//! was made on, one whose file is gone gets a section of its own, and one made on a revision
//! newer than the pair is listed apart.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use handoff_core::*;
use handoff_diff::{AnchorState, ManifestFile, RevisionDiffOptions, carry_anchors, diff_revisions};

use crate::Client;
use crate::error::{ClientError, Result};
use crate::store::read;

/// How a thread sits on the pair on screen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Placement {
    /// Its lines are unchanged: drawn at them.
    Current {
        /// The file's path on that side.
        path: String,
        /// Which side of the pair.
        side: DiffSide,
        /// First line, 1-based.
        start: u32,
        /// Last line, inclusive.
        end: u32,
    },
    /// Its lines changed since it was made: drawn at the nearest lines (when there are any),
    /// marked outdated, with the excerpt it was made on.
    Outdated {
        /// The file's path on that side.
        path: String,
        /// Which side of the pair.
        side: DiffSide,
        /// The nearest lines, if the file still has text there.
        lines: Option<(u32, u32)>,
        /// The lines as they were when the thread was made.
        excerpt: String,
    },
    /// Its file is not in the newer revision: shown in a section of its own.
    FileRemoved {
        /// The path it was made on.
        path: String,
        /// The lines as they were.
        excerpt: String,
    },
    /// Made on a revision newer than the pair's: shown apart, never hidden.
    Later {
        /// The path it was made on.
        path: String,
        /// The lines as they were.
        excerpt: String,
    },
}

/// A line thread placed on a pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PlacedThread {
    /// The thread.
    pub thread_id: ThreadId,
    /// The revision it was made on.
    pub made_on: u32,
    /// Where it shows.
    pub placement: Placement,
}

struct LineAnchor {
    thread_id: ThreadId,
    made_on: u32,
    path: String,
    start: u32,
    end: u32,
    excerpt: String,
}

impl Client {
    /// Where the spec's line threads show on the pair `from → to`.
    pub fn threads_on_pair(&self, spec_id: SpecId, from: u32, to: u32) -> Result<Vec<PlacedThread>> {
        self.spec(spec_id)?;
        let (number_of, threads) = {
            let conn = self.conn();
            (read::revision_numbers(&conn, spec_id)?, read::threads(&conn, spec_id)?)
        };
        let mut by_revision: BTreeMap<u32, Vec<LineAnchor>> = BTreeMap::new();
        for t in threads {
            if let Anchor::RevisionLines { revision_id, path, start_line, end_line, excerpt, .. } = t.thread.anchor {
                let Some(&made_on) = number_of.get(&revision_id) else { continue };
                by_revision.entry(made_on).or_default().push(LineAnchor {
                    thread_id: t.thread.id,
                    made_on,
                    path,
                    start: start_line,
                    end: end_line,
                    excerpt,
                });
            }
        }
        let mut out = Vec::new();
        for (made_on, anchors) in by_revision {
            if made_on == to {
                out.extend(anchors.into_iter().map(|a| placed(&a, current(&a.path, DiffSide::New, a.start, a.end))));
            } else if made_on > to {
                out.extend(
                    anchors
                        .into_iter()
                        .map(|a| placed(&a, Placement::Later { path: a.path.clone(), excerpt: a.excerpt.clone() })),
                );
            } else {
                out.extend(self.carry(spec_id, made_on, from, to, anchors)?);
            }
        }
        Ok(out)
    }

    /// Carries anchors made on revision `made_on` (older than `to`) onto the pair.
    fn carry(&self, spec_id: SpecId, made_on: u32, from: u32, to: u32, anchors: Vec<LineAnchor>) -> Result<Vec<PlacedThread>> {
        let (old, new) = (self.revision(spec_id, made_on)?.files, self.revision(spec_id, to)?.files);
        let manifest = |files: &[ManifestEntry]| -> Vec<ManifestFile> {
            files
                .iter()
                .map(|f| ManifestFile { path: f.path.clone(), sha256: f.sha256.clone(), size: f.size, executable: f.executable })
                .collect()
        };
        let (old, new) = (manifest(&old), manifest(&new));
        let mut contents: HashMap<String, Vec<u8>> = HashMap::new();
        let anchored: std::collections::HashSet<&str> = anchors.iter().map(|a| a.path.as_str()).collect();
        // Only what the anchors need: their files, and the new files that differ (candidates
        // for where a renamed file went).
        let wanted = old
            .iter()
            .filter(|f| anchored.contains(f.path.as_str()))
            .chain(new.iter().filter(|f| !old.iter().any(|o| o.path == f.path && o.sha256 == f.sha256)));
        for f in wanted {
            if !contents.contains_key(&f.sha256) && self.blobs().contains(&f.sha256) {
                contents.insert(f.sha256.clone(), self.blobs().read(&f.sha256)?);
            }
        }
        let diff = diff_revisions(&old, &new, &&contents, &RevisionDiffOptions::default())
            .map_err(|e| ClientError::Corrupt(e.to_string()))?;
        let wanted: Vec<handoff_diff::Anchor> = anchors
            .iter()
            .map(|a| handoff_diff::Anchor {
                path: a.path.clone(),
                start: a.start as usize,
                end: a.end as usize,
                text: a.excerpt.clone(),
            })
            .collect();
        let positions = carry_anchors(&wanted, &diff, &&contents).map_err(|e| ClientError::Corrupt(e.to_string()))?;
        Ok(anchors
            .iter()
            .zip(positions)
            .map(|(a, p)| {
                let excerpt = a.excerpt.clone();
                let placement = match (p.state, p.lines) {
                    (AnchorState::Current, Some(l)) => current(&p.path, DiffSide::New, l.start as u32, l.end as u32),
                    (AnchorState::FileRemoved, _) => Placement::FileRemoved { path: a.path.clone(), excerpt },
                    // Made on the pair's older side: shown exactly where it was made.
                    _ if a.made_on == from => {
                        Placement::Outdated { path: a.path.clone(), side: DiffSide::Old, lines: Some((a.start, a.end)), excerpt }
                    }
                    (_, lines) => Placement::Outdated {
                        path: p.path.clone(),
                        side: DiffSide::New,
                        lines: lines.map(|l| (l.start as u32, l.end as u32)),
                        excerpt,
                    },
                };
                placed(a, placement)
            })
            .collect())
    }
}

fn current(path: &str, side: DiffSide, start: u32, end: u32) -> Placement {
    Placement::Current { path: path.to_owned(), side, start, end }
}

fn placed(a: &LineAnchor, placement: Placement) -> PlacedThread {
    PlacedThread { thread_id: a.thread_id, made_on: a.made_on, placement }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CriterionInput, LineTarget};
    use std::path::Path;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/diff");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(name)).expect("the shared fixture")
    }

    fn deliver(c: &Client, spec: SpecId, files: &[(&str, &str)]) {
        let dir = tempfile::tempdir().expect("folder");
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        c.deliver(spec, dir.path(), "", vec![]).expect("deliver");
    }

    /// Publishes one line comment as a review of revision `reviewing`; returns its thread.
    fn thread(c: &Client, spec: SpecId, reviewing: u32, target: LineTarget) -> ThreadId {
        c.draft_line_comment(spec, reviewing, target, "remark").expect("draft");
        let review = c.publish_review(spec, reviewing, Verdict::Comment, "", Vec::<CriterionInput>::new()).expect("publish");
        let detail = c.spec_detail(spec).expect("detail");
        let r = detail.reviews.iter().find(|r| r.id == review).expect("the review");
        r.threads[0]
    }

    fn at(revision: u32, path: &str, start: u32, end: u32, side: DiffSide) -> LineTarget {
        LineTarget { revision, path: path.into(), start, end, side }
    }

    /// Real text through a rename, an edit inside an anchored range and a removed file.
    #[test]
    fn table_of_threads_carried_onto_pairs() {
        let dir = tempfile::tempdir().expect("data");
        let c = Client::open(dir.path()).expect("open");
        let spec = c.create_spec(crate::NewSpec { title: "FAQ".into(), ..Default::default() }).expect("spec");
        let (faq_old, faq_new) = (fixture("faq-md.old-small"), fixture("faq-md.new"));
        let mut faq_r3: Vec<&str> = faq_new.split_inclusive('\n').collect();
        faq_r3[3] = "  https://example.org/faq\n";
        let faq_r3 = faq_r3.concat();
        deliver(&c, spec, &[("docs/faq-draft.md", &faq_old), ("README.md", "Build it.\n"), ("notes.txt", "a\nb\nc\n")]);
        deliver(&c, spec, &[("docs/faq.md", &faq_new), ("README.md", "Build it.\n"), ("notes.txt", "a\nb\nc\n")]);
        deliver(&c, spec, &[("docs/faq.md", &faq_r3), ("notes.txt", "a\nb\nc\n")]);
        let title = thread(&c, spec, 1, at(1, "docs/faq-draft.md", 1, 1, DiffSide::New));
        let link = thread(&c, spec, 2, at(2, "docs/faq.md", 3, 5, DiffSide::New));
        let readme = thread(&c, spec, 1, at(1, "README.md", 1, 1, DiffSide::New));
        let later = thread(&c, spec, 3, at(3, "notes.txt", 2, 2, DiffSide::New));
        let old_notes = thread(&c, spec, 2, at(1, "notes.txt", 2, 2, DiffSide::Old));
        let excerpt =
            |from: usize, to: usize| -> String { faq_new.split_inclusive('\n').skip(from - 1).take(to - from + 1).collect() };
        let cur = |path: &str, side, start, end| Placement::Current { path: path.into(), side, start, end };
        use DiffSide::{New, Old};
        type Case = (&'static str, (u32, u32), ThreadId, Placement);
        let cases: Vec<Case> = vec![
            ("made on the newer side", (1, 2), link, cur("docs/faq.md", New, 3, 5)),
            ("an unchanged line follows the rename", (1, 2), title, cur("docs/faq.md", New, 1, 1)),
            ("and is carried two revisions on", (2, 3), title, cur("docs/faq.md", New, 1, 1)),
            (
                "an edited range on the older side stays where it was made",
                (2, 3),
                link,
                Placement::Outdated { path: "docs/faq.md".into(), side: Old, lines: Some((3, 5)), excerpt: excerpt(3, 5) },
            ),
            (
                "a removed file gets its own section",
                (2, 3),
                readme,
                Placement::FileRemoved { path: "README.md".into(), excerpt: "Build it.\n".into() },
            ),
            (
                "a thread made on a later revision",
                (1, 2),
                later,
                Placement::Later { path: "notes.txt".into(), excerpt: "b\n".into() },
            ),
            ("made on the old side of an earlier pair", (2, 3), old_notes, cur("notes.txt", New, 2, 2)),
        ];
        for (name, (from, to), id, want) in cases {
            let placed = c.threads_on_pair(spec, from, to).expect("placed");
            let got = placed.iter().find(|p| p.thread_id == id).map(|p| &p.placement);
            assert_eq!(got, Some(&want), "{name}");
        }
        // Carried across two steps (r1 → r3), an edited range is outdated at its nearest lines.
        let from_r1 = c.threads_on_pair(spec, 1, 3).expect("placed");
        let got = from_r1.iter().find(|p| p.thread_id == link).map(|p| p.placement.clone());
        assert!(matches!(got, Some(Placement::Outdated { side: New, lines: Some(_), .. })), "{got:?}");
        assert_eq!(c.threads_on_pair(spec, 2, 3).expect("placed").len(), 5, "no thread is hidden");
    }
}
