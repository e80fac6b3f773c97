//! The one API error type, and the one place where an error becomes an HTTP status.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::sessions::SessionError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body is not a JSON object.
    #[error("{0}")]
    InvalidRequest(String),
    /// A property has the wrong type or an invalid value; the message names it and what it
    /// must be.
    #[error("{0}")]
    InvalidProperty(String),
    #[error("Property '{0}' is required")]
    MissingProperty(&'static str),
    #[error("No session found with id: {0}")]
    SessionNotFound(i64),
    #[error("Session {0} is finished and can no longer be changed")]
    SessionFinished(i64),
    /// `reader.submit` before `reader.start`.
    #[error("Session {0} has not been started: call reader.start first")]
    SessionNotStarted(i64),
    /// A reader API token that names no session.
    #[error("Invalid session token")]
    InvalidToken,
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("No API method {0:?}; the methods are listed in /api/openapi.json")]
    MethodNotFound(String),
    #[error("Not found; the API is under /api/ (see /api/openapi.json)")]
    NotFound,
    #[error("API requests must be POST requests")]
    MethodNotAllowed,
    #[error("The request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("The request took longer than the limit of {0} seconds")]
    Timeout(u64),
    /// Load shedding: the server is handling its limit of requests at once.
    #[error(
        "The server is handling its limit of {0} requests at once; retry after the Retry-After header's seconds"
    )]
    Busy(usize),
    /// Details are logged, never sent.
    #[error("Internal error")]
    Internal,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest(_)
            | ApiError::InvalidProperty(_)
            | ApiError::MissingProperty(_)
            | ApiError::SessionFinished(_)
            | ApiError::SessionNotStarted(_) => StatusCode::BAD_REQUEST,
            ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::SessionNotFound(_) | ApiError::MethodNotFound(_) | ApiError::NotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error_name` of the response body.
    pub fn name(&self) -> &'static str {
        match self {
            ApiError::InvalidRequest(_) => "InvalidRequest",
            ApiError::InvalidProperty(_) => "InvalidProperty",
            ApiError::MissingProperty(_) => "MissingProperty",
            ApiError::SessionNotFound(_) => "SessionNotFound",
            ApiError::SessionFinished(_) => "SessionFinished",
            ApiError::SessionNotStarted(_) => "SessionNotStarted",
            ApiError::InvalidToken => "InvalidToken",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::MethodNotFound(_) => "MethodNotFound",
            ApiError::NotFound => "NotFound",
            ApiError::MethodNotAllowed => "MethodNotAllowed",
            ApiError::PayloadTooLarge(_) => "RequestTooLarge",
            ApiError::Timeout(_) => "Timeout",
            ApiError::Busy(_) => "ServerBusy",
            ApiError::Internal => "InternalError",
        }
    }

    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({ "error_name": self.name(), "error_message": self.to_string() })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        match self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"passport-reader\""),
                );
            }
            // The reader API's session token.
            ApiError::InvalidToken => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"passport-reader\""),
                );
            }
            ApiError::MethodNotAllowed => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
            }
            // The rest of the body is left unread, so the connection cannot carry another
            // request; saying so keeps clients from reusing it.
            ApiError::PayloadTooLarge(_) | ApiError::Timeout(_) => {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            ApiError::Busy(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        ApiError::Internal
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::NotFound(id) => ApiError::SessionNotFound(id),
            SessionError::Finished(id) => ApiError::SessionFinished(id),
            SessionError::Store(e) => e.into(),
            #[allow(unreachable_patterns)]
            _ => ApiError::Internal,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        let cases = [
            (ApiError::InvalidRequest("x".into()), 400, "InvalidRequest"),
            (
                ApiError::InvalidProperty("x".into()),
                400,
                "InvalidProperty",
            ),
            (ApiError::MissingProperty("id"), 400, "MissingProperty"),
            (ApiError::SessionFinished(1), 400, "SessionFinished"),
            (ApiError::SessionNotStarted(1), 400, "SessionNotStarted"),
            (ApiError::InvalidToken, 401, "InvalidToken"),
            (ApiError::Unauthorized("x"), 401, "Unauthorized"),
            (ApiError::SessionNotFound(123), 404, "SessionNotFound"),
            (
                ApiError::MethodNotFound("a.b".into()),
                404,
                "MethodNotFound",
            ),
            (ApiError::NotFound, 404, "NotFound"),
            (ApiError::MethodNotAllowed, 405, "MethodNotAllowed"),
            (ApiError::PayloadTooLarge(10), 413, "RequestTooLarge"),
            (ApiError::Timeout(60), 503, "Timeout"),
            (ApiError::Busy(1024), 503, "ServerBusy"),
            (ApiError::Internal, 500, "InternalError"),
        ];
        for (error, status, name) in cases {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.name(), name);
        }
        assert_eq!(
            ApiError::SessionNotFound(123).body(),
            serde_json::json!({"error_message": "No session found with id: 123", "error_name": "SessionNotFound"})
        );
        let store_error: ApiError = StoreError::Config("boom".into()).into();
        assert_eq!(store_error, ApiError::Internal);
    }
}
