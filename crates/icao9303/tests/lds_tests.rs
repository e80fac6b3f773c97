#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Parsing the LDS files of the test vectors (see `testdata/vectors/README.md` for their origin),
//! and the no-panic property of every parser on random and mutated inputs.

use std::path::PathBuf;

use icao9303::lds::{
    CardAccess, Cipher, Dg1, Dg2, Dg7, Dg11, Dg12, Dg14, Dg15, EfCom, FaceEncoding, FileId,
    ImageFormat, KeyAgreement, LdsError, PaceMapping, PublicKeyType, SecurityInfos,
    StandardizedDomainParameters,
};
use icao9303::mrz::MrzFormat;
use icao9303::oid;
use icao9303::portrait::{PortraitError, image_dimensions, portrait_jpeg};

/// The test vectors: the folder named by `$PASSPORT_READER_VECTORS` when it is set, otherwise the
/// repository's own copy in `testdata/vectors` (see its README for each file's source and licence).
pub fn vectors_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PASSPORT_READER_VECTORS") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "PASSPORT_READER_VECTORS={} is not a folder",
            dir.display()
        );
        return dir;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors")
}

pub fn vector(path: &str) -> Vec<u8> {
    let full = vectors_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}

/// Dump names (`Display`), ICAO labels and `FromStr`, and the FID / short file id look-ups per
/// DF (ICAO 9303 Part 10 Table 38; EF.ATR/INFO: ISO/IEC 7816-4 §8.2.1.1).
#[test]
fn file_names_and_identifiers_round_trip() {
    let names: Vec<String> = FileId::all().map(|f| f.to_string()).collect();
    assert_eq!(names[..3], ["COM", "SOD", "DG1"]);
    assert_eq!(
        names[names.len() - 3..],
        ["CardAccess", "CardSecurity", "ATRInfo"]
    );
    assert_eq!(FileId::Com.label(), "EF.COM");
    assert_eq!(FileId::Dg(2).label(), "DG2");
    assert_eq!(FileId::AtrInfo.label(), "EF.ATR/INFO");
    assert_eq!(format!("{:>6}|", FileId::Dg(2)), "   DG2|");
    for file in FileId::all() {
        assert_eq!(file.to_string().parse::<FileId>(), Ok(file));
        assert_eq!(file.label().parse::<FileId>(), Ok(file));
        let fid = file.fid().unwrap();
        let sfi = file.short_file_id().unwrap();
        assert_eq!(FileId::from_fid(fid, file.in_master_file()), Some(file));
        assert_eq!(
            FileId::from_short_file_id(sfi, file.in_master_file()),
            Some(file)
        );
    }
    assert_eq!("dg14".parse::<FileId>(), Ok(FileId::Dg(14)));
    assert!("DG17".parse::<FileId>().is_err());
    assert!("DG01".parse::<FileId>().is_err());
    assert_eq!(FileId::from_fid(0x011D, false), Some(FileId::Sod));
    assert_eq!(FileId::from_fid(0x011D, true), Some(FileId::CardSecurity));
    assert_eq!(
        FileId::from_short_file_id(0x01, true),
        Some(FileId::AtrInfo)
    );
    assert_eq!(FileId::from_fid(0x011C, false), None);
}

#[test]
fn file_ids() {
    assert_eq!(FileId::Dg(1).tag(), Some(0x61));
    assert_eq!(FileId::Dg(1).fid(), Some(0x0101));
    assert_eq!(FileId::Dg(2).tag(), Some(0x75));
    assert_eq!(FileId::Dg(14).short_file_id(), Some(14));
    assert_eq!(FileId::Dg(15).fid(), Some(0x010F));
    assert_eq!(FileId::Com.tag(), Some(0x60));
    assert_eq!(FileId::Com.fid(), Some(0x011E));
    assert_eq!(FileId::Sod.tag(), Some(0x77));
    assert_eq!(FileId::Sod.fid(), Some(0x011D));
    assert_eq!(FileId::CardAccess.fid(), Some(0x011C));
    assert_eq!(FileId::CardAccess.tag(), None);
    assert_eq!(FileId::Dg(17).tag(), None);
    for n in 1..=16 {
        assert_eq!(
            FileId::from_tag(FileId::Dg(n).tag().unwrap()),
            Some(FileId::Dg(n))
        );
    }
}

