//! Every value of the wrong type in a config file, reported together.
//!
//! serde stops at the first value that does not fit its field. To name
//! them all, [`type_problems`] deserializes the parsed TOML table again
//! and again. After each failure it puts a stand-in value of another
//! type at the failing path (or at the missing field) and tries again.

use serde_path_to_error::{Segment, Track};
use toml::{Table, Value};

use super::Config;
use super::validate::Problem;

/// The maximum number of problems one pass reports.
const MAX_PROBLEMS: usize = 32;

/// One failed attempt: where it failed and serde's message.
struct Failure {
    steps: Vec<Step>,
    message: String,
}

impl Failure {
    /// Returns the path of the value to replace: the failing value, or
    /// for a missing field the field inside the failing table.
    fn target(&self) -> Vec<Step> {
        let mut target = self.steps.clone();
        if let Some(name) = missing_field(&self.message) {
            target.push(Step::Key(name.to_owned()));
        }
        target
    }
}

/// Returns one problem per value in `text` that does not deserialize into
/// [`Config`], followed by the keys no field reads. Empty when `text` is
/// not TOML or every value fits.
pub(super) fn type_problems(text: &str) -> Vec<Problem> {
    let Ok(mut table) = text.parse::<Table>() else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    while problems.len() < MAX_PROBLEMS {
        let Err(failure) = attempt(&table, &mut unknown) else {
            break;
        };
        problems.push(Problem {
            field: field_name(&failure.steps),
            message: failure.message.clone(),
        });
        if !stand_in(&mut table, &failure.target()) {
            break;
        }
    }
    problems.extend(unknown);
    problems
}

