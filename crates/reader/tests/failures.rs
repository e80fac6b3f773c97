use icao9303::lds::FileId;
use icao9303::protocol::StatusWord;
use reader::{AccessKey, ChipAuthentication, ReadError, ReadOptions, Transport, TransportError};
use virtual_chip::{ChipConfig, Profile, card_access_for};

use crate::helpers::*;

#[test]
fn wrong_mrz_is_a_clear_access_denied_with_bac_and_pace() {
    let wrong = AccessKey::from_mrz_fields("XA0000000", "700101", "300101").unwrap();
    for profile in [Profile::Bac, Profile::Pace] {
        let mut t = transport(profile);
        let err = read(&mut t, &wrong, &ReadOptions::default()).unwrap_err();
        match &err {
            ReadError::AccessDenied { protocol, sw } => {
                assert_eq!(*sw, StatusWord(0x6300));
                assert_eq!(
                    *protocol,
                    if profile == Profile::Bac {
                        "BAC"
                    } else {
                        "PACE"
                    }
                );
            }
            other => panic!("{profile}: {other:?}"),
        }
        assert!(
            err.to_string().contains("check the document number"),
            "{err}"
        );
    }
    let mut t = transport(Profile::PaceCa);
    let err = read(
        &mut t,
        &AccessKey::can("000000").unwrap(),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::AccessDenied {
                protocol: "PACE",
                ..
            }
        ),
        "{err:?}"
    );
}

/// Flips one bit of the MAC of the `nth` protected command, or of the `nth` response (and of
/// every later one when `persistent`).
struct Corrupting<T> {
    inner: T,
    count: usize,
    nth: usize,
    response: bool,
    persistent: bool,
}

impl<T: Transport> Transport for Corrupting<T> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let protected = command.first().is_some_and(|cla| cla & 0x0C == 0x0C);
        let mut target = false;
        if protected {
            self.count += 1;
            target = self.count == self.nth || (self.persistent && self.count > self.nth);
        }
        let mut command = command.to_vec();
        if target && !self.response {
            let i = command.len() - 2; // the last MAC byte, before Le
            command[i] ^= 0x01;
        }
        let mut response = self.inner.transmit(&command)?;
        if target && self.response {
            let i = response.len() - 3; // the last MAC byte, before SW1 SW2
            response[i] ^= 0x01;
        }
        Ok(response)
    }
}