#[test]
fn ef_com_vectors() {
    let com = EfCom::parse(&vector("bsi_tr03105_5_refdataset/EF_COM.bin")).unwrap();
    assert_eq!(com.lds_version.as_deref(), Some("0107"));
    assert_eq!(com.lds_version_display().as_deref(), Some("1.7"));
    assert_eq!(com.unicode_version.as_deref(), Some("040000"));
    // 61 75 63 76 6E: DG1, DG2, DG3, DG4, DG14.
    assert_eq!(com.tags, vec![0x61, 0x75, 0x63, 0x76, 0x6E]);
    assert_eq!(
        com.data_groups(),
        vec![
            FileId::Dg(1),
            FileId::Dg(2),
            FileId::Dg(3),
            FileId::Dg(4),
            FileId::Dg(14)
        ]
    );
    let nl = EfCom::parse(&vector("jmrtd_loes2006_nl_sdu_test/EF_COM_011E.bin")).unwrap();
    assert_eq!(nl.tags, vec![0x61, 0x75, 0x6F]);
    let bsi2008 = EfCom::parse(&vector("jmrtd_bsi2008/EF_COM.bin")).unwrap();
    assert_eq!(bsi2008.tags, vec![0x61, 0x75, 0x63, 0x6E]);
}

#[test]
fn dg1_vectors() {
    for path in [
        "bsi_tr03105_5_refdataset/Datagroup1.bin",
        "etsi_tr103200_eacaa/DG1.bin",
        "jmrtd_bsi2008/Datagroup1.bin",
    ] {
        let dg1 = Dg1::parse(&vector(path)).unwrap();
        let mrz = &dg1.mrz;
        assert_eq!(mrz.format, MrzFormat::Td3, "{path}");
        assert_eq!(mrz.issuing_state, "D");
        assert_eq!(mrz.primary_identifier, "MUSTERMANN");
        assert_eq!(mrz.secondary_identifier, "ERIKA");
        assert_eq!(mrz.document_number, "C11T002JM");
        assert!(mrz.check_digits_valid(), "{path}: {:?}", mrz.check_digits());
    }
    let nl = Dg1::parse(&vector("jmrtd_loes2006_nl_sdu_test/DG1_0101.bin")).unwrap();
    assert_eq!(nl.mrz.primary_identifier, "MEULENDIJK");
    assert_eq!(nl.mrz.secondary_identifier, "LOES ALBERTINE");
    assert_eq!(nl.mrz.document_number, "XX0001328");
    assert_eq!(nl.mrz.optional_data, "123456789");
    assert!(nl.mrz.check_digits_valid(), "{:?}", nl.mrz.check_digits());
    let id = nl.mrz.identity(time::macros::date!(2026 - 11 - 25));
    assert_eq!(id.nationality.as_deref(), Some("NL"));
    assert_eq!(id.date_of_birth.as_deref(), Some("1971-10-19"));
    assert_eq!(id.expiry_date.as_deref(), Some("2011-10-01"));
    assert_eq!(id.personal_number.as_deref(), Some("123456789"));
}

#[test]
fn dg1_rejects_wrong_tag_and_bad_mrz() {
    let mut data = vector("etsi_tr103200_eacaa/DG1.bin");
    data[0] = 0x62;
    assert!(matches!(Dg1::parse(&data), Err(LdsError::Tlv(_))));
    let mut data = vector("etsi_tr103200_eacaa/DG1.bin");
    data[10] = b'a';
    let err = Dg1::parse(&data).unwrap_err();
    assert!(matches!(err, LdsError::Mrz { offset: 5, .. }), "{err}");
    assert!(err.to_string().contains("offset 5"));
}

