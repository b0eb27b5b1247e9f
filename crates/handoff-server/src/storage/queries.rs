//! Every SQL statement the server runs, written once for both backends, as typed functions
//! over [`Sql`]. Values from the network only ever travel as parameters, never as SQL text.

use std::collections::HashMap;
use std::str::FromStr;

use handoff_core::{Member, Role, Timestamp, UserId, WorkingHours, Workspace, WorkspaceId};

use super::{P, Row, Sql, placeholders};
use crate::error::{Result, ServerError};

/// Parses an id or name read back from the database.
pub fn parse<T: FromStr>(s: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| ServerError::Internal(format!("stored value {s:?} does not parse: {e}")))
}

// ---------------------------------------------------------------- history

/// Which history of the database this is (see `migrations/server/*/0002_history.sql`).
pub async fn history(db: &mut dyn Sql) -> Result<String> {
    let rows = db.query("SELECT id FROM server_history", &[]).await?;
    rows.first().map(|r| r.text(0)).transpose()?.ok_or_else(|| ServerError::Internal("no server history id".into()))
}

/// Starts a new history after a restore from a backup: clients fetch every scope again.
pub async fn new_history(db: &mut dyn Sql, id: &str) -> Result<()> {
    db.exec("UPDATE server_history SET id = $1", &[P::Text(id)]).await?;
    Ok(())
}

// ---------------------------------------------------------------- scopes

/// Bumps a scope's version and returns the new one; none when the scope does not exist.
/// On PostgreSQL this also locks the scope row until commit, which is what makes version order
/// equal commit order.
///
/// A version is the previous one plus one, or the server's clock in milliseconds (`at`) when
/// that is higher: so a server restored from a backup hands out versions above every version
/// it handed out before the restore (its clock moved on), and a client whose cursor is ahead
/// of the restored database still receives everything written after the restore.
pub async fn bump_scope(db: &mut dyn Sql, scope: &str, at: Timestamp) -> Result<Option<i64>> {
    let rows = db
        .query(
            "UPDATE scopes SET version = CASE WHEN version + 1 > $2 THEN version + 1 ELSE $2 END WHERE scope = $1 RETURNING version",
            &[P::Text(scope), P::Int(at.as_millis())],
        )
        .await?;
    rows.first().map(|r| r.int(0)).transpose()
}

/// Creates a scope at the version the server's clock gives (see [`bump_scope`]).
pub async fn create_scope(db: &mut dyn Sql, scope: &str, workspace: &str, kind: &str, at: Timestamp) -> Result<i64> {
    let version = at.as_millis().max(1);
    db.exec(
        "INSERT INTO scopes (scope, workspace_id, kind, version) VALUES ($1, $2, $3, $4)",
        &[P::Text(scope), P::Text(workspace), P::Text(kind), P::Int(version)],
    )
    .await?;
    Ok(version)
}

/// A scope's current version.
pub async fn scope_version(db: &mut dyn Sql, scope: &str) -> Result<Option<i64>> {
    let rows = db.query("SELECT version FROM scopes WHERE scope = $1", &[P::Text(scope)]).await?;
    rows.first().map(|r| r.int(0)).transpose()
}

fn scope_versions(rows: Vec<Row>) -> Result<Vec<(String, i64)>> {
    rows.iter().map(|r| Ok((r.text(0)?, r.int(1)?))).collect()
}

/// Every spec scope of a workspace with its version.
pub async fn spec_scopes(db: &mut dyn Sql, workspace: &str) -> Result<Vec<(String, i64)>> {
    scope_versions(
        db.query("SELECT scope, version FROM scopes WHERE workspace_id = $1 AND kind = 'spec'", &[P::Text(workspace)]).await?,
    )
}

