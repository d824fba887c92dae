//! The HTTP server: WeChat's callback routes and the health check.
//!
//! Routes:
//! - `GET /wechat/{account}`: URL verification, echoes `echostr`;
//! - `POST /wechat/{account}`: a callback, answered with a passive reply
//!   or `success`;
//! - `GET /healthz`: `ok` while the server runs.

mod callback;
mod reply;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use tokio::net::TcpListener;

use crate::accounts::Account;
use crate::dedupe::Deduplicator;
use crate::dispatch::Dispatcher;
use crate::logging::LogIds;

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
}

/// Builds the router over `state`. Tests can drive it without a socket.
pub fn app(state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    Router::new()
        .route(
            "/wechat/{account}",
            get(callback::verify_url).post(callback::handle_callback),
        )
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
