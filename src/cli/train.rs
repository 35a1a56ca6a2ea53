//! `nlpd train`: trains the pipeline from a config file and writes the model file.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::pipeline::ComponentKind;
use crate::pipeline::model_io::{DEFAULT_MODEL, PipelineWriter, load_vocab};
use crate::train::corpus::Corpus;
use crate::train::evaluate::NerScores;
use crate::train::trainer::{TrainConfig, train};
use crate::train::{DevScores, TrainObserver};
use crate::train::{lemma_rules, ner, word_forms};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `nlpd train`.
#[derive(Debug, clap::Args)]
pub(super) struct TrainArgs {
    /// Training configuration (TOML), e.g. config/train-en.toml.
    #[arg(long)]
    config: PathBuf,
    /// Where to write the trained model file.
    #[arg(long)]
    output: PathBuf,
    /// Hide the progress bar (per-epoch scores are still printed).
    #[arg(long)]
    quiet: bool,
    /// Which components to train: `all` the config describes, or only `ner`, `lemmatizer`
    /// or `vocab`, written into a copy of the `--base` model.
    #[arg(long, value_enum, default_value_t = Components::All)]
    components: Components,
    /// With `--components ner`, `lemmatizer` or `vocab`: the model whose other sections the
    /// output keeps;
    /// the embedded default model if not given.
    #[arg(long, value_name = "PATH")]
    base: Option<PathBuf>,
    /// Start the transformer, tok2vec, the tagger, the morphologizer and the parser from
    /// this model file's weights (e.g. the checkpoint of an interrupted run; the optimisers
    /// start afresh); overrides the config's `init`.
    #[arg(long, value_name = "PATH")]
    init: Option<PathBuf>,
}

/// The components `nlpd train` trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Components {
    /// Every component of the config.
    All,
    /// Only the named-entity recogniser.
    Ner,
    /// Only the lemmatizer's tables, learned from the config's training corpus.
    Lemmatizer,
    /// Only the vocabulary: the word forms of the config's training corpus (and the
    /// tokenizer's special cases), loaded as permanent lexemes. No weight changes.
    Vocab,
}

/// Shows a progress bar per epoch, prints dev scores to stderr and writes each new best
/// model to the output path.
struct Progress {
    output: PathBuf,
    saved: anyhow::Result<()>,
    bar: Option<ProgressBar>,
    quiet: bool,
    started: Instant,
    loss: f64,
    batches: usize,
}

impl TrainObserver for Progress {
    fn member_started(&mut self, member: u64, members: u64, seed: u64) {
        if members > 1 {
            eprintln!("member {member} of {members} (seed {seed})");
        }
    }

    fn epoch_started(&mut self, epoch: usize, batches: usize) {
        (self.loss, self.batches) = (0.0, 0);
        if !self.quiet {
            let bar = ProgressBar::new(batches as u64).with_style(
                ProgressStyle::with_template("epoch {prefix:>3} [{bar:30}] {pos}/{len} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_prefix(epoch.to_string());
            self.bar = Some(bar);
        }
    }

    fn batch_finished(&mut self, loss: f64) {
        self.loss += loss;
        self.batches += 1;
        if let Some(bar) = &self.bar {
            bar.set_message(format!("loss {:.3}", self.loss / self.batches as f64));
            bar.inc(1);
        }
    }

    fn checkpoint(&mut self, model: &[u8]) {
        self.saved = write_model(&self.output, model);
    }

    fn epoch_finished(&mut self, epoch: usize, s: &DevScores, best: bool) {
        let loss = self.finish_epoch();
        eprintln!(
            "epoch {epoch:>3}  loss {:.3}  dev UPOS {:.2} XPOS {:.2} UFeats {:.2} Lemma {:.2} \
             UAS {:.2} LAS {:.2} Sents {:.2}  {}s{}",
            loss,
            s.upos,
            s.xpos,
            s.feats,
            s.lemma,
            s.uas,
            s.las,
            s.sents,
            self.started.elapsed().as_secs(),
            if best { "  *best" } else { "" }
        );
    }

    fn ner_epoch_finished(&mut self, epoch: usize, s: &NerScores, best: bool) {
        let loss = self.finish_epoch();
        eprintln!(
            "ner epoch {epoch:>3}  loss {loss:.3}  dev P {:.2} R {:.2} F1 {:.2} (PER {:.2} ORG {:.2} \
             LOC {:.2})  {}s{}",
            100.0 * s.overall.precision,
            100.0 * s.overall.recall,
            100.0 * s.overall.f1,
            100.0 * s.per.f1,
            100.0 * s.org.f1,
            100.0 * s.loc.f1,
            self.started.elapsed().as_secs(),
            if best { "  *best" } else { "" }
        );
    }
}

impl Progress {
    fn finish_epoch(&mut self) -> f64 {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.loss / self.batches.max(1) as f64
    }
}

/// Runs `nlpd train`.
pub(super) fn run(args: TrainArgs) -> anyhow::Result<()> {
    let TrainArgs { config: config_path, output, quiet, components, base, init } = args;
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let mut config: TrainConfig = toml::from_str(&text)
        .with_context(|| format!("invalid config {}", config_path.display()))?;
    config.init = init.or(config.init);
    let started = Instant::now();
    let mut progress =
        Progress { output, saved: Ok(()), bar: None, quiet, started, loss: 0.0, batches: 0 };
    match components {
        Components::All if base.is_some() => {
            anyhow::bail!("--base only applies with --components ner, lemmatizer or vocab")
        }
        Components::All => {}
        Components::Ner => return train_ner(&config_path, &config, base.as_deref(), &mut progress),
        Components::Vocab => return rebuild_vocab(&config, base.as_deref(), &progress.output),
        Components::Lemmatizer => {
            return rebuild_lemmatizer(&config, base.as_deref(), &progress.output);
        }
    }
    let trained = train(&config, &mut progress)?;
    std::mem::replace(&mut progress.saved, Ok(()))?;
    let output = &progress.output;
    let members: Vec<String> = trained
        .scores
        .iter()
        .zip(&trained.epochs)
        .map(|(scores, epochs)| format!("{:.2} after {epochs} epochs", scores.overall()))
        .collect();
    eprintln!(
        "wrote {} ({:.1} MiB) in {}s; best dev overall {}",
        output.display(),
        mib(&trained.model),
        progress.started.elapsed().as_secs(),
        members.join(", ")
    );
    Ok(())
}

/// The bytes of the `--base` model, or of the embedded default model.
fn base_model(base: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match base {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
        }
        None => Ok(DEFAULT_MODEL.to_vec()),
    }
}

/// Writes `model` to `path`.
fn write_model(path: &Path, model: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, model).with_context(|| format!("cannot write {}", path.display()))
}

