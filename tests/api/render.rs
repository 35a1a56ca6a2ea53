//! The analysis page (`GET /`), its assets and `POST /render` (issue #20): pictures that say
//! what `/parse` says, escaped user text, security headers, the same limits and errors as
//! `/parse`, and `server.ui = false`.

use std::num::NonZeroUsize;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nlpd::config::Settings;
use nlpd::pipeline::Pipeline;
use nlpd::service::AppState;
use serde_json::{Value, json};

use crate::common::{
    TestServer, WAIT_MARKER, hooked_pipeline, oneshot, settings, vocab_returns_to,
};

/// Texts with entities, several sentences, punctuation and a contraction.
const TEXTS: [&str; 3] = [
    "Ada Lovelace met Charles Babbage in London.",
    "It rained in Paris on Monday. We stayed in, and Marie didn't mind.",
    "The committee, which had met in Berlin, said that it would publish its report soon.",
];

/// Texts that would run script if they were not escaped.
const XSS: [&str; 3] = [
    "<script>alert(1)</script>",
    r#""><svg onload=alert(1)>"#,
    "<img src=x onerror=alert(1)> & 'quotes'",
];

async fn english_server() -> TestServer {
    TestServer::with(Pipeline::default_english(), Settings::default()).await
}

/// `POST /render` with `body`; answers status, content type, CSP and body.
async fn render(server: &TestServer, body: &Value) -> (u16, String, String, String) {
    let response =
        server.client.post(server.url("/render")).json(body).send().await.expect("request sent");
    let header = |name: &str| {
        response.headers().get(name).map_or("", |v| v.to_str().expect("ascii")).to_owned()
    };
    let (status, content_type, csp) =
        (response.status().as_u16(), header("content-type"), header("content-security-policy"));
    (status, content_type, csp, response.text().await.expect("body"))
}

/// The value of attribute `name` in the start tag `tag` (`name="value"`), unescaped.
fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let start = tag.find(&format!(" {name}=\"")).unwrap_or_else(|| panic!("{name} in {tag}"));
    let value = &tag[start + name.len() + 3..];
    &value[..value.find('"').expect("closing quote")]
}

/// Every start tag in `markup` that begins with `prefix` (`<g class="arc"`), whole.
fn start_tags<'a>(markup: &'a str, prefix: &str) -> Vec<&'a str> {
    markup
        .match_indices(prefix)
        .map(|(at, _)| &markup[at..at + markup[at..].find('>').expect("tag ends")])
        .collect()
}

