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

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::DeserializeOwned;
use strsim::levenshtein as edit_distance;

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
    /// A key that the plugin never read, most often a misspelt one.
    Unknown {
        /// The key as the config table spells it.
        key: String,
        /// The keys the plugin read, sorted.
        known: Vec<String>,
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
            Self::Missing { key } | Self::Invalid { key, .. } | Self::Unknown { key, .. } => key,
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
            Self::Unknown { key, known } => {
                write!(f, "unknown config key `{key}`: ")?;
                if let Some(close) = closest(key, known) {
                    write!(f, "did you mean `{close}`? ")?;
                }
                let known: Vec<String> = known.iter().map(|name| format!("`{name}`")).collect();
                write!(
                    f,
                    "this plugin reads {}; rename or remove `{key}` in the plugin's config table",
                    known.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Every value of the plugin's config table, as JSON text by key.
///
/// The table remembers which keys the plugin asked for, so that
/// [`Table::deny_unread`] can reject a key that nothing reads.
#[derive(Debug, Clone, Default)]
pub struct Table {
    values: BTreeMap<String, String>,
    read: RefCell<BTreeSet<String>>,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
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
        Self {
            values,
            read: RefCell::default(),
        }
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
        self.read.borrow_mut().insert(key.to_owned());
        self.values.get(key).map(String::as_str)
    }

    /// Fails with [`ConfigError::Unknown`] on the first key, in sorted
    /// order, that no `get`, `require` or `json` call has asked for. A
    /// plugin calls it after reading all its settings, so a misspelt key
    /// is a config error instead of a setting that silently does nothing.
    pub fn deny_unread(&self) -> Result<(), ConfigError> {
        let read = self.read.borrow();
        match self.values.keys().find(|key| !read.contains(*key)) {
            Some(key) => Err(ConfigError::Unknown {
                key: key.clone(),
                known: read.iter().cloned().collect(),
            }),
            None => Ok(()),
        }
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

/// Returns the name in `known` nearest to `key`: one that starts with
/// `key` or that `key` starts with, or one within two edits, or a third
/// of the key's length for longer keys.
fn closest<'a>(key: &str, known: &'a [String]) -> Option<&'a str> {
    let limit = (key.chars().count() / 3).max(2);
    known
        .iter()
        .map(|name| (edit_distance(key, name), name))
        .filter(|(distance, name)| {
            *distance <= limit || name.starts_with(key) || key.starts_with(name.as_str())
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.as_str())
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
    fn unread_key_is_rejected_with_suggestion() {
        let table = Table::from_pairs([("greting", "\"hi\""), ("max", "3")]);
        assert_eq!(table.get_or("max", 1u32).unwrap(), 3);
        assert_eq!(table.get::<String>("greeting").unwrap(), None);
        let error = table.deny_unread().unwrap_err();
        assert_eq!(error.key(), "greting");
        assert_eq!(
            error.to_string(),
            "unknown config key `greting`: did you mean `greeting`? this plugin reads `greeting`, `max`; rename or remove `greting` in the plugin's config table"
        );
    }

    #[test]
    fn unread_key_without_suggestion() {
        let table = Table::from_pairs([("colour", "1")]);
        assert_eq!(table.get::<u32>("url").unwrap(), None);
        assert_eq!(
            table.deny_unread().unwrap_err().to_string(),
            "unknown config key `colour`: this plugin reads `url`; rename or remove `colour` in the plugin's config table"
        );
    }

    #[test]
    fn every_key_read_passes() {
        let table = Table::from_pairs([("url", "\"http://127.0.0.1\"")]);
        assert!(table.require::<String>("url").is_ok());
        assert_eq!(table.deny_unread(), Ok(()));
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("greting", "greeting"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("邀请", "邀请码"), 1);
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
