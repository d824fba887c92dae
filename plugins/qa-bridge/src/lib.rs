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
//!   error, a 5xx status or an unreadable body), as the SDK's `ReplySpec`:
//!   for example `{"text": "..."}`, `{"transfer_customer_service": ""}`
//!   (any agent) or `{"transfer_customer_service": "agent@account"}`.
//!   Without it the callback passes to the next plugin.
//! - `no_answer` (optional): the reply when the service has no answer,
//!   in the same form. Without it the callback passes on.
//!
//! The request body is `{"account": "...", "question": "...", "user":
//! "..."}`. `user` is the follower's pseudonym from the host's `followers`
//! service (32 hex characters, stable per account), so the plugin needs
//! the `followers` capability. The raw openid is never sent: when the
//! pseudonym is unavailable the plugin logs a warning and leaves `user` out.

mod qa;

use wxhost_plugin::config::{self, Table};
use wxhost_plugin::fetch::{self, Request};
use wxhost_plugin::{Event, Plugin, Reply, ReplySpec, followers, log};

use crate::qa::{QaAnswer, Settings};

struct QaBridgePlugin;

impl Plugin for QaBridgePlugin {
    fn check_config() -> Result<(), Vec<String>> {
        config::check(Settings::load)
    }

    fn reply(event: &Event) -> Option<Reply> {
        let question = event.text()?.trim();
        if question.is_empty() {
            return None;
        }
        let settings = match Settings::load(&Table::load()) {
            Ok(settings) => settings,
            Err(error) => {
                log::warn_with("invalid qa-bridge configuration", &error);
                return None;
            }
        };

        let user = match followers::pseudonym(&event.from_user) {
            Ok(pseudonym) => Some(pseudonym),
            Err(error) => {
                log::warn_with(
                    "follower pseudonym unavailable, so the request has no user",
                    &error,
                );
                None
            }
        };
        let body = qa::request_body(question, &event.account, user.as_deref());
        let request = Request::post(&settings.url)
            .json(&body)
            .timeout_ms(settings.timeout_ms);
        let fallback = || settings.fallback.as_ref().map(ReplySpec::to_reply);
        match fetch::send(&request) {
            Ok(response) => match qa::parse_answer(response.status, &response.body) {
                Ok(QaAnswer::Found(reply)) => Some(reply),
                Ok(QaAnswer::NotFound) => settings.no_answer.as_ref().map(ReplySpec::to_reply),
                Err(error) => {
                    log::warn_with("qa service response unusable", &error);
                    fallback()
                }
            },
            Err(error) => {
                log::warn_with("qa service unreachable", &error);
                fallback()
            }
        }
    }
}

wxhost_plugin::export_plugin!(QaBridgePlugin);
