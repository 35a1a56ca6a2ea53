//! Section layouts of each component and layer (all integers little-endian; `floats` are
//! a u64 count then f16 values; `str` is a u32 byte length then UTF-8):
//!
//! ```text
//! Dense        n_in u32, n_out u32, w floats (n_out × n_in: one row per output), b floats
//! Maxout       pieces u8, Dense
//! LayerNorm    width u32, gain floats, bias floats
//! HashEmbed    rows u32, width u32, seed u64, table floats (rows × width)
//! Block        Maxout, LayerNorm
//! Head         labels (u64 count, str each), Dense
//! Encoder      window u8, n u16, n × (attr code u16, HashEmbed), mixer Block, depth u16,
//!              depth × Block, depth × dilation u16, known words (u64 count, u64 keys)
//! tok2vec      members u8, members × Encoder (version 4: one Encoder)
//! tagger       XPOS Head, UPOS Head, per XPOS class the UPOS classes allowed with it
//!              (u16 count, u16 each)
//! morphologizer  FEATS Head
//! lemmatizer   rules (u64 count; flags u8 (bits 0–1 case: 0 keep, 1 lowercase, 2 title
//!              case; bit 2 drop digit-group commas),
//!              strip u8, append str),
//!              nodes (u64 count; tag str, class u8 (0 lower, 1 upper, 2 grouped digits,
//!              3 capitals), suffix str, rule u32),
//!              exceptions (u64 count; form str, tag str, lemma str),
//!              lexicon (u64 count, u64 keys, ascending)
//! parser       labels (u64 count, str each), members u8 (version 4: none, one member),
//!              per member: hidden u32, pieces u8, lower Dense, padding floats
//!              (slots × hidden·pieces), label rows floats (label slots × (labels + 1) ×
//!              hidden·pieces), upper Dense
//! ner          see [`crate::pipeline::ner`] (its own tok2vec, output Dense, CRF scores)
//! doc_cleaner  targets (u64 count; kind u8: 0 tensor, 1 all user data, 2 one array + name str)
//! ```

use rustc_hash::FxHashSet;

use super::{ModelLoadError, ModelReader, ModelWriter};
use crate::pipeline::Component;
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::doc_cleaner::{CleanTarget, DocCleaner, DocCleanerConfig};
use crate::pipeline::lemmatizer::{Case, CaseClass, Exception, Lemmatizer, Rule, RuleNode};
use crate::pipeline::morphologizer::Morphologizer;
use crate::pipeline::ner::EntityRecognizer;
use crate::pipeline::nn::{Dense, HashEmbed, LayerNorm, Maxout};
use crate::pipeline::parser::model::{LABEL_SLOTS, ParserModel, TOKEN_SLOTS};
use crate::pipeline::parser::projectivize::split_label;
use crate::pipeline::parser::state::Action;
use crate::pipeline::parser::{Parser, ROOT_LABEL, SPACE_LABEL};
use crate::pipeline::tagger::{SPACE_TAG, Tagger};
use crate::pipeline::tok2vec::{Attr, Block, Encoder, Tok2Vec};
use crate::vocab::Vocab;

/// A model part with a section layout.
pub(crate) trait Persist: Sized {
    /// Appends the part to a section body.
    fn save(&self, w: &mut ModelWriter);

    /// Reads the part, interning the strings it predicts into `vocab`.
    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError>;
}

fn dim(r: &mut ModelReader<'_>, what: &str) -> Result<usize, ModelLoadError> {
    match r.u32()? as usize {
        0 => Err(r.malformed(format!("{what} is zero"))),
        n if n > 1 << 24 => Err(r.malformed(format!("{what} {n} is implausibly large"))),
        n => Ok(n),
    }
}

/// The transpose of a row-major `rows × cols` matrix. Files keep one row per output, the
/// layout of format version 1, whatever the in-memory layout.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| m[r * cols + c])).collect()
}

