//! `POST /parse` on a real socket: single and batch documents in every output format,
//! awkward Unicode, 64 clients.

use serde_json::{Value, json};

use crate::common::TestServer;

/// Checks that `doc` is the document of `text`: same text, and every token's character
/// offsets select its own text from the input.
fn assert_doc_of(doc: &Value, text: &str) {
    assert_eq!(doc["text"], text);
    let chars: Vec<char> = text.chars().collect();
    let tokens = doc["tokens"].as_array().expect("tokens");
    assert!(!tokens.is_empty() || text.trim().is_empty(), "no tokens for {text:?}");
    for token in tokens {
        let (start, end) =
            (token["start"].as_u64().expect("start"), token["end"].as_u64().expect("end"));
        let slice: String = chars[start as usize..end as usize].iter().collect();
        assert_eq!(token["text"], slice.as_str(), "offsets of {token} in {text:?}");
    }
}

#[tokio::test]
async fn single_text_answers_one_document() {
    let server = TestServer::start().await;
    let response = server.parse(&json!({"text": "Ada wrote code"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let doc: Value = response.json().await.expect("json");
    insta::assert_json_snapshot!("single_document", doc);
}

#[tokio::test]
async fn batch_answers_docs_in_input_order() {
    let server = TestServer::start().await;
    let texts: Vec<String> = (0..20).map(|i| format!("text number {i} of twenty")).collect();
    let response = server.parse(&json!({"texts": texts})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let docs = body["docs"].as_array().expect("docs");
    assert_eq!(docs.len(), texts.len());
    for (doc, text) in docs.iter().zip(&texts) {
        assert_doc_of(doc, text);
    }
    let small = server.parse(&json!({"texts": ["Ada wrote", "code"]})).await;
    insta::assert_json_snapshot!("batch_documents", small.json::<Value>().await.expect("json"));
}

#[tokio::test]
async fn line_formats_for_single_and_batch() {
    let server = TestServer::start().await;
    let conllu = "text/conllu; charset=utf-8";
    let iob2 = "text/plain; charset=utf-8";
    let cases = [
        ("conllu_single", conllu, json!({"text": "Ada wrote code", "output": "conllu"})),
        ("conllu_batch", conllu, json!({"texts": ["Ada wrote", "We don't"], "output": "conllu"})),
        ("iob2_single", iob2, json!({"text": "Ada wrote code", "output": "iob2"})),
        ("iob2_batch", iob2, json!({"texts": ["Ada wrote", "We don't"], "output": "iob2"})),
    ];
    for (name, content_type, body) in cases {
        let response = server.parse(&body).await;
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.headers()["content-type"], content_type, "{name}");
        insta::assert_snapshot!(name, response.text().await.expect("text"));
    }
}

#[tokio::test]
async fn jsonl_answers_a_line_per_document_for_single_and_batch() {
    let server = TestServer::start().await;
    let batch = ["Ada wrote", "We don't", "ok"];
    let cases = [
        (json!({"text": "Ada wrote code", "output": "jsonl"}), &["Ada wrote code"][..]),
        (json!({"texts": batch, "output": "jsonl"}), &batch[..]),
    ];
    for (body, texts) in cases {
        let response = server.parse(&body).await;
        assert_eq!(response.status(), 200, "{body}");
        assert_eq!(response.headers()["content-type"], "application/x-ndjson");
        let lines = response.text().await.expect("text");
        assert!(lines.ends_with('\n'), "{lines:?}");
        assert_eq!(lines.lines().count(), texts.len(), "{lines:?}");
        for (line, text) in lines.lines().zip(texts) {
            assert_doc_of(&serde_json::from_str(line).expect("a JSON line"), text);
        }
    }
    // A line is the very document `json` answers.
    let json = server.parse(&json!({"text": "Ada wrote code"})).await.text().await.expect("text");
    let jsonl = server.parse(&json!({"text": "Ada wrote code", "output": "jsonl"})).await;
    assert_eq!(jsonl.text().await.expect("text"), format!("{json}\n"));
}

#[tokio::test]
async fn iob2_tags_the_entities_that_json_reports() {
    let pipeline = nlpd::pipeline::Pipeline::default_english();
    let server = TestServer::with(pipeline, nlpd::config::Settings::default()).await;
    let texts = ["Ada Lovelace met Charles Babbage in London.", "Google hired Ann in Paris."];
    let response = server.parse(&json!({"texts": texts, "output": "iob2"})).await;
    assert_eq!(response.status(), 200);
    let iob2 = response.text().await.expect("text");
    assert!(iob2.starts_with("# newdoc id = 0\n# sent_id = 1\n# text = Ada"), "{iob2}");
    assert!(iob2.contains("# newdoc id = 1\n"), "{iob2}");
    let tags: Vec<&str> = iob2
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| line.split('\t').nth(2).expect("ID, TOKEN and TAG"))
        .collect();
    // The same tags, from the JSON tokens and entities.
    let body: Value = server.parse(&json!({"texts": texts})).await.json().await.expect("json");
    let mut expected = Vec::new();
    for doc in body["docs"].as_array().expect("docs") {
        let tokens = doc["tokens"].as_array().expect("tokens");
        let mut doc_tags = vec!["O".to_owned(); tokens.len()];
        for ent in doc["ents"].as_array().expect("the model sets entities") {
            let (start, end) = (ent["start_token"].as_u64(), ent["end_token"].as_u64());
            let (start, end) = (start.expect("start") as usize, end.expect("end") as usize);
            let label = ent["label"].as_str().expect("label");
            for (i, tag) in doc_tags[start..end].iter_mut().enumerate() {
                *tag = format!("{}-{label}", if i == 0 { "B" } else { "I" });
            }
        }
        expected.extend(doc_tags);
    }
    assert!(expected.iter().any(|tag| tag != "O"), "no entity found in {texts:?}");
    assert_eq!(tags, expected, "{iob2}");
}

#[tokio::test]
async fn awkward_unicode_is_parsed() {
    let server = TestServer::start().await;
    let cases = [
        ("nul", "before\u{0}after and \u{0} alone"),
        ("rtl", "שלום עולם and مرحبا بالعالم"),
        ("emoji", "family 👨\u{200d}👩\u{200d}👧 flags 🇫🇷 skin 👋🏽"),
        ("combining", "cafe\u{301} nai\u{308}ve Z\u{335}\u{321}a\u{336}"),
        ("controls", "tab\there\r\nnew line\u{7f} bell\u{7}"),
        ("astral", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𝟘"),
        ("surrogate_pair_escape", "\u{1F600} grin"),
        ("whitespace_only", "   "),
    ];
    for (name, text) in cases {
        let response = server.parse(&json!({"text": text})).await;
        assert_eq!(response.status(), 200, "{name}");
        assert_doc_of(&response.json::<Value>().await.expect("json"), text);
    }
    // A surrogate pair written as JSON escapes is one astral character.
    let escaped = server
        .client
        .post(server.url("/parse"))
        .header("content-type", "application/json")
        .body(r#"{"text": "smile \ud83d\ude00"}"#)
        .send()
        .await
        .expect("sent");
    assert_eq!(escaped.status(), 200);
    assert_doc_of(&escaped.json::<Value>().await.expect("json"), "smile \u{1F600}");
}

#[tokio::test]
async fn sixty_four_concurrent_clients_get_their_own_documents() {
    let server = TestServer::start().await;
    let clients = (0..64).map(|client| {
        let url = server.url("/parse");
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for request in 0..8 {
                let text = format!("client {client} request {request} says hello");
                let response =
                    http.post(&url).json(&json!({"text": text})).send().await.expect("sent");
                assert_eq!(response.status(), 200);
                assert_doc_of(&response.json::<Value>().await.expect("json"), &text);
            }
        })
    });
    for client in clients.collect::<Vec<_>>() {
        client.await.expect("client succeeded");
    }
}

#[tokio::test]
async fn components_field_selects_components() {
    let (pipeline, _gate) = crate::common::hooked_pipeline();
    let server = TestServer::with(pipeline, nlpd::config::Settings::default()).await;
    for components in [json!([]), json!(["hooks"])] {
        let response =
            server.parse(&json!({"text": "the cat sat", "components": components})).await;
        assert_eq!(response.status(), 200, "{components}");
    }
}

#[tokio::test]
async fn requested_components_bring_what_they_need_on_the_trained_model() {
    let pipeline = nlpd::pipeline::Pipeline::default_english();
    let server = TestServer::with(pipeline, nlpd::config::Settings::default()).await;
    let body = json!({"text": "The dogs barked.", "components": ["lemmatizer"]});
    let response = server.parse(&body).await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("json");
    let dogs = &doc["tokens"][1];
    assert_eq!(dogs["lemma"], "dog", "{dogs}");
    assert_eq!(dogs["tag"], "NNS", "the tagger ran for the lemmatizer: {dogs}");
    assert!(dogs.get("dep").is_none_or(Value::is_null), "the parser did not run: {dogs}");
}
