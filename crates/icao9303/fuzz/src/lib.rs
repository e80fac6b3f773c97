//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`) and the
//! stable `replay` binary. Each feeds the bytes to one parser; only a panic, a hang or an
//! out-of-memory is a finding: errors are expected.

use icao9303::lds::{CardAccess, Dg1, Dg2, Dg7, Dg11, Dg12, Dg14, Dg15, EfCom, SecurityInfos};
use icao9303::mrz::Mrz;
use icao9303::portrait;

pub fn mrz(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(mrz) = Mrz::parse(text)
    {
        let _ = mrz.check_digits_valid();
        let _ = mrz.identity(time_of_test());
    }
}

/// A fixed date, so that a finding replays identically.
fn time_of_test() -> time::Date {
    time::Date::from_calendar_date(2026, time::Month::January, 1).unwrap_or(time::Date::MIN)
}

pub fn ef_com(data: &[u8]) {
    let _ = EfCom::parse(data);
}

pub fn dg1(data: &[u8]) {
    let _ = Dg1::parse(data);
}

pub fn dg2(data: &[u8]) {
    let _ = Dg2::parse(data);
}

pub fn dg7(data: &[u8]) {
    let _ = Dg7::parse(data);
}

pub fn dg11(data: &[u8]) {
    let _ = Dg11::parse(data);
}

pub fn dg12(data: &[u8]) {
    let _ = Dg12::parse(data);
}

pub fn dg14(data: &[u8]) {
    let _ = Dg14::parse(data);
}

pub fn dg15(data: &[u8]) {
    let _ = Dg15::parse(data);
}

pub fn card_access(data: &[u8]) {
    let _ = CardAccess::parse(data);
}

pub fn security_infos(data: &[u8]) {
    let _ = SecurityInfos::parse(data);
}

/// JPEG validation and JPEG 2000 transcoding of an image (the bytes are the image itself).
pub fn portrait(data: &[u8]) {
    let _ = portrait::image_dimensions(data);
    let _ = portrait::jpeg_from_image(data);
}

/// A fuzz target body.
pub type Target = fn(&[u8]);

/// Every target, by name, for `replay`.
pub const TARGETS: &[(&str, Target)] = &[
    ("mrz", mrz),
    ("ef_com", ef_com),
    ("dg1", dg1),
    ("dg2", dg2),
    ("dg7", dg7),
    ("dg11", dg11),
    ("dg12", dg12),
    ("dg14", dg14),
    ("dg15", dg15),
    ("card_access", card_access),
    ("security_infos", security_infos),
    ("portrait", portrait),
];
