//! `nlpd render`: draw a text's dependency arcs or entities as an HTML page.
//!
//! # Overview
//!
//! The text (a file or standard input) is parsed as one document by the whole pipeline,
//! inside a memory zone, and drawn by [`crate::render::html_page`] in the chosen [`Style`]:
//! a complete HTML page, with no script and no external asset, written to standard output
//! or to `--output`.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::builder::PossibleValue;

use crate::render::{Style, html_page};

/// Arguments of `nlpd render`.
#[derive(Debug, clap::Args)]
pub(super) struct RenderArgs {
    /// The text to draw; standard input when absent (or `-`).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Which picture to draw.
    #[arg(long, value_enum)]
    style: Style,
    /// Write the page to this file instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Model to load instead of the default one.
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
}

/// `--style`: the pictures with what each draws.
impl clap::ValueEnum for Style {
    fn value_variants<'a>() -> &'a [Self] {
        &Style::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            Style::Dep => "Dependency arcs, one SVG diagram per sentence",
            Style::Ent => "The text with its named entities highlighted and labelled",
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// Runs `nlpd render`.
pub(super) fn run(args: RenderArgs) -> anyhow::Result<()> {
    let RenderArgs { file, style, output, model } = args;
    let pipeline = super::load_pipeline(model.as_deref(), crate::pipeline::Precision::default())?;
    let mut text = String::new();
    match file.as_deref().filter(|path| path.to_str() != Some("-")) {
        Some(path) => {
            text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        None => {
            io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
        }
    }
    let zone = pipeline.vocab().zone();
    let mut doc = pipeline.tokenizer().tokenize(&zone, &text);
    pipeline.annotate(&mut doc, None)?;
    let page = html_page(&doc, style);
    match output {
        Some(path) => {
            std::fs::write(&path, page).with_context(|| format!("cannot write {}", path.display()))
        }
        None => Ok(io::stdout().lock().write_all(page.as_bytes())?),
    }
}
