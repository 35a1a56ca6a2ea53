//! Overlapping windows over a document's pieces, and which window each piece is read from.
//!
//! # Overview
//!
//! The encoder reads at most `max_positions` pieces at once (512 for BERT), and attention
//! costs grow with the square of the input, so a document's pieces are cut into windows of
//! at most [`Windows::span`] pieces, each encoded as `[CLS] … [SEP]`. Consecutive windows
//! share `overlap` pieces, so a piece near a window's edge, which sees little context on
//! one side, is also seen from the middle of the next window. Each piece's hidden state is
//! then taken from the window where it is most central (farthest from either edge; the
//! earlier window on ties). A document that fits in one window is encoded as one input.

use std::ops::Range;

/// How a document's pieces are cut into windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Most pieces per window, without `[CLS]` and `[SEP]`.
    pub span: usize,
    /// Pieces shared by consecutive windows (less than `span`).
    pub overlap: usize,
}

impl Windows {
    /// The windows over `n` pieces: ranges of piece indexes, in order, covering `0..n`
    /// (none for no pieces). All but the last start `span - overlap` after the previous
    /// one; the last ends at `n` and is as long as the others.
    ///
    /// # Panics
    ///
    /// Panics unless `overlap < span`.
    pub fn over(self, n: usize) -> Vec<Range<usize>> {
        assert!(self.overlap < self.span, "the overlap must be less than the span");
        let step = self.span - self.overlap;
        let mut windows = Vec::with_capacity(n.div_ceil(step));
        let mut start = 0;
        while start < n {
            if start + self.span >= n {
                // The last window: as long as the others, ending at the end (it starts
                // after the previous one, which did not reach the end).
                windows.push(n.saturating_sub(self.span)..n);
                break;
            }
            windows.push(start..start + self.span);
            start += step;
        }
        windows
    }

    /// For each of `n` pieces, the window it is read from (an index into `windows`) and its
    /// position in that window: the window where it is farthest from an edge.
    pub fn owners(windows: &[Range<usize>], n: usize) -> Vec<(usize, usize)> {
        let mut owners = Vec::with_capacity(n);
        let mut first = 0;
        for piece in 0..n {
            while windows[first].end <= piece {
                first += 1;
            }
            let best = windows[first..]
                .iter()
                .enumerate()
                .take_while(|(_, w)| w.start <= piece)
                .map(|(i, w)| (first + i, (piece - w.start).min(w.end - 1 - piece)))
                .fold(None, |best: Option<(usize, usize)>, (i, margin)| match best {
                    Some((_, m)) if m >= margin => best,
                    _ => Some((i, margin)),
                })
                .expect("the windows cover every piece. This is a bug.");
            owners.push((best.0, piece - windows[best.0].start));
        }
        owners
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_pieces_with_the_overlap() {
        let w = Windows { span: 4, overlap: 2 };
        let cases: [(usize, &[(usize, usize)]); 6] = [
            (0, &[]),
            (1, &[(0, 1)]),
            (4, &[(0, 4)]),
            (5, &[(0, 4), (1, 5)]),
            (6, &[(0, 4), (2, 6)]),
            (9, &[(0, 4), (2, 6), (4, 8), (5, 9)]),
        ];
        for (n, want) in cases {
            let got: Vec<_> = w.over(n).into_iter().map(|r| (r.start, r.end)).collect();
            assert_eq!(got, want, "{n}");
        }
    }

    #[test]
    fn each_piece_is_read_where_it_is_most_central() {
        let windows = Windows { span: 4, overlap: 2 }.over(9);
        let owners = Windows::owners(&windows, 9);
        // 0..4 owns 0-2 (2 is 1 from its edge there, 0 in 2..6); 2..6 owns 3 and 4;
        // 4..8 owns 5 and 6 (1 from an edge in 4..8 and in 5..9: the earlier wins); 5..9
        // owns 7 and 8.
        let want = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (3, 3)];
        assert_eq!(owners, want);
        for (piece, (w, at)) in owners.into_iter().enumerate() {
            assert_eq!(windows[w].start + at, piece);
        }
    }
}
