//! The reader API: what the holder's reading client (the web page, the `reader` crate) calls with
//! the session's token, `Authorization: Bearer <token>`, instead of the integrator's Basic
//! credentials. A token acts on its own session only, and only until that session is finished.
//!
//! `reader.start` (CREATED → INITIATED, a fresh active-authentication challenge), `reader.submit`
//! (the chip's files → COMPLETED while verified → APPROVED / REJECTED, or FAILED on our side),
//! `reader.abort` (→ ABORTED), `reader.state`. Tokens, files and personal data are never logged.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use icao9303::lds::sod::Sod;
use icao9303::lds::{CardAccess, Dg1, Dg2, Dg7, Dg11, Dg12, Dg14, Dg15, EfCom};
use serde_json::json;
use time::OffsetDateTime;

use crate::api::spec::{self, Method, Props, format_timestamp};
use crate::http::client;
use crate::http::error::ApiError;
use crate::http::extract::{bearer, read_body};
use crate::model::{CheckResult, Reason, State};
use crate::state::AppState;
use crate::store::SessionRow;
use crate::store::VerificationRecord;
use crate::support::digest::sha256;
use crate::verification::{self, AccessKey, Requirements, Submission};

/// Length of the active-authentication challenge (ICAO 9303 Part 11 §6.1: 8 bytes).
pub const AA_CHALLENGE_LEN: usize = 8;

/// The selfie as the JPEG the API shows: a JPEG as sent, a PNG transcoded.
pub(crate) fn selfie_jpeg(bytes: &[u8]) -> Result<Vec<u8>, ApiError> {
    let refuse = |e: String| {
        ApiError::InvalidProperty(format!(
            "Property 'selfie' must be a JPEG or PNG image: {e}"
        ))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return face::RgbImage::decode(bytes)
            .and_then(|image| image.to_jpeg(90))
            .map_err(|e| refuse(e.to_string()));
    }
    icao9303::portrait::jpeg_from_image(bytes).map_err(|e| refuse(e.to_string()))
}

/// Handles `reader.*`; `method` comes from [`spec::METHODS`].
pub async fn call(
    state: &AppState,
    method: &'static Method,
    headers: &HeaderMap,
    body: Body,
    peer: Option<IpAddr>,
) -> Result<Response, ApiError> {
    let token = bearer(headers)?;
    let now = state.clock.now();
    let session = state
        .store
        .session_by_token_hash(&sha256(token.as_bytes()), now)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let limit = if method.method == "submit" {
        state.reader.max_submit_bytes
    } else {
        state.max_body_bytes
    };
    let body = read_body(headers, body, limit).await?;
    let props = Props::extract(method, spec::parse_body(&body)?)?;
    let ip = client::client_ip(peer, headers, &state.reader.trusted_proxies).map(|i| i.to_string());
    let agent = client::user_agent(headers);
    let result = match method.method {
        "state" => json!({
            "state": session.state.as_str(),
            "state_reason": session.state_reason.map(Reason::as_str),
        }),
        "start" => start(state, &session, ip.as_deref(), agent.as_deref(), now).await?,
        "abort" => {
            refuse_finished(&session)?;
            if !state
                .store
                .abort_by_holder(session.id, Reason::AbortedByHolder, now)
                .await?
            {
                return Err(ApiError::SessionFinished(session.id));
            }
            json!({ "state": State::Aborted.as_str() })
        }
        "submit" => {
            submit(
                state,
                &session,
                &props,
                ip.as_deref(),
                agent.as_deref(),
                now,
            )
            .await?
        }
        _ => return Err(ApiError::MethodNotFound(method.path_name())),
    };
    Ok(Json(result).into_response())
}

pub(crate) fn refuse_finished(session: &SessionRow) -> Result<(), ApiError> {
    if session.state.is_finished() {
        Err(ApiError::SessionFinished(session.id))
    } else {
        Ok(())
    }
}

