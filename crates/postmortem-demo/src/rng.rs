//! Seeded randomness that gives the same values on every machine and for every split.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator for one stream of a seed: stream `i` is incident `i`, so any incident can be
/// generated alone, in any order, by any thread, and still come out the same.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    // Spread the 64-bit seed over the whole 256-bit key (splitmix64), so nearby seeds give
    // unrelated keys.
    let mut key = [0u8; 32];
    let mut state = seed;
    for chunk in key.chunks_exact_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(stream);
    rng
}

/// An index below `len`. Sampled as `u32`, never `usize`, because rand's `usize` sampling
/// differs between 32- and 64-bit targets and the data must not.
pub(crate) fn pick<R: Rng>(rng: &mut R, len: usize) -> usize {
    debug_assert!(len > 0 && len <= u32::MAX as usize);
    rng.gen_range(0..len as u32) as usize
}

/// One item of a slice.
pub(crate) fn one<T: Copy, R: Rng>(rng: &mut R, items: &[T]) -> T {
    items[pick(rng, items.len())]
}

/// An index chosen with the given weights.
pub(crate) fn weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if roll < w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

/// True with probability `percent` in 100.
pub(crate) fn chance<R: Rng>(rng: &mut R, percent: u32) -> bool {
    rng.gen_range(0..100u32) < percent
}

/// A number in `lo..=hi`.
pub(crate) fn between<R: Rng>(rng: &mut R, lo: u32, hi: u32) -> u32 {
    rng.gen_range(lo..=hi)
}
