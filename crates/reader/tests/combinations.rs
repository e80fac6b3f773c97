use icao9303::lds::FileId;
use reader::{AccessControl, AccessKey, BlockSize, ChipAuthentication, ReadOptions};
use testdoc::{ChipAuthenticationKey, Curve, DocumentBuilder, Holder};
use virtual_chip::{ChipConfig, Profile, card_access_for};

use crate::helpers::*;

#[test]
fn bac_profile_with_active_authentication() {
    let doc = document(Profile::Bac);
    for block_size in [
        BlockSize::Auto,
        BlockSize::Fixed(0xDF),
        BlockSize::Fixed(100),
        BlockSize::Fixed(1000),
    ] {
        let mut t = transport(Profile::Bac);
        let options = ReadOptions {
            block_size,
            ..with_aa()
        };
        let files = read(&mut t, &mrz_key(doc), &options).unwrap();
        assert_files(&files, doc);
        assert_eq!(files.access_control, AccessControl::Bac);
        assert_eq!(files.card_access, None);
        assert_eq!(files.chip_authentication, ChipAuthentication::NotSupported);
        let aa = files.active_authentication.unwrap();
        assert!(rsa_aa_verifies(
            doc,
            &aa.challenge,
            aa.response.as_ref().unwrap()
        ));
        assert!(!rsa_aa_verifies(
            doc,
            &[0u8; 8],
            aa.response.as_ref().unwrap()
        ));
        match block_size {
            BlockSize::Auto => assert!(files.block_size > 1000, "{}", files.block_size),
            BlockSize::Fixed(n) => assert_eq!(files.block_size, n),
        }
    }
}

