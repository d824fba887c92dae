//! WeChat server API: the access token broker, the typed API client and
//! local enforcement of WeChat's quotas. This is the only module that
//! names reqwest.
//!
//! One account needs one [`TokenBroker`] and one [`WeChatClient`]; several
//! accounts can share one [`ApiHttp`], one [`SqliteStore`] and one
//! [`QuotaGuard`]:
//!
//! ```no_run
//! # async fn example() -> Result<(), wxhost::wechat::ApiError> {
//! use std::sync::Arc;
//! use wxhost::wechat::*;
//!
//! let store = Arc::new(SqliteStore::open(std::path::Path::new("wxhost.db"))?);
//! let quota = Arc::new(QuotaGuard::new(QuotaLimits::default(), store.clone()));
//! let http = ApiHttp::new(HttpConfig::default())?;
//! let credentials = AccountCredentials {
//!     account: "main".to_owned(),
//!     appid: "wx1234567890abcdef".to_owned(),
//!     secret: AppSecret::new("from the environment"),
//! };
//! let broker = Arc::new(
//!     TokenBroker::new(credentials, TokenConfig::default(), http.clone(), store.clone())
//!         .with_quota(quota.clone()),
//! );
//! let client = WeChatClient::new(http, broker, quota, ClientConfig::default());
//! client.get_menu().await?;
//! # Ok(())
//! # }
//! ```

mod api;
pub mod client;
pub mod clock;
pub mod errcode;
pub mod error;
pub mod http;
pub mod menu;
pub mod message;
pub mod qrcode;
pub mod quota;
pub mod quota_store;
pub mod retry;
pub mod store;
pub mod token;
pub mod token_store;
pub mod user;

pub use client::{ClientConfig, WeChatClient};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ApiError, LimitKind, LimitOrigin, LimitWindow};
pub use http::{ApiHttp, HttpConfig};
pub use menu::{Button, MatchRule, Menu, MenuInfo};
pub use message::{
    CustomBody, CustomMessage, MiniProgramLink, MsgMenuItem, NewsArticle, TemplateMessage,
    TemplateSent, TemplateValue, TypingCommand,
};
pub use qrcode::{QrCodeRequest, QrTicket, Scene};
pub use quota::{ApiUsage, InteractionKind, QuotaGuard, QuotaLimits, QuotaUsage, WindowRule};
pub use quota_store::QuotaStore;
pub use retry::{RetryPolicy, TagRetryPolicy};
pub use store::{Database, SqliteStore, StoreError};
pub use token::{AccessToken, AccountCredentials, AppSecret, TokenBroker, TokenConfig, TokenMode};
pub use token_store::{StoredToken, TokenStore};
pub use user::{ApiQuota, MediaType, Tag, UploadedMedia, UserInfo};