/// Deserializes `table` once. `unknown` receives a problem for each key
/// no field read.
fn attempt(table: &Table, unknown: &mut Vec<Problem>) -> Result<(), Failure> {
    unknown.clear();
    let mut track = Track::new();
    let deserializer =
        serde_path_to_error::Deserializer::new(Value::Table(table.clone()), &mut track);
    let result: Result<Config, _> = serde_ignored::deserialize(deserializer, |path| {
        unknown.push(super::unknown_keys::unknown_key(&path));
    });
    let error = match result {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    // toml appends "\nin `key`" without array indices, so the tracked path replaces it.
    let text = error.to_string();
    let message = plain_types(text.lines().next().unwrap_or_default());
    Err(Failure {
        steps: track.path().iter().filter_map(Step::of).collect(),
        message,
    })
}

/// Replaces the Rust type names at the end of serde's "expected ..."
/// with words an operator who does not write Rust reads.
fn plain_types(message: &str) -> String {
    const NAMES: [(&str, &str); 8] = [
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected u32", "expected a whole number, 0 or more"),
        ("expected u16", "expected a whole number, 0 or more"),
        ("expected u8", "expected a whole number, 0 or more"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected path string", "expected a path in quotes"),
    ];
    for (rust, plain) in NAMES {
        if let Some(head) = message.strip_suffix(rust) {
            return format!("{head}{plain}");
        }
    }
    message.to_owned()
}

/// Returns the field name of serde's "missing field `name`" message.
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

/// Puts the first stand-in value at `target` after which deserializing
/// no longer fails there. Returns false when none does.
fn stand_in(table: &mut Table, target: &[Step]) -> bool {
    let candidates = [
        Value::String(String::new()),
        Value::Integer(0),
        Value::Boolean(false),
        Value::Array(Vec::new()),
        Value::Table(Table::new()),
    ];
    let mut scratch = Vec::new();
    for candidate in candidates {
        if !set(table, target, candidate) {
            return false;
        }
        match attempt(table, &mut scratch) {
            Err(failure) if failure.target() == target => continue,
            _ => return true,
        }
    }
    false
}

/// One step of the path to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

impl Step {
    fn of(segment: &Segment) -> Option<Step> {
        match segment {
            Segment::Seq { index } => Some(Step::Index(*index)),
            Segment::Map { key } | Segment::Enum { variant: key } => Some(Step::Key(key.clone())),
            Segment::Unknown => None,
        }
    }
}

/// Renders `steps` the way validation problems name fields:
/// `accounts[0].token`.
fn field_name(steps: &[Step]) -> String {
    let mut name = String::new();
    for step in steps {
        match step {
            Step::Index(index) => name.push_str(&format!("[{index}]")),
            Step::Key(key) => {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(key);
            }
        }
    }
    if name.is_empty() {
        "config".to_owned()
    } else {
        name
    }
}

/// Sets the value at `steps` in `table`, adding the last key when it is
/// absent. Returns false when the path does not end at a key of a table.
fn set(table: &mut Table, steps: &[Step], value: Value) -> bool {
    let Some((Step::Key(key), parents)) = steps.split_last() else {
        return false;
    };
    let mut current = table;
    let mut iter = parents.iter().peekable();
    while let Some(step) = iter.next() {
        let Step::Key(parent) = step else {
            return false;
        };
        let Some(mut value) = current.get_mut(parent) else {
            return false;
        };
        while let Some(Step::Index(index)) = iter.peek() {
            let Some(item) = value.as_array_mut().and_then(|array| array.get_mut(*index)) else {
                return false;
            };
            value = item;
            iter.next();
        }
        let Some(next) = value.as_table_mut() else {
            return false;
        };
        current = next;
    }
    current.insert(key.clone(), value);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(text: &str) -> Vec<String> {
        type_problems(text)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn every_wrong_type_is_named() {
        let text = r#"
[server]
max_body_bytes = "big"
reply_budget_ms = 3000
dedupe_ttl_secs = -5

[[accounts]]
name = "demo"
appid = 7
token = "fake:faketoken"

[[accounts]]
name = "shop"
appid = "wx1234567890abcdef"
token = "fake:faketoken"
plugins = "keyword"
colour = "blue"
"#;
        assert_eq!(
            listed(text),
            [
                "server.max_body_bytes: invalid type: string \"big\", expected a whole number, 0 or more",
                "server.dedupe_ttl_secs: invalid value: integer `-5`, expected a whole number, 0 or more",
                "accounts[0].appid: invalid type: integer `7`, expected a string",
                "accounts[1].plugins: invalid type: string \"keyword\", expected a sequence",
                "accounts[1].colour: unknown field; fix the spelling or remove it",
            ]
        );
    }

    #[test]
    fn parse_lists_every_misfit() {
        let text = "[server]\nmax_body_bytes = \"big\"\nreply_budget_ms = \"3s\"\n";
        let error = Config::parse(text, std::path::Path::new("/nonexistent")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid config (2 problems):\n  - server.max_body_bytes: invalid type: string \"big\", expected a whole number, 0 or more\n  - server.reply_budget_ms: invalid type: string \"3s\", expected a whole number, 0 or more"
        );
    }

    #[test]
    fn misspelt_key_beside_wrong_type_suggests() {
        let text = "[server]\nmax_body_bytes = \"big\"\nreply_budget = 3000\n";
        assert_eq!(
            listed(text),
            [
                "server.max_body_bytes: invalid type: string \"big\", expected a whole number, 0 or more",
                "server.reply_budget: unknown field; did you mean `reply_budget_ms`? fix the spelling or remove it",
            ]
        );
    }

    #[test]
    fn valid_text_has_no_problems() {
        let text = "[server]\nmax_body_bytes = 4096\n";
        assert_eq!(listed(text), Vec::<String>::new());
    }

    #[test]
    fn missing_required_field_and_later_problems() {
        let text = "[[accounts]]\nname = 5\ntoken = \"fake:t\"\n\n[store]\npath = 9\n";
        assert_eq!(
            listed(text),
            [
                "accounts[0].name: invalid type: integer `5`, expected a string",
                "accounts[0]: missing field `appid`",
                "store.path: invalid type: integer `9`, expected a path in quotes",
            ]
        );
    }
}
