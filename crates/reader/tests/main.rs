//! Integration tests of the reader against the virtual chip: every protocol combination, and
//! each failure a reader must report clearly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod chips_not_ours;
mod combinations;
mod failures;
mod helpers;
mod pcscd;
