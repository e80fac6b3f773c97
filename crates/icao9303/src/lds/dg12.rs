//! DG12: additional document details (ICAO 9303 Part 10 §4.7.12).

use super::{LdsError, children_bounded, outer, tag_list, text};
use crate::tlv::Tag;

/// Most names kept from the "other persons" template.
const MAX_NAMES: usize = 32;

/// DG12, additional document details. Every element is optional.
///
/// ```text
/// 6C {
///   5C    tag list
///   5F19  issuing authority
///   5F26  date of issue, YYYYMMDD
///   A0 { 02 number of other persons, 5F1A name of other person … }
///   5F1B  endorsements and observations
///   5F1C  tax / exit requirements
///   5F1D  image of the front of the document (JPEG)
///   5F1E  image of the rear of the document (JPEG)
///   5F55  date and time of personalization, YYYYMMDDhhmmss
///   5F56  serial number of the personalization system
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dg12 {
    pub tags: Vec<Tag>,
    pub issuing_authority: Option<String>,
    /// As stored: `YYYYMMDD` (some older documents wrote other lengths).
    pub date_of_issue: Option<String>,
    pub other_persons: Vec<String>,
    pub endorsements_and_observations: Option<String>,
    pub tax_or_exit_requirements: Option<String>,
    pub image_of_front: Option<Vec<u8>>,
    pub image_of_rear: Option<Vec<u8>>,
    /// As stored: `YYYYMMDDhhmmss`.
    pub personalization_time: Option<String>,
    pub personalization_system_serial_number: Option<String>,
}

impl Dg12 {
    pub fn parse(data: &[u8]) -> Result<Dg12, LdsError> {
        let dg12 = outer(data, 0x6C)?;
        let mut out = Dg12::default();
        let mut reader = dg12.children();
        while let Some(element) = reader.next_tlv() {
            let element = element?;
            let value = element.value;
            match element.tag {
                0x5C => out.tags = tag_list(&element)?,
                0x5F19 => out.issuing_authority = Some(text(value)),
                0x5F26 => out.date_of_issue = Some(date_text(value)),
                0xA0 => {
                    for person in children_bounded(&element, MAX_NAMES + 1, "other persons")? {
                        if person.tag == 0x5F1A {
                            out.other_persons.push(text(person.value));
                        }
                    }
                }
                0x5F1A if out.other_persons.len() < MAX_NAMES => {
                    out.other_persons.push(text(value));
                }
                0x5F1B => out.endorsements_and_observations = Some(text(value)),
                0x5F1C => out.tax_or_exit_requirements = Some(text(value)),
                0x5F1D => out.image_of_front = Some(value.to_vec()),
                0x5F1E => out.image_of_rear = Some(value.to_vec()),
                0x5F55 => out.personalization_time = Some(text(value)),
                0x5F56 => out.personalization_system_serial_number = Some(text(value)),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The date of issue as `YYYY-MM-DD`, when stored as a valid `YYYYMMDD` date.
    pub fn date_of_issue_iso(&self) -> Option<String> {
        iso_date_from_yyyymmdd(self.date_of_issue.as_deref()?)
    }
}

/// A date element: ASCII digits, or the 4-byte BCD form (`20 10 05 01`) some documents store.
pub(crate) fn date_text(value: &[u8]) -> String {
    let bcd = value.len() == 4 && value.iter().all(|b| b >> 4 <= 9 && b & 0x0F <= 9);
    if bcd && !value.iter().all(u8::is_ascii_digit) {
        value.iter().map(|b| format!("{b:02x}")).collect()
    } else {
        text(value)
    }
}

/// `YYYYMMDD` → `YYYY-MM-DD`, checking that the date exists.
pub(crate) fn iso_date_from_yyyymmdd(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let month: u8 = s.get(4..6)?.parse().ok()?;
    let day: u8 = s.get(6..8)?.parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}
