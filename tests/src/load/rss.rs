//! Samples the resident memory (`VmRSS`) of the host process from
//! `/proc/PID/status` on a background thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Interval between two samples.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// Reads `VmRSS` of `pid` in KiB, or `None` when the process is gone or
/// the line is missing.
pub fn read_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A background sampler that keeps the peak since the last reset.
pub struct RssSampler {
    pid: u32,
    peak_kib: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RssSampler {
    /// Starts sampling `pid` every 100 ms.
    pub fn start(pid: u32) -> RssSampler {
        let peak_kib = Arc::new(AtomicU64::new(read_rss_kib(pid).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let peak_kib = peak_kib.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = read_rss_kib(pid) {
                        peak_kib.fetch_max(kib, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_INTERVAL);
                }
            })
        };
        RssSampler {
            pid,
            peak_kib,
            stop,
            thread: Some(thread),
        }
    }

    /// Returns the current `VmRSS` in KiB (0 when it cannot be read).
    pub fn current_kib(&self) -> u64 {
        read_rss_kib(self.pid).unwrap_or(0)
    }

    /// Returns the peak since the start or the last reset, in KiB.
    pub fn peak_kib(&self) -> u64 {
        self.peak_kib
            .load(Ordering::Relaxed)
            .max(self.current_kib())
    }

    /// Restarts the peak at the current value.
    pub fn reset_peak(&self) {
        self.peak_kib.store(self.current_kib(), Ordering::Relaxed);
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
