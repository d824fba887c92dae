//! Named WeChat API error codes.
//!
//! WeChat reports most failures with HTTP 200 and a JSON body
//! `{"errcode": N, "errmsg": "... rid: ..."}`. Success is errcode 0 or a
//! body without `errcode`.

/// System busy; worth retrying with backoff.
pub const SYSTEM_BUSY: i64 = -1;
/// Success.
pub const OK: i64 = 0;
/// Invalid credential: a wrong AppSecret when fetching a token, or an
/// access token that is invalid or no longer the latest.
pub const INVALID_CREDENTIAL: i64 = 40001;
/// Invalid `grant_type` on a token request.
pub const INVALID_GRANT_TYPE: i64 = 40002;
/// Invalid openid, for example one that belongs to another account.
pub const INVALID_OPENID: i64 = 40003;
/// Invalid `media_id`.
pub const INVALID_MEDIA_ID: i64 = 40007;
/// Invalid AppID.
pub const INVALID_APPID: i64 = 40013;
/// Invalid access token.
pub const INVALID_ACCESS_TOKEN: i64 = 40014;
/// Invalid openid list size (tagging takes at most 50).
pub const INVALID_OPENID_LIST_SIZE: i64 = 40032;
/// Invalid characters, for example `\uXXXX` escapes in a request body.
pub const INVALID_CHARSET: i64 = 40033;
/// Invalid template id.
pub const INVALID_TEMPLATE_ID: i64 = 40037;
/// Invalid AppSecret.
pub const INVALID_APPSECRET: i64 = 40125;
/// The caller's IP address is not in the account's IP whitelist. The
/// errmsg names the address WeChat saw.
pub const IP_NOT_IN_WHITELIST: i64 = 40164;
/// The request carries no access token.
pub const ACCESS_TOKEN_MISSING: i64 = 41001;
/// The access token expired.
pub const EXPIRED_ACCESS_TOKEN: i64 = 42001;
/// The recipient does not follow the account.
pub const REQUIRE_SUBSCRIBE: i64 = 43004;
/// The user refused, or the subscription consent is used up.
pub const USER_REFUSED: i64 = 43101;
/// Too many articles: a customer-service news message carries at most one.
pub const ARTICLE_SIZE_OUT_OF_LIMIT: i64 = 45008;
/// The daily quota of this API is used up.
pub const API_DAILY_QUOTA: i64 = 45009;
/// Calls are too frequent.
pub const API_FREQ_LIMIT: i64 = 45011;
/// The customer-service window is closed: no interaction from the follower
/// in the last 48 hours, or the follower unfollowed.
pub const REPLY_OUT_OF_TIME: i64 = 45015;
/// The customer-service window is open but its message count is used up.
pub const CUSTOM_REPLY_COUNT_LIMIT: i64 = 45047;
/// Invalid tag id; also returned briefly after a tag is created.
pub const INVALID_TAG_ID: i64 = 45159;
/// JSON or XML body does not parse.
pub const DATA_FORMAT_ERROR: i64 = 47001;
/// The account type or verification state does not allow this API.
pub const API_UNAUTHORIZED: i64 = 48001;
/// The menu does not exist.
pub const MENU_NOT_EXIST: i64 = 46003;

/// The three errcodes that mean "fetch a new access token and retry once".
pub const TOKEN_ERRORS: [i64; 3] = [
    INVALID_CREDENTIAL,
    INVALID_ACCESS_TOKEN,
    EXPIRED_ACCESS_TOKEN,
];

/// Errcodes that no automatic retry may repeat, because repeating the call
/// burns quota or cannot succeed until something outside the call changes.
pub const NEVER_RETRIED: [i64; 7] = [
    API_DAILY_QUOTA,
    API_FREQ_LIMIT,
    REPLY_OUT_OF_TIME,
    CUSTOM_REPLY_COUNT_LIMIT,
    REQUIRE_SUBSCRIBE,
    USER_REFUSED,
    API_UNAUTHORIZED,
];
