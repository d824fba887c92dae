//! Host services that plugins reach through imports beyond `log`,
//! `config` and `kv`: the follower ledger and pseudonyms ([`ledger`],
//! [`pseudonym`]), parametric QR codes ([`qrcode`]) and temporary media
//! ([`media`]). A plugin gets a service only when its `capabilities` in
//! the config name it ([`Grants`]).
//!
//! Plugins run on blocking threads and their imports are synchronous, so
//! the services that call WeChat run the async API client on the tokio
//! runtime of the caller and wait for it, at most [`CALL_TIMEOUT`] per call.

mod blocking;
pub mod fetch;
pub mod ledger;
pub mod media;
pub mod pseudonym;
pub mod qrcode;

use std::sync::Arc;
use std::time::Duration;

use crate::apis::AccountApis;
use crate::protocol::message::Inbound;
use crate::store::{Pending, Store, StoreError};
use crate::wechat::{ApiError, LimitKind};

pub use ledger::{Follower, LedgerEvent};
pub use pseudonym::PseudonymKey;
pub use qrcode::QrCode;

use blocking::KeyedLocks;

/// Maximum time of one WeChat API call of a service.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Capability names of these services, as `capabilities` in the config
/// lists them.
pub const CAPABILITIES: &[&str] = &["followers", "qrcode", "media"];

/// Returns the table definitions of every service, run when the store opens.
pub(crate) fn schema() -> [&'static str; 4] {
    [
        ledger::SCHEMA,
        pseudonym::SCHEMA,
        qrcode::SCHEMA,
        media::SCHEMA,
    ]
}

/// The services one plugin was granted. Everything is denied by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants {
    pub followers: bool,
    pub qrcode: bool,
    pub media: bool,
}

impl Grants {
    /// Returns the grants named in a plugin's `capabilities` list.
    pub fn from_capabilities(capabilities: &[String]) -> Grants {
        let has = |name: &str| capabilities.iter().any(|c| c == name);
        Grants {
            followers: has("followers"),
            qrcode: has("qrcode"),
            media: has("media"),
        }
    }
}

/// The failure of a service call. No variant carries an openid or a ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid QR code request: {0}")]
    InvalidScene(String),
    #[error("the daily quota or call rate of the API is used up")]
    Quota,
    #[error("the account already has the maximum number of permanent QR codes")]
    PermanentLimit,
    #[error("WeChat answered errcode {errcode}: {message}")]
    Api { errcode: i64, message: String },
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        ServiceError::Unavailable(err.to_string())
    }
}

impl From<ApiError> for ServiceError {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Limit {
                kind: LimitKind::DailyQuota | LimitKind::Frequency,
                ..
            } => ServiceError::Quota,
            ApiError::Api {
                errcode, errmsg, ..
            } => ServiceError::Api {
                errcode,
                message: errmsg,
            },
            ApiError::InvalidRequest { reason, .. } => ServiceError::InvalidScene(reason),
            other => ServiceError::Unavailable(other.to_string()),
        }
    }
}

/// The services of one host, shared by every plugin call.
pub struct Services {
    backend: Option<Backend>,
    locks: KeyedLocks,
}

#[derive(Clone)]
struct Backend {
    store: Store,
    apis: Arc<AccountApis>,
    pseudonyms: PseudonymKey,
    /// Set for shadow runs: reads work, and a call that would create a QR
    /// code or upload media fails instead of calling WeChat.
    read_only: bool,
}

impl Services {
    /// Creates the services over the host's store and API clients.
    pub fn new(store: Store, apis: Arc<AccountApis>) -> Result<Services, StoreError> {
        let pseudonyms = PseudonymKey::load_or_create(&store)?;
        Ok(Services {
            backend: Some(Backend {
                store,
                apis,
                pseudonyms,
                read_only: false,
            }),
            locks: KeyedLocks::default(),
        })
    }

    /// Returns a view of these services for a shadow run: ledger reads,
    /// pseudonyms and cached QR codes and media work as here, and a call
    /// that would reach WeChat or change the store fails with
    /// [`ServiceError::Unavailable`].
    pub fn read_only(&self) -> Services {
        Services {
            backend: self.backend.clone().map(|backend| Backend {
                read_only: true,
                ..backend
            }),
            locks: KeyedLocks::default(),
        }
    }

    /// Creates services without a store: every call fails with
    /// [`ServiceError::Unavailable`]. For runtimes without a host.
    pub fn unavailable() -> Services {
        Services {
            backend: None,
            locks: KeyedLocks::default(),
        }
    }

    fn backend(&self) -> Result<&Backend, ServiceError> {
        self.backend.as_ref().ok_or_else(|| {
            ServiceError::Unavailable("this runtime has no host services".to_owned())
        })
    }

    /// Fails for a read-only view, before a call that would reach WeChat or
    /// write to the store.
    fn check_writable(backend: &Backend, operation: &str) -> Result<(), ServiceError> {
        if backend.read_only {
            return Err(ServiceError::Unavailable(format!(
                "a shadow run cannot {operation}; only cached results are available"
            )));
        }
        Ok(())
    }

    /// Runs `work` with the store writes it makes on this thread joining
    /// the writes of concurrent callbacks in one transaction (see
    /// [`Store::deferred`]). Nothing of `work` may leave the process before
    /// [`Services::make_durable`] returns for the result.
    pub fn deferred<T>(&self, work: impl FnOnce() -> T) -> (T, Pending) {
        match &self.backend {
            Some(backend) => backend.store.deferred(work),
            None => (work(), Pending::default()),
        }
    }

    /// Commits the writes of a [`Services::deferred`] run unless another
    /// caller committed them already.
    pub fn make_durable(&self, pending: Pending) -> Result<(), StoreError> {
        match &self.backend {
            Some(backend) => backend.store.make_durable(pending),
            None => Ok(()),
        }
    }

    /// Records a follow, unfollow or scan callback in the ledger, once per
    /// `dedupe_key`. Other callbacks change nothing. Returns true when
    /// this call recorded the callback.
    pub fn record_callback(
        &self,
        account: &str,
        dedupe_key: &str,
        inbound: &Inbound,
        now_secs: u64,
    ) -> Result<bool, ServiceError> {
        let Some(event) = LedgerEvent::of(inbound) else {
            return Ok(false);
        };
        let backend = self.backend()?;
        Self::check_writable(backend, "record callbacks in the ledger")?;
        let recorded = backend.store.ledger_record(
            account,
            &inbound.from_user,
            dedupe_key,
            &event,
            inbound.create_time,
            now_secs,
        )?;
        Ok(recorded)
    }

    /// Returns the ledger record of `openid` in `account`.
    pub fn follower(&self, account: &str, openid: &str) -> Result<Option<Follower>, ServiceError> {
        Ok(self.backend()?.store.ledger_get(account, openid)?)
    }

    /// Returns true when the ledger records `openid` as following `account`.
    pub fn is_following(&self, account: &str, openid: &str) -> Result<bool, ServiceError> {
        Ok(self
            .follower(account, openid)?
            .is_some_and(|follower| follower.subscribed))
    }

    /// Returns the pseudonym of `openid` in `account`.
    pub fn pseudonym(&self, account: &str, openid: &str) -> Result<String, ServiceError> {
        Ok(self.backend()?.pseudonyms.pseudonym(account, openid))
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("available", &self.backend.is_some())
            .finish_non_exhaustive()
    }
}
