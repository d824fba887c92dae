//! `GET /internal/accounts/{account}/access-token`: hands the account's
//! access token to the company's other services, so that they stop
//! fetching their own and invalidating each other's.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::auth::bearer;
use crate::outbox::now_ms;

/// The JSON answer: WeChat's field names.
#[derive(Debug, Serialize)]
struct TokenAnswer<'a> {
    access_token: &'a str,
    /// Seconds until WeChat stops accepting the token.
    expires_in: i64,
}

/// Answers 401 without a known consumer key, 403 when the consumer may not
/// read the account, 404 for an account without an API client, 502 when
/// the token cannot be obtained, and the token otherwise. The token comes
/// from the account's broker, so it triggers a WeChat fetch only when the
/// broker's cached token is stale.
pub async fn access_token(
    State(state): State<AppState>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    let live = state.live();
    let Some(consumer) = bearer(&headers).and_then(|key| live.keys.consumer(key)) else {
        tracing::warn!(account = %account, "access token request without a valid consumer key");
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer")],
            "missing or invalid bearer key",
        )
            .into_response();
    };
    if !consumer.may_read(&account) {
        tracing::warn!(consumer = %consumer.name, account = %account, "access token request denied");
        return (StatusCode::FORBIDDEN, "not allowed for this account").into_response();
    }
    let Some(client) = state.apis.client(&account) else {
        return (StatusCode::NOT_FOUND, "unknown account or no app_secret").into_response();
    };
    match client.broker().token().await {
        Ok(token) => {
            tracing::info!(consumer = %consumer.name, account = %account, "access token issued");
            let answer = TokenAnswer {
                access_token: token.as_str(),
                expires_in: ((token.expires_at_ms - now_ms()) / 1000).max(0),
            };
            ([(CACHE_CONTROL, "no-store")], Json(answer)).into_response()
        }
        Err(err) => {
            tracing::error!(consumer = %consumer.name, account = %account, error = %err, "access token unavailable");
            (StatusCode::BAD_GATEWAY, "access token unavailable").into_response()
        }
    }
}
