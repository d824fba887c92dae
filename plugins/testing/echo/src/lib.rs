//! Test plugin that replies with what it received.
//!
//! - A text message gets its own content back.
//! - An event gets `event=<kind>`, followed by ` key=<value>` when the event
//!   carries a scene or key (the subscribe scene, the scan scene, the
//!   button key), for example `event=subscribe key=promo`.
//! - Any other message gets `message=<MsgType>`.
//!
//! Config `log_records` (a JSON number) makes the plugin write that many
//! `log` records of 100 bytes each before it replies.

use wxhost_plugin::{Event, Plugin, Reply, config, log};

struct EchoPlugin;

impl Plugin for EchoPlugin {
    fn reply(event: &Event) -> Option<Reply> {
        write_logs();
        let text = if let Some(content) = event.text() {
            content.to_owned()
        } else if let Some(name) = event.event_name() {
            match event.scene_or_key() {
                Some(key) => format!("event={name} key={key}"),
                None => format!("event={name}"),
            }
        } else {
            format!("message={}", event.msg_type)
        };
        Some(Reply::text(text))
    }
}

fn write_logs() {
    let count = config::get::<usize>("log_records")
        .ok()
        .flatten()
        .unwrap_or(0);
    // 91 bytes of message plus 9 bytes of field: 100 bytes per record.
    let message = format!("echo log record {}", "x".repeat(75));
    for index in 0..count {
        log::info(&message, &[("index", &format!("{index:04}"))]);
    }
}

wxhost_plugin::export_plugin!(EchoPlugin);
