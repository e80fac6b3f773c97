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
//! it wraps every further command with [`sm::SecureMessaging::protect`] and checks every
//! response with [`sm::SecureMessaging::unprotect`]. A reader session goes:
//!
//! 1. SELECT the eMRTD application; read EF.CardAccess ('011C') in plain. If it holds a
//!    `PACEInfo` that [`pace::choose`] accepts, run [`pace::Terminal`] (`start`, then `next`
//!    with each response until `TerminalStep::Done`); otherwise (no file, or nothing supported)
//!    run [`bac::Terminal`] (`get_challenge_command`, `mutual_authenticate_command`, `finish`).
//! 2. Read files with [`apdu::CommandApdu::read_binary`] through the session, in blocks of
//!    [`sm::SecureMessaging::max_read_len`] (256 bytes of response without extended length).
//! 3. Chip authentication with DG14's key: [`chip_auth::Terminal`] through the current session,
//!    then replace the session with the one it returns.
//! 4. Active authentication: [`active_auth::internal_authenticate`] through the session.
//!
//! The card side of each protocol (`bac::Card`, `pace::Card`, `chip_auth::Card`, and
//! `SecureMessaging::unprotect_command` / `protect_response`) serves a virtual chip.

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
