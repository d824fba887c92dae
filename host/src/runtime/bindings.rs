//! Host-side bindings for the `plugin` world in `wit/`.
//!
//! The only `bindgen!` call in the host. Imports and exports are
//! synchronous: the host calls a plugin from a blocking thread, and sync
//! calls cost less per call than async ones with wasmtime 48.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});
