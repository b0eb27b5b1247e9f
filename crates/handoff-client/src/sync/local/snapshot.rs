//! A canonical dump of the visible synced data, for comparing stores.

use rusqlite::Connection;

use handoff_core::*;

use crate::error::Result;
use crate::store::read;

impl crate::Client {
    /// A canonical JSON dump of the visible synced data (specs and everything attached,
    /// members), for comparing stores in tests and simulations.
    pub fn snapshot(&self) -> Result<serde_json::Value> {
        snapshot(&self.conn())
    }
}

/// A canonical dump of everything synced and visible, for comparing two stores (tests, the
/// simulation) and for support bundles: specs with criteria and assignees, deliverables,
/// revisions with manifests, threads with comments and history, reviews, viewed marks,
/// acceptance overrides, conflicts and members.
pub(crate) fn snapshot(conn: &Connection) -> Result<serde_json::Value> {
    let mut specs = Vec::new();
    let ids: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id FROM specs ORDER BY id")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
    };
    for id in ids {
        let spec_id: SpecId = read::parse("spec id", &id)?;
        let Some(spec) = read::spec(conn, spec_id)? else { continue };
        let mut threads = read::threads(conn, spec_id)?;
        threads.sort_by_key(|t| t.thread.id);
        for t in &mut threads {
            t.comments.sort_by_key(|c| c.id);
        }
        let mut reviews = read::reviews(conn, spec_id)?;
        reviews.sort_by_key(|r| r.id);
        let conflicts: Vec<String> = {
            let mut stmt = conn.prepare("SELECT record FROM conflicts WHERE spec_id = ?1 ORDER BY id")?;
            stmt.query_map([&id], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?
        };
        let viewed: Vec<(String, String, String, String, bool)> = {
            let mut stmt = conn.prepare(
                "SELECT reviewer, path, sha256, revision_id, viewed FROM viewed_files WHERE spec_id = ?1 ORDER BY reviewer, path",
            )?;
            stmt.query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<Result<_, _>>()?
        };
        specs.push(serde_json::json!({
            "acceptance_override": read::acceptance_override(conn, spec_id)?,
            "ready_override": read::ready_override(conn, spec_id)?,
            "viewed_files": viewed,
            "spec": spec,
            "deliverables": read::deliverables(conn, spec_id)?,
            "revisions": read::revisions(conn, spec_id)?,
            "threads": threads,
            "reviews": reviews,
            "conflicts": conflicts,
        }));
    }
    let members: Vec<(String, String, String, String)> = {
        let mut stmt = conn.prepare("SELECT workspace_id, user_id, email, role FROM members ORDER BY workspace_id, user_id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?.collect::<Result<_, _>>()?
    };
    Ok(serde_json::json!({ "specs": specs, "members": members }))
}
