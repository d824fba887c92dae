//! Host-mediated HTTP for plugins with the `fetch` capability.
//!
//! One [`FetchService`] per plugin contains that plugin's policy from
//! `[plugins.fetch]`, its HTTP client, its circuit breakers and its
//! response cache. A request is checked in this order: URL scheme and
//! credentials, the allow list and the address rules, headers, the
//! cache, the host's circuit breaker; then it is sent with the timeout
//! and its body read up to the byte cap. Names are resolved by
//! [`address::GuardedResolver`], so the address check covers every
//! address a name resolves to, and redirects pass the same checks.
//!
//! Logs name the plugin, the host and the port, never the path, query
//! or body, which may carry personal data.

mod address;
mod breaker;
mod cache;

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use reqwest::{Client, Url};

use crate::config::{AllowEntry, FetchConfig};

pub use address::is_public;
use address::{BlockedAddress, GuardedResolver};
use breaker::{Breakers, Outcome};
use cache::{CacheKey, ResponseCache};

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 3;

/// Headers that the host sets itself, so a plugin may not.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
];

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchMethod {
    Get,
    Post,
}

impl FetchMethod {
    fn as_str(self) -> &'static str {
        match self {
            FetchMethod::Get => "GET",
            FetchMethod::Post => "POST",
        }
    }
}

/// A request from a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    pub method: FetchMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// A timeout shorter than the configured one.
    pub timeout: Option<Duration>,
}

/// A complete response: status, lowercase headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request got no response. Mirrors the WIT `fetch.error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not permitted: {0}")]
    NotPermitted(String),
    #[error("the address is loopback or private and not on the allow list")]
    BlockedAddress,
    #[error("timed out")]
    Timeout,
    #[error("the response body exceeds the byte cap")]
    TooLarge,
    #[error("the host's circuit breaker is open")]
    CircuitOpen,
    #[error("transport error: {0}")]
    Transport(String),
}

/// The fetch policy, client, breakers and cache of one plugin.
#[derive(Debug)]
pub struct FetchService {
    plugin: String,
    allow: Arc<Vec<AllowEntry>>,
    timeout: Duration,
    max_response_bytes: u64,
    client: Client,
    breakers: Breakers,
    cache: ResponseCache,
}

impl FetchService {
    /// Builds the service of `plugin` from its validated config. Fails
    /// when an allow entry does not parse or the client cannot be built.
    pub fn new(plugin: &str, config: &FetchConfig) -> Result<FetchService, String> {
        let allow = config
            .allow
            .iter()
            .map(|entry| AllowEntry::parse(entry))
            .collect::<Result<Vec<_>, _>>()?;
        let allow = Arc::new(allow);
        let allow_private: HashSet<String> = config
            .allow_private
            .iter()
            .map(|name| name.to_ascii_lowercase())
            .collect();
        let redirect_allow = allow.clone();
        let policy = Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refused(FetchError::NotPermitted(format!(
                    "more than {MAX_REDIRECTS} redirects"
                ))));
            }
            match check_target(&redirect_allow, attempt.url()) {
                Ok(_) => attempt.follow(),
                Err(error) => attempt.error(Refused(error)),
            }
        });
        let client = Client::builder()
            .no_proxy()
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: Arc::new(allow_private),
            }))
            .user_agent(concat!("wxhost/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| format!("failed to build the HTTP client: {err}"))?;
        Ok(FetchService {
            plugin: plugin.to_owned(),
            allow,
            timeout: Duration::from_millis(config.timeout_ms),
            max_response_bytes: config.max_response_bytes,
            client,
            breakers: Breakers::new(
                config.breaker_failures,
                Duration::from_millis(config.breaker_cooldown_ms),
            ),
            cache: ResponseCache::new(Duration::from_secs(config.cache_ttl_secs)),
        })
    }

    /// Sends `request` from a thread outside any async task, waiting at
    /// most `time_left` (the plugin's remaining deadline).
    pub fn send_blocking(
        &self,
        request: FetchRequest,
        time_left: Duration,
    ) -> Result<FetchResponse, FetchError> {
        fetch_runtime()?.block_on(self.send(request, time_left))
    }

    /// Checks and sends `request`, waiting at most the configured timeout,
    /// the request's own timeout and `time_left`, whichever is shortest.
    pub async fn send(
        &self,
        request: FetchRequest,
        time_left: Duration,
    ) -> Result<FetchResponse, FetchError> {
        let url = Url::parse(&request.url)
            .map_err(|err| FetchError::NotPermitted(format!("invalid URL: {err}")))?;
        let host_key = check_target(&self.allow, &url)?;
        check_headers(&request.headers)?;

        let key = CacheKey {
            method: request.method.as_str(),
            url: url.as_str().to_owned(),
            body: request.body.clone().unwrap_or_default(),
        };
        if let Some(cached) = self.cache.get(&key, Instant::now()) {
            tracing::debug!(plugin = %self.plugin, host = %host_key, "fetch response served from the cache");
            return Ok(cached);
        }
        if !self.breakers.admit(&host_key, Instant::now()) {
            return Err(FetchError::CircuitOpen);
        }

        let timeout = [Some(self.timeout), request.timeout, Some(time_left)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.timeout);
        let started = Instant::now();
        let result = match tokio::time::timeout(timeout, self.exchange(&request, url)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::Timeout),
        };
        self.finish(&host_key, &result, started);
        if let Ok(response) = &result
            && (200..300).contains(&response.status)
        {
            self.cache.put(key, response.clone(), Instant::now());
        }
        result
    }

    async fn exchange(
        &self,
        request: &FetchRequest,
        url: Url,
    ) -> Result<FetchResponse, FetchError> {
        let method = match request.method {
            FetchMethod::Get => reqwest::Method::GET,
            FetchMethod::Post => reqwest::Method::POST,
        };
        let mut builder = self.client.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let mut response = builder.send().await.map_err(classify)?;
        if response
            .content_length()
            .is_some_and(|length| length > self.max_response_bytes)
        {
            return Err(FetchError::TooLarge);
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if (body.len() + chunk.len()) as u64 > self.max_response_bytes {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchResponse {
            status,
            headers,
            body,
        })
    }

    /// Feeds the outcome to the host's breaker and logs it.
    fn finish(&self, host: &str, result: &Result<FetchResponse, FetchError>, started: Instant) {
        let outcome = match result {
            Ok(response) if response.status >= 500 => Outcome::Failure,
            Ok(_) => Outcome::Success,
            Err(FetchError::Timeout | FetchError::Transport(_)) => Outcome::Failure,
            Err(_) => Outcome::Neutral,
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(response) => tracing::debug!(
                plugin = %self.plugin,
                host,
                status = response.status,
                elapsed_ms,
                "fetch response received"
            ),
            Err(error) => tracing::warn!(
                plugin = %self.plugin,
                host,
                error = %error,
                elapsed_ms,
                "fetch failed"
            ),
        }
        if self.breakers.record(host, outcome, Instant::now()) {
            tracing::warn!(plugin = %self.plugin, host, "fetch circuit breaker opened");
        }
    }
}

