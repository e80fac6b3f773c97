//! Known-answer and round-trip tests of the chip-access protocols (crate::protocol).
//!
//! Vectors: ICAO Doc 9303 Part 11 worked examples (App. D: BAC and 3DES secure messaging;
//! App. G.1: PACE ECDH-GM on brainpoolP256r1 with AES-128), see data/protocol/PROVENANCE.md.

use icao9303::protocol::apdu::{CommandApdu, ResponseApdu, StatusWord};
use icao9303::protocol::bac::{self, BacKeys, MrzInformation};
use icao9303::protocol::crypto::SymmetricCipher;
use icao9303::protocol::sm::SecureMessaging;
use icao9303::protocol::{ProtocolError, SmError};
use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/protocol/icao9303_p11_worked_examples.json")).unwrap()
}

fn h(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn hx(b: &[u8]) -> String {
    hex::encode_upper(b)
}

fn cmd(v: &Value) -> CommandApdu {
    CommandApdu::from_bytes(&h(v)).unwrap()
}

fn resp(v: &Value) -> ResponseApdu {
    ResponseApdu::from_bytes(&h(v)).unwrap()
}

fn bac_keys(v: &Value) -> BacKeys {
    let mrz = MrzInformation::new(
        v["doc_number"].as_str().unwrap().trim_end_matches('<'),
        v["dob"].as_str().unwrap(),
        v["doe"].as_str().unwrap(),
    )
    .unwrap();
    bac::derive_keys(&mrz).unwrap()
}

// ---------------------------------------------------------------------------------------------
// APDU encoding (ISO/IEC 7816-4 §5.1)

#[test]
fn apdu_cases_short_and_extended_round_trip() {
    let cases: Vec<(CommandApdu, &str)> = vec![
        (CommandApdu::new(0, 0xA4, 0, 0, vec![], None).unwrap(), "00A40000"),
        (CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(256)).unwrap(), "00B0000000"),
        (CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(257)).unwrap(), "00B00000000101"),
        (CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(65536)).unwrap(), "00B00000000000"),
        (CommandApdu::new(0, 0xA4, 2, 0x0C, vec![1, 0x1E], None).unwrap(), "00A4020C02011E"),
        (CommandApdu::new(0, 0x88, 0, 0, vec![7; 8], Some(256)).unwrap(), "0088000008070707070707070700"),
        (CommandApdu::new(0, 0x88, 0, 0, vec![7; 2], Some(300)).unwrap(), "008800000000020707012C"),
    ];
    for (c, enc) in cases {
        assert_eq!(hx(&c.to_bytes()), enc);
        assert_eq!(CommandApdu::from_bytes(&c.to_bytes()).unwrap(), c);
    }
    let long = CommandApdu::new(0, 0xD6, 0, 0, vec![1; 300], None).unwrap();
    assert!(long.is_extended());
    assert_eq!(hx(&long.to_bytes()[..7]), "00D6000000012C");
    assert_eq!(CommandApdu::from_bytes(&long.to_bytes()).unwrap(), long);
    assert!(CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(0)).is_err());
    assert!(CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(65537)).is_err());
    assert!(CommandApdu::from_bytes(&[0, 0xA4, 0]).is_err());
    assert!(CommandApdu::from_bytes(&hex::decode("00A4020C03011E").unwrap()).is_err());
}

#[test]
fn read_binary_switches_to_odd_ins_above_32767() {
    let even = CommandApdu::read_binary(0x7FFF, 0xDF).unwrap();
    assert_eq!(hx(&even.to_bytes()), "00B07FFFDF");
    let odd = CommandApdu::read_binary(0x8000, 0xDF).unwrap();
    assert_eq!(hx(&odd.to_bytes()), "00B1000004540280 00DF".replace(' ', ""));
    let data = icao9303::protocol::apdu::read_binary_data(&odd, &[0x53, 2, 0xAA, 0xBB]).unwrap();
    assert_eq!(data, vec![0xAA, 0xBB]);
}

// ---------------------------------------------------------------------------------------------
// BAC (ICAO 9303 Part 11 §4.3, App. D.1-D.3)

