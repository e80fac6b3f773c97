//! Interpreting the MRZ fields: sex, dates with their century, the identity the API reports.

use time::{Date, Month};

use super::{Mrz, MrzFormat};
use crate::country::alpha2_from_mrz_code;

/// Sex as printed in the MRZ (ICAO 9303 Part 4 §4.2.2: `F`, `M`, or `<` / `X` for unspecified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Sex {
    Male,
    Female,
    Unspecified,
}

impl Sex {
    pub(crate) fn from_mrz(c: char) -> Option<Sex> {
        match c {
            'M' => Some(Sex::Male),
            'F' => Some(Sex::Female),
            '<' | 'X' => Some(Sex::Unspecified),
            _ => None,
        }
    }

    /// `MALE`, `FEMALE` or `UNSPECIFIED`, as the API reports it.
    pub fn as_api_str(self) -> &'static str {
        match self {
            Sex::Male => "MALE",
            Sex::Female => "FEMALE",
            Sex::Unspecified => "UNSPECIFIED",
        }
    }
}

/// The identity fields of the API (`session.get`): dates as `YYYY-MM-DD`, countries as ISO 3166
/// alpha-2, enums as upper-case strings; `None` where the MRZ does not say (JSON `null`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub given_names: Option<String>,
    pub surname: Option<String>,
    /// ISO 3166 alpha-2; `None` for codes without one (stateless, refugee, `UTO`…).
    pub nationality: Option<String>,
    /// `MALE`, `FEMALE` or `UNSPECIFIED`.
    pub sex: Option<String>,
    pub date_of_birth: Option<String>,
    /// `PASSPORT`, `ID_CARD`, `RESIDENCE_PERMIT`, `VISA` or `OTHER`.
    pub document_type: Option<String>,
    pub document_number: Option<String>,
    pub expiry_date: Option<String>,
    /// ISO 3166 alpha-2 of the issuing state; `None` when it has none.
    pub issuing_country: Option<String>,
    pub personal_number: Option<String>,
    /// Issuing authority: not in the MRZ, filled by the caller from DG12 or the DS certificate.
    pub issuer: Option<String>,
}

/// `YYMMDD` with a given century; `None` for unknown (`<<`) or impossible parts.
fn date_in_century(yymmdd: &str, century: i32) -> Option<Date> {
    let num = |range: std::ops::Range<usize>| -> Option<u8> {
        let s = yymmdd.get(range)?;
        if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let yy = num(0..2)?;
    let month = Month::try_from(num(2..4)?).ok()?;
    let day = num(4..6)?;
    Date::from_calendar_date(century + i32::from(yy), month, day).ok()
}

/// The same day `years` later (29 February becomes 28 February in a non-leap year).
fn add_years(date: Date, years: i32) -> Option<Date> {
    let year = date.year().checked_add(years)?;
    Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, date.month(), date.day().saturating_sub(1)))
        .ok()
}

/// Formats as `YYYY-MM-DD`.
fn iso_date(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

impl Mrz {
    /// The date of birth with its century chosen so that it is not after `today` (the MRZ only
    /// holds two digits of the year, ICAO 9303 Part 3 §4.8). `None` when day or month is unknown.
    pub fn birth_date(&self, today: Date) -> Option<Date> {
        let date = date_in_century(&self.date_of_birth, 2000)?;
        if date > today {
            date_in_century(&self.date_of_birth, 1900)
        } else {
            Some(date)
        }
    }

    /// The date of expiry with its century chosen so that it is at most 20 years after `today`
    /// (longer validity exists nowhere; an expiry further ahead is from the previous century).
    pub fn expiry_date(&self, today: Date) -> Option<Date> {
        let date = date_in_century(&self.date_of_expiry, 2000)?;
        match add_years(today, 20) {
            Some(limit) if date > limit => date_in_century(&self.date_of_expiry, 1900),
            _ => Some(date),
        }
    }

    /// `PASSPORT`, `ID_CARD`, `RESIDENCE_PERMIT`, `VISA` or `OTHER`, from the document code and the
    /// layout (ICAO 9303 Part 4 §4.2.2, Part 5 §4.2.2, Part 7). Residence permits are the TD1/TD2
    /// codes `AR`, `CR`, `IR` and `RP`/`RT`, as issued under EU Regulation 1030/2002.
    pub fn document_type(&self) -> &'static str {
        let code = self.document_code.as_str();
        match (self.format, code.chars().next()) {
            (MrzFormat::MrvA | MrzFormat::MrvB, _) | (_, Some('V')) => "VISA",
            (_, Some('P')) => "PASSPORT",
            (MrzFormat::Td1 | MrzFormat::Td2, _)
                if matches!(code, "AR" | "CR" | "IR" | "RP" | "RT") =>
            {
                "RESIDENCE_PERMIT"
            }
            (MrzFormat::Td1 | MrzFormat::Td2, Some('A' | 'C' | 'I')) => "ID_CARD",
            _ => "OTHER",
        }
    }

    /// The identity as the API reports it. `issuer` is left `None` for the caller to fill.
    pub fn identity(&self, today: Date) -> Identity {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        // TD3's optional data is the personal number (Part 4 §4.2.2); TD1/TD2 leave the optional
        // data to the issuer, and it is reported as the personal number when present.
        let personal_number = match self.format {
            MrzFormat::MrvA | MrzFormat::MrvB => None,
            _ => some(&self.optional_data),
        };
        Identity {
            given_names: some(&self.secondary_identifier),
            surname: some(&self.primary_identifier),
            nationality: alpha2_from_mrz_code(&self.nationality).map(str::to_owned),
            sex: Some(self.sex.as_api_str().to_owned()),
            date_of_birth: self.birth_date(today).map(iso_date),
            document_type: Some(self.document_type().to_owned()),
            document_number: some(&self.document_number),
            expiry_date: self.expiry_date(today).map(iso_date),
            issuing_country: alpha2_from_mrz_code(&self.issuing_state).map(str::to_owned),
            personal_number,
            issuer: None,
        }
    }
}
