//! Clean: type every raw value, check the declared rules (column rules, cross-column
//! `rules`), set aside rejected rows with the file, line, column, rule and raw text, judge
//! the valid rows against the outlier rules (which may reject too), then drop exact
//! duplicates and keep the latest version of each key (against the table's version too,
//! for an incremental load), and list the failures of `warn` rules of the rows that load.
//! All of it is SQL generated from the source spec and run by DuckDB over the whole raw
//! table at once; every rule is one more check in the same failure list.
//!
//! Temp tables per source `s`: `_checked_s` (typed values, a list of failures per row
//! and whether they reject it, filled while the files are read: see [`Checker`]; rows
//! rejected as abnormal or dropped as duplicates are deleted from it), `_clean_s` (the
//! rows to load, in file order). Shared across sources: `_rejects`, `_warnings`, `_anomalies` and
//! `_duplicates`, appended per source, copied to the run log at the end.

pub mod anomaly;
pub mod expr;

use crate::config::{
    Case, ColumnConfig, ColumnType, Format, LoadMode, ResolvedSource, RuleKind, Severity,
    SourceConfig,
};
use crate::error::{Error, Result};
use crate::sql::{ident, literal, literal_list};
use crate::warehouse::{load, Warehouse, META_SCHEMA};

/// Counts of one source's rows through the clean stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CleanStats {
    /// Rows set aside in rejects: with at least one failed rule, or rejected by an
    /// outlier rule.
    pub rejected: i64,
    /// Rows identical to an earlier row (every declared column, after cleaning).
    pub exact_duplicates: i64,
    /// Older versions of a key replaced by a later one.
    pub superseded: i64,
    /// Rows with an abnormal value listed in `anomalies` (flagged and loaded, or
    /// rejected).
    pub anomalous: i64,
    /// Rows left to load (deletion markers included).
    pub clean: i64,
}

/// Name of the temp table of rows ready to load.
pub fn clean_table(source: &str) -> String {
    ident(&format!("_clean_{source}"))
}

/// Where a source's current keys come from, for other sources' `references`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The warehouse table (the source was not read this run).
    Table,
    /// This run's clean rows (the table is rebuilt from them).
    Clean,
    /// Both (rows merged into or appended to the table).
    Both,
}

fn keys_view(source: &str) -> String {
    ident(&format!("_keys_{source}"))
}

/// Exposes the rows a source will hold after loading as the temp view `_keys_<name>`,
/// which `references` checks of later sources join against. Deletion markers
/// (`delete_when`) are not rows of the table, and a key they delete leaves it: a
/// reference to it is not found. (The markers left in the clean rows are each the
/// latest version of their key: an older one was dropped as superseded.)
pub fn expose_keys(
    wh: &Warehouse,
    source: &crate::config::SourceConfig,
    from: KeySource,
) -> Result<()> {
    let cols: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
    let cols = cols.join(", ");
    let table = crate::sql::qualified("main", &source.name);
    let clean = clean_table(&source.name);
    let marker = crate::warehouse::load::deletion_marker(source);
    let live = marker
        .as_ref()
        .map(|m| format!(" WHERE NOT {m}"))
        .unwrap_or_default();
    let body = match from {
        KeySource::Table => format!("SELECT {cols} FROM {table}"),
        KeySource::Clean => format!("SELECT {cols} FROM {clean}{live}"),
        KeySource::Both => {
            let kept = match &marker {
                Some(m) if !source.key.is_empty() => {
                    let key: Vec<String> = source.key.iter().map(|k| ident(k)).collect();
                    format!(
                        "SELECT {cols} FROM {table} ANTI JOIN (SELECT {key} FROM {clean} WHERE {m}) d
                         USING ({key})",
                        key = key.join(", ")
                    )
                }
                _ => format!("SELECT {cols} FROM {table}"),
            };
            format!("{kept} UNION ALL SELECT {cols} FROM {clean}{live}")
        }
    };
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP VIEW {} AS {body}",
        keys_view(&source.name)
    ))
}

/// Creates the shared `_rejects`, `_warnings` and `_duplicates` temp tables for a run.
pub fn prepare(wh: &Warehouse) -> Result<()> {
    wh.exec(
        "CREATE OR REPLACE TEMP TABLE _rejects (run_id BIGINT, source VARCHAR, file VARCHAR,
             line BIGINT, column_name VARCHAR, rule VARCHAR, value VARCHAR, message VARCHAR,
             raw_text VARCHAR);
         CREATE OR REPLACE TEMP TABLE _warnings AS SELECT * FROM _rejects LIMIT 0;
         CREATE OR REPLACE TEMP TABLE _duplicates (run_id BIGINT, source VARCHAR, file VARCHAR,
             line BIGINT, kind VARCHAR, kept_file VARCHAR, kept_line BIGINT);",
    )
}

/// `trim(v)`, called only when `v` starts or ends with a space: `trim` copies every
/// string, and most values have nothing to trim. The test is written with `LIKE`, which
/// DuckDB ran faster than `starts_with`/`ends_with` (10M rows of 10 columns: the checks
/// about 0.5 s less).
fn trimmed(v: &str) -> String {
    format!("CASE WHEN {v} LIKE ' %' OR {v} LIKE '% ' THEN trim({v}) ELSE {v} END")
}

