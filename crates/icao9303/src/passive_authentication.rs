//! Passive authentication (ICAO 9303 Part 11 §5.1): the SOD's signature, the Document Signer's
//! chain to a trusted CSCA, its revocation status, and the data-group hashes.
//!
//! Validity policy (times come from the caller, never from the system clock):
//! - the *signing time* is the SOD's signingTime signed attribute when present, otherwise the
//!   verification time `at`;
//! - the Document Signer certificate must be valid at the signing time;
//! - the CSCA (or link certificate) must be valid at the signing time too (ICAO 9303 Part 12
//!   §5: a CSCA certificate outlives the Document Signer certificates it issues);
//! - CSCA: basicConstraints cA and keyUsage keyCertSign when those extensions are present;
//!   Document Signer: keyUsage digitalSignature when present;
//! - the document's own expiry is checked by [`crate::verify`] against `at`'s date.
//!
//! Chain building is done here rather than by OpenSSL's X509_verify_cert, which refuses the
//! explicit-EC-parameter keys many CSCAs and Document Signers use. Every CSCA and link
//! certificate in the trust store is an anchor: a Document Signer is trusted when an anchor's
//! subject (and subjectKeyIdentifier, when both identifiers exist) names its issuer and the
//! anchor's key verifies its signature.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::lds::sod::Sod;
use crate::oid as oids;
use crate::pki::certificate::{Certificate, KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN};
use crate::pki::cms::SignerCheck;
use crate::pki::signature::DigestAlgorithm;
use crate::pki::trust_store::TrustStore;
use crate::report::{Check, CheckName, DataGroupHash, Outcome, ReasonCode};

/// Everything passive authentication found out.
#[derive(Debug, Clone)]
pub struct PassiveAuthentication {
    /// sod_signature, document_signer_chain, document_signer_revocation, data_group_hashes.
    pub checks: Vec<Check>,
    pub data_groups: Vec<DataGroupHash>,
    pub document_signer: Option<Certificate>,
    /// The anchor the Document Signer chains to.
    pub csca: Option<Certificate>,
    pub signature_algorithm: Option<String>,
    pub hash_algorithm: Option<DigestAlgorithm>,
    pub signing_time: Option<OffsetDateTime>,
    pub sod: Option<Sod>,
}

impl PassiveAuthentication {
    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|c| c.check == name)
    }

    pub fn outcome(&self, name: CheckName) -> Outcome {
        self.check(name).map_or(Outcome::NotChecked, |c| c.result)
    }

    /// Whether the data group was read and its hash matches the SOD (and the SOD is signed).
    pub fn data_group_authenticated(&self, number: u8) -> bool {
        self.outcome(CheckName::SodSignature) == Outcome::Passed
            && self
                .data_groups
                .iter()
                .any(|d| d.data_group == number && d.result == Outcome::Passed)
    }
}

