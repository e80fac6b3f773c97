//! The verification step: icao9303's full verification of the submitted chip files against the
//! server's trust store, plus the session's own requirements (the access key the holder used,
//! passports only, the clone check policy), decided into APPROVED or REJECTED with a reason.
//!
//! Synchronous and free of I/O: the caller runs it on a blocking thread with the server's clock.

use std::collections::BTreeMap;

use icao9303::lds::{Dg1, Dg2, Dg11, Dg12};
use icao9303::mrz::MrzFormat;
use icao9303::pki::TrustStore;
use icao9303::report::{CheckName, Outcome, ReasonCode, Report};
use icao9303::verify::{ActiveAuthenticationExchange, DocumentFiles, verify_document};
use time::OffsetDateTime;

use crate::model::{DocumentType, Sex, State};
use crate::store::VerificationRecord;

/// Check results as the API spells them.
pub const PASSED: &str = "PASSED";
pub const FAILED: &str = "FAILED";
pub const NOT_SUPPORTED: &str = "NOT_SUPPORTED";
pub const NOT_CHECKED: &str = "NOT_CHECKED";

/// Stable reason codes of a REJECTED session (`rejection_reason`).
pub mod reason {
    pub const NO_TRUSTED_CSCA: &str = "NO_TRUSTED_CSCA";
    pub const UNTRUSTED_DOCUMENT_SIGNER: &str = "UNTRUSTED_DOCUMENT_SIGNER";
    pub const DOCUMENT_SIGNER_EXPIRED: &str = "DOCUMENT_SIGNER_NOT_VALID_AT_SIGNING_TIME";
    pub const CSCA_NOT_VALID: &str = "CSCA_NOT_VALID_AT_SIGNING_TIME";
    pub const DOCUMENT_SIGNER_REVOKED: &str = "DOCUMENT_SIGNER_REVOKED";
    pub const SOD_SIGNATURE_INVALID: &str = "SOD_SIGNATURE_INVALID";
    pub const DATA_GROUP_HASH_MISMATCH: &str = "DATA_GROUP_HASH_MISMATCH";
    pub const PASSIVE_AUTHENTICATION_FAILED: &str = "PASSIVE_AUTHENTICATION_FAILED";
    pub const ACTIVE_AUTHENTICATION_FAILED: &str = "ACTIVE_AUTHENTICATION_FAILED";
    pub const ACTIVE_AUTHENTICATION_MISSING: &str = "ACTIVE_AUTHENTICATION_MISSING";
    pub const CHIP_AUTHENTICATION_FAILED: &str = "CHIP_AUTHENTICATION_FAILED";
    pub const CLONE_CHECK_NOT_PROVEN: &str = "CLONE_CHECK_NOT_PROVEN";
    pub const MRZ_CHECK_DIGITS_INVALID: &str = "MRZ_CHECK_DIGITS_INVALID";
    pub const ACCESS_KEY_MISMATCH: &str = "ACCESS_KEY_MISMATCH";
    pub const DOCUMENT_EXPIRED: &str = "DOCUMENT_EXPIRED";
    pub const NOT_A_PASSPORT: &str = "NOT_A_PASSPORT";
    pub const FACE_MISMATCH: &str = "FACE_MISMATCH";
    pub const NO_FACE_IN_SELFIE: &str = "NO_FACE_IN_SELFIE";
    pub const NO_FACE_IN_PORTRAIT: &str = "NO_FACE_IN_PORTRAIT";
    pub const MULTIPLE_FACES_IN_SELFIE: &str = "MULTIPLE_FACES_IN_SELFIE";
    pub const MULTIPLE_FACES_IN_PORTRAIT: &str = "MULTIPLE_FACES_IN_PORTRAIT";
    pub const FACE_NOT_CHECKED: &str = "FACE_NOT_CHECKED";
}

/// The key the holder used to open the chip (BAC/PACE with MRZ data, or PACE with the CAN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessKey {
    Mrz {
        document_number: String,
        /// `YYMMDD`.
        date_of_birth: String,
        /// `YYMMDD`.
        date_of_expiry: String,
    },
    /// The card access number printed on the document; the chip's files do not hold it, so it
    /// cannot be compared with them (the chip opening with it is the proof).
    Can(String),
}

