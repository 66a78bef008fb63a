//! Abnormal values (`anomalies:` rules): robust z-scores and IQR fences worked out by
//! hand on a small extract, groups too small to judge, `action: reject`, anomalies kept
//! when a run fails, and configuration errors with their locations. The committed
//! sample's planted outliers are checked in `sample.rs`.
//!
//! data/lines.csv (header = line 1):
//! ```text
//!  2 id 1   A qty 4   price 2.00
//!  3 id 2   A qty 5   price 0.10   (a quoted note with a newline: the record is lines 3-4)
//!  5 id 3   A qty 5   price 2.50
//!  6 id 4   A qty 6   price 2.50
//!  7 id 5   A qty 6   price 3.00
//!  8 id 6   A qty 7   price 3.00
//!  9 id 7   A qty 8   price 3.50
//! 10 id 8   A qty 40  price 4.00
//! 11 exact duplicate of line 6: dropped, not counted in the group
//! 12 id 9   A qty `abc`: rejected (type), not counted
//! 13 id 10  A qty and price blank: not judged, not counted
//! 14-16 ids 11-13 B qty 1, 1, 500, price 1.00, 1.00, 90.00: 3 values, below
//!       min_group_size 5, not judged
//! ```
//! Rule 1, `qty` robust_z (z 3.5) by sku. Group A, 8 values 4 5 5 6 6 7 8 40: median 6;
//! |x - 6| = 2 1 1 0 0 1 2 34, sorted 0 0 1 1 1 2 2 34, MAD 1, scale 1.4826. Line 10:
//! 34 / 1.4826 = 22.9327; bounds 6 -/+ 3.5 x 1.4826 = 0.8109 and 11.1891. Next largest
//! score: 2 / 1.4826 = 1.35, not abnormal.
//!
//! Rule 2, `price` iqr (k 1.5) by sku. Group A sorted 0.10 2.00 2.50 2.50 3.00 3.00 3.50
//! 4.00: median 2.75; Q1 at position 7 x 0.25 = 1.75: 2.00 + 0.75 x 0.50 = 2.375; Q3 at
//! 5.25: 3.00 + 0.25 x 0.50 = 3.125; IQR 0.75; fences 2.375 - 1.125 = 1.25 and 3.125 +
//! 1.125 = 4.25. Line 3 (0.10) is below: score (2.375 - 0.10) / 0.75 = 3.0333.

use std::path::Path;

use crate::common::*;

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const LINES: &str = "id,sku,qty,price,note
1,A,4,2.00,
2,A,5,0.10,\"two
lines\"
3,A,5,2.50,
4,A,6,2.50,
5,A,6,3.00,
6,A,7,3.00,
7,A,8,3.50,
8,A,40,4.00,
4,A,6,2.50,
9,A,abc,3.00,
10,A,,,
11,B,1,1.00,
12,B,1,1.00,
13,B,500,90.00,
";

