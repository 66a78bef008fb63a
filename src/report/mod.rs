//! Reports: run each report's ordered SQL queries against the warehouse with the period
//! bound as parameters, and render the rows with Tera to Markdown and HTML.
//!
//! Template context: `report` (name), `as_of`, `period` and `previous` (start, end,
//! label), `data.<query>` (a list of rows, each an ordered map of column -> value;
//! DECIMAL values arrive as exact strings), `var.*`. Filters: `money` (thousands
//! separators, 2 decimals), `count`, `pct` (a ratio as a percentage), `num(dp=N)`.

mod filters;
pub mod period;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::config::validate::ResolvedReport;
use crate::config::{ReportFormat, ReportPeriod};
use crate::error::{DbContext, Error, Result};
use crate::util::format_decimal;
use crate::warehouse::Warehouse;
pub use period::Period;

/// A rendered report, not yet written.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Where it goes.
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

/// Builds the Tera environment for a templates folder, with salespipe's filters and
/// autoescaping for HTML templates.
pub fn environment(report: &ResolvedReport) -> Result<tera::Tera> {
    let dir = &report.templates_dir;
    let glob = format!("{}/**/*.tera", dir.to_string_lossy());
    let mut tera = tera::Tera::new(&glob)
        .map_err(|e| Error::template(format!("loading templates in {}", dir.display()), &e))?;
    tera.autoescape_on(vec![".html.tera", ".html"]);
    tera.register_filter("money", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(
            decimal_of(v).map_or_else(|| "–".into(), |d| format_decimal(d, 2)),
        ))
    });
    tera.register_filter("count", |v: &Value, _: &HashMap<String, Value>| {
        Ok(Value::String(
            decimal_of(v).map_or_else(|| "–".into(), |d| format_decimal(d, 0)),
        ))
    });
    tera.register_filter("num", |v: &Value, args: &HashMap<String, Value>| {
        let dp = args.get("dp").and_then(Value::as_u64).unwrap_or(2) as u32;
        Ok(Value::String(
            decimal_of(v).map_or_else(|| "–".into(), |d| format_decimal(d, dp)),
        ))
    });
    tera.register_filter("pct", |v: &Value, args: &HashMap<String, Value>| {
        let dp = args.get("dp").and_then(Value::as_u64).unwrap_or(1) as u32;
        Ok(Value::String(decimal_of(v).map_or_else(
            || "–".into(),
            |d| format!("{} %", format_decimal(d * Decimal::ONE_HUNDRED, dp)),
        )))
    });
    Ok(tera)
}

/// [`environment`] for the Markdown templates: what they print is escaped for Markdown
/// ([`escape_markdown`]) as the HTML templates' is for HTML, so a value holding `|`
/// cannot split a table cell.
fn markdown_environment(report: &ResolvedReport) -> Result<tera::Tera> {
    let mut tera = environment(report)?;
    tera.autoescape_on(vec![".md.tera", ".md"]);
    tera.set_escape_fn(escape_markdown);
    Ok(tera)
}

/// Backslash-escapes the characters that Markdown (CommonMark and GitHub tables) reads as
/// markup: `|` would end a table cell, `*`, `_`, `~`, `` ` ``, `[`, `]`, `<`, `>`, `&`
/// would start emphasis, strikethrough, code, links, HTML or an entity. A line break
/// becomes a space: a cell is one line.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A JSON value (number or numeric string) as a decimal.
fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => Decimal::from_str(s).ok(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Decimal::from(i))
            } else {
                n.as_f64()
                    .and_then(|f| Decimal::from_str(&format!("{f}")).ok())
            }
        }
        _ => None,
    }
}

