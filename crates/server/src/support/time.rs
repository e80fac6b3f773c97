//! Times as the API spells them: `YYYY-MM-DDTHH:MM:SSZ` (UTC) and dates `YYYY-MM-DD`.

const TIMESTAMP_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
pub fn format_timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(TIMESTAMP_FORMAT).ok())
        .unwrap_or_default()
}

pub fn parse_timestamp(s: &str) -> Option<i64> {
    time::PrimitiveDateTime::parse(s, TIMESTAMP_FORMAT)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

pub fn is_date(s: &str) -> bool {
    time::Date::parse(s, DATE_FORMAT).is_ok()
}
