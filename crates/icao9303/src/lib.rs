//! ICAO Doc 9303 for electronic Machine Readable Travel Documents: the MRZ, the Logical Data
//! Structure on the chip, passive and active authentication, and the verification report.
//!
//! Sync, free of I/O: callers hand in bytes and a clock, and get parsed structures or a report.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod active_authentication;
pub mod country;
pub mod lds;
pub mod mrz;
pub mod oid;
pub mod passive_authentication;
pub mod pki;
pub mod portrait;
pub mod protocol;
pub mod report;
pub mod tlv;
pub mod verify;
