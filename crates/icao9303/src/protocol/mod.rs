//! The terminal side of the chip-access protocols of ICAO Doc 9303 Part 11, free of I/O:
//! each protocol step takes the chip's response APDU and returns the next command APDU.
//!
//! - [`apdu`]: ISO/IEC 7816-4 command and response APDUs (short and extended length).
//! - [`sm`]: secure messaging (Part 11 §9.8) with 3DES or AES, for both the terminal and the card.
//! - [`bac`]: Basic Access Control (Part 11 §4.3, worked example App. D).
//! - [`pace`]: PACE with Generic Mapping (Part 11 §4.4, worked example App. G).
//! - [`chip_auth`]: Chip Authentication (Part 11 §6.2, BSI TR-03110 Part 3 §3.4).
//! - [`active_auth`]: the INTERNAL AUTHENTICATE command of Active Authentication (Part 11 §6.1).
//!
//! A caller owning a transport runs a protocol by sending each returned [`apdu::CommandApdu`]
//! and handing the chip's [`apdu::ResponseApdu`] to the next step; once access control is done
//! it wraps every further command with [`sm::SecureMessaging::protect`].

pub mod active_auth;
pub mod apdu;
pub mod bac;
pub mod chip_auth;
pub mod crypto;
pub mod pace;
pub mod sm;

mod error;
mod key_agreement;

pub use apdu::{CommandApdu, ResponseApdu, StatusWord};
pub use error::{ProtocolError, SmError};
pub use sm::SecureMessaging;
