//! Single-precision matrix products over row-major slices.
//!
//! # Overview
//!
//! [`gemm`] computes `C = alpha · op(A) · op(B) + beta · C` with `matrixmultiply`'s SIMD
//! kernels (AVX2/FMA chosen at run time). Transposition is free: it only swaps the strides
//! handed to the kernel, so layers keep one row-major layout for weights and activations.

/// A row-major matrix operand: its data and whether to use its transpose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Operand<'a> {
    data: &'a [f32],
    transposed: bool,
}

impl<'a> Operand<'a> {
    /// The matrix as stored.
    pub(crate) fn plain(data: &'a [f32]) -> Self {
        Self { data, transposed: false }
    }

    /// The transpose of the stored matrix.
    pub(crate) fn transposed(data: &'a [f32]) -> Self {
        Self { data, transposed: true }
    }

    /// Row and column strides of `op(X)` (logical shape `rows × cols`).
    fn strides(self, rows: usize, cols: usize) -> (isize, isize) {
        let (rows, cols) = (to_isize(rows), to_isize(cols));
        if self.transposed { (1, rows) } else { (cols, 1) }
    }
}

fn to_isize(n: usize) -> isize {
    isize::try_from(n).expect("matrix dimension fits in isize. This is a bug.")
}

/// `c (m × n) = alpha · op(a) (m × k) · op(b) (k × n) + beta · c`, all row-major.
///
/// With `beta == 0` the previous contents of `c` are ignored.
///
/// # Panics
///
/// Panics if a slice's length differs from the product of its dimensions.
pub(crate) fn gemm(
    (m, k, n): (usize, usize, usize),
    alpha: f32,
    a: Operand<'_>,
    b: Operand<'_>,
    beta: f32,
    c: &mut [f32],
) {
    assert_eq!(a.data.len(), m * k, "gemm: A is not {m}×{k}");
    assert_eq!(b.data.len(), k * n, "gemm: B is not {k}×{n}");
    assert_eq!(c.len(), m * n, "gemm: C is not {m}×{n}");
    if m == 0 || n == 0 {
        return;
    }
    let (rsa, csa) = a.strides(m, k);
    let (rsb, csb) = b.strides(k, n);
    let (rsc, csc) = (to_isize(n), 1);
    #[allow(unsafe_code)]
    // SAFETY: the asserts above prove that every index the kernel visits, row · rs + col · cs
    // for row < rows and col < cols of each operand, lies inside its slice (the strides
    // describe a dense row-major matrix or its transpose), and `c` is borrowed mutably, so it
    // aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            rsa,
            csa,
            b.data.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], at: bool, b: &[f32], bt: bool) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k)
                    .map(|l| {
                        let x = if at { a[l * m + i] } else { a[i * k + l] };
                        let y = if bt { b[j * k + l] } else { b[l * n + j] };
                        x * y
                    })
                    .sum();
            }
        }
        c
    }

    #[test]
    fn products_match_the_definition_for_every_transposition() {
        let (m, k, n) = (3, 5, 4);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            let op = |data, t| if t { Operand::transposed(data) } else { Operand::plain(data) };
            let mut c = vec![1.0; m * n];
            gemm((m, k, n), 2.0, op(&a, at), op(&b, bt), 1.0, &mut c);
            let want = naive(m, k, n, &a, at, &b, bt);
            for (got, want) in c.iter().zip(&want) {
                assert!((got - (2.0 * want + 1.0)).abs() < 1e-4, "at={at} bt={bt}");
            }
        }
    }

    #[test]
    #[should_panic(expected = "gemm: B is not")]
    fn mismatched_shapes_panic() {
        let mut c = vec![0.0; 4];
        gemm((2, 2, 2), 1.0, Operand::plain(&[0.0; 4]), Operand::plain(&[0.0; 3]), 0.0, &mut c);
    }
}
