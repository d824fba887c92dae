//! Shadow runs and directive diffs.
//!
//! A shadow version receives the same callback as the live version after
//! it returned, on another blocking thread, so the callback's reply
//! never waits for it. Its directives are compared with the live ones and
//! dropped: nothing it returns is replied, queued or sent. Its `kv` writes
//! go to an in-memory overlay that dies with the call. It reads the
//! follower ledger, pseudonyms and cached QR codes and media like the live
//! version, but a call that would create a QR code or upload media fails,
//! so a shadow never spends WeChat quota.
//!
//! The log carries the diff without content: each changed directive as
//! its kind, byte length and a SHA-256 prefix of its text form. The full
//! text diff is what `wxhost replay` prints from a recording.
//!
//! NOTE: the shadow reads `kv` after the live call wrote it, so a plugin
//! that counts in `kv` shows a difference of one in the shadow.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use super::entry::Version;
use super::metrics::Metrics;
use crate::protocol::message::Inbound;
use crate::runtime::{Directive, KvStore, NOT_AN_INTEGER, OVERFLOW};
use crate::services::Services;

/// Returns one line per directive, the form that recordings store and
/// diffs compare: `reply <reply>`, `no-reply`, `action <JSON>` or
/// `action-to <openid> <JSON>`.
pub fn directive_lines(directives: &[Directive]) -> Vec<String> {
    directives
        .iter()
        .map(|directive| match directive {
            Directive::Reply(reply) => format!("reply {reply:?}"),
            Directive::NoReply => "no-reply".to_owned(),
            Directive::Action(action) => match serde_json::to_string(action) {
                Ok(json) => format!("action {json}"),
                Err(_) => format!("action {action:?}"),
            },
            Directive::ActionTo { openid, action } => match serde_json::to_string(action) {
                Ok(json) => format!("action-to {openid} {json}"),
                Err(_) => format!("action-to {openid} {action:?}"),
            },
        })
        .collect()
}

/// Returns the lines of a diff from `old` to `new`, position by position:
/// `-` for a line only in `old`, `+` for one only in `new`, nothing for
/// equal lines. Empty when both are equal.
pub fn diff_lines(old: &[String], new: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    for index in 0..old.len().max(new.len()) {
        let (before, after) = (old.get(index), new.get(index));
        if before == after {
            continue;
        }
        if let Some(before) = before {
            lines.push(format!("-{index}: {before}"));
        }
        if let Some(after) = after {
            lines.push(format!("+{index}: {after}"));
        }
    }
    lines
}

/// Replaces each line's text after its kind by its length and a digest,
/// for logs that must not carry message content.
pub fn redact(diff: &[String]) -> Vec<String> {
    diff.iter()
        .map(|line| {
            let (head, text) = line.split_once(": ").unwrap_or((line, ""));
            let kind = text.split([' ', '(']).next().unwrap_or("");
            let digest = hex::encode(&Sha256::digest(text.as_bytes())[..4]);
            format!("{head}: {kind} ({} bytes, sha256 {digest})", text.len())
        })
        .collect()
}

/// A `kv` that reads the real store and keeps writes in memory.
struct OverlayKv {
    inner: Arc<dyn KvStore>,
    written: Mutex<HashMap<String, Option<Vec<u8>>>>,
}

impl KvStore for OverlayKv {
    fn get(&self, account: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        match written.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.inner.get(account, plugin, key),
        }
    }

    fn set(
        &self,
        _account: &str,
        _plugin: &str,
        key: &str,
        value: &[u8],
        _ttl_seconds: Option<u32>,
    ) -> Result<(), String> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        written.insert(key.to_owned(), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&self, _account: &str, _plugin: &str, key: &str) -> Result<(), String> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        written.insert(key.to_owned(), None);
        Ok(())
    }

    fn increment(&self, account: &str, plugin: &str, key: &str, delta: i64) -> Result<i64, String> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let current = match written.get(key) {
            Some(value) => value.clone(),
            None => self.inner.get(account, plugin, key)?,
        };
        let base = match current {
            Some(bytes) => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .ok_or_else(|| NOT_AN_INTEGER.to_owned())?,
            None => 0,
        };
        let sum = base.checked_add(delta).ok_or_else(|| OVERFLOW.to_owned())?;
        written.insert(key.to_owned(), Some(sum.to_string().into_bytes()));
        Ok(sum)
    }

    fn set_if_absent(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        _ttl_seconds: Option<u32>,
    ) -> Result<bool, String> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let present = match written.get(key) {
            Some(value) => value.is_some(),
            None => self.inner.get(account, plugin, key)?.is_some(),
        };
        if present {
            return Ok(false);
        }
        written.insert(key.to_owned(), Some(value.to_vec()));
        Ok(true)
    }
}

/// One shadow run: the shadow version, the callback and the live result.
pub struct ShadowRun {
    pub shadow: Arc<Version>,
    pub live_hash: String,
    pub account: String,
    pub inbound: Arc<Inbound>,
    /// The live version's directive lines, or none when it faulted.
    pub live_lines: Option<Vec<String>>,
    pub kv: Arc<dyn KvStore>,
    /// A read-only view of the host services ([`Services::read_only`]).
    pub services: Arc<Services>,
    pub metrics: Arc<Metrics>,
}

