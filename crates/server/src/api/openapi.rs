//! The OpenAPI 3.1 document, generated from the method table in [`crate::api::spec`], served at
//! `GET /api/openapi.json`.

use serde_json::{Map, Value, json};

use crate::api::spec::{Field, FieldType, METHODS, Method, PropType, Returns};

/// Sets `key` on a JSON object (a no-op on anything else).
fn set(target: &mut Value, key: &str, value: Value) {
    if let Some(map) = target.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

const TIMESTAMP_PATTERN: &str = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$";

fn prop_schema(ty: PropType) -> Value {
    match ty {
        PropType::Integer => json!({"type": "integer", "format": "int64"}),
        PropType::String => json!({"type": "string"}),
        PropType::Boolean => json!({"type": "boolean"}),
        PropType::Timestamp => {
            json!({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN})
        }
        PropType::Enum(values) => json!({"type": "string", "enum": values}),
        PropType::HttpUrl => json!({"type": "string", "format": "uri", "pattern": "^https?://"}),
    }
}

fn field_schema(f: &Field) -> Value {
    let mut schema = match f.ty {
        FieldType::Integer => json!({"type": "integer", "format": "int64"}),
        FieldType::String => json!({"type": "string"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Timestamp => {
            json!({"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN})
        }
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Enum(values) => json!({"type": "string", "enum": values}),
        FieldType::Country => json!({"type": "string", "pattern": "^[A-Z]{2}$"}),
        FieldType::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
    };
    if f.nullable {
        if let Some(t) = schema.get("type").cloned() {
            set(&mut schema, "type", json!([t, "null"]));
        }
        if let Some(Value::Array(values)) = schema.get_mut("enum") {
            values.push(Value::Null);
        }
    }
    set(&mut schema, "description", json!(f.description));
    schema
}

fn object_schema(fields: &[Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.to_owned(), field_schema(f)))
        .collect();
    let required: Vec<&str> = fields.iter().map(|f| f.name).collect();
    json!({"type": "object", "properties": properties, "required": required})
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

/// One method's operation: its request and response schemas and error answers.
fn operation(m: &Method) -> Value {
    let properties: Map<String, Value> = m
        .properties
        .iter()
        .map(|p| {
            let mut s = prop_schema(p.ty);
            set(&mut s, "description", json!(p.description));
            (p.name.to_owned(), s)
        })
        .collect();
    let required: Vec<&str> = m
        .properties
        .iter()
        .filter(|p| p.required)
        .map(|p| p.name)
        .collect();
    let mut request = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        set(&mut request, "required", json!(required));
    }
    let response = match m.returns {
        Returns::Object(fields) => object_schema(fields),
        Returns::List(fields) => json!({"type": "array", "items": object_schema(fields)}),
    };
    let mut operation = json!({
        "operationId": m.path_name(),
        "tags": [m.class],
        "summary": m.summary,
        "requestBody": {
            "required": !required.is_empty(),
            "content": {"application/json": {"schema": request}}
        },
        "responses": {
            "200": {"description": "Success", "content": {"application/json": {"schema": response}}},
            "400": error_response("A property is missing, has the wrong type or an invalid value, or the body is not a JSON object"),
            "401": error_response("No valid API credentials"),
            "404": error_response("No such object, or no such method"),
            "413": error_response("The request body is too large"),
            "500": error_response("Internal error"),
            "503": error_response("Took longer than the time limit (Timeout), or the server is handling its limit of requests at once (ServerBusy: retry after the Retry-After header's seconds)"),
        }
    });
    if m.id.is_reader() {
        // The holder's reading client presents the session token, not API credentials.
        set(&mut operation, "security", json!([{"sessionToken": []}]));
        if let Some(responses) = operation.get_mut("responses") {
            set(
                responses,
                "401",
                error_response(
                    "No session token (Unauthorized) or a token that names no session (InvalidToken)",
                ),
            );
            set(
                responses,
                "400",
                error_response(
                    "A property is missing or invalid (a file that is not well formed, too large), the session is finished or expired (SessionFinished: also a second submit), or not started (SessionNotStarted)",
                ),
            );
        }
    }
    operation
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for m in METHODS {
        paths.insert(
            format!("/api/v1/{}", m.path_name()),
            json!({"post": operation(m)}),
        );
    }
    paths.insert(format!("/api/v1/{}", relay_protocol::PATH), relay_path());
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "passport-reader API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every method is POST /api/v1/{class}.{method} (also served at /api/{class}.{method}). \
                The body is a JSON object; it may be omitted when no property is required. Extraneous \
                properties are ignored. Timestamps are UTC, YYYY-MM-DDTHH:MM:SSZ."
        },
        "security": [{"basicAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "sessionToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The reader API: the session's token from session.create, as Authorization: Bearer <token>. It acts on its own session only, until the session is finished or expires."
                },
                "basicAuth": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "User name: the public key (public-key-…); password: the secret (secret-…)."
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error_name": {"type": "string"}, "error_message": {"type": "string"}},
                    "required": ["error_name", "error_message"]
                }
            }
        }
    });
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in relay_schemas() {
            schemas.insert(name.to_owned(), schema);
        }
    }
    doc
}

