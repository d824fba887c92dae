//! The host's own work per callback, step by step and all together.
//!
//! - `signature`: `signature` plus `msg_signature` checks.
//! - `decrypt_parse`: decrypting and parsing a safe-mode text message.
//! - `render_encrypt`: rendering a text reply and sealing it.
//! - `host_path_plain`: a plaintext text callback through every step the
//!   server takes except HTTP: open, dedupe claim, the keyword plugin in a
//!   fresh instance, render, and storing the answer in SQLite. Each
//!   iteration carries its own `MsgId`, so dedupe never answers from store.
//!
//! Needs the plugin components; `cargo build --release -p wxhost-tests`
//! builds them into `target/plugin-build`. Run with
//! `cargo bench -p wxhost --bench callback_path`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use wxhost::dedupe::{Claim, Deduplicator, dedupe_key};
use wxhost::dispatch::{Dispatcher, Outcome};
use wxhost::lifecycle::{Metrics, PluginEntry, Version, Versions};
use wxhost::protocol::signature::compute_signature;
use wxhost::protocol::{
    AccountKeys, AesKey, CallbackQuery, MessageCrypto, ReplyContext, open_callback, parse_inbound,
    render_reply, seal_reply,
};
use wxhost::protocol::{Reply, verify_msg_signature, verify_signature};
use wxhost::runtime::{KvStore, MemoryKv, PluginRuntime, PluginSettings, RuntimeConfig};
use wxhost::store::{Store, StoredReply};

// The same allocator as the `wxhost` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "faketoken";
const APPID: &str = "wx1234567890abcdef";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn crypto() -> MessageCrypto {
    MessageCrypto::new(
        AesKey::from_encoding_aes_key(AES_KEY).expect("F1 key decodes"),
        APPID,
    )
}

fn text_xml(msg_id: u64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_fakeacct001]]></ToUserName><FromUserName><![CDATA[oFAKE_user_0001]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ping]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

fn plain_query() -> CallbackQuery {
    let signature = compute_signature(&[TOKEN, "1700000000", "987"]);
    CallbackQuery::from_pairs([
        ("signature", signature.as_str()),
        ("timestamp", "1700000000"),
        ("nonce", "987"),
    ])
}

fn keyword_plugin() -> Arc<PluginEntry> {
    let path = std::env::var_os("PLUGIN_KEYWORD").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/plugin-build/wasm32-wasip2/plugin/plugin_keyword.wasm")
        },
        PathBuf::from,
    );
    let wasm = std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "failed to read {}: {error}; build the plugins with \
             `cargo build --release -p wxhost-tests` first",
            path.display()
        )
    });
    let runtime = PluginRuntime::new(RuntimeConfig::default()).expect("engine starts");
    let groups = r#"[{"name": "greeting", "priority": 10,
        "phrases": [{"match": "exact", "text": "ping"}, {"match": "contains", "text": "你好"}],
        "reply": {"text": "pong"}}]"#;
    let settings = PluginSettings {
        config: BTreeMap::from([("groups".to_owned(), groups.to_owned())]),
        ..PluginSettings::default()
    };
    let plugin = runtime
        .load("keyword", &wasm, settings)
        .expect("keyword plugin loads");
    // The runtime owns the engine's epoch ticker; keep it for the process.
    std::mem::forget(runtime);
    let config = wxhost::config::PluginConfig {
        name: "keyword".to_owned(),
        path: path.clone(),
        messages: vec!["text".to_owned()],
        events: Vec::new(),
        event_keys: Vec::new(),
        ..Default::default()
    };
    let versions = Versions {
        live: Arc::new(Version {
            plugin,
            loaded_at: 0,
        }),
        canary: None,
        shadow: None,
    };
    Arc::new(PluginEntry::new(
        config,
        versions,
        Vec::new(),
        Arc::new(Metrics::default()),
    ))
}

