//! Issues complete, correctly signed ICAO 9303 eMRTD test documents.
//!
//! A test [`Csca`] issues [`DocumentSigner`]s; a [`DocumentBuilder`] turns a [`Holder`] into
//! the chip's files (EF.COM, DG1, DG2, DG14, DG15, EF.CardAccess, EF.SOD) and the chip's
//! private keys, giving a [`TestDocument`]. Forgery helpers on [`TestDocument`] and the
//! options of [`DocumentSignerOptions`] make documents that passive authentication must reject.
//!
//! Time is always passed in, never read from the system clock, so tests are reproducible.
//! Everything here is for testing: keys are generated fresh and certificates say
//! "NOT FOR PRODUCTION".
//!
//! ```no_run
//! # fn main() -> Result<(), testdoc::Error> {
//! use testdoc::*;
//! let now = time::macros::datetime!(2026-11-25 12:00 UTC);
//! let mut csca = Csca::generate(&CscaOptions::new("NL", now))?;
//! let ds = csca.issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now))?;
//! let document = DocumentBuilder::new(Holder::specimen()).build(&ds)?;
//! document.write_to_dir(std::path::Path::new("/tmp/passport"))?;
//! # Ok(()) }
//! ```

mod algorithms;
mod der;
mod lds;
mod mrz;
mod pki;
mod portrait;
mod sod;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use time::OffsetDateTime;

pub use algorithms::{Curve, DigestAlgorithm, KeyAlgorithm, SignatureScheme};
pub use mrz::{Holder, MrzFormat, Sex, alpha2_for_alpha3, check_digit};
pub use pki::{Csca, CscaOptions, DocumentSigner, DocumentSignerOptions};
pub use portrait::synthetic_portrait;
pub use sod::{LdsSecurityObjectVersion, SignerIdentifier};

/// A specimen passport and the CSCA that trusts it: RSA-2048 CSCA for the Netherlands, RSA-2048
/// Document Signer, [`Holder::specimen`] and every default of [`DocumentBuilder`].
pub fn issue_specimen(now: OffsetDateTime) -> Result<(Csca, TestDocument), Error> {
    let mut csca = Csca::generate(&CscaOptions::new("NL", now))?;
    let ds =
        csca.issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now))?;
    let document = DocumentBuilder::new(Holder::specimen()).build(&ds)?;
    Ok((csca, document))
}

/// Why a test document could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("holder data does not fit the MRZ: {0}")]
    InvalidHolder(String),
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("the key does not fit: {0}")]
    KeyMismatch(String),
    #[error("unusable portrait: {0}")]
    InvalidPortrait(String),
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// An elementary file a test document holds: the subset of [`icao9303::lds::FileId`] this crate
/// issues, which names, numbers and identifies it (`FileId::from`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileId {
    Com,
    Dg1,
    Dg2,
    Dg14,
    Dg15,
    Sod,
    CardAccess,
}

impl From<FileId> for icao9303::lds::FileId {
    fn from(file: FileId) -> Self {
        use icao9303::lds::FileId as Lds;
        match file {
            FileId::Com => Lds::Com,
            FileId::Dg1 => Lds::Dg(1),
            FileId::Dg2 => Lds::Dg(2),
            FileId::Dg14 => Lds::Dg(14),
            FileId::Dg15 => Lds::Dg(15),
            FileId::Sod => Lds::Sod,
            FileId::CardAccess => Lds::CardAccess,
        }
    }
}

impl FileId {
    /// The file name used by [`TestDocument::write_to_dir`]: "COM", "DG1", …, "SOD", "CardAccess"
    /// (the [`icao9303::lds::FileId`] dump name).
    pub fn name(self) -> String {
        self.lds().to_string()
    }

    /// The data group number, for data groups.
    pub fn data_group_number(self) -> Option<u8> {
        self.lds().data_group_number()
    }

    /// The short EF identifier on the chip (ICAO 9303 Part 10 §3.11.2, table 40).
    pub fn short_file_id(self) -> u8 {
        self.lds().short_file_id().unwrap_or_default()
    }

    /// The file identifier on the chip (ICAO 9303 Part 10 §3.11.2, table 40).
    pub fn file_id(self) -> u16 {
        self.lds().fid().unwrap_or_default()
    }

    /// The file as the library names it.
    pub fn lds(self) -> icao9303::lds::FileId {
        self.into()
    }
}

/// The key pair for chip authentication (BSI TR-03110-3 §A.1.1.2, ICAO 9303 Part 11 §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChipAuthenticationKey {
    /// ECDH on a named curve: id-PK-ECDH, id-CA-ECDH-AES-CBC-CMAC-128.
    Ec(Curve),
    /// DH in the 2048-bit MODP group with 256-bit prime order subgroup of RFC 5114 §2.3,
    /// X9.42 `dhpublicnumber` key: id-PK-DH, id-CA-DH-AES-CBC-CMAC-128.
    Dh2048,
}

