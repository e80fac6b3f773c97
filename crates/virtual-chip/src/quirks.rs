//! Behaviours of real chips (and their reader paths) that differ from this simulator's default,
//! each of which a reader has to survive: refusing chip authentication although DG14 declares
//! it, ending secure messaging on a plain command or after an error, handing responses out
//! through GET RESPONSE, asking for a corrected Le, answering slowly, short APDUs only.

use std::str::FromStr;
use std::time::Duration;

use icao9303::protocol::apdu::StatusWord;

/// One chip behaviour, as named on the command line (`--quirk NAME[=VALUE]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// `refuse-ca=SW`: the chip does not run chip authentication although DG14 declares a key:
    /// MSE:Set KAT / Set AT is answered with this status word inside secure messaging
    /// ('6D00', '6A80' or '6A88'), and the session goes on under the old keys.
    RefuseChipAuthentication(StatusWord),
    /// `outer-9000`: a protected error answer carries the error in DO'99' (MAC-protected) but
    /// '9000' as its outer status word.
    ProtectedErrorsOuterSuccess,
    /// `plain-ends-sm`: a plain command during secure messaging is not executed: the chip
    /// answers '6988' and drops its session keys.
    PlainCommandEndsSession,
    /// `error-ends-sm`: after answering any protected command with an error status, the chip
    /// drops its session keys (the next protected command gets '6988' in plain).
    ErrorEndsSession,
    /// `get-response=N`: every response with data is announced as '61xx' and handed out by
    /// GET RESPONSE ('00 C0 00 00 Le') in pieces of at most N bytes (a T=0 chip).
    GetResponse(usize),
    /// `le-correction`: a plain READ BINARY or GET RESPONSE whose Le asks for more than is
    /// there is answered '6Cxx' (xx: the exact length); the terminal must ask again.
    LeCorrection,
    /// `slow=MS`: every answer takes this many milliseconds (really slept).
    Slow(Duration),
    /// `short-only`: no EF.ATR/INFO; extended-length commands are refused with '6700'.
    ShortOnly,
    /// `no-pace`: no EF.CardAccess, PACE refused: BAC only.
    NoPace,
}

impl Quirk {
    /// One of each kind, for test matrices (with `refuse-ca=6D00`, `get-response=64`,
    /// `slow=20`).
    pub const EXAMPLES: [Quirk; 9] = [
        Quirk::RefuseChipAuthentication(StatusWord(0x6D00)),
        Quirk::ProtectedErrorsOuterSuccess,
        Quirk::PlainCommandEndsSession,
        Quirk::ErrorEndsSession,
        Quirk::GetResponse(64),
        Quirk::LeCorrection,
        Quirk::Slow(Duration::from_millis(20)),
        Quirk::ShortOnly,
        Quirk::NoPace,
    ];
}

impl std::fmt::Display for Quirk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Quirk::RefuseChipAuthentication(sw) => write!(f, "refuse-ca={:04X}", sw.0),
            Quirk::ProtectedErrorsOuterSuccess => f.write_str("outer-9000"),
            Quirk::PlainCommandEndsSession => f.write_str("plain-ends-sm"),
            Quirk::ErrorEndsSession => f.write_str("error-ends-sm"),
            Quirk::GetResponse(n) => write!(f, "get-response={n}"),
            Quirk::LeCorrection => f.write_str("le-correction"),
            Quirk::Slow(d) => write!(f, "slow={}", d.as_millis()),
            Quirk::ShortOnly => f.write_str("short-only"),
            Quirk::NoPace => f.write_str("no-pace"),
        }
    }
}

/// The names `Quirk::from_str` takes, for error messages and `--help`.
pub const QUIRK_NAMES: &str = "refuse-ca=6D00|6A80|6A88, outer-9000, plain-ends-sm, error-ends-sm, \
get-response=N, le-correction, slow=MS, short-only, no-pace";

impl FromStr for Quirk {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        let number = |what: &str| -> Result<u64, String> {
            value
                .ok_or_else(|| format!("quirk {name} needs a value: {name}={what}"))?
                .parse::<u64>()
                .map_err(|_| format!("quirk {name}: {what} must be a whole number"))
        };
        let no_value = |q: Quirk| match value {
            None => Ok(q),
            Some(_) => Err(format!("quirk {name} takes no value")),
        };
        match name {
            "refuse-ca" => {
                let hex = value.ok_or("quirk refuse-ca needs a status word: refuse-ca=6D00")?;
                match u16::from_str_radix(hex, 16) {
                    Ok(sw) if hex.len() == 4 && !StatusWord(sw).is_success() => {
                        Ok(Quirk::RefuseChipAuthentication(StatusWord(sw)))
                    }
                    _ => Err(format!(
                        "quirk refuse-ca: {hex:?} is not an error status word (four hex digits, e.g. 6D00)"
                    )),
                }
            }
            "outer-9000" => no_value(Quirk::ProtectedErrorsOuterSuccess),
            "plain-ends-sm" => no_value(Quirk::PlainCommandEndsSession),
            "error-ends-sm" => no_value(Quirk::ErrorEndsSession),
            "get-response" => match number("BYTES")? {
                n @ 1..=256 => Ok(Quirk::GetResponse(usize::try_from(n).unwrap_or(256))),
                _ => Err("quirk get-response: BYTES is 1 to 256".into()),
            },
            "le-correction" => no_value(Quirk::LeCorrection),
            "slow" => match number("MS")? {
                ms @ 0..=60_000 => Ok(Quirk::Slow(Duration::from_millis(ms))),
                _ => Err("quirk slow: at most 60000 ms".into()),
            },
            "short-only" => no_value(Quirk::ShortOnly),
            "no-pace" => no_value(Quirk::NoPace),
            _ => Err(format!("unknown quirk {name:?} (one of: {QUIRK_NAMES})")),
        }
    }
}

/// The quirks a chip has, as flags the chip consults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quirks {
    pub refuse_chip_authentication: Option<StatusWord>,
    pub protected_errors_outer_success: bool,
    pub plain_command_ends_session: bool,
    pub error_ends_session: bool,
    pub get_response_chunk: Option<usize>,
    pub le_correction: bool,
    pub delay: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for q in Quirk::EXAMPLES {
            assert_eq!(q.to_string().parse::<Quirk>(), Ok(q));
        }
        assert_eq!(
            "refuse-ca=6a88".parse::<Quirk>(),
            Ok(Quirk::RefuseChipAuthentication(StatusWord(0x6A88)))
        );
    }

    #[test]
    fn bad_names_say_what_to_fix() {
        let err = "refuse-ca=9000".parse::<Quirk>().unwrap_err();
        assert!(err.contains("not an error status word"), "{err}");
        let err = "refuse-ca".parse::<Quirk>().unwrap_err();
        assert!(err.contains("refuse-ca=6D00"), "{err}");
        let err = "get-response=0".parse::<Quirk>().unwrap_err();
        assert!(err.contains("1 to 256"), "{err}");
        let err = "slow=x".parse::<Quirk>().unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err = "short-only=1".parse::<Quirk>().unwrap_err();
        assert!(err.contains("takes no value"), "{err}");
        let err = "wobbly".parse::<Quirk>().unwrap_err();
        assert!(
            err.contains("unknown quirk") && err.contains("le-correction"),
            "{err}"
        );
    }
}
