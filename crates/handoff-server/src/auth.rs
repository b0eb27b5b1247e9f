//! Authentication: random secrets, password hashing (argon2id), and the [`Caller`] extractor
//! that turns `Authorization: Bearer <token>` into an account, or refuses with
//! `unauthorized`, `token_expired` or `token_revoked`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use handoff_core::protocol::ApiErrorCode;
use handoff_core::{Timestamp, UserId};
use sha2::{Digest, Sha256};

use crate::config::PasswordCost;
use crate::error::{Result, ServerError};
use crate::passwords::PasswordPool;
use crate::state::AppState;
use crate::storage::queries;

/// Re-check a token's last use no more often than this, so reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

/// `n` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| ServerError::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// A bearer token: 256 random bits, base64url.
pub fn new_token() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// An invite code: 160 random bits, base64url.
pub fn new_invite_code() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<20>()?))
}

/// Lowercase hex sha256 of a secret; the only form in which secrets are stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new UUIDv7 id of any id type, stamped `now`.
pub fn new_id<T: From<uuid::Uuid>>(now: Timestamp) -> Result<T> {
    let entropy = random_bytes::<10>()?;
    let ms = now.as_millis().max(0) as u64;
    Ok(T::from(uuid::Builder::from_unix_timestamp_millis(ms, &entropy).into_uuid()))
}

fn hasher(cost: PasswordCost) -> Result<Argon2<'static>> {
    let params = match cost {
        PasswordCost::Default => Params::default(),
        PasswordCost::TestsOnly => {
            Params::new(8, 1, 1, None).map_err(|e| ServerError::Internal(format!("argon2 params: {e}")))?
        }
    };
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The longest password, in bytes of UTF-8.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Checks a new password's length.
pub fn check_password_rules(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(ServerError::invalid("the password must have at least 8 characters"));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(ServerError::api(ApiErrorCode::TooLarge, format!("the password is longer than {PASSWORD_MAX_BYTES} bytes")));
    }
    Ok(())
}

/// An argon2id PHC string for `password`. CPU-heavy: call it on a blocking thread.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| ServerError::Internal(format!("salt: {e}")))?;
    let hash =
        hasher(cost)?.hash_password(password.as_bytes(), &salt).map_err(|e| ServerError::Internal(format!("argon2: {e}")))?;
    Ok(hash.to_string())
}

/// Whether `password` matches a stored PHC string (its own parameters are used).
/// CPU-heavy: call it on a blocking thread.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Hashes on the password threads.
pub async fn hash_password_async(pool: &PasswordPool, password: String, cost: PasswordCost) -> Result<String> {
    pool.run(move || hash_password(&password, cost)).await?
}

/// Verifies on the password threads.
pub async fn verify_password_async(pool: &PasswordPool, password: String, phc: String) -> Result<bool> {
    pool.run(move || verify_password(&password, &phc)).await
}

/// The signed-in account making a request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The account.
    pub user_id: UserId,
    /// Its email.
    pub email: String,
    /// The token used.
    pub token_id: String,
    /// When that token expires, ms.
    pub token_expires_at: i64,
}

impl Caller {
    /// The account id as stored.
    pub fn user(&self) -> String {
        self.user_id.to_string()
    }
}

fn bearer(parts: &Parts) -> Result<String> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ServerError::unauthorized("sign in first: send Authorization: Bearer <token>"))?;
    let value = header.to_str().map_err(|_| ServerError::unauthorized("the Authorization header is not readable text"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| ServerError::unauthorized("the Authorization header must be: Bearer <token>"))?;
    Ok(token.trim().to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ServerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let token = bearer(parts)?;
        let hash = secret_hash(&token);
        let now = state.now().as_millis();
        let found = state
            .db
            .read(move |db| {
                Box::pin(async move {
                    let Some(t) = queries::token_by_hash(db, &hash).await? else { return Ok(None) };
                    let user = queries::user_by_id(db, &t.user_id).await?;
                    Ok(user.map(|u| (t, u)))
                })
            })
            .await?;
        let Some((t, user)) = found else {
            return Err(ServerError::unauthorized("unknown token; sign in again"));
        };
        if t.revoked_at.is_some() {
            return Err(ServerError::api(ApiErrorCode::TokenRevoked, "this token was revoked; sign in again"));
        }
        if t.expires_at <= now {
            return Err(ServerError::api(ApiErrorCode::TokenExpired, "this token expired; sign in again"));
        }
        state.limiter.check(&t.id, now)?;
        if t.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY_MS) {
            let id = t.id.clone();
            state.db.write(move |db| Box::pin(async move { queries::touch_token(db, &id, now).await })).await?;
        }
        tracing::Span::current().record("user", tracing::field::display(&user.id));
        Ok(Caller { user_id: user.id, email: user.email, token_id: t.id, token_expires_at: t.expires_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_stored_only_as_hashes() {
        let t = new_token().expect("token");
        assert_eq!(URL_SAFE_NO_PAD.decode(&t).expect("base64url").len(), 32);
        assert_ne!(new_token().expect("token"), t);
        assert_eq!(secret_hash(&t).len(), 64);
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse", PasswordCost::TestsOnly).expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
