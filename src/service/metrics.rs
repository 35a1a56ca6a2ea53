//! `GET /metrics` and the middleware that counts every request.
//!
//! # Overview
//!
//! [`track`] is the one place requests are counted: it wraps every route (and the
//! fallback), keeps the in-flight gauge with an RAII guard, and on completion records the
//! request by method, route template ([`MatchedPath`], else `"unmatched"`, never the raw
//! path) and status class, its duration, and its error code if it failed. A request whose
//! future is dropped before it answers is recorded with status `"aborted"`.
//!
//! [`metrics`] refreshes the gauges that have a source of truth elsewhere (vocabulary
//! stats, live tensor bytes, resident memory) and renders the recorder.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram};
use parking_lot::Mutex;

use super::AppState;
use super::error::ErrorCode;
use crate::telemetry::{
    DOC_TENSOR_BYTES, HTTP_REQUEST_DURATION, HTTP_REQUESTS, HTTP_REQUESTS_IN_FLIGHT,
    HTTP_REQUESTS_REJECTED, PROCESS_RESIDENT_BYTES, VOCAB_ACTIVE_ZONES, VOCAB_LEXEMES,
    VOCAB_STRINGS, VOCAB_ZONE_BYTES,
};

/// The Prometheus text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: every metric, in the Prometheus text format.
pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Gauges are process-wide but the vocabulary is per state: setting them and rendering
    // happen under one lock so two concurrent scrapes (of two states, in tests) never mix.
    static SCRAPE: Mutex<()> = Mutex::new(());
    let body = {
        let _scrape = SCRAPE.lock();
        refresh_gauges(&state);
        state.metrics.render()
    };
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body)
}

// Counts become f64 gauges; precision loss past 2^53 is irrelevant here.
#[allow(clippy::cast_precision_loss)]
fn refresh_gauges(state: &AppState) {
    let stats = state.pipeline.vocab().stats();
    let set = |name: &'static str, kind: &'static str, value: usize| {
        gauge!(name, "kind" => kind).set(value as f64);
    };
    set(VOCAB_LEXEMES, "permanent", stats.permanent_lexemes);
    set(VOCAB_LEXEMES, "transient", stats.transient_lexemes);
    set(VOCAB_STRINGS, "permanent", stats.permanent_strings);
    set(VOCAB_STRINGS, "transient", stats.transient_strings);
    gauge!(VOCAB_ACTIVE_ZONES).set(stats.active_zones as f64);
    gauge!(VOCAB_ZONE_BYTES).set(stats.zone_bytes as f64);
    gauge!(DOC_TENSOR_BYTES).set(crate::doc::live_tensor_bytes() as f64);
    if let Some(bytes) = resident_bytes() {
        gauge!(PROCESS_RESIDENT_BYTES).set(bytes as f64);
    }
}

/// The process's resident set size, from `VmRSS` in `/proc/self/status` (Linux).
///
/// `/proc/self/statm` would need the page size, i.e. a `sysconf` call through `unsafe` or
/// a crate; `status` reports kibibytes directly, so no dependency is needed. Returns
/// `None` where `/proc` is absent.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// Counts the request it wraps. See the module docs.
pub(super) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let record = RequestRecord::start(method_label(request.method()), route);
    let response = next.run(request).await;
    record.finish(&response);
    response
}

/// A bounded label for a method: the standard ones by name, anything else `"other"`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN.iter().find(|known| *known == method).map_or("other", Method::as_str)
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// One request being served: in the in-flight gauge until dropped.
struct RequestRecord {
    method: &'static str,
    route: String,
    start: Instant,
    recorded: bool,
}

impl RequestRecord {
    fn start(method: &'static str, route: String) -> Self {
        gauge!(HTTP_REQUESTS_IN_FLIGHT).increment(1.0);
        Self { method, route, start: Instant::now(), recorded: false }
    }

    fn finish(mut self, response: &Response) {
        self.record(status_class(response.status()));
        if let Some(ErrorCode(code)) = response.extensions().get::<ErrorCode>() {
            counter!(HTTP_REQUESTS_REJECTED, "code" => *code).increment(1);
        }
    }

    fn record(&mut self, status: &'static str) {
        self.recorded = true;
        let (method, route) = (self.method, self.route.clone());
        counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
            .increment(1);
        histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
            .record(self.start.elapsed().as_secs_f64());
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        if !self.recorded {
            self.record("aborted");
        }
        gauge!(HTTP_REQUESTS_IN_FLIGHT).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        let methods = [
            (Method::GET, "GET"),
            (Method::POST, "POST"),
            (Method::from_bytes(b"BREW").expect("token"), "other"),
        ];
        for (method, label) in methods {
            assert_eq!(method_label(&method), label);
        }
        let statuses = [(200, "2xx"), (304, "3xx"), (404, "4xx"), (503, "5xx"), (101, "1xx")];
        for (code, class) in statuses {
            assert_eq!(status_class(StatusCode::from_u16(code).expect("valid")), class);
        }
    }

    #[test]
    fn resident_bytes_are_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().is_some_and(|bytes| bytes > 1024 * 1024));
        }
    }
}
