//! Per-model settings, from the header comments of the `.sql` file and from an optional
//! YAML file beside it with the same stem (`fct_order_lines.yml`). Both say the same
//! things; a setting given in both places is an error, tests add up.
//!
//! Header (leading `-- key: value` lines; other comment lines are free text):
//! ```sql
//! -- materialized: table            (or view; default table)
//! -- description: Net revenue by month, with the formula.
//! -- partition_by: year, month      (hive partitions of the Parquet export)
//! -- order_by: order_id, line_no    (sort of the Parquet export)
//! -- snapshot: true                 (keep a copy per as-of: period close)
//! -- test: { unique: [order_id, line_no] }
//! -- test: { accepted_values: { column: channel, values: [online, retail] }, severity: warn }
//! ```
//! YAML beside the model (unknown keys are errors):
//! ```yaml
//! description: Net revenue by month, with the formula.
//! materialized: table
//! partition_by: [year, month]
//! order_by: [order_id, line_no]
//! snapshot: true
//! tests:
//!   - unique: [order_id, line_no]
//!   - not_null: [order_id, net_revenue]
//!   - accepted_values: { column: channel, values: [online, retail, partner] }
//!     severity: warn
//!   - relationships: { column: customer_id, to: customers.customer_id }
//!   - expression: "net_revenue >= 0"
//!     name: revenue_not_negative
//!   - row_count: { min: 1, max: 100000 }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::datatest::{DataTest, Severity, TestKind};
use super::Materialized;
use crate::config::yaml::{self, Positions};
use crate::error::Diagnostic;
use crate::sql::is_valid_ident;

/// Code of an invalid model setting.
const E_SETTING: &str = "E033";
/// Code of an invalid data test.
const E_TEST: &str = "E034";

/// A model's YAML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// What the model computes, with its formula.
    #[serde(default)]
    pub description: Option<String>,
    /// `table` (default) or `view`.
    #[serde(default)]
    pub materialized: Option<Materialized>,
    /// Columns the Parquet export is hive-partitioned by, e.g. `[year, month]`.
    #[serde(default)]
    pub partition_by: Option<Vec<String>>,
    /// Columns the Parquet export is sorted by (a unique key keeps the files
    /// deterministic); default every column.
    #[serde(default)]
    pub order_by: Option<Vec<String>>,
    /// Columns masked in the Parquet export when the pipeline masks PII.
    #[serde(default)]
    pub pii: Option<Vec<String>>,
    /// Keep a copy of the table per as-of date in `<model>_snapshots` (period close).
    #[serde(default)]
    pub snapshot: Option<bool>,
    /// Data tests run after the model is built.
    #[serde(default)]
    pub tests: Vec<TestSpec>,
}

/// One data test as written: exactly one of the kinds, plus `severity` and `name`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// Columns whose combination is unique (one column or a list).
    #[serde(default)]
    pub unique: Option<Columns>,
    /// Columns without NULL (one test per column).
    #[serde(default)]
    pub not_null: Option<Columns>,
    /// A column whose values are in a list.
    #[serde(default)]
    pub accepted_values: Option<AcceptedValuesSpec>,
    /// A column whose values exist in another relation's column.
    #[serde(default)]
    pub relationships: Option<RelationshipsSpec>,
    /// A SQL boolean expression that no row may make false.
    #[serde(default)]
    pub expression: Option<String>,
    /// Bounds on the number of rows.
    #[serde(default)]
    pub row_count: Option<RowCountSpec>,
    /// `error` (default: the run fails) or `warn`.
    #[serde(default)]
    pub severity: Severity,
    /// A name instead of the derived one (`unique(order_id)`).
    #[serde(default)]
    pub name: Option<String>,
}

/// `accepted_values: { column: channel, values: [online, retail] }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedValuesSpec {
    /// The column.
    pub column: String,
    /// The accepted values (strings, numbers or booleans, compared as text).
    pub values: Vec<Scalar>,
}

/// `relationships: { column: customer_id, to: customers.customer_id }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipsSpec {
    /// The column of this model.
    pub column: String,
    /// `relation.column` of a source or another model.
    pub to: String,
}

/// `row_count: { min: 1, max: 1000 }` (either bound may be left out).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowCountSpec {
    /// Fewest rows.
    #[serde(default)]
    pub min: Option<u64>,
    /// Most rows.
    #[serde(default)]
    pub max: Option<u64>,
}

/// One column name or a list of them.
#[derive(Debug, Default)]
pub struct Columns(pub Vec<String>);

