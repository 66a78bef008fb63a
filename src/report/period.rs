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

/// The period of the same kind a year before `p`: the same ISO week of the year before
/// (week 52 for a week 53 the year before lacks), the same month, the same quarter;
/// whole periods, so February 2024 ends on the 29th.
pub fn year_ago(kind: ReportPeriod, p: &Period) -> Period {
    match kind {
        ReportPeriod::Week => {
            let iso = p.start.iso_week();
            let monday =
                |week| NaiveDate::from_isoywd_opt(iso.year() - 1, week, chrono::Weekday::Mon);
            let start = monday(iso.week())
                .or_else(|| monday(52))
                .unwrap_or(p.start - Duration::days(364));
            containing(kind, start)
        }
        ReportPeriod::Month | ReportPeriod::Quarter => containing(kind, add_months(p.start, -12)),
    }
}

/// The same date a year before `d` (28 February for a 29th), as DuckDB's
/// `d - INTERVAL 1 YEAR`.
pub fn year_before(d: NaiveDate) -> NaiveDate {
    d.with_year(d.year() - 1)
        .or_else(|| NaiveDate::from_ymd_opt(d.year() - 1, d.month(), 28))
        .unwrap_or(d)
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

    #[test]
    fn a_year_ago_is_the_same_whole_period() {
        let ago = |kind, day| {
            let p = year_ago(kind, &containing(kind, d(day)));
            (p.start, p.end, p.label)
        };
        // 2026-W40 (Monday 2026-09-28) a year before: 2025-W40, Monday 2025-09-29.
        assert_eq!(
            ago(ReportPeriod::Week, "2026-10-01"),
            (d("2025-09-29"), d("2025-10-05"), "2025-W40".to_string())
        );
        // 2021-W01 starts on 2021-01-04; 2020 has a week 53, 2019 has not: 2020-W53's
        // year before is 2019-W52.
        assert_eq!(
            ago(ReportPeriod::Week, "2021-01-01").2,
            "2019-W52".to_string()
        );
        assert_eq!(
            ago(ReportPeriod::Week, "2021-01-05").2,
            "2020-W01".to_string()
        );
        // February 2025 a year before: the whole of February 2024, leap day included.
        assert_eq!(
            ago(ReportPeriod::Month, "2025-02-28"),
            (d("2024-02-01"), d("2024-02-29"), "2024-02".to_string())
        );
        assert_eq!(
            ago(ReportPeriod::Quarter, "2026-09-30"),
            (d("2025-07-01"), d("2025-09-30"), "2025-Q3".to_string())
        );
    }
}
