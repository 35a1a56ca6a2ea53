//! Section layouts of the components, and how each kind is read (all integers
//! little-endian; `floats` are a u64 count then f16 values; `str` is a u32 byte length then
//! UTF-8; `Head`, `Encoder` and the other parts are laid out as `layers` says):
//!
//! ```text
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
//! ner          labels (u64 count, str each), members u16, members × (Encoder (with the
//!              known words), output Dense (tags × width)), CRF start floats (tags),
//!              transitions floats (tags × tags), end floats (tags), where
//!              tags = 1 + 4 × labels
//! doc_cleaner  targets (u64 count; kind u8: 0 tensor, 1 all user data, 2 one array + name str)
//! ```
//!
//! The `transformer` section's layout is in `transformer`.

pub(crate) use super::layers::Persist;
use super::layers::dim;
use super::{ModelLoadError, ModelReader, ModelWriter};
use crate::pipeline::classifier::SoftmaxHead;
use crate::pipeline::doc_cleaner::{CleanTarget, DocCleaner, DocCleanerConfig};
use crate::pipeline::lemmatizer::{Case, CaseClass, Exception, Lemmatizer, Rule, RuleNode};
use crate::pipeline::morphologizer::Morphologizer;
use crate::pipeline::ner::scheme::TagScheme;
use crate::pipeline::ner::{Crf, EntityRecognizer, NerEncoder};
use crate::pipeline::nn::Dense;
use crate::pipeline::parser::model::{LABEL_SLOTS, ParserModel, TOKEN_SLOTS};
use crate::pipeline::parser::projectivize::split_label;
use crate::pipeline::parser::state::Action;
use crate::pipeline::parser::{Parser, ROOT_LABEL, SPACE_LABEL};
use crate::pipeline::tagger::{SPACE_TAG, Tagger};
use crate::pipeline::tok2vec::{Encoder, Tok2Vec};
use crate::pipeline::transformer::Transformer;
use crate::pipeline::{Component, ComponentKind, Precision};
use crate::vocab::Vocab;

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
        let mut members: Vec<Encoder> =
            (0..n).map(|_| Encoder::load(r, vocab)).collect::<Result<_, _>>()?;
        if r.precision() == Precision::Int8 {
            members.iter_mut().for_each(Encoder::quantize_mixer);
        }
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

impl Persist for EntityRecognizer {
    fn save(&self, w: &mut ModelWriter) {
        w.strs(self.scheme.labels());
        w.u16(self.members.len() as u16);
        for member in &self.members {
            member.tok2vec.save(w);
            member.output.save(w);
        }
        w.floats(&self.crf.start);
        w.floats(&self.crf.trans);
        w.floats(&self.crf.end);
    }

    fn load(r: &mut ModelReader<'_>, vocab: &mut Vocab) -> Result<Self, ModelLoadError> {
        let labels = r.strs()?;
        if labels.is_empty() || labels.len() >= 64 {
            return Err(r.malformed(format!("{} entity labels (expected 1 to 63)", labels.len())));
        }
        let scheme = TagScheme::new(labels);
        let t = scheme.n_tags();
        let n_members = usize::from(r.u16()?);
        if n_members == 0 {
            return Err(r.malformed("a recogniser without encoders"));
        }
        let mut members = Vec::with_capacity(n_members);
        for _ in 0..n_members {
            // The recogniser's mixer stays in f32 (`Encoder::load`): quantised, even with its
            // inputs equalised, it changed a few entities on UNER dev (NER F1 −0.11 to
            // +0.04 with the exponents tried) for no measurable speed.
            let tok2vec = Encoder::load(r, vocab)?;
            let output = Dense::load(r, vocab)?;
            if output.n_in != tok2vec.width() || output.n_out != t {
                return Err(r.malformed(format!(
                    "the output layer is {}×{}, expected {t}×{}",
                    output.n_out,
                    output.n_in,
                    tok2vec.width()
                )));
            }
            members.push(NerEncoder { tok2vec, output });
        }
        let mut crf = Crf::new(&scheme);
        crf.start = r.floats(t, "CRF start scores")?;
        crf.trans = r.floats(t * t, "CRF transition scores")?;
        crf.end = r.floats(t, "CRF end scores")?;
        for label in scheme.labels() {
            vocab.intern(label);
        }
        let ner = EntityRecognizer { members, scheme, crf };
        if !ner.features_agree() {
            return Err(r.malformed("the ensemble's encoders read different features"));
        }
        Ok(ner)
    }
}

