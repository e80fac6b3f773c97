//! Documents made by testdoc verify with OpenSSL itself, and each forgery really breaks a check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, Public};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{CrlStatus, X509, X509StoreContext, X509VerifyResult};
use testdoc::*;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

// ---------------------------------------------------------------- a minimal DER reader

/// Splits one TLV off `input`: (tag, content, rest). Tags of up to 3 bytes.
fn tlv(input: &[u8]) -> (u32, &[u8], &[u8]) {
    let mut pos = 1;
    let mut tag = u32::from(input[0]);
    if input[0] & 0x1F == 0x1F {
        loop {
            tag = (tag << 8) | u32::from(input[pos]);
            pos += 1;
            if input[pos - 1] & 0x80 == 0 {
                break;
            }
        }
    }
    let first = input[pos];
    pos += 1;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7F);
        let len = input[pos..pos + n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        pos += n;
        len
    };
    (tag, &input[pos..pos + len], &input[pos + len..])
}

fn children(mut content: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, value, rest) = tlv(content);
        out.push((tag, value));
        content = rest;
    }
    out
}

fn oid_hex(content: &[u8]) -> String {
    hex::encode(content)
}

fn digest_for_oid(oid: &str) -> DigestAlgorithm {
    match oid {
        "2b0e03021a" => DigestAlgorithm::Sha1,
        "608648016503040204" => DigestAlgorithm::Sha224,
        "608648016503040201" => DigestAlgorithm::Sha256,
        "608648016503040202" => DigestAlgorithm::Sha384,
        "608648016503040203" => DigestAlgorithm::Sha512,
        other => panic!("unknown hash OID {other}"),
    }
}

// ---------------------------------------------------------------- passive authentication, by OpenSSL

#[derive(Debug, PartialEq, Eq)]
struct Verification {
    /// The CMS signature verifies against the DS certificate.
    signature: bool,
    /// The DS certificate chains to the trusted CSCA at NOW (error text otherwise).
    chain: Result<(), String>,
    /// Data groups whose hash in the LDSSecurityObject does not match the file.
    mismatched: Vec<u8>,
}

fn sod_content_info(document: &TestDocument) -> Vec<u8> {
    let (tag, content, rest) = tlv(document.file(FileId::Sod).unwrap());
    assert_eq!(tag, 0x77);
    assert!(rest.is_empty());
    content.to_vec()
}

fn verify(document: &TestDocument, trusted: &X509) -> Verification {
    verify_at(document, trusted, NOW)
}

fn verify_at(document: &TestDocument, trusted: &X509, at: OffsetDateTime) -> Verification {
    let mut cms = CmsContentInfo::from_der(&sod_content_info(document)).unwrap();
    let mut certs = Stack::new().unwrap();
    certs.push(document.ds_certificate().clone()).unwrap();
    let store = X509StoreBuilder::new().unwrap().build();
    let mut content = Vec::new();
    let signature = cms
        .verify(
            Some(&certs),
            Some(&store),
            None,
            Some(&mut content),
            CMSOptions::NO_SIGNER_CERT_VERIFY,
        )
        .is_ok();

    let mut store = X509StoreBuilder::new().unwrap();
    store.add_cert(trusted.clone()).unwrap();
    let mut param = X509VerifyParam::new().unwrap();
    param.set_time(at.unix_timestamp());
    store.set_param(&param).unwrap();
    let store = store.build();
    let mut context = X509StoreContext::new().unwrap();
    let chain = context
        .init(
            &store,
            document.ds_certificate(),
            &Stack::new().unwrap(),
            |c| {
                c.verify_cert()?;
                Ok(c.error())
            },
        )
        .unwrap();
    let chain = if chain == X509VerifyResult::OK {
        Ok(())
    } else {
        Err(chain.error_string().to_owned())
    };

    let lds_so = if signature {
        content
    } else {
        document.lds_security_object().to_vec()
    };
    Verification {
        signature,
        chain,
        mismatched: mismatched_hashes(document, &lds_so),
    }
}

