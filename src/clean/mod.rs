//! Clean: type every raw value, check the declared rules, set aside rejected rows with
//! the file, line, column, rule and raw text, then drop exact duplicates and keep the
//! latest version of each key. All of it is SQL generated from the source spec and run
//! by DuckDB over the whole raw table at once.
//!
//! Temp tables per source `s`: `_checked_s` (typed values and a list of failures per
//! row), `_clean_s` (the rows to load, in file order). Shared across sources:
//! `_rejects` and `_duplicates`, appended per source, copied to the run log at the end.

pub mod anomaly;

use crate::config::{Case, ColumnConfig, ColumnType, ResolvedSource};
use crate::error::{Error, Result};
use crate::extract::raw_table;
use crate::sql::{ident, literal, literal_list};
use crate::warehouse::Warehouse;

/// Counts of one source's rows through the clean stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CleanStats {
    /// Rows with at least one failed rule.
    pub rejected: i64,
    /// Rows identical to an earlier row (every declared column, after cleaning).
    pub exact_duplicates: i64,
    /// Older versions of a key replaced by a later one.
    pub superseded: i64,
    /// Rows left to load.
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
/// which `references` checks of later sources join against.
pub fn expose_keys(
    wh: &Warehouse,
    source: &crate::config::SourceConfig,
    from: KeySource,
) -> Result<()> {
    let cols: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
    let cols = cols.join(", ");
    let table = crate::sql::qualified("main", &source.name);
    let clean = clean_table(&source.name);
    let body = match from {
        KeySource::Table => format!("SELECT {cols} FROM {table}"),
        KeySource::Clean => format!("SELECT {cols} FROM {clean}"),
        KeySource::Both => {
            format!("SELECT {cols} FROM {table} UNION ALL SELECT {cols} FROM {clean}")
        }
    };
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP VIEW {} AS {body}",
        keys_view(&source.name)
    ))
}

/// Creates the shared `_rejects` and `_duplicates` temp tables for a run.
pub fn prepare(wh: &Warehouse) -> Result<()> {
    wh.exec(
        "CREATE OR REPLACE TEMP TABLE _rejects (run_id BIGINT, source VARCHAR, file VARCHAR,
             line BIGINT, column_name VARCHAR, rule VARCHAR, value VARCHAR, message VARCHAR,
             raw_text VARCHAR);
         CREATE OR REPLACE TEMP TABLE _duplicates (run_id BIGINT, source VARCHAR, file VARCHAR,
             line BIGINT, kind VARCHAR, kept_file VARCHAR, kept_line BIGINT);",
    )
}

/// `trim(v)`, called only when `v` starts or ends with a space: `trim` copies every
/// string, and most values have nothing to trim.
fn trimmed(v: &str) -> String {
    format!("CASE WHEN starts_with({v}, ' ') OR ends_with({v}, ' ') THEN trim({v}) ELSE {v} END")
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
    v
}