/// The SQL expression for a column's text after the declared normalisations: trim,
/// blank as NULL, value aliases (ignoring case), stripped characters and parentheses
/// for negatives (numbers).
fn normalized_text(c: &ColumnConfig, raw: &str) -> String {
    let mut v = if c.trim {
        format!("NULLIF({}, '')", trimmed(raw))
    } else {
        format!("NULLIF({raw}, '')")
    };
    if !c.values.is_empty() {
        let arms: Vec<String> = c
            .values
            .iter()
            .map(|(from, to)| {
                format!(
                    "WHEN {} THEN {}",
                    literal(&from.trim().to_lowercase()),
                    literal(to)
                )
            })
            .collect();
        v = format!("(CASE lower({v}) {} ELSE {v} END)", arms.join(" "));
    }
    if let Some(chars) = &c.strip {
        for ch in chars.chars() {
            v = format!("replace({v}, {}, '')", literal(&ch.to_string()));
        }
        v = format!("NULLIF({}, '')", trimmed(&v));
    }
    if c.parentheses_negative {
        v = format!("(CASE WHEN {v} LIKE '(%)' THEN '-' || trim(substr({v}, 2, length({v}) - 2)) ELSE {v} END)");
    }
    if let Some(d) = &c.default {
        v = format!("coalesce({v}, {})", literal(d));
    }
    v
}

/// The SQL expression turning raw text `v` (already trimmed and blank-as-NULL) into the
/// column's type; NULL when it does not convert.
pub(crate) fn typed_expr(c: &ColumnConfig, v: &str) -> String {
    match c.ty {
        ColumnType::String => match c.case {
            Some(Case::Upper) => format!("upper({v})"),
            Some(Case::Lower) => format!("lower({v})"),
            None => v.to_string(),
        },
        // TRY_CAST('12.5' AS BIGINT) rounds to 13: only whole numbers convert.
        ColumnType::Integer => {
            format!(
                "CASE WHEN regexp_full_match({v}, '[+-]?[0-9]+') THEN TRY_CAST({v} AS BIGINT) END"
            )
        }
        ColumnType::Decimal(p, s) => format!("TRY_CAST({v} AS DECIMAL({p},{s}))"),
        ColumnType::Boolean => format!("TRY_CAST({v} AS BOOLEAN)"),
        ColumnType::Date if c.formats.is_empty() => format!("TRY_CAST({v} AS DATE)"),
        ColumnType::Date => {
            let parse = format!(
                "CAST(TRY_STRPTIME({v}, {}) AS DATE)",
                literal_list(c.formats.iter().map(String::as_str))
            );
            if c.formats[0] == "%Y-%m-%d" {
                // ISO dates (most rows) take the fast cast; it agrees with the pattern on
                // text of this shape, and anything else goes through the patterns.
                format!(
                    "CASE WHEN {v} LIKE '____-__-__' THEN TRY_CAST({v} AS DATE) ELSE {parse} END"
                )
            } else {
                parse
            }
        }
        ColumnType::Timestamp if c.formats.is_empty() => format!("TRY_CAST({v} AS TIMESTAMP)"),
        ColumnType::Timestamp => {
            format!(
                "TRY_STRPTIME({v}, {})",
                literal_list(c.formats.iter().map(String::as_str))
            )
        }
    }
}

/// The number of decimals the number written as `v` really has (`[+-]digits[.digits]`
/// with an optional exponent, as DuckDB's DECIMAL cast reads it), counted on the text so
/// nothing is rounded first: the significant digits after the point (trailing zeros
/// excepted) minus the exponent; with none after the point, minus the integer part's
/// trailing zeros too (`100e-2` is 1, no decimals). Zero or less for a whole number.
fn decimals_sql(v: &str) -> String {
    format!(
        "(CASE WHEN regexp_matches({v}, '\\.[0-9]*[1-9]')
               THEN length(regexp_extract({v}, '\\.([0-9]*[1-9])', 1))
               ELSE -length(regexp_extract({v}, '^[+-]?[0-9]*?(0*)(\\.[0-9]*)?([eE].*)?$', 1)) END
          - coalesce(TRY_CAST(regexp_extract({v}, '[eE]([+-]?[0-9]+)$', 1) AS BIGINT), 0))"
    )
}

fn type_message(c: &ColumnConfig) -> String {
    match c.ty {
        ColumnType::Date | ColumnType::Timestamp if !c.formats.is_empty() => {
            format!(
                "not a {} in any of the formats {}",
                c.ty,
                c.formats.join(", ")
            )
        }
        _ => format!("not a valid {}", c.ty),
    }
}

