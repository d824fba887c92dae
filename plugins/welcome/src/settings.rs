//! The welcome configuration: replies, QR channels and scene patterns.

use serde::Deserialize;
use wxhost_plugin::ReplySpec;
use wxhost_plugin::config::{ConfigError, Table};
use wxhost_plugin::qrcode::ScenePattern;

/// One QR channel: the scenes that belong to it and its own replies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub name: String,
    pub scenes: Vec<ScenePattern>,
    pub new_follower_reply: Option<ReplySpec>,
    pub returning_reply: Option<ReplySpec>,
    pub scan_reply: Option<ReplySpec>,
    /// First-time followers of this channel get no reply from this plugin,
    /// so a later plugin in the route (such as referral) replies to them.
    #[serde(default)]
    pub pass_new_followers: bool,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub new_follower_reply: Option<ReplySpec>,
    pub returning_reply: Option<ReplySpec>,
    pub scan_reply: Option<ReplySpec>,
    pub channels: Vec<Channel>,
    /// Channel of follows without a QR scene.
    pub direct_channel: String,
    /// Channel of QR scenes that no channel lists.
    pub other_channel: String,
    pub count_channels: bool,
}

impl Settings {
    /// Reads every key from `table`. Fails on the first invalid value.
    pub fn load(table: &Table) -> Result<Settings, ConfigError> {
        let settings = Settings {
            new_follower_reply: table.get("new_follower_reply")?,
            returning_reply: table.get("returning_reply")?,
            scan_reply: table.get("scan_reply")?,
            channels: table.get_or_default("channels")?,
            direct_channel: table.get_or("direct_channel", "direct".to_owned())?,
            other_channel: table.get_or("other_channel", "other".to_owned())?,
            count_channels: table.get_or("count_channels", true)?,
        };
        table.deny_unread()?;
        Ok(settings)
    }

    /// Returns the first channel that lists `scene`, if any.
    pub fn channel_of(&self, scene: Option<&str>) -> Option<&Channel> {
        let scene = scene?;
        self.channels
            .iter()
            .find(|channel| channel.scenes.iter().any(|pattern| pattern.matches(scene)))
    }

    /// Returns the channel name to count a follow with `scene` under.
    pub fn channel_name(&self, scene: Option<&str>) -> String {
        match (scene, self.channel_of(scene)) {
            (_, Some(channel)) => channel.name.clone(),
            (Some(_), None) => self.other_channel.clone(),
            (None, None) => self.direct_channel.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNELS: &str = r#"[
        {"name": "poster", "scenes": ["poster_*"], "new_follower_reply": {"text": "poster"}},
        {"name": "store", "scenes": ["store_1", "store_2"]}
    ]"#;

    #[test]
    fn misspelt_key_is_rejected() {
        let table = Table::from_pairs([("scan_reploy", r#"{"text": "hi"}"#)]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(error.key(), "scan_reploy");
        assert!(
            error
                .to_string()
                .starts_with("unknown config key `scan_reploy`: did you mean `scan_reply`?"),
            "{error}"
        );
    }

    #[test]
    fn defaults_without_config() {
        let settings = Settings::load(&Table::default()).unwrap();
        assert!(settings.channels.is_empty());
        assert_eq!(settings.direct_channel, "direct");
        assert_eq!(settings.other_channel, "other");
        assert!(settings.count_channels);
    }

    #[test]
    fn channel_names_by_scene() {
        let settings = Settings::load(&Table::from_pairs([("channels", CHANNELS)])).unwrap();
        assert_eq!(settings.channel_name(Some("poster_spring")), "poster");
        assert_eq!(settings.channel_name(Some("store_2")), "store");
        assert_eq!(settings.channel_name(Some("store_3")), "other");
        assert_eq!(settings.channel_name(None), "direct");
        assert_eq!(
            settings
                .channel_of(Some("poster_x"))
                .and_then(|c| c.new_follower_reply.clone()),
            Some(ReplySpec::Text("poster".to_owned()))
        );
    }

    #[test]
    fn invalid_reply_names_key() {
        let table = Table::from_pairs([("scan_reply", r#"{"txt": "hi"}"#)]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(error.key(), "scan_reply");
    }
}
