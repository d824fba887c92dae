//! The menu plugin's settings and the texts it fills in.

use std::collections::BTreeMap;

use wxhost_plugin::config::{ConfigError, Table};
use wxhost_plugin::{Reply, ReplySpec};

/// Maximum length of an event value put into a text, in characters.
const MAX_SLOT_CHARS: usize = 600;

const DEFAULT_SCANCODE_WAITMSG: &str = "扫描结果：{scan_result}";
const DEFAULT_PIC: &str = "已收到 {count} 张图片，我们会尽快处理。";
const DEFAULT_LOCATION_SELECT: &str = "已收到您选择的位置：{label}";

/// The parsed configuration.
#[derive(Debug)]
pub struct Settings {
    clicks: BTreeMap<String, ReplySpec>,
    unknown_click: Option<ReplySpec>,
    pub scancode_waitmsg: String,
    pub pic: String,
    pub location_select: String,
    answers: BTreeMap<String, String>,
}

/// Values from the event for the placeholders of a text.
#[derive(Debug, Default)]
pub struct Slots<'a> {
    pub key: &'a str,
    pub scan_type: Option<&'a str>,
    pub scan_result: Option<&'a str>,
    pub count: Option<&'a str>,
    pub label: Option<&'a str>,
    pub poiname: Option<&'a str>,
    pub latitude: Option<&'a str>,
    pub longitude: Option<&'a str>,
}

impl Settings {
    /// Reads the settings from `table`. Fails on the first invalid value.
    pub fn load(table: &Table) -> Result<Settings, ConfigError> {
        let settings = Settings {
            clicks: table.get_or_default("clicks")?,
            unknown_click: table.get("unknown_click")?,
            scancode_waitmsg: table
                .get_or("scancode_waitmsg", DEFAULT_SCANCODE_WAITMSG.to_owned())?,
            pic: table.get_or("pic", DEFAULT_PIC.to_owned())?,
            location_select: table.get_or("location_select", DEFAULT_LOCATION_SELECT.to_owned())?,
            answers: table.get_or_default("answers")?,
        };
        table.deny_unread()?;
        Ok(settings)
    }

    /// Returns the reply to a click on `key`.
    pub fn click_reply(&self, key: &str) -> Option<Reply> {
        self.clicks
            .get(key)
            .or(self.unknown_click.as_ref())
            .map(ReplySpec::to_reply)
    }

    /// Fills in the button's own text, else `text`, and returns it as a
    /// text reply, or none when the text is empty.
    pub fn answer(&self, text: &str, slots: &Slots<'_>) -> Option<Reply> {
        let template = self.answers.get(slots.key).map_or(text, String::as_str);
        let text = fill(template, slots);
        (!text.trim().is_empty()).then(|| Reply::text(text))
    }
}

/// Replaces each known `{name}` in `template` with its value, cut to
/// [`MAX_SLOT_CHARS`]; an absent value becomes empty.
pub fn fill(template: &str, slots: &Slots<'_>) -> String {
    let values = [
        ("{key}", Some(slots.key)),
        ("{scan_type}", slots.scan_type),
        ("{scan_result}", slots.scan_result),
        ("{count}", slots.count),
        ("{label}", slots.label),
        ("{poiname}", slots.poiname),
        ("{latitude}", slots.latitude),
        ("{longitude}", slots.longitude),
    ];
    let mut text = template.to_owned();
    for (name, value) in values {
        if text.contains(name) {
            let value: String = value
                .unwrap_or_default()
                .chars()
                .take(MAX_SLOT_CHARS)
                .collect();
            text = text.replace(name, &value);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_key_is_rejected() {
        let table = Table::from_pairs([("click", r#"{"TODAY": {"text": "今日推荐"}}"#)]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(error.key(), "click");
        assert!(
            error
                .to_string()
                .starts_with("unknown config key `click`: did you mean `clicks`?"),
            "{error}"
        );
    }

    #[test]
    fn settings_defaults_and_clicks() {
        let table = Table::from_pairs([
            ("clicks", r#"{"TODAY": {"text": "今日推荐"}}"#),
            ("unknown_click", r#"{"image": "mFAKE"}"#),
            ("answers", r#"{"SCAN_QUERY": ""}"#),
        ]);
        let settings = Settings::load(&table).unwrap();
        assert_eq!(settings.click_reply("TODAY"), Some(Reply::text("今日推荐")));
        assert_eq!(settings.click_reply("OTHER"), Some(Reply::image("mFAKE")));
        assert_eq!(settings.pic, DEFAULT_PIC);
        let slots = Slots {
            key: "SCAN_QUERY",
            ..Slots::default()
        };
        assert_eq!(settings.answer(&settings.scancode_waitmsg, &slots), None);
    }

    #[test]
    fn fill_replaces_slots() {
        let slots = Slots {
            key: "scan",
            scan_type: Some("qrcode"),
            scan_result: Some("https://example.com/x"),
            ..Slots::default()
        };
        assert_eq!(
            fill("{scan_type}: {scan_result} ({key}) {label}", &slots),
            "qrcode: https://example.com/x (scan) "
        );
    }

    #[test]
    fn fill_cuts_long_values() {
        let long = "码".repeat(700);
        let slots = Slots {
            scan_result: Some(&long),
            ..Slots::default()
        };
        assert_eq!(fill("{scan_result}", &slots).chars().count(), 600);
    }
}