async fn start(
    state: &AppState,
    session: &SessionRow,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<serde_json::Value, ApiError> {
    refuse_finished(session)?;
    let challenge: [u8; AA_CHALLENGE_LEN] = rand::random();
    if !state
        .store
        .start_reading(session.id, &challenge, ip, agent, now)
        .await?
    {
        return Err(ApiError::SessionFinished(session.id));
    }
    Ok(json!({
        "session_id": session.id,
        "state": State::Initiated.as_str(),
        "face_verification": session.face_verification,
        "passport_only": session.passport_only,
        "aa_challenge": hex::encode(challenge),
        "expires": format_timestamp(session.expires),
    }))
}

/// Largest decoded size of each submitted property, in bytes.
const FILE_LIMITS: &[(&str, usize)] = &[
    ("com", 4 * 1024),
    ("sod", 64 * 1024),
    ("dg1", 4 * 1024),
    ("dg2", 4 * 1024 * 1024),
    ("dg7", 1024 * 1024),
    ("dg11", 64 * 1024),
    ("dg12", 2 * 1024 * 1024),
    ("dg14", 64 * 1024),
    ("dg15", 16 * 1024),
    ("card_access", 16 * 1024),
    ("selfie", 4 * 1024 * 1024),
];

fn decode_file(props: &Props, name: &'static str) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(text) = props.str(name) else {
        return Ok(None);
    };
    let bytes = STANDARD.decode(text.trim()).map_err(|_| {
        ApiError::InvalidProperty(format!(
            "Property '{name}' must be the file's bytes in base64 (standard alphabet, padded)"
        ))
    })?;
    let limit = FILE_LIMITS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(64 * 1024, |(_, l)| *l);
    if bytes.len() > limit {
        return Err(ApiError::InvalidProperty(format!(
            "Property '{name}' is larger than the limit of {limit} bytes"
        )));
    }
    Ok(Some(bytes))
}

fn malformed(name: &str, what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidProperty(format!(
        "Property '{name}' is not a well-formed {what}: {error}"
    ))
}

/// `reader.submit`'s body decoded and checked exactly as [`call`] does before anything is stored:
/// the JSON object, its properties, each file's base64, size limit and parser, the access key and
/// the selfie. A pure function of the bytes (the fuzz target in `crates/server/fuzz` feeds it);
/// `face_verification` is the session's, which makes the selfie required.
pub fn decode_submission(body: &[u8], face_verification: bool) -> Result<Submission, ApiError> {
    let method = spec::find("reader.submit").ok_or(ApiError::Internal)?;
    let props = Props::extract(method, spec::parse_body(body)?)?;
    parse_submission(&props, face_verification)
}

/// Decodes and checks every property of `reader.submit`; nothing is stored yet, so a client
/// whose submit is refused here can correct it and submit again.
fn parse_submission(props: &Props, face_verification: bool) -> Result<Submission, ApiError> {
    let required = |name: &'static str| -> Result<Vec<u8>, ApiError> {
        decode_file(props, name)?.ok_or(ApiError::MissingProperty(name))
    };
    let com = required("com")?;
    EfCom::parse(&com).map_err(|e| malformed("com", "EF.COM", e))?;
    let sod = required("sod")?;
    Sod::parse(&sod).map_err(|e| malformed("sod", "EF.SOD", e))?;
    let dg1 = required("dg1")?;
    Dg1::parse(&dg1).map_err(|e| malformed("dg1", "DG1", e))?;
    let dg2 = required("dg2")?;
    Dg2::parse(&dg2).map_err(|e| malformed("dg2", "DG2", e))?;
    let mut data_groups = std::collections::BTreeMap::from([(1u8, dg1), (2u8, dg2)]);
    type Check = fn(&[u8]) -> Result<(), String>;
    let optional: [(&'static str, u8, &str, Check); 5] = [
        ("dg7", 7, "DG7", |b| {
            Dg7::parse(b).map(drop).map_err(|e| e.to_string())
        }),
        ("dg11", 11, "DG11", |b| {
            Dg11::parse(b).map(drop).map_err(|e| e.to_string())
        }),
        ("dg12", 12, "DG12", |b| {
            Dg12::parse(b).map(drop).map_err(|e| e.to_string())
        }),
        ("dg14", 14, "DG14", |b| {
            Dg14::parse(b).map(drop).map_err(|e| e.to_string())
        }),
        ("dg15", 15, "DG15", |b| {
            Dg15::parse(b).map(drop).map_err(|e| e.to_string())
        }),
    ];
    for (name, number, what, check) in optional {
        if let Some(bytes) = decode_file(props, name)? {
            check(&bytes).map_err(|e| malformed(name, what, e))?;
            data_groups.insert(number, bytes);
        }
    }
    if let Some(card_access) = decode_file(props, "card_access")? {
        CardAccess::parse(&card_access)
            .map_err(|e| malformed("card_access", "EF.CardAccess", e))?;
    }
    let aa_response =
        match props.str("aa_response") {
            None => None,
            Some(text) => Some(hex::decode(text.trim()).map_err(|_| {
                ApiError::InvalidProperty("Property 'aa_response' must be hex".into())
            })?),
        };
    let access_key = match (
        props.str("access_document_number"),
        props.str("access_date_of_birth"),
        props.str("access_date_of_expiry"),
        props.str("access_can"),
    ) {
        (Some(number), Some(birth), Some(expiry), _) => {
            for (name, value) in [
                ("access_date_of_birth", birth),
                ("access_date_of_expiry", expiry),
            ] {
                if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(ApiError::InvalidProperty(format!(
                        "Property '{name}' must be a date YYMMDD, as in the MRZ"
                    )));
                }
            }
            AccessKey::Mrz {
                document_number: number.to_owned(),
                date_of_birth: birth.to_owned(),
                date_of_expiry: expiry.to_owned(),
            }
        }
        (None, None, None, Some(can)) => AccessKey::Can(can.to_owned()),
        _ => {
            return Err(ApiError::InvalidProperty(
                "The access key is required: access_document_number, access_date_of_birth and \
                 access_date_of_expiry (MRZ data), or access_can"
                    .into(),
            ));
        }
    };
    let selfie = match decode_file(props, "selfie")? {
        Some(bytes) => Some(selfie_jpeg(&bytes)?),
        None if face_verification => return Err(ApiError::MissingProperty("selfie")),
        None => None,
    };
    Ok(Submission {
        com,
        sod,
        data_groups,
        aa_response,
        access_key,
        chip_authentication: props
            .str("chip_authentication")
            .and_then(CheckResult::parse)
            .unwrap_or(CheckResult::NotChecked),
        chip_authentication_by_server: false,
        selfie,
    })
}

