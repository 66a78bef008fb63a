//! Abnormal values: a source's outlier rules (`anomalies:` in the pipeline), judged over
//! its valid rows of this run, after typing and rules and before dedupe and loading.
//!
//! Each rule is one generated DuckDB statement over the valid rows of `_checked_<source>`
//! less their exact copies (a row identical to an earlier one is judged and counted
//! once): per group (the rule's `group_by` values, NULL being a group of its own) it
//! computes the median and either the MAD (`robust_z`) or the quartiles (`iqr`) with
//! window aggregates, and keeps the rows whose value is abnormal:
//! - `robust_z`: score = |x - median| / scale, scale = 1.4826 x MAD, or 1.253314 x the
//!   mean absolute deviation from the median when the MAD is 0 (more than half the group
//!   shares one value); abnormal when score > threshold; a group whose values are all
//!   equal has nothing abnormal;
//! - `iqr`: abnormal below Q1 - k x IQR or above Q3 + k x IQR (k = threshold); score =
//!   the distance beyond the nearer quartile in IQRs (NULL when the IQR is 0, where any
//!   value other than the quartiles is outside the fences).
//!
//! Blank values are neither judged nor counted; groups with fewer than `min_group_size`
//! values are not judged. Every abnormal value, and each exact copy of its row, becomes a
//! row of the temp table `_anomalies` (copied to `salespipe.anomalies` with the run log,
//! whether the run succeeds or fails). With `action: reject` the row also goes to
//! `_rejects` (rule `anomaly`) and its `(_file, _line)` to `_anomaly_rejects_<source>`,
//! and it is deleted from `_checked_<source>`, like a row failing any other rule before
//! dedupe: an older valid version of its key is then the one loaded. The clean stage
//! removes the flags of rows it then drops as duplicates.

use duckdb::params;

use super::{masked, raw_text_sql};
use crate::config::{AnomalyAction, AnomalyConfig, AnomalyMethod, SourceConfig};
use crate::error::{DbContext, Result};
use crate::extract::raw_table;
use crate::sql::{ident, literal, qualified};
use crate::warehouse::{Warehouse, META_SCHEMA};

/// Counts of one source's abnormal values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnomalyStats {
    /// Rows set aside because a `reject` rule found them abnormal; deleted from
    /// `_checked_<source>`.
    pub rejected: i64,
}

