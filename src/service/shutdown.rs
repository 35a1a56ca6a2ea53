//! Serving until a shutdown signal, then draining within a grace period.
//!
//! # Overview
//!
//! [`serve`] runs the router on a listener and logs one `listening` event whose `addr`
//! field is the bound address (tests and scripts read it when they bind port 0). When its
//! `shutdown` future resolves ([`signal`] in production: SIGTERM or Ctrl-C) it reports
//! not-ready at once, stops accepting connections, lets in-flight requests finish, and
//! returns; if they take longer than `server.shutdown_grace_secs`, it returns anyway and
//! the connections still open end when the runtime shuts down (`nlpd serve` shuts it down
//! right after, without waiting for leftover NLP jobs).

use std::future::{Future, IntoFuture};
use std::io;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{AppState, router};

/// Serves `router(state)` on `listener` until `shutdown` resolves, then drains.
///
/// # Errors
///
/// Returns an error if the listener's address cannot be read or the server fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let grace = state.settings.server.shutdown_grace;
    let readiness = state.readiness.clone();
    let (draining_tx, draining_rx) = oneshot::channel();
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        shutdown.await;
        readiness.drain();
        tracing::info!(grace_secs = grace.as_secs(), "shutting down: not ready, draining");
        // The receiver is gone only if `serve` itself was dropped.
        let _ = draining_tx.send(());
    });
    tracing::info!(%addr, "listening");
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => return result,
        _ = draining_rx => {}
    }
    match tokio::time::timeout(grace, server).await {
        Ok(result) => {
            tracing::info!("drained; exiting");
            result
        }
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "grace period over with requests still in flight; exiting"
            );
            Ok(())
        }
    }
}

/// Resolves on the first SIGTERM or Ctrl-C (SIGINT).
///
/// # Panics
///
/// Panics if the signal handlers cannot be installed (outside a tokio runtime).
pub async fn signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.expect("the Ctrl-C handler installs");
        "SIGINT"
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler installs")
            .recv()
            .await;
        "SIGTERM"
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<&str>();
    let name = tokio::select! {
        name = ctrl_c => name,
        name = terminate => name,
    };
    tracing::info!(signal = name, "shutdown signal received");
}
