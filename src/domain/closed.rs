//! Closed sets of names stored as TEXT (statuses, roles, kinds, levels…): one
//! macro gives each its Rust enum, its stored name, parsing with a message that
//! lists the allowed names, serde and OpenAPI. The database mapping of every
//! such enum is in `db::sql_types`, so the set is named once, here.

use super::Message;

/// An enum whose values are stored and sent by name.
pub trait ClosedSet: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    /// The value with this stored name, if it is one.
    fn from_name(name: &str) -> Option<Self>;
}

/// "X 必须是 a、b 或 c" / "X must be one of a, b, c".
pub fn not_one_of(what_zh: &str, what_en: &str, names: &[&str]) -> Message {
    let zh = match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} 或 {last}", rest.join("、")),
        None => String::new(),
    };
    Message::owned(
        format!("{what_zh}必须是 {zh}"),
        format!("{what_en} must be one of {}", names.join(", ")),
    )
}

/// Defines a closed set: `closed_set! { pub enum Priority ("优先级", "priority") { High = "high", … } }`.
#[macro_export]
macro_rules! closed_set {
    (
        $(#[doc = $doc:literal])*
        $vis:vis enum $name:ident ($what_zh:literal, $what_en:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Result<$name, $crate::domain::Message> {
                <$name as $crate::domain::closed::ClosedSet>::from_name(s).ok_or_else(|| {
                    $crate::domain::closed::not_one_of($what_zh, $what_en, &[$($text),+])
                })
            }
        }

        // Written by hand rather than derived: utoipa's derive does not see
        // the serde renames a macro passes on, and would document the
        // variant names ("InProgress") instead of the stored texts.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let doc: &[&str] = &[$($doc),*];
                let doc = doc.iter().map(|l| l.trim()).collect::<Vec<_>>().join("\n");
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description((!doc.is_empty()).then_some(doc))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $crate::domain::closed::ClosedSet for $name {
            const ALL: &'static [$name] = &$name::ALL;

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }

            fn from_name(name: &str) -> Option<$name> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::Message;

            fn from_str(s: &str) -> Result<$name, $crate::domain::Message> {
                $name::parse(s)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::closed_set! {
        /// A set for the tests.
        enum Colour ("颜色", "colour") {
            Red = "red",
            DeepBlue = "deep_blue",
        }
    }

    #[test]
    fn every_value_round_trips_through_its_name_and_json() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).unwrap(), c);
        }
    }

    #[test]
    fn an_unknown_name_lists_the_allowed_ones_in_both_languages() {
        let m = Colour::parse("green").unwrap_err();
        assert_eq!(m.zh, "颜色必须是 red 或 deep_blue");
        assert_eq!(m.en, "colour must be one of red, deep_blue");
        assert!(Colour::parse("Red").is_err());
    }

    #[test]
    fn the_api_description_lists_the_stored_texts() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Colour::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(["red", "deep_blue"]));
        assert_eq!(schema["type"], "string");
        let role = serde_json::to_value(crate::domain::Role::schema()).unwrap();
        assert_eq!(
            role["enum"],
            serde_json::json!(["admin", "office", "leader", "unit", "viewer"])
        );
    }
}