/// Judges the valid rows of `source` (the rows of the checked table `checked` meeting
/// `kept_c`, over the alias `c`) against its outlier rules: appends abnormal values to
/// `_anomalies`, and for `reject` rules to `_rejects`, deleting those rows from `checked`
/// (their warnings, if any, go to `_rejects` too). With `mask_pii`, values of PII columns
/// are masked. Does nothing when the source has no rule.
pub fn detect(
    wh: &Warehouse,
    source: &SourceConfig,
    checked: &str,
    kept_c: &str,
    run_id: i64,
    mask_pii: bool,
) -> Result<AnomalyStats> {
    if source.anomalies.is_empty() {
        return Ok(AnomalyStats::default());
    }
    // The same columns as the table it is copied to.
    wh.exec(&format!(
        "CREATE TEMP TABLE IF NOT EXISTS _anomalies AS SELECT * FROM {} LIMIT 0",
        qualified(META_SCHEMA, "anomalies")
    ))?;
    let names: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
    let all = names.join(", ");
    let c_all: Vec<String> = names.iter().map(|n| format!("c.{n}")).collect();
    let c_all = c_all.join(", ");
    // The exact copies of earlier valid rows, with the first copy: found among the few
    // rows whose values hash alike, as in the dedupe.
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE _anomaly_copies AS
         WITH v AS (
             SELECT c._file, c._line, {c_all} FROM {checked} c
             SEMI JOIN (SELECT hash({c_all}) AS _h FROM {checked} c WHERE {kept_c}
                        GROUP BY ALL HAVING count(*) > 1) d ON hash({c_all}) = d._h
             WHERE {kept_c}
         ), r AS (
             SELECT _file, _line,
                    row_number() OVER w AS _rn,
                    first_value(_file) OVER w AS _first_file,
                    first_value(_line) OVER w AS _first_line
             FROM v WINDOW w AS (PARTITION BY {all} ORDER BY _file, _line)
         )
         SELECT _file, _line, _first_file, _first_line FROM r WHERE _rn > 1"
    ))?;
    let judged = format!(
        "(SELECT c._file, c._line, {c_all} FROM {checked} c
          ANTI JOIN _anomaly_copies d ON c._file = d._file AND c._line = d._line
          WHERE {kept_c})"
    );
    let rejects = ident(&format!("_anomaly_rejects_{}", source.name));
    let rejecting = source
        .anomalies
        .iter()
        .any(|a| a.action == AnomalyAction::Reject);
    if rejecting {
        wh.exec(&format!(
            "CREATE OR REPLACE TEMP TABLE {rejects} (_file VARCHAR, _line BIGINT)"
        ))?;
    }
    let context = |rule: &AnomalyConfig| {
        format!(
            "judging `{}.{}` ({})",
            source.name,
            rule.column,
            rule.method.as_str()
        )
    };
    for rule in &source.anomalies {
        wh.exec(&hits_sql(rule, source, &judged, mask_pii))?;
        // Each exact copy of an abnormal row is abnormal alike.
        wh.exec(
            "INSERT INTO _anomaly_hits
             SELECT d._file, d._line, h.* EXCLUDE (_file, _line)
             FROM _anomaly_hits h JOIN _anomaly_copies d
                  ON d._first_file = h._file AND d._first_line = h._line",
        )?;
        wh.conn
            .execute(
                "INSERT INTO _anomalies
                 SELECT ?, ?, _file, _line, ?, ?, value, group_key, group_size, median,
                        mad_or_iqr, lower, upper, score, ?
                 FROM _anomaly_hits ORDER BY _file, _line",
                params![
                    run_id,
                    source.name,
                    rule.column,
                    rule.method.as_str(),
                    rule.action.as_str()
                ],
            )
            .ctx(|| context(rule))?;
        if rule.action == AnomalyAction::Reject {
            wh.conn
                .execute(
                    &format!(
                        "INSERT INTO _rejects
                         SELECT ?, ?, h._file, h._line, ?, 'anomaly', h.value, {message}, {raw_text}
                         FROM _anomaly_hits h
                         LEFT JOIN {raw} r ON r._file = h._file AND r._line = h._line
                         ORDER BY h._file, h._line",
                        message = message_sql(
                            rule,
                            mask_pii
                                && source
                                    .columns
                                    .iter()
                                    .any(|c| c.name == rule.column && c.pii)
                        ),
                        raw_text = raw_text_sql(
                            source,
                            "r._raw_text",
                            "r._parse_error",
                            &|c| format!("r.{}", ident(&c.name)),
                            mask_pii,
                        ),
                        raw = raw_table(&source.name),
                    ),
                    params![run_id, source.name, rule.column],
                )
                .ctx(|| context(rule))?;
            wh.exec(&format!(
                "INSERT INTO {rejects} SELECT _file, _line FROM _anomaly_hits"
            ))?;
        }
    }
    wh.exec("DROP TABLE _anomaly_hits; DROP TABLE _anomaly_copies")?;
    if !rejecting {
        return Ok(AnomalyStats { rejected: 0 });
    }
    if source.has_warnings() {
        // A rejected row lists all its failures in rejects: its warnings too.
        wh.conn
            .execute(
                &format!(
                    "INSERT INTO _rejects
                     SELECT ?, ?, _file, _line, e.column_name, e.rule, e.value, e.message,
                            _raw_text
                     FROM (SELECT c._file, c._line, c._raw_text, unnest(c._errors) AS e
                           FROM {checked} c
                           SEMI JOIN (SELECT DISTINCT _file, _line FROM {rejects}) a
                                ON c._file = a._file AND c._line = a._line)
                     ORDER BY _file, _line"
                ),
                params![run_id, source.name],
            )
            .ctx(|| format!("listing the warnings of rejected rows of `{}`", source.name))?;
    }
    let rejected = wh.count(&format!("(SELECT DISTINCT _file, _line FROM {rejects})"))?;
    wh.exec(&format!(
        "DELETE FROM {checked} c USING {rejects} a WHERE c._file = a._file AND c._line = a._line"
    ))?;
    Ok(AnomalyStats { rejected })
}

