//! The fake's HTTP layer: the entry handler that records and dispatches
//! every WeChat call, and the admin endpoints under `/fake/`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::debug;

use super::api::{self, ApiRequest, FakeResponse};
use super::state::{FakeState, Injection, Interaction, RecordedRequest, fail};
use super::token;

/// Routes of the admin API, nested under `/fake`.
pub(crate) fn admin_routes() -> Router<FakeState> {
    Router::new()
        .route("/requests", get(list_requests).delete(clear_requests))
        .route("/deliveries", get(list_deliveries))
        .route("/inject", post(inject))
        .route("/interactions", post(interactions))
        .route("/users", post(users))
        .route("/quota", post(quota))
        .route("/clock", post(clock))
}

/// Records a WeChat call, applies any injected fault and responds.
pub(crate) async fn entry(
    State(state): State<FakeState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    Query(params): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (token_params, query): (Vec<_>, Vec<_>) =
        params.into_iter().partition(|(k, _)| k == "access_token");
    let access_token = token_params.into_iter().next().map(|(_, v)| v);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    // Step 1: record the request. Only method and path are logged.
    debug!(method = %method, path, "fake WeChat request");
    let seq = state.next_id();
    let at_ms = state.now_ms();
    state.lock().requests.push(RecordedRequest {
        seq,
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        access_token: access_token.clone(),
        content_type: content_type.clone(),
        body: body.to_vec(),
        at_ms,
    });

    // Step 2: apply an injected fault.
    if let Some(injection) = state.take_injection(&path) {
        if let Some(ms) = injection.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if injection.drop {
            return dropped_connection();
        }
        if let Some(code) = injection.errcode {
            let errmsg = injection.errmsg.as_deref().unwrap_or("injected error");
            return Json(fail(code, errmsg)).into_response();
        }
    }

    // Step 3: respond.
    let peer_ip = peer.ip();
    match (method, path.as_str()) {
        (Method::GET, "/cgi-bin/token") => {
            let mut all = query;
            if let Some(token) = access_token {
                all.push(("access_token".to_owned(), token));
            }
            Json(token::classic(&state, peer_ip, &all)).into_response()
        }
        (Method::POST, "/cgi-bin/stable_token") => {
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            Json(token::stable(&state, peer_ip, &body)).into_response()
        }
        _ => {
            if path != "/cgi-bin/showqrcode"
                && let Some(answer) = token::check_whitelist(&state, peer_ip)
            {
                return Json(answer).into_response();
            }
            let request = ApiRequest {
                path: &path,
                query: &query,
                access_token: access_token.as_deref(),
                content_type: content_type.as_deref(),
                body: &body,
            };
            match api::handle(&state, &request) {
                FakeResponse::Json(value) => Json(value).into_response(),
                FakeResponse::Image(bytes) => {
                    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
                }
                FakeResponse::NotFound => {
                    (StatusCode::NOT_FOUND, Json(fail(40066, "invalid url"))).into_response()
                }
            }
        }
    }
}

/// Builds a response whose body fails after the headers, so the client
/// sees the connection break.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the fake"))
    });
    Response::new(Body::from_stream(failing))
}

async fn list_requests(State(state): State<FakeState>) -> Json<Vec<RecordedRequest>> {
    Json(state.requests())
}

async fn clear_requests(State(state): State<FakeState>) -> StatusCode {
    state.clear_requests();
    StatusCode::NO_CONTENT
}

async fn list_deliveries(State(state): State<FakeState>) -> Json<Value> {
    Json(json!(state.deliveries()))
}

async fn inject(State(state): State<FakeState>, Json(injection): Json<Injection>) -> StatusCode {
    state.inject(injection);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct InteractionRequest {
    appid: Option<String>,
    openid: String,
    kind: Interaction,
}

async fn interactions(
    State(state): State<FakeState>,
    Json(request): Json<InteractionRequest>,
) -> Response {
    let appid = request.appid.unwrap_or_else(|| state.default_appid());
    match state.record_interaction(&appid, &request.openid, request.kind) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

#[derive(Deserialize)]
struct UserRequest {
    appid: Option<String>,
    openid: String,
    subscribed: bool,
    unionid: Option<String>,
}

async fn users(State(state): State<FakeState>, Json(request): Json<UserRequest>) -> StatusCode {
    let appid = request.appid.unwrap_or_else(|| state.default_appid());
    state.set_user(&appid, &request.openid, request.subscribed, request.unionid);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct QuotaRequest {
    path: String,
    daily_limit: u64,
}

async fn quota(State(state): State<FakeState>, Json(request): Json<QuotaRequest>) -> StatusCode {
    state.set_daily_limit(&request.path, request.daily_limit);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct ClockRequest {
    advance_secs: u64,
}

async fn clock(State(state): State<FakeState>, Json(request): Json<ClockRequest>) -> StatusCode {
    state.advance_clock(Duration::from_secs(request.advance_secs));
    StatusCode::NO_CONTENT
}
