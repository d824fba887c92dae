//! The error type of every WeChat API call.
//!
//! No variant carries an access token, an AppSecret or a request URL:
//! WeChat puts the token in the query string, so transport errors drop the
//! URL before they are wrapped.

use std::fmt;

use super::errcode;
use super::store::StoreError;

/// The failure of a WeChat API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// WeChat returned a non-zero errcode that no other variant covers.
    #[error("{api} failed with errcode {errcode}: {errmsg}")]
    Api {
        /// The API path, for example `/cgi-bin/message/custom/send`.
        api: String,
        errcode: i64,
        /// The errmsg without its ` rid: ...` suffix.
        errmsg: String,
        /// The request id WeChat appended to errmsg, for `openapi/rid/get`.
        rid: Option<String>,
    },

    /// A quota, rate limit or customer-service window stopped the call,
    /// either locally before the request was sent or by WeChat.
    #[error("{api} rejected: {kind} ({origin})")]
    Limit {
        api: String,
        kind: LimitKind,
        origin: LimitOrigin,
    },

    /// The account's configuration is wrong: the AppID, the AppSecret or
    /// the IP whitelist. Retrying cannot help.
    #[error("configuration error for account {account} (errcode {errcode}): {hint}")]
    Config {
        account: String,
        errcode: i64,
        hint: String,
    },

    /// A forced token refresh was needed but its budget (a daily count and a
    /// minimum spacing) does not allow one now.
    #[error("forced access token refresh for account {account} not allowed: {reason}")]
    ForceRefreshBudget { account: String, reason: String },

    /// The request breaks a WeChat rule that is checked before sending.
    #[error("invalid request for {api}: {reason}")]
    InvalidRequest { api: String, reason: String },

    /// The HTTP exchange failed. The source carries no URL.
    #[error("request to {api} failed")]
    Transport {
        api: String,
        #[source]
        source: reqwest::Error,
    },

    /// WeChat's response is not the JSON (or binary) the API documents.
    #[error("response of {api} does not decode: {reason}")]
    Decode { api: String, reason: String },

    /// The token or quota store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The limit that stopped a call. Each kind has the errcode WeChat uses for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// The API's daily quota is used up (45009).
    DailyQuota,
    /// Calls are too frequent (45011).
    Frequency,
    /// No customer-service window is open for the follower (45015).
    ReplyWindowClosed,
    /// The follower's customer-service windows are used up (45047).
    ReplyCountExceeded,
}

impl LimitKind {
    /// Returns the errcode WeChat returns for this limit.
    pub fn errcode(self) -> i64 {
        match self {
            Self::DailyQuota => errcode::API_DAILY_QUOTA,
            Self::Frequency => errcode::API_FREQ_LIMIT,
            Self::ReplyWindowClosed => errcode::REPLY_OUT_OF_TIME,
            Self::ReplyCountExceeded => errcode::CUSTOM_REPLY_COUNT_LIMIT,
        }
    }

    /// Maps a WeChat errcode to a limit kind.
    pub fn from_errcode(code: i64) -> Option<Self> {
        match code {
            errcode::API_DAILY_QUOTA => Some(Self::DailyQuota),
            errcode::API_FREQ_LIMIT => Some(Self::Frequency),
            errcode::REPLY_OUT_OF_TIME => Some(Self::ReplyWindowClosed),
            errcode::CUSTOM_REPLY_COUNT_LIMIT => Some(Self::ReplyCountExceeded),
            _ => None,
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DailyQuota => "daily quota exhausted",
            Self::Frequency => "call rate limit reached",
            Self::ReplyWindowClosed => "outside the customer-service window or unsubscribed",
            Self::ReplyCountExceeded => "customer-service reply count limit reached",
        })
    }
}

/// The side that applied a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitOrigin {
    /// wxhost rejected the call before sending it.
    Local { limit: u64, window: LimitWindow },
    /// wxhost rejected the call before sending it because WeChat
    /// returned 45009 for this API earlier on the same day.
    ReportedByWeChat { reported_at_ms: i64 },
    /// WeChat rejected the call.
    WeChat {
        errcode: i64,
        errmsg: String,
        rid: Option<String>,
    },
}

