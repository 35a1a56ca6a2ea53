//! `nlpd parse` and `nlpd tokenize`: annotate text from files or standard input.
//!
//! # Overview
//!
//! Each input ([`Source`]: a file or standard input) is read in the chosen
//! [`InputFormat`] and split into documents, streaming (only `text`, where the whole input
//! is one document, reads an input at once). Every document is tokenized (or, from CoNLL-U,
//! rebuilt from its given words), annotated and written in the chosen [`DocFormat`] by the
//! [`Annotator`], inside a memory zone of its own, so the vocabulary never grows however
//! much is parsed. JSON is written as a pretty-printed array ([`JsonLayout::PrettyArray`]).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::builder::PossibleValue;
use indicatif::{ProgressBar, ProgressStyle};

use crate::doc::conllu::{ConlluReader, Keep, SentenceMeta};
use crate::doc::iob2::Iob2Reader;
use crate::doc::{Doc, DocFormat, DocWriter, JsonLayout};
use crate::pipeline::Pipeline;

/// Arguments of `nlpd parse` and `nlpd tokenize`.
#[derive(Debug, clap::Args)]
pub(super) struct ParseArgs {
    /// Input files; standard input when none is given (or for `-`).
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// How the input is split into documents.
    #[arg(long, value_enum, default_value_t = InputFormat::Text)]
    input: InputFormat,
    /// How documents are written to standard output.
    #[arg(long, value_enum, default_value_t = DocFormat::Json)]
    output: DocFormat,
    /// Model to load instead of the default one.
    #[arg(long, value_name = "PATH")]
    model: Option<PathBuf>,
}

/// How the input is split into documents.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum InputFormat {
    /// Each input (file or standard input) is one document.
    Text,
    /// Each line is a document.
    Lines,
    /// Each non-blank line is a JSON object whose "text" field is a document.
    Jsonl,
    /// Pre-tokenised CoNLL-U: the given words and sentences are kept and re-annotated; a
    /// document per `# newdoc` (else per sentence).
    Conllu,
    /// Pre-tokenised IOB2 (Universal NER): the given tokens are kept and re-annotated, spaced
    /// as each sentence's `# text` shows; a document per `# newdoc` (else per sentence).
    Iob2,
}

/// `--output`: the formats with what each writes on the command line.
impl clap::ValueEnum for DocFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &DocFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let help = match self {
            DocFormat::Json => "A JSON array of documents in spaCy's `Doc.to_json()` layout",
            DocFormat::Jsonl => "One JSON document per line",
            DocFormat::Conllu => "CoNLL-U, a `# newdoc` per document",
            DocFormat::Iob2 => {
                "IOB2 entity tags (`ID<TAB>TOKEN<TAB>TAG`), as `nlpd evaluate --ner-system` reads"
            }
        };
        Some(PossibleValue::new(self.name()).help(help))
    }
}

/// Which components `nlpd parse` runs.
#[derive(Debug, Clone, Copy)]
pub(super) enum Mode {
    /// Every component.
    Full,
    /// The tokenizer only.
    TokenizeOnly,
}

/// Runs `nlpd parse`.
pub(super) fn run(args: ParseArgs, mode: Mode) -> anyhow::Result<()> {
    let ParseArgs { files, input, output, model } = args;
    let pipeline = super::load_pipeline(model.as_deref())?;
    let sources = Source::all(&files);
    let progress = progress_bar(&sources)?;
    let stdout = io::stdout().lock();
    let writer = DocWriter::new(BufWriter::new(stdout), output, JsonLayout::PrettyArray);
    let mut annotator = Annotator { pipeline, mode, writer };
    for source in sources {
        let name = source.name();
        let reader = source.open(&progress)?;
        annotator.read(reader, input).with_context(|| name.clone())?;
    }
    annotator.writer.finish()?;
    progress.finish_and_clear();
    Ok(())
}

/// An input: a file or standard input.
#[derive(Debug)]
enum Source<'a> {
    Stdin,
    File(&'a Path),
}