impl Persist for Dense {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.n_in as u32);
        w.u32(self.n_out as u32);
        w.floats(&transpose(&self.w, self.n_in, self.n_out));
        w.floats(&self.b);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let (n_in, n_out) = (dim(r, "input width")?, dim(r, "output width")?);
        let w = transpose(&r.floats(n_in * n_out, "weights")?, n_out, n_in);
        let b = r.floats(n_out, "biases")?;
        let mut layer = Dense::from_parts(n_in, n_out, w, b);
        layer.pack();
        Ok(layer)
    }
}

impl Persist for Maxout {
    fn save(&self, w: &mut ModelWriter) {
        w.u8(self.pieces as u8);
        self.affine.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let pieces = usize::from(r.u8()?);
        let affine = Dense::load(r, vocab)?;
        if pieces == 0 || affine.n_out % pieces != 0 {
            return Err(
                r.malformed(format!("{} outputs do not split into {pieces} pieces", affine.n_out))
            );
        }
        Ok(Maxout { affine, pieces })
    }
}

impl Persist for LayerNorm {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.g.len() as u32);
        w.floats(&self.g);
        w.floats(&self.b);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let width = dim(r, "norm width")?;
        Ok(LayerNorm { g: r.floats(width, "gain")?, b: r.floats(width, "bias")? })
    }
}

impl Persist for HashEmbed {
    fn save(&self, w: &mut ModelWriter) {
        w.u32(self.rows as u32);
        w.u32(self.width as u32);
        w.u64(self.seed);
        w.floats(&self.table);
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let (rows, width) = (dim(r, "embedding rows")?, dim(r, "embedding width")?);
        let seed = r.u64()?;
        Ok(HashEmbed { rows, width, seed, table: r.floats(rows * width, "embedding table")? })
    }
}

impl Persist for Block {
    fn save(&self, w: &mut ModelWriter) {
        self.maxout.save(w);
        self.norm.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let maxout = Maxout::load(r, vocab)?;
        let norm = LayerNorm::load(r, vocab)?;
        if norm.g.len() != maxout.n_out() {
            return Err(r.malformed("a block's norm does not match its maxout width"));
        }
        Ok(Block { maxout, norm, dilation: 1 })
    }
}

impl Persist for SoftmaxHead {
    fn save(&self, w: &mut ModelWriter) {
        w.strs(self.labels());
        self.layer.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let labels = r.strs()?;
        let layer = Dense::load(r, vocab)?;
        if layer.n_out != labels.len() {
            return Err(r.malformed(format!(
                "{} labels but {} outputs",
                labels.len(),
                layer.n_out
            )));
        }
        for label in &labels {
            vocab.intern(label);
        }
        Ok(SoftmaxHead::from_parts(labels, layer))
    }
}

impl Persist for Encoder {
    fn save(&self, w: &mut ModelWriter) {
        w.u8(self.window as u8);
        w.u16(self.attrs.len() as u16);
        for (attr, embed) in self.attrs.iter().zip(&self.embeds) {
            w.u16(attr.code());
            embed.save(w);
        }
        self.mixer.save(w);
        w.u16(self.blocks.len() as u16);
        self.blocks.iter().for_each(|b| b.save(w));
        self.blocks.iter().for_each(|b| w.u16(b.dilation as u16));
        let mut known: Vec<u64> = self.known.iter().flatten().copied().collect();
        known.sort_unstable();
        w.len(known.len());
        known.into_iter().for_each(|key| w.u64(key));
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let window = usize::from(r.u8()?);
        let n = usize::from(r.u16()?);
        let (mut attrs, mut embeds) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let code = r.u16()?;
            attrs.push(
                Attr::from_code(code)
                    .ok_or_else(|| r.malformed(format!("unknown attribute {code}")))?,
            );
            embeds.push(HashEmbed::load(r, vocab)?);
        }
        let mixer = Block::load(r, vocab)?;
        let embed_width: usize = embeds.iter().map(|e| e.width).sum();
        if mixer.maxout.affine.n_in != embed_width {
            return Err(r.malformed("the mixer does not match the embedding widths"));
        }
        let width = mixer.norm.g.len();
        let depth = usize::from(r.u16()?);
        let mut blocks =
            (0..depth).map(|_| Block::load(r, vocab)).collect::<Result<Vec<_>, _>>()?;
        for block in &mut blocks {
            block.dilation = usize::from(r.u16()?).max(1);
        }
        let n_known = r.count()?;
        let known: FxHashSet<u64> = (0..n_known).map(|_| r.u64()).collect::<Result<_, _>>()?;
        let known = (!known.is_empty()).then_some(known);
        if blocks
            .iter()
            .any(|b| b.maxout.affine.n_in != width * (2 * window + 1) || b.norm.g.len() != width)
        {
            return Err(r.malformed("an encoder block does not match the width and window"));
        }
        Ok(Encoder { attrs, embeds, mixer, blocks, window, known })
    }
}

