//! Whole-file validation that reports every problem at once.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{AccountConfig, Config, LoadMode, PluginConfig, SecurityMode};
use crate::protocol::crypto::AesKey;

/// Capabilities a plugin can be granted.
pub const KNOWN_CAPABILITIES: &[&str] = &["kv", "followers", "qrcode", "media", "fetch"];

/// `MsgType` values of user messages that routes may name.
pub const KNOWN_MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "voice",
    "video",
    "shortvideo",
    "location",
    "link",
    "file",
    "*",
];

/// One problem in the config file: the field path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The I/O error is part of the message and not a `source`, so a
    /// printed error chain shows it once.
    #[error("failed to read config file {}: {error}{}", path.display(), read_hint(error))]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid TOML in config file{}: {message}", file_suffix(path.as_deref()))]
    Syntax {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        message: String,
    },
    #[error(
        "invalid config{} ({}):\n{}",
        config_file_suffix(path.as_deref()),
        counted(problems.len(), "problem"),
        format_problems(problems)
    )]
    Invalid {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        problems: Vec<Problem>,
    },
}

fn file_suffix(path: Option<&std::path::Path>) -> String {
    path.map(|path| format!(" {}", path.display()))
        .unwrap_or_default()
}

fn config_file_suffix(path: Option<&std::path::Path>) -> String {
    path.map(|path| format!(" file {}", path.display()))
        .unwrap_or_default()
}

/// Returns the next step for an operator whose config file is missing.
fn read_hint(error: &std::io::Error) -> &'static str {
    if error.kind() == std::io::ErrorKind::NotFound {
        "; pass --config FILE or run from the directory that holds wxhost.toml"
    } else {
        ""
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("  - {problem}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Default)]
pub(super) struct Problems(Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Checks the whole config. `unknown_keys` are the problems for keys
/// that no config field reads, in file order, and come first.
pub(super) fn validate(
    config: &Config,
    mode: LoadMode,
    unknown_keys: Vec<Problem>,
) -> Result<(), ConfigError> {
    let mut problems = Problems(unknown_keys);
    validate_server(config, &mut problems);

    let plugin_names: HashSet<&str> = config.plugins.iter().map(|p| p.name.as_str()).collect();
    let mut seen_accounts = HashSet::new();
    for (index, account) in config.accounts.iter().enumerate() {
        let field = format!("accounts[{index}]");
        if !seen_accounts.insert(account.name.as_str()) {
            problems.add(
                format!("{field}.name"),
                format!("duplicate account name {:?}", account.name),
            );
        }
        validate_account(account, &field, &plugin_names, &mut problems);
    }

    super::validate_api::validate_api(config, &mut problems);
    super::lifecycle::validate_reload(config, &mut problems);

    let mut seen_plugins = HashSet::new();
    for (index, plugin) in config.plugins.iter().enumerate() {
        let field = format!("plugins[{index}]");
        if !seen_plugins.insert(plugin.name.as_str()) {
            problems.add(
                format!("{field}.name"),
                format!("duplicate plugin name {:?}", plugin.name),
            );
        }
        validate_plugin(config, plugin, &field, mode, &mut problems);
    }

    if problems.0.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            path: None,
            problems: problems.0,
        })
    }
}

fn validate_server(config: &Config, problems: &mut Problems) {
    let server = &config.server;
    if server.listen.parse::<SocketAddr>().is_err() {
        problems.add(
            "server.listen",
            format!(
                "{:?} is not a socket address; write it as \"127.0.0.1:8080\"",
                server.listen
            ),
        );
    }
    if !super::MAX_BODY_BYTES_RANGE.contains(&server.max_body_bytes) {
        problems.add(
            "server.max_body_bytes",
            format!(
                "{} is out of range; use {} to {}",
                server.max_body_bytes,
                super::MAX_BODY_BYTES_RANGE.start(),
                super::MAX_BODY_BYTES_RANGE.end()
            ),
        );
    }
    if !(100..=4500).contains(&server.reply_budget_ms) {
        problems.add(
            "server.reply_budget_ms",
            format!(
                "{} is out of range; use 100 to 4500 (WeChat waits 5000 ms)",
                server.reply_budget_ms
            ),
        );
    }
    let skew = server.max_timestamp_skew_secs;
    if skew != 0 && !(60..=86_400).contains(&skew) {
        problems.add(
            "server.max_timestamp_skew_secs",
            format!(
                "{skew} is out of range; use 0 (no check) or 60 to 86400, since WeChat's retries repeat the first timestamp"
            ),
        );
    }
    if !matches!(server.log_format.as_str(), "text" | "json") {
        problems.add(
            "server.log_format",
            format!(
                "{:?} is not a log format; use \"text\" or \"json\"",
                server.log_format
            ),
        );
    }
    if let Some(Err(message)) = server.log_salt.as_ref().map(|salt| salt.resolve()) {
        problems.add("server.log_salt", message);
    }
}

