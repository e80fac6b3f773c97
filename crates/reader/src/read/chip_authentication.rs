//! Chip authentication (ICAO 9303 Part 11 §6.2, BSI TR-03110 Part 3 §3.4): the chip proves it
//! holds DG14's private key by agreeing new session keys; a clone cannot.

use icao9303::lds::Dg14;
use icao9303::protocol::apdu::CommandApdu;
use icao9303::protocol::chip_auth::{self, ChipAuthProtocol, ChipPublicKey};

use super::channel::Channel;

/// The outcome of chip authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipAuthentication {
    /// No DG14 or no chip authentication key in it.
    NotSupported,
    /// Not asked for.
    NotRequested,
    /// The chip proved its key: the rest was read under the new session keys.
    Succeeded { protocol: String },
    /// The chip refused or could not continue with the new keys (a clone, or a broken chip);
    /// the read continued after authenticating again with the access key.
    Failed { reason: String },
}

/// Chip authentication with DG14's first key; on success the channel uses the new keys.
pub(super) fn run_chip_authentication(ch: &mut Channel<'_>, dg14: &[u8]) -> ChipAuthentication {
    let Ok(dg14) = Dg14::parse(dg14) else {
        return ChipAuthentication::Failed {
            reason: "DG14 does not parse".into(),
        };
    };
    let infos = &dg14.security_infos;
    let Some(key_info) = infos.chip_authentication_public_keys.first() else {
        return ChipAuthentication::NotSupported;
    };
    let key = match ChipPublicKey::from_subject_public_key_info(&key_info.subject_public_key_info) {
        Ok(k) => k,
        Err(e) => {
            return ChipAuthentication::Failed {
                reason: format!("DG14 key: {e}"),
            };
        }
    };
    let protocol = infos
        .chip_authentication_infos
        .iter()
        .find(|i| key_info.key_id.is_none() || i.key_id == key_info.key_id)
        .and_then(|i| ChipAuthProtocol::from_oid(i.protocol.as_bytes()).ok())
        .unwrap_or_else(|| ChipAuthProtocol::default_for(&key));
    let dotted = icao9303::oid::dotted(protocol.oid());
    let mut terminal = match chip_auth::Terminal::new(protocol, key, key_info.key_id) {
        Ok(t) => t,
        Err(e) => {
            return ChipAuthentication::Failed {
                reason: e.to_string(),
            };
        }
    };
    let during = "chip authentication";
    let mut command = terminal.start();
    let new_sm = loop {
        let response = match ch.send(&command, during) {
            Ok(r) => r,
            Err(e) => {
                return ChipAuthentication::Failed {
                    reason: e.to_string(),
                };
            }
        };
        match terminal.next(&response) {
            Ok(chip_auth::Step::Command(c)) => command = c,
            Ok(chip_auth::Step::Done(sm)) => break sm,
            Err(e) => {
                return ChipAuthentication::Failed {
                    reason: format!("the chip refused: {e}"),
                };
            }
        }
    };
    ch.sm = Some(new_sm);
    // Only the genuine chip can answer under the new keys.
    match ch.send_ok(
        &CommandApdu::select_emrtd_application(),
        "checking the session after chip authentication",
    ) {
        Ok(_) => ChipAuthentication::Succeeded { protocol: dotted },
        Err(e) => {
            ch.sm = None;
            ChipAuthentication::Failed {
                reason: format!("the chip could not continue under the new keys: {e}"),
            }
        }
    }
}
