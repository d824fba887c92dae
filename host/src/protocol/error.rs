//! Errors of the protocol module, one enum per operation.
//!
//! Messages name the parameter, element or check that failed. They never
//! contain a token, key, ciphertext, message text or openid, so callers may
//! log them as they are.

use thiserror::Error;

/// Errors from decoding an `EncodingAESKey`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The key does not have exactly 43 characters.
    #[error("EncodingAESKey must have 43 characters, found {found}")]
    WrongLength {
        /// Number of characters found.
        found: usize,
    },
    /// A character outside `A-Z`, `a-z` and `0-9`.
    #[error(
        "EncodingAESKey has an invalid character at position {position} (1-based); \
         only A-Z, a-z and 0-9 are allowed"
    )]
    InvalidCharacter {
        /// 1-based position of the first invalid character.
        position: usize,
    },
}

/// Errors from decrypting a ciphertext or encrypting a message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CryptoError {
    /// `Encrypt` is not standard base64.
    #[error("Encrypt is not valid base64")]
    InvalidBase64,
    /// The decoded ciphertext is empty or not a multiple of 32 bytes.
    #[error("ciphertext length {len} is not a positive multiple of 32 bytes")]
    InvalidLength {
        /// Decoded ciphertext length in bytes.
        len: usize,
    },
    /// The pad byte is outside 1..=32, or the pad bytes differ.
    #[error("invalid padding in decrypted data")]
    InvalidPadding,
    /// The decrypted data is shorter than its 20-byte header or than the
    /// message length it declares.
    #[error("decrypted message length does not fit the decrypted data")]
    InvalidMessageLength,
    /// The id after the message differs from the configured appid.
    #[error("decrypted appid does not match the configured appid")]
    AppIdMismatch,
    /// The message does not fit the 32-bit length field.
    #[error("message of {len} bytes is too long to encrypt")]
    MessageTooLong {
        /// Message length in bytes.
        len: usize,
    },
}

/// Errors from parsing a callback body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The body is not well-formed XML.
    #[error("malformed XML at byte {position}: {reason}")]
    Malformed {
        /// Byte offset in the decoded body where the reader stopped.
        position: u64,
        /// The XML reader's message, which names tags but never text.
        reason: String,
    },
    /// The body contains a `<!DOCTYPE>` or an entity declaration.
    #[error("DOCTYPE and entity declarations are not allowed")]
    DoctypeNotAllowed,
    /// An entity reference other than the five XML entities and
    /// character references.
    #[error("unknown entity reference")]
    UnknownEntity,
    /// Elements nest deeper than the reader allows.
    #[error("XML nesting deeper than {max} levels")]
    TooDeep {
        /// Maximum nesting depth, counting `<xml>` as 1.
        max: usize,
    },
    /// The body has no root element.
    #[error("no root element")]
    NoRoot,
    /// The root element is not `<xml>`.
    #[error("root element must be <xml>")]
    WrongRoot,
    /// Elements or text follow the root element.
    #[error("content after the root element")]
    TrailingContent,
    /// A required element is absent or empty.
    #[error("missing <{0}> element")]
    MissingElement(&'static str),
    /// A required numeric element does not parse.
    #[error("<{0}> is not a valid number")]
    InvalidNumber(&'static str),
}

/// Reasons a passive reply cannot be sent. The caller sends `success`
/// instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidReply {
    /// A text reply is empty or whitespace only, which WeChat shows to the
    /// follower as a service failure.
    #[error("text reply is empty")]
    EmptyText,
    /// A media reply has an empty media id.
    #[error("{0} reply has an empty media id")]
    EmptyMediaId(&'static str),
    /// A music reply has an empty `ThumbMediaId`, which WeChat requires.
    #[error("music reply has an empty thumb media id")]
    MissingThumbMediaId,
    /// A news reply has no articles.
    #[error("news reply has no articles")]
    NoArticles,
    /// `transfer_customer_service` responds to an event, but WeChat
    /// transfers only user messages.
    #[error("transfer_customer_service is valid only after a user message")]
    TransferAfterEvent,
}

/// Reasons a callback request was rejected. [`CallbackError::http_status`]
/// gives the HTTP status of the response.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackError {
    /// A required query parameter is absent or empty.
    #[error("missing query parameter {0}")]
    MissingParameter(&'static str),
    /// `signature` does not match the token, timestamp and nonce.
    #[error("signature does not match")]
    BadSignature,
    /// `msg_signature` does not match the token, timestamp, nonce and `Encrypt`.
    #[error("msg_signature does not match")]
    BadMsgSignature,
    /// The decrypted appid differs from the account's appid.
    #[error("decrypted appid does not match the configured appid")]
    AppIdMismatch,
    /// The ciphertext failed to decode, decrypt or unpad.
    #[error("failed to decrypt Encrypt: {0}")]
    Decrypt(CryptoError),
    /// The body or the decrypted message is not a valid callback document.
    #[error("invalid callback XML: {0}")]
    Xml(ParseError),
    /// An encrypted callback reached an account without an `EncodingAESKey`.
    #[error("encrypted callback, but the account has no EncodingAESKey")]
    EncryptionNotConfigured,
    /// A plaintext callback reached an account that requires encryption.
    #[error("plaintext callback rejected because the account requires encryption")]
    PlaintextRejected,
    /// `timestamp` is not a whole number of Unix seconds.
    #[error("timestamp is not a whole number of Unix seconds")]
    InvalidTimestamp,
    /// `timestamp` lies outside `server.max_timestamp_skew_secs` of the
    /// host's clock.
    #[error(
        "timestamp is {skew_secs} s away from the host's clock, beyond server.max_timestamp_skew_secs = {max_skew_secs}"
    )]
    StaleTimestamp {
        /// The distance between `timestamp` and the host's clock.
        skew_secs: u64,
        /// The configured maximum distance.
        max_skew_secs: u64,
    },
}

