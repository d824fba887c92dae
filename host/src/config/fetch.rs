//! `[plugins.fetch]`: what a plugin granted the `fetch` capability may
//! reach over HTTP.

use serde::Deserialize;

use super::validate::Problems;

/// Default [`FetchConfig::timeout_ms`].
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 3000;
/// Default [`FetchConfig::max_response_bytes`]: 256 KiB.
pub const DEFAULT_FETCH_MAX_RESPONSE_BYTES: u64 = 256 * 1024;
/// Default [`FetchConfig::cache_ttl_secs`].
pub const DEFAULT_FETCH_CACHE_TTL_SECS: u64 = 30;
/// Default [`FetchConfig::breaker_failures`].
pub const DEFAULT_FETCH_BREAKER_FAILURES: u32 = 5;
/// Default [`FetchConfig::breaker_cooldown_ms`].
pub const DEFAULT_FETCH_BREAKER_COOLDOWN_MS: u64 = 30_000;

/// The fetch policy of one plugin.
///
/// Defaults: no allowed hosts, `timeout_ms` 3000, `max_response_bytes`
/// 262144, `cache_ttl_secs` 30 (0 turns the cache off),
/// `breaker_failures` 5, `breaker_cooldown_ms` 30000.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FetchConfig {
    /// Hosts the plugin may reach, as `host:port` or `host` (ports 80 and
    /// 443). An IP address here also permits that address when it is
    /// loopback or private.
    pub allow: Vec<String>,
    /// Host names from `allow` that may resolve to loopback or private
    /// addresses, for a service on the internal network.
    pub allow_private: Vec<String>,
    /// Longest time for one request, connection to last byte.
    pub timeout_ms: u64,
    /// Largest response body accepted; a longer one is `too-large`.
    pub max_response_bytes: u64,
    /// How long a 2xx answer is reused for an identical request.
    pub cache_ttl_secs: u64,
    /// Failures in a row that open a host's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses requests before one trial.
    pub breaker_cooldown_ms: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow: Vec::new(),
            allow_private: Vec::new(),
            timeout_ms: DEFAULT_FETCH_TIMEOUT_MS,
            max_response_bytes: DEFAULT_FETCH_MAX_RESPONSE_BYTES,
            cache_ttl_secs: DEFAULT_FETCH_CACHE_TTL_SECS,
            breaker_failures: DEFAULT_FETCH_BREAKER_FAILURES,
            breaker_cooldown_ms: DEFAULT_FETCH_BREAKER_COOLDOWN_MS,
        }
    }
}

/// An `allow` entry split into its lowercase host and optional port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub host: String,
    pub port: Option<u16>,
}

impl AllowEntry {
    /// Parses `host:port`, `host`, `[v6]:port` or `[v6]`.
    pub fn parse(text: &str) -> Result<AllowEntry, String> {
        let text = text.trim();
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("{text:?} opens '[' without closing it"))?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(format!("{text:?} has text after ']'")),
            }
        } else {
            match text.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                Some(_) => {
                    return Err(format!(
                        "{text:?}: write an IPv6 address in brackets, as [::1]:9200"
                    ));
                }
                None => (text, None),
            }
        };
        let valid_host = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'_'));
        if !valid_host {
            return Err(format!(
                "{text:?} is not a host name or IP address; write it as host:port, for example qa.internal.example:8443"
            ));
        }
        let port = match port {
            Some(port) => Some(
                port.parse::<u16>()
                    .ok()
                    .filter(|port| *port > 0)
                    .ok_or_else(|| format!("{text:?} has an invalid port"))?,
            ),
            None => None,
        };
        Ok(AllowEntry {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Returns true when this entry permits `host` (lowercase) on `port`.
    /// An entry without a port permits 80 and 443.
    pub fn permits(&self, host: &str, port: u16) -> bool {
        self.host == host
            && match self.port {
                Some(allowed) => allowed == port,
                None => port == 80 || port == 443,
            }
    }
}

/// Adds a problem for each invalid field of `fetch`, under `field`.
pub(super) fn validate_fetch(fetch: &FetchConfig, field: &str, problems: &mut Problems) {
    for (index, entry) in fetch.allow.iter().enumerate() {
        if let Err(message) = AllowEntry::parse(entry) {
            problems.add(format!("{field}.allow[{index}]"), message);
        }
    }
    for (index, name) in fetch.allow_private.iter().enumerate() {
        let listed = fetch.allow.iter().any(|entry| {
            AllowEntry::parse(entry).is_ok_and(|entry| entry.host == name.to_ascii_lowercase())
        });
        if !listed {
            problems.add(
                format!("{field}.allow_private[{index}]"),
                format!("{name:?} is not a host in `allow`; add it there too"),
            );
        }
    }
    if !(1..=60_000).contains(&fetch.timeout_ms) {
        problems.add(
            format!("{field}.timeout_ms"),
            format!("{} is out of range; use 1 to 60000", fetch.timeout_ms),
        );
    }
    if !(1..=16 * 1024 * 1024).contains(&fetch.max_response_bytes) {
        problems.add(
            format!("{field}.max_response_bytes"),
            format!(
                "{} is out of range; use 1 to 16777216",
                fetch.max_response_bytes
            ),
        );
    }
    if fetch.cache_ttl_secs > 3600 {
        problems.add(
            format!("{field}.cache_ttl_secs"),
            format!("{} is out of range; use 0 to 3600", fetch.cache_ttl_secs),
        );
    }
    if fetch.breaker_failures == 0 {
        problems.add(format!("{field}.breaker_failures"), "must be at least 1");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_entry_forms() {
        let entry = AllowEntry::parse("QA.internal.example:8443").unwrap();
        assert_eq!(entry.host, "qa.internal.example");
        assert_eq!(entry.port, Some(8443));
        assert!(entry.permits("qa.internal.example", 8443));
        assert!(!entry.permits("qa.internal.example", 443));

        let bare = AllowEntry::parse("api.example.com").unwrap();
        assert!(bare.permits("api.example.com", 443));
        assert!(bare.permits("api.example.com", 80));
        assert!(!bare.permits("api.example.com", 8080));

        let v6 = AllowEntry::parse("[::1]:9200").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.port, Some(9200));
    }

    #[test]
    fn allow_entry_rejects() {
        assert!(AllowEntry::parse("").is_err());
        assert!(AllowEntry::parse("http://x").is_err());
        assert!(AllowEntry::parse("x:0").is_err());
        assert!(AllowEntry::parse("::1").is_err());
        assert!(AllowEntry::parse("a b:80").is_err());
    }
}