impl<'de> Deserialize<'de> for Columns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Columns;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a column name or a list of column names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Columns, E> {
                Ok(Columns(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Columns, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Columns(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// A YAML scalar kept as its text.
#[derive(Debug)]
pub struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A model's settings, header and YAML merged.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Table or view.
    pub materialized: Materialized,
    /// Description.
    pub description: Option<String>,
    /// Hive partition columns of the export.
    pub partition_by: Vec<String>,
    /// Sort columns of the export.
    pub order_by: Vec<String>,
    /// Columns masked in the export when the pipeline masks PII.
    pub pii: Vec<String>,
    /// Keep a snapshot per as-of date (period close).
    pub snapshot: bool,
    /// Data tests, header first.
    pub tests: Vec<DataTest>,
}

/// Header or YAML: one source of settings, with where each value was given.
#[derive(Debug, Default)]
struct Partial {
    materialized: Option<(Materialized, usize)>,
    description: Option<(String, usize)>,
    partition_by: Option<(Vec<String>, usize)>,
    order_by: Option<(Vec<String>, usize)>,
    pii: Option<(Vec<String>, usize)>,
    snapshot: Option<(bool, usize)>,
    tests: Vec<DataTest>,
}

/// Collects diagnostics for one file.
struct Sink<'a> {
    file: &'a Path,
    diags: &'a mut Vec<Diagnostic>,
}

impl Sink<'_> {
    fn push(&mut self, line: usize, column: usize, code: &'static str, message: String) {
        self.diags.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            column,
            code,
            message,
        });
    }
}

/// The YAML file holding a model's settings: `<stem>.yml` beside the `.sql` file.
pub fn yaml_path(sql: &Path) -> PathBuf {
    sql.with_extension("yml")
}

/// Reads the settings of the model in `sql` (its text is `template`): the header, then
/// `<stem>.yml` if it exists. Problems go to `diags`.
pub fn read(sql: &Path, template: &str, diags: &mut Vec<Diagnostic>) -> Settings {
    let header = parse_header(sql, template, diags);
    let yml = yaml_path(sql);
    let from_yaml = if yml.is_file() {
        read_yaml(&yml, diags)
    } else {
        Partial::default()
    };
    let mut out = Settings::default();
    let mut conflict = |key: &str, line: Option<usize>| {
        if let Some(line) = line {
            diags.push(Diagnostic {
                file: yml.clone(),
                line,
                column: 1,
                code: E_SETTING,
                message: format!(
                    "`{key}` is also set in the header of {}; keep one",
                    sql.display()
                ),
            });
        }
    };
    match (header.materialized, from_yaml.materialized) {
        (Some(_), Some((_, l))) => conflict("materialized", Some(l)),
        (Some((m, _)), None) | (None, Some((m, _))) => out.materialized = m,
        (None, None) => {}
    }
    match (header.description, from_yaml.description) {
        (Some(_), Some((_, l))) => conflict("description", Some(l)),
        (Some((d, _)), None) | (None, Some((d, _))) => out.description = Some(d),
        (None, None) => {}
    }
    match (header.partition_by, from_yaml.partition_by) {
        (Some(_), Some((_, l))) => conflict("partition_by", Some(l)),
        (Some((p, _)), None) | (None, Some((p, _))) => out.partition_by = p,
        (None, None) => {}
    }
    match (header.order_by, from_yaml.order_by) {
        (Some(_), Some((_, l))) => conflict("order_by", Some(l)),
        (Some((p, _)), None) | (None, Some((p, _))) => out.order_by = p,
        (None, None) => {}
    }
    match (header.pii, from_yaml.pii) {
        (Some(_), Some((_, l))) => conflict("pii", Some(l)),
        (Some((p, _)), None) | (None, Some((p, _))) => out.pii = p,
        (None, None) => {}
    }
    match (header.snapshot, from_yaml.snapshot) {
        (Some(_), Some((_, l))) => conflict("snapshot", Some(l)),
        (Some((b, _)), None) | (None, Some((b, _))) => out.snapshot = b,
        (None, None) => {}
    }
    out.tests = header.tests;
    out.tests.extend(from_yaml.tests);
    let mut names = BTreeSet::new();
    for t in &out.tests {
        if !names.insert(t.name.clone()) {
            diags.push(Diagnostic {
                file: t.file.clone(),
                line: t.line,
                column: t.column,
                code: E_TEST,
                message: format!("two data tests are called `{}`; give one a `name`", t.name),
            });
        }
    }
    out
}

