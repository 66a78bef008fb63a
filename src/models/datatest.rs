//! Data tests of a model: `unique`, `not_null`, `accepted_values`, `relationships`,
//! `expression` and `row_count`. Each is a query for the rows that break it; it runs
//! right after its model is built, inside the run's data transaction. The outcome keeps
//! the number of failing rows and the first [`FAILING_ROWS_KEPT`] of them as JSON text,
//! in memory, so they can be recorded in `salespipe.test_failures` even when the data
//! transaction rolls back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::vars::TemplateVars;
use crate::error::{DbContext, Error, Result};
use crate::sql::{ident, literal, qualified};
use crate::warehouse::Warehouse;

/// How many failing rows of one test are kept (the count is always exact).
pub const FAILING_ROWS_KEPT: i64 = 100;

/// What a failing test does to the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Recorded and shown in the summary; the run goes on.
    Warn,
    /// Recorded; the run fails and its data rolls back.
    #[default]
    Error,
}

impl Severity {
    /// `warn` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// What a data test checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestKind {
    /// No two rows share these columns (rows with a NULL in them are not compared).
    Unique(Vec<String>),
    /// The column has no NULL.
    NotNull(String),
    /// Every non-NULL value, as text, is one of `values`.
    AcceptedValues {
        /// The column.
        column: String,
        /// The accepted values, compared with `CAST(column AS VARCHAR)`.
        values: Vec<String>,
    },
    /// Every non-NULL value of `column` exists in `to.to_column` (a source or model).
    Relationships {
        /// The column of this model.
        column: String,
        /// The referenced relation.
        to: String,
        /// Its column.
        to_column: String,
    },
    /// A SQL boolean expression over a row that must not be false (NULL passes, as in a
    /// CHECK constraint). Rendered with the model's template variables.
    Expression(String),
    /// The number of rows is within the bounds (inclusive).
    RowCount {
        /// Fewest rows.
        min: Option<u64>,
        /// Most rows.
        max: Option<u64>,
    },
}

/// One data test of a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTest {
    /// Its name, unique within the model: given, or derived (`unique(order_id)`).
    pub name: String,
    /// What it checks.
    pub kind: TestKind,
    /// What a failure does.
    pub severity: Severity,
    /// Where it is declared (the model's header or its YAML), 1-based line and column.
    pub file: PathBuf,
    /// Line of the declaration.
    pub line: usize,
    /// Column of the declaration.
    pub column: usize,
}

impl TestKind {
    /// The derived test name.
    pub fn default_name(&self) -> String {
        match self {
            TestKind::Unique(cols) => format!("unique({})", cols.join(", ")),
            TestKind::NotNull(c) => format!("not_null({c})"),
            TestKind::AcceptedValues { column, .. } => format!("accepted_values({column})"),
            TestKind::Relationships {
                column,
                to,
                to_column,
            } => format!("relationships({column} -> {to}.{to_column})"),
            TestKind::Expression(e) => format!("expression({})", e.trim()),
            TestKind::RowCount { min, max } => format!(
                "row_count({}..{})",
                min.map(|n| n.to_string()).unwrap_or_default(),
                max.map(|n| n.to_string()).unwrap_or_default()
            ),
        }
    }
}

impl DataTest {
    /// The relation this test reads besides its model, if any.
    pub fn needs(&self) -> Option<&str> {
        match &self.kind {
            TestKind::Relationships { to, .. } => Some(to),
            _ => None,
        }
    }

    /// The query returning the rows that break the test, over `relation` (quoted).
    pub fn failing_sql(&self, relation: &str, vars: &TemplateVars) -> Result<String> {
        Ok(match &self.kind {
            TestKind::Unique(cols) => {
                let list: Vec<String> = cols.iter().map(|c| ident(c)).collect();
                let present: Vec<String> =
                    list.iter().map(|c| format!("{c} IS NOT NULL")).collect();
                format!(
                    "SELECT {}, count(*) AS duplicate_rows FROM {relation} WHERE {} GROUP BY ALL
                     HAVING count(*) > 1",
                    list.join(", "),
                    present.join(" AND ")
                )
            }
            TestKind::NotNull(c) => format!("SELECT * FROM {relation} WHERE {} IS NULL", ident(c)),
            TestKind::AcceptedValues { column, values } => {
                let c = ident(column);
                let vals: Vec<String> = values.iter().map(|v| literal(v)).collect();
                format!(
                    "SELECT * FROM {relation} WHERE {c} IS NOT NULL
                     AND CAST({c} AS VARCHAR) NOT IN ({})",
                    vals.join(", ")
                )
            }
            TestKind::Relationships {
                column,
                to,
                to_column,
            } => {
                let c = ident(column);
                format!(
                    "SELECT child.* FROM {relation} AS child WHERE child.{c} IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM {} AS parent WHERE parent.{} = child.{c})",
                    qualified("main", to),
                    ident(to_column)
                )
            }
            TestKind::Expression(e) => {
                let e = render_expression(&self.name, e, vars)?;
                format!("SELECT * FROM {relation} WHERE NOT ({e})")
            }
            TestKind::RowCount { min, max } => {
                let mut outside = Vec::new();
                if let Some(m) = min {
                    outside.push(format!("count(*) < {m}"));
                }
                if let Some(m) = max {
                    outside.push(format!("count(*) > {m}"));
                }
                if outside.is_empty() {
                    outside.push("false".into());
                }
                format!(
                    "SELECT count(*) AS row_count FROM {relation} HAVING {}",
                    outside.join(" OR ")
                )
            }
        })
    }
}

fn render_expression(name: &str, text: &str, vars: &TemplateVars) -> Result<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_string());
    }
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::new());
    tera.add_raw_template(name, text)
        .and_then(|_| tera.render(name, &vars.context()))
        .map_err(|e| Error::template(format!("rendering data test `{name}`"), &e))
}

