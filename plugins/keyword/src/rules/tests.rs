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

fn rules(extra: impl FnOnce(&mut RawConfig<'static>)) -> Rules {
    let mut raw = RawConfig {
        groups: Some(GROUPS),
        ..RawConfig::default()
    };
    extra(&mut raw);
    Rules::parse(&raw).unwrap()
}

fn texts(selection: &Selection<'_>) -> Vec<String> {
    selection
        .replies
        .iter()
        .map(|reply| match reply {
            ReplyConfig::Text(text) => text.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn priority_order_wins() {
    let rules = rules(|_| {});
    assert_eq!(texts(&rules.select("  价格表\n", 1)), ["high"]);
    assert_eq!(texts(&rules.select("价格表多少", 1)), ["low"]);
}

#[test]
fn no_match_without_default() {
    let rules = rules(|_| {});
    assert!(rules.select("你好", 1).replies.is_empty());
}

#[test]
fn default_reply_used() {
    let rules = rules(|raw| raw.default_reply = Some(r#"{"text": "默认"}"#));
    assert_eq!(texts(&rules.select("你好", 1)), ["默认"]);
}

#[test]
fn default_reply_turned_off() {
    let rules = rules(|raw| {
        raw.default_reply = Some(r#"{"text": "默认"}"#);
        raw.default_reply_enabled = Some("false");
    });
    assert!(rules.select("你好", 1).replies.is_empty());
}

#[test]
fn invalid_groups_rejected() {
    let error = Rules::parse(&RawConfig {
        groups: Some("[{}]"),
        ..RawConfig::default()
    })
    .unwrap_err();
    assert!(error.starts_with("groups: missing field"), "{error}");
}

#[test]
fn group_without_reply_rejected() {
    let error = Rules::parse(&RawConfig {
        groups: Some(r#"[{"phrases": []}]"#),
        ..RawConfig::default()
    })
    .unwrap_err();
    assert_eq!(error, "groups[0]: set `reply` or `replies`");
}

#[test]
fn full_width_folds() {
    let rules = rules(|_| {});
    let chosen = texts(&rules.select("ＨＥＬＬＯ", 7));
    assert_eq!(chosen.len(), 1);
    assert!(["h1", "h2", "h3"].contains(&chosen[0].as_str()));

    let exact_case = rules_no_fold();
    assert!(exact_case.select("ＨＥＬＬＯ", 7).replies.is_empty());
    assert!(exact_case.select("hello", 7).replies.is_empty());
    assert_eq!(exact_case.select("Hello", 7).replies.len(), 1);
}

fn rules_no_fold() -> Rules {
    rules(|raw| raw.fold = Some("false"))
}

#[test]
fn regex_matches_folded_digits() {
    let rules = rules(|_| {});
    assert_eq!(rules.select("订单 123456", 3).replies.len(), 1);
    assert_eq!(rules.select("订单１２３４５６", 3).replies.len(), 1);
    assert!(rules.select("订单 12345", 3).replies.is_empty());
}

#[test]
fn random_one_is_deterministic() {
    let rules = rules(|_| {});
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
    let rules = rules(|raw| raw.match_groups = Some(r#""all""#));
    assert_eq!(texts(&rules.select("价格表", 1)), ["high", "low"]);
}

#[test]
fn invalid_regex_reported() {
    let rules = Rules::parse(&RawConfig {
        groups: Some(
            r#"[{"phrases": [{"match": "regex", "text": "(unclosed"}], "reply": {"text": "x"}}]"#,
        ),
        ..RawConfig::default()
    })
    .unwrap();
    let selection = rules.select("(unclosed", 1);
    assert!(selection.replies.is_empty());
    assert_eq!(selection.problems.len(), 1);
    assert!(selection.problems[0].starts_with("invalid regex \"(unclosed\""));
}

#[test]
fn max_replies_caps() {
    let rules = rules(|raw| {
        raw.match_groups = Some(r#""all""#);
        raw.max_replies = Some("1");
    });
    assert_eq!(texts(&rules.select("价格表", 1)), ["high"]);
}