/// The spec scopes of a workspace assigned to `email`, with their versions.
pub async fn assigned_spec_scopes(db: &mut dyn Sql, workspace: &str, email: &str) -> Result<Vec<(String, i64)>> {
    scope_versions(
        db.query(
            "SELECT s.scope, s.version FROM scopes s JOIN assignments a ON a.scope = s.scope
             WHERE s.workspace_id = $1 AND s.kind = 'spec' AND a.email = $2",
            &[P::Text(workspace), P::Text(email)],
        )
        .await?,
    )
}

/// The workspace a scope belongs to.
pub async fn scope_workspace(db: &mut dyn Sql, scope: &str) -> Result<Option<String>> {
    let rows = db.query("SELECT workspace_id FROM scopes WHERE scope = $1", &[P::Text(scope)]).await?;
    rows.first().map(|r| r.text(0)).transpose()
}

// ---------------------------------------------------------------- records

/// A stored entity: its pull record and bookkeeping.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    /// Its scope.
    pub scope: String,
    /// The version of its last write.
    pub version: i64,
    /// The `protocol::Record` JSON.
    pub data: String,
    /// Per-field clocks (JSON).
    pub meta: String,
}

/// One entity by kind and id.
pub async fn get_record(db: &mut dyn Sql, kind: &str, id: &str) -> Result<Option<StoredRecord>> {
    let rows = db
        .query("SELECT scope, version, data, meta FROM records WHERE kind = $1 AND id = $2", &[P::Text(kind), P::Text(id)])
        .await?;
    rows.first()
        .map(|r| Ok(StoredRecord { scope: r.text(0)?, version: r.int(1)?, data: r.text(2)?, meta: r.text(3)? }))
        .transpose()
}

/// Writes an entity's current state at `version`.
pub async fn put_record(db: &mut dyn Sql, kind: &str, id: &str, scope: &str, version: i64, data: &str, meta: &str) -> Result<()> {
    db.exec(
        "INSERT INTO records (kind, id, scope, version, data, meta) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind, id) DO UPDATE SET scope = excluded.scope, version = excluded.version,
             data = excluded.data, meta = excluded.meta",
        &[P::Text(kind), P::Text(id), P::Text(scope), P::Int(version), P::Text(data), P::Text(meta)],
    )
    .await?;
    Ok(())
}

/// The records of `kind` among `ids` (the missing ones are left out), a few statements in all.
pub async fn get_records(db: &mut dyn Sql, kind: &str, ids: &[String]) -> Result<Vec<(String, StoredRecord)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT id, scope, version, data, meta FROM records WHERE kind = $1 AND id IN ({})", marks.join(", "));
        let mut params: Vec<P<'_>> = Vec::with_capacity(chunk.len() + 1);
        params.push(P::Text(kind));
        params.extend(chunk.iter().map(|id| P::Text(id)));
        for r in db.query(&sql, &params).await? {
            out.push((r.text(0)?, StoredRecord { scope: r.text(1)?, version: r.int(2)?, data: r.text(3)?, meta: r.text(4)? }));
        }
    }
    Ok(out)
}

/// Writes many entities' current state (each `(kind, id, record)`), a few statements in all.
pub async fn put_records(db: &mut dyn Sql, rows: &[(&str, &str, &StoredRecord)]) -> Result<()> {
    // 6 parameters a row; SQLite allows 32,766 per statement and PostgreSQL 65,535.
    for chunk in rows.chunks(500) {
        let mut sql = String::from("INSERT INTO records (kind, id, scope, version, data, meta) VALUES ");
        let mut params: Vec<P<'_>> = Vec::with_capacity(chunk.len() * 6);
        for (i, (kind, id, r)) in chunk.iter().enumerate() {
            let b = i * 6;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6));
            params.extend([P::Text(kind), P::Text(id), P::Text(&r.scope), P::Int(r.version), P::Text(&r.data), P::Text(&r.meta)]);
        }
        sql.push_str(
            " ON CONFLICT (kind, id) DO UPDATE SET scope = excluded.scope, version = excluded.version,
              data = excluded.data, meta = excluded.meta",
        );
        db.exec(&sql, &params).await?;
    }
    Ok(())
}

