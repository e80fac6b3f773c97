//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`), the stable
//! `replay` binary and the smoke test (`tests/smoke.rs`). Each feeds the bytes to one parser an
//! attacker reaches (a chip, a reading client, an uploaded trust file); only a panic, a hang or an
//! out-of-memory is a finding: errors are expected.
//!
//! [`seeds`] builds each target's starting corpus; [`mutate`] is the deterministic mutator of
//! the smoke test.

pub mod mutate;
pub mod seeds;

use icao9303::active_authentication::verify_active_authentication;
use icao9303::lds::sod::Sod;
use icao9303::lds::{CardAccess, Dg1, Dg2, Dg7, Dg11, Dg12, Dg14, Dg15, EfCom, SecurityInfos};
use icao9303::mrz::Mrz;
use icao9303::pki::certificate::{KU_DIGITAL_SIGNATURE, KU_KEY_CERT_SIGN};
use icao9303::pki::cms::SignedData;
use icao9303::pki::keys::public_key_from_spki;
use icao9303::pki::{Certificate, Crl, MasterList, TrustStore, pem_blocks};
use icao9303::portrait;
use icao9303::protocol::apdu::read_binary_data;
use icao9303::protocol::chip_auth::ChipPublicKey;
use icao9303::protocol::crypto::{self, SymmetricCipher};
use icao9303::protocol::{CommandApdu, ResponseApdu, SecureMessaging, StatusWord};
use icao9303::tlv::{self, TlvReader};

pub fn mrz(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(mrz) = Mrz::parse(text)
    {
        let _ = mrz.check_digits_valid();
        let _ = mrz.identity(time_of_test());
    }
}

/// A fixed date, so that a finding replays identically.
fn time_of_test() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap_or(time::Date::MIN)
}

pub fn ef_com(data: &[u8]) {
    let _ = EfCom::parse(data);
}

pub fn dg1(data: &[u8]) {
    let _ = Dg1::parse(data);
}

pub fn dg2(data: &[u8]) {
    let _ = Dg2::parse(data);
}

pub fn dg7(data: &[u8]) {
    let _ = Dg7::parse(data);
}

pub fn dg11(data: &[u8]) {
    let _ = Dg11::parse(data);
}

pub fn dg12(data: &[u8]) {
    let _ = Dg12::parse(data);
}

pub fn dg14(data: &[u8]) {
    let _ = Dg14::parse(data);
}

pub fn dg15(data: &[u8]) {
    let _ = Dg15::parse(data);
}

pub fn card_access(data: &[u8]) {
    let _ = CardAccess::parse(data);
}

pub fn security_infos(data: &[u8]) {
    let _ = SecurityInfos::parse(data);
}

/// JPEG validation and JPEG 2000 transcoding of an image (the bytes are the image itself).
pub fn portrait(data: &[u8]) {
    let _ = portrait::image_dimensions(data);
    let _ = portrait::jpeg_from_image(data);
}

/// What the verifier does with any SignedData after parsing it: the signer's attributes, the
/// certificates it carries, and the signature check with the certificate the signer names.
fn signed_data_follow_up(signed: &SignedData) {
    let certificates = signed.parsed_certificates();
    for signer in &signed.signer_infos {
        let _ = signer.message_digest();
        let _ = signer.content_type();
        let _ = signer.signing_time();
        let _ = signer.digest();
        let _ = signer.scheme();
        for certificate in &certificates {
            if signer.sid.identifies(certificate)
                && let Ok(key) = certificate.public_key()
            {
                let _ = signed.check_signer(signer, key);
            }
        }
    }
}

/// EF.SOD: the CMS SignedData, the LDS security object, then the signer checks.
pub fn sod(data: &[u8]) {
    if let Ok(sod) = Sod::parse(data) {
        signed_data_follow_up(&sod.signed_data);
    }
}

/// EF.CardSecurity: a CMS SignedData whose content is a `SET OF SecurityInfo`.
pub fn card_security(data: &[u8]) {
    if let Ok(signed) = SignedData::from_content_info(data) {
        let _ = SecurityInfos::parse(&signed.content);
        signed_data_follow_up(&signed);
    }
}

/// An X.509 certificate (a Document Signer's in an EF.SOD, a CSCA's in an upload) and every
/// query the chain building makes of it, including a self-signature check.
pub fn certificate(data: &[u8]) {
    if let Ok(cert) = Certificate::from_der(data) {
        let _ = cert.serial_hex();
        let _ = cert.sha256_fingerprint();
        let _ = cert.public_key_sha1();
        let _ = cert.is_self_issued();
        let _ = cert.valid_at(time::OffsetDateTime::UNIX_EPOCH);
        let _ = cert.has_key_usage(KU_KEY_CERT_SIGN | KU_DIGITAL_SIGNATURE);
        let _ = cert.names_issuer(&cert);
        if let Ok(key) = cert.public_key() {
            let _ = cert.is_signed_by(key);
        }
    }
}