/// Runs a report's queries and renders every format; returns the texts and their
/// destination paths under `reports_dir`.
pub fn render(
    wh: &Warehouse,
    report: &ResolvedReport,
    as_of: NaiveDate,
    vars: &BTreeMap<String, String>,
    reports_dir: &std::path::Path,
) -> Result<Vec<Rendered>> {
    let kind = report.config.period;
    let current = period::containing(kind, as_of);
    let prev = period::previous(kind, &current);
    let ago = period::year_ago(kind, &current);
    let params = params_for(kind, as_of, &current, &prev, &ago);
    let mut data = Map::new();
    for (name, path) in &report.queries {
        let sql = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if let Some(shape) = query_shape(wh, &sql) {
            let (line, column) = query_shape_place(&shape);
            return Err(Error::Run(format!(
                "{}:{line}:{column}: report `{}` query `{name}`: {}",
                path.display(),
                report.config.name,
                query_shape_message(&shape)
            )));
        }
        let rows = run_query(wh, &sql, &params).map_err(|e| match e {
            // Placed in the query file, like a model's error.
            Error::Db { source, .. } => {
                let at = crate::models::locate::locate(&source.to_string(), &sql, 0, &sql);
                let place = if at.line > 0 {
                    format!("{}:{}:{}", path.display(), at.line, at.column)
                } else {
                    path.display().to_string()
                };
                Error::Run(format!(
                    "{place}: report `{}` query `{name}`: {}",
                    report.config.name, at.message
                ))
            }
            Error::Run(message) => Error::Run(format!(
                "{}: report `{}` query `{name}`: {message}",
                path.display(),
                report.config.name
            )),
            other => other,
        })?;
        data.insert(name.clone(), Value::Array(rows));
    }
    let html = environment(report)?;
    let markdown = markdown_environment(report)?;
    let mut ctx = tera::Context::new();
    ctx.insert("report", &report.config.name);
    ctx.insert(
        "title",
        report
            .config
            .title
            .as_deref()
            .unwrap_or(&report.config.name),
    );
    ctx.insert("as_of", &as_of.format("%Y-%m-%d").to_string());
    ctx.insert("period", &current);
    ctx.insert("previous", &prev);
    ctx.insert("year_ago", &ago);
    // A period in progress at the as-of date: its figures are to date, compared with the
    // same days of the previous and year-ago periods.
    let to = current.end.min(as_of).max(current.start);
    ctx.insert("period_to", &to.format("%Y-%m-%d").to_string());
    ctx.insert("partial", &(to < current.end));
    ctx.insert("data", &data);
    ctx.insert("var", vars);
    let mut out = Vec::new();
    let mut formats = report.config.formats.clone();
    formats.sort();
    formats.dedup();
    for f in formats {
        let template = format!("{}.{}.tera", report.config.template, f.extension());
        let tera = match f {
            ReportFormat::Markdown => &markdown,
            ReportFormat::Html => &html,
        };
        let text = tera.render(&template, &ctx).map_err(|e| {
            Error::template(
                format!("rendering report `{}` ({template})", report.config.name),
                &e,
            )
        })?;
        let path = reports_dir.join(format!(
            "{}-{}.{}",
            report.config.name,
            current.label,
            f.extension()
        ));
        out.push(Rendered { path, text });
    }
    Ok(out)
}

/// The names of the parameters a report query may use (`$name`).
pub const PARAMETERS: [&str; 10] = [
    "as_of",
    "period_start",
    "period_end",
    "period_to",
    "prev_start",
    "prev_end",
    "prev_to",
    "year_ago_start",
    "year_ago_end",
    "year_ago_to",
];

/// The parameters a report query may use, in [`PARAMETERS`] order. `*_to` end the
/// periods to date: the report period at the as-of date (or its end), the previous
/// period and the year-ago one after as many days (or at their ends), so a period in
/// progress is compared with the same days of the others; a finished one with the whole
/// others.
fn params_for(
    kind: ReportPeriod,
    as_of: NaiveDate,
    current: &Period,
    prev: &Period,
    ago: &Period,
) -> Vec<(&'static str, NaiveDate)> {
    let to = current.end.min(as_of).max(current.start);
    let elapsed = to - current.start;
    let finished = to == current.end;
    // A finished period is compared with the whole others (August's 31 days against
    // September's 30); one in progress with as many of their days, and a year ago
    // with the same dates (as `kpi_sales_growth`; a week's year ago is an ISO week, so
    // as many days).
    let to_date = |p: &Period| {
        if finished {
            p.end
        } else {
            (p.start + elapsed).min(p.end)
        }
    };
    let ago_to = match kind {
        _ if finished => ago.end,
        ReportPeriod::Week => to_date(ago),
        _ => period::year_before(to).min(ago.end).max(ago.start),
    };
    let values = [
        as_of,
        current.start,
        current.end,
        to,
        prev.start,
        prev.end,
        to_date(prev),
        ago.start,
        ago.end,
        ago_to,
    ];
    PARAMETERS.into_iter().zip(values).collect()
}

