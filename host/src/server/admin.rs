//! The admin endpoints, guarded by the `[admin]` key:
//!
//! - `GET /admin/outbox?state=dead&limit=100`: counts per state and the
//!   newest entries, without openids or message content;
//! - `POST /admin/outbox/{id}/retry`: queues a dead entry again;
//! - `GET /admin/quota/{account}`: usage of each API against its limits.
//!
//! Without an admin key in the config, every admin request gets 404.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::bearer;
use crate::outbox::{EntryState, now_ms};

/// Query of `GET /admin/outbox`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    limit: Option<usize>,
}

const DEFAULT_LIST_LIMIT: usize = 100;
const MAX_LIST_LIMIT: usize = 1000;

pub async fn list_outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    let filter = match query
        .state
        .as_deref()
        .map(|name| (name, EntryState::parse(name)))
    {
        None => None,
        Some((_, Some(parsed))) => Some(parsed),
        Some((name, None)) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unknown state {name:?}; use pending, sending, sent, dead or in_doubt"),
            )
                .into_response();
        }
    };
    let limit = query
        .limit
        .unwrap_or(DEFAULT_LIST_LIMIT)
        .min(MAX_LIST_LIMIT);
    let store = state.outbox.store();
    let listed = store
        .outbox_counts()
        .and_then(|counts| Ok((counts, store.outbox_list(filter, limit)?)));
    match listed {
        Ok((counts, entries)) => {
            let counts: BTreeMap<String, u64> = counts.into_iter().collect();
            Json(json!({ "counts": counts, "entries": entries })).into_response()
        }
        Err(err) => internal_error(&err),
    }
}

pub async fn retry_entry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    match state.outbox.store().outbox_retry(id, now_ms()) {
        Ok(true) => {
            tracing::info!(
                id,
                "dead or in_doubt outbox entry queued again by the admin"
            );
            state.outbox.wake();
            Json(json!({ "id": id, "state": "pending" })).into_response()
        }
        Ok(false) => (
            StatusCode::NOT_FOUND,
            "no dead or in_doubt entry with this id",
        )
            .into_response(),
        Err(err) => internal_error(&err),
    }
}

pub async fn quota(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(account): Path<String>,
) -> Response {
    if let Some(denied) = deny(&state, &headers) {
        return denied;
    }
    if state.apis.client(&account).is_none() {
        return (StatusCode::NOT_FOUND, "unknown account or no app_secret").into_response();
    }
    match state.apis.quota().usage(&account) {
        Ok(usage) => Json(usage).into_response(),
        Err(err) => internal_error(&err),
    }
}

/// Returns the response for a request without the admin key: 404 when
/// the admin API is disabled, 401 otherwise. Returns none for the admin key.
pub(super) fn deny(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let live = state.live();
    if !live.keys.admin_enabled() {
        return Some((StatusCode::NOT_FOUND, "admin API disabled").into_response());
    }
    if bearer(headers).is_some_and(|key| live.keys.is_admin(key)) {
        return None;
    }
    tracing::warn!("admin request without a valid admin key");
    Some(
        (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer")],
            "missing or invalid bearer key",
        )
            .into_response(),
    )
}

fn internal_error(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "admin request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "store failure").into_response()
}
