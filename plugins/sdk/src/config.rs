//! The plugin's configuration: its `config` table in the host's TOML file.
//!
//! The host passes each value as JSON text, so a TOML string `"hi"` arrives
//! as `"\"hi\""`, a number as `3` and a table as a JSON object. [`get`]
//! deserializes a value into any `serde` type.

use std::fmt;

use serde::de::DeserializeOwned;

use crate::bindings::wxhost::plugin::config as host;

/// A configuration value that is not valid JSON for the requested type.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The key whose value failed to deserialize.
    pub key: String,
    /// The `serde_json` error message.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid config value `{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Returns the value under `key` deserialized as `T`, or `None` when the
/// key is not set. Fails when the value does not deserialize as `T`.
pub fn get<T: DeserializeOwned>(key: &str) -> Result<Option<T>, ConfigError> {
    match host::get(key) {
        Some(json) => parse(key, &json).map(Some),
        None => Ok(None),
    }
}

/// Returns the value under `key` deserialized as `T`, or `default` when the
/// key is not set. Fails when the value does not deserialize as `T`.
pub fn get_or<T: DeserializeOwned>(key: &str, default: T) -> Result<T, ConfigError> {
    Ok(get(key)?.unwrap_or(default))
}

/// Returns the JSON text under `key`, or `None` when the key is not set.
pub fn get_json(key: &str) -> Option<String> {
    host::get(key)
}

/// Returns every key with its JSON text, sorted by key.
pub fn all_json() -> Vec<(String, String)> {
    host::get_all()
}

/// Deserializes the JSON text `json` of `key` as `T`.
pub fn parse<T: DeserializeOwned>(key: &str, json: &str) -> Result<T, ConfigError> {
    serde_json::from_str(json).map_err(|error| ConfigError {
        key: key.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_string_value() {
        let value: String = parse("greeting", "\"hi\"").unwrap();
        assert_eq!(value, "hi");
    }

    #[test]
    fn parse_table_value() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Limits {
            max: u32,
        }
        let value: Limits = parse("limits", r#"{"max": 3}"#).unwrap();
        assert_eq!(value, Limits { max: 3 });
    }

    #[test]
    fn parse_wrong_type() {
        let error = parse::<u32>("count", "\"three\"").unwrap_err();
        assert_eq!(error.key, "count");
        assert_eq!(
            error.to_string(),
            "invalid config value `count`: invalid type: string \"three\", expected u32 at line 1 column 7"
        );
    }
}