#[test]
fn bac_key_derivation_worked_example() {
    let v = &vectors()["bac"];
    let mrz = MrzInformation::new("L898902C", "690806", "940623").unwrap();
    assert_eq!(mrz.as_str(), v["mrz_information"].as_str().unwrap());
    assert_eq!(hx(&mrz.sha1().unwrap()), v["sha1_mrz_information"].as_str().unwrap());
    let keys = bac::derive_keys(&mrz).unwrap();
    assert_eq!(hx(&keys.k_enc), v["kenc_parity_adjusted"].as_str().unwrap());
    assert_eq!(hx(&keys.k_mac), v["kmac_parity_adjusted"].as_str().unwrap());
    assert!(MrzInformation::new("L898902C", "6908O6", "940623").is_err());
    assert!(MrzInformation::new("l898902c", "690806", "940623").is_err());
}

fn bac_terminal(v: &Value) -> bac::Terminal {
    bac::Terminal::with_randoms(
        bac_keys(v),
        h(&v["rnd_ifd"]).try_into().unwrap(),
        h(&v["kifd"]).try_into().unwrap(),
    )
}

fn bac_card(v: &Value) -> bac::Card {
    bac::Card::with_randoms(
        bac_keys(v),
        h(&v["rnd_ic"]).try_into().unwrap(),
        h(&v["kicc"]).try_into().unwrap(),
    )
}

#[test]
fn bac_mutual_authentication_worked_example() {
    let v = &vectors()["bac"];
    let mut t = bac_terminal(v);
    assert_eq!(t.get_challenge_command().to_bytes(), h(&v["get_challenge"]["capdu"]));
    let ea = t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"])).unwrap();
    assert_eq!(hx(&ea.to_bytes()), v["external_authenticate"]["capdu"].as_str().unwrap());
    let sm = t.finish(&resp(&v["external_authenticate"]["rapdu"])).unwrap();
    assert_eq!(sm.cipher(), SymmetricCipher::Tdes);
    assert_eq!(hx(sm.k_enc()), v["ksenc_parity_adjusted"].as_str().unwrap());
    assert_eq!(hx(sm.k_mac()), v["ksmac_parity_adjusted"].as_str().unwrap());
    assert_eq!(hx(&sm.ssc_bytes()), v["ssc"].as_str().unwrap());

    // The card side produces the chip's response of the worked example.
    let card = bac_card(v);
    assert_eq!(card.challenge_response(), resp(&v["get_challenge"]["rapdu"]));
    let (r, card_sm) = card.external_authenticate(&ea).unwrap();
    assert_eq!(r, resp(&v["external_authenticate"]["rapdu"]));
    assert_eq!(card_sm.k_enc(), sm.k_enc());
    assert_eq!(card_sm.ssc_bytes(), sm.ssc_bytes());
}

#[test]
fn bac_rejects_wrong_keys_tampering_and_refusal() {
    let v = &vectors()["bac"];
    let mut t = bac_terminal(v);
    t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"])).unwrap();
    let mut tampered = resp(&v["external_authenticate"]["rapdu"]);
    tampered.data[3] ^= 1;
    let e = t.finish(&tampered).unwrap_err();
    assert!(matches!(e, ProtocolError::AuthenticationFailed(_)) && e.caused_by_chip(), "{e}");

    let mut t = bac_terminal(v);
    t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"])).unwrap();
    let e = t.finish(&ResponseApdu::status(StatusWord(0x6300))).unwrap_err();
    assert!(matches!(e, ProtocolError::Status(StatusWord(0x6300))), "{e}");

    // Finishing before the command is misuse, not the chip's fault.
    let e = bac_terminal(v).finish(&resp(&v["external_authenticate"]["rapdu"])).unwrap_err();
    assert!(matches!(e, ProtocolError::OutOfOrder(_)) && !e.caused_by_chip());

    // A card with other keys (wrong MRZ) refuses the terminal's cryptogram.
    let other = bac::derive_keys(&MrzInformation::new("L898902C", "690807", "940623").unwrap());
    let card = bac::Card::with_randoms(other.unwrap(), h(&v["rnd_ic"]).try_into().unwrap(), [0; 16]);
    let mut t = bac_terminal(v);
    let ea = t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"])).unwrap();
    assert!(matches!(card.external_authenticate(&ea), Err(ProtocolError::AuthenticationFailed(_))));
}

