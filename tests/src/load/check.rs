//! Exact checks of the replies to a sample of requests, run before timing.

use anyhow::{Context, bail, ensure};
use wxhost::protocol::read_reply_envelope;
use wxhost::protocol::signature::compute_signature;

use super::client::Response;
use super::requests::{AccountKeys, Scenario, Sent, unix_now};

/// Content type of the host's XML replies.
pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// Maximum distance, in seconds, between a reply's `CreateTime` or
/// `TimeStamp` and the checker's clock.
const CLOCK_TOLERANCE_SECS: u64 = 5;

/// What a correct reply contains.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Exactly these bytes, with any content type (the baseline).
    Constant(String),
    /// A passive text reply to the follower. `{scene}` in the text stands
    /// for the request's QR scene.
    Text(String),
}

/// Checks one reply of `scenario` against `expected`. The error names
/// the part that differs.
pub fn check_reply(
    scenario: Scenario,
    keys: &AccountKeys,
    sent: &Sent,
    expected: &Expected,
    response: &Response,
) -> anyhow::Result<()> {
    ensure!(
        response.status == 200,
        "expected HTTP 200, got {}",
        response.status
    );
    let body = std::str::from_utf8(&response.body).context("reply body is not UTF-8")?;
    let text = match expected {
        Expected::Constant(constant) => {
            ensure!(body == constant, "expected {constant:?}, got {body:?}");
            return Ok(());
        }
        Expected::Text(text) => text.replace("{scene}", &sent.scene),
    };
    ensure!(
        response.content_type == XML_CONTENT_TYPE,
        "expected content type {XML_CONTENT_TYPE:?}, got {:?}",
        response.content_type
    );

    let plain = if scenario == Scenario::SafeText {
        open_envelope(keys, sent, body)?
    } else {
        body.to_owned()
    };
    check_text_reply(&plain, &sent.openid, &keys.original_id, &text)
}

/// Checks the envelope of a safe-mode reply and returns the decrypted XML.
fn open_envelope(keys: &AccountKeys, sent: &Sent, body: &str) -> anyhow::Result<String> {
    let envelope = read_reply_envelope(body.as_bytes())
        .context("reply is not XML")?
        .context("safe-mode reply has no Encrypt element")?;
    ensure!(
        envelope.nonce == sent.nonce,
        "reply Nonce {:?} differs from the request nonce {:?}",
        envelope.nonce,
        sent.nonce
    );
    check_clock("TimeStamp", &envelope.timestamp)?;
    let signature = compute_signature(&[
        &keys.token,
        &envelope.timestamp,
        &envelope.nonce,
        &envelope.encrypt,
    ]);
    ensure!(
        envelope.msg_signature == signature,
        "reply MsgSignature does not cover token, TimeStamp, Nonce and Encrypt"
    );
    let plain = keys
        .crypto
        .decrypt(&envelope.encrypt)
        .context("reply Encrypt does not decrypt with the account key")?;
    String::from_utf8(plain).context("decrypted reply is not UTF-8")
}

/// Compares `xml` with the text reply from `account` to `openid`, after
/// checking that its `CreateTime` is the current time.
fn check_text_reply(xml: &str, openid: &str, account: &str, text: &str) -> anyhow::Result<()> {
    let create_time = element_text(xml, "CreateTime").context("reply has no CreateTime")?;
    check_clock("CreateTime", create_time)?;
    let expected = format!(
        "<xml><ToUserName><![CDATA[{openid}]]></ToUserName><FromUserName><![CDATA[{account}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content></xml>"
    );
    if xml != expected {
        bail!("expected reply {expected:?}, got {xml:?}");
    }
    Ok(())
}

fn check_clock(name: &str, value: &str) -> anyhow::Result<()> {
    let seconds: u64 = value
        .parse()
        .with_context(|| format!("{name} {value:?} is not a number"))?;
    let now = unix_now();
    ensure!(
        seconds.abs_diff(now) <= CLOCK_TOLERANCE_SECS,
        "{name} {seconds} is more than {CLOCK_TOLERANCE_SECS} s from the current time {now}"
    );
    Ok(())
}

/// Returns the text between `<name>` and `</name>`.
fn element_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(&xml[start..end])
}
