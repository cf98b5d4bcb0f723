//! Cross-site request forgery: every state-changing form carries a token the
//! page was rendered with, compared in constant time with the session's (or,
//! on the sign-in form, with a cookie set when the form was shown).

/// Whether the token a form sent is the expected one.
pub fn matches(sent: &str, expected: &str) -> bool {
    let (a, b) = (sent.as_bytes(), expected.as_bytes());
    // Length is not secret (every token has the same length).
    !expected.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn only_the_same_token_matches() {
        assert!(matches("abc123", "abc123"));
        assert!(!matches("abc124", "abc123"));
        assert!(!matches("abc12", "abc123"));
        assert!(!matches("", ""));
    }
}
