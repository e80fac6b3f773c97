//! The API's method table: every method with its request properties and response shape. The
//! request parser and the OpenAPI document are both driven by this table, so they cannot drift.

use serde_json::{Map, Value};

use crate::http::error::ApiError;
use crate::model::{CheckResult, CloneCheck, DocumentType, FaceMatch, Sex, State};
pub use crate::support::time::{format_timestamp, is_date, parse_timestamp};

/// The type a request property must have; named in the error message when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    Integer,
    String,
    Boolean,
    /// A string `YYYY-MM-DDTHH:MM:SSZ`.
    Timestamp,
    /// A string, one of the listed values.
    Enum(&'static [&'static str]),
    /// An absolute `http` or `https` URL.
    HttpUrl,
}

#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub ty: PropType,
    pub required: bool,
    pub description: &'static str,
}

/// The type of a response field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Integer,
    String,
    Boolean,
    Timestamp,
    Date,
    Enum(&'static [&'static str]),
    /// ISO 3166 alpha-2.
    Country,
    /// Base64 (standard alphabet, padded).
    Bytes,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub nullable: bool,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub enum Returns {
    Object(&'static [Field]),
    List(&'static [Field]),
}

/// Every API method, for an exhaustive dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiMethod {
    ReaderStart,
    ReaderSubmit,
    ReaderAbort,
    ReaderState,
    AccountGet,
    SessionCreate,
    SessionGet,
    SessionState,
    SessionList,
    SessionUpdate,
    SessionAbort,
    SessionDelete,
    CallbackList,
}

impl ApiMethod {
    pub const ALL: [ApiMethod; 13] = [
        ApiMethod::ReaderStart,
        ApiMethod::ReaderSubmit,
        ApiMethod::ReaderAbort,
        ApiMethod::ReaderState,
        ApiMethod::AccountGet,
        ApiMethod::SessionCreate,
        ApiMethod::SessionGet,
        ApiMethod::SessionState,
        ApiMethod::SessionList,
        ApiMethod::SessionUpdate,
        ApiMethod::SessionAbort,
        ApiMethod::SessionDelete,
        ApiMethod::CallbackList,
    ];

    /// The holder's reader API (session token), not the integrator's (Basic credentials).
    pub fn is_reader(self) -> bool {
        matches!(
            self,
            ApiMethod::ReaderStart
                | ApiMethod::ReaderSubmit
                | ApiMethod::ReaderAbort
                | ApiMethod::ReaderState
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Method {
    pub id: ApiMethod,
    pub class: &'static str,
    pub method: &'static str,
    pub summary: &'static str,
    pub properties: &'static [Property],
    pub returns: Returns,
}

impl Method {
    pub fn path_name(&self) -> String {
        format!("{}.{}", self.class, self.method)
    }
}

pub const STATE_NAMES: &[&str] = State::NAMES;

const fn prop(
    name: &'static str,
    ty: PropType,
    required: bool,
    description: &'static str,
) -> Property {
    Property {
        name,
        ty,
        required,
        description,
    }
}

const fn field(
    name: &'static str,
    ty: FieldType,
    nullable: bool,
    description: &'static str,
) -> Field {
    Field {
        name,
        ty,
        nullable,
        description,
    }
}

const ID: Property = prop("id", PropType::Integer, true, "The session id.");

/// Every field of a session object, in the order the API writes them.
pub const SESSION_FIELDS: &[Field] = &[
    field("id", FieldType::Integer, false, "The session id."),
    field(
        "created",
        FieldType::Timestamp,
        false,
        "When the session was created.",
    ),
    field(
        "expires",
        FieldType::Timestamp,
        false,
        "When the session and its token expire unless finished.",
    ),
    field(
        "state",
        FieldType::Enum(STATE_NAMES),
        false,
        "Where the session is in its life.",
    ),
    field(
        "state_reason",
        FieldType::String,
        true,
        "Why the session is in its state, e.g. EXPIRED.",
    ),
    field(
        "reference",
        FieldType::String,
        true,
        "The integrator's own reference.",
    ),
    field(
        "callback_url",
        FieldType::String,
        true,
        "URL notified when the session changes state.",
    ),
    field(
        "face_verification",
        FieldType::Boolean,
        false,
        "Whether the holder's face is compared with the chip's portrait.",
    ),
    field(
        "passport_only",
        FieldType::Boolean,
        false,
        "Whether only passports are accepted.",
    ),
    field(
        "user_ip",
        FieldType::String,
        true,
        "IP address of the holder's reading client.",
    ),
    field(
        "user_agent",
        FieldType::String,
        true,
        "User agent of the holder's reading client.",
    ),
    field(
        "given_names",
        FieldType::String,
        true,
        "Given names as read from the chip.",
    ),
    field(
        "surname",
        FieldType::String,
        true,
        "Surname as read from the chip.",
    ),
    field(
        "nationality",
        FieldType::Country,
        true,
        "Nationality, ISO 3166 alpha-2.",
    ),
    field(
        "sex",
        FieldType::Enum(Sex::NAMES),
        true,
        "Sex as printed in the document.",
    ),
    field("date_of_birth", FieldType::Date, true, "Date of birth."),
    field(
        "personal_number",
        FieldType::String,
        true,
        "Personal number, where the document has one.",
    ),
    field(
        "document_type",
        FieldType::Enum(DocumentType::NAMES),
        true,
        "Kind of document.",
    ),
    field(
        "document_number",
        FieldType::String,
        true,
        "Document number.",
    ),
    field(
        "expiry_date",
        FieldType::Date,
        true,
        "Expiry date of the document.",
    ),
    field(
        "issuing_country",
        FieldType::Country,
        true,
        "Issuing country, ISO 3166 alpha-2.",
    ),
    field("issuer", FieldType::String, true, "Issuing authority."),
    field(
        "portrait",
        FieldType::Bytes,
        true,
        "Portrait image from the chip (DG2), base64.",
    ),
    field(
        "face",
        FieldType::Bytes,
        true,
        "The holder's live face image, base64.",
    ),
    field(
        "passive_authentication",
        FieldType::Enum(CHECK_RESULTS),
        true,
        "Passive authentication: the EF.SOD signature, the Document Signer's chain to a trusted CSCA, its revocation status and the data-group hashes.",
    ),
    field(
        "active_authentication",
        FieldType::Enum(CHECK_RESULTS),
        true,
        "Active authentication of the chip against the challenge this server issued.",
    ),
    field(
        "chip_authentication",
        FieldType::Enum(CHECK_RESULTS),
        true,
        "Chip authentication as reported by the reading client (not provable to the server).",
    ),
    field(
        "clone_check",
        FieldType::Enum(CLONE_CHECKS),
        true,
        "PROVEN when active authentication proved the chip genuine to this server; NOT_PROVEN when only the client's chip authentication vouches for it; FAILED when active authentication failed.",
    ),
    field(
        "face_match",
        FieldType::Enum(FACE_MATCHES),
        true,
        "Face-verification sessions: the holder's selfie against the chip's portrait. PASSED (the same person), FAILED (another person), NO_FACE or MULTIPLE_FACES (in the selfie or the portrait: rejection_reason says which), NOT_CHECKED (the comparison could not be made).",
    ),
    field(
        "face_match_score",
        FieldType::String,
        true,
        "Distance between the two faces' descriptors as a decimal string, e.g. \"0.3125\": lower is more alike; at or below the server's face_match_threshold (default 0.55) is a match.",
    ),
    field(
        "rejection_reason",
        FieldType::String,
        true,
        "Why the session was REJECTED (or FAILED): a stable code. REJECTED: NO_TRUSTED_CSCA, UNTRUSTED_DOCUMENT_SIGNER, DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME, CSCA_NOT_VALID_AT_SIGNING_TIME, DOCUMENT_SIGNER_REVOKED, SOD_SIGNATURE_INVALID, DATA_GROUP_HASH_MISMATCH, PASSIVE_AUTHENTICATION_FAILED, ACTIVE_AUTHENTICATION_FAILED, ACTIVE_AUTHENTICATION_MISSING, CHIP_AUTHENTICATION_FAILED, MRZ_CHECK_DIGITS_INVALID, ACCESS_KEY_MISMATCH, DOCUMENT_EXPIRED, NOT_A_PASSPORT, CLONE_CHECK_NOT_PROVEN, FACE_MISMATCH, NO_FACE_IN_SELFIE, NO_FACE_IN_PORTRAIT, MULTIPLE_FACES_IN_SELFIE, MULTIPLE_FACES_IN_PORTRAIT, FACE_NOT_CHECKED. FAILED: VERIFICATION_ERROR, VERIFICATION_INTERRUPTED.",
    ),
    field(
        "document_signer",
        FieldType::String,
        true,
        "Subject of the Document Signer certificate that signed the chip's data.",
    ),
    field(
        "verified",
        FieldType::Timestamp,
        true,
        "When the document was verified.",
    ),
    field(
        "personal_data_erased",
        FieldType::Timestamp,
        true,
        "When the identity fields, portrait and face were erased after the retention period.",
    ),
];

/// Outcomes of a verification check.
pub const CHECK_RESULTS: &[&str] = CheckResult::NAMES;
/// Outcomes of the clone check.
pub const CLONE_CHECKS: &[&str] = CloneCheck::NAMES;
/// Outcomes of the face comparison.
pub const FACE_MATCHES: &[&str] = FaceMatch::NAMES;

const CREATED_FIELDS: &[Field] = &[
    field("id", FieldType::Integer, false, "The new session's id."),
    field(
        "token",
        FieldType::String,
        false,
        "Secret token for the holder's reading client; valid until the session expires. Shown once.",
    ),
];

const STATE_FIELDS: &[Field] = &[field(
    "state",
    FieldType::Enum(STATE_NAMES),
    false,
    "The session's state.",
)];

const ACCOUNT_FIELDS: &[Field] = &[
    field("id", FieldType::Integer, false, "The account id."),
    field(
        "email",
        FieldType::String,
        false,
        "The account's email address.",
    ),
];

/// Every field of a callback event, in the order the API writes them.
pub const CALLBACK_FIELDS: &[Field] = &[
    field(
        "id",
        FieldType::Integer,
        false,
        "The callback event id; also the webhook-id header of every attempt to send it.",
    ),
    field(
        "session_id",
        FieldType::Integer,
        false,
        "The session that changed state.",
    ),
    field(
        "session_state",
        FieldType::Enum(STATE_NAMES),
        false,
        "The state the session entered.",
    ),
    field(
        "url",
        FieldType::String,
        false,
        "Where the callback is sent.",
    ),
    field(
        "created",
        FieldType::Timestamp,
        false,
        "When the state changed and the callback was queued.",
    ),
    field(
        "attempts",
        FieldType::Integer,
        false,
        "Attempts made so far.",
    ),
    field(
        "next_attempt",
        FieldType::Timestamp,
        true,
        "When the next attempt is due; null once delivered or abandoned.",
    ),
    field(
        "delivered",
        FieldType::Timestamp,
        true,
        "When the receiver answered with a 2xx status.",
    ),
    field(
        "abandoned",
        FieldType::Timestamp,
        true,
        "When delivery was given up after the last allowed attempt.",
    ),
    field(
        "last_status",
        FieldType::Integer,
        true,
        "HTTP status of the last attempt; null if none was received.",
    ),
    field(
        "last_error",
        FieldType::String,
        true,
        "Why the last attempt failed (timeout, connection, non-2xx status).",
    ),
];

const READER_START_FIELDS: &[Field] = &[
    field("session_id", FieldType::Integer, false, "The session id."),
    field("state", FieldType::Enum(STATE_NAMES), false, "INITIATED."),
    field(
        "face_verification",
        FieldType::Boolean,
        false,
        "Whether a selfie must be submitted.",
    ),
    field(
        "passport_only",
        FieldType::Boolean,
        false,
        "Whether only passports (TD3, document code P) are accepted.",
    ),
    field(
        "aa_challenge",
        FieldType::String,
        false,
        "Hex of the 8-byte challenge to send to the chip in INTERNAL AUTHENTICATE (active authentication); a new one on every start.",
    ),
    field(
        "expires",
        FieldType::Timestamp,
        false,
        "When the session and its token expire.",
    ),
];

const READER_SUBMIT_FIELDS: &[Field] = &[
    field(
        "state",
        FieldType::Enum(STATE_NAMES),
        false,
        "APPROVED, REJECTED or FAILED.",
    ),
    field(
        "rejection_reason",
        FieldType::String,
        true,
        "Why the document was rejected, a stable code (e.g. DATA_GROUP_HASH_MISMATCH).",
    ),
];

const READER_STATE_FIELDS: &[Field] = &[
    field(
        "state",
        FieldType::Enum(STATE_NAMES),
        false,
        "The session's state.",
    ),
    field(
        "state_reason",
        FieldType::String,
        true,
        "Why the session is in its state, e.g. EXPIRED or a rejection reason.",
    ),
];

const READER_SUBMIT_PROPERTIES: &[Property] = &[
    prop("com", PropType::String, true, "EF.COM, base64."),
    prop("sod", PropType::String, true, "EF.SOD, base64."),
    prop("dg1", PropType::String, true, "DG1 (MRZ), base64."),
    prop("dg2", PropType::String, true, "DG2 (face), base64."),
    prop(
        "dg7",
        PropType::String,
        false,
        "DG7 (signature), base64, if read.",
    ),
    prop(
        "dg11",
        PropType::String,
        false,
        "DG11 (additional personal details), base64, if read.",
    ),
    prop(
        "dg12",
        PropType::String,
        false,
        "DG12 (additional document details), base64, if read.",
    ),
    prop(
        "dg14",
        PropType::String,
        false,
        "DG14 (chip authentication), base64, if read.",
    ),
    prop(
        "dg15",
        PropType::String,
        false,
        "DG15 (active authentication public key), base64, if read.",
    ),
    prop(
        "card_access",
        PropType::String,
        false,
        "EF.CardAccess, base64, if read.",
    ),
    prop(
        "aa_response",
        PropType::String,
        false,
        "Hex of the chip's INTERNAL AUTHENTICATE response to aa_challenge. Required when the chip has DG15.",
    ),
    prop(
        "access_document_number",
        PropType::String,
        false,
        "Access key (MRZ data, BAC/PACE): the document number the holder entered.",
    ),
    prop(
        "access_date_of_birth",
        PropType::String,
        false,
        "Access key (MRZ data): date of birth, YYMMDD.",
    ),
    prop(
        "access_date_of_expiry",
        PropType::String,
        false,
        "Access key (MRZ data): date of expiry, YYMMDD.",
    ),
    prop(
        "access_can",
        PropType::String,
        false,
        "Access key (PACE with the card access number), instead of the MRZ data.",
    ),
    prop(
        "chip_authentication",
        PropType::Enum(&["PASSED", "FAILED", "NOT_SUPPORTED"]),
        false,
        "Outcome of chip authentication as the client saw it (recorded, not provable to the server).",
    ),
    prop(
        "selfie",
        PropType::String,
        false,
        "The holder's live face image, JPEG or PNG (kept as JPEG), base64. Required for face-verification sessions.",
    ),
];

pub const MAX_LIST_LIMIT: i64 = 100;
pub const DEFAULT_LIST_LIMIT: i64 = 20;

/// Every API method. `POST /api/{class}.{method}` and `POST /api/v1/{class}.{method}`.
pub const METHODS: &[Method] = &[
    // The reader API: authenticated with the session token (Authorization: Bearer), not Basic.
    Method {
        class: "reader",
        method: "start",
        id: ApiMethod::ReaderStart,
        summary: "Reader API (session token): start reading; the session becomes INITIATED. Returns what the session asks for and a fresh active-authentication challenge for INTERNAL AUTHENTICATE.",
        properties: &[],
        returns: Returns::Object(READER_START_FIELDS),
    },
    Method {
        class: "reader",
        method: "submit",
        id: ApiMethod::ReaderSubmit,
        summary: "Reader API (session token): submit the chip's files, the chip's response to the challenge and the access key. The session is verified at once and ends APPROVED or REJECTED (FAILED if the server could not verify). Only one submit per session.",
        properties: READER_SUBMIT_PROPERTIES,
        returns: Returns::Object(READER_SUBMIT_FIELDS),
    },
    Method {
        class: "reader",
        method: "abort",
        id: ApiMethod::ReaderAbort,
        summary: "Reader API (session token): the holder gives up; the session becomes ABORTED.",
        properties: &[],
        returns: Returns::Object(STATE_FIELDS),
    },
    Method {
        class: "reader",
        method: "state",
        id: ApiMethod::ReaderState,
        summary: "Reader API (session token): the session's state. Answers also once the session is finished.",
        properties: &[],
        returns: Returns::Object(READER_STATE_FIELDS),
    },
    Method {
        class: "account",
        method: "get",
        id: ApiMethod::AccountGet,
        summary: "The account the credentials belong to; a cheap way to check a credential pair.",
        properties: &[],
        returns: Returns::Object(ACCOUNT_FIELDS),
    },
    Method {
        class: "session",
        method: "create",
        id: ApiMethod::SessionCreate,
        summary: "Create a session for one holder to read their passport.",
        properties: &[
            prop(
                "callback_url",
                PropType::HttpUrl,
                false,
                "Absolute http(s) URL notified on state changes.",
            ),
            prop(
                "face_verification",
                PropType::Boolean,
                false,
                "Compare the holder's face with the chip's portrait.",
            ),
            prop(
                "reference",
                PropType::String,
                false,
                "Your own reference, e.g. a customer id.",
            ),
            prop(
                "passport_only",
                PropType::Boolean,
                false,
                "Accept passports only.",
            ),
        ],
        returns: Returns::Object(CREATED_FIELDS),
    },
    Method {
        class: "session",
        method: "get",
        id: ApiMethod::SessionGet,
        summary: "Retrieve a session by id.",
        properties: &[ID],
        returns: Returns::Object(SESSION_FIELDS),
    },
    Method {
        class: "session",
        method: "state",
        id: ApiMethod::SessionState,
        summary: "Retrieve only the state of a session.",
        properties: &[ID],
        returns: Returns::Object(STATE_FIELDS),
    },
    Method {
        class: "session",
        method: "list",
        id: ApiMethod::SessionList,
        summary: "List sessions, newest first, with filters and a cursor.",
        properties: &[
            prop(
                "state",
                PropType::Enum(STATE_NAMES),
                false,
                "Only sessions in this state.",
            ),
            prop(
                "reference",
                PropType::String,
                false,
                "Only sessions with this reference.",
            ),
            prop(
                "created_after",
                PropType::Timestamp,
                false,
                "Only sessions created after this time.",
            ),
            prop(
                "created_before",
                PropType::Timestamp,
                false,
                "Only sessions created before this time.",
            ),
            prop(
                "limit",
                PropType::Integer,
                false,
                "Largest number of sessions returned, 1 to 100 (default 20).",
            ),
            prop(
                "after_id",
                PropType::Integer,
                false,
                "Continue after this session id (the last one of the previous page).",
            ),
        ],
        returns: Returns::List(SESSION_FIELDS),
    },
    Method {
        class: "session",
        method: "update",
        id: ApiMethod::SessionUpdate,
        summary: "Change reference and/or callback_url of a session that is not finished.",
        properties: &[
            ID,
            prop("reference", PropType::String, false, "New reference."),
            prop(
                "callback_url",
                PropType::HttpUrl,
                false,
                "New callback URL, absolute http(s).",
            ),
        ],
        returns: Returns::Object(SESSION_FIELDS),
    },
    Method {
        class: "session",
        method: "abort",
        id: ApiMethod::SessionAbort,
        summary: "Give up a session that is not finished: its state becomes ABORTED.",
        properties: &[ID],
        returns: Returns::Object(SESSION_FIELDS),
    },
    Method {
        class: "session",
        method: "delete",
        id: ApiMethod::SessionDelete,
        summary: "Delete a session and all personal data it holds.",
        properties: &[ID],
        returns: Returns::Object(&[]),
    },
    Method {
        class: "callback",
        method: "list",
        id: ApiMethod::CallbackList,
        summary: "List the callbacks sent or to be sent on session state changes, newest first, \
                  with their delivery attempts and outcome.",
        properties: &[
            prop(
                "session_id",
                PropType::Integer,
                false,
                "Only the callbacks of this session.",
            ),
            prop(
                "limit",
                PropType::Integer,
                false,
                "Largest number of callbacks returned, 1 to 100 (default 20).",
            ),
        ],
        returns: Returns::List(CALLBACK_FIELDS),
    },
];

pub fn find(name: &str) -> Option<&'static Method> {
    let (class, method) = name.split_once('.')?;
    METHODS
        .iter()
        .find(|m| m.class == class && m.method == method)
}

/// Request properties after checking: only known ones, each of its declared type; a `null`
/// counts as absent.
#[derive(Debug, Default)]
pub struct Props(Map<String, Value>);

fn type_error(p: &Property) -> ApiError {
    let must = match p.ty {
        PropType::Integer => "must be an integer".to_owned(),
        PropType::String => "must be a string".to_owned(),
        PropType::Boolean => "must be a boolean".to_owned(),
        PropType::Timestamp => {
            "must be a timestamp string in the format YYYY-MM-DDTHH:MM:SSZ (UTC)".to_owned()
        }
        PropType::Enum(values) => format!("must be one of the strings {}", values.join(", ")),
        PropType::HttpUrl => "must be an absolute http or https URL string".to_owned(),
    };
    ApiError::InvalidProperty(format!("Property '{}' {must}", p.name))
}

fn check(p: &Property, v: &Value) -> bool {
    match p.ty {
        PropType::Integer => v.as_i64().is_some(),
        PropType::String => v.is_string(),
        PropType::Boolean => v.is_boolean(),
        PropType::Timestamp => v.as_str().and_then(parse_timestamp).is_some(),
        PropType::Enum(values) => v.as_str().is_some_and(|s| values.contains(&s)),
        PropType::HttpUrl => v.as_str().is_some_and(is_http_url),
    }
}

/// An absolute `http`/`https` URL with a host.
pub fn is_http_url(s: &str) -> bool {
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        }
        Err(_) => false,
    }
}

/// Parses a request body: absent or empty means `{}`; anything but a JSON object is refused.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::InvalidRequest(
            "The request body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::InvalidRequest(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

impl Props {
    /// Keeps the method's known properties (dropping extraneous ones), checks each one's type
    /// and that the required ones are there.
    pub fn extract(method: &Method, mut body: Map<String, Value>) -> Result<Props, ApiError> {
        let mut props = Map::new();
        for p in method.properties {
            match body.remove(p.name) {
                None | Some(Value::Null) if p.required => {
                    return Err(ApiError::MissingProperty(p.name));
                }
                None | Some(Value::Null) => {}
                Some(v) if check(p, &v) => {
                    props.insert(p.name.to_owned(), v);
                }
                Some(_) => return Err(type_error(p)),
            }
        }
        Ok(Props(props))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.0.get(name).and_then(Value::as_bool)
    }

    pub fn timestamp(&self, name: &str) -> Option<i64> {
        self.str(name).and_then(parse_timestamp)
    }

    /// The checked properties as a wire type (e.g. the reader API's `SubmitRequest`).
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_value(Value::Object(self.0.clone()))
            .map_err(|e| ApiError::InvalidRequest(format!("The request body is malformed: {e}")))
    }

    /// A required integer (presence was checked by [`Props::extract`]).
    pub fn required_int(&self, name: &'static str) -> Result<i64, ApiError> {
        self.int(name).ok_or(ApiError::MissingProperty(name))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn documented_codes_are_the_enums() {
        use crate::model::Reason;
        let field = |name: &str| SESSION_FIELDS.iter().find(|f| f.name == name).unwrap();
        let described = field("rejection_reason").description;
        for reason in Reason::ALL.iter().filter(|r| r.is_rejection()) {
            assert!(
                described.contains(reason.as_str()),
                "{reason} is not documented"
            );
        }
        assert!(
            field("state_reason")
                .description
                .contains(Reason::Expired.as_str())
        );
        assert!(matches!(field("state").ty, FieldType::Enum(names) if names == State::NAMES));
        assert!(matches!(field("sex").ty, FieldType::Enum(names) if names == Sex::NAMES));
        assert!(
            matches!(field("document_type").ty, FieldType::Enum(names) if names == DocumentType::NAMES)
        );
        assert!(
            matches!(field("clone_check").ty, FieldType::Enum(names) if names == CloneCheck::NAMES)
        );
        assert!(
            matches!(field("face_match").ty, FieldType::Enum(names) if names == FaceMatch::NAMES)
        );
    }

    #[test]
    fn every_method_has_its_own_entry() {
        for id in ApiMethod::ALL {
            let entries: Vec<&Method> = METHODS.iter().filter(|m| m.id == id).collect();
            assert_eq!(entries.len(), 1, "{id:?}");
            let m = entries[0];
            assert_eq!(find(&m.path_name()).map(|f| f.id), Some(id));
            assert_eq!(id.is_reader(), m.class == "reader");
        }
        assert_eq!(METHODS.len(), ApiMethod::ALL.len());
    }
    use serde_json::json;

    fn extract(name: &str, body: Value) -> Result<Props, ApiError> {
        let Value::Object(map) = body else { panic!() };
        Props::extract(find(name).unwrap(), map)
    }

    #[test]
    fn properties_are_type_checked() {
        assert_eq!(
            extract("session.get", json!({"id": "1"})).unwrap_err(),
            ApiError::InvalidProperty("Property 'id' must be an integer".into())
        );
        assert_eq!(
            extract("session.get", json!({"id": 1.5}))
                .unwrap_err()
                .name(),
            "InvalidProperty"
        );
        assert_eq!(
            extract("session.get", json!({})).unwrap_err(),
            ApiError::MissingProperty("id")
        );
        assert_eq!(
            extract("session.get", json!({"id": null})).unwrap_err(),
            ApiError::MissingProperty("id")
        );
        let p = extract("session.get", json!({"id": 7, "extra": [1]})).unwrap();
        assert_eq!(p.int("id"), Some(7));
        assert!(p.0.get("extra").is_none());
        assert!(extract("session.create", json!({"callback_url": "ftp://x/"})).is_err());
        assert!(extract("session.create", json!({"callback_url": "/relative"})).is_err());
        assert!(
            extract(
                "session.create",
                json!({"callback_url": "https://example.com/cb"})
            )
            .is_ok()
        );
        assert!(extract("session.list", json!({"state": "DONE"})).is_err());
        assert!(extract("session.list", json!({"created_after": "2024-01-27"})).is_err());
        assert!(
            extract(
                "session.list",
                json!({"created_after": "2024-01-27T00:00:00Z"})
            )
            .is_ok()
        );
    }

    #[test]
    fn bodies() {
        assert!(parse_body(b"").unwrap().is_empty());
        assert!(parse_body(b" \n").unwrap().is_empty());
        assert_eq!(parse_body(b"[1]").unwrap_err().name(), "InvalidRequest");
        assert_eq!(parse_body(b"{").unwrap_err().name(), "InvalidRequest");
    }

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(format_timestamp(1_706_313_600), "2024-01-27T00:00:00Z");
        assert_eq!(parse_timestamp("2024-01-27T00:00:00Z"), Some(1_706_313_600));
        assert!(is_date("2024-02-29") && !is_date("2023-02-29"));
    }
}