/// Both JPEG 2000 portraits: ETSI (413×531, where the 19794-5 record header claims 337×449) and
/// the Dutch Sdu test document (449×598).
#[test]
fn dg2_jpeg2000_portraits_transcode() {
    for (path, width, height) in [
        ("etsi_tr103200_eacaa/DG2.bin", 413u16, 531u16),
        ("jmrtd_loes2006_nl_sdu_test/DG2_0102.bin", 449, 598),
    ] {
        let dg2 = Dg2::parse(&vector(path)).unwrap();
        assert_eq!(dg2.faces.len(), 1, "{path}");
        let face = &dg2.faces[0];
        assert_eq!(face.encoding, FaceEncoding::Iso19794_5);
        assert_eq!(face.format, ImageFormat::Jpeg2000);
        assert_eq!((face.width, face.height), (width, height), "{path}");
        assert_eq!(face.offset, 84);
        let jpeg = portrait_jpeg(face).unwrap();
        let mut decoder = jpeg_decoder::Decoder::new(&jpeg[..]);
        let pixels = decoder.decode().unwrap();
        let info = decoder.info().unwrap();
        assert_eq!((info.width, info.height), (width, height), "{path}");
        assert_eq!(pixels.len(), usize::from(width) * usize::from(height) * 3);
        // A face, not a blank: mid-range mean brightness and real contrast.
        let mean = pixels.iter().map(|p| f64::from(*p)).sum::<f64>() / pixels.len() as f64;
        let variance = pixels
            .iter()
            .map(|p| (f64::from(*p) - mean).powi(2))
            .sum::<f64>()
            / pixels.len() as f64;
        assert!((60.0..220.0).contains(&mean), "{path}: mean {mean}");
        assert!(
            variance.sqrt() > 20.0,
            "{path}: standard deviation {}",
            variance.sqrt()
        );
        assert_eq!(
            image_dimensions(&jpeg),
            Some((u32::from(width), u32::from(height)))
        );
        // A JPEG passes through unchanged.
        let mut again = face.clone();
        again.data = jpeg.clone();
        assert_eq!(portrait_jpeg(&again).unwrap(), jpeg);
    }
}

/// ISO/IEC 39794-5 DG2 (format type 0x002A, BDB tag 7F2E): the JPEG 2000 image is extracted.
#[test]
fn dg2_iso39794_5() {
    let dg2 = Dg2::parse(&vector("misc/gmrtd_ICAO_39794_5_AP_DG2_MandFields.dat")).unwrap();
    assert_eq!(dg2.faces.len(), 1);
    let face = &dg2.faces[0];
    assert_eq!(face.encoding, FaceEncoding::Iso39794_5);
    assert_eq!(face.format, ImageFormat::Jpeg2000);
    assert_eq!((face.width, face.height), (413, 531));
    let jpeg = portrait_jpeg(face).unwrap();
    let mut decoder = jpeg_decoder::Decoder::new(&jpeg[..]);
    decoder.decode().unwrap();
    assert_eq!(decoder.info().unwrap().width, 413);
}

#[test]
fn portrait_rejects_garbage() {
    let mut face = Dg2::parse(&vector("etsi_tr103200_eacaa/DG2.bin"))
        .unwrap()
        .faces[0]
        .clone();
    face.data = b"WSQ image".to_vec();
    assert_eq!(portrait_jpeg(&face), Err(PortraitError::UnknownFormat));
    face.data = vec![0xFF, 0xD8, 0xFF, 0xD9];
    assert!(matches!(
        portrait_jpeg(&face),
        Err(PortraitError::MalformedJpeg(_))
    ));
    let mut jp2 = Dg2::parse(&vector("etsi_tr103200_eacaa/DG2.bin"))
        .unwrap()
        .faces[0]
        .data
        .clone();
    jp2.truncate(200);
    face.data = jp2;
    assert!(portrait_jpeg(&face).is_err());
    // A codestream whose SIZ claims 20000×20000 pixels is refused before decoding.
    let jp2 = Dg2::parse(&vector("etsi_tr103200_eacaa/DG2.bin"))
        .unwrap()
        .faces[0]
        .data
        .clone();
    let siz = jp2
        .windows(4)
        .position(|w| w == [0xFF, 0x4F, 0xFF, 0x51])
        .unwrap();
    let mut codestream = jp2[siz..].to_vec();
    codestream[8..12].copy_from_slice(&20000u32.to_be_bytes());
    codestream[12..16].copy_from_slice(&20000u32.to_be_bytes());
    assert_eq!(image_dimensions(&codestream), Some((20000, 20000)));
    face.data = codestream;
    assert_eq!(
        portrait_jpeg(&face),
        Err(PortraitError::TooLarge {
            width: 20000,
            height: 20000
        })
    );
}

