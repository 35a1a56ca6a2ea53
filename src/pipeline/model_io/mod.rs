//! The model file format: a checked container of named sections.
//!
//! # Overview
//!
//! A model file is a 32-byte header followed by a payload:
//!
//! ```text
//! offset  size  field
//!      0     8  magic: b"NLPDMODL"
//!      8     4  format version (u32 LE), currently 6; versions 4 and 5 are read too
//!     12     4  reserved, 0
//!     16     8  payload length in bytes (u64 LE)
//!     24     8  XXH3-64 of the payload (u64 LE)
//!     32     …  payload: sections, one after another
//! ```
//!
//! Each section is a name (u16 LE length + UTF-8), a body length (u64 LE) and the body.
//! Bodies are built from little-endian primitives: integers, strings (u32 length + UTF-8)
//! and float arrays stored as IEEE half precision (u64 count + 2 bytes each), which halves
//! the file with no measurable loss of accuracy. The section `pipeline` lists the
//! components in order; each component has a section of its own name (its
//! [`ComponentKind::name`]; see `components` for their layouts, `transformer` for the
//! transformer's, and `layers` for the parts they are built from). The optional section `vocab` holds the word forms
//! loaded as permanent lexemes (see `word_list` for its layout); it was added without a
//! version change, because readers look sections up by name: older builds skip it, and
//! files without it load with an empty permanent vocabulary. Sections may come in any
//! order, each name at most once; rewriting a file ([`Pipeline`] components or the
//! vocabulary) copies every section it does not replace.
//!
//! `ModelWriter` builds a body and `ModelReader` reads one (both in `codec`), failing with a
//! [`ModelLoadError`] that names the section and what was wrong on any truncation,
//! inconsistency or non-finite weight, so a damaged file never panics or yields a
//! half-loaded model. The checksum only proves the payload is the one written: a file with a
//! valid checksum is still refused if a section comes twice or a weight is NaN or infinite.

mod codec;
pub(crate) mod components;
pub mod ensemble;
mod layers;
mod transformer;
mod word_list;

use std::path::Path;

use thiserror::Error;

pub(crate) use self::codec::{ModelReader, ModelWriter};
use self::components::{Persist, Upstream};
use self::word_list::VOCAB_SECTION;
use super::parser::Parser;
use super::tok2vec::Tok2Vec;
use super::transformer::Transformer;
use super::{ComponentKind, Pipeline, Precision};
use crate::tokenizer::Tokenizer;
use crate::vocab::Vocab;

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"NLPDMODL";
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 6;
/// The oldest format version this build reads (version 4 files hold one ensemble member).
pub const OLDEST_READ_VERSION: u32 = 4;
const HEADER_LEN: usize = 32;

