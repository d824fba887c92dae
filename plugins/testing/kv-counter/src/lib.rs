//! Test plugin that counts calls per follower in `kv`.
//!
//! It replies `count=N instance_calls=M`: N is the follower's count stored
//! in `kv`, and M counts the calls this instance has served, which stays 1
//! when the host gives every call a fresh instance. When a `kv` call fails
//! it replies `kv error: <error>`.

use std::sync::atomic::{AtomicU32, Ordering};

use wxhost_plugin::kv::{self, KvError};
use wxhost_plugin::{Event, Plugin, Reply};

static INSTANCE_CALLS: AtomicU32 = AtomicU32::new(0);

struct KvCounterPlugin;

impl Plugin for KvCounterPlugin {
    fn reply(event: &Event) -> Option<Reply> {
        let instance_calls = INSTANCE_CALLS.fetch_add(1, Ordering::Relaxed) + 1;
        let text = match count_call(&event.from_user) {
            Ok(count) => format!("count={count} instance_calls={instance_calls}"),
            Err(error) => format!("kv error: {}", describe(&error)),
        };
        Some(Reply::text(text))
    }
}

fn count_call(follower: &str) -> Result<u64, KvError> {
    let key = format!("count:{follower}");
    // A stored value that is not a number counts as 0.
    let previous = kv::get_bytes(&key)?
        .and_then(|bytes| kv::decode::<u64>(&key, &bytes).ok())
        .unwrap_or(0);
    let count = previous + 1;
    kv::set(&key, &count)?;
    Ok(count)
}

fn describe(error: &KvError) -> String {
    match error {
        KvError::TooLarge => "too-large".to_owned(),
        KvError::NotPermitted => "not-permitted".to_owned(),
        KvError::Store(text) => format!("store: {text}"),
        KvError::Json { .. } => "json".to_owned(),
    }
}

wxhost_plugin::export_plugin!(KvCounterPlugin);
