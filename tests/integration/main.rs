//! End-to-end tests of wxhost over real HTTP on 127.0.0.1 with real
//! plugin components.

/// The keyword plugin's groups through the server.
mod keyword_groups;
/// The keyword plugin's replies for configured phrases.
mod keyword_plugin;
/// Menu events and `menu push`.
mod menu;
/// Fresh instances, kv grants, the log cap and the deny-all WASI context.
mod runtime_isolation;
/// Deadline, memory, trap and output limits, in obeyed/violated pairs.
mod runtime_limits;
/// Shared runtime, plugin loading and event builders.
mod runtime_support;
/// The Python plugin built with componentize-py.
mod sdk_python;

/// URL verification, the three protection modes and replies over HTTP.
mod callback;
/// WeChat's retries run a plugin once.
mod dedupe;
/// Trapping, looping and memory-hungry plugins.
mod faults;
/// Awkward but valid callback XML through the server.
mod parsing;
/// `wxhost plugin new`, `check` and `run`.
mod plugin_cli;
/// No secrets or personal data in logs.
mod privacy;
/// Config problems found by the plugins' `self-check` export.
mod self_check;
/// A host on an ephemeral port and a client that plays WeChat.
mod support;

/// Plugins compiled in a `compile-plugin` child process.
mod child_compile;
/// Plugin files and the config replaced while callbacks flow.
mod hot_reload;
/// Admin calls, configs and plugin files for the lifecycle tests.
mod lifecycle_support;
/// Canary, shadow, rollback, breaker, failure policy and replay.
mod versions;

/// The internal access token endpoint and the admin endpoints.
mod internal_api;
/// Plugin actions delivered through the outbox, and late replies.
mod outbox;
/// A host wired to a fake of WeChat for the outbox tests.
mod outbox_support;
/// The Q&A bridge against the demo Q&A service, and fetch refusals.
mod qa_bridge;

/// Typed API calls, errcode mapping and retries.
mod wechat_api;
/// Local quotas and customer-service windows.
mod wechat_quota;
/// A fake WeChat API server and a client for the connector tests.
mod wechat_support;
/// Token broker: refresh rules, stable_token, sharing between processes.
mod wechat_token;

/// The follower ledger, QR code, media and kv imports.
mod host_services;
/// Invite codes and exactly-once inviter credit.
mod referral_plugin;
/// A host with the welcome, referral and services-probe plugins.
mod services_support;
/// First-time and returning followers, QR channels and channel counts.
mod welcome_plugin;
