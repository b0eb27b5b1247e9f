//! Getting a session and keeping it: join with an invite, sign in, move to a server's new
//! address. The CLI and the desktop app both run these flows; they differ only in where
//! they ask for the password and how they show progress.

use rusqlite::TransactionBehavior;
use serde::Serialize;

use handoff_core::protocol::*;
use handoff_core::*;

use crate::credentials::TokenStore;
use crate::error::ClientError;
use crate::outbox::{meta_get, meta_set};
use crate::{Client, CredentialError};

use super::{HttpRequest, Method, SyncEngine, SyncError, SyncResult, TransportError, check_status, json_body, local};

/// Joining a workspace with an invite.
#[derive(Clone, Debug)]
pub struct JoinParams {
    /// The invite code.
    pub invite_code: String,
    /// Email (must match the invite).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Password (new or existing account).
    pub password: String,
    /// This device's name in the token list.
    pub device_name: String,
    /// IANA time zone.
    pub timezone: String,
}

/// What joining or signing in recorded locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Joined {
    /// The session (holds the token: store it with [`crate::credentials`], never in SQLite).
    #[serde(skip)]
    pub session: Session,
    /// The email this client now acts as.
    pub email: String,
    /// The workspaces recorded.
    pub workspaces: Vec<WorkspaceId>,
    /// Specs made offline in the local workspace that moved into the joined one.
    pub adopted_specs: u32,
}

impl Client {
    /// Picks where this data dir's token will be kept (the OS keychain, or a 0600 file when
    /// `insecure_file`) and checks that it works before anything is sent to a server, so a
    /// missing keychain is reported before an invite code is spent.
    pub fn prepare_token_store(&self, insecure_file: bool) -> SyncResult<TokenStore> {
        self.set_token_file(insecure_file)?;
        let store = self.token_store()?;
        if let TokenStore::Keychain { .. } = store {
            TokenStore::keychain_available()?;
        }
        Ok(store)
    }
}

impl SyncEngine {
    /// Joins a workspace with an invite code, creating the account if needed, and records the
    /// identity, server and workspaces locally. Work made offline in the "Local" workspace
    /// (its never-pushed `spec.create` mutations and its rows) moves into the first joined
    /// workspace and will be pushed there: nothing made before joining is lost.
    pub async fn join(&self, p: JoinParams) -> SyncResult<Joined> {
        let req = JoinRequest {
            invite_code: p.invite_code,
            email: p.email,
            display_name: p.display_name.clone(),
            password: p.password,
            device_name: p.device_name,
            timezone: p.timezone.clone(),
        };
        let session: Session = self.call(Method::Post, "/v1/auth/join", None, json_body(&req)?).await?;
        self.record_session(session, &p.display_name, &p.timezone)
    }

    /// Signs in to an existing account; records the session like [`SyncEngine::join`].
    pub async fn login(&self, email: &str, password: &str, device_name: &str) -> SyncResult<Joined> {
        let req = LoginRequest { email: email.to_owned(), password: password.to_owned(), device_name: device_name.to_owned() };
        let session: Session = self.call(Method::Post, "/v1/auth/login", None, json_body(&req)?).await?;
        self.record_session(session, email, "UTC")
    }