/// Up to `limit` records of a scope written after `after`, in version order.
pub async fn records_after(db: &mut dyn Sql, scope: &str, after: i64, limit: i64) -> Result<Vec<(i64, String)>> {
    let rows = db
        .query(
            "SELECT version, data FROM records WHERE scope = $1 AND version > $2 ORDER BY version LIMIT $3",
            &[P::Text(scope), P::Int(after), P::Int(limit)],
        )
        .await?;
    rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
}

/// Every record of one kind in a scope (the data only).
pub async fn records_of_kind(db: &mut dyn Sql, scope: &str, kind: &str) -> Result<Vec<String>> {
    let rows = db.query("SELECT data FROM records WHERE scope = $1 AND kind = $2", &[P::Text(scope), P::Text(kind)]).await?;
    rows.iter().map(|r| r.text(0)).collect()
}

/// Every record of a scope last written at exactly `version`.
pub async fn records_at(db: &mut dyn Sql, scope: &str, version: i64) -> Result<Vec<String>> {
    let rows = db.query("SELECT data FROM records WHERE scope = $1 AND version = $2", &[P::Text(scope), P::Int(version)]).await?;
    rows.iter().map(|r| r.text(0)).collect()
}

// ---------------------------------------------------------------- spec side tables

/// Adds or removes an assignment.
pub async fn set_assigned(db: &mut dyn Sql, scope: &str, email: &str, assigned: bool) -> Result<()> {
    if assigned {
        db.exec(
            "INSERT INTO assignments (scope, email) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[P::Text(scope), P::Text(email)],
        )
        .await?;
    } else {
        db.exec("DELETE FROM assignments WHERE scope = $1 AND email = $2", &[P::Text(scope), P::Text(email)]).await?;
    }
    Ok(())
}

/// Whether a spec scope is assigned to `email`.
pub async fn is_assigned(db: &mut dyn Sql, scope: &str, email: &str) -> Result<bool> {
    Ok(!db
        .query("SELECT 1 FROM assignments WHERE scope = $1 AND email = $2", &[P::Text(scope), P::Text(email)])
        .await?
        .is_empty())
}

/// Assigns the next revision number of a deliverable (max + 1) to `revision`.
pub async fn assign_revision_number(db: &mut dyn Sql, deliverable: &str, revision: &str) -> Result<i64> {
    let rows = db
        .query("SELECT COALESCE(MAX(number), 0) FROM revision_numbers WHERE deliverable_id = $1", &[P::Text(deliverable)])
        .await?;
    let next = rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0) + 1;
    db.exec(
        "INSERT INTO revision_numbers (deliverable_id, number, revision_id) VALUES ($1, $2, $3)",
        &[P::Text(deliverable), P::Int(next), P::Text(revision)],
    )
    .await?;
    Ok(next)
}

/// Notes that a spec's revision references a blob (for blob read permission).
pub async fn add_revision_blob(db: &mut dyn Sql, sha256: &str, scope: &str) -> Result<()> {
    db.exec(
        "INSERT INTO revision_blobs (sha256, scope) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[P::Text(sha256), P::Text(scope)],
    )
    .await?;
    Ok(())
}

/// Appends a resolve/reopen event.
pub async fn insert_thread_event(db: &mut dyn Sql, id: &str, thread: &str, kind: &str, author: &str, at: i64) -> Result<bool> {
    let n = db
        .exec(
            "INSERT INTO thread_events (id, thread_id, kind, author, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[P::Text(id), P::Text(thread), P::Text(kind), P::Text(author), P::Int(at)],
        )
        .await?;
    Ok(n == 1)
}

// ---------------------------------------------------------------- clients and outcomes

