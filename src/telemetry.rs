//! Logging and metrics plumbing: the tracing subscriber, the Prometheus recorder and the
//! names of every metric.
//!
//! # Overview
//!
//! [`init_logging`] installs the process's `tracing` subscriber (text or JSON lines on
//! standard error, filtered by an `EnvFilter` directive). [`prometheus`] installs the
//! process-wide Prometheus recorder the first time it is called, with per-metric histogram
//! buckets and a background thread running its upkeep, and returns a handle to render it.
//! Metric names follow `nlpd_` + noun + unit and are the constants below, so the code that
//! records a metric and the tests that read it cannot drift apart.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use metrics::Unit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use thiserror::Error;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Lexemes in the vocabulary, labelled `kind` = `permanent` | `transient` (gauge).
pub const VOCAB_LEXEMES: &str = "nlpd_vocab_lexemes";
/// Strings in the vocabulary, labelled `kind` = `permanent` | `transient` (gauge).
pub const VOCAB_STRINGS: &str = "nlpd_vocab_strings";
/// Memory zones currently open (gauge).
pub const VOCAB_ACTIVE_ZONES: &str = "nlpd_vocab_active_zones";
/// Bytes held by the overlays of open zones (gauge).
pub const VOCAB_ZONE_BYTES: &str = "nlpd_vocab_zone_bytes";
/// Transient lexemes one request's zone held when it closed (histogram).
pub const ZONE_TRANSIENT_LEXEMES: &str = "nlpd_zone_transient_lexemes";
/// Bytes held by live document tensors (gauge).
pub const DOC_TENSOR_BYTES: &str = "nlpd_doc_tensor_bytes";
/// HTTP requests answered (or abandoned), labelled `method`, `route`, `status` (counter).
pub const HTTP_REQUESTS: &str = "nlpd_http_requests_total";
/// HTTP request duration, labelled `method`, `route` (histogram).
pub const HTTP_REQUEST_DURATION: &str = "nlpd_http_request_duration_seconds";
/// HTTP requests being served (gauge).
pub const HTTP_REQUESTS_IN_FLIGHT: &str = "nlpd_http_requests_in_flight";
/// HTTP requests answered with an error, labelled `code` (counter).
pub const HTTP_REQUESTS_REJECTED: &str = "nlpd_http_requests_rejected_total";
/// Words (syntactic tokens) processed by `/parse` (counter).
pub const PARSE_WORDS: &str = "nlpd_parse_words_total";
/// Resident set size of the process (gauge).
pub const PROCESS_RESIDENT_BYTES: &str = "nlpd_process_resident_memory_bytes";

/// Upper bounds of the request-duration buckets, in seconds.
const DURATION_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Upper bounds of the transient-lexemes-per-request buckets.
const LEXEME_BUCKETS: &[f64] =
    &[0.0, 1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0];

/// How often the recorder drains histogram data.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Errors raised while setting up telemetry.
#[derive(Debug, Error)]
pub enum TelemetryError {
    /// Occurs when the log filter directive does not parse.
    #[error("invalid log filter {directive:?}")]
    Filter {
        /// The directive.
        directive: String,
        /// Why it does not parse.
        source: tracing_subscriber::filter::ParseError,
    },
    /// Occurs when a global `tracing` subscriber is already installed.
    #[error("a log subscriber is already installed: {0}")]
    AlreadyInstalled(String),
}

/// Installs the global `tracing` subscriber: `settings.format` lines on standard error,
/// filtered by `settings.filter`.
///
/// # Errors
///
/// Returns an error if the filter does not parse or a subscriber is already installed.
pub fn init_logging(settings: &LogSettings) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_new(&settings.filter)
        .map_err(|source| TelemetryError::Filter { directive: settings.filter.clone(), source })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let installed = match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
    installed.map_err(|err| TelemetryError::AlreadyInstalled(err.to_string()))
}

/// The process-wide Prometheus recorder's handle, installing the recorder on first use.
///
/// The first call also describes every metric and starts a thread that runs the recorder's
/// upkeep every few seconds, so histograms are drained even when nobody scrapes.
///
/// # Panics
///
/// Panics if another `metrics` recorder was installed first, which nlpd never does.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_REQUEST_DURATION.to_owned()),
                    DURATION_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(ZONE_TRANSIENT_LEXEMES.to_owned()),
                        LEXEME_BUCKETS,
                    )
                })
                .expect("bucket lists are not empty. This is a bug.")
                .install_recorder()
                .expect("nlpd installs the only metrics recorder. This is a bug.");
            describe_metrics();
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("nlpd-metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                })
                .expect("the metrics upkeep thread starts");
            handle
        })
        .clone()
}

fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(VOCAB_LEXEMES, Unit::Count, "Lexemes in the vocabulary by kind.");
    describe_gauge!(VOCAB_STRINGS, Unit::Count, "Strings in the vocabulary by kind.");
    describe_gauge!(VOCAB_ACTIVE_ZONES, Unit::Count, "Memory zones currently open.");
    describe_gauge!(VOCAB_ZONE_BYTES, Unit::Bytes, "Bytes held by open memory zones.");
    describe_histogram!(
        ZONE_TRANSIENT_LEXEMES,
        Unit::Count,
        "Transient lexemes in a request's memory zone when it closed."
    );
    describe_gauge!(DOC_TENSOR_BYTES, Unit::Bytes, "Bytes held by live document tensors.");
    describe_counter!(HTTP_REQUESTS, Unit::Count, "HTTP requests by method, route and status.");
    describe_histogram!(HTTP_REQUEST_DURATION, Unit::Seconds, "HTTP request duration.");
    describe_gauge!(HTTP_REQUESTS_IN_FLIGHT, Unit::Count, "HTTP requests being served.");
    describe_counter!(
        HTTP_REQUESTS_REJECTED,
        Unit::Count,
        "HTTP requests answered with an error, by error code."
    );
    describe_counter!(PARSE_WORDS, Unit::Count, "Words processed by /parse.");
    describe_gauge!(PROCESS_RESIDENT_BYTES, Unit::Bytes, "Resident memory of the process.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_house_pattern() {
        let names = [
            VOCAB_LEXEMES,
            VOCAB_STRINGS,
            VOCAB_ACTIVE_ZONES,
            VOCAB_ZONE_BYTES,
            ZONE_TRANSIENT_LEXEMES,
            DOC_TENSOR_BYTES,
            HTTP_REQUESTS,
            HTTP_REQUEST_DURATION,
            HTTP_REQUESTS_IN_FLIGHT,
            HTTP_REQUESTS_REJECTED,
            PARSE_WORDS,
            PROCESS_RESIDENT_BYTES,
        ];
        for name in names {
            assert!(name.starts_with("nlpd_"), "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{name}");
        }
        let mut unique = names.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn recorder_is_installed_once_and_renders() {
        let first = prometheus();
        metrics::counter!(PARSE_WORDS).increment(0);
        assert!(prometheus().render().contains(PARSE_WORDS));
        drop(first);
    }
}
