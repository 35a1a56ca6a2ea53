//! The transformer pipeline over HTTP: the real binary serving a model built from the
//! fetched encoder (in its own process, so the tensor gauge is its alone).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::common::Metrics;
use crate::data::fetched_encoder;

/// `nlpd serve --model …` on a free loopback port; killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(model: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nlpd"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--model"])
            .arg(model)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nlpd starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let event: Value = serde_json::from_str(&line).ok()?;
                let addr = event["fields"]["addr"].as_str()?.to_owned();
                (event["fields"]["message"] == "listening").then_some(addr)
            })
            .expect("nlpd logs its address");
        // Keep reading the log, so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url: format!("http://{addr}") }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A file removed on drop.
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transformer_arrays_leave_the_tensor_gauge_when_requests_end() {
    let Some(dir) = fetched_encoder() else { return };
    let model = Removed(std::env::temp_dir().join(format!("nlpd-trf-{}.nlpd", std::process::id())));
    let status = Command::new(env!("CARGO_BIN_EXE_nlpd"))
        .args(["encoder", "build"])
        .arg(&dir)
        .arg("--output")
        .arg(&model.0)
        .stderr(Stdio::null())
        .status()
        .expect("nlpd runs");
    assert!(status.success());
    let server = tokio::task::block_in_place(|| Served::start(&model.0));
    let client = reqwest::Client::new();
    let texts = ["The encoder reads every piece.", "Zorbify the glorptastic plan, Ada!"];
    // With doc_cleaner, and without it (the arrays then leave with their documents).
    for components in [None, Some(json!(["transformer"]))] {
        let mut body = json!({ "texts": texts });
        if let Some(components) = components {
            body["components"] = components;
        }
        let response = client.post(format!("{}/parse", server.url)).json(&body).send().await;
        let response = response.expect("answered");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["docs"].as_array().map(Vec::len), Some(2));
    }
    let metrics = client.get(format!("{}/metrics", server.url)).send().await.expect("scrape");
    let metrics = Metrics::parse(&metrics.text().await.expect("text"));
    assert_eq!(metrics.value("nlpd_doc_tensor_bytes", &[]), 0.0);
    let ready = client.get(format!("{}/readyz", server.url)).send().await.expect("readyz");
    assert!(ready.text().await.expect("text").contains("transformer"));
}
