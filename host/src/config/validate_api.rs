//! Validation of the API side of the config: account API settings,
//! consumers, the admin key, the outbox and the in-process fake.

use std::collections::HashSet;
use std::net::SocketAddr;

use super::validate::{Problems, is_route_name};
use super::{AccountConfig, Config, MIN_KEY_BYTES, SecretSource};

pub(super) fn validate_api(config: &Config, problems: &mut Problems) {
    for (index, account) in config.accounts.iter().enumerate() {
        validate_account_api(account, &format!("accounts[{index}]"), problems);
    }
    validate_consumers(config, problems);
    if let Some(admin) = &config.admin {
        check_key(&admin.key, "admin.key", problems);
    }
    validate_outbox(config, problems);
    if let Some(fake) = &config.fake_wechat {
        match fake.listen.parse::<SocketAddr>() {
            Ok(address) if address.ip().is_loopback() => {}
            Ok(_) => problems.add(
                "fake_wechat.listen",
                "the fake of WeChat is for demos and tests; listen on a loopback address such as 127.0.0.1:9100",
            ),
            Err(_) => problems.add(
                "fake_wechat.listen",
                format!(
                    "{:?} is not a socket address; write it as \"127.0.0.1:9100\"",
                    fake.listen
                ),
            ),
        }
    }
}

fn validate_account_api(account: &AccountConfig, field: &str, problems: &mut Problems) {
    if let Some(url) = &account.api_base_url {
        if let Err(message) = check_base_url(url) {
            problems.add(format!("{field}.api_base_url"), message);
        }
        if account.app_secret.is_none() {
            problems.add(
                format!("{field}.api_base_url"),
                "api_base_url is set but app_secret is missing, so the account makes no API calls",
            );
        }
    }
    let quota = &account.quota;
    if account.app_secret.is_none() && !(quota.daily.is_empty() && quota.per_minute.is_empty()) {
        problems.add(
            format!("{field}.quota"),
            "quota limits are set but app_secret is missing, so the account makes no API calls",
        );
    }
    for (table, limits) in [("daily", &quota.daily), ("per_minute", &quota.per_minute)] {
        for (api, limit) in limits {
            let at = format!("{field}.quota.{table}.{api:?}");
            if !api.starts_with('/') || api.chars().any(char::is_whitespace) {
                problems.add(
                    &at,
                    "the key must be an API path such as \"/cgi-bin/message/custom/send\"",
                );
            }
            if *limit == 0 {
                problems.add(&at, "a limit must be at least 1");
            }
        }
    }
}

/// Accepts `https` URLs, and `http` only for loopback hosts (a local fake).
fn check_base_url(text: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(text).map_err(|err| {
        format!("{text:?} is not a URL ({err}); write it as \"https://api.weixin.qq.com\"")
    })?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} must not have a query or fragment"));
    }
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "{text:?} uses plain http to a non-loopback host; access tokens travel in the URL, so use https"
        )),
        scheme => Err(format!("unsupported scheme {scheme:?}; use https")),
    }
}

fn validate_consumers(config: &Config, problems: &mut Problems) {
    let with_secret: HashSet<&str> = config
        .accounts
        .iter()
        .filter(|account| account.app_secret.is_some())
        .map(|account| account.name.as_str())
        .collect();
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    if let Some(Ok(admin)) = config.admin.as_ref().map(|admin| admin.key.resolve()) {
        keys.insert(admin.expose().to_owned());
    }
    for (index, consumer) in config.consumers.iter().enumerate() {
        let field = format!("consumers[{index}]");
        if !is_route_name(&consumer.name) {
            problems.add(
                format!("{field}.name"),
                format!(
                    "{:?} is not a valid consumer name; use 1 to 64 letters, digits, '-' or '_'",
                    consumer.name
                ),
            );
        }
        if !names.insert(consumer.name.as_str()) {
            problems.add(
                format!("{field}.name"),
                format!("duplicate consumer name {:?}", consumer.name),
            );
        }
        if let Some(key) = check_key(&consumer.key, &format!("{field}.key"), problems)
            && !keys.insert(key)
        {
            problems.add(
                format!("{field}.key"),
                "the key is also used by the admin or another consumer; give each its own key",
            );
        }
        if consumer.accounts.is_empty() {
            problems.add(
                format!("{field}.accounts"),
                "list the accounts the consumer may read, or \"*\" for all",
            );
        }
        for name in consumer.accounts.iter().filter(|name| *name != "*") {
            if config.account(name).is_none() {
                problems.add(
                    format!("{field}.accounts"),
                    format!("no [[accounts]] entry is named {name:?}"),
                );
            } else if !with_secret.contains(name.as_str()) {
                problems.add(
                    format!("{field}.accounts"),
                    format!("account {name:?} has no app_secret, so it has no access token"),
                );
            }
        }
    }
}

