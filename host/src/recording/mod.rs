//! Recording callbacks with the directives they produced, for
//! `wxhost replay`.
//!
//! Each callback becomes one JSON line: the account, the decrypted XML
//! with every openid replaced by a pseudonym, and each plugin call with
//! its version and its directives (or its fault). The pseudonym is
//! `oREC` followed by the openid's log pseudonym, so it is stable across
//! restarts only when `server.log_salt` is set.
//!
//! NOTE: a recording contains message content. The file is created with mode
//! 0600 on Unix; treat it like the database.

mod replay;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::dispatch::PluginCall;
use crate::lifecycle::Role;
use crate::logging::LogIds;

pub use replay::{ReplayReport, read_records, replay};

/// One recorded callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Unix seconds when the host replied to the callback.
    pub at: u64,
    pub account: String,
    /// The decrypted callback XML with openids replaced.
    pub xml: String,
    pub calls: Vec<RecordedCall>,
}

/// One plugin call of a recorded callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCall {
    pub plugin: String,
    /// SHA-256 of the version that ran.
    pub version: String,
    /// `live` or `canary`.
    pub role: String,
    /// Directive lines, when the call returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directives: Option<Vec<String>>,
    /// The fault, when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// Appends records to a JSON-lines file.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    file: Mutex<File>,
}

impl Recorder {
    /// Opens `path` for appending, creating it when missing.
    pub fn open(path: &Path) -> std::io::Result<Recorder> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        Ok(Recorder {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// Returns the file the recorder appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one callback. `openid` is the follower's openid, replaced
    /// in `xml` by its pseudonym under `log_ids`. Failures are logged,
    /// because a recording must never cost a callback its reply.
    pub fn record(
        &self,
        account: &str,
        xml: &[u8],
        openid: &str,
        log_ids: &LogIds,
        calls: &[PluginCall],
    ) {
        let record = Record {
            at: crate::lifecycle::unix_now(),
            account: account.to_owned(),
            xml: pseudonymize(&String::from_utf8_lossy(xml), openid, log_ids),
            calls: calls.iter().map(recorded_call).collect(),
        };
        let mut line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(err) => {
                tracing::error!(error = %err, "failed to serialize a recording");
                return;
            }
        };
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(err) = file.write_all(line.as_bytes()) {
            tracing::error!(path = %self.path.display(), error = %err, "failed to append to the recording");
        }
    }
}

fn recorded_call(call: &PluginCall) -> RecordedCall {
    let (directives, fault) = match &call.result {
        Ok(lines) => (Some(lines.clone()), None),
        Err(fault) => (None, Some(fault.clone())),
    };
    RecordedCall {
        plugin: call.plugin.clone(),
        version: call.version.clone(),
        role: match call.role {
            Role::Live => "live",
            Role::Canary => "canary",
            Role::Shadow => "shadow",
        }
        .to_owned(),
        directives,
        fault,
    }
}

/// Returns the pseudonym that stands for `openid` in recordings.
pub fn pseudonym(openid: &str, log_ids: &LogIds) -> String {
    format!("oREC{}", log_ids.of(openid))
}

/// Replaces `openid` everywhere in `xml`, and the text of every element
/// whose name ends in `OpenID` (in any case), by pseudonyms.
pub fn pseudonymize(xml: &str, openid: &str, log_ids: &LogIds) -> String {
    let mut text = if openid.is_empty() {
        xml.to_owned()
    } else {
        xml.replace(openid, &pseudonym(openid, log_ids))
    };
    let mut search_from = 0;
    while let Some(found) = text[search_from..].find('<') {
        let open = search_from + found;
        let Some(close) = text[open..].find('>').map(|at| open + at) else {
            break;
        };
        let name = &text[open + 1..close];
        search_from = close + 1;
        if !name.to_ascii_lowercase().ends_with("openid") || name.contains(['/', ' ', '!', '?']) {
            continue;
        }
        let end_tag = format!("</{name}>");
        let Some(end) = text[search_from..]
            .find(&end_tag)
            .map(|at| search_from + at)
        else {
            continue;
        };
        let inner = &text[search_from..end];
        let (prefix, value, suffix) = match inner
            .strip_prefix("<![CDATA[")
            .and_then(|rest| rest.strip_suffix("]]>"))
        {
            Some(value) => ("<![CDATA[", value, "]]>"),
            None => ("", inner, ""),
        };
        if value.is_empty() || value.starts_with("oREC") {
            continue;
        }
        let replaced = format!("{prefix}{}{suffix}", pseudonym(value, log_ids));
        text.replace_range(search_from..end, &replaced);
        search_from += replaced.len();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openids_become_pseudonyms() {
        let ids = LogIds::new(b"salt");
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUSER_1]]></FromUserName><Content><![CDATA[hi]]></Content><OpenID>oOTHER_2</OpenID><KfOpenId><![CDATA[oOTHER_3]]></KfOpenId></xml>";
        let out = pseudonymize(xml, "oUSER_1", &ids);
        let user = pseudonym("oUSER_1", &ids);
        let other = pseudonym("oOTHER_2", &ids);
        let third = pseudonym("oOTHER_3", &ids);
        assert_eq!(
            out,
            format!(
                "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName><Content><![CDATA[hi]]></Content><OpenID>{other}</OpenID><KfOpenId><![CDATA[{third}]]></KfOpenId></xml>"
            )
        );
        assert_eq!(user.len(), 20);
        assert!(!out.contains("oUSER_1"));
        assert!(!out.contains("oOTHER"));
    }
}