/// Recomputes each data group hash with the algorithm the LDSSecurityObject declares.
fn mismatched_hashes(document: &TestDocument, lds_so: &[u8]) -> Vec<u8> {
    let (tag, body, _) = tlv(lds_so);
    assert_eq!(tag, 0x30);
    let fields = children(body);
    let (_, algorithm) = fields[1];
    let (oid_tag, oid, _) = tlv(algorithm);
    assert_eq!(oid_tag, 0x06);
    let declared = digest_for_oid(&oid_hex(oid));
    let mut mismatched = Vec::new();
    let mut seen = Vec::new();
    for (_, group) in children(fields[2].1) {
        let parts = children(group);
        let number = parts[0].1[0];
        let file = match number {
            1 => FileId::Dg1,
            2 => FileId::Dg2,
            14 => FileId::Dg14,
            15 => FileId::Dg15,
            n => panic!("unexpected data group {n}"),
        };
        seen.push(file);
        if declared.digest(document.file(file).unwrap()).unwrap() != parts[1].1 {
            mismatched.push(number);
        }
    }
    let present: Vec<FileId> = document
        .files
        .keys()
        .copied()
        .filter(|id| id.data_group_number().is_some())
        .collect();
    assert_eq!(
        seen, present,
        "the SOD hashes exactly the data groups present"
    );
    mismatched
}

fn valid() -> Verification {
    Verification {
        signature: true,
        chain: Ok(()),
        mismatched: vec![],
    }
}

fn csca(key: KeyAlgorithm) -> Csca {
    Csca::generate(&CscaOptions::new("NL", NOW).key(key)).unwrap()
}

// ---------------------------------------------------------------- MRZ

#[test]
fn check_digits_match_icao_9303_part3_worked_example() {
    assert_eq!(check_digit("L898902C3"), '6');
    assert_eq!(check_digit("740812"), '2');
    assert_eq!(check_digit("120415"), '9');
}

fn digit(line: &str, range: std::ops::Range<usize>, at: usize) {
    assert_eq!(
        check_digit(&line[range.clone()]),
        line[at..=at].chars().next().unwrap(),
        "check digit of {:?} in {line}",
        &line[range]
    );
}

#[test]
fn td3_mrz_has_correct_check_digits() {
    let lines = Holder::specimen().mrz_lines().unwrap();
    assert_eq!(lines[0], "P<NLDVAN<DER<STEEN<<LOTTE<JOHANNA<<<<<<<<<<<");
    let l2 = &lines[1];
    assert_eq!(l2.len(), 44);
    assert_eq!(&l2[0..9], "XR4K71PT9");
    assert_eq!(&l2[10..13], "NLD");
    assert_eq!(&l2[13..19], "870621");
    assert_eq!(&l2[20..21], "F");
    assert_eq!(&l2[21..27], "360313");
    digit(l2, 0..9, 9);
    digit(l2, 13..19, 19);
    digit(l2, 21..27, 27);
    digit(l2, 28..42, 42);
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    assert_eq!(check_digit(&composite), l2[43..].chars().next().unwrap());
}

#[test]
fn td1_mrz_has_correct_check_digits() {
    let lines = Holder::specimen_id_card().mrz_lines().unwrap();
    assert!(lines.iter().all(|l| l.len() == 30));
    let (l1, l2) = (&lines[0], &lines[1]);
    assert_eq!(&l1[0..5], "IDDEU");
    digit(l1, 5..14, 14);
    digit(l2, 0..6, 6);
    digit(l2, 8..14, 14);
    let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
    assert_eq!(check_digit(&composite), l2[29..].chars().next().unwrap());
    assert_eq!(lines[2], "SCHNEIDER<WOLF<<JONAS<<<<<<<<<");
}

