//! Reading a `/parse` body whole, before the request may take an NLP worker slot.
//!
//! # Overview
//!
//! [`read_body`] runs in front of load shedding and the concurrency limit, so a client
//! that uploads slowly (or stops half-way) holds only its connection, never one of the
//! `concurrency + queue` slots that complete requests need. It answers
//!
//! - 413 at once when `Content-Length` is above `limits.max_body_bytes`, without reading
//!   the body (so hyper never sends `100 Continue` for it);
//! - 413 as soon as a body without `Content-Length` grows past the limit;
//! - 408 when the next piece of the body does not arrive within `server.body_timeout_secs`;
//!
//! and otherwise passes the request on with its body in memory.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;

use super::error::ApiError;

/// The bounds of a body read by [`read_body`].
#[derive(Clone, Copy, Debug)]
pub(super) struct BodyBounds {
    /// Largest body accepted, in bytes.
    pub(super) max_bytes: usize,
    /// Longest wait for the next piece of the body.
    pub(super) piece_timeout: Duration,
}

/// Middleware: reads the request's body whole within `bounds`, then runs `next` on it.
pub(super) async fn read_body(
    State(bounds): State<BodyBounds>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > bounds.max_bytes as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    let (parts, body) = request.into_parts();
    match collect(body, bounds).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(err) => err.into_response(),
    }
}

/// The whole of `body`, piece by piece, each within `bounds.piece_timeout`.
async fn collect(mut body: Body, bounds: BodyBounds) -> Result<Bytes, ApiError> {
    let mut bytes = Vec::new();
    loop {
        let frame = tokio::time::timeout(bounds.piece_timeout, body.frame())
            .await
            .map_err(|_| ApiError::BodyTimeout)?;
        let Some(frame) = frame else { return Ok(Bytes::from(bytes)) };
        let frame =
            frame.map_err(|err| ApiError::BadBody(format!("cannot read the body: {err}")))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > bounds.max_bytes {
                return Err(ApiError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&data);
        }
    }
}