/// The number of ensemble members a section holds (one in files of format version 4).
fn members(r: &mut ModelReader<'_>) -> Result<usize, ModelLoadError> {
    if r.version() < 5 {
        return Ok(1);
    }
    match r.u8()? {
        0 => Err(r.malformed("no ensemble members")),
        n => Ok(usize::from(n)),
    }
}

impl Persist for Tok2Vec {
    fn save(&self, w: &mut ModelWriter) {
        w.u8(self.members.len() as u8);
        self.members.iter().for_each(|m| m.save(w));
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let n = members(r)?;
        let members = (0..n).map(|_| Encoder::load(r, vocab)).collect::<Result<_, _>>()?;
        Ok(Tok2Vec::new(members))
    }
}

impl Persist for Tagger {
    fn save(&self, w: &mut ModelWriter) {
        self.tag.save(w);
        self.pos.save(w);
        for allowed in &self.pairs {
            w.u16(allowed.len() as u16);
            allowed.iter().for_each(|&p| w.u16(p as u16));
        }
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let tag = SoftmaxHead::load(r, vocab)?;
        let pos = SoftmaxHead::load(r, vocab)?;
        if pos.layer.n_in != tag.layer.n_in {
            return Err(r.malformed("the heads disagree on the input width"));
        }
        let mut pairs = Vec::with_capacity(tag.labels().len());
        for _ in 0..tag.labels().len() {
            let n = usize::from(r.u16()?);
            pairs.push((0..n).map(|_| r.u16().map(u32::from)).collect::<Result<Vec<_>, _>>()?);
        }
        vocab.intern(SPACE_TAG);
        Tagger::new(tag, pos, pairs)
            .ok_or_else(|| r.malformed("a UPOS label is not a UD tag, or a tag pair is invalid"))
    }
}

impl Persist for Morphologizer {
    fn save(&self, w: &mut ModelWriter) {
        self.feats.save(w);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        vocab.intern("");
        Ok(Morphologizer::new(SoftmaxHead::load(r, vocab)?))
    }
}

impl Persist for Lemmatizer {
    fn save(&self, w: &mut ModelWriter) {
        w.len(self.rules.len());
        for rule in &self.rules {
            w.u8(rule.case as u8 | u8::from(rule.ungroup) << 2);
            w.u8(rule.strip);
            w.str(&rule.append);
        }
        w.len(self.nodes.len());
        for node in &self.nodes {
            w.str(&node.tag);
            w.u8(node.class as u8);
            w.str(&node.suffix);
            w.u32(node.rule);
        }
        w.len(self.exceptions.len());
        for e in &self.exceptions {
            w.str(&e.form);
            w.str(&e.tag);
            w.str(&e.lemma);
        }
        let mut lexicon: Vec<u64> = self.lexicon.iter().copied().collect();
        lexicon.sort_unstable();
        w.len(lexicon.len());
        lexicon.into_iter().for_each(|key| w.u64(key));
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let n = r.count()?;
        let mut rules = Vec::with_capacity(n);
        for _ in 0..n {
            let flags = r.u8()?;
            let case = Case::ALL.get(usize::from(flags & 3)).copied();
            let Some(case) = case.filter(|_| flags >> 3 == 0) else {
                return Err(r.malformed(format!("unknown rule flags {flags}")));
            };
            let ungroup = flags & 4 != 0;
            rules.push(Rule { case, ungroup, strip: r.u8()?, append: r.str()? });
        }
        let n = r.count()?;
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let tag = r.str()?;
            let code = r.u8()?;
            let class = CaseClass::from_code(code)
                .ok_or_else(|| r.malformed(format!("unknown case class {code}")))?;
            let node = RuleNode { tag, class, suffix: r.str()?, rule: r.u32()? };
            if node.rule as usize >= rules.len() {
                return Err(r.malformed(format!("rule {} out of range", node.rule)));
            }
            nodes.push(node);
        }
        let n = r.count()?;
        let exceptions = (0..n)
            .map(|_| Ok(Exception { form: r.str()?, tag: r.str()?, lemma: r.str()? }))
            .collect::<Result<Vec<_>, ModelLoadError>>()?;
        for e in &exceptions {
            vocab.intern(&e.lemma);
        }
        let n = r.count()?;
        let lexicon = (0..n).map(|_| r.u64()).collect::<Result<_, _>>()?;
        Ok(Lemmatizer::new(rules, nodes, exceptions, lexicon))
    }
}

