//! Certificate revocation lists (RFC 5280 §5.1), as CSCAs publish them (ICAO 9303 Part 12 §7.1.4).
//!
//! ```text
//! CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm, signatureValue BIT STRING }
//! TBSCertList ::= SEQUENCE { version INTEGER OPTIONAL, signature AlgorithmIdentifier, issuer Name,
//!   thisUpdate Time, nextUpdate Time OPTIONAL,
//!   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate INTEGER, revocationDate Time, .. } OPTIONAL,
//!   crlExtensions [0] EXPLICIT Extensions OPTIONAL }
//! ```

use openssl::pkey::{PKey, Public};
use time::OffsetDateTime;

use super::der::{self, AlgorithmIdentifier, INTEGER, SEQUENCE};
use super::error::PkiError;
use super::name::Name;
use super::signature::{SignatureScheme, verify_signature};

#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    tbs: Vec<u8>,
    pub issuer: Name,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    /// Serial numbers (INTEGER contents) of revoked certificates.
    pub revoked: Vec<Vec<u8>>,
    signature_algorithm: AlgorithmIdentifier,
    signature: Vec<u8>,
}

impl Crl {
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        const WHAT: &str = "CertificateList";
        let (tbs, signature_algorithm, signature) = der::signed_envelope(der, WHAT)?;
        let mut t = tbs.children();
        t.optional(INTEGER).map_err(PkiError::tlv(WHAT))?;
        der::expect(&mut t, SEQUENCE, WHAT)?;
        let issuer = Name::from_tlv(&t.read().map_err(PkiError::tlv(WHAT))?)?;
        let this_update = der::parse_time(&t.read().map_err(PkiError::tlv(WHAT))?, "thisUpdate")?;
        let mut next_update = None;
        let mut revoked = Vec::new();
        while let Some(item) = t.next_tlv() {
            let item = item.map_err(PkiError::tlv(WHAT))?;
            match item.tag {
                der::UTC_TIME | der::GENERALIZED_TIME => {
                    next_update = Some(der::parse_time(&item, "nextUpdate")?)
                }
                SEQUENCE => {
                    let mut entries = item.children();
                    while let Some(entry) = entries.next_tlv() {
                        let entry = entry.map_err(PkiError::tlv(WHAT))?;
                        let serial = entry
                            .children()
                            .expect(INTEGER)
                            .map_err(PkiError::tlv(WHAT))?;
                        revoked.push(serial.value.to_vec());
                    }
                }
                _ => {}
            }
        }
        Ok(Self {
            der: der.to_vec(),
            tbs: tbs.raw.to_vec(),
            issuer,
            this_update,
            next_update,
            revoked,
            signature_algorithm,
            signature,
        })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Whether `key` signed this CRL.
    pub fn is_signed_by(&self, key: &PKey<Public>) -> Result<bool, PkiError> {
        let scheme = SignatureScheme::from_algorithm_identifier(&self.signature_algorithm, None)?;
        verify_signature(key, &scheme, &self.tbs, &self.signature)
    }

    /// Whether the serial number (INTEGER contents) is listed.
    pub fn lists(&self, serial: &[u8]) -> bool {
        let norm = |s: &[u8]| -> Vec<u8> {
            let skip = s
                .iter()
                .take_while(|b| **b == 0)
                .count()
                .min(s.len().saturating_sub(1));
            s.get(skip..).unwrap_or_default().to_vec()
        };
        let wanted = norm(serial);
        self.revoked.iter().any(|r| norm(r) == wanted)
    }

    pub fn sha256_fingerprint(&self) -> String {
        hex::encode(openssl::sha::sha256(&self.der))
    }
}
