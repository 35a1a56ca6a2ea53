//! The shipped vocabulary, end to end: a server knows the model's training words
//! permanently, a request holds only the words it has never seen as transient lexemes, and
//! serving never grows the permanent part.

use serde_json::{Value, json};

use crate::common::{
    TestServer, WAIT_MARKER, hooked_pipeline, served_vocab, settings, vocab_returns_to,
};

#[tokio::test]
async fn a_request_holds_only_its_unseen_words_as_transient_lexemes() {
    let (pipeline, gate) = hooked_pipeline();
    let server = TestServer::with(pipeline, settings(|_| {})).await;
    let generation = served_vocab().generation();
    let ready = server.client.get(server.url("/readyz")).send().await.expect("sent");
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["generation"], generation, "{ready}");
    let baseline = server.metrics().await.vocab_gauges();
    let permanent_strings = baseline[2];
    // The marker splits into "WAIT", "-", "AT", "-", "GATE". Every word of the text is in
    // EWT train but "GATE", "zorbify" and "glorptastic" (and the lowercase "gate").
    let text = format!("The company said {WAIT_MARKER} it would zorbify the glorptastic plan.");
    let request = tokio::spawn({
        let (client, url) = (server.client.clone(), server.url("/parse"));
        async move { client.post(url).json(&json!({ "text": text })).send().await }
    });
    gate.wait_for_arrivals(1).await;
    let during = server.metrics().await;
    let lexemes = |kind| during.value("nlpd_vocab_lexemes", &[("kind", kind)]);
    assert_eq!(lexemes("transient"), 3.0, "GATE, zorbify, glorptastic");
    assert_eq!(lexemes("permanent"), generation as f64);
    assert_eq!(during.vocab_gauges()[2], permanent_strings, "permanent strings unchanged");
    gate.open();
    let response = request.await.expect("join").expect("sent");
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("json");
    assert_eq!(doc["tokens"].as_array().map(Vec::len), Some(15), "{doc}");
    vocab_returns_to(&server, &baseline).await;
}