#[test]
fn pace_profile_with_mrz_and_can_chip_and_active_authentication() {
    let doc = document(Profile::Pace);
    for key in [mrz_key(doc), AccessKey::can(CAN).unwrap()] {
        let mut t = transport(Profile::Pace);
        let files = read(&mut t, &key, &with_aa()).unwrap();
        assert_files(&files, doc);
        assert_eq!(
            files.card_access.as_deref(),
            doc.file(testdoc::FileId::CardAccess)
        );
        match &files.access_control {
            AccessControl::Pace {
                protocol,
                parameter_id,
                can,
            } => {
                assert_eq!(protocol, "0.4.0.127.0.7.2.2.4.2.2");
                assert_eq!(*parameter_id, 13);
                assert_eq!(*can, matches!(key, AccessKey::Can(_)));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            files.chip_authentication,
            ChipAuthentication::Succeeded {
                protocol: "0.4.0.127.0.7.2.2.3.2.2".into()
            }
        );
        let aa = files.active_authentication.unwrap();
        assert!(rsa_aa_verifies(
            doc,
            &CHALLENGE,
            aa.response.as_ref().unwrap()
        ));
    }
}

#[test]
fn pace_profile_read_with_bac_when_pace_is_off() {
    let doc = document(Profile::Pace);
    let mut t = transport(Profile::Pace);
    let options = ReadOptions {
        pace: false,
        chip_authentication: false,
        ..ReadOptions::default()
    };
    let files = read(&mut t, &mrz_key(doc), &options).unwrap();
    assert_files(&files, doc);
    assert_eq!(files.access_control, AccessControl::Bac);
    assert_eq!(files.chip_authentication, ChipAuthentication::NotRequested);
    assert_eq!(files.active_authentication, None);
}

#[test]
fn pace_ca_profile_has_no_bac_and_no_active_authentication() {
    let doc = document(Profile::PaceCa);
    let mut t = transport(Profile::PaceCa);
    let files = read(&mut t, &AccessKey::can(CAN).unwrap(), &with_aa()).unwrap();
    assert_files(&files, doc);
    assert!(matches!(
        files.chip_authentication,
        ChipAuthentication::Succeeded { .. }
    ));
    // No DG15: no Active Authentication attempted.
    assert_eq!(files.active_authentication, None);
    assert!(!files.files.contains_key(&FileId::Dg(15)));
}

/// PACE with each mapping/cipher/domain-parameter family the reader runs, and chip
/// authentication with EC and DH keys: (PACE OID, parameter id, CA key).
#[test]
fn pace_and_chip_authentication_variants() {
    let now = now();
    let mut csca = testdoc::Csca::generate(&testdoc::CscaOptions::new("NL", now)).unwrap();
    let ds = csca
        .issue_document_signer(&testdoc::DocumentSignerOptions::new(
            testdoc::KeyAlgorithm::Ec(Curve::P256),
            now,
        ))
        .unwrap();
    let cases: [(&str, u64, ChipAuthenticationKey); 5] = [
        (
            "0.4.0.127.0.7.2.2.4.2.2",
            12,
            ChipAuthenticationKey::Ec(Curve::P256),
        ), // ECDH AES-128 P-256
        (
            "0.4.0.127.0.7.2.2.4.2.1",
            13,
            ChipAuthenticationKey::Ec(Curve::BrainpoolP256r1),
        ), // ECDH 3DES
        (
            "0.4.0.127.0.7.2.2.4.2.4",
            16,
            ChipAuthenticationKey::Ec(Curve::BrainpoolP384r1),
        ), // ECDH AES-256
        ("0.4.0.127.0.7.2.2.4.2.3", 15, ChipAuthenticationKey::Dh2048), // ECDH AES-192 P-384, DH CA
        (
            "0.4.0.127.0.7.2.2.4.1.2",
            0,
            ChipAuthenticationKey::Ec(Curve::P384),
        ), // DH 1024 AES-128
    ];
    for (oid, id, ca) in cases {
        let doc = DocumentBuilder::new(Holder::specimen())
            .chip_authentication(Some(ca))
            .aa_key(Some(testdoc::KeyAlgorithm::Ec(Curve::P256)))
            .build(&ds)
            .unwrap();
        let mut contents = contents(&doc);
        contents
            .files
            .insert(FileId::CardAccess, card_access_for(&[(oid, id)]).unwrap());
        let mut t = transport_with(contents, ChipConfig::for_profile(Profile::Pace));
        let files = read(&mut t, &AccessKey::can(CAN).unwrap(), &with_aa())
            .unwrap_or_else(|e| panic!("{oid} / {id}: {e}"));
        assert_files(&files, &doc);
        match &files.access_control {
            AccessControl::Pace {
                protocol,
                parameter_id,
                ..
            } => {
                assert_eq!((protocol.as_str(), *parameter_id), (oid, id));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(
                files.chip_authentication,
                ChipAuthentication::Succeeded { .. }
            ),
            "{oid} {ca:?}: {:?}",
            files.chip_authentication
        );
        // ECDSA Active Authentication: a plain r || s over SHA-256 (DG14 names it).
        let sig = files.active_authentication.unwrap().response.unwrap();
        assert!(ecdsa_aa_verifies(&doc, &CHALLENGE, &sig));
        assert!(!ecdsa_aa_verifies(&doc, &[0; 8], &sig));
    }
}

#[test]
fn odd_ins_read_binary_beyond_32k() {
    let doc = document(Profile::Bac);
    let mut contents = contents(doc);
    // A 40 000-byte DG2 (tag 75, 3-byte length field).
    let body: Vec<u8> = (0..39_996u32).map(|i| (i % 253) as u8).collect();
    let mut dg2 = vec![0x75, 0x82];
    dg2.extend_from_slice(&(body.len() as u16).to_be_bytes());
    dg2.extend_from_slice(&body);
    contents.files.insert(FileId::Dg(2), dg2.clone());
    for (config_ext, block_size) in [
        (Some(2048), BlockSize::Auto),
        (None, BlockSize::Auto),
        (Some(2048), BlockSize::Fixed(0xDF)),
    ] {
        let mut config = ChipConfig::for_profile(Profile::Bac);
        config.extended_length = config_ext;
        let mut t = transport_with(contents.clone(), config);
        let options = ReadOptions {
            block_size,
            ..ReadOptions::default()
        };
        let files = read(&mut t, &mrz_key(doc), &options).unwrap();
        assert!(files.file(FileId::Dg(2)) == Some(dg2.as_slice()));
        let expected_block = match (config_ext, block_size) {
            (_, BlockSize::Fixed(n)) => n,
            (None, _) => 231,     // 3DES, short APDUs
            (Some(_), _) => 2023, // 2046 bytes of response data, 3DES
        };
        assert_eq!(files.block_size, expected_block);
    }
}

#[test]
fn eac_protected_data_groups_are_skipped() {
    let now = now();
    let (_, doc) = testdoc::issue_specimen(now).unwrap();
    let mut contents = contents(&doc);
    contents
        .files
        .insert(FileId::Dg(3), vec![0x63, 0x02, 0x01, 0x00]);
    // EF.COM listing DG1, DG2, DG3, DG14, DG15.
    let body = [
        0x5F, 0x01, 0x04, b'0', b'1', b'0', b'7', 0x5C, 0x05, 0x61, 0x75, 0x63, 0x6E, 0x6F,
    ];
    let mut com = vec![0x60, body.len() as u8];
    com.extend_from_slice(&body);
    contents.files.insert(FileId::Com, com);
    let mut t = transport_with(contents, ChipConfig::for_profile(Profile::Pace));
    let files = read(&mut t, &mrz_key(&doc), &ReadOptions::default()).unwrap();
    assert_eq!(files.skipped, vec![FileId::Dg(3)]);
    assert!(files.files.contains_key(&FileId::Dg(2)));
    assert!(!files.files.contains_key(&FileId::Dg(3)));
}

/// Chip authentication with 3DES (MSE:Set KAT, Part 11 §6.2.4.1): DG14's
/// id-CA-*-AES-CBC-CMAC-128 rewritten to id-CA-*-3DES-CBC-CBC, and with no
/// ChipAuthenticationInfo at all (the reader then assumes 3DES).
#[test]
fn chip_authentication_with_3des() {
    let doc = document(Profile::Pace);
    let aes_128 = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x02];
    let tdes = [0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, 0x02, 0x01];
    let mut contents = contents(doc);
    let dg14 = contents.files.get_mut(&FileId::Dg(14)).unwrap();
    let at = dg14.windows(10).position(|w| w == aes_128).unwrap();
    dg14[at..at + 10].copy_from_slice(&tdes);
    let mut t = transport_with(contents.clone(), ChipConfig::for_profile(Profile::Pace));
    let files = read(&mut t, &mrz_key(doc), &with_aa()).unwrap();
    assert_eq!(
        files.chip_authentication,
        ChipAuthentication::Succeeded {
            protocol: "0.4.0.127.0.7.2.2.3.2.1".into()
        }
    );

    // Without ChipAuthenticationInfo: DG14 = 6E L SET { ChipAuthenticationPublicKeyInfo }.
    let parsed = icao9303::lds::Dg14::parse(doc.file(testdoc::FileId::Dg14).unwrap()).unwrap();
    let key = &parsed.security_infos.chip_authentication_public_keys[0];
    let mut info = vec![
        0x06, 0x09, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01, 0x02,
    ];
    info.extend_from_slice(&key.subject_public_key_info);
    let seq = der(0x30, &info);
    let dg14 = der(0x6E, &der(0x31, &seq));
    contents.files.insert(FileId::Dg(14), dg14);
    let mut t = transport_with(contents, ChipConfig::for_profile(Profile::Pace));
    let files = read(&mut t, &mrz_key(doc), &with_aa()).unwrap();
    assert_eq!(
        files.chip_authentication,
        ChipAuthentication::Succeeded {
            protocol: "0.4.0.127.0.7.2.2.3.2.1".into()
        }
    );
}

fn der(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}
