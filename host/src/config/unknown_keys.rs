//! Problems for keys that no config field reads, with a spelling
//! suggestion when a known key of the same table is close.
//!
//! The known keys come from the config structs themselves, because a
//! derived `Deserialize` passes its field names to `deserialize_struct`.
//! [`known_keys`] runs `Config`'s deserializer against a [`Probe`], which
//! feeds each struct on the way only the next key of the path, and stops
//! with the field list of the struct at the end of the path. A new field
//! or nested table therefore needs no change here.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use strsim::levenshtein as edit_distance;

use super::Config;
use super::types::Step;
use super::validate::Problem;

/// Returns the problem for the key at `path`, which no config field reads.
pub(super) fn unknown_key(path: &serde_ignored::Path<'_>) -> Problem {
    let mut steps = Vec::new();
    push_steps(path, &mut steps);
    let suggestion = match steps.split_last() {
        Some((Step::Key(key), table)) => {
            known_keys::<Config>(table).and_then(|known| closest(key, known))
        }
        _ => None,
    };
    let message = match suggestion {
        Some(known) => {
            format!("unknown field; did you mean `{known}`? fix the spelling or remove it")
        }
        None => "unknown field; fix the spelling or remove it".to_owned(),
    };
    Problem {
        field: super::field_path(path),
        message,
    }
}

/// Appends the keys and indices of `path`, outermost first, to `steps`.
fn push_steps(path: &serde_ignored::Path<'_>, steps: &mut Vec<Step>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            push_steps(parent, steps);
            steps.push(Step::Index(*index));
        }
        Path::Map { parent, key } => {
            push_steps(parent, steps);
            steps.push(Step::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => push_steps(parent, steps),
    }
}

/// Returns the field names of the struct that `T` deserializes at
/// `table`, or `None` when no struct is there. A map, an enum or a type
/// with a hand-written `Deserialize` (such as a secret) on the way also
/// gives `None`.
fn known_keys<T: DeserializeOwned>(table: &[Step]) -> Option<&'static [&'static str]> {
    match T::deserialize(Probe { path: table }) {
        Err(ProbeEnd::Fields(fields)) => Some(fields),
        _ => None,
    }
}

/// Returns the entry of `known` closest to `key` in edit distance, when
/// the distance is at most a third of the key's length (at least 2) or
/// one of the two is a prefix of the other. The first entry wins a tie.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    if key.is_empty() {
        return None;
    }
    let limit = (key.chars().count() / 3).max(2);
    known
        .iter()
        .map(|name| (edit_distance(key, name), *name))
        .filter(|(distance, name)| {
            *distance <= limit || name.starts_with(key) || key.starts_with(name)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// The result of a probe. Deserializing through a [`Probe`] always fails,
/// so the error carries the result.
#[derive(Debug)]
enum ProbeEnd {
    /// The field names of the struct at the end of the path.
    Fields(&'static [&'static str]),
    /// The path does not lead through structs and sequences to a struct.
    NoStruct,
}

impl fmt::Display for ProbeEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeEnd::Fields(fields) => write!(f, "struct with fields {fields:?}"),
            ProbeEnd::NoStruct => f.write_str("no struct at this path"),
        }
    }
}

impl std::error::Error for ProbeEnd {}

impl de::Error for ProbeEnd {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        ProbeEnd::NoStruct
    }
}

/// A deserializer that follows `path` into the type that drives it. A
/// struct receives only the path's next key, and a sequence one element.
struct Probe<'a> {
    path: &'a [Step],
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = ProbeEnd;

    fn deserialize_any<V: de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ProbeEnd> {
        Err(ProbeEnd::NoStruct)
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeEnd> {
        match self.path.split_first() {
            None => Err(ProbeEnd::Fields(fields)),
            Some((Step::Key(key), rest)) => visitor.visit_map(OneEntry {
                key: Some(key),
                rest,
            }),
            Some((Step::Index(_), _)) => Err(ProbeEnd::NoStruct),
        }
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeEnd> {
        match self.path.split_first() {
            Some((Step::Index(_), rest)) => visitor.visit_seq(OneElement { rest: Some(rest) }),
            _ => Err(ProbeEnd::NoStruct),
        }
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, ProbeEnd> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeEnd> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// A table with only the path's next key. Its value is probed further.
struct OneEntry<'a> {
    key: Option<&'a str>,
    rest: &'a [Step],
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = ProbeEnd;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeEnd> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, ProbeEnd> {
        seed.deserialize(Probe { path: self.rest })
    }
}

/// A sequence with one element, which is probed further.
struct OneElement<'a> {
    rest: Option<&'a [Step]>,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = ProbeEnd;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeEnd> {
        match self.rest.take() {
            Some(rest) => seed.deserialize(Probe { path: rest }).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> Step {
        Step::Key(name.to_owned())
    }

    #[test]
    fn known_keys_of_nested_tables() {
        let server = known_keys::<Config>(&[key("server")]).unwrap();
        assert!(server.contains(&"max_body_bytes"), "{server:?}");

        let account = known_keys::<Config>(&[key("accounts"), Step::Index(3)]).unwrap();
        assert!(account.contains(&"security"), "{account:?}");

        let limits =
            known_keys::<Config>(&[key("plugins"), Step::Index(0), key("limits")]).unwrap();
        assert!(limits.contains(&"deadline_ms"), "{limits:?}");

        let admin = known_keys::<Config>(&[key("admin")]).unwrap();
        assert!(admin.contains(&"key"), "{admin:?}");

        let root = known_keys::<Config>(&[]).unwrap();
        assert!(root.contains(&"store"), "{root:?}");
        assert!(!root.contains(&"base_dir"), "{root:?}");
    }

    #[test]
    fn known_keys_none_outside_structs() {
        let config_table = [key("plugins"), Step::Index(0), key("config")];
        assert_eq!(known_keys::<Config>(&config_table), None);
        assert_eq!(known_keys::<Config>(&[key("nothing")]), None);
        assert_eq!(known_keys::<Config>(&[key("server"), Step::Index(0)]), None);
    }

    #[test]
    fn closest_picks_near_or_prefix() {
        let known = ["listen", "max_body_bytes", "log_format"];
        assert_eq!(closest("listen_addr", &known), Some("listen"));
        assert_eq!(closest("log_fromat", &known), Some("log_format"));
        assert_eq!(closest("colour", &known), None);
        assert_eq!(closest("", &known), None);
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("securty", "security"), 1);
        assert_eq!(edit_distance("名前", "名字"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
