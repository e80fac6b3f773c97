//! The eMRTD terminal: how APDUs reach a chip ([`Transport`]: [`PcscTransport`] through PC/SC;
//! `virtual_chip::VirtualTransport` is the in-process one, for tests and `--simulate`), and
//! [`read_document`], which reads a whole chip the way ICAO 9303 Part 10 and 11 describe:
//!
//! 1. EF.CardAccess (and EF.ATR/INFO, for extended length) from the master file, in plain;
//! 2. PACE when EF.CardAccess offers a protocol we run, else BAC (Part 11 §4.2);
//! 3. EF.COM, then DG14 and chip authentication (switching the session keys), then EF.SOD and
//!    the data groups EF.COM lists (DG3/DG4 need EAC and are skipped);
//! 4. Active Authentication with the caller's challenge when DG15 is present.
//!
//! When the chip announces extended length but the reader cannot carry such a command (the
//! transport fails), the card is reset and read again from step 1 in short commands.
//!
//! The result, [`ChipFiles`], holds the raw files and the raw AA response: judging them
//! (passive and active authentication) is `icao9303::verify`'s business, not the reader's.
//! [`write_dump`] writes them under the names `passport-reader verify` reads.
//!
//! [`relay`] is the other way to read for a verification session: the server runs the
//! protocol over the APDU relay and this only carries APDUs between it and the card.
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod dump;
mod error;
mod pcsc_transport;
mod read;
mod relay_client;
mod session_client;
mod transport;

pub use dump::write_dump;
pub use error::ReadError;
pub use pcsc_transport::{PcscReader, PcscTransport, list_readers};
pub use read::{
    AccessControl, AccessKey, ActiveAuthentication, BlockSize, ChipAuthentication, ChipFiles,
    Progress, ReadOptions, file_label, read_document,
};
pub use relay_client::{RelayError, RelayOptions, RelayOutcome, relay, relay_url};
pub use session_client::{
    AccessKeyFields, CanKey, MrzKey, SessionClient, SessionClientError, SessionStart, SubmitOutcome,
};
pub use transport::{Transport, TransportError};

/// A fresh random 8-byte Active Authentication challenge (in production the verifying server
/// issues it, so the chip's signature cannot be replayed).
pub fn random_challenge() -> Result<[u8; 8], openssl::error::ErrorStack> {
    let mut c = [0u8; 8];
    openssl::rand::rand_bytes(&mut c)?;
    Ok(c)
}
