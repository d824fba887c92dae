//! The plugin's configuration: its `config` table in the host's TOML file.
//!
//! The host passes each value as JSON text, so a TOML string `"hi"` arrives
//! as `"\"hi\""`, a number as `3` and a table as a JSON object. [`get`]
//! deserializes one value into any `serde` type. [`Table`] holds every
//! value at once, so a plugin can read its settings in one place and unit
//! tests can build the same settings from literal pairs.
//!
//! Every error names the key and says how to fix it, for example
//! ``missing config value `url`: set `url` in the plugin's config table``.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;

use crate::bindings::wxhost::plugin::config as host;

/// A configuration value that is missing or does not fit its type.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// A required key is not set.
    Missing {
        /// The key.
        key: String,
    },
    /// The value does not deserialize, or breaks a rule of the plugin.
    Invalid {
        /// The key.
        key: String,
        /// Description of the problem: the `serde_json` error message or the rule.
        message: String,
    },
}

impl ConfigError {
    /// Builds the error for a value of `key` that breaks a rule of the
    /// plugin, for example an empty prefix. `message` says what is wrong.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }

    /// Returns the key whose value is missing or invalid.
    pub fn key(&self) -> &str {
        match self {
            Self::Missing { key } | Self::Invalid { key, .. } => key,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { key } => write!(
                f,
                "missing config value `{key}`: set `{key}` in the plugin's config table"
            ),
            Self::Invalid { key, message } => write!(
                f,
                "invalid config value `{key}`: {message}; fix `{key}` in the plugin's config table"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every value of the plugin's config table, as JSON text by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    values: BTreeMap<String, String>,
}

impl Table {
    /// Reads the whole table from the host.
    pub fn load() -> Self {
        Self::from_pairs(host::get_all())
    }

    /// Builds a table from `(key, JSON text)` pairs, for unit tests on the
    /// host machine, where the import cannot be called.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let values = pairs
            .into_iter()
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        Self { values }
    }

    /// Returns the value under `key` deserialized as `T`, or `None` when
    /// the key is not set.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ConfigError> {
        self.json(key).map(|json| parse(key, json)).transpose()
    }

    /// Returns the value under `key` deserialized as `T`, or `default` when
    /// the key is not set.
    pub fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T, ConfigError> {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// Returns the value under `key` deserialized as `T`, or `T::default()`
    /// when the key is not set.
    pub fn get_or_default<T: DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<T, ConfigError> {
        Ok(self.get(key)?.unwrap_or_default())
    }

    /// Returns the value under `key` deserialized as `T`. Fails with
    /// [`ConfigError::Missing`] when the key is not set.
    pub fn require<T: DeserializeOwned>(&self, key: &str) -> Result<T, ConfigError> {
        self.get(key)?.ok_or_else(|| ConfigError::Missing {
            key: key.to_owned(),
        })
    }

    /// Returns the JSON text under `key`, or `None` when the key is not set.
    pub fn json(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Returns the keys that are set, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

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

/// Returns the value under `key` deserialized as `T`. Fails when the key
/// is not set or the value does not deserialize as `T`.
pub fn require<T: DeserializeOwned>(key: &str) -> Result<T, ConfigError> {
    get(key)?.ok_or_else(|| ConfigError::Missing {
        key: key.to_owned(),
    })
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
    serde_json::from_str(json).map_err(|error| ConfigError::Invalid {
        key: key.to_owned(),
        message: without_position(&error),
    })
}

/// Runs `load` on the plugin's config table and returns its error as the
/// problem list of a self-check, for [`crate::Plugin::check_config`] of a
/// plugin whose settings parse in one step.
pub fn check<T>(load: impl FnOnce(&Table) -> Result<T, ConfigError>) -> Result<(), Vec<String>> {
    load(&Table::load())
        .map(drop)
        .map_err(|error| vec![error.to_string()])
}

/// Returns serde_json's message without its " at line N column M" suffix:
/// the position points into JSON that the host made from the TOML config,
/// so it would mislead an operator reading the TOML file.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
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
        assert_eq!(error.key(), "count");
        assert_eq!(
            error.to_string(),
            "invalid config value `count`: invalid type: string \"three\", expected u32; fix `count` in the plugin's config table"
        );
    }

    #[test]
    fn table_get_and_defaults() {
        let table = Table::from_pairs([("greeting", "\"hi\""), ("max", "3")]);
        assert_eq!(
            table.get::<String>("greeting").unwrap().as_deref(),
            Some("hi")
        );
        assert_eq!(table.get::<u32>("absent").unwrap(), None);
        assert_eq!(table.get_or("max", 5u32).unwrap(), 3);
        assert_eq!(table.get_or("absent", 5u32).unwrap(), 5);
        assert_eq!(
            table.get_or_default::<Vec<String>>("absent").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(table.json("max"), Some("3"));
        assert_eq!(table.keys().collect::<Vec<_>>(), ["greeting", "max"]);
    }

    #[test]
    fn table_require_missing() {
        let table = Table::default();
        let error = table.require::<String>("url").unwrap_err();
        assert_eq!(
            error,
            ConfigError::Missing {
                key: "url".to_owned()
            }
        );
        assert_eq!(
            error.to_string(),
            "missing config value `url`: set `url` in the plugin's config table"
        );
    }

    #[test]
    fn table_invalid_value_names_key() {
        let table = Table::from_pairs([("max", "\"many\"")]);
        let error = table.get_or("max", 1u32).unwrap_err();
        assert_eq!(error.key(), "max");
        assert!(
            error
                .to_string()
                .starts_with("invalid config value `max`: invalid type")
        );
    }

    #[test]
    fn invalid_rule_message() {
        let error = ConfigError::invalid("scene_prefix", "must not be empty");
        assert_eq!(
            error.to_string(),
            "invalid config value `scene_prefix`: must not be empty; fix `scene_prefix` in the plugin's config table"
        );
    }
}
