//! Integration tests of the virtual chip, driving it with the terminal side of
//! `icao9303::protocol`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod access_control;
mod helpers;
mod vpcd;