#[test]
fn holder_data_that_does_not_fit_is_an_error() {
    let mut holder = Holder::specimen();
    holder.document_number = "1234567890".to_owned();
    assert!(matches!(holder.mrz_lines(), Err(Error::InvalidHolder(_))));
    holder.document_number = "AB12?".to_owned();
    assert!(matches!(holder.mrz_lines(), Err(Error::InvalidHolder(_))));
}

// ---------------------------------------------------------------- well-formed documents

#[test]
fn default_document_verifies_and_has_every_file() {
    let mut csca = csca(KeyAlgorithm::Rsa(2048));
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
    assert_eq!(verify(&document, csca.certificate()), valid());

    let names: Vec<String> = document.files.keys().map(|id| id.name()).collect();
    assert_eq!(
        names,
        ["COM", "DG1", "DG2", "DG14", "DG15", "SOD", "CardAccess"]
    );

    // EF.COM: LDS 1.7, Unicode 4.0.0, DG1 DG2 DG14 DG15.
    let (tag, com, _) = tlv(document.file(FileId::Com).unwrap());
    assert_eq!(tag, 0x60);
    let com = children(com);
    assert_eq!(com[0], (0x5F01, &b"0107"[..]));
    assert_eq!(com[1], (0x5F36, &b"040000"[..]));
    assert_eq!(com[2], (0x5C, &[0x61, 0x75, 0x6E, 0x6F][..]));

    // DG1 is the MRZ.
    let (tag, dg1, _) = tlv(document.file(FileId::Dg1).unwrap());
    assert_eq!(tag, 0x61);
    assert_eq!(
        children(dg1)[0],
        (0x5F1F, document.mrz_lines().concat().as_bytes())
    );

    // DG2: 7F61 { 02 01, 7F60 { A1 {...}, 5F2E FAC record with a JPEG } }.
    let (tag, dg2, _) = tlv(document.file(FileId::Dg2).unwrap());
    assert_eq!(tag, 0x75);
    let (tag, group, _) = tlv(dg2);
    assert_eq!(tag, 0x7F61);
    let group = children(group);
    assert_eq!(group[0], (0x02, &[1u8][..]));
    assert_eq!(group[1].0, 0x7F60);
    let bit = children(group[1].1);
    assert_eq!(bit[0].0, 0xA1);
    let header = children(bit[0].1);
    assert_eq!(
        header,
        [
            (0x80, &[1u8, 1][..]),
            (0x81, &[0, 0, 2][..]),
            (0x87, &[1, 1][..]),
            (0x88, &[0, 8][..])
        ]
    );
    assert_eq!(bit[1].0, 0x5F2E);
    let record = bit[1].1;
    assert_eq!(&record[..8], b"FAC\x00010\x00");
    assert_eq!(
        u32::from_be_bytes(record[8..12].try_into().unwrap()) as usize,
        record.len()
    );
    assert_eq!(&record[14 + 32..14 + 34], &[0xFF, 0xD8]);
    assert_eq!(&record[record.len() - 2..], &[0xFF, 0xD9]);

    // DG15 holds the public half of the AA key; DG14 the CA key and no AA info (RSA).
    let (tag, dg15, _) = tlv(document.file(FileId::Dg15).unwrap());
    assert_eq!(tag, 0x6F);
    let aa_public = PKey::public_key_from_der(dg15).unwrap();
    assert!(aa_public.public_eq(document.aa_private_key().unwrap()));
    assert_eq!(aa_public.bits(), 1024);
    let (tag, dg14, _) = tlv(document.file(FileId::Dg14).unwrap());
    assert_eq!(tag, 0x6E);
    let (_, infos, _) = tlv(dg14);
    let infos = children(infos);
    assert_eq!(infos.len(), 2);
    let ca_public = infos
        .iter()
        .map(|(_, info)| children(info))
        .find(|info| oid_hex(info[0].1) == "04007f000702020102")
        .map(|info| -> PKey<Public> {
            PKey::public_key_from_der(&reencode(0x30, info[1].1)).unwrap()
        })
        .unwrap();
    assert!(ca_public.public_eq(document.ca_private_key().unwrap()));

    // EF.CardAccess: one PACEInfo, ECDH-GM-AES-CBC-CMAC-128, version 2, brainpoolP256r1 (13).
    let (tag, access, _) = tlv(document.file(FileId::CardAccess).unwrap());
    assert_eq!(tag, 0x31);
    let pace = children(children(access)[0].1);
    assert_eq!(oid_hex(pace[0].1), "04007f00070202040202");
    assert_eq!(pace[1].1, [2]);
    assert_eq!(pace[2].1, [13]);

    // The chip keys are PKCS#8 PEM.
    let pem = document.aa_private_key_pem().unwrap().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(
        document
            .ca_private_key_pem()
            .unwrap()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}

fn reencode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

#[test]
fn every_signature_and_digest_combination_verifies() {
    let mut rsa_csca = csca(KeyAlgorithm::Rsa(2048));
    let rsa_ds = rsa_csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    for digest in DigestAlgorithm::ALL {
        for scheme in [SignatureScheme::RsaPkcs1v15, SignatureScheme::RsaPss] {
            let document = DocumentBuilder::new(Holder::specimen())
                .signature(scheme)
                .digest(digest)
                .aa_key(Some(KeyAlgorithm::Ec(Curve::P256)))
                .build(&rsa_ds)
                .unwrap();
            assert_eq!(
                verify(&document, rsa_csca.certificate()),
                valid(),
                "{scheme:?} {digest:?}"
            );
        }
    }
    for curve in Curve::ALL {
        let mut ec_csca = csca(KeyAlgorithm::Ec(curve));
        let ds = ec_csca
            .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Ec(curve), NOW))
            .unwrap();
        for digest in DigestAlgorithm::ALL {
            let document = DocumentBuilder::new(Holder::specimen())
                .digest(digest)
                .aa_key(None)
                .build(&ds)
                .unwrap();
            assert_eq!(
                verify(&document, ec_csca.certificate()),
                valid(),
                "{curve:?} {digest:?}"
            );
        }
    }
}

