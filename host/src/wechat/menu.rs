//! Custom menus: the default menu and conditional menus.

use serde::{Deserialize, Serialize};

/// Most top-level buttons of a menu.
pub const MAX_TOP_BUTTONS: usize = 3;
/// Most sub-buttons under one top-level button.
pub const MAX_SUB_BUTTONS: usize = 5;
/// Maximum top-level button name length, in UTF-8 bytes.
pub const MAX_TOP_NAME_BYTES: usize = 16;
/// Maximum sub-button name length, in UTF-8 bytes.
pub const MAX_SUB_NAME_BYTES: usize = 60;

/// A menu: 1 to 3 top-level buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Menu {
    pub button: Vec<Button>,
}

/// One button. A button with `sub_button` has no `type`. `type` is one of
/// `click`, `view`, `scancode_push`, `scancode_waitmsg`, `pic_sysphoto`,
/// `pic_photo_or_album`, `pic_weixin`, `location_select`, `media_id`,
/// `article_id`, `article_view_limited` or `miniprogram`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_button: Vec<Button>,
}

impl Button {
    /// Creates a `click` button that sends `key` in the click event.
    pub fn click(name: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            kind: Some("click".to_owned()),
            name: name.into(),
            key: Some(key.into()),
            ..Self::default()
        }
    }
}

impl Menu {
    /// Checks the button counts and name lengths WeChat enforces.
    pub fn validate(&self) -> Result<(), String> {
        let count = self.button.len();
        if count == 0 || count > MAX_TOP_BUTTONS {
            return Err(format!(
                "a menu has 1 to {MAX_TOP_BUTTONS} buttons, got {count}"
            ));
        }
        for button in &self.button {
            check_name(&button.name, MAX_TOP_NAME_BYTES)?;
            if button.sub_button.len() > MAX_SUB_BUTTONS {
                return Err(format!(
                    "button {:?} has {} sub-buttons, at most {MAX_SUB_BUTTONS} allowed",
                    button.name,
                    button.sub_button.len()
                ));
            }
            for sub in &button.sub_button {
                check_name(&sub.name, MAX_SUB_NAME_BYTES)?;
            }
        }
        Ok(())
    }
}

fn check_name(name: &str, max_bytes: usize) -> Result<(), String> {
    if name.is_empty() || name.len() > max_bytes {
        return Err(format!(
            "button name {name:?} is {} bytes, must be 1 to {max_bytes}",
            name.len()
        ));
    }
    Ok(())
}

/// The rule that selects the users of a conditional menu. At least one
/// field must be set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_id: Option<String>,
    /// 1 iOS, 2 Android, 3 others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_platform_type: Option<String>,
}

/// The body of `menu/addconditional`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct ConditionalMenuRequest<'a> {
    pub button: &'a [Button],
    pub matchrule: &'a MatchRule,
}

/// The response of `menu/addconditional`. WeChat sends the id as a string.
#[derive(Debug, Deserialize)]
pub(crate) struct MenuIdResponse {
    pub menuid: serde_json::Value,
}

/// The response of `menu/get`: menus created through the API.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MenuInfo {
    #[serde(default)]
    pub menu: Option<MenuWithId>,
    #[serde(default)]
    pub conditionalmenu: Vec<ConditionalMenu>,
}

/// A default menu with its id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MenuWithId {
    pub button: Vec<Button>,
    #[serde(default)]
    pub menuid: Option<u64>,
}

/// A conditional menu with its rule and id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConditionalMenu {
    pub button: Vec<Button>,
    pub matchrule: MatchRule,
    #[serde(default)]
    pub menuid: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_button_serializes() {
        let menu = Menu {
            button: vec![Button::click("菜单", "k1")],
        };
        assert_eq!(
            serde_json::to_string(&menu).unwrap(),
            r#"{"button":[{"type":"click","name":"菜单","key":"k1"}]}"#
        );
    }

    #[test]
    fn validate_limits() {
        let four = Menu {
            button: (0..4)
                .map(|i| Button::click("b", format!("k{i}")))
                .collect(),
        };
        assert!(four.validate().is_err());
        // Six Chinese characters are 18 bytes, over the 16-byte limit.
        let long = Menu {
            button: vec![Button::click("一二三四五六", "k")],
        };
        assert!(long.validate().is_err());
        let ok = Menu {
            button: vec![Button::click("一二三四五", "k")],
        };
        assert!(ok.validate().is_ok());
    }
}
