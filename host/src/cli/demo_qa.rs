//! `wxhost demo-qa`: the reference Q&A service on a loopback address.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use tokio::net::TcpListener;

use crate::demo_qa::{self, DemoQaState, MAX_DELAY_MS};

/// Arguments of `wxhost demo-qa`.
#[derive(Debug, Args)]
pub struct DemoQaArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:9200")]
    listen: String,
    /// Delay before every answer, in milliseconds, to play a slow service.
    /// A request's `?delay_ms=` overrides it.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
}

/// Serves the demo Q&A service until Ctrl-C.
pub async fn run(args: DemoQaArgs) -> anyhow::Result<()> {
    let address: std::net::SocketAddr = args
        .listen
        .parse()
        .with_context(|| format!("{:?} is not a socket address", args.listen))?;
    if !address.ip().is_loopback() {
        bail!(
            "the demo Q&A service is for demos; listen on a loopback address such as 127.0.0.1:9200"
        );
    }
    if args.delay_ms > MAX_DELAY_MS {
        bail!(
            "--delay-ms {} is out of range; use 0 to {MAX_DELAY_MS}",
            args.delay_ms
        );
    }
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("failed to listen on {address}"))?;
    println!(
        "demo Q&A service listening on http://{}/ask",
        listener.local_addr()?
    );
    let state = DemoQaState::new(Duration::from_millis(args.delay_ms));
    tokio::select! {
        served = demo_qa::serve(listener, state) => served.context("the demo Q&A service stopped")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
