//! Signing in and out: email and password, then the TOTP or a recovery code if the account has
//! two-factor sign-in on. Failed attempts are throttled per account and per client address;
//! the answers (and their timing) are the same whether or not the email names an account.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::{
    COOKIE, IDLE_SECONDS, Nav, SIGN_IN_COOKIE, SIGN_IN_LIFETIME_SECONDS, client_address, cookie,
    csrf_refused, current_sign_in, internal_error, os_random_token, redirect, render, set_cookie,
    tokens_equal, totp,
};
use crate::state::AppState;
use crate::store::dashboard::DashboardSessionRow;
use crate::support::digest::sha256;

/// Failed sign-ins counted over this window…
pub const THROTTLE_WINDOW_SECONDS: i64 = 15 * 60;
/// …at most this many for one account (email, whether or not it exists)…
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// …and this many from one client address.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

pub const WRONG_CREDENTIALS: &str = "The email address or the password is not right.";
pub const THROTTLED: &str = "Too many failed sign-ins. Wait 15 minutes, then try again.";
const WRONG_CODE: &str = "That code is not right, or it was used already.";

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    email: String,
}

#[derive(Template)]
#[template(path = "dashboard/second_factor.html")]
struct SecondFactorPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
}

#[derive(serde::Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub code: String,
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

fn account_subject(email: &str) -> String {
    format!(
        "account:{}",
        hex::encode(sha256(email.trim().to_lowercase().as_bytes()))
    )
}

fn address_subject(address: Option<std::net::IpAddr>) -> String {
    format!(
        "address:{}",
        address.map_or_else(|| "unknown".to_owned(), |a| a.to_string())
    )
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current_sign_in(&state, &headers, true).await {
        Ok(Some((_, false))) => redirect("/dashboard/sessions"),
        Ok(Some((_, true))) => redirect("/dashboard/sign-in/two-factor"),
        Ok(None) => redirect("/dashboard/sign-in"),
        Err(r) => r,
    }
}

fn sign_in_form(
    state: &AppState,
    status: StatusCode,
    csrf: Option<String>,
    email: String,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let csrf = csrf.unwrap_or_else(|| os_random_token(32));
    let mut response = render(
        status,
        &SignInPage {
            nav: None,
            notice,
            error,
            csrf: csrf.clone(),
            email,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.dashboard, SIGN_IN_COOKIE, &csrf, 3600),
    );
    response
}

pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match current_sign_in(&state, &headers, false).await {
        Ok(Some(_)) => return redirect("/dashboard/sessions"),
        Ok(None) => {}
        Err(r) => return r,
    }
    let notice = (query.as_deref() == Some("signed-out")).then(|| "You are signed out.".to_owned());
    let existing = cookie(&headers, SIGN_IN_COOKIE).filter(|c| c.len() == 43);
    sign_in_form(
        &state,
        StatusCode::OK,
        existing,
        String::new(),
        notice,
        None,
    )
}

/// Starts a sign-in: a new row and its cookie.
async fn start_session(
    state: &AppState,
    account_id: i64,
    second_factor_pending: bool,
) -> Result<(String, axum::http::HeaderValue), Response> {
    let now = state.clock.now();
    let token = os_random_token(32);
    let row = DashboardSessionRow {
        id: crate::support::ids::random_id(),
        account_id,
        token_hash: sha256(token.as_bytes()),
        csrf_token: os_random_token(32),
        second_factor_pending,
        created: now,
        expires: now + SIGN_IN_LIFETIME_SECONDS,
        last_seen: now,
    };
    state
        .store
        .insert_dashboard_session(&row)
        .await
        .map_err(|e| internal_error("starting a sign-in", &e))?;
    let max_age = SIGN_IN_LIFETIME_SECONDS.min(IDLE_SECONDS * 8);
    Ok((
        token.clone(),
        set_cookie(&state.dashboard, COOKIE, &token, max_age),
    ))
}