impl CallbackError {
    /// Returns the HTTP status for this error: 400 for a malformed request,
    /// 403 for a failed authenticity check and 500 for a missing key in the
    /// host's configuration.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackError::MissingParameter(_)
            | CallbackError::InvalidTimestamp
            | CallbackError::Decrypt(_)
            | CallbackError::Xml(_) => 400,
            CallbackError::BadSignature
            | CallbackError::BadMsgSignature
            | CallbackError::AppIdMismatch
            | CallbackError::PlaintextRejected
            | CallbackError::StaleTimestamp { .. } => 403,
            CallbackError::EncryptionNotConfigured => 500,
        }
    }

    /// Returns what an operator checks first when a real WeChat callback
    /// fails this way, or `None` when the request itself is malformed.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CallbackError::BadSignature | CallbackError::BadMsgSignature => Some(
                "check that the account's `token` equals the Token of the official account's server configuration",
            ),
            CallbackError::AppIdMismatch => Some(
                "check that the account's `appid` is the AppID of the official account whose URL this is",
            ),
            CallbackError::Decrypt(CryptoError::InvalidBase64) => None,
            CallbackError::Decrypt(_) => Some(
                "check that the account's `encoding_aes_key` equals the EncodingAESKey of the server configuration",
            ),
            CallbackError::EncryptionNotConfigured => Some(
                "set `encoding_aes_key` for the account, or switch the server configuration to plaintext mode",
            ),
            CallbackError::PlaintextRejected => Some(
                "the account's `security` is `safe`: set the server configuration to safe mode, or set `security = \"any\"`",
            ),
            CallbackError::StaleTimestamp { .. } => Some(
                "a replayed request, or a host clock that is off: check the clock against NTP, or raise `server.max_timestamp_skew_secs`",
            ),
            CallbackError::MissingParameter(_)
            | CallbackError::InvalidTimestamp
            | CallbackError::Xml(_) => None,
        }
    }
}

impl From<CryptoError> for CallbackError {
    fn from(err: CryptoError) -> Self {
        match err {
            CryptoError::AppIdMismatch => CallbackError::AppIdMismatch,
            other => CallbackError::Decrypt(other),
        }
    }
}

impl From<ParseError> for CallbackError {
    fn from(err: ParseError) -> Self {
        CallbackError::Xml(err)
    }
}
