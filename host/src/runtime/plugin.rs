//! A compiled plugin and the per-call sandbox it runs in.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::Store;
use wasmtime::component::{Component, ResourceTable};

use crate::config::FetchConfig;
use crate::protocol::message::Inbound;
use crate::services::fetch::FetchService;

use super::Directive;
use super::bindings;
use super::convert;
use super::engine::EpochTicker;
use super::fault::{self, FailedCall, PluginFault};
use super::host_api::HostCtx;
use super::kv::KvStore;
use super::stderr::CappedPipe;
use super::store::{CallCtx, MemoryCap};
use super::usage::{self, CallUsage};
use super::wasi::{self, STDERR_CAPTURE_BYTES, WasiState};
use crate::services::{Grants, Services};

/// Default [`PluginLimits::deadline_ms`]: 100 ms. A keyword plugin returns in
/// tens of microseconds, and WeChat waits 5 s for the whole HTTP response.
pub const DEFAULT_DEADLINE_MS: u64 = 100;
/// Default [`PluginLimits::max_memory_bytes`]: 32 MiB.
pub const DEFAULT_MAX_MEMORY_BYTES: usize = 32 * 1024 * 1024;
/// Default [`PluginLimits::max_log_bytes_per_call`]: 4096 bytes.
pub const DEFAULT_MAX_LOG_BYTES_PER_CALL: usize = 4096;
/// Default [`PluginLimits::max_directives`]: 8.
pub const DEFAULT_MAX_DIRECTIVES: usize = 8;
/// Default [`PluginLimits::max_reply_bytes`]: 16 KiB.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 16 * 1024;

/// Per-call limits of a plugin.
///
/// The defaults are:
///
/// - `deadline_ms`: 100
/// - `max_memory_bytes`: 32 MiB
/// - `max_log_bytes_per_call`: 4096
/// - `max_directives`: 8
/// - `max_reply_bytes`: 16 KiB
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginLimits {
    /// Wall-clock time for one call, including instantiation and host
    /// imports, in milliseconds. The runtime checks it only while guest code
    /// runs, at the granularity of [`RuntimeConfig::epoch_tick_ms`]: a call
    /// stops between `deadline_ms` and `deadline_ms` plus two ticks.
    ///
    /// [`RuntimeConfig::epoch_tick_ms`]: super::RuntimeConfig::epoch_tick_ms
    pub deadline_ms: u64,
    /// Linear memory of one instance, in bytes. At most the runtime's
    /// [`RuntimeConfig::max_memory_bytes`](super::RuntimeConfig::max_memory_bytes).
    pub max_memory_bytes: usize,
    /// Bytes of `log::write` messages plus field keys and values per call.
    /// Records past the cap are dropped and counted.
    pub max_log_bytes_per_call: usize,
    /// Directives one call may return.
    pub max_directives: usize,
    /// Text bytes of one reply: the sum of all strings it carries.
    pub max_reply_bytes: usize,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            deadline_ms: DEFAULT_DEADLINE_MS,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            max_log_bytes_per_call: DEFAULT_MAX_LOG_BYTES_PER_CALL,
            max_directives: DEFAULT_MAX_DIRECTIVES,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }
}

/// Host configuration of one plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSettings {
    pub limits: PluginLimits,
    /// The values `config::get` returns, as JSON text.
    pub config: BTreeMap<String, String>,
    /// Whether the plugin may use `kv`. Without it every `kv` call returns
    /// `not-permitted`.
    pub kv_granted: bool,
    /// The host services the plugin may use. Every call of a service it
    /// was not granted returns `not-permitted`.
    pub grants: Grants,
    /// The plugin's fetch policy when it has the `fetch` capability.
    /// Without it every `fetch` call returns `not-permitted`.
    pub fetch: Option<FetchConfig>,
}

/// The parts of a plugin that every call reads.
#[derive(Debug)]
pub(crate) struct PluginShared {
    pub(crate) name: String,
    pub(crate) config: BTreeMap<String, String>,
    pub(crate) kv_granted: bool,
    pub(crate) grants: Grants,
    pub(crate) fetch: Option<Arc<FetchService>>,
    pub(crate) limits: PluginLimits,
}

