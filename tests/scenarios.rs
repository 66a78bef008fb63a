//! Fixture scenarios: one folder each under `tests/fixtures/scenarios/`, holding a
//! pipeline, its data and the expected outcome beside it:
//! - `expected/rejects.csv`: `file,line,column,rule` of every reject, sorted;
//! - `expected/duplicates.csv`: `file,line,kind,kept_file,kept_line` (absent: none);
//! - `expected/<table>.csv`: the loaded table; the header is the select list (a column
//!   or an expression such as `length(note)`), rows sorted, NULL written `NULL`.
//!
//! Each scenario runs the real binary in a temp copy of its folder.

use std::path::Path;

use crate::common::*;

fn csv_lines(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn run_scenario(name: &str) {
    let src = repo().join("tests/fixtures/scenarios").join(name);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&src, dir.path());
    std::fs::create_dir_all(dir.path().join("models")).unwrap();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    let root = format!("{}/", dir.path().to_string_lossy());
    let rel = |col: &str| format!("replace({col}, '{root}', '')");

    let expected = csv_lines(&src.join("expected/rejects.csv"));
    let got = rows(
        &db,
        &format!(
            "SELECT DISTINCT {}, line::VARCHAR, column_name, rule FROM salespipe.rejects
             ORDER BY ALL",
            rel("file")
        ),
    );
    assert_eq!(got, expected[1..].to_vec(), "{name}: rejects");

    // No `duplicates.csv`: nothing may be dropped as a duplicate.
    let dups = src.join("expected/duplicates.csv");
    let expected_dups = if dups.exists() {
        csv_lines(&dups)[1..].to_vec()
    } else {
        Vec::new()
    };
    let got = rows(
        &db,
        &format!(
            "SELECT {}, line::VARCHAR, kind, {}, kept_line::VARCHAR FROM salespipe.duplicates
             ORDER BY ALL",
            rel("file"),
            rel("kept_file")
        ),
    );
    assert_eq!(got, expected_dups, "{name}: duplicates");

    for e in std::fs::read_dir(src.join("expected")).unwrap() {
        let path = e.unwrap().path();
        let table = path.file_stem().unwrap().to_string_lossy().into_owned();
        if table == "rejects" || table == "duplicates" {
            continue;
        }
        let lines = csv_lines(&path);
        let cols = &lines[0];
        let select: Vec<String> = cols.iter().map(|c| format!("({c})::VARCHAR")).collect();
        let got = rows(
            &db,
            &format!(
                "SELECT {} FROM main.\"{table}\" ORDER BY {}",
                select.join(", "),
                cols.join(", ")
            ),
        );
        assert_eq!(got, lines[1..].to_vec(), "{name}: table {table}");
    }
}

/// Blank key parts are rejects (`required`), never merged: the composite key
/// (order_id, line_no) with either part blank, or only spaces.
#[test]
fn null_keys() {
    run_scenario("null_keys");
}

/// A 200,001-character quoted field spanning two lines loads whole, and the records
/// after it keep their physical lines.
#[test]
fn long_field() {
    run_scenario("long_field");
}

/// Boolean, timestamp and date with declared formats, stripped currency and thousands
/// separators, parentheses negatives, value aliases and case, a `+` sign.
#[test]
fn types() {
    run_scenario("types");
}

/// Two files of one source: exact copies and re-exported rows (a later `updated_at`
/// wins whatever the file order; the same amount written `30.0` is an exact copy).
#[test]
fn reexported() {
    run_scenario("reexported");
}

/// `references`: a value not among the referenced source's keys is a reject, after the
/// case normalisation of both sides; a blank value is not checked.
#[test]
fn unknown_references() {
    run_scenario("unknown_references");
}

/// A key whose first value comes back after a newer one: the version with the latest
/// copy wins (A at 10.00, B at 5.00), each copy dropped as exact, the others superseded.
#[test]
fn copy_after_newer() {
    run_scenario("copy_after_newer");
}

/// Regression: the scale check compared against DECIMAL(38,12), so digits past the 12th
/// decimal were rounded away silently (`1.0000000000001` into decimal(18,2) loaded as
/// 1.00). Any value with more significant decimals than the scale is a `scale` reject,
/// written plainly or with an exponent; trailing zeros and exponents that leave no extra
/// decimals load.
#[test]
fn decimal_scale() {
    run_scenario("decimal_scale");
}