/// Runs passive authentication of `sod` (EF.SOD bytes) over the data groups read (number to
/// file bytes), at verification time `at`. Never fails: problems are checks with reasons.
pub fn verify_passive_authentication(
    sod: &[u8],
    data_groups: &BTreeMap<u8, Vec<u8>>,
    store: &TrustStore,
    at: OffsetDateTime,
) -> PassiveAuthentication {
    let mut pa = PassiveAuthentication {
        checks: Vec::new(),
        data_groups: Vec::new(),
        document_signer: None,
        csca: None,
        signature_algorithm: None,
        hash_algorithm: None,
        signing_time: None,
        sod: None,
    };
    let parsed = match Sod::parse(sod) {
        Ok(s) => s,
        Err(e) => {
            let reason = format!("EF.SOD cannot be parsed: {e}");
            pa.checks.push(Check::failed(
                CheckName::SodSignature,
                ReasonCode::SodMalformed,
                reason,
            ));
            pa.checks.push(not_checked(
                CheckName::DocumentSignerChain,
                ReasonCode::SodMalformed,
                "no usable EF.SOD",
            ));
            pa.checks.push(not_checked(
                CheckName::DocumentSignerRevocation,
                ReasonCode::SodMalformed,
                "no usable EF.SOD",
            ));
            pa.checks.push(not_checked(
                CheckName::DataGroupHashes,
                ReasonCode::SodMalformed,
                "no usable EF.SOD",
            ));
            return pa;
        }
    };
    pa.hash_algorithm = Some(parsed.security_object.hash_algorithm);
    let (data_group_check, details) = check_data_group_hashes(&parsed, data_groups);
    pa.data_groups = details;

    let signature_check = check_sod_signature(&parsed, store, &mut pa);
    let signature_ok = signature_check.result == Outcome::Passed;
    pa.checks.push(signature_check);
    let signing_time = pa.signing_time.unwrap_or(at);
    let (chain, revocation) = match (&pa.document_signer, signature_ok) {
        (Some(ds), true) => {
            let (chain, csca) = check_chain(store, ds, signing_time);
            let revocation = match &csca {
                Some(csca) => check_revocation(store, ds, csca, at),
                None => not_checked(
                    CheckName::DocumentSignerRevocation,
                    ReasonCode::CscaNotFound,
                    "no trusted CSCA to check revocation against",
                ),
            };
            pa.csca = csca;
            (chain, revocation)
        }
        _ => (
            not_checked(
                CheckName::DocumentSignerChain,
                ReasonCode::SodSignatureNotVerified,
                "the SOD's signature did not verify, so its Document Signer is not examined",
            ),
            not_checked(
                CheckName::DocumentSignerRevocation,
                ReasonCode::SodSignatureNotVerified,
                "the SOD's signature did not verify",
            ),
        ),
    };
    pa.checks.push(chain);
    pa.checks.push(revocation);
    pa.checks.push(data_group_check);
    pa.sod = Some(parsed);
    pa
}

fn not_checked(check: CheckName, code: ReasonCode, reason: &str) -> Check {
    Check::new(check, Outcome::NotChecked, code, reason)
}

fn check_sod_signature(sod: &Sod, store: &TrustStore, pa: &mut PassiveAuthentication) -> Check {
    const NAME: CheckName = CheckName::SodSignature;
    let sd = &sod.signed_data;
    let Some(signer) = sd.signer_infos.first() else {
        return Check::failed(
            NAME,
            ReasonCode::NoSignerInfo,
            "the SignedData has no SignerInfo",
        );
    };
    pa.signing_time = signer.signing_time();
    let scheme = match signer.scheme() {
        Ok(s) => s,
        Err(e) => return not_checked(NAME, ReasonCode::UnsupportedAlgorithm, &e.to_string()),
    };
    pa.signature_algorithm = Some(scheme.name());
    // Embedded certificates are parsed through the store, which keeps them parsed: the next
    // document from the same Document Signer does not decode its key again.
    let ds = sd
        .certificates
        .iter()
        .filter_map(|der| store.parse_certificate(der).ok())
        .find(|c| signer.sid.identifies(c))
        .map(|c| Certificate::clone(&c))
        .or_else(|| store.document_signer(&signer.sid).cloned());
    let Some(ds) = ds else {
        return Check::failed(
            NAME,
            ReasonCode::DocumentSignerNotFound,
            "the Document Signer certificate is neither in the SOD nor in the trust store",
        );
    };
    let key = match ds.public_key() {
        Ok(k) => k.clone(),
        Err(e) => {
            pa.document_signer = Some(ds);
            return not_checked(NAME, ReasonCode::UnsupportedAlgorithm, &e.to_string());
        }
    };
    let outcome = sd.check_signer(signer, &key);
    pa.document_signer = Some(ds);
    match outcome {
        Ok(SignerCheck::Valid) if sd.content_type != oids::LDS_SECURITY_OBJECT => Check::failed(
            NAME,
            ReasonCode::ContentTypeMismatch,
            format!(
                "eContentType is {}, not id-icao-mrtd-security-ldsSecurityObject",
                sd.content_type
            ),
        ),
        Ok(SignerCheck::Valid) => Check::passed(NAME),
        Ok(SignerCheck::MessageDigestMismatch) => Check::failed(
            NAME,
            ReasonCode::MessageDigestMismatch,
            "the messageDigest signed attribute does not match the LDS security object",
        ),
        Ok(SignerCheck::ContentTypeMismatch) => Check::failed(
            NAME,
            ReasonCode::ContentTypeMismatch,
            "the contentType signed attribute does not match eContentType",
        ),
        Ok(SignerCheck::SignatureInvalid) => Check::failed(
            NAME,
            ReasonCode::SignatureInvalid,
            "the signature does not verify with the Document Signer key",
        ),
        Err(e) => not_checked(NAME, ReasonCode::UnsupportedAlgorithm, &e.to_string()),
    }
}

