//! The parser network's precomputed rows over a sliding range of words, so that parsing a
//! long run of words takes memory bounded by its longest sentence, not by its length.
//!
//! # Overview
//!
//! [`ParserModel::precompute`] turns every word vector into `TOKEN_SLOTS × hidden·pieces`
//! pre-activations (5.6 KB a word with the shipped model: 280 MB for a 50,000-word
//! document). A state only reads words of its current sentence and the next few of the
//! buffer, so a [`Window`] holds the rows of words `first..end` alone: it extends them a
//! [`CHUNK`] of words at a time as the buffer advances, and drops the rows before the
//! sentence in progress. Every word is still precomputed exactly once.

use super::model::ParserModel;

/// Words precomputed at a time.
pub(crate) const CHUNK: usize = 256;

/// Precomputed rows of the words `first..end` of a run. See the [module docs](self).
#[derive(Debug, Default)]
pub(crate) struct Window {
    rows: Vec<f32>,
    first: usize,
    end: usize,
}

impl Window {
    /// Empties the window for a new run.
    pub(crate) fn clear(&mut self) {
        self.rows.clear();
        self.first = 0;
        self.end = 0;
    }

    /// Makes the rows of words `start..need` available, where `x` (n × width) are the
    /// run's word vectors, `need ≤ n` and `start` never decreases between calls.
    pub(crate) fn cover(&mut self, model: &ParserModel, x: &[f32], start: usize, need: usize) {
        if need <= self.end {
            return;
        }
        let (width, row) = (model.lower.n_in, model.lower.n_out);
        let dropped = start.min(self.end).saturating_sub(self.first);
        self.rows.drain(..dropped * row);
        self.first += dropped;
        let end = need.max(self.end + CHUNK).min(x.len() / width);
        let old = self.rows.len();
        self.rows.resize(old + (end - self.end) * row, 0.0);
        model.lower.forward(&x[self.end * width..end * width], &mut self.rows[old..]);
        self.end = end;
    }

    /// The rows held and the word the first of them belongs to.
    pub(crate) fn rows(&self) -> (&[f32], usize) {
        (&self.rows, self.first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::Rng;

    #[test]
    fn window_rows_match_the_whole_precomputation() {
        let mut rng = Rng::new(3);
        let model = ParserModel::new(4, 2, 2, 3, &mut rng);
        let n = 3 * CHUNK + 17;
        let x: Vec<f32> = (0..n * 4).map(|_| rng.normal(1.0)).collect();
        let mut whole = Vec::new();
        model.precompute(&x, &mut whole);
        let row = model.lower.n_out;
        // (sentence start, words needed, first word expected to be held)
        let steps = [
            (0, 3, 0),
            (0, CHUNK, 0),
            (10, CHUNK + 1, 10),
            (10, CHUNK + 2, 10),
            (300, 2 * CHUNK + 40, 300),
            (700, n, 700),
            (n - 1, n, 700),
        ];
        let mut window = Window::default();
        for (start, need, first) in steps {
            window.cover(&model, &x, start, need);
            let (rows, at) = window.rows();
            assert_eq!(at, first, "start {start}, need {need}");
            assert!(rows.len() >= (need - at) * row);
            assert!(rows.len() <= (need - at + CHUNK) * row, "at most a chunk ahead");
            assert_eq!(rows, &whole[at * row..at * row + rows.len()]);
        }
        window.clear();
        window.cover(&model, &x, 0, 1);
        assert_eq!(window.rows().0, &whole[..CHUNK * row]);
    }
}
