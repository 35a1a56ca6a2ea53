//! openapi.yaml describes every route, and real responses validate against it.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{PANIC_MARKER, TestServer, WAIT_MARKER, hooked_pipeline, settings};

/// The spec as JSON.
fn spec() -> Value {
    let text = include_str!("../../openapi.yaml");
    serde_yaml_ng::from_str(text).expect("openapi.yaml is valid YAML")
}

/// A JSON pointer token (`/` and `~` escaped).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// One response seen from the running server.
struct Sample {
    method: &'static str,
    /// The route template, or `None` for a path that matches no route.
    route: Option<&'static str>,
    status: u16,
    content_type: String,
    body: String,
}

/// Where in the spec the schema of `sample`'s body is, as a JSON pointer.
fn schema_pointer(spec: &Value, sample: &Sample) -> String {
    let media = sample.content_type.split(';').next().expect("media type").trim().to_owned();
    // 404 and 405 belong to no operation: the spec's description gives them the `Error`
    // body.
    let response_pointer = match sample.route {
        None => return "/components/schemas/Error".to_owned(),
        Some(route) if sample.status == 405 => {
            let path = &spec["paths"][route];
            assert!(path.is_object() && path.get(sample.method).is_none(), "{route}");
            return "/components/schemas/Error".to_owned();
        }
        Some(route) => {
            let pointer =
                format!("/paths/{}/{}/responses/{}", escape(route), sample.method, sample.status);
            let response = spec.pointer(&pointer).unwrap_or_else(|| {
                panic!(
                    "{} {route} answered {}, which openapi.yaml omits",
                    sample.method, sample.status
                )
            });
            match response.get("$ref").and_then(Value::as_str) {
                Some(reference) => reference.trim_start_matches('#').to_owned(),
                None => pointer,
            }
        }
    };
    let pointer = format!("{response_pointer}/content/{}/schema", escape(&media));
    assert!(spec.pointer(&pointer).is_some(), "no schema for {media} at {pointer}");
    pointer
}

fn validate(spec: &Value, sample: &Sample) {
    let pointer = schema_pointer(spec, sample);
    let instance = if sample.content_type.starts_with("application/json") {
        serde_json::from_str(&sample.body).expect("JSON body")
    } else {
        Value::String(sample.body.clone())
    };
    let mut errors = schema_errors(spec, &pointer, &instance);
    // OpenAPI 3.1 cannot give the schema of each line of a JSON Lines body (3.2's
    // `itemSchema` can): the spec says in words that each line is a `Doc`, checked here.
    if sample.content_type.starts_with("application/x-ndjson") {
        for line in sample.body.lines() {
            let line = serde_json::from_str(line).expect("a JSON line");
            errors.extend(schema_errors(spec, "/components/schemas/Doc", &line));
        }
    }
    assert!(
        errors.is_empty(),
        "{} {:?} {}: {errors:?}\nbody: {}",
        sample.method,
        sample.route,
        sample.status,
        sample.body
    );
}

/// Why `instance` fails the schema at `pointer` in `spec` (nothing when it passes).
fn schema_errors(spec: &Value, pointer: &str, instance: &Value) -> Vec<String> {
    // The whole spec is the root schema, so `#/components/...` references resolve; its own
    // `$ref` selects the schema at `pointer`.
    let mut root = spec.clone();
    root["$ref"] = Value::String(format!("#{pointer}"));
    let validator = jsonschema::validator_for(&root).expect("schemas compile");
    validator.iter_errors(instance).map(|e| e.to_string()).collect()
}