/// Errors raised when loading a model file.
#[derive(Debug, Error)]
pub enum ModelLoadError {
    /// Occurs when the file does not start with the model magic (not a model file).
    #[error("not an nlpd model file (bad magic bytes)")]
    BadMagic,
    /// Occurs when the file was written by an incompatible version of the format.
    #[error(
        "model format version {found} is not supported (this build reads versions {oldest} to {newest})"
    )]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The version this build writes, the newest it reads.
        newest: u32,
    },
    /// Occurs when the file is shorter than its header says (an interrupted copy or
    /// download).
    #[error("model file is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// Occurs when the payload does not match its checksum (the file was corrupted).
    #[error("model file is corrupted: checksum {found:#018x} does not match {expected:#018x}")]
    ChecksumMismatch {
        /// The checksum in the header.
        expected: u64,
        /// The checksum of the payload read.
        found: u64,
    },
    /// Occurs when a section the pipeline needs is absent.
    #[error("model file has no `{name}` section")]
    MissingSection {
        /// The section name.
        name: String,
    },
    /// Occurs when the payload holds two sections of one name (readers look sections up by
    /// name, so one of them would be silently ignored).
    #[error("model file has two `{name}` sections")]
    DuplicateSection {
        /// The section name.
        name: String,
    },
    /// Occurs when a float array holds NaN or an infinity: the checksum only proves the
    /// bytes are those written, not that the weights are usable.
    #[error("model section `{section}` holds a non-finite value: {what}[{index}] is {value}")]
    NonFinite {
        /// The section being read (the component's name).
        section: String,
        /// The array being read ("weights", "biases", "embedding table", …).
        what: String,
        /// Position of the first non-finite value in the array.
        index: usize,
        /// The value: NaN, inf or -inf.
        value: f32,
    },
    /// Occurs when a section's content is inconsistent (bad lengths, unknown codes, shapes
    /// that do not fit together).
    #[error("model section `{section}` is malformed: {reason}")]
    Malformed {
        /// The section being read.
        section: String,
        /// What is wrong.
        reason: String,
    },
    /// Occurs when a model file cannot be read from disk.
    #[error("cannot read model file {path}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Pipeline {
    /// Loads a pipeline from the bytes of a model file: its word forms become the permanent
    /// lexemes of a fresh vocabulary (see [`load_vocab`]), and its labels permanent strings.
    ///
    /// # Errors
    ///
    /// Returns a [`ModelLoadError`] if the file is truncated, corrupted, of another format
    /// version, or inconsistent.
    pub fn load(bytes: &[u8]) -> Result<Self, ModelLoadError> {
        Self::load_with(bytes, Precision::default())
    }

    /// [`Pipeline::load`] with layers that compute in `precision`.
    ///
    /// # Errors
    ///
    /// As [`Pipeline::load`].
    pub fn load_with(bytes: &[u8], precision: Precision) -> Result<Self, ModelLoadError> {
        let sections = Sections::parse(bytes)?.with_precision(precision);
        let names = sections.pipeline()?;
        let mut vocab = sections.vocab()?;
        let mut upstream = Upstream::default();
        let mut components = Vec::with_capacity(names.len());
        for name in &names {
            let mut r = sections.get(name)?;
            let kind = ComponentKind::from_name(name)
                .ok_or_else(|| r.malformed(format!("unknown component `{name}`")))?;
            components.push(kind.load(&mut r, &mut vocab, &mut upstream)?);
            r.finish()?;
        }
        Ok(Pipeline::new(vocab, Tokenizer::english(), components))
    }

    /// The default English pipeline, embedded in the binary (`models/en_ewt.nlpd`, trained
    /// by `nlpd train --config config/train-en.toml`).
    ///
    /// # Panics
    ///
    /// Panics if the embedded model does not load, which a test rules out.
    pub fn default_english() -> Self {
        Self::load(DEFAULT_MODEL).expect("the embedded model loads. This is a bug.")
    }

    /// Loads a pipeline from a model file on disk.
    ///
    /// # Errors
    ///
    /// Returns [`ModelLoadError::Io`] if the file cannot be read, else as [`Pipeline::load`].
    pub fn load_file(path: &Path) -> Result<Self, ModelLoadError> {
        Self::load_file_with(path, Precision::default())
    }

    /// [`Pipeline::load_file`] with layers that compute in `precision`.
    ///
    /// # Errors
    ///
    /// As [`Pipeline::load_file`].
    pub fn load_file_with(path: &Path, precision: Precision) -> Result<Self, ModelLoadError> {
        let bytes = std::fs::read(path)
            .map_err(|source| ModelLoadError::Io { path: path.to_owned(), source })?;
        Self::load_with(&bytes, precision)
    }
}

/// The vocabulary of a model file alone: its `vocab` section's word forms as permanent
/// lexemes (none if the file has no such section), without the components.
///
/// ```
/// use nlpd::pipeline::model_io::{DEFAULT_MODEL, load_vocab};
/// use nlpd::vocab::LexFlags;
///
/// let vocab = load_vocab(DEFAULT_MODEL)?;
/// let zone = vocab.zone();
/// assert!(!zone.lexeme("the").is(LexFlags::IS_OOV));
/// assert!(zone.lexeme("glorptastic").is(LexFlags::IS_OOV));
/// # Ok::<(), nlpd::pipeline::model_io::ModelLoadError>(())
/// ```
///
/// # Errors
///
/// Returns a [`ModelLoadError`] if the file is truncated, corrupted, of another format
/// version, or its `vocab` section is malformed.
pub fn load_vocab(bytes: &[u8]) -> Result<Vocab, ModelLoadError> {
    Sections::parse(bytes)?.vocab()
}

/// The bytes of the default English model.
///
/// A `static`, not a `const`: a constant is copied into every codegen unit that uses it,
/// which once put the 12 MB model into the binary twice.
pub static DEFAULT_MODEL: &[u8] = include_bytes!("../../../models/en_ewt.nlpd");

