//! The reader against chips that behave unlike our virtual chip's default, as real chips do:
//! each `virtual_chip::Quirk` alone and in the combinations met in the field. The reader must get
//! every file and report chip and active authentication as they really went.

use icao9303::protocol::StatusWord;
use reader::{AccessControl, AccessKey, ChipAuthentication, Progress};
use virtual_chip::{ChipConfig, Profile, Quirk};

use crate::helpers::*;

fn chip(profile: Profile, quirks: &[Quirk]) -> virtual_chip::VirtualTransport {
    let config = quirks
        .iter()
        .fold(ChipConfig::for_profile(profile), |c, q| c.with_quirk(*q));
    transport_with(contents(document(profile)), config)
}

/// Reads with every access key the chip takes; checks the files, CA and AA; returns the
/// protocol steps of the last read.
fn read_all_ways(profile: Profile, quirks: &[Quirk]) -> Vec<String> {
    let doc = document(profile);
    let pace = profile != Profile::Bac && !quirks.contains(&Quirk::NoPace);
    let mut keys = vec![mrz_key(doc)];
    if pace {
        keys.push(AccessKey::can(CAN).unwrap());
    }
    let refused = quirks.iter().find_map(|q| match q {
        Quirk::RefuseChipAuthentication(sw) => Some(*sw),
        _ => None,
    });
    let mut steps = Vec::new();
    for key in keys {
        let mut t = chip(profile, quirks);
        steps.clear();
        let files = reader::read_document(&mut t, &key, &with_aa(), &mut |p| {
            if let Progress::Step(s) = p {
                steps.push(s);
            }
        })
        .unwrap_or_else(|e| panic!("{profile} with {quirks:?}, {key:?}: {e}"));
        assert_files(&files, doc);
        assert_eq!(
            matches!(files.access_control, AccessControl::Pace { .. }),
            pace,
            "{quirks:?}: {:?}",
            files.access_control
        );
        let has_ca_key = profile != Profile::Bac;
        match (&files.chip_authentication, refused, has_ca_key) {
            (ChipAuthentication::Failed { reason }, Some(sw), true) => {
                assert!(reason.contains(&sw.to_string()), "{quirks:?}: {reason}");
            }
            (ChipAuthentication::Succeeded { .. }, None, true) => {}
            (ChipAuthentication::NotSupported, _, false) => {}
            (other, ..) => panic!("{profile} with {quirks:?}: chip authentication {other:?}"),
        }
        if profile != Profile::PaceCa {
            let aa = files.active_authentication.expect("DG15 and a challenge");
            let response = aa
                .response
                .as_ref()
                .unwrap_or_else(|e| panic!("{quirks:?}: {e}"));
            assert!(rsa_aa_verifies(doc, &aa.challenge, response), "{quirks:?}");
        }
    }
    steps
}

#[test]
fn each_quirk_alone() {
    for quirk in Quirk::EXAMPLES {
        for profile in [Profile::Pace, Profile::Bac] {
            read_all_ways(profile, &[quirk]);
        }
    }
}

#[test]
fn chip_authentication_refused_inside_secure_messaging_reads_on() {
    for sw in [0x6D00, 0x6A80, 0x6A88] {
        let quirk = Quirk::RefuseChipAuthentication(StatusWord(sw));
        let steps = read_all_ways(Profile::Pace, &[quirk]);
        // The refusal left the session usable: no second access control.
        assert!(
            !steps.iter().any(|s| s.contains("again")),
            "{sw:04X}: {steps:?}"
        );
        // The same with the error under an outer '9000', and from a PACE-only chip.
        read_all_ways(Profile::Pace, &[quirk, Quirk::ProtectedErrorsOuterSuccess]);
        read_all_ways(Profile::PaceCa, &[quirk]);
    }
}

