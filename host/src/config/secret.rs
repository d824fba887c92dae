//! Secret values and where they come from.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// Where a secret comes from, written in the config as a string:
///
/// - `"env:NAME"` reads the environment variable `NAME` at load time;
/// - `"fake:VALUE"` is a published demo value that protects nothing, for
///   local demos and tests only.
///
/// Any other form is rejected, so a real secret never sits in the file.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    Fake(String),
    /// A string of neither form; validation reports it.
    Invalid,
}

impl SecretSource {
    /// Returns the secret, or a message that names what is missing.
    pub fn resolve(&self) -> Result<Secret, String> {
        match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(value) if !value.is_empty() => Ok(Secret(value)),
                Ok(_) => Err(format!("environment variable {name} is empty")),
                Err(_) => Err(format!(
                    "environment variable {name} is not set; export it before starting wxhost"
                )),
            },
            SecretSource::Fake(value) => Ok(Secret(value.clone())),
            SecretSource::Invalid => Err(
                "a secret must be written as \"env:VARIABLE\" (or \"fake:VALUE\" for demo values)"
                    .to_owned(),
            ),
        }
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "env:{name}"),
            SecretSource::Fake(_) => f.write_str("fake:<redacted>"),
            SecretSource::Invalid => f.write_str("<invalid>"),
        }
    }
}

impl<'de> Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(if let Some(name) = text.strip_prefix("env:") {
            SecretSource::Env(name.to_owned())
        } else if let Some(value) = text.strip_prefix("fake:") {
            SecretSource::Fake(value.to_owned())
        } else {
            SecretSource::Invalid
        })
    }
}

/// A resolved secret. `Debug` prints a placeholder and there is no `Display`,
/// so the value cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value that is already in memory, for tests and tools.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Returns the secret text; the caller must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
