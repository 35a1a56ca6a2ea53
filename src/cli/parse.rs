//! `nlpd parse` and `nlpd tokenize`: annotate text from files or standard input.
//!
//! # Overview
//!
//! Each input ([`Source`]: a file or standard input) is read in the chosen
//! [`InputFormat`] and split into documents, streaming (only `text`, where the whole input
//! is one document, reads an input at once). Every document is tokenized (or, from CoNLL-U,
//! rebuilt from its given words), annotated and rendered in the chosen [`DocFormat`] by the
//! [`Annotator`], inside a memory zone of its own, so the vocabulary never grows however
//! much is parsed. JSON is written as a pretty-printed array ([`JsonLayout::PrettyArray`]).
//!
//! With `--threads N` (N > 1), N worker threads annotate documents while one thread reads
//! the input and the main thread writes the rendered documents in input order (see
//! [`Annotator::run_parallel`]); the output is byte for byte that of one thread.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};

use anyhow::Context;
use clap::builder::PossibleValue;
use indicatif::{ProgressBar, ProgressStyle};

use parking_lot::Mutex;

use crate::doc::conllu::{ConlluDocument, ConlluReader, Keep, SentenceMeta};
use crate::doc::iob2::{Iob2Document, Iob2Reader};
use crate::doc::{Doc, DocFormat, DocRenderer, DocWriter, JsonLayout, RenderedDoc};
use crate::pipeline::{Pipeline, Precision};

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
    /// The arithmetic of the model's layers: 8-bit integers (fast) or 32-bit floats (as in
    /// training, to reproduce its scores exactly).
    #[arg(long, value_enum, default_value_t = Precision::Int8)]
    precision: Precision,
    /// Documents annotated at once, one per thread (default: one per core). The output is
    /// the same for any number.
    #[arg(long, value_name = "N")]
    threads: Option<NonZeroUsize>,
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

/// `--precision`: the arithmetic of the layers.
impl clap::ValueEnum for Precision {
    fn value_variants<'a>() -> &'a [Self] {
        &[Precision::Int8, Precision::F32]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Precision::Int8 => PossibleValue::new("int8").help("8-bit weights and activations"),
            Precision::F32 => PossibleValue::new("f32").help("32-bit floats, as in training"),
        })
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
    let ParseArgs { files, input, output, model, precision, threads } = args;
    let pipeline = super::load_pipeline(model.as_deref(), precision)?;
    let threads = match threads {
        Some(threads) => threads,
        None => std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
    };
    let sources = Source::all(&files);
    let progress = progress_bar(&sources)?;
    let stdout = io::stdout().lock();
    let mut writer = DocWriter::new(BufWriter::new(stdout), output, JsonLayout::PrettyArray);
    let annotator = Annotator { pipeline: &pipeline, mode, renderer: writer.renderer() };
    let read = |each: &mut dyn FnMut(Task) -> anyhow::Result<()>| {
        for source in &sources {
            let name: Arc<str> = source.name().into();
            let reader = source.open(&progress)?;
            read_tasks(reader, input, &name, each).with_context(|| name.clone())?;
        }
        Ok(())
    };
    if threads.get() == 1 {
        read(&mut |task| Ok(writer.write_rendered(&annotator.render(&task)?)?))?;
    } else {
        annotator.run_parallel(threads, read, &mut writer)?;
    }
    writer.finish()?;
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

/// One document read from an input, not yet annotated.
struct Task {
    document: Document,
    /// The input it comes from.
    source: Arc<str>,
    /// Its line in the input, when the input has a document per line.
    line: Option<usize>,
}

/// A document as its input format gives it.
enum Document {
    Text(String),
    Conllu(ConlluDocument),
    Iob2(Iob2Document),
}

/// Calls `each` on every document of one input, in order.
fn read_tasks(
    mut input: Box<dyn BufRead>,
    format: InputFormat,
    source: &Arc<str>,
    each: &mut dyn FnMut(Task) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let task = |document, line| Task { document, source: Arc::clone(source), line };
    match format {
        InputFormat::Text => {
            let mut text = String::new();
            input.read_to_string(&mut text).context("cannot read input")?;
            each(task(Document::Text(text), None))
        }
        InputFormat::Lines => for_each_line(input, |number, line| {
            each(task(Document::Text(line.to_owned()), Some(number)))
        }),
        InputFormat::Jsonl => for_each_line(input, |number, line| {
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
            each(task(Document::Text(record.text.into_owned()), Some(number)))
        }),
        InputFormat::Conllu => {
            for document in ConlluReader::new(input).documents() {
                each(task(Document::Conllu(document?), None))?;
            }
            Ok(())
        }
        InputFormat::Iob2 => {
            for document in Iob2Reader::new(input).documents() {
                each(task(Document::Iob2(document?), None))?;
            }
            Ok(())
        }
    }
}

/// Annotates documents and renders them for the writer: the pipeline, what it runs, and
/// the output format. It is shared by the worker threads.
struct Annotator<'p> {
    pipeline: &'p Pipeline,
    mode: Mode,
    renderer: DocRenderer,
}

