//! Memory-zone costs: opening and closing a zone, and interning lexemes into it.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nlpd::vocab::Vocab;

fn permanent_vocab() -> Vocab {
    let mut vocab = Vocab::new();
    for i in 0..10_000 {
        vocab.add(&format!("word{i}"));
    }
    vocab
}

fn zones(c: &mut Criterion) {
    let vocab = permanent_vocab();
    let fresh: Vec<String> = (0..100).map(|i| format!("novel{i}x")).collect();
    let known: Vec<String> = (0..100).map(|i| format!("word{i}")).collect();

    let mut group = c.benchmark_group("zone");
    group.bench_function("open_close", |b| b.iter(|| drop(vocab.zone())));
    group.throughput(Throughput::Elements(100));
    group.bench_function("lookup_100_permanent", |b| {
        b.iter(|| {
            let zone = vocab.zone();
            known.iter().map(|w| zone.lexeme(w).flags.bits()).sum::<u32>()
        })
    });
    group.bench_function("intern_100_transient", |b| {
        b.iter(|| {
            let zone = vocab.zone();
            fresh.iter().map(|w| zone.lexeme(w).flags.bits()).sum::<u32>()
        })
    });
    group.finish();
}

criterion_group!(benches, zones);
criterion_main!(benches);