/// The rules of one column judged on its normalised text `v` and typed value `t`, in the
/// order they are reported: `(rule, failure condition, message)`. `references` needs a
/// join and is added by [`clean`].
pub(crate) fn column_rules(
    c: &ColumnConfig,
    key: bool,
    v: &str,
    t: &str,
) -> Vec<(RuleKind, String, String)> {
    let mut out = Vec::new();
    if c.required || key {
        out.push((
            RuleKind::Required,
            format!("{v} IS NULL"),
            "a value is required".to_string(),
        ));
    }
    if c.ty != ColumnType::String {
        let cond = format!("{v} IS NOT NULL AND {t} IS NULL");
        out.push((RuleKind::Type, cond, type_message(c)));
    }
    if let ColumnType::Decimal(_, scale) = c.ty {
        // TRY_CAST('12.345' AS DECIMAL(18,2)) rounds to 12.35: more decimals than the
        // declared scale is a reject, not a silent rounding, however many there are.
        // The count runs only on text that could carry more decimals: more than `scale`
        // characters after the point, or an exponent.
        let cond = format!(
            "{t} IS NOT NULL AND ((strpos({v}, '.') > 0 AND length({v}) - strpos({v}, '.') > {scale}) \
             OR contains(lower({v}), 'e')) AND {} > {scale}",
            decimals_sql(v)
        );
        out.push((
            RuleKind::Scale,
            cond,
            format!("has more than {scale} decimals"),
        ));
    }
    if let Some(min) = c.min {
        let msg = format!("must be at least {min}");
        out.push((RuleKind::Min, format!("{t} < {min}"), msg));
    }
    if let Some(max) = c.max {
        let msg = format!("must be at most {max}");
        out.push((RuleKind::Max, format!("{t} > {max}"), msg));
    }
    if let Some(p) = &c.pattern {
        // Strings are matched as loaded (after case); other types on their text.
        let x = if c.ty == ColumnType::String { t } else { v };
        out.push((
            RuleKind::Pattern,
            format!(
                "{x} IS NOT NULL AND NOT regexp_full_match({x}, {})",
                literal(p)
            ),
            format!("does not match the pattern {p}"),
        ));
    }
    if let Some(values) = &c.allowed {
        let typed: Vec<String> = values.iter().map(|a| typed_expr(c, &literal(a))).collect();
        let mut shown: Vec<&str> = values.iter().take(10).map(String::as_str).collect();
        if values.len() > 10 {
            shown.push("...");
        }
        out.push((
            RuleKind::Allowed,
            format!("{t} IS NOT NULL AND {t} NOT IN ({})", typed.join(", ")),
            format!("not one of the allowed values: {}", shown.join(", ")),
        ));
    }
    out
}

/// A SQL query over no table giving, for the literal `value` of column `c` used as its
/// normalised text, the messages of the column's rules it fails (besides `required`),
/// as `rule: message` in a list. Checks a `default` at config time with the very
/// conditions of the clean stage.
pub(crate) fn literal_failures_sql(c: &ColumnConfig, value: &str) -> String {
    let checks: Vec<String> = column_rules(c, false, "_n", "_t")
        .into_iter()
        .filter(|(k, _, _)| *k != RuleKind::Required)
        .map(|(k, cond, msg)| {
            format!(
                "CASE WHEN {cond} THEN {} END",
                literal(&format!("{}: {msg}", k.as_str()))
            )
        })
        .collect();
    if checks.is_empty() {
        return "SELECT []::VARCHAR[]".to_string();
    }
    format!(
        "SELECT list_filter([{}], lambda x: x IS NOT NULL)
         FROM (SELECT _n, {} AS _t FROM (SELECT {} AS _n))",
        checks.join(", "),
        typed_expr(c, "_n"),
        literal(value)
    )
}

/// `***` in place of a value (NULL stays NULL), for PII columns.
pub(crate) fn masked(value: &str) -> String {
    format!("CASE WHEN {value} IS NULL THEN NULL ELSE '***' END")
}

/// The field delimiter of a source's text (`,` for formats without one).
fn delimiter(cfg: &SourceConfig) -> String {
    match cfg.csv.as_ref().and_then(|c| c.delimiter) {
        Some(d) => d.to_string(),
        None if cfg.format == Format::Tsv => "\t".into(),
        None => ",".into(),
    }
}

