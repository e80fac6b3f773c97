//! The trust store tab: CSCAs (and other certificates) by country with their validity, CRLs
//! with their next update, and imports by upload through the same checks as `trust import`.
//!
//! The trust store is the server's, shared by every account: any signed-in integrator sees
//! it, and may add to it as the operator's CLI does.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Signed, csrf_refused, internal_error, render, require_sign_in, show_time};
use crate::state::AppState;

/// Certificates that end within this many days are marked as expiring.
pub const EXPIRING_DAYS: i64 = 90;

pub struct EntryLine {
    pub country: String,
    pub kind: &'static str,
    pub subject: String,
    pub valid_from: String,
    pub valid_until: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard/trust.html")]
struct TrustPage {
    nav: Option<Nav>,
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    imported: Vec<String>,
    /// Whether this account may import (the `trust_administrators` setting).
    may_import: bool,
    certificates: Vec<EntryLine>,
    crls: Vec<EntryLine>,
}

fn kind_text(kind: icao9303::pki::EntryKind) -> &'static str {
    use icao9303::pki::EntryKind;
    match kind {
        EntryKind::Csca => "CSCA",
        EntryKind::LinkCertificate => "Link certificate",
        EntryKind::DocumentSigner => "Document signer",
        EntryKind::Crl => "CRL",
    }
}

/// The stored entries, read back as certificates and CRLs with their status at `now`.
fn describe_entries(
    entries: &[crate::store::TrustEntry],
    now: i64,
) -> (Vec<EntryLine>, Vec<EntryLine>) {
    let (mut certificates, mut crls) = (Vec::new(), Vec::new());
    for stored in entries {
        let mut probe = icao9303::pki::TrustStore::new();
        let Ok(summary) = probe.import(&stored.der) else {
            continue;
        };
        for e in summary.entries {
            let from = e.valid_from.unix_timestamp();
            let until = e.valid_until.map(|t| t.unix_timestamp());
            let is_crl = e.kind == icao9303::pki::EntryKind::Crl;
            let (status, status_class) = if is_crl {
                match until {
                    Some(next) if next < now => ("Stale: past its next update", "bad"),
                    Some(_) => ("Current", "ok"),
                    None => ("No next update given", "warn"),
                }
            } else if from > now {
                ("Not valid yet", "warn")
            } else {
                match until {
                    Some(end) if end < now => ("Expired", "bad"),
                    Some(end) if end < now + EXPIRING_DAYS * 86400 => {
                        ("Expiring within 90 days", "warn")
                    }
                    _ => ("Valid", "ok"),
                }
            };
            let line = EntryLine {
                country: e.country.clone().unwrap_or_else(|| "?".to_owned()),
                kind: kind_text(e.kind),
                subject: e.subject.clone(),
                valid_from: show_time(from),
                valid_until: until.map_or_else(|| "—".to_owned(), show_time),
                status,
                status_class,
            };
            if is_crl {
                crls.push(line);
            } else {
                certificates.push(line);
            }
        }
    }
    let key = |l: &EntryLine| (l.country.clone(), l.kind, l.subject.clone());
    certificates.sort_by_key(key);
    crls.sort_by_key(key);
    (certificates, crls)
}

const NOT_ALLOWED: &str = "This account may not import into the trust store: it is the whole \
    server's, so a certificate added here is trusted for every account's sessions. The server's \
    operator imports with `passport-reader trust import`, or names the accounts that may in the \
    trust_administrators setting.";

async fn trust_page(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    imported: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let entries = match state.store.list_trust_entries().await {
        Ok(e) => e,
        Err(e) => return internal_error("listing the trust store", &e),
    };
    let now = state.clock.now();
    let (certificates, crls) =
        match tokio::task::spawn_blocking(move || describe_entries(&entries, now)).await {
            Ok(x) => x,
            Err(e) => return internal_error("reading the trust store", &e),
        };
    render(
        status,
        &TrustPage {
            nav: signed.nav("trust"),
            notice,
            error,
            csrf: signed.csrf.clone(),
            imported,
            may_import: state.dashboard.may_import_trust(&signed.email),
            certificates,
            crls,
        },
    )
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    trust_page(&state, &signed, StatusCode::OK, Vec::new(), None, None).await
}

pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let signed = match require_sign_in(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !state.dashboard.may_import_trust(&signed.email) {
        tracing::warn!("dashboard: a trust store import by an account not allowed to");
        return trust_page(
            &state,
            &signed,
            StatusCode::FORBIDDEN,
            Vec::new(),
            None,
            Some(NOT_ALLOWED.to_owned()),
        )
        .await;
    }
    let (mut csrf, mut file) = (None, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) if name == "csrf" => {
                        csrf = Some(String::from_utf8_lossy(&bytes).into_owned());
                    }
                    Ok(bytes) if name == "file" => file = Some(bytes),
                    Ok(_) => {}
                    Err(_) => return upload_refused(&state, &signed).await,
                }
            }
            Ok(None) => break,
            Err(_) => return upload_refused(&state, &signed).await,
        }
    }
    if signed.check_csrf(csrf.as_deref()).is_err() {
        return csrf_refused();
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return trust_page(
            &state,
            &signed,
            StatusCode::UNPROCESSABLE_ENTITY,
            Vec::new(),
            None,
            Some("Choose a file to import.".to_owned()),
        )
        .await;
    };
    match crate::trust::import_file(&state.store, &file, state.clock.now()).await {
        Ok(results) => {
            let added = results.iter().filter(|(_, added)| *added).count();
            let imported = results
                .iter()
                .map(|(e, added)| {
                    format!(
                        "{}: {} ({})",
                        e.kind,
                        e.description,
                        if *added { "added" } else { "already present" }
                    )
                })
                .collect();
            tracing::info!(
                entries = results.len(),
                added,
                "dashboard: trust store import"
            );
            trust_page(
                &state,
                &signed,
                StatusCode::OK,
                imported,
                Some(format!("{added} of {} entries added.", results.len())),
                None,
            )
            .await
        }
        Err(e) => {
            trust_page(
                &state,
                &signed,
                StatusCode::UNPROCESSABLE_ENTITY,
                Vec::new(),
                None,
                Some(format!("The file was not imported: {e}")),
            )
            .await
        }
    }
}

async fn upload_refused(state: &AppState, signed: &Signed) -> Response {
    trust_page(
        state,
        signed,
        StatusCode::BAD_REQUEST,
        Vec::new(),
        None,
        Some("The upload could not be read (is it larger than 16 MiB?).".to_owned()),
    )
    .await
}
