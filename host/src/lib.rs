//! wxhost: a host for WeChat Official Account callbacks.

pub mod protocol;
pub mod runtime;
