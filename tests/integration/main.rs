//! Integration tests that run real plugin components.

/// Shared runtime, plugin loading and event builders.
mod runtime_support;

/// The keyword plugin's replies for configured phrases.
mod keyword_plugin;

/// Deadline, memory, trap and output limits, in obeyed/violated pairs.
mod runtime_limits;

/// Fresh instances, kv grants, the log cap and the deny-all WASI context.
mod runtime_isolation;
mod callback; // URL verification, protection modes and replies over HTTP
mod dedupe; // WeChat's retries run a plugin once
mod faults; // trapping, looping and memory-hungry plugins
mod parsing; // awkward but valid callback XML through the server
mod privacy; // no secrets or personal data in logs
mod support;
