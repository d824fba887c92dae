//! The part of a running host that a config reload replaces: accounts,
//! keys, plugin routes, the reply budget and the recorder.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::Metrics;
use super::entry::PluginEntry;
use crate::accounts::Account;
use crate::config::{Config, SecretSource};
use crate::dispatch::Dispatcher;
use crate::recording::Recorder;
use crate::runtime::KvStore;
use crate::server::AccessKeys;
use crate::services::Services;

/// One consistent snapshot of the reloadable state. A callback takes it
/// once and uses it to the end, so it never mixes two configs.
pub struct Live {
    pub config: Arc<Config>,
    pub accounts: HashMap<String, Arc<Account>>,
    pub dispatcher: Arc<Dispatcher>,
    pub keys: AccessKeys,
    pub reply_budget: Duration,
    pub recorder: Option<Arc<Recorder>>,
}

/// The parts [`build_live`] combines.
pub struct LiveParts<'a> {
    pub config: Config,
    pub entries: Vec<Arc<PluginEntry>>,
    pub kv: Arc<dyn KvStore>,
    pub metrics: Arc<Metrics>,
    /// The host services the plugins call.
    pub services: Arc<Services>,
    /// The recorder in service, reused when the path did not change.
    pub previous_recorder: Option<&'a Arc<Recorder>>,
}

/// Resolves accounts, keys and the recorder of `parts.config`. Fails with
/// one message per problem.
pub fn build_live(parts: LiveParts<'_>) -> Result<Live, Vec<String>> {
    let LiveParts {
        config,
        entries,
        kv,
        metrics,
        services,
        previous_recorder,
    } = parts;
    let mut problems = Vec::new();

    let mut accounts = HashMap::new();
    for account_config in &config.accounts {
        let route = if account_config.plugins.is_empty() {
            (0..config.plugins.len()).collect()
        } else {
            account_config
                .plugins
                .iter()
                .filter_map(|name| config.plugins.iter().position(|p| &p.name == name))
                .collect()
        };
        match Account::from_config(account_config, route) {
            Ok(account) => {
                accounts.insert(account.name.clone(), Arc::new(account));
            }
            Err(err) => problems.push(err.to_string()),
        }
    }
    let keys = AccessKeys::from_config(&config).unwrap_or_else(|err| {
        problems.push(err.to_string());
        AccessKeys::default()
    });

    let recorder = match &config.recording {
        Some(recording) if recording.enabled => {
            let path = config.resolve_path(&recording.path);
            match previous_recorder.filter(|recorder| recorder.path() == path) {
                Some(recorder) => Some(recorder.clone()),
                None => match Recorder::open(&path) {
                    Ok(recorder) => Some(Arc::new(recorder)),
                    Err(err) => {
                        problems.push(format!(
                            "recording.path: failed to open {}: {err}",
                            path.display()
                        ));
                        None
                    }
                },
            }
        }
        _ => None,
    };

    if !problems.is_empty() {
        return Err(problems);
    }
    let dispatcher =
        Dispatcher::new(entries, kv, metrics, recorder.is_some()).with_services(services);
    Ok(Live {
        reply_budget: Duration::from_millis(config.server.reply_budget_ms),
        config: Arc::new(config),
        accounts,
        dispatcher: Arc::new(dispatcher),
        keys,
        recorder,
    })
}

