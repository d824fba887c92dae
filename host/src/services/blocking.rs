//! Running async API calls from the blocking threads that plugins run
//! on, and per-key locks that keep two calls from creating the same thing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::{CALL_TIMEOUT, ServiceError};

/// Runs `future` on the caller's tokio runtime and waits for it, at most
/// [`CALL_TIMEOUT`].
///
/// The future runs on a short-lived scoped thread, because
/// `Handle::block_on` panics on a thread that is already inside the
/// runtime, and a plugin may be called from either kind of thread.
pub(super) fn run_blocking<F>(future: F) -> Result<F::Output, ServiceError>
where
    F: Future + Send,
    F::Output: Send,
{
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        ServiceError::Unavailable("no async runtime to call WeChat from".to_owned())
    })?;
    let joined = std::thread::scope(|scope| {
        scope
            // The timer is created inside `block_on`, where the runtime
            // context is entered; outside it `timeout` panics.
            .spawn(|| handle.block_on(async { tokio::time::timeout(CALL_TIMEOUT, future).await }))
            .join()
    });
    match joined {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(_elapsed)) => Err(ServiceError::Unavailable(format!(
            "the WeChat API call timed out after {} ms",
            CALL_TIMEOUT.as_millis()
        ))),
        Err(_panic) => Err(ServiceError::Unavailable(
            "the WeChat API call panicked".to_owned(),
        )),
    }
}

/// One mutex per key, created on demand and removed when no caller holds
/// or waits for it.
#[derive(Default)]
pub(super) struct KeyedLocks {
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl KeyedLocks {
    /// Runs `work` while holding the lock of `key`.
    pub(super) fn with<T>(&self, key: &str, work: impl FnOnce() -> T) -> T {
        let lock = {
            let mut locks = self.map();
            Arc::clone(locks.entry(key.to_owned()).or_default())
        };
        let result = {
            let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
            work()
        };
        let mut locks = self.map();
        // The map and this function hold the only references when no
        // other caller holds or waits for the key.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(key);
        }
        result
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Mutex<()>>>> {
        self.locks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_locks_remove_idle_keys() {
        let locks = KeyedLocks::default();
        assert_eq!(locks.with("a", || 7), 7);
        assert!(locks.map().is_empty());
    }

    #[test]
    fn run_blocking_needs_a_runtime() {
        let result = run_blocking(async { 1 });
        assert_eq!(
            result,
            Err(ServiceError::Unavailable(
                "no async runtime to call WeChat from".to_owned()
            ))
        );
    }

    #[test]
    fn run_blocking_inside_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime builds");
        let value = runtime.block_on(async { run_blocking(async { 5 }) });
        assert_eq!(value, Ok(5));
    }
}
