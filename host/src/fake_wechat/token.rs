//! The fake's token endpoints, `GET /cgi-bin/token` and
//! `POST /cgi-bin/stable_token`.
//!
//! Classic tokens: each fetch issues a new token and revokes every earlier
//! classic token of the account after the overlap (5 minutes by default).
//! Stable tokens: a normal call returns the current token and issues a new
//! one only within the last 5 minutes before expiry, leaving the old one
//! valid until it expires. `force_refresh: true` revokes the current token
//! at once, at most 20 times a day and 30 s apart. The two kinds never
//! affect each other.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::state::{FakeState, IssuedToken, TokenKind, cst_day, fail};

/// Handles `GET /cgi-bin/token` with the query `params` and returns the
/// JSON response.
pub(crate) fn classic(state: &FakeState, peer: IpAddr, params: &[(String, String)]) -> Value {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(answer) = check_whitelist(state, peer) {
        return answer;
    }
    if param("grant_type") != Some("client_credential") {
        return fail(40002, "invalid grant_type");
    }
    let appid = param("appid").unwrap_or_default();
    // WeChat rejects a wrong secret on this endpoint with 40001.
    if let Err(answer) = check_credentials(state, appid, param("secret"), 40001) {
        return answer;
    }
    if let Err(answer) = state.count_call(appid, "/cgi-bin/token") {
        return answer;
    }

    let now = state.now_ms();
    let overlap_ms = millis(state.config.classic_overlap);
    let mut inner = state.lock();
    for issued in inner.tokens.values_mut() {
        if issued.appid == appid && issued.kind == TokenKind::Classic {
            let revoke_at = now + overlap_ms;
            issued.revoked_at_ms = Some(
                issued
                    .revoked_at_ms
                    .map_or(revoke_at, |at| at.min(revoke_at)),
            );
        }
    }
    drop(inner);
    let (token, expires_in) = issue(state, appid, TokenKind::Classic, now);
    json!({ "access_token": token, "expires_in": expires_in })
}

/// Handles `POST /cgi-bin/stable_token` with the JSON `body` and returns
/// the JSON response.
pub(crate) fn stable(state: &FakeState, peer: IpAddr, body: &Value) -> Value {
    if let Some(answer) = check_whitelist(state, peer) {
        return answer;
    }
    if body.get("grant_type").and_then(Value::as_str) != Some("client_credential") {
        return fail(40002, "invalid grant_type");
    }
    let appid = body
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = body.get("secret").and_then(Value::as_str);
    if let Err(answer) = check_credentials(state, appid, secret, 40125) {
        return answer;
    }
    if let Err(answer) = state.count_call(appid, "/cgi-bin/stable_token") {
        return answer;
    }
    let force = body
        .get("force_refresh")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let now = state.now_ms();

    let current = current_stable(state, appid, now);
    if force {
        match force_allowed(state, appid, now) {
            Err(answer) => return answer,
            Ok(false) => {
                // Too soon after the last forced refresh: WeChat does not
                // refresh and returns the current token.
                if let Some((token, expires_at)) = current {
                    return answer(&token, expires_at, now);
                }
            }
            Ok(true) => {
                let mut inner = state.lock();
                if let Some((token, _)) = &current
                    && let Some(issued) = inner.tokens.get_mut(token)
                {
                    issued.revoked_at_ms = Some(now);
                }
                drop(inner);
                return fresh_stable(state, appid, now);
            }
        }
    }
    let rotate_ms = millis(state.config.stable_rotate_before);
    match current {
        Some((token, expires_at)) if expires_at - now > rotate_ms => {
            answer(&token, expires_at, now)
        }
        _ => fresh_stable(state, appid, now),
    }
}

fn answer(token: &str, expires_at_ms: i64, now: i64) -> Value {
    json!({ "access_token": token, "expires_in": (expires_at_ms - now) / 1000 })
}

fn fresh_stable(state: &FakeState, appid: &str, now: i64) -> Value {
    let (token, expires_in) = issue(state, appid, TokenKind::Stable, now);
    if let Some(account) = state.lock().accounts.get_mut(appid) {
        account.current_stable = Some(token.clone());
    }
    json!({ "access_token": token, "expires_in": expires_in })
}

/// Returns the account's current stable token while it is still valid.
fn current_stable(state: &FakeState, appid: &str, now: i64) -> Option<(String, i64)> {
    let inner = state.lock();
    let token = inner.accounts.get(appid)?.current_stable.clone()?;
    let issued = inner.tokens.get(&token)?;
    let valid = now < issued.expires_at_ms && issued.revoked_at_ms.is_none_or(|at| now < at);
    valid.then_some((token, issued.expires_at_ms))
}

/// Returns `Ok(true)` and records the refresh when a forced refresh is
/// allowed, `Ok(false)` when the last one was too recent, and the 45009
/// response when today's budget is used up.
fn force_allowed(state: &FakeState, appid: &str, now: i64) -> Result<bool, Value> {
    let config = &state.config;
    let mut inner = state.lock();
    let Some(account) = inner.accounts.get_mut(appid) else {
        return Ok(false);
    };
    let today = cst_day(now);
    account.force_refreshes.retain(|at| cst_day(*at) == today);
    if account.force_refreshes.len() >= config.force_refresh_daily_limit as usize {
        return Err(fail(45009, "reach max api daily quota limit"));
    }
    if let Some(last) = account.force_refreshes.last()
        && now - last < millis(config.force_refresh_min_interval)
    {
        return Ok(false);
    }
    account.force_refreshes.push(now);
    Ok(true)
}

fn issue(state: &FakeState, appid: &str, kind: TokenKind, now: i64) -> (String, i64) {
    let id = state.next_id();
    let prefix = match kind {
        TokenKind::Classic => "CLASSIC",
        TokenKind::Stable => "STABLE",
    };
    let token = format!("FAKE_{prefix}_{id:06}_{:016x}", rand::random::<u64>());
    let lifetime_secs = i64::try_from(state.config.token_lifetime.as_secs()).unwrap_or(7200);
    state.lock().tokens.insert(
        token.clone(),
        IssuedToken {
            appid: appid.to_owned(),
            kind,
            expires_at_ms: now + lifetime_secs * 1000,
            revoked_at_ms: None,
        },
    );
    (token, lifetime_secs)
}

fn check_credentials(
    state: &FakeState,
    appid: &str,
    secret: Option<&str>,
    bad_secret_errcode: i64,
) -> Result<(), Value> {
    let inner = state.lock();
    let Some(account) = inner.accounts.get(appid) else {
        return Err(fail(40013, "invalid appid"));
    };
    if secret != Some(account.secret.as_str()) {
        let errmsg = if bad_secret_errcode == 40125 {
            "invalid appsecret"
        } else {
            "invalid credential, access_token is invalid or not latest"
        };
        return Err(fail(bad_secret_errcode, errmsg));
    }
    Ok(())
}

/// Returns the 40164 response when an IP whitelist is set and `peer` is not
/// in it.
pub(crate) fn check_whitelist(state: &FakeState, peer: IpAddr) -> Option<Value> {
    let whitelist = state.config.ip_whitelist.as_ref()?;
    if whitelist.contains(&peer) {
        return None;
    }
    Some(fail(
        40164,
        &format!("invalid ip {peer} ipv6 ::ffff:{peer}, not in whitelist"),
    ))
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
