//! A small deterministic mutator for the smoke test: a fixed-seed stream of the edits that break
//! TLV parsers (bit flips, interesting bytes, truncations, length fields set to huge values,
//! insertions, deletions, splices), so that every run tries the same inputs.

/// xorshift64*: tiny, fixed seed, identical on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to a BER-TLV or ASN.1 parser.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x1F, 0x30, 0x31, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84,
    0x85, 0x87, 0x8E, 0x99, 0xA0, 0xFE, 0xFF,
];

/// Long-form length fields, among them 2^31 and 2^32 − 1.
const LENGTHS: &[&[u8]] = &[
    &[0x80],
    &[0x81, 0xFF],
    &[0x82, 0xFF, 0xFF],
    &[0x83, 0x01, 0x00, 0x00],
    &[0x84, 0x80, 0x00, 0x00, 0x00],
    &[0x84, 0xFF, 0xFF, 0xFF, 0xFF],
    &[0x88, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
    &[0x00],
];

fn pick<T: Copy>(rng: &mut Rng, items: &[T], default: T) -> T {
    items
        .get(rng.below(items.len()))
        .copied()
        .unwrap_or(default)
}

/// One to four edits of `input`; `other` is the splice partner.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        let at = rng.below(len);
        match rng.below(8) {
            0 => {
                if let Some(b) = out.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                if let Some(b) = out.get_mut(at) {
                    *b = pick(rng, INTERESTING, 0);
                }
            }
            2 => out.truncate(rng.below(len + 1)),
            3 => {
                // A length field (the byte after a tag, or anywhere) set to a huge value.
                let field = pick(rng, LENGTHS, &[0x80]);
                let end = (at + 1 + rng.below(2)).min(len);
                out.splice(at.min(len)..end, field.iter().copied());
            }
            4 => {
                let n = 1 + rng.below(16);
                let end = (at + n).min(len);
                out.drain(at.min(len)..end);
            }
            5 => {
                let byte = pick(rng, INTERESTING, 0);
                let n = 1 + rng.below(8);
                out.splice(at.min(len)..at.min(len), std::iter::repeat_n(byte, n));
            }
            6 => {
                // Splice: a random piece of the other input replaces our tail.
                let from = rng.below(other.len());
                let to = from + rng.below(other.len() - from + 1);
                out.truncate(at);
                out.extend_from_slice(other.get(from..to).unwrap_or_default());
            }
            _ => {
                // Duplicate a piece of ourselves (nesting, repeated elements).
                let n = rng.below(64).min(len - at.min(len));
                let piece: Vec<u8> = out.get(at..at + n).unwrap_or_default().to_vec();
                out.splice(at..at, piece);
            }
        }
    }
    out
}
