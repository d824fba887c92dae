//! wxhost: a host for WeChat Official Account callbacks that runs each
//! business scenario as a sandboxed WebAssembly component.
//!
//! A callback travels through these steps:
//! 1. [`server`] receives `POST /wechat/{account}` with the raw body;
//! 2. [`protocol`] checks `signature` (and `msg_signature` for encrypted
//!    posts), decrypts, and parses the XML into a typed [`protocol::message::Inbound`];
//! 3. [`dedupe`] claims the callback, so WeChat's retries never run a
//!    plugin twice;
//! 4. [`dispatch`] runs the account's plugins in route order ([`routing`])
//!    inside the [`runtime`], each in a fresh sandboxed instance under a
//!    deadline and a memory cap;
//! 5. [`server`] renders the reply, encrypts it for encrypted posts, stores
//!    it for retries together with the plugins' actions for the [`outbox`],
//!    and answers within the reply budget, or answers `success`;
//! 6. the [`outbox`] worker delivers the actions through [`wechat`], with
//!    the account's client from [`apis`].
//!
//! [`lifecycle`] reloads plugins and the config while callbacks flow,
//! and runs canary and shadow versions; [`recording`] keeps callbacks for
//! `wxhost replay`. [`config`] describes the TOML file, [`store`] the
//! SQLite database, [`services`] the follower ledger, QR codes and media
//! that plugins can be granted, and [`cli`] the `wxhost` command.

pub mod accounts;
pub mod apis;
pub mod app;
pub mod autoreply;
pub mod cli;
pub mod config;
pub mod dedupe;
pub mod demo_qa;
pub mod dispatch;
pub mod fake_wechat;
pub mod lifecycle;
pub mod logging;
pub mod menu;
pub mod outbox;
pub mod protocol;
pub mod recording;
pub mod routing;
pub mod runtime;
pub mod server;
pub mod services;
pub mod store;
pub mod wechat;