impl ChipAuthenticationKey {
    fn generate(self, explicit_ec_parameters: bool) -> Result<PKey<Private>, Error> {
        match self {
            ChipAuthenticationKey::Ec(curve) => {
                KeyAlgorithm::Ec(curve).generate(explicit_ec_parameters)
            }
            ChipAuthenticationKey::Dh2048 => {
                let dh = openssl::dh::Dh::get_2048_256()?.generate_key()?;
                Ok(PKey::from_dh(dh)?)
            }
        }
    }
}

/// Builds a [`TestDocument`] for a holder. Defaults: SHA-256, the DS key's usual signature
/// scheme, RSA-1024 active authentication key, brainpoolP256r1 chip authentication key,
/// PACE on brainpoolP256r1, LDSSecurityObject v0, the synthetic portrait, DS certificate
/// in the SOD, issuerAndSerialNumber.
#[derive(Clone, Debug)]
pub struct DocumentBuilder {
    holder: Holder,
    sod: sod::SodSettings,
    declared_hash_algorithm: Option<DigestAlgorithm>,
    aa_key: Option<KeyAlgorithm>,
    ca_key: Option<ChipAuthenticationKey>,
    pace_curve: Option<Curve>,
    lds_version: LdsSecurityObjectVersion,
    portrait: Option<Vec<u8>>,
    chip_explicit_ec_parameters: bool,
}

impl DocumentBuilder {
    pub fn new(holder: Holder) -> DocumentBuilder {
        DocumentBuilder {
            holder,
            sod: sod::SodSettings {
                digest: DigestAlgorithm::Sha256,
                scheme: None,
                include_certificate: true,
                signer_identifier: SignerIdentifier::IssuerAndSerialNumber,
                signing_time: None,
            },
            declared_hash_algorithm: None,
            aa_key: Some(KeyAlgorithm::Rsa(1024)),
            ca_key: Some(ChipAuthenticationKey::Ec(Curve::BrainpoolP256r1)),
            pace_curve: Some(Curve::BrainpoolP256r1),
            lds_version: LdsSecurityObjectVersion::V0,
            portrait: None,
            chip_explicit_ec_parameters: false,
        }
    }

    /// How the DS signs; it must fit the DS key (default: PKCS#1 v1.5 for RSA, ECDSA for EC).
    pub fn signature(mut self, scheme: SignatureScheme) -> DocumentBuilder {
        self.sod.scheme = Some(scheme);
        self
    }

    /// The digest for the data group hashes and the CMS signature.
    pub fn digest(mut self, digest: DigestAlgorithm) -> DocumentBuilder {
        self.sod.digest = digest;
        self
    }

    /// Active authentication key type (DG15); `None`: no AA, no DG15.
    pub fn aa_key(mut self, key: Option<KeyAlgorithm>) -> DocumentBuilder {
        self.aa_key = key;
        self
    }

    /// Chip authentication key curve (DG14); `None`: no chip authentication.
    pub fn ca_key(mut self, curve: Option<Curve>) -> DocumentBuilder {
        self.ca_key = curve.map(ChipAuthenticationKey::Ec);
        self
    }

    /// Chip authentication key (DG14), EC or DH; `None`: no chip authentication.
    pub fn chip_authentication(mut self, key: Option<ChipAuthenticationKey>) -> DocumentBuilder {
        self.ca_key = key;
        self
    }

    /// PACE domain parameters in EF.CardAccess; `None`: no EF.CardAccess.
    pub fn pace(mut self, curve: Option<Curve>) -> DocumentBuilder {
        self.pace_curve = curve;
        self
    }

    pub fn lds_version(mut self, version: LdsSecurityObjectVersion) -> DocumentBuilder {
        self.lds_version = version;
        self
    }

    /// A caller-given JPEG for DG2 instead of the synthetic portrait.
    pub fn portrait(mut self, jpeg: Vec<u8>) -> DocumentBuilder {
        self.portrait = Some(jpeg);
        self
    }

    /// Whether SignedData.certificates holds the DS certificate (default true).
    pub fn include_ds_certificate(mut self, include: bool) -> DocumentBuilder {
        self.sod.include_certificate = include;
        self
    }

    pub fn signer_identifier(mut self, sid: SignerIdentifier) -> DocumentBuilder {
        self.sod.signer_identifier = sid;
        self
    }

    /// The signingTime attribute (default: the DS's "now", kept within its validity).
    pub fn signing_time(mut self, time: OffsetDateTime) -> DocumentBuilder {
        self.sod.signing_time = Some(time);
        self
    }