/// `(head, dependent, label)` of every token of a `/parse` document that is not a root.
fn json_arcs(doc: &Value) -> Vec<(u64, u64, String)> {
    let mut arcs: Vec<_> = doc["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .filter(|t| t["head"] != t["id"])
        .map(|t| {
            let label = t["dep"].as_str().expect("the model sets labels").to_owned();
            (t["head"].as_u64().expect("head"), t["id"].as_u64().expect("id"), label)
        })
        .collect();
    arcs.sort();
    arcs
}

#[tokio::test]
async fn dep_draws_one_arc_per_token_that_is_not_a_root_with_the_json_heads_and_labels() {
    let server = english_server().await;
    for text in TEXTS {
        let doc: Value = server.parse(&json!({"text": text})).await.json().await.expect("json");
        let (status, content_type, _, svg) =
            render(&server, &json!({"text": text, "style": "dep"})).await;
        assert_eq!((status, content_type.as_str()), (200, "image/svg+xml"), "{svg}");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg xmlns="), "{svg}");
        let mut arcs: Vec<(u64, u64, String)> = start_tags(&svg, "<g class=\"arc\"")
            .into_iter()
            .map(|tag| {
                let number = |name| attribute(tag, name).parse::<u64>().expect("an index");
                (number("data-head"), number("data-dependent"), attribute(tag, "data-label").into())
            })
            .collect();
        arcs.sort();
        let tokens = doc["tokens"].as_array().expect("tokens").len();
        let roots = tokens - json_arcs(&doc).len();
        assert_eq!(arcs.len(), tokens - roots, "{text}: arcs = tokens - roots");
        assert_eq!(arcs, json_arcs(&doc), "{text}");
        // Each arc's visible label is its relation, and every word is drawn with its tag.
        for (_, _, label) in &arcs {
            assert!(svg.contains(&format!(">{label}</text></g>")), "{label} not shown");
        }
        assert_eq!(start_tags(&svg, "<text class=\"token\"").len(), tokens, "{text}");
        let sents = doc["sents"].as_array().expect("sentences").len();
        assert_eq!(start_tags(&svg, "<g class=\"sentence\"").len(), sents, "{text}");
        assert_eq!(svg.matches("<path class=\"arrow\"").count(), arcs.len(), "{text}");
    }
}

#[tokio::test]
async fn ent_marks_each_entity_of_the_json_with_its_label() {
    let server = english_server().await;
    let mut labels = Vec::new();
    for text in TEXTS {
        let doc: Value = server.parse(&json!({"text": text})).await.json().await.expect("json");
        let (status, content_type, _, html) =
            render(&server, &json!({"text": text, "style": "ent"})).await;
        assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        let marks: Vec<(String, String)> = html
            .split("<mark class=\"nlpd-ent\" data-label=\"")
            .skip(1)
            .map(|mark| {
                let (label, rest) = mark.split_once("\">").expect("label attribute");
                let (text, rest) =
                    rest.split_once("<span class=\"nlpd-ent-label\">").expect("span");
                assert!(rest.starts_with(&format!("{label}</span></mark>")), "{rest}");
                (text.to_owned(), label.to_owned())
            })
            .collect();
        let expected: Vec<(String, String)> = doc["ents"]
            .as_array()
            .expect("the model sets entities")
            .iter()
            .map(|e| {
                (
                    e["text"].as_str().expect("text").into(),
                    e["label"].as_str().expect("label").into(),
                )
            })
            .collect();
        assert_eq!(marks, expected, "{text}");
        labels.extend(marks.into_iter().map(|(_, label)| label));
    }
    for label in ["PER", "LOC"] {
        assert!(labels.iter().any(|l| l == label), "no {label} among {labels:?}");
    }
}

#[tokio::test]
async fn user_text_is_escaped_in_both_styles_standalone_or_not() {
    let server = english_server().await;
    let text = XSS.join(" Ada met Bob in Rome. ");
    for style in ["dep", "ent"] {
        for standalone in [true, false] {
            let body = json!({"text": text, "style": style, "standalone": standalone});
            let (status, _, _, picture) = render(&server, &body).await;
            assert_eq!(status, 200, "{picture}");
            for raw in ["<script", "<svg onload", "<img", "onerror=alert(1)>"] {
                assert!(!picture.contains(raw), "{style}: {raw} not escaped in {picture}");
            }
            // The diagram draws tokens (`<`, `script`, `>`), the marks the text whole.
            let escaped: &[&str] = match style {
                "dep" => &["&lt;", "&gt;", "&quot;", "&amp;", "&#39;"],
                _ => &["&lt;script&gt;", "&quot;&gt;&lt;svg onload", "&amp; &#39;quotes&#39;"],
            };
            for escaped in escaped {
                assert!(picture.contains(escaped), "{style}: no {escaped} in {picture}");
            }
            assert!(!picture.contains(" style=\""), "{style}: an inline style attribute");
            assert_eq!(picture.contains("<style"), standalone, "{style}: style sheet");
        }
    }
}

#[tokio::test]
async fn page_assets_and_pictures_carry_their_types_and_a_strict_policy() {
    let server = TestServer::start().await;
    let page = server.client.get(server.url("/")).send().await.expect("page");
    let html = page.text().await.expect("html");
    // Every file the page links is served by the binary itself.
    let linked: Vec<&str> = ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| {
            html.split(attr).skip(1).map(|rest| &rest[..rest.find('"').expect("quote")])
        })
        .collect();
    assert_eq!(linked, ["/ui/app.js", "/ui/app.css", "/ui/render.css"]);
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
        ("/ui/render.css", "text/css; charset=utf-8"),
    ] {
        let response = server.client.get(server.url(path)).send().await.expect("asset");
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
    }
    for style in ["dep", "ent"] {
        let (status, _, csp, _) =
            render(&server, &json!({"text": "Hi there.", "style": style})).await;
        assert_eq!(status, 200);
        assert!(csp.starts_with("default-src 'none'") && !csp.contains("script"), "{csp}");
    }
}

