//! The query parameters WeChat adds to every callback request.

use std::fmt;

use super::error::CallbackError;

/// The query parameters of a callback request, after URL decoding.
///
/// Empty values count as absent. `Debug` shows only which parameters are
/// present, because `signature`, `openid` and `echostr` must not reach logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackQuery {
    /// `signature`: SHA-1 over the token, `timestamp` and `nonce`.
    pub signature: Option<String>,
    /// `timestamp`, in Unix seconds, exactly as sent.
    pub timestamp: Option<String>,
    /// `nonce`, exactly as sent.
    pub nonce: Option<String>,
    /// `openid` of the sender on POST callbacks. Personal data.
    pub openid: Option<String>,
    /// `encrypt_type`: `aes` for an encrypted body.
    pub encrypt_type: Option<String>,
    /// `msg_signature`: SHA-1 over the token, `timestamp`, `nonce` and the
    /// `Encrypt` text.
    pub msg_signature: Option<String>,
    /// `echostr` of the GET URL check.
    pub echostr: Option<String>,
}

impl CallbackQuery {
    /// Builds the query from decoded name/value pairs. Unknown names are
    /// ignored, and for a repeated name the first non-empty value wins.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = CallbackQuery::default();
        for (name, value) in pairs {
            let slot = match name.as_ref() {
                "signature" => &mut query.signature,
                "timestamp" => &mut query.timestamp,
                "nonce" => &mut query.nonce,
                "openid" => &mut query.openid,
                "encrypt_type" => &mut query.encrypt_type,
                "msg_signature" => &mut query.msg_signature,
                "echostr" => &mut query.echostr,
                _ => continue,
            };
            let value = value.as_ref();
            if slot.is_none() && !value.is_empty() {
                *slot = Some(value.to_owned());
            }
        }
        query
    }

    /// Parses a raw, URL-encoded query string such as
    /// `signature=...&timestamp=...&nonce=...`, as [`CallbackQuery::from_pairs`] does.
    pub fn parse(query: &str) -> Self {
        CallbackQuery::from_pairs(form_urlencoded::parse(query.as_bytes()))
    }

    /// Returns whether the body is encrypted: `encrypt_type` is `aes` (in
    /// any ASCII case) or `msg_signature` is present.
    pub fn is_encrypted(&self) -> bool {
        let aes = self
            .encrypt_type
            .as_deref()
            .is_some_and(|kind| kind.eq_ignore_ascii_case("aes"));
        aes || self.msg_signature.is_some()
    }

    /// Fails when `timestamp` is more than `max_skew_secs` seconds away
    /// from `now` (Unix seconds) in either direction. The signature does
    /// not cover a plaintext body, so a captured query string could sign
    /// any body. The window bounds how long such a capture stays usable.
    ///
    /// # Errors
    ///
    /// [`CallbackError::MissingParameter`] without a `timestamp`,
    /// [`CallbackError::InvalidTimestamp`] when it is not a number and
    /// [`CallbackError::StaleTimestamp`] outside the window.
    pub fn check_timestamp(&self, now: u64, max_skew_secs: u64) -> Result<(), CallbackError> {
        let text = self
            .timestamp
            .as_deref()
            .ok_or(CallbackError::MissingParameter("timestamp"))?;
        let timestamp: u64 = text.parse().map_err(|_| CallbackError::InvalidTimestamp)?;
        let skew_secs = now.abs_diff(timestamp);
        if skew_secs > max_skew_secs {
            return Err(CallbackError::StaleTimestamp {
                skew_secs,
                max_skew_secs,
            });
        }
        Ok(())
    }
}