/// The result of running one data test.
#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    /// The model tested.
    pub model: String,
    /// The test's name.
    pub test: String,
    /// Its severity.
    pub severity: Severity,
    /// Rows that break it (for `unique`, duplicated key values; for `row_count`, 1).
    pub failing: i64,
    /// The first [`FAILING_ROWS_KEPT`] failing rows as JSON objects, in text order.
    #[serde(skip)]
    pub rows: Vec<String>,
}

impl TestOutcome {
    /// `pass`, `warn` or `fail`.
    pub fn status(&self) -> &'static str {
        match (self.failing, self.severity) {
            (0, _) => "pass",
            (_, Severity::Warn) => "warn",
            (_, Severity::Error) => "fail",
        }
    }
}

/// Runs `test` of `model` (already built as `relation`).
pub fn run(
    wh: &Warehouse,
    model: &str,
    relation: &str,
    test: &DataTest,
    vars: &TemplateVars,
) -> Result<TestOutcome> {
    let sql = test.failing_sql(relation, vars)?;
    let what = || format!("running data test `{}` of model `{model}`", test.name);
    // A test that does not bind (a column that is not there) is placed where it is
    // declared, in DuckDB's first words, as `plan` reports it (E042).
    let failing: i64 = wh
        .conn
        .query_row(&format!("SELECT count(*) FROM ({sql}) AS t"), [], |r| {
            r.get(0)
        })
        .map_err(|e| {
            let place = if test.line > 0 {
                format!(
                    "{}:{}:{}",
                    crate::models::shown(&test.file).display(),
                    test.line,
                    test.column
                )
            } else {
                crate::models::shown(&test.file).display().to_string()
            };
            crate::error::Error::Run(format!(
                "{place}: data test `{}` of model `{model}`: {}",
                test.name,
                super::locate::short_message(&e.to_string())
            ))
        })?;
    let mut rows = Vec::new();
    if failing > 0 {
        let mut stmt = wh
            .conn
            .prepare(&format!(
                "SELECT to_json(t)::VARCHAR AS j FROM ({sql}) AS t ORDER BY j
                 LIMIT {FAILING_ROWS_KEPT}"
            ))
            .ctx(what)?;
        rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .ctx(what)?
            .collect::<std::result::Result<_, _>>()
            .ctx(what)?;
    }
    Ok(TestOutcome {
        model: model.to_string(),
        test: test.name.clone(),
        severity: test.severity,
        failing,
        rows,
    })
}

/// The message of a run stopped by error-severity failures.
pub fn failure_message(failed: &[&TestOutcome]) -> String {
    let parts: Vec<String> = failed
        .iter()
        .map(|o| {
            format!(
                "model `{}`: data test `{}` failed with {} failing row{}",
                o.model,
                o.test,
                o.failing,
                if o.failing == 1 { "" } else { "s" }
            )
        })
        .collect();
    format!(
        "{} (severity error; the rows are in salespipe.test_failures)",
        parts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::NaiveDate;

    fn test(kind: TestKind) -> DataTest {
        DataTest {
            name: kind.default_name(),
            kind,
            severity: Severity::Error,
            file: PathBuf::from("m.sql"),
            line: 1,
            column: 1,
        }
    }

    #[test]
    fn each_kind_finds_its_failing_rows() {
        let wh = Warehouse::in_memory().unwrap();
        wh.exec(
            "CREATE TABLE m (id INTEGER, c VARCHAR, amount DECIMAL(18,2));
             INSERT INTO m VALUES (1, 'a', 10), (2, 'b', -5), (2, NULL, 3), (NULL, 'zz', 1);
             CREATE TABLE p (c VARCHAR); INSERT INTO p VALUES ('a'), ('b');",
        )
        .unwrap();
        let vars = TemplateVars::new(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        let count = |kind: TestKind| {
            let o = run(&wh, "m", "\"main\".\"m\"", &test(kind), &vars).unwrap();
            (o.failing, o.rows)
        };
        assert_eq!(
            count(TestKind::Unique(vec!["id".into()])),
            (1, vec![r#"{"id":2,"duplicate_rows":2}"#.to_string()])
        );
        assert_eq!(count(TestKind::NotNull("id".into())).0, 1);
        assert_eq!(
            count(TestKind::AcceptedValues {
                column: "c".into(),
                values: vec!["a".into(), "b".into()]
            })
            .0,
            1
        );
        let (n, rows) = count(TestKind::Relationships {
            column: "c".into(),
            to: "p".into(),
            to_column: "c".into(),
        });
        assert_eq!(
            (n, rows[0].as_str()),
            (1, r#"{"id":null,"c":"zz","amount":1.00}"#)
        );
        assert_eq!(count(TestKind::Expression("amount >= 0".into())).0, 1);
        assert_eq!(
            count(TestKind::Expression("'{{ as_of }}' = '2026-09-30'".into())).0,
            0
        );
        assert_eq!(
            count(TestKind::RowCount {
                min: Some(5),
                max: None
            }),
            (1, vec![r#"{"row_count":4}"#.to_string()])
        );
        assert_eq!(
            count(TestKind::RowCount {
                min: Some(1),
                max: Some(4)
            })
            .0,
            0
        );
    }

    #[test]
    fn derived_names() {
        assert_eq!(
            TestKind::RowCount {
                min: Some(1),
                max: None
            }
            .default_name(),
            "row_count(1..)"
        );
        assert_eq!(
            TestKind::Relationships {
                column: "customer_id".into(),
                to: "customers".into(),
                to_column: "customer_id".into()
            }
            .default_name(),
            "relationships(customer_id -> customers.customer_id)"
        );
    }
}
