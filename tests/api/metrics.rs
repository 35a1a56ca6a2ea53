//! `/metrics`, `/healthz` and `/readyz`.

use nlpd::telemetry;
use serde_json::{Value, json};

use crate::common::TestServer;

#[tokio::test]
async fn metrics_expose_every_family_with_bounded_labels() {
    let server = TestServer::start().await;
    assert_eq!(server.parse(&json!({"text": "count these four words"})).await.status(), 200);
    let raw_path = "/no/such/path/a8f3e1";
    let missing = server.client.get(server.url(raw_path)).send().await.expect("sent");
    assert_eq!(missing.status(), 404);
    let response = server.client.get(server.url("/metrics")).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/plain"));
    let text = response.text().await.expect("body");
    assert!(!text.contains(raw_path), "raw paths never become labels");
    let metrics = crate::common::Metrics::parse(&text);
    let names: Vec<&str> = metrics.names().collect();
    let families = [
        telemetry::VOCAB_LEXEMES,
        telemetry::VOCAB_STRINGS,
        telemetry::VOCAB_ACTIVE_ZONES,
        telemetry::VOCAB_ZONE_BYTES,
        telemetry::DOC_TENSOR_BYTES,
        telemetry::HTTP_REQUESTS,
        telemetry::HTTP_REQUESTS_IN_FLIGHT,
        telemetry::HTTP_REQUESTS_REJECTED,
        telemetry::PARSE_WORDS,
        telemetry::PROCESS_RESIDENT_BYTES,
    ];
    for family in families {
        assert!(names.contains(&family), "{family} missing");
    }
    for histogram in [telemetry::HTTP_REQUEST_DURATION, telemetry::ZONE_TRANSIENT_LEXEMES] {
        let bucket = format!("{histogram}_bucket");
        assert!(names.contains(&bucket.as_str()), "{histogram} is a histogram with buckets");
    }
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "4xx")];
    assert!(metrics.value(telemetry::HTTP_REQUESTS, &unmatched) >= 1.0);
    let parsed = [("method", "POST"), ("route", "/parse"), ("status", "2xx")];
    assert!(metrics.value(telemetry::HTTP_REQUESTS, &parsed) >= 1.0);
    assert!(metrics.value(telemetry::PARSE_WORDS, &[]) >= 4.0);
    assert!(metrics.value(telemetry::HTTP_REQUESTS_REJECTED, &[("code", "not_found")]) >= 1.0);
    assert!(metrics.value(telemetry::PROCESS_RESIDENT_BYTES, &[]) > 0.0);
}

#[tokio::test]
async fn health_is_alive_and_readiness_follows_draining() {
    let server = TestServer::start().await;
    let get = |path: &'static str| {
        let request = server.client.get(server.url(path));
        async move {
            let response = request.send().await.expect("sent");
            (response.status().as_u16(), response.json::<Value>().await.expect("json"))
        }
    };
    assert_eq!(get("/healthz").await, (200, json!({"status": "alive"})));
    let (status, ready) = get("/readyz").await;
    assert_eq!((status, &ready["status"]), (200, &json!("ready")));
    server.state.readiness().drain();
    let (status, draining) = get("/readyz").await;
    assert_eq!((status, &draining["status"]), (503, &json!("draining")));
    assert_eq!(get("/healthz").await.0, 200, "a draining server is still alive");
}
