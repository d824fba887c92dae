//! The access token broker: one per account, shared by every caller.
//!
//! The broker caches the token until `expires_in` minus a margin. It keeps
//! the token in a [`TokenStore`], so a restart or a second process on the
//! same store reuses it. Only one caller fetches at a time: concurrent
//! callers wait for the fetch in progress, and processes sharing the store
//! take a lease in it before fetching.
//!
//! When a business call fails with 40001, 40014 or 42001, the client calls
//! [`TokenBroker::refresh_after_failure`] with the token that failed. Only
//! if that token is still the current one does the broker fetch again. In
//! stable mode it first calls `stable_token` normally and sends
//! `force_refresh: true` only when WeChat returns the same failing token,
//! within the force-refresh budget (20 a day, 30 s apart by default).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;
use tracing::{debug, info, warn};

use super::clock::{Clock, SystemClock, cst_day};
use super::error::ApiError;
use super::http::{ApiHttp, Call, decode};
use super::quota::QuotaGuard;
use super::token_store::{StoredToken, TokenStore};

const CLASSIC_PATH: &str = "/cgi-bin/token";
const STABLE_PATH: &str = "/cgi-bin/stable_token";

/// The token endpoint the broker uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenMode {
    /// `POST /cgi-bin/stable_token`: every normal call returns the current
    /// token, so several clients cannot invalidate each other's token.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: each call invalidates the previous token
    /// after a 5-minute overlap.
    Classic,
}

impl TokenMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Classic => "classic",
        }
    }
}

/// An AppSecret. Its `Debug` output is redacted and it has no `Display`.
#[derive(Clone)]
pub struct AppSecret(String);

impl AppSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

/// The identity of one official account.
#[derive(Debug, Clone)]
pub struct AccountCredentials {
    /// The account's name in wxhost's config, used in logs and store keys.
    pub account: String,
    pub appid: String,
    pub secret: AppSecret,
}

/// Broker settings.
///
/// Defaults: `mode` stable, `refresh_margin` 300 s, `force_refresh_daily_limit`
/// 20, `force_refresh_min_interval` 30 s, `lease_ttl` 15 s, `lease_poll`
/// 50 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenConfig {
    pub mode: TokenMode,
    /// A token counts as stale this long before WeChat's expiry.
    pub refresh_margin: Duration,
    /// Forced stable_token refreshes allowed per calendar day (UTC+8).
    pub force_refresh_daily_limit: u32,
    /// Minimum time between two forced refreshes.
    pub force_refresh_min_interval: Duration,
    /// How long a process may hold the store's refresh lease.
    pub lease_ttl: Duration,
    /// How often a process waiting for another's fetch rereads the store.
    pub lease_poll: Duration,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            mode: TokenMode::Stable,
            refresh_margin: Duration::from_secs(300),
            force_refresh_daily_limit: 20,
            force_refresh_min_interval: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(15),
            lease_poll: Duration::from_millis(50),
        }
    }
}

/// An access token with its expiry. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    value: String,
    /// When WeChat stops accepting the token, in Unix milliseconds.
    pub expires_at_ms: i64,
}

impl AccessToken {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
}

/// The access token source of one account.
pub struct TokenBroker {
    credentials: AccountCredentials,
    config: TokenConfig,
    http: ApiHttp,
    store: Arc<dyn TokenStore>,
    quota: Option<Arc<QuotaGuard>>,
    clock: Arc<dyn Clock>,
    /// Identifies this broker as a lease holder in the shared store.
    holder: String,
    cached: Mutex<Option<StoredToken>>,
    fetches: AtomicU64,
    foreign_refreshes: AtomicU64,
}

impl TokenBroker {
    /// Creates a broker that reads the system clock and counts no quota.
    pub fn new(
        credentials: AccountCredentials,
        config: TokenConfig,
        http: ApiHttp,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        Self {
            credentials,
            config,
            http,
            store,
            quota: None,
            clock: Arc::new(SystemClock),
            holder: format!("{:016x}", rand::random::<u64>()),
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
            foreign_refreshes: AtomicU64::new(0),
        }
    }

    /// Counts token fetches against `quota` (2000 classic fetches a day,
    /// 10 000 stable_token calls a minute by default).
    pub fn with_quota(mut self, quota: Arc<QuotaGuard>) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Replaces the clock, for tests.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn account(&self) -> &str {
        &self.credentials.account
    }

    pub fn mode(&self) -> TokenMode {
        self.config.mode
    }

    /// Returns how many times this broker fetched a token from WeChat.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Returns how many tokens WeChat rejected while they should still
    /// have been valid, which means another client refreshed them.
    pub fn foreign_refreshes(&self) -> u64 {
        self.foreign_refreshes.load(Ordering::Relaxed)
    }

