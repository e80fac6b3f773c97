//! Access control (ICAO 9303 Part 11 §4): PACE when EF.CardAccess offers a protocol this reader
//! runs, else BAC; the access key both derive their keys from.

use icao9303::lds::CardAccess;
use icao9303::protocol::ProtocolError;
use icao9303::protocol::SecureMessaging;
use icao9303::protocol::apdu::CommandApdu;
use icao9303::protocol::bac::{self, MrzInformation};
use icao9303::protocol::pace::{self, Password};

use super::Progress;
use super::channel::Channel;
use crate::ReadError;

/// The key that opens the chip: the MRZ information (BAC or PACE) or the CAN (PACE only).
#[derive(Clone, Debug)]
pub enum AccessKey {
    Mrz(MrzInformation),
    Can(String),
}

impl AccessKey {
    /// From the document number and the dates of birth and expiry (YYMMDD).
    pub fn from_mrz_fields(
        document_number: &str,
        date_of_birth: &str,
        date_of_expiry: &str,
    ) -> Result<Self, ReadError> {
        MrzInformation::new(document_number, date_of_birth, date_of_expiry)
            .map(AccessKey::Mrz)
            .map_err(|e| ReadError::InvalidKey(e.to_string()))
    }

    /// From the printed MRZ lines (TD1: three, TD2/TD3: two).
    pub fn from_mrz_lines(lines: &[&str]) -> Result<Self, ReadError> {
        let mrz = icao9303::mrz::Mrz::parse_lines(lines)
            .map_err(|e| ReadError::InvalidKey(format!("MRZ: {e}")))?;
        let number = mrz.document_number.trim_end_matches('<').to_owned();
        AccessKey::from_mrz_fields(&number, &mrz.date_of_birth, &mrz.date_of_expiry)
    }

    /// The Card Access Number (digits).
    pub fn can(can: &str) -> Result<Self, ReadError> {
        if can.is_empty() || !can.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReadError::InvalidKey("the CAN is digits only".into()));
        }
        Ok(AccessKey::Can(can.to_owned()))
    }

    fn password(&self) -> Password {
        match self {
            AccessKey::Mrz(m) => Password::Mrz(m.clone()),
            AccessKey::Can(c) => Password::Can(c.clone()),
        }
    }
}

/// How access was gained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessControl {
    Bac,
    Pace {
        /// The protocol OID (dotted), e.g. `0.4.0.127.0.7.2.2.4.2.2`.
        protocol: String,
        parameter_id: u64,
        /// Whether the CAN (else the MRZ) was the password.
        can: bool,
    },
}

/// A PACE protocol EF.CardAccess offers (a PACEInfo, Part 11 §9.2.1).
#[derive(Debug, Clone)]
pub(super) struct PaceOffer {
    /// The protocol OID's content octets.
    oid: Vec<u8>,
    parameter_id: Option<u64>,
    /// The protocol OID, dotted, for messages.
    dotted: String,
}

