//! Shared helpers: an in-process server on 127.0.0.1:0, a test-only pipeline component,
//! a Prometheus text parser and `oneshot` request builders.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use nlpd::config::Settings;
use nlpd::doc::Doc;
use nlpd::pipeline::model_io::{DEFAULT_MODEL, load_vocab};
use nlpd::pipeline::{Component, ComponentError, Pipeline};
use nlpd::service::{AppState, router, serve};
use nlpd::tokenizer::Tokenizer;
use nlpd::vocab::Vocab;
use parking_lot::{Condvar, Mutex};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// A text containing this makes [`Hooks`] panic inside the zone.
pub(crate) const PANIC_MARKER: &str = "PANIC-IN-COMPONENT";
/// A text containing this makes [`Hooks`] block inside the zone until its gate opens.
pub(crate) const WAIT_MARKER: &str = "WAIT-AT-GATE";

/// Words the test vocabulary knows permanently besides the shipped model's ("mat" is not
/// in the model's).
pub(crate) const PERMANENT_WORDS: &[&str] = &["the", "a", "cat", "sat", "on", "mat", "."];

/// How long helpers wait for an eventual condition before failing the test. Generous:
/// tests never assert on time, this only bounds a broken run.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// A gate that [`Hooks`] waits at; the test counts arrivals and opens it.
#[derive(Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    arrived: AtomicUsize,
}

impl Gate {
    /// Lets every waiting and future request through.
    pub(crate) fn open(&self) {
        *self.open.lock() = true;
        self.opened.notify_all();
    }

    /// Waits until `n` requests have arrived at the gate.
    pub(crate) async fn wait_for_arrivals(&self, n: usize) {
        eventually("requests at the gate", || async { self.arrived.load(Ordering::SeqCst) >= n })
            .await;
    }

    fn pass(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        let mut open = self.open.lock();
        while !*open {
            self.opened.wait(&mut open);
        }
    }
}

/// A test-only component: panics on [`PANIC_MARKER`], waits at its gate on [`WAIT_MARKER`].
/// It exists only in this test binary, so production pipelines cannot reach it.
pub(crate) struct Hooks {
    gate: Arc<Gate>,
}

impl Component for Hooks {
    fn name(&self) -> &'static str {
        "hooks"
    }

    fn process(&self, doc: &mut Doc<'_>) -> Result<(), ComponentError> {
        if doc.text().contains(PANIC_MARKER) {
            panic!("test component asked to panic");
        }
        if doc.text().contains(WAIT_MARKER) {
            self.gate.pass();
        }
        Ok(())
    }
}

/// The test's handle on a [`Gate`]. Dropping it opens the gate, so a failing test never
/// leaves blocking tasks waiting (the runtime would wait for them forever on shutdown).
pub(crate) struct GateHandle(Arc<Gate>);

impl std::ops::Deref for GateHandle {
    type Target = Gate;

    fn deref(&self) -> &Gate {
        &self.0
    }
}

impl Drop for GateHandle {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// The vocabulary the shipped model loads, plus [`PERMANENT_WORDS`], as a server has it.
pub(crate) fn served_vocab() -> Vocab {
    let mut vocab = load_vocab(DEFAULT_MODEL).expect("the shipped model loads");
    for word in PERMANENT_WORDS {
        vocab.add(word);
    }
    vocab
}

/// A pipeline with [`served_vocab`] and [`Hooks`], plus the hooks' gate.
pub(crate) fn hooked_pipeline() -> (Pipeline, GateHandle) {
    let vocab = served_vocab();
    let gate = Arc::new(Gate::default());
    let hooks = Hooks { gate: Arc::clone(&gate) };
    (Pipeline::new(vocab, Tokenizer::english(), vec![Box::new(hooks)]), GateHandle(gate))
}

/// An in-process server on 127.0.0.1:0.
pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// A client with its own connection pool.
    pub(crate) client: reqwest::Client,
    /// The server's state (readiness, pipeline).
    pub(crate) state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A server over `Pipeline::tokenizer_only()` with the default settings.
    pub(crate) async fn start() -> Self {
        Self::with(Pipeline::tokenizer_only(), Settings::default()).await
    }

