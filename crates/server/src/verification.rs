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

use crate::model::{CheckResult, CloneCheck, DocumentType, FaceMatch, Reason, Sex, State};
use crate::store::VerificationRecord;
/// The key the holder used to open the chip (BAC/PACE with MRZ data, or PACE with the CAN): the
/// wire type. The CAN is not in the chip's files, so it cannot be compared with them (the chip
/// opening with it is the proof).
pub use relay_protocol::AccessKey;

/// What the reading client submitted, decoded and checked to be well formed.
#[derive(Debug, Clone)]
pub struct Submission {
    pub com: Vec<u8>,
    pub sod: Vec<u8>,
    /// By data-group number.
    pub data_groups: BTreeMap<u8, Vec<u8>>,
    pub aa_response: Option<Vec<u8>>,
    pub access_key: AccessKey,
    /// As reported by the client (`reader.submit`; NOT_CHECKED if it says nothing), or as the
    /// server ran it itself (the relay).
    pub chip_authentication: CheckResult,
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
        com: Some(submission.com.clone()).filter(|b| !b.is_empty()),
        sod: Some(submission.sod.clone()).filter(|b| !b.is_empty()),
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
        record_identity(&mut record, dg1, submission, &report, at);
    }
    record.portrait = portrait_jpeg(submission);
    let face_reason = if requirements.face_verification {
        record.face = submission.selfie.clone();
        let (result, score, reason) = match_faces(
            face_engine,
            record.face.as_deref(),
            record.portrait.as_deref(),
            requirements.face_match_threshold,
        );
        record.face_match = Some(result);
        record.face_match_score = score;
        reason
    } else {
        None
    };
    let (pa_result, pa_reason) = passive_authentication(&report, trust);
    let (aa_result, aa_reason) = active_authentication(&report);
    let ca_result = submission.chip_authentication;
    let ca_reason = (ca_result == CheckResult::Failed).then_some(Reason::ChipAuthenticationFailed);
    let clone_check = clone_check(aa_result, ca_result, submission, &report);
    let clone_reason = (clone_check == CloneCheck::NotProven
        && requirements.require_proven_clone_check)
        .then_some(Reason::CloneCheckNotProven);
    record.passive_authentication = Some(pa_result);
    record.active_authentication = Some(aa_result);
    record.chip_authentication = Some(ca_result);
    record.clone_check = Some(clone_check);

    // The first failed requirement names the rejection: the document's authenticity first.
    let rejection = [pa_reason, aa_reason, ca_reason]
        .into_iter()
        .chain(document_reasons(
            submission,
            dg1.as_ref(),
            &report,
            requirements,
        ))
        .chain([clone_reason, face_reason])
        .flatten()
        .next();
    match rejection {
        None => record.state = Some(State::Approved),
        Some(code) => {
            record.state = Some(State::Rejected);
            record.rejection_reason = Some(code);
            record.state_reason = Some(code);
        }
    }
    record
}

/// The holder's identity from DG1 (and DG11/DG12 where present) onto the record.
fn record_identity(
    record: &mut VerificationRecord,
    dg1: &Dg1,
    submission: &Submission,
    report: &Report,
    at: OffsetDateTime,
) {
    let dg11 = submission
        .data_groups
        .get(&11)
        .and_then(|b| Dg11::parse(b).ok());
    let dg12 = submission
        .data_groups
        .get(&12)
        .and_then(|b| Dg12::parse(b).ok());
    let identity = dg1.identity(dg11.as_ref(), dg12.as_ref(), at.date());
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

/// DG2's first face as a JPEG the API can show, if it can be shown.
fn portrait_jpeg(submission: &Submission) -> Option<Vec<u8>> {
    submission
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
        })
}

/// Active authentication: a chip whose SOD lists DG15 can prove it is not a clone, and must.
fn active_authentication(report: &Report) -> (CheckResult, Option<Reason>) {
    let sod_lists_dg15 = report.data_groups.iter().any(|d| d.data_group == 15);
    match report.outcome(CheckName::ActiveAuthentication) {
        Outcome::Passed => (CheckResult::Passed, None),
        Outcome::Failed => (
            CheckResult::Failed,
            Some(Reason::ActiveAuthenticationFailed),
        ),
        Outcome::NotPresent if sod_lists_dg15 => (
            CheckResult::Failed,
            Some(Reason::ActiveAuthenticationMissing),
        ),
        Outcome::NotPresent => (CheckResult::NotSupported, None),
        Outcome::NotChecked
            if report
                .check(CheckName::ActiveAuthentication)
                .and_then(|c| c.reason_code)
                == Some(ReasonCode::NoChallenge) =>
        {
            (
                CheckResult::Failed,
                Some(Reason::ActiveAuthenticationMissing),
            )
        }
        Outcome::NotChecked => (CheckResult::NotChecked, None),
    }
}

/// Whether the chip is proven genuine to this server: by active authentication on its
/// challenge, or by chip authentication the server ran itself (the relay), which proves the
/// chip holds the private key of DG14's public key when DG14 is the issuer's (its hash
/// verified against the SOD). A client's report of chip authentication proves nothing.
fn clone_check(
    aa: CheckResult,
    ca: CheckResult,
    submission: &Submission,
    report: &Report,
) -> CloneCheck {
    let dg14_verified = report
        .data_groups
        .iter()
        .any(|d| d.data_group == 14 && d.result == Outcome::Passed);
    let server_ca = submission.chip_authentication_by_server;
    match aa {
        CheckResult::Failed => CloneCheck::Failed,
        _ if server_ca && ca == CheckResult::Failed => CloneCheck::Failed,
        CheckResult::Passed => CloneCheck::Proven,
        _ if server_ca && ca == CheckResult::Passed && dg14_verified => CloneCheck::Proven,
        _ => CloneCheck::NotProven,
    }
}

