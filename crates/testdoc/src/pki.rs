//! The test PKI: a Country Signing CA (CSCA), Document Signers (DS) and CRLs
//! (ICAO 9303 Part 12 §4, §7.1; RFC 5280).

use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Crl, X509Name, X509NameBuilder, X509Ref};
use time::{Duration, OffsetDateTime};

use crate::Error;
use crate::algorithms::{KeyAlgorithm, SignatureScheme};
use crate::der;

const ORGANIZATION: &str = "passport-reader test PKI";
const ID_CE_AUTHORITY_KEY_IDENTIFIER: der::Oid = &[2, 5, 29, 35];
const ID_CE_CRL_NUMBER: der::Oid = &[2, 5, 29, 20];

fn years(n: i64) -> Duration {
    Duration::days(365 * n + n / 4)
}

/// Settings of a test CSCA.
#[derive(Clone, Debug)]
pub struct CscaOptions {
    /// ISO 3166-1 alpha-2 country code for `C=` (see [`crate::alpha2_for_alpha3`]).
    pub country: String,
    pub common_name: String,
    pub key: KeyAlgorithm,
    pub serial: u64,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl CscaOptions {
    /// An RSA-2048 CSCA for `country`, valid for 15 years from one day before `now`: longer than
    /// any Document Signer it issues (3 months of signing + 10 years of document lifetime).
    pub fn new(country: &str, now: OffsetDateTime) -> CscaOptions {
        CscaOptions {
            country: country.to_owned(),
            common_name: "passport-reader TEST CSCA - NOT FOR PRODUCTION".to_owned(),
            key: KeyAlgorithm::Rsa(2048),
            serial: 1,
            not_before: now - Duration::days(1),
            not_after: now + years(15),
        }
    }

    /// The same with another key algorithm.
    pub fn key(mut self, key: KeyAlgorithm) -> CscaOptions {
        self.key = key;
        self
    }
}

/// A test Country Signing CA: self-signed, `CA:true`, keyUsage keyCertSign + cRLSign.
#[derive(Clone)]
pub struct Csca {
    key: PKey<Private>,
    key_algorithm: KeyAlgorithm,
    certificate: X509,
    now: OffsetDateTime,
    next_serial: u64,
}

/// Settings of a Document Signer certificate.
#[derive(Clone, Debug)]
pub struct DocumentSignerOptions {
    pub common_name: String,
    pub key: KeyAlgorithm,
    /// Encode an EC public key with explicit curve parameters instead of the curve's OID.
    pub explicit_ec_parameters: bool,
    /// `None`: the issuing CSCA picks the next free serial.
    pub serial: Option<u64>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// The "now" of issuance; also the default signing time of documents it signs.
    pub now: OffsetDateTime,
}

impl DocumentSignerOptions {
    /// A DS valid from 7 days before `now` for 3 months of signing plus a 10-year document lifetime.
    pub fn new(key: KeyAlgorithm, now: OffsetDateTime) -> DocumentSignerOptions {
        DocumentSignerOptions {
            common_name: "passport-reader TEST Document Signer - NOT FOR PRODUCTION".to_owned(),
            key,
            explicit_ec_parameters: false,
            serial: None,
            not_before: now - Duration::days(7),
            not_after: now + Duration::days(90) + years(10),
            now,
        }
    }

    /// Validity ended a year before `now` (it ran for 10 years before that).
    pub fn expired(mut self) -> DocumentSignerOptions {
        self.not_before = self.now - years(11);
        self.not_after = self.now - years(1);
        self
    }

    /// Validity starts 30 days after `now`.
    pub fn not_yet_valid(mut self) -> DocumentSignerOptions {
        self.not_before = self.now + Duration::days(30);
        self.not_after = self.now + years(10);
        self
    }

    pub fn explicit_ec_parameters(mut self, explicit: bool) -> DocumentSignerOptions {
        self.explicit_ec_parameters = explicit;
        self
    }

    pub fn serial(mut self, serial: u64) -> DocumentSignerOptions {
        self.serial = Some(serial);
        self
    }
}

/// A Document Signer: the key that signs EF.SOD, its certificate and the CSCA that issued it.
#[derive(Clone)]
pub struct DocumentSigner {
    pub(crate) key: PKey<Private>,
    pub(crate) key_algorithm: KeyAlgorithm,
    pub(crate) certificate: X509,
    pub(crate) issuer: Option<X509>,
    pub(crate) now: OffsetDateTime,
    pub(crate) serial: u64,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) not_after: OffsetDateTime,
}

