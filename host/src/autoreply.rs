//! Converting the admin panel's automatic replies, as WeChat's
//! `get_current_autoreply_info` returns them, into the keyword plugin's
//! TOML config. The admin panel's rules stop working once an account
//! turns on developer mode, so this moves them into a plugin.
//!
//! Mapping:
//! - each `keyword_autoreply_info.list[]` rule becomes a group, with
//!   `rule_name` as its name and `reply_mode` (`reply_all` or
//!   `random_one`) as its mode; rules earlier in the list get a higher
//!   priority;
//! - `match_mode` `contain` becomes `contains`, `equal` becomes `exact`;
//! - replies of type `text`, `img`, `voice`, `video` and `news` become
//!   text, image, voice, video and news replies; a news item's `digest`,
//!   `cover_url` and `content_url` become `description`, `pic_url` and
//!   `url`;
//! - `message_default_autoreply_info` becomes `default_reply`, turned
//!   off when `is_autoreply_open` is 0.
//!
//! What does not convert is listed as a warning and as a comment in the
//! output: a video reply whose content is a URL rather than a media id,
//! unknown reply and keyword types, rules left without replies, and
//! `add_friend_autoreply_info`, which belongs to the welcome plugin.

use serde::Deserialize;

/// WeChat's response to `get_current_autoreply_info`. Fields this module
/// does not use are ignored.
#[derive(Debug, Deserialize)]
pub struct AutoreplyInfo {
    #[serde(default)]
    pub is_autoreply_open: Option<u8>,
    #[serde(default)]
    pub add_friend_autoreply_info: Option<ReplyInfo>,
    #[serde(default)]
    pub message_default_autoreply_info: Option<ReplyInfo>,
    #[serde(default)]
    pub keyword_autoreply_info: Option<KeywordRules>,
}

#[derive(Debug, Deserialize)]
pub struct KeywordRules {
    #[serde(default)]
    pub list: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub rule_name: String,
    /// `reply_all` or `random_one`. Some exports call it `match_mode`.
    #[serde(default, alias = "match_mode")]
    pub reply_mode: Option<String>,
    #[serde(default)]
    pub keyword_list_info: Vec<Keyword>,
    #[serde(default)]
    pub reply_list_info: Vec<ReplyInfo>,
}

#[derive(Debug, Deserialize)]
pub struct Keyword {
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `contain` or `equal`.
    #[serde(default)]
    pub match_mode: String,
    #[serde(default)]
    pub content: String,
}

#[derive(Debug, Deserialize)]
pub struct ReplyInfo {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub news_info: Option<NewsInfo>,
}

#[derive(Debug, Deserialize)]
pub struct NewsInfo {
    #[serde(default)]
    pub list: Vec<NewsItem>,
}

#[derive(Debug, Deserialize)]
pub struct NewsItem {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub cover_url: String,
    #[serde(default)]
    pub content_url: String,
}

/// The converted config and what could not be converted.
#[derive(Debug, PartialEq, Eq)]
pub struct Converted {
    pub toml: String,
    pub warnings: Vec<String>,
}

/// Parses the JSON text of `get_current_autoreply_info`.
pub fn parse(json: &str) -> Result<AutoreplyInfo, serde_json::Error> {
    serde_json::from_str(json)
}

/// Converts `info` into a `[[plugins]]` table for the keyword plugin,
/// whose component is at `plugin_path`.
pub fn convert(info: &AutoreplyInfo, plugin_path: &str) -> Converted {
    let mut warnings = Vec::new();
    let open = info.is_autoreply_open != Some(0);
    if !open {
        warnings.push(
            "is_autoreply_open is 0: automatic replies were off in the admin panel, so the default reply is turned off; remove the groups too if keyword replies should stay off"
                .to_owned(),
        );
    }
    if let Some(follow) = &info.add_friend_autoreply_info {
        warnings.push(format!(
            "add_friend_autoreply_info ({} reply) is a follow reply: configure it in the welcome plugin",
            follow.kind
        ));
    }

    let mut out = String::new();
    out.push_str("# Keyword plugin config converted by `wxhost import autoreply`\n");
    out.push_str("# from get_current_autoreply_info.\n");
    out.push_str("[[plugins]]\nname = \"keyword\"\n");
    out.push_str(&format!("path = {}\n", quote(plugin_path)));
    out.push_str("messages = [\"text\"]\n\n[plugins.config]\n");
    out.push_str(&format!("default_reply_enabled = {open}\n"));

    if let Some(default) = &info.message_default_autoreply_info
        && let Some(value) = reply_value(default, "message_default_autoreply_info", &mut warnings)
    {
        out.push_str("default_reply = ");
        out.push_str(&value);
        out.push('\n');
    }

    let rules = info
        .keyword_autoreply_info
        .as_ref()
        .map_or(&[][..], |rules| rules.list.as_slice());
    for (index, rule) in rules.iter().enumerate() {
        let label = format!(
            "keyword_autoreply_info.list[{index}] ({:?})",
            rule.rule_name
        );
        if let Some(group) = group_text(rule, rules.len() - index, &label, &mut warnings) {
            out.push('\n');
            out.push_str(&group);
        }
    }

    if !warnings.is_empty() {
        out.push_str("\n# Not converted:\n");
        for warning in &warnings {
            out.push_str(&format!("# - {warning}\n"));
        }
    }
    Converted {
        toml: out,
        warnings,
    }
}

