//! Pushing an account's configured custom menu to WeChat.

use crate::config::{MenuConfig, counted};
use crate::wechat::{ApiError, WeChatClient};

/// A failure to push a menu.
#[derive(Debug, thiserror::Error)]
pub enum MenuPushError {
    /// The menu breaks WeChat's rules; nothing was sent.
    #[error("invalid menu ({}):\n{}", counted(.0.len(), "problem"), format_problems(.0))]
    Invalid(Vec<(String, String)>),
    /// WeChat rejected a call. `created` counts the menus already in place.
    /// The message includes the API error, so it is not also a `source`
    /// that an error chain would print a second time.
    #[error("menu push failed after {created} of {total} menus: {error}")]
    Api {
        created: usize,
        total: usize,
        error: ApiError,
    },
}

fn format_problems(problems: &[(String, String)]) -> String {
    problems
        .iter()
        .map(|(field, message)| format!("  - {field}: {message}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks `menu`, then replaces the account's default menu
/// (`menu/create`) and adds each conditional menu
/// (`menu/addconditional`) in order. Returns the conditional menus' ids.
///
/// NOTE: conditional menus added by an earlier push are not deleted
/// first, so pushing twice can leave older conditional menus in place.
pub async fn push(client: &WeChatClient, menu: &MenuConfig) -> Result<Vec<String>, MenuPushError> {
    let problems = menu.problems("menu");
    if !problems.is_empty() {
        return Err(MenuPushError::Invalid(problems));
    }
    let conditional = menu.conditional_menus();
    let total = 1 + conditional.len();
    client
        .create_menu(&menu.default_menu())
        .await
        .map_err(|error| MenuPushError::Api {
            created: 0,
            total,
            error,
        })?;
    let mut ids = Vec::with_capacity(conditional.len());
    for (index, (buttons, rule)) in conditional.iter().enumerate() {
        let id = client
            .add_conditional_menu(buttons, rule)
            .await
            .map_err(|error| MenuPushError::Api {
                created: 1 + index,
                total,
                error,
            })?;
        ids.push(id);
    }
    Ok(ids)
}
