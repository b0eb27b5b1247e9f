//! Getting a session and keeping it: join with an invite, sign in, move to a server's new
//! address. The CLI and the desktop app both run these flows; they differ only in where
//! they ask for the password and how they show progress.

use crate::credentials::TokenStore;
use crate::{Client, CredentialError};

use super::{JoinParams, Joined, SyncEngine, SyncError, SyncResult, TransportError};

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
