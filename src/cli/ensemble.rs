//! `nlpd ensemble`: joins trained pipelines into one ensemble model file.

use std::path::PathBuf;

use anyhow::Context;

use crate::pipeline::model_io::ensemble::join_ensemble;

/// Arguments of `nlpd ensemble`.
#[derive(Debug, clap::Args)]
pub(super) struct EnsembleArgs {
    /// The model files to join (trained from one configuration, e.g. with different seeds);
    /// the lemmatizer, the recogniser and the vocabulary come from the first.
    #[arg(required = true, num_args = 2..)]
    models: Vec<PathBuf>,
    /// Where to write the ensemble model file.
    #[arg(long)]
    output: PathBuf,
}

/// Runs `nlpd ensemble`.
pub(super) fn run(args: &EnsembleArgs) -> anyhow::Result<()> {
    let files = args
        .models
        .iter()
        .map(|path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let slices: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let joined = join_ensemble(&slices).context("cannot join the models")?;
    std::fs::write(&args.output, &joined)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} members, {:.2} MiB)",
        args.output.display(),
        slices.len(),
        joined.len() as f64 / f64::from(1 << 20)
    );
    Ok(())
}
