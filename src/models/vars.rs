//! Values visible to model templates: the run's as-of date, the calendar and fiscal
//! periods containing it, and the user's variables (`vars:` in the pipeline, then
//! `--var key=value`).
//!
//! Dates are `YYYY-MM-DD` strings, to be used as `DATE '{{ month_start }}'`. A fiscal
//! year is named after the calendar year it ends in: with `fiscal_year_start_month: 4`,
//! 2026-04-01 .. 2027-03-31 is fiscal year 2027 (with the default 1 it is the calendar
//! year).

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::config::ReportPeriod;
use crate::report::period;

/// Warnings for `--var` names that nothing reads: not declared under `vars:` and not
/// written as `var.<name>` (or `var["<name>"]`) in any of `texts` (the model and report templates), with
/// the closest name that is (a typo such as `rag_gren` would otherwise pass unseen).
pub fn unused_vars<'a>(
    declared: &BTreeMap<String, String>,
    given: &BTreeMap<String, String>,
    texts: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let mut used: std::collections::BTreeSet<String> = declared.keys().cloned().collect();
    for text in texts {
        // `var.name`, `var["name"]`, `var['name']`.
        for (i, _) in text.match_indices("var") {
            let before_ok =
                i == 0 || !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            let rest = &text[i + 3..];
            let name: Option<String> = if let Some(r) = rest.strip_prefix('.') {
                Some(
                    r.chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect(),
                )
            } else {
                rest.strip_prefix("[\"")
                    .and_then(|r| r.split_once('"'))
                    .or_else(|| rest.strip_prefix("['").and_then(|r| r.split_once('\'')))
                    .map(|(n, _)| n.to_string())
            };
            if let Some(name) = name.filter(|n| before_ok && !n.is_empty()) {
                used.insert(name);
            }
        }
    }
    given
        .keys()
        .filter(|k| !used.contains(*k))
        .map(|k| {
            let hint = crate::util::suggest(k, used.iter().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            format!("--var `{k}` is not read by any model or report (not under `vars:`){hint}")
        })
        .collect()
}

/// What a model template can read.
#[derive(Debug, Clone)]
pub struct TemplateVars {
    /// The run's as-of date.
    pub as_of: NaiveDate,
    /// User variables (`vars:` in the pipeline, overridden by `--var`), as `var.<name>`.
    pub vars: BTreeMap<String, String>,
    /// First month of the fiscal year, 1-12 (`fiscal_year_start_month`, default 1).
    pub fiscal_year_start_month: u32,
}

impl TemplateVars {
    /// Variables for `as_of` with a calendar fiscal year and no user variables.
    pub fn new(as_of: NaiveDate) -> TemplateVars {
        TemplateVars {
            as_of,
            vars: BTreeMap::new(),
            fiscal_year_start_month: 1,
        }
    }

    /// Every date and number derived from the as-of date, by name, in name order.
    pub fn derived(&self) -> BTreeMap<&'static str, tera::Value> {
        let as_of = self.as_of;
        let date = |d: NaiveDate| tera::Value::String(d.format("%Y-%m-%d").to_string());
        let week = period::containing(ReportPeriod::Week, as_of);
        let month = period::containing(ReportPeriod::Month, as_of);
        let quarter = period::containing(ReportPeriod::Quarter, as_of);
        let year_start = NaiveDate::from_ymd_opt(as_of.year(), 1, 1).unwrap_or(as_of);
        let year_end = NaiveDate::from_ymd_opt(as_of.year(), 12, 31).unwrap_or(as_of);
        let fy = FiscalYear::containing(as_of, self.fiscal_year_start_month);
        let mut out = BTreeMap::new();
        out.insert("as_of", date(as_of));
        out.insert("week_start", date(week.start));
        out.insert("week_end", date(week.end));
        out.insert("month_start", date(month.start));
        out.insert("month_end", date(month.end));
        out.insert("quarter_start", date(quarter.start));
        out.insert("quarter_end", date(quarter.end));
        out.insert("year_start", date(year_start));
        out.insert("year_end", date(year_end));
        out.insert(
            "fiscal_year_start_month",
            tera::Value::from(self.fiscal_year_start_month),
        );
        out.insert("fiscal_year", tera::Value::from(fy.year));
        out.insert("fiscal_year_start", date(fy.start));
        out.insert("fiscal_year_end", date(fy.end));
        out.insert("fiscal_quarter", tera::Value::from(fy.quarter));
        out.insert("fiscal_quarter_start", date(fy.quarter_start));
        out.insert("fiscal_quarter_end", date(fy.quarter_end));
        out
    }

    /// The names of the derived values (the top-level template variables).
    pub fn names() -> Vec<&'static str> {
        TemplateVars::new(NaiveDate::default())
            .derived()
            .into_keys()
            .collect()
    }

    /// The Tera context: the derived values at the top level and `var.*`.
    pub fn context(&self) -> tera::Context {
        let mut ctx = tera::Context::new();
        for (k, v) in self.derived() {
            ctx.insert(k, &v);
        }
        ctx.insert("var", &self.vars);
        ctx
    }
}