/// The record as delivered, for `raw_text`: the reader's raw text (`given`), else the
/// fields (`field(column)`) joined by the delimiter. With `mask`, a source with PII
/// columns has its record rebuilt from the fields with those as `***` (a JSON object for
/// JSON sources), and a record the reader could not split (`parse_error`) is `***`.
pub(crate) fn raw_text_sql(
    cfg: &SourceConfig,
    given: &str,
    parse_error: &str,
    field: &dyn Fn(&ColumnConfig) -> String,
    mask: bool,
) -> String {
    let delim = literal(&delimiter(cfg));
    let joined = |f: &dyn Fn(&ColumnConfig) -> String| {
        cfg.columns
            .iter()
            .map(|c| format!("coalesce({}, '')", f(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !mask || cfg.pii_columns().next().is_none() {
        return format!("coalesce({given}, concat_ws({delim}, {}))", joined(field));
    }
    let safe = |c: &ColumnConfig| {
        if c.pii {
            masked(&field(c))
        } else {
            field(c)
        }
    };
    let rebuilt = if matches!(cfg.format, Format::Json | Format::Ndjson) {
        let pairs: Vec<String> = cfg
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{}, {}",
                    literal(c.from.as_deref().unwrap_or(&c.name)),
                    safe(c)
                )
            })
            .collect();
        format!("CAST(json_object({}) AS VARCHAR)", pairs.join(", "))
    } else {
        format!("concat_ws({delim}, {})", joined(&safe))
    };
    format!(
        "CASE WHEN {parse_error} IS NOT NULL THEN {} ELSE {rebuilt} END",
        masked(given)
    )
}

/// The failure checks of one source: each a condition over the typed row and the struct
/// it yields. With severities (a source with `warn` rules) every struct also carries
/// `severity`.
struct Failures {
    severity: bool,
    checks: Vec<(String, String)>,
}

impl Failures {
    fn push(
        &mut self,
        cond: &str,
        column: Option<&str>,
        rule: &str,
        value: &str,
        message: &str,
        severity: Severity,
    ) {
        let col = column.map_or_else(|| "NULL::VARCHAR".to_string(), literal);
        let sev = if self.severity {
            format!(", 'severity': {}", literal(severity.as_str()))
        } else {
            String::new()
        };
        let check = format!(
            "CASE WHEN {cond} THEN {{'column_name': {col}, 'rule': {rule}, 'value': {value}, \
             'message': {msg}{sev}}} END",
            rule = literal(rule),
            msg = literal(message),
        );
        self.checks.push((cond.to_string(), check));
    }
}

/// The typing and checking of one source's raw rows into `_checked_<name>`: one
/// statement generated from the source spec, run over any relation shaped like the raw
/// table (`_file`, `_line`, `_parse_error`, `_raw_text`, one VARCHAR column per declared
/// column). The CSV reader runs it straight over `read_csv` (one pass from the file's
/// text to the checked rows); other readers fill the raw table first.
///
/// The generated statement has three layers so each expression is computed once per
/// row: `n` (raw text normalised: trimmed, aliased, stripped, defaulted), `t` (typed
/// values), then the list of failed rules per row, joined with the referenced sources'
/// keys. Each row gets `_rejected`: with `warn` rules, each failure has a `severity` and
/// a row is rejected by a reject-severity failure; otherwise by any failure.
///
/// `_checked_<name>` keeps only what the later steps need: position, typed values, the
/// failed rules (`_errors`, NULL for a row that fails none: most rows, and NULL costs
/// less to build and scan than an empty list) and, for rejected rows only, the raw text.
#[derive(Debug, Clone)]
pub struct Checker {
    /// The checked table (quoted).
    pub checked: String,
    /// The statement before and after the raw relation.
    head: String,
    tail: String,
    /// Whether the CSV reader may check straight from `read_csv`: not when a rule needs
    /// the raw table after the clean stage (an outlier rule that rejects reads the raw
    /// text of the rows it rejects from it).
    pub fused: bool,
    /// Whether the statement keeps its input's order (no join with referenced keys), so
    /// the rows it appends are in file order and their row ids number them.
    pub keeps_order: bool,
}

impl Checker {
    /// Builds the checking statement of `source`. With `mask_pii`, values of PII
    /// columns are masked in the failures' `value` and `raw_text`.
    pub fn new(wh: &Warehouse, source: &ResolvedSource, mask_pii: bool) -> Result<Checker> {
        let cfg = &source.config;
        let checked = ident(&format!("_checked_{}", cfg.name));
        let severities = cfg.has_warnings();
        let mask = |c: &ColumnConfig, value: String| {
            if mask_pii && c.pii {
                masked(&value)
            } else {
                value
            }
        };

        let mut norm_cols = Vec::new();
        let mut typed_cols = Vec::new();
        let mut fails = Failures {
            severity: severities,
            checks: Vec::new(),
        };
        let mut joins = Vec::new();
        for (i, c) in cfg.columns.iter().enumerate() {
            let raw_col = ident(&format!("_raw_{}", c.name));
            let norm_col = ident(&format!("_n_{}", c.name));
            norm_cols.push(format!(
                "r.{name} AS {raw_col}, {n} AS {norm_col}",
                name = ident(&c.name),
                n = normalized_text(c, &format!("r.{}", ident(&c.name)))
            ));
            let name = ident(&c.name);
            typed_cols.push(format!(
                "{} AS {name}",
                typed_expr(c, &format!("n.{norm_col}"))
            ));
            let (r, v, t) = (
                mask(c, format!("t.{raw_col}")),
                format!("t.{norm_col}"),
                format!("t.{name}"),
            );
            let key = cfg.key.contains(&c.name);
            for (kind, cond, msg) in column_rules(c, key, &v, &t) {
                let sev = c.severity(kind);
                fails.push(&cond, Some(&c.name), kind.as_str(), &r, &msg, sev);
            }
            if let Some((src, col)) = c.references.as_deref().and_then(|x| x.split_once('.')) {
                let alias = format!("ref{i}");
                joins.push(format!(
                    "LEFT JOIN (SELECT DISTINCT {col} AS k FROM {tbl}) {alias} ON {alias}.k = {t}",
                    col = ident(col),
                    tbl = keys_view(src),
                ));
                let cond = format!("{t} IS NOT NULL AND {alias}.k IS NULL");
                fails.push(
                    &cond,
                    Some(&c.name),
                    "references",
                    &r,
                    &format!("not found in {src}.{col}"),
                    c.severity(RuleKind::References),
                );
            }
        }
        for rule in &cfg.rules {
            let check = expr::parse(&wh.conn, &rule.check, &cfg.columns, "t").map_err(|e| {
                Error::Run(format!(
                    "rule `{}` of source `{}`: `check` {}",
                    rule.name, cfg.name, e.message
                ))
            })?;
            // `name=value` of each column the rule reads.
            let parts: Vec<String> = check
                .columns
                .iter()
                .filter_map(|n| cfg.columns.iter().find(|c| &c.name == n))
                .map(|c| {
                    let typed = format!("CAST(t.{} AS VARCHAR)", ident(&c.name));
                    format!(
                        "{} || coalesce({}, 'NULL')",
                        literal(&format!("{}=", c.name)),
                        mask(c, typed)
                    )
                })
                .collect();
            let value = if parts.is_empty() {
                "NULL::VARCHAR".to_string()
            } else {
                format!("concat_ws(', ', {})", parts.join(", "))
            };
            let message = rule
                .message
                .clone()
                .unwrap_or_else(|| format!("check failed: {}", rule.check.trim()));
            fails.push(
                &format!("{} IS FALSE", check.sql),
                None,
                &rule.name,
                &value,
                &message,
                rule.severity,
            );
        }
        if fails.checks.is_empty() {
            // Gives the list its struct type when a source declares no rule at all.
            fails.push("false", Some(""), "", "NULL::VARCHAR", "", Severity::Reject);
        }
        let checks = fails.checks;
        let raw_text = raw_text_sql(
            cfg,
            "t._given_raw_text",
            "t._parse_error",
            &|c| format!("t.{}", ident(&format!("_raw_{}", c.name))),
            mask_pii,
        );
        let (flag, parse_severity) = if severities {
            (
                ", coalesce(len(list_filter(_errors, lambda x: x.severity = 'reject')) > 0, false)
                 AS _rejected",
                ", 'severity': 'reject'",
            )
        } else {
            // Stored, not recomputed: every later stage filters on it, and a boolean
            // column scans much faster than the length of a list column.
            (", _errors IS NOT NULL AS _rejected", "")
        };
        let names: Vec<String> = cfg.columns.iter().map(|c| ident(&c.name)).collect();
        let sql = format!(
            "WITH n AS (
                 SELECT r._file, r._line, r._parse_error, r._raw_text AS _given_raw_text, {norm}
                 FROM {RELATION} r
             ), t AS (
                 SELECT n.*, {typed} FROM n
             ), e AS (
                 SELECT t.*,
                     CASE WHEN t._parse_error IS NOT NULL
                          THEN [{{'column_name': NULL::VARCHAR, 'rule': 'parse', 'value': NULL::VARCHAR,
                                  'message': t._parse_error{parse_severity}}}]
                          WHEN {any}
                          THEN list_filter([{checks}], lambda x: x IS NOT NULL)
                          END AS _errors
                 FROM t {joins}
             )
             SELECT _file, _line, {names}, _errors,
                    CASE WHEN len(_errors) > 0 THEN {raw_text} END AS _raw_text{flag}
             FROM e t",
            norm = norm_cols.join(", "),
            typed = typed_cols.join(", "),
            any = checks
                .iter()
                .map(|(c, _)| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" OR "),
            checks = checks
                .iter()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            joins = joins.join(" "),
            names = names.join(", "),
        );
        let (head, tail) = sql.split_once(RELATION).unwrap_or((&sql, ""));
        let fused = !cfg
            .anomalies
            .iter()
            .any(|a| a.action == crate::config::AnomalyAction::Reject);
        Ok(Checker {
            checked,
            head: head.to_string(),
            tail: tail.to_string(),
            fused,
            keeps_order: joins.is_empty(),
        })
    }

    /// The checking query over `relation` (a table name or a parenthesised query).
    fn query(&self, relation: &str) -> String {
        format!("{}{relation}{}", self.head, self.tail)
    }

    /// Creates the empty checked table; `raw` is the (empty) raw table.
    pub fn create(&self, wh: &Warehouse, raw: &str) -> Result<()> {
        wh.exec(&format!(
            "CREATE OR REPLACE TEMP TABLE {} AS {} LIMIT 0",
            self.checked,
            self.query(raw)
        ))
    }

    /// The statement appending the checked rows of `relation`, to run with the
    /// relation's parameters.
    pub fn insert_sql(&self, relation: &str) -> String {
        format!("INSERT INTO {} {}", self.checked, self.query(relation))
    }

    /// Appends the checked rows of the raw table `raw`.
    pub fn insert_from(&self, wh: &Warehouse, raw: &str) -> Result<()> {
        wh.exec(&self.insert_sql(raw))
    }
}