fn name(country: &str, common_name: &str) -> Result<X509Name, Error> {
    let mut builder = X509NameBuilder::new()?;
    builder.append_entry_by_text("C", country)?;
    builder.append_entry_by_text("O", ORGANIZATION)?;
    builder.append_entry_by_text("CN", common_name)?;
    Ok(builder.build())
}

fn asn1_time(t: OffsetDateTime) -> Result<Asn1Time, Error> {
    Ok(Asn1Time::from_unix(t.unix_timestamp())?)
}

fn serial_number(serial: u64) -> Result<Asn1Integer, Error> {
    Ok(BigNum::from_slice(&serial.to_be_bytes())?.to_asn1_integer()?)
}

fn country_of(cert: &X509Ref) -> String {
    cert.subject_name()
        .entries_by_nid(openssl::nid::Nid::COUNTRYNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_else(|| "ZZ".to_owned())
}

impl Csca {
    /// Generates a key and the self-signed CSCA certificate.
    pub fn generate(options: &CscaOptions) -> Result<Csca, Error> {
        if options.country.len() != 2 || !options.country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Error::InvalidOption(format!(
                "CSCA country {:?} is not an ISO 3166-1 alpha-2 code",
                options.country
            )));
        }
        let key = options.key.generate(false)?;
        let subject = name(&options.country, &options.common_name)?;
        let mut builder = X509Builder::new()?;
        builder.set_version(2)?;
        builder.set_serial_number(serial_number(options.serial)?.as_ref())?;
        builder.set_subject_name(&subject)?;
        builder.set_issuer_name(&subject)?;
        builder.set_pubkey(&key)?;
        builder.set_not_before(asn1_time(options.not_before)?.as_ref())?;
        builder.set_not_after(asn1_time(options.not_after)?.as_ref())?;
        builder.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
        builder.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
        builder.append_extension(ski)?;
        builder.sign(&key, options.key.certificate_digest().message_digest())?;
        Ok(Csca {
            key,
            key_algorithm: options.key,
            certificate: builder.build(),
            now: options.not_before + Duration::days(1),
            next_serial: options.serial.wrapping_add(1),
        })
    }

    pub fn certificate(&self) -> &X509 {
        &self.certificate
    }

    pub fn private_key(&self) -> &PKey<Private> {
        &self.key
    }

    /// The CSCA certificate, PEM.
    pub fn pem(&self) -> Result<String, Error> {
        pem_string(self.certificate.to_pem()?)
    }

    /// Issues a Document Signer certificate (keyUsage digitalSignature) signed by this CSCA.
    ///
    /// Serials count up from the CSCA's own serial unless the options fix one.
    pub fn issue_document_signer(
        &mut self,
        options: &DocumentSignerOptions,
    ) -> Result<DocumentSigner, Error> {
        let serial = options.serial.unwrap_or(self.next_serial);
        self.next_serial = self.next_serial.max(serial).wrapping_add(1);
        issue(
            options,
            serial,
            Some((&self.certificate, &self.key, self.key_algorithm)),
        )
    }

    /// A CRL (v2, RFC 5280 §5) signed by this CSCA, revoking the given serials as of `this_update`;
    /// nextUpdate is 90 days later.
    pub fn crl(
        &self,
        revoked_serials: &[u64],
        this_update: OffsetDateTime,
    ) -> Result<X509Crl, Error> {
        let digest = self.key_algorithm.certificate_digest();
        let scheme = SignatureScheme::default_for(self.key_algorithm);
        let signature_algorithm = scheme.algorithm_identifier(digest);
        let issuer = self.certificate.subject_name().to_der()?;
        let revoked: Vec<Vec<u8>> = revoked_serials
            .iter()
            .map(|s| der::sequence(&[&der::integer_u64(*s), &der::time(this_update)]))
            .collect();
        let revoked_refs: Vec<&[u8]> = revoked.iter().map(Vec::as_slice).collect();
        let key_id = self
            .certificate
            .subject_key_id()
            .map(|id| id.as_slice().to_vec())
            .unwrap_or_default();
        let aki = der::sequence(&[
            &der::oid(ID_CE_AUTHORITY_KEY_IDENTIFIER),
            &der::octet_string(&der::sequence(&[&der::tlv(0x80, &key_id)])),
        ]);
        let crl_number = der::sequence(&[
            &der::oid(ID_CE_CRL_NUMBER),
            &der::octet_string(&der::integer_u64(1)),
        ]);
        let mut tbs_parts: Vec<Vec<u8>> = vec![
            der::integer_u64(1),
            signature_algorithm.clone(),
            issuer,
            der::time(this_update),
            der::time(this_update + Duration::days(90)),
        ];
        if !revoked.is_empty() {
            tbs_parts.push(der::sequence(&revoked_refs));
        }
        tbs_parts.push(der::explicit(0, &der::sequence(&[&aki, &crl_number])));
        let tbs_refs: Vec<&[u8]> = tbs_parts.iter().map(Vec::as_slice).collect();
        let tbs = der::sequence(&tbs_refs);
        let signature = scheme.sign(&self.key, digest, &tbs)?;
        let crl = der::sequence(&[&tbs, &signature_algorithm, &der::bit_string(&signature)]);
        Ok(X509Crl::from_der(&crl)?)
    }

    /// The "now" this CSCA was generated for.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }
}

