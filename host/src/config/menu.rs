//! `[accounts.menu]`: the account's custom menu and its conditional
//! (personalised) menus, checked against WeChat's menu rules.

use serde::Deserialize;

use crate::wechat::{Button, MatchRule, Menu};

/// Button types WeChat accepts. `view_limited` is the legacy name of a
/// material-based button.
pub const MENU_BUTTON_TYPES: &[&str] = &[
    "click",
    "view",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "view_limited",
    "article_id",
    "article_view_limited",
    "miniprogram",
];

/// Types whose button sends its `key` in the event.
const KEYED_TYPES: &[&str] = &[
    "click",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
];

const MAX_TOP_BUTTONS: usize = 3;
const MAX_SUB_BUTTONS: usize = 5;
const MAX_TOP_NAME_BYTES: usize = 16;
const MAX_SUB_NAME_BYTES: usize = 60;
const MAX_KEY_BYTES: usize = 128;
const MAX_URL_BYTES: usize = 1024;

/// Rule fields WeChat no longer accepts because they select users by
/// personal data (errcode 65320).
const PRIVACY_FIELDS: &[&str] = &["sex", "country", "province", "city", "language"];

/// The default menu and the conditional menus of one account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MenuConfig {
    /// The default menu's top-level buttons.
    #[serde(default)]
    pub button: Vec<MenuButtonConfig>,
    /// Menus shown instead to the followers a rule selects.
    #[serde(default)]
    pub conditional: Vec<ConditionalMenuConfig>,
}

/// One button, as in WeChat's `menu/create` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MenuButtonConfig {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub media_id: Option<String>,
    #[serde(default)]
    pub article_id: Option<String>,
    #[serde(default)]
    pub appid: Option<String>,
    #[serde(default)]
    pub pagepath: Option<String>,
    #[serde(default)]
    pub sub_button: Vec<MenuButtonConfig>,
}

/// A conditional menu: its buttons and the rule that selects followers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ConditionalMenuConfig {
    pub matchrule: MatchRuleConfig,
    #[serde(default)]
    pub button: Vec<MenuButtonConfig>,
}

/// `matchrule`. The privacy fields are read only to reject them by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MatchRuleConfig {
    #[serde(default)]
    pub tag_id: Option<IdValue>,
    /// 1 iOS, 2 Android, 3 others.
    #[serde(default)]
    pub client_platform_type: Option<IdValue>,
    #[serde(default)]
    pub sex: Option<IdValue>,
    #[serde(default)]
    pub country: Option<IdValue>,
    #[serde(default)]
    pub province: Option<IdValue>,
    #[serde(default)]
    pub city: Option<IdValue>,
    #[serde(default)]
    pub language: Option<IdValue>,
}

/// A rule value written as a TOML integer or string; WeChat takes a string.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum IdValue {
    Number(i64),
    Text(String),
}

impl IdValue {
    fn text(&self) -> String {
        match self {
            IdValue::Number(number) => number.to_string(),
            IdValue::Text(text) => text.trim().to_owned(),
        }
    }
}

impl MenuConfig {
    /// Returns every problem against WeChat's menu rules as a field path
    /// under `field` and a message. Empty when the menu is valid.
    pub fn problems(&self, field: &str) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        check_buttons(&self.button, &format!("{field}.button"), &mut problems);
        if !self.conditional.is_empty() && self.button.is_empty() {
            problems.push((
                format!("{field}.conditional"),
                "conditional menus need a default menu; add [[accounts.menu.button]] entries"
                    .to_owned(),
            ));
        }
        for (index, menu) in self.conditional.iter().enumerate() {
            let path = format!("{field}.conditional[{index}]");
            check_rule(&menu.matchrule, &format!("{path}.matchrule"), &mut problems);
            check_buttons(&menu.button, &format!("{path}.button"), &mut problems);
        }
        problems
    }

    /// Returns the default menu for `menu/create`.
    pub fn default_menu(&self) -> Menu {
        Menu {
            button: self
                .button
                .iter()
                .map(MenuButtonConfig::to_button)
                .collect(),
        }
    }

    /// Returns each conditional menu with its rule for `menu/addconditional`.
    pub fn conditional_menus(&self) -> Vec<(Menu, MatchRule)> {
        self.conditional
            .iter()
            .map(|menu| {
                let rule = MatchRule {
                    tag_id: menu.matchrule.tag_id.as_ref().map(IdValue::text),
                    client_platform_type: menu
                        .matchrule
                        .client_platform_type
                        .as_ref()
                        .map(IdValue::text),
                };
                let buttons = menu
                    .button
                    .iter()
                    .map(MenuButtonConfig::to_button)
                    .collect();
                (Menu { button: buttons }, rule)
            })
            .collect()
    }
}

impl MenuButtonConfig {
    fn to_button(&self) -> Button {
        Button {
            kind: self.kind.clone(),
            name: self.name.clone(),
            key: self.key.clone(),
            url: self.url.clone(),
            media_id: self.media_id.clone(),
            article_id: self.article_id.clone(),
            appid: self.appid.clone(),
            pagepath: self.pagepath.clone(),
            sub_button: self.sub_button.iter().map(Self::to_button).collect(),
        }
    }
}