/// The document's own requirements, in order: MRZ check digits, the access key against DG1,
/// expiry, passports only.
fn document_reasons(
    submission: &Submission,
    dg1: Option<&Dg1>,
    report: &Report,
    requirements: Requirements,
) -> [Option<Reason>; 4] {
    let mrz_reason = match report.outcome(CheckName::MrzCheckDigits) {
        Outcome::Passed => None,
        _ => Some(Reason::MrzCheckDigitsInvalid),
    };
    let access_reason = match (&submission.access_key, dg1) {
        (AccessKey::Mrz(key), Some(dg1)) => {
            let mrz = &dg1.mrz;
            let same = normalise(&key.document_number) == normalise(&mrz.document_number)
                && key.date_of_birth == mrz.date_of_birth
                && key.date_of_expiry == mrz.date_of_expiry;
            (!same).then_some(Reason::AccessKeyMismatch)
        }
        _ => None,
    };
    let expiry_reason = match report.outcome(CheckName::DocumentExpiry) {
        Outcome::Passed => None,
        _ => Some(Reason::DocumentExpired),
    };
    let passport_reason = match dg1 {
        Some(dg1) if dg1.mrz.format == MrzFormat::Td3 && dg1.mrz.document_code.starts_with('P') => {
            None
        }
        _ if requirements.passport_only => Some(Reason::NotAPassport),
        _ => None,
    };
    [mrz_reason, access_reason, expiry_reason, passport_reason]
}

/// `(face_match, face_match_score, rejection reason)` of the selfie against the portrait: the
/// same person only when exactly one face is found in each and their descriptors are within
/// `threshold`. Anything less is a rejection: a face check that could not be made approves nothing.
fn match_faces(
    engine: Option<&face::FaceEngine>,
    selfie: Option<&[u8]>,
    portrait: Option<&[u8]>,
    threshold: f32,
) -> (FaceMatch, Option<f64>, Option<Reason>) {
    let not_checked = (FaceMatch::NotChecked, None, Some(Reason::FaceNotChecked));
    let (Some(engine), Some(selfie), Some(portrait)) = (engine, selfie, portrait) else {
        return not_checked;
    };
    let comparison = match engine.compare(selfie, portrait, threshold) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "face comparison could not be made");
            return not_checked;
        }
    };
    let score = comparison.distance.map(f64::from);
    let selfie_first = |which: face::Which, selfie_reason, portrait_reason| match which {
        face::Which::First => selfie_reason,
        face::Which::Second => portrait_reason,
    };
    match comparison.decision {
        face::Decision::Match => (FaceMatch::Passed, score, None),
        face::Decision::NoMatch => (FaceMatch::Failed, score, Some(Reason::FaceMismatch)),
        face::Decision::NoFace { image } => (
            FaceMatch::NoFace,
            score,
            Some(selfie_first(
                image,
                Reason::NoFaceInSelfie,
                Reason::NoFaceInPortrait,
            )),
        ),
        face::Decision::MultipleFaces { image, .. } => (
            FaceMatch::MultipleFaces,
            score,
            Some(selfie_first(
                image,
                Reason::MultipleFacesInSelfie,
                Reason::MultipleFacesInPortrait,
            )),
        ),
    }
}

/// `(result, rejection reason)` of passive authentication.
fn passive_authentication(report: &Report, trust: &TrustStore) -> (CheckResult, Option<Reason>) {
    let check = |name| report.check(name);
    let failed_reason = |name| {
        check(name)
            .filter(|c| c.result != Outcome::Passed)
            .map(|c| c.reason_code)
    };
    let failed = |reason| (CheckResult::Failed, Some(reason));
    if let Some(code) = failed_reason(CheckName::SodSignature) {
        return failed(match code {
            Some(ReasonCode::DocumentSignerNotFound) => Reason::UntrustedDocumentSigner,
            Some(
                ReasonCode::SignatureInvalid
                | ReasonCode::MessageDigestMismatch
                | ReasonCode::ContentTypeMismatch,
            ) => Reason::SodSignatureInvalid,
            _ => Reason::PassiveAuthenticationFailed,
        });
    }
    if let Some(code) = failed_reason(CheckName::DocumentSignerChain) {
        return failed(match code {
            _ if trust.anchors().is_empty() => Reason::NoTrustedCsca,
            Some(ReasonCode::CscaNotFound | ReasonCode::DocumentSignerSignatureInvalid) => {
                Reason::UntrustedDocumentSigner
            }
            Some(ReasonCode::DocumentSignerNotValidAtSigningTime) => Reason::DocumentSignerExpired,
            Some(ReasonCode::CscaNotValid) => Reason::CscaNotValid,
            _ => Reason::PassiveAuthenticationFailed,
        });
    }
    if report.outcome(CheckName::DocumentSignerRevocation) == Outcome::Failed {
        return failed(Reason::DocumentSignerRevoked);
    }
    match report.outcome(CheckName::DataGroupHashes) {
        Outcome::Passed => (CheckResult::Passed, None),
        _ => failed(Reason::DataGroupHashMismatch),
    }
}

/// A document number without fillers or spaces, upper case.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '<' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}
