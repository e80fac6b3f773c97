//! The settings tab: API credentials (create, list, revoke), the webhook signing secret (show,
//! rotate), two-factor sign-in, and the server's settings that apply to the account.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::signin::{CodeForm, CsrfForm, check_second_factor};
use super::{
    Nav, Signed, internal_error, os_random_bytes, redirect, render, require_sign_in, show_duration,
    show_time, totp,
};
use crate::accounts::{self, NewCredentials};
use crate::state::AppState;
use crate::support::digest::sha256;

pub struct CredentialView {
    pub name: String,
    pub public_key: String,
    pub created: String,
    pub last_used: String,
    pub revoked: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    created: Option<NewCredentials>,
    credentials: Vec<CredentialView>,
    webhook_secret: String,
    two_factor_enabled: bool,
    recovery_codes_left: i64,
    retention: String,
    face_threshold: String,
    session_ttl: String,
    clone_check: String,
}

#[derive(Template)]
#[template(path = "dashboard/two_factor_setup.html")]
struct TwoFactorPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    secret_base32: String,
    qr_svg: String,
    recovery_codes: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    public_key: String,
}

async fn settings_page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    created: Option<NewCredentials>,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let store = &state.store;
    let credentials = match store.credentials_with_last_use(signed.account_id).await {
        Ok(list) => list,
        Err(e) => return internal_error("listing credentials", &e),
    };
    let webhook_secret = match accounts::webhook_secret(store, &signed.email, false).await {
        Ok(s) => s,
        Err(e) => return internal_error("reading the webhook secret", &e),
    };
    let (two_factor_enabled, recovery_codes_left) = match store.totp(signed.account_id).await {
        Ok(Some(t)) if t.enabled.is_some() => (
            true,
            store
                .unused_recovery_codes(signed.account_id)
                .await
                .unwrap_or_default(),
        ),
        Ok(_) => (false, 0),
        Err(e) => return internal_error("reading two-factor settings", &e),
    };
    let config = &state.dashboard;
    render(
        status,
        &SettingsPage {
            nav: signed.nav("settings"),
            notice,
            error,
            csrf: signed.csrf.clone(),
            created,
            credentials: credentials
                .into_iter()
                .map(|(c, last_used)| CredentialView {
                    name: c.name.unwrap_or_default(),
                    public_key: c.public_key,
                    created: show_time(c.created),
                    last_used: last_used.map_or_else(|| "Never".to_owned(), show_time),
                    revoked: c.revoked.map(show_time),
                })
                .collect(),
            webhook_secret,
            two_factor_enabled,
            recovery_codes_left,
            retention: show_duration(config.personal_data_retention_seconds),
            face_threshold: format!("{}", config.face_match_threshold),
            session_ttl: show_duration(config.session_ttl_seconds),
            clone_check: if config.require_proven_clone_check {
                "A proven clone check (active or chip authentication) is required".to_owned()
            } else {
                "Chips without active or chip authentication are accepted".to_owned()
            },
        },
    )
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    settings_page(&state, &signed, StatusCode::OK, None, None, None).await
}

pub async fn create_credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let name: String = form.name.trim().chars().take(100).collect();
    let name = (!name.is_empty()).then_some(name);
    // Rendered straight away (not redirected): the secret is shown this once and kept nowhere.
    match accounts::create_credentials(&state.store, &state.clock, &signed.email, name.as_deref())
        .await
    {
        Ok(pair) => settings_page(&state, &signed, StatusCode::OK, Some(pair), None, None).await,
        Err(e) => internal_error("creating credentials", &e),
    }
}

pub async fn revoke_credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    // Only the account's own credentials: another account's public key is "not found".
    let owned = match accounts::list_credentials(&state.store, &signed.email).await {
        Ok(list) => list
            .iter()
            .any(|c| c.public_key == form.public_key && c.revoked.is_none()),
        Err(e) => return internal_error("listing credentials", &e),
    };
    if !owned {
        return settings_page(
            &state,
            &signed,
            StatusCode::NOT_FOUND,
            None,
            None,
            Some("You have no unrevoked credentials with that public key.".to_owned()),
        )
        .await;
    }
    match accounts::revoke_credentials(&state.store, &state.clock, &form.public_key).await {
        Ok(()) => {
            settings_page(
                &state,
                &signed,
                StatusCode::OK,
                None,
                Some(format!("Revoked {}.", form.public_key)),
                None,
            )
            .await
        }
        Err(e) => internal_error("revoking credentials", &e),
    }
}