/// What makes a report query file other than one SELECT (it is run inside the data
/// transaction: anything else would be committed with the run).
pub enum QueryShape {
    /// More than one statement: how many, and the 1-based line and column where the
    /// second begins.
    Statements(usize, usize, usize),
    /// A statement that is not a SELECT (DuckDB's parser serialises only SELECTs).
    NotSelect,
}

/// The problem with `sql` as a report query, if any: several statements, or one that is
/// not a SELECT. A text DuckDB cannot parse is left to `prepare`, which says why.
pub fn query_shape(wh: &Warehouse, sql: &str) -> Option<QueryShape> {
    let json: String = wh
        .conn
        .query_row("SELECT json_serialize_sql(?)", [sql], |r| r.get(0))
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&json).ok()?;
    if v["error"] == true {
        return (v["error_type"] != "parser").then_some(QueryShape::NotSelect);
    }
    let count = v["statements"].as_array().map_or(0, Vec::len);
    if count < 2 {
        return None;
    }
    let at = second_statement(sql);
    let line = sql[..at].matches('\n').count() + 1;
    let column = sql[..at].chars().rev().take_while(|&c| c != '\n').count() + 1;
    Some(QueryShape::Statements(count, line, column))
}

/// The byte offset where the second statement of `sql` begins: the first text after a
/// `;` outside quotes and comments that is not itself blank or a comment (0 if none).
fn second_statement(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut after_semicolon = false;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            }
            q @ (b'\'' | b'"') if !after_semicolon => {
                // A doubled quote inside is two strings back to back: same result.
                i = sql[i + 1..]
                    .find(q as char)
                    .map_or(b.len(), |n| i + 1 + n + 1);
            }
            b';' => {
                after_semicolon = true;
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ if after_semicolon => return i,
            _ => i += 1,
        }
    }
    0
}

/// The message for a query file that is not one SELECT.
pub fn query_shape_message(shape: &QueryShape) -> String {
    match shape {
        QueryShape::Statements(count, ..) => format!(
            "holds {count} statements; a report query is a single SELECT (take out the `;` \
             and what follows it, or move it to a file of its own)"
        ),
        QueryShape::NotSelect => "is not a SELECT; a report query is a single SELECT (it runs \
             inside the run's transaction: anything else would change the warehouse)"
            .to_string(),
    }
}

/// The 1-based line and column a [`QueryShape`] is placed at.
pub fn query_shape_place(shape: &QueryShape) -> (usize, usize) {
    match shape {
        QueryShape::Statements(_, line, column) => (*line, *column),
        QueryShape::NotSelect => (1, 1),
    }
}

/// Runs one query, binding only the named parameters it uses, and returns its rows as
/// ordered maps.
pub fn run_query(wh: &Warehouse, sql: &str, params: &[(&str, NaiveDate)]) -> Result<Vec<Value>> {
    let mut stmt = wh
        .conn
        .prepare(sql)
        .ctx(|| "preparing report query".into())?;
    for i in 1..=stmt.parameter_count() {
        let name = stmt
            .parameter_name(i)
            .ctx(|| "reading parameter names".into())?;
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let known: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
                let hint = crate::util::suggest(&name, known.iter().copied())
                    .map(|s| format!("did you mean `${s}`? "))
                    .unwrap_or_default();
                Error::Run(format!(
                    "unknown query parameter `${name}`; {hint}available: ${}",
                    known.join(", $")
                ))
            })?;
        stmt.raw_bind_parameter(i, value)
            .ctx(|| format!("binding ${name}"))?;
    }
    stmt.raw_execute().ctx(|| "running report query".into())?;
    let names = stmt.column_names();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().ctx(|| "reading report rows".into())? {
        let mut m = Map::new();
        for (i, n) in names.iter().enumerate() {
            let v = row.get_ref(i).ctx(|| format!("reading column `{n}`"))?;
            m.insert(n.clone(), json_of(v));
        }
        out.push(Value::Object(m));
    }
    Ok(out)
}

