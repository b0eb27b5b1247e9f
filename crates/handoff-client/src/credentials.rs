//! Where the bearer token lives: the OS keychain (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows) through the `keyring` crate. Never in SQLite.
//!
//! On a box without a keychain (a headless server, a container) [`TokenStore::Keychain`]
//! fails with [`CredentialError::NoKeychain`], whose message names the fixes. The explicit
//! opt-in [`TokenStore::File`] keeps the token in a file readable only by its owner (mode
//! 0600). That is weaker: anyone who can read your files, or a backup of them, can use the
//! token until it expires or is revoked.

use std::path::{Path, PathBuf};

/// The keychain service name entries are filed under.
pub const KEYCHAIN_SERVICE: &str = "dev.handoff.token";

/// Why a token could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// No OS keychain is reachable.
    #[error(
        "no OS keychain is available to keep the sign-in token ({detail}). Fix: run in a desktop session with an unlocked keyring \
         (GNOME Keyring or KWallet: the Secret Service on D-Bus); on a headless Linux box start one with \
         `dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; handoff ...'`; \
         or opt in to a token file with --insecure-token-file (or HANDOFF_INSECURE_TOKEN_FILE=1), which is weaker: \
         anyone who can read your files can use the token"
    )]
    NoKeychain {
        /// What the keychain said.
        detail: String,
    },
    /// No token is stored: sign in first.
    #[error("no sign-in token is stored; run `handoff join` or `handoff login`")]
    Missing,
    /// The keychain refused for another reason.
    #[error("the OS keychain failed: {0}")]
    Keychain(String),
    /// The token file could not be read or written.
    #[error("token file {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl CredentialError {
    /// The stable code for `{code, message}` answers.
    pub fn code(&self) -> crate::Code {
        match self {
            CredentialError::NoKeychain { .. } => crate::Code::NoKeychain,
            CredentialError::Missing => crate::Code::NotSignedIn,
            CredentialError::Keychain(_) => crate::Code::Keychain,
            CredentialError::File { .. } => crate::Code::TokenFile,
        }
    }
}

/// Where one data dir's token is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenStore {
    /// The OS keychain, under [`KEYCHAIN_SERVICE`] and this account name (the client id:
    /// one token per installation).
    Keychain {
        /// The entry's account name.
        account: String,
    },
    /// A 0600 file (explicit opt-in; weaker).
    File {
        /// The file.
        path: PathBuf,
    },
}

fn map_keyring(e: keyring::Error) -> CredentialError {
    use keyring::Error as E;
    match e {
        E::NoEntry => CredentialError::Missing,
        E::PlatformFailure(inner) => CredentialError::NoKeychain { detail: format!("platform failure: {inner}") },
        E::NoStorageAccess(inner) => {
            CredentialError::NoKeychain { detail: format!("the keyring is locked or unreachable: {inner}") }
        }
        E::NoDefaultStore => CredentialError::NoKeychain { detail: "no default credential store".into() },
        other => CredentialError::Keychain(other.to_string()),
    }
}

impl TokenStore {
    /// The token file's conventional place in a data dir.
    pub fn file_in(data_dir: &Path) -> Self {
        TokenStore::File { path: data_dir.join("token") }
    }

    fn entry(account: &str) -> Result<keyring::Entry, CredentialError> {
        if let Err(e) = keyring::Entry::store_status() {
            return Err(CredentialError::NoKeychain { detail: e.to_string() });
        }
        keyring::Entry::new(KEYCHAIN_SERVICE, account).map_err(map_keyring)
    }

    /// Stores `token`, replacing any previous one.
    pub fn save(&self, token: &str) -> Result<(), CredentialError> {
        match self {
            TokenStore::Keychain { account } => Self::entry(account)?.set_password(token).map_err(map_keyring),
            TokenStore::File { path } => write_private(path, token),
        }
    }

    /// Reads the token.
    pub fn load(&self) -> Result<String, CredentialError> {
        match self {
            TokenStore::Keychain { account } => Self::entry(account)?.get_password().map_err(map_keyring),
            TokenStore::File { path } => match std::fs::read_to_string(path) {
                Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                Ok(_) => Err(CredentialError::Missing),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CredentialError::Missing),
                Err(source) => Err(CredentialError::File { path: path.clone(), source }),
            },
        }
    }

    /// Forgets the token; absent is fine.
    pub fn delete(&self) -> Result<(), CredentialError> {
        match self {
            TokenStore::Keychain { account } => match Self::entry(account)?.delete_credential().map_err(map_keyring) {
                Ok(()) | Err(CredentialError::Missing) => Ok(()),
                Err(e) => Err(e),
            },
            TokenStore::File { path } => match std::fs::remove_file(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(CredentialError::File { path: path.clone(), source }),
            },
        }
    }

    /// Whether a keychain answers at all (tries a harmless lookup).
    pub fn keychain_available() -> Result<(), CredentialError> {
        match Self::entry("handoff-probe")?.get_password().map_err(map_keyring) {
            Ok(_) | Err(CredentialError::Missing) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl crate::Client {
    /// Where this data dir's token is kept: the OS keychain (account = this client's id)
    /// unless the insecure file store was opted into with [`crate::Client::set_token_file`].
    pub fn token_store(&self) -> crate::Result<TokenStore> {
        let conn = self.conn();
        if crate::outbox::meta_get(&conn, "token_store")?.as_deref() == Some("file") {
            return Ok(TokenStore::file_in(self.data_dir()));
        }
        Ok(TokenStore::Keychain { account: crate::outbox::client_id(&conn)?.to_string() })
    }

    /// Opts this data dir in (or out) of keeping the token in a 0600 file instead of the
    /// OS keychain.
    pub fn set_token_file(&self, on: bool) -> crate::Result<()> {
        crate::outbox::meta_set(&self.conn(), "token_store", if on { "file" } else { "keychain" })
    }

    /// The server this client joined, if any.
    pub fn server_url(&self) -> crate::Result<Option<String>> {
        crate::outbox::meta_get(&self.conn(), "server_url")
    }

    /// Records a new address for the joined server (it moved); the caller has checked that
    /// the server there accepts this client's token.
    pub fn set_server_url(&self, url: &str) -> crate::Result<()> {
        crate::outbox::meta_set(&self.conn(), "server_url", url.trim_end_matches('/'))
    }
}

fn write_private(path: &Path, token: &str) -> Result<(), CredentialError> {
    let err = |source| CredentialError::File { path: path.to_owned(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(err)?;
    std::io::Write::write_all(&mut f, token.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = TokenStore::file_in(dir.path());
        assert!(matches!(store.load(), Err(CredentialError::Missing)));
        store.save("secret-token").expect("save");
        assert_eq!(store.load().expect("load"), "secret-token");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let TokenStore::File { path } = &store else { unreachable!() };
            let mode = std::fs::metadata(path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        store.delete().expect("delete");
        store.delete().expect("twice");
        assert!(matches!(store.load(), Err(CredentialError::Missing)));
    }

    #[test]
    fn missing_keychain_message_names_the_fixes() {
        let e = CredentialError::NoKeychain { detail: "x".into() };
        let s = e.to_string();
        assert!(s.contains("--insecure-token-file") && s.contains("gnome-keyring-daemon"), "{s}");
    }
}
