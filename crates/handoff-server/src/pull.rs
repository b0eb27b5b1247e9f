//! Pull: every record the caller may see that changed after their cursors, in version order,
//! in pages that end on commit boundaries. Runs in one read transaction, so visibility and
//! data come from the same snapshot.

use std::collections::{BTreeMap, HashSet};

use handoff_core::Role;
use handoff_core::protocol::{MAX_PULL_LIMIT, PullRequest, Record, Scope, ScopePage};

use crate::error::Result;
use crate::storage::{Sql, queries};

/// The scopes `user` can see right now, with their versions.
pub async fn visible_scopes(db: &mut dyn Sql, user: &str) -> Result<BTreeMap<Scope, u64>> {
    let mut out = BTreeMap::new();
    for (ws, member) in queries::memberships(db, user).await? {
        let ws_id = ws.id.to_string();
        let ws_scope = Scope::Workspace(ws.id);
        if let Some(v) = queries::scope_version(db, &ws_scope.to_string()).await? {
            out.insert(ws_scope, v as u64);
        }
        let specs = match member.role {
            Role::Owner | Role::Reviewer => queries::spec_scopes(db, &ws_id).await?,
            Role::Contractor => queries::assigned_spec_scopes(db, &ws_id, &member.email).await?,
        };
        for (scope, version) in specs {
            out.insert(queries::parse::<Scope>(&scope)?, version as u64);
        }
    }
    Ok(out)
}

/// Whether `user` can see `scope` now.
pub async fn can_see(db: &mut dyn Sql, user: &str, scope: &Scope) -> Result<bool> {
    let Some(ws) = queries::scope_workspace(db, &scope.to_string()).await? else { return Ok(false) };
    let Some(member) = queries::member(db, &ws, user).await? else { return Ok(false) };
    Ok(match (scope, member.role) {
        (Scope::Workspace(_), _) | (Scope::Spec(_), Role::Owner | Role::Reviewer) => true,
        (Scope::Spec(_), Role::Contractor) => queries::is_assigned(db, &scope.to_string(), &member.email).await?,
    })
}

/// The subset of `hashes` that `user` may read: blobs they uploaded, and blobs a revision
/// references in a scope they can see. A blob that exists only elsewhere is not theirs to
/// read, reference or even learn of.
pub async fn readable_blobs(db: &mut dyn Sql, user: &str, hashes: &[String]) -> Result<HashSet<String>> {
    let mut readable = queries::blobs_uploaded_by(db, hashes, user).await?;
    let mut seen: BTreeMap<String, bool> = BTreeMap::new();
    let rest: Vec<&String> = hashes.iter().filter(|h| !readable.contains(*h)).collect();
    for h in rest {
        for scope in queries::blob_scopes(db, h).await? {
            let visible = match seen.get(&scope) {
                Some(v) => *v,
                None => {
                    let v = can_see(db, user, &queries::parse::<Scope>(&scope)?).await?;
                    seen.insert(scope, v);
                    v
                }
            };
            if visible {
                readable.insert(h.clone());
                break;
            }
        }
    }
    Ok(readable)
}

fn parse_records(data: impl IntoIterator<Item = String>) -> Result<Vec<Record>> {
    data.into_iter().map(|d| Ok(serde_json::from_str(&d)?)).collect()
}

/// One page of changes for `user`, of at most `req.limit` records and `max_bytes` of record
/// JSON (a single commit larger than either still comes whole); `more` when something was left
/// for the next pull.
pub async fn pull(db: &mut dyn Sql, user: &str, req: &PullRequest, max_bytes: usize) -> Result<(Vec<ScopePage>, bool)> {
    let limit = if req.limit == 0 { MAX_PULL_LIMIT } else { req.limit.min(MAX_PULL_LIMIT) } as usize;
    let visible = visible_scopes(db, user).await?;
    let mut pages = Vec::new();
    // Lost access: the client drops the scope (keeping its unsent edits as rejected).
    for scope in req.cursors.keys().filter(|s| !visible.contains_key(s)) {
        pages.push(ScopePage { scope: *scope, reset: true, to_version: 0, records: Vec::new() });
    }
    let mut used = 0usize;
    let mut used_bytes = 0usize;
    let mut more = false;
    for (scope, version) in &visible {
        let mut cursor = req.cursors.get(scope).copied().unwrap_or(0);
        // A cursor from the future means another history (a restored backup): start over.
        let reset = cursor > *version;
        if reset {
            cursor = 0;
        }
        if cursor == *version {
            continue;
        }
        let remaining = limit.saturating_sub(used);
        if remaining == 0 {
            more = true;
            break;
        }
        let s = scope.to_string();
        let rows = queries::records_after(db, &s, cursor as i64, remaining as i64 + 1).await?;
        // The first record that does not fit, by count or by bytes.
        let mut bytes = used_bytes;
        let overflow = rows.iter().position(|(_, d)| {
            bytes += d.len();
            bytes > max_bytes
        });
        let overflow = match overflow {
            Some(i) => Some(i.min(remaining)),
            None => (rows.len() > remaining).then_some(remaining),
        };
        let (records, to_version, cut) = if let Some(first_out) = overflow {
            // Cut before the first version that does not fit whole.
            let boundary = rows[first_out].0;
            let whole: Vec<String> = rows.into_iter().take_while(|(v, _)| *v < boundary).map(|(_, d)| d).collect();
            if !whole.is_empty() {
                used_bytes += whole.iter().map(String::len).sum::<usize>();
                (parse_records(whole)?, boundary as u64 - 1, true)
            } else if used > 0 {
                // The next commit alone is bigger than what is left of this page.
                more = true;
                break;
            } else {
                // A single commit larger than the limit still comes whole.
                let all = queries::records_at(db, &s, boundary).await?;
                used_bytes += all.iter().map(String::len).sum::<usize>();
                (parse_records(all)?, boundary as u64, true)
            }
        } else {
            used_bytes += rows.iter().map(|(_, d)| d.len()).sum::<usize>();
            (parse_records(rows.into_iter().map(|(_, d)| d))?, *version, false)
        };
        used += records.len();
        pages.push(ScopePage { scope: *scope, reset, to_version, records });
        if cut {
            more = true;
            break;
        }
    }
    Ok((pages, more))
}
