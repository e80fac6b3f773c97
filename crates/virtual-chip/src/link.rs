//! A model of the contactless link between reader and chip: a bit rate and a fixed cost per
//! APDU (frame delays, chip processing). Time is computed from the bytes exchanged, never slept
//! here, so benchmarks and tests stay fast and reproducible.

use std::time::Duration;

/// Bit rate and per-APDU latency of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkModel {
    /// Raw bit rate, e.g. 424 000 for ISO/IEC 14443 at 424 kbit/s.
    pub bits_per_second: u64,
    /// Added once per command-response pair.
    pub per_apdu: Duration,
}

impl LinkModel {
    /// 424 kbit/s and 5 ms per APDU: a typical ePassport on a desktop reader.
    pub const TYPICAL: LinkModel = LinkModel {
        bits_per_second: 424_000,
        per_apdu: Duration::from_millis(5),
    };

    /// The modelled time of one exchange of `command_len` + `response_len` bytes (8 bits a
    /// byte; ISO/IEC 14443 framing overhead is folded into `per_apdu`).
    pub fn exchange_time(&self, command_len: usize, response_len: usize) -> Duration {
        let bits = 8 * (command_len as u128 + response_len as u128);
        let nanos = bits * 1_000_000_000 / u128::from(self.bits_per_second.max(1));
        self.per_apdu + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// What went over the link: APDU count, bytes each way, and the modelled time (zero without a
/// [`LinkModel`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub apdus: u64,
    pub command_bytes: u64,
    pub response_bytes: u64,
    pub modelled_time: Duration,
}

impl LinkStats {
    pub(crate) fn record(&mut self, model: Option<&LinkModel>, command: usize, response: usize) {
        self.apdus += 1;
        self.command_bytes += command as u64;
        self.response_bytes += response as u64;
        if let Some(m) = model {
            self.modelled_time += m.exchange_time(command, response);
        }
    }

    /// Bytes in both directions.
    pub fn total_bytes(&self) -> u64 {
        self.command_bytes + self.response_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_time_is_latency_plus_bits() {
        // 53 bytes = 424 bits = 1 ms at 424 kbit/s.
        let t = LinkModel::TYPICAL.exchange_time(20, 33);
        assert_eq!(t, Duration::from_millis(6));
        let mut s = LinkStats::default();
        s.record(Some(&LinkModel::TYPICAL), 20, 33);
        s.record(None, 1, 1);
        assert_eq!((s.apdus, s.total_bytes()), (2, 55));
        assert_eq!(s.modelled_time, Duration::from_millis(6));
    }
}
