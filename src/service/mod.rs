//! The HTTP service: `POST /parse`, `GET /metrics`, `GET /healthz`, `GET /readyz`, and
//! with `server.ui` the analysis page `GET /` and `POST /render`.
//!
//! # Overview
//!
//! [`router`] builds the one [`Router`] used by `nlpd serve` and by the tests, over an
//! [`AppState`] holding the pipeline (loaded once, shared read-only), the Prometheus
//! handle, the readiness flag, the NLP worker pool and the settings. [`serve`] runs it on a
//! listener until a shutdown signal and drains it.
//!
//! Layers, outermost first:
//!
//! ```text
//! every route:  request id → trace → metrics (count) → catch panic (JSON 500) → timeout (504)
//! POST /parse,   read the body whole (413, 408) → load shed + concurrency limit
//! POST /render:  (503 + Retry-After) → MemoryZoneLayer → handler (blocking work on NlpWorkers)
//! ```
//!
//! `/parse` and `/render` share one concurrency limit (and one worker pool), so together
//! they hold at most `limits.concurrency + limits.queue` requests.
//!
//! The body is read before a request may take a worker slot, so slow uploads hold only
//! their connections. Each connection is bounded in time and number (see `connection`).
//! Shedding, the body limit and the zone apply to those two only: a saturated parser must
//! not fail liveness probes or scrapes, and a zone opened for `/metrics` would show up in
//! the very gauges it reports. Every error, including unknown routes (404), wrong methods
//! (405), extractor rejections and panics, is answered as an `ApiError`.

mod connection;
mod error;
mod health;
mod metrics;
mod parse;
mod pool;
mod read_body;
mod shutdown;
mod ui;
mod zone_layer;

use std::any::Any;
use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};
use tower_http::ServiceBuilderExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::MakeRequestUuid;
use tower_http::trace::TraceLayer;

pub use health::Readiness;
pub use shutdown::{serve, signal};

use self::error::ApiError;
use self::pool::NlpWorkers;
use self::zone_layer::MemoryZoneLayer;

use crate::config::Settings;
use crate::pipeline::Pipeline;

/// State shared by every request. Cloning is cheap (reference counts).
#[derive(Clone, Debug)]
pub struct AppState {
    pipeline: Arc<Pipeline>,
    metrics: PrometheusHandle,
    readiness: Readiness,
    workers: NlpWorkers,
    settings: Arc<Settings>,
}

impl AppState {
    /// State serving `pipeline` under `settings`, recording into the process-wide
    /// Prometheus recorder (installed on first use).
    pub fn new(pipeline: Pipeline, settings: Settings) -> Self {
        Self {
            pipeline: Arc::new(pipeline),
            metrics: crate::telemetry::prometheus(),
            readiness: Readiness::default(),
            workers: NlpWorkers::new(settings.limits.concurrency),
            settings: Arc::new(settings),
        }
    }

    /// The shared pipeline.
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.pipeline
    }

    /// The readiness flag (`/readyz`).
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// The settings the state was built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// The service's router, with every layer, over `state`.
///
/// ```
/// use nlpd::config::Settings;
/// use nlpd::pipeline::Pipeline;
/// use nlpd::service::{AppState, router};
///
/// let app = router(AppState::new(Pipeline::tokenizer_only(), Settings::default()));
/// // Serve it with `nlpd::service::serve`, or drive it with `tower::ServiceExt::oneshot`.
/// # drop(app);
/// ```
pub fn router(state: AppState) -> Router {
    let limits = &state.settings.limits;
    let retry_after = limits.retry_after;
    let bounds = read_body::BodyBounds {
        max_bytes: limits.max_body_bytes.get(),
        piece_timeout: state.settings.server.body_timeout,
    };
    let middleware_error =
        move |err: BoxError| async move { ApiError::from_middleware(&err, retry_after) };
    let parse_layers = ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(bounds, read_body::read_body))
        .layer(HandleErrorLayer::new(middleware_error))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.concurrency.get() + limits.queue))
        // `read_body` enforces the limit; the extractor's own default (2 MiB) must not.
        .layer(DefaultBodyLimit::disable())
        .layer(MemoryZoneLayer::new(state.pipeline.vocab().clone()));
    let common_layers = ServiceBuilder::new()
        .set_x_request_id(MakeRequestUuid)
        .layer(
            // Failures are not logged here: internal errors log their cause themselves, and
            // shed or timed-out requests (one line each under overload) show in /metrics.
            TraceLayer::new_for_http().make_span_with(request_span).on_failure(()),
        )
        .propagate_x_request_id()
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(HandleErrorLayer::new(middleware_error))
        .timeout(state.settings.server.request_timeout);
    let mut routes = Router::new()
        .route("/parse", post(parse::parse).route_layer(parse_layers.clone()))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics));
    if state.settings.server.ui {
        routes = routes.route("/render", post(ui::render).route_layer(parse_layers));
        for (path, content_type, body) in ui::ASSETS {
            routes = routes.route(path, get(move || async move { ui::asset(content_type, body) }));
        }
    }
    routes
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(common_layers)
        .with_state(state)
}

/// The span of one request: method, route template and request id, never the raw path or
/// the body.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", axum::extract::MatchedPath::as_str);
    let request_id =
        request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("");
    tracing::info_span!("request", method = %request.method(), route, request_id)
}

/// Answers a panic as a JSON 500; the panic message is logged, not sent.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic.downcast_ref::<&str>().map_or("(non-string payload)", |s| s).to_owned(),
    };
    ApiError::Internal(format!("panic: {message}")).into_response()
}
