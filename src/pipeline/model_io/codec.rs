//! The little-endian primitives section bodies are made of.
//!
//! # Overview
//!
//! [`ModelWriter`] appends integers, varints, strings and half-precision float arrays to a
//! section body; [`ModelReader`] reads them back, checking every length against the bytes
//! left so that a damaged body yields a [`ModelLoadError::Malformed`] naming the section,
//! never a panic or a huge allocation; float arrays holding NaN or an infinity yield a
//! [`ModelLoadError::NonFinite`].

use super::ModelLoadError;
use crate::pipeline::Precision;

/// Writes little-endian primitives into a section body.
#[derive(Debug, Default)]
pub(crate) struct ModelWriter {
    pub(super) buf: Vec<u8>,
}

impl ModelWriter {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A length or count (stored as u64).
    pub(crate) fn len(&mut self, v: usize) {
        self.buf.extend_from_slice(&(v as u64).to_le_bytes());
    }

    /// An unsigned integer in LEB128: seven bits a byte, low bits first.
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// Bytes as they are, with no length (the caller wrote it).
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.u32(u32::try_from(s.len()).expect("strings in models are short. This is a bug."));
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn strs(&mut self, items: &[String]) {
        self.len(items.len());
        items.iter().for_each(|s| self.str(s));
    }

    /// A matrix of rows `cols` wide, stored as `storage` says.
    pub(crate) fn matrix(&mut self, values: &[f32], cols: usize, storage: Storage) {
        match storage {
            Storage::Half => self.floats(values),
            Storage::Int8Rows => {
                self.len(values.len());
                for row in values.chunks(cols) {
                    // A non-finite value makes the scale NaN, which loading refuses, as
                    // it refuses a non-finite half-precision value.
                    let scale = if row.iter().all(|v| v.is_finite()) {
                        row.iter().fold(0.0_f32, |m, v| m.max(v.abs())) / 127.0
                    } else {
                        f32::NAN
                    };
                    self.u32(scale.to_bits());
                    let inverse = if scale > 0.0 { scale.recip() } else { 0.0 };
                    self.buf.extend(row.iter().map(|&v| (v * inverse).round() as i8 as u8));
                }
            }
        }
    }

    /// A float array, stored as half precision.
    pub(crate) fn floats(&mut self, values: &[f32]) {
        self.len(values.len());
        self.buf.reserve(values.len() * 2);
        for &v in values {
            self.buf.extend_from_slice(&half::f16::from_f32(v).to_le_bytes());
        }
    }
}

/// How a weight matrix is stored in a section body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Storage {
    /// IEEE half precision, two bytes a value (as `floats`).
    Half,
    /// A u64 count, then per row an f32 scale (the row's largest magnitude over 127) and
    /// the row's values divided by it, rounded to i8: about a byte a value.
    Int8Rows,
}

/// Reads little-endian primitives from a section body, with errors naming the section.
#[derive(Debug)]
pub(crate) struct ModelReader<'a> {
    section: &'a str,
    pub(super) rest: &'a [u8],
    version: u32,
    precision: Precision,
}

impl<'a> ModelReader<'a> {
    /// A reader over `body`, a section of a file of the current format version.
    pub(super) fn new(section: &'a str, body: &'a [u8]) -> Self {
        Self {
            section,
            rest: body,
            version: super::FORMAT_VERSION,
            precision: Precision::default(),
        }
    }

    /// The reader whose layers compute in `precision`.
    pub(super) fn with_precision(self, precision: Precision) -> Self {
        Self { precision, ..self }
    }

    /// The arithmetic the layers read compute in.
    pub(crate) fn precision(&self) -> Precision {
        self.precision
    }

    /// The reader for a file of format `version` (layouts read by older versions differ).
    pub(super) fn of_version(self, version: u32) -> Self {
        Self { version, ..self }
    }

    /// The format version of the file the section comes from.
    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    /// A [`ModelLoadError::Malformed`] for this section.
    pub(crate) fn malformed(&self, reason: impl Into<String>) -> ModelLoadError {
        ModelLoadError::Malformed { section: self.section.to_owned(), reason: reason.into() }
    }

