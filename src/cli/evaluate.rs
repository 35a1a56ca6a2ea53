//! `nlpd evaluate`: CoNLL 2018 UD metrics and exact-span NER scores.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::train::evaluate::{
    ConlluScores, EvalError, NerScores, Score, Side, score_conllu, score_ner,
};

/// Arguments of `nlpd evaluate`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("inputs").required(true).multiple(true).args(["gold", "ner_gold"]))]
pub(super) struct EvaluateArgs {
    /// Gold CoNLL-U file.
    #[arg(long, value_name = "GOLD.conllu", requires = "system")]
    gold: Option<PathBuf>,
    /// System CoNLL-U file (may come from raw text: words are aligned by characters).
    #[arg(long, value_name = "SYSTEM.conllu", requires = "gold")]
    system: Option<PathBuf>,
    /// Gold IOB2 file (PER, ORG, LOC).
    #[arg(long, value_name = "GOLD.iob2", requires = "ner_system")]
    ner_gold: Option<PathBuf>,
    /// System IOB2 file over the same tokens.
    #[arg(long, value_name = "SYSTEM.iob2", requires = "ner_gold")]
    ner_system: Option<PathBuf>,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
}

/// Everything `nlpd evaluate` reports.
#[derive(Debug, Serialize)]
struct Report {
    #[serde(skip_serializing_if = "Option::is_none")]
    conllu: Option<ConlluScores>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ner: Option<NerScores>,
}

/// Runs `nlpd evaluate`.
pub(super) fn run(args: EvaluateArgs) -> anyhow::Result<()> {
    let EvaluateArgs { gold, system, ner_gold, ner_system, json } = args;
    let conllu = gold.zip(system).map(|pair| score(pair, score_conllu)).transpose()?;
    let ner = ner_gold.zip(ner_system).map(|pair| score(pair, score_ner)).transpose()?;
    let report = Report { conllu, ner };
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_tables(&mut out, &report)?;
    }
    Ok(())
}

/// Opens both files and scores them, naming the file at fault in any error.
fn score<T>(
    (gold, system): (PathBuf, PathBuf),
    scorer: impl FnOnce(BufReader<File>, BufReader<File>) -> Result<T, EvalError>,
) -> anyhow::Result<T> {
    let open = |path: &Path| -> anyhow::Result<_> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        Ok(BufReader::new(file))
    };
    scorer(open(&gold)?, open(&system)?).map_err(|err| {
        let (side, source) = match err {
            EvalError::Conllu { side, source } => (side, anyhow::Error::new(source)),
            EvalError::Iob2 { side, source } => (side, anyhow::Error::new(source)),
            other => return other.into(),
        };
        let path = if side == Side::Gold { &gold } else { &system };
        source.context(path.display().to_string())
    })
}

fn write_tables(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let pct = |x: f64| format!("{:9.2}", 100.0 * x);
    let prf = |s: &Score| format!("{} | {} | {}", pct(s.precision), pct(s.recall), pct(s.f1));
    let rule = "-----------+-----------+-----------+-----------+-----------";
    if let Some(scores) = &report.conllu {
        writeln!(out, "Metric     | Precision |    Recall |  F1 Score | AligndAcc\n{rule}")?;
        for (name, s) in scores.metrics() {
            let aligned = s.aligned_accuracy.map_or_else(|| " ".repeat(9), pct);
            writeln!(out, "{name:<10} | {} | {aligned}", prf(&s))?;
        }
    }
    if let Some(scores) = &report.ner {
        if report.conllu.is_some() {
            writeln!(out)?;
        }
        writeln!(out, "NER type   | Precision |    Recall |  F1 Score | Gold/Sys.\n{rule}")?;
        for (name, s) in scores.rows() {
            let counts = format!("{}/{}", s.gold, s.system);
            writeln!(out, "{name:<10} | {} | {counts:>9}", prf(&s))?;
        }
    }
    Ok(())
}
