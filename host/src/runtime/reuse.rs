//! One instance serving many calls: the baseline that benchmarks compare
//! the fresh-instance cycle against. The host itself never reuses an
//! instance, because state would then leak from one follower to the next.

use std::sync::Arc;

use wasmtime::Store;

use crate::protocol::message::Inbound;

use super::Directive;
use super::bindings;
use super::convert;
use super::fault::PluginFault;
use super::kv::KvStore;
use super::plugin::Plugin;
use super::stderr::CappedPipe;
use super::store::CallCtx;
use crate::services::Services;

/// An instance of a plugin kept alive across calls, for benchmarks only.
///
/// Guest state, the log byte count and the captured stderr carry over from
/// one call to the next. The deadline is re-armed before each call.
#[doc(hidden)]
pub struct ReusedInstance<'a> {
    plugin: &'a Plugin,
    account: String,
    store: Store<CallCtx>,
    stderr: CappedPipe,
    instance: bindings::Plugin,
}

impl Plugin {
    /// Creates one instance that [`ReusedInstance::handle`] calls repeatedly.
    #[doc(hidden)]
    pub fn instantiate_for_reuse(
        &self,
        account: &str,
        kv: &Arc<dyn KvStore>,
    ) -> Result<ReusedInstance<'_>, PluginFault> {
        let (mut store, stderr) = self.new_store(account, kv, &Arc::new(Services::unavailable()));
        match self.pre.instantiate(&mut store) {
            Ok(instance) => Ok(ReusedInstance {
                plugin: self,
                account: account.to_owned(),
                store,
                stderr,
                instance,
            }),
            Err(error) => Err(self.classify(&error, &store, &stderr, true)),
        }
    }
}

impl ReusedInstance<'_> {
    /// Calls `handle` on the kept instance.
    pub fn handle(&mut self, event: &Inbound) -> Result<Vec<Directive>, PluginFault> {
        self.store.set_epoch_deadline(self.plugin.deadline_ticks);
        let wit_event = convert::event_to_wit(&self.account, event);
        match self.instance.call_handle(&mut self.store, &wit_event) {
            Ok(directives) => self.plugin.check_output(directives),
            Err(error) => Err(self
                .plugin
                .classify(&error, &self.store, &self.stderr, false)),
        }
    }
}
