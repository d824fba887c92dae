use super::*;

const GROUPS: &str = r#"[
    {"name": "low", "priority": 1,
     "phrases": [{"match": "contains", "text": "价格"}],
     "reply": {"text": "low"}},
    {"name": "high", "priority": 9,
     "phrases": [{"match": "exact", "text": "价格表"}],
     "reply": {"text": "high"}},
    {"name": "hello", "priority": 5,
     "phrases": [{"match": "exact", "text": "Hello"}, {"match": "regex", "text": "^订单\\s*\\d{6}$"}],
     "replies": [{"text": "h1"}, {"text": "h2"}, {"text": "h3"}],
     "mode": "random_one"}
]"#;

/// Returns the rules of `GROUPS` plus the `extra` config values.
fn rules(extra: &[(&str, &str)]) -> Rules {
    let pairs = std::iter::once(("groups", GROUPS)).chain(extra.iter().copied());
    Rules::parse(&Table::from_pairs(pairs)).unwrap()
}

fn texts(selection: &Selection<'_>) -> Vec<String> {
    selection
        .replies
        .iter()
        .map(|reply| match reply {
            ReplySpec::Text(text) => text.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn misspelt_key_is_rejected() {
    let table = Table::from_pairs([("groups", GROUPS), ("max_reply", "2")]);
    let error = Rules::parse(&table).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown config key `max_reply`: did you mean `max_replies`? this plugin reads `default_reply`, `default_reply_enabled`, `fold`, `groups`, `match_groups`, `max_replies`; rename or remove `max_reply` in the plugin's config table"
    );
}

#[test]
fn priority_order_wins() {
    let rules = rules(&[]);
    assert_eq!(texts(&rules.select("  价格表\n", 1)), ["high"]);
    assert_eq!(texts(&rules.select("价格表多少", 1)), ["low"]);
}

#[test]
fn no_match_without_default() {
    let rules = rules(&[]);
    assert!(rules.select("你好", 1).replies.is_empty());
}

#[test]
fn default_reply_used() {
    let rules = rules(&[("default_reply", r#"{"text": "默认"}"#)]);
    assert_eq!(texts(&rules.select("你好", 1)), ["默认"]);
}

#[test]
fn default_reply_turned_off() {
    let rules = rules(&[
        ("default_reply", r#"{"text": "默认"}"#),
        ("default_reply_enabled", "false"),
    ]);
    assert!(rules.select("你好", 1).replies.is_empty());
}

#[test]
fn invalid_groups_rejected() {
    let error = Rules::parse(&Table::from_pairs([("groups", "[{}]")])).unwrap_err();
    assert_eq!(error.key(), "groups");
    assert!(
        error
            .to_string()
            .starts_with("invalid config value `groups`: missing field"),
        "{error}"
    );
}

#[test]
fn group_without_reply_rejected() {
    let error = Rules::parse(&Table::from_pairs([("groups", r#"[{"phrases": []}]"#)])).unwrap_err();
    assert_eq!(
        error,
        ConfigError::invalid("groups", "group 0 has no replies: set `reply` or `replies`")
    );
}

#[test]
fn full_width_folds() {
    let rules = rules(&[]);
    let chosen = texts(&rules.select("ＨＥＬＬＯ", 7));
    assert_eq!(chosen.len(), 1);
    assert!(["h1", "h2", "h3"].contains(&chosen[0].as_str()));

    let exact_case = rules_no_fold();
    assert!(exact_case.select("ＨＥＬＬＯ", 7).replies.is_empty());
    assert!(exact_case.select("hello", 7).replies.is_empty());
    assert_eq!(exact_case.select("Hello", 7).replies.len(), 1);
}

fn rules_no_fold() -> Rules {
    rules(&[("fold", "false")])
}

#[test]
fn regex_matches_folded_digits() {
    let rules = rules(&[]);
    assert_eq!(rules.select("订单 123456", 3).replies.len(), 1);
    assert_eq!(rules.select("订单１２３４５６", 3).replies.len(), 1);
    assert!(rules.select("订单 12345", 3).replies.is_empty());
}

#[test]
fn random_one_is_deterministic() {
    let rules = rules(&[]);
    let picks: Vec<String> = (0..30u64)
        .map(|seed| texts(&rules.select("hello", seed)).remove(0))
        .collect();
    for seed in 0..30u64 {
        assert_eq!(texts(&rules.select("hello", seed))[0], picks[seed as usize]);
    }
    for reply in ["h1", "h2", "h3"] {
        assert!(
            picks.iter().any(|pick| pick == reply),
            "{reply} never chosen"
        );
    }
}

#[test]
fn all_groups_answer() {
    let rules = rules(&[("match_groups", r#""all""#)]);
    assert_eq!(texts(&rules.select("价格表", 1)), ["high", "low"]);
}

#[test]
fn invalid_regex_reported() {
    let rules = Rules::parse(&Table::from_pairs([(
        "groups",
        r#"[{"phrases": [{"match": "regex", "text": "(unclosed"}], "reply": {"text": "x"}}]"#,
    )]))
    .unwrap();
    let selection = rules.select("(unclosed", 1);
    assert!(selection.replies.is_empty());
    assert_eq!(selection.problems.len(), 1);
    assert!(selection.problems[0].starts_with("invalid regex \"(unclosed\""));
}

#[test]
fn invalid_phrases_lists_bad_regex() {
    let parsed = Rules::parse(&Table::from_pairs([(
        "groups",
        r#"[{"name": "orders", "phrases": [{"match": "regex", "text": "(unclosed"}, {"match": "exact", "text": "ok"}], "reply": {"text": "x"}}]"#,
    )]))
    .unwrap();
    let problems = parsed.invalid_phrases();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("invalid config value `groups`: invalid regex \"(unclosed\""),
        "{}",
        problems[0]
    );
    assert!(
        problems[0].ends_with(" in group \"orders\"; fix the phrase in the plugin's config table"),
        "{}",
        problems[0]
    );
    assert!(rules(&[]).invalid_phrases().is_empty());
}

#[test]
fn max_replies_caps() {
    let rules = rules(&[("match_groups", r#""all""#), ("max_replies", "1")]);
    assert_eq!(texts(&rules.select("价格表", 1)), ["high"]);
}
