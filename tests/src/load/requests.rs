//! Builds the callbacks of a load run, each one distinct: its own `MsgId`
//! (text messages), openid, nonce and timestamp, signed and, in safe mode,
//! encrypted with the account's keys.

use bytes::Bytes;
use wxhost::protocol::crypto::{AesKey, MessageCrypto};
use wxhost::protocol::signature::compute_signature;

/// The callback that a workload sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A plaintext text message that matches a keyword.
    PlainText,
    /// The same text message in safe mode: only `Encrypt` in the body,
    /// signed with `msg_signature`.
    SafeText,
    /// A plaintext `subscribe` event through a parametric QR code.
    Subscribe,
}

/// The keys and names of the account that the callbacks go to.
#[derive(Clone)]
pub struct AccountKeys {
    /// Path of the callback URL, such as `/wechat/plain`.
    pub path: String,
    pub token: String,
    pub crypto: MessageCrypto,
    /// The account's original id (`gh_...`), the callback's `ToUserName`.
    pub original_id: String,
}

impl AccountKeys {
    /// Builds the keys from the 43-character EncodingAESKey.
    pub fn new(
        path: &str,
        token: &str,
        encoding_aes_key: &str,
        appid: &str,
        original_id: &str,
    ) -> anyhow::Result<AccountKeys> {
        let key = AesKey::from_encoding_aes_key(encoding_aes_key)?;
        Ok(AccountKeys {
            path: path.to_owned(),
            token: token.to_owned(),
            crypto: MessageCrypto::new(key, appid.to_owned()),
            original_id: original_id.to_owned(),
        })
    }
}

/// One request ready to send: the path with its query string, and the body.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub path_and_query: String,
    pub body: Bytes,
}

/// The values of a request that the check of its reply compares with.
#[derive(Debug, Clone)]
pub struct Sent {
    pub openid: String,
    pub nonce: String,
    /// The QR scene of a subscribe event, without the `qrscene_` prefix.
    pub scene: String,
}

/// Builds request number `index` of a scenario. Two factories never build
/// equal requests, because each draws its own random run id and every
/// value that identifies a callback contains it.
pub struct RequestFactory {
    scenario: Scenario,
    keys: AccountKeys,
    text: String,
    scene: String,
    run_id: u32,
    base_time: u64,
}

impl RequestFactory {
    /// Creates a factory whose text messages carry `text` and whose
    /// subscribe events carry the QR scene `scene`.
    pub fn new(scenario: Scenario, keys: AccountKeys, text: &str, scene: &str) -> RequestFactory {
        RequestFactory {
            scenario,
            keys,
            text: text.to_owned(),
            scene: scene.to_owned(),
            run_id: rand::random(),
            base_time: unix_now(),
        }
    }

    /// Returns the scenario this factory builds.
    pub fn scenario(&self) -> Scenario {
        self.scenario
    }

    /// Builds request `index` and what a check of its reply needs.
    pub fn build(&self, index: u64) -> (Prepared, Sent) {
        let openid = format!("oLOAD{:08x}{index:015}", self.run_id);
        let nonce = format!("{:08x}{index:010}", self.run_id);
        // NOTE: each request counts one second back from the factory's
        // start, so timestamps are distinct but reach back up to a day per
        // 86,400 requests. The host does not check the age of `timestamp`
        // today; a replay window would reject the older ones.
        let timestamp = self.base_time.saturating_sub(index);
        let msg_id = (u64::from(self.run_id) << 32) | (index & 0xffff_ffff);
        let xml = match self.scenario {
            Scenario::PlainText | Scenario::SafeText => text_message(
                &self.keys.original_id,
                &openid,
                timestamp,
                &self.text,
                msg_id,
            ),
            Scenario::Subscribe => {
                subscribe_event(&self.keys.original_id, &openid, timestamp, &self.scene)
            }
        };

        let timestamp = timestamp.to_string();
        let signature = compute_signature(&[&self.keys.token, &timestamp, &nonce]);
        let mut query = format!(
            "{}?signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={openid}",
            self.keys.path
        );
        let body = if self.scenario == Scenario::SafeText {
            let encrypt = self
                .keys
                .crypto
                .encrypt(xml.as_bytes(), rand::random())
                .expect("AES-CBC encryption of a short message succeeds");
            let msg_signature =
                compute_signature(&[&self.keys.token, &timestamp, &nonce, &encrypt]);
            query.push_str("&encrypt_type=aes&msg_signature=");
            query.push_str(&msg_signature);
            format!(
                "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>",
                self.keys.original_id
            )
        } else {
            xml
        };

        let prepared = Prepared {
            path_and_query: query,
            body: Bytes::from(body),
        };
        let sent = Sent {
            openid,
            nonce,
            scene: self.scene.clone(),
        };
        (prepared, sent)
    }

    /// Builds requests `start..start + count` on `threads` threads.
    pub fn build_pool(&self, start: u64, count: usize, threads: usize) -> Vec<Prepared> {
        let threads = threads.max(1);
        let chunk = count.div_ceil(threads).max(1);
        let mut pool = Vec::with_capacity(count);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..count)
                .step_by(chunk)
                .map(|first| {
                    let last = (first + chunk).min(count);
                    scope.spawn(move || {
                        (first..last)
                            .map(|offset| self.build(start + offset as u64).0)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for handle in handles {
                pool.extend(handle.join().expect("request builder thread panicked"));
            }
        });
        pool
    }
}

fn text_message(to: &str, from: &str, create_time: u64, content: &str, msg_id: u64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
}

fn subscribe_event(to: &str, from: &str, create_time: u64, scene: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_{scene}]]></EventKey><Ticket><![CDATA[TICKETLOAD{scene}]]></Ticket></xml>"
    )
}

/// Returns the current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
