//! The cost of one plugin call with a fresh instance, against a call on a
//! reused instance, for the keyword plugin.
//!
//! Needs the plugin components built first; `cargo build --release -p
//! wxhost-tests` builds them into `target/plugin-build`. Set
//! `PLUGIN_KEYWORD` to use another component. Run with
//! `cargo bench -p wxhost --bench plugin_cycle`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use wxhost::protocol::message::{Event, Inbound, Message, Payload};
use wxhost::runtime::{
    Directive, KvStore, MemoryKv, Plugin, PluginRuntime, PluginSettings, PoolTuning, RuntimeConfig,
};

/// `count` groups of 3 phrases each, with falling priority. The benchmark
/// text matches group 3 (`问题3号`), after the plugin has parsed every group
/// and scanned the three higher ones.
fn keyword_config(count: usize) -> BTreeMap<String, String> {
    let groups: Vec<String> = (0..count)
        .map(|index| {
            format!(
                r#"{{"name": "组{index}", "priority": {priority},
                    "phrases": [{{"match": "exact", "text": "关键词{index}"}},
                                {{"match": "contains", "text": "问题{index}号"}},
                                {{"match": "contains", "text": "topic-{index}"}}],
                    "reply": {{"text": "这是第{index}组的回复。"}}}}"#,
                priority = 100 - index,
            )
        })
        .collect();
    BTreeMap::from([("groups".to_owned(), format!("[{}]", groups.join(",")))])
}

fn keyword_wasm() -> Vec<u8> {
    let path = std::env::var_os("PLUGIN_KEYWORD").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/plugin-build/wasm32-wasip2/plugin/plugin_keyword.wasm")
        },
        PathBuf::from,
    );
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "failed to read {}: {error}; build the plugins with \
             `cargo build --release -p wxhost-tests` first",
            path.display()
        )
    })
}

fn text_event() -> Inbound {
    Inbound {
        to_user: "gh_0123456789ab".to_owned(),
        from_user: "oFollower0001".to_owned(),
        create_time: 1_700_000_000,
        msg_type: "text".to_owned(),
        msg_id: Some(1_000_001),
        event: None,
        event_key: None,
        payload: Payload::Message(Message::Text {
            content: "请问问题3号怎么处理？".to_owned(),
            biz_msg_menu_id: None,
        }),
        extra: Vec::new(),
    }
}

fn subscribe_event() -> Inbound {
    Inbound {
        msg_type: "event".to_owned(),
        msg_id: None,
        payload: Payload::Event(Event::Subscribe {
            scene: None,
            ticket: None,
            event_key: None,
        }),
        ..text_event()
    }
}

fn load_keyword(tuning: PoolTuning, groups: usize) -> (PluginRuntime, Plugin) {
    let config = RuntimeConfig {
        pool_tuning: tuning,
        ..RuntimeConfig::default()
    };
    let runtime = PluginRuntime::new(config).expect("runtime starts");
    let settings = PluginSettings {
        config: keyword_config(groups),
        ..PluginSettings::default()
    };
    let plugin = runtime
        .load("keyword", &keyword_wasm(), settings)
        .expect("keyword plugin loads");
    (runtime, plugin)
}

fn assert_replies(directives: &[Directive]) {
    assert!(
        matches!(directives, [Directive::Reply(_)]),
        "unexpected directives {directives:?}"
    );
}

fn plugin_cycle(c: &mut Criterion) {
    let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::new());
    let event = text_event();
    let mut group = c.benchmark_group("plugin_cycle");

    for groups in [5, 20] {
        for (tuning_label, tuning) in [
            ("tuned", PoolTuning::Tuned),
            ("wasmtime_defaults", PoolTuning::WasmtimeDefaults),
        ] {
            let (_runtime, plugin) = load_keyword(tuning, groups);
            assert_replies(&plugin.handle("demo", &event, &kv).unwrap());
            let label = format!("fresh_instance/{tuning_label}/{groups}_groups");
            group.bench_function(label, |b| {
                b.iter(|| black_box(plugin.handle("demo", black_box(&event), &kv)))
            });
        }

        let (_runtime, plugin) = load_keyword(PoolTuning::Tuned, groups);
        let mut instance = plugin.instantiate_for_reuse("demo", &kv).unwrap();
        assert_replies(&instance.handle(&event).unwrap());
        let label = format!("reused_instance/tuned/{groups}_groups");
        group.bench_function(label, |b| {
            b.iter(|| black_box(instance.handle(black_box(&event))))
        });
    }

    // The keyword plugin returns `no-reply` for events before it reads its
    // config: these two lines are the cost of the cycle without guest work.
    let (_runtime, plugin) = load_keyword(PoolTuning::Tuned, 5);
    let mut instance = plugin.instantiate_for_reuse("demo", &kv).unwrap();
    let subscribe = subscribe_event();
    group.bench_function("fresh_instance/tuned/no_guest_work", |b| {
        b.iter(|| black_box(plugin.handle("demo", black_box(&subscribe), &kv)))
    });
    group.bench_function("reused_instance/tuned/no_guest_work", |b| {
        b.iter(|| black_box(instance.handle(black_box(&subscribe))))
    });

    group.finish();
}

criterion_group!(benches, plugin_cycle);
criterion_main!(benches);
