//! Running an account's plugin route for one callback.
//!
//! Plugins run one after another on a blocking thread. The first plugin
//! that returns a reply answers; a plugin that returns no reply passes the
//! callback on. The actions of every plugin that ran without a fault are
//! collected in route order for the outbox.
//!
//! For each plugin the route takes one snapshot of its versions, so a
//! reload during the call does not change the version that runs. A
//! follower in the canary's share gets the canary version; everyone else
//! gets the live version, and its shadow version (if any) runs beside it
//! without effect. A fault (trap, deadline, memory cap, invalid output),
//! or a breaker that is open, applies the plugin's failure policy:
//! `success` ends the route with `success`, `fallback` ends it with the
//! plugin's fallback text, `next` passes the callback on.

use std::sync::Arc;
use std::time::Duration;

use crate::config::FailurePolicy;
use crate::lifecycle::{Admission, Metrics, PluginEntry, Role, ShadowRun, canary, directive_lines};
use crate::outbox::PluginAction;
use crate::protocol::message::Inbound;
use crate::protocol::reply::Reply;
use crate::runtime::{Directive, KvStore, PluginFault};
use crate::services::Services;

/// The result of running a route.
#[derive(Debug)]
pub enum Outcome {
    /// A plugin returned a reply, or faulted with `on_fault = "fallback"`.
    Reply { plugin: String, reply: Reply },
    /// No plugin in the route returned a reply.
    NoReply,
    /// A plugin failed under `on_fault = "success"`; the callback gets `success`.
    Fault { plugin: String, fault: PluginFault },
    /// A plugin's breaker is open under `on_fault = "success"`; the
    /// callback gets `success`.
    Skipped { plugin: String },
}

/// One plugin call of a route, for recordings.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginCall {
    pub plugin: String,
    /// SHA-256 of the version that ran.
    pub version: String,
    pub role: Role,
    /// Directive lines, or the fault's message.
    pub result: Result<Vec<String>, String>,
}

/// The result of running a route: its outcome and the actions for the outbox.
#[derive(Debug)]
pub struct RouteRun {
    pub outcome: Outcome,
    /// Actions in route order, each with the plugin that returned it.
    pub actions: Vec<PluginAction>,
    /// Each plugin call, when the dispatcher records them.
    pub calls: Vec<PluginCall>,
}

/// Runs plugin routes against the shared key-value store and host services.
pub struct Dispatcher {
    plugins: Vec<Arc<PluginEntry>>,
    kv: Arc<dyn KvStore>,
    services: Arc<Services>,
    metrics: Arc<Metrics>,
    record_calls: bool,
}

/// The end of one plugin's turn in a route.
enum Turn {
    Directives(Vec<Directive>),
    Fault(PluginFault),
    Skipped,
}

impl Dispatcher {
    /// Creates a dispatcher over `plugins`, indexed by route position,
    /// whose host services are unavailable until [`Dispatcher::with_services`].
    /// With `record_calls`, each [`RouteRun`] lists the plugin calls.
    pub fn new(
        plugins: Vec<Arc<PluginEntry>>,
        kv: Arc<dyn KvStore>,
        metrics: Arc<Metrics>,
        record_calls: bool,
    ) -> Dispatcher {
        Dispatcher {
            plugins,
            kv,
            services: Arc::new(Services::unavailable()),
            metrics,
            record_calls,
        }
    }