/// What the reading client submitted, decoded and checked to be well formed.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub com: Option<Vec<u8>>,
    pub sod: Option<Vec<u8>>,
    /// By data-group number.
    pub data_groups: BTreeMap<u8, Vec<u8>>,
    pub aa_response: Option<Vec<u8>>,
    pub access_key: Option<AccessKey>,
    /// PASSED, FAILED, NOT_SUPPORTED or NOT_CHECKED: as reported by the client
    /// (`reader.submit`), or as the server ran it itself (the relay).
    pub chip_authentication: Option<String>,
    /// Whether `chip_authentication` is the server's own result (the relay: the server held
    /// the session keys and ran chip authentication against DG14's key), which proves the chip
    /// genuine; a client's report proves nothing.
    pub chip_authentication_by_server: bool,
    /// JPEG.
    pub selfie: Option<Vec<u8>>,
}

/// What the session asks for, and the operator's policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Requirements {
    pub passport_only: bool,
    pub face_verification: bool,
    pub require_proven_clone_check: bool,
    /// Largest descriptor distance that counts as the same face.
    pub face_match_threshold: f32,
}

/// Verifies a submission at `at` against `trust`, with the challenge this server issued for
/// this session. The record's state is APPROVED or REJECTED (never FAILED: a forged document is
/// a REJECTED outcome, not an error).
pub fn verify_submission(
    submission: &Submission,
    aa_challenge: Option<&[u8]>,
    trust: &TrustStore,
    face_engine: Option<&face::FaceEngine>,
    requirements: Requirements,
    at: OffsetDateTime,
) -> VerificationRecord {
    let files = DocumentFiles {
        com: submission.com.clone(),
        sod: submission.sod.clone(),
        data_groups: submission.data_groups.clone(),
    };
    let exchange = match (aa_challenge, &submission.aa_response) {
        (Some(challenge), Some(response)) => Some(ActiveAuthenticationExchange {
            challenge: challenge.to_vec(),
            response: response.clone(),
        }),
        _ => None,
    };
    let report = verify_document(&files, trust, exchange.as_ref(), at);
    let today = at.date();

    let mut record = VerificationRecord {
        verified: at.unix_timestamp(),
        document_signer: report.document_signer.clone(),
        ..VerificationRecord::default()
    };
    let dg1 = submission
        .data_groups
        .get(&1)
        .and_then(|b| Dg1::parse(b).ok());
    if let Some(dg1) = &dg1 {
        let dg11 = submission
            .data_groups
            .get(&11)
            .and_then(|b| Dg11::parse(b).ok());
        let dg12 = submission
            .data_groups
            .get(&12)
            .and_then(|b| Dg12::parse(b).ok());
        let identity = dg1.identity(dg11.as_ref(), dg12.as_ref(), today);
        record.given_names = identity.given_names;
        record.surname = identity.surname;
        record.nationality = identity.nationality;
        record.sex = identity.sex.as_deref().and_then(Sex::parse);
        record.date_of_birth = identity.date_of_birth;
        record.personal_number = identity.personal_number;
        record.document_type = identity
            .document_type
            .as_deref()
            .and_then(DocumentType::parse);
        record.document_number = identity.document_number;
        record.expiry_date = identity.expiry_date;
        record.issuing_country = identity.issuing_country;
        // DG12's issuing authority, else the Document Signer certificate's organisation.
        record.issuer = identity.issuer.or_else(|| report.identity.issuer.clone());
    }
    record.portrait = submission
        .data_groups
        .get(&2)
        .and_then(|b| Dg2::parse(b).ok())
        .and_then(|dg2| dg2.faces.into_iter().next())
        .and_then(|face| match icao9303::portrait::portrait_jpeg(&face) {
            Ok(jpeg) => Some(jpeg),
            Err(e) => {
                tracing::warn!(error = %e, "the DG2 portrait cannot be shown as JPEG");
                None
            }
        });
    if requirements.face_verification {
        record.face = submission.selfie.clone();
    }
    let face_reason = if requirements.face_verification {
        let (result, score, reason) = match_faces(
            face_engine,
            record.face.as_deref(),
            record.portrait.as_deref(),
            requirements.face_match_threshold,
        );
        record.face_match = Some(result.to_owned());
        record.face_match_score = score;
        reason
    } else {
        None
    };

    let (pa_result, pa_reason) = passive_authentication(&report, trust);
    record.passive_authentication = Some(pa_result.to_owned());

    // Active authentication: a chip whose SOD lists DG15 can prove it is not a clone, and must.
    let sod_lists_dg15 = report.data_groups.iter().any(|d| d.data_group == 15);
    let aa_outcome = report.outcome(CheckName::ActiveAuthentication);
    let (aa_result, aa_reason) = match aa_outcome {
        Outcome::Passed => (PASSED, None),
        Outcome::Failed => (FAILED, Some(reason::ACTIVE_AUTHENTICATION_FAILED)),
        Outcome::NotPresent if sod_lists_dg15 => {
            (FAILED, Some(reason::ACTIVE_AUTHENTICATION_MISSING))
        }
        Outcome::NotPresent => (NOT_SUPPORTED, None),
        Outcome::NotChecked
            if report
                .check(CheckName::ActiveAuthentication)
                .and_then(|c| c.reason_code)
                == Some(ReasonCode::NoChallenge) =>
        {
            (FAILED, Some(reason::ACTIVE_AUTHENTICATION_MISSING))
        }
        Outcome::NotChecked => (NOT_CHECKED, None),
    };
    record.active_authentication = Some(aa_result.to_owned());

    let ca_result = submission
        .chip_authentication
        .clone()
        .unwrap_or_else(|| NOT_CHECKED.to_owned());
    let ca_reason = (ca_result == FAILED).then_some(reason::CHIP_AUTHENTICATION_FAILED);
    record.chip_authentication = Some(ca_result.clone());

    // Chip authentication the server ran itself proves the chip holds the private key of
    // DG14's public key, when DG14 itself is the issuer's (its hash verified against the SOD).
    let dg14_verified = report
        .data_groups
        .iter()
        .any(|d| d.data_group == 14 && d.result == Outcome::Passed);
    let server_ca = submission.chip_authentication_by_server;
    let clone_check = match aa_result {
        FAILED => "FAILED",
        _ if server_ca && ca_result == FAILED => "FAILED",
        PASSED => "PROVEN",
        _ if server_ca && ca_result == PASSED && dg14_verified => "PROVEN",
        _ => "NOT_PROVEN",
    };
    record.clone_check = Some(clone_check.to_owned());
    let clone_reason = (clone_check == "NOT_PROVEN" && requirements.require_proven_clone_check)
        .then_some(reason::CLONE_CHECK_NOT_PROVEN);

    let mrz_reason = match report.outcome(CheckName::MrzCheckDigits) {
        Outcome::Passed => None,
        _ => Some(reason::MRZ_CHECK_DIGITS_INVALID),
    };
    let access_reason = match (&submission.access_key, &dg1) {
        (
            Some(AccessKey::Mrz {
                document_number,
                date_of_birth,
                date_of_expiry,
            }),
            Some(dg1),
        ) => {
            let mrz = &dg1.mrz;
            let same = normalise(document_number) == normalise(&mrz.document_number)
                && date_of_birth == &mrz.date_of_birth
                && date_of_expiry == &mrz.date_of_expiry;
            (!same).then_some(reason::ACCESS_KEY_MISMATCH)
        }
        _ => None,
    };
    let expiry_reason = match report.outcome(CheckName::DocumentExpiry) {
        Outcome::Passed => None,
        _ => Some(reason::DOCUMENT_EXPIRED),
    };
    let passport_reason = match &dg1 {
        Some(dg1) if dg1.mrz.format == MrzFormat::Td3 && dg1.mrz.document_code.starts_with('P') => {
            None
        }
        _ if requirements.passport_only => Some(reason::NOT_A_PASSPORT),
        _ => None,
    };

    // The first failed requirement names the rejection: the document's authenticity first.
    let rejection = [
        pa_reason,
        aa_reason,
        ca_reason,
        mrz_reason,
        access_reason,
        expiry_reason,
        passport_reason,
        clone_reason,
        face_reason,
    ]
    .into_iter()
    .flatten()
    .next();
    match rejection {
        None => record.state = Some(State::Approved),
        Some(code) => {
            record.state = Some(State::Rejected);
            record.rejection_reason = Some(code.to_owned());
            record.state_reason = Some(code.to_owned());
        }
    }
    record
}

