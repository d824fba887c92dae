//! The host's follower ledger of this official account, and stable
//! pseudonyms of followers for services outside the host.
//!
//! The host grants it only to plugins with the `followers` capability;
//! without it every call fails with [`FollowersError::NotPermitted`].
//! During a `subscribe` callback the ledger already includes that follow,
//! so a [`Follower::follow_count`] of 1 means a first-time follower.

use std::fmt;

pub use crate::bindings::wxhost::plugin::followers::Follower;

use crate::bindings::wxhost::plugin::followers as host;

/// A failed `followers` call.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowersError {
    /// The plugin was not granted the `followers` capability.
    NotPermitted,
    /// The host's ledger failed; the text gives the reason without naming a follower.
    Store(String),
}

impl fmt::Display for FollowersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPermitted => {
                f.write_str("followers not permitted: grant the `followers` capability")
            }
            Self::Store(reason) => write!(f, "follower ledger failed: {reason}"),
        }
    }
}

impl std::error::Error for FollowersError {}

impl From<host::Error> for FollowersError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::NotPermitted => Self::NotPermitted,
            host::Error::Store(reason) => Self::Store(reason),
        }
    }
}

/// Returns the ledger record of `openid`, or `None` when the host has
/// recorded no follow, unfollow or scan of it.
pub fn get(openid: &str) -> Result<Option<Follower>, FollowersError> {
    Ok(host::get(openid)?)
}

/// Returns the stable pseudonym of `openid` for this account: 32
/// lowercase hex characters of an HMAC-SHA256 under a key that only the
/// host holds. It stays the same across calls and restarts, differs
/// between accounts, and does not reveal the openid. Send it, never the
/// openid, to services outside the host.
pub fn pseudonym(openid: &str) -> Result<String, FollowersError> {
    Ok(host::pseudonym(openid)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_error_maps() {
        assert_eq!(
            FollowersError::from(host::Error::NotPermitted).to_string(),
            "followers not permitted: grant the `followers` capability"
        );
        assert_eq!(
            FollowersError::from(host::Error::Store("locked".to_owned())).to_string(),
            "follower ledger failed: locked"
        );
    }
}