/// Placeholder of the raw relation in the checking statement.
const RELATION: &str = "\u{1}RELATION\u{1}";

/// The conditions on `_checked_<name>` rows of a source: (set aside by a rule, kept,
/// kept over the alias `c`).
fn row_conditions() -> (&'static str, &'static str, &'static str) {
    ("_rejected", "NOT _rejected", "NOT c._rejected")
}

/// Appends to `_rejects`, `_warnings`, `_anomalies` and `_duplicates` the rows of
/// `_checked_<name>` (filled by the extract stage through the source's [`Checker`]) that
/// fail a rule, are abnormal or are dropped, and leaves the rows to load in the view
/// `_clean_<name>`. In order:
/// 1. rows failing a rule go to `_rejects`;
/// 2. the outlier rules judge the valid rows (see [`anomaly`]); those they reject leave
///    `_checked_<name>`, so, as for any other rule, an older valid version of their key
///    is the one loaded;
/// 3. exact duplicates, then older versions of a key, are dropped;
/// 4. with `merge` (rows merged into or appended to an existing table), a row identical
///    to a row of the table is dropped as an exact duplicate (as it would be were all the
///    files read together), and for an incremental source a row older than the version
///    of its key already in the table, or than its deletion (a tombstone, see
///    [`crate::warehouse::load`]), is dropped as superseded (the load would keep the
///    table's row, or the key deleted), so neither is counted as loaded;
/// 5. the warnings and flagged anomalies of the rows kept are what remains listed.
///
/// With `mask_pii`, values of PII columns are masked in what is listed.
pub fn clean(
    wh: &Warehouse,
    source: &ResolvedSource,
    run_id: i64,
    mask_pii: bool,
    merge: bool,
) -> Result<CleanStats> {
    let cfg = &source.config;
    let checked = ident(&format!("_checked_{}", cfg.name));
    let clean = clean_table(&cfg.name);
    let severities = cfg.has_warnings();
    // Rows set aside, and rows kept (possibly with warnings).
    let (rejected, kept, kept_c) = row_conditions();
    let names: Vec<String> = cfg.columns.iter().map(|c| ident(&c.name)).collect();
    wh.conn
        .execute(
            &format!(
                "INSERT INTO _rejects
                 SELECT ?, ?, _file, _line, e.column_name, e.rule, e.value, e.message, _raw_text
                 FROM (SELECT _file, _line, _raw_text, unnest(_errors) AS e FROM {checked}
                       WHERE {rejected})
                 ORDER BY _file, _line"
            ),
            duckdb::params![run_id, cfg.name],
        )
        .map_err(|e| Error::db(format!("collecting rejects of `{}`", cfg.name), e))?;

    // Outlier rules, before dedupe: a rejected row must not take an older valid version
    // of its key down with it.
    let an = anomaly::detect(wh, cfg, &checked, kept_c, run_id, mask_pii)?;

    // Dedupe the valid rows: exact duplicates (the same value in every declared column
    // after cleaning), then the latest version of each key. Only rows that share a key
    // (or, without a key, every value) with another row can be dropped; an aggregate
    // finds those few and the windows rank only them.
    let key: Vec<String> = cfg.key.iter().map(|k| ident(k)).collect();
    let all = names.join(", ");
    let c_all = names
        .iter()
        .map(|n| format!("c.{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let candidates = if key.is_empty() {
        format!(
            "SELECT c._file, c._line, {c_all} FROM {checked} c
             SEMI JOIN (SELECT hash({all}) AS _h FROM {checked} WHERE {kept}
                        GROUP BY ALL HAVING count(*) > 1) d ON hash({c_all}) = d._h
             WHERE {kept_c}"
        )
    } else {
        // Grouping on one hash of the key is much cheaper than on the key itself; a
        // collision only adds a candidate, which the windows then keep.
        let c_key: Vec<String> = key.iter().map(|k| format!("c.{k}")).collect();
        format!(
            "SELECT c._file, c._line, {c_all} FROM {checked} c
             SEMI JOIN (SELECT hash({key}) AS _kh FROM {checked} WHERE {kept}
                        GROUP BY ALL HAVING count(*) > 1) d ON hash({c_key}) = d._kh
             WHERE {kept_c}",
            key = key.join(", "),
            c_key = c_key.join(", "),
        )
    };
    let exact_part = all.clone();
    let (key_rank, kept_file, kept_line) = if cfg.key.is_empty() {
        ("1".to_string(), "NULL".to_string(), "NULL".to_string())
    } else {
        let latest = cfg
            .latest_by
            .as_ref()
            .map(|l| format!("{} DESC NULLS LAST, ", ident(l)))
            .unwrap_or_default();
        // A version is as recent as its last copy: line 2 = A, 3 = B, 4 = A again loads
        // A (kept at line 2, its first copy), not B.
        let w = format!(
            "OVER (PARTITION BY {} ORDER BY {latest}_last_file DESC, _last_line DESC)",
            key.join(", ")
        );
        (
            format!("row_number() {w}"),
            format!("first_value(_file) {w}"),
            format!("first_value(_line) {w}"),
        )
    };
    // `_ranked_<name>` keeps only the dropped rows; the clean rows are the valid rows
    // without them (an anti-join against a small table).
    let ranked = ident(&format!("_ranked_{}", cfg.name));
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE {ranked} AS
         WITH v AS ({candidates}), e AS (
             SELECT *,
                 row_number() OVER (PARTITION BY {exact_part} ORDER BY _file, _line) AS _exact_rn,
                 first_value(_file) OVER (PARTITION BY {exact_part} ORDER BY _file, _line) AS _exact_file,
                 first_value(_line) OVER (PARTITION BY {exact_part} ORDER BY _file, _line) AS _exact_line,
                 last_value(_file) OVER (PARTITION BY {exact_part} ORDER BY _file, _line
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS _last_file,
                 last_value(_line) OVER (PARTITION BY {exact_part} ORDER BY _file, _line
                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS _last_line
             FROM v
         ), d AS (
             SELECT _file, _line, _exact_rn, _exact_file, _exact_line,
                    {key_rank} AS _key_rn, {kept_file} AS _kept_file, {kept_line} AS _kept_line
             FROM e WHERE _exact_rn = 1
         )
         SELECT _file, _line, _exact_rn, _exact_file, _exact_line, NULL::BIGINT AS _key_rn,
                NULL::VARCHAR AS _kept_file, NULL::BIGINT AS _kept_line
         FROM e WHERE _exact_rn > 1
         UNION ALL BY NAME
         SELECT * FROM d WHERE _key_rn > 1"
    ))?;
    wh.conn
        .execute(
            &format!(
                "INSERT INTO _duplicates
                 SELECT ?, ?, _file, _line,
                        CASE WHEN _exact_rn > 1 THEN 'exact' ELSE 'superseded' END,
                        CASE WHEN _exact_rn > 1 THEN _exact_file ELSE _kept_file END,
                        CASE WHEN _exact_rn > 1 THEN _exact_line ELSE _kept_line END
                 FROM {ranked} WHERE _exact_rn > 1 OR _key_rn > 1
                 ORDER BY _file, _line"
            ),
            duckdb::params![run_id, cfg.name],
        )
        .map_err(|e| Error::db(format!("recording duplicates of `{}`", cfg.name), e))?;
    // The dropped rows are deleted from `_checked` (a delete only marks them), which
    // keeps the load a plain scan instead of a join over every row.
    wh.exec(&format!(
        "DELETE FROM {checked} c USING {ranked} r WHERE c._file = r._file AND c._line = r._line"
    ))?;
    let copies = if merge {
        drop_loaded_copies(wh, cfg, run_id)?
    } else {
        0
    };
    let stale = if merge && cfg.load == LoadMode::Incremental {
        supersede_loaded(wh, cfg, run_id)?
    } else {
        0
    };
    if !cfg.anomalies.is_empty() {
        // Like warnings, flagged values are listed for the rows that load only.
        let mut dropped = vec![ranked.clone()];
        if merge {
            dropped.push(copies_table(&cfg.name));
        }
        if merge && cfg.load == LoadMode::Incremental {
            dropped.push(stale_table(&cfg.name));
        }
        for dropped in dropped {
            wh.conn
                .execute(
                    &format!(
                        "DELETE FROM _anomalies a USING {dropped} r
                         WHERE a.source = ? AND a.file = r._file AND a.line = r._line"
                    ),
                    [&cfg.name],
                )
                .map_err(|e| Error::db(format!("listing the anomalies of `{}`", cfg.name), e))?;
        }
    }
    if severities {
        // The warnings of the rows kept: not rejected, not dropped as duplicates.
        wh.conn
            .execute(
                &format!(
                    "INSERT INTO _warnings
                     SELECT ?, ?, _file, _line, e.column_name, e.rule, e.value, e.message,
                            _raw_text
                     FROM (SELECT c._file, c._line, c._raw_text, unnest(c._errors) AS e
                           FROM {checked} c WHERE {kept_c} AND len(c._errors) > 0)
                     ORDER BY _file, _line"
                ),
                duckdb::params![run_id, cfg.name],
            )
            .map_err(|e| Error::db(format!("collecting warnings of `{}`", cfg.name), e))?;
    }
    // The rows to load: a view, so the valid rows are read once, by the load.
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP VIEW {clean} AS
         SELECT _file, _line, {all} FROM {checked} WHERE {kept}"
    ))?;
    let count = |sql: String| -> Result<i64> {
        wh.conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| Error::db(format!("counting `{}`", cfg.name), e))
    };
    // Counted after the dropped rows were deleted: what is left is rejected or clean.
    let (total, rejected) = wh
        .conn
        .query_row(
            &format!("SELECT count(*), count(*) FILTER (WHERE {rejected}) FROM {checked}"),
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )
        .map_err(|e| Error::db(format!("counting `{}`", cfg.name), e))?;
    let exact_duplicates = count(format!("SELECT count(*) FROM {ranked} WHERE _exact_rn > 1"))?;
    let superseded = count(format!(
        "SELECT count(*) FROM {ranked} WHERE _exact_rn = 1 AND _key_rn > 1"
    ))?;
    let anomalous = if cfg.anomalies.is_empty() {
        0
    } else {
        wh.conn
            .query_row(
                "SELECT count(DISTINCT (file, line)) FROM _anomalies WHERE source = ?",
                [&cfg.name],
                |r| r.get(0),
            )
            .map_err(|e| Error::db(format!("counting the anomalies of `{}`", cfg.name), e))?
    };
    let stats = CleanStats {
        rejected: rejected + an.rejected,
        exact_duplicates: exact_duplicates + copies,
        superseded: superseded + stale,
        anomalous,
        clean: total - rejected,
    };
    Ok(stats)
}