impl Persist for Parser {
    fn save(&self, w: &mut ModelWriter) {
        w.strs(&self.labels);
        w.u8(self.members.len() as u8);
        for m in &self.members {
            w.u32(m.hidden as u32);
            w.u8(m.pieces as u8);
            m.lower.save(w);
            w.floats(&m.pad);
            w.floats(&m.label_rows);
            m.upper.save(w);
        }
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let labels = r.strs()?;
        let n = members(r)?;
        let members =
            (0..n).map(|_| load_parser_model(r, vocab, labels.len())).collect::<Result<_, _>>()?;
        for label in labels.iter().map(|l| split_label(l).0).chain([ROOT_LABEL, SPACE_LABEL]) {
            vocab.intern(label);
        }
        Parser::ensemble(labels, members).ok_or_else(|| r.malformed("no ensemble members"))
    }
}

/// Reads one member of a parser over `n_labels` arc labels.
fn load_parser_model(
    r: &mut ModelReader<'_>,
    vocab: &mut Vocab,
    n_labels: usize,
) -> Result<ParserModel, ModelLoadError> {
    let hidden = dim(r, "hidden width")?;
    let pieces = usize::from(r.u8()?);
    let hp = hidden * pieces;
    let lower = Dense::load(r, vocab)?;
    if pieces == 0 || lower.n_out != TOKEN_SLOTS * hp {
        return Err(r.malformed("the lower layer does not match the hidden width"));
    }
    let pad = r.floats(TOKEN_SLOTS * hp, "padding")?;
    let label_rows = r.floats(LABEL_SLOTS * (n_labels + 1) * hp, "label rows")?;
    let upper = Dense::load(r, vocab)?;
    if upper.n_in != hidden || upper.n_out != Action::count(n_labels) {
        return Err(r.malformed("the output layer does not match the labels"));
    }
    Ok(ParserModel { lower, pad, label_rows, upper, hidden, pieces, n_labels })
}

impl Persist for DocCleaner {
    fn save(&self, w: &mut ModelWriter) {
        w.len(self.config().clear.len());
        for target in &self.config().clear {
            match target {
                CleanTarget::Tensor => w.u8(0),
                CleanTarget::AllUserData => w.u8(1),
                CleanTarget::UserData(name) => {
                    w.u8(2);
                    w.str(name);
                }
            }
        }
    }

    fn load(r: &mut ModelReader<'_>, _: &mut Vocab) -> Result<Self, ModelLoadError> {
        let n = r.count()?;
        let clear = (0..n)
            .map(|_| match r.u8()? {
                0 => Ok(CleanTarget::Tensor),
                1 => Ok(CleanTarget::AllUserData),
                2 => Ok(CleanTarget::UserData(r.str()?)),
                code => Err(r.malformed(format!("unknown clean target {code}"))),
            })
            .collect::<Result<_, _>>()?;
        Ok(DocCleaner::new(DocCleanerConfig { clear }))
    }
}

