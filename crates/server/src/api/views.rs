//! What the API shows: a session and a callback event as flat JSON objects, the fields of
//! [`super::spec::SESSION_FIELDS`] and [`super::spec::CALLBACK_FIELDS`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::Value;

use crate::model::{
    CheckResult, CloneCheck, DocumentType, FaceMatch, Reason, Sex, State, format_face_score,
};
use crate::store::{CallbackEvent, SessionRow};
use crate::support::time::format_timestamp;

/// A session as the API shows it: flat, the fields of [`super::spec::SESSION_FIELDS`].
#[derive(Debug, Serialize)]
pub struct SessionView<'a> {
    id: i64,
    created: String,
    expires: String,
    state: State,
    state_reason: Option<Reason>,
    reference: Option<&'a str>,
    callback_url: Option<&'a str>,
    face_verification: bool,
    passport_only: bool,
    user_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    given_names: Option<&'a str>,
    surname: Option<&'a str>,
    nationality: Option<&'a str>,
    sex: Option<Sex>,
    date_of_birth: Option<&'a str>,
    personal_number: Option<&'a str>,
    document_type: Option<DocumentType>,
    document_number: Option<&'a str>,
    expiry_date: Option<&'a str>,
    issuing_country: Option<&'a str>,
    issuer: Option<&'a str>,
    /// Base64.
    portrait: Option<String>,
    /// Base64.
    face: Option<String>,
    passive_authentication: Option<CheckResult>,
    active_authentication: Option<CheckResult>,
    chip_authentication: Option<CheckResult>,
    clone_check: Option<CloneCheck>,
    face_match: Option<FaceMatch>,
    /// A decimal string, four places.
    face_match_score: Option<String>,
    rejection_reason: Option<Reason>,
    document_signer: Option<&'a str>,
    verified: Option<String>,
    personal_data_erased: Option<String>,
}

impl<'a> From<&'a SessionRow> for SessionView<'a> {
    fn from(s: &'a SessionRow) -> Self {
        let bytes = |b: &Option<Vec<u8>>| b.as_ref().map(|b| STANDARD.encode(b));
        let flow = &s.holder_flow;
        SessionView {
            id: s.id,
            created: format_timestamp(s.created),
            expires: format_timestamp(s.expires),
            state: s.state,
            state_reason: s.state_reason,
            reference: s.reference.as_deref(),
            callback_url: s.callback_url.as_deref(),
            face_verification: s.face_verification,
            passport_only: s.passport_only,
            user_ip: s.user_ip.as_deref(),
            user_agent: s.user_agent.as_deref(),
            given_names: s.given_names.as_deref(),
            surname: s.surname.as_deref(),
            nationality: s.nationality.as_deref(),
            sex: s.sex,
            date_of_birth: s.date_of_birth.as_deref(),
            personal_number: s.personal_number.as_deref(),
            document_type: s.document_type,
            document_number: s.document_number.as_deref(),
            expiry_date: s.expiry_date.as_deref(),
            issuing_country: s.issuing_country.as_deref(),
            issuer: s.issuer.as_deref(),
            portrait: bytes(&s.portrait),
            face: bytes(&s.face),
            passive_authentication: flow.passive_authentication,
            active_authentication: flow.active_authentication,
            chip_authentication: flow.chip_authentication,
            clone_check: flow.clone_check,
            face_match: flow.face_match,
            face_match_score: flow.face_match_score.map(format_face_score),
            rejection_reason: flow.rejection_reason,
            document_signer: flow.document_signer.as_deref(),
            verified: flow.verified.map(format_timestamp),
            personal_data_erased: flow.personal_data_erased.map(format_timestamp),
        }
    }
}

/// A callback event as `callback.list` shows it: flat, the fields of
/// [`super::spec::CALLBACK_FIELDS`].
#[derive(Debug, Serialize)]
pub struct CallbackEventView<'a> {
    id: i64,
    session_id: i64,
    session_state: &'a str,
    url: &'a str,
    created: String,
    attempts: i32,
    next_attempt: Option<String>,
    delivered: Option<String>,
    abandoned: Option<String>,
    last_status: Option<i32>,
    last_error: Option<&'a str>,
}

impl<'a> From<&'a CallbackEvent> for CallbackEventView<'a> {
    fn from(e: &'a CallbackEvent) -> Self {
        let pending = e.delivered.is_none() && e.abandoned.is_none();
        CallbackEventView {
            id: e.id,
            session_id: e.session_id,
            session_state: &e.session_state,
            url: &e.url,
            created: format_timestamp(e.created),
            attempts: e.attempts,
            // The trigger queues with next_attempt 0, meaning "at once".
            next_attempt: pending.then(|| format_timestamp(e.next_attempt.max(e.created))),
            delivered: e.delivered.map(format_timestamp),
            abandoned: e.abandoned.map(format_timestamp),
            last_status: e.last_status,
            last_error: e.last_error.as_deref(),
        }
    }
}

/// A view as the JSON the API sends: through a `Value`, whose keys serialize sorted, as every
/// response of the API always has.
fn to_json(view: impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

pub fn session_json(s: &SessionRow) -> Value {
    to_json(SessionView::from(s))
}

pub fn event_json(e: &CallbackEvent) -> Value {
    to_json(CallbackEventView::from(e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{DocumentType, Sex, State as SessionState};
    use crate::store::SessionRow;

    #[test]
    fn session_json_has_exactly_the_documented_fields() {
        let row = SessionRow {
            id: 1,
            account_id: 2,
            state: SessionState::Completed,
            state_reason: None,
            reference: Some("r".into()),
            callback_url: None,
            face_verification: true,
            passport_only: false,
            created: 0,
            expires: 3600,
            user_ip: None,
            user_agent: None,
            given_names: Some("ANNA".into()),
            surname: None,
            nationality: Some("NL".into()),
            sex: Some(Sex::Female),
            date_of_birth: Some("1990-01-01".into()),
            personal_number: None,
            document_type: Some(DocumentType::Passport),
            document_number: None,
            expiry_date: None,
            issuing_country: None,
            issuer: None,
            portrait: Some(vec![1, 2, 3]),
            face: None,
            holder_flow: Default::default(),
        };
        let v = session_json(&row);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let documented: Vec<&str> = super::super::spec::SESSION_FIELDS
            .iter()
            .map(|f| f.name)
            .collect();
        let (mut a, mut b) = (keys.clone(), documented.clone());
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        assert_eq!(v["created"], "1970-01-01T00:00:00Z");
        assert_eq!(v["sex"], "FEMALE");
        assert_eq!(v["portrait"], "AQID");
        assert!(
            v.as_object()
                .unwrap()
                .values()
                .all(|x| !x.is_object() && !x.is_array())
        );
    }
}
