//! The Machine Readable Zone (ICAO 9303 Parts 3–7): TD1, TD2, TD3, MRV-A/B.
//!
//! [`Mrz::parse`] takes the MRZ as DG1 stores it (tag `5F1F`, the lines concatenated without
//! separators) or as printed (lines joined with `\n`), checks the character set and the layout,
//! and keeps every field as printed. Check digits are reported, not enforced: a document with a
//! wrong check digit still parses, and [`Mrz::check_digits`] says which digit is wrong.

mod identity;

pub use identity::{Identity, Sex};

use std::fmt;

/// The MRZ layout of a travel document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum MrzFormat {
    /// TD1, ID-card size: 3 lines of 30 characters (ICAO 9303 Part 5 §4.2).
    Td1,
    /// TD2: 2 lines of 36 characters (ICAO 9303 Part 6 §4.2).
    Td2,
    /// TD3, passport booklet: 2 lines of 44 characters (ICAO 9303 Part 4 §4.2).
    Td3,
    /// Machine readable visa, full size: 2 lines of 44 characters (ICAO 9303 Part 7 §4.2.2).
    MrvA,
    /// Machine readable visa, smaller size: 2 lines of 36 characters (ICAO 9303 Part 7 §4.2.2).
    MrvB,
}

impl MrzFormat {
    /// Number of lines and characters per line.
    pub fn shape(self) -> (usize, usize) {
        match self {
            MrzFormat::Td1 => (3, 30),
            MrzFormat::Td2 | MrzFormat::MrvB => (2, 36),
            MrzFormat::Td3 | MrzFormat::MrvA => (2, 44),
        }
    }
}

impl fmt::Display for MrzFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MrzFormat::Td1 => "TD1",
            MrzFormat::Td2 => "TD2",
            MrzFormat::Td3 => "TD3",
            MrzFormat::MrvA => "MRV-A",
            MrzFormat::MrvB => "MRV-B",
        })
    }
}

/// Why a text is not an MRZ. Positions are 0-based character offsets in the MRZ without line
/// separators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MrzError {
    /// The line count or line lengths match none of TD1 (3×30), TD2/MRV-B (2×36), TD3/MRV-A (2×44).
    #[error("not an MRZ layout: {lines} line(s), {chars} characters")]
    BadLength { lines: usize, chars: usize },
    /// A character outside `A`–`Z`, `0`–`9`, `<` (ICAO 9303 Part 3 §4.3).
    #[error("character {found:?} at position {position} is not an MRZ character")]
    BadCharacter { position: usize, found: char },
    /// The sex field holds something other than `M`, `F`, `X` or `<` (ICAO 9303 Part 4 §4.2.2).
    #[error("sex field {found:?} at position {position} is not M, F, X or <")]
    BadSex { position: usize, found: char },
}

/// One check digit as printed and as computed (ICAO 9303 Part 3 §4.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CheckDigit {
    /// `document_number`, `date_of_birth`, `date_of_expiry`, `optional_data` or `composite`.
    pub field: &'static str,
    pub expected: char,
    pub computed: char,
    pub valid: bool,
}

