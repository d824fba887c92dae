//! The fake's state: accounts, issued tokens, quotas, follower windows,
//! recorded requests and pending injections.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use super::FakeConfig;

/// One request the fake received (admin requests under `/fake/` excluded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    /// Position in arrival order, from 1.
    pub seq: u64,
    pub method: String,
    pub path: String,
    /// Query parameters other than `access_token`, in order.
    pub query: Vec<(String, String)>,
    /// The `access_token` query parameter, kept so tests can check which
    /// token a call used. The fake never logs it.
    pub access_token: Option<String>,
    pub content_type: Option<String>,
    /// The raw body; serialized as lossy UTF-8 text.
    #[serde(serialize_with = "lossy_text")]
    pub body: Vec<u8>,
    pub at_ms: i64,
}

impl RecordedRequest {
    /// Parses the body as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Returns the first query parameter called `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn lossy_text<S: Serializer>(body: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&String::from_utf8_lossy(body))
}

/// A message the fake accepted for delivery to a follower.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub seq: u64,
    pub appid: String,
    pub api: String,
    pub touser: String,
    pub body: Value,
}

/// A fault to apply to the next calls of one path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Injection {
    pub path: String,
    /// How many calls the fault applies to; 1 when absent.
    #[serde(default = "one")]
    pub times: u32,
    /// Respond with this errcode instead of handling the call.
    #[serde(default)]
    pub errcode: Option<i64>,
    /// errmsg for `errcode`; a ` rid: ...` suffix is appended.
    #[serde(default)]
    pub errmsg: Option<String>,
    /// Wait this long before responding.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// Send the headers, then break the connection.
    #[serde(default)]
    pub drop: bool,
}

fn one() -> u32 {
    1
}

/// A follower action, reported to the fake through `/fake/interactions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    Message,
    Follow,
    MenuClick,
    QrScan,
    Unfollow,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub expires_at_ms: i64,
    pub remaining: u32,
}

#[derive(Debug, Default)]
pub(crate) struct User {
    pub subscribed: bool,
    pub unionid: Option<String>,
    pub tags: Vec<u64>,
    pub last_interaction_ms: Option<i64>,
    /// Message window (48 h) and event window (1 min).
    pub windows: [Option<Window>; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Classic,
    Stable,
}

#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub appid: String,
    pub kind: TokenKind,
    pub expires_at_ms: i64,
    /// Time from which requests with the token get 40001.
    pub revoked_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub(crate) struct Account {
    pub secret: String,
    pub current_stable: Option<String>,
    pub force_refreshes: Vec<i64>,
    pub daily_counts: HashMap<(String, i64), u64>,
    pub users: HashMap<String, User>,
    /// (openid, client_msg_id) to (msgid, time sent).
    pub template_keys: HashMap<(String, String), (u64, i64)>,
    pub tags: BTreeMap<u64, (String, i64)>,
    pub menu: Option<Value>,
    pub conditional_menus: Vec<Value>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub accounts: HashMap<String, Account>,
    pub tokens: HashMap<String, IssuedToken>,
    pub requests: Vec<RecordedRequest>,
    pub deliveries: Vec<Delivery>,
    pub injections: HashMap<String, VecDeque<Injection>>,
    pub daily_limits: BTreeMap<String, u64>,
    /// QR tickets issued, for `showqrcode`.
    pub tickets: HashSet<String>,
    pub clock_offset_ms: i64,
    pub counter: u64,
}

/// The shared state of one fake server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FakeState {
    pub(crate) config: Arc<FakeConfig>,
    inner: Arc<Mutex<Inner>>,
}

impl FakeState {
    /// Creates the state for `config`.
    pub fn new(config: FakeConfig) -> Self {
        let mut inner = Inner {
            daily_limits: config.daily_limits.clone(),
            ..Inner::default()
        };
        for account in &config.accounts {
            inner.accounts.insert(
                account.appid.clone(),
                Account {
                    secret: account.secret.clone(),
                    ..Account::default()
                },
            );
        }
        Self {
            config: Arc::new(config),
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns every recorded request, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Returns the recorded requests to `path`, oldest first.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Returns every accepted customer-service and template message.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }

    /// Queues a fault for the next calls of `injection.path`.
    pub fn inject(&self, injection: Injection) {
        let mut inner = self.lock();
        let queue = inner.injections.entry(injection.path.clone()).or_default();
        queue.push_back(injection);
    }

    /// Sets the daily quota of `path` for every account.
    pub fn set_daily_limit(&self, path: &str, limit: u64) {
        self.lock().daily_limits.insert(path.to_owned(), limit);
    }

    /// Moves the fake's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        self.lock().clock_offset_ms += i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
    }

