//! The trust store: CSCA certificates (self-signed and link certificates), Document Signer
//! certificates for SODs that carry none, and CRLs.
//!
//! Everything enters as raw bytes (DER, PEM, a CSCA master list), so a caller that persists the
//! bytes (the server's database) can rebuild an identical store. Reading files and folders is the
//! caller's business: this crate does no I/O.
//!
//! Trust rule: every CSCA or link certificate added is a trust anchor, whichever way it came
//! in. A master list is accepted only when its own CMS signature verifies; whether its signer is
//! vouched for by an anchor already in the store is reported, not enforced, because importing a
//! master list is itself the operator's act of trust.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use time::OffsetDateTime;

use super::certificate::{Certificate, KU_KEY_CERT_SIGN};
use super::cms::SignerIdentifier;
use super::crl::Crl;
use super::error::PkiError;
use super::master_list::MasterList;

/// What a trust-store entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntryKind {
    /// A self-signed Country Signing CA certificate.
    Csca,
    /// A CSCA link certificate: new CSCA key, signed by the previous CSCA key (Part 12 §5.1.1).
    LinkCertificate,
    /// A Document Signer certificate, used when an EF.SOD does not carry its signer.
    DocumentSigner,
    Crl,
}

/// One entry as listed to operators.
#[derive(Debug, Clone, Serialize)]
pub struct TrustEntry {
    pub kind: EntryKind,
    /// Subject (the issuer, for a CRL).
    pub subject: String,
    pub country: Option<String>,
    /// Upper-case hex of the serial number; `None` for a CRL.
    pub serial: Option<String>,
    /// notBefore (thisUpdate for a CRL).
    #[serde(with = "time::serde::rfc3339")]
    pub valid_from: OffsetDateTime,
    /// notAfter (nextUpdate for a CRL).
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
    pub sha256: String,
}

/// The result of importing a master list.
#[derive(Debug, Clone, Serialize)]
pub struct MasterListImport {
    /// The master-list signer's subject.
    pub signer: Option<String>,
    /// The signer certificate's issuer.
    pub signer_issuer: Option<String>,
    /// Whether the signer certificate was issued by an anchor already in the store.
    pub signer_trusted: bool,
    /// New certificates added (duplicates are not counted).
    pub added: usize,
    /// Certificates that could not be parsed and were left out.
    pub skipped: usize,
}

/// What [`TrustStore::import`] found in a blob.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub entries: Vec<TrustEntry>,
    pub master_list: Option<MasterListImport>,
}

/// The trust store, indexed when entries are added so that a verification looks up rather than
/// scans: anchors by subjectKeyIdentifier (ICAO 9303 Part 12 makes it mandatory in CSCA
/// certificates, and the authorityKeyIdentifier in Document Signer certificates), duplicates by
/// fingerprint, and each CRL's signature checked once against the anchors its issuer names.
///
/// It also keeps the certificates embedded in SODs once parsed (a Document Signer signs many
/// documents, and decoding its key is the most expensive part of parsing), so that passive
/// authentication of the next document from the same signer does not parse it again.
#[derive(Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    document_signers: Vec<Certificate>,
    crls: Vec<Crl>,
    index: Index,
    parsed: ParsedCertificates,
}

#[derive(Debug, Clone, Default)]
struct Index {
    /// SHA-256 of every certificate held (anchors and Document Signers).
    certificates: HashSet<[u8; 32]>,
    /// SHA-256 of every CRL held.
    crls: HashSet<[u8; 32]>,
    /// Anchor positions by subjectKeyIdentifier.
    anchors_by_key_id: HashMap<Vec<u8>, Vec<usize>>,
    /// Positions of anchors without a subjectKeyIdentifier.
    anchors_without_key_id: Vec<usize>,
    /// For each CRL (same position as in `crls`): the subjectPublicKeyInfo of every anchor whose
    /// subject names the CRL's issuer, and whether that key signed the CRL.
    crl_signers: Vec<Vec<(Vec<u8>, bool)>>,
}

