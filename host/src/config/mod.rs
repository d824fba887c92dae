//! The host configuration: one TOML file, with secrets taken from
//! environment variables.
//!
//! [`Config::load`] reads the file, resolves secrets and validates the
//! whole file at once, so an operator sees every problem in one run. Each
//! problem names its field, for example `accounts[0].encoding_aes_key`.
//! [`Config::load_for_client`] skips the plugin-file checks for commands
//! that never load a plugin from the config.

mod api;
mod fetch;
mod lifecycle;
mod menu;
mod secret;
mod types;
mod unknown_keys;
mod validate;
mod validate_api;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use api::{
    AdminConfig, ConsumerConfig, DEFAULT_API_BASE_URL, FakeWeChatConfig, InDoubtPolicy,
    MIN_KEY_BYTES, OutboxConfig, QuotaOverrides, TokenModeConfig,
};
pub use fetch::{AllowEntry, FetchConfig};
pub use lifecycle::{
    BreakerConfig, CanaryConfig, DEFAULT_BREAKER_COOL_DOWN_MS, DEFAULT_BREAKER_FAILURES,
    DEFAULT_CANARY_MAX_FAULT_RATE, DEFAULT_CANARY_MIN_CALLS, DEFAULT_CANARY_WINDOW_SECS,
    DEFAULT_COMPILE_TIMEOUT_SECS, DEFAULT_MAX_BINARY_BYTES, DEFAULT_POLL_INTERVAL_MS,
    FailurePolicy, RecordingConfig, ReloadConfig, ShadowConfig,
};
pub use menu::{
    ConditionalMenuConfig, IdValue, MENU_BUTTON_TYPES, MatchRuleConfig, MenuButtonConfig,
    MenuConfig,
};
pub use secret::{Secret, SecretSource};
pub(crate) use validate::counted;
pub use validate::{ConfigError, KNOWN_CAPABILITIES, Problem};

/// Default listen address: loopback only, so a fresh install exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default request body cap. WeChat callbacks are a few KiB; safe-mode
/// bodies are about three times the plaintext.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Accepted values of `server.max_body_bytes`.
pub const MAX_BODY_BYTES_RANGE: RangeInclusive<usize> = 1024..=16 * 1024 * 1024;
/// Default time the host allows itself before it answers `success`.
/// WeChat drops the connection after 5 s and retries, so the answer must
/// leave room for the network on both sides.
pub const DEFAULT_REPLY_BUDGET_MS: u64 = 3000;
/// Default time a finished reply is kept for WeChat's retries. WeChat
/// retries three times within about 15 s.
pub const DEFAULT_DEDUPE_TTL_SECS: u64 = 300;

/// The whole host configuration.
///
/// Defaults: `server.listen` is `127.0.0.1:8080`, `server.max_body_bytes`
/// 65536, `server.reply_budget_ms` 3000, `server.dedupe_ttl_secs` 300,
/// `server.max_timestamp_skew_secs` 0 (no check),
/// `store.path` `wxhost.db` next to the config file, no consumers, no
/// admin key (the admin endpoints return 404), the [`OutboxConfig`]
/// defaults and no in-process fake.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub runtime: RuntimeSection,
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub plugins: Vec<PluginConfig>,
    /// Internal services that may fetch access tokens from this host.
    #[serde(default)]
    pub consumers: Vec<ConsumerConfig>,
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// Demo and test only: a fake of WeChat's API inside `wxhost serve`.
    #[serde(default)]
    pub fake_wechat: Option<FakeWeChatConfig>,
    /// How changed plugin files are noticed and where compiled code is kept.
    #[serde(default)]
    pub reload: ReloadConfig,
    /// Recording of callbacks and directives for `wxhost replay`.
    #[serde(default)]
    pub recording: Option<RecordingConfig>,
    /// The directory relative paths in this file resolve against.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[server]`: the HTTP listener and callback handling.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerConfig {
    /// Socket address to listen on.
    pub listen: String,
    /// Largest accepted request body; larger bodies get HTTP 413.
    pub max_body_bytes: usize,
    /// Time from receipt to response. Past it the host responds `success`.
    pub reply_budget_ms: u64,
    /// Time a finished reply is kept for WeChat's retries.
    pub dedupe_ttl_secs: u64,
    /// Largest distance in seconds between a callback's `timestamp` and
    /// the host's clock; 0 (the default) turns the check off.
    pub max_timestamp_skew_secs: u64,
    /// Log format: `text` or `json`.
    pub log_format: String,
    /// Key for the pseudonyms that stand for openids in logs. Without it
    /// the host picks a random key at startup, so pseudonyms change across
    /// restarts.
    pub log_salt: Option<SecretSource>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: DEFAULT_LISTEN.to_owned(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            reply_budget_ms: DEFAULT_REPLY_BUDGET_MS,
            dedupe_ttl_secs: DEFAULT_DEDUPE_TTL_SECS,
            max_timestamp_skew_secs: 0,
            log_format: "text".to_owned(),
            log_salt: None,
        }
    }
}

