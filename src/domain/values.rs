//! Validated values parsed from user input ("parse, don't validate"): once a
//! value has one of these types it is known to be well formed.

use chrono::NaiveDate;

use super::Message;

/// A unit code such as `ZF-HB` or `T01`: 1–32 ASCII letters, digits, `.`, `_`
/// or `-`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitCode(String);

impl UnitCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(s: &str) -> Result<UnitCode, Message> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Message::new("单位代码不能为空", "code must not be empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(Message::new(
                "单位代码不能超过 32 个字符",
                "code must be at most 32 characters",
            ));
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !(first_ok && rest_ok) {
            return Err(Message::new(
                "单位代码只能包含字母、数字、“.”、“_”和“-”，且以字母或数字开头",
                "code may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit",
            ));
        }
        Ok(UnitCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A sign-in name: 3–64 characters of lower-case ASCII letters, digits, `.`, `_`
/// or `-`. Input is lower-cased first, so `ZhangSan` and `zhangsan` are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Username, Message> {
        let s = s.trim().to_ascii_lowercase();
        let len = s.chars().count();
        if !(3..=64).contains(&len) {
            return Err(Message::new(
                "用户名长度必须在 3 到 64 个字符之间",
                "username must be 3 to 64 characters long",
            ));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Message::new(
                "用户名只能包含小写字母、数字、“.”、“_”和“-”",
                "username may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Username(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text with a length limit (counted in characters, so Chinese text is
/// not penalised), trimmed, without control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundedText(String);

impl BoundedText {
    pub fn parse(s: &str, max_chars: usize) -> Result<BoundedText, Message> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Message::new("不能为空", "must not be empty"));
        }
        if s.chars().count() > max_chars {
            return Err(Message::owned(
                format!("不能超过 {max_chars} 个字符"),
                format!("must be at most {max_chars} characters"),
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(Message::new(
                "不能包含控制字符",
                "must not contain control characters",
            ));
        }
        Ok(BoundedText(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An email address: `local@domain`, at most 254 characters, domain with a dot
/// and lower-cased. Deliberately plain: what mail servers in practice accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, Message> {
        let invalid = || Message::new("邮箱地址格式不正确", "is not a valid email address");
        let s = s.trim();
        if s.is_empty() || s.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err(invalid());
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A new password: 10–128 characters. Length is what makes a password strong;
/// no composition rules (NIST SP 800-63B).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(s: &str) -> Result<Password, Message> {
        let n = s.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Message::new(
                "密码至少需要 10 个字符",
                "password must be at least 10 characters",
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(Message::new(
                "密码不能超过 128 个字符",
                "password must be at most 128 characters",
            ));
        }
        Ok(Password(s.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A calendar date written strictly as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, Message> {
    let bytes = s.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(Message::new(
            "日期格式必须是 YYYY-MM-DD",
            "date must be written as YYYY-MM-DD",
        ));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Message::new("日期不存在", "is not a real calendar date"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unit_codes() {
        assert_eq!(UnitCode::parse(" ZF-HB ").unwrap().as_str(), "ZF-HB");
        assert!(UnitCode::parse("").is_err());
        assert!(UnitCode::parse("-A").is_err());
        assert!(UnitCode::parse("生态环境局").is_err());
        assert!(UnitCode::parse(&"A".repeat(33)).is_err());
        assert!(UnitCode::parse(&"A".repeat(32)).is_ok());
    }

    #[test]
    fn usernames_are_lower_cased() {
        assert_eq!(Username::parse("ZhangSan").unwrap().as_str(), "zhangsan");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("张三").is_err());
        assert!(Username::parse("a b c").is_err());
    }

    #[test]
    fn bounded_text_counts_characters_not_bytes() {
        let name = "生态环境局".repeat(20); // 100 characters, 300 bytes
        assert!(BoundedText::parse(&name, 100).is_ok());
        assert!(BoundedText::parse(&format!("{name}局"), 100).is_err());
        assert!(BoundedText::parse("   ", 10).is_err());
        assert!(BoundedText::parse("a\u{0}b", 10).is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse("Office@Example.GOV.cn").unwrap().as_str(),
            "Office@example.gov.cn"
        );
        for bad in [
            "", "a", "a@b", "@b.cn", "a@.cn", "a b@c.cn", "a@b..cn", "a@-b.cn", ".a@b.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_date("2026-11-28").unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
        );
        for bad in [
            "2026-2-3",
            "2026/02/03",
            "2026-02-30",
            "20260203",
            " 2026-02-03",
            "+026-02-03",
        ] {
            assert!(parse_date(bad).is_err(), "{bad} should be rejected");
        }
    }

    proptest! {
        #[test]
        fn any_real_date_round_trips(days in 0i64..200_000) {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
            let text = date.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_date(&text).unwrap(), date);
        }

        #[test]
        fn date_parsing_never_panics(s in "\\PC{0,16}") {
            let _ = parse_date(&s);
        }

        #[test]
        fn valid_codes_parse_to_themselves(s in "[A-Za-z0-9][A-Za-z0-9._-]{0,31}") {
            prop_assert_eq!(UnitCode::parse(&s).unwrap().into_inner(), s);
        }

        #[test]
        fn parsed_codes_are_always_well_formed(s in "\\PC{0,40}") {
            if let Ok(code) = UnitCode::parse(&s) {
                prop_assert!(!code.as_str().is_empty() && code.as_str().len() <= 32);
                prop_assert!(code.as_str().chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
            }
        }

        #[test]
        fn parsed_emails_have_one_local_part_and_a_dotted_domain(s in "\\PC{0,40}") {
            if let Ok(email) = Email::parse(&s) {
                let (local, domain) = email.as_str().rsplit_once('@').unwrap();
                prop_assert!(!local.is_empty());
                prop_assert!(domain.contains('.'));
                prop_assert_eq!(domain.to_ascii_lowercase(), domain);
            }
        }

        #[test]
        fn generated_emails_are_accepted(local in "[a-z0-9_+-]{1,20}", host in "[a-z0-9]{1,20}", tld in "[a-z]{2,6}") {
            let addr = format!("{local}@{host}.{tld}");
            prop_assert_eq!(Email::parse(&addr).unwrap().into_inner(), addr);
        }

        #[test]
        fn bounded_text_never_exceeds_its_limit(s in "\\PC{0,80}", max in 1usize..40) {
            if let Ok(t) = BoundedText::parse(&s, max) {
                prop_assert!(t.as_str().chars().count() <= max);
                prop_assert_eq!(t.as_str().trim(), t.as_str());
            }
        }
    }
}
