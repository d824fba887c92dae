//! Guest SDK for wxhost plugins.
//!
//! A wxhost plugin is a WebAssembly component for the `wxhost:plugin/plugin`
//! world in the repository's `wit/` directory. This crate generates the
//! bindings of `plugin-checked`, that world plus the `self-check` export,
//! once and wraps them, so a plugin implements one trait instead of the
//! generated `Guest` trait:
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
//! appears here without any change to this crate.
//!
//! - Host imports: [`config`], [`kv`], [`log`], [`followers`] (the follower
//!   ledger and pseudonyms), [`qrcode`], [`media`] and [`fetch`]. Each
//!   returns its own error type whose message names what failed and, for a
//!   missing capability, which one to grant.
//! - Replies and actions: builders on [`Reply`], [`Article`], [`VideoReply`]
//!   and [`MusicReply`]; on [`Directive`] for customer-service messages,
//!   template messages and tags; on [`CustomMessage`] and
//!   [`TemplateMessage`].
//! - Settings: [`config::Table`] reads typed values with errors that name
//!   the key and the fix, and [`ReplySpec`] is the reply form that plugin
//!   configs share (`{ text = "..." }`, `{ image = "MEDIA_ID" }`,
//!   `{ news = [...] }`, ...).
//!
//! The imports exist only inside the host. In unit tests on the
//! development machine the builders, accessors, [`config::Table`] and
//! [`ReplySpec`] work, and calling an import panics.

extern crate self as wxhost_plugin;

mod action;
pub mod config;
mod event;
pub mod fetch;
pub mod followers;
pub mod kv;
pub mod log;
pub mod media;
pub mod qrcode;
mod reply;
mod spec;

/// The bindings that `wit-bindgen` generates for the `plugin-checked` world:
/// the `plugin` world and the `self-check` export.
///
/// Plugins rarely need this module: every type is re-exported at the crate
/// root, and the modules of the same names wrap the imports.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "plugin-checked",
        pub_export_macro: true,
        additional_derives: [PartialEq],
        default_bindings_module: "::wxhost_plugin::bindings",
        runtime_path: "::wxhost_plugin::__private::wit_bindgen::rt",
    });
}

pub use bindings::wxhost::plugin::types::*;
pub use spec::{ArticleSpec, MusicSpec, ReplySpec, VideoSpec};

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

    /// Validates the plugin's config table and returns every problem.
    ///
    /// The host calls it, as the component's `self-check` export, when it
    /// loads a version of the plugin and when a config reload changes the
    /// plugin's table. Any error rejects that version or config, so the
    /// previous one keeps serving. Read the settings as [`Plugin::handle`]
    /// does, usually with [`config::Table::load`] and the same parsing
    /// function, and return each [`config::ConfigError`] as a string: its
    /// message names the key and the fix. The default accepts any table.
    fn check_config() -> Result<(), Vec<String>> {
        Ok(())
    }
}

impl<T: Plugin> bindings::Guest for T {
    fn handle(event: Event) -> Vec<Directive> {
        <T as Plugin>::handle(&event)
    }

    fn self_check() -> Result<(), Vec<String>> {
        <T as Plugin>::check_config()
    }
}

/// Exports a type that implements [`Plugin`] as the component's `handle`
/// and `self-check`.
///
/// Invoke it once, at the root of a `cdylib` crate, with the name of the
/// type: `wxhost_plugin::export_plugin!(MyPlugin);`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ident) => {
        $crate::bindings::export!($plugin with_types_in $crate::bindings);
    };
}
