//! `passport-reader mrz LINE...`: parse a machine readable zone and print its fields and check
//! digits as JSON. Exit status: 0 when every check digit is valid, 1 when one is not, 2 when the
//! arguments are not an MRZ (or not usable).

use std::process::ExitCode;

use icao9303::mrz::Mrz;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// The MRZ: one argument per line, or one argument with the lines separated by newlines, or
    /// DG1's concatenated form. Quote each line: `<` is a shell redirection.
    #[arg(required = true, value_name = "LINE")]
    lines: Vec<String>,
    /// The date that decides the century of two-digit years (birth never after it, expiry at most
    /// 20 years after it), as YYYY-MM-DD. Defaults to today (UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    today: Option<String>,
}

const USAGE_ERROR: u8 = 2;

pub fn run(args: Args) -> ExitCode {
    let (report, valid) = match report(&args) {
        Ok(result) => result,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    match serde_json::to_string_pretty(&report) {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    }
    if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The JSON report and whether every check digit is valid; `Err` for a usage error.
fn report(args: &Args) -> Result<(serde_json::Value, bool), String> {
    let today = match args.today.as_deref() {
        Some(s) => parse_date(s)?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let mrz = Mrz::parse(&args.lines.join("\n")).map_err(|e| e.to_string())?;
    let report = json!({
        "format": mrz.format.to_string(),
        "document_code": mrz.document_code,
        "issuing_state": mrz.issuing_state,
        "nationality_code": mrz.nationality,
        "primary_identifier": mrz.primary_identifier,
        "secondary_identifier": mrz.secondary_identifier,
        "names_possibly_truncated": mrz.names_possibly_truncated,
        "optional_data": mrz.optional_data,
        "optional_data_2": mrz.optional_data_2,
        "identity": mrz.identity(today),
        "check_digits": mrz.check_digits(),
        "check_digits_valid": mrz.check_digits_valid(),
    });
    Ok((report, mrz.check_digits_valid()))
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).map_err(|e| format!("--today {s:?}: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn args(lines: &[&str], today: Option<&str>) -> Args {
        Args {
            lines: lines.iter().map(|l| (*l).to_owned()).collect(),
            today: today.map(str::to_owned),
        }
    }

    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn lines_as_arguments_or_one_argument() {
        let (a, valid) = report(&args(&[L1, L2], Some("2026-11-25"))).unwrap();
        assert!(valid);
        let (b, _) = report(&args(&[&format!("{L1}\n{L2}")], Some("2026-11-25"))).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["format"], "TD3");
        assert_eq!(a["identity"]["surname"], "ERIKSSON");
        assert_eq!(a["identity"]["date_of_birth"], "1974-08-12");
        assert_eq!(a["identity"]["nationality"], serde_json::Value::Null);
        assert_eq!(a["check_digits"][4]["field"], "composite");
    }

    #[test]
    fn invalid_check_digit_and_usage_errors() {
        let bad = L2.replace("C36", "C37");
        let (report_json, valid) = report(&args(&[L1, &bad], None)).unwrap();
        assert!(!valid);
        assert_eq!(report_json["check_digits"][0]["valid"], false);
        assert!(report(&args(&["P<UTO"], None)).is_err());
        assert!(report(&args(&[L1, L2], Some("25.11.2026"))).is_err());
    }
}
