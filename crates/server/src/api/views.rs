//! What the API shows: a session and a callback event as flat JSON objects, the fields of
//! [`super::spec::SESSION_FIELDS`] and [`super::spec::CALLBACK_FIELDS`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::model::{CheckResult, CloneCheck, FaceMatch, Reason, format_face_score};
use crate::store::{CallbackEvent, SessionRow};
use crate::support::time::format_timestamp;

/// A session as the API shows it: flat, the fields of [`spec::SESSION_FIELDS`] in order.
pub fn session_json(s: &SessionRow) -> Value {
    let bytes = |b: &Option<Vec<u8>>| b.as_ref().map(|b| STANDARD.encode(b));
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("id", json!(s.id));
    put("created", json!(format_timestamp(s.created)));
    put("expires", json!(format_timestamp(s.expires)));
    put("state", json!(s.state.as_str()));
    put("state_reason", json!(s.state_reason.map(Reason::as_str)));
    put("reference", json!(s.reference));
    put("callback_url", json!(s.callback_url));
    put("face_verification", json!(s.face_verification));
    put("passport_only", json!(s.passport_only));
    put("user_ip", json!(s.user_ip));
    put("user_agent", json!(s.user_agent));
    put("given_names", json!(s.given_names));
    put("surname", json!(s.surname));
    put("nationality", json!(s.nationality));
    put("sex", json!(s.sex.map(|x| x.as_str())));
    put("date_of_birth", json!(s.date_of_birth));
    put("personal_number", json!(s.personal_number));
    put("document_type", json!(s.document_type.map(|x| x.as_str())));
    put("document_number", json!(s.document_number));
    put("expiry_date", json!(s.expiry_date));
    put("issuing_country", json!(s.issuing_country));
    put("issuer", json!(s.issuer));
    put("portrait", json!(bytes(&s.portrait)));
    put("face", json!(bytes(&s.face)));
    let flow = &s.holder_flow;
    put(
        "passive_authentication",
        json!(flow.passive_authentication.map(CheckResult::as_str)),
    );
    put(
        "active_authentication",
        json!(flow.active_authentication.map(CheckResult::as_str)),
    );
    put(
        "chip_authentication",
        json!(flow.chip_authentication.map(CheckResult::as_str)),
    );
    put(
        "clone_check",
        json!(flow.clone_check.map(CloneCheck::as_str)),
    );
    put("face_match", json!(flow.face_match.map(FaceMatch::as_str)));
    put(
        "face_match_score",
        json!(flow.face_match_score.map(format_face_score)),
    );
    put(
        "rejection_reason",
        json!(flow.rejection_reason.map(Reason::as_str)),
    );
    put("document_signer", json!(flow.document_signer));
    put("verified", json!(flow.verified.map(format_timestamp)));
    put(
        "personal_data_erased",
        json!(flow.personal_data_erased.map(format_timestamp)),
    );
    Value::Object(m)
}

/// A callback event as `callback.list` shows it: flat, the fields of
/// [`crate::api::spec::CALLBACK_FIELDS`].
pub fn event_json(e: &CallbackEvent) -> Value {
    let pending = e.delivered.is_none() && e.abandoned.is_none();
    json!({
        "id": e.id,
        "session_id": e.session_id,
        "session_state": e.session_state,
        "url": e.url,
        "created": format_timestamp(e.created),
        "attempts": e.attempts,
        // The trigger queues with next_attempt 0, meaning "at once".
        "next_attempt": pending.then(|| format_timestamp(e.next_attempt.max(e.created))),
        "delivered": e.delivered.map(format_timestamp),
        "abandoned": e.abandoned.map(format_timestamp),
        "last_status": e.last_status,
        "last_error": e.last_error,
    })
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