/// Returns the fields that changed from `old` to `new` but take effect
/// only after a restart.
pub fn restart_only_changes(old: &Config, new: &Config) -> Vec<String> {
    let mut changed = Vec::new();
    let mut check = |field: &str, differs: bool| {
        if differs {
            changed.push(field.to_owned());
        }
    };
    check("server.listen", old.server.listen != new.server.listen);
    check(
        "store.path",
        old.resolve_path(&old.store.path) != new.resolve_path(&new.store.path),
    );
    check(
        "server.max_body_bytes",
        old.server.max_body_bytes != new.server.max_body_bytes,
    );
    check(
        "server.dedupe_ttl_secs",
        old.server.dedupe_ttl_secs != new.server.dedupe_ttl_secs,
    );
    check(
        "server.log_format",
        old.server.log_format != new.server.log_format,
    );
    check(
        "server.log_salt",
        format!("{:?}", old.server.log_salt) != format!("{:?}", new.server.log_salt),
    );
    check(
        "runtime.max_instances",
        old.runtime.max_instances != new.runtime.max_instances,
    );
    check(
        "reload.artifact_dir",
        old.artifact_dir() != new.artifact_dir(),
    );
    check(
        "reload.compile_timeout_secs",
        old.reload.compile_timeout_secs != new.reload.compile_timeout_secs,
    );
    check(
        "outbox",
        format!("{:?}", old.outbox) != format!("{:?}", new.outbox),
    );
    check(
        "fake_wechat",
        format!("{:?}", old.fake_wechat) != format!("{:?}", new.fake_wechat),
    );
    changed.extend(api_client_changes(old, new));
    changed
}

/// Lists `accounts.NAME (API settings)` for each account whose API
/// client would differ from the one built at startup. Reloads never
/// rebuild API clients, so an added account with an app_secret gets no
/// client, and a changed or removed one keeps its old client, until a
/// restart. Accounts without an app_secret on both sides have no client
/// and are left out: their callbacks are served from the reload on.
fn api_client_changes(old: &Config, new: &Config) -> Vec<String> {
    let old_settings = api_settings(old);
    let new_settings = api_settings(new);
    let mut names: Vec<&str> = new.accounts.iter().map(|a| a.name.as_str()).collect();
    for account in &old.accounts {
        if !names.contains(&account.name.as_str()) {
            names.push(&account.name);
        }
    }
    names
        .into_iter()
        .filter(|name| old_settings.get(name) != new_settings.get(name))
        .map(|name| format!("accounts.{name} (API settings)"))
        .collect()
}

/// Returns, for each account with an app_secret, the fields that its
/// API client is built from.
fn api_settings(config: &Config) -> HashMap<&str, (String, &SecretSource)> {
    config
        .accounts
        .iter()
        .filter_map(|account| {
            // The secret is compared as a value because its Debug form
            // hides demo values.
            let secret = account.app_secret.as_ref()?;
            let settings = format!(
                "{} {:?} {:?} {:?}",
                account.appid, account.api_base_url, account.token_mode, account.quota
            );
            Some((account.name.as_str(), (settings, secret)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::restart_only_changes;
    use crate::config::{Config, LoadMode};

    const SHOP: &str = r#"
[[accounts]]
name = "shop"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
app_secret = "fake:shopsecret"
"#;

    fn parse(text: &str) -> Config {
        Config::parse_with(text, Path::new("/nonexistent"), LoadMode::Client).expect("valid config")
    }

    #[test]
    fn added_account_without_secret_applies() {
        let added = format!(
            "{SHOP}\n[[accounts]]\nname = \"news\"\nappid = \"wx00000000000000aa\"\ntoken = \"fake:newstoken\"\n"
        );
        assert_eq!(
            restart_only_changes(&parse(SHOP), &parse(&added)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn added_account_with_secret_needs_restart() {
        let added = format!(
            "{SHOP}\n[[accounts]]\nname = \"news\"\nappid = \"wx00000000000000aa\"\ntoken = \"fake:newstoken\"\napp_secret = \"fake:newssecret\"\n"
        );
        assert_eq!(
            restart_only_changes(&parse(SHOP), &parse(&added)),
            ["accounts.news (API settings)"]
        );
    }

    #[test]
    fn changed_secret_names_its_account() {
        let changed = SHOP.replace("fake:shopsecret", "fake:othersecret");
        assert_eq!(
            restart_only_changes(&parse(SHOP), &parse(&changed)),
            ["accounts.shop (API settings)"]
        );
    }

    #[test]
    fn removed_account_with_secret_needs_restart() {
        assert_eq!(
            restart_only_changes(&parse(SHOP), &parse("")),
            ["accounts.shop (API settings)"]
        );
    }
}