fn stale_table(source: &str) -> String {
    ident(&format!("_stale_{source}"))
}

fn copies_table(source: &str) -> String {
    ident(&format!("_copies_{source}"))
}

/// Drops, as exact duplicates, the rows of `_checked_<name>` identical (every declared
/// column, NULLs equal) to a row already in the warehouse table: a row sent again in a
/// later file. Reading all the files together would drop it the same way, so an append
/// table holds the same rows whatever runs its files came in. Their `kept_file` and
/// `kept_line` are NULL (the kept row was read by an earlier run). They are listed in
/// `_copies_<name>`; returns their number.
fn drop_loaded_copies(wh: &Warehouse, cfg: &SourceConfig, run_id: i64) -> Result<i64> {
    let copies = copies_table(&cfg.name);
    create_set_aside(wh, &copies)?;
    if cfg.columns.is_empty() || !wh.table_exists(&cfg.name)? {
        return Ok(0);
    }
    let checked = ident(&format!("_checked_{}", cfg.name));
    let (_, _, kept_c) = row_conditions();
    let on: Vec<String> = cfg
        .columns
        .iter()
        .map(|c| {
            let c = ident(&c.name);
            format!("c.{c} IS NOT DISTINCT FROM t.{c}")
        })
        .collect();
    wh.exec(&format!(
        "INSERT INTO {copies}
         SELECT c._file, c._line, NULL, NULL FROM {checked} c
         SEMI JOIN {table} t ON {on}
         WHERE {kept_c}",
        table = crate::sql::qualified("main", &cfg.name),
        on = on.join(" AND "),
    ))?;
    set_aside(wh, cfg, run_id, &copies, "exact")
}

