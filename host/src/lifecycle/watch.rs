//! Noticing changed plugin files and SIGHUP.
//!
//! The watcher polls: every `reload.poll_interval_ms` it compares each
//! plugin file's modification time and size with the last check, and
//! reads and hashes only the files that changed. Polling works the same
//! on every file system, including network and container mounts where
//! inotify events go missing, and a file replaced by rename is seen like
//! one written in place.

use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use super::Lifecycle;

/// Returns the modification time and size of `path`, or none when it
/// cannot be read.
pub fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

/// Starts the task that polls the plugin files of `lifecycle` until the
/// lifecycle is dropped.
pub fn spawn_watcher(lifecycle: &Arc<Lifecycle>) -> tokio::task::JoinHandle<()> {
    let weak: Weak<Lifecycle> = Arc::downgrade(lifecycle);
    tokio::spawn(async move {
        loop {
            let interval = match weak.upgrade() {
                Some(lifecycle) => {
                    let reload = lifecycle.live().config.reload.clone();
                    if reload.watch {
                        lifecycle.reload_plugins(false).await;
                    }
                    Duration::from_millis(reload.poll_interval_ms)
                }
                None => return,
            };
            tokio::time::sleep(interval).await;
        }
    })
}

/// Starts the task that reloads the config and the plugin files on each
/// SIGHUP. Does nothing on platforms without signals.
pub fn spawn_sighup(lifecycle: &Arc<Lifecycle>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(err) => {
                tracing::error!(error = %err, "failed to listen for SIGHUP; reload with the admin API");
                return;
            }
        };
        let weak = Arc::downgrade(lifecycle);
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let Some(lifecycle) = weak.upgrade() else {
                    return;
                };
                tracing::info!("SIGHUP received; reloading the config and the plugins");
                // Both outcomes are logged by `reload_config`.
                let _ = lifecycle.reload_config().await;
                lifecycle.reload_plugins(true).await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = lifecycle;
}