fn assert_aa_and_ca(infos: &SecurityInfos) {
    assert_eq!(infos.chip_authentication_public_keys.len(), 1);
    let key = &infos.chip_authentication_public_keys[0];
    assert_eq!(key.protocol, oid::ID_PK_ECDH);
    assert_eq!(key.algorithm, oid::EC_PUBLIC_KEY);
    assert_eq!(key.key_id, None);
    assert_eq!(key.subject_public_key_info[0], 0x30);
    assert_eq!(infos.chip_authentication_infos.len(), 1);
    let ca = &infos.chip_authentication_infos[0];
    assert_eq!(ca.protocol.to_string(), "0.4.0.127.0.7.2.2.3.2.1");
    assert_eq!(ca.key_agreement(), Some(KeyAgreement::Ecdh));
    assert_eq!(ca.cipher(), Some(Cipher::Tdes));
    assert_eq!(ca.version, 1);
    assert_eq!(infos.terminal_authentication_infos.len(), 1);
    assert_eq!(infos.terminal_authentication_infos[0].version, 1);
    assert!(infos.other.is_empty());
}

#[test]
fn dg14_vectors() {
    for path in [
        "bsi_tr03105_5_refdataset/Datagroup14.bin",
        "etsi_tr103200_eacaa/DG14.bin",
        "jmrtd_bsi2008/Datagroup14.bin",
    ] {
        let dg14 = Dg14::parse(&vector(path)).unwrap();
        assert_aa_and_ca(&dg14.security_infos);
    }
    // ICAO 9303 sample: DH chip authentication key (id-PK-DH, dhpublicnumber).
    let sample = Dg14::parse(&vector("misc/jmrtd_doc9303_spec_sample_encoded_dg14.bin")).unwrap();
    let infos = &sample.security_infos;
    assert_eq!(
        infos.chip_authentication_public_keys[0].protocol,
        oid::ID_PK_DH
    );
    // PKCS #3 dhKeyAgreement.
    assert_eq!(
        infos.chip_authentication_public_keys[0]
            .algorithm
            .to_string(),
        "1.2.840.113549.1.3.1"
    );
    assert_eq!(
        infos.chip_authentication_infos[0].protocol.to_string(),
        "0.4.0.127.0.7.2.2.3.1.1"
    );
    assert_eq!(infos.len(), 3);
}

/// EF.CardSecurity carries SecurityInfos in its signed content: terminal authentication, chip
/// authentication (ECDH, AES-128) with standardized domain parameters (BSI id 13,
/// brainpoolP256r1), and a chip authentication public key whose SubjectPublicKeyInfo is written
/// flat into the SecurityInfo.
#[test]
fn card_security_content_security_infos() {
    let cms = vector("misc/jmrtd_efcardsecurity.dump");
    // encapContentInfo eContent: the OCTET STRING at offset 57 (157 bytes), see `openssl asn1parse`.
    let content = &cms[60..60 + 157];
    let infos = SecurityInfos::parse(content).unwrap();
    assert_eq!(infos.terminal_authentication_infos.len(), 1);
    assert_eq!(infos.terminal_authentication_infos[0].version, 2);
    assert_eq!(infos.chip_authentication_infos.len(), 1);
    assert_eq!(
        infos.chip_authentication_infos[0].protocol.to_string(),
        "0.4.0.127.0.7.2.2.3.2.2"
    );
    assert_eq!(infos.chip_authentication_domain_parameter_infos.len(), 1);
    assert_eq!(infos.chip_authentication_public_keys.len(), 1);
    let key = &infos.chip_authentication_public_keys[0];
    assert_eq!(key.protocol, oid::ID_PK_ECDH);
    assert_eq!(key.algorithm, oid::STANDARDIZED_DOMAIN_PARAMETERS);
    // Rebuilt as SEQUENCE { AlgorithmIdentifier, BIT STRING }: 2 + 14 + 68 bytes.
    assert_eq!(&key.subject_public_key_info[..2], &[0x30, 82]);
    assert_eq!(key.subject_public_key_info.len(), 84);
    assert_eq!(infos.len(), 4);
    // The same set read as EF.CardAccess.
    let access = CardAccess::parse(content).unwrap();
    assert_eq!(access.security_infos, infos);
}

/// A BER-TLV with a short or long definite length, for building test inputs.
fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    match value.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend_from_slice(&[0x81, n as u8]),
        n => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