/// A DuckDB value as JSON: decimals as exact strings, dates as `YYYY-MM-DD`.
fn json_of(v: duckdb::types::ValueRef<'_>) -> Value {
    use duckdb::types::ValueRef as V;
    match v {
        V::Null => Value::Null,
        V::Boolean(b) => Value::Bool(b),
        V::TinyInt(i) => Value::from(i),
        V::SmallInt(i) => Value::from(i),
        V::Int(i) => Value::from(i),
        V::BigInt(i) => Value::from(i),
        V::HugeInt(i) => Value::String(i.to_string()),
        V::UTinyInt(i) => Value::from(i),
        V::USmallInt(i) => Value::from(i),
        V::UInt(i) => Value::from(i),
        V::UBigInt(i) => Value::from(i),
        V::Float(f) => Value::from(f64::from(f)),
        V::Double(f) => Value::from(f),
        V::Decimal(d) => Value::String(d.to_string()),
        V::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        V::Date32(days) => {
            let d =
                NaiveDate::from_ymd_opt(1970, 1, 1).map(|e| e + Duration::days(i64::from(days)));
            d.map_or(Value::Null, |d| {
                Value::String(d.format("%Y-%m-%d").to_string())
            })
        }
        V::Timestamp(unit, x) => {
            let micros = unit.to_micros(x);
            chrono::DateTime::from_timestamp_micros(micros).map_or(Value::Null, |t| {
                Value::String(t.naive_utc().format("%Y-%m-%d %H:%M:%S").to_string())
            })
        }
        other => Value::String(format!("{other:?}")),
    }
}

/// Checks that every report's templates parse and use only filters that exist (by
/// `validate`, and by `run` before it reads anything). An unknown filter is error E060,
/// placed at its first use; each problem is listed once (reports may share a template).
pub fn check_all_templates(reports: &[ResolvedReport]) -> Result<()> {
    let mut all: Vec<crate::error::Diagnostic> = Vec::new();
    for r in reports {
        for d in template_problems(r)? {
            if !all
                .iter()
                .any(|a| a.file == d.file && a.message == d.message)
            {
                all.push(d);
            }
        }
    }
    if all.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(crate::error::ConfigError {
            diagnostics: all,
        }))
    }
}