    /// Returns a valid token: the cached one, the stored one, or a new one.
    pub async fn token(&self) -> Result<AccessToken, ApiError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| self.is_usable(t)) {
            return Ok(to_access_token(token));
        }
        let token = self.obtain(None).await?;
        *cached = Some(token.clone());
        Ok(to_access_token(&token))
    }

    /// Replaces `failed`, a token WeChat just rejected with 40001, 40014 or
    /// 42001, and returns the token to retry with. When the current token
    /// is already a different one, returns it without fetching.
    pub async fn refresh_after_failure(&self, failed: &str) -> Result<AccessToken, ApiError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            if token.token != failed && self.is_usable(token) {
                return Ok(to_access_token(token));
            }
            if token.token == failed && self.clock.now_ms() < token.expires_at_ms {
                self.foreign_refreshes.fetch_add(1, Ordering::Relaxed);
                warn!(
                    account = %self.credentials.account,
                    mode = self.config.mode.as_str(),
                    "WeChat rejected an access token that the host counts as unexpired; another client may have refreshed it"
                );
            }
        }
        *cached = None;
        self.store
            .clear_token_if(&self.credentials.account, self.config.mode, failed)?;
        let token = self.obtain(Some(failed)).await?;
        *cached = Some(token.clone());
        Ok(to_access_token(&token))
    }

    fn is_usable(&self, token: &StoredToken) -> bool {
        let margin = i64::try_from(self.config.refresh_margin.as_millis()).unwrap_or(i64::MAX);
        self.clock.now_ms() < token.expires_at_ms.saturating_sub(margin)
    }

    /// Returns a usable stored token other than `failed`, or fetches one
    /// while holding the store's lease.
    async fn obtain(&self, failed: Option<&str>) -> Result<StoredToken, ApiError> {
        let account = &self.credentials.account;
        let mode = self.config.mode;
        let ttl_ms = i64::try_from(self.config.lease_ttl.as_millis()).unwrap_or(i64::MAX);
        loop {
            if let Some(token) = self.stored_usable(failed)? {
                debug!(account = %account, "using stored access token");
                return Ok(token);
            }
            let now = self.clock.now_ms();
            if !self
                .store
                .try_lease(account, mode, &self.holder, now, ttl_ms)?
            {
                // Another process is fetching; its token shows up in the store.
                tokio::time::sleep(self.config.lease_poll).await;
                continue;
            }
            let result = match self.stored_usable(failed)? {
                Some(token) => Ok(token),
                None => self.fetch_and_store(failed).await,
            };
            self.store.release_lease(account, mode, &self.holder)?;
            return result;
        }
    }

    fn stored_usable(&self, failed: Option<&str>) -> Result<Option<StoredToken>, ApiError> {
        let stored = self
            .store
            .load_token(&self.credentials.account, self.config.mode)?;
        Ok(stored.filter(|t| Some(t.token.as_str()) != failed && self.is_usable(t)))
    }

    async fn fetch_and_store(&self, failed: Option<&str>) -> Result<StoredToken, ApiError> {
        let mut token = self.fetch(false).await?;
        if self.config.mode == TokenMode::Stable && Some(token.token.as_str()) == failed {
            self.check_force_budget()?;
            token = self.fetch(true).await?;
        }
        self.store
            .save_token(&self.credentials.account, self.config.mode, &token)?;
        Ok(token)
    }

    fn check_force_budget(&self) -> Result<(), ApiError> {
        let account = &self.credentials.account;
        let now = self.clock.now_ms();
        let day_start_ms = (cst_day(now) * 86_400 - 8 * 3600) * 1000;
        let today = self.store.force_refreshes_since(account, day_start_ms)?;
        let limit = self.config.force_refresh_daily_limit;
        if today.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            return Err(ApiError::ForceRefreshBudget {
                account: account.clone(),
                reason: format!("{limit} forced refreshes already used today"),
            });
        }
        let min_ms =
            i64::try_from(self.config.force_refresh_min_interval.as_millis()).unwrap_or(i64::MAX);
        if let Some(last) = today.last()
            && now - last < min_ms
        {
            return Err(ApiError::ForceRefreshBudget {
                account: account.clone(),
                reason: format!(
                    "last forced refresh was {} ms ago, {min_ms} ms must pass between two",
                    now - last
                ),
            });
        }
        // Counted before sending, so a crash mid-request still counts it.
        self.store.record_force_refresh(account, now)?;
        Ok(())
    }

    async fn fetch(&self, force_refresh: bool) -> Result<StoredToken, ApiError> {
        let creds = &self.credentials;
        let call = match self.config.mode {
            TokenMode::Classic => Call::new(Method::GET, CLASSIC_PATH)
                .query("grant_type", "client_credential")
                .query("appid", creds.appid.clone())
                .query("secret", creds.secret.expose()),
            TokenMode::Stable => Call::new(Method::POST, STABLE_PATH).json(&serde_json::json!({
                "grant_type": "client_credential",
                "appid": creds.appid,
                "secret": creds.secret.expose(),
                "force_refresh": force_refresh,
            }))?,
        };
        let quota = self.quota.clone();
        let account = creds.account.clone();
        let path = call.path;
        let before = move || match &quota {
            Some(quota) => quota.acquire(&account, path),
            None => Ok(()),
        };

        let started_ms = self.clock.now_ms();
        let answer = self
            .http
            .send_with_backoff(&creds.account, &call, None, &before)
            .await
            .map_err(|e| self.token_endpoint_error(e))?;
        let answer: TokenResponse = decode(path, answer.into_json(path)?)?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        info!(
            account = %creds.account,
            mode = self.config.mode.as_str(),
            force_refresh,
            expires_in = answer.expires_in,
            "fetched access token"
        );
        Ok(StoredToken {
            token: answer.access_token,
            fetched_at_ms: started_ms,
            expires_at_ms: started_ms + answer.expires_in * 1000,
        })
    }

    /// On the token endpoints 40001 means a wrong AppSecret, not a stale
    /// token, so it is a configuration error too.
    fn token_endpoint_error(&self, err: ApiError) -> ApiError {
        if err.is_token_invalid() {
            return ApiError::Config {
                account: self.credentials.account.clone(),
                errcode: err.errcode().unwrap_or_default(),
                hint: "WeChat rejected the AppSecret; check the account's app_secret".to_owned(),
            };
        }
        err
    }
}

fn to_access_token(token: &StoredToken) -> AccessToken {
    AccessToken {
        value: token.token.clone(),
        expires_at_ms: token.expires_at_ms,
    }
}