fn validate_account(
    account: &AccountConfig,
    field: &str,
    plugin_names: &HashSet<&str>,
    problems: &mut Problems,
) {
    if !is_route_name(&account.name) {
        problems.add(
            format!("{field}.name"),
            format!(
                "{:?} is not a valid account name; use 1 to 64 letters, digits, '-' or '_'",
                account.name
            ),
        );
    }
    if !is_appid(&account.appid) {
        problems.add(
            format!("{field}.appid"),
            format!(
                "{:?} has {}; an AppID is \"wx\" followed by 16 letters or digits \
                 (18 characters), for example wx1234567890abcdef",
                account.appid,
                counted(account.appid.chars().count(), "character"),
            ),
        );
    }
    match account.token.resolve() {
        Ok(token) => {
            let token = token.expose();
            if !(3..=32).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                problems.add(
                    format!("{field}.token"),
                    format!(
                        "the Token must be 3 to 32 ASCII letters or digits (found {})",
                        counted(token.chars().count(), "character")
                    ),
                );
            }
        }
        Err(message) => problems.add(format!("{field}.token"), message),
    }
    match account
        .encoding_aes_key
        .as_ref()
        .map(|source| source.resolve())
    {
        Some(Ok(key)) => {
            if let Err(err) = AesKey::from_encoding_aes_key(key.expose()) {
                problems.add(format!("{field}.encoding_aes_key"), err.to_string());
            }
        }
        Some(Err(message)) => problems.add(format!("{field}.encoding_aes_key"), message),
        None if account.security == SecurityMode::Safe => problems.add(
            format!("{field}.encoding_aes_key"),
            "security = \"safe\" needs the account's EncodingAESKey",
        ),
        None => {}
    }
    if let Some(Err(message)) = account.app_secret.as_ref().map(|source| source.resolve()) {
        problems.add(format!("{field}.app_secret"), message);
    }
    if let Some(menu) = &account.menu {
        for (path, message) in menu.problems(&format!("{field}.menu")) {
            problems.add(path, message);
        }
    }
    for name in &account.plugins {
        if !plugin_names.contains(name.as_str()) {
            problems.add(
                format!("{field}.plugins"),
                format!("no [[plugins]] entry is named {name:?}"),
            );
        }
    }
}

