//! `baseline-server`: a bare axum server that reads each `POST
//! /wechat/{account}` body and replies with a constant XML document. It measures
//! what the HTTP stack alone serves on this machine, for comparison with
//! wxhost.
//!
//! It runs on the same tokio runtime as `wxhost serve` (multi-threaded,
//! one worker per CPU) so that only the per-request work differs.

use std::net::SocketAddr;

use anyhow::{Context, ensure};
use axum::Router;
use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::post;
use clap::Parser;
use wxhost_tests::load::BASELINE_REPLY;
use wxhost_tests::load::check::XML_CONTENT_TYPE;

/// Serves a constant XML reply on a loopback address.
#[derive(Debug, Parser)]
struct Args {
    /// Loopback socket address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

async fn reply(_body: Bytes) -> impl IntoResponse {
    ([(CONTENT_TYPE, XML_CONTENT_TYPE)], BASELINE_REPLY)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.listen.ip().is_loopback(),
        "--listen {} is not a loopback address; the baseline serves only 127.0.0.1",
        args.listen
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to bind {}", args.listen))?;
    // The load script reads the bound address from this line.
    println!("listening on {}", listener.local_addr()?);
    let app = Router::new().route("/wechat/{account}", post(reply));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