async fn submit(
    state: &AppState,
    session: &SessionRow,
    props: &Props,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<serde_json::Value, ApiError> {
    match session.state {
        State::Created => return Err(ApiError::SessionNotStarted(session.id)),
        State::Initiated => {}
        _ => return Err(ApiError::SessionFinished(session.id)),
    }
    let submission = parse_submission(props, session.face_verification)?;
    let challenge = session.holder_flow.aa_challenge.clone();
    let (final_state, rejection_reason) =
        verify_and_finish(state, session, submission, challenge, ip, agent, now).await?;
    Ok(json!({
        "state": final_state.as_str(),
        "rejection_reason": rejection_reason.map(Reason::as_str),
    }))
}

/// INITIATED → COMPLETED (only if `challenge` is still the session's: a newer read replaced
/// it otherwise), the verification, then → APPROVED / REJECTED (or FAILED on our side), as
/// `reader.submit` and the relay both end. Returns the final state and rejection reason.
pub(crate) async fn verify_and_finish(
    state: &AppState,
    session: &SessionRow,
    submission: Submission,
    challenge: Option<Vec<u8>>,
    ip: Option<&str>,
    agent: Option<&str>,
    now: i64,
) -> Result<(State, Option<Reason>), ApiError> {
    if !state
        .store
        .begin_verification(session.id, challenge.as_deref(), ip, agent, now)
        .await?
    {
        return Err(ApiError::SessionFinished(session.id));
    }
    let requirements = Requirements {
        passport_only: session.passport_only,
        face_verification: session.face_verification,
        require_proven_clone_check: state.reader.require_proven_clone_check,
        face_match_threshold: state.reader.face_match_threshold,
    };
    let record = match run_verification(state, submission, challenge, requirements).await {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(session = session.id, %error, "verification could not be carried out");
            failed_record(state.clock.now())
        }
    };
    let final_state = record.state.unwrap_or(State::Failed);
    match state.store.finish_verification(session.id, &record).await {
        Ok(true) => {}
        // Nothing else moves a COMPLETED session; refuse rather than report a state not stored.
        Ok(false) => return Err(ApiError::Internal),
        Err(error) => {
            // Do not leave the session COMPLETED for ever: one attempt to end it FAILED.
            tracing::error!(session = session.id, %error, "storing the verification failed");
            let failed = failed_record(state.clock.now());
            if let Err(error) = state.store.finish_verification(session.id, &failed).await {
                tracing::error!(session = session.id, %error, "ending the session FAILED failed");
            }
            return Err(ApiError::Internal);
        }
    }
    tracing::info!(
        session = session.id,
        state = final_state.as_str(),
        reason = record.rejection_reason.map_or("", Reason::as_str),
        "session verified"
    );
    Ok((final_state, record.rejection_reason))
}