/// Finds the anchor that issued `ds` and applies the validity policy of the module docs.
pub fn check_chain(
    store: &TrustStore,
    ds: &Certificate,
    signing_time: OffsetDateTime,
) -> (Check, Option<Certificate>) {
    const NAME: CheckName = CheckName::DocumentSignerChain;
    let mut candidates: Vec<&Certificate> = store.issuer_candidates(ds).collect();
    if candidates.is_empty() {
        let same_name = store
            .anchors()
            .iter()
            .any(|a| a.subject.matches(&ds.issuer));
        let reason = match (&ds.authority_key_identifier, same_name) {
            (Some(aki), true) => format!(
                "trusted CSCAs named {} exist, but none with key identifier {}",
                ds.issuer,
                hex::encode_upper(aki)
            ),
            _ => format!("no trusted CSCA named {}", ds.issuer),
        };
        return (Check::failed(NAME, ReasonCode::CscaNotFound, reason), None);
    }
    // Prefer an anchor valid at the signing time, then a self-signed CSCA over a link
    // certificate (a stable sort: otherwise in the order they were added), and take the first
    // whose key verifies the Document Signer certificate.
    candidates.sort_by_key(|c| (!c.valid_at(signing_time), !c.is_self_issued()));
    let signer = candidates.into_iter().find(|c| {
        c.public_key()
            .is_ok_and(|k| ds.is_signed_by(k).unwrap_or(false))
    });
    let Some(csca) = signer.cloned() else {
        let reason = format!(
            "no key of a trusted CSCA named {} verifies the Document Signer certificate",
            ds.issuer
        );
        return (
            Check::failed(NAME, ReasonCode::DocumentSignerSignatureInvalid, reason),
            None,
        );
    };
    let fail = |code, reason: String| (Check::failed(NAME, code, reason), Some(csca.clone()));
    if !ds.valid_at(signing_time) {
        return fail(
            ReasonCode::DocumentSignerNotValidAtSigningTime,
            format!(
                "the Document Signer certificate is valid {} to {}, not at the signing time {}",
                ds.not_before.date(),
                ds.not_after.date(),
                signing_time.date()
            ),
        );
    }
    if !ds.has_key_usage(KU_DIGITAL_SIGNATURE) {
        return fail(
            ReasonCode::DocumentSignerKeyUsage,
            "the Document Signer key is not for digital signatures".into(),
        );
    }
    if !csca.valid_at(signing_time) {
        return fail(
            ReasonCode::CscaNotValid,
            format!(
                "the CSCA certificate is valid {} to {}, not at the signing time {}",
                csca.not_before.date(),
                csca.not_after.date(),
                signing_time.date()
            ),
        );
    }
    if csca.basic_constraints.is_some_and(|(ca, _)| !ca) || !csca.has_key_usage(KU_KEY_CERT_SIGN) {
        return fail(
            ReasonCode::CscaNotCa,
            "the CSCA certificate may not sign certificates".into(),
        );
    }
    (Check::passed(NAME), Some(csca))
}

