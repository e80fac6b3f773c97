//! The simulated passports holders submit: a `passport-reader testdoc create` folder, or
//! specimens made here. What a reading client sends for one (`reader.submit`): every file in
//! base64, the MRZ access key, and the chip's answer to the session's Active Authentication
//! challenge, signed here with the document's key as the chip would.

use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// One document, ready to be submitted any number of times.
pub struct Document {
    /// `reader.submit` properties that do not change between submissions.
    body: Map<String, Value>,
    aa_key: Option<PKey<Private>>,
}

/// Files of a testdoc folder and their `reader.submit` property names.
const FILES: [(&str, &str); 9] = [
    ("COM", "com"),
    ("SOD", "sod"),
    ("DG1", "dg1"),
    ("DG2", "dg2"),
    ("DG11", "dg11"),
    ("DG12", "dg12"),
    ("DG14", "dg14"),
    ("DG15", "dg15"),
    ("CardAccess", "card_access"),
];

impl Document {
    /// Reads a `passport-reader testdoc create` folder (import its `csca.pem` into the
    /// server's trust store for its submissions to be APPROVED).
    pub fn from_dir(dir: &Path) -> Result<Document> {
        let mut files = Vec::new();
        for (file, property) in FILES {
            match std::fs::read(dir.join(file)) {
                Ok(bytes) => files.push((property, bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
            }
        }
        let mrz = std::fs::read_to_string(dir.join("mrz.txt"))
            .with_context(|| format!("reading {}/mrz.txt", dir.display()))?;
        let aa_key = match std::fs::read(dir.join("aa_private_key.pem")) {
            Ok(pem) => Some(PKey::private_key_from_pem(&pem).context("aa_private_key.pem")?),
            Err(_) => None,
        };
        Document::new(files, &mrz, aa_key)
    }

    /// A specimen passport signed by a CSCA made for this run (its submissions are REJECTED
    /// unless that CSCA is trusted, which still exercises the whole verification).
    pub fn specimens(count: usize) -> Result<(String, Vec<Document>)> {
        let now = OffsetDateTime::now_utc();
        let mut csca = testdoc::Csca::generate(&testdoc::CscaOptions::new("NL", now))?;
        let ds = csca.issue_document_signer(&testdoc::DocumentSignerOptions::new(
            testdoc::KeyAlgorithm::Rsa(2048),
            now,
        ))?;
        let mut documents = Vec::new();
        for _ in 0..count.max(1) {
            let doc = testdoc::DocumentBuilder::new(testdoc::Holder::specimen()).build(&ds)?;
            let files = FILES
                .iter()
                .filter_map(|(name, property)| {
                    let id = match *name {
                        "COM" => testdoc::FileId::Com,
                        "SOD" => testdoc::FileId::Sod,
                        "DG1" => testdoc::FileId::Dg1,
                        "DG2" => testdoc::FileId::Dg2,
                        "DG14" => testdoc::FileId::Dg14,
                        "DG15" => testdoc::FileId::Dg15,
                        "CardAccess" => testdoc::FileId::CardAccess,
                        _ => return None,
                    };
                    doc.file(id).map(|bytes| (*property, bytes.to_vec()))
                })
                .collect();
            let mrz = doc.mrz_lines().join("\n");
            documents.push(Document::new(files, &mrz, doc.aa_private_key().cloned())?);
        }
        Ok((csca.pem()?, documents))
    }

    fn new(
        files: Vec<(&str, Vec<u8>)>,
        mrz: &str,
        aa_key: Option<PKey<Private>>,
    ) -> Result<Document> {
        let mut body = Map::new();
        for (property, bytes) in files {
            body.insert(property.to_owned(), Value::String(STANDARD.encode(bytes)));
        }
        for required in ["com", "sod", "dg1", "dg2"] {
            if !body.contains_key(required) {
                bail!("the document has no {required}");
            }
        }
        let mrz = icao9303::mrz::Mrz::parse(mrz.trim()).context("the document's MRZ")?;
        body.insert(
            "access_document_number".into(),
            Value::String(mrz.document_number),
        );
        body.insert(
            "access_date_of_birth".into(),
            Value::String(mrz.date_of_birth),
        );
        body.insert(
            "access_date_of_expiry".into(),
            Value::String(mrz.date_of_expiry),
        );
        Ok(Document { body, aa_key })
    }

    /// The `reader.submit` body answering `challenge` (the session's `aa_challenge`).
    pub fn submit_body(&self, challenge: &[u8]) -> Result<Value> {
        let mut body = self.body.clone();
        if let Some(key) = &self.aa_key {
            let response = chip_signature(key, challenge)?;
            body.insert("aa_response".into(), Value::String(hex::encode(response)));
        }
        Ok(Value::Object(body))
    }
}

/// The chip's INTERNAL AUTHENTICATE answer with an RSA key: ISO/IEC 9796-2 digital signature
/// scheme 1 with SHA-1 and trailer 'BC' (ICAO 9303 Part 11 §6.1.2.1), the recoverable part M1
/// filling the block. EC keys (plain ECDSA r || s) are not needed by the testdoc documents.
fn chip_signature(key: &PKey<Private>, challenge: &[u8]) -> Result<Vec<u8>> {
    let Ok(rsa) = key.rsa() else {
        bail!("only RSA Active Authentication keys are supported by the load test");
    };
    let k = usize::try_from(rsa.size())?;
    // F = '6A' || M1 || SHA-1(M1 || challenge) || 'BC', as long as the modulus in bytes (one
    // byte shorter, behind a zero, when the modulus' bit length is not a multiple of 8).
    let f_len = if rsa.n().num_bits() % 8 == 0 {
        k
    } else {
        k - 1
    };
    let mut m1 = vec![0u8; f_len - 22];
    openssl::rand::rand_bytes(&mut m1)?;
    let mut message = m1.clone();
    message.extend_from_slice(challenge);
    let digest = hash(MessageDigest::sha1(), &message)?;
    let mut f = vec![0u8; k - f_len];
    f.push(0x6A);
    f.extend_from_slice(&m1);
    f.extend_from_slice(&digest);
    f.push(0xBC);
    let mut out = vec![0u8; k];
    let n = rsa.private_encrypt(&f, &mut out, Padding::NONE)?;
    out.truncate(n);
    Ok(out)
}
