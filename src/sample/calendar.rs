//! Calendar helpers for the sample generator: the span of the data, months, and timestamps.
//!
//! Timestamps are a date plus seconds since midnight so that they order, compare and format
//! without any fallible chrono constructors.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// First day of the sample span.
pub(crate) const FIRST_DAY: NaiveDate = ymd(2022, 1, 1);
/// Last day of the sample span; also the day the extracts were taken.
pub(crate) const LAST_DAY: NaiveDate = ymd(2026, 9, 30);
/// First day of the last (as-of) month.
pub(crate) const LAST_MONTH_START: NaiveDate = ymd(2026, 9, 1);

/// A date from constant parts; the callers only pass valid dates.
pub(crate) const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => NaiveDate::MIN,
    }
}

/// Number of days in a month of the proleptic Gregorian calendar.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A calendar month of the span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub(crate) fn first_day(self) -> NaiveDate {
        ymd(self.year, self.month, 1)
    }

    pub(crate) fn last_day(self) -> NaiveDate {
        ymd(self.year, self.month, self.days())
    }

    pub(crate) fn days(self) -> u32 {
        days_in_month(self.year, self.month)
    }
}

/// The months of the span, oldest first.
pub(crate) fn span_months() -> Vec<Month> {
    let mut months = Vec::new();
    let (mut year, mut month) = (FIRST_DAY.year(), FIRST_DAY.month());
    while (year, month) <= (LAST_DAY.year(), LAST_DAY.month()) {
        months.push(Month { year, month });
        month += 1;
        if month > 12 {
            month = 1;
            year += 1;
        }
    }
    months
}

/// Index of a date's month in [`span_months`] (dates before the span map to 0).
pub(crate) fn month_index(date: NaiveDate) -> usize {
    let months = (date.year() - FIRST_DAY.year()) * 12 + date.month0() as i32;
    usize::try_from(months).unwrap_or(0)
}

/// Whether a date falls in the as-of month (September 2026).
pub(crate) fn in_last_month(date: NaiveDate) -> bool {
    date >= LAST_MONTH_START
}

/// Days from [`FIRST_DAY`] to `date` (0 for dates before the span).
pub(crate) fn day_index(date: NaiveDate) -> usize {
    usize::try_from((date - FIRST_DAY).num_days()).unwrap_or(0)
}

/// The date `index` days after [`FIRST_DAY`].
pub(crate) fn from_day_index(index: usize) -> NaiveDate {
    add_days(FIRST_DAY, index as u64)
}

/// Number of days in the span (2022-01-01 to 2026-09-30 inclusive).
pub(crate) fn span_days() -> usize {
    day_index(LAST_DAY) + 1
}

/// `YYYY-MM-DD`.
pub(crate) fn iso(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// `date + days`, never past [`LAST_DAY`].
pub(crate) fn add_days_capped(date: NaiveDate, days: u64) -> NaiveDate {
    (date + Days::new(days)).min(LAST_DAY)
}

/// `date + days`.
pub(crate) fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date + Days::new(days)
}

/// A uniformly drawn date in `from..=to` (returns `from` when the range is empty).
pub(crate) fn random_date(rng: &mut ChaCha8Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = u64::try_from((to - from).num_days()).unwrap_or(0);
    add_days(from, rng.random_range(0..=span))
}

/// A point in time with one-second resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp {
    pub date: NaiveDate,
    pub secs: u32,
}

impl Stamp {
    /// A random time of day between `from_hour:00:00` and `to_hour:59:59` on `date`.
    pub(crate) fn during(
        rng: &mut ChaCha8Rng,
        date: NaiveDate,
        from_hour: u32,
        to_hour: u32,
    ) -> Self {
        let secs = rng.random_range(from_hour * 3600..(to_hour + 1) * 3600);
        Stamp { date, secs }
    }

    /// A random time on `date` that is strictly later than `self` when both fall on one day.
    pub(crate) fn later_on(self, rng: &mut ChaCha8Rng, date: NaiveDate) -> Self {
        if date > self.date {
            Stamp::during(rng, date, 7, 21)
        } else {
            let from = (self.secs + 1).min(86_399);
            let to = (self.secs + 4 * 3600).clamp(from, 86_399);
            Stamp {
                date: self.date,
                secs: rng.random_range(from..=to),
            }
        }
    }

    /// `YYYY-MM-DD HH:MM:SS`.
    pub(crate) fn format(self) -> String {
        let (h, m, s) = (self.secs / 3600, self.secs / 60 % 60, self.secs % 60);
        format!("{} {h:02}:{m:02}:{s:02}", iso(self.date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_has_57_months_and_month_index_agrees() {
        let months = span_months();
        assert_eq!(months.len(), 57);
        for (i, month) in months.iter().enumerate() {
            assert_eq!(month_index(month.first_day()), i);
        }
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 2), 28);
        assert_eq!(span_days(), 1734);
        assert_eq!(
            from_day_index(day_index(ymd(2024, 2, 29))),
            ymd(2024, 2, 29)
        );
    }

    #[test]
    fn stamp_formats_and_orders() {
        let a = Stamp {
            date: ymd(2024, 3, 5),
            secs: 3 * 3600 + 4 * 60 + 5,
        };
        assert_eq!(a.format(), "2024-03-05 03:04:05");
        let b = Stamp {
            date: ymd(2024, 3, 5),
            secs: 3 * 3600 + 4 * 60 + 6,
        };
        assert!(a < b);
    }
}