fn check_buttons(buttons: &[MenuButtonConfig], path: &str, problems: &mut Vec<(String, String)>) {
    if buttons.is_empty() || buttons.len() > MAX_TOP_BUTTONS {
        problems.push((
            path.to_owned(),
            format!(
                "a menu has 1 to {MAX_TOP_BUTTONS} buttons, found {}",
                buttons.len()
            ),
        ));
    }
    for (index, button) in buttons.iter().enumerate() {
        let at = format!("{path}[{index}]");
        check_name(&button.name, MAX_TOP_NAME_BYTES, &at, problems);
        if button.sub_button.is_empty() {
            check_action(button, &at, problems);
            continue;
        }
        if button.kind.is_some() {
            problems.push((
                format!("{at}.type"),
                "a button with sub_button has no type; remove it".to_owned(),
            ));
        }
        if button.sub_button.len() > MAX_SUB_BUTTONS {
            problems.push((
                format!("{at}.sub_button"),
                format!(
                    "a button has 1 to {MAX_SUB_BUTTONS} sub-buttons, found {}",
                    button.sub_button.len()
                ),
            ));
        }
        for (sub_index, sub) in button.sub_button.iter().enumerate() {
            let sub_at = format!("{at}.sub_button[{sub_index}]");
            check_name(&sub.name, MAX_SUB_NAME_BYTES, &sub_at, problems);
            if !sub.sub_button.is_empty() {
                problems.push((
                    format!("{sub_at}.sub_button"),
                    "sub-buttons cannot have sub-buttons".to_owned(),
                ));
            }
            check_action(sub, &sub_at, problems);
        }
    }
}

fn check_name(name: &str, max_bytes: usize, at: &str, problems: &mut Vec<(String, String)>) {
    if name.trim().is_empty() || name.len() > max_bytes {
        problems.push((
            format!("{at}.name"),
            format!(
                "{name:?} is {} bytes; use 1 to {max_bytes} bytes of UTF-8",
                name.len()
            ),
        ));
    }
}

/// Checks the type of a button without sub-buttons and the fields it needs.
fn check_action(button: &MenuButtonConfig, at: &str, problems: &mut Vec<(String, String)>) {
    let mut require = |field: &str, value: &Option<String>| {
        if value.as_deref().is_none_or(|value| value.trim().is_empty()) {
            problems.push((
                format!("{at}.{field}"),
                "missing; this button type needs it".to_owned(),
            ));
        }
    };
    match button.kind.as_deref() {
        None => problems.push((
            format!("{at}.type"),
            format!("missing; use one of {}", MENU_BUTTON_TYPES.join(", ")),
        )),
        Some(kind) if KEYED_TYPES.contains(&kind) => require("key", &button.key),
        Some("view") => require("url", &button.url),
        Some("media_id" | "view_limited") => require("media_id", &button.media_id),
        Some("article_id" | "article_view_limited") => require("article_id", &button.article_id),
        Some("miniprogram") => {
            require("appid", &button.appid);
            require("pagepath", &button.pagepath);
            require("url", &button.url);
        }
        Some(kind) => problems.push((
            format!("{at}.type"),
            format!(
                "unknown button type {kind:?}; use one of {}",
                MENU_BUTTON_TYPES.join(", ")
            ),
        )),
    }
    if let Some(key) = &button.key
        && key.len() > MAX_KEY_BYTES
    {
        problems.push((
            format!("{at}.key"),
            format!("{} bytes; use at most {MAX_KEY_BYTES}", key.len()),
        ));
    }
    if let Some(url) = &button.url {
        if url.len() > MAX_URL_BYTES {
            problems.push((
                format!("{at}.url"),
                format!("{} bytes; use at most {MAX_URL_BYTES}", url.len()),
            ));
        }
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            problems.push((
                format!("{at}.url"),
                format!("{url:?} is not an http or https URL"),
            ));
        }
    }
}

fn check_rule(rule: &MatchRuleConfig, at: &str, problems: &mut Vec<(String, String)>) {
    let tag = rule
        .tag_id
        .as_ref()
        .map(IdValue::text)
        .filter(|t| !t.is_empty());
    let platform = rule
        .client_platform_type
        .as_ref()
        .map(IdValue::text)
        .filter(|t| !t.is_empty());
    if tag.is_none() && platform.is_none() {
        problems.push((
            at.to_owned(),
            "set tag_id or client_platform_type; a rule needs at least one".to_owned(),
        ));
    }
    if let Some(platform) = platform
        && !matches!(platform.as_str(), "1" | "2" | "3")
    {
        problems.push((
            format!("{at}.client_platform_type"),
            format!("{platform:?} is not 1 (iOS), 2 (Android) or 3 (others)"),
        ));
    }
    let privacy = [
        &rule.sex,
        &rule.country,
        &rule.province,
        &rule.city,
        &rule.language,
    ];
    for (name, value) in PRIVACY_FIELDS.iter().zip(privacy) {
        if value.is_some() {
            problems.push((
                format!("{at}.{name}"),
                "WeChat rejects rules on personal data (errcode 65320); remove it".to_owned(),
            ));
        }
    }
}
