//! The host side of the `fetch` import.

use std::time::Duration;

use super::bindings::wxhost::plugin::fetch;
use super::host_api::HostCtx;
use crate::services::fetch::{FetchError, FetchMethod, FetchRequest};

impl fetch::Host for HostCtx {
    fn send(&mut self, request: fetch::Request) -> Result<fetch::Response, fetch::Error> {
        let Some(service) = self.plugin.fetch.clone() else {
            return Err(fetch::Error::NotPermitted(
                "the plugin lacks the \"fetch\" capability".to_owned(),
            ));
        };
        let deadline = Duration::from_millis(self.plugin.limits.deadline_ms);
        let time_left = deadline.saturating_sub(self.started.elapsed());
        let request = FetchRequest {
            method: match request.method {
                fetch::Method::Get => FetchMethod::Get,
                fetch::Method::Post => FetchMethod::Post,
            },
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout: request
                .timeout_ms
                .map(|ms| Duration::from_millis(u64::from(ms))),
        };
        match service.send_blocking(request, time_left) {
            Ok(response) => Ok(fetch::Response {
                status: response.status,
                headers: response.headers,
                body: response.body,
            }),
            Err(error) => Err(match error {
                FetchError::NotPermitted(reason) => fetch::Error::NotPermitted(reason),
                FetchError::BlockedAddress => fetch::Error::BlockedAddress,
                FetchError::Timeout => fetch::Error::Timeout,
                FetchError::TooLarge => fetch::Error::TooLarge,
                FetchError::CircuitOpen => fetch::Error::CircuitOpen,
                FetchError::Transport(reason) => fetch::Error::Transport(reason),
            }),
        }
    }
}