/// A parsed MRZ, every field as printed (fillers trimmed at the end of a field, inner fillers of
/// names turned into spaces).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mrz {
    pub format: MrzFormat,
    /// `P`, `PD`, `I`, `ID`, `AC`, `V`…, trailing filler removed.
    pub document_code: String,
    /// Issuing state or organisation, the 1–3 letters printed (ICAO 9303 Part 3 §5), fillers
    /// removed: `D` for Germany, `UTO`, `GBD`. See [`crate::country::alpha2_from_mrz_code`].
    pub issuing_state: String,
    /// Surname(s), the primary identifier (ICAO 9303 Part 3 §4.6), fillers turned into spaces.
    pub primary_identifier: String,
    /// Given name(s), the secondary identifier; empty when the document has none.
    pub secondary_identifier: String,
    /// The name field ends with a letter rather than a filler: the names may have been truncated
    /// to fit (ICAO 9303 Part 3 §4.6.5).
    pub names_possibly_truncated: bool,
    /// Fillers removed; a TD1/TD2 number longer than 9 characters is joined with its overflow
    /// from the optional data (ICAO 9303 Part 5 §4.2.2, note j; Part 6 §4.2.2).
    pub document_number: String,
    /// Nationality code as printed (fillers removed).
    pub nationality: String,
    /// `YYMMDD` as printed; unknown day or month are `<<` (ICAO 9303 Part 3 §4.8).
    pub date_of_birth: String,
    pub sex: Sex,
    /// `YYMMDD` as printed.
    pub date_of_expiry: String,
    /// TD3: personal number / optional data (14 characters); MRV: optional data; TD1: optional
    /// data of line 1; TD2: optional data. Trailing fillers removed; for a long document number the
    /// overflow and its check digit are taken out.
    pub optional_data: String,
    /// TD1 only: optional data of line 2.
    pub optional_data_2: Option<String>,
    check_digits: Vec<CheckDigit>,
}

/// Value of an MRZ character for check digits: digits, `A`=10 … `Z`=35, `<` (and anything else) 0.
fn char_value(c: char) -> u32 {
    match c {
        '0'..='9' => u32::from(c) - u32::from('0'),
        'A'..='Z' => u32::from(c) - u32::from('A') + 10,
        _ => 0,
    }
}

/// The check digit over `data` (ICAO 9303 Part 3 §4.9): weights 7, 3, 1 repeating, sum modulo 10.
pub fn check_digit(data: &str) -> char {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let sum: u32 = data
        .chars()
        .zip(WEIGHTS.iter().cycle())
        .fold(0, |acc, (c, w)| (acc + char_value(c) * w) % 10);
    char::from_digit(sum % 10, 10).unwrap_or('0')
}

fn is_mrz_char(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<'
}

fn trim_fillers(s: &str) -> &str {
    s.trim_end_matches('<')
}

/// A field of the MRZ, by character range in the concatenated text (all ASCII after validation).
struct Text<'a>(&'a str);

impl<'a> Text<'a> {
    fn get(&self, start: usize, len: usize) -> &'a str {
        self.0.get(start..start + len).unwrap_or("")
    }

    fn at(&self, pos: usize) -> char {
        self.0
            .as_bytes()
            .get(pos)
            .map(|b| char::from(*b))
            .unwrap_or('<')
    }
}

fn check(field: &'static str, data: &str, expected: char) -> CheckDigit {
    let computed = check_digit(data);
    // A field left entirely to fillers may carry `<` as its check digit (ICAO 9303 Part 4 §4.2.2,
    // note on the personal number).
    let valid = expected == computed
        || (expected == '<' && !data.is_empty() && data.chars().all(|c| c == '<'));
    CheckDigit {
        field,
        expected,
        computed,
        valid,
    }
}

/// Splits a name field into primary and secondary identifiers (ICAO 9303 Part 3 §4.6).
fn split_names(field: &str) -> (String, String, bool) {
    let truncated = field.ends_with(|c: char| c.is_ascii_alphabetic());
    let field = trim_fillers(field);
    let (primary, secondary) = field.split_once("<<").unwrap_or((field, ""));
    let clean = |s: &str| {
        s.split('<')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (clean(primary), clean(secondary), truncated)
}

/// TD1/TD2 long document numbers: the 9 printed characters, a `<` where the check digit would be,
/// then the overflow and the real check digit at the start of the optional data, closed by `<`.
/// Returns (number, check digit, remaining optional data).
fn long_document_number<'a>(first9: &str, optional: &'a str) -> Option<(String, char, &'a str)> {
    let end = optional.find('<').unwrap_or(optional.len());
    let overflow = optional.get(..end)?;
    let (digits, check) = overflow.split_at_checked(overflow.len().checked_sub(1)?)?;
    let check = check.chars().next()?;
    let rest = optional.get(end..).unwrap_or("");
    Some((format!("{first9}{digits}"), check, rest))
}

