//! HTTP requests that the host sends on the plugin's behalf, for plugins
//! granted the `fetch` capability.
//!
//! The host enforces the plugin's `[plugins.fetch]` settings: the allow
//! list, the block on loopback and private addresses, the timeout, the
//! response cap, the circuit breaker and the cache of 2xx answers. A 4xx
//! or 5xx answer is a [`Response`], not an error.
//!
//! ```no_run
//! use wxhost_plugin::fetch::{self, Request};
//!
//! let request = Request::post("https://qa.example.com/ask")
//!     .json(&serde_json::json!({ "question": "营业时间" }))
//!     .timeout_ms(2000);
//! match fetch::send(&request) {
//!     Ok(response) if response.is_success() => { /* response.json::<T>() */ }
//!     Ok(response) => { /* response.status */ }
//!     Err(error) => wxhost_plugin::log::warn("fetch failed", &[("error", &error.to_string())]),
//! }
//! ```

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::bindings::wxhost::plugin::fetch::{Method, Request, Response};

use crate::bindings::wxhost::plugin::fetch as host;

/// The `content-type` that [`Request::json`] sets.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// A failed `fetch` call. The texts never contain the URL's path or query.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchError {
    /// The plugin lacks the `fetch` capability, or the URL, its host and
    /// port, a header or a redirect target is not allowed; the text names which.
    NotPermitted(String),
    /// The host resolves to, or is, a loopback, private or otherwise
    /// non-public address that the allow list does not name.
    BlockedAddress,
    /// No complete answer within the timeout.
    Timeout,
    /// The response body is longer than `max_response_bytes`.
    TooLarge,
    /// The host's circuit breaker is open after repeated failures.
    CircuitOpen,
    /// Connecting, TLS or the HTTP exchange failed; the text gives the reason.
    Transport(String),
    /// The request body did not serialize as JSON.
    Json(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted(reason) => write!(f, "not-permitted: {reason}"),
            Self::BlockedAddress => f.write_str("blocked-address"),
            Self::Timeout => f.write_str("timeout"),
            Self::TooLarge => f.write_str("too-large"),
            Self::CircuitOpen => f.write_str("circuit-open"),
            Self::Transport(reason) => write!(f, "transport: {reason}"),
            Self::Json(reason) => write!(f, "invalid JSON body: {reason}"),
        }
    }
}

impl std::error::Error for FetchError {}

impl From<host::Error> for FetchError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::NotPermitted(reason) => Self::NotPermitted(reason),
            host::Error::BlockedAddress => Self::BlockedAddress,
            host::Error::Timeout => Self::Timeout,
            host::Error::TooLarge => Self::TooLarge,
            host::Error::CircuitOpen => Self::CircuitOpen,
            host::Error::Transport(reason) => Self::Transport(reason),
        }
    }
}

/// Sends `request` and waits for the whole response, an error or the timeout.
pub fn send(request: &Request) -> Result<Response, FetchError> {
    Ok(host::send(request)?)
}

impl Request {
    /// Builds a `GET` request for an absolute `http` or `https` URL.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// Builds a `POST` request with no body yet.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        }
    }

    /// Adds a header. The host sets `host`, `content-length`,
    /// `transfer-encoding`, `connection` and `proxy-*` itself and rejects
    /// them here.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets `value` serialized as JSON as the body, and the `content-type`
    /// header to [`JSON_CONTENT_TYPE`]. A value that does not serialize
    /// (a map with non-string keys) leaves an empty body; use
    /// [`Request::try_json`] to get that error.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        self.header("content-type", JSON_CONTENT_TYPE).body(body)
    }

    /// Like [`Request::json`], but fails when `value` does not serialize.
    pub fn try_json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, FetchError> {
        let body =
            serde_json::to_vec(value).map_err(|error| FetchError::Json(error.to_string()))?;
        Ok(self.header("content-type", JSON_CONTENT_TYPE).body(body))
    }

    /// Sets a timeout shorter than the configured one, in milliseconds.
    /// `None` keeps the configured timeout.
    pub fn timeout_ms(mut self, timeout_ms: impl Into<Option<u32>>) -> Self {
        self.timeout_ms = timeout_ms.into();
        self
    }
}

impl Response {
    /// Returns true for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Returns the first header named `name`, compared without regard to
    /// ASCII case. The host lowercases response header names.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Deserializes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// Returns the body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_json_request() {
        let request = Request::post("https://qa.example.com/ask")
            .json(&serde_json::json!({"question": "q", "account": "demo"}))
            .timeout_ms(1500);
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, "https://qa.example.com/ask");
        assert_eq!(
            request.headers,
            [("content-type".to_owned(), JSON_CONTENT_TYPE.to_owned())]
        );
        assert_eq!(
            request.body.as_deref(),
            Some(br#"{"account":"demo","question":"q"}"#.as_slice())
        );
        assert_eq!(request.timeout_ms, Some(1500));
    }

    #[test]
    fn get_request_defaults() {
        let request = Request::get("https://a.example/").header("accept", "text/plain");
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.body, None);
        assert_eq!(request.timeout_ms, None);
        assert_eq!(request.headers.len(), 1);
    }

    #[test]
    fn try_json_rejects_non_string_keys() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let error = Request::post("https://a.example/")
            .try_json(&map)
            .unwrap_err();
        assert!(matches!(error, FetchError::Json(_)), "{error:?}");
    }

    #[test]
    fn response_helpers() {
        let response = Response {
            status: 200,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: br#"{"found": false}"#.to_vec(),
        };
        assert!(response.is_success());
        assert_eq!(response.header("Content-Type"), Some("application/json"));
        let value: serde_json::Value = response.json().unwrap();
        assert_eq!(value["found"], false);
        assert_eq!(response.text(), r#"{"found": false}"#);
        let failed = Response {
            status: 503,
            headers: Vec::new(),
            body: Vec::new(),
        };
        assert!(!failed.is_success());
    }

    #[test]
    fn host_error_maps() {
        assert_eq!(
            FetchError::from(host::Error::NotPermitted("x".to_owned())).to_string(),
            "not-permitted: x"
        );
        assert_eq!(
            FetchError::from(host::Error::Timeout).to_string(),
            "timeout"
        );
    }
}
