//! The transformer component's throughput, single-threaded, in word pieces per second:
//! all-MiniLM-L6-v2 (6 layers, width 384) read from the directory scripts/fetch-encoder.sh
//! fills ($NLPD_ENCODER_DIR, else ~/.cache/nlpd/all-minilm-l6-v2), in full precision.
//!
//! `one_window` encodes a paragraph of about a hundred pieces (one window); `four_windows`
//! the paragraph four times over as one document (windows of 126 pieces sharing 32). Both
//! include the WordPiece step and the per-token features, as a request pays them.
//!
//! The `fine_tuning` group times the encoder's training passes on a batch of 8 windows of
//! 128 pieces (`[CLS]`, 126 pieces of the paragraph, `[SEP]`), as fine-tuning feeds it:
//! `forward` (the training forward pass, keeping its tape), `forward_backward` (plus the
//! backward pass into every parameter) and `step` (plus an Adam update of all 22.7 M
//! parameters).
//!
//! Times are the benchmark thread's CPU time where Linux reports it
//! (`/proc/thread-self/schedstat`), wall-clock time elsewhere: the 2-core development
//! machine is shared with other builds and training runs, and CPU time is what a training
//! budget spends. Everything is skipped, with a note, when the encoder has not been
//! fetched.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use nlpd::pipeline::transformer::{
    Dropout, EncoderTrainer, PieceId, PieceScratch, TRF_PIECES, Transformer, WordPiece,
};
use nlpd::pipeline::{AdamConfig, Pipeline};
use nlpd::tokenizer::Tokenizer;
use nlpd::vocab::Vocab;

const PARAGRAPH: &str = "The committee met on Tuesday in Boston to review the budget. \
    Maria Lopez, who chairs it, said the city's schools would get $4.5 million more next \
    year, but she doesn't expect the council to approve it before March. \"We'll see,\" she \
    added, before the meeting turned to the new library's opening hours and the repairs \
    planned for the harbour bridge.";

fn encoder_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NLPD_ENCODER_DIR").map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nlpd/all-minilm-l6-v2"))
    })?;
    dir.join("model.safetensors").is_file().then_some(dir)
}

/// The CPU time the calling thread has run (Linux), or `None`.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(stat.split_whitespace().next()?.parse().ok()?))
}

/// Times `routine` by the thread's CPU time (see the module docs), wall-clock time where
/// that is unavailable.
fn cpu_timed(b: &mut Bencher<'_>, mut routine: impl FnMut()) {
    b.iter_custom(|iters| {
        let (cpu, wall) = (thread_cpu_time(), Instant::now());
        for _ in 0..iters {
            routine();
        }
        match (cpu, thread_cpu_time()) {
            (Some(start), Some(end)) => end - start,
            _ => wall.elapsed(),
        }
    })
}

fn transformer(c: &mut Criterion) {
    let Some(dir) = encoder_dir() else {
        eprintln!("skipping: no encoder fetched (scripts/fetch-encoder.sh)");
        return;
    };
    let model = Transformer::from_dir(&dir).expect("the fetched encoder loads");
    let nlp = Pipeline::new(Vocab::new(), Tokenizer::english(), vec![Box::new(model)]);
    let mut group = c.benchmark_group("transformer");
    group.sample_size(10);
    for (name, repeat) in [("one_window", 1), ("four_windows", 4)] {
        let text = vec![PARAGRAPH; repeat].join(" ");
        let pieces = {
            let zone = nlp.vocab().zone();
            let doc = nlp.process(&zone, &text).expect("the transformer runs");
            doc.user_data()[TRF_PIECES].rows()
        };
        group.throughput(Throughput::Elements(pieces as u64));
        group.bench_function(name, |b| {
            cpu_timed(b, || {
                let zone = nlp.vocab().zone();
                nlp.process(&zone, &text).expect("the transformer runs");
            })
        });
    }
    group.finish();
}

/// Windows per fine-tuning batch and pieces per window, `[CLS]` and `[SEP]` included.
const WINDOWS: usize = 8;
const WINDOW: usize = 128;

fn fine_tuning(c: &mut Criterion) {
    let Some(dir) = encoder_dir() else {
        eprintln!("skipping: no encoder fetched (scripts/fetch-encoder.sh)");
        return;
    };
    let mut model = Transformer::from_dir(&dir).expect("the fetched encoder loads");
    let json = std::fs::read_to_string(dir.join("tokenizer.json")).expect("tokenizer.json");
    let wordpiece = WordPiece::from_tokenizer_json(&json).expect("the tokenizer loads");
    let mut pieces = Vec::new();
    while pieces.len() < WINDOW - 2 {
        wordpiece.encode(PARAGRAPH, &mut PieceScratch::default(), &mut pieces);
    }
    let window: Vec<PieceId> =
        [&[wordpiece.cls()], &pieces[..WINDOW - 2], &[wordpiece.sep()]].concat();
    let ids = window.repeat(WINDOWS);
    let lens = [WINDOW; WINDOWS];
    let dropout = Dropout { hidden: 0.1, attention: 0.1 };
    let mut trainer = EncoderTrainer::new(&model, AdamConfig::default(), dropout, 1, false);
    let (mut hidden, mut d) = (Vec::new(), Vec::new());
    // Any fixed gradient does: the passes' cost does not depend on its values.
    let gradient = |hidden: &[f32], d: &mut Vec<f32>| {
        d.clear();
        d.extend(hidden.iter().map(|h| h * 1e-3));
    };
    let mut group = c.benchmark_group("fine_tuning");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ids.len() as u64));
    group.bench_function("forward", |b| {
        cpu_timed(b, || trainer.forward(&model, &ids, &lens, &mut hidden))
    });
    group.bench_function("forward_backward", |b| {
        cpu_timed(b, || {
            trainer.forward(&model, &ids, &lens, &mut hidden);
            gradient(&hidden, &mut d);
            trainer.backward(&model, &mut d);
        })
    });
    group.bench_function("step", |b| {
        cpu_timed(b, || {
            trainer.forward(&model, &ids, &lens, &mut hidden);
            gradient(&hidden, &mut d);
            trainer.backward(&model, &mut d);
            trainer.update(&mut model, 1e-3);
        })
    });
    group.finish();
}

criterion_group!(benches, transformer, fine_tuning);
criterion_main!(benches);