/// Drops, as superseded, the rows of `_checked_<name>` older than the version of their
/// key already in the warehouse table, which the incremental load keeps (see
/// [`crate::warehouse::load`]: the latest by `latest_by`, NULLs last, the table's row
/// losing ties), or older than its deletion (a tombstone). Their `kept_file` and
/// `kept_line` are the deletion marker's, NULL for a table row (the kept version was
/// read by an earlier run). They are listed in `_stale_<name>`; returns their number.
/// Nothing is dropped without `latest_by` (the newer load always wins).
fn supersede_loaded(wh: &Warehouse, cfg: &SourceConfig, run_id: i64) -> Result<i64> {
    let stale = stale_table(&cfg.name);
    create_set_aside(wh, &stale)?;
    let Some(latest) = cfg.latest_by.as_deref().map(ident) else {
        return Ok(0);
    };
    if cfg.key.is_empty() || !wh.table_exists(&cfg.name)? {
        return Ok(0);
    }
    let checked = ident(&format!("_checked_{}", cfg.name));
    let (_, _, kept_c) = row_conditions();
    let key: Vec<String> = cfg.key.iter().map(|k| ident(k)).collect();
    let keys = key.join(", ");
    let on: Vec<String> = key.iter().map(|k| format!("c.{k} = t.{k}")).collect();
    let mut versions = format!(
        "SELECT {keys}, max({latest}) AS _latest, NULL::VARCHAR AS _kept_file,
                NULL::BIGINT AS _kept_line
         FROM {} GROUP BY {keys}",
        crate::sql::qualified("main", &cfg.name)
    );
    let tombs = load::tombstone_table(&cfg.name);
    if load::keeps_tombstones(cfg) && wh.table_exists_in(META_SCHEMA, &tombs)? {
        // A key is in the table or deleted, never both.
        versions.push_str(&format!(
            " UNION ALL SELECT {keys}, {latest}, _file, _line FROM {}",
            crate::sql::qualified(META_SCHEMA, &tombs)
        ));
    }
    wh.exec(&format!(
        "INSERT INTO {stale}
         SELECT c._file, c._line, t._kept_file, t._kept_line FROM {checked} c
         JOIN ({versions}) t ON {on}
         WHERE {kept_c} AND t._latest IS NOT NULL
               AND (c.{latest} IS NULL OR c.{latest} < t._latest)",
        on = on.join(" AND "),
    ))?;
    set_aside(wh, cfg, run_id, &stale, "superseded")
}