/// The section listing the components, in order.
const PIPELINE_SECTION: &str = "pipeline";

/// Collects components into a model file.
#[derive(Debug, Default)]
pub(crate) struct PipelineWriter {
    names: Vec<String>,
    file: ModelFile,
}

impl PipelineWriter {
    /// Appends component `kind`.
    pub(crate) fn add<P: Persist>(&mut self, kind: ComponentKind, part: &P) {
        let name = kind.name();
        let mut body = ModelWriter::default();
        part.save(&mut body);
        self.file.section(name, body);
        self.names.push(name.to_owned());
    }

    /// The model file `bytes` with component `kind` set to `part`: in place of the file's own if it has one, else just before the component
    /// that [runs last](ComponentKind::runs_last) (or last). Every other section is copied
    /// unchanged.
    ///
    /// # Errors
    ///
    /// Returns a [`ModelLoadError`] if `bytes` is not a valid model file.
    pub(crate) fn with_component<P: Persist>(
        bytes: &[u8],
        kind: ComponentKind,
        part: &P,
    ) -> Result<Vec<u8>, ModelLoadError> {
        let name = kind.name();
        let sections = Sections::parse(bytes)?;
        let mut names = sections.pipeline()?;
        if !names.iter().any(|n| n == name) {
            let last =
                |n: &String| ComponentKind::from_name(n).is_some_and(ComponentKind::runs_last);
            let at = names.iter().position(last).unwrap_or(names.len());
            names.insert(at, name.to_owned());
        }
        let mut writer = PipelineWriter::default();
        for component in &names {
            if component == name {
                writer.add(kind, part);
            } else {
                writer.copy_component(&sections, component)?;
            }
        }
        writer.copy_rest(&sections);
        Ok(writer.into_bytes())
    }

    /// The model file `bytes` with its `vocab` section holding `words` (any order;
    /// duplicates are dropped). Every other section is copied unchanged.
    ///
    /// # Errors
    ///
    /// Returns a [`ModelLoadError`] if `bytes` is not a valid model file.
    pub(crate) fn with_vocab<'w>(
        bytes: &[u8],
        words: impl IntoIterator<Item = &'w str>,
    ) -> Result<Vec<u8>, ModelLoadError> {
        let sections = Sections::parse(bytes)?;
        let mut writer = PipelineWriter::default();
        for component in &sections.pipeline()? {
            writer.copy_component(&sections, component)?;
        }
        writer.file.section(VOCAB_SECTION, word_list::encode(words));
        writer.copy_rest(&sections);
        Ok(writer.into_bytes())
    }

    /// Appends component `name` as `sections` hold it, in the current layout: sections
    /// whose layout has changed since the file's version (`tok2vec` and `parser` in
    /// version 5, `transformer` in version 6) are read and written anew.
    fn copy_component(
        &mut self,
        sections: &Sections<'_>,
        name: &str,
    ) -> Result<(), ModelLoadError> {
        let mut r = sections.get(name)?;
        let (vocab, version) = (&mut Vocab::new(), sections.version);
        match ComponentKind::from_name(name) {
            Some(kind @ ComponentKind::Tok2Vec) if version < 5 => {
                self.add(kind, &Tok2Vec::load(&mut r, vocab)?)
            }
            Some(kind @ ComponentKind::Parser) if version < 5 => {
                self.add(kind, &Parser::load(&mut r, vocab)?)
            }
            Some(kind @ ComponentKind::Transformer) if version < 6 => {
                self.add(kind, &Transformer::load(&mut r, vocab)?)
            }
            _ => return self.copy_raw(sections, name),
        }
        r.finish()
    }

    /// Appends component `name` with the body `sections` hold, byte for byte.
    fn copy_raw(&mut self, sections: &Sections<'_>, name: &str) -> Result<(), ModelLoadError> {
        let body = sections.get(name)?.rest;
        self.file.section(name, ModelWriter { buf: body.to_vec() });
        self.names.push(name.to_owned());
        Ok(())
    }

    /// Appends every section of `sections` not written yet, but the component list (which
    /// [`PipelineWriter::into_bytes`] writes).
    fn copy_rest(&mut self, sections: &Sections<'_>) {
        for &(name, body) in &sections.sections {
            if name != PIPELINE_SECTION && !self.file.has(name) {
                self.file.section(name, ModelWriter { buf: body.to_vec() });
            }
        }
    }

    /// The finished file.
    pub(crate) fn into_bytes(mut self) -> Vec<u8> {
        let mut list = ModelWriter::default();
        list.strs(&self.names);
        self.file.section(PIPELINE_SECTION, list);
        self.file.into_bytes()
    }
}

