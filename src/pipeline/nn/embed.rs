//! Hash embeddings: a small table in which every key owns the sum of a few pseudo-random
//! rows, so any key (even one never seen in training) gets a vector without a vocabulary.
//!
//! # Overview
//!
//! [`HashEmbed`] maps a 64-bit key to [`HASHES`] rows chosen by independent hash functions;
//! two keys rarely collide on every row, so a table of a few thousand rows serves tens of
//! thousands of keys (spaCy's `HashEmbed`, after Svenstrup et al. 2017).

use super::{Params, Rng, mix64, simd};

/// How many rows each key sums.
pub(crate) const HASHES: usize = 4;

/// A hash-embedding table of `rows × width`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HashEmbed {
    pub(crate) rows: usize,
    pub(crate) width: usize,
    pub(crate) seed: u64,
    pub(crate) table: Vec<f32>,
}

impl HashEmbed {
    /// A table with small random entries; `seed` also picks its hash functions.
    ///
    /// # Panics
    ///
    /// Panics if `rows` or `width` is zero.
    pub(crate) fn new(rows: usize, width: usize, seed: u64, rng: &mut Rng) -> Self {
        assert!(rows > 0 && width > 0, "a hash embedding needs rows and width");
        let table = (0..rows * width).map(|_| rng.normal(0.1)).collect();
        Self { rows, width, seed, table }
    }

    /// A zeroed copy (a gradient accumulator).
    pub(crate) fn zeros_like(&self) -> Self {
        Self { table: vec![0.0; self.table.len()], ..self.clone() }
    }

    /// The table rows that `key` sums.
    #[inline]
    pub(crate) fn rows_of(&self, key: u64) -> [usize; HASHES] {
        let mut rows = [0; HASHES];
        for (i, row) in rows.iter_mut().enumerate() {
            let h = mix64(key ^ mix64(self.seed.wrapping_add(i as u64)));
            *row = (h % self.rows as u64) as usize;
        }
        rows
    }

    /// Writes the embedding of `keys[i]` into columns `offset..offset + width` of row `i` of
    /// `out` (rows of `stride` floats).
    pub(crate) fn forward(&self, keys: &[u64], out: &mut [f32], stride: usize, offset: usize) {
        sum_rows(self, keys, out, stride, offset);
    }

    /// Accumulates the gradient `d` (laid out as `out` was) into the rows `keys` used.
    pub(crate) fn backward(
        &self,
        keys: &[u64],
        d: &[f32],
        stride: usize,
        offset: usize,
        grad: &mut HashEmbed,
    ) {
        for (&key, row) in keys.iter().zip(d.chunks_exact(stride)) {
            let src = &row[offset..offset + self.width];
            for r in self.rows_of(key) {
                for (g, s) in grad.table[r * self.width..(r + 1) * self.width].iter_mut().zip(src) {
                    *g += s;
                }
            }
        }
    }
}

simd! {
    /// [`HashEmbed::forward`].
    fn sum_rows(embed: &HashEmbed, keys: &[u64], out: &mut [f32], stride: usize, offset: usize) {
        let width = embed.width;
        // The table rows are scattered over megabytes: fetching the rows of the keys a few
        // tokens ahead keeps several cache misses in flight instead of one at a time.
        let table_rows: Vec<[usize; HASHES]> = keys.iter().map(|&key| embed.rows_of(key)).collect();
        for (i, row) in out.chunks_exact_mut(stride).take(keys.len()).enumerate() {
            for &r in table_rows.get(i + PREFETCH_AHEAD).into_iter().flatten() {
                prefetch(&embed.table[r * width..(r + 1) * width]);
            }
            let dst = &mut row[offset..offset + width];
            let [first, rest @ ..] = table_rows[i];
            dst.copy_from_slice(&embed.table[first * width..(first + 1) * width]);
            for r in rest {
                for (d, s) in dst.iter_mut().zip(&embed.table[r * width..(r + 1) * width]) {
                    *d += s;
                }
            }
        }
    }
}

/// How many keys ahead [`sum_rows`] prefetches the table rows of.
const PREFETCH_AHEAD: usize = 4;

/// Asks the CPU to bring `values` into the cache: a hint, which changes no result.
#[inline(always)]
fn prefetch(values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(16) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing the program sees and cannot fault; the address
        // is a live slice's.
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

impl Params for HashEmbed {
    fn params(&self) -> Vec<&[f32]> {
        vec![&self.table]
    }

    fn params_mut(&mut self) -> Vec<&mut [f32]> {
        vec![&mut self.table]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sum_their_rows_and_gradients_land_there() {
        let mut rng = Rng::new(4);
        let embed = HashEmbed::new(50, 3, 11, &mut rng);
        let keys = [7_u64, 123_456_789];
        let mut out = vec![9.0; 2 * 5];
        embed.forward(&keys, &mut out, 5, 1);
        for (i, &key) in keys.iter().enumerate() {
            let want: Vec<f32> = (0..3)
                .map(|c| embed.rows_of(key).iter().map(|r| embed.table[r * 3 + c]).sum())
                .collect();
            assert_eq!(&out[i * 5 + 1..i * 5 + 4], &want[..]);
            assert_eq!((out[i * 5], out[i * 5 + 4]), (9.0, 9.0));
        }
        assert_ne!(embed.rows_of(keys[0]), embed.rows_of(keys[1]));
        let mut grad = embed.zeros_like();
        embed.backward(&keys[..1], &[0.0, 1.0, 2.0, 3.0, 0.0], 5, 1, &mut grad);
        let total: f32 = grad.table.iter().sum();
        assert!((total - 6.0 * HASHES as f32).abs() < 1e-6);
    }
}
