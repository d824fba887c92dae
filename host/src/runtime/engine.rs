//! The process-wide wasmtime engine, its epoch ticker and plugin loading.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::Error;
use super::bindings;
use super::plugin::{Plugin, PluginSettings, PluginShared};
use super::store::{CallCtx, HostImports};
use super::wasi;
use crate::services::fetch::FetchService;

/// Default [`RuntimeConfig::max_instances`].
pub const DEFAULT_MAX_INSTANCES: u32 = 64;
/// Default [`RuntimeConfig::max_memory_bytes`]: 64 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 64 * 1024 * 1024;
/// Default [`RuntimeConfig::epoch_tick_ms`].
pub const DEFAULT_EPOCH_TICK_MS: u64 = 5;

/// Core wasm instances, memories and tables that one plugin instance may
/// use. A Rust `wasm32-wasip2` component has a main module plus the small
/// shim modules that `wasm-component-ld` adds: 3 to 4 core instances, one
/// memory and up to 2 tables. A componentize-py 0.25 component links
/// CPython and its libraries as separate modules, and with `--stub-wasi`
/// one stub module per WASI interface: 38 core instances, one memory.
// NOTE: a component past these caps fails to compile in `PluginRuntime::load`.
// Core instance slots reserve no memory up front, unlike memory slots.
const CORE_INSTANCES_PER_COMPONENT: u32 = 48;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;

/// Linear memory pages that stay mapped and are reset in place when a pool
/// slot is reused, instead of being unmapped. The runtime uses the
/// `PAGEMAP_SCAN` ioctl (Linux 6.7 and later) where the kernel has it, so
/// only the pages a call dirtied are reset.
const KEEP_RESIDENT_BYTES: usize = 2 * 1024 * 1024;

/// Instance pool settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolTuning {
    /// Right-sized memory reservations, pages kept resident between calls
    /// and batched decommits: the fastest fresh-instance cycle measured.
    Tuned,
    /// wasmtime's default pooling settings, apart from the instance and
    /// memory caps. Kept for comparison in benchmarks.
    WasmtimeDefaults,
}

/// Settings of the process-wide plugin runtime.
///
/// The defaults are:
///
/// - `max_instances`: 64
/// - `max_memory_bytes`: 64 MiB
/// - `epoch_tick_ms`: 5
/// - `pool_tuning`: [`PoolTuning::Tuned`]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Plugin instances alive at once, across all plugins. Each running call
    /// uses one, and a call past the cap fails with
    /// [`PluginFault::Instantiate`](super::PluginFault::Instantiate).
    pub max_instances: u32,
    /// The largest linear memory any plugin may have, in bytes. Every pool
    /// slot reserves this much address space.
    pub max_memory_bytes: usize,
    /// Period of the epoch ticker that enforces deadlines, in milliseconds.
    /// 5 ms keeps the ticker at 200 wake-ups per second, and deadlines of
    /// tens of milliseconds stay within about 10% of their value.
    pub epoch_tick_ms: u64,
    /// Instance pool settings.
    pub pool_tuning: PoolTuning,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_instances: DEFAULT_MAX_INSTANCES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            epoch_tick_ms: DEFAULT_EPOCH_TICK_MS,
            pool_tuning: PoolTuning::Tuned,
        }
    }
}

/// The plugin runtime: one wasmtime engine with its instance pool, the
/// linker holding the host imports, and the epoch ticker thread.
///
/// Create one per process and share it. Loading compiles the component,
/// which takes tens of milliseconds, so load plugins at startup or reload,
/// never on the request path.
pub struct PluginRuntime {
    pub(super) engine: Engine,
    linker: Linker<CallCtx>,
    config: RuntimeConfig,
    ticker: Arc<EpochTicker>,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// Creates the engine, links the host imports and starts the ticker.
    ///
    /// Fails with [`Error::Engine`] when the configuration is invalid (zero
    /// instances, a zero tick) or the pool cannot reserve its memory.
    pub fn new(config: RuntimeConfig) -> Result<Self, Error> {
        if config.max_instances == 0 || config.epoch_tick_ms == 0 {
            return Err(Error::Config(
                "max_instances and epoch_tick_ms must be at least 1".to_owned(),
            ));
        }
        let engine = Engine::new(&engine_config(&config)).map_err(Error::engine)?;

        let mut linker = Linker::new(&engine);
        bindings::Plugin::add_to_linker::<CallCtx, HostImports>(&mut linker, |ctx| &mut ctx.host)
            .map_err(Error::engine)?;
        wasi::add_to_linker(&mut linker).map_err(Error::engine)?;

        let ticker = Arc::new(EpochTicker::start(
            engine.clone(),
            Duration::from_millis(config.epoch_tick_ms),
        )?);
        Ok(Self {
            engine,
            linker,
            config,
            ticker,
        })
    }

    /// Returns the configuration the runtime was created with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Compiles `wasm` as the plugin `name` and links it.
    ///
    /// Fails when the limits exceed the runtime's memory slot, the bytes are
    /// not a valid component, the component imports something the host does
    /// not provide, or it does not export the `plugin` world's `handle`.
    pub fn load(&self, name: &str, wasm: &[u8], settings: PluginSettings) -> Result<Plugin, Error> {
        let component = Component::new(&self.engine, wasm).map_err(|source| Error::Compile {
            name: name.to_owned(),
            source: source.into(),
        });
        release_compile_memory();
        let component = component?;
        self.link(name, component, hex::encode(Sha256::digest(wasm)), settings)
    }