    /// Encode the EC public keys in DG14 and DG15 with explicit curve parameters instead of the
    /// curve's OID, as many real passports do.
    pub fn chip_explicit_ec_parameters(mut self, explicit: bool) -> DocumentBuilder {
        self.chip_explicit_ec_parameters = explicit;
        self
    }

    /// Forgery: the LDSSecurityObject's hashAlgorithm names `declared` while the hashes are
    /// computed with [`DocumentBuilder::digest`].
    pub fn declared_hash_algorithm(mut self, declared: DigestAlgorithm) -> DocumentBuilder {
        self.declared_hash_algorithm = Some(declared);
        self
    }

    /// Generates the chip keys, encodes the files and signs the SOD with `ds`.
    pub fn build(self, ds: &DocumentSigner) -> Result<TestDocument, Error> {
        let mrz = self.holder.mrz_lines()?;
        let aa_key = self
            .aa_key
            .map(|k| k.generate(self.chip_explicit_ec_parameters))
            .transpose()?;
        let ca_key = self
            .ca_key
            .map(|k| k.generate(self.chip_explicit_ec_parameters))
            .transpose()?;
        let jpeg = match self.portrait {
            Some(jpeg) => jpeg,
            None => synthetic_portrait()?,
        };

        let mut files = BTreeMap::new();
        files.insert(FileId::Dg1, lds::dg1(&mrz));
        files.insert(
            FileId::Dg2,
            lds::dg2(&jpeg, lds::iso19794_gender(self.holder.sex))?,
        );
        if ca_key.is_some() || aa_key.as_ref().is_some_and(|k| k.ec_key().is_ok()) {
            files.insert(
                FileId::Dg14,
                lds::dg14(ca_key.as_ref(), aa_key.as_ref(), self.sod.digest)?,
            );
        }
        if let Some(key) = &aa_key {
            files.insert(FileId::Dg15, lds::dg15(key)?);
        }
        let tags: Vec<u8> = [
            (FileId::Dg1, lds::TAG_DG1),
            (FileId::Dg2, lds::TAG_DG2),
            (FileId::Dg14, lds::TAG_DG14),
            (FileId::Dg15, lds::TAG_DG15),
        ]
        .iter()
        .filter(|(id, _)| files.contains_key(id))
        .map(|(_, tag)| *tag as u8)
        .collect();
        files.insert(
            FileId::Com,
            lds::ef_com(self.lds_version.lds_version(), &tags),
        );
        if let Some(curve) = self.pace_curve {
            files.insert(FileId::CardAccess, lds::card_access(curve));
        }

        let mut hashes = Vec::new();
        for (id, content) in &files {
            if let Some(number) = id.data_group_number() {
                hashes.push((number, self.sod.digest.digest(content)?));
            }
        }
        let declared = self.declared_hash_algorithm.unwrap_or(self.sod.digest);
        let lds_security_object = sod::lds_security_object(self.lds_version, declared, &hashes);
        files.insert(
            FileId::Sod,
            sod::signed_sod(&lds_security_object, ds, &self.sod)?,
        );

        Ok(TestDocument {
            files,
            mrz,
            aa_key,
            ca_key,
            ds: ds.clone(),
            sod_settings: self.sod,
            lds_security_object,
        })
    }
}

/// A complete test document: the chip's files, the MRZ, the chip's private keys and the PKI.
#[derive(Clone)]
pub struct TestDocument {
    /// The chip's files, exactly as stored on the chip.
    pub files: BTreeMap<FileId, Vec<u8>>,
    mrz: Vec<String>,
    aa_key: Option<PKey<Private>>,
    ca_key: Option<PKey<Private>>,
    ds: DocumentSigner,
    sod_settings: sod::SodSettings,
    lds_security_object: Vec<u8>,
}

impl TestDocument {
    /// The content of a file, if the document has it.
    pub fn file(&self, id: FileId) -> Option<&[u8]> {
        self.files.get(&id).map(Vec::as_slice)
    }

    /// The data groups the document has, by number (as a verifier takes them).
    pub fn data_groups(&self) -> BTreeMap<u8, Vec<u8>> {
        self.files
            .iter()
            .filter_map(|(id, bytes)| Some((id.data_group_number()?, bytes.clone())))
            .collect()
    }

    /// The MRZ, one string per line.
    pub fn mrz_lines(&self) -> &[String] {
        &self.mrz
    }

    /// The encoded LDSSecurityObject that the SOD signs.
    pub fn lds_security_object(&self) -> &[u8] {
        &self.lds_security_object
    }

    /// The active authentication private key, if the document has one.
    pub fn aa_private_key(&self) -> Option<&PKey<Private>> {
        self.aa_key.as_ref()
    }

    /// The chip authentication private key, if the document has one.
    pub fn ca_private_key(&self) -> Option<&PKey<Private>> {
        self.ca_key.as_ref()
    }

