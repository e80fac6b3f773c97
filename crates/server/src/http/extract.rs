//! Extractors: the integrator's Basic credentials (authenticated against the store), the
//! holder's session token (`Bearer`), and a request body read up to a limit.

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::ApiError;
use crate::auth::{self, Caller};
use crate::state::AppState;

/// The account an integrator's request acts for: HTTP Basic with an unrevoked credential pair.
/// Handlers take `Result<Authenticated, ApiError>` to decide when a failure counts.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .ok_or(ApiError::Unauthorized(
                "API requests need HTTP Basic authentication: the public key as user name, the secret as password",
            ))?;
        let (public_key, secret) = parse_basic(header).ok_or(ApiError::Unauthorized(
            "The Authorization header must be HTTP Basic: base64(public key + ':' + secret)",
        ))?;
        let caller = auth::authenticate(&state.store, &state.credentials, &public_key, &secret)
            .await?
            .ok_or(ApiError::Unauthorized("Invalid or revoked API credentials"))?;
        // "Last used" on the dashboard: at most once a minute per credential, off the
        // request's path; a failure to note it fails nothing.
        let now = state.clock.now();
        if state.last_use.due(caller.credential_id, now) {
            let store = state.store.clone();
            let id = caller.credential_id;
            tokio::spawn(async move {
                if let Err(e) = store.touch_credential(id, now).await {
                    tracing::warn!(error = %e, "cannot note the credential's last use");
                }
            });
        }
        Ok(Authenticated(caller))
    }
}

/// Splits an `Authorization: Basic base64(public_key:secret)` header value.
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_owned(), pass.to_owned()))
}

/// The holder's session token from `Authorization: Bearer …` (not yet looked up).
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

impl<S: Sync> FromRequestParts<S> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        bearer(&parts.headers).map(|t| SessionToken(t.to_owned()))
    }
}

/// The token from `Authorization: Bearer …`.
pub fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = ApiError::Unauthorized(
        "Reader API requests need the session token: Authorization: Bearer <token>",
    );
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or(missing.clone())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(missing.clone())?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing);
    }
    Ok(token.trim())
}

/// The body, refused with 413 past `limit` bytes (declared or actual).
pub async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_header() {
        let h = format!("Basic {}", STANDARD.encode("public-key-abc:secret-x:y"));
        assert_eq!(
            parse_basic(&h),
            Some(("public-key-abc".into(), "secret-x:y".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn reads_bearer_tokens() {
        let mut h = HeaderMap::new();
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, "Bearer  abc ".parse().unwrap());
        assert_eq!(bearer(&h).unwrap(), "abc");
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(bearer(&h).is_err());
    }
}
