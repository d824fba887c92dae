//! Q&A bridge plugin: forwards a follower's text question to the
//! company's Q&A service through the host's `fetch` and answers with the
//! service's text or news.
//!
//! Configuration (each value is JSON text, as the host passes it):
//!
//! - `url` (required): the service's `POST` endpoint; its host must be on
//!   the plugin's `[plugins.fetch]` allow list.
//! - `timeout_ms` (optional): a timeout shorter than the fetch policy's.
//! - `fallback` (optional): the reply when the service fails (a fetch
//!   error, a 5xx status or an unreadable body): `{"text": "..."}` or
//!   `{"transfer_customer_service": ""}` (any agent) or
//!   `{"transfer_customer_service": "agent@account"}`. Without it the
//!   callback passes to the next plugin.
//! - `no_answer` (optional): the reply when the service has no answer,
//!   in the same form. Without it the callback passes on.
//!
//! The request body is `{"question": "...", "account": "..."}` plus
//! `"user"`, a pseudonymous follower id, when the host provides one. The
//! raw openid is never sent.

mod qa;

wit_bindgen::generate!({ path: "../../wit", world: "plugin" });

use wxhost::plugin::log::{self, Level};
use wxhost::plugin::types::{Message, Payload};
use wxhost::plugin::{config, fetch};

use crate::qa::{QaAnswer, ReplyConfig, Settings};

struct QaBridgePlugin;

impl Guest for QaBridgePlugin {
    fn handle(event: Event) -> Vec<Directive> {
        let Payload::Message(Message::Text(text)) = &event.payload else {
            return vec![Directive::NoReply];
        };
        let question = text.content.trim();
        if question.is_empty() {
            return vec![Directive::NoReply];
        }
        let settings = match Settings::load(config::get) {
            Ok(settings) => settings,
            Err(error) => {
                log_error("invalid qa-bridge configuration", error);
                return vec![Directive::NoReply];
            }
        };

        let body = qa::request_body(question, &event.account, follower_id(&event));
        let request = fetch::Request {
            method: fetch::Method::Post,
            url: settings.url.clone(),
            headers: vec![(
                "content-type".to_owned(),
                "application/json; charset=utf-8".to_owned(),
            )],
            body: Some(body),
            timeout_ms: settings.timeout_ms,
        };
        let reply = match fetch::send(&request) {
            Ok(response) => match qa::parse_answer(response.status, &response.body) {
                Ok(QaAnswer::Found(reply)) => Some(reply),
                Ok(QaAnswer::NotFound) => settings.no_answer.as_ref().map(ReplyConfig::to_wit),
                Err(error) => {
                    log_error("qa service response unusable", error);
                    settings.fallback.as_ref().map(ReplyConfig::to_wit)
                }
            },
            Err(error) => {
                log_error("qa service unreachable", describe(&error));
                settings.fallback.as_ref().map(ReplyConfig::to_wit)
            }
        };
        match reply {
            Some(reply) => vec![Directive::Reply(reply)],
            None => vec![Directive::NoReply],
        }
    }
}

/// Returns the pseudonymous follower id sent to the Q&A service, or none.
///
/// TODO: return the host's pseudonym of `event.from_user` once the host
/// offers one to plugins. Until then no follower id is sent, because the
/// plugin must not derive one from the openid itself.
fn follower_id(_event: &Event) -> Option<String> {
    None
}

fn describe(error: &fetch::Error) -> String {
    match error {
        fetch::Error::NotPermitted(reason) => format!("not-permitted: {reason}"),
        fetch::Error::BlockedAddress => "blocked-address".to_owned(),
        fetch::Error::Timeout => "timeout".to_owned(),
        fetch::Error::TooLarge => "too-large".to_owned(),
        fetch::Error::CircuitOpen => "circuit-open".to_owned(),
        fetch::Error::Transport(reason) => format!("transport: {reason}"),
    }
}

fn log_error(message: &str, error: String) {
    log::write(Level::Warn, message, &[("error".to_owned(), error)]);
}

export!(QaBridgePlugin);