/// A finite `f64` as a DuckDB DOUBLE literal (`{:?}` keeps the exponent of tiny values).
fn double(x: f64) -> String {
    format!("CAST({x:?} AS DOUBLE)")
}

/// The statement filling `_anomaly_hits` with the abnormal rows of one rule: `_file`,
/// `_line`, `value` (the typed value as text), `group_key`, `group_size`, `median`,
/// `mad_or_iqr`, `lower`, `upper` (the accepted range) and `score`.
fn hits_sql(rule: &AnomalyConfig, source: &SourceConfig, rows: &str, mask_pii: bool) -> String {
    let col = ident(&rule.column);
    let pii = |name: &str| mask_pii && source.columns.iter().any(|c| c.name == name && c.pii);
    let t = double(rule.threshold());
    let min = rule.min_group_size;
    let group_cols: String = rule
        .group_by
        .iter()
        .enumerate()
        .map(|(i, g)| format!(", c.{} AS _g{i}", ident(g)))
        .collect();
    let window = if rule.group_by.is_empty() {
        "WINDOW w AS ()".to_string()
    } else {
        let parts: Vec<String> = (0..rule.group_by.len()).map(|i| format!("_g{i}")).collect();
        format!("WINDOW w AS (PARTITION BY {})", parts.join(", "))
    };
    let group_key = if rule.group_by.is_empty() {
        "NULL::VARCHAR".to_string()
    } else {
        let parts: Vec<String> = rule
            .group_by
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let v = format!("_g{i}::VARCHAR");
                let v = if pii(g) { masked(&v) } else { v };
                format!("{} || coalesce({v}, 'NULL')", literal(&format!("{g}=")))
            })
            .collect();
        format!("concat_ws(', ', {})", parts.join(", "))
    };
    // The score of a masked value is left out too: with the median and the scale it
    // gives the value back.
    let hidden = pii(&rule.column);
    let value = format!("c.{col}::VARCHAR");
    let value = if hidden { masked(&value) } else { value };
    let values = format!(
        "v AS (
             SELECT c._file, c._line, {value} AS _value, c.{col}::DOUBLE AS _x{group_cols}
             FROM {rows} c WHERE c.{col} IS NOT NULL
         )"
    );
    let select = format!(
        "SELECT _file, _line, _value AS value, {group_key} AS group_key, _n AS group_size,
                _median AS median"
    );
    match rule.method {
        AnomalyMethod::RobustZ => format!(
            "CREATE OR REPLACE TEMP TABLE _anomaly_hits AS
             WITH {values}, m AS (
                 SELECT *, count(*) OVER w AS _n, median(_x) OVER w AS _median FROM v {window}
             ), d AS (
                 SELECT *, abs(_x - _median) AS _dev FROM m WHERE _n >= {min}
             ), s AS (
                 SELECT *, median(_dev) OVER w AS _mad, avg(_dev) OVER w AS _mean_dev
                 FROM d {window}
             ), z AS (
                 SELECT *, CASE WHEN _mad > 0 THEN 1.4826 * _mad ELSE 1.253314 * _mean_dev END
                        AS _scale
                 FROM s
             )
             {select}, _mad AS mad_or_iqr, _median - {t} * _scale AS lower,
                    _median + {t} * _scale AS upper, {z_score} AS score
             FROM z WHERE _scale > 0 AND _dev / _scale > {t}",
            z_score = if hidden {
                "NULL::DOUBLE"
            } else {
                "_dev / _scale"
            }
        ),
        AnomalyMethod::Iqr => format!(
            "CREATE OR REPLACE TEMP TABLE _anomaly_hits AS
             WITH {values}, m AS (
                 SELECT *, count(*) OVER w AS _n, median(_x) OVER w AS _median,
                        quantile_cont(_x, 0.25) OVER w AS _q1, quantile_cont(_x, 0.75) OVER w AS _q3
                 FROM v {window}
             ), z AS (
                 SELECT *, _q3 - _q1 AS _iqr, _q1 - {t} * (_q3 - _q1) AS _lower,
                        _q3 + {t} * (_q3 - _q1) AS _upper
                 FROM m WHERE _n >= {min}
             )
             {select}, _iqr AS mad_or_iqr, _lower AS lower, _upper AS upper,
                    {iqr_score} AS score
             FROM z WHERE _x < _lower OR _x > _upper",
            iqr_score = if hidden {
                "NULL::DOUBLE"
            } else {
                "CASE WHEN _iqr > 0 THEN greatest(_q1 - _x, _x - _q3) / _iqr END"
            }
        ),
    }
}

