//! Handlers for `GET` and `POST /wechat/{account}`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::pool::PluginPool;
use super::reply::{HttpReply, render_outcome};
use super::{AppState, actions};
use crate::accounts::Account;
use crate::config::MAX_BODY_BYTES_RANGE;
use crate::dedupe::{Claim, dedupe_key};
use crate::dispatch::{Outcome, RouteRun};
use crate::lifecycle::Live;
use crate::protocol::envelope;
use crate::protocol::message::Inbound;
use crate::protocol::{CallbackError, CallbackQuery};

/// `GET /wechat/{account}`: WeChat's URL check. Answers `echostr` verbatim
/// as text/plain when `signature` matches.
pub async fn verify_url(
    State(state): State<AppState>,
    Path(account): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Response {
    let live = state.live();
    let Some(account) = live.accounts.get(&account) else {
        return unknown_account(&account);
    };
    let query = CallbackQuery::parse(raw_query.as_deref().unwrap_or_default());
    let checked = envelope::verify_url(&query, &account.keys.token)
        .and_then(|echostr| fresh(&live, &query).map(|()| echostr));
    match checked {
        Ok(echostr) => {
            tracing::info!(account = %account.name, "url verification passed");
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                echostr,
            )
                .into_response()
        }
        Err(err) => rejected(&account.name, &err),
    }
}

/// `POST /wechat/{account}`: verifies, decrypts and parses the callback,
/// runs the account's plugins once across WeChat's retries, and answers
/// within the reply budget.
pub async fn handle_callback(
    State(state): State<AppState>,
    Path(account): Path<String>,
    RawQuery(raw_query): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
            return too_large(&account, state.max_body_bytes);
        }
        Err(rejection) => {
            tracing::warn!(
                account = %truncated(&account).escape_debug(),
                error = %rejection,
                "failed to read the callback body"
            );
            return rejection.into_response();
        }
    };
    // One snapshot of the config and plugin versions for the whole
    // callback, so a reload never changes them midway.
    let live = state.live();
    let Some(account) = live.accounts.get(&account).cloned() else {
        return unknown_account(&account);
    };

    // Verify the signatures, decrypt and parse.
    let query = CallbackQuery::parse(raw_query.as_deref().unwrap_or_default());
    let opened = match envelope::open_callback(&query, &body, &account.keys)
        .and_then(|opened| fresh(&live, &query).map(|()| opened))
    {
        Ok(opened) => opened,
        Err(err) => return rejected(&account.name, &err),
    };
    let inbound = Arc::new(opened.inbound);
    let callback_xml = opened.xml;
    let sealing = opened
        .mode
        .is_encrypted()
        .then(|| query.nonce.clone().unwrap_or_default());

    // Claim the callback, or answer from the first delivery.
    let key = dedupe_key(&account.name, &inbound);
    let claim = match state.dedupe.claim(&key, now_secs()) {
        Ok(claim) => claim,
        Err(err) => {
            tracing::error!(account = %account.name, error = %err, "dedupe store failed");
            return HttpReply::success().into_response();
        }
    };
    let guard = match claim {
        Claim::First(guard) => guard,
        Claim::Finished(stored) => {
            log_done(&state, &account, &inbound, "duplicate", None, started);
            return HttpReply::from(stored).into_response();
        }
        Claim::InFlight(slot) => {
            let budget = live.reply_budget.saturating_sub(started.elapsed());
            let answer = Claim::wait(slot, budget).await;
            log_done(&state, &account, &inbound, "duplicate", None, started);
            return answer
                .map_or_else(HttpReply::success, HttpReply::from)
                .into_response();
        }
    };

    // Run the plugins, bounded by the reply budget.
    let budget = live.reply_budget.saturating_sub(started.elapsed());
    let mut task = start_route(&state, &live, &account, &inbound, &key, budget);
    let run = match tokio::time::timeout(budget, &mut task).await {
        Ok(Ok(run)) => run,
        Ok(Err(err)) => {
            tracing::error!(account = %account.name, error = %err, "plugin task failed");
            RouteRun {
                outcome: Outcome::NoReply,
                actions: Vec::new(),
                calls: Vec::new(),
            }
        }
        Err(_elapsed) => {
            // The route keeps running up to each plugin's own deadline;
            // its reply then goes out as a customer-service message.
            log_done(&state, &account, &inbound, "budget_exceeded", None, started);
            let reply = HttpReply::success();
            if let Err(err) = guard.finish(reply.to_stored(), now_secs()) {
                tracing::error!(account = %account.name, error = %err, "failed to store reply");
            }
            actions::finish_late(state.clone(), account.clone(), inbound.clone(), key, task);
            return reply.into_response();
        }
    };

    if let Some(recorder) = &live.recorder {
        recorder.record(
            &account.name,
            &callback_xml,
            &inbound.from_user,
            &state.log_ids,
            &run.calls,
        );
    }

    // Render and seal; store the answer and queue the actions together.
    let entries = actions::prepare_actions(&state, &account, &inbound, &key, run.actions);
    let (reply, plugin, label) =
        render_outcome(&account, &inbound, run.outcome, sealing.as_deref());
    match guard.finish_with_actions(reply.to_stored(), now_secs(), &entries) {
        Ok(0) => {}
        Ok(_) => state.outbox.wake(),
        Err(err) => {
            tracing::error!(
                account = %account.name,
                actions = entries.len(),
                error = %err,
                "failed to store the reply and its actions"
            );
        }
    }
    log_done(
        &state,
        &account,
        &inbound,
        label,
        plugin.as_deref(),
        started,
    );
    reply.into_response()
}