impl ShadowRun {
    /// Starts the run on a blocking thread of the current tokio runtime,
    /// or runs it here when there is none.
    pub fn spawn(self) {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn_blocking(move || self.run());
            }
            Err(_) => self.run(),
        }
    }

    fn run(self) {
        let plugin = &self.shadow.plugin;
        let name = plugin.name().to_owned();
        let kv: Arc<dyn KvStore> = Arc::new(OverlayKv {
            inner: self.kv.clone(),
            written: Mutex::new(HashMap::new()),
        });
        let result = plugin.handle_with_services(&self.account, &self.inbound, &kv, &self.services);
        let labels =
            |result: &'static str| [("plugin", name.clone()), ("result", result.to_owned())];
        let shadow_lines = match result {
            Ok(directives) => directive_lines(&directives),
            Err(fault) => {
                self.count(&labels("fault"));
                tracing::warn!(
                    plugin = %name,
                    shadow = %plugin.content_hash(),
                    fault = %fault,
                    "shadow version faulted; nothing was sent"
                );
                return;
            }
        };
        let Some(live_lines) = self.live_lines.as_deref() else {
            self.count(&labels("changed"));
            tracing::info!(
                plugin = %name,
                live = %self.live_hash,
                shadow = %plugin.content_hash(),
                "shadow version returned directives where the live version faulted"
            );
            return;
        };
        let diff = diff_lines(live_lines, &shadow_lines);
        if diff.is_empty() {
            self.count(&labels("same"));
            tracing::debug!(plugin = %name, "shadow directives match the live ones");
            return;
        }
        self.count(&labels("changed"));
        tracing::info!(
            plugin = %name,
            live = %self.live_hash,
            shadow = %plugin.content_hash(),
            diff = %redact(&diff).join("; "),
            "shadow directives differ from the live ones; nothing was sent"
        );
    }

    fn count(&self, labels: &[(&str, String); 2]) {
        let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.metrics.inc("wxhost_shadow_runs_total", &pairs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::reply::Reply;

    #[test]
    fn diff_marks_changed_positions() {
        let old = directive_lines(&[Directive::Reply(Reply::Text("a".to_owned()))]);
        let new = directive_lines(&[
            Directive::Reply(Reply::Text("b".to_owned())),
            Directive::NoReply,
        ]);
        assert_eq!(
            diff_lines(&old, &new),
            [
                "-0: reply Text(\"a\")",
                "+0: reply Text(\"b\")",
                "+1: no-reply"
            ]
        );
        assert!(diff_lines(&old, &old).is_empty());
    }

    #[test]
    fn redact_hides_text() {
        let redacted = redact(&["-0: reply Text(\"secret\")".to_owned()]);
        assert_eq!(redacted.len(), 1);
        assert!(
            redacted[0].starts_with("-0: reply (20 bytes, sha256 "),
            "{}",
            redacted[0]
        );
        assert!(!redacted[0].contains("secret"));
    }

    fn overlay_over(inner: Arc<dyn KvStore>) -> OverlayKv {
        OverlayKv {
            inner,
            written: Mutex::new(HashMap::new()),
        }
    }

    #[test]
    fn overlay_increment_leaves_store() {
        let inner: Arc<dyn KvStore> = Arc::new(crate::runtime::MemoryKv::default());
        inner.set("a", "p", "n", b"5", None).unwrap();
        let overlay = overlay_over(inner.clone());
        assert_eq!(overlay.increment("a", "p", "n", 2), Ok(7));
        assert_eq!(overlay.increment("a", "p", "fresh", -3), Ok(-3));
        assert_eq!(inner.get("a", "p", "n"), Ok(Some(b"5".to_vec())));
        assert_eq!(inner.get("a", "p", "fresh"), Ok(None));
        overlay.set("a", "p", "text", b"x", None).unwrap();
        assert_eq!(
            overlay.increment("a", "p", "text", 1),
            Err(NOT_AN_INTEGER.to_owned())
        );
        overlay
            .set("a", "p", "max", i64::MAX.to_string().as_bytes(), None)
            .unwrap();
        assert_eq!(
            overlay.increment("a", "p", "max", 1),
            Err(OVERFLOW.to_owned())
        );
    }

    #[test]
    fn overlay_set_if_absent() {
        let inner: Arc<dyn KvStore> = Arc::new(crate::runtime::MemoryKv::default());
        inner.set("a", "p", "taken", b"1", None).unwrap();
        let overlay = overlay_over(inner.clone());
        assert_eq!(
            overlay.set_if_absent("a", "p", "taken", b"2", None),
            Ok(false)
        );
        assert_eq!(overlay.set_if_absent("a", "p", "new", b"3", None), Ok(true));
        assert_eq!(
            overlay.set_if_absent("a", "p", "new", b"4", None),
            Ok(false)
        );
        assert_eq!(overlay.get("a", "p", "new"), Ok(Some(b"3".to_vec())));
        assert_eq!(inner.get("a", "p", "new"), Ok(None));
        overlay.delete("a", "p", "taken").unwrap();
        assert_eq!(
            overlay.set_if_absent("a", "p", "taken", b"5", None),
            Ok(true)
        );
    }
}