const HEADER_KEYS: [&str; 7] = [
    "materialized",
    "description",
    "partition_by",
    "order_by",
    "pii",
    "snapshot",
    "test",
];

/// Reads the leading `-- key: value` comment lines. Comment lines whose key is not a
/// setting are free text, unless the key looks like a misspelt setting.
fn parse_header(file: &Path, text: &str, diags: &mut Vec<Diagnostic>) -> Partial {
    let mut sink = Sink { file, diags };
    let mut h = Partial::default();
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        let Some(comment) = line.trim_start().strip_prefix("--") else {
            break;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        // 1-based column of the value: indent, `--`, the key, `:`, blanks.
        let indent = line.len() - line.trim_start().len();
        let value_col = indent + 2 + key.len() + 1 + count_leading_ws(value) + 1;
        let key = key.trim();
        let value = value.trim();
        match key {
            "materialized" => match value.parse() {
                Ok(m) => h.materialized = Some((m, ln)),
                Err(msg) => sink.push(ln, value_col, E_SETTING, msg),
            },
            "description" => h.description = Some((value.to_string(), ln)),
            "partition_by" => {
                let cols = column_list(value);
                check_columns(&mut sink, "partition_by", &cols, ln, value_col);
                h.partition_by = Some((cols, ln));
            }
            "order_by" => {
                let cols = column_list(value);
                check_columns(&mut sink, "order_by", &cols, ln, value_col);
                h.order_by = Some((cols, ln));
            }
            "pii" => {
                let cols = column_list(value);
                check_columns(&mut sink, "pii", &cols, ln, value_col);
                h.pii = Some((cols, ln));
            }
            "snapshot" => match value {
                "true" => h.snapshot = Some((true, ln)),
                "false" => h.snapshot = Some((false, ln)),
                other => sink.push(
                    ln,
                    value_col,
                    E_SETTING,
                    format!("`snapshot: {other}`: expected true or false"),
                ),
            },
            "test" => match yaml::parse::<TestSpec>(value, file) {
                Ok(spec) => {
                    let at = Loc {
                        line: ln,
                        column: value_col,
                    };
                    h.tests.extend(spec.into_tests(&mut sink, at));
                }
                Err(e) => {
                    for mut d in e.diagnostics {
                        d.column = value_col + d.column.saturating_sub(1);
                        d.line = ln;
                        d.code = E_TEST;
                        sink.diags.push(d);
                    }
                }
            },
            other if key_like(other) => {
                // Only near misses: `-- order: ...` stays free text, `-- materialised:`
                // is an error.
                let near = crate::util::suggest(other, HEADER_KEYS)
                    .filter(|s| s.len().abs_diff(other.len()) <= 2);
                if let Some(s) = near {
                    sink.push(
                        ln,
                        line.find(other).map_or(1, |i| i + 1),
                        E_SETTING,
                        format!("unknown model setting `{other}`; did you mean `{s}`?"),
                    );
                }
            }
            _ => {}
        }
    }
    h
}

