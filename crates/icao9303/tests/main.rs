//! The one integration-test binary of the crate (each extra binary costs link time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod aa_tests;
mod lds_tests;
mod mrz_tests;
mod pki_tests;
mod protocol_tests;
mod verify_tests;
