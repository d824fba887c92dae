//! Test plugin that counts calls per follower in `kv`.
//!
//! It replies `count=N instance_calls=M`: N is the follower's count stored
//! in `kv`, and M counts the calls this instance has served, which stays 1
//! when the host gives every call a fresh instance. When a `kv` call fails
//! it replies `kv error: <error>`.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use std::sync::atomic::{AtomicU32, Ordering};

use wxhost::plugin::kv;
use wxhost::plugin::types::Reply;

static INSTANCE_CALLS: AtomicU32 = AtomicU32::new(0);

struct KvCounterPlugin;

impl Guest for KvCounterPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let instance_calls = INSTANCE_CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        let text = match count_call(&event.from_user) {
            Ok(count) => format!("count={count} instance_calls={instance_calls}"),
            Err(error) => format!("kv error: {}", describe(&error)),
        };
        vec![Directive::Reply(Reply::Text(text))]
    }
}

fn count_call(follower: &str) -> Result<u64, kv::Error> {
    let key = format!("count:{follower}");
    let previous = kv::get(&key)?
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<u64>().ok())
        .unwrap_or(0);
    let count = previous + 1;
    kv::set(&key, count.to_string().as_bytes(), None)?;
    Ok(count)
}

fn describe(error: &kv::Error) -> String {
    match error {
        kv::Error::TooLarge => "too-large".to_owned(),
        kv::Error::NotPermitted => "not-permitted".to_owned(),
        kv::Error::Store(text) => format!("store: {text}"),
    }
}

export!(KvCounterPlugin);
