//! `wxhost fake-wechat`: the fake of WeChat's API as a standalone server,
//! for demos and tests only.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::fake_wechat::{self, FakeAccount, FakeConfig, FakeState};

/// Arguments of `wxhost fake-wechat`.
#[derive(Debug, Args)]
pub struct FakeArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
    /// Take the accounts (appid and app_secret) from this config instead of
    /// the built-in fake account.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

/// Serves the fake until Ctrl-C.
pub async fn run(args: FakeArgs) -> anyhow::Result<()> {
    let address: std::net::SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("{:?} is not a socket address", args.listen))?;
    if !address.ip().is_loopback() {
        bail!(
            "the fake of WeChat is for demos and tests; listen on a loopback address such as 127.0.0.1:9000"
        );
    }
    let mut fake_config = FakeConfig::default();
    if let Some(path) = &args.config {
        let config = Config::load_for_client(path)?;
        let mut accounts = Vec::new();
        for account in &config.accounts {
            if let Some(source) = &account.app_secret {
                accounts.push(FakeAccount {
                    appid: account.appid.clone(),
                    secret: source
                        .resolve()
                        .map_err(anyhow::Error::msg)?
                        .expose()
                        .to_owned(),
                });
            }
        }
        fake_config.accounts = accounts;
    }
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address}"))?;
    println!(
        "fake WeChat API listening on http://{}",
        listener.local_addr()?
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    fake_wechat::serve_with_shutdown(listener, FakeState::new(fake_config), shutdown).await?;
    Ok(())
}