// ---------------------------------------------------------------------------------------------
// 3DES secure messaging (ICAO 9303 Part 11 §9.8, App. D.4)

fn bac_sessions(v: &Value) -> (SecureMessaging, SecureMessaging) {
    let mut t = bac_terminal(v);
    let ea = t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"])).unwrap();
    let (r, card) = bac_card(v).external_authenticate(&ea).unwrap();
    (t.finish(&r).unwrap(), card)
}

#[test]
fn tdes_secure_messaging_worked_example_terminal_and_card() {
    let all = vectors();
    let (mut terminal, mut card) = bac_sessions(&all["bac"]);
    let steps = all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"]
        .as_array()
        .unwrap();
    for step in steps {
        assert_eq!(hx(&terminal.ssc_bytes()), step["ssc_before"].as_str().unwrap());
        let plain = cmd(&step["plain_capdu"]);
        let protected = terminal.protect(&plain).unwrap();
        assert_eq!(hx(&protected.to_bytes()), step["protected_capdu"].as_str().unwrap());

        assert_eq!(card.unprotect_command(&protected).unwrap(), plain);
        let plain_response = resp(&step["rapdu"]);
        let protected_response = card.protect_response(&plain_response).unwrap();
        assert_eq!(protected_response, resp(&step["protected_rapdu"]));

        assert_eq!(terminal.unprotect(&resp(&step["protected_rapdu"])).unwrap(), plain_response);
    }
}

#[test]
fn secure_messaging_rejects_bad_mac_missing_mac_and_status_mismatch() {
    let all = vectors();
    let step = &all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][1];

    let (mut t, _) = bac_sessions(&all["bac"]);
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    t.unprotect(&resp(&all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][0]["protected_rapdu"])).unwrap();
    t.protect(&cmd(&step["plain_capdu"])).unwrap();
    let mut bad = resp(&step["protected_rapdu"]);
    bad.data[5] ^= 0x01;
    assert!(matches!(t.unprotect(&bad), Err(SmError::BadMac)));

    // Plain error status without SM objects: never accepted as a valid answer.
    let (mut t, _) = bac_sessions(&all["bac"]);
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    let e = t.unprotect(&ResponseApdu::status(StatusWord::SM_OBJECTS_INCORRECT)).unwrap_err();
    assert!(matches!(e, SmError::Unprotected(StatusWord(0x6988))) && e.caused_by_chip());

    // Outer status word differs from the MAC'ed DO'99'.
    let (mut t, _) = bac_sessions(&all["bac"]);
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    let mut r = resp(&all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][0]["protected_rapdu"]);
    r.sw = StatusWord(0x6282);
    assert!(matches!(t.unprotect(&r), Err(SmError::StatusMismatch { .. })));

    // Replay: the SSC has moved on, so the same response fails.
    let (mut t, _) = bac_sessions(&all["bac"]);
    let first = resp(&all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][0]["protected_rapdu"]);
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    t.unprotect(&first).unwrap();
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    assert!(matches!(t.unprotect(&first), Err(SmError::BadMac)));
}

/// Runs commands through terminal protect -> card unprotect -> card protect -> terminal
/// unprotect, with the card answering by `answer`.
fn exchange(
    terminal: &mut SecureMessaging,
    card: &mut SecureMessaging,
    command: &CommandApdu,
    answer: impl Fn(&CommandApdu) -> ResponseApdu,
) -> ResponseApdu {
    let wire = terminal.protect(command).unwrap();
    let wire = CommandApdu::from_bytes(&wire.to_bytes()).unwrap();
    let plain = card.unprotect_command(&wire).unwrap();
    assert_eq!(&plain, command);
    let r = card.protect_response(&answer(&plain)).unwrap();
    let r = ResponseApdu::from_bytes(&r.to_bytes()).unwrap();
    terminal.unprotect(&r).unwrap()
}

