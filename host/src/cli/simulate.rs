//! `wxhost simulate`: plays WeChat against a running host.
//!
//! It builds a callback, signs it (and encrypts it in compatible and safe
//! mode) with the account's keys from the config, posts it, checks and
//! decrypts the reply, and prints what the follower would see.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use crate::config::Config;
use crate::protocol::crypto::{AesKey, MessageCrypto};
use crate::protocol::message::{Message, Payload};
use crate::protocol::signature::compute_signature as sign;
use crate::protocol::{parse_inbound, read_reply_envelope};

/// Arguments of `wxhost simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Config file of the running host; the account's keys come from it.
    #[arg(long, short, default_value = "wxhost.toml")]
    config: PathBuf,
    /// Account name from the config.
    #[arg(long, short)]
    account: Option<String>,
    /// Base URL of the host; defaults to `http://` + `server.listen`.
    #[arg(long)]
    url: Option<String>,
    /// How the callback is protected.
    #[arg(long, value_enum, default_value = "plain")]
    mode: Mode,
    /// The follower's openid.
    #[arg(long, default_value = "oSIMULATED_follower_00001")]
    from: String,
    /// Sends the identical callback this many times, as WeChat's retries do.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    #[command(subcommand)]
    callback: Callback,
}

/// Callback protection mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Plaintext XML signed with `signature`.
    Plain,
    /// Plaintext fields plus `Encrypt`, signed with `msg_signature`.
    Compatible,
    /// Only `Encrypt`, signed with `msg_signature`.
    Safe,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Compatible => "compatible",
            Mode::Safe => "safe",
        }
    }
}

#[derive(Debug, Subcommand)]
enum Callback {
    /// A text message.
    Text {
        /// The message text.
        content: String,
    },
    /// A follow, optionally through a parametric QR code.
    Follow {
        /// QR scene value; sent as `EventKey` `qrscene_<scene>`.
        #[arg(long)]
        scene: Option<String>,
    },
    /// An unfollow.
    Unfollow,
    /// A parametric QR scan by an existing follower.
    Scan {
        /// QR scene value, sent as `EventKey`.
        #[arg(long)]
        scene: String,
    },
    /// A click on a menu button.
    Click {
        /// The button key, sent as `EventKey`.
        #[arg(long)]
        key: String,
    },
}

/// Sends the callback and prints the reply.
pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let config = Config::load_for_client(&args.config)?;
    let account = match &args.account {
        Some(name) => config
            .account(name)
            .with_context(|| format!("no account named {name:?} in {}", args.config.display()))?,
        None => config
            .accounts
            .first()
            .with_context(|| format!("{} lists no accounts", args.config.display()))?,
    };
    let token = account.token.resolve().map_err(anyhow::Error::msg)?;
    let crypto = match &account.encoding_aes_key {
        Some(source) => {
            let key = source.resolve().map_err(anyhow::Error::msg)?;
            Some(MessageCrypto::new(
                AesKey::from_encoding_aes_key(key.expose())?,
                account.appid.clone(),
            ))
        }
        None => None,
    };
    if args.mode != Mode::Plain && crypto.is_none() {
        bail!(
            "--mode {} needs accounts.{}.encoding_aes_key in the config",
            args.mode.label(),
            account.name
        );
    }
    let base = args
        .url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.server.listen));
    let url = format!("{}/wechat/{}", base.trim_end_matches('/'), account.name);
    let to_user = account
        .original_id
        .clone()
        .unwrap_or_else(|| "gh_simulated".to_owned());

    let now = unix_now();
    let xml = build_callback(&args.callback, &to_user, &args.from, now);
    let timestamp = now.to_string();
    let nonce = rand::random::<u32>().to_string();
    let (query, body) = protect(
        args.mode,
        &xml,
        token.expose(),
        crypto.as_ref(),
        &timestamp,
        &nonce,
        &args.from,
    );

    println!("POST {url} ({} mode)", args.mode.label());
    println!("callback:\n{xml}\n");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    for attempt in 1..=args.repeat.max(1) {
        let started = Instant::now();
        let response = client
            .post(format!("{url}?{query}"))
            .header("Content-Type", "text/xml")
            .body(body.clone())
            .send()
            .await
            .with_context(|| format!("failed to reach {url}; is `wxhost serve` running?"))?;
        let status = response.status();
        let reply = response.bytes().await?;
        let retry_note = if attempt > 1 {
            " (the same callback again, as WeChat retries it: the host answers from its dedupe store and does not run the plugins)"
        } else {
            ""
        };
        println!(
            "attempt {attempt}: HTTP {} in {} ms{retry_note}",
            status.as_u16(),
            started.elapsed().as_millis()
        );
        if !status.is_success() {
            println!("rejected:\n{}\n", String::from_utf8_lossy(&reply));
            bail!(
                "the host rejected the callback with HTTP {}; its reason is printed above",
                status.as_u16()
            );
        }
        print_reply(&reply, token.expose(), crypto.as_ref())?;
    }
    Ok(())
}