    /// Gives the plugins these host services.
    pub fn with_services(mut self, services: Arc<Services>) -> Dispatcher {
        self.services = services;
        self
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Returns the plugin at `index`.
    pub fn plugin(&self, index: usize) -> Option<&Arc<PluginEntry>> {
        self.plugins.get(index)
    }

    /// Returns every plugin, in config order.
    pub fn plugins(&self) -> &[Arc<PluginEntry>] {
        &self.plugins
    }

    /// Returns the longest time that running `route` for `inbound` can
    /// take: the sum of the deadlines of the plugins that accept it (the
    /// canary's when it is longer). Returns `None` when one of them holds a
    /// capability that waits on the network (`fetch`, `qrcode`, `media`),
    /// because the deadline does not bound a WeChat or fetch call.
    ///
    /// NOTE: `kv` and `followers` calls are SQLite operations on the
    /// host's file. They count against the deadline but can outlast it
    /// when another process holds the database lock (up to the store's
    /// 5 s busy timeout).
    pub fn bounded_run_time(&self, route: &[usize], inbound: &Inbound) -> Option<Duration> {
        let mut bound = Duration::ZERO;
        for entry in route.iter().filter_map(|&index| self.plugins.get(index)) {
            if !entry.rules.accepts(inbound) {
                continue;
            }
            let waits_on_network = entry
                .config
                .capabilities
                .iter()
                .any(|capability| NETWORK_CAPABILITIES.contains(&capability.as_str()));
            if waits_on_network {
                return None;
            }
            let versions = entry.versions();
            let deadline_ms = [Some(&versions.live), versions.canary.as_ref()]
                .into_iter()
                .flatten()
                .map(|version| version.plugin.limits().deadline_ms)
                .max()
                .unwrap_or(0);
            bound += Duration::from_millis(deadline_ms);
        }
        Some(bound)
    }

    /// Runs the plugins at `route` (indexes into this dispatcher's list) in
    /// order. Blocks while plugins run, so call it from a blocking thread.
    pub fn run_route(&self, account: &str, route: &[usize], inbound: &Arc<Inbound>) -> RouteRun {
        let mut actions = Vec::new();
        let mut calls = Vec::new();
        let finish = |outcome, actions, calls| RouteRun {
            outcome,
            actions,
            calls,
        };
        for entry in route.iter().filter_map(|&index| self.plugins.get(index)) {
            if !entry.rules.accepts(inbound) {
                continue;
            }
            let name = entry.name.clone();
            let directives = match self.take_turn(entry, account, inbound, &mut calls) {
                Turn::Directives(directives) => directives,
                Turn::Fault(fault) => match entry.policy() {
                    FailurePolicy::Success => {
                        return finish(
                            Outcome::Fault {
                                plugin: name,
                                fault,
                            },
                            actions,
                            calls,
                        );
                    }
                    policy => {
                        tracing::warn!(
                            account = %account,
                            plugin = %name,
                            fault = %fault,
                            policy = ?policy,
                            "plugin fault; applying its failure policy"
                        );
                        match fallback(entry) {
                            Some(reply) => {
                                let outcome = Outcome::Reply {
                                    plugin: name,
                                    reply,
                                };
                                return finish(outcome, actions, calls);
                            }
                            None => continue,
                        }
                    }
                },
                Turn::Skipped => match entry.policy() {
                    FailurePolicy::Success => {
                        return finish(Outcome::Skipped { plugin: name }, actions, calls);
                    }
                    _ => match fallback(entry) {
                        Some(reply) => {
                            let outcome = Outcome::Reply {
                                plugin: name,
                                reply,
                            };
                            return finish(outcome, actions, calls);
                        }
                        None => continue,
                    },
                },
            };
            tracing::debug!(plugin = %name, directives = directives.len(), "plugin returned");
            let mut reply = None;
            for (position, directive) in directives.into_iter().enumerate() {
                match directive {
                    Directive::Reply(found) => reply = reply.or(Some(found)),
                    Directive::NoReply => {}
                    Directive::Action(action) => actions.push(PluginAction {
                        plugin: name.clone(),
                        slot: position.to_string(),
                        to: None,
                        action,
                    }),
                    Directive::ActionTo { openid, action } => actions.push(PluginAction {
                        plugin: name.clone(),
                        slot: position.to_string(),
                        to: Some(openid),
                        action,
                    }),
                }
            }
            if let Some(reply) = reply {
                return finish(
                    Outcome::Reply {
                        plugin: name,
                        reply,
                    },
                    actions,
                    calls,
                );
            }
        }
        finish(Outcome::NoReply, actions, calls)
    }

    /// Runs one plugin: its canary for followers in the canary's share,
    /// else its live version (when the breaker admits it) and its shadow.
    fn take_turn(
        &self,
        entry: &PluginEntry,
        account: &str,
        inbound: &Arc<Inbound>,
        calls: &mut Vec<PluginCall>,
    ) -> Turn {
        let versions = entry.versions();
        if let (Some(canary), Some(config)) = (&versions.canary, &entry.config.canary)
            && canary::selects(&entry.name, &inbound.from_user, config.percent)
        {
            let result =
                canary
                    .plugin
                    .handle_with_services(account, inbound, &self.kv, &self.services);
            self.count(entry, Role::Canary, &result);
            self.record(
                calls,
                entry,
                canary.plugin.content_hash(),
                Role::Canary,
                &result,
            );
            entry.record_canary(
                canary.plugin.content_hash(),
                result.as_ref().is_err_and(counts_against_plugin),
            );
            return match result {
                Ok(directives) => Turn::Directives(directives),
                Err(fault) => Turn::Fault(fault),
            };
        }

        if entry.admit() == Admission::Skip {
            self.metrics
                .inc("wxhost_plugin_skipped_total", &[("plugin", &entry.name)]);
            tracing::debug!(plugin = %entry.name, "breaker open; plugin skipped");
            return Turn::Skipped;
        }
        let live = &versions.live;
        let result = live
            .plugin
            .handle_with_services(account, inbound, &self.kv, &self.services);
        self.count(entry, Role::Live, &result);
        self.record(
            calls,
            entry,
            live.plugin.content_hash(),
            Role::Live,
            &result,
        );
        entry.record_live(result.as_ref().is_err_and(counts_against_plugin));

        if let Some(shadow) = &versions.shadow {
            ShadowRun {
                shadow: shadow.clone(),
                live_hash: live.plugin.content_hash().to_owned(),
                account: account.to_owned(),
                inbound: inbound.clone(),
                live_lines: result.as_ref().ok().map(|d| directive_lines(d)),
                kv: self.kv.clone(),
                services: Arc::new(self.services.read_only()),
                metrics: self.metrics.clone(),
            }
            .spawn();
        }
        match result {
            Ok(directives) => Turn::Directives(directives),
            Err(fault) => Turn::Fault(fault),
        }
    }

    fn count(&self, entry: &PluginEntry, role: Role, result: &Result<Vec<Directive>, PluginFault>) {
        let outcome = if result.is_ok() { "ok" } else { "fault" };
        let labels = [
            ("plugin", entry.name.as_str()),
            ("role", role.as_str()),
            ("result", outcome),
        ];
        self.metrics.inc("wxhost_plugin_calls_total", &labels);
        if let Err(fault) = result {
            let labels = [
                ("plugin", entry.name.as_str()),
                ("role", role.as_str()),
                ("kind", fault_kind(fault)),
            ];
            self.metrics.inc("wxhost_plugin_faults_total", &labels);
        }
    }

    fn record(
        &self,
        calls: &mut Vec<PluginCall>,
        entry: &PluginEntry,
        version: &str,
        role: Role,
        result: &Result<Vec<Directive>, PluginFault>,
    ) {
        if !self.record_calls {
            return;
        }
        calls.push(PluginCall {
            plugin: entry.name.clone(),
            version: version.to_owned(),
            role,
            result: match result {
                Ok(directives) => Ok(directive_lines(directives)),
                Err(fault) => Err(fault.to_string()),
            },
        });
    }
}

/// Capabilities whose calls wait on WeChat's API or on a fetched URL.
const NETWORK_CAPABILITIES: &[&str] = &["fetch", "qrcode", "media"];

/// Returns the fallback reply of a plugin under `on_fault = "fallback"`.
fn fallback(entry: &PluginEntry) -> Option<Reply> {
    match entry.policy() {
        FailurePolicy::Fallback => entry
            .config
            .fallback_reply
            .as_ref()
            .map(|text| Reply::Text(text.clone())),
        _ => None,
    }
}

/// Returns whether a fault counts against the plugin in its breaker and
/// canary statistics. A full instance pool is the host's limit, not the
/// plugin's failure, so it does not count.
fn counts_against_plugin(fault: &PluginFault) -> bool {
    !matches!(fault, PluginFault::Instantiate { .. })
}

/// Returns the `kind` label of a fault.
pub fn fault_kind(fault: &PluginFault) -> &'static str {
    match fault {
        PluginFault::Trap { .. } => "trap",
        PluginFault::DeadlineExceeded { .. } => "deadline",
        PluginFault::MemoryLimit { .. } => "memory",
        PluginFault::TooManyDirectives { .. } => "too_many_directives",
        PluginFault::InvalidOutput { .. } => "invalid_output",
        PluginFault::Instantiate { .. } => "instantiate",
    }
}