fn group_text(
    rule: &Rule,
    priority: usize,
    label: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    let mut phrases = Vec::new();
    for keyword in &rule.keyword_list_info {
        let kind = match keyword.match_mode.as_str() {
            "contain" => "contains",
            "equal" => "exact",
            other => {
                warnings.push(format!(
                    "{label}: keyword match_mode {other:?} is unknown; skipped"
                ));
                continue;
            }
        };
        if keyword.kind != "text" || keyword.content.trim().is_empty() {
            warnings.push(format!(
                "{label}: a {:?} keyword is skipped; only text keywords convert",
                keyword.kind
            ));
            continue;
        }
        phrases.push(format!(
            "    {{ match = \"{kind}\", text = {} }},\n",
            quote(&keyword.content)
        ));
    }
    let replies: Vec<String> = rule
        .reply_list_info
        .iter()
        .filter_map(|reply| reply_value(reply, label, warnings))
        .map(|value| format!("    {value},\n"))
        .collect();
    if phrases.is_empty() || replies.is_empty() {
        warnings.push(format!(
            "{label}: no keyword or no reply left to convert; rule skipped"
        ));
        return None;
    }
    let mode = match rule.reply_mode.as_deref() {
        Some("random_one") => "random_one",
        _ => "reply_all",
    };
    Some(format!(
        "[[plugins.config.groups]]\nname = {}\npriority = {priority}\nmode = \"{mode}\"\nphrases = [\n{}]\nreplies = [\n{}]\n",
        quote(&rule.rule_name),
        phrases.concat(),
        replies.concat()
    ))
}

/// Returns the reply as a TOML inline table, or none with a warning.
fn reply_value(reply: &ReplyInfo, label: &str, warnings: &mut Vec<String>) -> Option<String> {
    let content = reply.content.as_deref().unwrap_or("").trim();
    let needs_content = |kind: &str, warnings: &mut Vec<String>| {
        if content.is_empty() {
            warnings.push(format!(
                "{label}: a {kind} reply without content is skipped"
            ));
            return None;
        }
        Some(content)
    };
    match reply.kind.as_str() {
        "text" => {
            needs_content("text", warnings).map(|text| format!("{{ text = {} }}", quote(text)))
        }
        "img" => needs_content("img", warnings).map(|id| format!("{{ image = {} }}", quote(id))),
        "voice" => {
            needs_content("voice", warnings).map(|id| format!("{{ voice = {} }}", quote(id)))
        }
        "video" => {
            let id = needs_content("video", warnings)?;
            if id.starts_with("http://") || id.starts_with("https://") {
                warnings.push(format!(
                    "{label}: a video reply holds a URL, not a media id; upload the video and add it by media id"
                ));
                return None;
            }
            Some(format!("{{ video = {{ media_id = {} }} }}", quote(id)))
        }
        "news" => {
            let items = reply
                .news_info
                .as_ref()
                .map_or(&[][..], |news| news.list.as_slice());
            let articles: Vec<String> = items
                .iter()
                .filter(|item| !item.title.is_empty() && !item.content_url.is_empty())
                .map(|item| {
                    format!(
                        "{{ title = {}, description = {}, pic_url = {}, url = {} }}",
                        quote(&item.title),
                        quote(&item.digest),
                        quote(&item.cover_url),
                        quote(&item.content_url)
                    )
                })
                .collect();
            if articles.is_empty() {
                warnings.push(format!("{label}: a news reply without articles is skipped"));
                return None;
            }
            Some(format!("{{ news = [{}] }}", articles.join(", ")))
        }
        other => {
            warnings.push(format!(
                "{label}: reply type {other:?} is not supported; skipped"
            ));
            None
        }
    }
}

/// Returns `text` as a TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests;