#[test]
fn pss_parameters_are_explicit() {
    let mut csca = csca(KeyAlgorithm::Rsa(2048));
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .signature(SignatureScheme::RsaPss)
        .digest(DigestAlgorithm::Sha384)
        .build(&ds)
        .unwrap();
    // id-RSASSA-PSS { [0] sha384 NULL, [1] mgf1 { sha384 NULL }, [2] 48 }
    let expected = "06092a864886f70d01010a3034\
                    a00f300d06096086480165030402020500\
                    a11c301a06092a864886f70d010108300d06096086480165030402020500\
                    a203020130";
    assert!(hex::encode(document.file(FileId::Sod).unwrap()).contains(expected));
}

#[test]
fn explicit_ec_domain_parameters_verify() {
    for curve in [Curve::BrainpoolP256r1, Curve::P384, Curve::BrainpoolP512r1] {
        let mut csca = csca(KeyAlgorithm::Ec(curve));
        let ds = csca
            .issue_document_signer(
                &DocumentSignerOptions::new(KeyAlgorithm::Ec(curve), NOW)
                    .explicit_ec_parameters(true),
            )
            .unwrap();
        // SubjectPublicKeyInfo.algorithm.parameters is a SEQUENCE (ECParameters), not an OID.
        let spki = ds
            .certificate()
            .public_key()
            .unwrap()
            .public_key_to_der()
            .unwrap();
        let (_, spki, _) = tlv(&spki);
        let (_, algorithm, _) = tlv(spki);
        let parameters = children(algorithm)[1];
        assert_eq!(parameters.0, 0x30, "{curve:?}");
        let document = DocumentBuilder::new(Holder::specimen())
            .aa_key(None)
            .build(&ds)
            .unwrap();
        assert_eq!(verify(&document, csca.certificate()), valid(), "{curve:?}");
    }
}