/// The hand fixture with the two rules; `qty_action` is the first rule's action and
/// `extra` is appended to the source (e.g. `max_rejects`).
fn fixture(qty_action: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(d, "data/lines.csv", LINES);
    write(
        d,
        "pipeline.yaml",
        &format!(
            "version: 1
name: anomalies
as_of: 2026-01-31
warehouse: {{ database: out/w.duckdb, parquet_dir: out/parquet, reports_dir: out/reports }}
models: {{ path: models }}
sources:
  - name: lines
    path: data/lines.csv
    format: csv
    key: [id]
    columns:
      - {{ name: id, type: integer }}
      - {{ name: sku, type: string }}
      - {{ name: qty, type: integer }}
      - {{ name: price, type: \"decimal(10,2)\" }}
      - {{ name: note, type: string }}
    anomalies:
      - column: qty
        method: robust_z
        group_by: [sku]
        action: {qty_action}
      - column: price
        method: iqr
        group_by: [sku]
{extra}"
        ),
    );
    dir
}

/// Every anomaly: line, column, method, value, group, size, median, MAD or IQR, lower,
/// upper, score (4 decimals) and action.
fn anomalies(db: &duckdb::Connection) -> Vec<Vec<String>> {
    rows(
        db,
        "SELECT line::VARCHAR, column_name, method, value, group_key, group_size::VARCHAR,
                round(median, 4)::VARCHAR, round(mad_or_iqr, 4)::VARCHAR,
                round(lower, 4)::VARCHAR, round(upper, 4)::VARCHAR, round(score, 4)::VARCHAR,
                action
         FROM salespipe.anomalies ORDER BY line, column_name",
    )
}

fn expected(qty_action: &str) -> Vec<Vec<String>> {
    [
        [
            "3", "price", "iqr", "0.10", "sku=A", "8", "2.75", "0.75", "1.25", "4.25", "3.0333",
            "flag",
        ],
        [
            "10", "qty", "robust_z", "40", "sku=A", "8", "6.0", "1.0", "0.8109", "11.1891",
            "22.9327", qty_action,
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect()
}

#[test]
fn robust_z_and_iqr_flag_exactly_the_hand_computed_rows() {
    let dir = fixture("flag", "");
    let out = salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--summary-json", "summary.json"],
    );
    assert!(out.contains("anomalies"), "{out}");
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(anomalies(&db), expected("flag"));
    let file = scalar(&db, "SELECT DISTINCT file FROM salespipe.anomalies");
    assert!(file.ends_with("data/lines.csv"), "{file}");
    assert_eq!(
        scalar(
            &db,
            "SELECT DISTINCT run_id::VARCHAR FROM salespipe.anomalies"
        ),
        "1"
    );
    // Flagged, not dropped: both rows are loaded; group B (3 values) was not judged.
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, qty::VARCHAR, price::VARCHAR FROM lines
             WHERE id IN (2, 8, 13) ORDER BY id"
        ),
        vec![
            vec!["2", "5", "0.10"],
            vec!["8", "40", "4.00"],
            vec!["13", "500", "90.00"]
        ]
    );
    // 14 records = 1 rejected (type) + 1 exact duplicate + 12 loaded; 2 anomalous.
    assert_eq!(
        rows(
            &db,
            "SELECT rows_read::VARCHAR, rows_rejected::VARCHAR, rows_anomalous::VARCHAR,
                    rows_exact_duplicate::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources"
        ),
        vec![vec!["14", "1", "2", "1", "12"]]
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["sources"][0]["rows_anomalous"], 2);
    assert_eq!(summary["sources"][0]["rows_rejected"], 1);
    // Published for BI tools next to the rejects.
    assert!(dir
        .path()
        .join("out/parquet/anomalies/data.parquet")
        .is_file());
}

#[test]
fn reject_action_sets_the_row_aside_at_its_line_and_does_not_load_it() {
    let dir = fixture("reject", "");
    let out = salespipe_ok(dir.path(), &["run", "pipeline.yaml"]);
    // read, rejected, warned, anomalies, exact dup, superseded, deleted, loaded
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("lines "))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["lines", "1", "14", "2", "0", "2", "1", "0", "0", "11"],
        "{out}"
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    // Both rules judged the same clean rows; the rejected row is still listed.
    assert_eq!(anomalies(&db), expected("reject"));
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value, message, raw_text
             FROM salespipe.rejects ORDER BY line"
        ),
        vec![
            vec![
                "10",
                "qty",
                "anomaly",
                "40",
                "robust z-score 22.93 above 3.5: outside 0.81 to 11.19 (median 6.00, MAD 1.00, \
                 8 values in sku=A)",
                "8,A,40,4.00,",
            ],
            vec![
                "12",
                "qty",
                "type",
                "abc",
                "not a valid integer",
                "9,A,abc,3.00,"
            ],
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM lines WHERE id = 8"),
        "0"
    );
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM lines"), "11");
    // Line 3 was only flagged: loaded.
    assert_eq!(
        scalar(&db, "SELECT price::VARCHAR FROM lines WHERE id = 2"),
        "0.10"
    );
}

#[test]
fn anomalies_are_kept_when_the_run_fails() {
    // The anomaly reject and the type reject are 2 rejects, over `max_rejects: 1`.
    let dir = fixture("reject", "    max_rejects: 1\n");
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("source `lines`: 2 of 14 rows rejected")
            && err.contains("qty: anomaly (1)")
            && err.contains("qty: type (1)"),
        "{err}"
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT status FROM salespipe.run_log"),
        "failed"
    );
    assert_eq!(anomalies(&db), expected("reject"));
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM duckdb_tables() WHERE schema_name = 'main'"
        ),
        "0"
    );
}

/// Runs `validate` on the fixture with `from` replaced by `to` in the pipeline; returns
/// stderr and the edited text after asserting exit code 2.
fn validate_with(edits: &[(&str, &str)]) -> (String, String) {
    let dir = fixture("flag", "");
    let path = dir.path().join("pipeline.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must be unique");
        text = text.replace(from, to);
    }
    std::fs::write(&path, &text).unwrap();
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    (String::from_utf8_lossy(&out.stderr).into_owned(), text)
}