/// A verification that could not be carried out on our side.
fn failed_record(now: i64) -> VerificationRecord {
    VerificationRecord {
        state: Some(State::Failed),
        state_reason: Some(Reason::VerificationError),
        rejection_reason: Some(Reason::VerificationError),
        verified: now,
        ..VerificationRecord::default()
    }
}

async fn run_verification(
    state: &AppState,
    submission: Submission,
    challenge: Option<Vec<u8>>,
    requirements: Requirements,
) -> Result<VerificationRecord, String> {
    let trust = state
        .reader
        .trust
        .current(&state.store)
        .await
        .map_err(|e| e.to_string())?;
    let at = OffsetDateTime::from_unix_timestamp(state.clock.now()).map_err(|e| e.to_string())?;
    let trust = Arc::clone(&trust);
    let face_engine = Arc::clone(&state.reader.face_engine);
    tokio::task::spawn_blocking(move || {
        let engine = requirements.face_verification.then(|| {
            face_engine
                .get_or_init(|| face::FaceEngine::new().map_err(|e| e.to_string()))
                .as_ref()
        });
        let engine = match engine {
            Some(Err(e)) => return Err(format!("face models: {e}")),
            Some(Ok(engine)) => Some(engine),
            None => None,
        };
        Ok(verification::verify_submission(
            &submission,
            challenge.as_deref(),
            &trust,
            engine,
            requirements,
            at,
        ))
    })
    .await
    .map_err(|e| format!("verification task: {e}"))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn body(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        for (name, bytes) in files {
            map.insert((*name).to_owned(), STANDARD.encode(bytes).into());
        }
        for (name, value) in [
            ("access_document_number", "XX0000000"),
            ("access_date_of_birth", "740812"),
            ("access_date_of_expiry", "300101"),
        ] {
            map.insert(name.to_owned(), value.into());
        }
        serde_json::to_vec(&serde_json::Value::Object(map)).unwrap()
    }

    /// The short deterministic run of the `reader_submit` fuzz target (crates/server/fuzz, which
    /// is outside the workspace): a valid body is decoded, and bodies with mutated files, cut
    /// JSON and broken base64 are refused without a panic.
    #[test]
    fn decode_submission_survives_mutated_bodies() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let (_, document) = testdoc::issue_specimen(now).unwrap();
        let files: Vec<(&str, Vec<u8>)> = [
            ("com", testdoc::FileId::Com),
            ("sod", testdoc::FileId::Sod),
            ("dg1", testdoc::FileId::Dg1),
            ("dg2", testdoc::FileId::Dg2),
            ("dg14", testdoc::FileId::Dg14),
            ("dg15", testdoc::FileId::Dg15),
            ("card_access", testdoc::FileId::CardAccess),
        ]
        .into_iter()
        .map(|(name, id)| (name, document.file(id).unwrap().to_vec()))
        .collect();
        let valid = body(&files);
        let submission = decode_submission(&valid, false).unwrap();
        assert_eq!(submission.data_groups.len(), 4);
        assert!(matches!(
            decode_submission(&valid, true),
            Err(ApiError::MissingProperty("selfie"))
        ));
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut files = files.clone();
            let which = (next() % files.len() as u64) as usize;
            let file = &mut files[which].1;
            let at = (next() % file.len() as u64) as usize;
            match next() % 4 {
                0 => file[at] ^= 1 << (next() % 8),
                1 => file.truncate(at),
                2 => file.splice(at..at, [0x84, 0x80, 0, 0, 0]).for_each(drop),
                _ => file[at] = [0x00, 0x80, 0x81, 0x82, 0xFF][(next() % 5) as usize],
            }
            let _ = decode_submission(&body(&files), next() % 2 == 0);
        }
        for cut in (0..valid.len()).step_by(499) {
            assert!(decode_submission(&valid[..cut], false).is_err());
        }
        for broken in [
            &br#"{"com": "!!!", "sod": 1}"#[..],
            b"[1]",
            b"null",
            b"{\"dg2\": \"AAAA\"}",
        ] {
            assert!(decode_submission(broken, false).is_err());
        }
    }
}