/// A CSCA's certificate revocation list.
pub fn crl(data: &[u8]) {
    if let Ok(crl) = Crl::from_der(data) {
        let _ = crl.lists(&[0x01]);
        let _ = crl.lists(&[]);
        let _ = crl.sha256_fingerprint();
    }
}

/// A CSCA master list: the SignedData, its certificate list, its own signature, and the first
/// certificates of the list.
pub fn master_list(data: &[u8]) {
    if let Ok(list) = MasterList::from_der(data) {
        let _ = list.verify_signature();
        for der in list.certificates.iter().take(8) {
            let _ = Certificate::from_der(der);
        }
    }
}

/// What an administrator's upload goes through: PEM, certificate, CRL or master list.
pub fn trust_import(data: &[u8]) {
    let _ = pem_blocks(data);
    let _ = TrustStore::new().import(data);
}

/// A SubjectPublicKeyInfo as DG15 (active authentication) and DG14 (chip authentication) carry.
pub fn spki(data: &[u8]) {
    let _ = public_key_from_spki(data);
    if let Ok(key) = ChipPublicKey::from_subject_public_key_info(data) {
        let _ = key.key_agreement();
        let _ = key.public_value();
    }
}

/// Active authentication: `[len_hi, len_lo, DG15 SubjectPublicKeyInfo (len bytes), challenge
/// (8 bytes), flag, response…]`; the flag's low bit passes DG14's ecdsa-with-SHA256.
pub fn active_auth(data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let Some((key, rest)) = rest.split_at_checked(usize::from(u16::from_be_bytes(*len))) else {
        return;
    };
    let Some((challenge, rest)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let Some((flag, response)) = rest.split_first() else {
        return;
    };
    let algorithm = (flag & 1 == 1).then_some(const_oid::db::rfc5912::ECDSA_WITH_SHA_256);
    let _ = verify_active_authentication(key, algorithm, challenge, response);
}

/// The four ciphers of secure messaging, chosen by a selector byte.
const CIPHERS: [SymmetricCipher; 4] = [
    SymmetricCipher::Tdes,
    SymmetricCipher::Aes128,
    SymmetricCipher::Aes192,
    SymmetricCipher::Aes256,
];

/// The session's initial send sequence counter (both ends), arbitrary but fixed.
const SSC_START: u8 = 0x2A;

/// The fuzz session: fixed keys (a BAC-like 3DES one or an AES one), and the SSC set to
/// [`SSC_START`] in its last byte.
pub fn session(cipher: SymmetricCipher) -> Option<SecureMessaging> {
    let k_enc: Vec<u8> = (0..cipher.key_len()).map(|i| 0x10 ^ i as u8).collect();
    let k_mac: Vec<u8> = (0..cipher.key_len()).map(|i| 0x80 ^ i as u8).collect();
    let mut ssc = vec![0u8; cipher.block_len()];
    if let Some(last) = ssc.last_mut() {
        *last = SSC_START;
    }
    SecureMessaging::new(cipher, &k_enc, &k_mac, &ssc).ok()
}

fn cipher_for(selector: u8) -> SymmetricCipher {
    CIPHERS
        .get(usize::from(selector & 3))
        .copied()
        .unwrap_or(SymmetricCipher::Tdes)
}

/// The terminal unwrapping a chip's protected response: `[selector, response APDU…]`
/// (`selector & 3`: 3DES, AES-128, AES-192, AES-256). The MAC almost never verifies: this
/// exercises the parsing of the data objects up to the MAC check.
pub fn sm_response(data: &[u8]) {
    let Some((selector, apdu)) = data.split_first() else {
        return;
    };
    if let (Some(mut sm), Ok(response)) = (
        session(cipher_for(*selector)),
        ResponseApdu::from_bytes(apdu),
    ) {
        let _ = sm.unprotect(&response);
    }
}

/// The MAC the terminal expects over `objects` (the data objects before DO'8E') of the response
/// to the first command of [`session`] (SSC + 2: one for the command, one for the response).
pub fn response_mac(cipher: SymmetricCipher, objects: &[u8]) -> Option<[u8; 8]> {
    let sm = session(cipher)?;
    let mut input = sm.ssc_bytes();
    if let Some(last) = input.last_mut() {
        *last = SSC_START.wrapping_add(2);
    }
    input.extend_from_slice(objects);
    match cipher {
        SymmetricCipher::Tdes => cipher.mac(sm.k_mac(), &input).ok(),
        _ => cipher
            .mac(sm.k_mac(), &crypto::pad(&input, cipher.block_len()))
            .ok(),
    }
}

/// Builds the response APDU of [`sm_response_mac`]: `objects`, then DO'8E' with the right MAC,
/// then the status word.
pub fn response_with_mac(
    cipher: SymmetricCipher,
    objects: &[u8],
    sw: [u8; 2],
) -> Option<ResponseApdu> {
    let mac = response_mac(cipher, objects)?;
    let mut body = objects.to_vec();
    body.extend_from_slice(&tlv::encode(0x8E, &mac));
    Some(ResponseApdu::new(
        body,
        StatusWord::from_bytes(sw[0], sw[1]),
    ))
}

/// Past the MAC check: `[selector, data objects…, SW1, SW2]`; the target appends DO'8E' with
/// the correct MAC over the fuzzed objects (DO'87'/'85', DO'99', anything) before the terminal
/// unwraps the response, so the status-word check, the decryption and the padding are reached.
pub fn sm_response_mac(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let Some((objects, sw)) = rest.split_last_chunk::<2>() else {
        return;
    };
    let cipher = cipher_for(*selector);
    if let (Some(mut sm), Some(response)) =
        (session(cipher), response_with_mac(cipher, objects, *sw))
    {
        // Advance the SSC as the command would.
        let _ = sm.protect(&CommandApdu::select_file(0x011E));
        let _ = sm.unprotect(&response);
    }
}

/// The chip's protection and the terminal's unwrapping must round-trip any plain response:
/// `[selector, SW1, SW2, data…]`.
pub fn sm_roundtrip(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let Some((sw, plain)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let cipher = cipher_for(*selector);
    let (Some(mut card), Some(mut terminal)) = (session(cipher), session(cipher)) else {
        return;
    };
    let response = ResponseApdu::new(plain.to_vec(), StatusWord::from_bytes(sw[0], sw[1]));
    if let Ok(protected) = card.protect_response(&response) {
        match terminal.unprotect(&protected) {
            Ok(unwrapped) => assert_eq!(unwrapped, response, "secure messaging did not round-trip"),
            Err(e) => panic!("the terminal refused the card's protected response: {e}"),
        }
    }
}

/// APDU parsing: a command (and its re-encoding, which must parse to the same command), a
/// response, READ BINARY's odd-INS data, and the card unwrapping the command as a protected one.
pub fn apdu(data: &[u8]) {
    let _ = ResponseApdu::from_bytes(data);
    if let Ok(read) = CommandApdu::read_binary(0, 256) {
        let _ = read_binary_data(&read, data);
    }
    if let Ok(command) = CommandApdu::from_bytes(data) {
        let again = CommandApdu::from_bytes(&command.to_bytes());
        assert_eq!(
            again.as_ref(),
            Ok(&command),
            "command APDU did not round-trip"
        );
        let selector = data.first().copied().unwrap_or(0);
        if let Some(mut card) = session(cipher_for(selector)) {
            let _ = card.unprotect_command(&command);
        }
    }
}

/// Deepest nesting [`tlv`] walks (the parsers of the crate nest far less).
const TLV_DEPTH: usize = 48;

fn walk(reader: &mut TlvReader<'_>, depth: usize) {
    while let Some(Ok(element)) = reader.next_tlv() {
        if element.is_constructed() && depth < TLV_DEPTH {
            walk(&mut element.children(), depth + 1);
        }
    }
    let _ = reader.finish();
}

/// The BER-TLV reader under every parser: walks every constructed element.
pub fn tlv(data: &[u8]) {
    let _ = tlv::parse_single(data);
    walk(&mut TlvReader::new(data), 0);
}

/// The APDU relay's messages, both ways (`relay_protocol`): what a hostile client sends the
/// server, and what a client takes from a server; with the APDU hex of the parsed message.
pub fn relay_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(relay_protocol::ClientMessage::Response { apdu, .. }) =
        relay_protocol::ClientMessage::parse(text)
    {
        let _ = relay_protocol::apdu_bytes(&apdu, relay_protocol::limits::MAX_RESPONSE_APDU);
    }
    if let Ok(relay_protocol::ServerMessage::Command { apdu, .. }) =
        relay_protocol::ServerMessage::parse(text)
    {
        let _ = relay_protocol::apdu_bytes(&apdu, relay_protocol::limits::MAX_RESPONSE_APDU);
    }
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target, by name, for `replay`, `seeds` and the smoke test.
pub const TARGETS: &[(&str, Target)] = &[
    ("mrz", mrz),
    ("ef_com", ef_com),
    ("dg1", dg1),
    ("dg2", dg2),
    ("dg7", dg7),
    ("dg11", dg11),
    ("dg12", dg12),
    ("dg14", dg14),
    ("dg15", dg15),
    ("card_access", card_access),
    ("security_infos", security_infos),
    ("portrait", portrait),
    ("sod", sod),
    ("card_security", card_security),
    ("certificate", certificate),
    ("crl", crl),
    ("master_list", master_list),
    ("trust_import", trust_import),
    ("spki", spki),
    ("active_auth", active_auth),
    ("sm_response", sm_response),
    ("sm_response_mac", sm_response_mac),
    ("sm_roundtrip", sm_roundtrip),
    ("apdu", apdu),
    ("tlv", tlv),
    ("relay_message", relay_message),
];
