//! The API side of the config: how wxhost calls WeChat for each account,
//! who may fetch access tokens from it, the admin key, the outbox and the
//! in-process fake of WeChat for demos.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::SecretSource;

/// WeChat's API host, the default `api_base_url`.
pub const DEFAULT_API_BASE_URL: &str = "https://api.weixin.qq.com";
/// Shortest accepted bearer key (consumers and admin), in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// The access token endpoint an account uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenModeConfig {
    /// `POST /cgi-bin/stable_token` (default): callers sharing the account
    /// cannot invalidate each other's token.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: each fetch invalidates the previous token
    /// after a 5-minute overlap.
    Classic,
}

/// `[accounts.quota]`: limits that replace wxhost's defaults for one
/// account. Keys are API paths such as `/cgi-bin/message/custom/send`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuotaOverrides {
    /// Calls per calendar day (China Standard Time), per API.
    #[serde(default)]
    pub daily: BTreeMap<String, u64>,
    /// Calls per calendar minute, per API.
    #[serde(default)]
    pub per_minute: BTreeMap<String, u64>,
}

/// `[[consumers]]`: an internal service that fetches access tokens from
/// `GET /internal/accounts/{account}/access-token` instead of calling
/// WeChat itself.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsumerConfig {
    /// Name used in logs.
    pub name: String,
    /// The bearer key the consumer sends, at least 16 bytes.
    pub key: SecretSource,
    /// Accounts whose token the consumer may read; `"*"` means every
    /// account with an `app_secret`.
    pub accounts: Vec<String>,
}

impl ConsumerConfig {
    /// Returns whether the consumer may read `account`'s token.
    pub fn may_read(&self, account: &str) -> bool {
        self.accounts
            .iter()
            .any(|name| name == "*" || name == account)
    }
}

/// `[admin]`: the `/admin/*` endpoints. Without this section they return
/// 404.
#[derive(Debug, Clone, Deserialize)]
pub struct AdminConfig {
    /// The bearer key of the admin endpoints, at least 16 bytes.
    pub key: SecretSource,
}

/// `[outbox]`: delivery of the actions plugins return.
///
/// Defaults: `max_attempts` 8, `retry_base_ms` 1000, `retry_max_ms`
/// 300000, `poll_ms` 500, `worker_timeout_secs` 10, `in_doubt` `resend`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OutboxConfig {
    /// Delivery attempts of one action, the first included, before it is
    /// dead-lettered. Only transient failures (-1, transport) are retried.
    pub max_attempts: u32,
    /// Delay before the first retry; each later retry doubles it, with jitter.
    pub retry_base_ms: u64,
    /// Maximum delay between two attempts.
    pub retry_max_ms: u64,
    /// How often an idle worker looks for due entries, in milliseconds.
    pub poll_ms: u64,
    /// An entry claimed by a worker whose heartbeat is this old is
    /// delivered again: its process died while sending.
    pub worker_timeout_secs: u64,
    /// Policy for a customer-service message whose worker died during the
    /// attempt, when WeChat may or may not have received it.
    pub in_doubt: InDoubtPolicy,
}

/// `outbox.in_doubt`: the delivery guarantee for customer-service
/// messages across a crash. WeChat's `message/custom/send` takes no
/// idempotency key, so no policy gives exactly once. Template messages
/// (sent with `client_msg_id`) and tagging (repeating it changes nothing)
/// are always sent again, whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InDoubtPolicy {
    /// Send it again: at least once, so the follower may get it twice.
    #[default]
    Resend,
    /// Move it to the `in_doubt` state for an operator: at most once.
    /// `wxhost outbox retry ID` sends it again.
    Hold,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            max_attempts: 8,
            retry_base_ms: 1000,
            retry_max_ms: 300_000,
            poll_ms: 500,
            worker_timeout_secs: 10,
            in_doubt: InDoubtPolicy::Resend,
        }
    }
}

/// `[fake_wechat]`: for demos and tests only. `wxhost serve` starts the
/// fake of WeChat's API in process on `listen`, with the config's accounts
/// and their AppSecrets, and reports each follower interaction to it.
/// Point each account's `api_base_url` at `http://{listen}`.
#[derive(Debug, Clone, Deserialize)]
pub struct FakeWeChatConfig {
    /// Loopback socket address, for example `127.0.0.1:9100`.
    pub listen: String,
}