    /// Returns the fake's current time in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let offset = self.lock().clock_offset_ms;
        system_now_ms() + offset
    }

    /// Records what a follower of `appid` did, opening the matching
    /// customer-service window. Fails for an unknown appid.
    pub fn record_interaction(
        &self,
        appid: &str,
        openid: &str,
        interaction: Interaction,
    ) -> Result<(), String> {
        let now = self.now_ms();
        let mut inner = self.lock();
        let account = inner
            .accounts
            .get_mut(appid)
            .ok_or_else(|| format!("unknown appid {appid}"))?;
        let user = account.users.entry(openid.to_owned()).or_default();
        let (slot, window) = match interaction {
            Interaction::Unfollow => {
                user.subscribed = false;
                user.windows = [None, None];
                return Ok(());
            }
            Interaction::Message => (0, (48 * 3600 * 1000, 5)),
            Interaction::Follow | Interaction::MenuClick | Interaction::QrScan => {
                (1, (60 * 1000, 3))
            }
        };
        user.subscribed = true;
        user.last_interaction_ms = Some(now);
        user.windows[slot] = Some(Window {
            expires_at_ms: now + window.0,
            remaining: window.1,
        });
        Ok(())
    }

    /// Sets a user's follow state and unionid.
    pub fn set_user(&self, appid: &str, openid: &str, subscribed: bool, unionid: Option<String>) {
        let mut inner = self.lock();
        if let Some(account) = inner.accounts.get_mut(appid) {
            let user = account.users.entry(openid.to_owned()).or_default();
            user.subscribed = subscribed;
            user.unionid = unionid;
        }
    }

    /// Returns the token's appid when `token` is valid now, or the errcode
    /// response WeChat sends for it.
    pub(crate) fn check_token(&self, token: Option<&str>) -> Result<String, Value> {
        let now = self.now_ms();
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(fail(41001, "access_token missing"));
        };
        let inner = self.lock();
        let stale = || {
            fail(
                40001,
                "invalid credential, access_token is invalid or not latest",
            )
        };
        let issued = inner.tokens.get(token).ok_or_else(stale)?;
        if now >= issued.expires_at_ms {
            return Err(fail(42001, "access_token expired"));
        }
        if issued.revoked_at_ms.is_some_and(|at| now >= at) {
            return Err(stale());
        }
        Ok(issued.appid.clone())
    }

    /// Counts one call of `path` for `appid`, or returns the 45009 response.
    pub(crate) fn count_call(&self, appid: &str, path: &str) -> Result<(), Value> {
        let day = cst_day(self.now_ms());
        let mut inner = self.lock();
        let limit = inner.daily_limits.get(path).copied();
        let Some(account) = inner.accounts.get_mut(appid) else {
            return Ok(());
        };
        let count = account
            .daily_counts
            .entry((path.to_owned(), day))
            .or_insert(0);
        if limit.is_some_and(|limit| *count >= limit) {
            return Err(fail(45009, "reach max api daily quota limit"));
        }
        *count += 1;
        Ok(())
    }

    /// Takes the next pending injection of `path`, if any.
    pub(crate) fn take_injection(&self, path: &str) -> Option<Injection> {
        let mut inner = self.lock();
        let queue = inner.injections.get_mut(path)?;
        let front = queue.front_mut()?;
        let taken = front.clone();
        front.times = front.times.saturating_sub(1);
        if front.times == 0 {
            queue.pop_front();
        }
        Some(taken)
    }

    /// Returns the appid of the first configured account.
    pub fn default_appid(&self) -> String {
        self.config
            .accounts
            .first()
            .map(|a| a.appid.clone())
            .unwrap_or_default()
    }

    pub(crate) fn next_id(&self) -> u64 {
        let mut inner = self.lock();
        inner.counter += 1;
        inner.counter
    }
}

/// Builds an error response whose errmsg ends in a ` rid: ...` suffix, as
/// WeChat's do.
pub(crate) fn fail(errcode: i64, errmsg: &str) -> Value {
    let rid = format!(
        "{:08x}-{:08x}-{:08x}",
        rand::random::<u32>(),
        rand::random::<u32>(),
        rand::random::<u32>()
    );
    json!({ "errcode": errcode, "errmsg": format!("{errmsg} rid: {rid}") })
}

pub(crate) fn ok() -> Value {
    json!({ "errcode": 0, "errmsg": "ok" })
}

pub(crate) fn system_now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Calendar day in Beijing (UTC+8), the day WeChat's quotas count.
pub(crate) fn cst_day(now_ms: i64) -> i64 {
    (now_ms / 1000 + 8 * 3600).div_euclid(86_400)
}
