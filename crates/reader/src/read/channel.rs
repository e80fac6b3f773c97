//! The channel to the chip: the transmission-level answers of ISO/IEC 7816-3/-4 handled as a card
//! reader's driver would ('6Cxx', '61xx'), and secure messaging once access control opened it.

use icao9303::protocol::apdu::{CommandApdu, ResponseApdu, StatusWord};
use icao9303::protocol::{SecureMessaging, SmError};

use crate::{ReadError, Transport, TransportError};

/// The channel to the chip: plain until access control, then secure messaging.
pub(super) struct Channel<'t> {
    pub(super) transport: &'t mut dyn Transport,
    pub(super) sm: Option<SecureMessaging>,
}

impl Channel<'_> {
    fn exchange(&mut self, command: &CommandApdu, during: &str) -> Result<ResponseApdu, ReadError> {
        let bytes = self
            .transport
            .transmit(&command.to_bytes())
            .map_err(|source| ReadError::Transport {
                during: during.to_owned(),
                source,
            })?;
        ResponseApdu::from_bytes(&bytes).map_err(|_| ReadError::Transport {
            during: during.to_owned(),
            source: TransportError::Malformed,
        })
    }

    /// One command as the transport carries it, with the transmission-level answers of
    /// ISO/IEC 7816-3/-4 handled as a card reader's driver would: '6Cxx' (a plain command's Le
    /// was wrong: sent again with Le = xx) and '61xx' (xx more bytes wait: fetched with GET
    /// RESPONSE until the final status word). Secure messaging sees the joined response.
    pub(super) fn plain(
        &mut self,
        command: &CommandApdu,
        during: &str,
    ) -> Result<ResponseApdu, ReadError> {
        let mut response = self.exchange(command, during)?;
        let plain_command = command.cla() & 0x0C == 0;
        if plain_command && let Some(ne) = le_correction(response.sw) {
            let corrected = with_ne(command.header(), command.data(), ne, during)?;
            response = self.exchange(&corrected, during)?;
        }
        let mut data = Vec::new();
        while let Some(ne) = response_waiting(response.sw) {
            data.append(&mut response.data);
            if data.len() > MAX_RESPONSE_LEN {
                return Err(ReadError::Transport {
                    during: during.to_owned(),
                    source: TransportError::Other(format!(
                        "the card keeps announcing more response bytes (over {MAX_RESPONSE_LEN})"
                    )),
                });
            }
            response = self.exchange(&with_ne(GET_RESPONSE, &[], ne, during)?, during)?;
            if let Some(ne) = le_correction(response.sw) {
                response = self.exchange(&with_ne(GET_RESPONSE, &[], ne, during)?, during)?;
            }
        }
        if !data.is_empty() {
            data.append(&mut response.data);
            response.data = data;
        }
        Ok(response)
    }

    /// A plain command that opens access control: a chip that still had a session answers it
    /// '6987'/'6988' and drops its keys (Part 11 §9.8.8), so that answer means "send it
    /// again", not "give up".
    pub(super) fn plain_restarting(
        &mut self,
        command: &CommandApdu,
        during: &str,
    ) -> Result<ResponseApdu, ReadError> {
        let response = self.plain(command, during)?;
        if is_session_end(response.sw) {
            return self.plain(command, during);
        }
        Ok(response)
    }

    /// Protected exchange; plain when no session is open (never the case after access control).
    pub(super) fn send(
        &mut self,
        command: &CommandApdu,
        during: &str,
    ) -> Result<ResponseApdu, ReadError> {
        let Some(sm) = self.sm.as_mut() else {
            return self.plain(command, during);
        };
        let protected = sm
            .protect(command)
            .map_err(|source| ReadError::SecureMessaging {
                during: during.to_owned(),
                source,
            })?;
        let response = self.plain(&protected, during)?;
        let Some(sm) = self.sm.as_mut() else {
            return Ok(response);
        };
        match sm.unprotect(&response) {
            Ok(r) => Ok(r),
            Err(SmError::Unprotected(sw)) => {
                self.sm = None;
                Err(ReadError::SessionTerminated {
                    during: during.to_owned(),
                    sw,
                })
            }
            Err(source) => {
                self.sm = None;
                Err(ReadError::SecureMessaging {
                    during: during.to_owned(),
                    source,
                })
            }
        }
    }

    pub(super) fn send_ok(
        &mut self,
        command: &CommandApdu,
        during: &str,
    ) -> Result<Vec<u8>, ReadError> {
        let r = self.send(command, during)?;
        if r.sw.is_success() {
            Ok(r.data)
        } else {
            Err(ReadError::Chip {
                during: during.to_owned(),
                sw: r.sw,
            })
        }
    }
}

/// The most response bytes joined from '61xx' pieces (a bound against a card that never ends).
const MAX_RESPONSE_LEN: usize = icao9303::protocol::apdu::MAX_NE + 1024;

/// '6Cxx': the exact Le to send the command again with.
fn le_correction(sw: StatusWord) -> Option<usize> {
    (sw.0 & 0xFF00 == 0x6C00).then(|| match sw.0 & 0xFF {
        0 => 256,
        n => usize::from(n),
    })
}

/// '61xx': bytes waiting for GET RESPONSE.
fn response_waiting(sw: StatusWord) -> Option<usize> {
    (sw.0 & 0xFF00 == 0x6100).then(|| match sw.0 & 0xFF {
        0 => 256,
        n => usize::from(n),
    })
}

/// GET RESPONSE (ISO/IEC 7816-4 §11.5.1).
const GET_RESPONSE: [u8; 4] = [0x00, 0xC0, 0x00, 0x00];

fn with_ne(
    header: [u8; 4],
    data: &[u8],
    ne: usize,
    during: &str,
) -> Result<CommandApdu, ReadError> {
    let [cla, ins, p1, p2] = header;
    CommandApdu::new(cla, ins, p1, p2, data.to_vec(), Some(ne)).map_err(|e| ReadError::Transport {
        during: during.to_owned(),
        source: TransportError::Other(format!("the card asked for Le {ne}: {e}")),
    })
}

/// '6987'/'6988' in plain: the chip ended (or had no) secure-messaging session.
fn is_session_end(sw: StatusWord) -> bool {
    sw == StatusWord::SM_OBJECTS_MISSING || sw == StatusWord::SM_OBJECTS_INCORRECT
}