impl fmt::Display for LimitOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local { limit, window } => write!(f, "local limit {limit} {window}"),
            Self::ReportedByWeChat { reported_at_ms } => write!(
                f,
                "WeChat reported 45009 at {} China Standard Time; calls resume after midnight \
                 China Standard Time (UTC+8)",
                super::clock::cst_time_of_day(*reported_at_ms)
            ),
            Self::WeChat {
                errcode, errmsg, ..
            } => {
                write!(f, "WeChat errcode {errcode}: {errmsg}")
            }
        }
    }
}

/// The period a local limit counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitWindow {
    /// One calendar day in China Standard Time (UTC+8).
    Day,
    /// One calendar minute.
    Minute,
    /// The follower's customer-service windows: 48 hours after a message,
    /// one minute after a follow, menu click or QR scan.
    Follower,
}

impl fmt::Display for LimitWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Day => "per day",
            Self::Minute => "per minute",
            Self::Follower => "per follower window",
        })
    }
}

impl ApiError {
    /// Builds the error for a non-zero errcode from `api`. Limit errcodes
    /// become [`ApiError::Limit`]; AppID, AppSecret and IP whitelist
    /// errcodes become [`ApiError::Config`].
    pub fn from_errcode(account: &str, api: &str, code: i64, raw_errmsg: &str) -> Self {
        let (errmsg, rid) = split_rid(raw_errmsg);
        if let Some(kind) = LimitKind::from_errcode(code) {
            return Self::Limit {
                api: api.to_owned(),
                kind,
                origin: LimitOrigin::WeChat {
                    errcode: code,
                    errmsg,
                    rid,
                },
            };
        }
        if let Some(hint) = config_hint(code, &errmsg) {
            return Self::Config {
                account: account.to_owned(),
                errcode: code,
                hint,
            };
        }
        Self::Api {
            api: api.to_owned(),
            errcode: code,
            errmsg,
            rid,
        }
    }

    /// Wraps a reqwest error after removing its URL, which carries the token.
    pub fn transport(api: &str, source: reqwest::Error) -> Self {
        Self::Transport {
            api: api.to_owned(),
            source: source.without_url(),
        }
    }

