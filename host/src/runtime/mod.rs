//! Runs scenario plugins as sandboxed WebAssembly components.
//!
//! A plugin is a component of the `plugin` world in `wit/`. The host creates
//! one [`PluginRuntime`] per process, loads each plugin once with
//! [`PluginRuntime::load`], and calls [`Plugin::handle`] for each callback.
//! Every call gets a fresh store and instance, so no state survives between
//! calls except what the plugin writes to [`KvStore`]. Each call runs under
//! the plugin's [`PluginLimits`]: a wall-clock deadline, a memory cap, and
//! caps on log bytes, directives and reply size. WASI imports are linked to a
//! context that grants nothing, and the `wasi` module docs list what a guest
//! receives from it.
//!
//! This is the only module that names wasmtime types.

mod artifact;
mod bindings;
mod compile;
mod compile_child;
mod convert;
mod engine;
mod fault;
mod fetch_api;
mod host_api;
mod inspect;
mod kv;
mod plugin;
mod reuse;
mod self_check;
mod services_api;
mod stderr;
mod store;
mod usage;
mod wasi;

use crate::protocol::reply::Reply;

pub use artifact::{ArtifactCache, DEFAULT_COMPILE_TIMEOUT, LoadSource};
pub use compile_child::{COMPILE_SUBCOMMAND, enable_child_compilation};
pub use engine::{
    DEFAULT_EPOCH_TICK_MS, DEFAULT_MAX_INSTANCES, DEFAULT_MAX_MEMORY_BYTES, PluginRuntime,
    PoolTuning, RuntimeConfig, precompile_component,
};
pub use fault::PluginFault;
pub use host_api::PLUGIN_LOG_TARGET;
pub use inspect::ComponentInfo;
pub use kv::{KvStore, MAX_KEY_BYTES, MAX_VALUE_BYTES, MemoryKv, NOT_AN_INTEGER, OVERFLOW};
pub use plugin::{
    DEFAULT_DEADLINE_MS, DEFAULT_MAX_DIRECTIVES, DEFAULT_MAX_LOG_BYTES_PER_CALL,
    DEFAULT_MAX_REPLY_BYTES, Plugin, PluginLimits, PluginSettings,
};
#[doc(hidden)]
pub use reuse::ReusedInstance;
pub use self_check::SelfCheck;
pub use usage::CallUsage;

/// A plugin's instruction to the host for one callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Directive {
    /// Reply to the callback with this passive reply.
    Reply(Reply),
    /// Pass the callback to the next plugin in the route.
    NoReply,
    /// Send this to the follower through WeChat's API, via the outbox.
    Action(crate::outbox::Action),
    /// Send this to another follower of the account, via the outbox.
    ActionTo {
        openid: String,
        action: crate::outbox::Action,
    },
}

/// A failure to set up the runtime or to load a plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runtime configuration is invalid.
    #[error("invalid plugin runtime config: {0}")]
    Config(String),
    /// wasmtime rejected the engine configuration or the host imports.
    #[error("failed to create the wasm engine")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The plugin's limits do not fit the runtime.
    #[error("invalid limits for plugin {name}: {reason}")]
    Limits { name: String, reason: String },
    /// The plugin's fetch policy cannot be set up.
    #[error("invalid fetch settings for plugin {name}: {reason}")]
    Fetch { name: String, reason: String },
    /// The bytes are not a valid component for this engine.
    #[error("failed to compile plugin {name}")]
    Compile {
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The compiler process ran longer than the artifact cache's compile
    /// timeout and was killed.
    #[error(
        "failed to compile plugin {name}: the compiler process timed out after {} and was killed; raise reload.compile_timeout_secs if the component is large or the machine is busy",
        compile_child::format_timeout(.timeout)
    )]
    CompileTimeout {
        name: String,
        timeout: std::time::Duration,
    },
    /// The bytes given to [`precompile_component`] are not a valid
    /// component for the engine.
    #[error("the component does not compile")]
    Precompile(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The component imports something the host does not provide.
    #[error("failed to link plugin {name}: it imports something the host does not provide")]
    Link {
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The component does not export the `plugin` world's `handle`.
    #[error(
        "plugin {name} does not export the wxhost:plugin/plugin world (expected `handle: func(event) -> list<directive>`)"
    )]
    MissingExport {
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    fn engine(error: wasmtime::Error) -> Self {
        Self::Engine(error.into())
    }
}
