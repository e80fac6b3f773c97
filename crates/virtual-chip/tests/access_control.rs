use icao9303::lds::FileId;
use icao9303::protocol::apdu::{CommandApdu, StatusWord, read_binary_data};
use icao9303::protocol::bac::MrzInformation;
use icao9303::protocol::pace::{self, Password};
use icao9303::protocol::{ProtocolError, SecureMessaging};
use virtual_chip::{ChipConfig, ChipContents, Profile, VirtualChip};

use crate::helpers::*;

fn read_all(chip: &mut VirtualChip, sm: &mut SecureMessaging, fid: u16) -> Vec<u8> {
    let r = send_protected(chip, sm, &CommandApdu::select_file(fid));
    assert_eq!(r.sw, StatusWord::SUCCESS);
    let mut out = Vec::new();
    loop {
        let cmd = CommandApdu::read_binary(out.len(), 0xDF).unwrap();
        let r = send_protected(chip, sm, &cmd);
        if r.sw == StatusWord(0x6B00) {
            return out;
        }
        assert!(
            r.sw.is_success() || r.sw == StatusWord::END_OF_FILE,
            "{}",
            r.sw
        );
        out.extend(read_binary_data(&cmd, &r.data).unwrap());
        if r.sw == StatusWord::END_OF_FILE {
            return out;
        }
    }
}