/// `(face_match, face_match_score, rejection reason)` of the selfie against the portrait: the
/// same person only when exactly one face is found in each and their descriptors are within
/// `threshold`. Anything less is a rejection: a face check that could not be made approves nothing.
fn match_faces(
    engine: Option<&face::FaceEngine>,
    selfie: Option<&[u8]>,
    portrait: Option<&[u8]>,
    threshold: f32,
) -> (&'static str, Option<String>, Option<&'static str>) {
    let (Some(engine), Some(selfie), Some(portrait)) = (engine, selfie, portrait) else {
        return (NOT_CHECKED, None, Some(reason::FACE_NOT_CHECKED));
    };
    let comparison = match engine.compare(selfie, portrait, threshold) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "face comparison could not be made");
            return (NOT_CHECKED, None, Some(reason::FACE_NOT_CHECKED));
        }
    };
    let score = comparison.distance.map(|d| format!("{d:.4}"));
    let selfie_first = |which: face::Which, selfie_reason, portrait_reason| match which {
        face::Which::First => selfie_reason,
        face::Which::Second => portrait_reason,
    };
    match comparison.decision {
        face::Decision::Match => (PASSED, score, None),
        face::Decision::NoMatch => (FAILED, score, Some(reason::FACE_MISMATCH)),
        face::Decision::NoFace { image } => (
            "NO_FACE",
            score,
            Some(selfie_first(
                image,
                reason::NO_FACE_IN_SELFIE,
                reason::NO_FACE_IN_PORTRAIT,
            )),
        ),
        face::Decision::MultipleFaces { image, .. } => (
            "MULTIPLE_FACES",
            score,
            Some(selfie_first(
                image,
                reason::MULTIPLE_FACES_IN_SELFIE,
                reason::MULTIPLE_FACES_IN_PORTRAIT,
            )),
        ),
    }
}

