//! Whole-document verification: passive authentication, the MRZ, the document's expiry and
//! active authentication, gathered into one [`Report`].
//!
//! Works on any subset of the chip's files: checks whose inputs are missing are NOT_PRESENT.
//! See [`crate::passive_authentication`] for the validity policy and [`crate::report`] for when a report is
//! `valid`. The document must not be expired on the verification date (its expiry day itself
//! is still valid).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::active_authentication::verify_active_authentication;
use crate::lds::{Dg1, Dg12, Dg14, Dg15};
use crate::passive_authentication::verify_passive_authentication;
use crate::pki::TrustStore;
use crate::report::{Check, CheckName, Identity, Outcome, ReasonCode, Report};

/// The files read from a chip. Data groups are keyed by number (1..=16).
#[derive(Debug, Clone, Default)]
pub struct DocumentFiles {
    pub com: Option<Vec<u8>>,
    pub sod: Option<Vec<u8>>,
    pub data_groups: BTreeMap<u8, Vec<u8>>,
}

/// An INTERNAL AUTHENTICATE exchange: the terminal's challenge and the chip's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveAuthenticationExchange {
    pub challenge: Vec<u8>,
    pub response: Vec<u8>,
}

/// Verifies a document at time `at` against `store`. Never fails: every problem is a check.
pub fn verify_document(
    files: &DocumentFiles,
    store: &TrustStore,
    active_authentication: Option<&ActiveAuthenticationExchange>,
    at: OffsetDateTime,
) -> Report {
    let today = at.date();
    let mut checks = Vec::new();
    let mut report_pa = None;
    match &files.sod {
        Some(sod) => {
            let pa = verify_passive_authentication(sod, &files.data_groups, store, at);
            checks.extend(pa.checks.iter().cloned());
            report_pa = Some(pa);
        }
        None => {
            for name in [
                CheckName::SodSignature,
                CheckName::DocumentSignerChain,
                CheckName::DocumentSignerRevocation,
                CheckName::DataGroupHashes,
            ] {
                checks.push(Check::new(
                    name,
                    Outcome::NotPresent,
                    ReasonCode::NoSod,
                    "no EF.SOD was read",
                ));
            }
        }
    }

    let mut identity = Identity::default();
    match files.data_groups.get(&1).map(|b| Dg1::parse(b)) {
        None => {
            checks.push(Check::new(
                CheckName::MrzCheckDigits,
                Outcome::NotPresent,
                ReasonCode::NoDg1,
                "no DG1",
            ));
            checks.push(Check::new(
                CheckName::DocumentExpiry,
                Outcome::NotPresent,
                ReasonCode::NoDg1,
                "no DG1",
            ));
        }
        Some(Err(e)) => {
            let reason = format!("DG1 cannot be parsed: {e}");
            checks.push(Check::failed(
                CheckName::MrzCheckDigits,
                ReasonCode::Dg1Malformed,
                reason.clone(),
            ));
            checks.push(Check::new(
                CheckName::DocumentExpiry,
                Outcome::NotChecked,
                ReasonCode::Dg1Malformed,
                reason,
            ));
        }
        Some(Ok(dg1)) => {
            let mrz = &dg1.mrz;
            identity = mrz.identity(today);
            let invalid: Vec<&str> = mrz
                .check_digits()
                .iter()
                .filter(|c| !c.valid)
                .map(|c| c.field)
                .collect();
            checks.push(if invalid.is_empty() {
                Check::passed(CheckName::MrzCheckDigits)
            } else {
                Check::failed(
                    CheckName::MrzCheckDigits,
                    ReasonCode::CheckDigitInvalid,
                    format!("wrong check digit: {}", invalid.join(", ")),
                )
            });
            checks.push(match mrz.expiry_date(today) {
                Some(expiry) if expiry >= today => Check::passed(CheckName::DocumentExpiry),
                Some(expiry) => Check::failed(
                    CheckName::DocumentExpiry,
                    ReasonCode::DocumentExpired,
                    format!("the document expired on {expiry}"),
                ),
                None => Check::new(
                    CheckName::DocumentExpiry,
                    Outcome::NotChecked,
                    ReasonCode::NoExpiryDate,
                    "the MRZ has no usable date of expiry",
                ),
            });
        }
    }
    identity.issuer = files
        .data_groups
        .get(&12)
        .and_then(|b| Dg12::parse(b).ok())
        .and_then(|d| d.issuing_authority)
        .or_else(|| {
            report_pa
                .as_ref()
                .and_then(|pa| pa.document_signer.as_ref())
                .and_then(|ds| ds.subject.issuing_organization())
        });

    checks.push(check_active_authentication(files, active_authentication));

    let valid = Report::compute_valid(&checks);
    let pa = report_pa.as_ref();
    Report {
        valid,
        checks,
        identity,
        document_signer: pa
            .and_then(|p| p.document_signer.as_ref())
            .map(|c| c.subject.to_string()),
        csca: pa
            .and_then(|p| p.csca.as_ref())
            .map(|c| c.subject.to_string()),
        signature_algorithm: pa.and_then(|p| p.signature_algorithm.clone()),
        hash_algorithm: pa
            .and_then(|p| p.hash_algorithm)
            .map(|h| h.name().to_owned()),
        signing_time: pa.and_then(|p| p.signing_time).and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        }),
        verified_at: today.to_string(),
        data_groups: pa.map(|p| p.data_groups.clone()).unwrap_or_default(),
    }
}

fn check_active_authentication(
    files: &DocumentFiles,
    exchange: Option<&ActiveAuthenticationExchange>,
) -> Check {
    const NAME: CheckName = CheckName::ActiveAuthentication;
    let Some(dg15) = files.data_groups.get(&15) else {
        return Check::new(
            NAME,
            Outcome::NotPresent,
            ReasonCode::NoDg15,
            "no DG15 (the chip may not support it)",
        );
    };
    let dg15 = match Dg15::parse(dg15) {
        Ok(d) => d,
        Err(e) => {
            return Check::failed(
                NAME,
                ReasonCode::Dg15Malformed,
                format!("DG15 cannot be parsed: {e}"),
            );
        }
    };
    let Some(exchange) = exchange else {
        return Check::new(
            NAME,
            Outcome::NotChecked,
            ReasonCode::NoChallenge,
            "no challenge and response were given",
        );
    };
    let aa_algorithm = files
        .data_groups
        .get(&14)
        .and_then(|b| Dg14::parse(b).ok())
        .and_then(|d| d.security_infos.active_authentication_info)
        .map(|i| i.signature_algorithm);
    verify_active_authentication(
        &dg15.subject_public_key_info,
        aa_algorithm,
        &exchange.challenge,
        &exchange.response,
    )
}
