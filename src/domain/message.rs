//! A user-facing message in both languages duban speaks: zh-CN first, English second.

use std::borrow::Cow;

/// Text shown to a person, in zh-CN (the default) and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub zh: Cow<'static, str>,
    pub en: Cow<'static, str>,
}

impl Message {
    pub const fn new(zh: &'static str, en: &'static str) -> Self {
        Message {
            zh: Cow::Borrowed(zh),
            en: Cow::Borrowed(en),
        }
    }

    pub fn owned(zh: String, en: String) -> Self {
        Message {
            zh: Cow::Owned(zh),
            en: Cow::Owned(en),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// The languages of user-facing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the language from an `Accept-Language` value: English only when
    /// the first listed language is English, zh-CN otherwise.
    pub fn from_accept_language(header: &str) -> Lang {
        let first = header
            .split(',')
            .next()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first == "en" || first.starts_with("en-") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

/// A setting names a language `zh-CN` or `en` (or any tag starting so).
impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        let tag = s.trim().to_ascii_lowercase();
        if tag == "en" || tag.starts_with("en-") {
            Ok(Lang::En)
        } else if tag == "zh" || tag.starts_with("zh-") {
            Ok(Lang::Zh)
        } else {
            Err(format!(
                "{s:?} is not a language duban speaks (zh-CN or en)"
            ))
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_only_when_listed_first() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("zh-CN,en;q=0.5"), Lang::Zh);
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("EN"), Lang::En);
    }
}
