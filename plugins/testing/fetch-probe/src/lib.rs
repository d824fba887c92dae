//! Test plugin: for a text message holding a URL, sends `GET` to it
//! through `fetch` and replies `status=N body=...` or `error=KIND`,
//! with the reason after a colon for `not-permitted` and `transport`.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use wxhost::plugin::fetch;
use wxhost::plugin::types::{Message, Payload, Reply};

struct FetchProbe;

impl Guest for FetchProbe {
    fn handle(event: Event) -> Vec<Directive> {
        let Payload::Message(Message::Text(text)) = &event.payload else {
            return vec![Directive::NoReply];
        };
        let request = fetch::Request {
            method: fetch::Method::Get,
            url: text.content.trim().to_owned(),
            headers: Vec::new(),
            body: None,
            timeout_ms: None,
        };
        let outcome = match fetch::send(&request) {
            Ok(response) => format!(
                "status={} body={}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ),
            Err(fetch::Error::NotPermitted(reason)) => format!("error=not-permitted: {reason}"),
            Err(fetch::Error::BlockedAddress) => "error=blocked-address".to_owned(),
            Err(fetch::Error::Timeout) => "error=timeout".to_owned(),
            Err(fetch::Error::TooLarge) => "error=too-large".to_owned(),
            Err(fetch::Error::CircuitOpen) => "error=circuit-open".to_owned(),
            Err(fetch::Error::Transport(reason)) => format!("error=transport: {reason}"),
        };
        vec![Directive::Reply(Reply::Text(outcome))]
    }
}

export!(FetchProbe);