#[test]
fn options_produce_valid_documents() {
    let mut csca = csca(KeyAlgorithm::Ec(Curve::P256));
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(
            KeyAlgorithm::Ec(Curve::P256),
            NOW,
        ))
        .unwrap();

    // LDSSecurityObject v1 with ldsVersionInfo, EF.COM LDS 1.8.
    let v1 = DocumentBuilder::new(Holder::specimen())
        .lds_version(LdsSecurityObjectVersion::V1)
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&v1, csca.certificate()), valid());
    let (_, so, _) = tlv(v1.lds_security_object());
    let fields = children(so);
    assert_eq!(fields[0], (0x02, &[1u8][..]));
    assert_eq!(
        children(fields[3].1),
        [(0x13, &b"0108"[..]), (0x13, &b"040000"[..])]
    );
    let (_, com, _) = tlv(v1.file(FileId::Com).unwrap());
    assert_eq!(children(com)[0], (0x5F01, &b"0108"[..]));

    // subjectKeyIdentifier, without the DS certificate in the SOD.
    let bare = DocumentBuilder::new(Holder::specimen())
        .signer_identifier(SignerIdentifier::SubjectKeyIdentifier)
        .include_ds_certificate(false)
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&bare, csca.certificate()), valid());
    let sod = hex::encode(bare.file(FileId::Sod).unwrap());
    let ds_der = hex::encode(ds.certificate().to_der().unwrap());
    assert!(!sod.contains(&ds_der));
    assert!(sod.contains(&hex::encode(
        ds.certificate().subject_key_id().unwrap().as_slice()
    )));

    // TD1 identity card, EC active authentication (DG14 gets ActiveAuthenticationInfo),
    // no chip authentication, PACE on P-256.
    let id_card = DocumentBuilder::new(Holder::specimen_id_card())
        .aa_key(Some(KeyAlgorithm::Ec(Curve::BrainpoolP256r1)))
        .ca_key(None)
        .pace(Some(Curve::P256))
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&id_card, csca.certificate()), valid());
    let (_, dg14, _) = tlv(id_card.file(FileId::Dg14).unwrap());
    let infos = children(tlv(dg14).1);
    assert_eq!(infos.len(), 1);
    let aa_info = children(infos[0].1);
    assert_eq!(oid_hex(aa_info[0].1), "678108010105");
    assert_eq!(oid_hex(aa_info[2].1), "04007f00070101040103");
    let (_, access, _) = tlv(id_card.file(FileId::CardAccess).unwrap());
    assert_eq!(children(children(access)[0].1)[2].1, [12]);

    // No AA and no CA: no DG14, no DG15; EF.COM lists DG1 and DG2 only.
    let minimal = DocumentBuilder::new(Holder::specimen())
        .aa_key(None)
        .ca_key(None)
        .pace(None)
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&minimal, csca.certificate()), valid());
    let names: Vec<String> = minimal.files.keys().map(|id| id.name()).collect();
    assert_eq!(names, ["COM", "DG1", "DG2", "SOD"]);
    assert_eq!(minimal.aa_private_key_pem().unwrap(), None);

    // A caller-given JPEG ends up in DG2 unchanged, with its dimensions in the image info.
    let jpeg = synthetic_portrait().unwrap();
    let with_portrait = DocumentBuilder::new(Holder::specimen())
        .portrait(jpeg.clone())
        .build(&ds)
        .unwrap();
    let dg2 = with_portrait.file(FileId::Dg2).unwrap();
    assert!(dg2.ends_with(&jpeg));
    assert_eq!(
        &dg2[dg2.len() - jpeg.len() - 10..dg2.len() - jpeg.len() - 6],
        &[0, 240, 1, 64]
    );
    let not_a_jpeg = DocumentBuilder::new(Holder::specimen())
        .portrait(b"GIF89a".to_vec())
        .build(&ds);
    assert!(matches!(not_a_jpeg, Err(Error::InvalidPortrait(_))));

    // A signature scheme that does not fit the DS key is refused.
    let mismatch = DocumentBuilder::new(Holder::specimen())
        .signature(SignatureScheme::RsaPss)
        .build(&ds);
    assert!(matches!(mismatch, Err(Error::KeyMismatch(_))));
}

