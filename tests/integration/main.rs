//! End-to-end tests of wxhost over real HTTP on 127.0.0.1.

// Shared setup for the WeChat API tests: a fake server and a client.
mod wechat_support;
// Token broker: refresh rules, stable_token, sharing between processes.
mod wechat_token;
// Typed API calls, errcode mapping and retries.
mod wechat_api;
// Local quotas and customer-service windows.
mod wechat_quota;
