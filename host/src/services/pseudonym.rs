//! Stable pseudonyms of openids for services outside the host.

use hmac::{Hmac, Mac};
use rusqlite::params;
use sha2::Sha256;

use crate::store::{Store, StoreError};

/// The table that keeps the pseudonym key, created with the store.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS host_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
";

const KEY_NAME: &str = "follower_pseudonym_key";
const KEY_BYTES: usize = 32;
/// Hex characters of a pseudonym: 128 bits of the HMAC.
const PSEUDONYM_HEX_CHARS: usize = 32;

/// The HMAC-SHA256 key behind every pseudonym of one database. Created at
/// random on first use and kept in the store, so pseudonyms stay the same
/// across restarts and across processes that share the database.
#[derive(Clone)]
pub struct PseudonymKey([u8; KEY_BYTES]);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// Loads the key from `store`, creating it on first use.
    pub fn load_or_create(store: &Store) -> Result<PseudonymKey, StoreError> {
        let candidate: [u8; KEY_BYTES] = rand::random();
        let connection = store.lock();
        connection.execute(
            "INSERT OR IGNORE INTO host_secrets (name, value) VALUES (?1, ?2)",
            params![KEY_NAME, candidate.as_slice()],
        )?;
        let stored: Vec<u8> = connection.query_row(
            "SELECT value FROM host_secrets WHERE name = ?1",
            [KEY_NAME],
            |row| row.get(0),
        )?;
        let mut key = [0u8; KEY_BYTES];
        if stored.len() == KEY_BYTES {
            key.copy_from_slice(&stored);
        } else {
            // A key of the wrong length cannot come from this code; derive
            // a full-length key from it rather than fail every call.
            key.copy_from_slice(&hmac_sha256(&stored, b"wxhost pseudonym key"));
        }
        Ok(PseudonymKey(key))
    }

    /// Returns the pseudonym of `openid` for `account`: 32 lowercase hex
    /// characters.
    pub fn pseudonym(&self, account: &str, openid: &str) -> String {
        let mut message = Vec::with_capacity(account.len() + openid.len() + 1);
        message.extend_from_slice(account.as_bytes());
        message.push(0x1f);
        message.extend_from_slice(openid.as_bytes());
        let digest = hmac_sha256(&self.0, &message);
        let mut text = hex::encode(digest);
        text.truncate(PSEUDONYM_HEX_CHARS);
        text
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_stable_and_keyed() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let key = PseudonymKey::load_or_create(&store)?;
        let again = PseudonymKey::load_or_create(&store)?;
        let first = key.pseudonym("demo", "oFAKE_user_0001");
        assert_eq!(first.len(), 32);
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(first, again.pseudonym("demo", "oFAKE_user_0001"));
        assert_ne!(first, key.pseudonym("other", "oFAKE_user_0001"));
        assert_ne!(first, key.pseudonym("demo", "oFAKE_user_0002"));

        let elsewhere = PseudonymKey::load_or_create(&Store::open_in_memory()?)?;
        assert_ne!(first, elsewhere.pseudonym("demo", "oFAKE_user_0001"));
        Ok(())
    }

    #[test]
    fn pseudonym_matches_hmac_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let digest = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(digest),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
