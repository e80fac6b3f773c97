//! DG11: additional personal details (ICAO 9303 Part 10 §4.7.11).

use super::dg12::{date_text, iso_date_from_yyyymmdd};
use super::{LdsError, children_bounded, outer, tag_list, text};
use crate::tlv::Tag;

/// Most other names kept.
const MAX_NAMES: usize = 32;

/// DG11, additional personal details. Every element is optional; name fields separate the
/// primary and secondary identifiers with `<<` as in the MRZ, but in national characters.
///
/// ```text
/// 6B {
///   5C    tag list
///   5F0E  full name
///   A0 { 02 number of other names, 5F0F other name … }
///   5F10  personal number
///   5F2B  full date of birth, YYYYMMDD
///   5F11  place of birth
///   5F42  permanent address
///   5F12  telephone
///   5F13  profession
///   5F14  title
///   5F15  personal summary
///   5F16  proof of citizenship (image)
///   5F17  other valid TD numbers
///   5F18  custody information
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dg11 {
    pub tags: Vec<Tag>,
    pub full_name: Option<String>,
    pub other_names: Vec<String>,
    pub personal_number: Option<String>,
    /// As stored: `YYYYMMDD`.
    pub full_date_of_birth: Option<String>,
    pub place_of_birth: Option<String>,
    pub permanent_address: Option<String>,
    pub telephone: Option<String>,
    pub profession: Option<String>,
    pub title: Option<String>,
    pub personal_summary: Option<String>,
    pub proof_of_citizenship: Option<Vec<u8>>,
    pub other_valid_td_numbers: Option<String>,
    pub custody_information: Option<String>,
}

impl Dg11 {
    pub fn parse(data: &[u8]) -> Result<Dg11, LdsError> {
        let dg11 = outer(data, 0x6B)?;
        let mut out = Dg11::default();
        let mut reader = dg11.children();
        while let Some(element) = reader.next_tlv() {
            let element = element?;
            let value = element.value;
            match element.tag {
                0x5C => out.tags = tag_list(&element)?,
                0x5F0E => out.full_name = Some(text(value)),
                0xA0 => {
                    for name in children_bounded(&element, MAX_NAMES + 1, "other names")? {
                        if name.tag == 0x5F0F {
                            out.other_names.push(text(name.value));
                        }
                    }
                }
                // Some issuers put 5F0F directly in the template, without A0.
                0x5F0F if out.other_names.len() < MAX_NAMES => out.other_names.push(text(value)),
                0x5F10 => out.personal_number = Some(text(value)),
                0x5F2B => out.full_date_of_birth = Some(date_text(value)),
                0x5F11 => out.place_of_birth = Some(text(value)),
                0x5F42 => out.permanent_address = Some(text(value)),
                0x5F12 => out.telephone = Some(text(value)),
                0x5F13 => out.profession = Some(text(value)),
                0x5F14 => out.title = Some(text(value)),
                0x5F15 => out.personal_summary = Some(text(value)),
                0x5F16 => out.proof_of_citizenship = Some(value.to_vec()),
                0x5F17 => out.other_valid_td_numbers = Some(text(value)),
                0x5F18 => out.custody_information = Some(text(value)),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The full date of birth as `YYYY-MM-DD`, when stored as a valid `YYYYMMDD` date.
    pub fn full_date_of_birth_iso(&self) -> Option<String> {
        iso_date_from_yyyymmdd(self.full_date_of_birth.as_deref()?)
    }
}
