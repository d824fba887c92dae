//! The load suite: builds distinct signed callbacks, checks a sample of
//! replies, drives a server at full and at half speed, reloads a plugin
//! under load, and reports throughput, latency percentiles, failed
//! requests and the host's resident memory.
//!
//! `wxhost-load` (src/bin) runs it; `scripts/load.sh` starts the servers.

pub mod check;
pub mod client;
pub mod reload;
pub mod report;
pub mod requests;
pub mod rss;
pub mod run;
pub mod soak;
pub mod stats;
pub mod suite;

/// The body that `baseline-server` returns for every request: a passive
/// text reply of the same shape and about the same size as the host's
/// keyword reply.
pub const BASELINE_REPLY: &str = "<xml><ToUserName><![CDATA[oLOAD000000000000000000000000]]></ToUserName><FromUserName><![CDATA[gh_fakeacct001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[Hello from the wxhost load account.]]></Content></xml>";
