//! Reading a loaded component's imports and exports without running it.

use super::plugin::Plugin;

/// The names a component imports and exports, as its component type lists
/// them (`wxhost:plugin/log@0.1.0`, `wasi:cli/environment@0.2.6`, `handle`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// Imported instance and function names, in the component's order.
    pub imports: Vec<String>,
    /// Exported names, in the component's order.
    pub exports: Vec<String>,
}

impl ComponentInfo {
    /// Returns the imports from a `wasi:` package.
    pub fn wasi_imports(&self) -> impl Iterator<Item = &str> {
        self.imports
            .iter()
            .map(String::as_str)
            .filter(|name| name.starts_with("wasi:"))
    }
}

impl Plugin {
    /// Returns the names the plugin's component imports and exports.
    pub fn component_info(&self) -> ComponentInfo {
        let engine = self.pre.engine();
        let ty = self._component.component_type();
        let imports = ty
            .imports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let exports = ty
            .exports(engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        ComponentInfo { imports, exports }
    }
}