    /// The active authentication private key, PKCS#8 PEM.
    pub fn aa_private_key_pem(&self) -> Result<Option<String>, Error> {
        self.aa_key.as_ref().map(pkcs8_pem).transpose()
    }

    /// The chip authentication private key, PKCS#8 PEM.
    pub fn ca_private_key_pem(&self) -> Result<Option<String>, Error> {
        self.ca_key.as_ref().map(pkcs8_pem).transpose()
    }

    /// The Document Signer that signed the SOD.
    pub fn document_signer(&self) -> &DocumentSigner {
        &self.ds
    }

    pub fn ds_certificate(&self) -> &X509 {
        self.ds.certificate()
    }

    /// The CSCA that issued the DS; `None` for a self-signed DS.
    pub fn csca_certificate(&self) -> Option<&X509> {
        self.ds.issuer_certificate()
    }

    pub fn ds_pem(&self) -> Result<String, Error> {
        self.ds.pem()
    }

    /// The issuing CSCA's certificate, PEM; `None` for a self-signed DS.
    pub fn csca_pem(&self) -> Result<Option<String>, Error> {
        self.ds
            .issuer_certificate()
            .map(|c| pki::pem_string(c.to_pem()?))
            .transpose()
    }

    /// Writes the chip files under their [`FileId::name`], `aa_private_key.pem`,
    /// `ca_private_key.pem`, `csca.pem`, `ds.pem` and `mrz.txt` into `dir` (created if
    /// missing); returns the paths written.
    pub fn write_to_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut outputs: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .map(|(id, content)| (id.name(), content.clone()))
            .collect();
        if let Some(pem) = self.aa_private_key_pem()? {
            outputs.push(("aa_private_key.pem".to_owned(), pem.into_bytes()));
        }
        if let Some(pem) = self.ca_private_key_pem()? {
            outputs.push(("ca_private_key.pem".to_owned(), pem.into_bytes()));
        }
        if let Some(pem) = self.csca_pem()? {
            outputs.push(("csca.pem".to_owned(), pem.into_bytes()));
        }
        outputs.push(("ds.pem".to_owned(), self.ds_pem()?.into_bytes()));
        let mut mrz = self.mrz.join("\n");
        mrz.push('\n');
        outputs.push(("mrz.txt".to_owned(), mrz.into_bytes()));

        let mut written = Vec::with_capacity(outputs.len());
        for (name, content) in outputs {
            let path = dir.join(name);
            std::fs::write(&path, content).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }

    /// Forgery: signs the same LDSSecurityObject again with another Document Signer.
    pub fn resign_sod(&mut self, other: &DocumentSigner) -> Result<(), Error> {
        let mut settings = self.sod_settings.clone();
        if settings
            .scheme
            .is_some_and(|s| !s.fits(other.private_key()))
        {
            settings.scheme = None;
        }
        let sod = sod::signed_sod(&self.lds_security_object, other, &settings)?;
        self.files.insert(FileId::Sod, sod);
        self.ds = other.clone();
        Ok(())
    }

    /// Forgery: flips a bit in the last byte of the SOD, which is the last byte of the
    /// SignerInfo's signature value, so the CMS signature no longer verifies.
    pub fn corrupt_sod_signature(&mut self) -> Result<(), Error> {
        let sod = self
            .files
            .get_mut(&FileId::Sod)
            .ok_or_else(|| Error::InvalidOption("the document has no SOD".to_owned()))?;
        if let Some(last) = sod.last_mut() {
            *last ^= 0x01;
        }
        Ok(())
    }

    /// Forgery: changes one byte of a data group after signing, keeping the file well formed
    /// (DG1: a letter of the name, which no check digit covers; others: the last byte).
    pub fn tamper_data_group(&mut self, id: FileId) -> Result<(), Error> {
        let missing = || Error::InvalidOption(format!("the document has no {}", id.name()));
        let content = self.files.get_mut(&id).ok_or_else(missing)?;
        let index = match id {
            // 61 L 5F1F L, then the MRZ; the name starts at position 6 (TD3) or 60 (TD1).
            FileId::Dg1 => {
                let mrz_start = 5;
                let offset = if self.mrz.len() == 3 { 60 } else { 5 };
                mrz_start + offset
            }
            _ => content.len().saturating_sub(1),
        };
        let byte = content.get_mut(index).ok_or_else(missing)?;
        *byte = match *byte {
            b'A'..=b'Y' => *byte + 1,
            b'Z' => b'A',
            other => other ^ 0x01,
        };
        Ok(())
    }
}

fn pkcs8_pem(key: &PKey<Private>) -> Result<String, Error> {
    pki::pem_string(key.private_key_to_pem_pkcs8()?)
}