/// The unknown filters of the templates `report` renders (and those they include), or
/// the syntax error that stopped its templates from loading.
fn template_problems(report: &ResolvedReport) -> Result<Vec<crate::error::Diagnostic>> {
    let tera = match environment(report) {
        Ok(tera) => tera,
        Err(Error::Template { message, .. }) => {
            return Ok(vec![syntax_diagnostic(&report.templates_dir, &message)])
        }
        Err(e) => return Err(e),
    };
    let roots: Vec<String> = report
        .config
        .formats
        .iter()
        .map(|f| format!("{}.{}.tera", report.config.template, f.extension()))
        .collect();
    let unknown = filters::unknown(&tera, &roots);
    let known: Vec<&str> = tera.filters.keys().map(String::as_str).collect();
    Ok(unknown
        .iter()
        .map(|(template, filter)| {
            let file = report.templates_dir.join(template);
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let (line, column) = filters::first_use(&text, filter).unwrap_or((0, 0));
            let hint = crate::util::suggest(filter, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            crate::error::Diagnostic {
                file,
                line,
                column,
                code: "E060",
                message: format!("filter `{filter}` does not exist{hint}"),
            }
        })
        .collect())
}

/// Tera's message for a template that does not parse (`Failed to parse "FILE"`, then
/// ` --> LINE:COLUMN` and `= what was expected`) as error E061 at that place.
fn syntax_diagnostic(dir: &std::path::Path, message: &str) -> crate::error::Diagnostic {
    let file = message
        .split_once("Failed to parse \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| dir.to_path_buf(), |(f, _)| PathBuf::from(f));
    let (line, column) = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|at| at.split_once(':'))
        .and_then(|(l, c)| Some((l.trim().parse().ok()?, c.trim().parse().ok()?)))
        .unwrap_or((0, 0));
    let what = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("the template does not parse");
    crate::error::Diagnostic {
        file,
        line,
        column,
        code: "E061",
        message: format!("template syntax error: {what}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::{escape_markdown, params_for, period, second_statement};

    /// Where the second statement begins: after a `;` outside quotes and comments, past
    /// blanks and comment lines. Regression: a `;` in a comment on line 1 was taken.
    #[test]
    fn the_second_statement_is_found_past_comments_and_strings() {
        let sql = "-- trend; by month\nSELECT ';' AS x /* a; b */\nFROM t;\n-- next\nSELECT 1;\n";
        let at = second_statement(sql);
        assert_eq!(&sql[at..at + 8], "SELECT 1");
        assert_eq!(second_statement("SELECT 1;\n  \n"), 0);
        assert_eq!(second_statement("SELECT 1"), 0);
    }
    use crate::config::ReportPeriod;
    use chrono::NaiveDate;

    /// `(period_to, prev_to, year_ago_to)` of the `kind` report as of `as_of`.
    fn ends(kind: ReportPeriod, as_of: &str) -> [String; 3] {
        let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
        let current = period::containing(kind, as_of);
        let prev = period::previous(kind, &current);
        let ago = period::year_ago(kind, &current);
        let p = params_for(kind, as_of, &current, &prev, &ago);
        let get = |n: &str| p.iter().find(|(k, _)| *k == n).unwrap().1.to_string();
        [get("period_to"), get("prev_to"), get("year_ago_to")]
    }

    #[test]
    fn a_finished_period_is_compared_with_whole_ones_one_in_progress_with_as_many_days() {
        use ReportPeriod::{Month, Quarter, Week};
        // (kind, as of, period_to, prev_to, year_ago_to), each worked out by hand.
        #[rustfmt::skip]
        let cases = [
            // September is over: the whole of August (31 days) and of September 2025.
            (Month, "2026-09-30", "2026-09-30", "2026-08-31", "2025-09-30"),
            // February 2025 is over: all of January, and February 2024 with its leap day.
            (Month, "2025-02-28", "2025-02-28", "2025-01-31", "2024-02-29"),
            // Q1 2026 is over: all of Q4 2025, to 31 December.
            (Quarter, "2026-03-31", "2026-03-31", "2025-12-31", "2025-03-31"),
            // Mid-month: the first 15 days of each.
            (Month, "2026-09-15", "2026-09-15", "2026-08-15", "2025-09-15"),
            // 30 days into March: all of February (28 days), the first 30 of March 2025.
            (Month, "2026-03-30", "2026-03-30", "2026-02-28", "2025-03-30"),
            // Wednesday of week 40: Monday to Wednesday of week 39 and of 2025-W40.
            (Week, "2026-09-30", "2026-09-30", "2026-09-23", "2025-10-01"),
            // Q1 2024 in progress on 10 March (70 days, 29 February among them): the
            // first 70 days of Q4 2023, and Q1 2023 to the same date, 10 March (as
            // kpi_sales_growth), not 70 days on (11 March).
            (Quarter, "2024-03-10", "2024-03-10", "2023-12-09", "2023-03-10"),
            // In progress on 29 February: a year ago to the 28th.
            (Quarter, "2024-02-29", "2024-02-29", "2023-11-29", "2023-02-28"),
        ];
        for (kind, as_of, to, prev, ago) in cases {
            assert_eq!(ends(kind, as_of), [to, prev, ago], "{kind:?} as of {as_of}");
        }
    }

    #[test]
    fn markdown_markup_is_escaped_and_plain_text_kept() {
        assert_eq!(escape_markdown("Paper | Print"), "Paper \\| Print");
        assert_eq!(
            escape_markdown("*a* _b_ `c` [d] <e> \\"),
            "\\*a\\* \\_b\\_ \\`c\\` \\[d\\] \\<e\\> \\\\"
        );
        assert_eq!(escape_markdown("two\nlines"), "two lines");
        assert_eq!(
            escape_markdown("1,234.56 – -12.5 % (2026-09)"),
            "1,234.56 – -12.5 % (2026-09)"
        );
        assert_eq!(
            escape_markdown("~~R&D~~ &amp;"),
            "\\~\\~R\\&D\\~\\~ \\&amp;"
        );
    }
}