/// Registers a client on its first push and returns its owner and last recorded mutation id.
/// The upsert also locks the client's row until commit (PostgreSQL), so two concurrent pushes
/// of one client apply one after the other and the second sees the first's ids.
pub async fn claim_client(db: &mut dyn Sql, client_id: &str, user_id: &str) -> Result<(String, i64)> {
    let rows = db
        .query(
            "INSERT INTO clients (client_id, user_id, last_mutation_id) VALUES ($1, $2, 0)
             ON CONFLICT (client_id) DO UPDATE SET last_mutation_id = clients.last_mutation_id
             RETURNING user_id, last_mutation_id",
            &[P::Text(client_id), P::Text(user_id)],
        )
        .await?;
    let r = rows.first().ok_or_else(|| ServerError::Internal("client upsert returned no row".into()))?;
    Ok((r.text(0)?, r.int(1)?))
}

/// Records a client's last mutation id (creating the client on its first push).
pub async fn set_client_last(db: &mut dyn Sql, client_id: &str, user_id: &str, last: i64) -> Result<()> {
    db.exec(
        "INSERT INTO clients (client_id, user_id, last_mutation_id) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO UPDATE SET last_mutation_id = excluded.last_mutation_id",
        &[P::Text(client_id), P::Text(user_id), P::Int(last)],
    )
    .await?;
    Ok(())
}

/// The stored outcome JSON of one mutation.
pub async fn outcome(db: &mut dyn Sql, client_id: &str, mutation_id: i64) -> Result<Option<String>> {
    let rows = db
        .query(
            "SELECT outcome FROM mutation_outcomes WHERE client_id = $1 AND mutation_id = $2",
            &[P::Text(client_id), P::Int(mutation_id)],
        )
        .await?;
    rows.first().map(|r| r.text(0)).transpose()
}

/// A mutation's outcome as recorded for its replays.
#[derive(Clone, Debug)]
pub struct OutcomeRow {
    /// The client id.
    pub client_id: String,
    /// The mutation id.
    pub mutation_id: i64,
    /// Its kind.
    pub kind: String,
    /// The outcome's JSON.
    pub outcome: String,
    /// When it was recorded.
    pub at: i64,
}

/// Records many outcomes, a few statements in all.
pub async fn insert_outcomes(db: &mut dyn Sql, rows: &[OutcomeRow]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let mut sql = String::from("INSERT INTO mutation_outcomes (client_id, mutation_id, kind, outcome, recorded_at) VALUES ");
        let mut params: Vec<P<'_>> = Vec::with_capacity(chunk.len() * 5);
        for (i, r) in chunk.iter().enumerate() {
            let b = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5));
            params.extend([P::Text(&r.client_id), P::Int(r.mutation_id), P::Text(&r.kind), P::Text(&r.outcome), P::Int(r.at)]);
        }
        db.exec(&sql, &params).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- blobs

/// The subset of `hashes` the server has, with their sizes.
pub async fn blobs_present(db: &mut dyn Sql, hashes: &[String]) -> Result<HashMap<String, i64>> {
    let mut found = HashMap::new();
    for chunk in hashes.chunks(500) {
        let sql = format!("SELECT sha256, size FROM blobs WHERE sha256 IN {}", placeholders(1, chunk.len()));
        let params: Vec<P<'_>> = chunk.iter().map(P::from).collect();
        for r in db.query(&sql, &params).await? {
            found.insert(r.text(0)?, r.int(1)?);
        }
    }
    Ok(found)
}

/// Records a verified blob and its uploader.
pub async fn insert_blob(db: &mut dyn Sql, sha256: &str, size: i64, user: &str, at: i64) -> Result<()> {
    db.exec(
        "INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[P::Text(sha256), P::Int(size), P::Int(at)],
    )
    .await?;
    db.exec(
        "INSERT INTO blob_uploads (sha256, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &[P::Text(sha256), P::Text(user)],
    )
    .await?;
    Ok(())
}

