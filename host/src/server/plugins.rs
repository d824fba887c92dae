//! The lifecycle endpoints, guarded by the `[admin]` key like the other
//! admin endpoints:
//!
//! - `GET /admin/plugins`: each plugin's versions (content hash, loaded
//!   at, state, last error) and its breaker;
//! - `POST /admin/plugins/reload`: reads every plugin file and loads the
//!   changed ones; returns one result per file;
//! - `POST /admin/config/reload`: reads the config file again; 200 with
//!   the reloaded plugins and the fields that need a restart, or 422
//!   with every problem while the old config keeps serving;
//! - `GET /metrics`: the lifecycle's counters in the Prometheus text
//!   format.

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::admin::deny;

pub async fn list_plugins(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    Json(json!({ "plugins": state.lifecycle.plugin_reports() })).into_response()
}

pub async fn reload_plugins(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    tracing::info!("plugin reload requested by the admin");
    let results = state.lifecycle.reload_plugins(true).await;
    Json(json!({ "files": results })).into_response()
}

pub async fn reload_config(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    tracing::info!("config reload requested by the admin");
    match state.lifecycle.reload_config().await {
        Ok(report) => Json(json!({ "applied": true, "report": report })).into_response(),
        Err(problems) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "applied": false, "problems": problems })),
        )
            .into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.lifecycle.metrics().render(),
    )
        .into_response()
}
