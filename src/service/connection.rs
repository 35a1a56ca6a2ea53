//! One client connection: served by hyper (HTTP/1.1), closed when the client is too slow.
//!
//! # Overview
//!
//! A connection's [`Activity`] records what it is doing: waiting for a request's header,
//! serving a request, or idle between requests, and since when its writes have been stuck.
//! The socket ([`WatchedIo`]) and the service wrapper in [`serve_connection`] report to it;
//! a watchdog ([`Activity::expired`]) closes the connection (by dropping it) when
//!
//! - a request's header is not complete `header_read_timeout` after the connection opened
//!   or after the first byte of a later request arrived (half-sent or never-sent headers);
//! - a kept-alive connection has had no request for `idle_timeout`;
//! - the client has taken none of a response for `body_timeout` (it never reads).
//!
//! A slow request *body* is bounded by the `read_body` middleware, which answers 408.
//! When the server shuts down, a connection that is idle or still receiving a header is
//! closed at once; one serving a request finishes that response, then closes.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, OwnedSemaphorePermit, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerSettings;

/// How long a connection may spend in each phase (from `[server]`).
#[derive(Clone, Copy, Debug)]
pub(super) struct ConnectionLimits {
    header_read: Duration,
    idle: Duration,
    stalled_write: Duration,
}

impl ConnectionLimits {
    /// The limits set in `settings`.
    pub(super) fn new(settings: &ServerSettings) -> Self {
        Self {
            header_read: settings.header_read_timeout,
            idle: settings.idle_timeout,
            stalled_write: settings.body_timeout,
        }
    }
}

/// Why the watchdog closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expiry {
    /// The request's header did not arrive in time.
    HeaderRead,
    /// No request came on a kept-alive connection.
    Idle,
    /// The client took none of the response.
    StalledWrite,
}

/// What a connection is doing, as far as its deadlines go.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a request's header, since the connection opened or since the first
    /// byte of the request arrived.
    Header(Instant),
    /// Serving a request: its body and its handling have deadlines of their own.
    Busy,
    /// Kept alive between requests, since the last response ended.
    Idle(Instant),
}

#[derive(Debug)]
struct ActivityState {
    phase: Phase,
    write_stuck_since: Option<Instant>,
}

/// A connection's phase and write progress, shared by its socket, its service and its
/// watchdog.
#[derive(Debug)]
struct Activity {
    state: Mutex<ActivityState>,
    /// Woken when a deadline may have moved earlier.
    changed: Notify,
}

impl Activity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(ActivityState {
                phase: Phase::Header(Instant::now()),
                write_stuck_since: None,
            }),
            changed: Notify::new(),
        })
    }

    /// Bytes arrived: on an idle connection, a request's header has begun.
    fn bytes_read(&self) {
        let mut state = self.state.lock();
        if let Phase::Idle(_) = state.phase {
            state.phase = Phase::Header(Instant::now());
            self.changed.notify_one();
        }
    }

    fn request_started(&self) {
        self.state.lock().phase = Phase::Busy;
    }

    fn response_ended(&self) {
        self.state.lock().phase = Phase::Idle(Instant::now());
        self.changed.notify_one();
    }

    fn write_stuck(&self) {
        let mut state = self.state.lock();
        if state.write_stuck_since.is_none() {
            state.write_stuck_since = Some(Instant::now());
            self.changed.notify_one();
        }
    }

    fn write_progressed(&self) {
        self.state.lock().write_stuck_since = None;
    }

    /// Whether the connection may be closed at once on shutdown: no request in progress.
    fn is_between_requests(&self) -> bool {
        !matches!(self.state.lock().phase, Phase::Busy)
    }

    /// The earliest deadline now running, and what passing it means.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, Expiry)> {
        let state = self.state.lock();
        let phase = match state.phase {
            Phase::Header(since) => Some((since + limits.header_read, Expiry::HeaderRead)),
            Phase::Idle(since) => Some((since + limits.idle, Expiry::Idle)),
            Phase::Busy => None,
        };
        let write = state
            .write_stuck_since
            .map(|since| (since + limits.stalled_write, Expiry::StalledWrite));
        match (phase, write) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Resolves when a deadline has passed.
    async fn expired(&self, limits: &ConnectionLimits) -> Expiry {
        loop {
            match self.deadline(limits) {
                Some((deadline, expiry)) if deadline <= Instant::now() => return expiry,
                Some((deadline, _)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = self.changed.notified() => {}
                    }
                }
                None => self.changed.notified().await,
            }
        }
    }
}