/// The subset of `hashes` that `user` uploaded.
pub async fn blobs_uploaded_by(db: &mut dyn Sql, hashes: &[String], user: &str) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in hashes.chunks(500) {
        let sql = format!("SELECT sha256 FROM blob_uploads WHERE user_id = $1 AND sha256 IN {}", placeholders(2, chunk.len()));
        let params: Vec<P<'_>> = std::iter::once(P::Text(user)).chain(chunk.iter().map(P::from)).collect();
        for r in db.query(&sql, &params).await? {
            found.insert(r.text(0)?);
        }
    }
    Ok(found)
}

/// Forgets `user`'s upload grants for the blobs that revisions of spec scope `scope` list: once
/// their access to that spec ends, having uploaded a file no longer lets them read it back
/// (uploading it again does, as proof of holding it).
pub async fn forget_uploads_in_scope(db: &mut dyn Sql, user: &str, scope: &str) -> Result<()> {
    db.exec(
        "DELETE FROM blob_uploads WHERE user_id = $1 AND sha256 IN (SELECT sha256 FROM revision_blobs WHERE scope = $2)",
        &[P::Text(user), P::Text(scope)],
    )
    .await?;
    Ok(())
}

/// [`forget_uploads_in_scope`] for every spec of a workspace (a member removed from it).
pub async fn forget_uploads_in_workspace(db: &mut dyn Sql, user: &str, workspace: &str) -> Result<()> {
    db.exec(
        "DELETE FROM blob_uploads WHERE user_id = $1 AND sha256 IN
         (SELECT r.sha256 FROM revision_blobs r JOIN scopes s ON s.scope = r.scope WHERE s.workspace_id = $2)",
        &[P::Text(user), P::Text(workspace)],
    )
    .await?;
    Ok(())
}

/// Bytes of all blobs `user` uploaded, each counted once.
pub async fn bytes_uploaded_by(db: &mut dyn Sql, user: &str) -> Result<u64> {
    let rows = db
        .query(
            "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) FROM blob_uploads u JOIN blobs b ON b.sha256 = u.sha256 WHERE u.user_id = $1",
            &[P::Text(user)],
        )
        .await?;
    Ok(rows.first().map(|r| r.int(0)).transpose()?.unwrap_or(0).max(0) as u64)
}

/// The spec scopes whose revisions reference the blob.
pub async fn blob_scopes(db: &mut dyn Sql, sha256: &str) -> Result<Vec<String>> {
    db.query("SELECT scope FROM revision_blobs WHERE sha256 = $1", &[P::Text(sha256)]).await?.iter().map(|r| r.text(0)).collect()
}

// ---------------------------------------------------------------- workspaces and users

fn workspace_row(r: &Row) -> Result<Workspace> {
    Ok(Workspace { id: parse(&r.text(0)?)?, name: r.text(1)? })
}

/// A workspace by id.
pub async fn workspace(db: &mut dyn Sql, id: &str) -> Result<Option<Workspace>> {
    db.query("SELECT id, name FROM workspaces WHERE id = $1", &[P::Text(id)]).await?.first().map(workspace_row).transpose()
}

/// A workspace by its name.
pub async fn workspace_by_name(db: &mut dyn Sql, name: &str) -> Result<Option<Workspace>> {
    db.query("SELECT id, name FROM workspaces WHERE name = $1", &[P::Text(name)]).await?.first().map(workspace_row).transpose()
}

/// Creates a workspace.
pub async fn insert_workspace(db: &mut dyn Sql, ws: &Workspace, at: i64) -> Result<()> {
    let id = ws.id.to_string();
    db.exec("INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)", &[P::Text(&id), P::Text(&ws.name), P::Int(at)])
        .await?;
    Ok(())
}

/// An account as stored.
#[derive(Clone, Debug)]
pub struct UserRow {
    /// The account's id.
    pub id: UserId,
    /// Email, lowercased.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// The argon2id PHC string.
    pub password_hash: String,
}

fn user_row(r: &Row) -> Result<UserRow> {
    Ok(UserRow { id: parse(&r.text(0)?)?, email: r.text(1)?, display_name: r.text(2)?, password_hash: r.text(3)? })
}