#[test]
fn card_access_pace_and_active_authentication_info() {
    let pace = tlv(
        &[0x30],
        &[
            tlv(&[0x06], &hex_decode("04007f00070202040202")), // id-PACE-ECDH-GM-AES-CBC-CMAC-128
            tlv(&[0x02], &[2]),
            tlv(&[0x02], &[13]),
        ]
        .concat(),
    );
    let aa = tlv(
        &[0x30],
        &[
            tlv(&[0x06], &hex_decode("678108010105")), // id-AA 2.23.136.1.1.5
            tlv(&[0x02], &[1]),
            tlv(&[0x06], &hex_decode("2a8648ce3d040302")), // ecdsa-with-SHA256
        ]
        .concat(),
    );
    let other = tlv(
        &[0x30],
        &[tlv(&[0x06], &[0x2a, 0x03, 0x04]), vec![0x05, 0x00]].concat(),
    );
    let der = tlv(&[0x31], &[pace, aa, other].concat());
    let infos = CardAccess::parse(&der).unwrap().security_infos;
    assert_eq!(infos.pace_infos.len(), 1);
    assert_eq!(
        infos.pace_infos[0].protocol.to_string(),
        "0.4.0.127.0.7.2.2.4.2.2"
    );
    assert_eq!(infos.pace_infos[0].version, 2);
    assert_eq!(infos.pace_infos[0].parameter_id, Some(13));
    let pace = &infos.pace_infos[0];
    assert_eq!(pace.key_agreement(), Some(KeyAgreement::Ecdh));
    assert_eq!(pace.mapping(), Some(PaceMapping::Generic));
    assert_eq!(pace.cipher(), Some(Cipher::Aes128));
    assert_eq!(
        pace.standardized_domain_parameters(),
        Some(StandardizedDomainParameters::BrainpoolP256r1)
    );
    let aa = infos.active_authentication_info.clone().unwrap();
    assert_eq!(aa.version, 1);
    assert_eq!(aa.signature_algorithm.to_string(), "1.2.840.10045.4.3.2");
    assert_eq!(infos.other.len(), 1);
    assert_eq!(infos.other[0].protocol.to_string(), "1.2.3.4");
    // DG14 wraps the same set in 6E.
    let dg14 = Dg14::parse(&tlv(&[0x6E], &der)).unwrap();
    assert_eq!(dg14.security_infos, infos);
    // A malformed known SecurityInfo is an error with its offset.
    let bad = tlv(
        &[0x31],
        &tlv(&[0x30], &tlv(&[0x06], &hex_decode("678108010105"))),
    );
    let err = CardAccess::parse(&bad).unwrap_err();
    assert!(matches!(err, LdsError::Missing { offset: 2, .. }), "{err}");
}