/// Resolves a bearer key and checks its length. Returns it when valid.
fn check_key(source: &SecretSource, field: &str, problems: &mut Problems) -> Option<String> {
    match source.resolve() {
        Ok(key) if key.expose().len() >= MIN_KEY_BYTES => Some(key.expose().to_owned()),
        Ok(key) => {
            problems.add(
                field,
                format!(
                    "the key must be at least {MIN_KEY_BYTES} bytes (found {})",
                    key.expose().len()
                ),
            );
            None
        }
        Err(message) => {
            problems.add(field, message);
            None
        }
    }
}

fn validate_outbox(config: &Config, problems: &mut Problems) {
    let outbox = &config.outbox;
    let ranges: [(&str, u64, u64, u64); 5] = [
        (
            "outbox.max_attempts",
            u64::from(outbox.max_attempts),
            1,
            100,
        ),
        ("outbox.retry_base_ms", outbox.retry_base_ms, 10, 3_600_000),
        ("outbox.retry_max_ms", outbox.retry_max_ms, 10, 86_400_000),
        ("outbox.poll_ms", outbox.poll_ms, 10, 60_000),
        (
            "outbox.worker_timeout_secs",
            outbox.worker_timeout_secs,
            2,
            3600,
        ),
    ];
    for (field, value, min, max) in ranges {
        if !(min..=max).contains(&value) {
            problems.add(
                field,
                format!("{value} is out of range; use {min} to {max}"),
            );
        }
    }
    if outbox.retry_max_ms < outbox.retry_base_ms {
        problems.add(
            "outbox.retry_max_ms",
            format!(
                "{} is below retry_base_ms ({}); the longest delay must be at least the first",
                outbox.retry_max_ms, outbox.retry_base_ms
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    const ACCOUNT: &str = r#"
[[accounts]]
name = "demo"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
app_secret = "fake:secret"
"#;

    fn problems(extra: &str) -> Vec<String> {
        match Config::parse(&format!("{ACCOUNT}{extra}"), Path::new(".")) {
            Ok(_) => Vec::new(),
            Err(ConfigError::Invalid { problems, .. }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => vec![other.to_string()],
        }
    }

    #[test]
    fn api_fields_accept_valid_values() {
        let text = r#"api_base_url = "http://127.0.0.1:9100/"
token_mode = "classic"
[accounts.quota.daily]
"/cgi-bin/message/custom/send" = 10

[[consumers]]
name = "billing"
key = "fake:0123456789abcdef"
accounts = ["demo"]

[admin]
key = "fake:admin-key-0123456789"

[fake_wechat]
listen = "127.0.0.1:9100"
"#;
        assert_eq!(problems(text), Vec::<String>::new());
    }

    #[test]
    fn plain_http_to_remote_host_rejected() {
        assert_eq!(
            problems("api_base_url = \"http://api.weixin.qq.com\"\n"),
            vec![
                "accounts[0].api_base_url: \"http://api.weixin.qq.com\" uses plain http to a non-loopback host; access tokens travel in the URL, so use https"
            ]
        );
    }

    #[test]
    fn consumer_problems_name_fields() {
        let text = r#"
[[consumers]]
name = "billing team"
key = "fake:short"
accounts = ["nope"]

[[consumers]]
name = "crm"
key = "env:WXHOST_TEST_UNSET_CONSUMER_KEY"
accounts = []
"#;
        assert_eq!(
            problems(text),
            vec![
                "consumers[0].name: \"billing team\" is not a valid consumer name; use 1 to 64 letters, digits, '-' or '_'",
                "consumers[0].key: the key must be at least 16 bytes (found 5)",
                "consumers[0].accounts: no [[accounts]] entry is named \"nope\"",
                "consumers[1].key: environment variable WXHOST_TEST_UNSET_CONSUMER_KEY is not set; export it before starting wxhost",
                "consumers[1].accounts: list the accounts the consumer may read, or \"*\" for all",
            ]
        );
    }

    #[test]
    fn outbox_and_fake_ranges() {
        let text = r#"
[outbox]
max_attempts = 0
retry_base_ms = 5000
retry_max_ms = 1000

[fake_wechat]
listen = "0.0.0.0:9100"
"#;
        assert_eq!(
            problems(text),
            vec![
                "outbox.max_attempts: 0 is out of range; use 1 to 100",
                "outbox.retry_max_ms: 1000 is below retry_base_ms (5000); the longest delay must be at least the first",
                "fake_wechat.listen: the fake of WeChat is for demos and tests; listen on a loopback address such as 127.0.0.1:9100",
            ]
        );
    }
}