/// An account by email.
pub async fn user_by_email(db: &mut dyn Sql, email: &str) -> Result<Option<UserRow>> {
    db.query("SELECT id, email, display_name, password_hash FROM users WHERE email = $1", &[P::Text(email)])
        .await?
        .first()
        .map(user_row)
        .transpose()
}

/// An account by id.
pub async fn user_by_id(db: &mut dyn Sql, id: &str) -> Result<Option<UserRow>> {
    db.query("SELECT id, email, display_name, password_hash FROM users WHERE id = $1", &[P::Text(id)])
        .await?
        .first()
        .map(user_row)
        .transpose()
}

/// Creates an account.
pub async fn insert_user(db: &mut dyn Sql, user: &UserRow, at: i64) -> Result<()> {
    let id = user.id.to_string();
    db.exec(
        "INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[P::Text(&id), P::Text(&user.email), P::Text(&user.display_name), P::Text(&user.password_hash), P::Int(at)],
    )
    .await?;
    Ok(())
}

const MEMBER_COLUMNS: &str = "SELECT m.workspace_id, m.user_id, u.email, u.display_name, m.role, m.timezone,
    m.start_minute, m.end_minute, m.days FROM members m JOIN users u ON u.id = m.user_id";

fn member_row(r: &Row) -> Result<Member> {
    Ok(Member {
        workspace_id: parse(&r.text(0)?)?,
        user_id: parse(&r.text(1)?)?,
        email: r.text(2)?,
        display_name: r.text(3)?,
        role: parse::<Role>(&r.text(4)?)?,
        timezone: r.text(5)?,
        working_hours: WorkingHours {
            start_minute: u16::try_from(r.int(6)?).unwrap_or(0),
            end_minute: u16::try_from(r.int(7)?).unwrap_or(0),
            days: u8::try_from(r.int(8)?).unwrap_or(0),
        },
    })
}

/// A user's membership of a workspace.
pub async fn member(db: &mut dyn Sql, workspace: &str, user: &str) -> Result<Option<Member>> {
    let sql = format!("{MEMBER_COLUMNS} WHERE m.workspace_id = $1 AND m.user_id = $2");
    db.query(&sql, &[P::Text(workspace), P::Text(user)]).await?.first().map(member_row).transpose()
}

/// A workspace member by email.
pub async fn member_by_email(db: &mut dyn Sql, workspace: &str, email: &str) -> Result<Option<Member>> {
    let sql = format!("{MEMBER_COLUMNS} WHERE m.workspace_id = $1 AND u.email = $2");
    db.query(&sql, &[P::Text(workspace), P::Text(email)]).await?.first().map(member_row).transpose()
}

/// Every member of a workspace, by email.
pub async fn members(db: &mut dyn Sql, workspace: &str) -> Result<Vec<Member>> {
    let sql = format!("{MEMBER_COLUMNS} WHERE m.workspace_id = $1 ORDER BY u.email");
    db.query(&sql, &[P::Text(workspace)]).await?.iter().map(member_row).collect()
}

/// Every workspace a user belongs to, with the membership.
pub async fn memberships(db: &mut dyn Sql, user: &str) -> Result<Vec<(Workspace, Member)>> {
    let sql = format!("{MEMBER_COLUMNS} WHERE m.user_id = $1 ORDER BY m.workspace_id");
    let members: Vec<Member> = db.query(&sql, &[P::Text(user)]).await?.iter().map(member_row).collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(members.len());
    for m in members {
        let ws = workspace(db, &m.workspace_id.to_string())
            .await?
            .ok_or_else(|| ServerError::Internal("member of a missing workspace".into()))?;
        out.push((ws, m));
    }
    Ok(out)
}

