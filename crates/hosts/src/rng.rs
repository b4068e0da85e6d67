//! The seeded randomness of a host: one named generator (xoshiro256++), so a
//! run is reproducible on every platform and with every version of `rand`'s
//! `StdRng`.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

/// The first port of Linux's default ephemeral range (`ip_local_port_range`).
pub(crate) const EPHEMERAL_FIRST: u16 = 32768;
/// The last port of Linux's default ephemeral range.
pub(crate) const EPHEMERAL_LAST: u16 = 60999;

/// SplitMix64's output function: spreads a seed (or a seed mixed with an
/// index) over all 64 bits. Used to derive independent seeds from one.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A host's generator.
#[derive(Clone, Debug)]
pub(crate) struct HostRng(Xoshiro256PlusPlus);

impl HostRng {
    pub(crate) fn new(seed: u64) -> HostRng {
        HostRng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A value below `n` (> 0). The modulo bias is negligible for the small
    /// ranges used here, and the arithmetic is the same everywhere.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }

    /// Picks a value in `first..=last` that `in_use` rejects, as Linux picks
    /// an ephemeral port: a random starting point, then the next free one
    /// upward, wrapping around. `None` when every value is in use.
    pub(crate) fn pick_free(&mut self, first: u16, last: u16, in_use: impl Fn(u16) -> bool) -> Option<u16> {
        let span = u32::from(last - first) + 1;
        let start = self.below(u64::from(span)) as u32;
        (0..span).map(|i| first + ((start + i) % span) as u16).find(|&p| !in_use(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of the reference SplitMix64 generator seeded with 0
        // (state advanced by the golden gamma before each output).
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn picks_only_free_values_in_range() {
        let mut rng = HostRng::new(7);
        for _ in 0..1000 {
            let p = rng.pick_free(EPHEMERAL_FIRST, EPHEMERAL_LAST, |p| p % 2 == 0).expect("odd ports are free");
            assert!((EPHEMERAL_FIRST..=EPHEMERAL_LAST).contains(&p) && p % 2 == 1);
        }
        assert_eq!(rng.pick_free(10, 12, |_| true), None);
        assert_eq!(rng.pick_free(10, 12, |p| p != 11), Some(11));
    }
}
