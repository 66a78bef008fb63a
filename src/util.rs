//! Small helpers shared by several stages: name suggestions, number formatting.

use rust_decimal::Decimal;

/// The candidate closest to `word` (Jaro-Winkler >= 0.8), for "did you mean" hints.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_ascii_lowercase(), &c.to_ascii_lowercase());
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// Formats a decimal with thousands separators and exactly `scale` decimals,
/// e.g. `1234567.5` -> `1,234,567.50`. The one number formatter of reports and summaries.
pub fn format_decimal(value: Decimal, scale: u32) -> String {
    let rounded =
        value.round_dp_with_strategy(scale, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let s = format!("{:.*}", scale as usize, rounded);
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Formats an integer count with thousands separators.
pub fn format_count(n: i64) -> String {
    format_decimal(Decimal::from(n), 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            suggest("reigon", ["region", "amount"]),
            Some("region".into())
        );
        assert_eq!(suggest("zzz", ["region", "amount"]), None);
    }

    #[test]
    fn formats_numbers() {
        assert_eq!(
            format_decimal(Decimal::from_str("1234567.505").unwrap(), 2),
            "1,234,567.51"
        );
        assert_eq!(
            format_decimal(Decimal::from_str("-1000").unwrap(), 2),
            "-1,000.00"
        );
        assert_eq!(
            format_decimal(Decimal::from_str("999.4").unwrap(), 0),
            "999"
        );
        assert_eq!(format_count(1_000_000), "1,000,000");
        assert_eq!(format_count(12), "12");
    }
}
