//! The WeChat API side of the configured accounts: one token broker and
//! one API client per account with an `app_secret`, all sharing one
//! [`QuotaGuard`] and the token and quota tables of the host's database.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;

use crate::config::{AccountConfig, Config, TokenModeConfig};
use crate::fake_wechat::{FakeState, Interaction};
use crate::protocol::message::{Event, Inbound, Payload};
use crate::wechat::quota::CUSTOM_SEND;
use crate::wechat::{
    AccountCredentials, ApiError, ApiHttp, AppSecret, ClientConfig, HttpConfig, InteractionKind,
    LimitKind, QuotaGuard, QuotaLimits, SqliteStore, TokenBroker, TokenConfig, TokenMode,
    WeChatClient,
};

/// The effect of a callback on the follower's customer-service windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowerAction {
    /// The follower opened a window of this kind.
    Opens(InteractionKind),
    /// The follower unfollowed: every window closes.
    Unfollow,
}

/// Returns the effect of `inbound` on the sender's windows. A user message
/// opens the 48-hour window. A follow, a QR scan and a `click`,
/// `scancode_push` or `scancode_waitmsg` menu event open the 1-minute
/// window. Other events change nothing.
pub fn follower_action(inbound: &Inbound) -> Option<FollowerAction> {
    let kind = match &inbound.payload {
        Payload::Message(_) => InteractionKind::Message,
        Payload::Event(Event::Subscribe { .. }) => InteractionKind::Follow,
        Payload::Event(Event::Scan { .. }) => InteractionKind::QrScan,
        Payload::Event(
            Event::Click { .. } | Event::ScancodePush(_) | Event::ScancodeWaitmsg(_),
        ) => InteractionKind::MenuClick,
        Payload::Event(Event::Unsubscribe) => return Some(FollowerAction::Unfollow),
        Payload::Event(_) => return None,
    };
    Some(FollowerAction::Opens(kind))
}

/// The API clients of every account that has an `app_secret`.
pub struct AccountApis {
    clients: HashMap<String, Arc<WeChatClient>>,
    appids: HashMap<String, String>,
    quota: Arc<QuotaGuard>,
    /// The in-process fake of WeChat, which receives each interaction as
    /// WeChat itself would.
    mirror: Option<FakeState>,
}

impl AccountApis {
    /// Creates the brokers and clients. Fails when a secret does not
    /// resolve or the HTTP client cannot be built.
    pub fn build(config: &Config, store: Arc<SqliteStore>) -> anyhow::Result<AccountApis> {
        let mut quota = QuotaGuard::new(QuotaLimits::default(), store.clone());
        for account in &config.accounts {
            if account.app_secret.is_some() {
                quota = quota.with_account_limits(&account.name, account_limits(account));
            }
        }
        let quota = Arc::new(quota);

        let mut clients = HashMap::new();
        let mut appids = HashMap::new();
        for account in &config.accounts {
            let Some(source) = &account.app_secret else {
                continue;
            };
            let secret = source
                .resolve()
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("invalid accounts.{}.app_secret", account.name))?;
            let mut http_config = HttpConfig {
                base_url: account.api_base_url(),
                ..HttpConfig::default()
            };
            // NOTE: with a custom `api_base_url` (a fake or a forwarding
            // proxy), `showqrcode` is fetched from that base too, so a proxy
            // must forward `/cgi-bin/showqrcode` to mp.weixin.qq.com.
            if account.api_base_url.is_some() {
                http_config.mp_base_url = account.api_base_url();
            }
            let http = ApiHttp::new(http_config).with_context(|| {
                format!(
                    "failed to build the HTTP client of account {}",
                    account.name
                )
            })?;
            let credentials = AccountCredentials {
                account: account.name.clone(),
                appid: account.appid.clone(),
                secret: AppSecret::new(secret.expose()),
            };
            let token_config = TokenConfig {
                mode: match account.token_mode {
                    TokenModeConfig::Stable => TokenMode::Stable,
                    TokenModeConfig::Classic => TokenMode::Classic,
                },
                ..TokenConfig::default()
            };
            let broker = TokenBroker::new(credentials, token_config, http.clone(), store.clone())
                .with_quota(quota.clone());
            let client = WeChatClient::new(
                http,
                Arc::new(broker),
                quota.clone(),
                ClientConfig::default(),
            );
            clients.insert(account.name.clone(), Arc::new(client));
            appids.insert(account.name.clone(), account.appid.clone());
        }
        Ok(AccountApis {
            clients,
            appids,
            quota,
            mirror: None,
        })
    }

    /// Reports every follower interaction to `fake` too, as WeChat would
    /// see it. For the in-process fake of demos and tests only.
    pub fn with_mirror(mut self, fake: FakeState) -> AccountApis {
        self.mirror = Some(fake);
        self
    }

    /// Returns the client of `account`, or none when it has no `app_secret`.
    pub fn client(&self, account: &str) -> Option<&Arc<WeChatClient>> {
        self.clients.get(account)
    }

    pub fn quota(&self) -> &Arc<QuotaGuard> {
        &self.quota
    }

    /// Opens or closes `openid`'s customer-service windows after a
    /// callback of `account`. Does nothing for an account without a client.
    pub fn record_interaction(
        &self,
        account: &str,
        openid: &str,
        action: FollowerAction,
        at_ms: i64,
    ) -> Result<(), ApiError> {
        if !self.clients.contains_key(account) {
            return Ok(());
        }
        match action {
            FollowerAction::Opens(kind) => self
                .quota
                .record_interaction(account, openid, kind, at_ms)?,
            FollowerAction::Unfollow => self.quota.note_limit(
                account,
                CUSTOM_SEND,
                LimitKind::ReplyWindowClosed,
                Some(openid),
            )?,
        }
        if let (Some(fake), Some(appid)) = (&self.mirror, self.appids.get(account)) {
            let interaction = match action {
                FollowerAction::Opens(InteractionKind::Message) => Interaction::Message,
                FollowerAction::Opens(InteractionKind::Follow) => Interaction::Follow,
                FollowerAction::Opens(InteractionKind::MenuClick) => Interaction::MenuClick,
                FollowerAction::Opens(InteractionKind::QrScan) => Interaction::QrScan,
                FollowerAction::Unfollow => Interaction::Unfollow,
            };
            if let Err(err) = fake.record_interaction(appid, openid, interaction) {
                tracing::warn!(account, error = %err, "fake WeChat rejected the interaction");
            }
        }
        Ok(())
    }
}

