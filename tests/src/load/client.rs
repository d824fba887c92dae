//! One keep-alive HTTP/1.1 connection that posts prepared callbacks.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::requests::Prepared;

/// A reply as the checks need it.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

/// A client connection to one server on 127.0.0.1.
pub struct Connection {
    address: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Connects to `address` and starts the HTTP/1.1 connection task.
    pub async fn open(address: SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("failed to connect to {address}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .with_context(|| format!("HTTP handshake with {address} failed"))?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the server
            // closes it; the next post then reports the error.
            let _ = connection.await;
        });
        Ok(Connection { address, sender })
    }

    /// Posts `request` and reads the whole reply.
    pub async fn post(&mut self, request: &Prepared) -> anyhow::Result<Response> {
        self.sender
            .ready()
            .await
            .context("connection closed before the request")?;
        let http_request = Request::builder()
            .method(Method::POST)
            .uri(request.path_and_query.as_str())
            .header(HOST, self.address.to_string())
            .header(CONTENT_TYPE, "text/xml")
            .body(Full::new(request.body.clone()))
            .context("invalid request")?;
        let response = self
            .sender
            .send_request(http_request)
            .await
            .context("request failed")?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the reply body failed")?
            .to_bytes();
        Ok(Response {
            status,
            content_type,
            body,
        })
    }
}
