//! `wxhost menu push`: send an account's configured menu to WeChat.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::apis::AccountApis;
use crate::config::Config;
use crate::wechat::SqliteStore;

/// Arguments of `wxhost menu`.
#[derive(Debug, Args)]
pub struct MenuArgs {
    #[command(subcommand)]
    command: MenuCommand,
}

#[derive(Debug, Subcommand)]
enum MenuCommand {
    /// Check the account's [accounts.menu] and push it: menu/create, then
    /// menu/addconditional for each conditional menu.
    Push {
        /// Account name from the config.
        account: String,
        /// Path of the TOML config file.
        #[arg(long, short, default_value = "wxhost.toml")]
        config: PathBuf,
    },
}

/// Runs `wxhost menu`.
pub async fn run(args: MenuArgs) -> anyhow::Result<()> {
    let MenuCommand::Push { account, config } = args.command;
    let loaded = Config::load_for_client(&config)?;
    let Some(account_config) = loaded.account(&account) else {
        bail!("no account named {account:?} in {}", config.display());
    };
    let Some(menu) = &account_config.menu else {
        bail!(
            "account {account:?} has no [accounts.menu] in {}",
            config.display()
        );
    };
    let path = loaded.resolve_path(&loaded.store.path);
    let store = SqliteStore::open(&path)
        .with_context(|| format!("failed to open the store at {}", path.display()))?;
    let apis = AccountApis::build(&loaded, Arc::new(store))?;
    let Some(client) = apis.client(&account) else {
        bail!("account {account:?} has no app_secret, so wxhost cannot call WeChat for it");
    };
    let ids = crate::menu::push(client, menu).await?;
    println!(
        "menu pushed for {account}: default menu and {} conditional menus{}",
        ids.len(),
        if ids.is_empty() {
            String::new()
        } else {
            format!(" (menuid {})", ids.join(", "))
        }
    );
    Ok(())
}
