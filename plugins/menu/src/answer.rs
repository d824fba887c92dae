//! The menu plugin's settings and the texts it fills in.

use std::collections::BTreeMap;

use wxhost_plugin::config::{ConfigError, Table};
use wxhost_plugin::{LocationSelectEvent, Reply, ReplySpec};

/// Maximum length of an event value put into a text, in characters.
const MAX_SLOT_CHARS: usize = 600;

const DEFAULT_SCANCODE_WAITMSG: &str = "扫描结果：{scan_result}";
const DEFAULT_PIC: &str = "已收到 {count} 张图片，我们会尽快处理。";

/// The parsed configuration.
#[derive(Debug)]
pub struct Settings {
    clicks: BTreeMap<String, ReplySpec>,
    unknown_click: Option<ReplySpec>,
    pub scancode_waitmsg: String,
    pub pic: String,
    /// The configured `location_select` text. Without it the default
    /// text depends on what the event carries.
    location_select: Option<String>,
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
            location_select: table.get("location_select")?,
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

    /// Returns the reply to a `location_select` event: the button's own
    /// text, else the configured `location_select` text, else the default
    /// that names the label, the place name or the coordinates, whichever
    /// the event carries first.
    pub fn location_reply(&self, place: &LocationSelectEvent) -> Option<Reply> {
        let latitude = place.location_x.map(|x| x.to_string());
        let longitude = place.location_y.map(|y| y.to_string());
        let slots = Slots {
            key: &place.key,
            label: place.label.as_deref(),
            poiname: place.poiname.as_deref(),
            latitude: latitude.as_deref(),
            longitude: longitude.as_deref(),
            ..Slots::default()
        };
        let text = match &self.location_select {
            Some(text) => text.as_str(),
            None => default_location_select(&slots),
        };
        self.answer(text, &slots)
    }
}

/// Returns the default `location_select` text for the values in `slots`.
/// WeChat may send an empty `Label`, and a text ending in `{label}` would
/// then end after its colon, so the text names what the event carries.
fn default_location_select(slots: &Slots<'_>) -> &'static str {
    let present = |value: Option<&str>| value.is_some_and(|value| !value.trim().is_empty());
    if present(slots.label) {
        "已收到您选择的位置：{label}"
    } else if present(slots.poiname) {
        "已收到您选择的位置：{poiname}"
    } else if present(slots.latitude) && present(slots.longitude) {
        "已收到您选择的位置：纬度 {latitude}，经度 {longitude}"
    } else {
        "已收到您选择的位置。"
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

    fn place(label: Option<&str>, poiname: Option<&str>) -> LocationSelectEvent {
        LocationSelectEvent {
            key: "NEAR".to_owned(),
            location_x: Some(23.1),
            location_y: Some(113.3),
            scale: Some(15.0),
            label: label.map(str::to_owned),
            poiname: poiname.map(str::to_owned),
        }
    }

    fn defaults() -> Settings {
        Settings::load(&Table::from_pairs(Vec::<(String, String)>::new())).unwrap()
    }

    #[test]
    fn location_reply_names_label() {
        let reply = defaults().location_reply(&place(Some("广州市海珠区新港中路"), None));
        assert_eq!(
            reply,
            Some(Reply::text("已收到您选择的位置：广州市海珠区新港中路"))
        );
    }

    #[test]
    fn location_reply_empty_label_uses_coordinates() {
        let settings = defaults();
        let expected = Some(Reply::text("已收到您选择的位置：纬度 23.1，经度 113.3"));
        assert_eq!(settings.location_reply(&place(None, None)), expected);
        assert_eq!(settings.location_reply(&place(Some(""), None)), expected);
        assert_eq!(
            settings.location_reply(&place(Some("  "), Some(""))),
            expected
        );
    }

    #[test]
    fn location_reply_empty_label_uses_poiname() {
        let reply = defaults().location_reply(&place(Some(""), Some("广州塔")));
        assert_eq!(reply, Some(Reply::text("已收到您选择的位置：广州塔")));
    }

    #[test]
    fn location_reply_without_any_place() {
        let mut event = place(None, None);
        event.location_x = None;
        event.location_y = None;
        let reply = defaults().location_reply(&event);
        assert_eq!(reply, Some(Reply::text("已收到您选择的位置。")));
    }

    #[test]
    fn location_reply_keeps_configured_text() {
        let table = Table::from_pairs([("location_select", r#""位置：{label}""#)]);
        let settings = Settings::load(&table).unwrap();
        assert_eq!(
            settings.location_reply(&place(Some("广州塔"), None)),
            Some(Reply::text("位置：广州塔"))
        );
        assert_eq!(
            settings.location_reply(&place(None, None)),
            Some(Reply::text("位置："))
        );
    }

    #[test]
    fn location_reply_button_answer_wins() {
        let table = Table::from_pairs([("answers", r#"{"NEAR": "门店附近：{label}"}"#)]);
        let reply = Settings::load(&table)
            .unwrap()
            .location_reply(&place(Some("广州塔"), None));
        assert_eq!(reply, Some(Reply::text("门店附近：广州塔")));
    }

    #[test]
    fn location_reply_empty_text_turns_off() {
        let table = Table::from_pairs([("location_select", r#""""#)]);
        let reply = Settings::load(&table)
            .unwrap()
            .location_reply(&place(Some("广州塔"), None));
        assert_eq!(reply, None);
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
