//! Conversion of a route's outcome into the HTTP response WeChat expects.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::callback::now_secs;
use crate::accounts::Account;
use crate::dispatch::Outcome;
use crate::protocol::envelope;
use crate::protocol::message::{Inbound, Payload};
use crate::protocol::{ReplyContext, SUCCESS_BODY, render_reply};
use crate::store::StoredReply;

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const APPLICATION_XML: &str = "application/xml; charset=utf-8";

/// A finished HTTP response: `success` or reply XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpReply {
    content_type: &'static str,
    body: Vec<u8>,
}

impl HttpReply {
    /// The no-reply response. It is never encrypted, even in safe mode.
    pub fn success() -> HttpReply {
        HttpReply {
            content_type: TEXT_PLAIN,
            body: SUCCESS_BODY.as_bytes().to_vec(),
        }
    }

    fn xml(body: String) -> HttpReply {
        HttpReply {
            content_type: APPLICATION_XML,
            body: body.into_bytes(),
        }
    }

    /// Converts into the form kept in the store.
    pub fn to_stored(&self) -> StoredReply {
        StoredReply {
            content_type: self.content_type.to_owned(),
            body: self.body.clone(),
        }
    }
}

impl From<StoredReply> for HttpReply {
    fn from(stored: StoredReply) -> HttpReply {
        let content_type = if stored.content_type == APPLICATION_XML {
            APPLICATION_XML
        } else {
            TEXT_PLAIN
        };
        HttpReply {
            content_type,
            body: stored.body,
        }
    }
}

impl IntoResponse for HttpReply {
    fn into_response(self) -> Response {
        ([(CONTENT_TYPE, self.content_type)], self.body).into_response()
    }
}

/// Renders `outcome` as the answer to `inbound`. With `sealing_nonce` (the
/// request's nonce) the reply is encrypted for the account. Returns the
/// answer, the plugin that produced it and an outcome label for the log.
pub fn render_outcome(
    account: &Account,
    inbound: &Inbound,
    outcome: Outcome,
    sealing_nonce: Option<&str>,
) -> (HttpReply, Option<String>, &'static str) {
    let (plugin, reply) = match outcome {
        Outcome::Reply { plugin, reply } => (plugin, reply),
        Outcome::NoReply => return (HttpReply::success(), None, "no_reply"),
        Outcome::Fault { plugin, fault } => {
            tracing::warn!(
                account = %account.name,
                plugin = %plugin,
                fault = %fault,
                "plugin fault; answering success"
            );
            return (HttpReply::success(), Some(plugin), "plugin_fault");
        }
        Outcome::Skipped { plugin } => {
            return (HttpReply::success(), Some(plugin), "plugin_skipped");
        }
    };

    let context = match inbound.payload {
        Payload::Message(_) => ReplyContext::UserMessage,
        Payload::Event(_) => ReplyContext::Event,
    };
    let now = now_secs();
    let xml = match render_reply(&reply, &inbound.from_user, &inbound.to_user, now, context) {
        Ok(rendered) => {
            for warning in &rendered.warnings {
                tracing::warn!(account = %account.name, plugin = %plugin, warning = %warning, "reply adjusted");
            }
            rendered.xml
        }
        Err(err) => {
            tracing::warn!(account = %account.name, plugin = %plugin, error = %err, "invalid reply; responding with success");
            return (HttpReply::success(), Some(plugin), "invalid_reply");
        }
    };

    let Some(nonce) = sealing_nonce else {
        return (HttpReply::xml(xml), Some(plugin), "reply");
    };
    let Some(crypto) = account.keys.crypto.as_ref() else {
        return (HttpReply::xml(xml), Some(plugin), "reply");
    };
    match envelope::seal_reply(
        &xml,
        crypto,
        &account.keys.token,
        now,
        nonce,
        rand::random(),
    ) {
        Ok(sealed) => (HttpReply::xml(sealed), Some(plugin), "reply"),
        Err(err) => {
            tracing::error!(account = %account.name, plugin = %plugin, error = %err, "failed to encrypt the reply");
            (HttpReply::success(), Some(plugin), "encrypt_failed")
        }
    }
}