/// Adds a member.
pub async fn insert_member(db: &mut dyn Sql, m: &Member, at: i64) -> Result<()> {
    let (ws, user) = (m.workspace_id.to_string(), m.user_id.to_string());
    db.exec(
        "INSERT INTO members (workspace_id, user_id, role, timezone, start_minute, end_minute, days, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            P::Text(&ws),
            P::Text(&user),
            P::Text(m.role.as_str()),
            P::Text(&m.timezone),
            P::Int(m.working_hours.start_minute.into()),
            P::Int(m.working_hours.end_minute.into()),
            P::Int(m.working_hours.days.into()),
            P::Int(at),
        ],
    )
    .await?;
    Ok(())
}

/// Sets a member's role.
pub async fn set_member_role(db: &mut dyn Sql, workspace: &str, user: &str, role: Role) -> Result<()> {
    db.exec(
        "UPDATE members SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
        &[P::Text(workspace), P::Text(user), P::Text(role.as_str())],
    )
    .await?;
    Ok(())
}

/// Sets a member's time zone and working hours.
pub async fn set_member_profile(
    db: &mut dyn Sql,
    workspace: &str,
    user: &str,
    timezone: &str,
    hours: &handoff_core::WorkingHours,
) -> Result<()> {
    db.exec(
        "UPDATE members SET timezone = $3, start_minute = $4, end_minute = $5, days = $6 WHERE workspace_id = $1 AND user_id = $2",
        &[
            P::Text(workspace),
            P::Text(user),
            P::Text(timezone),
            P::Int(i64::from(hours.start_minute)),
            P::Int(i64::from(hours.end_minute)),
            P::Int(i64::from(hours.days)),
        ],
    )
    .await?;
    Ok(())
}

/// Removes a member; false when there was none.
pub async fn delete_member(db: &mut dyn Sql, workspace: &WorkspaceId, user: &UserId) -> Result<bool> {
    let (ws, u) = (workspace.to_string(), user.to_string());
    Ok(db.exec("DELETE FROM members WHERE workspace_id = $1 AND user_id = $2", &[P::Text(&ws), P::Text(&u)]).await? == 1)
}

/// Locks a workspace's row until commit (PostgreSQL; SQLite writers are serialized anyway), so
/// checks over its members, such as the last-owner rule, see every earlier removal.
pub async fn lock_workspace(db: &mut dyn Sql, workspace: &str) -> Result<()> {
    db.exec("UPDATE workspaces SET name = name WHERE id = $1", &[P::Text(workspace)]).await?;
    Ok(())
}

/// How many owners a workspace has.
pub async fn owner_count(db: &mut dyn Sql, workspace: &str) -> Result<i64> {
    let rows = db.query("SELECT COUNT(*) FROM members WHERE workspace_id = $1 AND role = 'owner'", &[P::Text(workspace)]).await?;
    rows.first().map(|r| r.int(0)).transpose().map(|n| n.unwrap_or(0))
}

// ---------------------------------------------------------------- invites

/// An invite as stored (the code only as its hash).
#[derive(Clone, Debug)]
pub struct InviteRow {
    /// The workspace.
    pub workspace_id: String,
    /// The member's email.
    pub email: String,
    /// What the member may do in the workspace.
    pub role: Role,
    /// Expiry, ms.
    pub expires_at: i64,
    /// When it was used, if it was.
    pub used_at: Option<i64>,
}

/// Stores an invite.
#[allow(clippy::too_many_arguments)]
pub async fn insert_invite(
    db: &mut dyn Sql,
    code_hash: &str,
    workspace: &str,
    email: &str,
    role: Role,
    created_by: Option<&str>,
    at: i64,
    expires_at: i64,
) -> Result<()> {
    db.exec(
        "INSERT INTO invites (code_hash, workspace_id, email, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[P::Text(code_hash), P::Text(workspace), P::Text(email), P::Text(role.as_str()), P::from(created_by), P::Int(at), P::Int(expires_at)],
    )
    .await?;
    Ok(())
}

