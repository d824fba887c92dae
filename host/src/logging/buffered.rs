//! A log writer that collects lines in memory and writes them to stderr
//! from a background thread, in one `write` call per interval.

use std::io::Write;
use std::sync::{Mutex, MutexGuard, Once, OnceLock, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Maximum time an info or debug line waits in the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);

/// Buffer size at which a line's writer writes the buffer itself instead
/// of waiting for the background thread.
const MAX_BUFFERED_BYTES: usize = 256 * 1024;

/// The process-wide buffered stderr of [`super::init`].
pub struct BufferedStderr {
    buffer: Mutex<Vec<u8>>,
    /// Destination of the lines: stderr, except in tests.
    sink: fn(&[u8]),
}

impl BufferedStderr {
    /// Returns the process-wide instance, starting its flush thread on
    /// first use.
    pub fn global() -> &'static BufferedStderr {
        static GLOBAL: OnceLock<BufferedStderr> = OnceLock::new();
        static FLUSHER: Once = Once::new();
        let global = GLOBAL.get_or_init(|| BufferedStderr {
            buffer: Mutex::new(Vec::with_capacity(64 * 1024)),
            sink: write_stderr,
        });
        FLUSHER.call_once(|| {
            // Without the thread, lines are written when the buffer fills or
            // a warning arrives, and by `flush`.
            let _ = std::thread::Builder::new()
                .name("wxhost-log-flush".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(FLUSH_INTERVAL);
                        global.flush_now();
                    }
                });
        });
        global
    }

    /// Writes every buffered line to stderr.
    pub fn flush_now(&self) {
        let mut buffer = self.lock();
        self.write_out(&mut buffer);
    }

    /// Writes `buffer` to the sink and empties it.
    fn write_out(&self, buffer: &mut Vec<u8>) {
        if buffer.is_empty() {
            return;
        }
        (self.sink)(buffer);
        buffer.clear();
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        self.buffer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes `bytes` to stderr. A failed write drops the lines, as an
/// unbuffered stderr writer would.
fn write_stderr(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// Makes the process flush the buffered lines before a panic message.
pub fn flush_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        BufferedStderr::global().flush_now();
        previous(info);
    }));
}

/// The writer of one log line.
pub struct LineWriter {
    target: &'static BufferedStderr,
    /// Warnings and errors are written at once.
    urgent: bool,
}

impl Write for LineWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.target.lock();
        buffer.extend_from_slice(bytes);
        if self.urgent || buffer.len() >= MAX_BUFFERED_BYTES {
            self.target.write_out(&mut buffer);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for &'static BufferedStderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            target: self,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LineWriter {
        LineWriter {
            target: self,
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaked() -> &'static BufferedStderr {
        Box::leak(Box::new(BufferedStderr {
            buffer: Mutex::new(Vec::new()),
            sink: |_| {},
        }))
    }

    #[test]
    fn info_lines_wait_in_buffer() {
        let target = leaked();
        let mut line = LineWriter {
            target,
            urgent: false,
        };
        line.write_all(b"info line\n").expect("buffer accepts");
        assert_eq!(target.lock().as_slice(), b"info line\n");
        target.flush_now();
        assert!(target.lock().is_empty());
    }

    #[test]
    fn warning_writes_buffer_at_once() {
        let target = leaked();
        LineWriter {
            target,
            urgent: false,
        }
        .write_all(b"info line\n")
        .expect("buffer accepts");
        LineWriter {
            target,
            urgent: true,
        }
        .write_all(b"warning line\n")
        .expect("buffer accepts");
        assert!(target.lock().is_empty());
    }

    #[test]
    fn full_buffer_is_written() {
        let target = leaked();
        let mut line = LineWriter {
            target,
            urgent: false,
        };
        line.write_all(&vec![b'.'; MAX_BUFFERED_BYTES])
            .expect("buffer accepts");
        assert!(target.lock().is_empty());
    }
}
