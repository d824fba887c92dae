//! The official accounts served by this host, resolved from the config.

use crate::config::{AccountConfig, ConfigError, Problem, SecurityMode};
use crate::protocol::crypto::{AesKey, MessageCrypto};
use crate::protocol::envelope::AccountKeys;

/// One account: its keys and its plugin route.
pub struct Account {
    /// The host's name for the account, from the config.
    pub name: String,
    /// Token, AES key and AppID used to open callbacks and seal replies.
    pub keys: AccountKeys,
    /// Indexes into the dispatcher's plugin list, in route order.
    pub route: Vec<usize>,
}

impl Account {
    /// Resolves `config`'s secrets into keys. `route` lists plugin indexes.
    pub fn from_config(config: &AccountConfig, route: Vec<usize>) -> Result<Account, ConfigError> {
        let problem = |field: &str, message: String| ConfigError::Invalid {
            path: None,
            problems: vec![Problem {
                field: format!("accounts.{}.{field}", config.name),
                message,
            }],
        };
        let token = config
            .token
            .resolve()
            .map_err(|message| problem("token", message))?;
        let crypto = match &config.encoding_aes_key {
            Some(source) => {
                let key = source
                    .resolve()
                    .map_err(|message| problem("encoding_aes_key", message))?;
                let key = AesKey::from_encoding_aes_key(key.expose())
                    .map_err(|err| problem("encoding_aes_key", err.to_string()))?;
                Some(MessageCrypto::new(key, config.appid.clone()))
            }
            None => None,
        };
        let keys = AccountKeys {
            token: token.expose().to_owned(),
            crypto,
            require_encryption: config.security == SecurityMode::Safe,
        };
        Ok(Account {
            name: config.name.clone(),
            keys,
            route,
        })
    }
}