impl<'a> Source<'a> {
    fn all(files: &'a [PathBuf]) -> Vec<Source<'a>> {
        if files.is_empty() {
            return vec![Source::Stdin];
        }
        let source = |path: &'a PathBuf| match path.to_str() {
            Some("-") => Source::Stdin,
            _ => Source::File(path),
        };
        files.iter().map(source).collect()
    }

    fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_owned(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// Opens the input, counting what is read on `progress`.
    fn open(&self, progress: &ProgressBar) -> anyhow::Result<Box<dyn BufRead>> {
        Ok(match self {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(path) => {
                let file =
                    File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
                Box::new(BufReader::with_capacity(1 << 16, progress.wrap_read(file)))
            }
        })
    }
}

/// A progress bar over the total size of the input files, drawn on stderr when it is a
/// terminal and every input is a file; hidden otherwise.
fn progress_bar(sources: &[Source<'_>]) -> anyhow::Result<ProgressBar> {
    let mut total = 0;
    for source in sources {
        match source {
            Source::File(path) => {
                let meta = std::fs::metadata(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                total += meta.len();
            }
            Source::Stdin => return Ok(ProgressBar::hidden()),
        }
    }
    if !io::stderr().is_terminal() {
        return Ok(ProgressBar::hidden());
    }
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    )
    .expect("the progress template is valid. This is a bug.");
    Ok(ProgressBar::new(total).with_style(style))
}

/// Runs documents through the pipeline and writes them: the pipeline, what it runs, and
/// where documents go.
struct Annotator<W: Write> {
    pipeline: Pipeline,
    mode: Mode,
    writer: DocWriter<W>,
}

impl<W: Write> Annotator<W> {
    /// Reads every document of one input.
    fn read(&mut self, mut input: Box<dyn BufRead>, format: InputFormat) -> anyhow::Result<()> {
        match format {
            InputFormat::Text => {
                let mut text = String::new();
                input.read_to_string(&mut text).context("cannot read input")?;
                self.text(&text)
            }
            InputFormat::Lines => for_each_line(input, |line| self.text(line)),
            InputFormat::Jsonl => for_each_line(input, |line| {
                if line.trim().is_empty() {
                    return Ok(());
                }
                #[derive(serde::Deserialize)]
                struct Record<'a> {
                    #[serde(borrow)]
                    text: Cow<'a, str>,
                }
                let record: Record<'_> = serde_json::from_str(line)
                    .context("expected a JSON object with a \"text\" string")?;
                self.text(&record.text)
            }),
            InputFormat::Conllu => {
                for document in ConlluReader::new(input).documents() {
                    let document = document?;
                    let zone = self.pipeline.vocab().zone();
                    let doc = document.to_doc(&zone, Keep::Words);
                    self.emit(doc, document.metas())?;
                }
                Ok(())
            }
            InputFormat::Iob2 => {
                for document in Iob2Reader::new(input).documents() {
                    let document = document?;
                    let zone = self.pipeline.vocab().zone();
                    let doc = document.to_doc(&zone, Keep::Words);
                    self.emit(doc, document.metas())?;
                }
                Ok(())
            }
        }
    }

    /// Parses one text document.
    fn text(&mut self, text: &str) -> anyhow::Result<()> {
        let zone = self.pipeline.vocab().zone();
        let doc = self.pipeline.tokenizer().tokenize(&zone, text);
        self.emit(doc, [&SentenceMeta::new_document()])
    }

    /// Annotates `doc` (unless only tokenizing) and writes it.
    fn emit<'m>(
        &mut self,
        mut doc: Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> anyhow::Result<()> {
        if let Mode::Full = self.mode {
            self.pipeline.annotate(&mut doc, None)?;
        }
        self.writer.write(&doc, metas)?;
        Ok(())
    }
}

/// Calls `f` on each line (without its line ending), naming the line in any error.
fn for_each_line(
    mut input: impl BufRead,
    mut f: impl FnMut(&str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut line = String::new();
    for number in 1.. {
        line.clear();
        let read = input.read_line(&mut line).with_context(|| format!("line {number}"))?;
        if read == 0 {
            break;
        }
        f(line.trim_end_matches(['\n', '\r'])).with_context(|| format!("line {number}"))?;
    }
    Ok(())
}
