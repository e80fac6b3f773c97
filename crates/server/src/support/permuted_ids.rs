//! Ids that the database counts in order but that are shown permuted, so that they reveal
//! nothing about volume or order (like the random ids of [`super::ids`]) while new rows still
//! land at the end of the table's key index instead of on a page of their own each.
//!
//! A stored id `n` in `[1, 2^40)` is shown as `P(n)`, where `P` is a keyed permutation of the
//! 40-bit numbers: a balanced Feistel network of [`ROUNDS`] rounds on two 20-bit halves, whose
//! round function is HMAC-SHA256 under a per-database key. `P(n)` is never 0: the one `n` that
//! `P` takes to 0 is shown as `P(0)` instead (0 itself is never stored), which keeps the map one
//! to one. Stored ids of `2^40` and up (random ids written before the counter existed) are shown
//! as they are. So a shown id below `2^40` is always a permuted one, and one of `2^40` and up
//! never is: [`PermutedIds::stored`] inverts [`PermutedIds::shown`] exactly.

/// Bits of a stored (and a permuted) id.
const BITS: u32 = 40;
const HALF: u32 = BITS / 2;
const HALF_MASK: u64 = (1 << HALF) - 1;
/// The first id that is not counted: the random ids start there.
pub const COUNTED_END: i64 = 1 << BITS;
/// Rounds of the Feistel network: with halves this small, more than the classic four, so that
/// the permutation stays indistinguishable from a random one for the many ids one integrator
/// sees.
const ROUNDS: u8 = 10;

/// The permutation under one database's key. Cheap to clone.
#[derive(Clone)]
pub struct PermutedIds {
    key: ring::hmac::Key,
}

impl std::fmt::Debug for PermutedIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs and debug output.
        f.write_str("PermutedIds(..)")
    }
}

impl PermutedIds {
    /// The permutation keyed by `key` (the database's own, drawn when its table was created).
    pub fn new(key: &[u8]) -> PermutedIds {
        PermutedIds {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        }
    }

    /// The id shown for the stored id `stored`.
    pub fn shown(&self, stored: i64) -> i64 {
        counted_through(stored, |x| self.permute(x))
    }

    /// The stored id of the shown id `shown` (an id no row can have, for values never shown).
    pub fn stored(&self, shown: i64) -> i64 {
        counted_through(shown, |x| self.unpermute(x))
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let [_, _, _, _, _, a, b, c] = half.to_be_bytes();
        let tag = ring::hmac::sign(&self.key, &[round, a, b, c]);
        let [x, y, z, ..] = tag.as_ref() else {
            return 0;
        };
        u64::from_be_bytes([0, 0, 0, 0, 0, *x, *y, *z]) & HALF_MASK
    }

    fn permute(&self, x: u64) -> u64 {
        let (mut left, mut right) = (x >> HALF, x & HALF_MASK);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ self.round(round, right));
        }
        (left << HALF) | right
    }

    fn unpermute(&self, y: u64) -> u64 {
        let (mut left, mut right) = (y >> HALF, y & HALF_MASK);
        for round in (0..ROUNDS).rev() {
            (left, right) = (right ^ self.round(round, left), left);
        }
        (left << HALF) | right
    }
}

/// `id` through `map` (the permutation or its inverse) if it is a counted one, else as it is.
/// `map` never gives 0: where it would, the value is `map(0)` instead, which no counted id maps
/// to, so the result stays one to one on `[1, 2^40)` and the two directions still invert.
fn counted_through(id: i64, map: impl Fn(u64) -> u64) -> i64 {
    if !(1..COUNTED_END).contains(&id) {
        return id;
    }
    let mapped = map(id as u64);
    (if mapped == 0 { map(0) } else { mapped }) as i64
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn shown_ids_invert_and_never_repeat() {
        let ids = PermutedIds::new(b"a database's key");
        let mut seen = HashSet::new();
        for stored in (1..20_000).chain(COUNTED_END - 20_000..COUNTED_END) {
            let shown = ids.shown(stored);
            assert!((1..COUNTED_END).contains(&shown), "{stored} -> {shown}");
            assert!(seen.insert(shown), "{shown} shown twice");
            assert_eq!(ids.stored(shown), stored);
        }
    }

    #[test]
    fn the_one_id_permuted_to_zero_is_shown_as_another() {
        let ids = PermutedIds::new(b"a database's key");
        let to_zero = ids.unpermute(0);
        assert_ne!(to_zero, 0);
        assert_eq!(ids.shown(to_zero as i64), ids.permute(0) as i64);
        assert_eq!(ids.stored(ids.permute(0) as i64), to_zero as i64);
        assert_ne!(ids.shown(to_zero as i64), 0);
    }

    #[test]
    fn random_ids_of_before_are_shown_as_they_are() {
        let ids = PermutedIds::new(b"a database's key");
        for id in [COUNTED_END, COUNTED_END + 12_345, (1 << 53) - 1] {
            assert_eq!(ids.shown(id), id);
            assert_eq!(ids.stored(id), id);
        }
        // Never shown: no stored id answers to them.
        assert_eq!(ids.stored(0), 0);
        assert_eq!(ids.stored(-5), -5);
    }

    #[test]
    fn ids_in_order_do_not_look_in_order() {
        let ids = PermutedIds::new(b"a database's key");
        let shown: Vec<i64> = (1..=1000).map(|n| ids.shown(n)).collect();
        let rising = shown.windows(2).filter(|w| w[1] > w[0]).count();
        // A random order rises about half the time; ids in order always do.
        assert!((400..600).contains(&rising), "{rising} of 999 rising");
        // Spread over the whole range, not clustered near the counter.
        assert!(shown.iter().filter(|&&s| s > COUNTED_END / 2).count() > 400);
    }

    #[test]
    fn another_key_shows_other_ids() {
        let (a, b) = (PermutedIds::new(b"one key"), PermutedIds::new(b"another"));
        let same = (1..1000).filter(|&n| a.shown(n) == b.shown(n)).count();
        assert!(same < 3, "{same}");
    }
}