/// A running plugin route: its result, or why it has none.
pub(super) type RouteTask = Pin<Box<dyn Future<Output = Result<RouteRun, String>> + Send>>;

/// Starts the account's route for `inbound`. Before the plugins run, the
/// route records a follow, unfollow or scan in the follower ledger and
/// opens the follower's customer-service window, so the plugins see both.
///
/// A route whose plugins' deadlines add up to less than `budget` runs on
/// the plugin pool, and its store writes commit together with those of
/// concurrent routes before the task returns. Other routes, among them
/// every route with a plugin that waits on the network, run on tokio's
/// blocking threads, which grow in number while calls wait. They commit
/// each write on its own, so a slow call never holds a transaction open.
fn start_route(
    state: &AppState,
    live: &Live,
    account: &Arc<Account>,
    inbound: &Arc<Inbound>,
    key: &str,
    budget: Duration,
) -> RouteTask {
    let dispatcher = live.dispatcher.clone();
    let bounded = dispatcher
        .bounded_run_time(&account.route, inbound)
        .is_some_and(|bound| bound < budget);
    let services = dispatcher.services().clone();
    let (state, account, inbound, key) = (
        state.clone(),
        account.clone(),
        inbound.clone(),
        key.to_owned(),
    );
    let run = move || {
        actions::record_follower(&state, &account, &inbound, &key);
        actions::record_interaction(&state, &account, &inbound);
        dispatcher.run_route(&account.name, &account.route, &inbound)
    };
    if bounded {
        let receiver = PluginPool::global().run(move || {
            let (run, pending) = services.deferred(run);
            services
                .make_durable(pending)
                .map(|()| run)
                .map_err(|err| format!("the route's store writes were lost: {err}"))
        });
        Box::pin(async move {
            receiver
                .await
                .map_err(|_| "the plugin route panicked".to_owned())?
        })
    } else {
        let handle = tokio::task::spawn_blocking(run);
        Box::pin(async move { handle.await.map_err(|err| err.to_string()) })
    }
}

fn log_done(
    state: &AppState,
    account: &Account,
    inbound: &Inbound,
    outcome: &str,
    plugin: Option<&str>,
    started: Instant,
) {
    tracing::info!(
        account = %account.name,
        msg_type = %inbound.msg_type,
        event = inbound.event.as_deref().unwrap_or(""),
        user = %state.log_ids.of(&inbound.from_user),
        plugin = plugin.unwrap_or(""),
        outcome,
        latency_us = started.elapsed().as_micros() as u64,
        "callback answered"
    );
}

/// Checks the request's `timestamp` against the host's clock when
/// `server.max_timestamp_skew_secs` is set.
fn fresh(live: &Live, query: &CallbackQuery) -> Result<(), CallbackError> {
    match live.config.server.max_timestamp_skew_secs {
        0 => Ok(()),
        max_skew => query.check_timestamp(now_secs(), max_skew),
    }
}

/// Builds the response to a callback that failed a check: the error and,
/// where one exists, a fixed hint that names what to compare in the config.
fn rejected(account: &str, err: &CallbackError) -> Response {
    let status = StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let status_code = status.as_u16();
    let body = match err.hint() {
        Some(hint) => {
            tracing::warn!(account = %account, status = status_code, error = %err, hint, "callback rejected");
            format!("{err}; {hint}")
        }
        None => {
            tracing::warn!(account = %account, status = status_code, error = %err, "callback rejected");
            err.to_string()
        }
    };
    (status, body).into_response()
}

/// Builds the 413 response to a callback whose body exceeds
/// `server.max_body_bytes`, and logs it.
fn too_large(account: &str, limit: usize) -> Response {
    tracing::warn!(
        account = %truncated(account).escape_debug(),
        limit,
        "callback rejected: body larger than server.max_body_bytes"
    );
    let range = MAX_BODY_BYTES_RANGE;
    let message = format!(
        "request body larger than {limit} bytes: raise `server.max_body_bytes` ({} to {}) if WeChat sends callbacks this large",
        range.start(),
        range.end()
    );
    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
}

fn unknown_account(name: &str) -> Response {
    let name = truncated(name);
    tracing::warn!(account = %name.escape_debug(), "callback for an unknown account; the URL path must name an [[accounts]] entry");
    let message = format!(
        "unknown account {:?}: the URL path must be /wechat/NAME with the name of an [[accounts]] entry",
        name
    );
    (StatusCode::NOT_FOUND, message).into_response()
}

/// Returns the first 64 characters of `name`, an account name from the
/// URL path, so a long path cannot flood the log or the response.
fn truncated(name: &str) -> String {
    name.chars().take(64).collect()
}

/// Returns the current Unix time in seconds.
pub(super) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
