//! CSCA master lists (ICAO 9303 Part 12 §9): a CMS SignedData whose eContent is
//!
//! ```text
//! CscaMasterList ::= SEQUENCE { version CscaMasterListVersion (v0), certList SET OF Certificate }
//! ```
//!
//! signed by a master-list signer whose certificate (in the SignedData) is issued by the
//! publishing state's CSCA.

use super::certificate::Certificate;
use super::cms::{SignedData, SignerCheck};
use super::der::{self, INTEGER, SEQUENCE, SET};
use super::error::PkiError;
use crate::oid;
use crate::tlv::TlvReader;

#[derive(Debug, Clone)]
pub struct MasterList {
    pub signed_data: SignedData,
    /// The DER certificates of certList, as listed.
    pub certificates: Vec<Vec<u8>>,
}

/// Whether the master list's own CMS signature verifies, and who signed it.
#[derive(Debug, Clone)]
pub struct MasterListSignature {
    /// The signer certificate found in the SignedData, if any.
    pub signer: Option<Certificate>,
    pub outcome: SignerCheck,
}

impl MasterListSignature {
    pub fn is_valid(&self) -> bool {
        self.outcome == SignerCheck::Valid && self.signer.is_some()
    }

    /// Whether the signer's certificate was issued (and signed) by `root`.
    pub fn signer_issued_by(&self, root: &Certificate) -> bool {
        match (&self.signer, root.public_key()) {
            (Some(signer), Ok(key)) => {
                signer.names_issuer(root) && signer.is_signed_by(key).unwrap_or(false)
            }
            _ => false,
        }
    }
}

impl MasterList {
    pub fn from_der(der: &[u8]) -> Result<Self, PkiError> {
        let signed_data = SignedData::from_content_info(der)?;
        if signed_data.content_type != oid::CSCA_MASTER_LIST {
            return Err(PkiError::Unrecognised(format!(
                "SignedData of type {} is not a CSCA master list",
                signed_data.content_type
            )));
        }
        const WHAT: &str = "CscaMasterList";
        let mut r = TlvReader::new(&signed_data.content);
        let seq = der::expect(&mut r, SEQUENCE, WHAT)?;
        let mut s = seq.children();
        der::expect(&mut s, INTEGER, WHAT)?;
        let set = der::expect(&mut s, SET, WHAT)?;
        let mut certificates = Vec::new();
        let mut cr = set.children();
        while let Some(c) = cr.next_tlv() {
            certificates.push(c.map_err(PkiError::tlv(WHAT))?.raw.to_vec());
        }
        Ok(Self {
            signed_data,
            certificates,
        })
    }

    /// Checks the CMS signature with the signer certificate carried in the SignedData.
    pub fn verify_signature(&self) -> Result<MasterListSignature, PkiError> {
        let signer_info = self
            .signed_data
            .signer_infos
            .first()
            .ok_or(PkiError::Malformed {
                what: "master list without SignerInfo",
                offset: 0,
            })?;
        let signer = self
            .signed_data
            .parsed_certificates()
            .into_iter()
            .find(|c| signer_info.sid.identifies(c));
        let outcome = match &signer {
            Some(cert) => self
                .signed_data
                .check_signer(signer_info, cert.public_key()?)?,
            None => SignerCheck::SignatureInvalid,
        };
        Ok(MasterListSignature { signer, outcome })
    }
}
