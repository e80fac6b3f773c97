//! The holder's data and its machine readable zone (ICAO 9303 Part 3 §4.9, Parts 4 and 5).

use time::{Date, Month};

use crate::Error;

/// The MRZ layout of the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MrzFormat {
    /// TD1: ID card size, 3 lines of 30 characters (ICAO 9303 Part 5).
    Td1,
    /// TD3: passport booklet, 2 lines of 44 characters (ICAO 9303 Part 4).
    Td3,
}

/// Sex as printed in the MRZ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
    /// Unspecified, `<` in the MRZ (ICAO 9303 Part 4 §4.2.2).
    Unspecified,
}

impl Sex {
    fn mrz_char(self) -> char {
        match self {
            Sex::Male => 'M',
            Sex::Female => 'F',
            Sex::Unspecified => '<',
        }
    }
}

/// Everything printed about the holder and the document, from which DG1 is made.
///
/// Text fields are uppercased; spaces, hyphens and apostrophes become fillers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub format: MrzFormat,
    /// Document code: `P` (passport), `I`, `ID`, `A`, `C`… (one or two characters).
    pub document_code: String,
    /// Issuing state or organisation, 3 letters (ICAO 9303 Part 3 §5).
    pub issuing_state: String,
    pub surname: String,
    pub given_names: String,
    /// At most 9 characters.
    pub document_number: String,
    pub nationality: String,
    pub date_of_birth: Date,
    pub sex: Sex,
    pub date_of_expiry: Date,
    /// TD3: personal number or optional data (14); TD1: optional data of line 1 (15).
    pub optional_data: String,
    /// TD1 only: optional data of line 2 (11).
    pub optional_data_2: String,
}

impl Holder {
    /// A fictional Dutch passport holder, valid until 2036-03-13.
    pub fn specimen() -> Holder {
        Holder {
            format: MrzFormat::Td3,
            document_code: "P".to_owned(),
            issuing_state: "NLD".to_owned(),
            surname: "VAN DER STEEN".to_owned(),
            given_names: "LOTTE JOHANNA".to_owned(),
            document_number: "XR4K71PT9".to_owned(),
            nationality: "NLD".to_owned(),
            date_of_birth: date(1987, Month::June, 21),
            sex: Sex::Female,
            date_of_expiry: date(2036, Month::March, 13),
            optional_data: "998877665".to_owned(),
            optional_data_2: String::new(),
        }
    }

    /// A fictional German identity card holder (TD1), valid until 2035-08-31.
    pub fn specimen_id_card() -> Holder {
        Holder {
            format: MrzFormat::Td1,
            document_code: "ID".to_owned(),
            issuing_state: "DEU".to_owned(),
            surname: "SCHNEIDER-WOLF".to_owned(),
            given_names: "JONAS".to_owned(),
            document_number: "T22000129".to_owned(),
            nationality: "DEU".to_owned(),
            date_of_birth: date(1979, Month::November, 2),
            sex: Sex::Male,
            date_of_expiry: date(2035, Month::August, 31),
            optional_data: String::new(),
            optional_data_2: String::new(),
        }
    }

    /// The MRZ lines, with every check digit computed.
    pub fn mrz_lines(&self) -> Result<Vec<String>, Error> {
        let code = field("document code", &self.document_code, 2)?;
        let state = field("issuing state", &self.issuing_state, 3)?;
        let nationality = field("nationality", &self.nationality, 3)?;
        let number = field("document number", &self.document_number, 9)?;
        let number_cd = check_digit(&number);
        let birth = yymmdd(self.date_of_birth);
        let expiry = yymmdd(self.date_of_expiry);
        let (birth_cd, expiry_cd) = (check_digit(&birth), check_digit(&expiry));
        let sex = self.sex.mrz_char();
        match self.format {
            MrzFormat::Td3 => {
                let optional = field("optional data", &self.optional_data, 14)?;
                let optional_cd = check_digit(&optional);
                let composite = check_digit(&format!(
                    "{number}{number_cd}{birth}{birth_cd}{expiry}{expiry_cd}{optional}{optional_cd}"
                ));
                let line1 = format!("{code}{state}{}", self.name_field(39));
                let line2 = format!(
                    "{number}{number_cd}{nationality}{birth}{birth_cd}{sex}{expiry}{expiry_cd}\
                     {optional}{optional_cd}{composite}"
                );
                Ok(vec![line1, line2])
            }
            MrzFormat::Td1 => {
                let optional1 = field("optional data", &self.optional_data, 15)?;
                let optional2 = field("optional data 2", &self.optional_data_2, 11)?;
                let composite = check_digit(&format!(
                    "{number}{number_cd}{optional1}{birth}{birth_cd}{expiry}{expiry_cd}{optional2}"
                ));
                let line1 = format!("{code}{state}{number}{number_cd}{optional1}");
                let line2 = format!(
                    "{birth}{birth_cd}{sex}{expiry}{expiry_cd}{nationality}{optional2}{composite}"
                );
                Ok(vec![line1, line2, self.name_field(30)])
            }
        }
    }

