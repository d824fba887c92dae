//! Work a callback does besides its reply: it opens the follower's
//! customer-service window, prepares the plugins' actions for the outbox,
//! and finishes a route that outlived the reply budget.

use std::sync::Arc;

use super::AppState;
use super::callback::{RouteTask, now_secs};
use crate::accounts::Account;
use crate::apis::follower_action;
use crate::dispatch::Outcome;
use crate::outbox::{self, NewEntry, PluginAction, Recipient, now_ms, reply_to_custom};
use crate::protocol::message::Inbound;

/// The slot of the action that carries a late passive reply.
const LATE_REPLY_SLOT: &str = "late-reply";

/// Records what the follower did, so that the actions of this callback
/// can use the customer-service window it opened.
pub(super) fn record_interaction(state: &AppState, account: &Account, inbound: &Inbound) {
    let Some(action) = follower_action(inbound) else {
        return;
    };
    if let Err(err) =
        state
            .apis
            .record_interaction(&account.name, &inbound.from_user, action, now_ms())
    {
        tracing::error!(
            account = %account.name,
            user = %state.log_ids.of(&inbound.from_user),
            error = %err,
            "failed to record the follower interaction"
        );
    }
}

/// Records a follow, unfollow or QR scan in the follower ledger, once per
/// callback key.
pub(super) fn record_follower(
    state: &AppState,
    account: &Account,
    inbound: &Inbound,
    callback_key: &str,
) {
    let services = state.services();
    if let Err(err) = services.record_callback(&account.name, callback_key, inbound, now_secs()) {
        tracing::error!(
            account = %account.name,
            user = %state.log_ids.of(&inbound.from_user),
            error = %err,
            "failed to record the follower event"
        );
    }
}

/// Checks the route's actions and returns the outbox entries of the
/// valid ones. An action for another follower is dropped unless the
/// ledger records that openid as following the account.
pub(super) fn prepare_actions(
    state: &AppState,
    account: &Account,
    inbound: &Inbound,
    callback_key: &str,
    actions: Vec<PluginAction>,
) -> Vec<NewEntry> {
    if actions.is_empty() {
        return Vec::new();
    }
    let actions = actions
        .into_iter()
        .filter(|action| addressee_follows(state, account, action))
        .collect();
    let recipient = Recipient {
        account: &account.name,
        openid: &inbound.from_user,
        callback_key,
        log_ids: &state.log_ids,
    };
    outbox::prepare(&state.apis, &recipient, actions)
}

fn addressee_follows(state: &AppState, account: &Account, action: &PluginAction) -> bool {
    let Some(openid) = &action.to else {
        return true;
    };
    let services = state.services();
    let follows = match services.is_following(&account.name, openid) {
        Ok(follows) => follows,
        Err(err) => {
            tracing::error!(account = %account.name, error = %err, "failed to read the follower ledger");
            false
        }
    };
    if !follows {
        tracing::warn!(
            account = %account.name,
            plugin = %action.plugin,
            kind = action.action.kind(),
            user = %state.log_ids.of(openid),
            "plugin action dropped: the ledger does not record the recipient as a follower"
        );
    }
    follows
}

/// Waits for a route that passed the reply budget, then queues its
/// actions and, when it produced a passive reply, the equivalent
/// customer-service message. The callback already got `success`.
pub(super) fn finish_late(
    state: AppState,
    account: Arc<Account>,
    inbound: Arc<Inbound>,
    callback_key: String,
    task: RouteTask,
) {
    tokio::spawn(async move {
        let run = match task.await {
            Ok(run) => run,
            Err(err) => {
                tracing::error!(account = %account.name, error = %err, "plugin task failed");
                return;
            }
        };
        let mut actions = Vec::with_capacity(run.actions.len() + 1);
        match run.outcome {
            Outcome::Reply { plugin, reply } => match reply_to_custom(reply) {
                Ok(action) => actions.push(PluginAction {
                    plugin,
                    slot: LATE_REPLY_SLOT.to_owned(),
                    to: None,
                    action,
                }),
                Err(reason) => tracing::warn!(
                    account = %account.name,
                    plugin = %plugin,
                    reason,
                    "late reply dropped: it has no customer-service equivalent"
                ),
            },
            Outcome::Fault { plugin, fault } => tracing::warn!(
                account = %account.name,
                plugin = %plugin,
                fault = %fault,
                "plugin fault after the reply budget"
            ),
            Outcome::NoReply | Outcome::Skipped { .. } => {}
        }
        let entries = prepare_actions(
            &state,
            &account,
            &inbound,
            &callback_key,
            actions.into_iter().chain(run.actions).collect(),
        );
        match state.outbox.enqueue(&entries) {
            Ok(queued) => tracing::info!(
                account = %account.name,
                user = %state.log_ids.of(&inbound.from_user),
                queued,
                "late route result queued in the outbox"
            ),
            Err(err) => tracing::error!(
                account = %account.name,
                error = %err,
                "failed to queue the late route result"
            ),
        }
    });
}
