//! Assembling a running host from a validated [`Config`].
//!
//! One SQLite file contains everything: the host's tables ([`Store`]) and
//! the token and quota tables of the WeChat connector ([`SqliteStore`]),
//! each through its own connection.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::accounts::Account;
use crate::apis::AccountApis;
use crate::config::{Config, PluginConfig};
use crate::dedupe::Deduplicator;
use crate::dispatch::{Dispatcher, RoutedPlugin};
use crate::fake_wechat::{self, FakeAccount, FakeConfig, FakeState};
use crate::logging::LogIds;
use crate::outbox::{Outbox, WorkerConfig, WorkerHandle, spawn_worker};
use crate::routing::RouteRules;
use crate::runtime::{
    KvStore, NOT_AN_INTEGER, OVERFLOW, PluginLimits, PluginRuntime, PluginSettings, RuntimeConfig,
};
use crate::server::{self, AccessKeys, AppState};
use crate::services::{Grants, Services};
use crate::store::{KvUpdate, Store};
use crate::wechat::SqliteStore;

/// How long a stopping host waits for the delivery in progress.
const WORKER_STOP_GRACE: Duration = Duration::from_secs(5);

/// A host ready to serve: the engine, the loaded plugins and the store.
pub struct Host {
    pub state: AppState,
    pub store: Store,
    pub runtime: PluginRuntime,
    worker_config: WorkerConfig,
}

impl Host {
    /// Opens the store, compiles every plugin and resolves every account.
    /// Fails with an error that names the plugin or account at fault.
    pub fn build(config: &Config) -> anyhow::Result<Host> {
        Host::build_with_fake(config, None)
    }

    /// Like [`Host::build`]; with `fake`, every follower interaction is
    /// also reported to that in-process fake of WeChat.
    pub fn build_with_fake(config: &Config, fake: Option<FakeState>) -> anyhow::Result<Host> {
        let store_path = config.resolve_path(&config.store.path);
        let store = Store::open(&store_path)?;
        let wechat_store = SqliteStore::open(&store_path).with_context(|| {
            format!(
                "failed to open the token and quota tables in {}",
                store_path.display()
            )
        })?;
        let mut apis = AccountApis::build(config, Arc::new(wechat_store))?;
        if let Some(fake) = fake {
            apis = apis.with_mirror(fake);
        }
        let runtime = PluginRuntime::new(RuntimeConfig {
            max_instances: config.runtime.max_instances,
            ..RuntimeConfig::default()
        })
        .context("failed to start the WebAssembly engine")?;

        let mut plugins = Vec::with_capacity(config.plugins.len());
        for plugin_config in &config.plugins {
            let plugin = load_plugin(&runtime, config, plugin_config)?;
            plugins.push(Arc::new(RoutedPlugin {
                plugin,
                rules: RouteRules::from_config(plugin_config),
            }));
        }

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
            let account = Account::from_config(account_config, route)?;
            accounts.insert(account.name.clone(), Arc::new(account));
        }

        let log_ids = match &config.server.log_salt {
            Some(source) => LogIds::new(
                source
                    .resolve()
                    .map_err(anyhow::Error::msg)?
                    .expose()
                    .as_bytes(),
            ),
            None => LogIds::random(),
        };
        let kv: Arc<dyn KvStore> = Arc::new(StoreKv(store.clone()));
        let apis = Arc::new(apis);
        let services = Services::new(store.clone(), apis.clone())
            .context("failed to open the follower ledger and service tables")?;
        let dispatcher = Dispatcher::new(plugins, kv).with_services(Arc::new(services));
        let state = AppState {
            accounts: Arc::new(accounts),
            dispatcher: Arc::new(dispatcher),
            dedupe: Deduplicator::new(store.clone(), config.server.dedupe_ttl_secs)?,
            log_ids,
            reply_budget: Duration::from_millis(config.server.reply_budget_ms),
            max_body_bytes: config.server.max_body_bytes,
            apis,
            outbox: Outbox::new(store.clone()),
            keys: Arc::new(AccessKeys::from_config(config)?),
        };
        Ok(Host {
            state,
            store,
            runtime,
            worker_config: WorkerConfig::from(&config.outbox),
        })
    }

    /// Starts the outbox worker on the current tokio runtime.
    pub fn start_worker(&self) -> WorkerHandle {
        spawn_worker(
            self.state.outbox.clone(),
            self.state.apis.clone(),
            self.worker_config,
        )
    }
}

