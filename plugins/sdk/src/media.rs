//! Temporary media of this official account, for plugins granted the
//! `media` capability.

use std::fmt;

use crate::bindings::wxhost::plugin::media as host;

/// A failed `media` call.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaError {
    /// The plugin was not granted the `media` capability.
    NotPermitted,
    /// The account's daily quota of the API is used up.
    Quota,
    /// WeChat returned this errcode and errmsg.
    Api(i64, String),
    /// The host cannot call WeChat for this account, the call failed or
    /// timed out, or the store failed; the text names which.
    Unavailable(String),
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted => f.write_str("media not permitted: grant the `media` capability"),
            Self::Quota => f.write_str("media upload quota used up for today"),
            Self::Api(code, message) => write!(f, "media upload failed: errcode {code}: {message}"),
            Self::Unavailable(reason) => write!(f, "media unavailable: {reason}"),
        }
    }
}

impl std::error::Error for MediaError {}

impl From<host::Error> for MediaError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::NotPermitted => Self::NotPermitted,
            host::Error::Quota => Self::Quota,
            host::Error::Api((code, message)) => Self::Api(code, message),
            host::Error::Unavailable(reason) => Self::Unavailable(reason),
        }
    }
}

/// Uploads the QR code image of `ticket` as temporary image media and
/// returns its media id, for [`Reply::image`](crate::Reply::image). The
/// host caches the media id per ticket while more than one hour of its
/// three-day life remains. On an error, a news article that links the
/// code's `image_url` can stand in for the image.
pub fn qrcode_image(ticket: &str) -> Result<String, MediaError> {
    Ok(host::qrcode_image(ticket)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_error_maps() {
        assert_eq!(
            MediaError::from(host::Error::Api((
                45009,
                "api freq out of limit".to_owned()
            ))),
            MediaError::Api(45009, "api freq out of limit".to_owned())
        );
        assert_eq!(
            MediaError::from(host::Error::NotPermitted).to_string(),
            "media not permitted: grant the `media` capability"
        );
    }
}
