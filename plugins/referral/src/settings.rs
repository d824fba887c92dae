//! The referral configuration.

use serde::Deserialize;
use wxhost_plugin::ReplySpec;
use wxhost_plugin::config::{ConfigError, Table};
use wxhost_plugin::qrcode::scene_suffix;

/// Default lifetime of an invite code: 30 days, WeChat's maximum for a
/// temporary QR code.
pub const DEFAULT_EXPIRE_SECONDS: u32 = 2_592_000;

/// The title and description of the news article sent when the invite
/// image cannot be uploaded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackArticle {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub keywords: Vec<String>,
    pub menu_key: Option<String>,
    pub scene_prefix: String,
    pub expire_seconds: u32,
    pub permanent_budget: i64,
    pub fallback_article: FallbackArticle,
    pub invitee_reply: Option<ReplySpec>,
    pub uncredited_reply: Option<ReplySpec>,
    pub inviter_message: Option<String>,
    pub scan_reply: Option<ReplySpec>,
    pub error_reply: Option<ReplySpec>,
}

impl Settings {
    /// Reads every key from `table`. Fails on the first invalid value.
    pub fn load(table: &Table) -> Result<Settings, ConfigError> {
        let settings = Settings {
            keywords: table.get_or_default("keywords")?,
            menu_key: table.get("menu_key")?,
            scene_prefix: table.get_or("scene_prefix", "inv_".to_owned())?,
            expire_seconds: table.get_or("expire_seconds", DEFAULT_EXPIRE_SECONDS)?,
            permanent_budget: table.get_or("permanent_budget", 0)?,
            fallback_article: table.get_or(
                "fallback_article",
                FallbackArticle {
                    title: "Your invite code".to_owned(),
                    description: String::new(),
                },
            )?,
            invitee_reply: table.get("invitee_reply")?,
            uncredited_reply: table.get("uncredited_reply")?,
            inviter_message: table.get("inviter_message")?,
            scan_reply: table.get("scan_reply")?,
            error_reply: table.get("error_reply")?,
        };
        table.deny_unread()?;
        if settings.scene_prefix.is_empty() {
            return Err(ConfigError::invalid("scene_prefix", "must not be empty"));
        }
        Ok(settings)
    }

    /// Returns the invite code in `scene`, or none for other scenes.
    pub fn code_of<'a>(&self, scene: &'a str) -> Option<&'a str> {
        scene_suffix(scene, &self.scene_prefix)
    }

    /// Returns true when `text` is one of the invite keywords, ignoring
    /// surrounding whitespace.
    pub fn is_keyword(&self, text: &str) -> bool {
        let text = text.trim();
        self.keywords.iter().any(|keyword| keyword == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_codes_and_keywords() {
        let table = Table::from_pairs([("keywords", r#"["邀请", "invite"]"#)]);
        let settings = Settings::load(&table).unwrap();
        assert_eq!(settings.code_of("inv_abc"), Some("abc"));
        assert_eq!(settings.code_of("inv_"), None);
        assert_eq!(settings.code_of("promo"), None);
        assert!(settings.is_keyword(" 邀请\n"));
        assert!(!settings.is_keyword("邀请码"));
        assert_eq!(settings.expire_seconds, DEFAULT_EXPIRE_SECONDS);
        assert_eq!(settings.fallback_article.title, "Your invite code");
    }

    #[test]
    fn misspelt_key_is_rejected() {
        let table = Table::from_pairs([("keyword", r#"["邀请"]"#)]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(error.key(), "keyword");
        assert!(
            error
                .to_string()
                .starts_with("unknown config key `keyword`: did you mean `keywords`?"),
            "{error}"
        );
    }

    #[test]
    fn empty_prefix_rejected() {
        let table = Table::from_pairs([("scene_prefix", r#""""#)]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(
            error,
            ConfigError::invalid("scene_prefix", "must not be empty")
        );
    }
}
