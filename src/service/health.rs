//! `GET /healthz` (the process is alive) and `GET /readyz` (it should get traffic).
//!
//! # Overview
//!
//! [`Readiness`] is a flag shared by the state and the shutdown sequence. The pipeline is
//! loaded before the server binds, so a running server is ready until a shutdown signal
//! calls [`Readiness::drain`]; from then on `/readyz` answers 503 so load balancers stop
//! sending traffic while in-flight requests finish. `/healthz` answers 200 as long as the
//! process can answer at all: a draining server is still alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;

/// Whether the server accepts new work. Clones share one flag.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
}

impl Readiness {
    /// Whether the server is ready for traffic (not draining).
    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst)
    }

    /// Marks the server as draining: `/readyz` answers 503 from now on.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }
}

/// The body of `/healthz`.
#[derive(Debug, Serialize)]
pub(super) struct Health {
    status: &'static str,
}

/// The body of `/readyz`.
#[derive(Debug, Serialize)]
pub(super) struct Ready {
    status: &'static str,
    generation: usize,
    components: Vec<&'static str>,
}

/// `GET /healthz`: 200 while the process runs.
pub(super) async fn healthz() -> Json<Health> {
    Json(Health { status: "alive" })
}

/// `GET /readyz`: 200 when the pipeline is loaded and the server is not draining, else 503.
pub(super) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let (status, word) = if state.readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "draining")
    };
    let pipeline = &state.pipeline;
    let body = Ready {
        status: word,
        generation: pipeline.vocab().generation(),
        components: pipeline.component_names().collect(),
    };
    (status, Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draining_is_shared_and_final() {
        let readiness = Readiness::default();
        let clone = readiness.clone();
        assert!(clone.is_ready());
        readiness.drain();
        assert!(!clone.is_ready());
        readiness.drain();
        assert!(!readiness.is_ready());
    }
}
