//! Running an account's plugin route for one callback.
//!
//! Plugins run one after another on a blocking thread. The first plugin
//! that returns a reply answers; a plugin that returns no reply passes the
//! callback on. A plugin fault (trap, deadline, memory cap, invalid output)
//! ends the route: the callback is answered with `success` and the fault is
//! logged with the plugin's name. The actions of every plugin that ran
//! without a fault are collected in route order for the outbox.

use std::sync::Arc;

use crate::outbox::PluginAction;
use crate::protocol::message::Inbound;
use crate::protocol::reply::Reply;
use crate::routing::RouteRules;
use crate::runtime::{Directive, KvStore, Plugin, PluginFault};
use crate::services::Services;

/// A loaded plugin with the callbacks it receives.
pub struct RoutedPlugin {
    pub plugin: Plugin,
    pub rules: RouteRules,
}

/// The result of running a route.
#[derive(Debug)]
pub enum Outcome {
    /// A plugin returned a reply.
    Reply { plugin: String, reply: Reply },
    /// No plugin in the route returned a reply.
    NoReply,
    /// A plugin failed; the callback gets `success`.
    Fault { plugin: String, fault: PluginFault },
}

/// The result of running a route: its outcome and the actions for the outbox.
#[derive(Debug)]
pub struct RouteRun {
    pub outcome: Outcome,
    /// Actions in route order, each with the plugin that returned it.
    pub actions: Vec<PluginAction>,
}

/// Runs plugin routes against the shared key-value store and host services.
pub struct Dispatcher {
    plugins: Vec<Arc<RoutedPlugin>>,
    kv: Arc<dyn KvStore>,
    services: Arc<Services>,
}

impl Dispatcher {
    /// Creates a dispatcher over `plugins`, indexed by route position,
    /// whose host services are unavailable until [`Dispatcher::with_services`].
    pub fn new(plugins: Vec<Arc<RoutedPlugin>>, kv: Arc<dyn KvStore>) -> Dispatcher {
        Dispatcher {
            plugins,
            kv,
            services: Arc::new(Services::unavailable()),
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
    pub fn plugin(&self, index: usize) -> Option<&Arc<RoutedPlugin>> {
        self.plugins.get(index)
    }

    /// Runs the plugins at `route` (indexes into this dispatcher's list) in
    /// order. Blocks while plugins run, so call it from a blocking thread.
    pub fn run_route(&self, account: &str, route: &[usize], inbound: &Inbound) -> RouteRun {
        let mut actions = Vec::new();
        for routed in route.iter().filter_map(|&index| self.plugins.get(index)) {
            if !routed.rules.accepts(inbound) {
                continue;
            }
            let name = routed.plugin.name().to_owned();
            let directives =
                match routed
                    .plugin
                    .handle_with_services(account, inbound, &self.kv, &self.services)
                {
                    Ok(directives) => directives,
                    Err(fault) => {
                        let outcome = Outcome::Fault {
                            plugin: name,
                            fault,
                        };
                        return RouteRun { outcome, actions };
                    }
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
                let outcome = Outcome::Reply {
                    plugin: name,
                    reply,
                };
                return RouteRun { outcome, actions };
            }
        }
        RouteRun {
            outcome: Outcome::NoReply,
            actions,
        }
    }
}
