//! Guest SDK for wxhost plugins.
//!
//! A wxhost plugin is a WebAssembly component for the `wxhost:plugin/plugin`
//! world in the repository's `wit/` directory. This crate generates the
//! bindings of that world once and wraps them, so a plugin implements one
//! trait instead of the generated `Guest` trait:
//!
//! ```no_run
//! use wxhost_plugin::{Event, Plugin, Reply};
//!
//! struct Greeter;
//!
//! impl Plugin for Greeter {
//!     fn reply(event: &Event) -> Option<Reply> {
//!         if event.subscribe_scene().is_some() || event.text_is("hello") {
//!             return Some(Reply::text("Welcome!"));
//!         }
//!         None
//!     }
//! }
//!
//! wxhost_plugin::export_plugin!(Greeter);
//! ```
//!
//! Build the crate as a `cdylib` for `wasm32-wasip2`. The WIT types ([`Event`],
//! [`Reply`], [`Directive`] and the rest) are the generated ones, re-exported
//! with accessor and builder methods added; a new WIT variant therefore
//! appears here without any change to this crate. The [`config`], [`kv`] and
//! [`log`] modules wrap the host imports of the same names.

extern crate self as wxhost_plugin;

pub mod config;
mod event;
pub mod kv;
pub mod log;
mod reply;

/// The bindings that `wit-bindgen` generates for the `plugin` world.
///
/// Plugins rarely need this module: every type is re-exported at the crate
/// root, and [`config`], [`kv`] and [`log`] wrap the imports.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin",
        pub_export_macro: true,
        additional_derives: [PartialEq],
        default_bindings_module: "::wxhost_plugin::bindings",
        runtime_path: "::wxhost_plugin::__private::wit_bindgen::rt",
    });
}

pub use bindings::wxhost::plugin::types::*;

/// Items that [`export_plugin!`] expands to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

/// The code of a plugin: what it does with one callback.
///
/// Implement [`Plugin::reply`] when the plugin answers with at most one
/// passive reply, or [`Plugin::handle`] to return directives yourself. The
/// host creates a fresh instance for every callback, so statics start from
/// their initial value on every call.
pub trait Plugin {
    /// Returns the directives for one callback.
    ///
    /// The default calls [`Plugin::reply`] and wraps its reply in
    /// [`Directive::Reply`], or returns [`Directive::NoReply`] when it
    /// returns `None`. An empty list also means no reply.
    fn handle(event: &Event) -> Vec<Directive> {
        match Self::reply(event) {
            Some(reply) => vec![Directive::Reply(reply)],
            None => vec![Directive::NoReply],
        }
    }

    /// Returns the passive reply for one callback, or `None` to pass the
    /// callback on to the next plugin in the route. The default returns `None`.
    fn reply(event: &Event) -> Option<Reply> {
        let _ = event;
        None
    }
}

impl<T: Plugin> bindings::Guest for T {
    fn handle(event: Event) -> Vec<Directive> {
        <T as Plugin>::handle(&event)
    }
}

/// Exports a type that implements [`Plugin`] as the component's `handle`.
///
/// Invoke it once, at the root of a `cdylib` crate, with the name of the
/// type: `wxhost_plugin::export_plugin!(MyPlugin);`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        $crate::bindings::export!($plugin with_types_in $crate::bindings);
    };
}