#[tokio::test]
async fn with_the_ui_off_the_page_and_render_are_not_found() {
    let off = AppState::new(Pipeline::tokenizer_only(), settings(|s| s.server.ui = false));
    for (method, path) in
        [("GET", "/"), ("GET", "/ui/app.js"), ("GET", "/ui/render.css"), ("POST", "/render")]
    {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from(r#"{"text": "a", "style": "dep"}"#))
            .expect("request");
        let (status, content_type, body) = oneshot(off.clone(), request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(content_type, "application/json");
        let body: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "not_found", "{method} {path}");
    }
    let parse = crate::common::post_json(&json!({"text": "still parsing"}));
    assert_eq!(oneshot(off, parse).await.0, StatusCode::OK);
}

#[tokio::test]
async fn render_answers_the_errors_of_parse() {
    let limits = settings(|s| {
        s.limits.max_body_bytes = NonZeroUsize::new(256).expect("256");
        s.limits.max_text_chars = NonZeroUsize::new(100).expect("100");
    });
    let server = TestServer::with(Pipeline::tokenizer_only(), limits).await;
    let cases = [
        (json!({"text": "x".repeat(300), "style": "dep"}), 413, "payload_too_large"),
        (json!({"text": "x".repeat(101), "style": "ent"}), 422, "text_too_long"),
        (json!({"text": "", "style": "dep"}), 422, "empty_text"),
        (json!({"text": "a", "style": "png"}), 422, "invalid_field"),
        (json!({"text": "a"}), 422, "invalid_field"),
        (json!({"text": "a", "style": "dep", "texts": ["b"]}), 422, "invalid_field"),
        (json!(["a", "dep"]), 422, "invalid_field"),
    ];
    for (body, status, code) in cases {
        let (got, content_type, _, answer) = render(&server, &body).await;
        assert_eq!((got, content_type.as_str()), (status, "application/json"), "{body}: {answer}");
        let answer: Value = serde_json::from_str(&answer).expect("a JSON error");
        assert_eq!(answer["error"]["code"], code, "{body}");
    }
    let plain = server.client.post(server.url("/render")).body("hi").send().await.expect("sent");
    assert_eq!(plain.status(), 415);
    let get = server.client.get(server.url("/render")).send().await.expect("sent");
    assert_eq!(get.status(), 405);
}

#[tokio::test]
async fn render_leaves_the_vocabulary_as_it_found_it() {
    let server = english_server().await;
    let baseline = server.metrics().await.vocab_gauges();
    for (n, style) in ["dep", "ent", "dep"].into_iter().enumerate() {
        let text = format!("Zorblatt{n} quuxified the flibbertigibbet{n} in Xanthoria{n}.");
        let (status, ..) = render(&server, &json!({"text": text, "style": style})).await;
        assert_eq!(status, 200);
    }
    vocab_returns_to(&server, &baseline).await;
}

#[tokio::test]
async fn render_and_parse_share_one_concurrency_limit() {
    let (pipeline, gate) = hooked_pipeline();
    let one = settings(|s| {
        s.limits.concurrency = NonZeroUsize::MIN;
        s.limits.queue = 0;
    });
    let server = TestServer::with(pipeline, one).await;
    // A picture being drawn holds the only slot: a parse is shed, and so is another picture.
    let blocked = tokio::spawn({
        let (client, url) = (server.client.clone(), server.url("/render"));
        async move { client.post(url).json(&json!({"text": WAIT_MARKER, "style": "dep"})).send().await }
    });
    gate.wait_for_arrivals(1).await;
    assert_eq!(server.parse(&json!({"text": "shed"})).await.status(), 503);
    assert_eq!(render(&server, &json!({"text": "shed", "style": "ent"})).await.0, 503);
    gate.open();
    let drawn = blocked.await.expect("join").expect("answered");
    assert_eq!(drawn.status(), 200);
}
