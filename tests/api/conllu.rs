//! CoNLL-U reading and writing on the real treebank.

use std::fs::File;
use std::io::BufReader;

use nlpd::doc::conllu::{ConlluReader, ConlluSentence, ConlluWriter, Keep};
use nlpd::vocab::Vocab;

use crate::data::shared_data;

/// Reading EWT test, building annotated Docs and writing them back loses nothing the reader
/// keeps: the re-read sentences equal the originals.
#[test]
fn ewt_test_round_trips_through_docs() {
    let Some(path) = shared_data("ud-english-ewt/en_ewt-ud-test.conllu") else { return };
    let read = |input: &[u8]| -> Vec<ConlluSentence> {
        ConlluReader::new(input).collect::<Result<_, _>>().expect("valid CoNLL-U")
    };
    let original: Vec<ConlluSentence> =
        ConlluReader::new(BufReader::new(File::open(&path).unwrap()))
            .collect::<Result<_, _>>()
            .expect("EWT test is valid CoNLL-U");
    assert_eq!(original.len(), 2077);
    assert_eq!(original.iter().map(|s| s.words.len()).sum::<usize>(), 25094);
    assert_eq!(original.iter().map(|s| s.multiword_tokens.len()).sum::<usize>(), 354);

    let vocab = Vocab::new();
    let mut out = ConlluWriter::new(Vec::new());
    let file = BufReader::new(File::open(&path).unwrap());
    for document in ConlluReader::new(file).documents() {
        let document = document.unwrap();
        let zone = vocab.zone();
        let doc = document.to_doc(&zone, Keep::Annotations);
        out.write_doc(&doc, document.metas()).unwrap();
    }
    assert_eq!(vocab.stats().transient_lexemes, 0, "every zone rolled back");
    let written = read(&out.into_inner());
    assert_eq!(written.len(), original.len());
    for (got, want) in written.iter().zip(&original) {
        assert_eq!(got.meta, want.meta);
        assert_eq!(got.words, want.words, "sentence {:?}", want.meta.sent_id);
        assert_eq!(got.multiword_tokens, want.multiword_tokens);
        // The text comes from the words, with single spaces (EWT has one no-break space).
        let squash = |t: &Option<String>| t.as_deref().map(|t| t.replace('\u{a0}', " "));
        assert_eq!(squash(&got.text), squash(&want.text), "sentence {:?}", want.meta.sent_id);
    }
}
