//! [`NlpWorkers`]: a fixed pool of threads that run NLP work off the async reactor.
//!
//! # Overview
//!
//! Tokenizing, annotating and serialising are CPU work. [`NlpWorkers::run`] queues a job
//! for one of `limits.concurrency` long-lived worker threads and awaits its result, so the
//! reactor threads stay free for health checks and metrics. Requests beyond the worker
//! count wait in the queue, whose length the concurrency limit in front of `/parse`
//! bounds. Jobs run inside the caller's tracing span.
//!
//! The threads are fixed rather than tokio's blocking pool: that pool starts a new thread
//! whenever none is idle at the instant a job arrives and retires idle ones after a while,
//! so under steady load it keeps creating threads, and every new thread gets fresh malloc
//! arenas and stacks (resident memory crept up in the soak test). Fixed threads also keep
//! their caches warm.
//!
//! A job whose request was abandoned (client gone, timeout) still runs to the end of its
//! current document: it is told through a [`Cancellation`] so it can stop between
//! documents. A panic inside a job is caught on the worker (which lives on) and resumed on
//! the request's task.

use std::any::Any;
use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex};
use tokio::sync::oneshot;
use tracing::Span;

use super::error::ApiError;

/// A unit of work for a worker thread.
type Task = Box<dyn FnOnce() + Send>;

/// A fixed pool of NLP worker threads. Clones share the pool; the threads exit once the
/// last clone is dropped and the queue is empty.
#[derive(Clone, Debug)]
pub(crate) struct NlpWorkers {
    handle: Arc<PoolHandle>,
}

/// Owned by the [`NlpWorkers`] clones only: dropping it closes the queue.
#[derive(Debug)]
struct PoolHandle {
    queue: Arc<Queue>,
}

/// The jobs waiting for a worker.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    tasks: VecDeque<Task>,
    closed: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Queue")
            .field("waiting", &state.tasks.len())
            .field("closed", &state.closed)
            .finish()
    }
}

impl Queue {
    /// Takes the next task, waiting for one; `None` once the queue is closed and empty.
    fn next(&self) -> Option<Task> {
        let mut state = self.state.lock();
        loop {
            if let Some(task) = state.tasks.pop_front() {
                return Some(task);
            }
            if state.closed {
                return None;
            }
            self.ready.wait(&mut state);
        }
    }

    fn push(&self, task: Task) {
        self.state.lock().tasks.push_back(task);
        self.ready.notify_one();
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.queue.state.lock().closed = true;
        self.queue.ready.notify_all();
    }
}

/// Tells a running job whether its request was abandoned.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    /// Whether the request that started the job is gone (client disconnect, timeout).
    pub(crate) fn is_cancelled(&self) -> bool {
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
    /// A pool of `threads` worker threads, started now.
    ///
    /// # Panics
    ///
    /// Panics if the operating system refuses to start a thread.
    pub(crate) fn new(threads: NonZeroUsize) -> Self {
        let queue = Arc::new(Queue::default());
        for i in 0..threads.get() {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("nlpd-nlp-{i}"))
                .spawn(move || {
                    while let Some(task) = queue.next() {
                        task();
                    }
                })
                .expect("the OS starts an NLP worker thread");
        }
        Self { handle: Arc::new(PoolHandle { queue }) }
    }

    /// Runs `job` on a worker thread and returns its result.
    ///
    /// # Errors
    ///
    /// Returns [`ApiError::Internal`] if the pool shut down before running the job.
    ///
    /// # Panics
    ///
    /// A panic inside `job` is resumed here, on the request's task, so that the
    /// `CatchPanicLayer` answers it and every guard on the way unwinds.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Cancellation) -> T + Send + 'static,
    {
        let cancellation = Cancellation::default();
        let _cancel_on_drop = CancelOnDrop(cancellation.clone());
        let span = Span::current();
        let (done, result) = oneshot::channel::<Result<T, Box<dyn Any + Send>>>();
        self.handle.queue.push(Box::new(move || {
            let output = span.in_scope(|| catch_unwind(AssertUnwindSafe(|| job(&cancellation))));
            // The receiver is gone if the request was abandoned; the result is not needed.
            let _ = done.send(output);
        }));
        match result.await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => Err(ApiError::Internal("the NLP worker pool shut down".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_jobs_on_named_worker_threads() {
        let workers = NlpWorkers::new(NonZeroUsize::new(2).expect("2"));
        let cases = [(1, 2), (20, 40), (300, 600)];
        for (input, expected) in cases {
            assert_eq!(workers.run(move |_| input * 2).await.expect("ran"), expected);
        }
        let names: Vec<String> = thread_names(&workers).await;
        assert!(names.iter().all(|name| name.starts_with("nlpd-nlp-")), "{names:?}");
        assert_eq!(workers.handle.queue.state.lock().tasks.len(), 0, "no job waits");
    }

    async fn thread_names(workers: &NlpWorkers) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..4 {
            let name = workers
                .run(|_| std::thread::current().name().unwrap_or_default().to_owned())
                .await
                .expect("ran");
            names.push(name);
        }
        names
    }

    #[tokio::test]
    async fn dropped_requests_cancel_their_job() {
        let workers = NlpWorkers::new(NonZeroUsize::MIN);
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let (started_tx, started_rx) = oneshot::channel();
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
        // Bounded waits: a job that never starts or never sees its cancellation fails the
        // test instead of hanging it.
        let limit = Duration::from_secs(10);
        let started = tokio::time::timeout(limit, started_rx).await;
        started.expect("the job starts within 10 s").expect("job started");
        request.abort();
        let seen = tokio::task::spawn_blocking(move || seen_rx.recv_timeout(limit));
        seen.await.expect("join").expect("the job sees its cancellation within 10 s");
    }

    #[tokio::test]
    async fn panics_resume_on_the_caller_and_the_worker_lives_on() {
        let workers = NlpWorkers::new(NonZeroUsize::MIN);
        let panicking = workers.clone();
        let caller =
            tokio::spawn(async move { panicking.run(|_| -> () { panic!("component bug") }).await });
        let err = caller.await.expect_err("panicked");
        assert!(err.is_panic());
        assert_eq!(workers.run(|_| 7).await.expect("the one worker still runs"), 7);
    }

    #[test]
    fn workers_exit_when_the_pool_is_dropped() {
        let workers = NlpWorkers::new(NonZeroUsize::new(3).expect("3"));
        let queue = Arc::downgrade(&workers.handle.queue);
        drop(workers);
        // Each exiting worker drops its `Arc<Queue>`; wait for all three.
        for _ in 0..10_000 {
            if queue.strong_count() == 0 {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("workers still hold the queue");
    }
}