fn issue(
    options: &DocumentSignerOptions,
    serial: u64,
    issuer: Option<(&X509, &PKey<Private>, KeyAlgorithm)>,
) -> Result<DocumentSigner, Error> {
    let key = options.key.generate(options.explicit_ec_parameters)?;
    let country = issuer.map_or_else(|| "ZZ".to_owned(), |(cert, _, _)| country_of(cert));
    let subject = name(&country, &options.common_name)?;
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    builder.set_serial_number(serial_number(serial)?.as_ref())?;
    builder.set_subject_name(&subject)?;
    match issuer {
        Some((cert, _, _)) => builder.set_issuer_name(cert.subject_name())?,
        None => builder.set_issuer_name(&subject)?,
    }
    builder.set_pubkey(&key)?;
    builder.set_not_before(asn1_time(options.not_before)?.as_ref())?;
    builder.set_not_after(asn1_time(options.not_after)?.as_ref())?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    if let Some((cert, _, _)) = issuer {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&builder.x509v3_context(Some(cert), None))?;
        builder.append_extension(aki)?;
    }
    match issuer {
        Some((_, issuer_key, issuer_alg)) => {
            builder.sign(issuer_key, issuer_alg.certificate_digest().message_digest())?
        }
        None => builder.sign(&key, options.key.certificate_digest().message_digest())?,
    }
    Ok(DocumentSigner {
        key,
        key_algorithm: options.key,
        certificate: builder.build(),
        issuer: issuer.map(|(cert, _, _)| cert.clone()),
        now: options.now,
        serial,
        not_before: options.not_before,
        not_after: options.not_after,
    })
}

impl DocumentSigner {
    /// A self-signed Document Signer that chains to no CSCA ("untrusted"), serial 1, `C=ZZ`.
    pub fn self_signed(options: &DocumentSignerOptions) -> Result<DocumentSigner, Error> {
        issue(options, options.serial.unwrap_or(1), None)
    }

    pub fn certificate(&self) -> &X509 {
        &self.certificate
    }

    /// The certificate of the CSCA that issued this DS; `None` when self-signed.
    pub fn issuer_certificate(&self) -> Option<&X509> {
        self.issuer.as_ref()
    }

    pub fn private_key(&self) -> &PKey<Private> {
        &self.key
    }

    pub fn key_algorithm(&self) -> KeyAlgorithm {
        self.key_algorithm
    }

    /// The certificate's serial number, for [`Csca::crl`].
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The DS certificate, PEM.
    pub fn pem(&self) -> Result<String, Error> {
        pem_string(self.certificate.to_pem()?)
    }

    /// Start of the certificate's validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the certificate's validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The "now" it was issued for: the default signing time of the SODs it signs.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }
}

pub(crate) fn pem_string(pem: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(pem).map_err(|_| Error::InvalidOption("PEM is not UTF-8".to_owned()))
}