/// 1-based line and column of the first occurrence of `needle`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn unknown_method_is_located_and_suggests_the_closest() {
    let (err, text) = validate_with(&[("method: robust_z", "method: robust-z")]);
    let (line, col) = position(&text, "robust-z");
    let expected = format!(
        "pipeline.yaml:{line}:{col}: error[E001]: sources[0].anomalies[0].method: unknown \
         variant `robust-z`, expected `robust_z` or `iqr`; did you mean `robust_z`?"
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn anomaly_rule_errors_are_all_collected_with_locations() {
    let (err, text) = validate_with(&[
        ("column: qty", "column: note"),
        (
            "method: iqr\n        group_by: [sku]",
            "method: iqr\n        group_by: [skuu]\n        threshold: 0",
        ),
    ]);
    let (l1, c1) = position(&text, "column: note");
    let (l2, c2) = position(&text, "skuu");
    let (l3, c3) = position(&text, "threshold: 0");
    for expected in [
        format!(
            "pipeline.yaml:{l1}:{c1}: error[E020]: anomalies apply to numeric columns \
             (integer or decimal), not `note` (string)"
        ),
        format!(
            "pipeline.yaml:{l2}:{c2}: error[E020]: unknown column `skuu` in \
             `lines.anomalies.group_by`; did you mean `sku`?"
        ),
        format!("pipeline.yaml:{l3}:{c3}: error[E020]: `threshold: 0` must be a number above 0"),
    ] {
        assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
    }
    assert!(err.contains("3 configuration errors"), "{err}");
}

#[test]
fn unknown_anomaly_column_suggests_a_declared_one() {
    let (err, text) = validate_with(&[("column: price", "column: prices")]);
    let (line, col) = position(&text, "column: prices");
    let expected = format!(
        "pipeline.yaml:{line}:{col}: error[E020]: unknown column `prices` in \
         `lines.anomalies`; did you mean `price`?"
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

/// Regression: outlier rules judged the rows left after dedupe, so when the latest
/// version of a key was rejected as abnormal, the key lost its older valid version too
/// and nothing was loaded. Rejection by an outlier rule now happens before dedupe, like
/// every other rule: the older version loads, and an exact copy of the rejected row is
/// rejected too (every copy of an invalid row is a reject), counted once in the group.
///
/// data/lines.csv: ids 1..9 with qty 1..9 (lines 2-10), then id 5 again with qty 500
/// (line 11, the latest version of id 5) and an exact copy of it (line 12). The group:
/// 1..9 and 500, 10 values (the copy not counted): median 5.5; |x - 5.5| sorted
/// .5 .5 1.5 1.5 2.5 2.5 3.5 3.5 4.5 494.5, MAD 2.5, scale 3.7065; 500 scores
/// 494.5 / 3.7065 = 133.41, above 3.5; the next largest 4.5 / 3.7065 = 1.21.
#[test]
fn a_rejected_latest_version_leaves_the_older_one_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    let mut csv = String::from("id,qty\n");
    for i in 1..=9 {
        csv.push_str(&format!("{i},{i}\n"));
    }
    csv.push_str("5,500\n5,500\n");
    write(d, "data/lines.csv", &csv);
    write(
        d,
        "pipeline.yaml",
        "version: 1
name: anomalies
as_of: 2026-01-31
warehouse: { database: out/w.duckdb, parquet_dir: out/parquet, reports_dir: out/reports }
models: { path: models }
sources:
  - name: lines
    path: data/lines.csv
    format: csv
    key: [id]
    columns:
      - { name: id, type: integer }
      - { name: qty, type: integer }
    anomalies:
      - { column: qty, method: robust_z, action: reject }
",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT qty::VARCHAR FROM lines WHERE id = 5"),
        "5"
    );
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM lines"), "9");
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, rule, value, message FROM salespipe.rejects ORDER BY line"
        ),
        vec![
            vec![
                "11",
                "anomaly",
                "500",
                "robust z-score 133.41 above 3.5: outside -7.47 to 18.47 (median 5.50, \
                 MAD 2.50, 10 values in the source)"
            ],
            vec![
                "12",
                "anomaly",
                "500",
                "robust z-score 133.41 above 3.5: outside -7.47 to 18.47 (median 5.50, \
                 MAD 2.50, 10 values in the source)"
            ],
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM salespipe.duplicates"),
        "0"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT rows_read::VARCHAR, rows_rejected::VARCHAR, rows_anomalous::VARCHAR,
                    rows_exact_duplicate::VARCHAR, rows_superseded::VARCHAR,
                    rows_loaded::VARCHAR
             FROM salespipe.run_sources"
        ),
        vec![vec!["11", "2", "2", "0", "0", "9"]]
    );
}
