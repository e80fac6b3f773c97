//! The verification report: one entry per check, each with an outcome and a machine-readable
//! reason. A forged or untrusted document yields a report with FAILED checks, never an `Err`.
//!
//! JSON form (serde):
//! `{"valid": bool, "checks": [{"check": "sod_signature", "result": "PASSED", "reason_code": null,
//! "reason": null}, ...], "identity": {...}, "document_signer": ..., "csca": ..., "data_groups": [...]}`.
//!
//! `valid` is true when `sod_signature` and `document_signer_chain` PASSED and no check FAILED.
//! NOT_PRESENT (the input lacked what the check needs) and NOT_CHECKED (e.g. no CRL for the
//! issuing CSCA, no AA challenge given) do not make a document invalid on their own.

use serde::Serialize;

/// The checks, serialized as their snake_case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// The EF.SOD's CMS signature by the Document Signer (ICAO 9303 Part 11 §5.1).
    SodSignature,
    /// The Document Signer certificate chains to a trusted CSCA.
    DocumentSignerChain,
    /// The Document Signer certificate is not on an imported CRL of its CSCA.
    DocumentSignerRevocation,
    /// Each data group read hashes to the value in the LDS security object.
    DataGroupHashes,
    /// DG1's MRZ check digits (ICAO 9303 Part 3 §4.9).
    MrzCheckDigits,
    /// The document's date of expiry is not before the verification date.
    DocumentExpiry,
    /// The chip's INTERNAL AUTHENTICATE response (ICAO 9303 Part 11 §6.1).
    ActiveAuthentication,
}

impl CheckName {
    pub const ALL: [CheckName; 7] = [
        CheckName::SodSignature,
        CheckName::DocumentSignerChain,
        CheckName::DocumentSignerRevocation,
        CheckName::DataGroupHashes,
        CheckName::MrzCheckDigits,
        CheckName::DocumentExpiry,
        CheckName::ActiveAuthentication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::SodSignature => "sod_signature",
            CheckName::DocumentSignerChain => "document_signer_chain",
            CheckName::DocumentSignerRevocation => "document_signer_revocation",
            CheckName::DataGroupHashes => "data_group_hashes",
            CheckName::MrzCheckDigits => "mrz_check_digits",
            CheckName::DocumentExpiry => "document_expiry",
            CheckName::ActiveAuthentication => "active_authentication",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Passed,
    Failed,
    /// The input does not contain what the check needs (e.g. no DG15 for active authentication).
    NotPresent,
    /// The check could not be run (unsupported algorithm, no CRL, no challenge…).
    NotChecked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "PASSED",
            Outcome::Failed => "FAILED",
            Outcome::NotPresent => "NOT_PRESENT",
            Outcome::NotChecked => "NOT_CHECKED",
        }
    }
}

/// Stable reason codes, serialized in SCREAMING_SNAKE_CASE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ReasonCode {
    // Inputs missing.
    NoSod,
    NoDataGroups,
    NoDg1,
    NoDg15,
    NoChallenge,
    // EF.SOD.
    SodMalformed,
    UnsupportedAlgorithm,
    NoSignerInfo,
    DocumentSignerNotFound,
    MessageDigestMismatch,
    ContentTypeMismatch,
    SignatureInvalid,
    // Chain.
    SodSignatureNotVerified,
    CscaNotFound,
    DocumentSignerSignatureInvalid,
    DocumentSignerNotValidAtSigningTime,
    DocumentSignerKeyUsage,
    CscaNotValid,
    CscaNotCa,
    // Revocation.
    Revoked,
    NoCrl,
    CrlExpired,
    // Data groups.
    HashMismatch,
    DataGroupNotInSod,
    // MRZ and expiry.
    Dg1Malformed,
    CheckDigitInvalid,
    DocumentExpired,
    NoExpiryDate,
    // Active authentication.
    Dg15Malformed,
    AaHashAlgorithmUnknown,
    AaKeyUnsupported,
    AaSignatureInvalid,
}

impl ReasonCode {
    /// The SCREAMING_SNAKE_CASE code.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: CheckName,
    pub result: Outcome,
    pub reason_code: Option<ReasonCode>,
    /// Human-readable explanation, `None` for an unremarkable pass.
    pub reason: Option<String>,
}

