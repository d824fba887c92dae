//! QR code images as temporary media for image replies, cached for the
//! media's life.

use rusqlite::{OptionalExtension, params};

use super::blocking::run_blocking;
use super::{ServiceError, Services};
use crate::store::{Store, StoreError};
use crate::wechat::MediaType;

/// The media id cache, created with the store.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS media_cache (
    account    TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    media_id   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account, source)
);
";

/// How long WeChat keeps temporary media: 3 days, in seconds.
pub const TEMPORARY_MEDIA_SECS: u64 = 3 * 24 * 60 * 60;

/// A cached media id is reused only while it stays valid longer than
/// this, in seconds, so a reply never names media that expires first.
pub const MIN_REMAINING_SECS: u64 = 60 * 60;

impl Services {
    /// Returns the media id of the QR code image of `ticket` in `account`:
    /// the cached one while it has more than an hour left, otherwise the
    /// image downloaded from `showqrcode` and uploaded with `media/upload`.
    pub fn qrcode_image(
        &self,
        account: &str,
        ticket: &str,
        now_secs: u64,
    ) -> Result<String, ServiceError> {
        let backend = self.backend()?;
        let source = format!("qrcode:{ticket}");
        let lock_key = format!("media\u{1f}{account}\u{1f}{source}");
        self.locks.with(&lock_key, || {
            let store = &backend.store;
            if let Some(media_id) = store.media_cached(account, &source, now_secs)? {
                return Ok(media_id);
            }
            Self::check_writable(backend, "upload media")?;
            let client = backend.apis.client(account).ok_or_else(|| {
                ServiceError::Unavailable(format!(
                    "account {account} has no app_secret, so wxhost cannot call WeChat for it"
                ))
            })?;
            let uploaded = run_blocking(async {
                let image = client.show_qrcode(ticket).await?;
                client
                    .upload_media(MediaType::Image, "qrcode.jpg", "image/jpeg", image)
                    .await
            })??;
            let expires_at = now_secs + TEMPORARY_MEDIA_SECS;
            store.media_insert(account, &source, &uploaded.media_id, expires_at)?;
            Ok(uploaded.media_id)
        })
    }
}

impl Store {
    fn media_cached(
        &self,
        account: &str,
        source: &str,
        now_secs: u64,
    ) -> Result<Option<String>, StoreError> {
        let connection = self.lock();
        let media_id = connection
            .query_row(
                "SELECT media_id FROM media_cache \
                 WHERE account = ?1 AND source = ?2 AND expires_at > ?3",
                params![account, source, (now_secs + MIN_REMAINING_SECS) as i64],
                |row| row.get(0),
            )
            .optional()?;
        Ok(media_id)
    }

    fn media_insert(
        &self,
        account: &str,
        source: &str,
        media_id: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        let connection = self.lock();
        connection.execute(
            "INSERT OR REPLACE INTO media_cache (account, source, media_id, expires_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![account, source, media_id, expires_at as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_cache_expires_an_hour_early() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.media_insert("demo", "qrcode:T", "M1", 10_000)?;
        let last_reuse = 10_000 - MIN_REMAINING_SECS - 1;
        assert_eq!(
            store.media_cached("demo", "qrcode:T", last_reuse)?,
            Some("M1".to_owned())
        );
        assert_eq!(
            store.media_cached("demo", "qrcode:T", last_reuse + 1)?,
            None
        );
        assert_eq!(store.media_cached("other", "qrcode:T", 0)?, None);
        Ok(())
    }
}
