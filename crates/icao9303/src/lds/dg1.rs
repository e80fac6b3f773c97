//! DG1: the MRZ (ICAO 9303 Part 10 §4.7.1).

use super::{LdsError, outer};
use crate::mrz::Mrz;

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