    /// A server over `pipeline` with `settings` (its `listen` is ignored: port 0).
    pub(crate) async fn with(pipeline: Pipeline, settings: Settings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let state = AppState::new(pipeline, settings);
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, state.clone(), async move {
            let _ = signal.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            state,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// A raw TCP connection to the server, for tests that speak HTTP byte by byte.
    pub(crate) async fn connect(&self) -> tokio::net::TcpStream {
        let addr = self.base.trim_start_matches("http://");
        tokio::net::TcpStream::connect(addr).await.expect("connect")
    }

    /// The URL of `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /parse` with a JSON body.
    pub(crate) async fn parse(&self, body: &Value) -> reqwest::Response {
        self.client.post(self.url("/parse")).json(body).send().await.expect("request sent")
    }

    /// Scrapes `/metrics`.
    pub(crate) async fn metrics(&self) -> Metrics {
        let text = self.client.get(self.url("/metrics")).send().await.expect("scrape");
        Metrics::parse(&text.text().await.expect("metrics body"))
    }

    /// Sends the shutdown signal without waiting.
    pub(crate) fn signal_shutdown(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Signals shutdown and waits for the server to drain and return.
    pub(crate) async fn stop(mut self) -> std::io::Result<()> {
        self.signal_shutdown();
        let task = self.task.take().expect("running");
        tokio::time::timeout(PATIENCE, task).await.expect("drains in time").expect("join")
    }
}

/// The vocabulary gauges that must return to their start values after requests.
pub(crate) const VOCAB_GAUGES: &[(&str, &[(&str, &str)])] = &[
    ("nlpd_vocab_lexemes", &[("kind", "permanent")]),
    ("nlpd_vocab_lexemes", &[("kind", "transient")]),
    ("nlpd_vocab_strings", &[("kind", "permanent")]),
    ("nlpd_vocab_strings", &[("kind", "transient")]),
    ("nlpd_vocab_active_zones", &[]),
    ("nlpd_vocab_zone_bytes", &[]),
];

/// Samples from a Prometheus text page, keyed by name and sorted labels.
#[derive(Debug, PartialEq)]
pub(crate) struct Metrics(BTreeMap<(String, Vec<(String, String)>), f64>);

impl Metrics {
    /// Parses the text exposition format (comments skipped).
    pub(crate) fn parse(text: &str) -> Self {
        let mut samples = BTreeMap::new();
        for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}').expect("closing brace")),
                None => (series, ""),
            };
            let mut labels: Vec<(String, String)> = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').expect("label pair");
                    (key.to_owned(), value.trim_matches('"').to_owned())
                })
                .collect();
            labels.sort();
            samples.insert((name.to_owned(), labels), value.parse().expect("numeric sample"));
        }
        Self(samples)
    }

    /// The sample `name{labels}`, if present.
    pub(crate) fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut labels: Vec<_> =
            labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        labels.sort();
        self.0.get(&(name.to_owned(), labels)).copied()
    }

    /// The sample `name{labels}`, or 0 if it was never recorded.
    pub(crate) fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// The [`VOCAB_GAUGES`], in order.
    pub(crate) fn vocab_gauges(&self) -> Vec<Option<f64>> {
        VOCAB_GAUGES.iter().map(|(name, labels)| self.get(name, labels)).collect()
    }

    /// Every sample name.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(|(name, _)| name.as_str())
    }
}

/// Polls `condition` until it holds, failing the test after a generous deadline.
pub(crate) async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until the server's vocabulary gauges equal `baseline`.
pub(crate) async fn vocab_returns_to(server: &TestServer, baseline: &[Option<f64>]) {
    eventually("vocabulary gauges back at baseline", || async {
        server.metrics().await.vocab_gauges() == baseline
    })
    .await;
}

/// A `oneshot` request through `router(state)`; returns status, content type and body.
pub(crate) async fn oneshot(
    state: AppState,
    request: Request<Body>,
) -> (StatusCode, String, Vec<u8>) {
    let response = router(state).oneshot(request).await.expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    (status, content_type, body.to_vec())
}

/// A `POST /parse` request with `content_type` and raw `body`.
pub(crate) fn post(content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::post("/parse");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.into()).expect("request")
}

/// A `POST /parse` with a JSON body.
pub(crate) fn post_json(body: &Value) -> Request<Body> {
    post(Some("application/json"), serde_json::to_vec(body).expect("json"))
}

/// Default settings, changed by `change`.
pub(crate) fn settings(change: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::default();
    change(&mut settings);
    settings
}