/// Builds a model file section by section.
#[derive(Debug, Default)]
pub struct ModelFile {
    payload: Vec<u8>,
    names: Vec<String>,
}

impl ModelFile {
    /// Appends a section.
    pub(crate) fn section(&mut self, name: &str, body: ModelWriter) {
        self.names.push(name.to_owned());
        let name_len = u16::try_from(name.len()).expect("section names are short. This is a bug.");
        self.payload.extend_from_slice(&name_len.to_le_bytes());
        self.payload.extend_from_slice(name.as_bytes());
        let ModelWriter { buf } = body;
        self.payload.extend_from_slice(&(buf.len() as u64).to_le_bytes());
        self.payload.extend(buf);
    }

    /// Whether a section `name` has been appended.
    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// The complete file: header and payload.
    pub fn into_bytes(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0_u32.to_le_bytes());
        out.extend_from_slice(&(self.payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&self.payload).to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }
}

/// The sections of a checked model file, by name.
#[derive(Debug)]
pub(crate) struct Sections<'a> {
    sections: Vec<(&'a str, &'a [u8])>,
    version: u32,
    precision: Precision,
}

impl<'a> Sections<'a> {
    /// Checks the header and checksum of `bytes` and splits the payload into sections.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, ModelLoadError> {
        let header = bytes.get(..HEADER_LEN);
        let Some(header) = header.filter(|h| h.starts_with(MAGIC)) else {
            return Err(if bytes.len() < MAGIC.len() || !bytes.starts_with(MAGIC) {
                ModelLoadError::BadMagic
            } else {
                ModelLoadError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 }
            });
        };
        let word = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().expect("8 bytes"));
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(ModelLoadError::UnsupportedVersion {
                found: version,
                oldest: OLDEST_READ_VERSION,
                newest: FORMAT_VERSION,
            });
        }
        let (len, checksum) = (word(16), word(24));
        let found = (bytes.len() - HEADER_LEN) as u64;
        if found < len {
            return Err(ModelLoadError::Truncated {
                expected: HEADER_LEN as u64 + len,
                found: bytes.len() as u64,
            });
        }
        let payload = &bytes[HEADER_LEN..HEADER_LEN + len as usize];
        let actual = xxhash_rust::xxh3::xxh3_64(payload);
        if actual != checksum {
            return Err(ModelLoadError::ChecksumMismatch { expected: checksum, found: actual });
        }
        let mut reader = ModelReader::new("payload", payload);
        let mut sections = Vec::new();
        while !reader.is_empty() {
            let name_len = usize::from(reader.u16()?);
            let name = std::str::from_utf8(reader.bytes(name_len)?)
                .map_err(|_| reader.malformed("section name is not UTF-8"))?;
            let body_len = reader.len_prefix()?;
            if sections.iter().any(|&(seen, _)| seen == name) {
                return Err(ModelLoadError::DuplicateSection { name: name.to_owned() });
            }
            sections.push((name, reader.bytes(body_len)?));
        }
        Ok(Self { sections, version, precision: Precision::default() })
    }

    /// The sections whose layers will compute in `precision`.
    pub(crate) fn with_precision(self, precision: Precision) -> Self {
        Self { precision, ..self }
    }

    /// A reader over section `name`, if the file has it.
    fn find(&self, name: &str) -> Option<ModelReader<'a>> {
        let (name, body) = *self.sections.iter().find(|(n, _)| *n == name)?;
        Some(ModelReader::new(name, body).of_version(self.version).with_precision(self.precision))
    }

    /// A reader over section `name`.
    pub(crate) fn get(&self, name: &str) -> Result<ModelReader<'a>, ModelLoadError> {
        self.find(name).ok_or_else(|| ModelLoadError::MissingSection { name: name.to_owned() })
    }

    /// The component names, in pipeline order.
    fn pipeline(&self) -> Result<Vec<String>, ModelLoadError> {
        let mut list = self.get(PIPELINE_SECTION)?;
        let names = list.strs()?;
        list.finish()?;
        Ok(names)
    }

    /// A vocabulary holding the `vocab` section's words as permanent lexemes (empty if the
    /// file has no such section).
    fn vocab(&self) -> Result<Vocab, ModelLoadError> {
        let mut vocab = Vocab::new();
        if let Some(mut r) = self.find(VOCAB_SECTION) {
            word_list::decode_into(&mut r, &mut vocab)?;
            r.finish()?;
        }
        Ok(vocab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut body = ModelWriter::default();
        body.u8(7);
        body.str("héllo");
        body.floats(&[0.5, -2.0, 1.0 / 3.0]);
        body.strs(&["a".into(), String::new()]);
        let mut file = ModelFile::default();
        file.section("first", body);
        file.section("empty", ModelWriter::default());
        file.into_bytes()
    }

    #[test]
    fn sections_round_trip() {
        let bytes = sample();
        let sections = Sections::parse(&bytes).unwrap();
        let mut r = sections.get("first").unwrap();
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.str().unwrap(), "héllo");
        let floats = r.floats(3, "x").unwrap();
        assert_eq!(&floats[..2], &[0.5, -2.0]);
        assert!((floats[2] - 1.0 / 3.0).abs() < 1e-3);
        assert_eq!(r.strs().unwrap(), ["a", ""]);
        r.finish().unwrap();
        assert!(sections.get("empty").unwrap().is_empty());
        assert!(matches!(sections.get("nope"), Err(ModelLoadError::MissingSection { .. })));
    }

    #[test]
    fn damaged_files_give_the_matching_error() {
        let good = sample();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let mut version = good.clone();
        version[8] = 9;
        type Check = fn(&ModelLoadError) -> bool;
        let cases: Vec<(&str, Vec<u8>, Check)> = vec![
            ("empty", Vec::new(), |e| matches!(e, ModelLoadError::BadMagic)),
            ("text", b"hello world, not a model at all".to_vec(), |e| {
                matches!(e, ModelLoadError::BadMagic)
            }),
            ("header cut", good[..20].to_vec(), |e| matches!(e, ModelLoadError::Truncated { .. })),
            ("payload cut", good[..good.len() - 3].to_vec(), |e| {
                matches!(e, ModelLoadError::Truncated { .. })
            }),
            ("bit flip", flipped, |e| matches!(e, ModelLoadError::ChecksumMismatch { .. })),
            ("version", version, |e| {
                matches!(e, ModelLoadError::UnsupportedVersion { found: 9, .. })
            }),
        ];
        for (name, bytes, check) in cases {
            let err = Sections::parse(&bytes).expect_err(name);
            assert!(check(&err), "{name}: {err}");
        }
    }

    #[test]
    fn rewriting_a_component_or_the_vocabulary_keeps_every_other_section() {
        use crate::pipeline::doc_cleaner::DocCleaner;
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::DocCleaner, &DocCleaner::default());
        let plain = writer.into_bytes();
        let with_words = PipelineWriter::with_vocab(&plain, ["b", "a"]).unwrap();
        let cases = [
            ("vocabulary added", with_words.clone(), 2),
            ("vocabulary replaced", PipelineWriter::with_vocab(&with_words, ["c"]).unwrap(), 1),
            (
                "component replaced",
                PipelineWriter::with_component(
                    &with_words,
                    ComponentKind::DocCleaner,
                    &DocCleaner::default(),
                )
                .unwrap(),
                2,
            ),
        ];
        for (name, bytes, words) in cases {
            let pipeline = Pipeline::load(&bytes).unwrap();
            assert_eq!(
                pipeline.component_names().collect::<Vec<_>>(),
                [ComponentKind::DocCleaner.name()],
                "{name}"
            );
            assert_eq!(pipeline.vocab().generation(), words, "{name}");
        }
        assert_eq!(Pipeline::load(&plain).unwrap().vocab().generation(), 0);
    }

    #[test]
    fn a_section_written_twice_is_refused() {
        // Issue 19: the loader read the first of two like-named sections and ignored the
        // other, though the checksum was valid.
        use crate::pipeline::doc_cleaner::DocCleaner;
        type Build = fn(&mut PipelineWriter);
        let cases: [(&str, Build); 2] = [
            ("doc_cleaner", |w| w.add(ComponentKind::DocCleaner, &DocCleaner::default())),
            (VOCAB_SECTION, |w| w.file.section(VOCAB_SECTION, word_list::encode(["b"]))),
        ];
        for (name, again) in cases {
            let mut writer = PipelineWriter::default();
            writer.add(ComponentKind::DocCleaner, &DocCleaner::default());
            writer.file.section(VOCAB_SECTION, word_list::encode(["a"]));
            again(&mut writer);
            let bytes = writer.into_bytes();
            let err = Pipeline::load(&bytes).expect_err(name);
            assert!(
                matches!(&err, ModelLoadError::DuplicateSection { name: n } if n == name),
                "{name}: {err}"
            );
            assert_eq!(err.to_string(), format!("model file has two `{name}` sections"));
        }
    }

    #[test]
    fn readers_reject_lengths_past_the_end() {
        let mut body = ModelWriter::default();
        body.len(1 << 40);
        let mut file = ModelFile::default();
        file.section("s", body);
        let bytes = file.into_bytes();
        let sections = Sections::parse(&bytes).unwrap();
        let err = sections.get("s").unwrap().floats(4, "w").unwrap_err();
        assert!(err.to_string().contains("exceeds the section"), "{err}");
        let mut r = sections.get("s").unwrap();
        r.u32().unwrap();
        assert!(r.finish().is_err());
    }
}

