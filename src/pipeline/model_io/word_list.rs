//! The word list of the `vocab` section: the word forms a model loads as permanent
//! lexemes, sorted and front-coded.
//!
//! # Overview
//!
//! ```text
//! encoding u8 (1: sorted, front-coded), count u64,
//! count × (shared varint, suffix length varint, suffix bytes)
//! ```
//!
//! Words are distinct, non-empty UTF-8 strings in strictly increasing byte order. Each one
//! is stored as the number of leading bytes it shares with the word before it (0 for the
//! first) and the bytes that follow; varints are unsigned LEB128. Front coding a sorted word
//! list roughly halves it, and the order makes the section canonical: the same words always
//! give the same bytes. [`encode`] writes the section; [`decode_into`] checks every rule
//! above while adding the words to a [`Vocab`], so a damaged section is reported, never
//! half-trusted.
//!
//! The section is optional: a file without it loads with no permanent lexemes (every word
//! is then transient and out of vocabulary), as files written before the section existed
//! do. Older builds skip the section, since sections are looked up by name.

use super::{ModelLoadError, ModelReader, ModelWriter};
use crate::vocab::Vocab;

/// The section's name.
pub(crate) const VOCAB_SECTION: &str = "vocab";

/// The only encoding this build writes and reads.
const FRONT_CODED: u8 = 1;

/// The section body for `words` (any order; duplicates and empty strings are dropped).
pub(crate) fn encode<'w>(words: impl IntoIterator<Item = &'w str>) -> ModelWriter {
    let mut words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.dedup();
    let mut w = ModelWriter::default();
    w.u8(FRONT_CODED);
    w.len(words.len());
    let mut previous: &[u8] = &[];
    for word in words {
        let word = word.as_bytes();
        let shared = previous.iter().zip(word).take_while(|(a, b)| a == b).count();
        w.varint(shared as u64);
        w.varint((word.len() - shared) as u64);
        w.raw(&word[shared..]);
        previous = word;
    }
    w
}