/// `[store]`: the embedded SQLite database.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    /// Database file, relative to the config file's directory.
    pub path: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("wxhost.db"),
        }
    }
}

/// `[runtime]`: the WebAssembly engine shared by all plugins.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RuntimeSection {
    /// Plugin instances that may be alive at once across all callbacks.
    pub max_instances: u32,
}

impl Default for RuntimeSection {
    fn default() -> Self {
        RuntimeSection { max_instances: 256 }
    }
}

/// Protection an account requires of its callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecurityMode {
    /// Plaintext, compatible and safe posts are all accepted (each request
    /// says which it is).
    Any,
    /// Only encrypted posts are accepted; a plaintext post gets HTTP 403.
    Safe,
}

/// `[[accounts]]`: one official account served by this host.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountConfig {
    /// The host's name for the account; the callback URL is `/wechat/{name}`.
    pub name: String,
    /// AppID (`wx...`), compared with the id inside encrypted messages.
    pub appid: String,
    /// The account's original id (`gh_...`), WeChat's `ToUserName`. Used
    /// by `wxhost simulate`; callbacks are not rejected on it.
    #[serde(default)]
    pub original_id: Option<String>,
    /// The Token set in the WeChat console.
    pub token: SecretSource,
    /// The 43-character EncodingAESKey; required for safe mode.
    pub encoding_aes_key: Option<SecretSource>,
    /// AppSecret, for WeChat API calls. Without it the account has no
    /// API client: plugin actions for it are dropped and consumers cannot
    /// fetch its token.
    pub app_secret: Option<SecretSource>,
    /// Base URL of WeChat's API, without a trailing slash. Default
    /// `https://api.weixin.qq.com`; plain `http` only for loopback hosts.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// `stable` (default) or `classic`.
    #[serde(default)]
    pub token_mode: TokenModeConfig,
    /// Quota limits that replace wxhost's defaults for this account.
    #[serde(default)]
    pub quota: QuotaOverrides,
    /// `any` (default) or `safe`.
    #[serde(default = "default_security")]
    pub security: SecurityMode,
    /// Plugins that handle this account's callbacks, in route order. Empty
    /// means every plugin, in file order.
    #[serde(default)]
    pub plugins: Vec<String>,
    /// The custom menu that `wxhost menu push` sends to WeChat.
    #[serde(default)]
    pub menu: Option<MenuConfig>,
}

fn default_security() -> SecurityMode {
    SecurityMode::Any
}

/// `[[plugins]]`: one plugin component and what it receives.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PluginConfig {
    /// Unique plugin name, used in logs and kv namespaces.
    pub name: String,
    /// Path of the component (`.wasm`), relative to the config file.
    pub path: PathBuf,
    /// `MsgType` values this plugin receives (`text`, `image`, ...). `*`
    /// means all user messages.
    #[serde(default)]
    pub messages: Vec<String>,
    /// `Event` values this plugin receives, matched without regard to ASCII
    /// case. `*` means all events.
    #[serde(default)]
    pub events: Vec<String>,
    /// `EventKey` patterns; when set, an event reaches the plugin only if
    /// its `EventKey` matches one. A trailing `*` matches any suffix.
    #[serde(default)]
    pub event_keys: Vec<String>,
    /// Host services granted to the plugin. Known: `kv`, `followers`,
    /// `qrcode`, `media`, `fetch`.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// What the `fetch` capability may reach; without it, nothing.
    #[serde(default)]
    pub fetch: Option<FetchConfig>,
    /// Resource limits; unset fields keep their defaults.
    #[serde(default)]
    pub limits: PluginLimitsConfig,
    /// Values the plugin reads through the `config` import.
    #[serde(default)]
    pub config: BTreeMap<String, toml::Value>,
    /// What a callback gets when the plugin faults or its breaker is open.
    #[serde(default)]
    pub on_fault: FailurePolicy,
    /// The text reply of `on_fault = "fallback"`.
    #[serde(default)]
    pub fallback_reply: Option<String>,
    /// The circuit breaker that skips the plugin after repeated faults.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// A new version that serves a share of followers.
    #[serde(default)]
    pub canary: Option<CanaryConfig>,
    /// A new version that runs beside the live one without effect.
    #[serde(default)]
    pub shadow: Option<ShadowConfig>,
}