impl fmt::Debug for CallbackQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present = |value: &Option<String>| value.is_some();
        f.debug_struct("CallbackQuery")
            .field("signature", &present(&self.signature))
            .field("timestamp", &present(&self.timestamp))
            .field("nonce", &present(&self.nonce))
            .field("openid", &present(&self.openid))
            .field("encrypt_type", &self.encrypt_type)
            .field("msg_signature", &present(&self.msg_signature))
            .field("echostr", &present(&self.echostr))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_fill_known_fields() {
        let query = CallbackQuery::from_pairs([
            ("signature", "s"),
            ("timestamp", "1700000000"),
            ("nonce", "987"),
            ("openid", "oFAKE_user_0001"),
            ("encrypt_type", "aes"),
            ("msg_signature", "m"),
            ("echostr", "e"),
            ("other", "x"),
        ]);
        assert_eq!(query.signature.as_deref(), Some("s"));
        assert_eq!(query.timestamp.as_deref(), Some("1700000000"));
        assert_eq!(query.nonce.as_deref(), Some("987"));
        assert_eq!(query.openid.as_deref(), Some("oFAKE_user_0001"));
        assert_eq!(query.encrypt_type.as_deref(), Some("aes"));
        assert_eq!(query.msg_signature.as_deref(), Some("m"));
        assert_eq!(query.echostr.as_deref(), Some("e"));
    }

    #[test]
    fn first_value_wins_and_empty_is_absent() {
        let query = CallbackQuery::from_pairs([
            ("nonce", ""),
            ("nonce", "1"),
            ("nonce", "2"),
            ("signature", ""),
        ]);
        assert_eq!(query.nonce.as_deref(), Some("1"));
        assert_eq!(query.signature, None);
    }

    #[test]
    fn parse_decodes_query_string() {
        let query = CallbackQuery::parse(
            "echostr=5837291046117351234&nonce=a%2Bb+c&openid=&openid=oFAKE&colour=red",
        );
        assert_eq!(query.echostr.as_deref(), Some("5837291046117351234"));
        assert_eq!(query.nonce.as_deref(), Some("a+b c"));
        assert_eq!(query.openid.as_deref(), Some("oFAKE"));
        assert_eq!(query.signature, None);
    }

    #[test]
    fn encryption_detected() {
        let plain = CallbackQuery::from_pairs([("signature", "s")]);
        assert!(!plain.is_encrypted());
        let raw = CallbackQuery::from_pairs([("encrypt_type", "raw")]);
        assert!(!raw.is_encrypted());
        let aes = CallbackQuery::from_pairs([("encrypt_type", "AES")]);
        assert!(aes.is_encrypted());
        let signed = CallbackQuery::from_pairs([("msg_signature", "m")]);
        assert!(signed.is_encrypted());
    }

    #[test]
    fn timestamp_window() {
        let query = CallbackQuery::from_pairs([("timestamp", "1700000000")]);
        assert_eq!(query.check_timestamp(1_700_000_300, 300), Ok(()));
        assert_eq!(query.check_timestamp(1_699_999_700, 300), Ok(()));
        assert_eq!(
            query.check_timestamp(1_700_000_301, 300),
            Err(CallbackError::StaleTimestamp {
                skew_secs: 301,
                max_skew_secs: 300
            })
        );
        assert_eq!(
            query.check_timestamp(1_699_999_000, 300),
            Err(CallbackError::StaleTimestamp {
                skew_secs: 1000,
                max_skew_secs: 300
            })
        );
        let stale = query.check_timestamp(1_700_000_301, 300).unwrap_err();
        assert_eq!(
            stale.to_string(),
            "timestamp is 301 s away from the host's clock, beyond server.max_timestamp_skew_secs = 300"
        );
        let words = CallbackQuery::from_pairs([("timestamp", "yesterday")]);
        assert_eq!(
            words.check_timestamp(1_700_000_000, 300),
            Err(CallbackError::InvalidTimestamp)
        );
        assert_eq!(
            CallbackQuery::default().check_timestamp(1_700_000_000, 300),
            Err(CallbackError::MissingParameter("timestamp"))
        );
    }

    #[test]
    fn debug_hides_values() {
        let query = CallbackQuery::from_pairs([
            ("signature", "f23f4565bb544914f16b58ba08bab18be027e3c2"),
            ("openid", "oFAKE_user_0001"),
            ("echostr", "5837291046117351234"),
        ]);
        let debug = format!("{query:?}");
        assert!(!debug.contains("f23f45"), "{debug}");
        assert!(!debug.contains("oFAKE"), "{debug}");
        assert!(!debug.contains("583729"), "{debug}");
        assert!(debug.contains("openid: true"), "{debug}");
    }
}
