#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
//! Known-answer tests for the MRZ: the specimens of ICAO 9303 Parts 4–7 (Utopia, "ERIKSSON ANNA
//! MARIA") and the MRZs of the test documents in the test vectors (testdata/vectors).

use icao9303::country::alpha2_from_mrz_code;
use icao9303::mrz::{Mrz, MrzError, MrzFormat, Sex, check_digit};
use time::macros::date;

const TODAY: time::Date = date!(2026 - 11 - 25);

fn valid_fields(mrz: &Mrz) -> Vec<(&'static str, bool)> {
    mrz.check_digits()
        .iter()
        .map(|c| (c.field, c.valid))
        .collect()
}

/// ICAO 9303 Part 3 §4.9 worked example: "520727" → 3, and Part 4's specimen fields.
#[test]
fn check_digit_examples() {
    assert_eq!(check_digit("520727"), '3');
    assert_eq!(check_digit("L898902C3"), '6');
    assert_eq!(check_digit("740812"), '2');
    assert_eq!(check_digit("120415"), '9');
    assert_eq!(check_digit("ZE184226B<<<<<"), '1');
    assert_eq!(check_digit("<<<<<<<<<<<<<<"), '0');
    assert_eq!(check_digit(""), '0');
}

/// ICAO 9303 Part 4 §4.2.2 (Appendix A specimen): TD3 passport.
#[test]
fn td3_specimen() {
    let mrz = Mrz::parse(
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )
    .unwrap();
    assert_eq!(mrz.format, MrzFormat::Td3);
    assert_eq!(mrz.document_code, "P");
    assert_eq!(mrz.issuing_state, "UTO");
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
    assert!(!mrz.names_possibly_truncated);
    assert_eq!(mrz.document_number, "L898902C3");
    assert_eq!(mrz.nationality, "UTO");
    assert_eq!(mrz.date_of_birth, "740812");
    assert_eq!(mrz.sex, Sex::Female);
    assert_eq!(mrz.date_of_expiry, "120415");
    assert_eq!(mrz.optional_data, "ZE184226B");
    assert_eq!(mrz.optional_data_2, None);
    assert_eq!(
        valid_fields(&mrz),
        vec![
            ("document_number", true),
            ("date_of_birth", true),
            ("date_of_expiry", true),
            ("optional_data", true),
            ("composite", true)
        ]
    );
    assert!(mrz.check_digits_valid());
    assert_eq!(mrz.birth_date(TODAY), Some(date!(1974 - 08 - 12)));
    assert_eq!(mrz.expiry_date(TODAY), Some(date!(2012 - 04 - 15)));

    let id = mrz.identity(TODAY);
    assert_eq!(id.surname.as_deref(), Some("ERIKSSON"));
    assert_eq!(id.given_names.as_deref(), Some("ANNA MARIA"));
    assert_eq!(id.sex.as_deref(), Some("FEMALE"));
    assert_eq!(id.date_of_birth.as_deref(), Some("1974-08-12"));
    assert_eq!(id.expiry_date.as_deref(), Some("2012-04-15"));
    assert_eq!(id.document_type.as_deref(), Some("PASSPORT"));
    assert_eq!(id.document_number.as_deref(), Some("L898902C3"));
    assert_eq!(id.personal_number.as_deref(), Some("ZE184226B"));
    // Utopia has no ISO 3166 code.
    assert_eq!(id.nationality, None);
    assert_eq!(id.issuing_country, None);
    assert_eq!(id.issuer, None);
    let json = serde_json::to_value(&id).unwrap();
    assert_eq!(json["nationality"], serde_json::Value::Null);
    assert_eq!(json["date_of_birth"], "1974-08-12");

    // The same MRZ as DG1 stores it, and line by line.
    let joined = Mrz::parse(
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )
    .unwrap();
    assert_eq!(joined, mrz);
    let lines = Mrz::parse_lines(&[
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ])
    .unwrap();
    assert_eq!(lines, mrz);
}

