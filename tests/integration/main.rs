//! Integration tests that run real plugin components.

/// Shared runtime, plugin loading and event builders.
mod runtime_support;

/// The keyword plugin's replies for configured phrases.
mod keyword_plugin;

/// Deadline, memory, trap and output limits, in obeyed/violated pairs.
mod runtime_limits;

/// Fresh instances, kv grants, the log cap and the deny-all WASI context.
mod runtime_isolation;
