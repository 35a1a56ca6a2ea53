//! Serving until a shutdown signal, then draining within a grace period.
//!
//! # Overview
//!
//! [`serve`] accepts connections while fewer than `server.max_connections` are open (the
//! others wait in the listen queue) and serves each on its own task
//! (`connection::serve_connection`, which also closes slow clients). It logs one
//! `listening` event whose `addr` field is the bound address (tests and scripts read it
//! when they bind port 0). When its `shutdown` future resolves ([`signal`] in production:
//! SIGTERM or Ctrl-C) it reports not-ready at once, stops accepting, closes every
//! connection that is idle or still receiving a header, lets in-flight requests finish,
//! and returns; if they take longer than `server.shutdown_grace_secs`, it returns anyway
//! and drops the connections still open (`nlpd serve` then shuts the runtime down
//! without waiting for leftover NLP jobs).

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::connection::{ConnectionLimits, serve_connection};
use super::{AppState, router};

/// How long accepting pauses after an error that is not one connection's (too many open
/// files, say), so a full descriptor table does not spin the accept loop.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `router(state)` on `listener` until `shutdown` resolves, then drains.
///
/// # Errors
///
/// Returns an error if the listener's address cannot be read.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let server = &state.settings.server;
    let (grace, limits) = (server.shutdown_grace, ConnectionLimits::new(server));
    let slots = Arc::new(Semaphore::new(server.max_connections.get()));
    let readiness = state.readiness.clone();
    let app = router(state);
    let (closing_tx, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    tracing::info!(%addr, "listening");
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => accepted,
        };
        let Some((stream, permit)) = accepted else { continue };
        connections.spawn(serve_connection(stream, app.clone(), limits, closing.clone(), permit));
        // Reap finished connections so the set holds only open ones.
        while connections.try_join_next().is_some() {}
    }
    readiness.drain();
    tracing::info!(grace_secs = grace.as_secs(), "shutting down: not ready, draining");
    drop(listener);
    // Every connection task holds a receiver, so the send cannot fail while any is open.
    let _ = closing_tx.send(true);
    let drained =
        tokio::time::timeout(grace, async { while connections.join_next().await.is_some() {} });
    if drained.await.is_ok() {
        tracing::info!("drained; exiting");
    } else {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "grace period over with requests still in flight; exiting"
        );
    }
    Ok(())
}

/// The next connection and its slot, once a slot is free; `None` after an accept error
/// (logged; after [`ACCEPT_BACKOFF`] unless it concerned only that connection).
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> Option<(tokio::net::TcpStream, tokio::sync::OwnedSemaphorePermit)> {
    let permit = Arc::clone(slots).acquire_owned().await.expect("the semaphore is never closed");
    match listener.accept().await {
        Ok((stream, _)) => Some((stream, permit)),
        Err(err) => {
            let one_connection = matches!(
                err.kind(),
                io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionRefused
            );
            tracing::warn!(%err, "accepting a connection failed");
            if !one_connection {
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
            None
        }
    }
}

/// A future resolving on the first SIGTERM or Ctrl-C (SIGINT).
///
/// The handlers are installed by this call, not when the future is first polled, so a
/// signal sent as soon as the server logs `listening` is never missed.
///
/// # Panics
///
/// Panics if the signal handlers cannot be installed (outside a tokio runtime).
pub fn signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let received = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).expect("the SIGTERM handler installs");
        let mut interrupt = signal(SignalKind::interrupt()).expect("the SIGINT handler installs");
        async move {
            tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            }
        }
    };
    #[cfg(not(unix))]
    let received = async {
        tokio::signal::ctrl_c().await.expect("the Ctrl-C handler installs");
        "Ctrl-C"
    };
    async move {
        let name = received.await;
        tracing::info!(signal = name, "shutdown signal received");
    }
}
