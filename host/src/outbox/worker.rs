//! The outbox worker: a tokio task that delivers due entries one at a
//! time, writes a heartbeat, and takes over entries of workers that died.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::table::{AttemptError, ClaimedEntry, Reclaimed};
use super::{Action, Outbox, now_ms};
use crate::apis::AccountApis;
use crate::config::{InDoubtPolicy, OutboxConfig};
use crate::wechat::{ApiError, CustomMessage, RetryPolicy, TemplateMessage, TemplateValue};

/// How often a worker writes its heartbeat and looks for entries of dead
/// workers.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

/// Worker settings, from [`OutboxConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    /// Attempts of one entry, the first included.
    pub max_attempts: u32,
    /// Delay before attempt `n + 1` after `n` transient failures.
    pub backoff: RetryPolicy,
    /// How often an idle worker looks for due entries.
    pub poll: Duration,
    /// Heartbeat age after which another worker's claims are taken over.
    pub worker_timeout: Duration,
    /// Whether a customer-service message taken over from a dead worker
    /// waits in `in_doubt` instead of being sent again.
    pub hold_in_doubt: bool,
}

impl From<&OutboxConfig> for WorkerConfig {
    fn from(config: &OutboxConfig) -> WorkerConfig {
        WorkerConfig {
            max_attempts: config.max_attempts,
            backoff: RetryPolicy {
                max_attempts: config.max_attempts,
                base_delay: Duration::from_millis(config.retry_base_ms),
                max_delay: Duration::from_millis(config.retry_max_ms),
            },
            poll: Duration::from_millis(config.poll_ms),
            worker_timeout: Duration::from_secs(config.worker_timeout_secs),
            hold_in_doubt: config.in_doubt == InDoubtPolicy::Hold,
        }
    }
}

/// A running worker. Dropping it signals the worker to stop after the
/// delivery in progress.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    /// Stops the worker and waits up to `grace` for its delivery in
    /// progress to finish.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(grace, task).await;
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts a worker on the current tokio runtime.
pub fn spawn_worker(outbox: Outbox, apis: Arc<AccountApis>, config: WorkerConfig) -> WorkerHandle {
    let (stop, stopped) = watch::channel(false);
    let worker = Worker {
        id: format!("{:016x}", rand::random::<u64>()),
        outbox,
        apis,
        config,
    };
    let task = tokio::spawn(worker.run(stopped));
    WorkerHandle {
        stop,
        task: Some(task),
    }
}

struct Worker {
    id: String,
    outbox: Outbox,
    apis: Arc<AccountApis>,
    config: WorkerConfig,
}

impl Worker {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let store = self.outbox.store().clone();
        let wake = self.outbox.wake_signal();
        // NB: the heartbeat row must exist before the first claim, or
        // another process's reclaim would take the claim over at once.
        if let Err(err) = store.outbox_heartbeat(&self.id, now_ms()) {
            tracing::error!(worker = %self.id, error = %err, "outbox heartbeat failed");
        }
        tracing::info!(worker = %self.id, "outbox worker started");
        let heartbeat = tokio::spawn(beat(store.clone(), self.id.clone(), stopped.clone()));
        let mut last_reclaim: Option<Instant> = None;

