//! Test plugin that burns CPU. When the follower's text is a number N, it
//! loops N times and replies `spun N`; for any other input it loops until
//! the host's deadline stops it.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use std::hint::black_box;

use wxhost::plugin::types::{Message, Payload, Reply};

struct SpinPlugin;

impl Guest for SpinPlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let limit = match &event.payload {
            Payload::Message(Message::Text(text)) => text.content.trim().parse::<u64>().ok(),
            _ => None,
        };
        let mut count: u64 = 0;
        while limit.is_none_or(|limit| count < limit) {
            count = black_box(count + 1);
        }
        vec![Directive::Reply(Reply::Text(format!("spun {count}")))]
    }
}

export!(SpinPlugin);
