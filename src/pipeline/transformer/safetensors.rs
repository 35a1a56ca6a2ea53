//! Reads `f32` arrays from a `.safetensors` file.
//!
//! The format is small enough to read here rather than through a crate: an 8-byte
//! little-endian header length, a JSON header mapping each array's name to its `dtype`,
//! `shape` and `data_offsets` (begin and end, relative to the end of the header), then the
//! arrays' bytes, little-endian. nlpd reads it once, when `nlpd encoder build` turns the
//! encoder into a model file section, and needs only `F32` arrays by name.

use rustc_hash::FxHashMap;
use serde::Deserialize;

use super::EncoderError;

/// The arrays of one `.safetensors` file, by name.
#[derive(Debug)]
pub(crate) struct SafeTensors<'a> {
    header: FxHashMap<String, Entry>,
    data: &'a [u8],
}

/// One array's header entry (the `__metadata__` entry has none of these fields and is
/// skipped).
#[derive(Debug, Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// An error about `model.safetensors`.
fn bad(what: String) -> EncoderError {
    EncoderError::Unsupported { file: "model.safetensors", what }
}

impl<'a> SafeTensors<'a> {
    /// Splits `bytes` into the header and the arrays' bytes.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Unsupported`] if the header's length or JSON is invalid.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, EncoderError> {
        let (len, rest) = bytes.split_first_chunk::<8>().ok_or_else(|| bad("no header".into()))?;
        let len = usize::try_from(u64::from_le_bytes(*len)).unwrap_or(usize::MAX);
        if len > rest.len() {
            return Err(bad(format!("a header of {len} bytes in a file of {}", bytes.len())));
        }
        let (header, data) = rest.split_at(len);
        let mut entries: FxHashMap<String, serde_json::Value> =
            serde_json::from_slice(header).map_err(|e| bad(format!("header: {e}")))?;
        entries.remove("__metadata__");
        let header = entries
            .into_iter()
            .map(|(name, value)| {
                let entry =
                    serde_json::from_value(value).map_err(|e| bad(format!("{name}: {e}")))?;
                Ok((name, entry))
            })
            .collect::<Result<_, EncoderError>>()?;
        Ok(Self { header, data })
    }

    /// Whether the file has an array `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.header.contains_key(name)
    }

    /// The `F32` array `name`, which must have shape `shape`.
    ///
    /// # Errors
    ///
    /// Returns [`EncoderError::Unsupported`] if there is no such array, or it has another
    /// type or shape, or its bytes lie outside the file.
    pub(crate) fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EncoderError> {
        let entry = self.header.get(name).ok_or_else(|| bad(format!("no array {name}")))?;
        if entry.dtype != "F32" || entry.shape != shape {
            return Err(bad(format!(
                "{name} is {} {:?}, not F32 {shape:?}",
                entry.dtype, entry.shape
            )));
        }
        let [begin, end] = entry.data_offsets;
        let bytes = self
            .data
            .get(begin..end)
            .filter(|b| b.len() == shape.iter().product::<usize>() * 4)
            .ok_or_else(|| bad(format!("{name}'s bytes {begin}..{end} do not fit")))?;
        Ok(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file holding `arrays` (name, dtype, shape, values) one after another.
    fn file(arrays: &[(&str, &str, &[usize], &[f32])]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
        let mut data = Vec::new();
        for (name, dtype, shape, values) in arrays {
            let begin = data.len();
            data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [begin, data.len()]}),
            );
        }
        let header = serde_json::to_vec(&header).unwrap();
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend(header);
        out.extend(data);
        out
    }

    #[test]
    fn arrays_are_read_by_name_with_their_shape_checked() {
        let bytes =
            file(&[("a", "F32", &[2], &[1.5, -2.0]), ("b", "F32", &[1, 3], &[0.0, 1.0, 2.0])]);
        let tensors = SafeTensors::parse(&bytes).unwrap();
        assert_eq!(tensors.f32("a", &[2]).unwrap(), [1.5, -2.0]);
        assert_eq!(tensors.f32("b", &[1, 3]).unwrap(), [0.0, 1.0, 2.0]);
        for (name, shape) in [("a", &[3][..]), ("c", &[2]), ("b", &[3])] {
            assert!(tensors.f32(name, shape).is_err(), "{name} {shape:?}");
        }
        let half = file(&[("h", "F16", &[2], &[1.0])]);
        assert!(SafeTensors::parse(&half).unwrap().f32("h", &[2]).is_err());
    }

    #[test]
    fn damaged_files_are_refused() {
        let good = file(&[("a", "F32", &[2], &[1.5, -2.0])]);
        let mut long = good.clone();
        long[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        for bytes in [&good[..4], &long[..], &good[..12]] {
            assert!(SafeTensors::parse(bytes).is_err());
        }
        let cut = &good[..good.len() - 1];
        assert!(SafeTensors::parse(cut).unwrap().f32("a", &[2]).is_err());
    }
}
