//! The in-process transport: this chip on a virtual reader, as a `reader::Transport` (the
//! reader's tests, `--simulate`, the relay's tests and benchmarks).

use icao9303::protocol::apdu::CommandApdu;
use reader::{Transport, TransportError};

use crate::{LinkStats, VirtualChip};

/// The in-process transport: a virtual chip on a virtual reader. It can simulate the card
/// leaving the field after a number of APDUs.
#[derive(Debug)]
pub struct VirtualTransport {
    chip: VirtualChip,
    remove_after: Option<u64>,
    sent: u64,
    short_apdus_only: bool,
}

impl VirtualTransport {
    /// A powered-on chip on the reader.
    pub fn new(mut chip: VirtualChip) -> Self {
        chip.reset();
        VirtualTransport {
            chip,
            remove_after: None,
            sent: 0,
            short_apdus_only: false,
        }
    }

    /// The card leaves the field after `apdus` more exchanges: every later one fails with
    /// [`TransportError::CardRemoved`].
    pub fn remove_card_after(&mut self, apdus: u64) {
        self.remove_after = Some(self.sent + apdus);
    }

    /// Behaves as a reader (or driver) that cannot carry extended-length APDUs: such a command
    /// fails in the transport and never reaches the chip, as many cheap readers do.
    pub fn refuse_extended_apdus(&mut self) {
        self.short_apdus_only = true;
    }

    pub fn chip(&self) -> &VirtualChip {
        &self.chip
    }

    pub fn chip_mut(&mut self) -> &mut VirtualChip {
        &mut self.chip
    }

    /// APDUs, bytes and modelled link time so far (see `virtual_chip::LinkModel`).
    pub fn stats(&self) -> LinkStats {
        self.chip.stats()
    }
}

impl Transport for VirtualTransport {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        if self.remove_after.is_some_and(|n| self.sent >= n) {
            return Err(TransportError::CardRemoved);
        }
        self.sent += 1;
        let extended = || CommandApdu::from_bytes(command).is_ok_and(|c| c.is_extended());
        if self.short_apdus_only && extended() {
            return Err(TransportError::Other(
                "the reader cannot transmit extended-length APDUs".into(),
            ));
        }
        Ok(self.chip.transmit(command))
    }

    fn reset(&mut self) -> Result<(), TransportError> {
        self.chip.reset();
        Ok(())
    }
}
