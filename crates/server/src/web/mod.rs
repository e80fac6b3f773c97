//! The holder's web pages: `GET /open?token=…[&redirect_url=…]`, the link integrators send their
//! users to, with the live state it follows (`GET /open/state?token=…`) and its static script and
//! style. Server-rendered HTML; the script only polls.

pub mod page;
pub mod qr;

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::api::AppState;
use crate::auth;
use crate::config::Settings;
use crate::sessions::model::SessionRow;
use crate::store::StoreError;
use page::{HolderPage, Redirect};

/// No inline script or style, nothing from elsewhere; the page may not be framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Session tokens are 43 characters; anything much longer is not worth a database look-up.
const MAX_TOKEN_LEN: usize = 128;

const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// What the pages need from the settings: where holders reach this server.
#[derive(Debug, Clone)]
pub struct PageSettings {
    /// `public_url`, checked, without a trailing slash.
    public_url: Option<String>,
    /// For a base URL taken from the `Host` header.
    scheme: &'static str,
    listen: String,
}

impl PageSettings {
    /// An invalid `public_url` is left out here; [`check_public_url`] refuses it at start-up.
    pub fn new(settings: &Settings) -> PageSettings {
        PageSettings {
            public_url: settings
                .public_url
                .as_deref()
                .and_then(|u| check_public_url(u).ok()),
            scheme: if settings.tls_cert.is_some() {
                "https"
            } else {
                "http"
            },
            listen: settings.listen.clone(),
        }
    }

    /// `public_url` if set, else this request's `Host` (or the listen address) with the scheme
    /// this server speaks.
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.public_url {
            return u.clone();
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plausible_host(h))
            .unwrap_or(&self.listen);
        format!("{}://{host}", self.scheme)
    }
}

/// `public_url` normalized (no trailing slash), or why it is unusable.
pub fn check_public_url(raw: &str) -> Result<String, String> {
    let parsed = url::Url::parse(raw).map_err(|e| format!("invalid public_url {raw:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
    {
        return Err(format!(
            "invalid public_url {raw:?}: expected http(s)://HOST[:PORT][/PATH], without query"
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A `Host` header fit to be shown and linked to: a name or address and a port, nothing else.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open", get(open_page))
        .route("/open/state", get(open_state))
        .route("/open/app.js", get(app_js))
        .route("/open/app.css", get(app_css))
}

/// `token` and `redirect_url` from the query; never a rejection, whatever the query holds.
fn query_params(query: Option<&str>) -> (Option<String>, Option<String>) {
    let (mut token, mut redirect) = (None, None);
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "token" if token.is_none() => token = Some(v.into_owned()),
            "redirect_url" if redirect.is_none() => redirect = Some(v.into_owned()),
            _ => {}
        }
    }
    (token, redirect)
}

async fn session_for(
    state: &AppState,
    token: Option<&str>,
) -> Result<Option<SessionRow>, StoreError> {
    let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN) else {
        return Ok(None);
    };
    state
        .store
        .session_by_token_hash(&auth::sha256(token.as_bytes()), state.clock.now())
        .await
}

/// Headers of everything under /open that carries the token or session state.
fn private_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    private_headers(headers);
    response
}

async fn open_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (token, redirect) = query_params(query.as_deref());
    let redirect = Redirect::parse(redirect.as_deref());
    let session = match session_for(&state, token.as_deref()).await {
        Ok(Some(s)) => s,
        Ok(None) => return html(StatusCode::NOT_FOUND, page::not_found_page()),
        Err(e) => {
            tracing::error!(error = %e, "storage failure on the holder's page");
            return html(StatusCode::INTERNAL_SERVER_ERROR, page::error_page());
        }
    };
    let text = page::describe(session.state, session.state_reason.as_deref());
    if page::ends_flow(session.state) {
        return html(
            StatusCode::GONE,
            page::ended_page(text, session.state, &redirect),
        );
    }
    let base_url = state.web.base_url(&headers);
    html(
        StatusCode::OK,
        page::holder_page(&HolderPage {
            state: session.state,
            text,
            face_verification: session.face_verification,
            passport_only: session.passport_only,
            token: token.as_deref().unwrap_or_default(),
            base_url: &base_url,
            redirect: &redirect,
        }),
    )
}

/// `{"state", "finished", "title", "message", "progress"}`: what the page shows, and no
/// personal data.
async fn open_state(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let (token, _) = query_params(query.as_deref());
    let (status, body) = match session_for(&state, token.as_deref()).await {
        Ok(Some(s)) => {
            let text = page::describe(s.state, s.state_reason.as_deref());
            (
                StatusCode::OK,
                json!({
                    "state": s.state.as_str(),
                    "finished": page::ends_flow(s.state),
                    "title": text.title,
                    "message": text.message,
                    // A relay's progress, when the read runs on this server instance.
                    "progress": if page::ends_flow(s.state) { None } else { state.relays.progress(s.id) },
                }),
            )
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            json!({ "error_name": "SessionNotFound", "error_message": "No session found with this token" }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "storage failure on the holder's state");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error_name": "InternalError", "error_message": "Internal error" }),
            )
        }
    };
    let mut response = (status, Json(body)).into_response();
    private_headers(response.headers_mut());
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated on each use, so a new version of the server never runs an old script.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn public_url_must_be_an_absolute_http_base() {
        assert_eq!(
            check_public_url("https://id.example/").unwrap(),
            "https://id.example"
        );
        assert_eq!(
            check_public_url("https://id.example/pr/").unwrap(),
            "https://id.example/pr"
        );
        for bad in [
            "id.example",
            "ftp://id.example",
            "https://id.example/?a=b",
            "/x",
        ] {
            assert!(check_public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_url_from_setting_then_host_then_listen() {
        let mut settings = Settings::default();
        let mut headers = HeaderMap::new();
        assert_eq!(
            PageSettings::new(&settings).base_url(&headers),
            "http://127.0.0.1:4000"
        );
        headers.insert(header::HOST, HeaderValue::from_static("id.example:8443"));
        assert_eq!(
            PageSettings::new(&settings).base_url(&headers),
            "http://id.example:8443"
        );
        headers.insert(header::HOST, HeaderValue::from_static("a\"b"));
        assert_eq!(
            PageSettings::new(&settings).base_url(&headers),
            "http://127.0.0.1:4000"
        );
        settings.public_url = Some("https://id.example/".into());
        assert_eq!(
            PageSettings::new(&settings).base_url(&headers),
            "https://id.example"
        );
    }

    #[test]
    fn query_takes_the_first_of_each_and_never_fails() {
        assert_eq!(
            query_params(Some("token=a%2Bb&redirect_url=https%3A%2F%2Fx&token=c")),
            (Some("a+b".into()), Some("https://x".into()))
        );
        assert_eq!(
            query_params(Some("%zz&=&token")),
            (Some(String::new()), None)
        );
        assert_eq!(query_params(None), (None, None));
    }
}
