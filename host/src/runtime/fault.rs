//! Faults of plugin calls that produced no usable directives.

use wasmtime::Trap;

/// A failed plugin call. Every variant names the plugin; the caller logs the
/// fault and responds to the callback with `success`.
///
/// `stderr` holds the first bytes (at most 1 KiB) that the guest wrote to
/// stderr during the call, usually a Rust panic message. It is plugin output,
/// so it may contain anything the plugin put in its panic message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginFault {
    /// The guest trapped: a panic, an `unreachable`, an out-of-bounds access,
    /// a host function that refused the call, or a call to `exit`.
    #[error("plugin {plugin} trapped: {message}{}", stderr_suffix(.stderr))]
    Trap {
        plugin: String,
        message: String,
        stderr: String,
    },
    /// The call ran past the plugin's deadline and was interrupted.
    #[error("plugin {plugin} exceeded its deadline of {deadline_ms} ms")]
    DeadlineExceeded { plugin: String, deadline_ms: u64 },
    /// The guest asked for more linear memory than its cap and then trapped.
    #[error("plugin {plugin} exceeded its memory limit of {max_memory_bytes} bytes{}", stderr_suffix(.stderr))]
    MemoryLimit {
        plugin: String,
        max_memory_bytes: usize,
        stderr: String,
    },
    /// The plugin returned more directives than its limit allows.
    #[error("plugin {plugin} returned {count} directives, more than its limit of {max}")]
    TooManyDirectives {
        plugin: String,
        count: usize,
        max: usize,
    },
    /// The plugin returned directives the host cannot use.
    #[error("plugin {plugin} returned invalid output: {reason}")]
    InvalidOutput { plugin: String, reason: String },
    /// The host could not create an instance, for example because every
    /// instance slot of the pool is in use.
    #[error("failed to instantiate plugin {plugin}: {message}")]
    Instantiate { plugin: String, message: String },
}

impl PluginFault {
    /// Returns the name of the plugin that failed.
    pub fn plugin(&self) -> &str {
        match self {
            Self::Trap { plugin, .. }
            | Self::DeadlineExceeded { plugin, .. }
            | Self::MemoryLimit { plugin, .. }
            | Self::TooManyDirectives { plugin, .. }
            | Self::InvalidOutput { plugin, .. }
            | Self::Instantiate { plugin, .. } => plugin,
        }
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(" (stderr: {stderr})")
    }
}

/// Observations about a failed call, for [`classify`].
pub(crate) struct FailedCall<'a> {
    pub(crate) plugin: &'a str,
    pub(crate) deadline_ms: u64,
    pub(crate) max_memory_bytes: usize,
    pub(crate) memory_refused: bool,
    pub(crate) stderr: String,
    pub(crate) instantiating: bool,
}

/// Maps a wasmtime error from instantiation or from `handle` to a fault.
pub(crate) fn classify(error: &wasmtime::Error, call: FailedCall<'_>) -> PluginFault {
    let plugin = call.plugin.to_owned();
    let trap = error.downcast_ref::<Trap>();

    if trap == Some(&Trap::Interrupt) {
        return PluginFault::DeadlineExceeded {
            plugin,
            deadline_ms: call.deadline_ms,
        };
    }
    if call.memory_refused {
        return PluginFault::MemoryLimit {
            plugin,
            max_memory_bytes: call.max_memory_bytes,
            stderr: call.stderr,
        };
    }
    if call.instantiating && trap.is_none() {
        return PluginFault::Instantiate {
            plugin,
            message: error.root_cause().to_string(),
        };
    }
    // The root cause is the trap itself, or the error of the host function
    // that stopped the guest; the outer layers only add a backtrace.
    PluginFault::Trap {
        plugin,
        message: error.root_cause().to_string(),
        stderr: call.stderr,
    }
}