/// Reads a section body written by [`encode`], adding each word to `vocab` as a
/// permanent lexeme; returns the number of words.
///
/// # Errors
///
/// Returns [`ModelLoadError::Malformed`] naming the section if the encoding is unknown,
/// the body is cut short or too long, a word is not UTF-8, or the words are not distinct
/// and in increasing order.
pub(crate) fn decode_into(
    r: &mut ModelReader<'_>,
    vocab: &mut Vocab,
) -> Result<usize, ModelLoadError> {
    let encoding = r.u8()?;
    if encoding != FRONT_CODED {
        return Err(r.malformed(format!("word encoding {encoding} is not supported")));
    }
    // Each word takes at least three bytes: two varints and one byte of its own.
    let count = r.checked_len(3)?;
    vocab.reserve(count);
    let mut word: Vec<u8> = Vec::new();
    for index in 0..count {
        let shared = r.varint()?;
        let suffix = r.varint()?;
        let suffix = usize::try_from(suffix).ok().and_then(|n| r.bytes(n).ok());
        let bad = |why: &str| format!("word {index}: {why}");
        let Some(suffix) = suffix else {
            return Err(r.malformed(bad("its bytes run past the section")));
        };
        let shared = usize::try_from(shared).unwrap_or(usize::MAX);
        // Sorted and distinct: the word extends the previous one, or differs from it at
        // byte `shared` with a greater byte.
        let increasing = match (suffix.first(), word.get(shared)) {
            (None, _) => false,
            (Some(_), None) => shared == word.len(),
            (Some(next), Some(previous)) => next > previous,
        };
        if !increasing {
            return Err(r.malformed(bad("words are not distinct and in increasing order")));
        }
        word.truncate(shared);
        word.extend_from_slice(suffix);
        let text = std::str::from_utf8(&word).map_err(|_| r.malformed(bad("not UTF-8")))?;
        vocab.add(text);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::ops::RangeInclusive;

    use super::super::{ModelFile, Sections};
    use super::*;

    /// A section body as a checked model file holding it, so readers can be made over it.
    fn file_with(body: ModelWriter) -> Vec<u8> {
        let mut file = ModelFile::default();
        file.section(VOCAB_SECTION, body);
        file.into_bytes()
    }

    fn decode(bytes: &[u8]) -> Result<Vocab, ModelLoadError> {
        let sections = Sections::parse(bytes)?;
        let mut r = sections.get(VOCAB_SECTION)?;
        let mut vocab = Vocab::new();
        decode_into(&mut r, &mut vocab)?;
        r.finish()?;
        Ok(vocab)
    }

    #[test]
    fn words_round_trip_sorted_and_front_coded() {
        let cases: &[(&[&str], &[&str], usize)] = &[
            // (input, words in id order, body bytes)
            (&[], &[], 9),
            (&["b", "a", "b", ""], &["a", "b"], 9 + 3 + 3),
            (&["walked", "walk", "walks"], &["walk", "walked", "walks"], 9 + 6 + 4 + 3),
            (&["naïve", "naïf", "ζ"], &["naïf", "naïve", "ζ"], 9 + 7 + 4 + 4),
        ];
        for &(input, expected, body_len) in cases {
            let body = encode(input.iter().copied());
            assert_eq!(body.buf.len(), body_len, "{input:?}");
            let vocab = decode(&file_with(body)).unwrap();
            assert_eq!(vocab.lexeme_texts().collect::<Vec<_>>(), expected, "{input:?}");
            assert_eq!(vocab.generation(), expected.len());
        }
    }

    /// The default model with its `vocab` section replaced by `body` (dropped if `None`),
    /// re-checksummed so that only the section itself is wrong.
    fn default_model_with(body: Option<ModelWriter>) -> Vec<u8> {
        let sections = Sections::parse(super::super::DEFAULT_MODEL).unwrap();
        let mut file = ModelFile::default();
        for &(name, bytes) in sections.sections.iter().filter(|(n, _)| *n != VOCAB_SECTION) {
            file.section(name, ModelWriter { buf: bytes.to_vec() });
        }
        if let Some(body) = body {
            file.section(VOCAB_SECTION, body);
        }
        file.into_bytes()
    }

    #[test]
    fn models_load_with_or_without_a_vocabulary_and_reject_a_damaged_one() {
        let shipped = Sections::parse(super::super::DEFAULT_MODEL).unwrap();
        let shipped = shipped.get(VOCAB_SECTION).unwrap().rest.to_vec();
        let cut = ModelWriter { buf: shipped[..shipped.len() / 2].to_vec() };
        // The shipped file holds the distinct word forms of EWT train (19,674) plus the
        // tokenizer's special cases.
        // The generations a load may give, or a part of its error message.
        type Expected = Result<RangeInclusive<usize>, &'static str>;
        let cases: Vec<(&str, Vec<u8>, Expected)> = vec![
            ("shipped", super::super::DEFAULT_MODEL.to_vec(), Ok(19_674..=21_000)),
            ("no section (older files)", default_model_with(None), Ok(0..=0)),
            ("cut in half", default_model_with(Some(cut)), Err("model section `vocab`")),
            ("empty body", default_model_with(Some(ModelWriter::default())), Err("needs 1")),
        ];
        for (name, bytes, expected) in cases {
            let loaded = crate::pipeline::Pipeline::load(&bytes);
            match (loaded, expected) {
                (Ok(pipeline), Ok(words)) => {
                    let generation = pipeline.vocab().generation();
                    assert!(words.contains(&generation), "{name}: {generation}");
                    assert_eq!(pipeline.component_names().count(), 7, "{name}");
                }
                (Err(err), Err(message)) => {
                    assert!(err.to_string().contains(message), "{name}: {err}");
                }
                (loaded, _) => panic!("{name}: {:?}", loaded.map(|p| p.vocab().generation())),
            }
        }
    }

    #[test]
    fn damaged_bodies_are_reported_with_the_section() {
        let good = encode(["alpha", "alpine", "beta"]).buf;
        let with = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut buf = good.clone();
            edit(&mut buf);
            ModelWriter { buf }
        };
        let cases: Vec<(&str, ModelWriter, &str)> = vec![
            ("unknown encoding", with(&|b| b[0] = 2), "encoding 2 is not supported"),
            ("cut short", with(&|b| b.truncate(b.len() - 2)), "word 2: its bytes run past"),
            ("count too large", with(&|b| b[1] = 200), "exceeds the section"),
            ("trailing bytes", with(&|b| b.push(0)), "unexpected trailing bytes"),
            // Byte 16 is how much "alpine" shares with "alpha" (3); 2 makes it "aline".
            ("out of order", with(&|b| b[16] = 2), "word 1: words are not distinct"),
            // "beta" (from byte 21) written as "alpha" again: all 5 bytes shared, none new.
            ("duplicate", with(&|b| b.splice(21.., [5, 0]).for_each(drop)), "word 2: words"),
            ("cut in a varint", with(&|b| b.splice(21.., [0x80]).for_each(drop)), "varint"),
            ("not UTF-8", with(&|b| b[11] = 0xff), "word 0: not UTF-8"),
        ];
        for (name, body, expected) in cases {
            let err = decode(&file_with(body)).expect_err(name);
            let message = err.to_string();
            assert!(message.starts_with("model section `vocab` is malformed"), "{name}: {message}");
            assert!(message.contains(expected), "{name}: {message}");
        }
    }
}