/// The PACE protocols EF.CardAccess offers (none when it is absent or does not parse).
pub(super) fn pace_offers(card_access: Option<&[u8]>) -> Vec<PaceOffer> {
    card_access
        .and_then(|b| CardAccess::parse(b).ok())
        .map(|ca| {
            ca.security_infos
                .pace_infos
                .iter()
                .map(|p| PaceOffer {
                    oid: p.protocol.as_bytes().to_vec(),
                    parameter_id: p.parameter_id,
                    dotted: p.protocol.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The offered protocols, dotted and comma-separated, for messages.
fn list(offers: &[PaceOffer]) -> String {
    offers
        .iter()
        .map(|o| o.dotted.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// PACE when offered and supported (falling back to BAC on anything but a refused password),
/// else BAC. Leaves the eMRTD application selected and a session open.
pub(super) fn establish_access(
    ch: &mut Channel<'_>,
    key: &AccessKey,
    use_pace: bool,
    offers: &[PaceOffer],
    progress: &mut dyn FnMut(Progress),
) -> Result<AccessControl, ReadError> {
    ch.sm = None;
    let chosen = if use_pace {
        pace::choose(offers.iter().map(|o| (o.oid.as_slice(), o.parameter_id)))
    } else {
        None
    };
    let mut pace_error = None;
    if let Some(params) = chosen {
        progress(Progress::Step("PACE".into()));
        let protocol = offers
            .iter()
            .find(|o| o.oid.as_slice() == params.protocol().oid())
            .map(|o| o.dotted.clone())
            .unwrap_or_default();
        let parameter_id = params.parameter_id();
        match run_pace(ch, params, key) {
            Ok(sm) => {
                ch.sm = Some(sm);
                ch.send_ok(
                    &CommandApdu::select_emrtd_application(),
                    "selecting the eMRTD application",
                )?;
                return Ok(AccessControl::Pace {
                    protocol,
                    parameter_id,
                    can: matches!(key, AccessKey::Can(_)),
                });
            }
            Err(e @ (ReadError::AccessDenied { .. } | ReadError::Transport { .. })) => {
                return Err(e);
            }
            Err(e) => pace_error = Some(e),
        }
    }
    let AccessKey::Mrz(mrz) = key else {
        return Err(ReadError::UnsupportedProtocol(match pace_error {
            Some(e) => format!("PACE failed ({e}) and a CAN cannot be used with BAC"),
            None if offers.is_empty() => {
                "the chip does not offer PACE, and a CAN only works with PACE: use the MRZ".into()
            }
            None => format!(
                "the chip offers only PACE protocols this reader does not run ({}); a CAN only works with PACE",
                list(offers)
            ),
        }));
    };
    establish_bac(ch, mrz, pace_error, offers, progress)
}

/// The eMRTD application selected in plain, then BAC. `pace_error` (PACE was tried and failed)
/// and `offers` only explain a chip that refuses BAC.
fn establish_bac(
    ch: &mut Channel<'_>,
    mrz: &MrzInformation,
    pace_error: Option<ReadError>,
    offers: &[PaceOffer],
    progress: &mut dyn FnMut(Progress),
) -> Result<AccessControl, ReadError> {
    progress(Progress::Step("BAC".into()));
    let during = "selecting the eMRTD application";
    let r = ch.plain_restarting(&CommandApdu::select_emrtd_application(), during)?;
    if !r.sw.is_success() {
        return Err(ReadError::Chip {
            during: during.into(),
            sw: r.sw,
        });
    }
    match run_bac(ch, mrz) {
        Ok(sm) => {
            ch.sm = Some(sm);
            Ok(AccessControl::Bac)
        }
        Err(ReadError::Chip { sw, .. }) if sw.0 == 0x6D00 || sw.0 == 0x6A86 => Err(
            ReadError::UnsupportedProtocol(match (pace_error, offers.is_empty()) {
                (Some(e), _) => format!("PACE failed ({e}) and the chip refuses BAC ({sw})"),
                (None, true) => format!("the chip offers no PACE and refuses BAC ({sw})"),
                (None, false) => format!(
                    "the chip offers only PACE protocols this reader does not run ({}) and refuses BAC ({sw})",
                    list(offers)
                ),
            }),
        ),
        Err(e) => Err(e),
    }
}

/// A protocol failure as a read error: a refused password ('6300', '63Cx') is
/// [`ReadError::AccessDenied`].
fn protocol_error(during: &str, e: ProtocolError, protocol: &'static str) -> ReadError {
    match e {
        ProtocolError::Status(sw) if sw.0 == 0x6300 || sw.0 & 0xFFF0 == 0x63C0 => {
            ReadError::AccessDenied { protocol, sw }
        }
        ProtocolError::Status(sw) => ReadError::Chip {
            during: during.to_owned(),
            sw,
        },
        source => ReadError::Protocol {
            during: during.to_owned(),
            source,
        },
    }
}

fn run_bac(ch: &mut Channel<'_>, mrz: &MrzInformation) -> Result<SecureMessaging, ReadError> {
    let during = "BAC";
    let keys = bac::derive_keys(mrz).map_err(|e| protocol_error(during, e, "BAC"))?;
    let mut terminal = bac::Terminal::new(keys).map_err(|e| protocol_error(during, e, "BAC"))?;
    let challenge = ch.plain(&terminal.get_challenge_command(), during)?;
    let command = terminal
        .mutual_authenticate_command(&challenge)
        .map_err(|e| protocol_error(during, e, "BAC"))?;
    let response = ch.plain(&command, during)?;
    terminal
        .finish(&response)
        .map_err(|e| protocol_error(during, e, "BAC"))
}

fn run_pace(
    ch: &mut Channel<'_>,
    params: pace::PaceParameters,
    key: &AccessKey,
) -> Result<SecureMessaging, ReadError> {
    let during = "PACE";
    let mut terminal = pace::Terminal::new(params, &key.password())
        .map_err(|e| protocol_error(during, e, "PACE"))?;
    let mut response = ch.plain_restarting(&terminal.start(), during)?;
    loop {
        match terminal
            .next(&response)
            .map_err(|e| protocol_error(during, e, "PACE"))?
        {
            pace::TerminalStep::Command(c) => response = ch.plain(&c, during)?,
            pace::TerminalStep::Done(outcome) => return Ok(outcome.sm),
        }
    }
}