fn validate_plugin(
    config: &Config,
    plugin: &PluginConfig,
    field: &str,
    mode: LoadMode,
    problems: &mut Problems,
) {
    if !is_route_name(&plugin.name) {
        problems.add(
            format!("{field}.name"),
            format!(
                "{:?} is not a valid plugin name; use 1 to 64 letters, digits, '-' or '_'",
                plugin.name
            ),
        );
    }
    let path = config.resolve_path(&plugin.path);
    if mode == LoadMode::Strict
        && let Some(problem) = plugin_file_problem(
            &path,
            &plugin.path,
            "build the plugins first (see README) or fix the path",
        )
    {
        problems.add(format!("{field}.path"), problem);
    }
    for message_type in &plugin.messages {
        if !KNOWN_MESSAGE_TYPES.contains(&message_type.as_str()) {
            problems.add(
                format!("{field}.messages"),
                format!(
                    "unknown message type {message_type:?}; known: {}",
                    KNOWN_MESSAGE_TYPES.join(", ")
                ),
            );
        }
    }
    if plugin.messages.is_empty() && plugin.events.is_empty() {
        problems.add(
            format!("{field}.messages"),
            "the plugin receives nothing; list message types in `messages` or event names in `events`",
        );
    }
    for capability in &plugin.capabilities {
        if !KNOWN_CAPABILITIES.contains(&capability.as_str()) {
            problems.add(
                format!("{field}.capabilities"),
                format!(
                    "unknown capability {capability:?}; known: {}",
                    KNOWN_CAPABILITIES.join(", ")
                ),
            );
        }
    }
    if let Some(fetch) = &plugin.fetch {
        if !plugin.capabilities.iter().any(|c| c == "fetch") {
            problems.add(
                format!("{field}.fetch"),
                "the plugin lacks the \"fetch\" capability; add it to `capabilities`",
            );
        }
        super::fetch::validate_fetch(fetch, &format!("{field}.fetch"), problems);
    }
    validate_limits(plugin, field, problems);
    super::lifecycle::validate_lifecycle(config, plugin, field, mode, problems);
}

fn validate_limits(plugin: &PluginConfig, field: &str, problems: &mut Problems) {
    let limits = &plugin.limits;
    if let Some(ms) = limits.deadline_ms
        && !(1..=60_000).contains(&ms)
    {
        problems.add(
            format!("{field}.limits.deadline_ms"),
            format!("{ms} is out of range; use 1 to 60000"),
        );
    }
    // The runtime reserves this much per instance slot, so no plugin can
    // be granted more.
    let runtime_cap = crate::runtime::DEFAULT_MAX_MEMORY_BYTES as u64;
    if let Some(bytes) = limits.max_memory_bytes
        && !(64 * 1024..=runtime_cap).contains(&bytes)
    {
        problems.add(
            format!("{field}.limits.max_memory_bytes"),
            format!("{bytes} is out of range; use 65536 to {runtime_cap} (the runtime's cap)"),
        );
    }
    if limits.max_directives == Some(0) {
        problems.add(
            format!("{field}.limits.max_directives"),
            "must be at least 1",
        );
    }
}

