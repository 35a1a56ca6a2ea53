//! The zone invariant over HTTP, observed through `/metrics`: after requests end — normally, by
//! panic, by timeout or because the client went away — the vocabulary gauges are back at
//! their start values.

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::common::{
    PANIC_MARKER, TestServer, WAIT_MARKER, eventually, hooked_pipeline, served_vocab, settings,
    vocab_returns_to,
};

/// Never-seen words: unique per (client, request, position).
fn fresh_text(client: usize, request: usize) -> String {
    let words: Vec<String> =
        (0..12).map(|word| format!("zq{client}x{request}w{word}blorf")).collect();
    format!("the cat sat on {} .", words.join(" "))
}

#[tokio::test]
async fn vocabulary_returns_to_baseline_after_5000_requests_of_new_words() {
    const CLIENTS: usize = 16;
    const PER_CLIENT: usize = 5000 / CLIENTS + 1;
    let (pipeline, _gate) = hooked_pipeline();
    let server = TestServer::with(pipeline, settings(|_| {})).await;
    let start = server.metrics().await;
    let baseline = start.vocab_gauges();
    let permanent = served_vocab().generation();
    assert!(permanent > 19_000, "the shipped vocabulary is served: {permanent}");
    assert_eq!(baseline[0], Some(permanent as f64), "permanent lexemes");
    assert!(baseline.iter().skip(1).all(Option::is_some), "{baseline:?}");
    let histogram = |m: &crate::common::Metrics, part: &str| {
        m.value(&format!("nlpd_zone_transient_lexemes_{part}"), &[])
    };
    let clients = (0..CLIENTS).map(|client| {
        let (http, url) = (server.client.clone(), server.url("/parse"));
        tokio::spawn(async move {
            for request in 0..PER_CLIENT {
                let text = fresh_text(client, request);
                let response =
                    http.post(&url).json(&json!({"text": text})).send().await.expect("sent");
                assert_eq!(response.status(), 200);
                let doc: Value = response.json().await.expect("json");
                assert_eq!(doc["tokens"].as_array().map(Vec::len), Some(17));
            }
        })
    });
    for client in clients.collect::<Vec<_>>() {
        client.await.expect("client succeeded");
    }
    let end = server.metrics().await;
    assert_eq!(end.vocab_gauges(), baseline, "vocabulary gauges after the run");
    // Every request went through a zone holding its 12 new words (other tests may add more).
    let requests = (CLIENTS * PER_CLIENT) as f64;
    assert!(histogram(&end, "count") - histogram(&start, "count") >= requests);
    assert!(histogram(&end, "sum") - histogram(&start, "sum") >= 12.0 * requests);
}

#[tokio::test]
async fn rejected_requests_leave_no_trace_in_the_vocabulary() {
    let (pipeline, _gate) = hooked_pipeline();
    let server = TestServer::with(pipeline, settings(|_| {})).await;
    let baseline = server.metrics().await.vocab_gauges();
    let bodies = [
        ("application/json", r#"{"text": "unfinished glorptastic"#.to_owned()),
        ("text/plain", r#"{"text": "wrongtype glorptastic"}"#.to_owned()),
        ("application/json", r#"{"text": ""}"#.to_owned()),
        ("application/json", r#"{"text": "glorptastic", "components": ["nope"]}"#.to_owned()),
        ("application/json", json!({"text": "z".repeat(3 << 20)}).to_string()),
    ];
    for (content_type, body) in bodies {
        let response = server
            .client
            .post(server.url("/parse"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("sent");
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    vocab_returns_to(&server, &baseline).await;
}

#[tokio::test]
async fn panic_inside_the_zone_answers_500_and_rolls_back() {
    let (pipeline, _gate) = hooked_pipeline();
    let server = TestServer::with(pipeline, settings(|_| {})).await;
    let baseline = server.metrics().await.vocab_gauges();
    for _ in 0..3 {
        let text = format!("frobnicated wuggles {PANIC_MARKER}");
        let response = server.parse(&json!({"text": text})).await;
        assert_eq!(response.status(), 500);
        let body: Value = response.json().await.expect("json");
        insta::assert_json_snapshot!("panic", body);
    }
    // Rolled back, and the server still serves.
    vocab_returns_to(&server, &baseline).await;
    assert_eq!(server.parse(&json!({"text": "still alive"})).await.status(), 200);
}

#[tokio::test]
async fn zone_rolls_back_when_client_disconnects_during_processing() {
    let (pipeline, gate) = hooked_pipeline();
    let server = TestServer::with(pipeline, settings(|_| {})).await;
    let baseline = server.metrics().await.vocab_gauges();
    let aborted = || async {
        let labels = [("method", "POST"), ("route", "/parse"), ("status", "aborted")];
        server.metrics().await.value("nlpd_http_requests_total", &labels)
    };
    let aborted_before = aborted().await;
    let body = json!({"text": format!("grumbleworts {WAIT_MARKER} snorkelfish")}).to_string();
    let mut stream = server.connect().await;
    let head = format!(
        "POST /parse HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(format!("{head}{body}").as_bytes()).await.expect("write");
    gate.wait_for_arrivals(1).await;
    let during = server.metrics().await;
    assert_eq!(during.value("nlpd_vocab_active_zones", &[]), 1.0);
    assert!(during.value("nlpd_vocab_lexemes", &[("kind", "transient")]) >= 2.0);
    drop(stream);
    // The server notices the closed connection and drops the request future.
    eventually("the abandoned request is counted", || async { aborted().await > aborted_before })
        .await;
    gate.open();
    vocab_returns_to(&server, &baseline).await;
}

#[tokio::test]
async fn a_stalled_upload_opens_no_zone_and_leaves_nothing_behind() {
    let server = TestServer::start().await;
    let baseline = server.metrics().await.vocab_gauges();
    let mut stream = server.connect().await;
    // Promise 1000 bytes, send 20: the body is read whole before a zone (or a worker slot)
    // is taken, so the stalled request holds neither.
    stream
        .write_all(
            b"POST /parse HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
              content-length: 1000\r\n\r\n{\"text\": \"partial bo",
        )
        .await
        .expect("write");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(server.metrics().await.value("nlpd_vocab_active_zones", &[]), 0.0);
    drop(stream);
    vocab_returns_to(&server, &baseline).await;
}
