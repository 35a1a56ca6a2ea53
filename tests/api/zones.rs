//! The memory-zone invariant: after any sequence of zones ends (normally, by panic, or
//! because the future holding one was dropped), the vocabulary is exactly back to its
//! baseline: same permanent digest, no transient entries, no open zones.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use nlpd::vocab::{LexFlags, StringKey, Vocab, VocabStats, Zone};
use proptest::prelude::*;

/// A vocabulary with a few permanent words, and its baseline.
fn seeded_vocab() -> (Vocab, VocabStats, u64) {
    let mut vocab = Vocab::new();
    for word in ["the", "cat", "sat", "on", "mat", "."] {
        vocab.add(word);
    }
    vocab.intern("NOUN");
    let (stats, digest) = (vocab.stats(), vocab.digest());
    (vocab, stats, digest)
}

fn assert_at_baseline(vocab: &Vocab, stats: VocabStats, digest: u64) {
    assert_eq!(vocab.stats(), stats, "counters are back at baseline");
    assert_eq!(vocab.digest(), digest, "permanent part is unchanged");
    assert_eq!(vocab.stats().active_zones, 0);
}

/// Interns `word` and checks the zone resolves it to itself.
fn intern_and_check(zone: &Zone<'_>, word: &str) {
    let lexeme = zone.lexeme(word);
    assert!(lexeme.is(LexFlags::IS_OOV), "{word} is transient");
    assert_eq!(zone.string(lexeme.orth), Some(word));
    assert_eq!(zone.find_lexeme(StringKey::of(word)).map(|l| l.orth), Some(lexeme.orth));
}

#[test]
fn eight_threads_of_ten_thousand_zones_return_to_baseline() {
    let (vocab, stats, digest) = seeded_vocab();
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let vocab = &vocab;
            scope.spawn(move || {
                for round in 0..10_000 {
                    let zone = vocab.zone();
                    let words: Vec<String> =
                        (0..3).map(|k| format!("w{thread}x{round}y{k}zz")).collect();
                    for word in &words {
                        intern_and_check(&zone, word);
                    }
                    // Permanent words are shared, never copied into the overlay.
                    assert!(!zone.lexeme("cat").is(LexFlags::IS_OOV));
                    assert_eq!(zone.transient_lexemes(), words.len());
                    // No other zone's words are visible here.
                    let foreign = format!("w{}x{round}y0zz", (thread + 1) % 8);
                    assert!(zone.find_lexeme(StringKey::of(&foreign)).is_none());
                }
            });
        }
    });
    assert_at_baseline(&vocab, stats, digest);
}

#[test]
fn zone_rolls_back_when_a_panic_unwinds_through_it() {
    let (vocab, stats, digest) = seeded_vocab();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let zone = vocab.zone();
        intern_and_check(&zone, "panicky");
        let inner = zone.child();
        intern_and_check(&inner, "deeper");
        panic!("component bug");
    }));
    assert!(result.is_err());
    assert_at_baseline(&vocab, stats, digest);
}

/// A future that opens a zone, interns a word, then waits forever at an await point.
struct HalfDone<'v> {
    vocab: &'v Vocab,
    zone: Option<Zone<'static>>,
}

impl Future for HalfDone<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let zone = self.vocab.zone();
        intern_and_check(&zone, "halfway");
        self.zone = Some(zone);
        Poll::Pending
    }
}

#[test]
fn zone_rolls_back_when_its_future_is_dropped_half_way() {
    let (vocab, stats, digest) = seeded_vocab();
    let mut future = Box::pin(HalfDone { vocab: &vocab, zone: None });
    let poll = future.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_pending());
    assert_eq!(vocab.stats().transient_lexemes, 1);
    assert_eq!(vocab.stats().active_zones, 1);
    drop(future);
    assert_at_baseline(&vocab, stats, digest);
}

#[test]
fn zone_moved_to_another_thread_rolls_back_there() {
    let (vocab, stats, digest) = seeded_vocab();
    let zone = vocab.zone();
    intern_and_check(&zone, "travelling");
    std::thread::spawn(move || intern_and_check(&zone, "arrived")).join().unwrap();
    assert_at_baseline(&vocab, stats, digest);
}

/// One step of a random zone session.
#[derive(Clone, Debug)]
enum Op {
    Open,
    Intern(String),
    Close,
    Panic,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Open),
        5 => "[a-z]{1,6}|the|cat|[\\PC]{1,4}".prop_map(Op::Intern),
        2 => Just(Op::Close),
        1 => Just(Op::Panic),
    ]
}

/// Runs `ops` inside `zone`, opening nested zones recursively; returns at `Close` or when
/// the ops run out. Every word interned in this zone or an enclosing one must stay visible.
fn run(zone: &Zone<'_>, ops: &mut std::slice::Iter<'_, Op>, seen: &mut Vec<String>) {
    let depth_start = seen.len();
    while let Some(op) = ops.next() {
        match op {
            Op::Open => run(&zone.child(), ops, seen),
            Op::Intern(word) => {
                zone.lexeme(word);
                seen.push(word.clone());
            }
            Op::Close => break,
            Op::Panic => {
                let result = catch_unwind(AssertUnwindSafe(|| {
                    let doomed = zone.child();
                    doomed.lexeme("doomed-word");
                    panic!("injected");
                }));
                assert!(result.is_err());
            }
        }
        for word in seen.iter() {
            assert_eq!(zone.string(StringKey::of(word)), Some(word.as_str()));
        }
    }
    seen.truncate(depth_start);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_zone_sequences_return_to_baseline(ops in prop::collection::vec(op(), 0..60)) {
        let (vocab, stats, digest) = seeded_vocab();
        let mut ops = ops.iter();
        while ops.len() > 0 {
            run(&vocab.zone(), &mut ops, &mut Vec::new());
            prop_assert_eq!(vocab.stats(), stats);
        }
        prop_assert_eq!(vocab.digest(), digest);
    }
}