    /// `SURNAME<<GIVEN<NAMES`, truncated and padded to `width` (ICAO 9303 Part 3 §4.6).
    fn name_field(&self, width: usize) -> String {
        let surname = mrz_text(&self.surname);
        let given = mrz_text(&self.given_names);
        let mut name = if given.is_empty() {
            surname
        } else {
            format!("{surname}<<{given}")
        };
        name.truncate(width);
        pad(&name, width)
    }
}

fn date(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

fn yymmdd(d: Date) -> String {
    format!(
        "{:02}{:02}{:02}",
        d.year().rem_euclid(100),
        u8::from(d.month()),
        d.day()
    )
}

/// Uppercase MRZ text; Latin letters with diacritics transliterated as ICAO 9303 Part 3 §6.A
/// recommends (Ä→AE, Ö→OE, Ü→UE, ß→SS, Å→AA, Æ→AE, Ø→OE, Þ→TH, others to the base letter),
/// separators to `<`, anything else dropped.
fn mrz_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().to_uppercase().chars() {
        let mapped = match c {
            'A'..='Z' | '0'..='9' | '<' => c.encode_utf8(&mut [0; 4]).to_owned(),
            ' ' | '-' | '\'' | ',' => "<".to_owned(),
            'Ä' | 'Æ' => "AE".to_owned(),
            'Ö' | 'Ø' | 'Œ' => "OE".to_owned(),
            'Ü' => "UE".to_owned(),
            'ß' => "SS".to_owned(),
            'Å' => "AA".to_owned(),
            'Þ' => "TH".to_owned(),
            'À' | 'Á' | 'Â' | 'Ã' | 'Ą' | 'Ă' | 'Ā' => "A".to_owned(),
            'Ç' | 'Ć' | 'Č' | 'Ĉ' => "C".to_owned(),
            'Ð' | 'Ď' | 'Đ' => "D".to_owned(),
            'È' | 'É' | 'Ê' | 'Ë' | 'Ę' | 'Ě' | 'Ē' | 'Ė' => "E".to_owned(),
            'Ğ' | 'Ģ' => "G".to_owned(),
            'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => "I".to_owned(),
            'Ķ' => "K".to_owned(),
            'Ł' | 'Ľ' | 'Ĺ' | 'Ļ' => "L".to_owned(),
            'Ñ' | 'Ń' | 'Ň' | 'Ņ' => "N".to_owned(),
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ő' | 'Ō' => "O".to_owned(),
            'Ř' | 'Ŕ' => "R".to_owned(),
            'Ś' | 'Š' | 'Ş' | 'Ș' => "S".to_owned(),
            'Ť' | 'Ţ' | 'Ț' => "T".to_owned(),
            'Ù' | 'Ú' | 'Û' | 'Ů' | 'Ű' | 'Ū' | 'Ų' => "U".to_owned(),
            'Ý' | 'Ÿ' => "Y".to_owned(),
            'Ź' | 'Ż' | 'Ž' => "Z".to_owned(),
            _ => String::new(),
        };
        out.push_str(&mapped);
    }
    out
}

fn pad(s: &str, width: usize) -> String {
    format!("{s:<<width$}")
}

