//! `nlpd encoder`: the pretrained transformer encoder, from the directory
//! `scripts/fetch-encoder.sh` fills.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;

use crate::pipeline::ComponentKind;
use crate::pipeline::doc_cleaner::DocCleaner;
use crate::pipeline::model_io::PipelineWriter;
use crate::pipeline::transformer::{PieceScratch, Transformer, WordPiece};

/// Arguments of `nlpd encoder`.
#[derive(Debug, clap::Args)]
pub(super) struct EncoderArgs {
    #[command(subcommand)]
    command: EncoderCommand,
}

#[derive(Debug, clap::Subcommand)]
enum EncoderCommand {
    /// Write a model file whose pipeline is the encoder (as a `transformer` component, its
    /// word embeddings and dense weights in int8 with a scale per row) and a doc_cleaner.
    Build {
        /// The encoder directory (config.json, tokenizer.json, model.safetensors).
        dir: PathBuf,
        /// Where to write the model file.
        #[arg(long)]
        output: PathBuf,
    },
    /// Print the word-piece ids of each line of standard input, space-separated, one line
    /// out per line in (how scripts/check-wordpiece.sh compares them with the reference).
    Pieces {
        /// The encoder directory (holding tokenizer.json).
        dir: PathBuf,
        /// Print the pieces' texts (`##` marking continuations) instead of their ids.
        #[arg(long)]
        text: bool,
    },
}

/// Runs `nlpd encoder`.
pub(super) fn run(args: EncoderArgs) -> anyhow::Result<()> {
    match args.command {
        EncoderCommand::Build { dir, output } => build(&dir, &output),
        EncoderCommand::Pieces { dir, text } => pieces(&dir, text),
    }
}

/// `nlpd encoder build`.
fn build(dir: &std::path::Path, output: &std::path::Path) -> anyhow::Result<()> {
    let transformer = Transformer::from_dir(dir)
        .with_context(|| format!("cannot read the encoder in {}", dir.display()))?;
    let mut writer = PipelineWriter::default();
    writer.add(ComponentKind::Transformer, &transformer);
    writer.add(ComponentKind::DocCleaner, &DocCleaner::default());
    let bytes = writer.into_bytes();
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("wrote {} ({:.1} MiB)", output.display(), bytes.len() as f64 / f64::from(1 << 20));
    Ok(())
}

/// `nlpd encoder pieces`.
fn pieces(dir: &std::path::Path, text: bool) -> anyhow::Result<()> {
    let path = dir.join("tokenizer.json");
    let json = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let wordpiece = WordPiece::from_tokenizer_json(&json)?;
    let (mut scratch, mut ids) = (PieceScratch::default(), Vec::new());
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in std::io::stdin().lock().lines() {
        let line = line.context("cannot read standard input")?;
        ids.clear();
        wordpiece.encode(&line, &mut scratch, &mut ids);
        for (i, id) in ids.iter().enumerate() {
            let sep = if i == 0 { "" } else { " " };
            if text {
                write!(out, "{sep}{}", wordpiece.piece(*id))?;
            } else {
                write!(out, "{sep}{}", id.index())?;
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}