#[test]
fn pki_has_the_icao_profile() {
    let mut csca = csca(KeyAlgorithm::Ec(Curve::BrainpoolP384r1));
    let cert = csca.certificate().clone();
    let text = String::from_utf8(cert.to_text().unwrap()).unwrap();
    assert!(text.contains("CA:TRUE"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    assert!(text.contains("C=NL"), "{text}");
    assert!(text.contains("NOT FOR PRODUCTION"), "{text}");
    assert!(cert.verify(&cert.public_key().unwrap()).unwrap());

    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let text = String::from_utf8(ds.certificate().to_text().unwrap()).unwrap();
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(
        ds.certificate()
            .verify(&cert.public_key().unwrap())
            .unwrap()
    );
    let second = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    assert_ne!(ds.serial(), second.serial());
}

// ---------------------------------------------------------------- forgeries

fn signed_document() -> (Csca, TestDocument) {
    let mut csca = csca(KeyAlgorithm::Ec(Curve::BrainpoolP256r1));
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(
            KeyAlgorithm::Ec(Curve::BrainpoolP256r1),
            NOW,
        ))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
    (csca, document)
}

#[test]
fn tampered_data_groups_no_longer_match_their_hash() {
    let (csca, document) = signed_document();
    for (id, number) in [
        (FileId::Dg1, 1),
        (FileId::Dg2, 2),
        (FileId::Dg14, 14),
        (FileId::Dg15, 15),
    ] {
        let mut forged = document.clone();
        forged.tamper_data_group(id).unwrap();
        assert_ne!(forged.file(id), document.file(id));
        assert_eq!(
            forged.file(id).unwrap().len(),
            document.file(id).unwrap().len()
        );
        let result = verify(&forged, csca.certificate());
        assert!(
            result.signature && result.chain.is_ok(),
            "{id:?}: {result:?}"
        );
        assert_eq!(result.mismatched, [number], "{id:?}");
    }
    // The DG1 forgery changes the name, so the MRZ check digits still hold.
    let mut forged = document.clone();
    forged.tamper_data_group(FileId::Dg1).unwrap();
    let (_, dg1, _) = tlv(forged.file(FileId::Dg1).unwrap());
    let mrz = std::str::from_utf8(children(dg1)[0].1).unwrap();
    assert!(mrz.starts_with("P<NLDWAN<DER<STEEN"), "{mrz}");
    assert_eq!(&mrz[44..], &document.mrz_lines()[1]);
}

#[test]
fn sod_resigned_by_another_ds_does_not_chain() {
    let (csca, document) = signed_document();
    let mut other_csca = Csca::generate(&CscaOptions::new("DE", NOW)).unwrap();
    let other = other_csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let mut forged = document.clone();
    forged.resign_sod(&other).unwrap();
    assert_eq!(forged.lds_security_object(), document.lds_security_object());
    let result = verify(&forged, csca.certificate());
    assert!(
        result.signature && result.mismatched.is_empty(),
        "{result:?}"
    );
    assert!(result.chain.is_err(), "{result:?}");
    assert_eq!(verify(&forged, other_csca.certificate()), valid());

    let untrusted = DocumentSigner::self_signed(&DocumentSignerOptions::new(
        KeyAlgorithm::Ec(Curve::P256),
        NOW,
    ))
    .unwrap();
    let mut forged = document.clone();
    forged.resign_sod(&untrusted).unwrap();
    assert_eq!(forged.csca_pem().unwrap(), None);
    let result = verify(&forged, csca.certificate());
    assert!(result.signature && result.chain.is_err(), "{result:?}");
}

#[test]
fn mislabelled_hash_algorithm_breaks_the_hashes() {
    let mut csca = csca(KeyAlgorithm::Rsa(2048));
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .digest(DigestAlgorithm::Sha256)
        .declared_hash_algorithm(DigestAlgorithm::Sha512)
        .build(&ds)
        .unwrap();
    let result = verify(&document, csca.certificate());
    assert!(result.signature && result.chain.is_ok(), "{result:?}");
    assert_eq!(result.mismatched, [1, 2, 14, 15]);
}

#[test]
fn expired_and_not_yet_valid_document_signers_fail_the_chain() {
    let mut csca = csca(KeyAlgorithm::Ec(Curve::P256));
    let expired = csca
        .issue_document_signer(
            &DocumentSignerOptions::new(KeyAlgorithm::Ec(Curve::P256), NOW).expired(),
        )
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .build(&expired)
        .unwrap();
    let result = verify(&document, csca.certificate());
    assert!(result.signature && result.mismatched.is_empty());
    assert_eq!(result.chain, Err("certificate has expired".to_owned()));

    let early = csca
        .issue_document_signer(
            &DocumentSignerOptions::new(KeyAlgorithm::Ec(Curve::P256), NOW).not_yet_valid(),
        )
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .build(&early)
        .unwrap();
    let result = verify(&document, csca.certificate());
    assert_eq!(result.chain, Err("certificate is not yet valid".to_owned()));
}

#[test]
fn crl_revokes_the_given_document_signer() {
    let mut csca = csca(KeyAlgorithm::Rsa(2048));
    let revoked = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let fine = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let crl = csca.crl(&[revoked.serial()], NOW).unwrap();
    assert!(
        crl.verify(&csca.certificate().public_key().unwrap())
            .unwrap()
    );
    assert_eq!(
        crl.issuer_name().to_der().unwrap(),
        csca.certificate().subject_name().to_der().unwrap()
    );
    assert!(matches!(
        crl.get_by_cert(revoked.certificate()),
        CrlStatus::Revoked(_)
    ));
    assert!(matches!(
        crl.get_by_cert(fine.certificate()),
        CrlStatus::NotRevoked
    ));
    let empty = csca.crl(&[], NOW).unwrap();
    assert!(empty.get_revoked().is_none_or(|r| r.is_empty()));
}

// ---------------------------------------------------------------- files on disk

#[test]
fn write_to_dir_writes_chip_files_keys_and_certificates() {
    let (csca, document) = signed_document();
    let dir = std::env::temp_dir().join(format!("testdoc-write-{}", std::process::id()));
    let written = document.write_to_dir(&dir).unwrap();
    let mut names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "COM",
            "CardAccess",
            "DG1",
            "DG14",
            "DG15",
            "DG2",
            "SOD",
            "aa_private_key.pem",
            "ca_private_key.pem",
            "csca.pem",
            "ds.pem",
            "mrz.txt"
        ]
    );
    assert_eq!(
        std::fs::read(dir.join("SOD")).unwrap(),
        document.file(FileId::Sod).unwrap()
    );
    assert_eq!(
        std::fs::read(dir.join("csca.pem")).unwrap(),
        csca.certificate().to_pem().unwrap()
    );
    let mrz = std::fs::read_to_string(dir.join("mrz.txt")).unwrap();
    assert_eq!(mrz.lines().collect::<Vec<_>>(), document.mrz_lines());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chip_keys_can_use_explicit_ec_parameters() {
    let (csca, document) = issue_specimen(NOW).unwrap();
    assert_eq!(verify(&document, csca.certificate()), valid());
    let mut csca = csca;
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), NOW))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .aa_key(Some(KeyAlgorithm::Ec(Curve::BrainpoolP256r1)))
        .chip_explicit_ec_parameters(true)
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&document, csca.certificate()), valid());
    let (_, dg15, _) = tlv(document.file(FileId::Dg15).unwrap());
    let (_, spki, _) = tlv(dg15);
    let (_, algorithm, _) = tlv(spki);
    assert_eq!(
        children(algorithm)[1].0,
        0x30,
        "ECParameters, not a named curve"
    );
    let aa_public = PKey::public_key_from_der(dg15).unwrap();
    assert!(aa_public.public_eq(document.aa_private_key().unwrap()));
}