/// `[plugins.limits]`: per-plugin resource limits. Each unset field takes
/// the runtime's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PluginLimitsConfig {
    pub deadline_ms: Option<u64>,
    pub max_memory_bytes: Option<u64>,
    pub max_log_bytes_per_call: Option<u32>,
    pub max_directives: Option<u32>,
    pub max_reply_bytes: Option<u32>,
    /// Size of the `.wasm` file, checked when it is loaded.
    pub max_binary_bytes: Option<u64>,
}

/// The set of checks that [`Config::load_with`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Every check, plugin files included: for `serve` and `check`.
    Strict,
    /// Every check except that plugin, canary and shadow files exist and
    /// fit `limits.max_binary_bytes`: for commands that read the store or
    /// talk to a host or to WeChat and never load a plugin from the config.
    Client,
}

impl Config {
    /// Reads, parses and validates the file at `path`, resolving secrets
    /// from the environment. Returns every problem found, not just the first.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_with(path, LoadMode::Strict)
    }

    /// Loads the file like [`Config::load`] but without the plugin-file
    /// checks, so client commands work while a plugin file is missing.
    pub fn load_for_client(path: &Path) -> Result<Config, ConfigError> {
        Config::load_with(path, LoadMode::Client)
    }

    /// Reads, parses and validates the file at `path` with the checks of `mode`.
    pub fn load_with(path: &Path, mode: LoadMode) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: path.to_owned(),
            error,
        })?;
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Config::parse_with(&text, &base_dir, mode).map_err(|error| match error {
            ConfigError::Syntax {
                path: None,
                message,
            } => ConfigError::Syntax {
                path: Some(path.to_owned()),
                message,
            },
            ConfigError::Invalid {
                path: None,
                problems,
            } => ConfigError::Invalid {
                path: Some(path.to_owned()),
                problems,
            },
            other => other,
        })
    }

    /// Parses and validates TOML text; relative paths resolve against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        Config::parse_with(text, base_dir, LoadMode::Strict)
    }

    /// Parses TOML text and validates it with the checks of `mode`.
    pub fn parse_with(text: &str, base_dir: &Path, mode: LoadMode) -> Result<Config, ConfigError> {
        // Unknown keys are collected rather than rejected by serde, so one
        // run reports all of them together with the validation problems.
        let mut unknown = Vec::new();
        let deserializer = toml::Deserializer::parse(text).map_err(|err| ConfigError::Syntax {
            path: None,
            message: err.to_string(),
        })?;
        let mut config: Config = serde_ignored::deserialize(deserializer, |path| {
            unknown.push(unknown_keys::unknown_key(&path));
        })
        .map_err(|err| {
            // Name every misfit value at once where the table allows it;
            // otherwise keep TOML's message with its line and column.
            let problems = types::type_problems(text);
            if problems.is_empty() {
                ConfigError::Syntax {
                    path: None,
                    message: err.to_string(),
                }
            } else {
                ConfigError::Invalid {
                    path: None,
                    problems,
                }
            }
        })?;
        config.base_dir = base_dir.to_owned();
        validate::validate(&config, mode, unknown)?;
        Ok(config)
    }

    /// Resolves a path from the file against the config file's directory.
    pub fn resolve_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }

    /// Returns the account with this name.
    pub fn account(&self, name: &str) -> Option<&AccountConfig> {
        self.accounts.iter().find(|account| account.name == name)
    }
}

/// Formats a key path the way problems name fields: `accounts[0].securty`.
fn field_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => {
            let parent = field_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

impl AccountConfig {
    /// Returns `api_base_url` without a trailing slash, or WeChat's host.
    pub fn api_base_url(&self) -> String {
        self.api_base_url
            .as_deref()
            .unwrap_or(DEFAULT_API_BASE_URL)
            .trim_end_matches('/')
            .to_owned()
    }
}
