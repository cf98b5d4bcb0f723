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

/// A phone number (手机): an optional leading `+` and digits, 7–20
/// characters in all. Spaces, hyphens and brackets people write between the
/// digits (138-0000-0000) are dropped first, so what is stored is dialable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Phone, Message> {
        let kept: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = kept.strip_prefix('+').unwrap_or(&kept);
        if (7..=20).contains(&kept.chars().count())
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit())
        {
            Ok(Phone(kept))
        } else {
            Err(Message::new(
                "手机号应为 7 到 20 位数字，可以 + 开头",
                "a phone number is 7 to 20 digits, optionally after a +",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A new password: 10–128 characters, not one character repeated, not on the
/// list of common passwords. Length is what makes a password strong, so there
/// are no composition rules; what is refused is what guessers try first
/// (NIST SP 800-63B, 5.1.1.2). `parse_for` also refuses the account's own name.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

/// The common passwords of at least 10 characters, lower case, one a line;
/// `#` lines say where the list comes from.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

fn is_common(password: &str) -> bool {
    static LIST: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let list = LIST.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    list.contains(password.to_lowercase().as_str())
}

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
        let mut chars = s.chars();
        if let Some(first) = chars.next() {
            if chars.all(|c| c == first) {
                return Err(Message::new(
                    "密码不能由同一个字符重复组成",
                    "password must not be one character repeated",
                ));
            }
        }
        if is_common(s) {
            return Err(Message::new(
                "该密码是常见密码，很容易被猜中，请换一个",
                "password is a commonly used one and easily guessed; choose another",
            ));
        }
        Ok(Password(s.to_string()))
    }

    /// `parse`, and not the username of the account it is for (letter case
    /// ignored).
    pub fn parse_for(s: &str, username: &str) -> Result<Password, Message> {
        let password = Password::parse(s)?;
        password.check_not_username(username)?;
        Ok(password)
    }

    /// Refuses the password when it is `username`, letter case ignored.
    pub fn check_not_username(&self, username: &str) -> Result<(), Message> {
        if self.0.to_lowercase() == username.trim().to_lowercase() {
            return Err(Message::new(
                "密码不能与用户名相同",
                "password must not be the username",
            ));
        }
        Ok(())
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
    fn phones() {
        assert_eq!(
            Phone::parse(" 138-0000-0000 ").unwrap().as_str(),
            "13800000000"
        );
        assert_eq!(
            Phone::parse("+86 138 0000 0000").unwrap().as_str(),
            "+8613800000000"
        );
        assert_eq!(
            Phone::parse("(0931)8888888").unwrap().as_str(),
            "09318888888"
        );
        assert!(Phone::parse("123456").is_err(), "too short");
        assert!(Phone::parse(&"1".repeat(21)).is_err(), "too long");
        assert!(Phone::parse("138000O0000").is_err(), "a letter");
        assert!(Phone::parse("138+00000000").is_err(), "+ inside");
        assert!(Phone::parse("+").is_err());
        assert!(Phone::parse("").is_err());
    }

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
    fn passwords_keep_the_length_rule() {
        assert!(Password::parse("Lk3-vz9q").is_err());
        assert!(Password::parse("Lk3-vz9q!m").is_ok());
        assert!(Password::parse(&"ab".repeat(64)).is_ok());
        assert!(Password::parse(&"ab".repeat(65)).is_err());
        // Characters, not bytes: ten Chinese characters are enough.
        assert!(Password::parse("春眠不觉晓处处闻啼鸟").is_ok());
    }

    #[test]
    fn one_repeated_character_is_refused() {
        let e = Password::parse("aaaaaaaaaaaa").unwrap_err();
        assert_eq!(e.en, "password must not be one character repeated");
        assert!(e.zh.contains("同一个字符"));
        assert!(Password::parse("好好好好好好好好好好").is_err());
        assert!(Password::parse("aaaaaaaaab").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_in_any_letter_case() {
        for common in [
            "1234567890",
            "qwertyuiop",
            "Password123",
            "1QAZ2WSX3EDC",
            "woaini1314",
        ] {
            let e = Password::parse(common).unwrap_err();
            assert!(e.en.contains("commonly used"), "{common}: {}", e.en);
            assert!(e.zh.contains("常见密码"), "{common}");
        }
        assert!(Password::parse("tiger-lily-harbour").is_ok());
    }

    #[test]
    fn the_common_list_holds_only_what_the_length_rule_lets_through() {
        let entries: Vec<&str> = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(entries.len() > 1500, "{}", entries.len());
        for entry in entries {
            let n = entry.chars().count();
            assert!(
                (Password::MIN_CHARS..=Password::MAX_CHARS).contains(&n),
                "{entry:?}"
            );
            assert_eq!(entry, entry.to_lowercase(), "lower case");
        }
    }

    #[test]
    fn the_username_is_refused_as_password() {
        let e = Password::parse_for("Wang.Xiaoming", "wang.xiaoming").unwrap_err();
        assert_eq!(e.en, "password must not be the username");
        assert!(e.zh.contains("用户名"));
        assert!(Password::parse_for("wang.xiaoming-2026", "wang.xiaoming").is_ok());
        let p = Password::parse("zhang.sanfeng").unwrap();
        assert!(p.check_not_username(" ZHANG.SANFENG ").is_err());
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
        fn accepted_passwords_obey_every_rule(s in "\\PC{0,140}", name in "[a-z0-9._-]{3,20}") {
            if let Ok(p) = Password::parse_for(&s, &name) {
                let n = s.chars().count();
                prop_assert!((Password::MIN_CHARS..=Password::MAX_CHARS).contains(&n));
                prop_assert!(s.chars().any(|c| !s.starts_with(c)));
                prop_assert!(!is_common(&s));
                prop_assert_ne!(s.to_lowercase(), name);
                prop_assert_eq!(p.expose(), s.as_str());
            }
        }

        #[test]
        fn a_username_never_passes_as_its_own_password(name in "[a-z0-9._-]{10,30}", upper: bool) {
            let typed = if upper { name.to_uppercase() } else { name.clone() };
            prop_assert!(Password::parse_for(&typed, &name).is_err());
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
