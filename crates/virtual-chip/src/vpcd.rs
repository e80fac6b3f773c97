//! Serving the chip to PC/SC through vsmartcard's virtual reader driver (vpcd).
//!
//! vpcd listens (by default on port 35963) and the virtual card connects to it. Every message
//! either way is a two-byte big-endian length and a payload. A one-byte payload from vpcd is a
//! control code: 0 power off, 1 power on, 2 reset, 4 get ATR (answered with the ATR); any
//! longer payload is a command APDU, answered with the response APDU.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::VirtualChip;

/// The port vpcd listens on for its first slot.
pub const DEFAULT_PORT: u16 = 35963;

const POWER_OFF: u8 = 0;
const POWER_ON: u8 = 1;
const RESET: u8 = 2;
const GET_ATR: u8 = 4;

/// What a serving session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServeSummary {
    pub apdus: u64,
    pub resets: u64,
}

/// Answers vpcd on `stream` until vpcd closes the connection. With `real_time`, sleeps for
/// each APDU's modelled link time (when the chip has a link model) before answering, so a
/// reader sees the latency a real chip would have.
pub fn serve<S: Read + Write>(
    mut stream: S,
    chip: &mut VirtualChip,
    real_time: bool,
) -> io::Result<ServeSummary> {
    let mut summary = ServeSummary::default();
    loop {
        let mut len = [0u8; 2];
        match stream.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(summary),
            Err(e) => return Err(e),
        }
        let mut payload = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut payload)?;
        match payload.as_slice() {
            [POWER_OFF] | [POWER_ON] | [RESET] => {
                chip.reset();
                summary.resets += 1;
            }
            [GET_ATR] => send(&mut stream, chip.atr())?,
            [_] | [] => {}
            apdu => {
                let before = chip.stats().modelled_time;
                let response = chip.transmit(apdu);
                summary.apdus += 1;
                if real_time {
                    let spent = chip.stats().modelled_time.saturating_sub(before);
                    if spent > Duration::ZERO {
                        std::thread::sleep(spent);
                    }
                }
                send(&mut stream, &response)?;
            }
        }
    }
}

/// Connects to vpcd at `addr` (e.g. `localhost:35963`) and serves until vpcd disconnects.
pub fn connect_and_serve(
    addr: &str,
    chip: &mut VirtualChip,
    real_time: bool,
) -> io::Result<ServeSummary> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    serve(stream, chip, real_time)
}

fn send<W: Write>(w: &mut W, payload: &[u8]) -> io::Result<()> {
    let len = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "payload over 65535 bytes"))?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(payload);
    w.write_all(&frame)?;
    w.flush()
}
