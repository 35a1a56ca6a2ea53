//! Every error status, in the `{"error": {"code", "message"}}` format, with snapshots.

use std::num::NonZeroUsize;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nlpd::config::Settings;
use nlpd::pipeline::Pipeline;
use nlpd::service::AppState;
use serde_json::{Value, json};

use crate::common::{
    TestServer, WAIT_MARKER, hooked_pipeline, oneshot, post, post_json, settings, vocab_returns_to,
};

/// Asserts that `body` is an error of `code` and returns it as JSON for a snapshot.
fn error_body(body: &[u8], code: &str) -> Value {
    let value: Value = serde_json::from_slice(body).expect("error bodies are JSON");
    assert_eq!(value["error"]["code"], code, "{value}");
    assert!(value["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{value}");
    assert_eq!(value.as_object().map(|o| o.len()), Some(1), "only `error`: {value}");
    value
}

fn state() -> AppState {
    let small_body = settings(|s| s.limits.max_body_bytes = NonZeroUsize::new(4096).expect("4096"));
    AppState::new(Pipeline::tokenizer_only(), small_body)
}

#[tokio::test]
async fn request_errors_are_json_with_the_right_status() {
    let too_many: Vec<String> = (0..65).map(|i| format!("t{i}")).collect();
    let too_long = "x".repeat(100_001);
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "malformed_json",
            post(Some("application/json"), r#"{"text": "#),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "trailing_garbage",
            post(Some("application/json"), r#"{"text": "a"} x"#),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "invalid_utf8",
            post(Some("application/json"), b"{\"text\": \"caf\xe9\"}".to_vec()),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "lone_surrogate",
            post(Some("application/json"), r#"{"text": "\ud800 alone"}"#),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong_content_type",
            post(Some("text/plain"), r#"{"text": "a"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "missing_content_type",
            post(None, r#"{"text": "a"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "body_too_large",
            post_json(&json!({"text": "y".repeat(5000)})),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        ("missing_text", post_json(&json!({})), StatusCode::UNPROCESSABLE_ENTITY, "missing_text"),
        (
            "null_text",
            post_json(&json!({"text": null})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "empty_batch",
            post_json(&json!({"texts": []})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_text",
        ),
        (
            "empty_text",
            post_json(&json!({"text": ""})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_text",
        ),
        (
            "empty_text_in_batch",
            post_json(&json!({"texts": ["a", ""]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_text",
        ),
        (
            "text_and_texts",
            post_json(&json!({"text": "a", "texts": ["b"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "unknown_field",
            post_json(&json!({"txt": "a"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "wrong_type",
            post_json(&json!({"text": 5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "not_an_object",
            post_json(&json!(["a"])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "unknown_output",
            post_json(&json!({"text": "a", "output": "xml"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            "unknown_component",
            post_json(&json!({"text": "a", "components": ["tagger"]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_component",
        ),
        (
            "not_found",
            Request::get("/nope?secret=1").body(Body::empty()).expect("req"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "method_not_allowed",
            Request::get("/parse").body(Body::empty()).expect("req"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "method_not_allowed_health",
            Request::delete("/healthz").body(Body::empty()).expect("req"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (name, request, status, code) in cases {
        let (got, content_type, body) = oneshot(state(), request).await;
        assert_eq!(got, status, "{name}: {}", String::from_utf8_lossy(&body));
        assert_eq!(content_type, "application/json", "{name}");
        insta::assert_json_snapshot!(name, error_body(&body, code));
    }
    // These two need the default limits (64 texts, 100,000 characters).
    let defaults = || AppState::new(Pipeline::tokenizer_only(), Settings::default());
    let limits = [
        ("too_many_texts", json!({"texts": too_many}), "too_many_texts"),
        ("text_too_long", json!({"texts": ["ok", too_long]}), "text_too_long"),
    ];
    for (name, body, code) in limits {
        let (status, _, body) = oneshot(defaults(), post_json(&body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        insta::assert_json_snapshot!(name, error_body(&body, code));
    }
}

#[tokio::test]
async fn only_unparsable_json_is_400_a_value_of_the_wrong_type_is_422() {
    let wrong_types = [
        json!({"text": "a", "output": null}),
        json!({"text": "a", "output": 5}),
        json!({"text": "a", "output": []}),
        json!({"text": "a", "output": {}}),
        json!({"text": "a", "output": {"conllu": null}}),
        json!({"text": null}),
        json!({"texts": "a"}),
        json!({"texts": [null]}),
        json!({"text": "a", "components": "tagger"}),
        json!({"text": "a", "components": [null]}),
        json!(null),
        json!("text"),
    ];
    for body in wrong_types {
        let (status, _, answer) = oneshot(state(), post_json(&body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        error_body(&answer, "invalid_field");
    }
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_413() {
    let small = settings(|s| s.limits.max_body_bytes = NonZeroUsize::new(4096).expect("4096"));
    let server = TestServer::with(Pipeline::tokenizer_only(), small).await;
    let chunk = format!("3e8\r\n{}\r\n", " ".repeat(1000));
    let request = format!(
        "POST /parse HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n{}0\r\n\r\n",
        chunk.repeat(10)
    );
    let response = raw_exchange(&server, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    let body = response.split_once("\r\n\r\n").expect("head and body").1;
    error_body(body.as_bytes(), "payload_too_large");
}

/// Writes `request` on a fresh connection and reads until the server closes it.
async fn raw_exchange(server: &TestServer, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = server.connect().await;
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8(response).expect("utf-8 response")
}

#[tokio::test]
async fn overload_is_503_with_retry_after() {
    let (pipeline, gate) = hooked_pipeline();
    let one_at_a_time = settings(|s| {
        s.limits.concurrency = NonZeroUsize::MIN;
        s.limits.queue = 0;
        s.limits.retry_after = Duration::from_secs(3);
    });
    let server = TestServer::with(pipeline, one_at_a_time).await;
    let baseline = server.metrics().await.vocab_gauges();
    let blocked = tokio::spawn({
        let (client, url) = (server.client.clone(), server.url("/parse"));
        async move { client.post(url).json(&json!({"text": WAIT_MARKER})).send().await }
    });
    gate.wait_for_arrivals(1).await;
    let shed = server.parse(&json!({"text": "one more"})).await;
    assert_eq!(shed.status(), 503);
    assert_eq!(shed.headers()["retry-after"], "3");
    let body = shed.bytes().await.expect("body");
    insta::assert_json_snapshot!("overloaded", error_body(&body, "overloaded"));
    // Health and metrics are not shed.
    assert_eq!(server.client.get(server.url("/healthz")).send().await.expect("sent").status(), 200);
    gate.open();
    assert_eq!(blocked.await.expect("join").expect("sent").status(), 200);
    vocab_returns_to(&server, &baseline).await;
}

#[tokio::test]
async fn slow_request_is_504_and_its_zone_still_closes() {
    let (pipeline, gate) = hooked_pipeline();
    let short = settings(|s| s.server.request_timeout = Duration::from_millis(200));
    let server = TestServer::with(pipeline, short).await;
    let baseline = server.metrics().await.vocab_gauges();
    let response = server.parse(&json!({"text": format!("{WAIT_MARKER} zorblax quuxing")})).await;
    assert_eq!(response.status(), 504);
    let body = response.bytes().await.expect("body");
    insta::assert_json_snapshot!("timeout", error_body(&body, "timeout"));
    // The blocking work still holds the zone, with its transient words, until it ends.
    let during = server.metrics().await;
    assert_eq!(during.value("nlpd_vocab_active_zones", &[]), 1.0);
    gate.open();
    vocab_returns_to(&server, &baseline).await;
}