/// An invite by its code's hash.
pub async fn invite(db: &mut dyn Sql, code_hash: &str) -> Result<Option<InviteRow>> {
    db.query("SELECT workspace_id, email, role, expires_at, used_at FROM invites WHERE code_hash = $1", &[P::Text(code_hash)])
        .await?
        .first()
        .map(|r| {
            Ok(InviteRow {
                workspace_id: r.text(0)?,
                email: r.text(1)?,
                role: parse(&r.text(2)?)?,
                expires_at: r.int(3)?,
                used_at: r.opt_int(4)?,
            })
        })
        .transpose()
}

/// Marks an invite used; false when someone used it first.
pub async fn use_invite(db: &mut dyn Sql, code_hash: &str, at: i64) -> Result<bool> {
    Ok(db
        .exec("UPDATE invites SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL", &[P::Int(at), P::Text(code_hash)])
        .await?
        == 1)
}

// ---------------------------------------------------------------- tokens

/// A bearer token as stored (only its hash).
#[derive(Clone, Debug)]
pub struct TokenRow {
    /// Token id.
    pub id: String,
    /// The account the token signs in as.
    pub user_id: String,
    /// Device it was issued to.
    pub device_name: String,
    /// Issued, ms.
    pub created_at: i64,
    /// Last used, ms.
    pub last_used_at: Option<i64>,
    /// Expiry, ms.
    pub expires_at: i64,
    /// Revoked, ms.
    pub revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "SELECT id, user_id, device_name, created_at, last_used_at, expires_at, revoked_at FROM tokens";

fn token_row(r: &Row) -> Result<TokenRow> {
    Ok(TokenRow {
        id: r.text(0)?,
        user_id: r.text(1)?,
        device_name: r.text(2)?,
        created_at: r.int(3)?,
        last_used_at: r.opt_int(4)?,
        expires_at: r.int(5)?,
        revoked_at: r.opt_int(6)?,
    })
}

/// Stores a new token by its hash.
pub async fn insert_token(db: &mut dyn Sql, t: &TokenRow, token_hash: &str) -> Result<()> {
    db.exec(
        "INSERT INTO tokens (id, token_hash, user_id, device_name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            P::Text(&t.id),
            P::Text(token_hash),
            P::Text(&t.user_id),
            P::Text(&t.device_name),
            P::Int(t.created_at),
            P::Int(t.expires_at),
        ],
    )
    .await?;
    Ok(())
}

/// A token by its hash.
pub async fn token_by_hash(db: &mut dyn Sql, token_hash: &str) -> Result<Option<TokenRow>> {
    let sql = format!("{TOKEN_COLUMNS} WHERE token_hash = $1");
    db.query(&sql, &[P::Text(token_hash)]).await?.first().map(token_row).transpose()
}

/// A user's tokens, newest first.
pub async fn tokens_of(db: &mut dyn Sql, user: &str) -> Result<Vec<TokenRow>> {
    let sql = format!("{TOKEN_COLUMNS} WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id");
    db.query(&sql, &[P::Text(user)]).await?.iter().map(token_row).collect()
}

/// Revokes one of a user's tokens; false when there is no such live token.
pub async fn revoke_token(db: &mut dyn Sql, user: &str, token_id: &str, at: i64) -> Result<bool> {
    Ok(db
        .exec(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            &[P::Int(at), P::Text(token_id), P::Text(user)],
        )
        .await?
        == 1)
}

/// Whether a token is neither revoked nor expired at `now`.
pub async fn token_live(db: &mut dyn Sql, token_id: &str, now: i64) -> Result<bool> {
    let rows = db
        .query("SELECT 1 FROM tokens WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2", &[P::Text(token_id), P::Int(now)])
        .await?;
    Ok(!rows.is_empty())
}

/// Notes a token's use.
pub async fn touch_token(db: &mut dyn Sql, token_id: &str, at: i64) -> Result<()> {
    db.exec("UPDATE tokens SET last_used_at = $1 WHERE id = $2", &[P::Int(at), P::Text(token_id)]).await?;
    Ok(())
}