/// Certificates parsed from SODs, by DER. Parsing is a pure function of the bytes, so this
/// changes no result. Bounded: when full it is emptied and fills again.
#[derive(Debug, Default)]
struct ParsedCertificates(Mutex<HashMap<Vec<u8>, Arc<Certificate>>>);

const PARSED_CERTIFICATES_MAX: usize = 4096;

impl Clone for TrustStore {
    /// A copy of the entries and their index; the parsed-certificate cache starts empty.
    fn clone(&self) -> Self {
        Self {
            anchors: self.anchors.clone(),
            document_signers: self.document_signers.clone(),
            crls: self.crls.clone(),
            index: self.index.clone(),
            parsed: ParsedCertificates::default(),
        }
    }
}

impl TrustStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Imports whatever `data` holds: PEM (certificates and CRLs), a DER certificate, a DER CRL,
    /// or a CMS CSCA master list (`.ml`).
    pub fn import(&mut self, data: &[u8]) -> Result<ImportSummary, PkiError> {
        if data.windows(11).any(|w| w == b"-----BEGIN ") {
            return Ok(ImportSummary {
                entries: self.add_pem(data)?,
                master_list: None,
            });
        }
        if let Ok(cert) = Certificate::from_der(data) {
            return Ok(ImportSummary {
                entries: vec![self.add_parsed_certificate(cert)],
                master_list: None,
            });
        }
        if let Ok(crl) = Crl::from_der(data) {
            return Ok(ImportSummary {
                entries: vec![self.add_parsed_crl(crl)],
                master_list: None,
            });
        }
        match MasterList::from_der(data) {
            Ok(_) => {
                let ml = self.add_master_list(data)?;
                Ok(ImportSummary {
                    entries: Vec::new(),
                    master_list: Some(ml),
                })
            }
            Err(_) => Err(PkiError::Unrecognised(
                "neither a certificate, a CRL nor a CSCA master list".into(),
            )),
        }
    }

    /// Adds one DER certificate: a CA certificate becomes an anchor, any other a Document Signer.
    pub fn add_certificate_der(&mut self, der: &[u8]) -> Result<TrustEntry, PkiError> {
        let cert = Certificate::from_der(der)?;
        Ok(self.add_parsed_certificate(cert))
    }

    /// Adds one DER CRL.
    pub fn add_crl_der(&mut self, der: &[u8]) -> Result<TrustEntry, PkiError> {
        let crl = Crl::from_der(der)?;
        Ok(self.add_parsed_crl(crl))
    }

    /// Adds every certificate and CRL of a PEM bundle (and a master list under a `CMS` or
    /// `PKCS7` label).
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<Vec<TrustEntry>, PkiError> {
        let mut entries = Vec::new();
        let mut blocks = 0;
        for (label, der) in pem_blocks(pem)? {
            match label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    entries.push(self.add_certificate_der(&der)?);
                    blocks += 1;
                }
                "X509 CRL" => {
                    entries.push(self.add_crl_der(&der)?);
                    blocks += 1;
                }
                "CMS" | "PKCS7" => {
                    self.add_master_list(&der)?;
                    blocks += 1;
                }
                _ => {}
            }
        }
        if blocks == 0 {
            return Err(PkiError::Unrecognised(
                "no certificate, CRL or master list in PEM".into(),
            ));
        }
        Ok(entries)
    }

    /// Imports a CSCA master list after checking its CMS signature (an invalid signature is an
    /// error and nothing is imported). Certificates that do not parse are skipped and counted.
    pub fn add_master_list(&mut self, der: &[u8]) -> Result<MasterListImport, PkiError> {
        let ml = MasterList::from_der(der)?;
        let signature = ml.verify_signature()?;
        if !signature.is_valid() {
            return Err(PkiError::InvalidSignature(format!(
                "master list signature does not verify ({:?})",
                signature.outcome
            )));
        }
        let signer_trusted = self.anchors.iter().any(|a| signature.signer_issued_by(a));
        let (mut added, mut skipped) = (0, 0);
        for c in &ml.certificates {
            match Certificate::from_der(c) {
                Ok(cert) => {
                    if !self.contains(&cert) {
                        added += 1;
                    }
                    self.add_parsed_certificate(cert);
                }
                Err(_) => skipped += 1,
            }
        }
        Ok(MasterListImport {
            signer: signature.signer.as_ref().map(|s| s.subject.to_string()),
            signer_issuer: signature.signer.as_ref().map(|s| s.issuer.to_string()),
            signer_trusted,
            added,
            skipped,
        })
    }

    fn contains(&self, cert: &Certificate) -> bool {
        self.index
            .certificates
            .contains(&openssl::sha::sha256(cert.der()))
    }

    fn add_parsed_certificate(&mut self, cert: Certificate) -> TrustEntry {
        let entry = certificate_entry(&cert);
        if self
            .index
            .certificates
            .insert(openssl::sha::sha256(cert.der()))
        {
            if is_ca(&cert) {
                self.add_anchor(cert);
            } else {
                self.document_signers.push(cert);
            }
        }
        entry
    }

    fn add_anchor(&mut self, anchor: Certificate) {
        let position = self.anchors.len();
        match &anchor.subject_key_identifier {
            Some(id) => self
                .index
                .anchors_by_key_id
                .entry(id.clone())
                .or_default()
                .push(position),
            None => self.index.anchors_without_key_id.push(position),
        }
        for (crl, signers) in self.crls.iter().zip(&mut self.index.crl_signers) {
            if crl.issuer.matches(&anchor.subject) {
                record_crl_signer(crl, &anchor, signers);
            }
        }
        self.anchors.push(anchor);
    }

    fn add_parsed_crl(&mut self, crl: Crl) -> TrustEntry {
        let entry = crl_entry(&crl);
        if self.index.crls.insert(openssl::sha::sha256(crl.der())) {
            let mut signers = Vec::new();
            for anchor in &self.anchors {
                if crl.issuer.matches(&anchor.subject) {
                    record_crl_signer(&crl, anchor, &mut signers);
                }
            }
            self.index.crl_signers.push(signers);
            self.crls.push(crl);
        }
        entry
    }

    /// Every entry, anchors first.
    pub fn entries(&self) -> Vec<TrustEntry> {
        self.anchors
            .iter()
            .chain(&self.document_signers)
            .map(certificate_entry)
            .chain(self.crls.iter().map(crl_entry))
            .collect()
    }

    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    pub fn crls(&self) -> &[Crl] {
        &self.crls
    }

    /// Anchors whose subject (and key identifier, when both sides have one) names `cert`'s
    /// issuer, in the order they were added. Looked up by key identifier when `cert` has an
    /// authorityKeyIdentifier; only a certificate without one makes this a scan.
    pub fn issuer_candidates<'a>(
        &'a self,
        cert: &'a Certificate,
    ) -> impl Iterator<Item = &'a Certificate> {
        let positions: Vec<usize> = match &cert.authority_key_identifier {
            Some(aki) => {
                let mut positions: Vec<usize> = self
                    .index
                    .anchors_by_key_id
                    .get(aki)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .chain(&self.index.anchors_without_key_id)
                    .copied()
                    .collect();
                positions.sort_unstable();
                positions
            }
            None => (0..self.anchors.len()).collect(),
        };
        positions
            .into_iter()
            .filter_map(|i| self.anchors.get(i))
            .filter(move |a| cert.names_issuer(a))
    }

    /// A Document Signer certificate from the store matching a SignerIdentifier.
    pub fn document_signer(&self, sid: &SignerIdentifier) -> Option<&Certificate> {
        self.document_signers.iter().find(|c| sid.identifies(c))
    }

    /// The CRLs whose issuer is `csca`'s subject and which `csca`'s key signed. For an anchor of
    /// this store the signatures were checked when the CRL or the anchor was added; another
    /// certificate's are checked now.
    pub fn crls_signed_by<'a>(&'a self, csca: &Certificate) -> Vec<&'a Crl> {
        self.crls
            .iter()
            .zip(&self.index.crl_signers)
            .filter(|(crl, signers)| {
                crl.issuer.matches(&csca.subject)
                    && match signers.iter().find(|(spki, _)| *spki == csca.spki) {
                        Some((_, signed)) => *signed,
                        None => crl_signed_by(crl, csca),
                    }
            })
            .map(|(crl, _)| crl)
            .collect()
    }

    /// Parses a certificate, or returns the one parsed earlier from the same bytes.
    pub fn parse_certificate(&self, der: &[u8]) -> Result<Arc<Certificate>, PkiError> {
        if let Some(cert) = self.parsed.0.lock().ok().and_then(|m| m.get(der).cloned()) {
            return Ok(cert);
        }
        let cert = Arc::new(Certificate::from_der(der)?);
        if let Ok(mut parsed) = self.parsed.0.lock() {
            if parsed.len() >= PARSED_CERTIFICATES_MAX {
                parsed.clear();
            }
            parsed.insert(der.to_vec(), cert.clone());
        }
        Ok(cert)
    }

    /// Empties the cache of [`TrustStore::parse_certificate`] (to measure a first document).
    pub fn forget_parsed_certificates(&self) {
        if let Ok(mut parsed) = self.parsed.0.lock() {
            parsed.clear();
        }
    }
}