fn protocol_steps(c: &mut Criterion) {
    let crypto = crypto();
    let xml = text_xml(24_000_000_000_000_001);
    let encrypt = crypto
        .encrypt(xml.as_bytes(), *b"0123456789abcdef")
        .expect("encrypts");
    let signature = compute_signature(&[TOKEN, "1700000000", "987"]);
    let msg_signature = compute_signature(&[TOKEN, "1700000000", "987", &encrypt]);

    c.bench_function("signature", |b| {
        b.iter(|| {
            let plain = verify_signature(TOKEN, "1700000000", "987", black_box(&signature));
            let encrypted = verify_msg_signature(
                TOKEN,
                "1700000000",
                "987",
                black_box(&encrypt),
                &msg_signature,
            );
            assert!(plain && encrypted);
        })
    });

    c.bench_function("decrypt_parse", |b| {
        b.iter(|| {
            let plain = crypto.decrypt(black_box(&encrypt)).expect("decrypts");
            black_box(parse_inbound(&plain).expect("parses"))
        })
    });

    let reply = Reply::Text("pong".to_owned());
    c.bench_function("render_encrypt", |b| {
        b.iter(|| {
            let rendered = render_reply(
                black_box(&reply),
                "oFAKE_user_0001",
                "gh_fakeacct001",
                1_700_000_000,
                ReplyContext::UserMessage,
            )
            .expect("renders");
            seal_reply(
                &rendered.xml,
                &crypto,
                TOKEN,
                1_700_000_000,
                "987",
                *b"0123456789abcdef",
            )
            .expect("seals")
        })
    });
}

fn host_path(c: &mut Criterion) {
    let kv: Arc<dyn KvStore> = Arc::new(MemoryKv::default());
    let metrics = Arc::new(Metrics::default());
    let dispatcher = Dispatcher::new(vec![keyword_plugin()], kv, metrics, false);
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(&dir.path().join("bench.db")).expect("store opens");
    let dedupe = Deduplicator::new(store, 300).expect("dedupe starts");
    let keys = AccountKeys {
        token: TOKEN.to_owned(),
        crypto: Some(crypto()),
        require_encryption: false,
    };
    let query = plain_query();
    let next_msg_id = AtomicU64::new(1);

    let inbound = Arc::new(
        open_callback(&query, text_xml(1).as_bytes(), &keys)
            .expect("opens")
            .inbound,
    );
    c.bench_function("plugin_route", |b| {
        b.iter(|| black_box(dispatcher.run_route("demo", &[0], &inbound)))
    });
    c.bench_function("dedupe_claim_finish", |b| {
        b.iter_batched(
            || {
                format!(
                    "demo\u{1f}u\u{1f}m{}",
                    next_msg_id.fetch_add(1, Ordering::Relaxed)
                )
            },
            |key| {
                let Claim::First(guard) = dedupe.claim(&key, 1_700_000_000).expect("claims") else {
                    panic!("every iteration has a new key");
                };
                let stored = StoredReply {
                    content_type: "application/xml; charset=utf-8".to_owned(),
                    body: b"<xml>pong</xml>".to_vec(),
                };
                guard.finish(stored, 1_700_000_000).expect("stores");
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function("host_path_plain", |b| {
        b.iter_batched(
            || text_xml(next_msg_id.fetch_add(1, Ordering::Relaxed)).into_bytes(),
            |body| {
                let opened = open_callback(&query, &body, &keys).expect("opens");
                let key = dedupe_key("demo", &opened.inbound);
                let Claim::First(guard) = dedupe.claim(&key, 1_700_000_000).expect("claims") else {
                    panic!("every iteration has a new MsgId");
                };
                let inbound = Arc::new(opened.inbound);
                let run = dispatcher.run_route("demo", &[0], &inbound);
                let Outcome::Reply { reply, .. } = run.outcome else {
                    panic!("the keyword plugin replies to ping");
                };
                let rendered = render_reply(
                    &reply,
                    &inbound.from_user,
                    &inbound.to_user,
                    1_700_000_000,
                    ReplyContext::UserMessage,
                )
                .expect("renders");
                let stored = StoredReply {
                    content_type: "application/xml; charset=utf-8".to_owned(),
                    body: rendered.xml.into_bytes(),
                };
                guard.finish(stored, 1_700_000_000).expect("stores");
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, protocol_steps, host_path);
criterion_main!(benches);