/// `(result, rejection reason)` of passive authentication.
fn passive_authentication(
    report: &Report,
    trust: &TrustStore,
) -> (&'static str, Option<&'static str>) {
    let check = |name| report.check(name);
    let failed_reason = |name| {
        check(name)
            .filter(|c| c.result != Outcome::Passed)
            .map(|c| c.reason_code)
    };
    if let Some(code) = failed_reason(CheckName::SodSignature) {
        let r = match code {
            Some(ReasonCode::DocumentSignerNotFound) => reason::UNTRUSTED_DOCUMENT_SIGNER,
            Some(
                ReasonCode::SignatureInvalid
                | ReasonCode::MessageDigestMismatch
                | ReasonCode::ContentTypeMismatch,
            ) => reason::SOD_SIGNATURE_INVALID,
            _ => reason::PASSIVE_AUTHENTICATION_FAILED,
        };
        return (FAILED, Some(r));
    }
    if let Some(code) = failed_reason(CheckName::DocumentSignerChain) {
        let r = match code {
            _ if trust.anchors().is_empty() => reason::NO_TRUSTED_CSCA,
            Some(ReasonCode::CscaNotFound | ReasonCode::DocumentSignerSignatureInvalid) => {
                reason::UNTRUSTED_DOCUMENT_SIGNER
            }
            Some(ReasonCode::DocumentSignerNotValidAtSigningTime) => {
                reason::DOCUMENT_SIGNER_EXPIRED
            }
            Some(ReasonCode::CscaNotValid) => reason::CSCA_NOT_VALID,
            _ => reason::PASSIVE_AUTHENTICATION_FAILED,
        };
        return (FAILED, Some(r));
    }
    if report.outcome(CheckName::DocumentSignerRevocation) == Outcome::Failed {
        return (FAILED, Some(reason::DOCUMENT_SIGNER_REVOKED));
    }
    match report.outcome(CheckName::DataGroupHashes) {
        Outcome::Passed => (PASSED, None),
        _ => (FAILED, Some(reason::DATA_GROUP_HASH_MISMATCH)),
    }
}

/// A document number without fillers or spaces, upper case.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '<' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}