fn crl_signed_by(crl: &Crl, csca: &Certificate) -> bool {
    csca.public_key()
        .is_ok_and(|key| crl.is_signed_by(key).unwrap_or(false))
}

/// Notes whether `anchor` (whose subject names `crl`'s issuer) signed `crl`, once per key.
fn record_crl_signer(crl: &Crl, anchor: &Certificate, signers: &mut Vec<(Vec<u8>, bool)>) {
    if !signers.iter().any(|(spki, _)| *spki == anchor.spki) {
        signers.push((anchor.spki.clone(), crl_signed_by(crl, anchor)));
    }
}

fn is_ca(cert: &Certificate) -> bool {
    match cert.basic_constraints {
        Some((ca, _)) => ca,
        None => cert.key_usage.is_some_and(|ku| ku & KU_KEY_CERT_SIGN != 0),
    }
}

fn certificate_entry(cert: &Certificate) -> TrustEntry {
    let kind = if !is_ca(cert) {
        EntryKind::DocumentSigner
    } else if cert.is_self_issued() {
        EntryKind::Csca
    } else {
        EntryKind::LinkCertificate
    };
    TrustEntry {
        kind,
        subject: cert.subject.to_string(),
        country: cert.subject.country(),
        serial: Some(cert.serial_hex()),
        valid_from: cert.not_before,
        valid_until: Some(cert.not_after),
        sha256: cert.sha256_fingerprint(),
    }
}

