//! X.509 certificates (RFC 5280 §4.1) as passive authentication needs them: names, serial,
//! validity, key identifiers, key usage, basic constraints, and the issuer-signature check.
//!
//! Parsed with the crate's own TLV reader rather than OpenSSL's X509 parser, which rejects
//! some certificates found in master lists (e.g. non-positive serial numbers).

use openssl::pkey::{PKey, Public};
use time::OffsetDateTime;

use super::der::{self, AlgorithmIdentifier, BOOLEAN, INTEGER, OCTET_STRING, SEQUENCE};
use super::error::PkiError;
use super::keys::public_key_from_spki;
use super::name::Name;
use super::signature::{SignatureScheme, verify_signature};
use crate::oid;
use crate::tlv::parse_single;

/// keyUsage bits (RFC 5280 §4.2.1.3), numbered as in the ASN.1 (bit 0 = digitalSignature).
pub const KU_DIGITAL_SIGNATURE: u16 = 1 << 0;
pub const KU_KEY_CERT_SIGN: u16 = 1 << 5;
pub const KU_CRL_SIGN: u16 = 1 << 6;

/// A parsed certificate with its public key ready for use.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Vec<u8>,
    pub serial: Vec<u8>,
    pub issuer: Name,
    pub subject: Name,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub spki: Vec<u8>,
    pub subject_key_identifier: Option<Vec<u8>>,
    pub authority_key_identifier: Option<Vec<u8>>,
    /// `None` when the extension is absent.
    pub key_usage: Option<u16>,
    /// `(cA, pathLenConstraint)`, `None` when the extension is absent.
    pub basic_constraints: Option<(bool, Option<u32>)>,
    pub signature_algorithm: AlgorithmIdentifier,
    signature: Vec<u8>,
    public_key: Result<PKey<Public>, String>,
}

impl Certificate {
    /// Parses one DER certificate (trailing bytes are an error).
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        const WHAT: &str = "Certificate";
        let (tbs, signature_algorithm, signature) = der::signed_envelope(der, WHAT)?;

        let mut t = tbs.children();
        t.optional(0xA0).map_err(PkiError::tlv(WHAT))?;
        let serial = der::expect(&mut t, INTEGER, WHAT)?.value.to_vec();
        der::expect(&mut t, SEQUENCE, WHAT)?;
        let issuer = Name::from_tlv(&t.read().map_err(PkiError::tlv(WHAT))?)?;
        let validity = der::expect(&mut t, SEQUENCE, WHAT)?;
        let mut v = validity.children();
        let not_before = der::parse_time(&v.read().map_err(PkiError::tlv(WHAT))?, "notBefore")?;
        let not_after = der::parse_time(&v.read().map_err(PkiError::tlv(WHAT))?, "notAfter")?;
        let subject = Name::from_tlv(&t.read().map_err(PkiError::tlv(WHAT))?)?;
        let spki = der::expect(&mut t, SEQUENCE, WHAT)?.raw.to_vec();

