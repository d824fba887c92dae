//! The HTTP server: WeChat's callback routes, the internal token
//! endpoint, the admin endpoints and the health check.
//!
//! Routes:
//! - `GET /wechat/{account}`: URL verification, echoes `echostr`;
//! - `POST /wechat/{account}`: a callback, answered with a passive reply
//!   or `success`;
//! - `GET /internal/accounts/{account}/access-token`: the account's access
//!   token for a consumer's bearer key ([`internal`]);
//! - `GET /admin/outbox`, `POST /admin/outbox/{id}/retry`,
//!   `GET /admin/quota/{account}`: for the admin key ([`admin`]);
//! - `GET /healthz`: `ok` while the server runs.

mod actions;
pub mod admin;
pub mod auth;
mod callback;
pub mod internal;
mod reply;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::accounts::Account;
use crate::apis::AccountApis;
use crate::dedupe::Deduplicator;
use crate::dispatch::Dispatcher;
use crate::logging::LogIds;
use crate::outbox::Outbox;

pub use auth::AccessKeys;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub accounts: Arc<HashMap<String, Arc<Account>>>,
    pub dispatcher: Arc<Dispatcher>,
    pub dedupe: Deduplicator,
    pub log_ids: LogIds,
    /// Time from receipt to answer; past it the host answers `success`.
    pub reply_budget: Duration,
    pub max_body_bytes: usize,
    /// API clients and the quota guard of the accounts.
    pub apis: Arc<AccountApis>,
    pub outbox: Outbox,
    /// Consumer and admin keys.
    pub keys: Arc<AccessKeys>,
}

/// Builds the router over `state`. Tests can drive it without a socket.
pub fn app(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    Router::new()
        .route(
            "/wechat/{account}",
            get(callback::verify_url).post(callback::handle_callback),
        )
        .route(
            "/internal/accounts/{account}/access-token",
            get(internal::access_token),
        )
        .route("/admin/outbox", get(admin::list_outbox))
        .route("/admin/outbox/{id}/retry", post(admin::retry_entry))
        .route("/admin/quota/{account}", get(admin::quota))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// Serves `state` on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