fn crl_entry(crl: &Crl) -> TrustEntry {
    TrustEntry {
        kind: EntryKind::Crl,
        subject: crl.issuer.to_string(),
        country: crl.issuer.country(),
        serial: None,
        valid_from: crl.this_update,
        valid_until: crl.next_update,
        sha256: crl.sha256_fingerprint(),
    }
}

/// The `(label, DER)` of every `-----BEGIN label-----` block in a PEM text (RFC 7468), in order.
pub fn pem_blocks(pem: &[u8]) -> Result<Vec<(String, Vec<u8>)>, PkiError> {
    let text =
        std::str::from_utf8(pem).map_err(|_| PkiError::Unrecognised("PEM is not text".into()))?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + 11..).unwrap_or_default();
        let label_end = after
            .find("-----")
            .ok_or_else(|| PkiError::Unrecognised("bad PEM".into()))?;
        let label = after.get(..label_end).unwrap_or_default().to_string();
        let end_marker = format!("-----END {label}-----");
        let body_end = after
            .find(&end_marker)
            .ok_or_else(|| PkiError::Unrecognised(format!("PEM {label} without END")))?;
        let der = decode_base64(after.get(label_end + 5..body_end).unwrap_or_default())?;
        blocks.push((label, der));
        rest = after.get(body_end + end_marker.len()..).unwrap_or_default();
    }
    Ok(blocks)
}

