//! Tokenizer throughput on the raw text of UD English EWT train (one document per
//! sentence, as short requests would come), or on a built-in sample when the corpus is
//! missing.
//!
//! Two settings:
//! - `permanent_vocab`: every word of the text is already a permanent lexeme, as when a
//!   model is loaded; each document gets its own zone, as each request does.
//! - `shipped_vocab`: the vocabulary the default model loads (the word forms of EWT train
//!   as its gold tokenization has them), as a server has it.
//! - `empty_vocab`: nothing is permanent, so every word becomes a transient lexeme in the
//!   document's zone (the worst case).
//!
//! Throughput is in bytes; the number of words (non-space tokens) is printed once so that
//! words per second can be worked out from it:
//! `words/s = words × (throughput in bytes/s) ÷ bytes`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput};
use nlpd::pipeline::model_io::{DEFAULT_MODEL, load_vocab};
use nlpd::tokenizer::Tokenizer;
use nlpd::vocab::{LexFlags, Vocab};

/// The corpus, relative to the crate root.
const EWT_TRAIN: &str = "../shared/data/ud-english-ewt/en_ewt-ud-train.conllu";

/// Used when the corpus is missing: a few paragraphs in the styles EWT mixes.
const SAMPLE: &str = "\
Hi Jane, I don't think we've got the numbers for Q3 yet. Can you send them to \
bob.smith@example.com by 5pm? Thanks!!
The U.S. Dept. of Energy said on Sept. 5 that it's reviewing the $2.5bn plan (see \
http://www.example.org/plans/2024.html) -- a well-known, long-delayed project.
I'm gonna be honest: the pizza was great, but the service wasn't... 3/5 stars :)
\"We can't,\" she said. \"Not before the 11/28/2000 deadline, anyway.\"
Call me at 713-853-3989 or e-mail me; I'll be in Ft. Worth 'til Mon. #travel @jane
";

fn corpus() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(EWT_TRAIN);
    match std::fs::read_to_string(&path) {
        Ok(conllu) => conllu
            .lines()
            .filter_map(|line| line.strip_prefix("# text = "))
            .map(str::to_owned)
            .collect(),
        Err(error) => {
            eprintln!("{}: {error}; benchmarking the built-in sample", path.display());
            SAMPLE.lines().cycle().take(1000).map(str::to_owned).collect()
        }
    }
}

fn tokenize_all(tokenizer: &Tokenizer, vocab: &Vocab, texts: &[String]) -> usize {
    let mut tokens = 0;
    for text in texts {
        let zone = vocab.zone();
        tokens += tokenizer.tokenize(&zone, text).len();
    }
    tokens
}

fn bench(c: &mut Criterion) {
    let texts = corpus();
    let tokenizer = Tokenizer::english();
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut permanent = Vocab::new();
    let mut words = 0;
    {
        let scratch = Vocab::new();
        for text in &texts {
            let zone = scratch.zone();
            let doc = tokenizer.tokenize(&zone, text);
            for token in doc.iter().filter(|t| !t.lex().is(LexFlags::IS_SPACE)) {
                permanent.add(token.text());
                words += 1;
            }
        }
    }
    eprintln!("tokenizer bench: {} documents, {bytes} bytes, {words} words", texts.len());

    let mut group = c.benchmark_group("tokenizer");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function("permanent_vocab", |b| {
        b.iter(|| black_box(tokenize_all(&tokenizer, &permanent, &texts)));
    });
    let shipped = load_vocab(DEFAULT_MODEL).expect("the default model loads");
    group.bench_function("shipped_vocab", |b| {
        b.iter(|| black_box(tokenize_all(&tokenizer, &shipped, &texts)));
    });
    let empty = Vocab::new();
    group.bench_function("empty_vocab", |b| {
        b.iter(|| black_box(tokenize_all(&tokenizer, &empty, &texts)));
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}
