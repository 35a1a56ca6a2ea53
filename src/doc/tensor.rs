//! Dense per-document arrays, with a process-wide count of the bytes they hold.
//!
//! # Overview
//!
//! A [`Tensor`] is a row-major `rows × cols` matrix of `f32`. Creating one adds its size to
//! a global gauge and dropping it takes the size off again, so [`live_tensor_bytes`] is
//! exact whatever path a tensor leaves by (cleared by `doc_cleaner`, dropped with its Doc,
//! unwound by a panic). The service publishes it as `nlpd_doc_tensor_bytes`.

use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE_TENSOR_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Bytes currently held by all live [`Tensor`]s in the process.
pub fn live_tensor_bytes() -> usize {
    LIVE_TENSOR_BYTES.load(Ordering::Relaxed)
}

/// A row-major `rows × cols` matrix of `f32`, counted in [`live_tensor_bytes`].
#[derive(Debug, PartialEq)]
pub struct Tensor {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

impl Tensor {
    /// A zero-filled `rows × cols` tensor.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self::from_vec(rows, cols, vec![0.0; rows * cols])
    }

    /// Wraps `data` as a `rows × cols` tensor.
    ///
    /// # Panics
    ///
    /// Panics if `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), rows * cols, "tensor data does not match its shape");
        LIVE_TENSOR_BYTES.fetch_add(data.len() * size_of::<f32>(), Ordering::Relaxed);
        Self { rows, cols, data }
    }

    /// Number of rows (tokens).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (width).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes held by the data.
    pub fn bytes(&self) -> usize {
        self.data.len() * size_of::<f32>()
    }

    /// Row `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= rows`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// All data, row-major.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }
}

impl Clone for Tensor {
    fn clone(&self) -> Self {
        Self::from_vec(self.rows, self.cols, self.data.clone())
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        LIVE_TENSOR_BYTES.fetch_sub(self.bytes(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauge_follows_every_tensor() {
        // Other tests may hold tensors concurrently, so compare this tensor's own share.
        let tensor = Tensor::zeros(3, 4);
        assert_eq!(tensor.bytes(), 48);
        assert!(live_tensor_bytes() >= 48);
        let copy = tensor.clone();
        assert!(live_tensor_bytes() >= 96);
        assert_eq!(copy.row(2), &[0.0; 4]);
        drop((tensor, copy));
    }
}
