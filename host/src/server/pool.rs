//! A small pool of threads that run plugin routes whose run time the
//! plugins' deadlines bound.
//!
//! A plugin call blocks its thread, so it cannot run on an async worker.
//! It cannot run there for a second reason: the WASI host functions
//! (a plugin's stderr, for one) call tokio's `block_on`, which panics on a
//! worker thread. `spawn_blocking` works, but costs more per call than
//! these threads, which stay parked on one queue between jobs.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tokio::sync::oneshot;

/// A job for a pool thread.
type Job = Box<dyn FnOnce() + Send>;

/// Threads per CPU. Routes are bounded by their deadlines but may wait on
/// SQLite, so a thread or two waiting does not stall every callback.
const THREADS_PER_CPU: usize = 2;

/// The pool that the callback handlers share.
pub(super) struct PluginPool {
    sender: Mutex<Sender<Job>>,
}

impl PluginPool {
    /// Returns the process-wide pool, starting its threads on first use.
    pub(super) fn global() -> &'static PluginPool {
        static POOL: OnceLock<PluginPool> = OnceLock::new();
        POOL.get_or_init(|| {
            let cpus = std::thread::available_parallelism().map_or(1, |count| count.get());
            PluginPool::start(cpus * THREADS_PER_CPU)
        })
    }

    fn start(threads: usize) -> PluginPool {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads {
            let receiver = receiver.clone();
            let started = std::thread::Builder::new()
                .name(format!("wxhost-plugin-{index}"))
                .spawn(move || run_jobs(&receiver));
            if let Err(err) = started {
                tracing::error!(error = %err, "failed to start a plugin pool thread");
            }
        }
        PluginPool {
            sender: Mutex::new(sender),
        }
    }

    /// Runs `work` on a pool thread. The receiver gets its result, or an
    /// error when `work` panicked.
    pub(super) fn run<T, F>(&self, work: F) -> oneshot::Receiver<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (result, receiver) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = result.send(work());
        });
        let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        // The threads hold the receiver for the life of the process, so
        // the send fails only when none of them could start. The dropped
        // job then closes the result channel.
        let _ = sender.send(job);
        receiver
    }
}

fn run_jobs(receiver: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let receiver = receiver.lock().unwrap_or_else(PoisonError::into_inner);
            receiver.recv()
        };
        let Ok(job) = job else {
            return;
        };
        // A panic drops the job's result sender, which the caller reports;
        // the thread stays in the pool.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_returns_result() {
        let pool = PluginPool::start(2);
        let value = pool.run(|| 6 * 7).await;
        assert_eq!(value, Ok(42));
    }

    #[tokio::test]
    async fn pool_survives_panic() {
        let pool = PluginPool::start(1);
        let failed = pool
            .run(|| -> u32 { panic!("plugin route panicked") })
            .await;
        assert!(failed.is_err());
        let value = pool.run(|| 5).await;
        assert_eq!(value, Ok(5));
    }
}
