//! The words people read in zh-CN (default) and English, one catalogue per
//! language in `i18n/*.toml`: the console's pages, and the words notices
//! share with them (the timeline's event names in the followers' digest).
//! Both catalogues have the same keys (a unit test checks), so a page never
//! falls back to showing a key. Also which language a request gets
//! (`lang_of`).

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::HttpRequest;

use crate::domain::message::Lang;

type Catalogue = HashMap<String, String>;

fn parse(source: &str) -> Catalogue {
    // The catalogues are part of the binary and checked by the tests below,
    // so a parse failure here is a build defect: an empty map shows keys.
    toml::from_str(source).unwrap_or_default()
}

static ZH: LazyLock<Catalogue> = LazyLock::new(|| parse(include_str!("i18n/zh-CN.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| parse(include_str!("i18n/en.toml")));

/// The text for `key`, or the key itself when it is missing.
pub fn text(lang: Lang, key: &str) -> &str {
    let catalogue = match lang {
        Lang::Zh => &*ZH,
        Lang::En => &*EN,
    };
    catalogue.get(key).map_or(key, String::as_str)
}

/// Whether some key starts with `prefix` (for keys a template builds).
#[cfg(test)]
fn has_prefix(prefix: &str) -> bool {
    ZH.keys().any(|k| k.starts_with(prefix))
}

/// Fails (for tests) when one of `templates` (name, source) looks up a key
/// with `t("…")` that the catalogue lacks, or builds keys from a prefix no
/// key starts with. Both template environments call `t` with this
/// catalogue, so both check their templates with this.
#[cfg(test)]
pub fn assert_template_keys_exist(templates: &[(&str, &str)]) {
    for (name, source) in templates {
        for (at, _) in source.match_indices("t(") {
            // `t(` as a call of its own, not the end of `asset(`.
            let before = source[..at].chars().last().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' {
                continue;
            }
            let rest = &source[at + 2..];
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let key = rest[1..].split(quote).next().unwrap_or_default();
            if key.ends_with('.') || key.ends_with('_') {
                // A key built in the template ("status." ~ s): some entry
                // must start with it.
                assert!(has_prefix(key), "{name} builds keys from {key}");
                continue;
            }
            assert_ne!(
                text(Lang::Zh, key),
                key,
                "{name} uses {key}, which the catalogue lacks"
            );
        }
    }
}

/// The cookie that remembers the person's language choice.
pub const LANG_COOKIE: &str = "duban_lang";

/// The page language: the remembered choice, else the browser's first
/// language, zh-CN by default.
pub fn lang_of(req: &HttpRequest) -> Lang {
    match req.cookie(LANG_COOKIE).as_ref().map(|c| c.value()) {
        Some("en") => Lang::En,
        Some("zh-CN") => Lang::Zh,
        _ => crate::http::request_lang(req),
    }
}

/// The language tag a page declares in `<html lang>`.
pub fn tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_have_the_same_keys() {
        let zh: Catalogue = toml::from_str(include_str!("i18n/zh-CN.toml")).unwrap();
        let en: Catalogue = toml::from_str(include_str!("i18n/en.toml")).unwrap();
        let mut a: Vec<_> = zh.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert!(zh.len() > 20);
    }
}