        while !*stopped.borrow() {
            if last_reclaim.is_none_or(|at| at.elapsed() >= HEARTBEAT_INTERVAL) {
                self.reclaim();
                last_reclaim = Some(Instant::now());
            }
            match store.outbox_claim(&self.id, now_ms()) {
                Ok(Some(entry)) => self.deliver(entry).await,
                Ok(None) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.config.poll) => {}
                        _ = stopped.changed() => {}
                    }
                }
                Err(err) => {
                    tracing::error!(worker = %self.id, error = %err, "outbox claim failed");
                    tokio::time::sleep(self.config.poll).await;
                }
            }
        }

        heartbeat.abort();
        if let Err(err) = store.outbox_retire(&self.id) {
            tracing::warn!(worker = %self.id, error = %err, "failed to remove the outbox heartbeat");
        }
        tracing::info!(worker = %self.id, "outbox worker stopped");
    }

    fn reclaim(&self) {
        let now = now_ms();
        let timeout = i64::try_from(self.config.worker_timeout.as_millis()).unwrap_or(i64::MAX);
        let reclaimed =
            self.outbox
                .store()
                .outbox_reclaim(now - timeout, self.config.hold_in_doubt, now);
        match reclaimed {
            Ok(Reclaimed { resent, held }) => {
                if resent > 0 {
                    tracing::warn!(
                        worker = %self.id,
                        count = resent,
                        "outbox entries of a stopped worker queued again; a customer-service \
                         message among them may reach WeChat twice"
                    );
                }
                if held > 0 {
                    tracing::warn!(
                        worker = %self.id,
                        count = held,
                        "customer-service messages of a stopped worker moved to in_doubt; \
                         `wxhost outbox list --state in_doubt` shows them and \
                         `wxhost outbox retry ID` sends one again"
                    );
                }
            }
            Err(err) => tracing::error!(worker = %self.id, error = %err, "outbox reclaim failed"),
        }
    }

    async fn deliver(&self, entry: ClaimedEntry) {
        let result = self.send(&entry).await;
        let store = self.outbox.store();
        let now = now_ms();
        let recorded = match result {
            Ok(()) => {
                tracing::debug!(id = entry.id, account = %entry.account, kind = %entry.kind, "outbox entry sent");
                store.outbox_mark_sent(entry.id, &self.id, now)
            }
            Err(failure) if failure.retryable && entry.attempts < self.config.max_attempts => {
                let delay = self.config.backoff.delay(entry.attempts);
                tracing::warn!(
                    id = entry.id,
                    account = %entry.account,
                    kind = %entry.kind,
                    source = %entry.source,
                    attempt = entry.attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    error = %failure.error.message,
                    "outbox delivery failed; retrying"
                );
                let next = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                store.outbox_mark_retry(entry.id, &self.id, next, &failure.error, now)
            }
            Err(failure) => {
                tracing::error!(
                    id = entry.id,
                    account = %entry.account,
                    kind = %entry.kind,
                    source = %entry.source,
                    attempt = entry.attempts,
                    errcode = failure.error.errcode,
                    error = %failure.error.message,
                    "outbox entry dead-lettered"
                );
                store.outbox_mark_dead(entry.id, &self.id, &failure.error, now)
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                id = entry.id,
                worker = %self.id,
                "outbox entry was taken over by another worker during the attempt"
            ),
            Err(err) => {
                tracing::error!(id = entry.id, error = %err, "failed to record the outbox attempt")
            }
        }
    }

    async fn send(&self, entry: &ClaimedEntry) -> Result<(), Failure> {
        let action: Action = serde_json::from_str(&entry.action).map_err(|err| {
            Failure::permanent(None, format!("the stored action does not decode: {err}"))
        })?;
        let Some(client) = self.apis.client(&entry.account) else {
            return Err(Failure::permanent(
                None,
                "the account has no app_secret in the config".to_owned(),
            ));
        };
        let openid = entry.openid.clone();
        let result = match action {
            Action::Custom { body, kf_account } => {
                let message = CustomMessage {
                    touser: openid,
                    body,
                    kf_account,
                };
                client.send_custom_reserved(&message).await
            }
            Action::Template(template) => {
                let data: BTreeMap<String, TemplateValue> = template
                    .data
                    .into_iter()
                    .map(|(name, value)| (name, TemplateValue { value }))
                    .collect();
                let message = TemplateMessage {
                    touser: openid,
                    template_id: template.template_id,
                    url: template.url,
                    miniprogram: template.miniprogram,
                    client_msg_id: Some(entry.idempotency_key.clone()),
                    data,
                };
                client.send_template(&message).await.map(|_| ())
            }
            Action::Tag { tag_id } => client.batch_tag(tag_id, &[openid]).await,
            Action::Untag { tag_id } => client.batch_untag(tag_id, &[openid]).await,
        };
        result.map_err(|err| Failure::from_api(&err))
    }
}

/// A failed attempt and whether a later attempt may succeed.
struct Failure {
    error: AttemptError,
    retryable: bool,
}

impl Failure {
    fn permanent(errcode: Option<i64>, message: String) -> Failure {
        Failure {
            error: AttemptError { errcode, message },
            retryable: false,
        }
    }

    /// Retries system-busy (-1), transport and store failures, a token
    /// error that survived the client's own token refresh, and an
    /// exhausted force-refresh budget. Everything else is final, because
    /// repeating it burns quota or cannot succeed.
    fn from_api(err: &ApiError) -> Failure {
        let retryable = err.is_transient()
            || err.is_token_invalid()
            || matches!(
                err,
                ApiError::Store(_) | ApiError::ForceRefreshBudget { .. }
            );
        Failure {
            error: AttemptError {
                errcode: err.errcode(),
                message: err.to_string(),
            },
            retryable,
        }
    }
}

async fn beat(store: crate::store::Store, worker: String, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(HEARTBEAT_INTERVAL);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.changed() => return,
        }
        if let Err(err) = store.outbox_heartbeat(&worker, now_ms()) {
            tracing::error!(worker = %worker, error = %err, "outbox heartbeat failed");
        }
    }
}