/// The SQL expression turning raw text `v` (already trimmed and blank-as-NULL) into the
/// column's type; NULL when it does not convert.
fn typed_expr(c: &ColumnConfig, v: &str) -> String {
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

/// One failure check: a condition over the typed row and the struct it yields.
fn failure(cond: &str, column: &str, rule: &str, value: &str, message: &str) -> (String, String) {
    let check = format!(
        "CASE WHEN {cond} THEN {{'column_name': {col}, 'rule': {rule}, 'value': {value}, \
         'message': {msg}}} END",
        col = literal(column),
        rule = literal(rule),
        msg = literal(message),
    );
    (cond.to_string(), check)
}

/// Types, checks and dedupes one source into `_clean_<name>`; appends to `_rejects`
/// and `_duplicates`.
///
/// The generated statement has three layers so each expression is computed once per
/// row: `n` (raw text normalised: trimmed, aliased, stripped), `t` (typed values),
/// then the list of failed rules per row, joined with the referenced sources' keys.
pub fn clean(wh: &Warehouse, source: &ResolvedSource, run_id: i64) -> Result<CleanStats> {
    let cfg = &source.config;
    let raw = raw_table(&cfg.name);
    let checked = ident(&format!("_checked_{}", cfg.name));
    let clean = clean_table(&cfg.name);
    let delim = match cfg.csv.as_ref().and_then(|c| c.delimiter) {
        Some(d) => d.to_string(),
        None if cfg.format == crate::config::Format::Tsv => "\t".into(),
        None => ",".into(),
    };

    let mut norm_cols = Vec::new();
    let mut typed_cols = Vec::new();
    let mut checks = Vec::new();
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
            format!("t.{raw_col}"),
            format!("t.{norm_col}"),
            format!("t.{name}"),
        );
        if c.required || cfg.key.contains(&c.name) {
            checks.push(failure(
                &format!("{v} IS NULL"),
                &c.name,
                "required",
                &r,
                "a value is required",
            ));
        }
        if c.ty != ColumnType::String {
            let cond = format!("{v} IS NOT NULL AND {t} IS NULL");
            checks.push(failure(&cond, &c.name, "type", &r, &type_message(c)));
        }
        if let ColumnType::Decimal(_, scale) = c.ty {
            // TRY_CAST('12.345' AS DECIMAL(18,2)) rounds to 12.35: more decimals than the
            // declared scale is a reject, not a silent rounding.
            // The exact comparison runs only on text that could carry more decimals: more
            // than `scale` characters after the point, or an exponent.
            let cond = format!(
                "{t} IS NOT NULL AND ((strpos({v}, '.') > 0 AND length({v}) - strpos({v}, '.') > {scale}) \
                 OR contains(lower({v}), 'e')) AND TRY_CAST({v} AS DECIMAL(38,12)) <> {t}"
            );
            checks.push(failure(
                &cond,
                &c.name,
                "scale",
                &r,
                &format!("has more than {scale} decimals"),
            ));
        }
        if let Some(min) = c.min {
            let msg = format!("must be at least {min}");
            checks.push(failure(&format!("{t} < {min}"), &c.name, "min", &r, &msg));
        }
        if let Some(max) = c.max {
            let msg = format!("must be at most {max}");
            checks.push(failure(&format!("{t} > {max}"), &c.name, "max", &r, &msg));
        }
        if let Some((src, col)) = c.references.as_deref().and_then(|x| x.split_once('.')) {
            let alias = format!("ref{i}");
            joins.push(format!(
                "LEFT JOIN (SELECT DISTINCT {col} AS k FROM {tbl}) {alias} ON {alias}.k = {t}",
                col = ident(col),
                tbl = keys_view(src),
            ));
            let cond = format!("{t} IS NOT NULL AND {alias}.k IS NULL");
            checks.push(failure(
                &cond,
                &c.name,
                "references",
                &r,
                &format!("not found in {src}.{col}"),
            ));
        }
    }
    if checks.is_empty() {
        // Gives the list its struct type when a source declares no rule at all.
        checks.push(failure("false", "", "", "NULL::VARCHAR", ""));
    }
    let raw_text = format!(
        "coalesce(t._given_raw_text, concat_ws({}, {}))",
        literal(&delim),
        cfg.columns
            .iter()
            .map(|c| format!("coalesce(t.{}, '')", ident(&format!("_raw_{}", c.name))))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let names: Vec<String> = cfg.columns.iter().map(|c| ident(&c.name)).collect();
    // `_checked_<name>` keeps only what the later steps need: position, typed values, the
    // failed rules and, for rejected rows only, the raw text. Raw and normalised text stay in the pipeline.
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE {checked} AS
         WITH n AS (
             SELECT r._file, r._line, r._parse_error, r._raw_text AS _given_raw_text, {norm}
             FROM {raw} r
         ), t AS (
             SELECT n.*, {typed} FROM n
         ), e AS (
             SELECT t.*,
                 CASE WHEN t._parse_error IS NOT NULL
                      THEN [{{'column_name': NULL::VARCHAR, 'rule': 'parse', 'value': NULL::VARCHAR,
                              'message': t._parse_error}}]
                      WHEN {any}
                      THEN list_filter([{checks}], lambda x: x IS NOT NULL)
                      ELSE [] END AS _errors
             FROM t {joins}
         )
         SELECT _file, _line, {names}, _errors,
                CASE WHEN len(_errors) > 0 THEN {raw_text} END AS _raw_text
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
    ))?;
    wh.conn
        .execute(
            &format!(
                "INSERT INTO _rejects
                 SELECT ?, ?, _file, _line, e.column_name, e.rule, e.value, e.message, _raw_text
                 FROM (SELECT _file, _line, _raw_text, unnest(_errors) AS e FROM {checked}
                       WHERE len(_errors) > 0)
                 ORDER BY _file, _line"
            ),
            duckdb::params![run_id, cfg.name],
        )
        .map_err(|e| Error::db(format!("collecting rejects of `{}`", cfg.name), e))?;

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
             SEMI JOIN (SELECT hash({all}) AS _h FROM {checked} WHERE len(_errors) = 0
                        GROUP BY ALL HAVING count(*) > 1) d ON hash({c_all}) = d._h
             WHERE len(c._errors) = 0"
        )
    } else {
        // Grouping on one hash of the key is much cheaper than on the key itself; a
        // collision only adds a candidate, which the windows then keep.
        let c_key: Vec<String> = key.iter().map(|k| format!("c.{k}")).collect();
        format!(
            "SELECT c._file, c._line, {c_all} FROM {checked} c
             SEMI JOIN (SELECT hash({key}) AS _kh FROM {checked} WHERE len(_errors) = 0
                        GROUP BY ALL HAVING count(*) > 1) d ON hash({c_key}) = d._kh
             WHERE len(c._errors) = 0",
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
        let w = format!(
            "OVER (PARTITION BY {} ORDER BY {latest}_file DESC, _line DESC)",
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
                 first_value(_line) OVER (PARTITION BY {exact_part} ORDER BY _file, _line) AS _exact_line
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
    // The rows to load: a view, so the valid rows are read once, by the load. The dropped
    // rows are deleted from `_checked` (a delete only marks them), which keeps the load a
    // plain scan instead of a join over every row.
    wh.exec(&format!(
        "DELETE FROM {checked} c USING {ranked} r WHERE c._file = r._file AND c._line = r._line;
         CREATE OR REPLACE TEMP VIEW {clean} AS
         SELECT _file, _line, {all} FROM {checked} WHERE len(_errors) = 0"
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
            &format!("SELECT count(*), count(*) FILTER (WHERE len(_errors) > 0) FROM {checked}"),
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )
        .map_err(|e| Error::db(format!("counting `{}`", cfg.name), e))?;
    let exact_duplicates = count(format!("SELECT count(*) FROM {ranked} WHERE _exact_rn > 1"))?;
    let superseded = count(format!(
        "SELECT count(*) FROM {ranked} WHERE _exact_rn = 1 AND _key_rn > 1"
    ))?;
    let stats = CleanStats {
        rejected,
        exact_duplicates,
        superseded,
        clean: total - rejected,
    };
    Ok(stats)
}

/// Drops a source's clean-stage temp tables once its rows are loaded.
pub fn release(wh: &Warehouse, source: &str) -> Result<()> {
    wh.exec(&format!(
        "DROP VIEW IF EXISTS {}; DROP VIEW IF EXISTS {}; DROP TABLE IF EXISTS {};
         DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {}",
        clean_table(source),
        ident(&format!("_clean_{source}_before_anomalies")),
        ident(&format!("_anomaly_rejects_{source}")),
        ident(&format!("_ranked_{source}")),
        ident(&format!("_checked_{source}")),
    ))
}
