//! The reader API's JSON bodies (`POST /api/v1/reader.start`, `reader.submit`, `reader.abort`,
//! `reader.state`, with `Authorization: Bearer <session token>`): one definition for the server
//! and the reading client. The server also checks each property's type against its method
//! table before it decodes a body into these types, so that a type error names the property.

use serde::{Deserialize, Serialize};

use crate::AccessKey;

/// `reader.start`'s answer: what the session asks for, and the active-authentication challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartResponse {
    pub session_id: i64,
    pub state: String,
    pub face_verification: bool,
    pub passport_only: bool,
    /// 8 bytes, hex: the challenge for INTERNAL AUTHENTICATE.
    pub aa_challenge: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub expires: String,
}

/// `reader.submit`'s body: the chip's files in base64 (standard alphabet, padded) under their
/// names, the chip's answer to the challenge in hex, the access key the holder used (the MRZ
/// fields or the CAN) and, for face-verification sessions, the selfie.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitRequest {
    pub com: Option<String>,
    pub sod: Option<String>,
    pub dg1: Option<String>,
    pub dg2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dg7: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dg11: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dg12: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dg14: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dg15: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aa_response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_document_number: Option<String>,
    /// YYMMDD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_date_of_birth: Option<String>,
    /// YYMMDD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_date_of_expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_can: Option<String>,
    /// The client's own chip authentication: PASSED, FAILED or NOT_SUPPORTED (proves nothing
    /// to the server; the relay's does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chip_authentication: Option<String>,
    /// JPEG or PNG, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfie: Option<String>,
}

impl SubmitRequest {
    /// Puts the access key into its properties.
    pub fn set_access_key(&mut self, key: &AccessKey) {
        match key {
            AccessKey::Mrz(m) => {
                self.access_document_number = Some(m.document_number.clone());
                self.access_date_of_birth = Some(m.date_of_birth.clone());
                self.access_date_of_expiry = Some(m.date_of_expiry.clone());
            }
            AccessKey::Can(c) => self.access_can = Some(c.can.clone()),
        }
    }

    /// The access key from its properties: all three MRZ fields, or the CAN alone.
    pub fn access_key(&self) -> Option<AccessKey> {
        match (
            &self.access_document_number,
            &self.access_date_of_birth,
            &self.access_date_of_expiry,
            &self.access_can,
        ) {
            (Some(number), Some(birth), Some(expiry), _) => Some(AccessKey::Mrz(crate::MrzKey {
                document_number: number.clone(),
                date_of_birth: birth.clone(),
                date_of_expiry: expiry.clone(),
            })),
            (None, None, None, Some(can)) => {
                Some(AccessKey::Can(crate::CanKey { can: can.clone() }))
            }
            _ => None,
        }
    }
}

/// `reader.submit`'s answer: the session's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResponse {
    pub state: String,
    pub rejection_reason: Option<String>,
}

/// `reader.state`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateResponse {
    pub state: String,
    pub state_reason: Option<String>,
}

/// `reader.abort`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortResponse {
    pub state: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::{CanKey, MrzKey};

    #[test]
    fn access_key_round_trips_through_the_properties() {
        for key in [
            AccessKey::Mrz(MrzKey {
                document_number: "L898902C3".into(),
                date_of_birth: "740812".into(),
                date_of_expiry: "120415".into(),
            }),
            AccessKey::Can(CanKey {
                can: "123456".into(),
            }),
        ] {
            let mut request = SubmitRequest::default();
            request.set_access_key(&key);
            let json = serde_json::to_value(&request).unwrap();
            let back: SubmitRequest = serde_json::from_value(json).unwrap();
            assert_eq!(back.access_key(), Some(key));
        }
        let partial = SubmitRequest {
            access_document_number: Some("X".into()),
            ..SubmitRequest::default()
        };
        assert_eq!(partial.access_key(), None);
    }

    #[test]
    fn optional_properties_are_left_out() {
        let json = serde_json::to_value(SubmitRequest::default()).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["com", "dg1", "dg2", "sod"]);
    }
}
