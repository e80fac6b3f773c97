//! The command side of Active Authentication (ICAO 9303 Part 11 §6.1): INTERNAL AUTHENTICATE
//! with the 8-byte challenge the server issued. Checking the signature against DG15 belongs to
//! the active-authentication verifier, not here.

use super::apdu::{CommandApdu, ResponseApdu};
use super::error::ProtocolError;

/// Length of the Active Authentication challenge RND.IFD (Part 11 §6.1.2).
pub const CHALLENGE_LEN: usize = 8;

/// INTERNAL AUTHENTICATE '00 88 00 00' with the challenge, Le '00' (up to 256 bytes: an RSA-2048
/// signature or any ECDSA signature). To be protected with the secure-messaging session.
pub fn internal_authenticate(challenge: &[u8; CHALLENGE_LEN]) -> CommandApdu {
    CommandApdu::short(0x00, 0x88, 0x00, 0x00, challenge.to_vec(), Some(0))
}

/// INTERNAL AUTHENTICATE expecting up to `ne` bytes (extended length for keys above 2048 bits,
/// when the chip supports extended length).
pub fn internal_authenticate_with_ne(
    challenge: &[u8; CHALLENGE_LEN],
    ne: usize,
) -> Result<CommandApdu, ProtocolError> {
    CommandApdu::new(0x00, 0x88, 0x00, 0x00, challenge.to_vec(), Some(ne))
        .map_err(|_| ProtocolError::InvalidInput("expected length outside 1..=65536"))
}

/// The chip's signature from the (unprotected) response, or its refusal as an error.
pub fn signature(response: &ResponseApdu) -> Result<&[u8], ProtocolError> {
    let data = response.success_data().map_err(ProtocolError::Status)?;
    if data.is_empty() {
        return Err(ProtocolError::Malformed(
            "empty INTERNAL AUTHENTICATE response",
        ));
    }
    Ok(data)
}