#[cfg(test)]
mod default_model_tests {
    use crate::pipeline::{ComponentKind, Pipeline};
    use crate::vocab::LexFlags;

    #[test]
    fn embedded_model_loads_and_annotates_every_token() {
        let pipeline = Pipeline::default_english();
        let names: Vec<_> = pipeline.component_names().collect();
        assert_eq!(names.first(), Some(&ComponentKind::Tok2Vec.name()));
        assert_eq!(names.last(), Some(&ComponentKind::DocCleaner.name()));
        let zone = pipeline.vocab().zone();
        let doc =
            pipeline.process(&zone, "Ada Lovelace wrote programs. She lived in London.").unwrap();
        assert!(doc.tensor().is_none(), "doc_cleaner drops the tensor");
        for token in doc.iter() {
            let data = token.data();
            assert!(
                data.tag.is_some() && data.pos.is_some() && data.morph.is_some(),
                "{}",
                token.text()
            );
            assert!(data.lemma.is_some() && data.dep.is_some(), "{}", token.text());
            let head = data.head.expect("every token gets a head");
            assert!(head.index() < doc.len());
        }
        assert_eq!(doc.token(0).data().sent_start, Some(true));
        assert_eq!(doc.sents().len(), 2, "{:?}", doc.sents());
    }

