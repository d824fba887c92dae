//! WeChat's callback protocol: signatures, message encryption, the XML
//! model of callbacks and the rendering of passive replies.
//!
//! This module is pure: no I/O, no clock reads and no global state. Callers
//! pass the current time and the random bytes that encryption needs.

pub mod message;
pub mod reply;