/// ICAO 9303 Part 5 §4.2.2 (Appendix A specimen): TD1 card.
#[test]
fn td1_specimen() {
    let mrz = Mrz::parse(
        "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    )
    .unwrap();
    assert_eq!(mrz.format, MrzFormat::Td1);
    assert_eq!(mrz.document_code, "I");
    assert_eq!(mrz.document_number, "D23145890");
    assert_eq!(mrz.primary_identifier, "ERIKSSON");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
    assert_eq!(mrz.optional_data, "");
    assert_eq!(mrz.optional_data_2.as_deref(), Some(""));
    assert!(mrz.check_digits_valid(), "{:?}", mrz.check_digits());
    assert_eq!(mrz.check_digits().len(), 4);
    let id = mrz.identity(TODAY);
    assert_eq!(id.document_type.as_deref(), Some("ID_CARD"));
    assert_eq!(id.personal_number, None);
}

/// ICAO 9303 Part 5 §4.2.2 note j: a document number longer than 9 characters continues in the
/// optional data, followed by its check digit; position 15 holds a filler.
#[test]
fn td1_long_document_number() {
    // Number D23145890734 (12 characters), check digit over all of it.
    let number = "D23145890734";
    let cd = check_digit(number);
    let line1 = format!("I<UTOD23145890<734{cd}<<<<<<<<<<<");
    assert_eq!(line1.len(), 30);
    let line2_head = "7408122F1204159UTO<<<<<<<<<<<";
    let composite = check_digit(&format!(
        "{}{}{}{}",
        &line1[5..30],
        &line2_head[0..7],
        &line2_head[8..15],
        &line2_head[18..29]
    ));
    let text = format!("{line1}\n{line2_head}{composite}\nERIKSSON<<ANNA<MARIA<<<<<<<<<<");
    let mrz = Mrz::parse(&text).unwrap();
    assert_eq!(mrz.document_number, number);
    assert_eq!(mrz.optional_data, "");
    assert!(mrz.check_digits_valid(), "{:?}", mrz.check_digits());
}

/// ICAO 9303 Part 6 §4.2.2 (Appendix A specimen): TD2.
#[test]
fn td2_specimen() {
    let mrz =
        Mrz::parse("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6")
            .unwrap();
    assert_eq!(mrz.format, MrzFormat::Td2);
    assert_eq!(mrz.document_number, "D23145890");
    assert_eq!(mrz.secondary_identifier, "ANNA MARIA");
    assert!(mrz.check_digits_valid(), "{:?}", mrz.check_digits());
}

/// ICAO 9303 Part 6 §4.2.2: the long document number rule of TD1 applies to TD2 as well.
#[test]
fn td2_long_document_number() {
    let number = "D2314589073";
    let cd = check_digit(number);
    let line2_head = format!("D23145890<UTO7408122F120415973{cd}<<<<");
    assert_eq!(line2_head.len(), 35);
    let composite = check_digit(&format!(
        "{}{}{}",
        &line2_head[0..10],
        &line2_head[13..20],
        &line2_head[21..35]
    ));
    let mrz = Mrz::parse_lines(&[
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        &format!("{line2_head}{composite}"),
    ])
    .unwrap();
    assert_eq!(mrz.document_number, number);
    assert_eq!(mrz.optional_data, "");
    assert!(mrz.check_digits_valid(), "{:?}", mrz.check_digits());
}

/// ICAO 9303 Part 7 §4.2.2 (Appendix A specimens): MRV-A and MRV-B, no composite check digit.
#[test]
fn mrv_specimens() {
    let a = Mrz::parse(
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    )
    .unwrap();
    assert_eq!(a.format, MrzFormat::MrvA);
    assert_eq!(a.nationality, "XXX");
    assert_eq!(a.optional_data, "6ZE184226B");
    assert!(a.check_digits_valid(), "{:?}", a.check_digits());
    assert!(a.check_digits().iter().all(|c| c.field != "composite"));
    // Born 1940; expiry 1996 (2096 is more than 20 years ahead).
    assert_eq!(a.birth_date(TODAY), Some(date!(1940 - 09 - 07)));
    assert_eq!(a.expiry_date(TODAY), Some(date!(1996 - 12 - 10)));
    let id = a.identity(TODAY);
    assert_eq!(id.document_type.as_deref(), Some("VISA"));
    assert_eq!(id.nationality, None);

    let b =
        Mrz::parse("V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL8988901C4XXX4009078F9612109<<<<<<<<")
            .unwrap();
    assert_eq!(b.format, MrzFormat::MrvB);
    assert!(b.check_digits_valid(), "{:?}", b.check_digits());
}

#[test]
fn wrong_check_digits_are_reported_not_rejected() {
    // Document number check digit 6 → 7, composite left as printed.
    let mrz = Mrz::parse(
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10",
    )
    .unwrap();
    let digits = mrz.check_digits();
    assert_eq!(digits[0].field, "document_number");
    assert_eq!(
        (digits[0].expected, digits[0].computed, digits[0].valid),
        ('7', '6', false)
    );
    assert!(
        !digits.last().unwrap().valid,
        "the composite covers the number's check digit"
    );
    assert!(!mrz.check_digits_valid());
}

#[test]
fn rejects_bad_layouts_and_characters() {
    assert!(matches!(Mrz::parse(""), Err(MrzError::BadLength { .. })));
    assert!(matches!(
        Mrz::parse("P<UTO"),
        Err(MrzError::BadLength { .. })
    ));
    assert!(matches!(
        Mrz::parse(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<1"
        ),
        Err(MrzError::BadLength { .. })
    ));
    assert_eq!(
        Mrz::parse(
            "p<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
        ),
        Err(MrzError::BadCharacter {
            position: 0,
            found: 'p'
        })
    );
    assert_eq!(
        Mrz::parse(
            "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122Q1204159ZE184226B<<<<<10"
        ),
        Err(MrzError::BadSex {
            position: 64,
            found: 'Q'
        })
    );
}

#[test]
fn names_fillers_and_truncation() {
    // No secondary identifier, and a name field ending in a letter (possibly truncated).
    let mrz = Mrz::parse(
        "P<UTOSUPERCALIFRAGILISTICEXPIALIDOCIOUSNAMEX\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    )
    .unwrap();
    assert_eq!(
        mrz.primary_identifier,
        "SUPERCALIFRAGILISTICEXPIALIDOCIOUSNAMEX"
    );
    assert_eq!(mrz.secondary_identifier, "");
    assert!(mrz.names_possibly_truncated);
    assert_eq!(mrz.identity(TODAY).given_names, None);
    // Several surnames and given names.
    let mrz = Mrz::parse(
        "P<UTOVAN<DER<BERG<<JAN<PIETER<<<<<<<<<<<<<<<\nL898902C36UTO7408122M1204159<<<<<<<<<<<<<<02",
    )
    .unwrap();
    assert_eq!(mrz.primary_identifier, "VAN DER BERG");
    assert_eq!(mrz.secondary_identifier, "JAN PIETER");
    assert_eq!(mrz.sex, Sex::Male);
    // Empty personal number: its check digit may be '<' or '0'.
    assert_eq!(mrz.optional_data, "");
    assert!(mrz.check_digits()[3].valid);
}

#[test]
fn dates_and_centuries() {
    let mrz = |dob: &str, exp: &str| {
        let line2 = format!(
            "L898902C3{}UTO{dob}{}F{exp}{}<<<<<<<<<<<<<<0",
            check_digit("L898902C3"),
            check_digit(dob),
            check_digit(exp)
        );
        let composite = check_digit(&format!(
            "{}{}{}",
            &line2[0..10],
            &line2[13..20],
            &line2[21..43]
        ));
        Mrz::parse(&format!(
            "P<UTOERIKSSON<<ANNA<<<<<<<<<<<<<<<<<<<<<<<<<\n{line2}{composite}"
        ))
        .unwrap()
    };
    let today = date!(2026 - 11 - 25);
    // Born today 26 years ago vs tomorrow 100 years ago.
    assert_eq!(
        mrz("261125", "300101").birth_date(today),
        Some(date!(2026 - 11 - 25))
    );
    assert_eq!(
        mrz("261126", "300101").birth_date(today),
        Some(date!(1926 - 11 - 26))
    );
    // Expiry: 2046 is exactly 20 years ahead; 2047 is too far, so 1947.
    assert_eq!(
        mrz("800101", "461125").expiry_date(today),
        Some(date!(2046 - 11 - 25))
    );
    assert_eq!(
        mrz("800101", "461126").expiry_date(today),
        Some(date!(1946 - 11 - 26))
    );
    assert_eq!(
        mrz("800101", "100101").expiry_date(today),
        Some(date!(2010 - 01 - 01))
    );
    // Unknown day and month of birth (ICAO 9303 Part 3 §4.8), impossible dates.
    assert_eq!(mrz("80<<<<", "300101").birth_date(today), None);
    assert_eq!(mrz("800231", "300101").birth_date(today), None);
    assert!(mrz("80<<<<", "300101").check_digits_valid());
    assert_eq!(mrz("80<<<<", "300101").identity(today).date_of_birth, None);
}

/// The MRZs of the test documents in the test vectors (testdata/vectors) (DG1 content), with Germany's `D`.
#[test]
fn german_specimen_with_one_letter_code() {
    let mrz = Mrz::parse(
        "P<D<<MUSTERMANN<<ERIKA<<<<<<<<<<<<<<<<<<<<<<C11T002JM4D<<9608122F1310317<<<<<<<<<<<<<<<6",
    )
    .unwrap();
    assert_eq!(mrz.issuing_state, "D");
    assert_eq!(mrz.nationality, "D");
    assert_eq!(mrz.document_number, "C11T002JM");
    assert!(mrz.check_digits_valid());
    let id = mrz.identity(TODAY);
    assert_eq!(id.nationality.as_deref(), Some("DE"));
    assert_eq!(id.issuing_country.as_deref(), Some("DE"));
    assert_eq!(id.date_of_birth.as_deref(), Some("1996-08-12"));
    assert_eq!(id.expiry_date.as_deref(), Some("2013-10-31"));
    assert_eq!(id.personal_number, None);
}

#[test]
fn country_codes() {
    assert_eq!(alpha2_from_mrz_code("NLD"), Some("NL"));
    assert_eq!(alpha2_from_mrz_code("D"), Some("DE"));
    assert_eq!(alpha2_from_mrz_code("GBD"), Some("GB"));
    assert_eq!(alpha2_from_mrz_code("EUE"), Some("EU"));
    assert_eq!(alpha2_from_mrz_code("XXA"), None);
    assert_eq!(alpha2_from_mrz_code("UTO"), None);
}
