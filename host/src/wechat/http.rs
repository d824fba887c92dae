//! One HTTP exchange with WeChat: building the request, reading the
//! response and turning a non-zero errcode into an [`ApiError`], plus the backoff
//! loop for transient failures.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, multipart};
use serde_json::Value;
use tracing::warn;

use super::error::ApiError;
use super::retry::RetryPolicy;

/// The API host WeChat documents for every server API.
pub const DEFAULT_BASE_URL: &str = "https://api.weixin.qq.com";
/// The host that serves QR code images.
pub const DEFAULT_MP_BASE_URL: &str = "https://mp.weixin.qq.com";
/// Content type of every JSON request body. WeChat rejects `\uXXXX`
/// escapes with 40033, so bodies carry raw UTF-8 and declare the charset.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Connection settings shared by the token broker and the API client of
/// one or more accounts.
///
/// Defaults: `base_url` [`DEFAULT_BASE_URL`], `mp_base_url`
/// [`DEFAULT_MP_BASE_URL`], `timeout` 10 s, `retry` [`RetryPolicy::default`].
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL of the server APIs, without a trailing slash.
    pub base_url: String,
    /// Base URL of `showqrcode`, without a trailing slash.
    pub mp_base_url: String,
    /// Timeout of one HTTP exchange.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            mp_base_url: DEFAULT_MP_BASE_URL.to_owned(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

/// A reqwest client bound to an [`HttpConfig`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiHttp {
    client: reqwest::Client,
    config: Arc<HttpConfig>,
}

/// The body of a request.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Empty,
    /// Serialized JSON, raw UTF-8.
    Json(Vec<u8>),
    /// A file in the multipart field `media`.
    Media {
        filename: String,
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// The host a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    Api,
    Mp,
}

/// Everything about a request except the access token.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub host: Host,
    /// The API path, also used in errors and logs.
    pub path: &'static str,
    pub query: Vec<(&'static str, String)>,
    pub payload: Payload,
    /// Whether a successful response is binary (an image) rather than JSON.
    pub binary: bool,
}