/// The Document Signer against CRLs issued and signed by its CSCA, at `at` (the verification
/// time). A DS listed on any of them is revoked (revocation is final, so even an outdated CRL
/// counts). Otherwise the status is known only if one of them is current, i.e. `at` is before its
/// nextUpdate (ICAO 9303-12 requires CSCAs to issue one at least every 90 days, with nextUpdate
/// set): when all are past it, a revocation since then would be missed, and the check is
/// NOT_CHECKED (`CRL_EXPIRED`) rather than PASSED.
pub fn check_revocation(
    store: &TrustStore,
    ds: &Certificate,
    csca: &Certificate,
    at: OffsetDateTime,
) -> Check {
    const NAME: CheckName = CheckName::DocumentSignerRevocation;
    if csca.public_key().is_err() {
        return not_checked(NAME, ReasonCode::NoCrl, "the CSCA key is unusable");
    }
    // Signatures checked once, when the CRL or the CSCA entered the store.
    let crls = store.crls_signed_by(csca);
    if crls.is_empty() {
        return not_checked(
            NAME,
            ReasonCode::NoCrl,
            "no CRL signed by the issuing CSCA was imported",
        );
    }
    if crls.iter().any(|crl| crl.lists(&ds.serial)) {
        return Check::failed(
            NAME,
            ReasonCode::Revoked,
            format!(
                "the Document Signer certificate (serial {}) is revoked",
                ds.serial_hex()
            ),
        );
    }
    if !crls
        .iter()
        .any(|crl| crl.next_update.is_none_or(|next| at < next))
    {
        let newest = crls.iter().filter_map(|crl| crl.next_update).max();
        return not_checked(
            NAME,
            ReasonCode::CrlExpired,
            &format!(
                "every CRL signed by the issuing CSCA is out of date (the newest was due to be replaced on {}): import a current one",
                newest.map_or_else(|| "?".to_owned(), |t| t.date().to_string())
            ),
        );
    }
    Check::passed(NAME)
}

fn check_data_group_hashes(sod: &Sod, read: &BTreeMap<u8, Vec<u8>>) -> (Check, Vec<DataGroupHash>) {
    const NAME: CheckName = CheckName::DataGroupHashes;
    let so = &sod.security_object;
    let mut numbers: Vec<u8> = so
        .data_group_hashes
        .keys()
        .chain(read.keys())
        .copied()
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut details = Vec::new();
    let (mut mismatched, mut unlisted, mut matched) = (Vec::new(), Vec::new(), 0);
    for n in numbers {
        let expected = so.data_group_hashes.get(&n);
        let computed = read
            .get(&n)
            .and_then(|bytes| so.hash_algorithm.digest(bytes).ok());
        let result = match (expected, &computed) {
            (Some(e), Some(c)) if e == c => {
                matched += 1;
                Outcome::Passed
            }
            (Some(_), Some(_)) => {
                mismatched.push(format!("DG{n}"));
                Outcome::Failed
            }
            (None, Some(_)) => {
                unlisted.push(format!("DG{n}"));
                Outcome::Failed
            }
            (_, None) => Outcome::NotPresent,
        };
        details.push(DataGroupHash {
            data_group: n,
            result,
            expected: expected.map(hex::encode),
            computed: computed.map(hex::encode),
        });
    }
    let check = if !mismatched.is_empty() {
        Check::failed(
            NAME,
            ReasonCode::HashMismatch,
            format!("hash mismatch: {}", mismatched.join(", ")),
        )
    } else if !unlisted.is_empty() {
        Check::failed(
            NAME,
            ReasonCode::DataGroupNotInSod,
            format!(
                "not listed in the SOD, so unauthenticated: {}",
                unlisted.join(", ")
            ),
        )
    } else if matched == 0 {
        Check::new(
            NAME,
            Outcome::NotPresent,
            ReasonCode::NoDataGroups,
            "no data group was read",
        )
    } else {
        Check::passed(NAME)
    };
    (check, details)
}