/// Reads component `name` from its section. `widths` carries the widths of the tok2vec
/// members forward, so every later component's input is checked against them.
pub(crate) fn load_component(
    name: &str,
    r: &mut ModelReader<'_>,
    vocab: &mut Vocab,
    widths: &mut Option<Vec<usize>>,
) -> Result<Box<dyn Component>, ModelLoadError> {
    // A head reads every member's columns; each parser member reads its own.
    let check = |r: &ModelReader<'_>, reads: &[usize], total: bool| match widths.as_deref() {
        None => Err(r.malformed("needs tok2vec earlier in the pipeline")),
        Some(w) if total && reads == [w.iter().sum::<usize>()] => Ok(()),
        Some(w) if !total && reads == w => Ok(()),
        Some(w) => Err(r.malformed(format!("input widths {reads:?} differ from tok2vec's {w:?}"))),
    };
    Ok(match name {
        "tok2vec" => {
            let model = Tok2Vec::load(r, vocab)?;
            *widths = Some(model.members.iter().map(Encoder::width).collect());
            Box::new(model)
        }
        "tagger" => {
            let model = Tagger::load(r, vocab)?;
            check(r, &[model.tag.layer.n_in], true)?;
            Box::new(model)
        }
        "morphologizer" => {
            let model = Morphologizer::load(r, vocab)?;
            check(r, &[model.feats.layer.n_in], true)?;
            Box::new(model)
        }
        "lemmatizer" => Box::new(Lemmatizer::load(r, vocab)?),
        "ner" => Box::new(EntityRecognizer::load(r, vocab)?),
        "parser" => {
            let model = Parser::load(r, vocab)?;
            let reads: Vec<usize> = model.members.iter().map(|m| m.lower.n_in).collect();
            check(r, &reads, false)?;
            Box::new(model)
        }
        "doc_cleaner" => Box::new(DocCleaner::load(r, vocab)?),
        other => return Err(r.malformed(format!("unknown component `{other}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::model_io::{PipelineWriter, Sections};
    use crate::pipeline::nn::{Params, Rng};
    use crate::pipeline::tok2vec::{EmbedConfig, Tok2VecConfig};

    /// Rounds every parameter to half precision, as a save/load cycle does.
    fn rounded<P: Params + Clone>(part: &P) -> P {
        let mut copy = part.clone();
        for p in copy.params_mut() {
            p.iter_mut().for_each(|v| *v = half::f16::from_f32(*v).to_f32());
        }
        copy
    }

    /// An ensemble of two members of width 4: tok2vec, tagger, parser; and a recogniser.
    fn parts() -> (Tok2Vec, Tagger, Parser, EntityRecognizer) {
        let mut rng = Rng::new(21);
        let config = Tok2VecConfig {
            embed: vec![EmbedConfig { attr: Attr::Suffix(3), rows: 5, width: 3 }],
            width: 4,
            depth: 1,
            window: 1,
            dilations: vec![2],
            pieces: 2,
            min_word_count: 0,
        };
        let tok2vec =
            Tok2Vec::new(vec![Encoder::new(&config, &mut rng), Encoder::new(&config, &mut rng)]);
        let head = |labels: &[&str], rng: &mut Rng| {
            SoftmaxHead::new(labels.iter().map(|l| l.to_string()).collect(), 8, rng)
        };
        let tagger = Tagger::new(
            head(&["NN", "VB"], &mut rng),
            head(&["NOUN", "VERB"], &mut rng),
            vec![vec![0], vec![1]],
        )
        .unwrap();
        let labels = vec!["nsubj".to_string(), "obl||nsubj".to_string()];
        let members =
            vec![ParserModel::new(4, 3, 2, 2, &mut rng), ParserModel::new(4, 2, 3, 2, &mut rng)];
        let parser = Parser::ensemble(labels, members).unwrap();
        let mut own = Encoder::new(&config, &mut rng);
        own.known = Some([7].into_iter().collect());
        let ner = EntityRecognizer::new(vec!["PER".to_string()], own, &mut rng);
        (tok2vec, tagger, parser, ner)
    }

    #[test]
    fn saved_parts_load_back_identically() {
        let (tok2vec, tagger, parser, ner) = parts();
        let mut writer = PipelineWriter::default();
        writer.add("tok2vec", &tok2vec);
        writer.add("tagger", &tagger);
        writer.add("parser", &parser);
        writer.add("ner", &ner);
        writer.add("doc_cleaner", &DocCleaner::default());
        let bytes = writer.into_bytes();
        let sections = Sections::parse(&bytes).unwrap();
        let mut vocab = Vocab::new();
        let load = |name| sections.get(name).unwrap();
        let loaded = Tok2Vec::load(&mut load("tok2vec"), &mut vocab).unwrap();
        assert_eq!(loaded.members, tok2vec.members.iter().map(rounded).collect::<Vec<_>>());
        let loaded = Tagger::load(&mut load("tagger"), &mut vocab).unwrap();
        assert_eq!((loaded.tag, loaded.pos), (rounded(&tagger.tag), rounded(&tagger.pos)));
        assert_eq!(
            Parser::load(&mut load("parser"), &mut vocab).unwrap().members,
            parser.members.iter().map(rounded).collect::<Vec<_>>()
        );
        assert_eq!(EntityRecognizer::load(&mut load("ner"), &mut vocab).unwrap(), rounded(&ner));
        assert!(
            vocab.string(crate::vocab::StringKey::of("obl")).is_some(),
            "plain labels interned"
        );
        let pipeline = Pipeline::load(&bytes).unwrap();
        let names: Vec<_> = pipeline.component_names().collect();
        assert_eq!(names, ["tok2vec", "tagger", "parser", "ner", "doc_cleaner"]);
    }

    #[test]
    fn inconsistent_sections_are_rejected() {
        let (tok2vec, tagger, ..) = parts();
        // A tagger without tok2vec before it, and one whose width differs.
        let mut writer = PipelineWriter::default();
        writer.add("tagger", &tagger);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("needs tok2vec"), "{err}");
        let mut narrow = tagger.clone();
        narrow.tag.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        narrow.pos.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        let mut writer = PipelineWriter::default();
        writer.add("tok2vec", &tok2vec);
        writer.add("tagger", &narrow);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("differ from tok2vec"), "{err}");
        // A parser reading all 8 columns as one member, where tok2vec has two of 4.
        let labels = vec!["nsubj".to_string()];
        let wide = Parser::new(labels, ParserModel::new(8, 3, 2, 1, &mut Rng::new(2)));
        let mut writer = PipelineWriter::default();
        writer.add("tok2vec", &tok2vec);
        writer.add("parser", &wide);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("[8] differ from tok2vec's [4, 4]"), "{err}");
        let mut writer = PipelineWriter::default();
        writer.add("mystery", &tok2vec);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("unknown component"), "{err}");
    }

    #[test]
    fn version_4_files_hold_one_member_without_a_count() {
        let (tok2vec, mut narrow, ..) = parts();
        let encoder = &tok2vec.members[0];
        narrow.tag.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        narrow.pos.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        let mut writer = PipelineWriter::default();
        writer.add("tok2vec", encoder);
        writer.add("tagger", &narrow);
        let mut bytes = writer.into_bytes();
        assert!(Pipeline::load(&bytes).is_err(), "read as version 5, the layout is wrong");
        bytes[8] = 4;
        let pipeline = Pipeline::load(&bytes).unwrap();
        assert_eq!(pipeline.component_names().collect::<Vec<_>>(), ["tok2vec", "tagger"]);
        let sections = Sections::parse(&bytes).unwrap();
        let loaded = Tok2Vec::load(&mut sections.get("tok2vec").unwrap(), &mut Vocab::new());
        assert_eq!(loaded.unwrap().members, [rounded(encoder)]);
        // Rewriting the file (e.g. `nlpd train --components ner`) upgrades it to the current
        // layout.
        let upgraded =
            PipelineWriter::with_component(&bytes, "doc_cleaner", &DocCleaner::default()).unwrap();
        assert_eq!(u32::from_le_bytes(upgraded[8..12].try_into().unwrap()), 5);
        let sections = Sections::parse(&upgraded).unwrap();
        let loaded = Tok2Vec::load(&mut sections.get("tok2vec").unwrap(), &mut Vocab::new());
        assert_eq!(loaded.unwrap().members, [rounded(encoder)]);
        let names: Vec<_> = Pipeline::load(&upgraded).unwrap().component_names().collect();
        assert_eq!(names, ["tok2vec", "tagger", "doc_cleaner"]);
    }
}
