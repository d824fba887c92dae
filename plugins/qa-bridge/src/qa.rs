//! The plugin's settings, the Q&A service's JSON and the replies.

use serde::Deserialize;
use serde_json::json;

use crate::wxhost::plugin::types::{Article, Reply};

/// The parsed configuration.
#[derive(Debug)]
pub struct Settings {
    pub url: String,
    pub timeout_ms: Option<u32>,
    pub fallback: Option<ReplyConfig>,
    pub no_answer: Option<ReplyConfig>,
}

impl Settings {
    /// Reads the settings through `get`, which returns a key's JSON text.
    pub fn load(get: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let url: String = parse(&get, "url")?.ok_or("url: missing")?;
        Ok(Settings {
            url,
            timeout_ms: parse(&get, "timeout_ms")?,
            fallback: parse(&get, "fallback")?,
            no_answer: parse(&get, "no_answer")?,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
) -> Result<Option<T>, String> {
    match get(key) {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|error| format!("{key}: {error}")),
        None => Ok(None),
    }
}

/// A configured reply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReplyConfig {
    Text(String),
    /// An agent account such as `agent@account`, or empty for any agent.
    TransferCustomerService(String),
}

impl ReplyConfig {
    /// Builds the WIT reply.
    pub fn to_wit(&self) -> Reply {
        match self {
            Self::Text(text) => Reply::Text(text.clone()),
            Self::TransferCustomerService(agent) if agent.trim().is_empty() => {
                Reply::TransferCustomerService(None)
            }
            Self::TransferCustomerService(agent) => {
                Reply::TransferCustomerService(Some(agent.trim().to_owned()))
            }
        }
    }
}

/// Returns the JSON request body for the Q&A service.
pub fn request_body(question: &str, account: &str, user: Option<String>) -> Vec<u8> {
    let mut body = json!({ "question": question, "account": account });
    if let Some(user) = user {
        body["user"] = json!(user);
    }
    body.to_string().into_bytes()
}

/// What the service answered.
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
        let articles = answer
            .articles
            .into_iter()
            .map(|article| Article {
                title: article.title,
                description: article.description,
                pic_url: article.pic_url,
                url: article.url,
            })
            .collect();
        return Ok(QaAnswer::Found(Reply::News(articles)));
    }
    if answer.answer.trim().is_empty() {
        return Ok(QaAnswer::NotFound);
    }
    Ok(QaAnswer::Found(Reply::Text(answer.answer)))
}
