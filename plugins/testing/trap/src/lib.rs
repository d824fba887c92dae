//! Test plugin that traps. Config `mode`:
//!
//! - `"panic"` (the default) panics with a fixed message;
//! - `"unreachable"` calls `std::process::abort`, which is the `unreachable`
//!   instruction on wasm;
//! - `"exit"` calls `std::process::exit(3)`, which WASI preview 2 reports as
//!   a failure with status 1.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use wxhost::plugin::config;

struct TrapPlugin;

impl Guest for TrapPlugin {
    fn handle(_event: Event) -> Vec<Directive> {
        match config::get("mode").as_deref() {
            Some("\"unreachable\"") => std::process::abort(),
            Some("\"exit\"") => std::process::exit(3),
            _ => panic!("plugin-trap: deliberate panic"),
        }
    }
}

export!(TrapPlugin);