/// The size of `model` in MiB, for messages.
fn mib(model: &[u8]) -> f64 {
    model.len() as f64 / f64::from(1 << 20)
}

/// How messages name the `--base` model.
fn base_name(base: Option<&Path>) -> String {
    base.map_or("the default model".into(), |p| p.display().to_string())
}

/// `nlpd train --components vocab`: the base model with its vocabulary rebuilt from the
/// config's training corpus.
fn rebuild_vocab(config: &TrainConfig, base: Option<&Path>, output: &Path) -> anyhow::Result<()> {
    let corpus = Corpus::read(&config.train)?;
    let model = word_forms::with_training_vocab(&base_model(base)?, &corpus)
        .with_context(|| base_name(base))?;
    write_model(output, &model)?;
    let words = load_vocab(&model)?.generation();
    eprintln!(
        "wrote {} ({:.2} MiB) with {words} permanent words from {}",
        output.display(),
        mib(&model),
        config.train.display()
    );
    Ok(())
}

/// `nlpd train --components lemmatizer`: the base model with its lemmatizer learned anew
/// from the config's training corpus.
fn rebuild_lemmatizer(
    config: &TrainConfig,
    base: Option<&Path>,
    output: &Path,
) -> anyhow::Result<()> {
    let corpus = Corpus::read(&config.train)?;
    let lemmatizer = lemma_rules::induce(&corpus);
    let model =
        PipelineWriter::with_component(&base_model(base)?, ComponentKind::Lemmatizer, &lemmatizer)
            .with_context(|| base_name(base))?;
    write_model(output, &model)?;
    eprintln!(
        "wrote {} ({:.2} MiB) with {} rules, {} exceptions and {} lexicon entries",
        output.display(),
        mib(&model),
        lemmatizer.nodes.len(),
        lemmatizer.exceptions.len(),
        lemmatizer.lexicon.len()
    );
    Ok(())
}

/// `nlpd train --components ner`: the entity recogniser alone.
fn train_ner(
    config_path: &Path,
    config: &TrainConfig,
    base: Option<&Path>,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let ner_config = config
        .ner
        .as_ref()
        .with_context(|| format!("{} has no [ner] table", config_path.display()))?;
    let base_bytes = base_model(base)?;
    let transformer = config.transformer.as_ref().map(|t| t.load()).transpose()?;
    let trained = ner::train(ner_config, config.seed, transformer.as_ref(), progress)?;
    let model =
        ner::with_recognizer(&base_bytes, &trained.model).with_context(|| base_name(base))?;
    // A recogniser that reads a transformer's features fits only a base with that transformer.
    crate::pipeline::Pipeline::load(&model).with_context(|| {
        format!(
            "the recogniser trained by {} does not fit {}",
            config_path.display(),
            base_name(base)
        )
    })?;
    progress.checkpoint(&model);
    std::mem::replace(&mut progress.saved, Ok(()))?;
    eprintln!(
        "wrote {} ({:.1} MiB) after {} epochs in {}s; best dev NER F1 {:.2} (O penalty {})",
        progress.output.display(),
        mib(&model),
        trained.epochs,
        progress.started.elapsed().as_secs(),
        100.0 * trained.scores.overall.f1,
        trained.outside_penalty
    );
    Ok(())
}