/// Checks the AppID form the WeChat console shows: `wx` and 16 ASCII
/// letters or digits. A wrong AppID fails every encrypted callback,
/// because the decrypted message ends with the real one.
fn is_appid(appid: &str) -> bool {
    appid.len() == 18 && appid.starts_with("wx") && appid.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Formats a count with its noun, for example "1 character" or "2 characters".
pub(crate) fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

pub(super) fn is_route_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Returns why `path` (resolved from `written`, the path as the config
/// file spells it) cannot be a plugin file, or `None` when it is a file.
/// `fix` is the next step when nothing exists at `path`.
pub(super) fn plugin_file_problem(path: &Path, written: &Path, fix: &str) -> Option<String> {
    if path.is_file() {
        None
    } else if path.is_dir() {
        Some(format!(
            "{} is a directory; set the path of the plugin's .wasm file in it, such as {:?}",
            path.display(),
            written.join("NAME.wasm")
        ))
    } else {
        Some(format!("plugin file {} not found; {fix}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<Problem> {
        match Config::parse(text, Path::new("/nonexistent")) {
            Err(ConfigError::Invalid { problems, .. }) => problems,
            Err(other) => panic!("expected validation problems, got {other}"),
            Ok(_) => panic!("expected validation problems, got a valid config"),
        }
    }

    fn fields(problems: &[Problem]) -> Vec<&str> {
        problems
            .iter()
            .map(|problem| problem.field.as_str())
            .collect()
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let found = problems(
            r#"
[server]
listen = "localhost"
reply_budget_ms = 6000

[[accounts]]
name = "demo shop"
appid = "wx1234567890abcdef"
token = "faketoken"
encoding_aes_key = "fake:abcdefghijklmnopqrstuvwxyz0123456789ABCDE"
security = "safe"
plugins = ["missing"]

[[plugins]]
name = "keyword"
path = "keyword.wasm"
messages = ["txt"]
capabilities = ["network"]
"#,
        );
        assert_eq!(
            fields(&found),
            [
                "server.listen",
                "server.reply_budget_ms",
                "accounts[0].name",
                "accounts[0].token",
                "accounts[0].encoding_aes_key",
                "accounts[0].plugins",
                "plugins[0].path",
                "plugins[0].messages",
                "plugins[0].capabilities",
            ]
        );
        assert_eq!(
            found[3].message,
            "a secret must be written as \"env:VARIABLE\" (or \"fake:VALUE\" for demo values)"
        );
        assert_eq!(
            found[4].message,
            "EncodingAESKey must have 43 characters, found 41"
        );
        assert_eq!(
            found[6].message,
            "plugin file /nonexistent/keyword.wasm not found; build the plugins first (see README) or fix the path"
        );
    }

    #[test]
    fn directory_as_plugin_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let written = Path::new("../plugins");
        let problem = plugin_file_problem(dir.path(), written, "fix the path").unwrap();
        assert_eq!(
            problem,
            format!(
                "{} is a directory; set the path of the plugin's .wasm file in it, such as \"../plugins/NAME.wasm\"",
                dir.path().display()
            )
        );
        let file = dir.path().join("echo.wasm");
        assert_eq!(
            plugin_file_problem(&file, written, "fix the path").unwrap(),
            format!("plugin file {} not found; fix the path", file.display())
        );
        std::fs::write(&file, b"\0asm").unwrap();
        assert_eq!(plugin_file_problem(&file, written, "fix the path"), None);
    }

    #[test]
    fn aes_key_with_spare_bits_is_accepted() {
        let config = Config::parse(
            r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
encoding_aes_key = "fake:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
"#,
            Path::new("/nonexistent"),
        );
        assert!(config.is_ok(), "{:?}", config.err());
    }

    #[test]
    fn malformed_aes_keys_are_rejected() {
        let key_42 = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
        let key_44 = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH";
        let key_dash = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF-";
        for key in [key_42, key_44, key_dash] {
            let found = problems(&format!(
                r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
encoding_aes_key = "fake:{key}"
"#
            ));
            assert_eq!(fields(&found), ["accounts[0].encoding_aes_key"], "{key}");
        }
    }

    #[test]
    fn missing_environment_secret_names_the_variable() {
        let found = problems(
            r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "env:WXHOST_TEST_TOKEN_THAT_IS_NEVER_SET"
"#,
        );
        assert_eq!(
            found[0].message,
            "environment variable WXHOST_TEST_TOKEN_THAT_IS_NEVER_SET is not set; export it before starting wxhost"
        );
    }

    #[test]
    fn missing_file_error_names_the_fix() {
        let error = Config::load(Path::new("/nonexistent/wxhost.toml"))
            .expect_err("a missing file is an error");
        assert_eq!(
            format!("{:#}", anyhow::Error::from(error)),
            "failed to read config file /nonexistent/wxhost.toml: No such file or directory (os error 2); \
             pass --config FILE or run from the directory that holds wxhost.toml"
        );
    }

    #[test]
    fn unknown_fields_are_reported_together() {
        let found = problems(
            r#"
[sever]
listen = "127.0.0.1:8080"

[server]
listen_addr = "127.0.0.1:8080"

[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
securty = "safe"

[[plugins]]
name = "echo"
path = "echo.wasm"
messages = ["text"]
limits = { deadline = 100 }
"#,
        );
        let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "sever: unknown field; did you mean `server`? fix the spelling or remove it",
                "server.listen_addr: unknown field; did you mean `listen`? fix the spelling or remove it",
                "accounts[0].securty: unknown field; did you mean `security`? fix the spelling or remove it",
                "plugins[0].limits.deadline: unknown field; did you mean `deadline_ms`? fix the spelling or remove it",
                "plugins[0].path: plugin file /nonexistent/echo.wasm not found; build the plugins first (see README) or fix the path",
            ]
        );
    }

    #[test]
    fn unknown_field_without_close_key() {
        let found = problems(
            r#"
[server]
colour = "blue"

[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
greeting = "hi"

[store.backup]
path = "backup.db"
"#,
        );
        let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "server.colour: unknown field; fix the spelling or remove it",
                "accounts[0].greeting: unknown field; fix the spelling or remove it",
                "store.backup: unknown field; fix the spelling or remove it",
            ]
        );
    }

    #[test]
    fn unknown_field_in_optional_table_suggests() {
        let found = problems(
            r#"
[admin]
key = "fake:0123456789abcdef"
kye = "fake:0123456789abcdef"

[reload]
poll_interval = 500
"#,
        );
        let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "admin.kye: unknown field; did you mean `key`? fix the spelling or remove it",
                "reload.poll_interval: unknown field; did you mean `poll_interval_ms`? fix the spelling or remove it",
            ]
        );
    }

    #[test]
    fn appid_must_have_wechat_form() {
        for appid in [
            "wx123",
            "wx1234567890abcdef0",
            "ab1234567890abcdef",
            "wx1234567890abcde-",
        ] {
            let found = problems(&format!(
                r#"
[[accounts]]
name = "demo"
appid = "{appid}"
token = "fake:faketoken"
"#
            ));
            let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
            assert_eq!(
                listed,
                [format!(
                    "accounts[0].appid: {appid:?} has {} characters; an AppID is \"wx\" followed by \
                     16 letters or digits (18 characters), for example wx1234567890abcdef",
                    appid.len()
                )],
            );
        }
    }

    #[test]
    fn one_problem_is_counted_in_singular() {
        let error = Config::parse(
            r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:a"
"#,
            Path::new("/nonexistent"),
        )
        .expect_err("a one-character Token is rejected");
        assert_eq!(
            error.to_string(),
            "invalid config (1 problem):\n  - accounts[0].token: the Token must be 3 to 32 ASCII letters or digits (found 1 character)"
        );
    }

    #[test]
    fn counted_picks_singular_or_plural() {
        assert_eq!(counted(0, "problem"), "0 problems");
        assert_eq!(counted(1, "problem"), "1 problem");
        assert_eq!(counted(2, "problem"), "2 problems");
    }

    #[test]
    fn syntax_error_names_the_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("wxhost.toml");
        std::fs::write(&path, "[server\n").expect("write config");
        let error = Config::load(&path).expect_err("invalid TOML is an error");
        let text = error.to_string();
        let expected = format!("invalid TOML in config file {}: ", path.display());
        assert!(text.starts_with(&expected), "{text}");
    }

    #[test]
    fn invalid_error_names_the_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("wxhost.toml");
        let text = "[server]\nlisten = \"localhost\"\nreply_budget_ms = 6000\n";
        std::fs::write(&path, text).expect("write config");
        let error = Config::load(&path).expect_err("invalid values are an error");
        assert_eq!(
            error.to_string(),
            format!(
                "invalid config file {} (2 problems):\n  \
                 - server.listen: \"localhost\" is not a socket address; write it as \"127.0.0.1:8080\"\n  \
                 - server.reply_budget_ms: 6000 is out of range; use 100 to 4500 (WeChat waits 5000 ms)",
                path.display()
            )
        );
    }

    #[test]
    fn wrong_type_error_names_the_file() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("wxhost.toml");
        std::fs::write(&path, "[server]\nmax_body_bytes = \"big\"\n").expect("write config");
        let error = Config::load(&path).expect_err("a wrong type is an error");
        assert_eq!(
            error.to_string(),
            format!(
                "invalid config file {} (1 problem):\n  \
                 - server.max_body_bytes: invalid type: string \"big\", expected a whole number, 0 or more",
                path.display()
            )
        );
    }

    #[test]
    fn memory_limit_above_runtime_cap_rejected() {
        let found = problems(
            r#"
[[plugins]]
name = "big"
path = "big.wasm"
limits = { max_memory_bytes = 134217728 }
"#,
        );
        let memory: Vec<&Problem> = found
            .iter()
            .filter(|problem| problem.field == "plugins[0].limits.max_memory_bytes")
            .collect();
        assert_eq!(memory.len(), 1, "{found:?}");
        assert_eq!(
            memory[0].message,
            "134217728 is out of range; use 65536 to 67108864 (the runtime's cap)"
        );
    }
}