        let mut c = Self {
            der: der.to_vec(),
            tbs: tbs.raw.to_vec(),
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            subject_key_identifier: None,
            authority_key_identifier: None,
            key_usage: None,
            basic_constraints: None,
            signature_algorithm,
            signature,
            public_key: public_key_from_spki(&spki).map_err(|e| e.to_string()),
            spki,
        };
        while let Some(item) = t.next_tlv() {
            let item = item.map_err(PkiError::tlv(WHAT))?;
            if item.tag == 0xA3 {
                let exts = item
                    .children()
                    .expect(SEQUENCE)
                    .map_err(PkiError::tlv(WHAT))?;
                c.parse_extensions(exts.children())?;
            }
        }
        Ok(c)
    }

    fn parse_extensions(&mut self, mut exts: crate::tlv::TlvReader<'_>) -> Result<(), PkiError> {
        const WHAT: &str = "Extension";
        while let Some(ext) = exts.next_tlv() {
            let ext = ext.map_err(PkiError::tlv(WHAT))?;
            let mut e = ext.children();
            let oid = der::read_oid(&mut e, WHAT)?;
            e.optional(BOOLEAN).map_err(PkiError::tlv(WHAT))?;
            let value = der::expect(&mut e, OCTET_STRING, WHAT)?;
            let inner = parse_single(value.value).map_err(PkiError::tlv(WHAT))?;
            match oid {
                oid::SUBJECT_KEY_IDENTIFIER => {
                    self.subject_key_identifier = Some(inner.value.to_vec())
                }
                oid::AUTHORITY_KEY_IDENTIFIER => {
                    let mut a = inner.children();
                    if let Some(id) = a.optional(0x80).map_err(PkiError::tlv(WHAT))? {
                        self.authority_key_identifier = Some(id.value.to_vec());
                    }
                }
                oid::KEY_USAGE => {
                    let (unused, bits) = inner.value.split_first().unwrap_or((&0, &[]));
                    let _ = unused;
                    let mut ku: u16 = 0;
                    for (i, byte) in bits.iter().take(2).enumerate() {
                        for bit in 0..8 {
                            if byte & (0x80 >> bit) != 0 {
                                ku |= 1 << (i * 8 + bit);
                            }
                        }
                    }
                    self.key_usage = Some(ku);
                }
                oid::BASIC_CONSTRAINTS => {
                    let mut b = inner.children();
                    let ca = b
                        .optional(BOOLEAN)
                        .map_err(PkiError::tlv(WHAT))?
                        .is_some_and(|v| v.value.first().is_some_and(|x| *x != 0));
                    let path_len = match b.optional(INTEGER).map_err(PkiError::tlv(WHAT))? {
                        Some(n) => Some(der::small_uint(&n, WHAT)?),
                        None => None,
                    };
                    self.basic_constraints = Some((ca, path_len));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject public key, or why it cannot be used.
    pub fn public_key(&self) -> Result<&PKey<Public>, PkiError> {
        self.public_key
            .as_ref()
            .map_err(|e| PkiError::BadKey(e.clone()))
    }

    /// Serial number as upper-case hex of its encoding.
    pub fn serial_hex(&self) -> String {
        hex::encode_upper(&self.serial)
    }

    pub fn sha256_fingerprint(&self) -> String {
        openssl::sha::sha256(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1).
    pub fn public_key_sha1(&self) -> Option<Vec<u8>> {
        let spki = parse_single(&self.spki).ok()?;
        let mut r = spki.children();
        r.read().ok()?;
        let bits = der::bit_string_bytes(&r.read().ok()?, "subjectPublicKey").ok()?;
        Some(openssl::sha::sha1(bits).to_vec())
    }

    pub fn is_self_issued(&self) -> bool {
        self.subject.matches(&self.issuer)
    }

    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before <= at && at <= self.not_after
    }

    pub fn has_key_usage(&self, bits: u16) -> bool {
        self.key_usage.is_none_or(|ku| ku & bits == bits)
    }

    /// Whether `issuer`'s key signed this certificate. `Err` when the algorithm or key is unusable.
    pub fn is_signed_by(&self, issuer: &PKey<Public>) -> Result<bool, PkiError> {
        let scheme = SignatureScheme::from_algorithm_identifier(&self.signature_algorithm, None)?;
        verify_signature(issuer, &scheme, &self.tbs, &self.signature)
    }

    /// `subject` of `issuer` names this certificate's issuer, and the key identifiers agree
    /// when both are present.
    pub fn names_issuer(&self, issuer: &Certificate) -> bool {
        if !self.issuer.matches(&issuer.subject) {
            return false;
        }
        match (
            &self.authority_key_identifier,
            &issuer.subject_key_identifier,
        ) {
            (Some(aki), Some(ski)) => aki == ski,
            _ => true,
        }
    }
}