/// Returns wxhost's default limits with the account's overrides applied.
fn account_limits(account: &AccountConfig) -> QuotaLimits {
    let mut limits = QuotaLimits::default();
    for (api, limit) in &account.quota.daily {
        limits.daily.insert(api.clone(), *limit);
    }
    for (api, limit) in &account.quota.per_minute {
        limits.per_minute.insert(api.clone(), *limit);
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::{Message, ScanCode};

    fn inbound(payload: Payload) -> Inbound {
        Inbound {
            to_user: "gh_fakeacct001".to_owned(),
            from_user: "oFAKE_user_0001".to_owned(),
            create_time: 1_700_000_000,
            msg_type: "event".to_owned(),
            msg_id: None,
            event: None,
            event_key: None,
            payload,
            extra: Vec::new(),
        }
    }

    #[test]
    fn callbacks_map_to_windows() {
        let opens = |kind| Some(FollowerAction::Opens(kind));
        let cases = [
            (
                Payload::Message(Message::Text {
                    content: "hi".to_owned(),
                    biz_msg_menu_id: None,
                }),
                opens(InteractionKind::Message),
            ),
            (
                Payload::Event(Event::Subscribe {
                    scene: Some("promo".to_owned()),
                    ticket: None,
                    event_key: None,
                }),
                opens(InteractionKind::Follow),
            ),
            (
                Payload::Event(Event::Scan {
                    scene: "7".to_owned(),
                    ticket: None,
                }),
                opens(InteractionKind::QrScan),
            ),
            (
                Payload::Event(Event::Click {
                    key: "K1".to_owned(),
                }),
                opens(InteractionKind::MenuClick),
            ),
            (
                Payload::Event(Event::ScancodeWaitmsg(ScanCode {
                    key: "K2".to_owned(),
                    scan_type: None,
                    scan_result: None,
                })),
                opens(InteractionKind::MenuClick),
            ),
            (
                Payload::Event(Event::Unsubscribe),
                Some(FollowerAction::Unfollow),
            ),
            (
                Payload::Event(Event::View {
                    url: "https://example.com/".to_owned(),
                    menu_id: None,
                }),
                None,
            ),
        ];
        for (payload, expected) in cases {
            let label = format!("{payload:?}");
            assert_eq!(follower_action(&inbound(payload)), expected, "{label}");
        }
    }
}
