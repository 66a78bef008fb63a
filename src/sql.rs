//! The one place where SQL text is assembled: identifiers are validated and quoted here,
//! string literals (used only where DuckDB cannot bind a parameter, such as table
//! function arguments inside DDL) are escaped here. Everything else binds parameters.

use std::fmt::Write as _;

/// True when `name` is a safe identifier for a table or column: ASCII letter or `_`
/// first, then letters, digits or `_`, at most 63 characters.
pub fn is_valid_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}

/// Quotes an identifier for DuckDB (`"name"`, inner quotes doubled).
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a qualified name `schema.table`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// An escaped SQL string literal (`'it''s'`).
pub fn literal(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('\'');
    for ch in value.chars() {
        if ch == '\'' {
            s.push('\'');
        }
        s.push(ch);
    }
    s.push('\'');
    s
}

/// A list of string literals: `['a', 'b']`.
pub fn literal_list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let mut s = String::from("[");
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{}", literal(v));
    }
    s.push(']');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal_list(["a", "b'"]), "['a', 'b''']");
        assert!(is_valid_ident("order_lines2"));
        assert!(!is_valid_ident("2x"));
        assert!(!is_valid_ident("a-b"));
        assert!(!is_valid_ident(""));
    }
}
