//! The plugin's settings, the Q&A service's JSON and the replies.

use serde::Deserialize;
use serde_json::json;
use wxhost_plugin::config::{ConfigError, Table};
use wxhost_plugin::{Article, Reply, ReplySpec};

/// The parsed configuration.
#[derive(Debug)]
pub struct Settings {
    pub url: String,
    pub timeout_ms: Option<u32>,
    pub fallback: Option<ReplySpec>,
    pub no_answer: Option<ReplySpec>,
}

impl Settings {
    /// Reads the settings from `table`. Fails when `url` is missing or a
    /// value is invalid.
    pub fn load(table: &Table) -> Result<Settings, ConfigError> {
        let settings = Settings {
            url: table.require("url")?,
            timeout_ms: table.get("timeout_ms")?,
            fallback: table.get("fallback")?,
            no_answer: table.get("no_answer")?,
        };
        table.deny_unread()?;
        Ok(settings)
    }
}

/// Returns the JSON request body for the Q&A service. `user` is the
/// follower's pseudonym from the host, never the openid.
pub fn request_body(question: &str, account: &str, user: Option<&str>) -> serde_json::Value {
    let mut body = json!({ "question": question, "account": account });
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    body
}

/// What the service answered.
#[derive(Debug, PartialEq)]
pub enum QaAnswer {
    Found(Reply),
    NotFound,
}

#[derive(Debug, Deserialize)]
struct ServiceAnswer {
    found: bool,
    #[serde(default)]
    answer: String,
    #[serde(default)]
    articles: Vec<ServiceArticle>,
}

/// An article in the service's answer. Unlike the config's articles, it
/// allows extra fields, because the service is not ours to validate.
#[derive(Debug, Deserialize)]
struct ServiceArticle {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    pic_url: String,
    url: String,
}

/// Reads the service's answer. A status other than 2xx or a body that is
/// not the expected JSON is an error, which takes the fallback.
pub fn parse_answer(status: u16, body: &[u8]) -> Result<QaAnswer, String> {
    if !(200..300).contains(&status) {
        return Err(format!("status {status}"));
    }
    let answer: ServiceAnswer =
        serde_json::from_slice(body).map_err(|error| format!("invalid JSON: {error}"))?;
    if !answer.found {
        return Ok(QaAnswer::NotFound);
    }
    if !answer.articles.is_empty() {
        let articles = answer.articles.into_iter().map(|article| {
            Article::new(article.title, article.url)
                .description(article.description)
                .pic_url(article.pic_url)
        });
        return Ok(QaAnswer::Found(Reply::news(articles)));
    }
    if answer.answer.trim().is_empty() {
        return Ok(QaAnswer::NotFound);
    }
    Ok(QaAnswer::Found(Reply::text(answer.answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_with_pseudonym() {
        let body = request_body("几点开门", "demo", Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(
            body.to_string(),
            r#"{"account":"demo","question":"几点开门","user":"0123456789abcdef0123456789abcdef"}"#
        );
    }

    #[test]
    fn body_without_pseudonym() {
        let body = request_body("几点开门", "demo", None);
        assert_eq!(
            body.to_string(),
            r#"{"account":"demo","question":"几点开门"}"#
        );
    }

    #[test]
    fn settings_need_url() {
        let error = Settings::load(&Table::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing config value `url`: set `url` in the plugin's config table"
        );
    }

    #[test]
    fn misspelt_key_is_rejected() {
        let table = Table::from_pairs([
            ("url", r#""http://127.0.0.1:9200/ask""#),
            ("timeout", "800"),
        ]);
        let error = Settings::load(&table).unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown config key `timeout`: did you mean `timeout_ms`? this plugin reads `fallback`, `no_answer`, `timeout_ms`, `url`; rename or remove `timeout` in the plugin's config table"
        );
    }

    #[test]
    fn settings_read_replies() {
        let table = Table::from_pairs([
            ("url", r#""http://127.0.0.1:9200/ask""#),
            ("fallback", r#"{"transfer_customer_service": ""}"#),
            ("no_answer", r#"{"text": "不会"}"#),
        ]);
        let settings = Settings::load(&table).unwrap();
        assert_eq!(settings.url, "http://127.0.0.1:9200/ask");
        assert_eq!(settings.timeout_ms, None);
        assert_eq!(
            settings.fallback.map(|spec| spec.to_reply()),
            Some(Reply::transfer_customer_service())
        );
        assert_eq!(
            settings.no_answer.map(|spec| spec.to_reply()),
            Some(Reply::text("不会"))
        );
    }

    #[test]
    fn answer_forms() {
        assert_eq!(
            parse_answer(200, r#"{"found": true, "answer": "9点"}"#.as_bytes()),
            Ok(QaAnswer::Found(Reply::text("9点")))
        );
        assert_eq!(
            parse_answer(200, br#"{"found": false}"#),
            Ok(QaAnswer::NotFound)
        );
        assert_eq!(
            parse_answer(200, br#"{"found": true, "answer": " "}"#),
            Ok(QaAnswer::NotFound)
        );
        assert_eq!(parse_answer(503, b""), Err("status 503".to_owned()));
        let news = parse_answer(
            200,
            br#"{"found": true, "articles": [{"title": "T", "url": "https://a.invalid/", "extra": 1}]}"#,
        );
        assert_eq!(
            news,
            Ok(QaAnswer::Found(Reply::news([Article::new(
                "T",
                "https://a.invalid/"
            )])))
        );
    }
}
