//! The API client of one account: sends calls with the broker's token,
//! counts them against the quotas and applies the retry rules.
//!
//! Retry rules, in order:
//! 1. -1 and transport errors: bounded exponential backoff with jitter
//!    ([`RetryPolicy`](super::retry::RetryPolicy) in the [`ApiHttp`] config).
//! 2. 40001, 40014, 42001: the broker replaces the failing token, and the
//!    call is sent once more with the same body. A second token error is
//!    returned, never looped on.
//! 3. 45159 on tagging: retried only when [`ClientConfig::tag_retry`] is
//!    set.
//! 4. Everything else, including 45009, 45011, 45015, 45047, 43004, 43101
//!    and 48001, is returned at once.

use std::sync::Arc;

use tracing::{debug, info, warn};

use super::errcode;
use super::error::{ApiError, LimitOrigin};
use super::http::{ApiHttp, Call, ResponseBody};
use super::quota::{InteractionKind, QuotaGuard};
use super::retry::TagRetryPolicy;
use super::token::TokenBroker;

/// Client settings.
///
/// Defaults: `tag_retry` off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// Retry tagging calls that fail with 45159 right after a tag was
    /// created.
    pub tag_retry: Option<TagRetryPolicy>,
}

/// The WeChat API client of one account.
pub struct WeChatClient {
    account: String,
    http: ApiHttp,
    broker: Arc<TokenBroker>,
    quota: Arc<QuotaGuard>,
    config: ClientConfig,
}

impl WeChatClient {
    /// Creates the client of the broker's account.
    pub fn new(
        http: ApiHttp,
        broker: Arc<TokenBroker>,
        quota: Arc<QuotaGuard>,
        config: ClientConfig,
    ) -> Self {
        Self {
            account: broker.account().to_owned(),
            http,
            broker,
            quota,
            config,
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn broker(&self) -> &Arc<TokenBroker> {
        &self.broker
    }

    pub fn quota(&self) -> &Arc<QuotaGuard> {
        &self.quota
    }

    /// Records what a follower did, opening a customer-service window.
    pub fn record_interaction(
        &self,
        openid: &str,
        kind: InteractionKind,
        at_ms: i64,
    ) -> Result<(), ApiError> {
        self.quota
            .record_interaction(&self.account, openid, kind, at_ms)
    }

    /// Sends `call` with the access token. With `follower`, one message of
    /// the follower's customer-service window is taken first.
    pub(crate) async fn execute(
        &self,
        call: &Call,
        follower: Option<&str>,
    ) -> Result<ResponseBody, ApiError> {
        self.execute_with(call, follower, true).await
    }

    /// Sends `call` for `follower` whose window message the caller already
    /// took with [`QuotaGuard::reserve_reply`]. WeChat's 45015 and 45047
    /// still close or empty the follower's windows locally.
    pub(crate) async fn execute_reserved(
        &self,
        call: &Call,
        follower: &str,
    ) -> Result<ResponseBody, ApiError> {
        self.execute_with(call, Some(follower), false).await
    }

    async fn execute_with(
        &self,
        call: &Call,
        follower: Option<&str>,
        reserve: bool,
    ) -> Result<ResponseBody, ApiError> {
        let result = self.execute_inner(call, follower, reserve).await;
        if let Err(err) = &result {
            self.after_failure(call.path, follower, err);
        }
        result
    }

    async fn execute_inner(
        &self,
        call: &Call,
        follower: Option<&str>,
        reserve: bool,
    ) -> Result<ResponseBody, ApiError> {
        if let Some(openid) = follower.filter(|_| reserve) {
            self.quota.reserve_reply(&self.account, openid)?;
        }
        let count_call = || self.quota.acquire(&self.account, call.path);
        let mut token = self.broker.token().await?;
        let mut token_replaced = false;
        let mut tag_retries = 0;
        loop {
            let err = match self
                .http
                .send_with_backoff(&self.account, call, Some(token.as_str()), &count_call)
                .await
            {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };

            if err.is_token_invalid() && !token_replaced {
                info!(
                    account = %self.account,
                    api = call.path,
                    errcode = err.errcode(),
                    "access token rejected, retrying once with a new token"
                );
                token = self.broker.refresh_after_failure(token.as_str()).await?;
                token_replaced = true;
                continue;
            }
            if let Some(policy) = self.tag_retry_for(&err, tag_retries) {
                tag_retries += 1;
                info!(
                    account = %self.account,
                    api = call.path,
                    retry = tag_retries,
                    "tag id not yet visible, retrying"
                );
                tokio::time::sleep(policy.delay).await;
                continue;
            }
            return Err(err);
        }
    }

    fn tag_retry_for(&self, err: &ApiError, done: u32) -> Option<TagRetryPolicy> {
        let policy = self.config.tag_retry?;
        (err.errcode() == Some(errcode::INVALID_TAG_ID)
            && matches!(err, ApiError::Api { .. })
            && done < policy.max_retries)
            .then_some(policy)
    }

    /// Logs the failure and records WeChat's limit errors in the quota
    /// guard.
    fn after_failure(&self, api: &str, follower: Option<&str>, err: &ApiError) {
        if err.is_local() {
            debug!(account = %self.account, api, error = %err, "WeChat API call rejected locally");
            return;
        }
        warn!(account = %self.account, api, error = %err, "WeChat API call failed");
        if let ApiError::Limit {
            kind,
            origin: LimitOrigin::WeChat { .. },
            ..
        } = err
            && let Err(store_err) = self.quota.note_limit(&self.account, api, *kind, follower)
        {
            warn!(account = %self.account, api, error = %store_err, "failed to record WeChat limit");
        }
    }

    /// Sends a call that needs no access token and counts no quota.
    pub(crate) async fn execute_without_token(
        &self,
        call: &Call,
    ) -> Result<ResponseBody, ApiError> {
        let result = self
            .http
            .send_with_backoff(&self.account, call, None, &|| Ok(()))
            .await;
        if let Err(err) = &result {
            self.after_failure(call.path, None, err);
        }
        result
    }
}