#[test]
fn nothing_readable_before_access_control() {
    let mut chip = chip(Profile::Pace);
    assert!(
        send(&mut chip, &CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );
    assert!(
        send(&mut chip, &CommandApdu::select_file(0x0101))
            .sw
            .is_success()
    );
    let r = send(&mut chip, &CommandApdu::read_binary(0, 0xDF).unwrap());
    assert_eq!(r.sw, StatusWord(0x6982));
    assert!(r.data.is_empty());
    // Reading by short file identifier is refused too.
    let r = send(
        &mut chip,
        &CommandApdu::new(0, 0xB0, 0x9E, 0, vec![], Some(16)).unwrap(),
    );
    assert_eq!(r.sw, StatusWord(0x6982));
    // EF.CardAccess in the master file is public.
    assert!(
        send(
            &mut chip,
            &CommandApdu::new(0, 0xA4, 0, 0x0C, vec![0x3F, 0], None).unwrap()
        )
        .sw
        .is_success()
    );
    assert!(
        send(&mut chip, &CommandApdu::select_file(0x011C))
            .sw
            .is_success()
    );
    let r = send(&mut chip, &CommandApdu::read_binary(0, 0xDF).unwrap());
    assert_eq!(
        r.data,
        document(Profile::Pace)
            .file(testdoc::FileId::CardAccess)
            .unwrap()
    );
}

#[test]
fn bac_reads_every_file() {
    let doc = document(Profile::Bac);
    let mut chip = chip(Profile::Bac);
    let mut sm = bac_session(&mut chip, &mrz_of(doc)).unwrap();
    for (id, bytes) in &doc.files {
        if *id == testdoc::FileId::CardAccess {
            continue;
        }
        assert_eq!(
            &read_all(&mut chip, &mut sm, id.file_id()),
            bytes,
            "{}",
            id.name()
        );
    }
}

#[test]
fn wrong_mrz_is_refused_with_6300() {
    let mut chip = chip(Profile::Bac);
    let wrong = MrzInformation::new("X00000000", "700101", "300101").unwrap();
    match bac_session(&mut chip, &wrong) {
        Err(ProtocolError::Status(sw)) => assert_eq!(sw, StatusWord(0x6300)),
        other => panic!("expected 6300, got {other:?}"),
    }
    assert!(!chip.in_session());
}

#[test]
fn wrong_mac_terminates_the_session() {
    let doc = document(Profile::Bac);
    let mut chip = chip(Profile::Bac);
    let mut sm = bac_session(&mut chip, &mrz_of(doc)).unwrap();
    let mut bytes = sm
        .protect(&CommandApdu::select_file(0x0101))
        .unwrap()
        .to_bytes();
    let mac_byte = bytes.len() - 2; // before Le
    bytes[mac_byte] ^= 0x01;
    let r = icao9303::protocol::ResponseApdu::from_bytes(&chip.transmit(&bytes)).unwrap();
    assert_eq!((r.sw, r.data.len()), (StatusWord(0x6988), 0));
    assert!(!chip.in_session());
    // The old keys are gone: a correctly protected command is refused as well.
    let r = send(
        &mut chip,
        &sm.protect(&CommandApdu::select_file(0x0101)).unwrap(),
    );
    assert_eq!(r.sw, StatusWord(0x6988));
}

#[test]
fn plain_command_ends_the_session() {
    let doc = document(Profile::Bac);
    let mut chip = chip(Profile::Bac);
    let _sm = bac_session(&mut chip, &mrz_of(doc)).unwrap();
    assert!(chip.in_session());
    let r = send(&mut chip, &CommandApdu::select_file(0x0101));
    assert!(r.sw.is_success());
    assert!(!chip.in_session());
    assert_eq!(
        send(&mut chip, &CommandApdu::read_binary(0, 8).unwrap()).sw,
        StatusWord(0x6982)
    );
}

fn run_pace(chip: &mut VirtualChip, password: &Password) -> Result<SecureMessaging, ProtocolError> {
    let card_access = {
        send(chip, &CommandApdu::select_file(0x011C));
        send(chip, &CommandApdu::read_binary(0, 0xDF).unwrap()).data
    };
    let infos = icao9303::lds::CardAccess::parse(&card_access).unwrap();
    let oids: Vec<(Vec<u8>, Option<u64>)> = infos
        .security_infos
        .pace_infos
        .iter()
        .map(|p| (p.protocol.as_bytes().to_vec(), p.parameter_id))
        .collect();
    let params = pace::choose(oids.iter().map(|(o, i)| (o.as_slice(), *i))).unwrap();
    let mut terminal = pace::Terminal::new(params, password).unwrap();
    let mut command = terminal.start();
    loop {
        let r = send(chip, &command);
        match terminal.next(&r)? {
            pace::TerminalStep::Command(c) => command = c,
            pace::TerminalStep::Done(outcome) => return Ok(outcome.sm),
        }
    }
}

#[test]
fn pace_with_mrz_and_can_then_wrong_can() {
    let doc = document(Profile::PaceCa);
    let mut chip = chip(Profile::PaceCa);
    let mut sm = run_pace(&mut chip, &Password::Mrz(mrz_of(doc))).unwrap();
    assert!(
        send_protected(&mut chip, &mut sm, &CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );
    assert_eq!(
        read_all(&mut chip, &mut sm, 0x0101),
        doc.file(testdoc::FileId::Dg1).unwrap()
    );

    chip.reset();
    let mut sm = run_pace(&mut chip, &Password::Can("123456".into())).unwrap();
    assert!(
        send_protected(&mut chip, &mut sm, &CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );

    chip.reset();
    match run_pace(&mut chip, &Password::Can("654321".into())) {
        Err(ProtocolError::Status(sw)) => assert_eq!(sw, StatusWord(0x6300)),
        other => panic!("expected 6300, got {:?}", other.map(|_| ())),
    }
    // pace-ca has no BAC.
    chip.reset();
    assert!(bac_session(&mut chip, &mrz_of(doc)).is_err());
}

#[test]
fn eac_data_groups_stay_closed_and_odd_ins_reads_past_32k() {
    let doc = document(Profile::Bac);
    let mut contents = ChipContents::from_test_document(doc, "123456").unwrap();
    let big: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    contents.files.insert(FileId::Dg(3), vec![0x63, 0x01, 0x00]);
    contents.files.insert(FileId::Dg(11), big.clone());
    let mut chip = VirtualChip::new(contents, ChipConfig::for_profile(Profile::Bac)).unwrap();
    let mut sm = bac_session(&mut chip, &mrz_of(doc)).unwrap();
    assert!(
        send_protected(&mut chip, &mut sm, &CommandApdu::select_file(0x0103))
            .sw
            .is_success()
    );
    let r = send_protected(&mut chip, &mut sm, &CommandApdu::read_binary(0, 3).unwrap());
    assert_eq!(r.sw, StatusWord(0x6982));
    assert!(
        send_protected(&mut chip, &mut sm, &CommandApdu::select_file(0x010B))
            .sw
            .is_success()
    );
    let cmd = CommandApdu::read_binary(39_000, 100).unwrap();
    assert_eq!(cmd.ins(), 0xB1);
    let r = send_protected(&mut chip, &mut sm, &cmd);
    assert!(r.sw.is_success());
    let data = read_binary_data(&cmd, &r.data).unwrap();
    assert_eq!(data, big[39_000..39_098]);
    // Past the end.
    let r = send_protected(
        &mut chip,
        &mut sm,
        &CommandApdu::read_binary(40_000, 100).unwrap(),
    );
    assert_eq!(r.sw, StatusWord(0x6B00));
}

#[test]
fn internal_authenticate_needs_a_session_and_follows_the_profile() {
    let aa = CommandApdu::new(0, 0x88, 0, 0, vec![1, 2, 3, 4, 5, 6, 7, 8], Some(256)).unwrap();
    // Before access control.
    let mut bac_chip = chip(Profile::Bac);
    assert!(
        send(&mut bac_chip, &CommandApdu::select_emrtd_application())
            .sw
            .is_success()
    );
    assert_eq!(send(&mut bac_chip, &aa).sw, StatusWord(0x6982));
    // bac: a 1024-bit RSA signature; clone: as long, but made up; pace-ca: not supported.
    let mut answers = Vec::new();
    for profile in [Profile::Bac, Profile::Clone] {
        let doc = document(profile);
        let mut c = chip(profile);
        let mut sm = bac_session(&mut c, &mrz_of(doc)).unwrap();
        let r = send_protected(&mut c, &mut sm, &aa);
        assert!(r.sw.is_success());
        assert_eq!(r.data.len(), 128);
        answers.push(r.data);
    }
    assert_ne!(answers[0], answers[1]);
    let doc = document(Profile::PaceCa);
    let mut c = chip(Profile::PaceCa);
    let mut sm = run_pace(&mut c, &Password::Mrz(mrz_of(doc))).unwrap();
    assert_eq!(send_protected(&mut c, &mut sm, &aa).sw, StatusWord(0x6D00));
    // The session survives a refused command.
    assert!(c.in_session());
}