async fn sample(
    server: &TestServer,
    method: &'static str,
    route: Option<&'static str>,
    path: &str,
    body: Option<(&str, String)>,
) -> Sample {
    let mut request =
        server.client.request(method.to_uppercase().parse().expect("method"), server.url(path));
    if let Some((content_type, body)) = body {
        request = request.header("content-type", content_type).body(body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    Sample { method, route, status, content_type, body: response.text().await.expect("body") }
}

fn json_body(value: &Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

#[tokio::test]
async fn spec_is_openapi_3_1_and_lists_every_route() {
    let spec = spec();
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")));
    for (route, method) in [
        ("/parse", "post"),
        ("/render", "post"),
        ("/", "get"),
        ("/ui/app.js", "get"),
        ("/ui/app.css", "get"),
        ("/ui/render.css", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
    ] {
        let operation = &spec["paths"][route][method];
        assert!(operation["responses"]["200"].is_object(), "{method} {route}");
    }
}

#[tokio::test]
async fn real_responses_match_the_spec() {
    let spec = spec();
    let (pipeline, gate) = hooked_pipeline();
    let limits = settings(|s| {
        s.limits.max_body_bytes = NonZeroUsize::new(4096).expect("4096");
        s.limits.concurrency = NonZeroUsize::MIN;
        s.limits.queue = 0;
    });
    let server = TestServer::with(pipeline, limits).await;
    let parse = Some("/parse");
    // Every output format, single and batch, components, and each request error.
    let parse_bodies = [
        json!({"text": "Ada wrote code"}),
        json!({"texts": ["a b", "c"]}),
        json!({"text": "x", "components": []}),
        json!({"text": "Hi. Bye.", "output": "conllu"}),
        json!({"text": "Hi. Bye.", "output": "jsonl"}),
        json!({"texts": ["a b", "c"], "output": "jsonl"}),
        json!({"text": "Ada wrote.", "output": "iob2"}),
        json!({"texts": ["Ada wrote.", "c"], "output": "iob2"}),
        json!({"text": "z".repeat(5000)}),
        json!({"text": ""}),
        json!({"text": "a", "components": ["x"]}),
        json!({"text": PANIC_MARKER}),
    ];
    let mut samples = Vec::new();
    for body in &parse_bodies {
        samples.push(sample(&server, "post", parse, "/parse", json_body(body)).await);
    }
    samples.extend([
        sample(&server, "post", parse, "/parse", Some(("application/json", "{".into()))).await,
        sample(&server, "post", parse, "/parse", Some(("text/plain", "hi".into()))).await,
        sample(&server, "get", parse, "/parse", None).await,
        sample(&server, "get", Some("/healthz"), "/healthz", None).await,
        sample(&server, "get", Some("/readyz"), "/readyz", None).await,
        sample(&server, "get", Some("/metrics"), "/metrics", None).await,
        sample(&server, "get", None, "/not/a/route", None).await,
    ]);
    // The page, its files and every kind of picture, with /parse's errors.
    for path in ["/", "/ui/app.js", "/ui/app.css", "/ui/render.css"] {
        samples.push(sample(&server, "get", Some(path), path, None).await);
    }
    let render = Some("/render");
    for body in [
        json!({"text": "Ada wrote code. It ran.", "style": "dep"}),
        json!({"text": "Ada wrote code.", "style": "ent"}),
        json!({"text": "Ada wrote code.", "style": "dep", "standalone": false}),
        json!({"text": "Ada wrote code.", "style": "ent", "standalone": false}),
        json!({"text": "z".repeat(5000), "style": "dep"}),
        json!({"text": "", "style": "ent"}),
        json!({"text": "a", "style": "gif"}),
    ] {
        samples.push(sample(&server, "post", render, "/render", json_body(&body)).await);
    }
    // While a request waits at the gate it holds the only worker: the next one is shed.
    let blocked = tokio::spawn({
        let (client, url) = (server.client.clone(), server.url("/parse"));
        async move { client.post(url).json(&json!({"text": WAIT_MARKER})).send().await }
    });
    gate.wait_for_arrivals(1).await;
    samples
        .push(sample(&server, "post", parse, "/parse", json_body(&json!({"text": "shed"}))).await);
    gate.open();
    drop(blocked.await);
    // A request that waits longer than the timeout is answered 504.
    let (pipeline, slow_gate) = hooked_pipeline();
    let short = settings(|s| s.server.request_timeout = Duration::from_millis(200));
    let slow = TestServer::with(pipeline, short).await;
    samples.push(
        sample(&slow, "post", parse, "/parse", json_body(&json!({"text": WAIT_MARKER}))).await,
    );
    slow_gate.open();
    server.state.readiness().drain();
    samples.push(sample(&server, "get", Some("/readyz"), "/readyz", None).await);

    let statuses: Vec<u16> = samples.iter().map(|s| s.status).collect();
    for media in ["application/json", "application/x-ndjson", "text/conllu", "text/plain"] {
        assert!(
            samples.iter().any(|s| s.route == parse && s.content_type.starts_with(media)),
            "no /parse sample answered {media}"
        );
    }
    for media in ["image/svg+xml", "text/html", "application/json"] {
        assert!(
            samples.iter().any(|s| s.route == render && s.content_type.starts_with(media)),
            "no /render sample answered {media}"
        );
    }
    for expected in [200, 400, 404, 405, 413, 415, 422, 500, 503, 504] {
        assert!(statuses.contains(&expected), "no sample answered {expected}: {statuses:?}");
    }
    for sample in &samples {
        validate(&spec, sample);
    }
}

#[test]
fn validation_rejects_what_the_spec_forbids() {
    let spec = spec();
    let bad = [
        Sample {
            method: "post",
            route: Some("/parse"),
            status: 422,
            content_type: "application/json".into(),
            body: r#"{"error": {"code": "made_up", "message": "x"}}"#.into(),
        },
        Sample {
            method: "post",
            route: Some("/parse"),
            status: 200,
            content_type: "application/json".into(),
            body: r#"{"text": "a", "tokens": [{"id": 0}]}"#.into(),
        },
        Sample {
            method: "post",
            route: Some("/parse"),
            status: 200,
            content_type: "application/x-ndjson".into(),
            body: "{\"text\": \"a\", \"tokens\": [{\"id\": 0}]}\n".into(),
        },
        Sample {
            method: "post",
            route: Some("/parse"),
            status: 200,
            content_type: "application/x-ndjson".into(),
            body: r#"{"docs": []}"#.into(),
        },
    ];
    for sample in &bad {
        let result = std::panic::catch_unwind(|| validate(&spec, sample));
        assert!(result.is_err(), "{} should fail validation", sample.body);
    }
}

#[test]
fn every_response_the_spec_defines_is_used_by_a_path() {
    let spec = spec();
    let paths = spec["paths"].to_string();
    let defined = spec["components"]["responses"].as_object().expect("responses");
    for name in defined.keys() {
        let reference = format!("\"#/components/responses/{name}\"");
        assert!(paths.contains(&reference), "no path uses the response {name}");
    }
}

#[test]
fn component_names_in_the_spec_are_the_default_pipelines() {
    let spec = spec();
    let names =
        &spec["components"]["schemas"]["ParseRequest"]["properties"]["components"]["items"]["enum"];
    let pipeline = nlpd::pipeline::Pipeline::default_english();
    let expected: Vec<&str> = pipeline.component_names().collect();
    assert_eq!(names, &serde_json::json!(expected));
}