/// `GET /api/v1/reader.relay`: the APDU relay's WebSocket (README "The APDU relay").
fn relay_path() -> Value {
    json!({"get": {
        "operationId": "reader.relay",
        "tags": ["reader"],
        "summary": "The APDU relay: a WebSocket on which the server runs the chip protocol and the client forwards APDUs",
        "description": "Upgrade to a WebSocket (RFC 6455), with the session token in Authorization: Bearer (or in the hello). \
            Every message is one text frame holding one JSON object: the client sends RelayClientMessage \
            (first a hello, then one response or failure per command), the server sends RelayServerMessage \
            (command, reset, progress, then result or error, then it closes). See README \"The APDU relay\".",
        "security": [{"sessionToken": []}, {}],
        "responses": {
            "101": {"description": "Switching Protocols: the relay is open; see RelayClientMessage and RelayServerMessage"},
            "401": error_response("A token in Authorization: Bearer that names no session (InvalidToken)"),
            "405": error_response("Not GET (MethodNotAllowed)"),
            "426": error_response("A GET without the WebSocket upgrade headers (UpgradeRequired)")
        }
    }})
}

/// JSON Schemas of the relay's messages, for client authors.
fn relay_schemas() -> Vec<(&'static str, Value)> {
    let hex = json!({"type": "string", "pattern": "^([0-9A-Fa-f]{2})*$"});
    let seq = json!({"type": "integer", "minimum": 1});
    let object = |kind: &str, props: Value, required: &[&str]| {
        let mut properties = props;
        if let Some(p) = properties.as_object_mut() {
            p.insert("type".into(), json!({"const": kind}));
        }
        let mut req = vec!["type"];
        req.extend_from_slice(required);
        json!({"type": "object", "properties": properties, "required": req, "additionalProperties": false})
    };
    let access_key = json!({"oneOf": [
        {"type": "object", "additionalProperties": false,
         "required": ["document_number", "date_of_birth", "date_of_expiry"],
         "properties": {"document_number": {"type": "string"},
                        "date_of_birth": {"type": "string", "pattern": "^[0-9]{6}$"},
                        "date_of_expiry": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        {"type": "object", "additionalProperties": false, "required": ["can"],
         "properties": {"can": {"type": "string", "pattern": "^[0-9]+$"}}}
    ]});
    let client = json!({"oneOf": [
        object("hello", json!({
            "token": {"type": "string"},
            "access_key": access_key,
            "reader": {"type": "object", "additionalProperties": false, "properties": {
                "extended_length": {"type": "boolean", "default": false},
                "reset": {"type": "boolean", "default": false},
                "max_response_apdu": {"type": "integer", "minimum": 1}}},
            "client": {"type": "object", "additionalProperties": false, "required": ["name", "version"],
                "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
            "selfie": {"type": "string", "contentEncoding": "base64"}
        }), &["access_key"]),
        object("response", json!({"seq": seq, "apdu": hex}), &["seq", "apdu"]),
        object("failure", json!({"seq": seq,
            "reason": {"enum": ["card_removed", "transmit_failed", "reset_unsupported"]},
            "message": {"type": "string"}}), &["seq", "reason"]),
    ]});
    let server = json!({"oneOf": [
        object("command", json!({"seq": seq, "apdu": hex}), &["seq", "apdu"]),
        object("reset", json!({"seq": seq}), &["seq"]),
        object("progress", json!({"step": {"type": "string"}, "file": {"type": "string"},
            "read": {"type": "integer"}, "total": {"type": "integer"}}), &[]),
        object("result", json!({"session_id": {"type": "integer", "format": "int64"},
            "state": {"enum": ["APPROVED", "REJECTED", "FAILED"]},
            "rejection_reason": {"type": ["string", "null"]}}), &["session_id", "state", "rejection_reason"]),
        object("error", json!({"error_name": {"type": "string"}, "error_message": {"type": "string"},
            "retryable": {"type": "boolean"}}), &["error_name", "error_message", "retryable"]),
    ]});
    vec![
        ("RelayClientMessage", client),
        ("RelayServerMessage", server),
    ]
}

/// `GET /api/openapi.json`; any other method is refused with the API's 405, naming GET.
pub async fn serve(method: axum::http::Method) -> axum::response::Response {
    use axum::http::{Method, StatusCode, header};
    use axum::response::IntoResponse;

    use crate::http::error::ApiError;

    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    if method != Method::GET && method != Method::HEAD {
        return axum::response::Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET")
            .header(header::CONTENT_TYPE, "application/json")
            .body(axum::body::Body::from(
                ApiError::MethodNotAllowed
                    .body()
                    .to_string()
                    .replace("POST", "GET"),
            ))
            .unwrap_or_else(|_| ApiError::Internal.into_response());
    }
    axum::Json(DOCUMENT.get_or_init(document).clone()).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_every_method() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        for m in METHODS {
            let op = &doc["paths"][format!("/api/v1/{}", m.path_name())]["post"];
            assert_eq!(op["operationId"], m.path_name());
        }
        let get = &doc["paths"]["/api/v1/session.get"]["post"];
        assert_eq!(
            get["requestBody"]["content"]["application/json"]["schema"]["required"],
            json!(["id"])
        );
        let relay = &doc["paths"]["/api/v1/reader.relay"]["get"];
        assert_eq!(relay["operationId"], "reader.relay");
        assert!(doc["components"]["schemas"]["RelayServerMessage"]["oneOf"].is_array());
        let session =
            &get["responses"]["200"]["content"]["application/json"]["schema"]["properties"];
        assert_eq!(session["reference"]["type"], json!(["string", "null"]));
        assert_eq!(session["id"]["type"], "integer");
    }

    /// The schemas name every message the relay's code sends and takes, with its properties.
    #[test]
    fn relay_schemas_match_the_protocol_types() {
        use relay_protocol::{
            AccessKey, CanKey, ClientMessage, FailureReason, Hello, Progress, ReaderCapabilities,
            ServerMessage,
        };
        let doc = document();
        let check = |schema: &Value, message: Value| {
            let kind = message["type"].as_str().unwrap().to_owned();
            let variant = schema["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["properties"]["type"]["const"] == kind)
                .unwrap_or_else(|| panic!("no schema for {kind}"));
            for key in message.as_object().unwrap().keys() {
                assert!(variant["properties"].get(key).is_some(), "{kind}.{key}");
            }
            for key in variant["required"].as_array().unwrap() {
                assert!(
                    message.get(key.as_str().unwrap()).is_some(),
                    "{kind} lacks {key}"
                );
            }
        };
        let client = &doc["components"]["schemas"]["RelayClientMessage"];
        let server = &doc["components"]["schemas"]["RelayServerMessage"];
        let as_json = |m: String| serde_json::from_str::<Value>(&m).unwrap();
        for m in [
            ClientMessage::Hello(Hello {
                token: Some("t".into()),
                access_key: AccessKey::Can(CanKey { can: "1".into() }),
                reader: ReaderCapabilities::default(),
                client: None,
                selfie: Some("AA==".into()),
            }),
            ClientMessage::Response {
                seq: 1,
                apdu: "9000".into(),
            },
            ClientMessage::Failure {
                seq: 1,
                reason: FailureReason::CardRemoved,
                message: Some("x".into()),
            },
        ] {
            check(client, as_json(m.to_json()));
        }
        for m in [
            ServerMessage::Command {
                seq: 1,
                apdu: "00".into(),
            },
            ServerMessage::Reset { seq: 2 },
            ServerMessage::Progress(Progress {
                step: Some("PACE".into()),
                file: Some("DG1".into()),
                read: Some(1),
                total: Some(2),
            }),
            ServerMessage::Result {
                session_id: 1,
                state: "APPROVED".into(),
                rejection_reason: None,
            },
            ServerMessage::Error {
                error_name: "x".into(),
                error_message: "y".into(),
                retryable: true,
            },
        ] {
            check(server, as_json(m.to_json()));
        }
    }
}
