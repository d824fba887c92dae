//! Assembling a running host from a validated [`Config`].
//!
//! One SQLite file contains everything: the host's tables ([`Store`]) and
//! the token and quota tables of the WeChat connector ([`SqliteStore`]),
//! all through the store's one connection.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::apis::AccountApis;
use crate::config::Config;
use crate::dedupe::Deduplicator;
use crate::fake_wechat::{self, FakeAccount, FakeConfig, FakeState};
use crate::lifecycle::{Lifecycle, Loader, Metrics, spawn_sighup, spawn_watcher};
use crate::logging::LogIds;
use crate::outbox::{Outbox, WorkerConfig, WorkerHandle, spawn_worker};
use crate::runtime::{
    ArtifactCache, KvStore, NOT_AN_INTEGER, OVERFLOW, PluginRuntime, RuntimeConfig,
};
use crate::server::{self, AppState};
use crate::services::Services;
use crate::store::{KvUpdate, Store};
use crate::wechat::SqliteStore;

/// How long a stopping host waits for the delivery in progress.
const WORKER_STOP_GRACE: Duration = Duration::from_secs(5);

/// A host ready to serve: the engine, the loaded plugins and the store.
pub struct Host {
    pub state: AppState,
    pub store: Store,
    pub runtime: Arc<PluginRuntime>,
    worker_config: WorkerConfig,
}

impl Host {
    /// Opens the store, compiles every plugin and resolves every account.
    /// Fails with an error that names the plugin or account at fault.
    pub fn build(config: &Config) -> anyhow::Result<Host> {
        Host::build_with(config, None, None)
    }

    /// Like [`Host::build`]; with `fake`, every follower interaction is
    /// also reported to that in-process fake of WeChat.
    pub fn build_with_fake(config: &Config, fake: Option<FakeState>) -> anyhow::Result<Host> {
        Host::build_with(config, None, fake)
    }

    /// Like [`Host::build_with_fake`]; `config_path` is the file that
    /// config reloads read again (without it, they fail).
    pub fn build_with(
        config: &Config,
        config_path: Option<PathBuf>,
        fake: Option<FakeState>,
    ) -> anyhow::Result<Host> {
        let store_path = config.resolve_path(&config.store.path);
        let store = Store::open(&store_path)?;
        let wechat_store = SqliteStore::on(store.clone()).with_context(|| {
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
        let runtime = Arc::new(runtime);

        let artifact_dir = config.artifact_dir();
        let compile_timeout = Duration::from_secs(config.reload.compile_timeout_secs);
        let cache = match ArtifactCache::open(&artifact_dir) {
            Ok(cache) => Some(cache.with_compile_timeout(compile_timeout)),
            Err(err) => {
                tracing::warn!(
                    dir = %artifact_dir.display(),
                    error = %err,
                    "failed to open the artifact cache; plugins compile at every load"
                );
                None
            }
        };
        let apis = Arc::new(apis);
        let services = Services::new(store.clone(), apis.clone())
            .context("failed to open the follower ledger and service tables")?;
        let loader = Loader {
            runtime: runtime.clone(),
            cache,
            metrics: Arc::new(Metrics::default()),
            services: Arc::new(services),
        };
        let kv: Arc<dyn KvStore> = Arc::new(StoreKv(store.clone()));
        let lifecycle = Lifecycle::build(config.clone(), config_path, loader, kv)
            .map_err(|problems| anyhow::anyhow!(problems.join("\n")))?;

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
        let state = AppState {
            lifecycle: Arc::new(lifecycle),
            dedupe: Deduplicator::new(store.clone(), config.server.dedupe_ttl_secs)?,
            log_ids,
            max_body_bytes: config.server.max_body_bytes,
            apis,
            outbox: Outbox::new(store.clone()),
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

    /// Starts the plugin file watcher and the SIGHUP handler on the
    /// current tokio runtime. Both stop when the host is dropped.
    pub fn start_reloading(&self) -> tokio::task::JoinHandle<()> {
        spawn_sighup(&self.state.lifecycle);
        spawn_watcher(&self.state.lifecycle)
    }
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
    serve_reloadable(config, None).await
}

/// Like [`serve`]; `config_path` is the file that SIGHUP and
/// `POST /admin/config/reload` read again.
pub async fn serve_reloadable(config: Config, config_path: Option<PathBuf>) -> anyhow::Result<()> {
    let fake = match &config.fake_wechat {
        Some(section) => Some(start_fake(&config, &section.listen).await?),
        None => None,
    };
    let host = Host::build_with(&config, config_path, fake)?;
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
    let watcher = host.start_reloading();
    tracing::info!(
        %address,
        accounts = config.accounts.len(),
        plugins = config.plugins.len(),
        "wxhost listening"
    );
    server::serve(listener, host.state.clone(), shutdown_signal()).await?;
    watcher.abort();
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
