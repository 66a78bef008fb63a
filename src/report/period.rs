//! Report periods: the week, month or quarter containing the as-of date, and the one
//! before it, with the labels used in file names and headings.

use chrono::{Datelike, Duration, NaiveDate};

use crate::config::ReportPeriod;

/// A closed date range with a label.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
    /// `2026-09`, `2026-Q3` or `2026-W39`.
    pub label: String,
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// The period of `kind` that contains `as_of`.
pub fn containing(kind: ReportPeriod, as_of: NaiveDate) -> Period {
    match kind {
        ReportPeriod::Week => {
            let start = as_of - Duration::days(i64::from(as_of.weekday().num_days_from_monday()));
            let iso = as_of.iso_week();
            Period {
                start,
                end: start + Duration::days(6),
                label: format!("{}-W{:02}", iso.year(), iso.week()),
            }
        }
        ReportPeriod::Month => {
            let start = month_start(as_of);
            Period {
                start,
                end: add_months(start, 1) - Duration::days(1),
                label: start.format("%Y-%m").to_string(),
            }
        }
        ReportPeriod::Quarter => {
            let q0 = as_of.month0() / 3;
            let start = NaiveDate::from_ymd_opt(as_of.year(), q0 * 3 + 1, 1).unwrap_or(as_of);
            Period {
                start,
                end: add_months(start, 3) - Duration::days(1),
                label: format!("{}-Q{}", as_of.year(), q0 + 1),
            }
        }
    }
}

/// The period before `p` of the same kind.
pub fn previous(kind: ReportPeriod, p: &Period) -> Period {
    containing(kind, p.start - Duration::days(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn months_quarters_weeks() {
        let m = containing(ReportPeriod::Month, d("2024-02-15"));
        assert_eq!(
            (m.start, m.end, m.label.as_str()),
            (d("2024-02-01"), d("2024-02-29"), "2024-02")
        );
        let p = previous(
            ReportPeriod::Month,
            &containing(ReportPeriod::Month, d("2026-01-10")),
        );
        assert_eq!((p.start, p.end), (d("2025-12-01"), d("2025-12-31")));
        let q = containing(ReportPeriod::Quarter, d("2026-09-30"));
        assert_eq!(
            (q.start, q.end, q.label.as_str()),
            (d("2026-07-01"), d("2026-09-30"), "2026-Q3")
        );
        // 2026-01-01 is a Thursday in ISO week 2026-W01.
        let w = containing(ReportPeriod::Week, d("2026-01-01"));
        assert_eq!(
            (w.start, w.end, w.label.as_str()),
            (d("2025-12-29"), d("2026-01-04"), "2026-W01")
        );
    }
}