impl Mrz {
    /// Parses the MRZ from DG1's `5F1F` content (no separators) or printed lines joined with
    /// newlines (CR/LF, surrounding whitespace and blank lines tolerated).
    pub fn parse(text: &str) -> Result<Mrz, MrzError> {
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .take(4)
            .collect();
        Self::parse_lines(&lines)
    }

    /// Parses an MRZ given line by line, or as one line holding all of it.
    pub fn parse_lines(lines: &[&str]) -> Result<Mrz, MrzError> {
        let lines: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
        let chars: usize = lines.iter().map(|l| l.chars().count()).sum();
        let bad_length = || MrzError::BadLength {
            lines: lines.len(),
            chars,
        };
        let lengths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        let shape_fits = |n: usize, len: usize| {
            (lines.len() == n && lengths.iter().all(|l| *l == len))
                || (lines.len() == 1 && chars == n * len)
        };
        let joined: String = lines.concat();
        if let Some((position, found)) = joined.chars().enumerate().find(|(_, c)| !is_mrz_char(*c))
        {
            return Err(MrzError::BadCharacter { position, found });
        }
        let visa = joined.starts_with('V');
        let format = if shape_fits(3, 30) {
            MrzFormat::Td1
        } else if shape_fits(2, 36) {
            if visa {
                MrzFormat::MrvB
            } else {
                MrzFormat::Td2
            }
        } else if shape_fits(2, 44) {
            if visa {
                MrzFormat::MrvA
            } else {
                MrzFormat::Td3
            }
        } else {
            return Err(bad_length());
        };
        let t = Text(&joined);
        match format {
            MrzFormat::Td1 => Self::parse_td1(&t),
            _ => Self::parse_two_line(&t, format),
        }
    }

    fn parse_td1(t: &Text<'_>) -> Result<Mrz, MrzError> {
        // Line 1: code 0-1, state 2-4, number 5-13, check 14, optional 15-29.
        // Line 2: birth 30-35, check 36, sex 37, expiry 38-43, check 44, nationality 45-47,
        // optional 48-58, composite 59. Line 3: name 60-89 (ICAO 9303 Part 5 §4.2.2).
        let number9 = t.get(5, 9);
        let optional1 = t.get(15, 15);
        let (document_number, number_check, number_data, optional_data) =
            match (t.at(14), long_document_number(number9, optional1)) {
                ('<', Some((number, check, rest))) if !trim_fillers(optional1).is_empty() => {
                    (number.clone(), check, number, trim_fillers(rest).to_owned())
                }
                (c, _) => (
                    trim_fillers(number9).to_owned(),
                    c,
                    number9.to_owned(),
                    trim_fillers(optional1).to_owned(),
                ),
            };
        let sex = Sex::from_mrz(t.at(37)).ok_or(MrzError::BadSex {
            position: 37,
            found: t.at(37),
        })?;
        let (primary, secondary, truncated) = split_names(t.get(60, 30));
        let composite_data = format!(
            "{}{}{}{}",
            t.get(5, 25),
            t.get(30, 7),
            t.get(38, 7),
            t.get(48, 11)
        );
        let check_digits = vec![
            check("document_number", &number_data, number_check),
            check("date_of_birth", t.get(30, 6), t.at(36)),
            check("date_of_expiry", t.get(38, 6), t.at(44)),
            check("composite", &composite_data, t.at(59)),
        ];
        Ok(Mrz {
            format: MrzFormat::Td1,
            document_code: trim_fillers(t.get(0, 2)).to_owned(),
            issuing_state: trim_fillers(t.get(2, 3)).to_owned(),
            primary_identifier: primary,
            secondary_identifier: secondary,
            names_possibly_truncated: truncated,
            document_number,
            nationality: trim_fillers(t.get(45, 3)).to_owned(),
            date_of_birth: t.get(30, 6).to_owned(),
            sex,
            date_of_expiry: t.get(38, 6).to_owned(),
            optional_data,
            optional_data_2: Some(trim_fillers(t.get(48, 11)).to_owned()),
            check_digits,
        })
    }

