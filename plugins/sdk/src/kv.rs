//! The plugin's key-value store, private to the plugin and the official
//! account, kept in the host's database.
//!
//! The host grants it only to plugins with the `kv` capability in its
//! config; without it every call fails with [`KvError::NotPermitted`]. Keys
//! are at most 256 bytes and values at most 64 KiB. [`get`] and [`set`]
//! store values as JSON, so a number is stored as its decimal text.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::wxhost::plugin::kv as host;

/// A failed `kv` call.
#[derive(Debug, Clone, PartialEq)]
pub enum KvError {
    /// The key or value is longer than the host's limits.
    TooLarge,
    /// The plugin was not granted the `kv` capability in the host config.
    NotPermitted,
    /// The host's store failed; the text says why.
    Store(String),
    /// The stored value is not valid JSON for the requested type, or the
    /// value to store does not serialize.
    Json {
        /// The key that was read or written.
        key: String,
        /// The `serde_json` error message.
        message: String,
    },
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("kv key or value too large"),
            Self::NotPermitted => f.write_str("kv not permitted: grant the `kv` capability"),
            Self::Store(reason) => write!(f, "kv store failed: {reason}"),
            Self::Json { key, message } => write!(f, "invalid JSON in kv key `{key}`: {message}"),
        }
    }
}

impl std::error::Error for KvError {}

impl From<host::Error> for KvError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::TooLarge => Self::TooLarge,
            host::Error::NotPermitted => Self::NotPermitted,
            host::Error::Store(reason) => Self::Store(reason),
        }
    }
}

/// Returns the JSON value under `key` deserialized as `T`, or `None` when
/// it is absent or expired.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, KvError> {
    match get_bytes(key)? {
        Some(bytes) => decode(key, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Stores `value` as JSON under `key`, with no expiry.
pub fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), KvError> {
    set_bytes(key, &encode(key, value)?, None)
}

/// Stores `value` as JSON under `key`; the entry expires after
/// `ttl_seconds` seconds.
pub fn set_with_ttl<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_seconds: u32,
) -> Result<(), KvError> {
    set_bytes(key, &encode(key, value)?, Some(ttl_seconds))
}

/// Returns the raw bytes under `key`, or `None` when absent or expired.
pub fn get_bytes(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    Ok(host::get(key)?)
}

/// Stores raw bytes under `key`, expiring after `ttl_seconds` when given.
pub fn set_bytes(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), KvError> {
    Ok(host::set(key, value, ttl_seconds)?)
}

/// Removes `key`. Removing an absent key succeeds.
pub fn delete(key: &str) -> Result<(), KvError> {
    Ok(host::delete(key)?)
}

/// Adds `delta` to the counter under `key` and returns the new value, in
/// one atomic step. A counter is decimal text, so [`get`] reads it as a
/// number. An absent or expired key counts from 0. Fails with
/// [`KvError::Store`] when the value is not a decimal `i64` or the sum
/// overflows.
pub fn increment(key: &str, delta: i64) -> Result<i64, KvError> {
    Ok(host::increment(key, delta)?)
}

/// Stores `value` as JSON under `key` only when the key is absent or
/// expired, in one atomic step. Returns true when this call stored it.
/// Of several concurrent calls for one key exactly one returns true, so a
/// marker written this way lets a plugin act once per key.
pub fn set_if_absent<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl_seconds: Option<u32>,
) -> Result<bool, KvError> {
    set_if_absent_bytes(key, &encode(key, value)?, ttl_seconds)
}

/// Stores raw bytes under `key` only when the key is absent or expired.
/// Returns true when this call stored them.
pub fn set_if_absent_bytes(
    key: &str,
    value: &[u8],
    ttl_seconds: Option<u32>,
) -> Result<bool, KvError> {
    Ok(host::set_if_absent(key, value, ttl_seconds)?)
}

/// Deserializes the stored JSON `bytes` of `key` as `T`.
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, KvError> {
    serde_json::from_slice(bytes).map_err(|error| KvError::Json {
        key: key.to_owned(),
        message: error.to_string(),
    })
}

/// Serializes `value` as JSON for storing under `key`.
pub fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, KvError> {
    serde_json::to_vec(value).map_err(|error| KvError::Json {
        key: key.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_encodes_as_decimal() {
        assert_eq!(encode("count", &42u64).unwrap(), b"42");
    }

    #[test]
    fn decode_round_trip() {
        let bytes = encode("list", &vec!["a", "b"]).unwrap();
        let value: Vec<String> = decode("list", &bytes).unwrap();
        assert_eq!(value, ["a", "b"]);
    }

    #[test]
    fn decode_invalid() {
        let error = decode::<u64>("count", b"x").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid JSON in kv key `count`: expected value at line 1 column 1"
        );
    }

    #[test]
    fn host_error_maps() {
        assert_eq!(KvError::from(host::Error::TooLarge), KvError::TooLarge);
        assert_eq!(
            KvError::from(host::Error::NotPermitted).to_string(),
            "kv not permitted: grant the `kv` capability"
        );
        assert_eq!(
            KvError::from(host::Error::Store("disk full".to_owned())),
            KvError::Store("disk full".to_owned())
        );
    }
}
