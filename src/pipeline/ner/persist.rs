//! The `ner` section of a model file (see [`model_io`](crate::pipeline::model_io)):
//!
//! ```text
//! ner   labels (u64 count, str each), members u16, members × (tok2vec (as the tok2vec
//!       section, with the known words), output Dense (tags × width)), CRF start floats
//!       (tags), transitions floats (tags × tags), end floats (tags)
//!       where tags = 1 + 4 × labels
//! ```

use super::scheme::TagScheme;
use super::{Crf, EntityRecognizer, NerEncoder};
use crate::pipeline::model_io::components::Persist;
use crate::pipeline::model_io::{ModelLoadError, ModelReader, ModelWriter};
use crate::pipeline::nn::Dense;
use crate::pipeline::tok2vec::Encoder;
use crate::vocab::Vocab;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;
    use crate::pipeline::model_io::{ModelFile, PipelineWriter, Sections};
    use crate::pipeline::ner::tests::tiny_config;
    use crate::pipeline::nn::{Params, Rng};
    use crate::vocab::StringKey;

    fn model() -> EntityRecognizer {
        let mut rng = Rng::new(21);
        let labels = vec!["ORG".into(), "PER".into()];
        let known = [StringKey::of("ada").as_u64(), 7].into_iter().collect();
        let mut tok2vec = Encoder::new(&tiny_config(), &mut rng);
        tok2vec.known = Some(known);
        let mut ner = EntityRecognizer::new(labels, tok2vec, &mut rng);
        for p in ner.crf.params_mut() {
            p.iter_mut().for_each(|v| *v = rng.normal(1.0));
        }
        ner
    }

    /// Loads a section body written by `write`, requiring it to be read to the end.
    fn load(
        write: impl FnOnce(&mut ModelWriter),
        vocab: &mut Vocab,
    ) -> Result<EntityRecognizer, ModelLoadError> {
        let mut body = ModelWriter::default();
        write(&mut body);
        let mut file = ModelFile::default();
        file.section("ner", body);
        let bytes = file.into_bytes();
        let sections = Sections::parse(&bytes)?;
        let mut r = sections.get("ner")?;
        let ner = EntityRecognizer::load(&mut r, vocab)?;
        r.finish()?;
        Ok(ner)
    }

    #[test]
    fn save_then_load_round_trips_at_half_precision_and_interns_labels() {
        let ner = model();
        let mut vocab = Vocab::new();
        let loaded = load(|w| ner.save(w), &mut vocab).unwrap();
        let mut halved = ner.clone();
        for p in halved.params_mut() {
            p.iter_mut().for_each(|v| *v = half::f16::from_f32(*v).to_f32());
        }
        assert_eq!(loaded, halved);
        assert_eq!(vocab.string(StringKey::of("PER")), Some("PER"));

        let mut other = model();
        other.members[0].output.b[0] += 1.0;
        let pair = EntityRecognizer::ensemble(vec![ner.clone(), other]);
        let loaded = load(|w| pair.save(w), &mut vocab).unwrap();
        assert_eq!(loaded.members.len(), 2, "an ensemble keeps its members");

        let mut writer = PipelineWriter::default();
        writer.add("ner", &ner);
        let pipeline = Pipeline::load(&writer.into_bytes()).unwrap();
        assert_eq!(pipeline.component_names().collect::<Vec<_>>(), ["ner"]);
    }

    #[test]
    fn inconsistent_sections_are_rejected() {
        let ner = model();
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
            let err = load(write, &mut Vocab::new()).expect_err(name);
            assert!(matches!(err, ModelLoadError::Malformed { .. }), "{name}: {err}");
        }
    }
}