impl Call {
    pub fn new(method: Method, path: &'static str) -> Self {
        Self {
            method,
            host: Host::Api,
            path,
            query: Vec::new(),
            payload: Payload::Empty,
            binary: false,
        }
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self, ApiError> {
        // serde_json writes non-ASCII characters as raw UTF-8.
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::InvalidRequest {
            api: self.path.to_owned(),
            reason: format!("body does not serialize: {e}"),
        })?;
        self.payload = Payload::Json(bytes);
        Ok(self)
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
}

/// The body of a successful response.
#[derive(Debug)]
pub(crate) enum ResponseBody {
    Json(Value),
    Binary(Vec<u8>),
}

impl ApiHttp {
    /// Builds the reqwest client.
    pub fn new(config: HttpConfig) -> Result<Self, ApiError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| ApiError::transport("client setup", e))?;
        Ok(Self {
            client,
            config: Arc::new(config),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends `call` until it succeeds, fails with a non-transient error or
    /// uses up the retry policy. `before_attempt` runs before each attempt
    /// (quota counting) and can stop the loop.
    pub(crate) async fn send_with_backoff(
        &self,
        account: &str,
        call: &Call,
        token: Option<&str>,
        before_attempt: &(dyn Fn() -> Result<(), ApiError> + Send + Sync),
    ) -> Result<ResponseBody, ApiError> {
        let max_attempts = self.config.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            before_attempt()?;
            let result = self.send(account, call, token).await;
            match result {
                Err(err) if err.is_transient() && attempt < max_attempts => {
                    let delay = self.config.retry.delay(attempt);
                    warn!(
                        account,
                        api = call.path,
                        attempt,
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        error = %err,
                        "WeChat API call failed, retrying"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Sends `call` once.
    pub(crate) async fn send(
        &self,
        account: &str,
        call: &Call,
        token: Option<&str>,
    ) -> Result<ResponseBody, ApiError> {
        let api = call.path;
        let base = match call.host {
            Host::Api => &self.config.base_url,
            Host::Mp => &self.config.mp_base_url,
        };
        let mut request = self
            .client
            .request(call.method.clone(), format!("{base}{api}"));
        if let Some(token) = token {
            request = request.query(&[("access_token", token)]);
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        request = match &call.payload {
            Payload::Empty => request,
            Payload::Json(bytes) => request
                .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
                .body(bytes.clone()),
            Payload::Media {
                filename,
                content_type,
                bytes,
            } => {
                let part = multipart::Part::bytes(bytes.clone())
                    .file_name(filename.clone())
                    .mime_str(content_type)
                    .map_err(|e| ApiError::transport(api, e))?;
                request.multipart(multipart::Form::new().part("media", part))
            }
        };

        let response = request
            .send()
            .await
            .map_err(|e| ApiError::transport(api, e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ApiError::transport(api, e))?;

        if call.binary && status.is_success() && !is_json(&content_type, &bytes) {
            return Ok(ResponseBody::Binary(bytes.to_vec()));
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
            api: api.to_owned(),
            reason: format!("HTTP {status}, body is not JSON: {e}"),
        })?;
        check_errcode(account, api, &value)?;
        if !status.is_success() {
            return Err(ApiError::Decode {
                api: api.to_owned(),
                reason: format!("HTTP {status} without errcode"),
            });
        }
        if call.binary {
            return Err(ApiError::Decode {
                api: api.to_owned(),
                reason: "expected binary content, got JSON without errcode".to_owned(),
            });
        }
        Ok(ResponseBody::Json(value))
    }
}

/// Returns an error when `value` carries a non-zero `errcode`. A missing
/// errcode means success, as on `/cgi-bin/token` and `qrcode/create`.
fn check_errcode(account: &str, api: &str, value: &Value) -> Result<(), ApiError> {
    let Some(code) = value.get("errcode").and_then(Value::as_i64) else {
        return Ok(());
    };
    if code == 0 {
        return Ok(());
    }
    let errmsg = value.get("errmsg").and_then(Value::as_str).unwrap_or("");
    Err(ApiError::from_errcode(account, api, code, errmsg))
}

/// Binary endpoints return errors as a JSON body. A body that starts with
/// `{` counts as JSON whatever its content type.
fn is_json(content_type: &str, body: &[u8]) -> bool {
    content_type.contains("json") || body.first() == Some(&b'{')
}

impl ResponseBody {
    pub fn into_json(self, api: &str) -> Result<Value, ApiError> {
        match self {
            Self::Json(value) => Ok(value),
            Self::Binary(_) => Err(ApiError::Decode {
                api: api.to_owned(),
                reason: "expected JSON, got binary content".to_owned(),
            }),
        }
    }
}

/// Decodes a JSON response body into `T`.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    api: &str,
    value: Value,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::Decode {
        api: api.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_keeps_raw_utf8() -> Result<(), ApiError> {
        let call = Call::new(Method::POST, "/cgi-bin/menu/create")
            .json(&serde_json::json!({"name": "菜单"}))?;
        let Payload::Json(bytes) = call.payload else {
            panic!("expected a JSON payload");
        };
        assert_eq!(bytes, "{\"name\":\"菜单\"}".as_bytes());
        assert!(
            bytes
                .windows(6)
                .any(|w| w == [0xE8, 0x8F, 0x9C, 0xE5, 0x8D, 0x95])
        );
        assert!(!String::from_utf8_lossy(&bytes).contains("\\u"));
        Ok(())
    }

    #[test]
    fn absent_errcode_is_success() {
        let value = serde_json::json!({"ticket": "t"});
        assert!(check_errcode("main", "/cgi-bin/qrcode/create", &value).is_ok());
        let zero = serde_json::json!({"errcode": 0, "errmsg": "ok"});
        assert!(check_errcode("main", "/x", &zero).is_ok());
    }

    #[test]
    fn nonzero_errcode_is_error() {
        let value = serde_json::json!({"errcode": 40033, "errmsg": "invalid charset rid: r1"});
        let err = check_errcode("main", "/cgi-bin/menu/create", &value).unwrap_err();
        assert_eq!(err.errcode(), Some(40033));
        assert!(!err.is_transient());
    }
}