fn build_callback(callback: &Callback, to_user: &str, from_user: &str, now: u64) -> String {
    let header = format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName><CreateTime>{now}</CreateTime>",
        cdata(to_user),
        cdata(from_user)
    );
    let body = match callback {
        Callback::Text { content } => format!(
            "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content><MsgId>{}</MsgId>",
            cdata(content),
            rand::random::<u64>() >> 1
        ),
        Callback::Follow { scene: None } => {
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey>".to_owned()
        }
        Callback::Follow { scene: Some(scene) } => format!(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_{}]]></EventKey><Ticket><![CDATA[gQSIMULATEDticket]]></Ticket>",
            cdata(scene)
        ),
        Callback::Unfollow => {
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>".to_owned()
        }
        Callback::Scan { scene } => format!(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[{}]]></EventKey><Ticket><![CDATA[gQSIMULATEDticket]]></Ticket>",
            cdata(scene)
        ),
        Callback::Click { key } => format!(
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[{}]]></EventKey>",
            cdata(key)
        ),
    };
    format!("{header}{body}</xml>")
}

/// Returns the query string and body for `mode`.
fn protect(
    mode: Mode,
    xml: &str,
    token: &str,
    crypto: Option<&MessageCrypto>,
    timestamp: &str,
    nonce: &str,
    openid: &str,
) -> (String, String) {
    let signature = sign(&[token, timestamp, nonce]);
    let plain_query =
        format!("signature={signature}&timestamp={timestamp}&nonce={nonce}&openid={openid}");
    let Some(crypto) = crypto.filter(|_| mode != Mode::Plain) else {
        return (plain_query, xml.to_owned());
    };
    let encrypt = crypto
        .encrypt(xml.as_bytes(), rand::random())
        .expect("a callback of a few KiB always encrypts");
    let msg_signature = sign(&[token, timestamp, nonce, &encrypt]);
    let query = format!("{plain_query}&encrypt_type=aes&msg_signature={msg_signature}");
    let body = match mode {
        Mode::Compatible => xml.replacen(
            "</xml>",
            &format!("<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"),
            1,
        ),
        _ => {
            let to_user = xml
                .split("<ToUserName><![CDATA[")
                .nth(1)
                .and_then(|rest| rest.split("]]>").next())
                .unwrap_or("");
            format!(
                "<xml><ToUserName><![CDATA[{to_user}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            )
        }
    };
    (query, body)
}

fn print_reply(reply: &[u8], token: &str, crypto: Option<&MessageCrypto>) -> anyhow::Result<()> {
    let text = String::from_utf8_lossy(reply);
    if text == "success" || text.is_empty() {
        println!("reply: {text:?} (no reply; WeChat shows nothing)\n");
        return Ok(());
    }
    let plain = match read_reply_envelope(reply) {
        Ok(Some(envelope)) => {
            let crypto = crypto.context("the reply is encrypted but the config has no AES key")?;
            let expected = sign(&[
                token,
                &envelope.timestamp,
                &envelope.nonce,
                &envelope.encrypt,
            ]);
            let verdict = if expected == envelope.msg_signature {
                "valid"
            } else {
                "INVALID"
            };
            println!(
                "encrypted reply: MsgSignature {verdict}, TimeStamp {}",
                envelope.timestamp
            );
            let bytes = crypto
                .decrypt(&envelope.encrypt)
                .context("failed to decrypt the reply")?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => text.into_owned(),
    };
    println!("reply:\n{plain}");
    if let Ok(parsed) = parse_inbound(plain.as_bytes()) {
        match parsed.payload {
            Payload::Message(Message::Text { content, .. }) => {
                println!("follower sees (text): {content}\n");
            }
            _ => println!("follower sees {}\n", describe_reply(&parsed.msg_type)),
        }
    }
    Ok(())
}

/// Names a reply by its `MsgType` with the right article: "an image reply".
fn describe_reply(msg_type: &str) -> String {
    let article = if msg_type.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {msg_type} reply")
}

fn cdata(value: &str) -> String {
    value.replace("]]>", "]]]]><![CDATA[>")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::describe_reply;

    #[test]
    fn reply_description_uses_right_article() {
        assert_eq!(describe_reply("image"), "an image reply");
        assert_eq!(describe_reply("voice"), "a voice reply");
        assert_eq!(describe_reply("news"), "a news reply");
    }
}
