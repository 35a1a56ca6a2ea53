//! Fuzzes the tokenizer: any UTF-8 text must tokenize without panicking, every token must
//! be non-empty and in order, and the tokens with their trailing spaces must give back the
//! text exactly.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nlpd::tokenizer::Tokenizer;
use nlpd::vocab::Vocab;

static TOKENIZER: LazyLock<Tokenizer> = LazyLock::new(Tokenizer::english);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let vocab = Vocab::new();
    let zone = vocab.zone();
    let doc = TOKENIZER.tokenize(&zone, text);
    let mut rebuilt = String::with_capacity(text.len());
    for token in doc.iter() {
        assert!(!token.text().is_empty(), "empty token in {text:?}");
        assert_eq!(token.span().byte_start, rebuilt.len(), "gap or overlap in {text:?}");
        rebuilt.push_str(token.text());
        rebuilt.push_str(token.whitespace());
    }
    assert_eq!(rebuilt, text);
});
