//! Chip profiles: which protocols a simulated chip runs and which keys it can use.

use std::str::FromStr;

use icao9303::tlv;
use time::OffsetDateTime;

use crate::{ChipError, LinkModel, Quirk, Quirks};

/// The named profiles of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// BAC only (no EF.CardAccess), with Active Authentication.
    Bac,
    /// PACE and BAC, chip authentication and Active Authentication.
    Pace,
    /// PACE only, chip authentication, no Active Authentication.
    PaceCa,
    /// The same files as `pace`, copied onto a chip without the private keys: it goes through
    /// the motions of chip and Active Authentication but cannot answer them correctly.
    Clone,
}

impl Profile {
    pub const ALL: [Profile; 4] = [Profile::Bac, Profile::Pace, Profile::PaceCa, Profile::Clone];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Bac => "bac",
            Profile::Pace => "pace",
            Profile::PaceCa => "pace-ca",
            Profile::Clone => "clone",
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| format!("unknown profile {s:?} (bac, pace, pace-ca, clone)"))
    }
}

/// How the chip uses a private key for chip or Active Authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Answers with the document's private key (refuses with '6A88' if the document has none).
    Genuine,
    /// Answers '9000' (chip authentication: keeps the old session keys; Active Authentication:
    /// random bytes), as a clone without the key would.
    Pretend,
    /// Not supported: MSE for chip authentication answers '6A88' (no such key), INTERNAL
    /// AUTHENTICATE '6D00'.
    Refuse,
}

/// What a simulated chip supports.
#[derive(Debug, Clone)]
pub struct ChipConfig {
    /// BAC (GET CHALLENGE + EXTERNAL AUTHENTICATE).
    pub bac: bool,
    /// PACE: EF.CardAccess is served and MSE:Set AT / GENERAL AUTHENTICATE answered.
    pub pace: bool,
    pub chip_authentication: KeyUse,
    pub active_authentication: KeyUse,
    /// Extended length: the maximum command and response APDU lengths announced in EF.ATR/INFO
    /// (ISO/IEC 7816-4 DO'7F66'); `None`: no EF.ATR/INFO, extended-length APDUs refused '6700'.
    pub extended_length: Option<u16>,
    /// The link model whose time [`crate::VirtualChip::stats`] accumulates.
    pub link: Option<LinkModel>,
    /// Behaviours of real chips that differ from the default (see [`Quirk`]).
    pub quirks: Quirks,
}

impl ChipConfig {
    pub fn for_profile(profile: Profile) -> Self {
        let (bac, pace, ca, aa) = match profile {
            Profile::Bac => (true, false, KeyUse::Refuse, KeyUse::Genuine),
            Profile::Pace => (true, true, KeyUse::Genuine, KeyUse::Genuine),
            Profile::PaceCa => (false, true, KeyUse::Genuine, KeyUse::Refuse),
            Profile::Clone => (true, true, KeyUse::Pretend, KeyUse::Pretend),
        };
        ChipConfig {
            bac,
            pace,
            chip_authentication: ca,
            active_authentication: aa,
            extended_length: Some(2048),
            link: None,
            quirks: Quirks::default(),
        }
    }

    /// This configuration with one more behaviour of a real chip.
    pub fn with_quirk(mut self, quirk: Quirk) -> Self {
        let q = &mut self.quirks;
        match quirk {
            Quirk::RefuseChipAuthentication(sw) => q.refuse_chip_authentication = Some(sw),
            Quirk::ProtectedErrorsOuterSuccess => q.protected_errors_outer_success = true,
            Quirk::PlainCommandEndsSession => q.plain_command_ends_session = true,
            Quirk::ErrorEndsSession => q.error_ends_session = true,
            Quirk::GetResponse(n) => q.get_response_chunk = Some(n),
            Quirk::LeCorrection => q.le_correction = true,
            Quirk::Slow(d) => q.delay = Some(d),
            Quirk::ShortOnly => self.extended_length = None,
            Quirk::NoPace => self.pace = false,
        }
        self
    }
}

/// Issues a specimen document fitting the profile: `bac` has no EF.CardAccess and no chip
/// authentication key, `pace-ca` no Active Authentication key, `pace` and `clone` everything.
pub fn issue_document(
    profile: Profile,
    now: OffsetDateTime,
) -> Result<(testdoc::Csca, testdoc::TestDocument), ChipError> {
    use testdoc::{
        Csca, CscaOptions, DocumentBuilder, DocumentSignerOptions, Holder, KeyAlgorithm,
    };
    let mut csca = Csca::generate(&CscaOptions::new("NL", now))?;
    let ds =
        csca.issue_document_signer(&DocumentSignerOptions::new(KeyAlgorithm::Rsa(2048), now))?;
    let builder = DocumentBuilder::new(Holder::specimen());
    let builder = match profile {
        Profile::Bac => builder.pace(None).ca_key(None),
        Profile::PaceCa => builder.aa_key(None),
        Profile::Pace | Profile::Clone => builder,
    };
    Ok((csca, builder.build(&ds)?))
}

/// EF.CardAccess offering these PACE protocols (dotted OIDs such as
/// `0.4.0.127.0.7.2.2.4.2.2`, id-PACE-ECDH-GM-AES-CBC-CMAC-128) with standardized domain
/// parameter ids: `SET OF PACEInfo { protocol, version 2, parameterId }` (Part 11 §9.2.1).
pub fn card_access_for(offers: &[(&str, u64)]) -> Result<Vec<u8>, ChipError> {
    let mut infos = Vec::new();
    for (oid, id) in offers {
        let oid = const_oid::ObjectIdentifier::new(oid)
            .map_err(|e| ChipError::InvalidDocument(format!("OID {oid}: {e}")))?;
        infos.push(tlv::sequence(&[
            &tlv::object_identifier(&oid),
            &tlv::integer_u64(2),
            &tlv::integer_u64(*id),
        ]));
    }
    let infos: Vec<&[u8]> = infos.iter().map(Vec::as_slice).collect();
    Ok(tlv::set_of(&infos))
}

#[cfg(test)]
mod tests {
    use icao9303::lds::CardAccess;

    use super::*;

    #[test]
    fn profile_names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>().unwrap(), p);
        }
        assert!("pace-cam".parse::<Profile>().is_err());
    }

    #[test]
    fn card_access_parses_back() {
        let bytes = card_access_for(&[
            ("0.4.0.127.0.7.2.2.4.2.2", 13),
            ("0.4.0.127.0.7.2.2.4.1.1", 0),
        ])
        .unwrap();
        let ca = CardAccess::parse(&bytes).unwrap();
        let mut got: Vec<(String, Option<u64>)> = ca
            .security_infos
            .pace_infos
            .iter()
            .map(|p| (p.protocol.to_string(), p.parameter_id))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("0.4.0.127.0.7.2.2.4.1.1".to_owned(), Some(0)),
                ("0.4.0.127.0.7.2.2.4.2.2".to_owned(), Some(13))
            ]
        );
    }
}
