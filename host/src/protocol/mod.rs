//! WeChat's callback protocol: signatures, message encryption, the XML
//! model of callbacks and the rendering of passive replies.
//!
//! This module is pure: no I/O, no clock reads and no global state. Callers
//! pass the current time and the random bytes that encryption needs.

#![warn(missing_docs)]

pub mod crypto;
pub mod envelope;
pub mod error;
mod events;
pub mod inbound;
pub mod message;
pub mod query;
pub mod render;
pub mod reply;
pub mod signature;
pub mod xml;

pub use crypto::{AesKey, MessageCrypto};
pub use envelope::{AccountKeys, Mode, Opened, open_callback, seal_reply, verify_url};
pub use error::{CallbackError, CryptoError, InvalidReply, KeyError, ParseError};
pub use inbound::parse_inbound;
pub use query::CallbackQuery;
pub use render::{RenderedReply, render_reply};
pub use reply::{Article, Reply, ReplyContext, ReplyWarning, SUCCESS_BODY, ValidatedReply};
pub use signature::{
    compute_msg_signature, compute_signature, verify_msg_signature, verify_signature,
};
pub use xml::{Envelope, ReplyEnvelope, read_envelope, read_reply_envelope};