pub async fn rotate_webhook_secret(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    match accounts::webhook_secret(&state.store, &signed.email, true).await {
        Ok(_) => {
            settings_page(
                &state,
                &signed,
                StatusCode::OK,
                None,
                Some("The webhook secret was rotated: callbacks are signed with the new one from now on.".to_owned()),
                None,
            )
            .await
        }
        Err(e) => internal_error("rotating the webhook secret", &e),
    }
}

fn two_factor_page_for(signed: &Signed, secret: &[u8], error: Option<String>) -> Response {
    let uri = totp::otpauth_uri("passport-reader", &signed.email, secret);
    render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        &TwoFactorPage {
            nav: signed.nav("settings"),
            notice: None,
            error,
            csrf: signed.csrf.clone(),
            secret_base32: totp::base32(secret),
            qr_svg: crate::web::qr::svg(&uri, "QR code of the authenticator key")
                .unwrap_or_default(),
            recovery_codes: None,
        },
    )
}

/// Shows a new secret to add to an authenticator app (not yet in force).
pub async fn two_factor_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let secret = os_random_bytes(20);
    match state
        .store
        .set_pending_totp(signed.account_id, &secret)
        .await
    {
        Ok(true) => two_factor_page_for(&signed, &secret, None),
        Ok(false) => redirect("/dashboard/settings"),
        Err(e) => internal_error("storing a TOTP secret", &e),
    }
}

/// Ten codes of ten base32 characters (50 bits each), shown as `XXXXX-XXXXX`.
fn recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let code: String = totp::base32(&os_random_bytes(7)).chars().take(10).collect();
            format!(
                "{}-{}",
                code.get(..5).unwrap_or_default(),
                code.get(5..).unwrap_or_default()
            )
        })
        .collect()
}

pub async fn enable_two_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    let pending = match state.store.totp(signed.account_id).await {
        Ok(Some(t)) if t.enabled.is_none() => t,
        Ok(_) => return redirect("/dashboard/settings"),
        Err(e) => return internal_error("reading two-factor settings", &e),
    };
    let now = state.clock.now();
    let Some(step) = totp::matching_step(&pending.secret, &form.code, now) else {
        return two_factor_page_for(
            &signed,
            &pending.secret,
            Some(
                "That code is not right. Check the app's clock and type the code it shows now."
                    .to_owned(),
            ),
        );
    };
    let codes = recovery_codes();
    let hashes: Vec<Vec<u8>> = codes
        .iter()
        .map(|c| sha256(super::signin::normalise_recovery_code(c).as_bytes()))
        .collect();
    match state
        .store
        .enable_totp(signed.account_id, step, &hashes, now)
        .await
    {
        Ok(true) => render(
            StatusCode::OK,
            &TwoFactorPage {
                nav: signed.nav("settings"),
                notice: None,
                error: None,
                csrf: signed.csrf.clone(),
                secret_base32: String::new(),
                qr_svg: String::new(),
                recovery_codes: Some(codes),
            },
        ),
        Ok(false) => redirect("/dashboard/settings"),
        Err(e) => internal_error("turning on two-factor sign-in", &e),
    }
}

pub async fn disable_two_factor(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    match check_second_factor(&state, signed.account_id, &form.code).await {
        Ok(true) => {}
        Ok(false) => {
            return settings_page(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                Some("That code is not right; two-factor sign-in stays on.".to_owned()),
            )
            .await;
        }
        Err(e) => return internal_error("checking a second factor", &e),
    }
    match state.store.disable_totp(signed.account_id).await {
        Ok(()) => {
            settings_page(
                &state,
                &signed,
                StatusCode::OK,
                None,
                Some("Two-factor sign-in is off.".to_owned()),
                None,
            )
            .await
        }
        Err(e) => internal_error("turning off two-factor sign-in", &e),
    }
}

/// Ends every sign-in of the account, this one included.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = signed.check_csrf(Some(&form.csrf)) {
        return r;
    }
    if let Err(e) = state
        .store
        .revoke_account_dashboard_sessions(signed.account_id, state.clock.now())
        .await
    {
        return internal_error("signing out everywhere", &e);
    }
    let mut response = redirect("/dashboard/sign-in?signed-out");
    response.headers_mut().append(
        axum::http::header::SET_COOKIE,
        super::set_cookie(&state.dashboard, super::COOKIE, "", 0),
    );
    response
}
