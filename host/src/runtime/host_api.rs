//! The host side of the `log`, `config` and `kv` imports. The service
//! imports are in `services_api`.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::bindings::wxhost::plugin::{config, kv, log, types};
use super::kv::{KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES};
use super::plugin::PluginShared;
use crate::services::Services;

/// The tracing target of records that plugins write through `log`.
pub const PLUGIN_LOG_TARGET: &str = "wxhost::plugin";

/// Per-call state behind the plugin's imports.
pub(crate) struct HostCtx {
    pub(super) plugin: Arc<PluginShared>,
    /// When the call started, for the time left before the deadline.
    pub(super) started: Instant,
    pub(super) account: String,
    kv: Arc<dyn KvStore>,
    pub(super) services: Arc<Services>,
    log_bytes: usize,
    log_dropped: u32,
}

impl HostCtx {
    pub(crate) fn new(
        plugin: Arc<PluginShared>,
        account: &str,
        kv: Arc<dyn KvStore>,
        services: Arc<Services>,
    ) -> Self {
        Self {
            plugin,
            started: Instant::now(),
            account: account.to_owned(),
            kv,
            services,
            log_bytes: 0,
            log_dropped: 0,
        }
    }

    /// Returns the bytes of the `log::write` records kept so far.
    pub(crate) fn log_bytes(&self) -> usize {
        self.log_bytes
    }

    /// Returns how many `log::write` records were dropped past the cap.
    pub(crate) fn log_dropped(&self) -> u32 {
        self.log_dropped
    }

    fn kv_check(&self, key: &str, value_len: usize) -> Result<(), kv::Error> {
        if !self.plugin.kv_granted {
            return Err(kv::Error::NotPermitted);
        }
        if key.len() > MAX_KEY_BYTES || value_len > MAX_VALUE_BYTES {
            return Err(kv::Error::TooLarge);
        }
        Ok(())
    }
}

impl types::Host for HostCtx {}

impl log::Host for HostCtx {
    fn write(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let bytes = message.len()
            + fields
                .iter()
                .map(|(key, value)| key.len() + value.len())
                .sum::<usize>();
        if self.log_bytes + bytes > self.plugin.limits.max_log_bytes_per_call {
            self.log_dropped += 1;
            return;
        }
        self.log_bytes += bytes;

        let plugin = self.plugin.name.as_str();
        let fields = LogFields(&fields);
        match level {
            log::Level::Debug => {
                tracing::debug!(target: PLUGIN_LOG_TARGET, plugin, fields = %fields, "{message}")
            }
            log::Level::Info => {
                tracing::info!(target: PLUGIN_LOG_TARGET, plugin, fields = %fields, "{message}")
            }
            log::Level::Warn => {
                tracing::warn!(target: PLUGIN_LOG_TARGET, plugin, fields = %fields, "{message}")
            }
            log::Level::Error => {
                tracing::error!(target: PLUGIN_LOG_TARGET, plugin, fields = %fields, "{message}")
            }
        }
    }
}

impl config::Host for HostCtx {
    fn get(&mut self, key: String) -> Option<String> {
        self.plugin.config.get(&key).cloned()
    }

    fn get_all(&mut self) -> Vec<(String, String)> {
        self.plugin
            .config
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }
}

impl kv::Host for HostCtx {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, kv::Error> {
        self.kv_check(&key, 0)?;
        self.kv
            .get(&self.account, &self.plugin.name, &key)
            .map_err(kv::Error::Store)
    }

    fn set(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<(), kv::Error> {
        self.kv_check(&key, value.len())?;
        self.kv
            .set(&self.account, &self.plugin.name, &key, &value, ttl_seconds)
            .map_err(kv::Error::Store)
    }

    fn delete(&mut self, key: String) -> Result<(), kv::Error> {
        self.kv_check(&key, 0)?;
        self.kv
            .delete(&self.account, &self.plugin.name, &key)
            .map_err(kv::Error::Store)
    }

    fn increment(&mut self, key: String, delta: i64) -> Result<i64, kv::Error> {
        self.kv_check(&key, 0)?;
        self.kv
            .increment(&self.account, &self.plugin.name, &key, delta)
            .map_err(kv::Error::Store)
    }

    fn set_if_absent(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_seconds: Option<u32>,
    ) -> Result<bool, kv::Error> {
        self.kv_check(&key, value.len())?;
        self.kv
            .set_if_absent(&self.account, &self.plugin.name, &key, &value, ttl_seconds)
            .map_err(kv::Error::Store)
    }
}

/// Renders a plugin's log fields as `key="value"` pairs separated by spaces.
struct LogFields<'a>(&'a [(String, String)]);

impl fmt::Display for LogFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, (key, value)) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value:?}")?;
        }
        Ok(())
    }
}
