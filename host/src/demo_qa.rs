//! A small reference Q&A service for demos and tests of the `qa-bridge`
//! plugin: real HTTP, a few canned Chinese answers, and knobs that make
//! it slow or failing.
//!
//! `POST /ask` takes `{"account": "...", "question": "...", "user": "..."}`,
//! the body the `qa-bridge` plugin sends, and answers
//! `{"found": true, "answer": "...", "articles": [...]}` or
//! `{"found": false}`. Only `question` is required and read: `account` and
//! `user` (the follower's pseudonym) are accepted and ignored. Query parameters: `delay_ms=N` waits N ms before
//! answering, overriding the service's default delay; `status=N` answers
//! with that HTTP status and `{"error": "forced"}`. `GET /healthz` answers `ok`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Maximum delay the `delay_ms` knob accepts, in milliseconds.
pub const MAX_DELAY_MS: u64 = 60_000;

/// The service's state: its default delay and the request bodies it got.
#[derive(Debug, Clone, Default)]
pub struct DemoQaState {
    delay: Duration,
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl DemoQaState {
    /// Creates a service that waits `delay` before each answer.
    pub fn new(delay: Duration) -> DemoQaState {
        DemoQaState {
            delay,
            requests: Arc::default(),
        }
    }

    /// Returns the raw bodies of the `POST /ask` requests so far.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        // A push is the only update, so a poisoned list is consistent.
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Builds the router over `state`.
pub fn app(state: DemoQaState) -> Router {
    Router::new()
        .route("/ask", post(ask))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Serves on an already bound listener until the task is dropped.
pub async fn serve(listener: TcpListener, state: DemoQaState) -> std::io::Result<()> {
    axum::serve(listener, app(state)).await
}

#[derive(Debug, Deserialize)]
struct Knobs {
    delay_ms: Option<u64>,
    status: Option<u16>,
}

/// The fields of the request body that the answers use. Other fields,
/// such as `account` and `user`, are ignored.
#[derive(Debug, Deserialize)]
struct Question {
    question: String,
}

async fn ask(
    State(state): State<DemoQaState>,
    Query(knobs): Query<Knobs>,
    body: Bytes,
) -> Response {
    state.lock().push(body.to_vec());
    let delay = knobs.delay_ms.map_or(state.delay, |ms| {
        Duration::from_millis(ms.min(MAX_DELAY_MS))
    });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = knobs.status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, axum::Json(json!({ "error": "forced" }))).into_response();
    }
    let question: Question = match serde_json::from_slice(&body) {
        Ok(question) => question,
        Err(err) => {
            let message = format!("invalid request body: {err}");
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": message })),
            )
                .into_response();
        }
    };
    axum::Json(answer(&question.question)).into_response()
}

/// Returns the canned answer for `question`, found by keyword.
pub fn answer(question: &str) -> Value {
    if question.contains("营业时间") || question.contains("几点") {
        return text_answer("我们的营业时间是每天 9:00 至 21:00，节假日照常营业。");
    }
    if question.contains("退货") || question.contains("退款") {
        return text_answer("收到商品 7 天内可申请无理由退货，请在“我的订单”中提交申请。");
    }
    if question.contains("发票") {
        return text_answer("下单时可选择开具电子发票，发票会在发货后 24 小时内发送到您的邮箱。");
    }
    if question.contains("会员") {
        return json!({
            "found": true,
            "answer": "会员权益请看这篇介绍。",
            "articles": [{
                "title": "会员权益说明",
                "description": "积分、折扣和生日礼包一览",
                "pic_url": "https://example.com/qa/member.jpg",
                "url": "https://example.com/qa/member"
            }]
        });
    }
    json!({ "found": false })
}

fn text_answer(text: &str) -> Value {
    json!({ "found": true, "answer": text, "articles": [] })
}
