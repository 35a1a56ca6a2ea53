//! [`NlpWorkers`]: runs blocking NLP work off the async reactor, a bounded number at once.
//!
//! # Overview
//!
//! Tokenizing, annotating and serialising are CPU work. [`NlpWorkers::run`] waits for one
//! of `limits.concurrency` permits (requests beyond that queue here, bounded by the
//! concurrency limit in front of `/parse`), then runs the job on tokio's blocking pool
//! inside the caller's tracing span, so the reactor threads stay free for health checks
//! and metrics. The permit travels with the job, so a job whose request was abandoned
//! still counts against the limit until it really stops; the job is told through a
//! [`Cancellation`] so it can stop early between documents.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;
use tracing::Span;

use super::error::ApiError;

/// A bounded pool of blocking NLP workers.
#[derive(Clone, Debug)]
pub struct NlpWorkers {
    permits: Arc<Semaphore>,
}

/// Tells a running job whether its request was abandoned.
#[derive(Clone, Debug, Default)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    /// Whether the request that started the job is gone (client disconnect, timeout).
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Cancels the job when the awaiting future is dropped before the job ends.
struct CancelOnDrop(Cancellation);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        (self.0).0.store(true, Ordering::Relaxed);
    }
}

impl NlpWorkers {
    /// A pool running at most `concurrency` jobs at once.
    pub fn new(concurrency: NonZeroUsize) -> Self {
        Self { permits: Arc::new(Semaphore::new(concurrency.get())) }
    }

    /// Jobs that could start right now.
    pub fn idle(&self) -> usize {
        self.permits.available_permits()
    }

    /// Runs `job` on a blocking thread once a worker is free and returns its result.
    ///
    /// # Errors
    ///
    /// Returns [`ApiError::Internal`] if the blocking task is cancelled by the runtime
    /// shutting down.
    ///
    /// # Panics
    ///
    /// A panic inside `job` is resumed here, on the request's task, so that the
    /// `CatchPanicLayer` answers it and every guard on the way unwinds.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Cancellation) -> T + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .expect("the worker semaphore is never closed. This is a bug.");
        let cancellation = Cancellation::default();
        let _cancel_on_drop = CancelOnDrop(cancellation.clone());
        let span = Span::current();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| job(&cancellation))
        });
        match task.await {
            Ok(output) => Ok(output),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(ApiError::Internal(format!("NLP worker task failed: {err}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_returns_permits() {
        let workers = NlpWorkers::new(NonZeroUsize::new(2).expect("2"));
        let cases = [(1, 2), (20, 40)];
        for (input, expected) in cases {
            assert_eq!(workers.run(move |_| input * 2).await.expect("ran"), expected);
        }
        assert_eq!(workers.idle(), 2);
    }

    #[tokio::test]
    async fn dropped_requests_cancel_their_job() {
        let workers = NlpWorkers::new(NonZeroUsize::MIN);
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let request = tokio::spawn(async move {
            workers
                .run(move |cancel| {
                    started_tx.send(()).expect("test waits");
                    while !cancel.is_cancelled() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    seen_tx.send(()).expect("test waits");
                })
                .await
        });
        started_rx.await.expect("job started");
        request.abort();
        tokio::task::spawn_blocking(move || seen_rx.recv()).await.expect("join").expect("saw it");
    }

    #[tokio::test]
    async fn panics_resume_on_the_caller() {
        let workers = NlpWorkers::new(NonZeroUsize::MIN);
        let caller =
            tokio::spawn(async move { workers.run(|_| -> () { panic!("component bug") }).await });
        let err = caller.await.expect_err("panicked");
        assert!(err.is_panic());
    }
}
