//! `nlpd train`: trains the pipeline from a config file and writes the model file.

use std::path::PathBuf;
use std::time::Instant;

use crate::train::trainer::{DevScores, TrainConfig, TrainObserver, train};
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
        self.saved = std::fs::write(&self.output, model)
            .with_context(|| format!("cannot write {}", self.output.display()));
    }

    fn epoch_finished(&mut self, epoch: usize, s: &DevScores, best: bool) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "epoch {epoch:>3}  loss {:.3}  dev UPOS {:.2} XPOS {:.2} UFeats {:.2} Lemma {:.2} \
             UAS {:.2} LAS {:.2} Sents {:.2} NER {:.2}  {}s{}",
            self.loss / self.batches.max(1) as f64,
            s.upos,
            s.xpos,
            s.feats,
            s.lemma,
            s.uas,
            s.las,
            s.sents,
            s.ner,
            self.started.elapsed().as_secs(),
            if best { "  *best" } else { "" }
        );
    }
}

/// Runs `nlpd train`.
pub(super) fn run(args: TrainArgs) -> anyhow::Result<()> {
    let TrainArgs { config: config_path, output, quiet } = args;
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let config: TrainConfig = toml::from_str(&text)
        .with_context(|| format!("invalid config {}", config_path.display()))?;
    let started = Instant::now();
    let mut progress =
        Progress { output, saved: Ok(()), bar: None, quiet, started, loss: 0.0, batches: 0 };
    let trained = train(&config, &mut progress)?;
    std::mem::replace(&mut progress.saved, Ok(()))?;
    let output = &progress.output;
    eprintln!(
        "wrote {} ({:.1} MiB) after {} epochs in {}s; best dev overall {:.2}",
        output.display(),
        trained.model.len() as f64 / (1 << 20) as f64,
        trained.epochs,
        progress.started.elapsed().as_secs(),
        trained.scores.overall()
    );
    Ok(())
}