impl Check {
    pub fn passed(check: CheckName) -> Self {
        Self {
            check,
            result: Outcome::Passed,
            reason_code: None,
            reason: None,
        }
    }

    pub fn new(
        check: CheckName,
        result: Outcome,
        code: ReasonCode,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            check,
            result,
            reason_code: Some(code),
            reason: Some(reason.into()),
        }
    }

    pub fn failed(check: CheckName, code: ReasonCode, reason: impl Into<String>) -> Self {
        Self::new(check, Outcome::Failed, code, reason)
    }
}

/// One data group's hash comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataGroupHash {
    pub data_group: u8,
    /// PASSED, FAILED (mismatch or not in the SOD), NOT_PRESENT (listed in the SOD, not read).
    pub result: Outcome,
    /// Hex of the value in the SOD (`None` when the SOD does not list the group).
    pub expected: Option<String>,
    /// Hex of the hash of the bytes read (`None` when not read).
    pub computed: Option<String>,
}

/// The holder's identity in the API's field names and formats; `issuer` is DG12's issuing
/// authority, else the Document Signer certificate's organisation (O).
pub use crate::mrz::Identity;

/// The whole verification result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub valid: bool,
    pub checks: Vec<Check>,
    pub identity: Identity,
    /// Document Signer certificate subject.
    pub document_signer: Option<String>,
    /// Subject of the trusted CSCA (or link certificate) the Document Signer chains to.
    pub csca: Option<String>,
    /// The SOD's signature scheme, e.g. `ECDSA/SHA-256`.
    pub signature_algorithm: Option<String>,
    /// The LDS security object's hash algorithm.
    pub hash_algorithm: Option<String>,
    /// RFC 3339 signing time from the SOD's signed attributes, when present.
    pub signing_time: Option<String>,
    /// The verification date (YYYY-MM-DD).
    pub verified_at: String,
    pub data_groups: Vec<DataGroupHash>,
}

impl Report {
    /// Computes `valid` from the checks (see the module documentation).
    pub fn compute_valid(checks: &[Check]) -> bool {
        let passed = |name| {
            checks
                .iter()
                .any(|c| c.check == name && c.result == Outcome::Passed)
        };
        passed(CheckName::SodSignature)
            && passed(CheckName::DocumentSignerChain)
            && checks.iter().all(|c| c.result != Outcome::Failed)
    }

    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == name)
    }

    /// The outcome of a check (`NotChecked` if absent from the report).
    pub fn outcome(&self, name: CheckName) -> Outcome {
        self.check(name).map_or(Outcome::NotChecked, |c| c.result)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let c = Check::failed(
            CheckName::DataGroupHashes,
            ReasonCode::HashMismatch,
            "DG1 differs",
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["check"], "data_group_hashes");
        assert_eq!(v["result"], "FAILED");
        assert_eq!(v["reason_code"], "HASH_MISMATCH");
        assert_eq!(v["reason"], "DG1 differs");
        assert_eq!(
            ReasonCode::DocumentSignerNotValidAtSigningTime.as_str(),
            "DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME"
        );
        let p = serde_json::to_value(Check::passed(CheckName::SodSignature)).unwrap();
        assert!(p["reason"].is_null());
    }

    #[test]
    fn validity_needs_signature_and_chain() {
        let mut checks = vec![
            Check::passed(CheckName::SodSignature),
            Check::passed(CheckName::DocumentSignerChain),
        ];
        assert!(Report::compute_valid(&checks));
        checks.push(Check::new(
            CheckName::DocumentSignerRevocation,
            Outcome::NotChecked,
            ReasonCode::NoCrl,
            "no CRL",
        ));
        assert!(Report::compute_valid(&checks));
        checks.push(Check::failed(
            CheckName::DocumentExpiry,
            ReasonCode::DocumentExpired,
            "expired",
        ));
        assert!(!Report::compute_valid(&checks));
        assert!(!Report::compute_valid(&[Check::passed(
            CheckName::SodSignature
        )]));
    }
}