fn load_plugin(
    runtime: &PluginRuntime,
    config: &Config,
    plugin: &PluginConfig,
) -> anyhow::Result<crate::runtime::Plugin> {
    let path = config.resolve_path(&plugin.path);
    let bytes = std::fs::read(&path).with_context(|| {
        format!(
            "failed to read plugin {} from {}",
            plugin.name,
            path.display()
        )
    })?;
    let defaults = PluginLimits::default();
    let limits = PluginLimits {
        deadline_ms: plugin.limits.deadline_ms.unwrap_or(defaults.deadline_ms),
        max_memory_bytes: plugin
            .limits
            .max_memory_bytes
            .map_or(defaults.max_memory_bytes, |bytes| bytes as usize),
        max_log_bytes_per_call: plugin
            .limits
            .max_log_bytes_per_call
            .map_or(defaults.max_log_bytes_per_call, |bytes| bytes as usize),
        max_directives: plugin
            .limits
            .max_directives
            .map_or(defaults.max_directives, |count| count as usize),
        max_reply_bytes: plugin
            .limits
            .max_reply_bytes
            .map_or(defaults.max_reply_bytes, |bytes| bytes as usize),
    };
    let values: BTreeMap<String, String> = plugin
        .config
        .iter()
        .map(|(key, value)| {
            let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
            (key.clone(), json)
        })
        .collect();
    let settings = PluginSettings {
        limits,
        config: values,
        kv_granted: plugin.capabilities.iter().any(|c| c == "kv"),
        grants: Grants::from_capabilities(&plugin.capabilities),
        fetch: plugin
            .capabilities
            .iter()
            .any(|c| c == "fetch")
            .then(|| plugin.fetch.clone().unwrap_or_default()),
    };
    let loaded = runtime
        .load(&plugin.name, &bytes, settings)
        .with_context(|| {
            format!(
                "failed to load plugin {} from {}",
                plugin.name,
                path.display()
            )
        })?;
    tracing::info!(plugin = %plugin.name, hash = %loaded.content_hash(), "plugin loaded");
    Ok(loaded)
}

/// The plugin key-value store, backed by the host's database.
struct StoreKv(Store);

impl KvStore for StoreKv {
    fn get(&self, account: &str, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0
            .kv_get(account, plugin, key, unix_now())
            .map_err(|err| err.to_string())
    }

    fn set(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<(), String> {
        let expires_at = ttl_seconds.map(|ttl| unix_now() + u64::from(ttl));
        self.0
            .kv_set(account, plugin, key, value, expires_at)
            .map_err(|err| err.to_string())
    }

    fn delete(&self, account: &str, plugin: &str, key: &str) -> Result<(), String> {
        self.0
            .kv_delete(account, plugin, key)
            .map_err(|err| err.to_string())
    }

    fn increment(&self, account: &str, plugin: &str, key: &str, delta: i64) -> Result<i64, String> {
        match self.0.kv_increment(account, plugin, key, delta, unix_now()) {
            Ok(KvUpdate::Value(value)) => Ok(value),
            Ok(KvUpdate::NotAnInteger) => Err(NOT_AN_INTEGER.to_owned()),
            Ok(KvUpdate::Overflow) => Err(OVERFLOW.to_owned()),
            Err(err) => Err(err.to_string()),
        }
    }

    fn set_if_absent(
        &self,
        account: &str,
        plugin: &str,
        key: &str,
        value: &[u8],
        ttl_seconds: Option<u32>,
    ) -> Result<bool, String> {
        let now = unix_now();
        let expires_at = ttl_seconds.map(|ttl| now + u64::from(ttl));
        self.0
            .kv_set_if_absent(account, plugin, key, value, expires_at, now)
            .map_err(|err| err.to_string())
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// Binds the configured address and serves until Ctrl-C or SIGTERM, with
/// the outbox worker and, when configured, the in-process fake of WeChat.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let fake = match &config.fake_wechat {
        Some(section) => Some(start_fake(&config, &section.listen).await?),
        None => None,
    };
    let host = Host::build_with_fake(&config, fake)?;
    let listener = TcpListener::bind(&config.server.listen)
        .await
        .with_context(|| {
            format!(
                "failed to listen on {}; another process may hold the port, so stop it or change server.listen",
                config.server.listen
            )
        })?;
    let address = listener.local_addr()?;
    let worker = host.start_worker();
    tracing::info!(
        %address,
        accounts = host.state.accounts.len(),
        plugins = config.plugins.len(),
        "wxhost listening"
    );
    server::serve(listener, host.state.clone(), shutdown_signal()).await?;
    worker.stop(WORKER_STOP_GRACE).await;
    host.state.dedupe.flush();
    tracing::info!("wxhost stopped");
    Ok(())
}

/// Starts the fake of WeChat on `listen` with the config's accounts and
/// AppSecrets. For demos and tests only.
async fn start_fake(config: &Config, listen: &str) -> anyhow::Result<FakeState> {
    let mut accounts = Vec::new();
    for account in &config.accounts {
        if let Some(source) = &account.app_secret {
            let secret = source.resolve().map_err(anyhow::Error::msg)?;
            accounts.push(FakeAccount {
                appid: account.appid.clone(),
                secret: secret.expose().to_owned(),
            });
        }
    }
    let state = FakeState::new(FakeConfig {
        accounts,
        ..FakeConfig::default()
    });
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen on {listen} for fake_wechat.listen"))?;
    let address = listener.local_addr()?;
    let served = state.clone();
    tokio::spawn(async move {
        if let Err(err) = fake_wechat::serve(listener, served).await {
            tracing::error!(error = %err, "fake WeChat server stopped");
        }
    });
    tracing::warn!(
        base_url = %format!("http://{address}"),
        "fake WeChat API started in process; for demos and tests only"
    );
    Ok(state)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
