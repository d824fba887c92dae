//! Structured records into the host's log, tagged with the plugin's name.
//!
//! The host caps the bytes one call may log (the message plus every field
//! key and value; 4096 bytes by default) and drops the records past it.
//! Do not log the follower's openid or message text.

use std::fmt;

pub use crate::bindings::wxhost::plugin::log::Level;

use crate::bindings::wxhost::plugin::log as host;

/// Writes one record at `level`, with `fields` as key-value pairs.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    host::write(level, message, &fields);
}

/// Writes a debug record.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    write(Level::Debug, message, fields);
}

/// Writes an info record.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    write(Level::Info, message, fields);
}

/// Writes a warning record.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    write(Level::Warn, message, fields);
}

/// Writes an error record.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    write(Level::Error, message, fields);
}

/// Writes an error record with one field, `error`, holding `cause`'s
/// message: the usual record for a failure the plugin handles.
pub fn error_with(message: &str, cause: &dyn fmt::Display) {
    error(message, &[("error", &cause.to_string())]);
}

/// Writes a warning record with one field, `error`, holding `cause`'s message.
pub fn warn_with(message: &str, cause: &dyn fmt::Display) {
    warn(message, &[("error", &cause.to_string())]);
}
