//! A virtual eMRTD chip (ICAO Doc 9303): the card side of BAC, PACE, chip authentication and
//! active authentication, holding a document from the test-document factory, and enforcing the
//! chip's access control as a real chip does.
//!
//! - [`ChipContents`]: what the chip holds (LDS files, EF.CardAccess, MRZ and CAN, private keys).
//! - [`Profile`] / [`ChipConfig`]: which protocols the chip runs (`bac`, `pace`, `pace-ca`,
//!   `clone`), extended-length support and the link model; [`Quirk`]: behaviours of real chips
//!   that differ from the default (refusing chip authentication, ending secure messaging on a
//!   plain command or an error, GET RESPONSE, Le correction, slow answers, short APDUs only).
//! - [`VirtualChip`]: command APDU bytes in, response APDU bytes out; `power_on` / `reset`.
//! - [`LinkModel`] / [`LinkStats`]: a computed (never slept) model of the contactless link.
//! - [`VirtualTransport`]: the chip on a virtual reader, as a `reader::Transport`.
//! - [`vpcd`]: serves the chip to a PC/SC stack through vsmartcard's virtual reader driver.
//!
//! The protocol arithmetic comes from `icao9303::protocol` (`bac::Card`, `pace::Card`,
//! `chip_auth::Card`, `SecureMessaging`); Active Authentication signing (ISO/IEC 9796-2 scheme 1
//! and plain ECDSA), the file system and the access-control state machine live here.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod active_auth;
mod chip;
mod contents;
mod error;
mod link;
mod profile;
mod quirks;
mod transport;
pub mod vpcd;

pub use chip::{ATR, VirtualChip};
pub use contents::{ChipContents, DEFAULT_CAN};
pub use error::ChipError;
pub use link::{LinkModel, LinkStats};
pub use profile::{ChipConfig, KeyUse, Profile, card_access_for, issue_document};
pub use quirks::{QUIRK_NAMES, Quirk, Quirks};
pub use transport::VirtualTransport;