/// Checks the scheme, credentials, allow list and literal address of
/// `url`, and returns its `host:port` for the breaker.
fn check_target(allow: &[AllowEntry], url: &Url) -> Result<String, FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::NotPermitted(format!(
            "scheme {:?} is not allowed; use http or https",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::NotPermitted(
            "URLs with credentials are not allowed".to_owned(),
        ));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::NotPermitted("the URL has no port".to_owned()))?;
    let raw = url
        .host_str()
        .ok_or_else(|| FetchError::NotPermitted("the URL has no host".to_owned()))?;
    let bare = raw.trim_start_matches('[').trim_end_matches(']');
    let literal = bare.parse::<IpAddr>().ok();
    let host = match literal {
        Some(ip) => ip.to_string(),
        None => bare.to_ascii_lowercase(),
    };
    let allowed = allow.iter().any(|entry| entry.permits(&host, port));
    match literal {
        Some(ip) if !allowed && !is_public(ip) => return Err(FetchError::BlockedAddress),
        _ if !allowed => {
            return Err(FetchError::NotPermitted(format!(
                "{host}:{port} is not on the plugin's fetch allow list"
            )));
        }
        _ => {}
    }
    Ok(format!("{host}:{port}"))
}

fn check_headers(headers: &[(String, String)]) -> Result<(), FetchError> {
    for (name, _) in headers {
        let lower = name.to_ascii_lowercase();
        if RESERVED_HEADERS.contains(&lower.as_str()) || lower.starts_with("proxy-") {
            return Err(FetchError::NotPermitted(format!(
                "header {name:?} is set by the host"
            )));
        }
    }
    Ok(())
}

/// A refusal raised inside the client, found again by [`classify`].
#[derive(Debug)]
struct Refused(FetchError);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Refused {}

/// Maps a client error to the fetch error, looking through its causes
/// for a refusal by the resolver or the redirect policy.
fn classify(error: reqwest::Error) -> FetchError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = source {
        if cause.downcast_ref::<BlockedAddress>().is_some() {
            return FetchError::BlockedAddress;
        }
        if let Some(Refused(refusal)) = cause.downcast_ref::<Refused>() {
            return refusal.clone();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        return FetchError::Timeout;
    }
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "reading the body failed"
    } else {
        "the HTTP exchange failed"
    };
    FetchError::Transport(kind.to_owned())
}

/// The runtime that carries fetch I/O. Plugins call `fetch` on blocking
/// threads, and also outside any runtime (the CLI, runtime tests), so
/// fetches run on this small runtime of their own. It lives as long as
/// the process.
fn fetch_runtime() -> Result<&'static tokio::runtime::Runtime, FetchError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("wxhost-fetch")
                .enable_all()
                .build()
                .map_err(|err| format!("failed to start the fetch runtime: {err}"))
        })
        .as_ref()
        .map_err(|message| FetchError::Transport(message.clone()))
}

#[cfg(test)]
mod tests;