async fn throttled(state: &AppState, subjects: &[&str]) -> Result<bool, Response> {
    let since = state.clock.now() - THROTTLE_WINDOW_SECONDS;
    for (i, subject) in subjects.iter().enumerate() {
        let limit = if i == 0 {
            MAX_FAILURES_PER_ACCOUNT
        } else {
            MAX_FAILURES_PER_ADDRESS
        };
        let n = state
            .store
            .count_sign_in_failures(subject, since)
            .await
            .map_err(|e| internal_error("reading the sign-in throttle", &e))?;
        if n >= limit {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn record_failure(state: &AppState, subjects: &[&str]) -> Result<(), Response> {
    let now = state.clock.now();
    for subject in subjects {
        state
            .store
            .record_sign_in_failure(subject, now)
            .await
            .map_err(|e| internal_error("recording a failed sign-in", &e))?;
    }
    Ok(())
}

pub async fn sign_in(
    State(state): State<AppState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    // Double submit: the form's token must be the one this browser got with the form.
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !tokens_equal(&expected, &form.csrf) {
        return csrf_refused();
    }
    let account = account_subject(&form.email);
    let address = address_subject(client_address(&state, peer, &headers));
    let subjects = [account.as_str(), address.as_str()];
    let again = |status, error: &str| {
        sign_in_form(
            &state,
            status,
            Some(expected.clone()),
            form.email.chars().take(320).collect(),
            None,
            Some(error.to_owned()),
        )
    };
    match throttled(&state, &subjects).await {
        Ok(true) => return again(StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        Ok(false) => {}
        Err(r) => return r,
    }
    let found =
        match super::password::check_sign_in(&state.store, &form.email, &form.password).await {
            Ok(found) => found,
            Err(e) => return internal_error("checking a password", &e),
        };
    let Some(row) = found else {
        if let Err(r) = record_failure(&state, &subjects).await {
            return r;
        }
        return again(StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS);
    };
    if let Err(e) = state.store.clear_sign_in_failures(&account).await {
        return internal_error("clearing the sign-in throttle", &e);
    }
    let now = state.clock.now();
    if let Err(e) = state.store.prune_dashboard(now - 86400).await {
        tracing::warn!(error = %e, "dashboard: pruning old sign-ins failed");
    }
    let two_factor = match state.store.totp(row.id).await {
        Ok(t) => t.is_some_and(|t| t.enabled.is_some()),
        Err(e) => return internal_error("reading two-factor settings", &e),
    };
    let (_, cookie_value) = match start_session(&state, row.id, two_factor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut response = redirect(if two_factor {
        "/dashboard/sign-in/two-factor"
    } else {
        "/dashboard/sessions"
    });
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, cookie_value);
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state.dashboard, SIGN_IN_COOKIE, "", 0),
    );
    response
}

pub async fn second_factor_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match current_sign_in(&state, &headers, true).await {
        Ok(Some((signed, true))) => render(
            StatusCode::OK,
            &SecondFactorPage {
                nav: None,
                notice: None,
                error: None,
                csrf: signed.csrf,
            },
        ),
        Ok(Some((_, false))) => redirect("/dashboard/sessions"),
        Ok(None) => redirect("/dashboard/sign-in"),
        Err(r) => r,
    }
}

/// Normalised recovery code: upper case, without spaces or dashes.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether `code` is the account's current TOTP code (not used before) or an unused recovery
/// code (which it then spends).
pub async fn check_second_factor(
    state: &AppState,
    account_id: i64,
    code: &str,
) -> Result<bool, crate::store::StoreError> {
    let now = state.clock.now();
    let Some(totp_row) = state.store.totp(account_id).await? else {
        return Ok(false);
    };
    if totp_row.enabled.is_none() {
        return Ok(false);
    }
    if let Some(step) = totp::matching_step(&totp_row.secret, code, now) {
        return state.store.use_totp_step(account_id, step).await;
    }
    let normalised = normalise_recovery_code(code);
    if normalised.len() != 10 {
        return Ok(false);
    }
    state
        .store
        .use_recovery_code(account_id, &sha256(normalised.as_bytes()), now)
        .await
}

pub async fn second_factor(
    State(state): State<AppState>,
    peer: Option<axum::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let signed = match current_sign_in(&state, &headers, true).await {
        Ok(Some((signed, true))) => signed,
        Ok(Some((_, false))) => return redirect("/dashboard/sessions"),
        Ok(None) => return redirect("/dashboard/sign-in"),
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let account = account_subject(&signed.email);
    let address = address_subject(client_address(&state, peer, &headers));
    let subjects = [account.as_str(), address.as_str()];
    let now = state.clock.now();
    match throttled(&state, &subjects).await {
        Ok(true) => {
            // Start over: the password is asked for again once the wait is over.
            let _ = state.store.revoke_dashboard_session(signed.id, now).await;
            let mut response = sign_in_form(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                String::new(),
                None,
                Some(THROTTLED.to_owned()),
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state.dashboard, COOKIE, "", 0),
            );
            return response;
        }
        Ok(false) => {}
        Err(r) => return r,
    }
    match check_second_factor(&state, signed.account_id, &form.code).await {
        Ok(true) => {}
        Ok(false) => {
            if let Err(r) = record_failure(&state, &subjects).await {
                return r;
            }
            return render(
                StatusCode::UNAUTHORIZED,
                &SecondFactorPage {
                    nav: None,
                    notice: None,
                    error: Some(WRONG_CODE.to_owned()),
                    csrf: signed.csrf,
                },
            );
        }
        Err(e) => return internal_error("checking a second factor", &e),
    }
    let _ = state.store.clear_sign_in_failures(&account).await;
    // A new token for the complete sign-in: the half-way one is spent.
    if let Err(e) = state.store.revoke_dashboard_session(signed.id, now).await {
        return internal_error("ending the half-way sign-in", &e);
    }
    let (_, cookie_value) = match start_session(&state, signed.account_id, false).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut response = redirect("/dashboard/sessions");
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookie_value);
    response
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match current_sign_in(&state, &headers, true).await {
        Ok(Some((signed, _))) => signed,
        Ok(None) => return redirect("/dashboard/sign-in"),
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    if let Err(e) = state
        .store
        .revoke_dashboard_session(signed.id, state.clock.now())
        .await
    {
        return internal_error("signing out", &e);
    }
    let mut response = redirect("/dashboard/sign-in?signed-out");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state.dashboard, COOKIE, "", 0),
    );
    response
}
