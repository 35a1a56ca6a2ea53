//! Full-pipeline throughput (tokenizer, tok2vec, tagger, morphologizer, lemmatizer, parser,
//! ner, doc_cleaner) with the embedded English model, single-threaded, in words per second:
//! `en_ewt_full` computes in 8-bit integers (the default), `en_ewt_full_f32` in f32, side by
//! side in one run. `tok2vec_only` and `tok2vec_only_f32` run the tokenizer and the shared
//! encoder alone (embeddings, then the maxout layers that are nearly all of its time): the
//! matrix kernels with little else around them.
//!
//! The input is the first paragraphs of the EWT training text when ../shared/data is
//! present (one paragraph per document, as in the raw-text evaluation), else a paragraph
//! written for this benchmark, repeated. `service_paragraph` times one `/parse` request's
//! paragraph on its own.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlpd::pipeline::model_io::DEFAULT_MODEL;
use nlpd::pipeline::{Pipeline, Precision};
use nlpd::train::corpus::Corpus;

const FALLBACK: &str = "The committee met on Tuesday in Boston to review the budget. \
    Maria Lopez, who chairs it, said the city's schools would get $4.5 million more next \
    year, but she doesn't expect the council to approve it before March. \"We'll see,\" she \
    added.";

/// About 10,000 words of paragraphs.
fn paragraphs() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/ud-english-ewt/en_ewt-ud-train.conllu");
    let mut out = Vec::new();
    if let Ok(corpus) = Corpus::read(&path) {
        for paragraph in &corpus.paragraphs {
            let texts: Vec<&str> =
                paragraph.sentences.iter().filter_map(|s| s.text.as_deref()).collect();
            out.push(texts.join(" "));
            if out.iter().map(|p| p.split_whitespace().count()).sum::<usize>() >= 10_000 {
                break;
            }
        }
    }
    if out.is_empty() {
        out = vec![FALLBACK.to_owned(); 10_000 / FALLBACK.split_whitespace().count()];
    }
    out
}

fn pipeline(c: &mut Criterion) {
    let nlp = Pipeline::default_english();
    let texts = paragraphs();
    let words: usize = {
        let zone = nlp.vocab().zone();
        texts.iter().map(|t| nlp.tokenizer().tokenize(&zone, t).len()).sum()
    };
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Elements(words as u64));
    let f32 = Pipeline::load_with(DEFAULT_MODEL, Precision::F32).expect("the model loads");
    for (name, nlp) in [("en_ewt_full", &nlp), ("en_ewt_full_f32", &f32)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let zone = nlp.vocab().zone();
                texts
                    .iter()
                    .map(|t| nlp.process(&zone, t).expect("the pipeline runs").len())
                    .sum::<usize>()
            })
        });
    }
    let tok2vec = [nlpd::pipeline::ComponentKind::Tok2Vec.name().to_owned()];
    for (name, nlp) in [("tok2vec_only", &nlp), ("tok2vec_only_f32", &f32)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let zone = nlp.vocab().zone();
                let mut tokens = 0;
                for text in &texts {
                    let mut doc = nlp.tokenizer().tokenize(&zone, text);
                    nlp.annotate(&mut doc, Some(&tok2vec)).expect("tok2vec runs");
                    tokens += doc.len();
                }
                tokens
            })
        });
    }
    // One request's worth of work for the service (the 40-word paragraph of
    // scripts/wrk/paragraph.lua), without HTTP: the service's per-request overhead is the
    // difference to scripts/load.sh's latency at concurrency 1.
    let paragraph = "The committee met on Tuesday morning to review the budget for next year. \
        After a long discussion, they agreed to fund two new libraries, repair the old bridge, \
        and hire more teachers for the growing schools in the northern district.";
    group.throughput(Throughput::Elements(1));
    group.bench_function("service_paragraph", |b| {
        b.iter(|| {
            let zone = nlp.vocab().zone();
            nlp.process(&zone, paragraph).expect("the pipeline runs").len()
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
