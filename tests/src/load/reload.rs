//! The reload check: replaces a plugin file and reloads it through
//! `POST /admin/plugins/reload` several times while a workload runs, and
//! counts the requests that failed meanwhile.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::{AUTHORIZATION, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use tokio::net::TcpStream;

/// Name of the custom section that makes each replacement's bytes, and so
/// its content hash, differ from the original file.
const SECTION_NAME: &str = "wxhost-load-reload";

/// A plugin file to replace and the admin endpoint that reloads it.
#[derive(Debug, Clone)]
pub struct Reloader {
    /// The host under test.
    pub host: SocketAddr,
    /// The admin key of the host.
    pub admin_key: String,
    /// The component file that the host's config names.
    pub file: PathBuf,
    /// Plugins loaded from `file`, which must all serve the replacement
    /// after each reload.
    pub plugins: Vec<String>,
}

/// What the reloads during a phase did.
#[derive(Debug, Default)]
pub struct ReloadLog {
    /// Reloads after which every plugin of the file served the replacement.
    pub applied: u32,
    /// One message per reload that failed or served another version.
    pub problems: Vec<String>,
}

impl Reloader {
    /// Replaces the file `count` times, evenly spread over `duration`, and
    /// reloads after each replacement. Puts the original bytes back and
    /// reloads them at the end.
    pub async fn run(&self, count: u32, duration: Duration) -> anyhow::Result<ReloadLog> {
        let original = std::fs::read(&self.file)
            .with_context(|| format!("failed to read {}", self.file.display()))?;
        let interval = duration / (count + 1);
        let mut log = ReloadLog::default();
        for number in 1..=count {
            tokio::time::sleep(interval).await;
            let replacement = with_custom_section(&original, number);
            match self.replace_and_reload(&replacement).await {
                Ok(()) => log.applied += 1,
                Err(err) => log.problems.push(format!("reload {number}: {err:#}")),
            }
        }
        self.replace_and_reload(&original)
            .await
            .context("failed to restore the original plugin file")?;
        Ok(log)
    }

    async fn replace_and_reload(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomically(&self.file, bytes)?;
        let version = hex::encode(Sha256::digest(bytes));
        let body = self.post_reload().await?;
        let report: serde_json::Value =
            serde_json::from_slice(&body).context("reload response is not JSON")?;
        let files = report["files"]
            .as_array()
            .context("reload response has no files array")?;
        for plugin in &self.plugins {
            // The host's file watcher may have loaded the file before the
            // request did; then the request reports it unchanged.
            let Some(file) = files.iter().find(|file| file["plugin"] == plugin.as_str()) else {
                bail!("reload response does not list plugin {plugin}");
            };
            ensure!(
                file["result"] != "failed",
                "plugin {plugin} failed to load: {}",
                file["error"]
            );
            ensure!(
                file["version"] == version.as_str(),
                "plugin {plugin} serves version {}, expected {version}",
                file["version"]
            );
        }
        Ok(())
    }

    async fn post_reload(&self) -> anyhow::Result<Bytes> {
        let stream = TcpStream::connect(self.host)
            .await
            .with_context(|| format!("failed to connect to {}", self.host))?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = Request::builder()
            .method(Method::POST)
            .uri("/admin/plugins/reload")
            .header(HOST, self.host.to_string())
            .header(AUTHORIZATION, format!("Bearer {}", self.admin_key))
            .body(Full::new(Bytes::new()))?;
        let response = sender
            .send_request(request)
            .await
            .context("reload request failed")?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        ensure!(
            status.is_success(),
            "POST /admin/plugins/reload returned HTTP {status}"
        );
        Ok(body)
    }
}

/// Returns `component` with a custom section carrying `number` appended.
/// A custom section may follow the last section of a component, and the
/// runtime ignores its contents.
pub fn with_custom_section(component: &[u8], number: u32) -> Vec<u8> {
    let mut content = Vec::new();
    leb128(&mut content, SECTION_NAME.len());
    content.extend_from_slice(SECTION_NAME.as_bytes());
    content.extend_from_slice(&number.to_le_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section id
    leb128(&mut bytes, content.len());
    bytes.extend_from_slice(&content);
    bytes
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`, so the host never reads a partly written component.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".reload-tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("failed to write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("failed to replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_encodes_multibyte_sizes() {
        let mut out = Vec::new();
        leb128(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        out.clear();
        leb128(&mut out, 5);
        assert_eq!(out, [5]);
    }

    #[test]
    fn custom_section_appends_named_payload() {
        let bytes = with_custom_section(b"base", 7);
        let mut expected = b"base".to_vec();
        expected.extend_from_slice(&[0, 1 + 18 + 4, 18]);
        expected.extend_from_slice(b"wxhost-load-reload");
        expected.extend_from_slice(&7u32.to_le_bytes());
        assert_eq!(bytes, expected);
    }
}