/// The fiscal year containing a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FiscalYear {
    /// The calendar year it ends in.
    year: i32,
    start: NaiveDate,
    end: NaiveDate,
    /// 1-4.
    quarter: u32,
    quarter_start: NaiveDate,
    quarter_end: NaiveDate,
}

impl FiscalYear {
    fn containing(d: NaiveDate, start_month: u32) -> FiscalYear {
        let start_month = start_month.clamp(1, 12);
        let start_year = if d.month() >= start_month {
            d.year()
        } else {
            d.year() - 1
        };
        let start = NaiveDate::from_ymd_opt(start_year, start_month, 1).unwrap_or(d);
        let plus = |n: u32| start.checked_add_months(Months::new(n)).unwrap_or(start);
        let end = plus(12).pred_opt().unwrap_or(start);
        let months_in = (d.month() + 12 - start_month) % 12;
        let quarter = months_in / 3 + 1;
        let quarter_start = plus((quarter - 1) * 3);
        let quarter_end = plus(quarter * 3).pred_opt().unwrap_or(start);
        FiscalYear {
            year: end.year(),
            start,
            end,
            quarter,
            quarter_start,
            quarter_end,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// `var.x`, `var["x"]` and `var['x']` all read `x`; `myvar.x` and a declared name do
    /// not need reading; a typo gets the closest name read.
    #[test]
    fn unused_vars_finds_what_nothing_reads() {
        let given: BTreeMap<String, String> = ["a", "b", "c", "declared", "min_linez", "x"]
            .iter()
            .map(|k| (k.to_string(), "1".to_string()))
            .collect();
        let declared: BTreeMap<String, String> = [("declared".to_string(), "2".to_string())].into();
        let texts = [
            "SELECT {{ var.a }}, {{ var[\"b\"] }}, {{ var['c'] }}, {{ myvar.x }}",
            "tests: [{ expression: \"lines >= {{ var.min_lines }}\" }]",
        ];
        let w = unused_vars(&declared, &given, texts.into_iter());
        assert_eq!(
            w,
            vec![
                "--var `min_linez` is not read by any model or report (not under `vars:`); \
                 did you mean `min_lines`?"
                    .to_string(),
                "--var `x` is not read by any model or report (not under `vars:`)".to_string(),
            ]
        );
    }

    #[test]
    fn calendar_fiscal_year_is_the_calendar_year() {
        let fy = FiscalYear::containing(d("2026-09-30"), 1);
        assert_eq!(
            (fy.year, fy.start, fy.end, fy.quarter),
            (2026, d("2026-01-01"), d("2026-12-31"), 3)
        );
        assert_eq!(
            (fy.quarter_start, fy.quarter_end),
            (d("2026-07-01"), d("2026-09-30"))
        );
    }

    #[test]
    fn april_fiscal_year_is_named_after_its_end() {
        // 2026-09-30 is in April 2026 .. March 2027: FY2027, its Q2 (Jul-Sep).
        let fy = FiscalYear::containing(d("2026-09-30"), 4);
        assert_eq!(
            (fy.year, fy.start, fy.end, fy.quarter),
            (2027, d("2026-04-01"), d("2027-03-31"), 2)
        );
        assert_eq!(
            (fy.quarter_start, fy.quarter_end),
            (d("2026-07-01"), d("2026-09-30"))
        );
        // February 2026 is the last quarter of FY2026 (Jan-Mar 2026).
        let fy = FiscalYear::containing(d("2026-02-28"), 4);
        assert_eq!(
            (fy.year, fy.quarter, fy.quarter_start, fy.quarter_end),
            (2026, 4, d("2026-01-01"), d("2026-03-31"))
        );
        // A July start: 2024-07-01 .. 2025-06-30 (leap February inside).
        let fy = FiscalYear::containing(d("2025-06-30"), 7);
        assert_eq!(
            (fy.start, fy.end, fy.quarter),
            (d("2024-07-01"), d("2025-06-30"), 4)
        );
    }

    #[test]
    fn derived_dates() {
        let mut v = TemplateVars::new(d("2024-02-15"));
        v.fiscal_year_start_month = 10;
        let x = v.derived();
        let s = |k: &str| x[k].as_str().unwrap().to_string();
        assert_eq!(s("month_start"), "2024-02-01");
        assert_eq!(s("month_end"), "2024-02-29");
        assert_eq!(s("quarter_start"), "2024-01-01");
        assert_eq!(s("quarter_end"), "2024-03-31");
        assert_eq!(s("year_end"), "2024-12-31");
        assert_eq!(s("week_start"), "2024-02-12");
        assert_eq!(s("fiscal_year_start"), "2023-10-01");
        assert_eq!(s("fiscal_year_end"), "2024-09-30");
        assert_eq!(x["fiscal_year"], tera::Value::from(2024));
        assert_eq!(x["fiscal_quarter"], tera::Value::from(2));
        assert_eq!(s("fiscal_quarter_start"), "2024-01-01");
    }
}