/// The `rejects.message` of a rejected abnormal value (over `_anomaly_hits h`): the
/// score, the accepted range and the group's statistics.
fn message_sql(rule: &AnomalyConfig, hidden: bool) -> String {
    let t = rule.threshold();
    let group = "coalesce(h.group_key, 'the source')";
    match rule.method {
        // A masked value's score is not given (see `hits_sql`).
        AnomalyMethod::RobustZ if hidden => format!(
            "printf({}, h.lower, h.upper, h.median, h.mad_or_iqr, h.group_size, {group})",
            literal(&format!(
                "robust z-score above {t}: outside %.2f to %.2f (median %.2f, MAD %.2f, \
                 %d values in %s)"
            ))
        ),
        AnomalyMethod::Iqr if hidden => format!(
            "printf({}, h.lower, h.upper, h.median, h.mad_or_iqr, h.group_size, {group})",
            literal(&format!(
                "outside %.2f to %.2f (k {t}; median %.2f, IQR %.2f, %d values in %s)"
            ))
        ),
        AnomalyMethod::RobustZ => format!(
            "printf({}, h.score, h.lower, h.upper, h.median, h.mad_or_iqr, h.group_size, {group})",
            literal(&format!(
                "robust z-score %.2f above {t}: outside %.2f to %.2f (median %.2f, MAD %.2f, \
                 %d values in %s)"
            ))
        ),
        AnomalyMethod::Iqr => format!(
            "printf({}, h.lower, h.upper,
                    coalesce(printf('%.2f IQR beyond the quartiles', h.score),
                             'the quartiles are equal'),
                    h.median, h.mad_or_iqr, h.group_size, {group})",
            literal(&format!(
                "outside %.2f to %.2f, %s (k {t}; median %.2f, IQR %.2f, %d values in %s)"
            ))
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::yaml;

    fn warehouse() -> Warehouse {
        let wh = Warehouse::in_memory().unwrap();
        wh.ensure_meta().unwrap();
        wh
    }

    fn source(rules: &[&str]) -> SourceConfig {
        let mut text = SOURCE.to_string();
        if !rules.is_empty() {
            text.push_str("anomalies:\n");
            for r in rules {
                text.push_str(&format!("  - {r}\n"));
            }
        }
        yaml::parse(&text, std::path::Path::new("test.yaml")).unwrap()
    }

    const SOURCE: &str = "
name: lines
path: lines.csv
format: csv
columns:
  - { name: sku, type: string }
  - { name: qty, type: integer }
";

    /// `_raw_lines` and the checked table `_checked_lines` holding `rows`
    /// `(line, sku, qty)` of file `f.csv`, every row valid, plus an empty `_rejects`.
    fn setup(wh: &Warehouse, rows: &[(i64, &str, Option<i64>)]) {
        super::super::prepare(wh).unwrap();
        wh.exec(
            "CREATE TEMP TABLE _raw_lines (_file VARCHAR, _line BIGINT, _parse_error VARCHAR,
                 _raw_text VARCHAR, sku VARCHAR, qty VARCHAR)",
        )
        .unwrap();
        for (line, sku, qty) in rows {
            wh.conn
                .execute(
                    "INSERT INTO _raw_lines VALUES ('f.csv', ?, NULL, NULL, ?, ?::VARCHAR)",
                    params![line, sku, qty],
                )
                .unwrap();
        }
        wh.exec(
            "CREATE TEMP TABLE _checked_lines AS
             SELECT _file, _line, sku, qty::BIGINT AS qty FROM _raw_lines",
        )
        .unwrap();
    }

    /// Judges every row of `_checked_lines` against the rules of `s`.
    fn judge(wh: &Warehouse, s: &SourceConfig) -> Result<AnomalyStats> {
        detect(wh, s, "_checked_lines", "true", 7, false)
    }

    /// Values 1..=9 plus 40 at line 11 and a blank at line 12, all in group A.
    fn rows() -> Vec<(i64, &'static str, Option<i64>)> {
        let mut rows: Vec<(i64, &str, Option<i64>)> =
            (1..=9).map(|i| (i + 1, "A", Some(i))).collect();
        rows.push((11, "A", Some(40)));
        rows.push((12, "A", None));
        rows
    }

    #[test]
    fn a_masked_values_score_is_not_given() {
        // qty as personal data: the value is masked and its score, which with the median
        // and the scale would give 40 back, is left out of the table and the message.
        let wh = warehouse();
        setup(&wh, &rows());
        let s = source(&["{ column: qty, method: robust_z, action: reject }"]);
        let mut s = s;
        s.columns[1].pii = true;
        detect(&wh, &s, "_checked_lines", "true", 7, true).unwrap();
        let (value, score, median): (String, Option<f64>, f64) = wh
            .conn
            .query_row("SELECT value, score, median FROM _anomalies", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((value.as_str(), score, median), ("***", None, 5.5));
        let message: String = wh
            .conn
            .query_row("SELECT message FROM _rejects", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            message,
            "robust z-score above 3.5: outside -7.47 to 18.47 (median 5.50, MAD 2.50, 10 values \
             in the source)"
        );
    }

    #[test]
    fn robust_z_by_hand() {
        // Values 1..9 and 40: median 5.5; |x - 5.5| = 4.5 3.5 2.5 1.5 .5 .5 1.5 2.5 3.5 34.5,
        // sorted .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 34.5, MAD 2.5, scale 3.7065;
        // 40: 34.5 / 3.7065 = 9.3079..., above 3.5; 1 and 9: 4.5 / 3.7065 = 1.21, not.
        let wh = warehouse();
        setup(&wh, &rows());
        let s = source(&["{ column: qty, method: robust_z }"]);
        assert_eq!(judge(&wh, &s).unwrap(), AnomalyStats { rejected: 0 });
        assert_eq!(wh.count("_anomalies").unwrap(), 1);
        let (line, value, n, median, mad, score): (i64, String, i64, f64, f64, f64) = wh
            .conn
            .query_row(
                "SELECT line, value, group_size, median, mad_or_iqr, score FROM _anomalies",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!((line, value.as_str(), n), (11, "40", 10));
        assert_eq!((median, mad), (5.5, 2.5));
        assert!((score - 34.5 / (1.4826 * 2.5)).abs() < 1e-9, "{score}");
        assert_eq!(wh.count("_checked_lines").unwrap(), 11);
    }

    #[test]
    fn reject_deletes_the_row_from_the_checked_table() {
        let wh = warehouse();
        setup(&wh, &rows());
        let s = source(&["{ column: qty, method: robust_z, group_by: [sku], action: reject }"]);
        let st = judge(&wh, &s).unwrap();
        assert_eq!(st.rejected, 1);
        assert_eq!(wh.count("_checked_lines").unwrap(), 10);
        assert_eq!(
            wh.count("(SELECT * FROM _checked_lines WHERE _line = 11)")
                .unwrap(),
            0
        );
        let (rule, message, raw): (String, String, String) = wh
            .conn
            .query_row("SELECT rule, message, raw_text FROM _rejects", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(rule, "anomaly");
        assert_eq!(
            message,
            "robust z-score 9.31 above 3.5: outside -7.47 to 18.47 (median 5.50, MAD 2.50, \
             10 values in sku=A)"
        );
        assert_eq!(raw, "A,40");
    }

    #[test]
    fn iqr_reject_states_the_fences() {
        let wh = warehouse();
        setup(&wh, &rows());
        let s = source(&["{ column: qty, method: iqr, threshold: 3, action: reject }"]);
        // Q1 3.25, Q3 7.75, IQR 4.5: fences -10.25 and 21.25; 40 is outside by
        // (40 - 7.75) / 4.5 = 7.17 IQR.
        assert_eq!(judge(&wh, &s).unwrap().rejected, 1);
        assert_eq!(wh.count("_checked_lines").unwrap(), 10);
        let message: String = wh
            .conn
            .query_row("SELECT message FROM _rejects WHERE line = 11", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            message,
            "outside -10.25 to 21.25, 7.17 IQR beyond the quartiles (k 3; median 5.50, \
             IQR 4.50, 10 values in the source)"
        );
    }

    #[test]
    fn constant_groups_and_small_groups_are_not_judged() {
        let wh = warehouse();
        let mut rows: Vec<(i64, &str, Option<i64>)> = (2..=7).map(|l| (l, "A", Some(3))).collect();
        rows.extend([(8, "B", Some(1)), (9, "B", Some(1000))]);
        setup(&wh, &rows);
        let s = source(&["{ column: qty, method: robust_z, group_by: [sku], min_group_size: 2 }"]);
        // B: median 500.5, |x - m| = 499.5 both, MAD 499.5, score 0.67: nothing abnormal.
        judge(&wh, &s).unwrap();
        assert_eq!(wh.count("_anomalies").unwrap(), 0);
    }

    #[test]
    fn mad_of_zero_falls_back_to_the_mean_absolute_deviation() {
        // 1 x 7 and 50: median 1, MAD 0; mean |x - 1| = 49 / 8 = 6.125,
        // scale 1.253314 x 6.125 = 7.6765..., score 49 / 7.6765 = 6.383. The rows differ
        // by sku (one group: no group_by), so none is an exact copy counted once.
        let wh = warehouse();
        let skus = ["A", "B", "C", "D", "E", "F", "G"];
        let mut rows: Vec<(i64, &str, Option<i64>)> = (2..=8)
            .map(|l| (l, skus[l as usize - 2], Some(1)))
            .collect();
        rows.push((9, "H", Some(50)));
        setup(&wh, &rows);
        let s = source(&["{ column: qty, method: robust_z }"]);
        judge(&wh, &s).unwrap();
        assert_eq!(wh.count("_anomalies").unwrap(), 1);
        let score: f64 = wh
            .conn
            .query_row("SELECT score FROM _anomalies WHERE line = 9", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!((score - 49.0 / (1.253314 * 6.125)).abs() < 1e-9, "{score}");
    }

    #[test]
    fn an_exact_copy_counts_once_and_is_judged_like_its_first() {
        // The rows of `robust_z_by_hand` plus a copy of line 11 at line 13: the group
        // still has 10 values (same statistics) and both 40s are rejected.
        let wh = warehouse();
        let mut rows = rows();
        rows.push((13, "A", Some(40)));
        setup(&wh, &rows);
        let s = source(&["{ column: qty, method: robust_z, action: reject }"]);
        assert_eq!(judge(&wh, &s).unwrap().rejected, 2);
        assert_eq!(
            wh.count("(SELECT * FROM _anomalies WHERE group_size = 10 AND line IN (11, 13))")
                .unwrap(),
            2
        );
        assert_eq!(wh.count("_checked_lines").unwrap(), 10);
    }

    #[test]
    fn no_rule_touches_nothing() {
        let wh = warehouse();
        let s = source(&[]);
        assert_eq!(judge(&wh, &s).unwrap(), AnomalyStats::default());
        assert!(!wh.temp_exists("_anomalies").unwrap());
    }
}
