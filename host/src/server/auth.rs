//! Bearer keys of the internal token endpoint and the admin endpoints.
//!
//! Keys are compared as SHA-256 digests in constant time, and every
//! consumer's key is compared on each request, so the time taken reveals
//! nothing about which key, or how much of one, matched.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Config, ConfigError, Problem, SecretSource};

/// A consumer allowed to fetch access tokens.
pub struct Consumer {
    pub name: String,
    digest: [u8; 32],
    /// Account names, or `*` for every account.
    accounts: Vec<String>,
}

impl Consumer {
    /// Returns whether the consumer may read `account`'s token.
    pub fn may_read(&self, account: &str) -> bool {
        self.accounts
            .iter()
            .any(|name| name == "*" || name == account)
    }
}

/// The resolved keys of the consumers and the admin.
#[derive(Default)]
pub struct AccessKeys {
    consumers: Vec<Consumer>,
    admin: Option<[u8; 32]>,
}

impl AccessKeys {
    /// Resolves the keys in `config`.
    pub fn from_config(config: &Config) -> Result<AccessKeys, ConfigError> {
        let mut consumers = Vec::with_capacity(config.consumers.len());
        for (index, consumer) in config.consumers.iter().enumerate() {
            consumers.push(Consumer {
                name: consumer.name.clone(),
                digest: resolve(&consumer.key, &format!("consumers[{index}].key"))?,
                accounts: consumer.accounts.clone(),
            });
        }
        let admin = match &config.admin {
            Some(admin) => Some(resolve(&admin.key, "admin.key")?),
            None => None,
        };
        Ok(AccessKeys { consumers, admin })
    }

    /// Returns the consumer whose key is `presented`.
    pub fn consumer(&self, presented: &str) -> Option<&Consumer> {
        let digest = digest(presented);
        let mut found = None;
        for consumer in &self.consumers {
            if bool::from(consumer.digest.ct_eq(&digest)) {
                found = Some(consumer);
            }
        }
        found
    }

    /// Returns whether an admin key is configured.
    pub fn admin_enabled(&self) -> bool {
        self.admin.is_some()
    }

    /// Returns whether `presented` is the admin key.
    pub fn is_admin(&self, presented: &str) -> bool {
        self.admin
            .is_some_and(|admin| bool::from(admin.ct_eq(&digest(presented))))
    }
}

/// Returns the key of an `Authorization: Bearer <key>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

fn resolve(source: &SecretSource, field: &str) -> Result<[u8; 32], ConfigError> {
    let key = source.resolve().map_err(|message| ConfigError::Invalid {
        path: None,
        problems: vec![Problem {
            field: field.to_owned(),
            message,
        }],
    })?;
    Ok(digest(key.expose()))
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_reads_scheme_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc"));
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn consumer_found_by_key() {
        let keys = AccessKeys {
            consumers: vec![Consumer {
                name: "billing".to_owned(),
                digest: digest("billing-key-0123456789"),
                accounts: vec!["demo".to_owned()],
            }],
            admin: Some(digest("admin-key-0123456789")),
        };
        let consumer = keys.consumer("billing-key-0123456789").expect("known key");
        assert_eq!(consumer.name, "billing");
        assert!(consumer.may_read("demo"));
        assert!(!consumer.may_read("other"));
        assert!(keys.consumer("billing-key-012345678").is_none());
        assert!(keys.is_admin("admin-key-0123456789"));
        assert!(!keys.is_admin("billing-key-0123456789"));
    }
}
