//! The `nlpd` command line.
//!
//! # Overview
//!
//! [`run`] parses the arguments with clap and dispatches to one module per subcommand:
//! `parse`/`tokenize` (`parse.rs`), `render`, `evaluate`, `serve`, `healthcheck`, `train`,
//! `ensemble` and `encoder`. Errors
//! are reported with their context chain and mapped to a non-zero exit code.

mod encoder;
mod ensemble;
mod evaluate;
mod healthcheck;
mod parse;
mod render;
mod serve;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A fast, memory-bounded English NLP engine.
#[derive(Debug, Parser)]
#[command(name = "nlpd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Annotate text with the full pipeline.
    Parse(parse::ParseArgs),
    /// Tokenize text only (`parse` with no components).
    Tokenize(parse::ParseArgs),
    /// Draw a text's dependency arcs or entities as an HTML page.
    Render(render::RenderArgs),
    /// Score a system CoNLL-U file against a gold one (CoNLL 2018 metrics).
    Evaluate(evaluate::EvaluateArgs),
    /// Run the HTTP service.
    Serve(serve::ServeArgs),
    /// Exit 0 if the server on this host answers `GET /healthz` (for container health checks).
    Healthcheck(healthcheck::HealthcheckArgs),
    /// Train a pipeline from CoNLL-U and IOB2 data.
    Train(train::TrainArgs),
    /// Join trained pipelines into one ensemble model (scores averaged).
    Ensemble(ensemble::EnsembleArgs),
    /// Work with the pretrained transformer encoder (see docs/transformer.md).
    Encoder(encoder::EncoderArgs),
}

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse::run(args, parse::Mode::Full),
        Command::Tokenize(args) => parse::run(args, parse::Mode::TokenizeOnly),
        Command::Render(args) => render::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Healthcheck(args) => healthcheck::run(args),
        Command::Train(args) => train::run(args),
        Command::Ensemble(args) => ensemble::run(&args),
        Command::Encoder(args) => encoder::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Output piped into a program that stopped reading (`| head`) is not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let kind = match cause.downcast_ref::<serde_json::Error>() {
            Some(err) => err.io_error_kind(),
            None => cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind),
        };
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// The pipeline to serve or run: the model file at `model`, or the embedded default.
fn load_pipeline(
    model: Option<&std::path::Path>,
    precision: crate::pipeline::Precision,
) -> anyhow::Result<crate::pipeline::Pipeline> {
    use crate::pipeline::Pipeline;
    use anyhow::Context;
    match model {
        Some(path) => Pipeline::load_file_with(path, precision)
            .with_context(|| format!("cannot open model {}", path.display())),
        None => Ok(Pipeline::load_with(crate::pipeline::model_io::DEFAULT_MODEL, precision)
            .expect("the embedded model loads. This is a bug.")),
    }
}

/// This process's environment, lossily decoded, for [`crate::config::Settings::load`].
fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(name, value)| {
            (name.to_string_lossy().into_owned(), value.to_string_lossy().into_owned())
        })
        .collect()
}