#[test]
fn aes_secure_messaging_round_trips_all_key_sizes_odd_ins_and_extended_length() {
    for cipher in [SymmetricCipher::Aes128, SymmetricCipher::Aes192, SymmetricCipher::Aes256, SymmetricCipher::Tdes] {
        let secret = b"shared secret from PACE or chip authentication";
        let mut t = SecureMessaging::from_shared_secret(cipher, secret).unwrap();
        let mut c = SecureMessaging::from_shared_secret(cipher, secret).unwrap();
        assert_eq!(t.ssc_bytes(), vec![0; cipher.block_len()]);

        let file: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let serve = |cmd: &CommandApdu| {
            if cmd.ins() == 0xB1 {
                let off = usize::from(u16::from_be_bytes([cmd.data()[2], cmd.data()[3]]));
                let chunk = &file[off..(off + cmd.ne().unwrap()).min(file.len())];
                let mut data = vec![0x53, 0x81, chunk.len() as u8];
                data.extend_from_slice(chunk);
                ResponseApdu::new(data, StatusWord::SUCCESS)
            } else {
                let off = usize::from(u16::from_be_bytes([cmd.p1(), cmd.p2()]));
                let n = cmd.ne().unwrap().min(file.len() - off);
                ResponseApdu::new(file[off..off + n].to_vec(), StatusWord::SUCCESS)
            }
        };

        // Short APDUs: the largest block whose protected response fits 256 bytes.
        let block = t.max_read_len(256);
        assert_eq!(block, if cipher == SymmetricCipher::Tdes { 231 } else { 223 });
        let rb = CommandApdu::read_binary(100, block).unwrap();
        let wire = t.protect(&rb).unwrap();
        assert!(!wire.is_extended());
        let plain = c.unprotect_command(&wire).unwrap();
        let reply = c.protect_response(&serve(&plain)).unwrap();
        assert!(reply.data.len() <= 256, "{cipher:?}: {}", reply.data.len());
        assert_eq!(t.unprotect(&reply).unwrap().data, file[100..100 + block]);
        let r = exchange(&mut t, &mut c, &CommandApdu::read_binary(0, 8).unwrap(), serve);
        assert_eq!(r.data, file[..8]);

        // Odd INS above offset 32767: DO'85' both ways, file data in DO'53'.
        let rb = CommandApdu::read_binary(33_000, 100).unwrap();
        let wire = t.protect(&rb).unwrap();
        assert_eq!(wire.data()[0], 0x85);
        let plain = c.unprotect_command(&wire).unwrap();
        let reply = c.protect_response(&serve(&plain)).unwrap();
        assert_eq!(reply.data[0], 0x85);
        let r = t.unprotect(&reply).unwrap();
        let data = icao9303::protocol::apdu::read_binary_data(&rb, &r.data).unwrap();
        assert_eq!(data, file[33_000..33_100]);

        // Extended length: Ne above 256 gives a 2-byte DO'97' and an extended protected APDU.
        let rb = CommandApdu::read_binary(0, 1000).unwrap();
        let wire = t.protect(&rb).unwrap();
        assert!(wire.is_extended());
        assert_eq!(&wire.data()[..4], &[0x97, 0x02, 0x03, 0xE8]);
        let plain = c.unprotect_command(&wire).unwrap();
        assert_eq!(plain.ne(), Some(1000));
        let r = t.unprotect(&c.protect_response(&serve(&plain)).unwrap()).unwrap();
        assert_eq!(r.data, file[..1000]);

        // An error status is authenticated and handed to the caller, not swallowed.
        let r = exchange(&mut t, &mut c, &CommandApdu::select_file(0x0110), |_| {
            ResponseApdu::status(StatusWord::FILE_NOT_FOUND)
        });
        assert_eq!(r, ResponseApdu::status(StatusWord::FILE_NOT_FOUND));

        // Card side rejects a tampered command.
        let mut wire = t.protect(&CommandApdu::select_file(0x0101)).unwrap().to_bytes();
        wire[7] ^= 0x80;
        let wire = CommandApdu::from_bytes(&wire).unwrap();
        assert!(matches!(c.unprotect_command(&wire), Err(SmError::BadMac)), "{cipher:?}");
    }
}