    /// Links a compiled `component` as the plugin `name`. `content_hash`
    /// is the SHA-256 of the `.wasm` bytes it was compiled from, as hex.
    pub(super) fn link(
        &self,
        name: &str,
        component: Component,
        content_hash: String,
        settings: PluginSettings,
    ) -> Result<Plugin, Error> {
        let limits = settings.limits;
        if limits.max_memory_bytes > self.config.max_memory_bytes {
            return Err(Error::Limits {
                name: name.to_owned(),
                reason: format!(
                    "max_memory_bytes {} exceeds the runtime's max_memory_bytes {}",
                    limits.max_memory_bytes, self.config.max_memory_bytes
                ),
            });
        }
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|source| Error::Link {
                name: name.to_owned(),
                source: source.into(),
            })?;
        let pre = bindings::PluginPre::new(pre).map_err(|source| Error::MissingExport {
            name: name.to_owned(),
            source: source.into(),
        })?;

        let fetch = match &settings.fetch {
            Some(policy) => Some(Arc::new(FetchService::new(name, policy).map_err(
                |reason| Error::Fetch {
                    name: name.to_owned(),
                    reason,
                },
            )?)),
            None => None,
        };
        let self_check_export = super::self_check::find_export(&component);
        let deadline_ticks = limits.deadline_ms.div_ceil(self.config.epoch_tick_ms) + 1;
        Ok(Plugin {
            shared: Arc::new(PluginShared {
                name: name.to_owned(),
                config: settings.config,
                kv_granted: settings.kv_granted,
                grants: settings.grants,
                fetch,
                limits,
            }),
            pre,
            self_check_export,
            _component: component,
            content_hash,
            deadline_ticks,
            _ticker: Arc::clone(&self.ticker),
        })
    }
}

/// Compiles `wasm` with an engine configured like the runtime of `config`
/// and returns the serialized component, which
/// [`PluginRuntime::load_cached`] of such a runtime reads back. This is the
/// work of the `wxhost compile-plugin` child process.
///
/// Fails with [`Error::Engine`] when the engine cannot be created and with
/// [`Error::Precompile`] when the bytes are not a valid component.
pub fn precompile_component(config: &RuntimeConfig, wasm: &[u8]) -> Result<Vec<u8>, Error> {
    let engine = Engine::new(&engine_config(config)).map_err(Error::engine)?;
    engine
        .precompile_component(wasm)
        .map_err(|source| Error::Precompile(source.into()))
}

fn engine_config(config: &RuntimeConfig) -> Config {
    let instances = config.max_instances;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(instances * MEMORIES_PER_COMPONENT)
        .total_tables(instances * TABLES_PER_COMPONENT)
        .total_stacks(instances)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memory_size(config.max_memory_bytes);

    let mut engine = Config::new();
    engine.epoch_interruption(true);
    // Compiling on the loading thread lets `release_compile_memory` return
    // what the compiler used: idle compiler threads would keep it.
    engine.parallel_compilation(false);
    if config.pool_tuning == PoolTuning::Tuned {
        // Zero warm slots makes the pool reuse the slots it used before,
        // so the slots that keep pages resident are only as many as the
        // instances alive at once. With wasmtime's default of 100, a
        // 10-minute soak spread calls over every slot and the host's RSS
        // grew by about 40 MiB before it levelled off.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 * 1024)
            .pagemap_scan(Enabled::Auto)
            .decommit_batch_size(16)
            .max_unused_warm_slots(0);
        // A reservation the size of the cap instead of 4 GiB per slot: the
        // compiled code then checks bounds explicitly, which costs little
        // for plugins and keeps the pool's address space small.
        engine
            .memory_reservation(config.max_memory_bytes as u64)
            .memory_guard_size(64 * 1024)
            .memory_reservation_for_growth(0);
    }
    engine.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    engine
}

/// The thread that advances the engine's epoch every tick. It stops when
/// the last owner drops it.
pub(crate) struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine, tick: Duration) -> Result<Self, Error> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wxhost-epoch".to_owned())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .map_err(|error| Error::Config(format!("failed to start the epoch ticker: {error}")))?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread with `Disconnected`.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// Links the mimalloc library into every binary of this crate, also those
// whose allocator is another, so that `mi_collect` resolves.
extern crate mimalloc;

unsafe extern "C" {
    /// mimalloc's `mi_collect`: frees memory that its heaps keep for reuse.
    fn mi_collect(force: bool);
}

/// Returns the memory that compiling a component used to the OS.
///
/// mimalloc (the `wxhost` binary's allocator) keeps the pages a thread
/// freed for that thread's later allocations. Without this, a host that
/// compiled five plugins kept about 90 MiB more resident than one that
/// loaded them from the artifact cache.
pub(super) fn release_compile_memory() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any
    // thread at any time. The mimalloc library is linked into every build
    // of this crate (it is a dependency), also where it is not the global
    // allocator; there it only collects its own empty heaps.
    unsafe { mi_collect(true) }
}
