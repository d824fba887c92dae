//! A fake WeChat server plus a client for one account pointed at it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use wxhost::fake_wechat::{DEFAULT_APPID, DEFAULT_SECRET, FakeConfig, FakeWeChat};
use wxhost::wechat::{
    AccountCredentials, ApiHttp, AppSecret, ClientConfig, HttpConfig, QuotaGuard, QuotaLimits,
    RetryPolicy, SqliteStore, TokenBroker, TokenConfig, TokenMode, WeChatClient,
};

pub const STABLE_PATH: &str = "/cgi-bin/stable_token";
pub const CLASSIC_PATH: &str = "/cgi-bin/token";
pub const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";
pub const OPENID: &str = "oFAKE_user_0001";

/// Retries with millisecond delays so tests stay fast.
pub fn http(base_url: &str) -> ApiHttp {
    ApiHttp::new(HttpConfig {
        base_url: base_url.to_owned(),
        mp_base_url: base_url.to_owned(),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
    })
    .expect("reqwest client")
}

pub fn credentials() -> AccountCredentials {
    AccountCredentials {
        account: "main".to_owned(),
        appid: DEFAULT_APPID.to_owned(),
        secret: AppSecret::new(DEFAULT_SECRET),
    }
}

pub fn token_config(mode: TokenMode) -> TokenConfig {
    TokenConfig {
        mode,
        lease_poll: Duration::from_millis(5),
        ..TokenConfig::default()
    }
}

/// One account wired to a fake.
pub struct Setup {
    pub fake: FakeWeChat,
    pub store: Arc<SqliteStore>,
    pub quota: Arc<QuotaGuard>,
    pub broker: Arc<TokenBroker>,
    pub client: WeChatClient,
}

pub struct Options {
    pub fake: FakeConfig,
    pub token: TokenConfig,
    pub limits: QuotaLimits,
    pub client: ClientConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fake: FakeConfig::default(),
            token: token_config(TokenMode::Stable),
            limits: QuotaLimits::default(),
            client: ClientConfig::default(),
        }
    }
}

pub async fn setup(options: Options) -> Setup {
    let fake = FakeWeChat::start(options.fake).await.expect("fake starts");
    let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
    wire(fake, store, options.token, options.limits, options.client)
}

pub fn wire(
    fake: FakeWeChat,
    store: Arc<SqliteStore>,
    token: TokenConfig,
    limits: QuotaLimits,
    client: ClientConfig,
) -> Setup {
    let quota = Arc::new(QuotaGuard::new(limits, store.clone()));
    let http = http(fake.base_url());
    let broker = Arc::new(
        TokenBroker::new(credentials(), token, http.clone(), store.clone())
            .with_quota(quota.clone()),
    );
    let client = WeChatClient::new(http, broker.clone(), quota.clone(), client);
    Setup {
        fake,
        store,
        quota,
        broker,
        client,
    }
}

/// Creates a broker with its own connection to the SQLite file at `path`,
/// as a second process would have.
pub fn broker_on_file(base_url: &str, path: &Path, mode: TokenMode) -> Arc<TokenBroker> {
    let store = Arc::new(SqliteStore::open(path).expect("file store"));
    Arc::new(TokenBroker::new(
        credentials(),
        token_config(mode),
        http(base_url),
        store,
    ))
}

/// Fetches a classic token directly, as another service of the company
/// would, which revokes earlier classic tokens after the overlap.
pub async fn foreign_classic_fetch(base_url: &str) -> String {
    let url = format!(
        "{base_url}/cgi-bin/token?grant_type=client_credential&appid={DEFAULT_APPID}&secret={DEFAULT_SECRET}"
    );
    let answer: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

/// Forces a stable token refresh directly, as another service would.
pub async fn foreign_force_refresh(base_url: &str) -> String {
    let body = serde_json::json!({
        "grant_type": "client_credential",
        "appid": DEFAULT_APPID,
        "secret": DEFAULT_SECRET,
        "force_refresh": true,
    });
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{base_url}{STABLE_PATH}"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"].as_str().unwrap().to_owned()
}

/// Returns the paths of the recorded requests, in order.
pub fn paths(fake: &FakeWeChat) -> Vec<String> {
    fake.requests().into_iter().map(|r| r.path).collect()
}