/// Standard base64 (RFC 4648 §4) of a PEM body: whitespace ignored, padding optional.
fn decode_base64(text: &str) -> Result<Vec<u8>, PkiError> {
    const PEM_BODY: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    PEM_BODY
        .decode(compact)
        .map_err(|e| PkiError::Unrecognised(format!("bad base64 in PEM: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passive_authentication::verify_passive_authentication;
    use crate::report::{CheckName, Outcome, ReasonCode};
    use testdoc::FileId;
    use time::macros::datetime;

    #[test]
    fn crls_count_only_when_signed_by_the_csca_whichever_was_imported_first() {
        let now = datetime!(2025-06-01 12:00 UTC);
        let (csca, doc) = testdoc::issue_specimen(now).unwrap();
        // Another CSCA of the same name, with another key, revoking the Document Signer.
        let impostor = testdoc::Csca::generate(&testdoc::CscaOptions::new("NL", now)).unwrap();
        let serial = doc.document_signer().serial();
        let verify = |store: &TrustStore| {
            verify_passive_authentication(
                doc.file(FileId::Sod).unwrap(),
                &doc.data_groups(),
                store,
                now,
            )
        };

        let mut store = TrustStore::new();
        store
            .import(&impostor.crl(&[serial], now).unwrap().to_der().unwrap())
            .unwrap();
        store
            .import(&impostor.certificate().to_der().unwrap())
            .unwrap();
        store.import(&csca.certificate().to_der().unwrap()).unwrap();
        assert_eq!(store.anchors().len(), 2);
        let pa = verify(&store);
        assert_eq!(pa.outcome(CheckName::DocumentSignerChain), Outcome::Passed);
        assert_eq!(
            pa.csca.as_ref().unwrap().der(),
            csca.certificate().to_der().unwrap()
        );
        let revocation = pa.check(CheckName::DocumentSignerRevocation).unwrap();
        assert_eq!(revocation.reason_code, Some(ReasonCode::NoCrl));

        // The CSCA's own CRL, imported after the CSCA, revokes it; the second verification
        // (the SOD's certificate now parsed in the store) gives the same verdicts.
        store
            .import(&csca.crl(&[serial], now).unwrap().to_der().unwrap())
            .unwrap();
        for _ in 0..2 {
            let pa = verify(&store);
            assert_eq!(pa.outcome(CheckName::SodSignature), Outcome::Passed);
            assert_eq!(
                pa.outcome(CheckName::DocumentSignerRevocation),
                Outcome::Failed
            );
        }
        // A copy keeps the index (and starts without parsed certificates).
        assert_eq!(
            verify(&store.clone()).outcome(CheckName::DocumentSignerRevocation),
            Outcome::Failed
        );
        // Importing the same entries again adds nothing.
        store.import(&csca.certificate().to_der().unwrap()).unwrap();
        store
            .import(&csca.crl(&[serial], now).unwrap().to_der().unwrap())
            .unwrap();
        assert_eq!((store.anchors().len(), store.crls().len()), (2, 2));
    }

    #[test]
    fn base64_known_answer() {
        // RFC 4648 §10.
        assert_eq!(decode_base64("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(decode_base64("Zm9v\nYmE=").unwrap(), b"fooba");
        assert_eq!(decode_base64(" Zm9v\r\n YmE").unwrap(), b"fooba");
        assert!(decode_base64("Zm9v*").is_err());
    }
}