fn hex_decode(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn dg15_vectors() {
    for path in [
        "bsi_tr03105_5_refdataset/Datagroup15.bin",
        "etsi_tr103200_eacaa/DG15.bin",
        "jmrtd_bsi2008/Datagroup15.bin",
        "jmrtd_loes2006_nl_sdu_test/DG15_010F.bin",
        "active_auth/gmrtd_AA_DG15_rsa1792.bin",
        "active_auth/pymrtd_AA_DG15_rsa1024.bin",
    ] {
        let data = vector(path);
        let dg15 = Dg15::parse(&data).unwrap();
        assert_eq!(dg15.key_type, PublicKeyType::Rsa, "{path}");
        // The SubjectPublicKeyInfo is the whole content of 6F.
        assert!(data.ends_with(&dg15.subject_public_key_info), "{path}");
        let key = openssl::pkey::PKey::public_key_from_der(&dg15.subject_public_key_info).unwrap();
        assert!(key.rsa().is_ok());
    }
    let mut data = vector("etsi_tr103200_eacaa/DG15.bin");
    data[0] = 0x6E;
    assert!(Dg15::parse(&data).is_err());
}

#[test]
fn dg15_ec_key() {
    // 6F { SPKI id-ecPublicKey prime256v1, the generator point as public key }.
    let spki = hex_decode(
        "3059301306072a8648ce3d020106082a8648ce3d030107034200\
         046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
         4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    );
    let mut dg15 = vec![0x6F, spki.len() as u8];
    dg15.extend_from_slice(&spki);
    let parsed = Dg15::parse(&dg15).unwrap();
    assert_eq!(parsed.key_type, PublicKeyType::Ec);
    assert_eq!(parsed.subject_public_key_info, spki);
}

#[test]
fn dg11_dg12_dg7() {
    let dg11 = tlv(
        &[0x6B],
        &[
            tlv(&[0x5C], &hex_decode("5f0e5f0f5f105f2b5f11")),
            tlv(&[0x5F, 0x0E], b"MUSTERMANN<<ERIKA"),
            tlv(
                &[0xA0],
                &[tlv(&[0x02], &[1]), tlv(&[0x5F, 0x0F], b"GABLER")].concat(),
            ),
            tlv(&[0x5F, 0x10], b"123"),
            tlv(&[0x5F, 0x2B], b"19640812"),
            tlv(&[0x5F, 0x11], b"BERLIN"),
        ]
        .concat(),
    );
    let parsed = Dg11::parse(&dg11).unwrap();
    assert_eq!(parsed.full_name.as_deref(), Some("MUSTERMANN<<ERIKA"));
    assert_eq!(parsed.other_names, vec!["GABLER".to_owned()]);
    assert_eq!(parsed.personal_number.as_deref(), Some("123"));
    assert_eq!(
        parsed.full_date_of_birth_iso().as_deref(),
        Some("1964-08-12")
    );
    assert_eq!(parsed.place_of_birth.as_deref(), Some("BERLIN"));
    assert_eq!(parsed.tags, vec![0x5F0E, 0x5F0F, 0x5F10, 0x5F2B, 0x5F11]);

    let dg12 = tlv(
        &[0x6C],
        &[
            tlv(&[0x5C], &hex_decode("5f195f26")),
            tlv(&[0x5F, 0x19], "STADT BÖRREN".as_bytes()),
            tlv(&[0x5F, 0x26], b"20150601"),
        ]
        .concat(),
    );
    let parsed = Dg12::parse(&dg12).unwrap();
    assert_eq!(parsed.issuing_authority.as_deref(), Some("STADT BÖRREN"));
    assert_eq!(parsed.date_of_issue.as_deref(), Some("20150601"));
    assert_eq!(parsed.date_of_issue_iso().as_deref(), Some("2015-06-01"));
    // ISO/IEC 8859-1 text and a BCD date of issue.
    let dg12 = tlv(
        &[0x6C],
        &[
            tlv(&[0x5F, 0x19], b"B\xd6RREN"),
            tlv(&[0x5F, 0x26], &[0x20, 0x15, 0x06, 0x01]),
        ]
        .concat(),
    );
    let parsed = Dg12::parse(&dg12).unwrap();
    assert_eq!(parsed.issuing_authority.as_deref(), Some("BÖRREN"));
    assert_eq!(parsed.date_of_issue_iso().as_deref(), Some("2015-06-01"));

    let dg7 = tlv(
        &[0x67],
        &[
            tlv(&[0x02], &[1]),
            tlv(&[0x5F, 0x43], &[0xFF, 0xD8, 0xFF, 0xE0]),
        ]
        .concat(),
    );
    let parsed = Dg7::parse(&dg7).unwrap();
    assert_eq!(parsed.images.len(), 1);
    assert_eq!(parsed.images[0].format, ImageFormat::Jpeg);
}

/// DG1's identity completed from DG11 (personal number, full date of birth when the MRZ's is
/// partly unknown) and DG12 (issuer).
#[test]
fn identity_from_dg1_dg11_dg12() {
    let mrz =
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO74<<<<1F1204159<<<<<<<<<<<<<<06";
    let dg1 = Dg1::parse(&tlv(&[0x61], &tlv(&[0x5F, 0x1F], mrz.as_bytes()))).unwrap();
    let today = time::macros::date!(2026 - 11 - 25);
    let bare = dg1.identity(None, None, today);
    assert_eq!(
        (bare.date_of_birth, bare.personal_number, bare.issuer),
        (None, None, None)
    );
    let dg11 = Dg11::parse(&tlv(
        &[0x6B],
        &[
            tlv(&[0x5F, 0x10], b"ZE184226B"),
            tlv(&[0x5F, 0x2B], b"19740812"),
        ]
        .concat(),
    ))
    .unwrap();
    let dg12 = Dg12::parse(&tlv(
        &[0x6C],
        &tlv(&[0x5F, 0x19], b"UTOPIA PASSPORT OFFICE"),
    ))
    .unwrap();
    let full = dg1.identity(Some(&dg11), Some(&dg12), today);
    assert_eq!(full.date_of_birth.as_deref(), Some("1974-08-12"));
    assert_eq!(full.personal_number.as_deref(), Some("ZE184226B"));
    assert_eq!(full.issuer.as_deref(), Some("UTOPIA PASSPORT OFFICE"));
    assert_eq!(full.surname.as_deref(), Some("ERIKSSON"));
}

/// Documents issued by `testdoc` (this project's own issuer) parse back to what was issued:
/// TD3 passport with RSA AA, TD1 card with EC AA (ActiveAuthenticationInfo in DG14).
mod issued {
    use super::*;
    use icao9303::mrz::Mrz;
    use testdoc::{
        Csca, CscaOptions, Curve, DocumentBuilder, DocumentSignerOptions, FileId as F, Holder,
        KeyAlgorithm,
    };

    #[test]
    fn issued_documents_parse_back() {
        let now = time::OffsetDateTime::now_utc();
        let mut csca = Csca::generate(&CscaOptions::new("NL", now)).unwrap();
        let ds = csca
            .issue_document_signer(&DocumentSignerOptions::new(
                KeyAlgorithm::Ec(Curve::P256),
                now,
            ))
            .unwrap();
        let passport = DocumentBuilder::new(Holder::specimen()).build(&ds).unwrap();
        let card = DocumentBuilder::new(Holder::specimen_id_card())
            .aa_key(Some(KeyAlgorithm::Ec(Curve::BrainpoolP256r1)))
            .build(&ds)
            .unwrap();
        for (doc, format, key_type) in [
            (&passport, MrzFormat::Td3, PublicKeyType::Rsa),
            (&card, MrzFormat::Td1, PublicKeyType::Ec),
        ] {
            let file = |id| doc.file(id).unwrap();
            let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
            let printed = Mrz::parse_lines(&lines).unwrap();
            let dg1 = Dg1::parse(file(F::Dg1)).unwrap();
            assert_eq!(dg1.mrz, printed);
            assert_eq!(dg1.mrz.format, format);
            assert!(dg1.mrz.check_digits_valid());

            let com = EfCom::parse(file(F::Com)).unwrap();
            assert!(com.data_groups().contains(&FileId::Dg(1)));

            let dg2 = Dg2::parse(file(F::Dg2)).unwrap();
            let face = &dg2.faces[0];
            assert_eq!(face.format, ImageFormat::Jpeg);
            let jpeg = portrait_jpeg(face).unwrap();
            assert_eq!(jpeg, face.data, "a JPEG passes through");
            let mut decoder = jpeg_decoder::Decoder::new(&jpeg[..]);
            decoder.decode().unwrap();
            let info = decoder.info().unwrap();
            assert_eq!((info.width, info.height), (face.width, face.height));

            let dg15 = Dg15::parse(file(F::Dg15)).unwrap();
            assert_eq!(dg15.key_type, key_type);
            let dg14 = Dg14::parse(file(F::Dg14)).unwrap();
            let infos = &dg14.security_infos;
            assert_eq!(infos.chip_authentication_public_keys.len(), 1);
            assert_eq!(
                infos.active_authentication_info.is_some(),
                key_type == PublicKeyType::Ec,
                "ActiveAuthenticationInfo exactly when AA uses ECDSA"
            );
            let access = CardAccess::parse(file(F::CardAccess)).unwrap();
            assert_eq!(access.security_infos.pace_infos.len(), 1);
        }
    }
}

/// No-panic property of every parser: random bytes, and the real vectors mutated (bytes
/// overwritten, truncated, outer tag swapped so each parser sees every file). Set
/// `PROPTEST_CASES` to run more cases (the fuzz targets in `fuzz/` do the same with coverage).
mod no_panic {
    use super::*;
    use icao9303::mrz::Mrz;
    use proptest::prelude::*;

    const VECTORS: &[&str] = &[
        "bsi_tr03105_5_refdataset/EF_COM.bin",
        "bsi_tr03105_5_refdataset/Datagroup1.bin",
        "bsi_tr03105_5_refdataset/Datagroup14.bin",
        "bsi_tr03105_5_refdataset/Datagroup15.bin",
        "etsi_tr103200_eacaa/DG2.bin",
        "jmrtd_loes2006_nl_sdu_test/DG2_0102.bin",
        "jmrtd_loes2006_nl_sdu_test/DG1_0101.bin",
        "misc/gmrtd_ICAO_39794_5_AP_DG2_MandFields.dat",
        "misc/jmrtd_doc9303_spec_sample_encoded_dg14.bin",
        "misc/jmrtd_efcardsecurity.dump",
        "active_auth/gmrtd_AA_DG15_rsa1792.bin",
    ];

    const TAGS: &[u8] = &[0x60, 0x61, 0x75, 0x67, 0x6B, 0x6C, 0x6E, 0x6F, 0x31];

    fn config(default_cases: u32) -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default_cases);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    fn vectors() -> Vec<Vec<u8>> {
        VECTORS.iter().map(|p| vector(p)).collect()
    }

    /// Every parser of this crate's LDS and MRZ code, results ignored: only panics matter.
    fn parse_all(data: &[u8]) {
        let _ = EfCom::parse(data);
        let _ = Dg1::parse(data);
        let _ = Dg2::parse(data);
        let _ = Dg7::parse(data);
        let _ = Dg11::parse(data);
        let _ = Dg12::parse(data);
        let _ = Dg14::parse(data);
        let _ = Dg15::parse(data);
        let _ = CardAccess::parse(data);
        let _ = SecurityInfos::parse(data);
        let _ = image_dimensions(data);
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = Mrz::parse(text);
        }
    }

    fn mutate(mut data: Vec<u8>, edits: &[(usize, u8)], truncate: Option<usize>) -> Vec<u8> {
        for (at, byte) in edits {
            if !data.is_empty() {
                let i = at % data.len();
                data[i] = *byte;
            }
        }
        if let Some(n) = truncate {
            data.truncate(n % (data.len() + 1));
        }
        data
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..600), tag in 0..TAGS.len()) {
            parse_all(&data);
            let mut tagged = data;
            tagged.insert(0, TAGS[tag]);
            parse_all(&tagged);
        }

        #[test]
        fn mutated_vectors(
            which in 0..VECTORS.len(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
            truncate in proptest::option::of(any::<usize>()),
            tag in proptest::option::of(0..TAGS.len()),
        ) {
            let mut data = mutate(vectors()[which].clone(), &edits, truncate);
            if let (Some(tag), Some(first)) = (tag, data.first_mut()) {
                *first = TAGS[tag];
            }
            parse_all(&data);
        }

        #[test]
        fn mrz_text(text in "[A-Z0-9<\n]{0,100}", any_text in any::<String>()) {
            let _ = Mrz::parse(&text).map(|m| (m.check_digits(), m.identity(time::Date::MIN)));
            let _ = Mrz::parse(&any_text);
            let _ = Mrz::parse_lines(&[&text, &any_text]);
        }

        #[test]
        fn mrz_of_valid_shape(
            lines in prop_oneof![
                "[A-Z0-9<]{30}\n[A-Z0-9<]{30}\n[A-Z0-9<]{30}",
                "[A-Z0-9<]{36}\n[A-Z0-9<]{36}",
                "[A-Z0-9<]{44}\n[A-Z0-9<]{44}",
            ],
            sex in "[MFX<]",
        ) {
            // Put a valid sex character in place so parsing reaches every field.
            let mut chars: Vec<char> = lines.chars().collect();
            let sex_pos = match chars.len() { 92 => 31 + 7, 73 => 37 + 20, _ => 45 + 20 };
            chars[sex_pos] = sex.chars().next().unwrap();
            let text: String = chars.into_iter().collect();
            let mrz = Mrz::parse(&text).unwrap();
            let _ = (mrz.check_digits_valid(), mrz.identity(time::Date::MIN), mrz.identity(time::Date::MAX));
        }
    }

    proptest! {
        // Each JPEG 2000 decode takes a while: fewer cases.
        #![proptest_config(config(24))]

        #[test]
        fn mutated_portraits(
            which in 0..3usize,
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            truncate in proptest::option::of(any::<usize>()),
        ) {
            let path = ["etsi_tr103200_eacaa/DG2.bin", "jmrtd_loes2006_nl_sdu_test/DG2_0102.bin",
                "misc/gmrtd_ICAO_39794_5_AP_DG2_MandFields.dat"][which];
            let face = Dg2::parse(&vector(path)).unwrap().faces.remove(0);
            let mut mutated = face.clone();
            mutated.data = mutate(face.data, &edits, truncate);
            let _ = portrait_jpeg(&mutated);
        }
    }
}