pin_project! {
    /// A socket that reports reads and write progress to its connection's [`Activity`].
    struct WatchedIo {
        #[pin]
        stream: TcpStream,
        activity: Arc<Activity>,
    }
}

impl WatchedIo {
    fn on_write<T>(activity: &Activity, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match &poll {
            Poll::Pending => activity.write_stuck(),
            Poll::Ready(_) => activity.write_progressed(),
        }
        poll
    }
}

impl AsyncRead for WatchedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let poll = this.stream.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.bytes_read();
        }
        poll
    }
}

impl AsyncWrite for WatchedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        Self::on_write(this.activity, this.stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        Self::on_write(this.activity, this.stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        Self::on_write(this.activity, this.stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().stream.poll_shutdown(cx)
    }
}

/// Reports the end of a response (its body fully written, or dropped) when dropped.
struct ResponseEnd(Arc<Activity>);

impl Drop for ResponseEnd {
    fn drop(&mut self) {
        self.0.response_ended();
    }
}

/// Serves `router` on `stream` until the client closes, the watchdog closes it, or the
/// server shuts down (`shutdown` turns true). `permit` is the connection's slot under
/// `server.max_connections`, held until it closes.
pub(super) async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let activity = Activity::new();
    let io = TokioIo::new(WatchedIo { stream, activity: Arc::clone(&activity) });
    let service = hyper::service::service_fn({
        let activity = Arc::clone(&activity);
        move |request: Request<Incoming>| {
            activity.request_started();
            let end = ResponseEnd(Arc::clone(&activity));
            let response = router.clone().oneshot(request.map(Body::new));
            async move {
                let response = response.await?;
                // The closure owns `end`, so the response ends when hyper drops its body.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &end;
                        frame
                    }))
                }))
            }
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
    let mut connection = std::pin::pin!(connection);
    let mut draining = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%err, "connection ended with an error");
                }
                break;
            }
            expiry = activity.expired(&limits) => {
                tracing::debug!(?expiry, "closing a connection whose client is too slow");
                break;
            }
            _ = shutdown.wait_for(|closing| *closing), if !draining => {
                draining = true;
                if activity.is_between_requests() {
                    break;
                }
                connection.as_mut().graceful_shutdown();
            }
        }
    }
    drop(permit);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            stalled_write: Duration::from_secs(5),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_phase_runs_its_own_deadline() {
        let activity = Activity::new();
        let start = Instant::now();
        assert_eq!(
            activity.deadline(&limits()),
            Some((start + limits().header_read, Expiry::HeaderRead))
        );
        activity.request_started();
        assert_eq!(activity.deadline(&limits()), None, "a request in progress has none here");
        tokio::time::advance(Duration::from_secs(1)).await;
        activity.response_ended();
        let ended = Instant::now();
        assert_eq!(activity.deadline(&limits()), Some((ended + limits().idle, Expiry::Idle)));
        activity.write_stuck();
        assert_eq!(
            activity.deadline(&limits()),
            Some((ended + limits().stalled_write, Expiry::StalledWrite)),
            "the earlier deadline wins"
        );
        activity.write_progressed();
        tokio::time::advance(Duration::from_secs(2)).await;
        activity.bytes_read();
        assert_eq!(
            activity.deadline(&limits()),
            Some((Instant::now() + limits().header_read, Expiry::HeaderRead)),
            "the first byte of a request starts the header deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_fires_when_a_deadline_passes() {
        let activity = Activity::new();
        let start = Instant::now();
        assert_eq!(activity.expired(&limits()).await, Expiry::HeaderRead);
        assert_eq!(Instant::now() - start, limits().header_read);
    }
}
