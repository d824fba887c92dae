//! Test plugin that allocates memory in 1 MiB chunks and writes to every
//! chunk. When the follower's text is a number N, it allocates N MiB and
//! replies `allocated N MiB`; for any other input it allocates until an
//! allocation fails, which aborts.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use std::hint::black_box;

use wxhost::plugin::types::{Message, Payload, Reply};

const CHUNK_BYTES: usize = 1024 * 1024;

struct HogPlugin;

impl Guest for HogPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let limit = match &event.payload {
            Payload::Message(Message::Text(text)) => text.content.trim().parse::<usize>().ok(),
            _ => None,
        };
        let mut chunks: Vec<Vec<u8>> = Vec::with_capacity(1024);
        while limit.is_none_or(|limit| chunks.len() < limit) {
            let mut chunk = vec![1u8; CHUNK_BYTES];
            black_box(&mut chunk);
            chunks.push(chunk);
        }
        let text = format!("allocated {} MiB", chunks.len());
        vec![Directive::Reply(Reply::Text(text))]
    }
}

export!(HogPlugin);