#[test]
fn corrupted_signature_no_longer_verifies() {
    for key in [KeyAlgorithm::Rsa(2048), KeyAlgorithm::Ec(Curve::P384)] {
        let mut csca = csca(key);
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(key, NOW))
            .unwrap();
        let mut document = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        document.corrupt_sod_signature().unwrap();
        let result = verify(&document, csca.certificate());
        assert!(!result.signature, "{key:?}");
        assert!(
            result.chain.is_ok() && result.mismatched.is_empty(),
            "{key:?}"
        );
    }
}

/// The `openssl cms -verify` command agrees, when the command is installed.
#[test]
fn openssl_command_line_verifies_the_sod() {
    let Ok(version) = std::process::Command::new("openssl")
        .arg("version")
        .output()
    else {
        eprintln!("openssl command not found; skipped");
        return;
    };
    assert!(version.status.success());
    let (_csca, document) = signed_document();
    let dir = std::env::temp_dir().join(format!("testdoc-cli-{}", std::process::id()));
    document.write_to_dir(&dir).unwrap();
    std::fs::write(dir.join("sod.der"), sod_content_info(&document)).unwrap();
    let run = |trusted: &str| {
        std::process::Command::new("openssl")
            .args([
                "cms", "-verify", "-inform", "DER", "-in", "sod.der", "-binary",
            ])
            .args(["-purpose", "any", "-CAfile", trusted, "-out", "content.der"])
            .args(["-attime", &NOW.unix_timestamp().to_string()])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let output = run("csca.pem");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        std::fs::read(dir.join("content.der")).unwrap(),
        document.lds_security_object()
    );

    let other =
        Csca::generate(&CscaOptions::new("BE", NOW).key(KeyAlgorithm::Ec(Curve::P256))).unwrap();
    std::fs::write(dir.join("other.pem"), other.pem().unwrap()).unwrap();
    assert!(!run("other.pem").status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dh_chip_authentication_key() {
    let (mut csca, _) = issue_specimen(NOW).unwrap();
    let ds = csca
        .issue_document_signer(&DocumentSignerOptions::new(
            KeyAlgorithm::Ec(Curve::P256),
            NOW,
        ))
        .unwrap();
    let document = DocumentBuilder::new(Holder::specimen())
        .chip_authentication(Some(ChipAuthenticationKey::Dh2048))
        .build(&ds)
        .unwrap();
    assert_eq!(verify(&document, csca.certificate()), valid());
    let (_, dg14, _) = tlv(document.file(FileId::Dg14).unwrap());
    let infos: Vec<Vec<(u32, &[u8])>> = children(tlv(dg14).1)
        .into_iter()
        .map(|(_, i)| children(i))
        .collect();
    let public_key_info = infos
        .iter()
        .find(|i| oid_hex(i[0].1) == "04007f000702020101")
        .unwrap();
    let spki = reencode(0x30, public_key_info[1].1);
    let (_, algorithm, _) = tlv(tlv(&spki).1);
    assert_eq!(
        oid_hex(tlv(algorithm).1),
        "2a8648ce3e0201",
        "dhpublicnumber"
    );
    let public = PKey::public_key_from_der(&spki).unwrap();
    assert!(public.public_eq(document.ca_private_key().unwrap()));
    assert!(
        infos
            .iter()
            .any(|i| oid_hex(i[0].1) == "04007f00070202030102" && i[1].1 == [1])
    );
    assert!(
        document
            .ca_private_key_pem()
            .unwrap()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
}