/// What the components read so far give the later ones, whose input widths are checked
/// against it.
#[derive(Debug, Default)]
pub(crate) struct Upstream {
    /// The width of the transformer's features, once a transformer is read.
    features: Option<usize>,
    /// The widths of the tok2vec members, once tok2vec is read.
    tok2vec: Option<Vec<usize>>,
}

impl Upstream {
    /// Why `encoder` cannot read the features upstream, if it cannot.
    fn check_features(&self, r: &ModelReader<'_>, encoder: &Encoder) -> Result<(), ModelLoadError> {
        match (encoder.feature_width(), self.features) {
            (0, _) => Ok(()),
            (width, Some(features)) if width == features => Ok(()),
            (width, None) => Err(r.malformed(format!(
                "reads transformer features of width {width}: needs transformer earlier in the \
                 pipeline"
            ))),
            (width, Some(features)) => Err(r.malformed(format!(
                "reads transformer features of width {width}, not the transformer's {features}"
            ))),
        }
    }
}

impl ComponentKind {
    /// Reads the component of this kind from its section. `upstream` carries the widths of
    /// the transformer's features and of the tok2vec members forward, so every later
    /// component's input is checked against them.
    pub(crate) fn load(
        self,
        r: &mut ModelReader<'_>,
        vocab: &mut Vocab,
        upstream: &mut Upstream,
    ) -> Result<Box<dyn Component>, ModelLoadError> {
        // A head reads every member's columns; each parser member reads its own.
        let check =
            |r: &ModelReader<'_>, reads: &[usize], total: bool| match upstream.tok2vec.as_deref() {
                None => Err(r.malformed("needs tok2vec earlier in the pipeline")),
                Some(w) if total && reads == [w.iter().sum::<usize>()] => Ok(()),
                Some(w) if !total && reads == w => Ok(()),
                Some(w) => {
                    Err(r.malformed(format!("input widths {reads:?} differ from tok2vec's {w:?}")))
                }
            };
        Ok(match self {
            Self::Tok2Vec => {
                let model = Tok2Vec::load(r, vocab)?;
                for member in &model.members {
                    upstream.check_features(r, member)?;
                }
                upstream.tok2vec = Some(model.members.iter().map(Encoder::width).collect());
                Box::new(model)
            }
            Self::Tagger => {
                let model = Tagger::load(r, vocab)?;
                check(r, &[model.tag.layer.n_in], true)?;
                Box::new(model)
            }
            Self::Morphologizer => {
                let model = Morphologizer::load(r, vocab)?;
                check(r, &[model.feats.layer.n_in], true)?;
                Box::new(model)
            }
            Self::Lemmatizer => Box::new(Lemmatizer::load(r, vocab)?),
            Self::Ner => {
                let model = EntityRecognizer::load(r, vocab)?;
                upstream.check_features(r, model.features())?;
                Box::new(model)
            }
            Self::Parser => {
                let model = Parser::load(r, vocab)?;
                let reads: Vec<usize> = model.members.iter().map(|m| m.lower.n_in).collect();
                check(r, &reads, false)?;
                Box::new(model)
            }
            Self::DocCleaner => Box::new(DocCleaner::load(r, vocab)?),
            Self::Transformer => {
                let model = Transformer::load(r, vocab)?;
                upstream.features = Some(model.width());
                Box::new(model)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::model_io::{FORMAT_VERSION, ModelFile, PipelineWriter, Sections};
    use crate::pipeline::ner::tests::tiny_config;
    use crate::pipeline::nn::{Params, Rng};
    use crate::pipeline::tok2vec::{Attr, EmbedConfig, Tok2VecConfig};
    use crate::vocab::StringKey;

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
        let tok2vec = Tok2Vec::new(vec![
            Encoder::new(&config, 0, &mut rng),
            Encoder::new(&config, 0, &mut rng),
        ]);
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
        let mut own = Encoder::new(&config, 0, &mut rng);
        own.known = Some([7].into_iter().collect());
        let ner = EntityRecognizer::new(vec!["PER".to_string()], own, &mut rng);
        (tok2vec, tagger, parser, ner)
    }

    #[test]
    fn non_finite_weights_are_refused_at_load_naming_the_component() {
        // Issue 19: a file written by the normal writer, so its checksum is valid, whose
        // weights hold NaN or an infinity (as a diverged training run leaves them).
        type Spoil = fn(&mut Tagger, &mut Parser);
        let cases: [(Spoil, &str); 3] = [
            (
                |tagger, _| tagger.tag.layer.w[3] = f32::NAN,
                "model section `tagger` holds a non-finite value: weights[",
            ),
            (
                |tagger, _| tagger.pos.layer.b[1] = f32::INFINITY,
                "model section `tagger` holds a non-finite value: biases[1] is inf",
            ),
            (
                |_, parser| parser.members[1].pad[0] = f32::NEG_INFINITY,
                "model section `parser` holds a non-finite value: padding[0] is -inf",
            ),
        ];
        for (spoil, expected) in cases {
            let (tok2vec, mut tagger, mut parser, _) = parts();
            spoil(&mut tagger, &mut parser);
            let mut writer = PipelineWriter::default();
            writer.add(ComponentKind::Tok2Vec, &tok2vec);
            writer.add(ComponentKind::Tagger, &tagger);
            writer.add(ComponentKind::Parser, &parser);
            let bytes = writer.into_bytes();
            assert!(Sections::parse(&bytes).is_ok(), "the checksum is valid");
            let err = Pipeline::load(&bytes).expect_err(expected);
            assert!(matches!(err, ModelLoadError::NonFinite { .. }), "{err}");
            assert!(err.to_string().starts_with(expected), "{err}");
        }
    }

    #[test]
    fn saved_parts_load_back_identically() {
        let (tok2vec, tagger, parser, ner) = parts();
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tok2Vec, &tok2vec);
        writer.add(ComponentKind::Tagger, &tagger);
        writer.add(ComponentKind::Parser, &parser);
        writer.add(ComponentKind::Ner, &ner);
        writer.add(ComponentKind::DocCleaner, &DocCleaner::default());
        let bytes = writer.into_bytes();
        let sections = Sections::parse(&bytes).unwrap();
        let mut vocab = Vocab::new();
        let load = |kind: ComponentKind| sections.get(kind.name()).unwrap();
        let loaded = Tok2Vec::load(&mut load(ComponentKind::Tok2Vec), &mut vocab).unwrap();
        assert_eq!(loaded.members, tok2vec.members.iter().map(rounded).collect::<Vec<_>>());
        let loaded = Tagger::load(&mut load(ComponentKind::Tagger), &mut vocab).unwrap();
        assert_eq!((loaded.tag, loaded.pos), (rounded(&tagger.tag), rounded(&tagger.pos)));
        assert_eq!(
            Parser::load(&mut load(ComponentKind::Parser), &mut vocab).unwrap().members,
            parser.members.iter().map(rounded).collect::<Vec<_>>()
        );
        assert_eq!(
            EntityRecognizer::load(&mut load(ComponentKind::Ner), &mut vocab).unwrap(),
            rounded(&ner)
        );
        assert!(
            vocab.string(crate::vocab::StringKey::of("obl")).is_some(),
            "plain labels interned"
        );
        let pipeline = Pipeline::load(&bytes).unwrap();
        let names: Vec<_> = pipeline.component_names().collect();
        assert_eq!(
            names,
            [
                ComponentKind::Tok2Vec,
                ComponentKind::Tagger,
                ComponentKind::Parser,
                ComponentKind::Ner,
                ComponentKind::DocCleaner
            ]
            .map(ComponentKind::name)
        );
    }

    #[test]
    fn inconsistent_sections_are_rejected() {
        let (tok2vec, tagger, ..) = parts();
        // A tagger without tok2vec before it, and one whose width differs.
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tagger, &tagger);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("needs tok2vec"), "{err}");
        let mut narrow = tagger.clone();
        narrow.tag.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        narrow.pos.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tok2Vec, &tok2vec);
        writer.add(ComponentKind::Tagger, &narrow);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("differ from tok2vec"), "{err}");
        // A parser reading all 8 columns as one member, where tok2vec has two of 4.
        let labels = vec!["nsubj".to_string()];
        let wide = Parser::new(labels, ParserModel::new(8, 3, 2, 1, &mut Rng::new(2)));
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tok2Vec, &tok2vec);
        writer.add(ComponentKind::Parser, &wide);
        let err = Pipeline::load(&writer.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("[8] differ from tok2vec's [4, 4]"), "{err}");
        // A file whose pipeline names a component no build of nlpd knows.
        let mut file = ModelFile::default();
        let mut body = crate::pipeline::model_io::ModelWriter::default();
        tok2vec.save(&mut body);
        file.section("mystery", body);
        let mut list = crate::pipeline::model_io::ModelWriter::default();
        list.strs(&["mystery".to_owned()]);
        file.section(crate::pipeline::model_io::PIPELINE_SECTION, list);
        let err = Pipeline::load(&file.into_bytes()).unwrap_err();
        assert!(err.to_string().contains("unknown component"), "{err}");
    }

    #[test]
    fn version_4_files_hold_one_member_without_a_count() {
        let (tok2vec, mut narrow, ..) = parts();
        let encoder = &tok2vec.members[0];
        narrow.tag.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        narrow.pos.layer = crate::pipeline::nn::Dense::new(4, 2, &mut Rng::new(1));
        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Tok2Vec, encoder);
        writer.add(ComponentKind::Tagger, &narrow);
        let mut bytes = writer.into_bytes();
        assert!(
            Pipeline::load(&bytes).is_err(),
            "read as the current version, the layout is wrong"
        );
        bytes[8] = 4;
        let pipeline = Pipeline::load(&bytes).unwrap();
        assert_eq!(
            pipeline.component_names().collect::<Vec<_>>(),
            [ComponentKind::Tok2Vec, ComponentKind::Tagger].map(ComponentKind::name)
        );
        let sections = Sections::parse(&bytes).unwrap();
        let loaded = Tok2Vec::load(
            &mut sections.get(ComponentKind::Tok2Vec.name()).unwrap(),
            &mut Vocab::new(),
        );
        assert_eq!(loaded.unwrap().members, [rounded(encoder)]);
        // Rewriting the file (e.g. `nlpd train --components ner`) upgrades it to the current
        // layout.
        let upgraded = PipelineWriter::with_component(
            &bytes,
            ComponentKind::DocCleaner,
            &DocCleaner::default(),
        )
        .unwrap();
        assert_eq!(u32::from_le_bytes(upgraded[8..12].try_into().unwrap()), FORMAT_VERSION);
        let sections = Sections::parse(&upgraded).unwrap();
        let loaded = Tok2Vec::load(
            &mut sections.get(ComponentKind::Tok2Vec.name()).unwrap(),
            &mut Vocab::new(),
        );
        assert_eq!(loaded.unwrap().members, [rounded(encoder)]);
        let names: Vec<_> = Pipeline::load(&upgraded).unwrap().component_names().collect();
        assert_eq!(
            names,
            [ComponentKind::Tok2Vec, ComponentKind::Tagger, ComponentKind::DocCleaner]
                .map(ComponentKind::name)
        );
    }

    #[test]
    fn encoders_reading_features_need_a_transformer_of_their_width_before_them() {
        use crate::pipeline::transformer::tests::{TINY_WINDOWS, tiny};
        let config = crate::pipeline::ner::tests::tiny_config();
        let transformer = tiny(TINY_WINDOWS);
        let width = transformer.width();
        let file = |with_transformer: bool, tok2vec: usize, ner: usize| {
            let mut rng = Rng::new(3);
            let mut writer = PipelineWriter::default();
            if with_transformer {
                writer.add(ComponentKind::Transformer, &transformer);
            }
            let encoder = Encoder::new(&config, tok2vec, &mut rng);
            writer.add(ComponentKind::Tok2Vec, &Tok2Vec::new(vec![encoder]));
            let own = Encoder::new(&config, ner, &mut rng);
            writer
                .add(ComponentKind::Ner, &EntityRecognizer::new(vec!["PER".into()], own, &mut rng));
            Pipeline::load(&writer.into_bytes())
        };
        let loaded = file(true, width, width).unwrap();
        assert_eq!(loaded.component_names().collect::<Vec<_>>(), ["transformer", "tok2vec", "ner"]);
        assert!(file(false, 0, 0).is_ok(), "encoders without features need no transformer");
        let cases = [
            (
                false,
                width,
                0,
                "`tok2vec` is malformed: reads transformer features of width 8: needs transformer",
            ),
            (
                true,
                5,
                0,
                "`tok2vec` is malformed: reads transformer features of width 5, not the transformer's 8",
            ),
            (
                false,
                0,
                width,
                "`ner` is malformed: reads transformer features of width 8: needs transformer",
            ),
        ];
        for (with_transformer, tok2vec, ner, want) in cases {
            let err = file(with_transformer, tok2vec, ner).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    fn recognizer() -> EntityRecognizer {
        let mut rng = Rng::new(21);
        let labels = vec!["ORG".into(), "PER".into()];
        let known = [StringKey::of("ada").as_u64(), 7].into_iter().collect();
        let mut tok2vec = Encoder::new(&tiny_config(), 0, &mut rng);
        tok2vec.known = Some(known);
        let mut ner = EntityRecognizer::new(labels, tok2vec, &mut rng);
        for p in ner.crf.params_mut() {
            p.iter_mut().for_each(|v| *v = rng.normal(1.0));
        }
        ner
    }

    /// Loads a section body written by `write`, requiring it to be read to the end.
    fn load_ner(
        write: impl FnOnce(&mut ModelWriter),
        vocab: &mut Vocab,
    ) -> Result<EntityRecognizer, ModelLoadError> {
        let mut body = ModelWriter::default();
        write(&mut body);
        let mut file = ModelFile::default();
        file.section(ComponentKind::Ner.name(), body);
        let bytes = file.into_bytes();
        let sections = Sections::parse(&bytes)?;
        let mut r = sections.get(ComponentKind::Ner.name())?;
        let ner = EntityRecognizer::load(&mut r, vocab)?;
        r.finish()?;
        Ok(ner)
    }

    #[test]
    fn a_recognizer_round_trips_at_half_precision_and_interns_labels() {
        let ner = recognizer();
        let mut vocab = Vocab::new();
        let loaded = load_ner(|w| ner.save(w), &mut vocab).unwrap();
        let mut halved = ner.clone();
        for p in halved.params_mut() {
            p.iter_mut().for_each(|v| *v = half::f16::from_f32(*v).to_f32());
        }
        assert_eq!(loaded, halved);
        assert_eq!(vocab.string(StringKey::of("PER")), Some("PER"));

        let mut other = recognizer();
        other.members[0].output.b[0] += 1.0;
        let pair = EntityRecognizer::ensemble(vec![ner.clone(), other]);
        let loaded = load_ner(|w| pair.save(w), &mut vocab).unwrap();
        assert_eq!(loaded.members.len(), 2, "an ensemble keeps its members");

        let mut writer = PipelineWriter::default();
        writer.add(ComponentKind::Ner, &ner);
        let pipeline = Pipeline::load(&writer.into_bytes()).unwrap();
        assert_eq!(
            pipeline.component_names().collect::<Vec<_>>(),
            [ComponentKind::Ner].map(ComponentKind::name)
        );
    }

    #[test]
    fn inconsistent_recognizer_sections_are_rejected() {
        let ner = recognizer();
        let mut relabelled = ner.clone();
        relabelled.scheme = TagScheme::new(vec!["PER".into()]);
        type Write<'a> = Box<dyn FnOnce(&mut ModelWriter) + 'a>;
        let mut unlike = EntityRecognizer::ensemble(vec![ner.clone(), ner.clone()]);
        unlike.members[1].tok2vec.known = None;
        let cases: [(&str, Write<'_>); 5] = [
            ("labels do not match the output layer", Box::new(|w| relabelled.save(w))),
            ("members read different features", Box::new(|w| unlike.save(w))),
            (
                "no members",
                Box::new(|w| {
                    w.strs(ner.labels());
                    w.u16(0);
                }),
            ),
            (
                "cut after the encoder",
                Box::new(|w| {
                    w.strs(ner.labels());
                    w.u16(1);
                    ner.features().save(w);
                }),
            ),
            ("no labels", Box::new(|w| w.strs(&[]))),
        ];
        for (name, write) in cases {
            let err = load_ner(write, &mut Vocab::new()).expect_err(name);
            assert!(matches!(err, ModelLoadError::Malformed { .. }), "{name}: {err}");
        }
    }
}