/// Creates (empty) the temp table of rows set aside against the table, as read by
/// [`set_aside`].
fn create_set_aside(wh: &Warehouse, table: &str) -> Result<()> {
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE {table} (_file VARCHAR, _line BIGINT,
             _kept_file VARCHAR, _kept_line BIGINT)"
    ))
}

/// Lists the rows of `listed` (`_file`, `_line`, `_kept_file`, `_kept_line`) in
/// `_duplicates` as `kind` and deletes them from `_checked_<name>`; returns their number.
fn set_aside(
    wh: &Warehouse,
    cfg: &SourceConfig,
    run_id: i64,
    listed: &str,
    kind: &str,
) -> Result<i64> {
    wh.conn
        .execute(
            &format!(
                "INSERT INTO _duplicates
                 SELECT ?, ?, _file, _line, ?, _kept_file, _kept_line FROM {listed}
                 ORDER BY _file, _line"
            ),
            duckdb::params![run_id, cfg.name, kind],
        )
        .map_err(|e| Error::db(format!("recording duplicates of `{}`", cfg.name), e))?;
    let checked = ident(&format!("_checked_{}", cfg.name));
    wh.exec(&format!(
        "DELETE FROM {checked} c USING {listed} s WHERE c._file = s._file AND c._line = s._line"
    ))?;
    wh.count(listed)
}

/// Rows of `source` with warnings in this run (`_warnings`), after the outlier rules.
pub fn warned_rows(wh: &Warehouse, source: &str) -> Result<i64> {
    wh.conn
        .query_row(
            "SELECT count(*) FROM (SELECT DISTINCT file, line FROM _warnings WHERE source = ?)",
            [source],
            |r| r.get(0),
        )
        .map_err(|e| Error::db(format!("counting the warnings of `{source}`"), e))
}

/// Drops a source's clean-stage temp tables once its rows are loaded.
pub fn release(wh: &Warehouse, source: &str) -> Result<()> {
    wh.exec(&format!(
        "DROP VIEW IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};
         DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}",
        clean_table(source),
        stale_table(source),
        copies_table(source),
        ident(&format!("_anomaly_rejects_{source}")),
        ident(&format!("_ranked_{source}")),
        ident(&format!("_checked_{source}")),
    ))
}