/// A compiled, linked plugin, ready to handle calls. Cheap to share behind
/// an `Arc`; each call runs in its own store and instance.
pub struct Plugin {
    pub(crate) shared: Arc<PluginShared>,
    pub(crate) pre: bindings::PluginPre<CallCtx>,
    /// The `self-check` export, when the component has one.
    pub(crate) self_check_export: Option<wasmtime::component::ComponentExportIndex>,
    /// Keeps the compiled code alive for as long as the plugin.
    pub(crate) _component: Component,
    pub(crate) content_hash: String,
    pub(crate) deadline_ticks: u64,
    /// Keeps the epoch ticker running while any plugin is alive.
    pub(crate) _ticker: Arc<EpochTicker>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.shared.name)
            .field("content_hash", &self.content_hash)
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Returns the plugin's name from the host config.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Returns the SHA-256 of the `.wasm` bytes, as lowercase hex.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// Returns the limits every call runs under.
    pub fn limits(&self) -> &PluginLimits {
        &self.shared.limits
    }

    /// Runs the plugin's `handle` for `event`, received by `account`, in a
    /// fresh instance, and returns its directives.
    ///
    /// Blocks the calling thread until the plugin returns, traps or passes
    /// its deadline. Call it from a blocking thread, not from an async task.
    /// `kv` backs the plugin's `kv` import, namespaced by `account` and the
    /// plugin's name. Logs nothing about the fault itself: the caller does.
    pub fn handle(
        &self,
        account: &str,
        event: &Inbound,
        kv: &Arc<dyn KvStore>,
    ) -> Result<Vec<Directive>, PluginFault> {
        self.handle_with_services(account, event, kv, &Arc::new(Services::unavailable()))
    }

    /// Like [`Plugin::handle`], with `services` behind the `followers`,
    /// `qrcode` and `media` imports. A call of a service blocks the
    /// plugin, and its time counts against the deadline, which the
    /// runtime checks when guest code runs again.
    pub fn handle_with_services(
        &self,
        account: &str,
        event: &Inbound,
        kv: &Arc<dyn KvStore>,
        services: &Arc<Services>,
    ) -> Result<Vec<Directive>, PluginFault> {
        self.run_call(account, event, kv, services).0
    }

    /// Runs [`Plugin::handle`] and also returns what the call used of its
    /// limits, for `wxhost plugin run` and for tests.
    pub fn handle_with_usage(
        &self,
        account: &str,
        event: &Inbound,
        kv: &Arc<dyn KvStore>,
    ) -> (Result<Vec<Directive>, PluginFault>, CallUsage) {
        self.run_call(account, event, kv, &Arc::new(Services::unavailable()))
    }

    fn run_call(
        &self,
        account: &str,
        event: &Inbound,
        kv: &Arc<dyn KvStore>,
        services: &Arc<Services>,
    ) -> (Result<Vec<Directive>, PluginFault>, CallUsage) {
        let started = Instant::now();
        let limits = &self.shared.limits;
        let (mut store, stderr) = self.new_store(account, kv, services);

        let wit_event = convert::event_to_wit(account, event);
        let mut instantiating = true;
        let result = self.pre.instantiate(&mut store).and_then(|instance| {
            instantiating = false;
            instance.call_handle(&mut store, &wit_event)
        });

        let elapsed = started.elapsed();

        let dropped = store.data().host.log_dropped();
        if dropped > 0 {
            tracing::warn!(
                plugin = %self.shared.name,
                dropped,
                cap_bytes = limits.max_log_bytes_per_call,
                "plugin log records dropped past the per-call cap"
            );
        }

        let mut usage = CallUsage::measure(elapsed, store.data());
        let outcome = match result {
            Ok(directives) => {
                usage.directives = Some(directives.len());
                self.check_output(directives)
            }
            Err(error) => Err(self.classify(&error, &store, &stderr, instantiating)),
        };
        if let Ok(directives) = &outcome {
            usage.reply_bytes = Some(usage::reply_bytes(directives));
        }
        (outcome, usage)
    }

    /// Maps a failed instantiation or call to a fault.
    pub(crate) fn classify(
        &self,
        error: &wasmtime::Error,
        store: &Store<CallCtx>,
        stderr: &CappedPipe,
        instantiating: bool,
    ) -> PluginFault {
        let limits = self.limits();
        fault::classify(
            error,
            FailedCall {
                plugin: self.name(),
                deadline_ms: limits.deadline_ms,
                max_memory_bytes: limits.max_memory_bytes,
                memory_refused: store.data().limiter.refused(),
                stderr: stderr.contents(),
                instantiating,
            },
        )
    }

    /// Builds the store for one call: a deny-all WASI context whose stderr
    /// is captured, the host import state, the memory cap and the deadline.
    pub(crate) fn new_store(
        &self,
        account: &str,
        kv: &Arc<dyn KvStore>,
        services: &Arc<Services>,
    ) -> (Store<CallCtx>, CappedPipe) {
        let stderr = CappedPipe::new(STDERR_CAPTURE_BYTES);
        let ctx = CallCtx {
            wasi: WasiState {
                ctx: wasi::deny_all_ctx(stderr.clone()),
                table: ResourceTable::new(),
            },
            host: HostCtx::new(
                Arc::clone(&self.shared),
                account,
                Arc::clone(kv),
                Arc::clone(services),
            ),
            limiter: MemoryCap::new(self.shared.limits.max_memory_bytes),
        };
        let mut store = Store::new(self.pre.engine(), ctx);
        store.limiter(|ctx| &mut ctx.limiter);
        store.set_epoch_deadline(self.deadline_ticks);
        (store, stderr)
    }

    /// Converts the returned directives, enforcing the directive and reply
    /// limits. More than one reply is invalid, because one callback gets one response.
    pub(crate) fn check_output(
        &self,
        directives: Vec<bindings::Directive>,
    ) -> Result<Vec<Directive>, PluginFault> {
        let limits = &self.shared.limits;
        let plugin = || self.shared.name.clone();
        if directives.len() > limits.max_directives {
            return Err(PluginFault::TooManyDirectives {
                plugin: plugin(),
                count: directives.len(),
                max: limits.max_directives,
            });
        }

        let directives: Vec<Directive> = directives
            .into_iter()
            .map(convert::directive_from_wit)
            .collect();
        let mut replies = 0;
        for directive in &directives {
            let Directive::Reply(reply) = directive else {
                continue;
            };
            replies += 1;
            let bytes = convert::reply_text_bytes(reply);
            if bytes > limits.max_reply_bytes {
                return Err(PluginFault::InvalidOutput {
                    plugin: plugin(),
                    reason: format!(
                        "reply of {bytes} text bytes exceeds the limit of {}",
                        limits.max_reply_bytes
                    ),
                });
            }
        }
        if replies > 1 {
            return Err(PluginFault::InvalidOutput {
                plugin: plugin(),
                reason: format!("{replies} reply directives, at most 1 is allowed"),
            });
        }
        Ok(directives)
    }
}
