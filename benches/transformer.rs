//! The transformer component's throughput, single-threaded, in word pieces per second:
//! all-MiniLM-L6-v2 (6 layers, width 384) read from the directory scripts/fetch-encoder.sh
//! fills ($NLPD_ENCODER_DIR, else ~/.cache/nlpd/all-minilm-l6-v2), in full precision.
//!
//! `one_window` encodes a paragraph of about a hundred pieces (one window); `four_windows`
//! the paragraph four times over as one document (windows of 126 pieces sharing 32). Both
//! include the WordPiece step and the per-token features, as a request pays them. Skipped,
//! with a note, when the encoder has not been fetched.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlpd::pipeline::Pipeline;
use nlpd::pipeline::transformer::{TRF_PIECES, Transformer};
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
            b.iter(|| {
                let zone = nlp.vocab().zone();
                nlp.process(&zone, &text).expect("the transformer runs").len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, transformer);
criterion_main!(benches);
