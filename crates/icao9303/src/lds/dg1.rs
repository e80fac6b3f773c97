//! DG1: the MRZ (ICAO 9303 Part 10 §4.7.1).

use super::{Dg11, Dg12, LdsError, outer};
use crate::mrz::{Identity, Mrz};

/// DG1, the machine readable zone as printed on the document.
///
/// ```text
/// 61 {
///   5F1F  MRZ data: the MRZ lines concatenated, 90 (TD1), 72 (TD2/MRV-B) or 88 (TD3/MRV-A)
///         characters, no separators
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dg1 {
    pub mrz: Mrz,
}

impl Dg1 {
    pub fn parse(data: &[u8]) -> Result<Dg1, LdsError> {
        let dg1 = outer(data, 0x61)?;
        let mut reader = dg1.children();
        let field = reader.expect(0x5F1F)?;
        let invalid = LdsError::Invalid {
            offset: field.value_offset,
            what: "MRZ characters",
        };
        let text = std::str::from_utf8(field.value).map_err(|_| invalid)?;
        // The MRZ never holds line separators in DG1: reject them instead of re-splitting.
        if text.contains(['\n', '\r']) {
            return Err(LdsError::Invalid {
                offset: field.value_offset,
                what: "MRZ characters",
            });
        }
        let mrz = Mrz::parse_lines(&[text]).map_err(|source| LdsError::Mrz {
            offset: field.value_offset,
            source,
        })?;
        Ok(Dg1 { mrz })
    }
}

impl Dg1 {
    /// The identity the API reports, from the MRZ, completed by the optional data groups:
    /// `issuer` from DG12's issuing authority; the personal number from DG11 when the MRZ has
    /// none; the date of birth from DG11's full date when the MRZ leaves day or month unknown.
    pub fn identity(
        &self,
        dg11: Option<&Dg11>,
        dg12: Option<&Dg12>,
        today: time::Date,
    ) -> Identity {
        let mut identity = self.mrz.identity(today);
        let non_empty = |s: Option<&String>| {
            s.map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        identity.issuer = non_empty(dg12.and_then(|d| d.issuing_authority.as_ref()));
        if let Some(dg11) = dg11 {
            if identity.personal_number.is_none() {
                identity.personal_number = non_empty(dg11.personal_number.as_ref());
            }
            if identity.date_of_birth.is_none() {
                identity.date_of_birth = dg11.full_date_of_birth_iso();
            }
        }
        identity
    }
}