fn field(name: &'static str, value: &str, width: usize) -> Result<String, Error> {
    let text = value.trim().to_uppercase().replace(' ', "<");
    if text.chars().count() > width {
        return Err(Error::InvalidHolder(format!(
            "{name} {value:?} is longer than {width} characters"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !matches!(c, 'A'..='Z' | '0'..='9' | '<'))
    {
        return Err(Error::InvalidHolder(format!(
            "{name} {value:?} contains {c:?}; the MRZ allows only A-Z, 0-9 and <"
        )));
    }
    Ok(pad(&text, width))
}

/// The check digit of an MRZ field: weights 7, 3, 1 repeating, modulus 10 (ICAO 9303 Part 3 §4.9).
///
/// Characters outside `0-9A-Z<` count as fillers (value 0).
pub fn check_digit(field: &str) -> char {
    let sum: u32 = field
        .chars()
        .zip([7u32, 3, 1].iter().cycle())
        .map(|(c, w)| {
            let value = match c {
                '0'..='9' => u32::from(c) - u32::from('0'),
                'A'..='Z' => u32::from(c) - u32::from('A') + 10,
                _ => 0,
            };
            value * w
        })
        .sum();
    char::from(b'0' + (sum % 10) as u8)
}

/// The ISO 3166-1 alpha-2 code for an ICAO 9303 three-letter code, for the `C=` of the CSCA.
///
/// Covers a few dozen states; `D` (Germany's code in the MRZ) maps to `DE`. `UTO`
/// (Utopia, the ICAO specimen state) has no alpha-2 and yields `None`.
pub fn alpha2_for_alpha3(code: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("AUS", "AU"),
        ("AUT", "AT"),
        ("BEL", "BE"),
        ("BGR", "BG"),
        ("BRA", "BR"),
        ("CAN", "CA"),
        ("CHE", "CH"),
        ("CHN", "CN"),
        ("CZE", "CZ"),
        ("D", "DE"),
        ("DEU", "DE"),
        ("DNK", "DK"),
        ("ESP", "ES"),
        ("EST", "EE"),
        ("FIN", "FI"),
        ("FRA", "FR"),
        ("GBR", "GB"),
        ("GRC", "GR"),
        ("HRV", "HR"),
        ("HUN", "HU"),
        ("IND", "IN"),
        ("IRL", "IE"),
        ("ISL", "IS"),
        ("ITA", "IT"),
        ("JPN", "JP"),
        ("KOR", "KR"),
        ("LIE", "LI"),
        ("LTU", "LT"),
        ("LUX", "LU"),
        ("LVA", "LV"),
        ("MLT", "MT"),
        ("NLD", "NL"),
        ("NOR", "NO"),
        ("NZL", "NZ"),
        ("POL", "PL"),
        ("PRT", "PT"),
        ("ROU", "RO"),
        ("SVK", "SK"),
        ("SVN", "SI"),
        ("SWE", "SE"),
        ("UKR", "UA"),
        ("USA", "US"),
    ];
    let code = code.trim_end_matches('<');
    TABLE.iter().find(|(a3, _)| *a3 == code).map(|(_, a2)| *a2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_part3_worked_examples() {
        assert_eq!(check_digit("L898902C3"), '6');
        assert_eq!(check_digit("740812"), '2');
        assert_eq!(check_digit("120415"), '9');
    }

    #[test]
    fn names_are_transliterated() {
        assert_eq!(mrz_text("Müller-Lüdenscheidt"), "MUELLER<LUEDENSCHEIDT");
        assert_eq!(mrz_text("Gößwein Ñúñez"), "GOESSWEIN<NUNEZ");
    }

    #[test]
    fn specimen_lines_have_the_right_widths() -> Result<(), Error> {
        let td3 = Holder::specimen().mrz_lines()?;
        assert!(td3.iter().all(|l| l.len() == 44), "{td3:?}");
        let td1 = Holder::specimen_id_card().mrz_lines()?;
        assert!(td1.iter().all(|l| l.len() == 30), "{td1:?}");
        Ok(())
    }
}
