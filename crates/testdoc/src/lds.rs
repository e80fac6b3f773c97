//! The elementary files of the LDS (ICAO 9303 Part 10 §4.6, §4.7; BSI TR-03110-3 for SecurityInfos).

use openssl::pkey::{Id, PKey, Private};

use crate::Error;
use crate::algorithms::{Curve, DigestAlgorithm, subject_public_key_info};
use crate::der::{self, Oid};

/// id-PK-ECDH (BSI TR-03110-3 §A.1.1.2).
const ID_PK_ECDH: Oid = &[0, 4, 0, 127, 0, 7, 2, 2, 1, 2];
/// id-PK-DH (BSI TR-03110-3 §A.1.1.2).
const ID_PK_DH: Oid = &[0, 4, 0, 127, 0, 7, 2, 2, 1, 1];
/// id-CA-DH-AES-CBC-CMAC-128 (BSI TR-03110-3 §A.1.1.2).
const ID_CA_DH_AES_CBC_CMAC_128: Oid = &[0, 4, 0, 127, 0, 7, 2, 2, 3, 1, 2];
/// id-CA-ECDH-AES-CBC-CMAC-128 (BSI TR-03110-3 §A.1.1.2).
const ID_CA_ECDH_AES_CBC_CMAC_128: Oid = &[0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 2];
/// id-PACE-ECDH-GM-AES-CBC-CMAC-128 (ICAO 9303 Part 11 §9.2.1).
const ID_PACE_ECDH_GM_AES_CBC_CMAC_128: Oid = &[0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2];
/// id-icao-mrtd-security-aaProtocolObject (ICAO 9303 Part 11 §9.2.3).
const ID_AA: Oid = &[2, 23, 136, 1, 1, 5];

/// Data group tags of the LDS (ICAO 9303 Part 10 §4.6, table 34).
pub(crate) const TAG_COM: u32 = 0x60;
pub(crate) const TAG_DG1: u32 = 0x61;
pub(crate) const TAG_DG2: u32 = 0x75;
pub(crate) const TAG_DG14: u32 = 0x6E;
pub(crate) const TAG_DG15: u32 = 0x6F;

/// EF.COM: LDS version, Unicode version and the tag list (ICAO 9303 Part 10 §4.6.1).
pub(crate) fn ef_com(lds_version: &str, data_group_tags: &[u8]) -> Vec<u8> {
    der::constructed(
        TAG_COM,
        &[
            &der::tlv(0x5F01, lds_version.as_bytes()),
            &der::tlv(0x5F36, b"040000"),
            &der::tlv(0x5C, data_group_tags),
        ],
    )
}

/// DG1: the MRZ as one string (ICAO 9303 Part 10 §4.7.1).
pub(crate) fn dg1(mrz_lines: &[String]) -> Vec<u8> {
    der::constructed(TAG_DG1, &[&der::tlv(0x5F1F, mrz_lines.concat().as_bytes())])
}

/// Gender code of ISO/IEC 19794-5:2005 §5.5.3.
pub(crate) fn iso19794_gender(sex: crate::Sex) -> u8 {
    match sex {
        crate::Sex::Male => 1,
        crate::Sex::Female => 2,
        crate::Sex::Unspecified => 0,
    }
}

/// DG2: one face in a CBEFF biometric information group template (ICAO 9303 Part 10 §4.7.2),
/// the biometric data block an ISO/IEC 19794-5:2005 facial record holding `jpeg`.
pub(crate) fn dg2(jpeg: &[u8], gender: u8) -> Result<Vec<u8>, Error> {
    let (width, height) = jpeg_dimensions(jpeg)?;
    let image_len = u32::try_from(jpeg.len())
        .map_err(|_| Error::InvalidPortrait("JPEG larger than 4 GiB".to_owned()))?;
    // Facial information block (20 bytes) + image information (12 bytes) + image.
    let facial_data_len = 20 + 12 + image_len;
    let record_len = 14 + facial_data_len;
    let mut record = Vec::with_capacity(record_len as usize);
    // Facial record header (ISO/IEC 19794-5:2005 §5.4).
    record.extend_from_slice(b"FAC\0");
    record.extend_from_slice(b"010\0");
    record.extend_from_slice(&record_len.to_be_bytes());
    record.extend_from_slice(&1u16.to_be_bytes());
    // Facial information (§5.5): length, 0 feature points, gender, eye colour, hair colour,
    // feature mask (3), expression neutral (2), pose angle (3), pose uncertainty (3).
    record.extend_from_slice(&facial_data_len.to_be_bytes());
    record.extend_from_slice(&0u16.to_be_bytes());
    record.extend_from_slice(&[gender, 0, 0]);
    record.extend_from_slice(&[0, 0, 0]);
    record.extend_from_slice(&1u16.to_be_bytes());
    record.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    // Image information (§5.7): full frontal (1), JPEG (0), width, height, 24-bit RGB (1),
    // source: static photograph from a digital still-image camera (2), device type 0, quality 0.
    record.extend_from_slice(&[1, 0]);
    record.extend_from_slice(&width.to_be_bytes());
    record.extend_from_slice(&height.to_be_bytes());
    record.extend_from_slice(&[1, 2, 0, 0, 0, 0]);
    record.extend_from_slice(jpeg);

    let header_template = der::constructed(
        0xA1,
        &[
            &der::tlv(0x80, &[0x01, 0x01]),
            &der::tlv(0x81, &[0x00, 0x00, 0x02]),
            &der::tlv(0x87, &[0x01, 0x01]),
            &der::tlv(0x88, &[0x00, 0x08]),
        ],
    );
    let bit = der::constructed(0x7F60, &[&header_template, &der::tlv(0x5F2E, &record)]);
    let group = der::constructed(0x7F61, &[&der::tlv(0x02, &[1]), &bit]);
    Ok(der::tlv(TAG_DG2, &group))
}