impl Annotator<'_> {
    /// Annotates one document, inside a memory zone of its own, and renders it.
    fn render(&self, task: &Task) -> anyhow::Result<RenderedDoc> {
        let zone = self.pipeline.vocab().zone();
        let new_document = SentenceMeta::new_document();
        let rendered = match &task.document {
            Document::Text(text) => {
                let doc = self.pipeline.tokenizer().tokenize(&zone, text);
                self.annotate_and_render(doc, [&new_document])
            }
            Document::Conllu(document) => {
                self.annotate_and_render(document.to_doc(&zone, Keep::Words), document.metas())
            }
            Document::Iob2(document) => {
                self.annotate_and_render(document.to_doc(&zone, Keep::Words), document.metas())
            }
        };
        rendered.with_context(|| match task.line {
            Some(line) => format!("{}: line {line}", task.source),
            None => task.source.to_string(),
        })
    }

    /// Annotates `doc` (unless only tokenizing) and renders it.
    fn annotate_and_render<'m>(
        &self,
        mut doc: Doc<'_>,
        metas: impl IntoIterator<Item = &'m SentenceMeta>,
    ) -> anyhow::Result<RenderedDoc> {
        if let Mode::Full = self.mode {
            self.pipeline.annotate(&mut doc, None)?;
        }
        Ok(self.renderer.render(&doc, metas)?)
    }

    /// Annotates the documents `read` gives on `threads` worker threads while this thread
    /// writes them in input order. At most [`IN_FLIGHT_PER_THREAD`] documents per thread
    /// are read ahead of the writer, so memory stays bounded whatever one document costs.
    fn run_parallel<R, W>(
        &self,
        threads: NonZeroUsize,
        read: R,
        writer: &mut DocWriter<W>,
    ) -> anyhow::Result<()>
    where
        R: FnOnce(&mut dyn FnMut(Task) -> anyhow::Result<()>) -> anyhow::Result<()> + Send,
        W: Write,
    {
        let window = IN_FLIGHT_PER_THREAD * threads.get();
        let (task_tx, task_rx) = mpsc::sync_channel::<(usize, Task)>(window);
        let task_rx = Mutex::new(task_rx);
        let (done_tx, done_rx) = mpsc::sync_channel(window);
        // A ticket per document between reading and writing: the reader takes one for each
        // document, the writer gives it back once the document is written.
        let (ticket_tx, ticket_rx) = mpsc::sync_channel::<()>(window);
        for _ in 0..window {
            ticket_tx.send(()).expect("the ticket channel has room. This is a bug.");
        }
        std::thread::scope(|scope| {
            for _ in 0..threads.get() {
                let (task_rx, done_tx) = (&task_rx, done_tx.clone());
                scope.spawn(move || {
                    loop {
                        // The lock is released as soon as a task is taken.
                        let Ok((index, task)) = task_rx.lock().recv() else { break };
                        if done_tx.send((index, self.render(&task))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let reader = scope.spawn(move || {
                let mut index = 0;
                read(&mut |task| {
                    // No ticket: the writer stopped, and reports why.
                    ticket_rx.recv().map_err(|_| anyhow::anyhow!("the writer stopped"))?;
                    task_tx
                        .send((index, task))
                        .map_err(|_| anyhow::anyhow!("the workers stopped"))?;
                    index += 1;
                    Ok(())
                })
            });
            let written = write_in_order(done_rx, writer, &ticket_tx);
            // Stop the reader if the writer failed (no more tickets), then join it.
            drop(ticket_tx);
            let read = reader.join().expect("the reader does not panic. This is a bug.");
            written.and(read)
        })
    }
}

/// Documents read ahead of the writer, per worker thread: enough that no worker waits for
/// a long document ahead of it while others idle, few enough to bound memory.
const IN_FLIGHT_PER_THREAD: usize = 4;

/// Writes the documents the workers send, numbered in input order, as their turn comes,
/// and gives a ticket back for each.
fn write_in_order<W: Write>(
    done: mpsc::Receiver<(usize, anyhow::Result<RenderedDoc>)>,
    writer: &mut DocWriter<W>,
    tickets: &mpsc::SyncSender<()>,
) -> anyhow::Result<()> {
    let mut pending = BTreeMap::new();
    let mut next = 0;
    for (index, rendered) in done {
        pending.insert(index, rendered);
        while let Some(rendered) = pending.remove(&next) {
            writer.write_rendered(&rendered?)?;
            next += 1;
            // The reader may have finished: a ticket nobody takes is fine.
            let _ = tickets.try_send(());
        }
    }
    Ok(())
}

/// Calls `f` on each line (without its line ending) with its number, naming the line in
/// any error.
fn for_each_line(
    mut input: impl BufRead,
    mut f: impl FnMut(usize, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut line = String::new();
    for number in 1.. {
        line.clear();
        let read = input.read_line(&mut line).with_context(|| format!("line {number}"))?;
        if read == 0 {
            break;
        }
        f(number, line.trim_end_matches(['\n', '\r'])).with_context(|| format!("line {number}"))?;
    }
    Ok(())
}