fn count_leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// A single lower-case word, as a setting key would be.
fn key_like(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn column_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

fn check_columns(sink: &mut Sink, key: &str, cols: &[String], line: usize, column: usize) {
    if let Some(bad) = cols.iter().find(|c| !is_valid_ident(c)) {
        sink.push(
            line,
            column,
            E_SETTING,
            format!("`{key}`: invalid column `{bad}`"),
        );
    }
}

fn read_yaml(path: &Path, diags: &mut Vec<Diagnostic>) -> Partial {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                column: 0,
                code: E_SETTING,
                message: format!("cannot read model settings: {e}"),
            });
            return Partial::default();
        }
    };
    // An empty file is a model without settings.
    let file: ModelFile = if text.trim().is_empty() {
        ModelFile::default()
    } else {
        match yaml::parse(&text, path) {
            Ok(f) => f,
            Err(e) => {
                diags.extend(e.diagnostics);
                return Partial::default();
            }
        }
    };
    let pos = Positions::index(&text);
    let mut sink = Sink { file: path, diags };
    let line_of = |key: &str| pos.key(key).line;
    let mut out = Partial {
        materialized: file.materialized.map(|m| (m, line_of("materialized"))),
        description: file.description.map(|d| (d, line_of("description"))),
        snapshot: file.snapshot.map(|b| (b, line_of("snapshot"))),
        ..Partial::default()
    };
    if let Some(cols) = file.partition_by {
        let p = pos.value("partition_by");
        check_columns(&mut sink, "partition_by", &cols, p.line, p.column);
        out.partition_by = Some((cols, p.line));
    }
    if let Some(cols) = file.order_by {
        let p = pos.value("order_by");
        check_columns(&mut sink, "order_by", &cols, p.line, p.column);
        out.order_by = Some((cols, p.line));
    }
    if let Some(cols) = file.pii {
        let p = pos.value("pii");
        check_columns(&mut sink, "pii", &cols, p.line, p.column);
        out.pii = Some((cols, p.line));
    }
    for (i, spec) in file.tests.into_iter().enumerate() {
        let p = pos.key(&format!("tests[{i}]"));
        let at = Loc {
            line: p.line,
            column: p.column,
        };
        out.tests.extend(spec.into_tests(&mut sink, at));
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Loc {
    line: usize,
    column: usize,
}

impl TestSpec {
    /// The tests this entry declares (`not_null` of several columns is one per column).
    fn into_tests(self, sink: &mut Sink, at: Loc) -> Vec<DataTest> {
        let mut err = |msg: String| sink.push(at.line, at.column, E_TEST, msg);
        let mut kinds: Vec<TestKind> = Vec::new();
        let mut given = Vec::new();
        if let Some(Columns(cols)) = self.unique {
            given.push("unique");
            if cols.is_empty() {
                err("`unique` needs at least one column".into());
            }
            kinds.push(TestKind::Unique(cols));
        }
        if let Some(Columns(cols)) = self.not_null {
            given.push("not_null");
            if cols.is_empty() {
                err("`not_null` needs at least one column".into());
            }
            kinds.extend(cols.into_iter().map(TestKind::NotNull));
        }
        if let Some(a) = self.accepted_values {
            given.push("accepted_values");
            if a.values.is_empty() {
                err("`accepted_values` needs at least one value".into());
            }
            kinds.push(TestKind::AcceptedValues {
                column: a.column,
                values: a.values.into_iter().map(|s| s.0).collect(),
            });
        }
        if let Some(r) = self.relationships {
            given.push("relationships");
            match r.to.split_once('.') {
                Some((rel, col)) if is_valid_ident(rel) && is_valid_ident(col) => {
                    kinds.push(TestKind::Relationships {
                        column: r.column,
                        to: rel.to_string(),
                        to_column: col.to_string(),
                    })
                }
                _ => err(format!(
                    "`relationships.to: {}`: expected `relation.column`, e.g. \
                     `customers.customer_id`",
                    r.to
                )),
            }
        }
        if let Some(e) = self.expression {
            given.push("expression");
            if e.trim().is_empty() {
                err("`expression` is empty".into());
            }
            kinds.push(TestKind::Expression(e));
        }
        if let Some(r) = self.row_count {
            given.push("row_count");
            match (r.min, r.max) {
                (None, None) => err("`row_count` needs `min`, `max` or both".into()),
                (Some(a), Some(b)) if a > b => {
                    err(format!("`row_count`: min {a} is above max {b}"))
                }
                _ => {}
            }
            kinds.push(TestKind::RowCount {
                min: r.min,
                max: r.max,
            });
        }
        match given.len() {
            0 => err(
                "a data test needs one of `unique`, `not_null`, `accepted_values`, \
                 `relationships`, `expression`, `row_count`"
                    .into(),
            ),
            1 => {}
            _ => err(format!(
                "one data test per entry: `{}` are given together; write one entry each",
                given.join("`, `")
            )),
        }
        for k in &kinds {
            let cols: Vec<&String> = match k {
                TestKind::Unique(c) => c.iter().collect(),
                TestKind::NotNull(c) => vec![c],
                TestKind::AcceptedValues { column, .. } => vec![column],
                TestKind::Relationships { column, .. } => vec![column],
                _ => Vec::new(),
            };
            if let Some(bad) = cols.into_iter().find(|c| !is_valid_ident(c)) {
                err(format!("invalid column `{bad}` in a data test"));
            }
        }
        if self.name.is_some() && kinds.len() > 1 {
            err("`name` names one test; list the `not_null` columns in separate entries".into());
        }
        if given.len() != 1 {
            return Vec::new();
        }
        kinds
            .into_iter()
            .map(|kind| DataTest {
                name: self.name.clone().unwrap_or_else(|| kind.default_name()),
                kind,
                severity: self.severity,
                file: sink.file.to_path_buf(),
                line: at.line,
                column: at.column,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn header(text: &str) -> (Partial, Vec<Diagnostic>) {
        let mut d = Vec::new();
        let h = parse_header(Path::new("m.sql"), text, &mut d);
        (h, d)
    }

    #[test]
    fn header_settings_and_tests() {
        let (h, d) = header(
            "-- materialized: view\n-- description: x y\n-- partition_by: year, month\n\
             -- order_by: id\n-- test: { unique: [id, day] }\n\
             -- test: { not_null: [id, day], severity: warn }\n-- Note: free text\n\
             -- order: free text too\n-- grain: one row per id\n-- snapshot: true\nselect 1",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(h.snapshot, Some((true, 10)));
        assert_eq!(h.materialized.unwrap().0, Materialized::View);
        assert_eq!(h.description.unwrap().0, "x y");
        assert_eq!(h.partition_by.unwrap().0, vec!["year", "month"]);
        assert_eq!(h.order_by.unwrap().0, vec!["id"]);
        let names: Vec<(&str, Severity, usize, usize)> = h
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.severity, t.line, t.column))
            .collect();
        assert_eq!(
            names,
            vec![
                ("unique(id, day)", Severity::Error, 5, 10),
                ("not_null(id)", Severity::Warn, 6, 10),
                ("not_null(day)", Severity::Warn, 6, 10),
            ]
        );
    }

    #[test]
    fn header_errors_have_positions() {
        let (_, d) = header(
            "-- materialized: tabel\n-- test: { uniq: id }\n-- descripton: x\n-- snapshot: yes\nselect 1",
        );
        let got: Vec<(usize, usize, &str)> = d
            .iter()
            .map(|d| (d.line, d.column, d.message.as_str()))
            .collect();
        assert_eq!(got.len(), 4, "{d:?}");
        assert_eq!(
            got[3],
            (4, 14, "`snapshot: yes`: expected true or false"),
            "{d:?}"
        );
        assert_eq!((got[0].0, got[0].1), (1, 18));
        assert!(got[0].2.contains("expected table or view"), "{d:?}");
        // `{ uniq: id }` starts at column 10; `uniq` is 2 further.
        assert_eq!((got[1].0, got[1].1), (2, 12), "{d:?}");
        assert!(got[1].2.contains("did you mean `unique`?"), "{d:?}");
        assert_eq!((got[2].0, got[2].1), (3, 4));
        assert!(got[2].2.contains("did you mean `description`?"), "{d:?}");
    }

    #[test]
    fn yaml_settings_with_located_errors() {
        let dir = tempfile::tempdir().unwrap();
        let sql = dir.path().join("m.sql");
        std::fs::write(
            dir.path().join("m.yml"),
            "description: from yaml\ntests:\n  - unique: id\n  - row_count: { min: 5, max: 1 }\n  - not_null: id\n    expression: x > 0\n  - accepted_values: { column: c, values: [a, 1, true] }\n    severity: warn\n",
        )
        .unwrap();
        let mut d = Vec::new();
        let s = read(&sql, "-- description: from header\nselect 1", &mut d);
        let got: Vec<(usize, usize, &str)> = d
            .iter()
            .map(|d| (d.line, d.column, d.message.as_str()))
            .collect();
        assert!(
            got[0].2.contains("min 5 is above max 1") && got[0].0 == 4,
            "{got:?}"
        );
        assert!(
            got[1].2.contains("one data test per entry") && got[1].0 == 5,
            "{got:?}"
        );
        assert!(
            got[2].2.contains("`description` is also set") && got[2].0 == 1,
            "{got:?}"
        );
        assert_eq!(got.len(), 3, "{got:?}");
        let av = s
            .tests
            .iter()
            .find(|t| t.name == "accepted_values(c)")
            .unwrap();
        assert_eq!(
            av.kind,
            TestKind::AcceptedValues {
                column: "c".into(),
                values: vec!["a".into(), "1".into(), "true".into()]
            }
        );
        assert_eq!(av.severity, Severity::Warn);

        std::fs::write(
            dir.path().join("m.yml"),
            "tests:\n  - unique: id\n    sevrity: warn\n",
        )
        .unwrap();
        let mut d = Vec::new();
        read(&sql, "select 1", &mut d);
        assert_eq!((d[0].line, d[0].column), (3, 5), "{d:?}");
        assert!(d[0].message.contains("did you mean `severity`?"), "{d:?}");
    }
}