/// The chip of the field report: BAC only, DG14 declaring chip authentication that the chip
/// refuses with '6D00' inside secure messaging (outer '9000'), and '6988' to any plain command
/// during secure messaging.
#[test]
fn the_field_report_chip() {
    read_all_ways(
        Profile::Pace,
        &[
            Quirk::NoPace,
            Quirk::RefuseChipAuthentication(StatusWord(0x6D00)),
            Quirk::ProtectedErrorsOuterSuccess,
            Quirk::PlainCommandEndsSession,
        ],
    );
}

#[test]
fn a_chip_that_ends_secure_messaging_after_an_error_is_opened_again() {
    // The refused chip authentication is the error; the next command meets a chip without
    // keys ('6988'): the reader authenticates again and reads the rest.
    let quirks = [
        Quirk::RefuseChipAuthentication(StatusWord(0x6A88)),
        Quirk::ErrorEndsSession,
        Quirk::PlainCommandEndsSession,
    ];
    let steps = read_all_ways(Profile::Pace, &quirks);
    assert!(
        steps
            .iter()
            .any(|s| s.contains("terminated secure messaging (SW '6988'); authenticating again")),
        "{steps:?}"
    );
    read_all_ways(Profile::Bac, &quirks);
}

#[test]
fn get_response_and_le_correction_together() {
    for chunk in [1, 7, 64, 256] {
        read_all_ways(
            Profile::Pace,
            &[Quirk::GetResponse(chunk), Quirk::LeCorrection],
        );
    }
    read_all_ways(
        Profile::Bac,
        &[
            Quirk::GetResponse(32),
            Quirk::LeCorrection,
            Quirk::ShortOnly,
            Quirk::PlainCommandEndsSession,
        ],
    );
}

#[test]
fn chip_authentication_proven_again_after_the_chip_ended_its_session() {
    // CA succeeds; then the chip drops its session on a listed but absent file's SELECT error
    // ('6A82' + error-ends-sm). The reader opens a new session and proves the chip again
    // before reading on, so every file still comes from the chip that proved its key.
    let doc = document(Profile::Pace);
    let mut contents = contents(doc);
    let com = contents
        .files
        .get(&icao9303::lds::FileId::Com)
        .unwrap()
        .clone();
    // EF.COM lists DG11, which the chip does not hold.
    let com = add_dg_to_com(&com, 0x6B);
    contents.files.insert(icao9303::lds::FileId::Com, com);
    let config = ChipConfig::for_profile(Profile::Pace).with_quirk(Quirk::ErrorEndsSession);
    let mut t = transport_with(contents, config);
    let mut steps = Vec::new();
    let files = reader::read_document(&mut t, &mrz_key(doc), &with_aa(), &mut |p| {
        if let Progress::Step(s) = p {
            steps.push(s);
        }
    })
    .unwrap();
    assert!(files.skipped.contains(&icao9303::lds::FileId::Dg(11)));
    assert!(
        matches!(
            files.chip_authentication,
            ChipAuthentication::Succeeded { .. }
        ),
        "{:?}",
        files.chip_authentication
    );
    assert!(
        steps.iter().any(|s| s == "chip authentication again"),
        "{steps:?}"
    );
}

/// EF.COM with one more tag in its DO'5C' tag list.
fn add_dg_to_com(com: &[u8], tag: u8) -> Vec<u8> {
    let parsed = icao9303::lds::EfCom::parse(com).unwrap();
    let mut tags: Vec<u8> = parsed
        .data_groups()
        .iter()
        .filter_map(|f| f.tag())
        .filter_map(|t| u8::try_from(t).ok())
        .collect();
    tags.push(tag);
    // 60 { 5F01 "0107", 5F36 "040000", 5C tags }
    let mut inner = vec![0x5F, 0x01, 0x04];
    inner.extend_from_slice(b"0107");
    inner.extend_from_slice(&[0x5F, 0x36, 0x06]);
    inner.extend_from_slice(b"040000");
    inner.push(0x5C);
    inner.push(u8::try_from(tags.len()).unwrap());
    inner.extend_from_slice(&tags);
    let mut out = vec![0x60, u8::try_from(inner.len()).unwrap()];
    out.extend(inner);
    out
}
