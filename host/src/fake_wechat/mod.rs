//! A fake of WeChat's server API for tests and offline demos: a real HTTP
//! server that issues expiring tokens, enforces quotas and
//! customer-service windows with WeChat's errcodes, and records every
//! request.
//!
//! # Behaviour
//!
//! - `GET /cgi-bin/token` issues a new token per call. Earlier classic
//!   tokens of the account stay valid for [`FakeConfig::classic_overlap`]
//!   (5 minutes by default), then get 40001.
//! - `POST /cgi-bin/stable_token` returns the current stable token, and a
//!   new one only within the last [`FakeConfig::stable_rotate_before`]
//!   before expiry. `force_refresh: true` revokes the current token at
//!   once, at most 20 times a day (45009 beyond) and 30 s apart (a call
//!   sooner returns the current token). Classic and stable tokens are
//!   independent.
//! - Unknown appid: 40013. Wrong secret: 40125 on `stable_token`, 40001 on
//!   `token`. With [`FakeConfig::ip_whitelist`] set, other callers get 40164
//!   with their IP in errmsg.
//! - A revoked or unknown token gets 40001 and an expired one 42001,
//!   with errmsg ending in ` rid: ...`.
//! - Every API counts against [`FakeConfig::daily_limits`]; a full counter
//!   answers 45009.
//! - `message/custom/send` needs an open customer-service window (45015)
//!   with room (45047), opened through `/fake/interactions`. More than one
//!   news article answers 45008.
//! - `message/template/send` sends once per openid and `client_msg_id`
//!   within 10 minutes, returning the same msgid for repeats.
//! - A JSON body with `\uXXXX` escapes of non-ASCII characters answers
//!   40033.
//!
//! # Admin API
//!
//! | Request | Effect |
//! |---|---|
//! | `GET /fake/requests` | recorded requests, oldest first (`access_token` kept in its own field) |
//! | `DELETE /fake/requests` | forget them |
//! | `GET /fake/deliveries` | accepted customer-service and template messages |
//! | `POST /fake/inject` `{"path","times"?,"errcode"?,"errmsg"?,"delay_ms"?,"drop"?}` | fault for the next `times` (default 1) calls of `path` |
//! | `POST /fake/interactions` `{"appid"?,"openid","kind"}` | `kind` is `message`, `follow`, `menu_click`, `qr_scan` or `unfollow` |
//! | `POST /fake/users` `{"appid"?,"openid","subscribed","unionid"?}` | set a user's follow state |
//! | `POST /fake/quota` `{"path","daily_limit"}` | set the daily quota of `path` |
//! | `POST /fake/clock` `{"advance_secs"}` | move the fake's clock forward |
//!
//! `appid` defaults to the first configured account. The same operations
//! exist in process on [`FakeState`].

mod admin;
mod api;
mod state;
mod token;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use state::{Delivery, FakeState, Injection, Interaction, RecordedRequest};

/// The appid of the default fake account.
pub const DEFAULT_APPID: &str = "wx1234567890abcdef";
/// The AppSecret of the default fake account.
pub const DEFAULT_SECRET: &str = "fake-app-secret-0123456789abcdef";

/// An account configured in the fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeAccount {
    pub appid: String,
    pub secret: String,
}

/// Settings of the fake.
///
/// Defaults:
/// - one account, [`DEFAULT_APPID`] with [`DEFAULT_SECRET`];
/// - tokens valid 7200 s, classic overlap 300 s, stable rotation 300 s
///   before expiry;
/// - 20 forced refreshes a day, at least 30 s apart;
/// - no IP whitelist;
/// - WeChat's documented daily quotas for the APIs the fake serves;
/// - customer-service windows enforced, new tags visible at once.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    pub accounts: Vec<FakeAccount>,
    pub token_lifetime: Duration,
    /// How long a classic token stays valid after the next one is issued.
    pub classic_overlap: Duration,
    /// How long before expiry a normal stable_token call issues a new token.
    pub stable_rotate_before: Duration,
    pub force_refresh_daily_limit: u32,
    pub force_refresh_min_interval: Duration,
    /// Callers allowed to use the API; `None` allows every caller.
    pub ip_whitelist: Option<Vec<IpAddr>>,
    /// Daily quota per API path; paths without an entry have none.
    pub daily_limits: BTreeMap<String, u64>,
    /// Whether customer-service sends need an open window.
    pub enforce_reply_windows: bool,
    /// Delay after creation during which tagging calls with the new tag
    /// get 45159.
    pub tag_visible_after: Duration,
}

impl Default for FakeConfig {
    fn default() -> Self {
        let daily_limits = [
            ("/cgi-bin/token", 2_000),
            ("/cgi-bin/stable_token", 500_000),
            ("/cgi-bin/message/custom/send", 500_000),
            ("/cgi-bin/message/template/send", 100_000),
            ("/cgi-bin/qrcode/create", 100_000),
            ("/cgi-bin/media/upload", 100_000),
            ("/cgi-bin/user/info", 5_000_000),
            ("/cgi-bin/user/info/batchget", 5_000_000),
            ("/cgi-bin/tags/members/batchtagging", 100_000),
            ("/cgi-bin/tags/members/batchuntagging", 100_000),
            ("/cgi-bin/menu/create", 1_000),
            ("/cgi-bin/menu/get", 10_000),
            ("/cgi-bin/menu/delete", 1_000),
            ("/cgi-bin/menu/addconditional", 2_000),
        ];
        Self {
            accounts: vec![FakeAccount {
                appid: DEFAULT_APPID.to_owned(),
                secret: DEFAULT_SECRET.to_owned(),
            }],
            token_lifetime: Duration::from_secs(7200),
            classic_overlap: Duration::from_secs(300),
            stable_rotate_before: Duration::from_secs(300),
            force_refresh_daily_limit: 20,
            force_refresh_min_interval: Duration::from_secs(30),
            ip_whitelist: None,
            daily_limits: daily_limits
                .iter()
                .map(|(path, limit)| ((*path).to_owned(), *limit))
                .collect(),
            enforce_reply_windows: true,
            tag_visible_after: Duration::ZERO,
        }
    }
}

/// Builds the fake's router.
pub fn app(state: FakeState) -> Router {
    Router::new()
        .nest("/fake", admin::admin_routes())
        .fallback(admin::entry)
        .with_state(state)
}

/// Serves the fake on `listener` until the listener fails.
pub async fn serve(listener: TcpListener, state: FakeState) -> std::io::Result<()> {
    serve_with_shutdown(listener, state, std::future::pending()).await
}

/// Serves the fake on `listener` until `shutdown` completes.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    state: FakeState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A running fake on 127.0.0.1. Dropping it stops the server.
pub struct FakeWeChat {
    base_url: String,
    state: FakeState,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeWeChat {
    /// Binds 127.0.0.1 on a free port and starts serving.
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let state = FakeState::new(config);
        let (tx, rx) = oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            if let Err(err) = serve_with_shutdown(listener, served, shutdown).await {
                tracing::warn!(error = %err, "fake WeChat server stopped");
            }
        });
        Ok(Self {
            base_url,
            state,
            shutdown: Some(tx),
        })
    }

    /// Returns `http://127.0.0.1:<port>`, the base URL for API calls.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn state(&self) -> &FakeState {
        &self.state
    }
}

impl Deref for FakeWeChat {
    type Target = FakeState;

    fn deref(&self) -> &FakeState {
        &self.state
    }
}

impl Drop for FakeWeChat {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
