//! wxhost: a host for WeChat Official Account callbacks.

pub mod fake_wechat;
pub mod protocol;
pub mod wechat;