/// Width and height from the first start-of-frame marker of a JPEG (ITU-T T.81 §B.2.2).
pub(crate) fn jpeg_dimensions(jpeg: &[u8]) -> Result<(u16, u16), Error> {
    let bad = |why: &str| Error::InvalidPortrait(why.to_owned());
    if jpeg.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err(bad("not a JPEG (no SOI marker)"));
    }
    let mut pos = 2usize;
    loop {
        let marker = jpeg
            .get(pos..pos + 4)
            .ok_or_else(|| bad("no SOF marker found"))?;
        let (ff, kind) = (marker.first().copied(), marker.get(1).copied().unwrap_or(0));
        if ff != Some(0xFF) {
            return Err(bad("malformed JPEG marker"));
        }
        if kind == 0xFF {
            pos += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([
            marker.get(2).copied().unwrap_or(0),
            marker.get(3).copied().unwrap_or(0),
        ]));
        let is_sof = matches!(kind, 0xC0..=0xCF) && !matches!(kind, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let sof = jpeg
                .get(pos + 5..pos + 9)
                .ok_or_else(|| bad("truncated SOF"))?;
            let h = u16::from_be_bytes([
                sof.first().copied().unwrap_or(0),
                sof.get(1).copied().unwrap_or(0),
            ]);
            let w = u16::from_be_bytes([
                sof.get(2).copied().unwrap_or(0),
                sof.get(3).copied().unwrap_or(0),
            ]);
            return Ok((w, h));
        }
        if len < 2 {
            return Err(bad("malformed JPEG segment length"));
        }
        pos += 2 + len;
    }
}

/// The PACE standardized domain parameter ID of a curve (ICAO 9303 Part 11 §9.5.1, table 6).
pub(crate) fn pace_parameter_id(curve: Curve) -> u64 {
    match curve {
        Curve::P256 => 12,
        Curve::BrainpoolP256r1 => 13,
        Curve::P384 => 15,
        Curve::BrainpoolP384r1 => 16,
        Curve::BrainpoolP512r1 => 17,
        Curve::P521 => 18,
    }
}

/// EF.CardAccess: SecurityInfos with one PACEInfo, version 2 (ICAO 9303 Part 11 §9.2.1).
pub(crate) fn card_access(pace_curve: Curve) -> Vec<u8> {
    let pace_info = der::sequence(&[
        &der::oid(ID_PACE_ECDH_GM_AES_CBC_CMAC_128),
        &der::integer_u64(2),
        &der::integer_u64(pace_parameter_id(pace_curve)),
    ]);
    der::set_of(&[&pace_info])
}

/// DG14: SecurityInfos for chip authentication (EC or DH key) and, with an EC AA key, ActiveAuthenticationInfo
/// (ICAO 9303 Part 10 §4.7.14, Part 11 §9.2.3, §9.2.5).
pub(crate) fn dg14(
    ca_key: Option<&PKey<Private>>,
    aa_key: Option<&PKey<Private>>,
    aa_digest: DigestAlgorithm,
) -> Result<Vec<u8>, Error> {
    let mut infos: Vec<Vec<u8>> = Vec::new();
    if let Some(key) = ca_key {
        let (public_key_protocol, protocol) = if key.id() == Id::EC {
            (ID_PK_ECDH, ID_CA_ECDH_AES_CBC_CMAC_128)
        } else {
            (ID_PK_DH, ID_CA_DH_AES_CBC_CMAC_128)
        };
        infos.push(der::sequence(&[
            &der::oid(public_key_protocol),
            &subject_public_key_info(key)?,
        ]));
        infos.push(der::sequence(&[&der::oid(protocol), &der::integer_u64(1)]));
    }
    if aa_key.is_some_and(|k| k.id() == Id::EC) {
        infos.push(der::sequence(&[
            &der::oid(ID_AA),
            &der::integer_u64(1),
            &der::oid(aa_digest.ecdsa_plain_oid()),
        ]));
    }
    let refs: Vec<&[u8]> = infos.iter().map(Vec::as_slice).collect();
    Ok(der::tlv(TAG_DG14, &der::set_of(&refs)))
}

/// DG15: the active authentication public key (ICAO 9303 Part 10 §4.7.15).
pub(crate) fn dg15(aa_key: &PKey<Private>) -> Result<Vec<u8>, Error> {
    Ok(der::tlv(TAG_DG15, &subject_public_key_info(aa_key)?))
}
