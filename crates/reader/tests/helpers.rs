use std::sync::OnceLock;

use icao9303::lds::FileId;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::PKey;
use openssl::rsa::Padding;
use reader::{AccessKey, ChipFiles, Progress, ReadError, ReadOptions, Transport, read_document};
use virtual_chip::{ChipConfig, ChipContents, Profile, VirtualChip};

pub const CAN: &str = "123456";
pub const CHALLENGE: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];

pub fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-25 12:00 UTC)
}

/// One specimen per profile, issued once for the test binary.
pub fn document(profile: Profile) -> &'static testdoc::TestDocument {
    static DOCS: OnceLock<Vec<(Profile, testdoc::TestDocument)>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        Profile::ALL
            .iter()
            .map(|p| (*p, virtual_chip::issue_document(*p, now()).unwrap().1))
            .collect()
    });
    &docs.iter().find(|(p, _)| *p == profile).unwrap().1
}

pub fn contents(doc: &testdoc::TestDocument) -> ChipContents {
    ChipContents::from_test_document(doc, CAN).unwrap()
}

pub fn transport(profile: Profile) -> virtual_chip::VirtualTransport {
    virtual_chip::VirtualTransport::new(
        VirtualChip::for_profile(document(profile), profile).unwrap(),
    )
}

pub fn transport_with(
    contents: ChipContents,
    config: ChipConfig,
) -> virtual_chip::VirtualTransport {
    virtual_chip::VirtualTransport::new(VirtualChip::new(contents, config).unwrap())
}

pub fn mrz_key(doc: &testdoc::TestDocument) -> AccessKey {
    let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
    AccessKey::from_mrz_lines(&lines).unwrap()
}

pub fn with_aa() -> ReadOptions {
    ReadOptions {
        active_authentication_challenge: Some(CHALLENGE),
        ..ReadOptions::default()
    }
}

pub fn read(
    transport: &mut dyn Transport,
    key: &AccessKey,
    options: &ReadOptions,
) -> Result<ChipFiles, ReadError> {
    let mut events = Vec::new();
    let result = read_document(transport, key, options, &mut |p| events.push(p));
    if let Ok(files) = &result {
        // Progress ends each file read at its full size.
        for (id, bytes) in &files.files {
            let last = events.iter().rev().find_map(|e| match e {
                Progress::File { file, read, total } if file == id => Some((*read, *total)),
                _ => None,
            });
            assert_eq!(last, Some((bytes.len(), bytes.len())), "progress of {id:?}");
        }
    }
    result
}

/// The document's files as the reader should return them (EF.CardAccess apart).
pub fn expected_files(doc: &testdoc::TestDocument) -> std::collections::BTreeMap<FileId, Vec<u8>> {
    doc.files
        .iter()
        .filter(|(id, _)| **id != testdoc::FileId::CardAccess)
        .map(|(id, b)| {
            let lds = match id.data_group_number() {
                Some(n) => FileId::Dg(n),
                None if *id == testdoc::FileId::Com => FileId::Com,
                None => FileId::Sod,
            };
            (lds, b.clone())
        })
        .collect()
}

pub fn assert_files(read: &ChipFiles, doc: &testdoc::TestDocument) {
    let expected = expected_files(doc);
    let lengths = |m: &std::collections::BTreeMap<FileId, Vec<u8>>| -> Vec<(FileId, usize)> {
        m.iter().map(|(k, v)| (*k, v.len())).collect()
    };
    assert_eq!(lengths(&read.files), lengths(&expected));
    assert!(read.files == expected, "file contents differ");
}

/// ISO/IEC 9796-2 scheme 1 check of an RSA Active Authentication response (SHA-1, 'BC').
pub fn rsa_aa_verifies(doc: &testdoc::TestDocument, challenge: &[u8], response: &[u8]) -> bool {
    let dg15 = doc.file(testdoc::FileId::Dg15).unwrap();
    let spki = icao9303::lds::Dg15::parse(dg15)
        .unwrap()
        .subject_public_key_info;
    let rsa = PKey::public_key_from_der(&spki).unwrap().rsa().unwrap();
    let k = rsa.size() as usize;
    if response.len() != k {
        return false;
    }
    let mut j = vec![0u8; k];
    if rsa.public_decrypt(response, &mut j, Padding::NONE).is_err() {
        return false;
    }
    if j[0] != 0x6A || j[k - 1] != 0xBC {
        return false;
    }
    let mut m = j[1..k - 21].to_vec();
    m.extend_from_slice(challenge);
    hash(MessageDigest::sha1(), &m).unwrap()[..] == j[k - 21..k - 1]
}

/// Plain `r || s` ECDSA over SHA-256 of the challenge, against DG15's EC key.
pub fn ecdsa_aa_verifies(doc: &testdoc::TestDocument, challenge: &[u8], response: &[u8]) -> bool {
    let dg15 = doc.file(testdoc::FileId::Dg15).unwrap();
    let spki = icao9303::lds::Dg15::parse(dg15)
        .unwrap()
        .subject_public_key_info;
    let ec = PKey::public_key_from_der(&spki).unwrap().ec_key().unwrap();
    let (r, s) = response.split_at(response.len() / 2);
    let sig = openssl::ecdsa::EcdsaSig::from_private_components(
        openssl::bn::BigNum::from_slice(r).unwrap(),
        openssl::bn::BigNum::from_slice(s).unwrap(),
    )
    .unwrap();
    let digest = hash(MessageDigest::sha256(), challenge).unwrap();
    sig.verify(&digest, &ec).unwrap_or(false)
}