    fn record_session(&self, session: Session, display_name: &str, timezone: &str) -> SyncResult<Joined> {
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        meta_set(&tx, "identity", &session.email)?;
        meta_set(&tx, "server_url", &self.server_url)?;
        crate::outbox::client_for_account(&tx, &session.user_id.to_string(), crate::new_id(self.client.now()))?;
        meta_set(&tx, "user_id", &session.user_id.to_string())?;
        let mut workspaces = Vec::new();
        for m in &session.workspaces {
            let ws = m.workspace.id.to_string();
            tx.execute(
                "INSERT INTO workspaces (id, name, is_local) VALUES (?1, ?2, 0) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                rusqlite::params![ws, m.workspace.name],
            )
            .map_err(ClientError::from)?;
            let wh = serde_json::to_string(&WorkingHours::default()).map_err(|e| ClientError::Corrupt(e.to_string()))?;
            tx.execute(
                "INSERT OR IGNORE INTO members (workspace_id, user_id, email, display_name, role, timezone, working_hours)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                rusqlite::params![ws, session.user_id.to_string(), session.email, display_name, m.role.as_str(), timezone, wh],
            )
            .map_err(ClientError::from)?;
            workspaces.push(m.workspace.id);
        }
        let mut adopted = 0;
        if let Some(first) = workspaces.first() {
            adopted = local::adopt_local_workspace(&tx, *first, &session.email)?;
            let current = meta_get(&tx, "current_workspace")?;
            let current_ok = match current {
                Some(c) => tx
                    .query_row("SELECT EXISTS (SELECT 1 FROM workspaces WHERE id = ?1 AND is_local = 0)", [c], |r| {
                        r.get::<_, bool>(0)
                    })
                    .map_err(ClientError::from)?,
                None => false,
            };
            if !current_ok {
                meta_set(&tx, "current_workspace", &first.to_string())?;
            }
        }
        crate::store::commit(tx)?;
        drop(conn);
        self.set_token(Some(session.token.clone()));
        Ok(Joined { email: session.email.clone(), workspaces, adopted_specs: adopted, session })
    }

    /// Revokes this device's token on the server and forgets it here. Local data stays.
    pub async fn logout(&self) -> SyncResult<()> {
        let token = self.token()?;
        let resp = self.raw(HttpRequest::json(Method::Post, "/v1/auth/logout", Some(&token), Vec::new())).await?;
        self.set_token(None);
        check_status(&resp)
    }

    /// [`SyncEngine::join`], then keeps the session's token in `store`.
    pub async fn join_keeping(&self, params: JoinParams, store: &TokenStore) -> SyncResult<Joined> {
        let joined = self.join(params).await?;
        save(store, &joined).await?;
        Ok(joined)
    }

    /// [`SyncEngine::login`], then keeps the session's token in `store`.
    pub async fn login_keeping(&self, email: &str, password: &str, device_name: &str, store: &TokenStore) -> SyncResult<Joined> {
        let joined = self.login(email.trim(), password, device_name).await?;
        save(store, &joined).await?;
        Ok(joined)
    }

    /// Proves that this engine's address reaches the server this client joined, with the
    /// session it holds, and only then records the address: it must answer, and a whole sync
    /// round must succeed with the stored token. On any failure nothing is recorded and the
    /// old address stays. ([`SyncError::needs_sign_in`] on the error means the server there
    /// does not know this session: likely a different server.)
    pub async fn move_to_this_address(&self) -> SyncResult<()> {
        let client = self.client().clone();
        let store = client.token_store()?;
        let token = tokio::task::spawn_blocking(move || store.load())
            .await
            .map_err(|e| SyncError::Protocol(format!("the keychain task failed: {e}")))??;
        if !self.probe().await {
            return Err(SyncError::Offline(TransportError::Unreachable(format!("{} does not answer", self.server_url))));
        }
        self.set_token(Some(token));
        self.sync_once().await?;
        client.set_server_url(&self.server_url)?;
        Ok(())
    }
}

/// Saves the token off the async threads (the keychain is a blocking D-Bus call).
async fn save(store: &TokenStore, joined: &Joined) -> SyncResult<()> {
    let store = store.clone();
    let token = joined.session.token.clone();
    tokio::task::spawn_blocking(move || store.save(&token))
        .await
        .map_err(|e| SyncError::Protocol(format!("the keychain task failed: {e}")))?
        .map_err(SyncError::from)
}

impl From<CredentialError> for SyncError {
    fn from(e: CredentialError) -> Self {
        SyncError::Credential(e)
    }
}
