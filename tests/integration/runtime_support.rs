//! Shared runtime, plugin loading and event builders for runtime tests.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use wxhost::protocol::message::{Event, Inbound, Message, Payload};
use wxhost::runtime::{
    KvStore, MemoryKv, Plugin, PluginLimits, PluginRuntime, PluginSettings, RuntimeConfig,
};
use wxhost_tests::plugins;

/// One runtime for the whole test binary, as in the host process.
pub static RUNTIME: LazyLock<PluginRuntime> =
    LazyLock::new(|| PluginRuntime::new(RuntimeConfig::default()).expect("runtime starts"));

pub const ACCOUNT: &str = "demo";
pub const FOLLOWER: &str = "oFollower0001";

/// Loads the component at `path` as `name` with `config` (JSON text values).
pub fn load(name: &str, path: &str, config: &[(&str, &str)], limits: PluginLimits) -> Plugin {
    load_with_kv(name, path, config, limits, false)
}

pub fn load_with_kv(
    name: &str,
    path: &str,
    config: &[(&str, &str)],
    limits: PluginLimits,
    kv_granted: bool,
) -> Plugin {
    let config: BTreeMap<String, String> = config
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    let settings = PluginSettings {
        limits,
        config,
        kv_granted,
        ..PluginSettings::default()
    };
    RUNTIME
        .load(name, &plugins::read(path), settings)
        .unwrap_or_else(|error| panic!("failed to load {name}: {error:?}"))
}

pub fn memory_kv() -> Arc<dyn KvStore> {
    Arc::new(MemoryKv::new())
}

/// A text message from [`FOLLOWER`].
pub fn text(content: &str) -> Inbound {
    inbound(
        "text",
        Some(1_000_001),
        Payload::Message(Message::Text {
            content: content.to_owned(),
            biz_msg_menu_id: None,
        }),
    )
}

/// An event from [`FOLLOWER`].
pub fn event(kind: Event) -> Inbound {
    inbound("event", None, Payload::Event(kind))
}

fn inbound(msg_type: &str, msg_id: Option<u64>, payload: Payload) -> Inbound {
    Inbound {
        to_user: "gh_0123456789ab".to_owned(),
        from_user: FOLLOWER.to_owned(),
        create_time: 1_700_000_000,
        msg_type: msg_type.to_owned(),
        msg_id,
        event: None,
        event_key: None,
        payload,
        extra: Vec::new(),
    }
}
