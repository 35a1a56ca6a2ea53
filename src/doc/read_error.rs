//! The one error type of the line-based annotation readers (CoNLL-U, IOB2).

use thiserror::Error;

/// Errors raised while reading a line-based annotation format (CoNLL-U or IOB2).
#[derive(Debug, Error)]
pub enum ReadError {
    /// Occurs when a line is not valid in its format (wrong column count, bad ID or HEAD,
    /// unknown UPOS or entity tag, a multiword token whose words are missing…).
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Occurs when the input cannot be read (I/O error or invalid UTF-8).
    #[error("line {line}: cannot read input")]
    Io {
        /// 1-based number of the line being read.
        line: usize,
        /// The underlying error.
        source: std::io::Error,
    },
}
