//! Shared helpers for the end-to-end tests (the paths of the plugin
//! components that `build.rs` builds) and the load suite.

/// Absolute paths of the plugin components, built for `wasm32-wasip2` with
/// the `plugin` profile into `<workspace>/target/plugin-build`.
pub mod plugins {
    /// The keyword reply plugin (`plugins/keyword`).
    pub const KEYWORD: &str = env!("PLUGIN_KEYWORD");
    /// The welcome plugin (`plugins/welcome`).
    pub const WELCOME: &str = env!("PLUGIN_WELCOME");
    /// The referral plugin (`plugins/referral`).
    pub const REFERRAL: &str = env!("PLUGIN_REFERRAL");
    /// Calls the host service named by a text command
    /// (`plugins/testing/services-probe`).
    pub const SERVICES_PROBE: &str = env!("PLUGIN_SERVICES_PROBE");
    /// The menu event plugin (`plugins/menu`).
    pub const MENU: &str = env!("PLUGIN_MENU");
    /// The Q&A bridge plugin (`plugins/qa-bridge`).
    pub const QA_BRIDGE: &str = env!("PLUGIN_QA_BRIDGE");
    /// Fetches the URL it receives and replies with the outcome
    /// (`plugins/testing/fetch-probe`).
    pub const FETCH_PROBE: &str = env!("PLUGIN_FETCH_PROBE");
    /// Returns the actions listed in its config `actions`, and a text reply
    /// from config `reply` (`plugins/testing/actions`).
    pub const ACTIONS: &str = env!("PLUGIN_ACTIONS");
    /// Replies with the text or event it received (`plugins/testing/echo`).
    pub const ECHO: &str = env!("PLUGIN_ECHO");
    /// Allocates N MiB for a text N, else 1 MiB chunks until one fails.
    pub const HOG: &str = env!("PLUGIN_HOG");
    /// Counts calls per follower in `kv` and replies `count=N`.
    pub const KV_COUNTER: &str = env!("PLUGIN_KV_COUNTER");
    /// Loops N times for a text N, else until the deadline stops it.
    pub const SPIN: &str = env!("PLUGIN_SPIN");
    /// Panics, or executes `unreachable` with config `mode`.
    pub const TRAP: &str = env!("PLUGIN_TRAP");
    /// Reports what WASI gives a guest.
    pub const WASI_PROBE: &str = env!("PLUGIN_WASI_PROBE");
    /// The Python plugin (`plugins/python-echo`), built with componentize-py.
    pub const PYTHON_ECHO: &str = env!("PLUGIN_PYTHON_ECHO");

    /// Reads a component's bytes, panicking with the path if that fails.
    pub fn read(path: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|error| panic!("failed to read {path}: {error}"))
    }
}

pub mod load;
