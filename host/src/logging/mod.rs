//! Tracing setup and the pseudonyms that stand for openids in logs.
//!
//! Logs never carry a raw openid. [`LogIds::of`] returns a keyed hash
//! (HMAC-SHA256, first 8 bytes as hex), so one follower's lines can be
//! correlated without revealing who it is.

mod buffered;

use std::io::IsTerminal;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tracing_subscriber::EnvFilter;

use buffered::BufferedStderr;

/// Default filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "wxhost=info,tower_http=warn";

/// Installs the global tracing subscriber writing to stderr, as text or
/// JSON. Does nothing when one is already installed (as in tests).
///
/// Info and debug lines are buffered and written at most
/// [`buffered::FLUSH_INTERVAL`] later, so a busy server does not make one
/// `write` call per callback. Warnings and errors are written at once,
/// after the lines buffered before them. [`flush`] writes what is left;
/// a panic also flushes before the panic message.
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BufferedStderr::global())
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if installed.is_ok() {
        buffered::flush_on_panic();
    }
}

/// Writes the buffered log lines to stderr. Call it before the process
/// exits.
pub fn flush() {
    BufferedStderr::global().flush_now();
}

/// Maker of log pseudonyms under one per-deployment key.
#[derive(Clone)]
pub struct LogIds {
    /// The HMAC state after the key, cloned for each pseudonym, so the key
    /// schedule runs once per process instead of once per log line.
    keyed: Hmac<Sha256>,
}

impl LogIds {
    /// Uses `key` for pseudonyms; the same key gives the same pseudonyms
    /// across restarts.
    pub fn new(key: &[u8]) -> LogIds {
        LogIds {
            keyed: Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length"),
        }
    }

    /// Uses a random key, so pseudonyms change with every start.
    pub fn random() -> LogIds {
        LogIds::new(&rand::random::<[u8; 32]>())
    }

    /// Returns the pseudonym of `openid`: 16 hex characters.
    pub fn of(&self, openid: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(openid.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_keyed_and_stable() {
        let ids = LogIds::new(b"salt");
        let first = ids.of("oFAKE_user_0001");
        assert_eq!(first.len(), 16);
        assert_eq!(first, ids.of("oFAKE_user_0001"));
        assert_ne!(first, ids.of("oFAKE_user_0002"));
        assert_ne!(first, LogIds::new(b"other").of("oFAKE_user_0001"));
        assert!(!first.contains("oFAKE"));
    }
}
