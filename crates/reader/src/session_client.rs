//! The reading client's side of the server's reader API (`reader.start`, `reader.submit`,
//! `reader.abort`): a session token in, the session's outcome out.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use icao9303::lds::FileId;
use serde_json::{Map, Value};

use crate::{ChipAuthentication, ChipFiles};

/// What `reader.start` tells the client about its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStart {
    pub session_id: i64,
    pub state: String,
    pub face_verification: bool,
    pub passport_only: bool,
    /// The server's challenge for INTERNAL AUTHENTICATE.
    pub aa_challenge: [u8; 8],
}

/// The session's state after `reader.submit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    pub state: String,
    pub rejection_reason: Option<String>,
}

/// The access key the holder gave, sent for the server's consistency check with DG1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessKeyFields {
    Mrz {
        document_number: String,
        date_of_birth: String,
        date_of_expiry: String,
    },
    Can(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionClientError {
    #[error("cannot reach the server at {url}: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    /// The server answered with an API error (`error_name`, `error_message`).
    #[error("the server refused {method}: {name}: {message} (HTTP {status})")]
    Api {
        method: &'static str,
        status: u16,
        name: String,
        message: String,
    },
    #[error("unexpected answer to {method}: {detail}")]
    BadResponse {
        method: &'static str,
        detail: String,
    },
}

/// A client of one session, authenticated by its token.
#[derive(Debug, Clone)]
pub struct SessionClient {
    base: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl SessionClient {
    /// `server` is the service's base URL, e.g. `http://127.0.0.1:4000`.
    pub fn new(server: &str, token: &str) -> Result<SessionClient, SessionClientError> {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("passport-reader/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| SessionClientError::Unreachable {
                url: server.to_owned(),
                source,
            })?;
        Ok(SessionClient {
            base: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// Starts the session (it becomes INITIATED) and fetches the server's AA challenge.
    pub fn start(&self) -> Result<SessionStart, SessionClientError> {
        let v = self.call("start", Map::new())?;
        let bad = |detail: &str| SessionClientError::BadResponse {
            method: "reader.start",
            detail: detail.to_owned(),
        };
        let challenge_hex = v
            .get("aa_challenge")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no aa_challenge"))?;
        let challenge = hex::decode(challenge_hex).map_err(|_| bad("aa_challenge is not hex"))?;
        Ok(SessionStart {
            session_id: v
                .get("session_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("no session_id"))?,
            state: v
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            face_verification: v
                .get("face_verification")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            passport_only: v
                .get("passport_only")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            aa_challenge: <[u8; 8]>::try_from(challenge.as_slice())
                .map_err(|_| bad("aa_challenge is not 8 bytes"))?,
        })
    }

    /// Hands the chip's files, the chip's AA response, the access key and an optional selfie
    /// (JPEG or PNG) to the server, which verifies them and answers with the session's outcome.
    pub fn submit(
        &self,
        chip: &ChipFiles,
        access_key: &AccessKeyFields,
        selfie: Option<&[u8]>,
    ) -> Result<SubmitOutcome, SessionClientError> {
        let body = submit_body(chip, access_key, selfie);
        let v = self.call("submit", body)?;
        Ok(SubmitOutcome {
            state: v
                .get("state")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            rejection_reason: v
                .get("rejection_reason")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// The holder gives up: the session becomes ABORTED.
    pub fn abort(&self) -> Result<String, SessionClientError> {
        let v = self.call("abort", Map::new())?;
        Ok(v.get("state")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    fn call(
        &self,
        method: &'static str,
        body: Map<String, Value>,
    ) -> Result<Value, SessionClientError> {
        let full_method = match method {
            "start" => "reader.start",
            "submit" => "reader.submit",
            _ => "reader.abort",
        };
        let url = format!("{}/api/v1/{full_method}", self.base);
        let response = self
            .http
            .post(&url)
            .bearer_auth(&self.token)
            .json(&Value::Object(body))
            .send()
            .map_err(|source| SessionClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|source| SessionClientError::Unreachable {
                url: self.base.clone(),
                source,
            })?;
        let value: Value =
            serde_json::from_str(&text).map_err(|_| SessionClientError::BadResponse {
                method: full_method,
                detail: format!("HTTP {status} with a body that is not JSON"),
            })?;
        if !status.is_success() {
            let field = |name: &str| {
                value
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            return Err(SessionClientError::Api {
                method: full_method,
                status: status.as_u16(),
                name: field("error_name"),
                message: field("error_message"),
            });
        }
        Ok(value)
    }
}

/// The flat `reader.submit` body: each file base64 under its property name.
fn submit_body(
    chip: &ChipFiles,
    access_key: &AccessKeyFields,
    selfie: Option<&[u8]>,
) -> Map<String, Value> {
    let mut body = Map::new();
    let put = |body: &mut Map<String, Value>, name: &str, bytes: &[u8]| {
        body.insert(name.to_owned(), Value::String(BASE64.encode(bytes)));
    };
    for (id, bytes) in &chip.files {
        let name = match id {
            FileId::Com => "com".to_owned(),
            FileId::Sod => "sod".to_owned(),
            FileId::Dg(n) => format!("dg{n}"),
            _ => continue,
        };
        put(&mut body, &name, bytes);
    }
    if let Some(card_access) = &chip.card_access {
        put(&mut body, "card_access", card_access);
    }
    if let Some(aa) = &chip.active_authentication
        && let Ok(response) = &aa.response
    {
        // Hex, like the challenge the server issued.
        body.insert(
            "aa_response".into(),
            Value::String(hex::encode_upper(response)),
        );
    }
    if let Some(selfie) = selfie {
        put(&mut body, "selfie", selfie);
    }
    match access_key {
        AccessKeyFields::Mrz {
            document_number,
            date_of_birth,
            date_of_expiry,
        } => {
            body.insert(
                "access_document_number".into(),
                Value::String(document_number.clone()),
            );
            body.insert(
                "access_date_of_birth".into(),
                Value::String(date_of_birth.clone()),
            );
            body.insert(
                "access_date_of_expiry".into(),
                Value::String(date_of_expiry.clone()),
            );
        }
        AccessKeyFields::Can(can) => {
            body.insert("access_can".into(), Value::String(can.clone()));
        }
    }
    let ca = match &chip.chip_authentication {
        ChipAuthentication::Succeeded { .. } => Some("PASSED"),
        ChipAuthentication::Failed { .. } => Some("FAILED"),
        ChipAuthentication::NotSupported => Some("NOT_SUPPORTED"),
        _ => None,
    };
    if let Some(ca) = ca {
        body.insert("chip_authentication".into(), Value::String(ca.to_owned()));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_body_is_flat_base64_with_the_access_key() {
        let mut files = std::collections::BTreeMap::new();
        files.insert(FileId::Com, vec![0x60, 0x00]);
        files.insert(FileId::Dg(15), vec![0x6F, 0x00]);
        let chip = ChipFiles {
            card_access: Some(vec![0x31, 0x00]),
            files,
            skipped: Vec::new(),
            access_control: crate::AccessControl::Bac,
            chip_authentication: ChipAuthentication::NotSupported,
            active_authentication: None,
            block_size: 223,
        };
        let key = AccessKeyFields::Can("123456".into());
        let body = submit_body(&chip, &key, Some(b"jpeg"));
        assert_eq!(body["com"], "YAA=");
        assert_eq!(body["dg15"], "bwA=");
        assert_eq!(body["card_access"], "MQA=");
        assert_eq!(body["selfie"], "anBlZw==");
        assert_eq!(body["access_can"], "123456");
        assert_eq!(body["chip_authentication"], "NOT_SUPPORTED");
        assert!(body.values().all(|v| v.is_string()), "flat: {body:?}");
        assert!(!body.contains_key("aa_response"));
    }
}
