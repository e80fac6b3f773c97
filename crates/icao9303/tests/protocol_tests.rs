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
    serde_json::from_str(include_str!(
        "data/protocol/icao9303_p11_worked_examples.json"
    ))
    .unwrap()
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
        (
            CommandApdu::new(0, 0xA4, 0, 0, vec![], None).unwrap(),
            "00A40000",
        ),
        (
            CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(256)).unwrap(),
            "00B0000000",
        ),
        (
            CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(257)).unwrap(),
            "00B00000000101",
        ),
        (
            CommandApdu::new(0, 0xB0, 0, 0, vec![], Some(65536)).unwrap(),
            "00B00000000000",
        ),
        (
            CommandApdu::new(0, 0xA4, 2, 0x0C, vec![1, 0x1E], None).unwrap(),
            "00A4020C02011E",
        ),
        (
            CommandApdu::new(0, 0x88, 0, 0, vec![7; 8], Some(256)).unwrap(),
            "0088000008070707070707070700",
        ),
        (
            CommandApdu::new(0, 0x88, 0, 0, vec![7; 2], Some(300)).unwrap(),
            "008800000000020707012C",
        ),
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
    assert_eq!(
        hx(&odd.to_bytes()),
        "00B1000004540280 00DF".replace(' ', "")
    );
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
    assert_eq!(
        hx(&mrz.sha1().unwrap()),
        v["sha1_mrz_information"].as_str().unwrap()
    );
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
    assert_eq!(
        t.get_challenge_command().to_bytes(),
        h(&v["get_challenge"]["capdu"])
    );
    let ea = t
        .mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"]))
        .unwrap();
    assert_eq!(
        hx(&ea.to_bytes()),
        v["external_authenticate"]["capdu"].as_str().unwrap()
    );
    let sm = t
        .finish(&resp(&v["external_authenticate"]["rapdu"]))
        .unwrap();
    assert_eq!(sm.cipher(), SymmetricCipher::Tdes);
    assert_eq!(hx(sm.k_enc()), v["ksenc_parity_adjusted"].as_str().unwrap());
    assert_eq!(hx(sm.k_mac()), v["ksmac_parity_adjusted"].as_str().unwrap());
    assert_eq!(hx(&sm.ssc_bytes()), v["ssc"].as_str().unwrap());

    // The card side produces the chip's response of the worked example.
    let card = bac_card(v);
    assert_eq!(
        card.challenge_response(),
        resp(&v["get_challenge"]["rapdu"])
    );
    let (r, card_sm) = card.external_authenticate(&ea).unwrap();
    assert_eq!(r, resp(&v["external_authenticate"]["rapdu"]));
    assert_eq!(card_sm.k_enc(), sm.k_enc());
    assert_eq!(card_sm.ssc_bytes(), sm.ssc_bytes());
}

