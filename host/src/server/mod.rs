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
//! - `GET /admin/plugins`, `POST /admin/plugins/reload`,
//!   `POST /admin/config/reload` and `GET /metrics`: plugin versions,
//!   reloads and metrics, for the admin key ([`plugins`]);
//! - `GET /healthz`: `ok` while the server runs.

mod actions;
pub mod admin;
pub mod auth;
mod callback;
pub mod internal;
pub mod plugins;
mod pool;
mod reply;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::apis::AccountApis;
use crate::dedupe::Deduplicator;
use crate::lifecycle::{Lifecycle, Live};
use crate::logging::LogIds;
use crate::outbox::Outbox;
use crate::services::Services;

pub use auth::AccessKeys;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Accounts, keys, plugin routes and the reply budget, replaced by
    /// config and plugin reloads.
    pub lifecycle: Arc<Lifecycle>,
    pub dedupe: Deduplicator,
    pub log_ids: LogIds,
    pub max_body_bytes: usize,
    /// API clients and the quota guard of the accounts.
    pub apis: Arc<AccountApis>,
    pub outbox: Outbox,
}

impl AppState {
    /// Returns the accounts, keys and plugin routes in service now.
    pub fn live(&self) -> Arc<Live> {
        self.lifecycle.live()
    }

    /// Returns the host services (follower ledger, pseudonyms, QR codes
    /// and media). Reloads keep the same services.
    pub fn services(&self) -> Arc<Services> {
        self.live().dispatcher.services().clone()
    }
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
        .route("/admin/plugins", get(plugins::list_plugins))
        .route("/admin/plugins/reload", post(plugins::reload_plugins))
        .route("/admin/config/reload", post(plugins::reload_config))
        .route("/metrics", get(plugins::metrics))
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
