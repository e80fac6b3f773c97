//! Sessions: one identity check requested by an integrator. No HTTP here; the API layer calls
//! these functions with an authenticated account and the current time.

pub mod live;

use crate::model::Reason;
use crate::store::{NewSession, SessionChange, SessionFilter, SessionRow};
use crate::store::{Store, StoreError};
use crate::support::digest::sha256;
use crate::support::ids::{random_id, random_token};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Also for a session of another account: the two must be indistinguishable.
    #[error("No session found with id: {0}")]
    NotFound(i64),
    #[error("Session {0} is finished and can no longer be changed")]
    Finished(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the integrator asks for in `session.create`.
#[derive(Debug, Clone, Default)]
pub struct CreateSession {
    pub reference: Option<String>,
    pub callback_url: Option<String>,
    pub face_verification: bool,
    pub passport_only: bool,
}

/// The new session's id and the token the holder's reading client will present. The token has
/// 256 random bits and is stored only as its SHA-256.
#[derive(Debug, Clone)]
pub struct CreatedSession {
    pub id: i64,
    pub token: String,
    pub expires: i64,
}

pub async fn create(
    store: &Store,
    account_id: i64,
    request: CreateSession,
    ttl_seconds: i64,
    now: i64,
) -> Result<CreatedSession, SessionError> {
    let mut last_error = None;
    for _ in 0..5 {
        let token = random_token(32);
        let new = NewSession {
            id: random_id(),
            account_id,
            reference: request.reference.clone(),
            callback_url: request.callback_url.clone(),
            face_verification: request.face_verification,
            passport_only: request.passport_only,
            created: now,
            expires: now.saturating_add(ttl_seconds),
            token_hash: sha256(token.as_bytes()),
        };
        match store.insert_session(&new).await {
            Ok(()) => {
                return Ok(CreatedSession {
                    id: new.id,
                    token,
                    expires: new.expires,
                });
            }
            // An id collision: draw again.
            Err(e) if e.is_unique_violation() => last_error = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_error
        .unwrap_or_else(|| StoreError::Config("no id drawn".into()))
        .into())
}

pub async fn get(
    store: &Store,
    account_id: i64,
    id: i64,
    now: i64,
) -> Result<SessionRow, SessionError> {
    store
        .get_session(account_id, id, now)
        .await?
        .ok_or(SessionError::NotFound(id))
}

pub async fn list(
    store: &Store,
    account_id: i64,
    filter: &SessionFilter,
    now: i64,
) -> Result<Vec<SessionRow>, SessionError> {
    store
        .list_sessions(account_id, filter, now)
        .await?
        .ok_or(SessionError::NotFound(filter.after_id.unwrap_or_default()))
}

pub async fn update(
    store: &Store,
    account_id: i64,
    id: i64,
    reference: Option<&str>,
    callback_url: Option<&str>,
    now: i64,
) -> Result<SessionRow, SessionError> {
    match store
        .update_session(account_id, id, reference, callback_url, now)
        .await?
    {
        SessionChange::Applied(session) => Ok(*session),
        SessionChange::NotFound => Err(SessionError::NotFound(id)),
        SessionChange::Finished => Err(SessionError::Finished(id)),
    }
}

pub async fn abort(
    store: &Store,
    account_id: i64,
    id: i64,
    now: i64,
) -> Result<SessionRow, SessionError> {
    match store
        .abort_session(account_id, id, Reason::AbortedByIntegrator, now)
        .await?
    {
        SessionChange::Applied(session) => Ok(*session),
        SessionChange::NotFound => Err(SessionError::NotFound(id)),
        SessionChange::Finished => Err(SessionError::Finished(id)),
    }
}

pub async fn delete(store: &Store, account_id: i64, id: i64) -> Result<(), SessionError> {
    if store.delete_session(account_id, id).await? {
        Ok(())
    } else {
        Err(SessionError::NotFound(id))
    }
}
