//! Folding of character width and letter case before matching.

/// Returns `text` with full-width ASCII forms (U+FF01 to U+FF5E) and the
/// ideographic space (U+3000) turned into their ASCII counterparts, and
/// every letter in lowercase, so `ＨＥＬＬＯ` folds to `hello`.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case() {
        assert_eq!(fold("ＨＥＬＬＯ"), "hello");
        assert_eq!(fold("Ｖｉｐ　１２３？"), "vip 123?");
        assert_eq!(fold("价格ABC"), "价格abc");
    }
}
