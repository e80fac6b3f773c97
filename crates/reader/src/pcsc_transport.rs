//! The PC/SC transport (pcsc-lite's pcscd on Linux, WinSCard on Windows) through the `pcsc`
//! crate.

use std::ffi::{CStr, CString};

use crate::{Transport, TransportError};

/// A reader as PC/SC lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcscReader {
    pub name: String,
    /// Whether a card is in the field.
    pub card_present: bool,
}

fn map_error(e: pcsc::Error) -> TransportError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::NoDir => {
            TransportError::ServiceUnavailable(e.to_string())
        }
        pcsc::Error::NoReadersAvailable => TransportError::NoReader,
        pcsc::Error::NoSmartcard | pcsc::Error::UnpoweredCard | pcsc::Error::UnresponsiveCard => {
            TransportError::NoCard
        }
        pcsc::Error::RemovedCard | pcsc::Error::ResetCard => TransportError::CardRemoved,
        other => TransportError::Other(other.to_string()),
    }
}

fn context() -> Result<pcsc::Context, TransportError> {
    pcsc::Context::establish(pcsc::Scope::User).map_err(map_error)
}

fn reader_names(ctx: &pcsc::Context) -> Result<Vec<CString>, TransportError> {
    let len = ctx.list_readers_len().map_err(map_error)?;
    let mut buf = vec![0u8; len];
    let names: Vec<CString> = ctx
        .list_readers(&mut buf)
        .map_err(map_error)?
        .map(CStr::to_owned)
        .collect();
    if names.is_empty() {
        return Err(TransportError::NoReader);
    }
    Ok(names)
}

/// The connected readers and whether each holds a card. Errors: the service is not running
/// ([`TransportError::ServiceUnavailable`]) or no reader is connected
/// ([`TransportError::NoReader`]).
pub fn list_readers() -> Result<Vec<PcscReader>, TransportError> {
    let ctx = context()?;
    let names = reader_names(&ctx)?;
    let mut states: Vec<pcsc::ReaderState> = names
        .iter()
        .map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE))
        .collect();
    ctx.get_status_change(std::time::Duration::ZERO, &mut states)
        .map_err(map_error)?;
    Ok(states
        .iter()
        .map(|s| PcscReader {
            name: s.name().to_string_lossy().into_owned(),
            card_present: s.event_state().contains(pcsc::State::PRESENT),
        })
        .collect())
}

/// A card on a PC/SC reader.
pub struct PcscTransport {
    card: pcsc::Card,
    reader: String,
    share_mode: pcsc::ShareMode,
    buffer: Vec<u8>,
}

impl std::fmt::Debug for PcscTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscTransport")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscTransport {
    /// Connects to the card on the named reader, or on the first reader holding a card.
    pub fn connect(reader: Option<&str>) -> Result<Self, TransportError> {
        let ctx = context()?;
        let names = reader_names(&ctx)?;
        let name = match reader {
            Some(wanted) => names
                .into_iter()
                .find(|n| n.to_string_lossy() == wanted)
                .ok_or_else(|| TransportError::UnknownReader(wanted.to_owned()))?,
            None => {
                let present = list_readers()?
                    .into_iter()
                    .find(|r| r.card_present)
                    .ok_or(TransportError::NoCard)?;
                CString::new(present.name).map_err(|e| TransportError::Other(e.to_string()))?
            }
        };
        let (card, share_mode) = ctx
            .connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
            .map(|card| (card, pcsc::ShareMode::Exclusive))
            .or_else(|e| match e {
                // Another process holds it shared (e.g. a PC/SC monitor): share it.
                pcsc::Error::SharingViolation => ctx
                    .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
                    .map(|card| (card, pcsc::ShareMode::Shared)),
                e => Err(e),
            })
            .map_err(map_error)?;
        Ok(PcscTransport {
            card,
            share_mode,
            reader: name.to_string_lossy().into_owned(),
            buffer: vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }

    /// The reader's name.
    pub fn reader(&self) -> &str {
        &self.reader
    }
}

impl Transport for PcscTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let error = match self.card.transmit(command, &mut self.buffer) {
            Ok(response) if response.len() >= 2 => return Ok(response.to_vec()),
            Ok(_) => TransportError::Malformed,
            Err(e) => map_error(e),
        };
        // A card pulled away in the middle of an exchange can surface as a communication error
        // or an empty answer before the reader reports the card gone: ask the reader, for a
        // moment, whether the card is still there.
        if error != TransportError::CardRemoved && self.card_left() {
            return Err(TransportError::CardRemoved);
        }
        Err(error)
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.card
            .reconnect(
                self.share_mode,
                pcsc::Protocols::ANY,
                pcsc::Disposition::ResetCard,
            )
            .map_err(map_error)
    }
}

impl PcscTransport {
    /// Whether the card left the reader (asked five times over half a second).
    fn card_left(&self) -> bool {
        (0..5).any(|i| {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            matches!(
                self.card.status2_owned().map_err(map_error),
                Err(TransportError::CardRemoved | TransportError::NoCard)
            )
        })
    }
}