    /// TD2, TD3, MRV-A and MRV-B share line 2's first 28 characters (ICAO 9303 Parts 4, 6, 7).
    fn parse_two_line(t: &Text<'_>, format: MrzFormat) -> Result<Mrz, MrzError> {
        let (_, width) = format.shape();
        let l2 = width;
        let (primary, secondary, truncated) = split_names(t.get(5, width - 5));
        let sex_pos = l2 + 20;
        let sex = Sex::from_mrz(t.at(sex_pos)).ok_or(MrzError::BadSex {
            position: sex_pos,
            found: t.at(sex_pos),
        })?;
        let number9 = t.get(l2, 9);
        let mut document_number = trim_fillers(number9).to_owned();
        let mut number_data = number9.to_owned();
        let mut number_check = t.at(l2 + 9);
        let optional_field;
        let mut check_digits = Vec::with_capacity(5);
        match format {
            MrzFormat::Td3 => {
                // Personal number 28-41, its check digit 42, composite 43 (Part 4 §4.2.2).
                let personal = t.get(l2 + 28, 14);
                optional_field = trim_fillers(personal).to_owned();
                check_digits.push(check("optional_data", personal, t.at(l2 + 42)));
                let composite = format!(
                    "{}{}{}",
                    t.get(l2, 10),
                    t.get(l2 + 13, 7),
                    t.get(l2 + 21, 22)
                );
                check_digits.push(check("composite", &composite, t.at(l2 + 43)));
            }
            MrzFormat::Td2 => {
                // Optional data 28-34, composite 35 (Part 6 §4.2.2); long numbers as in TD1.
                let optional = t.get(l2 + 28, 7);
                let mut rest = optional;
                if number_check == '<' && !trim_fillers(optional).is_empty() {
                    if let Some((number, check, remaining)) =
                        long_document_number(number9, optional)
                    {
                        document_number = number.clone();
                        number_data = number;
                        number_check = check;
                        rest = remaining;
                    }
                }
                optional_field = trim_fillers(rest).to_owned();
                let composite = format!(
                    "{}{}{}",
                    t.get(l2, 10),
                    t.get(l2 + 13, 7),
                    t.get(l2 + 21, 14)
                );
                check_digits.push(check("composite", &composite, t.at(l2 + 35)));
            }
            _ => {
                // Visas: optional data to the end of line 2, no composite (Part 7 §4.2.2).
                optional_field = trim_fillers(t.get(l2 + 28, width - 28)).to_owned();
            }
        }
        let mut all = vec![
            check("document_number", &number_data, number_check),
            check("date_of_birth", t.get(l2 + 13, 6), t.at(l2 + 19)),
            check("date_of_expiry", t.get(l2 + 21, 6), t.at(l2 + 27)),
        ];
        all.append(&mut check_digits);
        Ok(Mrz {
            format,
            document_code: trim_fillers(t.get(0, 2)).to_owned(),
            issuing_state: trim_fillers(t.get(2, 3)).to_owned(),
            primary_identifier: primary,
            secondary_identifier: secondary,
            names_possibly_truncated: truncated,
            document_number,
            nationality: trim_fillers(t.get(l2 + 10, 3)).to_owned(),
            date_of_birth: t.get(l2 + 13, 6).to_owned(),
            sex,
            date_of_expiry: t.get(l2 + 21, 6).to_owned(),
            optional_data: optional_field,
            optional_data_2: None,
            check_digits: all,
        })
    }

    /// Every check digit of the layout, in the order printed; the composite one last.
    pub fn check_digits(&self) -> Vec<CheckDigit> {
        self.check_digits.clone()
    }

    /// All check digits, including the composite one, are valid.
    pub fn check_digits_valid(&self) -> bool {
        self.check_digits.iter().all(|c| c.valid)
    }
}

/// A date field as the MRZ writes it: `YYMMDD`, six digits (ICAO 9303-3 §4.5; the century and
/// the calendar are the reader's to decide).
pub fn is_mrz_date(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}