#[test]
fn wrong_command_mac_ends_the_session_and_the_reader_opens_another() {
    let doc = document(Profile::Bac);
    let mut t = Corrupting {
        inner: transport(Profile::Bac),
        count: 0,
        nth: 5,
        response: false,
        persistent: false,
    };
    let mut steps = Vec::new();
    let files = reader::read_document(&mut t, &mrz_key(doc), &with_aa(), &mut |p| {
        if let reader::Progress::Step(s) = p {
            steps.push(s);
        }
    })
    .unwrap();
    assert_files(&files, doc);
    assert!(
        steps.iter().any(|s| s
            .contains("the chip terminated secure messaging (SW '6988'); authenticating again")),
        "{steps:?}"
    );

    // A link that garbles every command from then on: the reader gives up, and says why.
    let mut t = Corrupting {
        inner: transport(Profile::Bac),
        count: 0,
        nth: 5,
        response: false,
        persistent: true,
    };
    let err = read(&mut t, &mrz_key(doc), &ReadOptions::default()).unwrap_err();
    match &err {
        ReadError::SessionTerminated { sw, during } => {
            assert_eq!(*sw, StatusWord(0x6988));
            assert!(during.starts_with("reading"), "{during}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!t.inner.chip().in_session());
    assert!(err.to_string().contains("terminated secure messaging"));
}

#[test]
fn wrong_response_mac_is_detected() {
    // Once: the response is refused, a new session is opened and the file read again.
    let doc = document(Profile::Pace);
    let mut t = Corrupting {
        inner: transport(Profile::Pace),
        count: 0,
        nth: 3,
        response: true,
        persistent: false,
    };
    let files = read(&mut t, &mrz_key(doc), &with_aa()).unwrap();
    assert_files(&files, doc);

    // Every response from then on: nothing unauthenticated is ever accepted.
    let mut t = Corrupting {
        inner: transport(Profile::Pace),
        count: 0,
        nth: 3,
        response: true,
        persistent: true,
    };
    let err = read(&mut t, &mrz_key(doc), &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            ReadError::SecureMessaging {
                source: icao9303::protocol::SmError::BadMac,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn card_removed_mid_read() {
    let doc = document(Profile::Pace);
    let mut t = transport(Profile::Pace);
    t.remove_card_after(12);
    let err = read(&mut t, &mrz_key(doc), &ReadOptions::default()).unwrap_err();
    assert!(err.is_card_removed(), "{err:?}");
    assert!(err.to_string().contains("the card was removed"), "{err}");
    assert!(err.to_string().starts_with("reading "), "{err}");
}

#[test]
fn reading_before_access_control_is_6982() {
    let mut t = transport(Profile::Pace);
    let mut send = |apdu: &[u8]| t.transmit(apdu).unwrap();
    assert_eq!(
        send(&[
            0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01
        ]),
        [0x90, 0x00]
    );
    assert_eq!(
        send(&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01]),
        [0x90, 0x00]
    );
    assert_eq!(send(&[0x00, 0xB0, 0x00, 0x00, 0x00]), [0x69, 0x82]);
}

#[test]
fn clone_fails_chip_and_active_authentication() {
    let doc = document(Profile::Clone);
    let mut t = transport(Profile::Clone);
    let files = read(&mut t, &mrz_key(doc), &with_aa()).unwrap();
    // The files are all there: the clone copied them.
    assert_files(&files, doc);
    match &files.chip_authentication {
        ChipAuthentication::Failed { reason } => {
            assert!(
                reason.contains("could not continue under the new keys"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    let aa = files.active_authentication.unwrap();
    let response = aa.response.unwrap();
    assert!(!rsa_aa_verifies(doc, &aa.challenge, &response));

    // The genuine chip with the same document passes both.
    let genuine = document(Profile::Pace);
    let files = read(&mut transport(Profile::Pace), &mrz_key(genuine), &with_aa()).unwrap();
    assert!(matches!(
        files.chip_authentication,
        ChipAuthentication::Succeeded { .. }
    ));
}

#[test]
fn unsupported_protocols_are_named() {
    // A chip offering only PACE Integrated Mapping, without BAC.
    let doc = document(Profile::PaceCa);
    let mut contents = contents(doc);
    contents.files.insert(
        FileId::CardAccess,
        card_access_for(&[("0.4.0.127.0.7.2.2.4.4.2", 13)]).unwrap(),
    );
    let mut t = transport_with(contents, ChipConfig::for_profile(Profile::PaceCa));
    let err = read(&mut t, &mrz_key(doc), &ReadOptions::default()).unwrap_err();
    match &err {
        ReadError::UnsupportedProtocol(m) => {
            assert!(
                m.contains("0.4.0.127.0.7.2.2.4.4.2") && m.contains("refuses BAC"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A CAN on a BAC-only chip.
    let mut t = transport(Profile::Bac);
    let err = read(
        &mut t,
        &AccessKey::can(CAN).unwrap(),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ReadError::UnsupportedProtocol(m) if m.contains("CAN")),
        "{err:?}"
    );
}

#[test]
fn invalid_keys_are_misuse() {
    assert!(matches!(
        AccessKey::can("12a456"),
        Err(ReadError::InvalidKey(_))
    ));
    assert!(matches!(
        AccessKey::from_mrz_fields("L898902C", "6908", "940623"),
        Err(ReadError::InvalidKey(_))
    ));
}

#[test]
fn dump_uses_the_testdoc_names() {
    let doc = document(Profile::Pace);
    let files = read(&mut transport(Profile::Pace), &mrz_key(doc), &with_aa()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    reader::write_dump(&files, dir.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
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
            "aa_challenge",
            "aa_response"
        ]
    );
    for (id, bytes) in &doc.files {
        assert_eq!(
            &std::fs::read(dir.path().join(id.name())).unwrap(),
            bytes,
            "{}",
            id.name()
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("aa_challenge")).unwrap(),
        "1122334455667788\n"
    );
}

#[test]
fn a_reader_without_extended_length_gets_the_document_in_short_commands() {
    let doc = document(Profile::Pace);
    let key = mrz_key(doc);
    // The same chip on a reader that carries extended-length commands: big blocks.
    let mut capable = transport(Profile::Pace);
    let big = read(&mut capable, &key, &with_aa()).unwrap();
    assert!(big.block_size > 223, "{}", big.block_size);

    // On a reader that cannot, the first long READ BINARY fails in the transport; the card is
    // reset and read again in short commands, with the same result.
    let mut limited = transport(Profile::Pace);
    limited.refuse_extended_apdus();
    let mut steps = Vec::new();
    let files = reader::read_document(&mut limited, &key, &with_aa(), &mut |p| {
        if let reader::Progress::Step(s) = p {
            steps.push(s);
        }
    })
    .unwrap();
    assert_eq!(files.block_size, 223);
    assert_eq!(files.files, big.files);
    assert_eq!(
        files.chip_authentication,
        ChipAuthentication::Succeeded {
            protocol: "0.4.0.127.0.7.2.2.3.2.2".into()
        }
    );
    assert!(files.active_authentication.is_some());
    assert!(
        steps
            .iter()
            .any(|s| s.contains("reading again in short commands")),
        "{steps:?}"
    );

    // A block size asked for explicitly is not second-guessed: the reader's failure is reported.
    let mut limited = transport(Profile::Pace);
    limited.refuse_extended_apdus();
    let explicit = ReadOptions {
        block_size: reader::BlockSize::Fixed(1000),
        ..with_aa()
    };
    match read(&mut limited, &key, &explicit) {
        Err(ReadError::Transport {
            source: TransportError::Other(message),
            ..
        }) => assert!(message.contains("extended-length"), "{message}"),
        other => panic!("{other:?}"),
    }
}
