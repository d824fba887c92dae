//! Parametric QR codes for plugins: checked against WeChat's limits,
//! created through the account's API client and cached in the store.

use rusqlite::{OptionalExtension, params};

use super::blocking::run_blocking;
use super::{ServiceError, Services};
use crate::store::{Store, StoreError};
use crate::wechat::{QrCodeRequest, Scene};

/// The QR code cache, created with the store.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS qr_codes (
    account    TEXT    NOT NULL,
    scene      TEXT    NOT NULL,
    permanent  INTEGER NOT NULL,
    ticket     TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, scene, permanent)
);
";

/// Permanent QR codes WeChat allows per account.
pub const MAX_PERMANENT_CODES: u64 = 100_000;

/// A cached temporary code is reused only while it stays valid longer
/// than this, in seconds, so a follower still has time to scan it.
pub const MIN_REMAINING_SECS: u64 = 60;

/// The URL of a ticket's QR code image at WeChat, before the ticket.
const SHOW_QRCODE_URL: &str = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=";

/// A QR code as plugins receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    pub ticket: String,
    pub url: String,
    pub image_url: String,
    /// Seconds left from now; `None` for permanent codes.
    pub expire_seconds: Option<u32>,
    /// True when the code came from the cache, without an API call.
    pub cached: bool,
}

/// One row of the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CachedCode {
    ticket: String,
    url: String,
    expires_at: Option<u64>,
}

impl Services {
    /// Returns a QR code for `request` in `account`: the cached one while it
    /// is valid, otherwise a new one from WeChat, which is then cached.
    /// Calls for the same scene wait for each other, so a scene costs one
    /// API call even when several callbacks ask at once.
    pub fn create_qrcode(
        &self,
        account: &str,
        request: &QrCodeRequest,
        now_secs: u64,
    ) -> Result<QrCode, ServiceError> {
        request.validate().map_err(ServiceError::InvalidScene)?;
        let backend = self.backend()?;
        let (scene, permanent) = cache_key(request);
        // Permanent codes share one lock per account, so two creations
        // cannot both pass the count check at the cap.
        let lock_key = if permanent {
            format!("qr\u{1f}{account}\u{1f}permanent")
        } else {
            format!("qr\u{1f}{account}\u{1f}{scene}")
        };
        self.locks.with(&lock_key, || {
            let store = &backend.store;
            if let Some(cached) = store.qr_cached(account, &scene, permanent, now_secs)? {
                return Ok(to_qr_code(cached, now_secs, true));
            }
            Self::check_writable(backend, "create QR codes")?;
            if permanent && store.qr_permanent_count(account)? >= MAX_PERMANENT_CODES {
                return Err(ServiceError::PermanentLimit);
            }
            let client = backend.apis.client(account).ok_or_else(|| {
                ServiceError::Unavailable(format!(
                    "account {account} has no app_secret, so wxhost cannot call WeChat for it"
                ))
            })?;
            let ticket = run_blocking(client.create_qrcode(request))??;
            let cached = CachedCode {
                ticket: ticket.ticket,
                url: ticket.url,
                expires_at: if permanent {
                    None
                } else {
                    Some(now_secs + ticket.expire_seconds.unwrap_or(60))
                },
            };
            store.qr_insert(account, &scene, permanent, &cached, now_secs)?;
            Ok(to_qr_code(cached, now_secs, false))
        })
    }
}

fn cache_key(request: &QrCodeRequest) -> (String, bool) {
    let (scene, permanent) = match request {
        QrCodeRequest::Temporary { scene, .. } => (scene, false),
        QrCodeRequest::Permanent { scene } => (scene, true),
    };
    let key = match scene {
        Scene::Id(id) => format!("id:{id}"),
        Scene::Str(text) => format!("str:{text}"),
    };
    (key, permanent)
}

fn to_qr_code(cached: CachedCode, now_secs: u64, from_cache: bool) -> QrCode {
    let image_url = format!("{SHOW_QRCODE_URL}{}", percent_encode(&cached.ticket));
    QrCode {
        ticket: cached.ticket,
        url: cached.url,
        image_url,
        expire_seconds: cached
            .expires_at
            .map(|at| u32::try_from(at.saturating_sub(now_secs)).unwrap_or(u32::MAX)),
        cached: from_cache,
    }
}

/// Percent-encodes everything but unreserved characters. Tickets contain
/// `+`, `/` and `=`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl Store {
    fn qr_cached(
        &self,
        account: &str,
        scene: &str,
        permanent: bool,
        now_secs: u64,
    ) -> Result<Option<CachedCode>, StoreError> {
        let connection = self.lock();
        let row = connection
            .query_row(
                "SELECT ticket, url, expires_at FROM qr_codes \
                 WHERE account = ?1 AND scene = ?2 AND permanent = ?3 \
                 AND (expires_at IS NULL OR expires_at > ?4)",
                params![
                    account,
                    scene,
                    permanent,
                    (now_secs + MIN_REMAINING_SECS) as i64
                ],
                |row| {
                    Ok(CachedCode {
                        ticket: row.get(0)?,
                        url: row.get(1)?,
                        expires_at: row.get::<_, Option<i64>>(2)?.map(|secs| secs as u64),
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    fn qr_permanent_count(&self, account: &str) -> Result<u64, StoreError> {
        let connection = self.lock();
        let count: i64 = connection.query_row(
            "SELECT COUNT(*) FROM qr_codes WHERE account = ?1 AND permanent = 1",
            [account],
            |row| row.get(0),
        )?;
        Ok(count as u64)
    }

    fn qr_insert(
        &self,
        account: &str,
        scene: &str,
        permanent: bool,
        code: &CachedCode,
        now_secs: u64,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            "INSERT OR REPLACE INTO qr_codes \
             (account, scene, permanent, ticket, url, expires_at, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                account,
                scene,
                permanent,
                code.ticket,
                code.url,
                code.expires_at.map(|secs| secs as i64),
                now_secs as i64
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keeps_codes_while_valid() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let code = CachedCode {
            ticket: "T1".to_owned(),
            url: "http://weixin.qq.com/q/1".to_owned(),
            expires_at: Some(1000),
        };
        store.qr_insert("demo", "str:abc", false, &code, 100)?;
        assert_eq!(
            store.qr_cached("demo", "str:abc", false, 939)?,
            Some(code.clone())
        );
        assert_eq!(store.qr_cached("demo", "str:abc", false, 940)?, None);
        assert_eq!(store.qr_cached("demo", "str:abc", true, 100)?, None);
        assert_eq!(store.qr_cached("other", "str:abc", false, 100)?, None);
        assert_eq!(store.qr_permanent_count("demo")?, 0);
        Ok(())
    }

    #[test]
    fn qr_code_reports_remaining_life() {
        let cached = CachedCode {
            ticket: "gQ+a/b==".to_owned(),
            url: "u".to_owned(),
            expires_at: Some(1000),
        };
        let code = to_qr_code(cached, 400, true);
        assert_eq!(code.expire_seconds, Some(600));
        assert_eq!(
            code.image_url,
            "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=gQ%2Ba%2Fb%3D%3D"
        );
        assert!(code.cached);
    }

    #[test]
    fn invalid_scene_fails_before_any_call() {
        let services = Services::unavailable();
        let request = QrCodeRequest::Permanent {
            scene: Scene::Id(100_001),
        };
        let error = services.create_qrcode("demo", &request, 0).unwrap_err();
        assert_eq!(
            error,
            ServiceError::InvalidScene(
                "scene_id of a permanent QR code must be 1 to 100000, got 100001".to_owned()
            )
        );
    }
}
