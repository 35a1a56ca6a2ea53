//! [`MemoryZoneLayer`]: one memory zone per request, rolled back however the request ends.
//!
//! # Overview
//!
//! [`MemoryZoneLayer`] wraps a service in [`MemoryZone`]. For each request it opens a zone
//! on the vocabulary, puts it in a [`ZoneSlot`] stored as a request extension, and returns a
//! [`ResponseFuture`] that closes whatever is still in the slot when the response is ready
//! or when the future is dropped (the client went away, the timeout fired, a panic unwound).
//!
//! The handler takes the zone out with the [`RequestZone`] extractor and moves it, by value,
//! into its NLP job: the documents that borrow it never leave that job, and the zone closes
//! when the job ends. Exactly one owner at a time (the slot, then the job) is what lets the
//! layer close a zone the handler never took; a shared `Arc<Zone>` could not guarantee
//! that the zone is gone when the request is. A [`RequestZone`] records how many
//! transient lexemes it held when it is dropped, so the histogram sees every request,
//! whichever path closed its zone.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::http::Request;
use axum::http::request::Parts;
use parking_lot::Mutex;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::error::ApiError;
use crate::telemetry;
use crate::vocab::{Vocab, Zone};

/// A request's memory zone, owned.
///
/// Documents made from [`RequestZone::zone`] borrow it, so they cannot outlive it. Dropping
/// it records its transient lexemes in [`telemetry::ZONE_TRANSIENT_LEXEMES`] and rolls the
/// zone back.
#[derive(Debug)]
pub(crate) struct RequestZone {
    zone: Zone<'static>,
}

impl RequestZone {
    /// The zone, for making documents.
    pub(crate) fn zone(&self) -> &Zone<'static> {
        &self.zone
    }
}

impl Drop for RequestZone {
    fn drop(&mut self) {
        // Precision loss above 2^53 lexemes is irrelevant for a histogram.
        #[allow(clippy::cast_precision_loss)]
        let transient = self.zone.transient_lexemes() as f64;
        metrics::histogram!(telemetry::ZONE_TRANSIENT_LEXEMES).record(transient);
    }
}

/// Hands a request's zone from [`MemoryZone`] to the handler.
///
/// A request extension must be `Clone`, but the zone must have one owner: the slot keeps
/// it behind a mutex that is locked only to take it out.
#[derive(Clone, Debug)]
pub(crate) struct ZoneSlot(Arc<Mutex<Option<RequestZone>>>);

impl ZoneSlot {
    fn open(vocab: &Vocab) -> Self {
        Self(Arc::new(Mutex::new(Some(RequestZone { zone: vocab.zone() }))))
    }

    /// Takes the zone out, leaving the slot empty. Returns `None` if it was already taken
    /// or closed.
    fn take(&self) -> Option<RequestZone> {
        self.0.lock().take()
    }

    /// Closes the zone unless the handler took it.
    fn close(&self) {
        drop(self.take());
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestZone {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ZoneSlot>().and_then(ZoneSlot::take).ok_or_else(|| {
            ApiError::Internal(
                "no memory zone for this request (MemoryZoneLayer missing, or the zone was \
                 taken twice). This is a bug."
                    .to_owned(),
            )
        })
    }
}

/// A [`Layer`] giving every request its own memory zone on `vocab`.
#[derive(Clone, Debug)]
pub(crate) struct MemoryZoneLayer {
    vocab: Vocab,
}

impl MemoryZoneLayer {
    /// A layer opening zones on `vocab`.
    pub(crate) fn new(vocab: Vocab) -> Self {
        Self { vocab }
    }
}

impl<S> Layer<S> for MemoryZoneLayer {
    type Service = MemoryZone<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MemoryZone { inner, vocab: self.vocab.clone() }
    }
}

/// The service made by [`MemoryZoneLayer`].
#[derive(Clone, Debug)]
pub(crate) struct MemoryZone<S> {
    inner: S,
    vocab: Vocab,
}

impl<S, B> Service<Request<B>> for MemoryZone<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let slot = ZoneSlot::open(&self.vocab);
        request.extensions_mut().insert(slot.clone());
        ResponseFuture { inner: self.inner.call(request), guard: CloseOnDrop(slot) }
    }
}

/// Closes the zone left in a slot when dropped.
#[derive(Debug)]
struct CloseOnDrop(ZoneSlot);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

pin_project! {
    /// The response future of [`MemoryZone`]: closes the request's zone (if the handler did
    /// not take it) when the response is ready or the future is dropped.
    #[derive(Debug)]
    pub(crate) struct ResponseFuture<F> {
        #[pin]
        inner: F,
        guard: CloseOnDrop,
    }
}

impl<F: Future> Future for ResponseFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        this.guard.0.close();
        Poll::Ready(output)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::ServiceExt;

    use super::*;

    /// A handler stand-in: `take` decides whether it takes the zone, `words` are interned.
    fn service(
        take: bool,
        words: &'static [&'static str],
    ) -> MemoryZone<impl Service<Request<()>, Response = usize, Error = Infallible> + Clone> {
        let inner = tower::service_fn(move |request: Request<()>| async move {
            let slot = request.extensions().get::<ZoneSlot>().expect("slot").clone();
            let intern = |zone: &RequestZone| {
                for word in words {
                    zone.zone().lexeme(word);
                }
                zone.zone().transient_lexemes()
            };
            let transient = if take {
                intern(&slot.take().expect("zone"))
            } else {
                intern(slot.0.lock().as_ref().expect("zone"))
            };
            Ok::<_, Infallible>(transient)
        });
        MemoryZoneLayer::new(Vocab::new()).layer(inner)
    }

    #[tokio::test]
    async fn zone_is_closed_whether_or_not_the_handler_takes_it() {
        for take in [true, false] {
            let svc = service(take, &["zyzzyva", "quokkas"]);
            let vocab = svc.vocab.clone();
            let transient = svc.oneshot(Request::new(())).await.expect("infallible");
            assert_eq!(transient, 2, "take={take}");
            assert_eq!(vocab.stats(), Vocab::new().stats(), "take={take}");
        }
    }

    #[tokio::test]
    async fn zone_is_closed_when_the_future_is_dropped() {
        let pending =
            tower::service_fn(|_: Request<()>| std::future::pending::<Result<(), Infallible>>());
        let vocab = Vocab::new();
        let mut svc = MemoryZoneLayer::new(vocab.clone()).layer(pending);
        let future = svc.call(Request::new(()));
        assert_eq!(vocab.stats().active_zones, 1);
        drop(future);
        assert_eq!(vocab.stats().active_zones, 0);
    }

    #[tokio::test]
    async fn extractor_takes_the_zone_once() {
        let vocab = Vocab::new();
        let slot = ZoneSlot::open(&vocab);
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.extensions.insert(slot);
        let zone = RequestZone::from_request_parts(&mut parts, &()).await.expect("first take");
        let again = RequestZone::from_request_parts(&mut parts, &()).await;
        assert!(matches!(again, Err(ApiError::Internal(_))));
        drop(zone);
        assert_eq!(vocab.stats().active_zones, 0);
    }
}
