//! Settings written as text (a time zone, a time of day, a list of days)
//! read once, at load, into typed values: a bad one stops start-up naming the
//! setting, and no code parses a setting again at its use.
//!
//! `figment` hands environment values over already typed (`DUBAN_SCAN_TIME=8`
//! arrives as a number), so these adapters accept any scalar and parse its
//! text form.

use std::fmt::Display;
use std::str::FromStr;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Serializer;

/// Accepts a string, number or boolean as its text.
struct Scalar;

impl<'de> Visitor<'de> for Scalar {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a text value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// `#[serde(with = "text")]`: the value's `FromStr` and `Display`.
pub fn deserialize<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: Display,
{
    let text = d.deserialize_any(Scalar)?;
    text.parse().map_err(de::Error::custom)
}

pub fn serialize<S: Serializer, T: Display>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// `#[serde(with = "text::list")]`: a TOML list, or comma-separated text
/// (as an environment variable gives it), each item parsed.
pub mod list {
    use super::*;

    struct Items;

    impl<'de> Visitor<'de> for Items {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list, or comma-separated text")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<String>, E> {
            Ok(v.split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty())
                .map(str::to_string)
                .collect())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<String>, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element_seed(ScalarSeed)? {
                out.push(item);
            }
            Ok(out)
        }
    }

    struct ScalarSeed;

    impl<'de> de::DeserializeSeed<'de> for ScalarSeed {
        type Value = String;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
            d.deserialize_any(Scalar)
        }
    }

    pub fn deserialize<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: FromStr,
        T::Err: Display,
    {
        d.deserialize_any(Items)?
            .into_iter()
            .map(|item| item.parse().map_err(de::Error::custom))
            .collect()
    }

    pub fn serialize<S: Serializer, T: Display>(values: &[T], s: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = values.iter().map(ToString::to_string).collect();
        s.serialize_str(&text.join(","))
    }
}
