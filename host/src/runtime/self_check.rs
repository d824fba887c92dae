//! The optional `self-check` export of the `plugin-checked` world.

use std::sync::Arc;

use wasmtime::component::ComponentExportIndex;

use super::fault::PluginFault;
use super::kv::{KvStore, MemoryKv};
use super::plugin::Plugin;
use crate::services::Services;

/// The name of the export in the component.
pub(crate) const SELF_CHECK_EXPORT: &str = "self-check";

/// The result of a plugin's `self-check` with its configured settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelfCheck {
    /// The component has no `self-check` export, so nothing was checked.
    NotExported,
    /// The plugin accepted its settings.
    Passed,
    /// The plugin rejected its settings with these problems.
    Failed(Vec<String>),
}

/// The export's signature: `func() -> result<_, list<string>>`.
type SelfCheckFunc = wasmtime::component::TypedFunc<(), (Result<(), Vec<String>>,)>;

/// Returns the index of the component's `self-check` export, if any.
pub(crate) fn find_export(
    component: &wasmtime::component::Component,
) -> Option<ComponentExportIndex> {
    component.get_export_index(None, SELF_CHECK_EXPORT)
}

impl Plugin {
    /// Returns true when the component exports `self-check`.
    pub fn has_self_check(&self) -> bool {
        self.self_check_export.is_some()
    }

    /// Runs the plugin's `self-check` in a fresh instance, with the
    /// plugin's config, limits and grants, no account, a scratch `kv` that
    /// is discarded afterwards and no host services.
    ///
    /// Blocks like [`Plugin::handle`]. Fails when the instance traps or
    /// passes its deadline or memory cap. An export of another type than
    /// `func() -> result<_, list<string>>` is reported as a failed check.
    pub fn self_check(&self) -> Result<SelfCheck, PluginFault> {
        let Some(export) = self.self_check_export else {
            return Ok(SelfCheck::NotExported);
        };
        let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new());
        let services = Arc::new(Services::unavailable());
        let (mut store, stderr) = self.new_store("", &kv, &services);
        let instance = match self.pre.instance_pre().instantiate(&mut store) {
            Ok(instance) => instance,
            Err(error) => return Err(self.classify(&error, &store, &stderr, true)),
        };
        let func: SelfCheckFunc = match instance.get_typed_func(&mut store, export) {
            Ok(func) => func,
            Err(error) => {
                return Ok(SelfCheck::Failed(vec![format!(
                    "the `{SELF_CHECK_EXPORT}` export has the wrong type ({error}); \
                     export `self-check: func() -> result<_, list<string>>` as the \
                     `plugin-checked` world in wit/ declares it"
                )]));
            }
        };
        match func.call(&mut store, ()) {
            Ok((Ok(()),)) => Ok(SelfCheck::Passed),
            Ok((Err(problems),)) => Ok(SelfCheck::Failed(problems)),
            Err(error) => Err(self.classify(&error, &store, &stderr, false)),
        }
    }
}