    /// Returns the WeChat errcode this error stands for, local limits
    /// included.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } | Self::Config { errcode, .. } => Some(*errcode),
            Self::Limit { kind, .. } => Some(kind.errcode()),
            _ => None,
        }
    }

    /// Returns true for 40001, 40014 and 42001: the access token is stale.
    pub fn is_token_invalid(&self) -> bool {
        matches!(self, Self::Api { errcode, .. } if errcode::TOKEN_ERRORS.contains(errcode))
    }

    /// Returns true when the daily quota is used up (45009 or local).
    pub fn is_quota_exhausted(&self) -> bool {
        self.limit_kind() == Some(LimitKind::DailyQuota)
    }

    /// Returns true when calls are too frequent (45011 or local).
    pub fn is_rate_limited(&self) -> bool {
        self.limit_kind() == Some(LimitKind::Frequency)
    }

    /// Returns true when no customer-service window is open (45015 or local).
    pub fn is_reply_window_closed(&self) -> bool {
        self.limit_kind() == Some(LimitKind::ReplyWindowClosed)
    }

    /// Returns true when the follower's reply count is used up (45047 or
    /// local).
    pub fn is_reply_count_exceeded(&self) -> bool {
        self.limit_kind() == Some(LimitKind::ReplyCountExceeded)
    }

    /// Returns true when wxhost rejected the call without sending it.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Self::Limit {
                origin: LimitOrigin::Local { .. } | LimitOrigin::ReportedByWeChat { .. },
                ..
            } | Self::InvalidRequest { .. }
                | Self::ForceRefreshBudget { .. }
        )
    }

    /// Returns true for failures that a backoff retry may cure: system busy
    /// (-1) and transport errors.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Api { errcode, .. } => *errcode == errcode::SYSTEM_BUSY,
            _ => false,
        }
    }

    /// Returns the limit kind of a [`ApiError::Limit`].
    pub fn limit_kind(&self) -> Option<LimitKind> {
        match self {
            Self::Limit { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

/// Splits WeChat's errmsg into the message and the request id. Recent
/// errmsg values end with ` rid: <id>`, older ones with ` hint: [<id>]`.
pub fn split_rid(raw: &str) -> (String, Option<String>) {
    if let Some((msg, rid)) = raw.rsplit_once(" rid: ") {
        return (msg.trim_end().to_owned(), Some(rid.trim().to_owned()));
    }
    if let Some((msg, hint)) = raw.rsplit_once(" hint: [") {
        let rid = hint.trim_end().trim_end_matches(']').to_owned();
        return (msg.trim_end().to_owned(), Some(rid));
    }
    (raw.to_owned(), None)
}

fn config_hint(code: i64, errmsg: &str) -> Option<String> {
    let hint = match code {
        errcode::INVALID_APPID => "WeChat rejected the AppID; check the account's appid".to_owned(),
        errcode::INVALID_APPSECRET => {
            "WeChat rejected the AppSecret; check the account's app_secret".to_owned()
        }
        errcode::IP_NOT_IN_WHITELIST => match whitelist_ip(errmsg) {
            Some(ip) => format!(
                "egress IP {ip} is not in the account's IP whitelist; add it in the WeChat console"
            ),
            None => {
                "the egress IP is not in the account's IP whitelist; add it in the WeChat console"
                    .to_owned()
            }
        },
        _ => return None,
    };
    Some(hint)
}

/// Extracts the caller IP from a 40164 errmsg such as
/// `invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist`.
fn whitelist_ip(errmsg: &str) -> Option<String> {
    let rest = errmsg.split_once("invalid ip ")?.1;
    let ip: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '.' || *c == ':')
        .collect();
    (!ip.is_empty()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rid_removes_suffix() {
        let (msg, rid) = split_rid(
            "invalid credential, access_token is invalid or not latest rid: 64f0-1a2b-3c4d",
        );
        assert_eq!(
            msg,
            "invalid credential, access_token is invalid or not latest"
        );
        assert_eq!(rid.as_deref(), Some("64f0-1a2b-3c4d"));
    }

    #[test]
    fn split_rid_reads_old_hint() {
        let (msg, rid) = split_rid("invalid appid hint: [Xy12z]");
        assert_eq!(msg, "invalid appid");
        assert_eq!(rid.as_deref(), Some("Xy12z"));
    }

    #[test]
    fn split_rid_without_suffix() {
        assert_eq!(split_rid("ok"), ("ok".to_owned(), None));
    }

    #[test]
    fn ip_whitelist_hint_names_ip() {
        let err = ApiError::from_errcode(
            "main",
            "/cgi-bin/stable_token",
            40164,
            "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 1-2-3",
        );
        let ApiError::Config { errcode, hint, .. } = &err else {
            panic!("expected a config error, got {err:?}");
        };
        assert_eq!(*errcode, 40164);
        assert!(hint.contains("egress IP 203.0.113.7 "), "{hint}");
    }

    #[test]
    fn limit_errcodes_map_to_kinds() {
        for (code, kind) in [
            (45009, LimitKind::DailyQuota),
            (45011, LimitKind::Frequency),
            (45015, LimitKind::ReplyWindowClosed),
            (45047, LimitKind::ReplyCountExceeded),
        ] {
            let err = ApiError::from_errcode("main", "/x", code, "m rid: r");
            assert_eq!(err.limit_kind(), Some(kind));
            assert_eq!(err.errcode(), Some(code));
            assert!(!err.is_token_invalid());
            assert!(!err.is_transient());
        }
    }

    #[test]
    fn token_errcodes_are_token_invalid() {
        for code in [40001, 40014, 42001] {
            assert!(ApiError::from_errcode("main", "/x", code, "m").is_token_invalid());
        }
        assert!(!ApiError::from_errcode("main", "/x", 40033, "m").is_token_invalid());
    }
}