    #[test]
    fn embedded_vocabulary_is_permanent_and_processing_leaves_it_unchanged() {
        let pipeline = Pipeline::default_english();
        let vocab = pipeline.vocab();
        assert!(vocab.generation() > 19_000, "EWT train forms: {}", vocab.generation());
        let (stats, digest) = (vocab.stats(), vocab.digest());
        {
            let zone = vocab.zone();
            let text = "The company said it would zorbify the glorptastic plan.";
            let doc = pipeline.process(&zone, text).unwrap();
            let cases = [
                ("The", false),
                ("company", false),
                ("zorbify", true),
                ("glorptastic", true),
                ("plan", false),
                (".", false),
            ];
            for (word, oov) in cases {
                let token = doc.iter().find(|t| t.text() == word).expect(word);
                assert_eq!(token.lex().is(LexFlags::IS_OOV), oov, "{word}");
            }
            assert_eq!(zone.transient_lexemes(), 2, "only the unseen words are transient");
            assert_eq!(vocab.stats().transient_lexemes, 2);
        }
        assert_eq!(vocab.stats(), stats, "the zone rolled back");
        assert_eq!(vocab.digest(), digest, "processing never grows the permanent part");
    }

    #[test]
    fn empty_and_whitespace_documents_are_annotated_without_panics() {
        let pipeline = Pipeline::default_english();
        for text in ["", "   ", "\n\n", "Hi  there.\n\nBye!  ", "\t x"] {
            let zone = pipeline.vocab().zone();
            let doc = pipeline.process(&zone, text).unwrap();
            for token in doc.iter() {
                let head = token.data().head.expect("every token gets a head");
                assert!(head.index() < doc.len(), "{text:?}");
                assert!(token.data().lemma.is_some(), "{text:?}");
            }
        }
    }
}
