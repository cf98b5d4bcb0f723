//! How text written by people is made comparable: whitespace (also the
//! full-width space and line breaks inside a cell) dropped and full-width
//! ASCII (ＡＢＣ１２３，) made half-width, as spreadsheets from different
//! offices write the same words both ways. Unit names, deadlines and table
//! headers are all read through here.

/// A full-width ASCII character (U+FF01–U+FF5E) as its half-width form;
/// anything else unchanged.
pub fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// `text` without whitespace and with full-width ASCII made half-width.
pub fn compact(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(half_width)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_width_ascii_and_spaces_go() {
        assert_eq!(compact("２０２６年 ６月\u{3000}３０日"), "2026年6月30日");
        assert_eq!(compact("ＡＢＣ－１２３（Ｘ）"), "ABC-123(X)");
    }

    proptest! {
        #[test]
        fn compacting_twice_changes_nothing(s in "\\PC{0,40}") {
            let once = compact(&s);
            prop_assert_eq!(compact(&once), once.clone());
            prop_assert!(!once.chars().any(char::is_whitespace));
        }
    }
}