    /// Whether the whole body has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Fails unless the whole body has been read (catches layout mismatches).
    pub(crate) fn finish(self) -> Result<(), ModelLoadError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.malformed(format!("{} unexpected trailing bytes", self.rest.len())))
        }
    }

    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], ModelLoadError> {
        if n > self.rest.len() {
            return Err(self.malformed(format!("needs {n} more bytes, has {}", self.rest.len())));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelLoadError> {
        Ok(self.bytes(N)?.try_into().expect("exact length"))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ModelLoadError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ModelLoadError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, ModelLoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ModelLoadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// An unsigned integer written by [`ModelWriter::varint`].
    pub(crate) fn varint(&mut self) -> Result<u64, ModelLoadError> {
        let mut value = 0_u64;
        for shift in (0..64).step_by(7) {
            let Some((&byte, rest)) = self.rest.split_first() else {
                return Err(self.malformed("a varint runs past the end"));
            };
            self.rest = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.malformed("a varint is longer than ten bytes"))
    }

    /// A length or count, checked against the bytes left (each item takes at least
    /// `min_item_bytes`), so a corrupted length cannot trigger a huge allocation.
    pub(super) fn checked_len(&mut self, min_item_bytes: usize) -> Result<usize, ModelLoadError> {
        let n = u64::from_le_bytes(self.array()?);
        match usize::try_from(n) {
            Ok(n) if n.saturating_mul(min_item_bytes) <= self.rest.len() => Ok(n),
            _ => Err(self.malformed(format!("length {n} exceeds the section"))),
        }
    }

    /// A length or count written by [`ModelWriter::len`].
    pub(crate) fn len_prefix(&mut self) -> Result<usize, ModelLoadError> {
        self.checked_len(1)
    }

    /// A count of items that each take at least one byte.
    pub(crate) fn count(&mut self) -> Result<usize, ModelLoadError> {
        self.checked_len(1)
    }

    pub(crate) fn str(&mut self) -> Result<String, ModelLoadError> {
        let n = self.u32()? as usize;
        let bytes = self.bytes(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed("string is not UTF-8"))
    }

    pub(crate) fn strs(&mut self) -> Result<Vec<String>, ModelLoadError> {
        let n = self.checked_len(4)?;
        (0..n).map(|_| self.str()).collect()
    }

    /// A matrix of exactly `expected` values in rows `cols` wide, stored as `storage`
    /// says, every value finite.
    pub(crate) fn matrix(
        &mut self,
        expected: usize,
        cols: usize,
        what: &str,
        storage: Storage,
    ) -> Result<Vec<f32>, ModelLoadError> {
        if storage == Storage::Half {
            return self.floats(expected, what);
        }
        let n = self.checked_len(1)?;
        if n != expected || cols == 0 || n % cols != 0 {
            return Err(self.malformed(format!("{what}: {n} values, expected {expected}")));
        }
        let mut values = Vec::with_capacity(n);
        for row in 0..n / cols {
            let scale = f32::from_bits(self.u32()?);
            if !scale.is_finite() {
                return Err(ModelLoadError::NonFinite {
                    section: self.section.to_owned(),
                    what: format!("{what} (the scale of row {row})"),
                    index: row * cols,
                    value: scale,
                });
            }
            let bytes = self.bytes(cols)?;
            values.extend(bytes.iter().map(|&b| f32::from(b as i8) * scale));
        }
        Ok(values)
    }

    /// A float array of exactly `expected` values, every one finite.
    ///
    /// This is the one place model weights are read, so the finite check lives here: a NaN
    /// or an infinity (from a diverged training run, or bytes edited under a recomputed
    /// checksum) would otherwise load and silently poison every score it touches.
    pub(crate) fn floats(
        &mut self,
        expected: usize,
        what: &str,
    ) -> Result<Vec<f32>, ModelLoadError> {
        let n = self.checked_len(2)?;
        if n != expected {
            return Err(self.malformed(format!("{what}: {n} values, expected {expected}")));
        }
        let bytes = self.bytes(2 * n)?;
        let values: Vec<f32> = bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        match values.iter().position(|v| !v.is_finite()) {
            None => Ok(values),
            Some(index) => Err(ModelLoadError::NonFinite {
                section: self.section.to_owned(),
                what: what.to_owned(),
                index,
                value: values[index],
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_in_the_fewest_bytes() {
        let cases = [
            (0, 1),
            (1, 1),
            (127, 1),
            (128, 2),
            (300, 2),
            (u64::from(u32::MAX), 5),
            (u64::MAX, 10),
        ];
        for (value, len) in cases {
            let mut w = ModelWriter::default();
            w.varint(value);
            assert_eq!(w.buf.len(), len, "{value}");
            let mut r = ModelReader::new("s", &w.buf);
            assert_eq!(r.varint().unwrap(), value);
            r.finish().unwrap();
        }
    }

    #[test]
    fn float_arrays_with_nan_or_infinity_are_refused() {
        // Issue 19: non-finite weights under a valid checksum used to load.
        let cases = [
            (vec![0.5, f32::NAN, 1.0], 1, "weights[1] is NaN"),
            (vec![f32::INFINITY, 0.0], 0, "weights[0] is inf"),
            (vec![1.0, 2.0, f32::NEG_INFINITY], 2, "weights[2] is -inf"),
            // Finite in f32 but past the f16 range: written as an infinity.
            (vec![1e6], 0, "weights[0] is inf"),
        ];
        for (values, at, expected) in cases {
            let mut w = ModelWriter::default();
            w.floats(&values);
            let err = ModelReader::new("tagger", &w.buf).floats(values.len(), "weights");
            match err {
                Err(ModelLoadError::NonFinite { ref section, index, .. }) => {
                    assert_eq!((section.as_str(), index), ("tagger", at), "{values:?}");
                }
                ref other => panic!("{values:?} gave {other:?}"),
            }
            let message = err.unwrap_err().to_string();
            assert_eq!(
                message,
                format!("model section `tagger` holds a non-finite value: {expected}"),
            );
        }
        let mut w = ModelWriter::default();
        w.floats(&[0.0, -0.0, 65504.0, f32::MIN_POSITIVE]);
        assert!(ModelReader::new("s", &w.buf).floats(4, "w").is_ok(), "finite values load");
    }

    #[test]
    fn broken_varints_are_malformed() {
        let cases: [(&[u8], &str); 3] = [
            (&[], "runs past the end"),
            (&[0x80, 0x80], "runs past the end"),
            (&[0xff; 11], "longer than ten bytes"),
        ];
        for (bytes, expected) in cases {
            let err = ModelReader::new("s", bytes).varint().unwrap_err();
            assert!(err.to_string().contains(expected), "{bytes:?}: {err}");
        }
    }
}
