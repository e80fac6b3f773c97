use std::sync::OnceLock;

use icao9303::protocol::SecureMessaging;
use icao9303::protocol::apdu::{CommandApdu, ResponseApdu};
use icao9303::protocol::bac::{self, MrzInformation};
use virtual_chip::{Profile, VirtualChip};

pub fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-11-25 12:00 UTC)
}

/// One specimen per profile, issued once for the whole test binary.
pub fn document(profile: Profile) -> &'static testdoc::TestDocument {
    static DOCS: OnceLock<Vec<(Profile, testdoc::TestDocument)>> = OnceLock::new();
    let docs = DOCS.get_or_init(|| {
        Profile::ALL
            .iter()
            .map(|p| (*p, virtual_chip::issue_document(*p, now()).unwrap().1))
            .collect()
    });
    &docs.iter().find(|(p, _)| *p == profile).unwrap().1
}

pub fn chip(profile: Profile) -> VirtualChip {
    VirtualChip::for_profile(document(profile), profile).unwrap()
}

pub fn send(chip: &mut VirtualChip, command: &CommandApdu) -> ResponseApdu {
    ResponseApdu::from_bytes(&chip.transmit(&command.to_bytes())).unwrap()
}

pub fn send_protected(
    chip: &mut VirtualChip,
    sm: &mut SecureMessaging,
    command: &CommandApdu,
) -> ResponseApdu {
    let protected = sm.protect(command).unwrap();
    let response = send(chip, &protected);
    sm.unprotect(&response).unwrap()
}

pub fn mrz_of(doc: &testdoc::TestDocument) -> MrzInformation {
    let lines: Vec<&str> = doc.mrz_lines().iter().map(String::as_str).collect();
    virtual_chip::ChipContents::from_test_document(doc, "123456")
        .map(|c| c.mrz)
        .unwrap_or_else(|_| panic!("no MRZ in {lines:?}"))
}

/// Selects the eMRTD application and runs BAC with `mrz`; the raw EXTERNAL AUTHENTICATE
/// response and the terminal, to finish.
pub fn bac_session(
    chip: &mut VirtualChip,
    mrz: &MrzInformation,
) -> Result<SecureMessaging, icao9303::protocol::ProtocolError> {
    let r = send(chip, &CommandApdu::select_emrtd_application());
    assert!(r.sw.is_success());
    let mut terminal = bac::Terminal::new(bac::derive_keys(mrz).unwrap()).unwrap();
    let challenge = send(chip, &terminal.get_challenge_command());
    let auth = terminal.mutual_authenticate_command(&challenge).unwrap();
    let response = send(chip, &auth);
    terminal.finish(&response)
}