#[test]
fn bac_rejects_wrong_keys_tampering_and_refusal() {
    let v = &vectors()["bac"];
    let mut t = bac_terminal(v);
    t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"]))
        .unwrap();
    let mut tampered = resp(&v["external_authenticate"]["rapdu"]);
    tampered.data[3] ^= 1;
    let e = t.finish(&tampered).unwrap_err();
    assert!(
        matches!(e, ProtocolError::AuthenticationFailed(_)) && e.caused_by_chip(),
        "{e}"
    );

    let mut t = bac_terminal(v);
    t.mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"]))
        .unwrap();
    let e = t
        .finish(&ResponseApdu::status(StatusWord(0x6300)))
        .unwrap_err();
    assert!(
        matches!(e, ProtocolError::Status(StatusWord(0x6300))),
        "{e}"
    );

    // Finishing before the command is misuse, not the chip's fault.
    let e = bac_terminal(v)
        .finish(&resp(&v["external_authenticate"]["rapdu"]))
        .unwrap_err();
    assert!(matches!(e, ProtocolError::OutOfOrder(_)) && !e.caused_by_chip());

    // A card with other keys (wrong MRZ) refuses the terminal's cryptogram.
    let other = bac::derive_keys(&MrzInformation::new("L898902C", "690807", "940623").unwrap());
    let card =
        bac::Card::with_randoms(other.unwrap(), h(&v["rnd_ic"]).try_into().unwrap(), [0; 16]);
    let mut t = bac_terminal(v);
    let ea = t
        .mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"]))
        .unwrap();
    assert!(matches!(
        card.external_authenticate(&ea),
        Err(ProtocolError::AuthenticationFailed(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// 3DES secure messaging (ICAO 9303 Part 11 §9.8, App. D.4)

fn bac_sessions(v: &Value) -> (SecureMessaging, SecureMessaging) {
    let mut t = bac_terminal(v);
    let ea = t
        .mutual_authenticate_command(&resp(&v["get_challenge"]["rapdu"]))
        .unwrap();
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
        assert_eq!(
            hx(&terminal.ssc_bytes()),
            step["ssc_before"].as_str().unwrap()
        );
        let plain = cmd(&step["plain_capdu"]);
        let protected = terminal.protect(&plain).unwrap();
        assert_eq!(
            hx(&protected.to_bytes()),
            step["protected_capdu"].as_str().unwrap()
        );

        assert_eq!(card.unprotect_command(&protected).unwrap(), plain);
        let plain_response = resp(&step["rapdu"]);
        let protected_response = card.protect_response(&plain_response).unwrap();
        assert_eq!(protected_response, resp(&step["protected_rapdu"]));

        assert_eq!(
            terminal.unprotect(&resp(&step["protected_rapdu"])).unwrap(),
            plain_response
        );
    }
}

#[test]
fn secure_messaging_rejects_bad_mac_missing_mac_and_status_mismatch() {
    let all = vectors();
    let step =
        &all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][1];

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
    let e = t
        .unprotect(&ResponseApdu::status(StatusWord::SM_OBJECTS_INCORRECT))
        .unwrap_err();
    assert!(matches!(e, SmError::Unprotected(StatusWord(0x6988))) && e.caused_by_chip());

    // The outer status word differs from the MAC'ed DO'99': the authenticated DO'99' decides
    // (the outer one is not protected, and some chips put '9000' outside an error).
    let (mut t, _) = bac_sessions(&all["bac"]);
    t.protect(&CommandApdu::select_file(0x011E)).unwrap();
    let mut r = resp(
        &all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][0]["protected_rapdu"],
    );
    r.sw = StatusWord(0x6282);
    assert_eq!(t.unprotect(&r).unwrap().sw, StatusWord::SUCCESS);

    // Replay: the SSC has moved on, so the same response fails.
    let (mut t, _) = bac_sessions(&all["bac"]);
    let first = resp(
        &all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"][0]["protected_rapdu"],
    );
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
    for cipher in [
        SymmetricCipher::Aes128,
        SymmetricCipher::Aes192,
        SymmetricCipher::Aes256,
        SymmetricCipher::Tdes,
    ] {
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
        assert_eq!(
            block,
            if cipher == SymmetricCipher::Tdes {
                231
            } else {
                223
            }
        );
        let rb = CommandApdu::read_binary(100, block).unwrap();
        let wire = t.protect(&rb).unwrap();
        assert!(!wire.is_extended());
        let plain = c.unprotect_command(&wire).unwrap();
        let reply = c.protect_response(&serve(&plain)).unwrap();
        assert!(reply.data.len() <= 256, "{cipher:?}: {}", reply.data.len());
        assert_eq!(t.unprotect(&reply).unwrap().data, file[100..100 + block]);
        let r = exchange(
            &mut t,
            &mut c,
            &CommandApdu::read_binary(0, 8).unwrap(),
            serve,
        );
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
        let r = t
            .unprotect(&c.protect_response(&serve(&plain)).unwrap())
            .unwrap();
        assert_eq!(r.data, file[..1000]);

        // An error status is authenticated and handed to the caller, not swallowed.
        let r = exchange(&mut t, &mut c, &CommandApdu::select_file(0x0110), |_| {
            ResponseApdu::status(StatusWord::FILE_NOT_FOUND)
        });
        assert_eq!(r, ResponseApdu::status(StatusWord::FILE_NOT_FOUND));

        // Card side rejects a tampered command.
        let mut wire = t
            .protect(&CommandApdu::select_file(0x0101))
            .unwrap()
            .to_bytes();
        wire[7] ^= 0x80;
        let wire = CommandApdu::from_bytes(&wire).unwrap();
        assert!(
            matches!(c.unprotect_command(&wire), Err(SmError::BadMac)),
            "{cipher:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// PACE (ICAO 9303 Part 11 §4.4, App. G.1: ECDH Generic Mapping, brainpoolP256r1, AES-128)

use icao9303::protocol::pace::{self, CardStep, PaceParameters, Password, TerminalStep};

const PACE: &str = "pace_ecdh_gm_brainpoolP256r1_aes128";

/// (protocol OID content, parameterId) of each PACEInfo in EF.CardAccess
/// (`SET OF SEQUENCE { OID, INTEGER version, INTEGER parameterId OPTIONAL }`).
fn pace_infos(card_access: &[u8]) -> Vec<(Vec<u8>, Option<u64>)> {
    let set = icao9303::tlv::parse_expected(card_access, 0x31).unwrap();
    let mut out = Vec::new();
    let mut infos = set.children();
    while let Some(info) = infos.next_tlv() {
        let mut fields = info.unwrap().children();
        let oid = fields.expect(0x06).unwrap().value.to_vec();
        fields.expect(0x02).unwrap();
        let id = fields
            .optional(0x02)
            .unwrap()
            .map(|t| t.value.iter().fold(0u64, |a, b| a << 8 | u64::from(*b)));
        out.push((oid, id));
    }
    out
}

fn pace_worked_example_params(v: &Value) -> PaceParameters {
    let infos = pace_infos(&h(&v["ef_cardaccess"]));
    assert_eq!(infos.len(), 1);
    PaceParameters::new(&infos[0].0, infos[0].1).unwrap()
}

fn pace_password(v: &Value) -> Password {
    Password::Mrz(
        MrzInformation::new(
            v["doc_number"].as_str().unwrap(),
            v["dob"].as_str().unwrap(),
            v["doe"].as_str().unwrap(),
        )
        .unwrap(),
    )
}

fn command(step: TerminalStep) -> CommandApdu {
    match step {
        TerminalStep::Command(c) => c,
        TerminalStep::Done(_) => panic!("PACE ended early"),
    }
}

fn card_response(step: CardStep) -> ResponseApdu {
    match step {
        CardStep::Response(r) => r,
        CardStep::Done(..) => panic!("card ended early"),
    }
}

#[test]
fn pace_ecdh_generic_mapping_worked_example_terminal_and_card() {
    let v = &vectors()[PACE];
    let params = pace_worked_example_params(v);
    assert_eq!(params.protocol().cipher, SymmetricCipher::Aes128);
    assert_eq!(params.protocol().key_agreement, pace::KeyAgreement::Ecdh);
    assert_eq!(params.parameter_id(), v["parameter_id"].as_u64().unwrap());

    let password = pace_password(v);
    let Password::Mrz(mrz) = &password else {
        unreachable!()
    };
    assert_eq!(mrz.as_str(), v["mrz_information"].as_str().unwrap());
    assert_eq!(hx(&mrz.sha1().unwrap()), v["k_sha1"].as_str().unwrap());
    let k_pi = pace::derive_k_pi(SymmetricCipher::Aes128, &password).unwrap();
    assert_eq!(hx(&k_pi), v["k_pi"].as_str().unwrap());
    let s = pace::decrypt_nonce(SymmetricCipher::Aes128, &k_pi, &h(&v["encrypted_nonce"])).unwrap();
    assert_eq!(hx(&s), v["nonce_s"].as_str().unwrap());
    // App. G.2 (DH Generic Mapping) uses the same MRZ and AES-128: its nonce decrypts with K_π.
    let g2 = &vectors()["pace_dh_gm (ICAO G.2, from dmrtd test/pace_test_dh.dart)"];
    let s2 =
        pace::decrypt_nonce(SymmetricCipher::Aes128, &k_pi, &h(&g2["encrypted_nonce"])).unwrap();
    assert_eq!(hx(&s2), g2["nonce_s"].as_str().unwrap());

    let mut t = pace::Terminal::with_private_keys(
        pace_worked_example_params(v),
        &password,
        &h(&v["map_sk_pcd"]),
        &h(&v["eph_sk_pcd"]),
    )
    .unwrap();
    let mut card = pace::Card::with_secrets(
        pace_worked_example_params(v),
        &password,
        &h(&v["nonce_s"]),
        &h(&v["map_sk_picc"]),
        &h(&v["eph_sk_picc"]),
    )
    .unwrap();

    // MSE:Set AT with the parameterId (gmrtd's form of the example).
    let set_at = t.start();
    assert_eq!(
        hx(&set_at.to_bytes()),
        v["mse_set_at (gmrtd, with 84010D)"].as_str().unwrap()
    );
    let r = card_response(card.respond(&set_at).unwrap());
    assert_eq!(r, ResponseApdu::status(StatusWord::SUCCESS));

    // 1. Encrypted nonce.
    let ga1 = command(t.next(&r).unwrap());
    assert_eq!(hx(&ga1.to_bytes()), v["ga1"]["capdu"].as_str().unwrap());
    let r = card_response(card.respond(&ga1).unwrap());
    assert_eq!(hx(&r.to_bytes()), v["ga1"]["rapdu"].as_str().unwrap());

    // 2. Mapping: the terminal's and the chip's mapping keys.
    let ga2 = command(t.next(&r).unwrap());
    assert_eq!(ga2.cla(), 0x10);
    assert_eq!(
        hx(ga2.data()),
        format!("7C438141{}", v["map_pk_pcd"].as_str().unwrap())
    );
    let r = card_response(card.respond(&ga2).unwrap());
    assert_eq!(
        hx(&r.data),
        format!("7C438241{}", v["map_pk_picc"].as_str().unwrap())
    );

    // 3. Key agreement on the mapped generator: ephemeral keys.
    let ga3 = command(t.next(&r).unwrap());
    assert_eq!(
        hx(ga3.data()),
        format!("7C438341{}", v["eph_pk_pcd"].as_str().unwrap())
    );
    let r = card_response(card.respond(&ga3).unwrap());
    assert_eq!(
        hx(&r.data),
        format!("7C438441{}", v["eph_pk_picc"].as_str().unwrap())
    );

    // 4. Authentication tokens.
    let ga4 = command(t.next(&r).unwrap());
    assert_eq!(hx(&ga4.to_bytes()), v["ga4"]["capdu"].as_str().unwrap());
    let CardStep::Done(r, mut card_sm) = card.respond(&ga4).unwrap() else {
        panic!("card not done")
    };
    assert_eq!(hx(&r.to_bytes()), v["ga4"]["rapdu"].as_str().unwrap());
    let TerminalStep::Done(outcome) = t.next(&r).unwrap() else {
        panic!("terminal not done")
    };
    let mut sm = outcome.sm;
    assert_eq!(hx(sm.k_enc()), v["ksenc"].as_str().unwrap());
    assert_eq!(hx(sm.k_mac()), v["ksmac"].as_str().unwrap());
    assert_eq!(
        hx(&outcome.chip_ephemeral_public_key),
        v["eph_pk_picc"].as_str().unwrap()
    );
    assert_eq!(sm.ssc_bytes(), vec![0; 16]);

    // The session works both ways.
    let r = exchange(
        &mut sm,
        &mut card_sm,
        &CommandApdu::select_file(0x011E),
        |_| ResponseApdu::status(StatusWord::SUCCESS),
    );
    assert!(r.sw.is_success());
}

#[test]
fn pace_rejects_wrong_password_and_forged_token() {
    let v = &vectors()[PACE];
    let run_until_token = |terminal_password: &Password, card_password: &Password| {
        let mut t = pace::Terminal::new(pace_worked_example_params(v), terminal_password).unwrap();
        let mut card = pace::Card::new(pace_worked_example_params(v), card_password).unwrap();
        let mut cmd = t.start();
        for _ in 0..4 {
            let r = card_response(card.respond(&cmd).unwrap());
            cmd = command(t.next(&r).unwrap());
        }
        (t, card, cmd)
    };
    // A wrong CAN: the card refuses the terminal's token.
    let (_, mut card, ga4) = run_until_token(
        &Password::Can("123456".into()),
        &Password::Can("654321".into()),
    );
    let e = card.respond(&ga4).unwrap_err();
    assert!(matches!(e, ProtocolError::AuthenticationFailed(_)), "{e}");

    // A forged chip token: the terminal refuses it; a refusal status is an error too.
    let (mut t, mut card, ga4) = run_until_token(&pace_password(v), &pace_password(v));
    let CardStep::Done(mut r, _) = card.respond(&ga4).unwrap() else {
        panic!()
    };
    r.data[5] ^= 1;
    assert!(matches!(
        t.next(&r),
        Err(ProtocolError::AuthenticationFailed(_))
    ));
    let (mut t, _, _) = run_until_token(&pace_password(v), &pace_password(v));
    let e = t
        .next(&ResponseApdu::status(StatusWord(0x6300)))
        .unwrap_err();
    assert!(matches!(e, ProtocolError::Status(StatusWord(0x6300))) && e.caused_by_chip());
}

#[test]
fn pace_generic_mapping_round_trips_all_standardized_groups_and_ciphers() {
    let ciphers = [
        (1u8, SymmetricCipher::Tdes),
        (2, SymmetricCipher::Aes128),
        (3, SymmetricCipher::Aes192),
        (4, SymmetricCipher::Aes256),
    ];
    let ids: Vec<u64> = vec![0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
    for (n, id) in ids.into_iter().enumerate() {
        let (cipher_arc, cipher) = ciphers[n % 4];
        let mapping_arc = if id <= 2 { 1 } else { 2 }; // DH-GM or ECDH-GM
        let oid = [
            0x04,
            0x00,
            0x7F,
            0x00,
            0x07,
            0x02,
            0x02,
            0x04,
            mapping_arc,
            cipher_arc,
        ];
        let password = if n % 2 == 0 {
            Password::Can("123456".into())
        } else {
            pace_password(&vectors()[PACE])
        };
        let mut t =
            pace::Terminal::new(PaceParameters::new(&oid, Some(id)).unwrap(), &password).unwrap();
        let mut card =
            pace::Card::new(PaceParameters::new(&oid, Some(id)).unwrap(), &password).unwrap();
        let mut cmd = t.start();
        let (mut terminal_sm, mut card_sm) = loop {
            match card
                .respond(&CommandApdu::from_bytes(&cmd.to_bytes()).unwrap())
                .unwrap()
            {
                CardStep::Response(r) => cmd = command(t.next(&r).unwrap()),
                CardStep::Done(r, card_sm) => match t.next(&r).unwrap() {
                    TerminalStep::Done(o) => break (o.sm, card_sm),
                    TerminalStep::Command(_) => panic!("terminal not done"),
                },
            }
        };
        assert_eq!(terminal_sm.cipher(), cipher, "parameter {id}");
        assert_eq!(terminal_sm.k_enc(), card_sm.k_enc(), "parameter {id}");
        let r = exchange(
            &mut terminal_sm,
            &mut card_sm,
            &CommandApdu::read_binary(0, 4).unwrap(),
            |_| ResponseApdu::new(vec![1, 2, 3, 4], StatusWord::SUCCESS),
        );
        assert_eq!(r.data, vec![1, 2, 3, 4]);
    }
}

#[test]
fn pace_choice_among_pace_infos_and_unsupported_variants() {
    let oid = |m: u8, c: u8| vec![0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, m, c];
    let offered = [
        (oid(6, 2), Some(13)), // ECDH-CAM: not implemented
        (oid(1, 1), Some(0)),  // DH-GM-3DES
        (oid(2, 1), Some(12)), // ECDH-GM-3DES
        (oid(2, 4), Some(16)), // ECDH-GM-AES-256
        (oid(4, 2), Some(13)), // ECDH-IM: not implemented
        (oid(2, 2), None),     // proprietary domain parameters
    ];
    let chosen = pace::choose(offered.iter().map(|(o, id)| (o.as_slice(), *id))).unwrap();
    assert_eq!(chosen.protocol().oid(), oid(2, 4).as_slice());
    assert_eq!(chosen.parameter_id(), 16);

    // Only variants this implementation does not do: no choice, the reader falls back to BAC.
    let unsupported = [
        (oid(6, 2), Some(13)),
        (oid(4, 2), Some(13)),
        (oid(2, 2), Some(99)),
    ];
    assert!(pace::choose(unsupported.iter().map(|(o, id)| (o.as_slice(), *id))).is_none());
    for (o, id) in &unsupported {
        let e = PaceParameters::new(o, *id).unwrap_err();
        assert!(matches!(e, ProtocolError::Unsupported(_)), "{e}");
    }
    assert!(
        format!("{}", PaceParameters::new(&oid(4, 2), Some(13)).unwrap_err())
            .contains("Integrated Mapping")
    );
    assert!(
        format!("{}", PaceParameters::new(&oid(6, 2), Some(13)).unwrap_err())
            .contains("Chip Authentication Mapping")
    );
    // ECDH protocol with DH domain parameters is the chip's inconsistency.
    assert!(matches!(
        PaceParameters::new(&oid(2, 2), Some(0)),
        Err(ProtocolError::Malformed(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Chip authentication (ICAO 9303 Part 11 §6.2, BSI TR-03110 Part 3 §3.4)

use icao9303::protocol::chip_auth::{self, ChipAuthProtocol, ChipPublicKey};

/// Runs chip authentication through an established session pair and returns the new pair.
fn run_chip_authentication(
    mut t: chip_auth::Terminal,
    mut card: chip_auth::Card,
    sm: &mut SecureMessaging,
    card_sm: &mut SecureMessaging,
) -> (SecureMessaging, SecureMessaging) {
    let mut cmd = t.start();
    let mut new_card_sm = None;
    loop {
        let wire = sm.protect(&cmd).unwrap();
        let plain = card_sm.unprotect_command(&wire).unwrap();
        let response = match card.respond(&plain).unwrap() {
            chip_auth::CardStep::Response(r) => r,
            chip_auth::CardStep::Done(r, new) => {
                new_card_sm = Some(new);
                r
            }
        };
        // The card answers the last command under the old session, then switches.
        let wire = card_sm.protect_response(&response).unwrap();
        match t.next(&sm.unprotect(&wire).unwrap()).unwrap() {
            chip_auth::Step::Command(c) => cmd = c,
            chip_auth::Step::Done(new) => return (new, new_card_sm.unwrap()),
        }
    }
}

/// The ChipAuthenticationPublicKeyInfo SubjectPublicKeyInfo and ChipAuthenticationInfo OID of
/// a DG14 (`6E { 31 { SEQUENCE { OID, ... } ... } }`).
fn dg14_chip_auth(dg14: &[u8]) -> (Vec<u8>, Option<Vec<u8>>) {
    let outer = icao9303::tlv::parse_expected(dg14, 0x6E).unwrap();
    let set = outer.children().expect(0x31).unwrap();
    let (mut spki, mut ca_oid) = (None, None);
    let mut infos = set.children();
    while let Some(info) = infos.next_tlv() {
        let mut f = info.unwrap().children();
        let oid = f.expect(0x06).unwrap().value;
        if oid.starts_with(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x01]) {
            spki = Some(f.read().unwrap().raw.to_vec());
        } else if oid.starts_with(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03]) {
            ca_oid = Some(oid.to_vec());
        }
    }
    (spki.unwrap(), ca_oid)
}

#[test]
fn chip_authentication_with_bsi_reference_dg14_explicit_brainpool_3des() {
    let dg14 = include_bytes!("data/protocol/bsi_refdataset_DG14.bin");
    let (spki, ca_oid) = dg14_chip_auth(dg14);
    let protocol = ChipAuthProtocol::from_oid(&ca_oid.unwrap()).unwrap();
    assert_eq!(protocol.cipher, SymmetricCipher::Tdes);
    let key = ChipPublicKey::from_subject_public_key_info(&spki).unwrap();
    assert_eq!(key.public_value().len(), 57); // uncompressed brainpoolP224r1 point
    let sk = openssl::pkey::PKey::private_key_from_der(include_bytes!(
        "data/protocol/bsi_refdataset_DG14_sk.pkcs8"
    ))
    .unwrap();
    let sk = sk.ec_key().unwrap().private_key().to_vec();

    let (mut sm, mut card_sm) = bac_sessions(&vectors()["bac"]);
    let t = chip_auth::Terminal::new(protocol, key, None).unwrap();
    let card = chip_auth::Card::new(
        ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
        &sk,
    )
    .unwrap();
    let (mut new_sm, mut new_card_sm) = run_chip_authentication(t, card, &mut sm, &mut card_sm);
    assert_eq!(new_sm.cipher(), SymmetricCipher::Tdes);
    assert_eq!(new_sm.k_enc(), new_card_sm.k_enc());
    assert_eq!(new_sm.ssc_bytes(), vec![0; 8]);
    let r = exchange(
        &mut new_sm,
        &mut new_card_sm,
        &CommandApdu::select_file(0x0101),
        |_| ResponseApdu::status(StatusWord::SUCCESS),
    );
    assert!(r.sw.is_success());

    // A chip without the private key (a clone) cannot answer under the new keys.
    let (mut sm, mut card_sm) = bac_sessions(&vectors()["bac"]);
    let t = chip_auth::Terminal::new(
        ChipAuthProtocol::default_for(&ChipPublicKey::from_subject_public_key_info(&spki).unwrap()),
        ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
        None,
    )
    .unwrap();
    let mut other = sk.clone();
    other[27] ^= 1;
    let clone = chip_auth::Card::new(
        ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
        &other,
    )
    .unwrap();
    let (mut new_sm, mut clone_sm) = run_chip_authentication(t, clone, &mut sm, &mut card_sm);
    let wire = new_sm.protect(&CommandApdu::select_file(0x0101)).unwrap();
    assert!(matches!(
        clone_sm.unprotect_command(&wire),
        Err(SmError::BadMac)
    ));
}

#[test]
fn chip_authentication_aes_with_named_curve_and_dh() {
    use openssl::derive::Deriver;
    use openssl::dh::Dh;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;

    // ECDH on P-256 (named curve) with AES-256, keyId 7.
    let ec = EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap();
    let ec_sk = ec.private_key().to_vec();
    let ec_spki = PKey::from_ec_key(ec).unwrap().public_key_to_der().unwrap();
    // DH on the RFC 5114 2048-bit group (X9.42 dhpublicnumber) with AES-128.
    let dh = Dh::get_2048_256().unwrap().generate_key().unwrap();
    let dh_sk = dh.private_key().to_vec();
    let dh_spki = PKey::from_dhx(dh).unwrap().public_key_to_der().unwrap();

    let ca_oid = |ka: u8, c: u8| vec![0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x03, ka, c];
    for (spki, sk, oid, cipher) in [
        (ec_spki, ec_sk, ca_oid(2, 4), SymmetricCipher::Aes256),
        (dh_spki, dh_sk, ca_oid(1, 2), SymmetricCipher::Aes128),
    ] {
        let protocol = ChipAuthProtocol::from_oid(&oid).unwrap();
        let key = ChipPublicKey::from_subject_public_key_info(&spki).unwrap();
        let mut t = chip_auth::Terminal::new(protocol.clone(), key, Some(7)).unwrap();
        // MSE:Set AT names the protocol and the key; GENERAL AUTHENTICATE carries the key.
        let set_at = t.start();
        assert_eq!(set_at.header(), [0x00, 0x22, 0x41, 0xA4]);
        assert_eq!(hx(set_at.data()), format!("800A{}840107", hx(&oid)));
        let chip_auth::Step::Command(ga) =
            t.next(&ResponseApdu::status(StatusWord::SUCCESS)).unwrap()
        else {
            panic!()
        };
        assert_eq!(ga.ins(), 0x86);
        let t = chip_auth::Terminal::new(
            protocol,
            ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
            Some(7),
        )
        .unwrap();
        let card = chip_auth::Card::new(
            ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
            &sk,
        )
        .unwrap();
        let secret = b"PACE shared secret";
        let mut sm = SecureMessaging::from_shared_secret(SymmetricCipher::Aes128, secret).unwrap();
        let mut card_sm =
            SecureMessaging::from_shared_secret(SymmetricCipher::Aes128, secret).unwrap();
        let (mut new_sm, mut new_card_sm) = run_chip_authentication(t, card, &mut sm, &mut card_sm);
        assert_eq!(new_sm.cipher(), cipher);
        let r = exchange(
            &mut new_sm,
            &mut new_card_sm,
            &CommandApdu::read_binary(0, 2).unwrap(),
            |_| ResponseApdu::new(vec![0x61, 0x00], StatusWord::SUCCESS),
        );
        assert_eq!(r.data, vec![0x61, 0x00]);
    }

    // The session keys agree with OpenSSL's own ECDH: KSenc = KDF(x(sk·PK_chip), 1).
    let chip = EcKey::generate(&EcGroup::from_curve_name(Nid::BRAINPOOL_P256R1).unwrap()).unwrap();
    let chip = PKey::from_ec_key(chip).unwrap();
    let terminal_key =
        EcKey::generate(&EcGroup::from_curve_name(Nid::BRAINPOOL_P256R1).unwrap()).unwrap();
    let terminal_sk = terminal_key.private_key().to_vec();
    let terminal_pkey = PKey::from_ec_key(terminal_key).unwrap();
    let mut deriver = Deriver::new(&terminal_pkey).unwrap();
    deriver.set_peer(&chip).unwrap();
    let k = deriver.derive_to_vec().unwrap();
    let key =
        ChipPublicKey::from_subject_public_key_info(&chip.public_key_to_der().unwrap()).unwrap();
    let protocol = ChipAuthProtocol::from_oid(&ca_oid(2, 2)).unwrap();
    let mut t = chip_auth::Terminal::with_private_key(protocol, key, None, &terminal_sk).unwrap();
    t.start();
    let chip_auth::Step::Command(_) = t.next(&ResponseApdu::status(StatusWord::SUCCESS)).unwrap()
    else {
        panic!()
    };
    let chip_auth::Step::Done(new_sm) = t
        .next(&ResponseApdu::new(vec![0x7C, 0x00], StatusWord::SUCCESS))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(new_sm.k_enc(), SymmetricCipher::Aes128.kdf(&k, 1).unwrap());
    assert_eq!(new_sm.k_mac(), SymmetricCipher::Aes128.kdf(&k, 2).unwrap());

    // A refusal of MSE:Set KAT is an error, and the old session stays in force.
    let spki = dg14_chip_auth(include_bytes!("data/protocol/bsi_refdataset_DG14.bin")).0;
    let key = ChipPublicKey::from_subject_public_key_info(&spki).unwrap();
    let mut t = chip_auth::Terminal::new(ChipAuthProtocol::default_for(&key), key, None).unwrap();
    assert_eq!(t.start().header(), [0x00, 0x22, 0x41, 0xA6]);
    let e = t
        .next(&ResponseApdu::status(StatusWord(0x6A80)))
        .unwrap_err();
    assert!(matches!(e, ProtocolError::Status(StatusWord(0x6A80))));
    // Not a chip authentication key or protocol.
    assert!(ChipPublicKey::from_subject_public_key_info(&[0x30, 0x00]).is_err());
    assert!(matches!(
        ChipAuthProtocol::from_oid(&[0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02]),
        Err(ProtocolError::Unsupported(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Active authentication command (ICAO 9303 Part 11 §6.1)

#[test]
fn internal_authenticate_carries_the_challenge_under_secure_messaging() {
    use icao9303::protocol::active_auth;
    let challenge: [u8; 8] = hex::decode("F173589974BF40C6").unwrap().try_into().unwrap();
    let cmd = active_auth::internal_authenticate(&challenge);
    assert_eq!(hx(&cmd.to_bytes()), "0088000008F173589974BF40C600");
    let ext = active_auth::internal_authenticate_with_ne(&challenge, 512).unwrap();
    assert_eq!(hx(&ext.to_bytes()), "00880000000008F173589974BF40C60200");
    let (mut sm, mut card_sm) = bac_sessions(&vectors()["bac"]);
    let signature = vec![0x5A; 128];
    let r = exchange(&mut sm, &mut card_sm, &cmd, |c| {
        assert_eq!(c.data(), challenge);
        ResponseApdu::new(signature.clone(), StatusWord::SUCCESS)
    });
    assert_eq!(active_auth::signature(&r).unwrap(), signature.as_slice());
    let refused = ResponseApdu::status(StatusWord::SECURITY_STATUS_NOT_SATISFIED);
    assert!(matches!(
        active_auth::signature(&refused),
        Err(ProtocolError::Status(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Robustness: chip input never panics, it is an error.

/// xorshift64*: deterministic pseudo-random bytes for the no-panic sweep.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = (self.next() as usize) % (max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_and_truncated_chip_input_gives_errors_not_panics() {
    let all = vectors();
    let sm_steps =
        &all["secure_messaging_3des (from dmrtd test/sm_test.dart, ICAO 9303-11 App. D.4)"];
    let mut rng = Rng(0x9303_0011);
    let mut inputs: Vec<Vec<u8>> = (0..300).map(|_| rng.bytes(300)).collect();
    // Every prefix of real responses, and TLV-shaped garbage.
    for step in sm_steps.as_array().unwrap() {
        let r = h(&step["protected_rapdu"]);
        inputs.extend((0..r.len()).map(|i| r[..i].to_vec()));
    }
    for tag in [0x7C, 0x87, 0x85, 0x99, 0x8E, 0x30] {
        for _ in 0..20 {
            let mut v = vec![tag, rng.next() as u8];
            v.extend(rng.bytes(40));
            inputs.push(v);
        }
    }
    for input in &inputs {
        let _ = CommandApdu::from_bytes(input);
        let Ok(response) = ResponseApdu::from_bytes(input) else {
            continue;
        };
        let (mut t, mut c) = bac_sessions(&all["bac"]);
        let _ = t.unprotect(&response);
        if let Ok(cmd) = CommandApdu::from_bytes(input) {
            let _ = c.unprotect_command(&cmd);
            let _ = pace::Card::new(
                pace_worked_example_params(&all[PACE]),
                &pace_password(&all[PACE]),
            )
            .unwrap()
            .respond(&cmd);
        }
        let mut bt = bac_terminal(&all["bac"]);
        let _ = bt.mutual_authenticate_command(&response);
        let _ = bt.finish(&response);
        let _ = ChipPublicKey::from_subject_public_key_info(input);
        let _ = PaceParameters::new(input, Some(13));
        let _ = icao9303::protocol::apdu::read_binary_data(
            &CommandApdu::read_binary(40_000, 4).unwrap(),
            input,
        );
    }
    // Garbage at each PACE step.
    let v = &all[PACE];
    for input in inputs.iter().take(120) {
        let Ok(garbage) = ResponseApdu::from_bytes(input) else {
            continue;
        };
        for steps in 0..5 {
            let mut t =
                pace::Terminal::new(pace_worked_example_params(v), &pace_password(v)).unwrap();
            let mut card =
                pace::Card::new(pace_worked_example_params(v), &pace_password(v)).unwrap();
            let mut cmd = t.start();
            for _ in 0..steps {
                let CardStep::Response(r) = card.respond(&cmd).unwrap() else {
                    break;
                };
                cmd = command(t.next(&r).unwrap());
            }
            let mut wrapped = garbage.clone();
            wrapped.sw = StatusWord::SUCCESS;
            assert!(t.next(&wrapped).is_err() || steps == 0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A whole session against an in-test chip: EF.CardAccess, PACE (or BAC when the chip has no
// PACE), reading files in blocks (odd INS above 32767, extended length), chip authentication
// with the session switch, INTERNAL AUTHENTICATE.

use std::collections::HashMap;

const EF_CARD_ACCESS: u16 = 0x011C;
const EF_DG14: u16 = 0x010E;
const EF_DG2: u16 = 0x0102;

/// A minimal chip built from the card-side halves of the protocol layer.
struct TestChip {
    files: HashMap<u16, Vec<u8>>,
    selected: Option<u16>,
    bac: bac::Card,
    pace: Option<pace::Card>,
    ca: chip_auth::Card,
    sm: Option<SecureMessaging>,
}

impl TestChip {
    fn new(with_pace: bool) -> Self {
        let all = vectors();
        let v = &all[PACE];
        let dg14 = include_bytes!("data/protocol/bsi_refdataset_DG14.bin").to_vec();
        let spki = dg14_chip_auth(&dg14).0;
        let sk = openssl::pkey::PKey::private_key_from_der(include_bytes!(
            "data/protocol/bsi_refdataset_DG14_sk.pkcs8"
        ))
        .unwrap()
        .ec_key()
        .unwrap()
        .private_key()
        .to_vec();
        let mut files = HashMap::new();
        files.insert(EF_DG14, dg14);
        files.insert(
            EF_DG2,
            (0..40_000u32).map(|i| (i * 7 % 256) as u8).collect(),
        );
        if with_pace {
            files.insert(EF_CARD_ACCESS, h(&v["ef_cardaccess"]));
        }
        let pace = with_pace
            .then(|| pace::Card::new(pace_worked_example_params(v), &pace_password(v)).unwrap());
        let bac_keys =
            bac::derive_keys(&MrzInformation::new("T22000129", "640812", "101031").unwrap());
        TestChip {
            files,
            selected: None,
            bac: bac::Card::new(bac_keys.unwrap()).unwrap(),
            pace,
            ca: chip_auth::Card::new(
                ChipPublicKey::from_subject_public_key_info(&spki).unwrap(),
                &sk,
            )
            .unwrap(),
            sm: None,
        }
    }

    fn transmit(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Ok(command) = CommandApdu::from_bytes(bytes) else {
            return StatusWord(0x6700).to_bytes().to_vec();
        };
        let protected = command.cla() & 0x0C == 0x0C;
        let plain = match (&mut self.sm, protected) {
            (Some(sm), true) => match sm.unprotect_command(&command) {
                Ok(p) => p,
                Err(_) => {
                    self.sm = None;
                    return StatusWord::SM_OBJECTS_INCORRECT.to_bytes().to_vec();
                }
            },
            (Some(_), false) if command.ins() != 0xA4 => {
                self.sm = None;
                return StatusWord::SM_OBJECTS_MISSING.to_bytes().to_vec();
            }
            (None, true) => return StatusWord::SM_OBJECTS_INCORRECT.to_bytes().to_vec(),
            _ => command,
        };
        let (response, next_sm) = self.process(&plain);
        let mut response = match (&mut self.sm, protected) {
            (Some(sm), true) => sm.protect_response(&response).unwrap(),
            _ => response,
        };
        if let Some(sm) = next_sm {
            self.sm = Some(sm);
        }
        response.data.extend_from_slice(&response.sw.to_bytes());
        response.data
    }

    fn process(&mut self, c: &CommandApdu) -> (ResponseApdu, Option<SecureMessaging>) {
        let status = |sw: u16| ResponseApdu::status(StatusWord(sw));
        match c.ins() {
            0xA4 if c.p1() == 0x04 => (status(0x9000), None),
            0xA4 => {
                let fid = u16::from_be_bytes([c.data()[0], c.data()[1]]);
                let needs_sm = fid != EF_CARD_ACCESS;
                if !self.files.contains_key(&fid) {
                    (status(0x6A82), None)
                } else if needs_sm && self.sm.is_none() {
                    (status(0x6982), None)
                } else {
                    self.selected = Some(fid);
                    (status(0x9000), None)
                }
            }
            0xB0 | 0xB1 => {
                let Some(file) = self.selected.and_then(|f| self.files.get(&f)) else {
                    return (status(0x6986), None);
                };
                let offset = if c.ins() == 0xB0 {
                    usize::from(u16::from_be_bytes([c.p1(), c.p2()]))
                } else {
                    let t = icao9303::tlv::parse_expected(c.data(), 0x54).unwrap();
                    t.value.iter().fold(0usize, |a, b| a << 8 | usize::from(*b))
                };
                let end = (offset + c.ne().unwrap_or(256)).min(file.len());
                let chunk = file.get(offset..end).unwrap_or_default().to_vec();
                let data = if c.ins() == 0xB1 {
                    let mut d = vec![0x53, 0x82];
                    d.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
                    d.extend(chunk);
                    d
                } else {
                    chunk
                };
                (ResponseApdu::new(data, StatusWord::SUCCESS), None)
            }
            0x84 => (self.bac.challenge_response(), None),
            0x82 => match self.bac.external_authenticate(c) {
                Ok((r, sm)) => (r, Some(sm)),
                Err(_) => (status(0x6300), None),
            },
            0x22 | 0x86 if self.sm.is_none() => {
                let Some(pace) = &mut self.pace else {
                    return (status(0x6D00), None);
                };
                match pace.respond(c) {
                    Ok(CardStep::Response(r)) => (r, None),
                    Ok(CardStep::Done(r, sm)) => (r, Some(sm)),
                    Err(_) => (status(0x6300), None),
                }
            }
            0x22 | 0x86 => match self.ca.respond(c) {
                Ok(chip_auth::CardStep::Response(r)) => (r, None),
                Ok(chip_auth::CardStep::Done(r, sm)) => (r, Some(sm)),
                Err(_) => (status(0x6A80), None),
            },
            0x88 => (
                ResponseApdu::new([c.data(), c.data()].concat(), StatusWord::SUCCESS),
                None,
            ),
            _ => (status(0x6D00), None),
        }
    }
}

/// The terminal's side of a session: what a reader does over its transport.
struct Reader<'a> {
    chip: &'a mut TestChip,
    sm: Option<SecureMessaging>,
}

impl Reader<'_> {
    fn plain(&mut self, c: &CommandApdu) -> ResponseApdu {
        ResponseApdu::from_bytes(&self.chip.transmit(&c.to_bytes())).unwrap()
    }

    fn secure(&mut self, c: &CommandApdu) -> Result<ResponseApdu, SmError> {
        let sm = self.sm.as_mut().unwrap();
        let wire = sm.protect(c)?;
        sm.unprotect(&ResponseApdu::from_bytes(&self.chip.transmit(&wire.to_bytes())).unwrap())
    }

    fn read_file(&mut self, fid: u16, block: usize) -> Vec<u8> {
        let r = self.secure(&CommandApdu::select_file(fid)).unwrap();
        assert!(r.sw.is_success(), "{}", r.sw);
        let mut out = Vec::new();
        loop {
            let c = CommandApdu::read_binary(out.len(), block).unwrap();
            let r = self.secure(&c).unwrap();
            let data =
                icao9303::protocol::apdu::read_binary_data(&c, r.success_data().unwrap()).unwrap();
            let done = data.len() < block;
            out.extend(data);
            if done {
                return out;
            }
        }
    }
}

#[test]
fn whole_session_pace_then_chip_authentication_then_active_authentication() {
    let all = vectors();
    let v = &all[PACE];
    let mut chip = TestChip::new(true);
    let mut reader = Reader {
        chip: &mut chip,
        sm: None,
    };

    assert!(
        reader
            .plain(&CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );
    assert!(
        reader
            .plain(&CommandApdu::select_file(EF_CARD_ACCESS))
            .sw
            .is_success()
    );
    let card_access = reader
        .plain(&CommandApdu::read_binary(0, 256).unwrap())
        .data;
    let infos = pace_infos(&card_access);
    let params = pace::choose(infos.iter().map(|(o, id)| (o.as_slice(), *id))).unwrap();
    let mut terminal = pace::Terminal::new(params, &pace_password(v)).unwrap();
    let mut cmd = terminal.start();
    let outcome = loop {
        match terminal.next(&reader.plain(&cmd)).unwrap() {
            TerminalStep::Command(c) => cmd = c,
            TerminalStep::Done(o) => break o,
        }
    };
    reader.sm = Some(outcome.sm);

    // DG14 in short-APDU blocks; a missing file is an authenticated refusal.
    let block = reader.sm.as_ref().unwrap().max_read_len(256);
    let dg14 = reader.read_file(EF_DG14, block);
    assert_eq!(
        dg14,
        include_bytes!("data/protocol/bsi_refdataset_DG14.bin")
    );
    let r = reader.secure(&CommandApdu::select_file(0x0110)).unwrap();
    assert_eq!(r.sw, StatusWord::FILE_NOT_FOUND);

    // Chip authentication with DG14's key: the session switches to the new keys.
    let (spki, ca_oid) = dg14_chip_auth(&dg14);
    let key = ChipPublicKey::from_subject_public_key_info(&spki).unwrap();
    let mut ca = chip_auth::Terminal::new(
        ChipAuthProtocol::from_oid(&ca_oid.unwrap()).unwrap(),
        key,
        None,
    )
    .unwrap();
    let mut cmd = ca.start();
    let new_sm = loop {
        let r = reader.secure(&cmd).unwrap();
        match ca.next(&r).unwrap() {
            chip_auth::Step::Command(c) => cmd = c,
            chip_auth::Step::Done(sm) => break sm,
        }
    };
    assert_eq!(new_sm.cipher(), SymmetricCipher::Tdes);
    reader.sm = Some(new_sm);

    // A 40000-byte file with extended length: offsets above 32767 use READ BINARY 'B1'.
    let dg2 = reader.read_file(EF_DG2, 1000);
    assert_eq!(dg2, reader.chip.files[&EF_DG2]);

    // INTERNAL AUTHENTICATE under the new session.
    let challenge = [1, 2, 3, 4, 5, 6, 7, 8];
    let r = reader
        .secure(&icao9303::protocol::active_auth::internal_authenticate(
            &challenge,
        ))
        .unwrap();
    assert_eq!(
        icao9303::protocol::active_auth::signature(&r).unwrap(),
        [challenge, challenge].concat()
    );

    // A command without secure messaging ends the session: the chip's plain error is an error.
    let r = reader.plain(&CommandApdu::read_binary(0, 4).unwrap());
    assert_eq!(r.sw, StatusWord::SM_OBJECTS_MISSING);
    let e = reader
        .secure(&CommandApdu::read_binary(0, 4).unwrap())
        .unwrap_err();
    assert!(matches!(e, SmError::Unprotected(_)), "{e}");
}

#[test]
fn whole_session_falls_back_to_bac_without_ef_card_access() {
    let mut chip = TestChip::new(false);
    let mut reader = Reader {
        chip: &mut chip,
        sm: None,
    };
    assert!(
        reader
            .plain(&CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );
    // No EF.CardAccess: no PACE, run BAC.
    assert_eq!(
        reader.plain(&CommandApdu::select_file(EF_CARD_ACCESS)).sw,
        StatusWord::FILE_NOT_FOUND
    );
    let keys =
        bac::derive_keys(&MrzInformation::new("T22000129", "640812", "101031").unwrap()).unwrap();
    let mut t = bac::Terminal::new(keys).unwrap();
    let challenge = reader.plain(&t.get_challenge_command());
    let ea = t.mutual_authenticate_command(&challenge).unwrap();
    let r = reader.plain(&ea);
    reader.sm = Some(t.finish(&r).unwrap());
    let dg14 = reader.read_file(EF_DG14, 0xDF);
    assert_eq!(
        dg14,
        include_bytes!("data/protocol/bsi_refdataset_DG14.bin")
    );

    // A wrong MRZ: the chip refuses EXTERNAL AUTHENTICATE with '6300'.
    let mut chip = TestChip::new(false);
    let mut reader = Reader {
        chip: &mut chip,
        sm: None,
    };
    let keys =
        bac::derive_keys(&MrzInformation::new("T22000128", "640812", "101031").unwrap()).unwrap();
    let mut t = bac::Terminal::new(keys).unwrap();
    let ea = t
        .mutual_authenticate_command(&reader.plain(&t.get_challenge_command()))
        .unwrap();
    let e = t.finish(&reader.plain(&ea)).unwrap_err();
    assert!(
        matches!(e, ProtocolError::Status(StatusWord(0x6300))),
        "{e}"
    );
}
