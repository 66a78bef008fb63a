//! Ingestion: every reader (CSV/TSV with quoted newlines and blank lines, BOM, GBK,
//! NDJSON, JSON, Parquet, XLSX), value normalisation, exact reject lines, the manifest
//! (idempotent re-runs), incremental and append loads, the run lock, and encoding
//! errors. Fixture files are written by the test itself.

use std::path::Path;

use crate::common::*;

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Writes `data/ragged.csv`, runs the pipeline expecting exit 1, and returns stderr
/// without its trailing newline.
fn ragged_run_fails(dir: &Path, contents: impl AsRef<[u8]>) -> String {
    write(dir, "data/ragged.csv", contents);
    let out = salespipe(dir, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).trim_end().to_string()
}

const PIPELINE_HEAD: &str = "version: 1
name: ingest
as_of: 2026-01-31
warehouse: { database: out/w.duckdb, parquet_dir: out/parquet, reports_dir: out/reports }
models: { path: models }
sources:
";

fn formats_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    // TSV: line 3-4 is one record (quoted newline), line 5 is blank, line 6 has a bad
    // amount, line 7 uses thousands separators and a currency symbol, line 8 parentheses.
    write(
        d,
        "data/items.tsv",
        "id\tname\tamount\n1\tplain\t10.50\n2\t\"two\nlines\"\t20\n\n3\tbad\t12,5x\n4\tbig\t$1,234.50\n5\tneg\t(7.25)\n",
    );
    // UTF-8 with BOM; region aliases.
    write(
        d,
        "data/regions.csv",
        "\u{feff}code,region\nA, N. \nB,north\nC,South\n",
    );
    // GBK with Chinese region names mapped to English.
    let (gbk, _, bad) = encoding_rs::GBK.encode("code,region\nX,華北\nY,華南\nZ,未知\n");
    assert!(!bad);
    write(d, "data/regions_gbk.csv", gbk);
    // NDJSON (no header): line 1 ok, line 2 blank, line 3 malformed, line 4 missing
    // `qty`, line 5 ok with `qty` as a string.
    write(
        d,
        "data/events.ndjson",
        "{\"id\": 1, \"qty\": 3}\n\n{\"id\": 2, \"qty\": \n{\"id\": 3}\n{\"id\": 4, \"qty\": \"7\"}\n",
    );
    write(
        d,
        "data/array.json",
        "[{\"id\": 1, \"qty\": 2}, {\"id\": 2, \"qty\": -1}]",
    );
    // Parquet written by DuckDB.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM (VALUES (1, DATE '2026-01-02', 5.25::DECIMAL(10,2)), (2, NULL, 1.00))
               t(id, day, price)) TO '{}' (FORMAT parquet)",
        d.join("data/prices.parquet").display()
    ))
    .unwrap();
    // XLSX: a title in row 1, header in row 2, data from row 3; row 4 has a bad date.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Invoices").unwrap();
    sheet.write(0, 0, "Invoices export").unwrap();
    for (c, h) in ["invoice_id", "invoice_date", "amount"].iter().enumerate() {
        sheet.write(1, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 15).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    sheet.write(2, 0, "INV-1").unwrap();
    sheet.write_datetime_with_format(2, 1, &date, &fmt).unwrap();
    sheet.write(2, 2, 1250.5).unwrap();
    sheet.write(3, 0, "INV-2").unwrap();
    sheet.write(3, 1, "not a date").unwrap();
    sheet.write(3, 2, 99).unwrap();
    book.save(d.join("data/invoices.xlsx")).unwrap();

    let sources = "
  - name: items
    path: data/items.tsv
    format: tsv
    key: [id]
    columns:
      - { name: id, type: integer }
      - { name: name, type: string }
      - { name: amount, type: \"decimal(12,2)\", strip: \"$,\", parentheses_negative: true }
  - name: regions
    path: data/regions.csv
    format: csv
    key: [code]
    columns:
      - { name: code, type: string }
      - name: region
        type: string
        values: { \"N.\": North, north: North }
  - name: regions_cn
    path: data/regions_gbk.csv
    format: csv
    encoding: gbk
    key: [code]
    columns:
      - { name: code, type: string }
      - { name: region, type: string, values: { 華北: North, 華南: South } }
  - name: events
    path: data/events.ndjson
    format: ndjson
    key: [id]
    columns:
      - { name: id, type: integer }
      - { name: qty, type: integer, required: true }
  - name: array
    path: data/array.json
    format: json
    columns:
      - { name: id, type: integer }
      - { name: qty, type: integer, min: 0 }
  - name: prices
    path: data/prices.parquet
    format: parquet
    columns:
      - { name: id, type: integer }
      - { name: day, type: date, required: true }
      - { name: price, type: \"decimal(10,2)\" }
  - name: invoices
    path: data/invoices.xlsx
    format: xlsx
    xlsx: { sheet: Invoices, header_row: 2 }
    columns:
      - { name: invoice_id, type: string }
      - { name: invoice_date, type: date }
      - { name: amount, type: \"decimal(12,2)\" }
";
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    dir
}

#[test]
fn every_format_loads_with_exact_values_and_reject_lines() {
    let dir = formats_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, name, amount::VARCHAR FROM items ORDER BY id"
        ),
        vec![
            vec!["1", "plain", "10.50"],
            vec!["2", "two\nlines", "20.00"],
            vec!["4", "big", "1234.50"],
            vec!["5", "neg", "-7.25"],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT code, region FROM regions ORDER BY code"),
        vec![vec!["A", "North"], vec!["B", "North"], vec!["C", "South"]]
    );
    assert_eq!(
        rows(&db, "SELECT code, region FROM regions_cn ORDER BY code"),
        vec![vec!["X", "North"], vec!["Y", "South"], vec!["Z", "未知"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, qty::VARCHAR FROM events ORDER BY id"
        ),
        vec![vec!["1", "3"], vec!["4", "7"]]
    );
    assert_eq!(
        rows(&db, "SELECT id::VARCHAR, qty::VARCHAR FROM \"array\""),
        vec![vec!["1", "2"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, day::VARCHAR, price::VARCHAR FROM prices"
        ),
        vec![vec!["1", "2026-01-02", "5.25"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT invoice_id, invoice_date::VARCHAR, amount::VARCHAR FROM invoices"
        ),
        vec![vec!["INV-1", "2026-01-15", "1250.50"]]
    );
    let rejects = rows(
        &db,
        "SELECT source, line::VARCHAR, coalesce(column_name, '-'), rule, coalesce(value, '-')
         FROM salespipe.rejects ORDER BY source, line, rule",
    );
    assert_eq!(
        rejects,
        vec![
            vec!["array", "2", "qty", "min", "-1"],
            vec!["events", "3", "-", "parse", "-"],
            vec!["events", "4", "qty", "required", "-"],
            vec!["invoices", "4", "invoice_date", "type", "not a date"],
            vec!["items", "6", "amount", "type", "12,5x"],
            vec!["prices", "2", "day", "required", "-"],
        ]
    );
    let raw = scalar(
        &db,
        "SELECT raw_text FROM salespipe.rejects WHERE source = 'events' AND rule = 'parse'",
    );
    assert_eq!(raw, "{\"id\": 2, \"qty\": ");
}

#[test]
fn wrong_encoding_is_a_clear_error() {
    let dir = formats_fixture();
    let p = dir.path().join("pipeline.yaml");
    // GBK bytes declared as UTF-8.
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("    encoding: gbk\n", "");
    std::fs::write(&p, text).unwrap();
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("regions_gbk.csv"), "{err}");
    // Declared GBK but holding bytes that are not GBK.
    let dir = formats_fixture();
    write(
        dir.path(),
        "data/regions_gbk.csv",
        b"code,region\nX,\x81\x20\n",
    );
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("regions_gbk.csv") && err.contains("not valid GBK text at byte 14"),
        "{err}"
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    let reason = scalar(&db, "SELECT reason FROM salespipe.run_log");
    assert!(reason.contains("not valid GBK"), "{reason}");
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM duckdb_tables() WHERE schema_name = 'main'"
        ),
        "0"
    );
    drop(db);
    // Declared GBK but starting with UTF-8's byte-order mark: named, not "column missing".
    let dir = formats_fixture();
    write(
        dir.path(),
        "data/regions_gbk.csv",
        "\u{feff}code,region\nX,華北\n".as_bytes(),
    );
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("starts with a utf-8 byte-order mark, but source `regions_cn` is read as gbk; set `encoding: utf-8`"),
        "{err}"
    );
}

/// Regression: an NDJSON line that is not valid UTF-8 stopped the run with DuckDB's
/// generic CSV error. It is a `parse` reject at its line with the text as far as it can
/// be read (invalid bytes as U+FFFD); the other lines load.
#[test]
fn an_ndjson_line_that_is_not_utf8_is_a_reject_at_its_line() {
    let dir = formats_fixture();
    write(
        dir.path(),
        "data/events.ndjson",
        b"{\"id\": 1, \"qty\": 3}\n{\"id\": 2, \"qty\": \"\xff7\"}\n\n{\"id\": 4, \"qty\": 5}\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, qty::VARCHAR FROM events ORDER BY id"
        ),
        vec![vec!["1", "3"], vec!["4", "5"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, rule, message, raw_text FROM salespipe.rejects
             WHERE source = 'events'"
        ),
        vec![vec![
            "2",
            "parse",
            "not valid UTF-8 text (bytes that are not shown as U+FFFD in raw_text)",
            "{\"id\": 2, \"qty\": \"\u{FFFD}7\"}"
        ]]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT rows_read::VARCHAR FROM salespipe.run_sources WHERE source = 'events'"
        ),
        "3"
    );
}

/// Regression: a truncated or malformed JSON array stopped the run with DuckDB's
/// message (a byte offset inside its buffer, not the file). The error names the file,
/// the line and column of the fault, and what is wrong; bytes that are not UTF-8 are
/// named by their offset in the file.
#[test]
fn a_broken_json_array_stops_the_run_naming_the_file_and_position() {
    for (bytes, expected) in [
        (
            &b"[{\"id\": 1, \"qty\": 2},\n {\"id\": 2, \"qty\":"[..],
            "data/array.json`: not a valid JSON array: EOF while parsing a value at line 2 \
             column 17",
        ),
        (
            &b"[{\"id\": 1, \"qty\": 2},\n {\"id\": 2 \"qty\": 3}]"[..],
            "data/array.json`: not a valid JSON array: expected `,` or `}` at line 2 column 11",
        ),
        (
            &b"[{\"id\": 1, \"qty\": \"\xff\"}]"[..],
            "data/array.json`: not valid UTF-8 text at byte 19 (line 1); check the source's \
             `encoding`",
        ),
    ] {
        let dir = formats_fixture();
        write(dir.path(), "data/array.json", bytes);
        let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
        assert!(!err.contains("Invalid Input Error"), "{err}");
    }
}

fn orders_fixture(load: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(
        d,
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,open,2026-01-01 10:00:00\nB,open,2026-01-01 11:00:00\n",
    );
    let sources = format!(
        "
  - name: orders
    path: data/orders_*.csv
    format: csv
    load: {load}
    key: [id]
    latest_by: updated_at
    columns:
      - {{ name: id, type: string }}
      - {{ name: status, type: string }}
      - {{ name: updated_at, type: timestamp }}
"
    );
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    dir
}

#[test]
fn rerun_with_unchanged_files_changes_no_table() {
    let dir = formats_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let snapshot = |dir: &Path| {
        let db = open_db(&dir.join("out/w.duckdb"));
        let tables = rows(
            &db,
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1",
        );
        tables
            .into_iter()
            .map(|t| {
                scalar(
                    &db,
                    &format!(
                        "SELECT md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM \"{}\" t",
                        t[0]
                    ),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = snapshot(dir.path());
    let out = salespipe_ok(dir.path(), &["run", "pipeline.yaml"]);
    assert!(
        out.contains("items                unchanged since the last load"),
        "{out}"
    );
    assert_eq!(snapshot(dir.path()), before);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.run_log WHERE status = 'succeeded'"
        ),
        "2"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.rejects WHERE run_id = 2"
        ),
        "0"
    );
    drop(db);
    // --full-refresh reads everything again, with the same result.
    salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--full-refresh"],
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn incremental_load_merges_new_files_by_key() {
    let dir = orders_fixture("incremental");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // A new daily file: B changes, C is new, and an older version of A is ignored.
    write(
        dir.path(),
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,shipped,2026-01-02 09:00:00\nC,open,2026-01-02 10:00:00\nA,draft,2025-12-31 00:00:00\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "shipped"], vec!["C", "open"]]
    );
    // Only the new file was read in run 2.
    assert_eq!(
        rows(
            &db,
            "SELECT files::VARCHAR, rows_read::VARCHAR FROM salespipe.run_sources WHERE run_id = 2"
        ),
        vec![vec!["1", "3"]]
    );
}

/// Regression: a late version of a key that loses to the row already in the table (older
/// `updated_at`, or none) was counted as loaded and listed nowhere. It is superseded, in
/// `duplicates` (the kept version is the table's, with no file or line in this run), so
/// read = rejected + exact duplicates + superseded + deleted + loaded in every run.
#[test]
fn a_late_older_version_is_superseded_by_the_loaded_row() {
    let dir = orders_fixture("incremental");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // Line 2: an older A; line 3: B without `updated_at`; line 4: a new key C.
    write(
        dir.path(),
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nA,draft,2025-12-31 00:00:00\nB,draft,\nC,open,2026-01-02 10:00:00\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["C", "open"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, rows_read::VARCHAR, rows_superseded::VARCHAR,
                    rows_loaded::VARCHAR
             FROM salespipe.run_sources ORDER BY run_id"
        ),
        vec![vec!["1", "2", "0", "2"], vec!["2", "3", "2", "1"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT regexp_extract(file, '[^/]+$'), line::VARCHAR, kind,
                    coalesce(kept_file, 'NULL'), coalesce(kept_line::VARCHAR, 'NULL')
             FROM salespipe.duplicates ORDER BY line"
        ),
        vec![
            vec!["orders_2026-01-02.csv", "2", "superseded", "NULL", "NULL"],
            vec!["orders_2026-01-02.csv", "3", "superseded", "NULL", "NULL"],
        ]
    );
    // Every run accounts for every row it read.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.run_sources
             WHERE rows_read <> rows_rejected + rows_exact_duplicate + rows_superseded
                               + rows_deleted + rows_loaded"
        ),
        "0"
    );
}

#[test]
fn append_load_adds_new_files() {
    let dir = orders_fixture("append");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    write(
        dir.path(),
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,shipped,2026-01-02 09:00:00\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["B", "shipped"]]
    );
}

#[test]
fn an_appended_file_that_grew_is_not_appended_twice() {
    let dir = orders_fixture("append");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // The day's log gains a line after the first run.
    write(
        dir.path(),
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,open,2026-01-01 10:00:00\nB,open,2026-01-01 11:00:00\n\
         C,open,2026-01-01 12:00:00\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["C", "open"]]
    );
}

#[test]
fn a_changed_appended_file_does_not_silently_drop_rotated_files() {
    let dir = orders_fixture("append");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,shipped,2026-01-02 09:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // The 01-02 file is rotated away, then the 01-01 log grows: a rebuild from the
    // files present would lose B's shipped row, so the run stops and says why.
    std::fs::remove_file(d.join("data/orders_2026-01-02.csv")).unwrap();
    write(
        d,
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,open,2026-01-01 10:00:00\nB,open,2026-01-01 11:00:00\n\
         C,open,2026-01-01 12:00:00\n",
    );
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("would drop the rows of 1 file(s) no longer there")
            && err.contains("orders_2026-01-02.csv"),
        "{err}"
    );
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id, status"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["B", "shipped"]]
    );
    drop(db);
    // --full-refresh keeps what the present files hold, as asked.
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id FROM orders ORDER BY id"),
        vec![vec!["A"], vec!["B"], vec!["C"]]
    );
}

#[test]
fn a_moved_project_does_not_append_its_files_again() {
    let dir = orders_fixture("append");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // The whole project moves (another checkout, a renamed folder): the manifest's
    // paths no longer match, but the files are the same.
    let parent = tempfile::tempdir().unwrap();
    let moved = parent.path().join("moved");
    std::fs::rename(dir.path(), &moved).unwrap();
    let out = salespipe_ok(&moved, &["run", "pipeline.yaml"]);
    assert!(out.contains("unchanged since the last load"), "{out}");
    let db = open_db(&moved.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"]]
    );
    drop(db);
    // A new file arrives: appended once. The moved file is known by its new path from
    // now on (the manifest followed it), so later runs do not append it again.
    write(
        &moved,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,shipped,2026-01-02 09:00:00\n",
    );
    salespipe_ok(&moved, &["run", "pipeline.yaml", "--quiet"]);
    salespipe_ok(&moved, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&moved.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id, status"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["B", "shipped"]]
    );
    drop(db);
    // The moved log then grows: known by its path, it is rebuilt from both files, not
    // appended twice (a rebuild is a full load: B's older version is superseded).
    write(
        &moved,
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,open,2026-01-01 10:00:00\nB,open,2026-01-01 11:00:00\n\
         C,open,2026-01-01 12:00:00\n",
    );
    salespipe_ok(&moved, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&moved.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id, status"),
        vec![vec!["A", "open"], vec!["B", "shipped"], vec!["C", "open"]]
    );
}

#[test]
fn a_second_run_on_a_locked_warehouse_is_refused() {
    let dir = orders_fixture("snapshot");
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    // This test process is alive, so its lock is not stale.
    write(
        dir.path(),
        "out/w.duckdb.lock",
        format!("pid={}\npipeline `other`\n", std::process::id()),
    );
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another run holds the warehouse lock") && err.contains("pipeline `other`"),
        "{err}"
    );
    // A stale lock (no such process) is taken over.
    write(
        dir.path(),
        "out/w.duckdb.lock",
        "pid=4294967\npipeline `gone`\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert!(!dir.path().join("out/w.duckdb.lock").exists());
}

/// A CSV with ragged records before and after quoted newlines and blank lines, and
/// type errors on good records after them (so their lines show in `rejects`):
///  1 header            6 blank              11 g",60      (ends the 9-11 record)
///  2 1,a,10            7 4,d,40,extra       12 7,h         ragged
///  3 2,b  ragged       8 5,"x ""q"" y",5o   13 8,i,8x0     type error
///  4 3,"multi          9 6,"f              
///  5 line",30         10 (blank, quoted)
const RAGGED: &str = "id,name,amount\n1,a,10\n2,b\n3,\"multi\nline\",30\n\n4,d,40,extra\n5,\"x \"\"q\"\" y\",5o\n6,\"f\n\ng\",60\n7,h\n8,i,8x0\n";

fn ragged_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(d, "data/ragged.csv", RAGGED);
    // The same records with CRLF line ends, after a title line (`skip_rows: 1`).
    write(
        d,
        "data/ragged_crlf.csv",
        format!("Export of items\n{RAGGED}").replace('\n', "\r\n"),
    );
    let mut sources = String::new();
    for (name, file, skip) in [("ragged", "ragged.csv", 0), ("crlf", "ragged_crlf.csv", 1)] {
        sources.push_str(&format!(
            "
  - name: {name}
    path: data/{file}
    format: csv
    csv: {{ skip_rows: {skip} }}
    columns:
      - {{ name: id, type: integer }}
      - {{ name: name, type: string }}
      - {{ name: amount, type: integer }}
"
        ));
    }
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    dir
}

#[test]
fn ragged_csv_records_are_rejects_at_their_physical_lines() {
    let dir = ragged_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    let rejects = rows(
        &db,
        "SELECT source, regexp_extract(file, '[^/]+$'), line::VARCHAR,
                coalesce(column_name, '-'), rule, coalesce(value, '-'), message, raw_text
         FROM salespipe.rejects ORDER BY source DESC, line",
    );
    let expected = |name: &str, file: &str, shift: i64| {
        let r = |line: i64, col: &str, rule: &str, value: &str, msg: &str, raw: &str| {
            vec![
                name.to_string(),
                file.to_string(),
                (line + shift).to_string(),
                col.to_string(),
                rule.to_string(),
                value.to_string(),
                msg.to_string(),
                raw.to_string(),
            ]
        };
        vec![
            r(3, "-", "parse", "-", "expected 3 fields, found 2", "2,b"),
            r(
                7,
                "-",
                "parse",
                "-",
                "expected 3 fields, found 4",
                "4,d,40,extra",
            ),
            r(
                8,
                "amount",
                "type",
                "5o",
                "not a valid integer",
                "5,x \"q\" y,5o",
            ),
            r(12, "-", "parse", "-", "expected 3 fields, found 2", "7,h"),
            r(
                13,
                "amount",
                "type",
                "8x0",
                "not a valid integer",
                "8,i,8x0",
            ),
        ]
    };
    let mut want = expected("ragged", "ragged.csv", 0);
    want.extend(expected("crlf", "ragged_crlf.csv", 1));
    assert_eq!(rejects, want);
    for t in ["ragged", "crlf"] {
        assert_eq!(
            rows(
                &db,
                &format!("SELECT id::VARCHAR, name, amount::VARCHAR FROM {t} ORDER BY id")
            ),
            vec![
                vec!["1", "a", "10"],
                vec!["3", "multi\nline", "30"],
                vec!["6", "f\n\ng", "60"],
            ]
            .into_iter()
            .map(|r| r
                .into_iter()
                .map(|v| v.replace('\n', if t == "crlf" { "\r\n" } else { "\n" }))
                .collect::<Vec<_>>())
            .collect::<Vec<_>>(),
            "{t}"
        );
    }
    // Read 8 records = 5 rejected + 3 loaded.
    assert_eq!(
        rows(
            &db,
            "SELECT source, rows_read::VARCHAR, rows_rejected::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources ORDER BY source"
        ),
        vec![vec!["crlf", "8", "5", "3"], vec!["ragged", "8", "5", "3"]]
    );
}

#[test]
fn a_headerless_tsv_names_its_fields_and_rejects_ragged_records() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(d, "data/h.tsv", "A\t1\nB\nC\t3\t\tx\n\nD\t4\n");
    let sources = "
  - name: h
    path: data/h.tsv
    format: tsv
    csv: { header: false }
    columns:
      - { name: code, from: column0, type: string }
      - { name: qty, from: column1, type: integer }
";
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, message, raw_text FROM salespipe.rejects ORDER BY line"
        ),
        vec![
            vec!["2", "expected 2 fields, found 1", "B"],
            vec!["3", "expected 2 fields, found 4", "C\t3\t\tx"],
        ]
    );
    assert_eq!(
        rows(&db, "SELECT code, qty::VARCHAR FROM h ORDER BY code"),
        vec![vec!["A", "1"], vec!["D", "4"]]
    );
}

#[test]
fn an_unterminated_quote_stops_the_run_unless_it_opens_on_the_last_line() {
    let dir = ragged_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // A quote left open swallows the rest of the file into one record: the run stops
    // naming the line, rather than rejecting one record and losing the lines after it
    // (they would not even count against `max_reject_rate`).
    let err = ragged_run_fails(
        dir.path(),
        "id,name,amount\n1,a,10\n2,\"b,20\n3,c,30\n4,d,40\n",
    );
    assert_eq!(
        err,
        format!(
            "error: `{}`: line 3: a quoted value opened in this record is never closed, so \
             lines 3 to 5 would be read as one record; close the quote (a quote inside a \
             quoted value is written twice: `\"\"`)",
            dir.path().join("data/ragged.csv").display()
        )
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM ragged"),
        "3",
        "the table keeps the previous load"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT status, (reason LIKE '%line 3: a quoted value opened%')::VARCHAR
             FROM salespipe.run_log ORDER BY run_id DESC LIMIT 1"
        ),
        vec![vec!["failed", "true"]]
    );
    // The run's sources name the one that stopped it, with its file.
    assert_eq!(
        rows(
            &db,
            "SELECT source, files::VARCHAR FROM salespipe.run_sources
             WHERE run_id = (SELECT max(run_id) FROM salespipe.run_log) ORDER BY source"
        ),
        vec![vec!["ragged", "1"]]
    );
    drop(db);
    // Opened on the last line, it swallows nothing: that record alone is a reject.
    write(
        dir.path(),
        "data/ragged.csv",
        "id,name,amount\n1,a,10\n2,\"open,20\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, rule, message, raw_text FROM salespipe.rejects
             WHERE source = 'ragged' AND run_id = (SELECT max(run_id) FROM salespipe.run_log)"
        ),
        vec![vec![
            "3",
            "parse",
            "a quoted value is not closed, or text follows its closing quote",
            "2,\"open,20"
        ]]
    );
    assert_eq!(rows(&db, "SELECT id::VARCHAR FROM ragged"), vec![vec!["1"]]);
}

#[test]
fn a_file_whose_only_record_is_ragged_loads_it_as_a_reject() {
    let dir = ragged_fixture();
    write(dir.path(), "data/ragged.csv", "id,name,amount\n1,a\n");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM ragged"), "0");
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, rule, message, raw_text FROM salespipe.rejects
             WHERE source = 'ragged'"
        ),
        vec![vec!["2", "parse", "expected 3 fields, found 2", "1,a"]]
    );
}

#[test]
fn a_file_where_no_record_fits_the_header_stops_the_run() {
    let dir = ragged_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // Semicolons under a comma header: every record is one field.
    let err = ragged_run_fails(dir.path(), "id,name,amount\n1;a;10\n2;b;20\n");
    assert_eq!(
        err,
        format!(
            "error: `{}`: none of its 2 records fits the header's 3 fields (line 2: expected 3 \
             fields, found 1); check the source's `format` and `csv` options (delimiter `,`, \
             quote `\\\"`)",
            dir.path().join("data/ragged.csv").display()
        )
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM ragged"),
        "3",
        "the table keeps the previous load"
    );
    drop(db);
    // Text that is not UTF-8 stops the run at the first bad byte.
    let err = ragged_run_fails(dir.path(), b"id,name,amount\n1,caf\xe9,3\n");
    assert_eq!(
        err,
        format!(
            "error: `{}`: not valid UTF-8 text at byte 20 (line 2); check the source's `encoding`",
            dir.path().join("data/ragged.csv").display()
        )
    );
}

/// One source per format, each file with columns the source does not declare: `note`
/// everywhere, plus `channel` in the CSV and a blank-headed column in the XLSX sheet.
fn drift_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(
        d,
        "data/a.csv",
        "id,note,qty,channel\n1,x,2,web\n2,y,3,shop\n",
    );
    write(
        d,
        "data/b.ndjson",
        "{\"id\": 1, \"qty\": 2}\n{\"id\": 2, \"qty\": 3, \"note\": \"late\"}\n",
    );
    write(
        d,
        "data/c.json",
        "[{\"id\": 1, \"qty\": 2, \"note\": \"a\"}, {\"id\": 2, \"qty\": 3}]",
    );
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM (VALUES (1, 2, 'n1'), (2, 3, 'n2')) t(id, qty, note))
         TO '{}' (FORMAT parquet)",
        d.join("data/d.parquet").display()
    ))
    .unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["id", "qty", "note", "", "tail"].iter().enumerate() {
        sheet.write(0, c as u16, *h).unwrap();
    }
    for (r, (id, qty)) in [(1, 2), (2, 3)].iter().enumerate() {
        sheet.write(r as u32 + 1, 0, *id).unwrap();
        sheet.write(r as u32 + 1, 1, *qty).unwrap();
        sheet.write(r as u32 + 1, 4, "t").unwrap();
    }
    book.save(d.join("data/e.xlsx")).unwrap();
    let mut sources = String::new();
    for (name, file, format) in [
        ("a", "a.csv", "csv"),
        ("b", "b.ndjson", "ndjson"),
        ("c", "c.json", "json"),
        ("d", "d.parquet", "parquet"),
        ("e", "e.xlsx", "xlsx"),
    ] {
        sources.push_str(&format!(
            "
  - name: {name}
    path: data/{file}
    format: {format}
    columns:
      - {{ name: id, type: integer }}
      - {{ name: qty, type: integer }}
"
        ));
    }
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    dir
}

/// Sets `extra_columns: <policy>` on source `name` of the drift fixture.
fn set_extra_columns(dir: &Path, name: &str, policy: &str) {
    let p = dir.join("pipeline.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace(
        &format!("  - name: {name}\n"),
        &format!("  - name: {name}\n    extra_columns: {policy}\n"),
    );
    std::fs::write(&p, text).unwrap();
}

#[test]
fn extra_columns_are_warned_counted_and_not_loaded_in_every_format() {
    let dir = drift_fixture();
    set_extra_columns(dir.path(), "c", "ignore");
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--summary-json", "summary.json"],
    );
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let d = dir.path().display();
    let mut warnings: Vec<String> = err
        .lines()
        .filter_map(|l| l.split_once("WARN").map(|(_, w)| w.to_string()))
        .map(|w| w.split_once(": ").unwrap().1.to_string())
        .collect();
    warnings.sort();
    assert_eq!(
        warnings,
        vec![
            format!("`{d}/data/a.csv`: extra columns `note`, `channel` not declared in source `a`: not loaded"),
            format!("`{d}/data/b.ndjson`: extra column `note` not declared in source `b`: not loaded"),
            format!("`{d}/data/d.parquet`: extra column `note` not declared in source `d`: not loaded"),
            format!("`{d}/data/e.xlsx`: extra columns `note`, `column3`, `tail` not declared in source `e`: not loaded"),
        ],
        "{err}"
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    // `ignore` (source c) skips the warning; the run log lists every source's extras.
    assert_eq!(
        rows(
            &db,
            "SELECT source, extra_columns::VARCHAR, missing_columns::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources ORDER BY source"
        ),
        vec![
            vec!["a", "[channel, note]", "[]", "2"],
            vec!["b", "[note]", "[]", "2"],
            vec!["c", "[note]", "[]", "2"],
            vec!["d", "[note]", "[]", "2"],
            vec!["e", "[column3, note, tail]", "[]", "2"],
        ]
    );
    for t in ["a", "b", "c", "d", "e"] {
        assert_eq!(
            rows(
                &db,
                &format!("SELECT id::VARCHAR, qty::VARCHAR FROM {t} ORDER BY id")
            ),
            vec![vec!["1", "2"], vec!["2", "3"]],
            "only the declared columns of `{t}` are loaded"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  a: 2 extra columns not loaded: `channel`, `note`\n"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["sources"][0]["name"], "a");
    assert_eq!(
        summary["sources"][0]["extra_columns"],
        serde_json::json!(["channel", "note"])
    );
}

#[test]
fn extra_columns_error_stops_the_run_and_changes_nothing() {
    let dir = drift_fixture();
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    set_extra_columns(dir.path(), "d", "error");
    // A changed file, so the run has something to load.
    write(dir.path(), "data/a.csv", "id,note,qty,channel\n9,x,9,web\n");
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--full-refresh"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = dir.path().join("data/d.parquet");
    let expected = format!(
        "`{}`: extra column `note` not declared in source `d` (`extra_columns: error`); \
         declare it or set `extra_columns: warn` to ignore it",
        file.display()
    );
    assert!(err.contains(&format!("error: {expected}\n")), "{err}");
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id::VARCHAR FROM a ORDER BY id"),
        vec![vec!["1"], vec!["2"]],
        "data tables unchanged"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT status, reason FROM salespipe.run_log WHERE run_id = 2"
        ),
        vec![vec!["failed".to_string(), expected]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT source, extra_columns::VARCHAR, rows_read::VARCHAR FROM salespipe.run_sources
             WHERE run_id = 2 ORDER BY source"
        ),
        vec![
            vec!["a", "[channel, note]", "1"],
            vec!["b", "[note]", "2"],
            vec!["c", "[note]", "2"],
            vec!["d", "[note]", "0"],
        ]
    );
}

#[test]
fn missing_columns_are_named_and_counted_in_the_run_log() {
    let dir = drift_fixture();
    write(dir.path(), "data/a.csv", "ID,quantity,note\n1,2,x\n");
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = dir.path().join("data/a.csv");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: `{}`: columns `id` (did you mean `ID`?), `qty` of source `a` are missing \
             from the file",
            file.display()
        )
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT source, missing_columns::VARCHAR, extra_columns::VARCHAR
             FROM salespipe.run_sources"
        ),
        vec![vec!["a", "[id, qty]", "[ID, quantity, note]"]]
    );
}

#[test]
fn a_warehouse_from_before_the_column_counts_gains_them() {
    let dir = drift_fixture();
    std::fs::create_dir_all(dir.path().join("out")).unwrap();
    {
        let old = duckdb::Connection::open(dir.path().join("out/w.duckdb")).unwrap();
        old.execute_batch(
            "CREATE SCHEMA salespipe;
             CREATE TABLE salespipe.run_sources (
                 run_id BIGINT, source VARCHAR, files BIGINT, rows_read BIGINT,
                 rows_rejected BIGINT, rows_exact_duplicate BIGINT, rows_superseded BIGINT,
                 rows_loaded BIGINT);
             INSERT INTO salespipe.run_sources VALUES (0, 'old', 1, 5, 0, 0, 0, 5);",
        )
        .unwrap();
    }
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT source, rows_loaded::VARCHAR, extra_columns::VARCHAR
             FROM salespipe.run_sources WHERE source IN ('old', 'b') ORDER BY run_id"
        ),
        vec![vec!["old", "5", "NULL"], vec!["b", "2", "[note]"]]
    );
}

#[test]
fn a_bi_tool_holding_the_warehouse_is_named_and_pointed_to_parquet() {
    let dir = orders_fixture("snapshot");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // This test process plays the BI tool: DuckDB's file lock is per process, so the
    // child `salespipe` sees it held while this connection is open.
    let bi = open_db(&dir.path().join("out/w.duckdb"));
    write(
        dir.path(),
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,shipped,2026-01-02 10:00:00\n",
    );
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let exe = std::env::current_exe().unwrap();
    let db = dir.path().join("out/w.duckdb");
    let parquet = dir.path().join("out/parquet");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: the warehouse `{}` is open in another program: `{}` (PID {}), e.g. a BI \
             tool or a notebook. A run needs the database file to itself: close it there and \
             run again. BI tools should read the Parquet outputs in `{}` (one folder per \
             table, swapped atomically) instead of the database file.",
            db.display(),
            exe.display(),
            std::process::id(),
            parquet.display()
        )
    );
    // salespipe's own run lock is released, and nothing changed.
    assert!(!dir.path().join("out/w.duckdb.lock").exists());
    assert_eq!(
        rows(&bi, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"]]
    );
    drop(bi);
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&db);
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "shipped"]]
    );
}

#[test]
fn too_many_rejects_fail_the_run_and_keep_the_rejects() {
    let dir = formats_fixture();
    let p = dir.path().join("pipeline.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "    format: ndjson\n",
        "    format: ndjson\n    max_reject_rate: 0.25\n",
    );
    std::fs::write(&p, text).unwrap();
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    // 2 of the 4 NDJSON records are rejected.
    assert!(
        err.contains("source `events`: 2 of 4 rows rejected (50.00 %), over max_reject_rate 25.00 %; top rules: parse (1), qty: required (1)"),
        "{err}"
    );
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT status FROM salespipe.run_log"),
        "failed"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.rejects WHERE source = 'events'"
        ),
        "2"
    );
    // The run log has what was read of the source that stopped it.
    assert_eq!(
        rows(
            &db,
            "SELECT source, rows_read::VARCHAR, rows_rejected::VARCHAR
             FROM salespipe.run_sources WHERE source = 'events'"
        ),
        vec![vec!["events", "4", "2"]]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM duckdb_tables() WHERE schema_name = 'main'"
        ),
        "0"
    );
}

#[test]
fn an_empty_file_stops_the_run_with_a_clear_message() {
    let dir = orders_fixture("snapshot");
    write(dir.path(), "data/orders_2026-01-01.csv", "");
    let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("orders_2026-01-01.csv`: the file is empty"),
        "{err}"
    );
    // A header without rows is a valid, empty extract.
    write(
        dir.path(),
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\n",
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM orders"), "0");
}

#[test]
fn values_at_the_edges_of_their_rules_and_an_ordered_export() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Line 2: spaces trimmed; line 3: an exponent hides 5 decimals; line 4: 3 decimals;
    // line 5: trailing zero (12.500 is 12.50) and a dd/mm date; line 6: impossible ISO
    // date; line 7: an exponent that is exact; line 8: line 2 again after cleaning.
    write(
        d,
        "data/items.csv",
        "id,amount,day,name\n1, 12.50 ,2026-01-05, Zed \n2,1e-5,2026-01-05,Bob\n3,12.345,05/01/2026,Cy\n\
         4,12.500,05/01/2026,Ann\n5,7,2026-13-01,Ed\n6,1.5e1,2026-02-01,Max\n1,12.5,2026-01-05,Zed\n",
    );
    write(
        d,
        "models/items_by_name.sql",
        "-- order_by: name\nSELECT * FROM {{ ref(\"items\") }}\n",
    );
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}  - name: items
    path: data/items.csv
    format: csv
    key: [id]
    columns:
      - {{ name: id, type: integer }}
      - {{ name: amount, type: \"decimal(10,2)\" }}
      - {{ name: day, type: date, formats: [\"%Y-%m-%d\", \"%d/%m/%Y\"] }}
      - {{ name: name, type: string }}
"
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, amount::VARCHAR, day::VARCHAR, name FROM items ORDER BY id"
        ),
        vec![
            vec!["1", "12.50", "2026-01-05", "Zed"],
            vec!["4", "12.50", "2026-01-05", "Ann"],
            vec!["6", "15.00", "2026-02-01", "Max"],
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value FROM salespipe.rejects ORDER BY line, rule"
        ),
        vec![
            vec!["3", "amount", "scale", "1e-5"],
            vec!["4", "amount", "scale", "12.345"],
            vec!["6", "day", "type", "2026-13-01"],
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, kind, kept_line::VARCHAR FROM salespipe.duplicates"
        ),
        vec![vec!["8", "exact", "2"]]
    );
    let parquet = d.join("out/parquet/items_by_name/data.parquet");
    assert_eq!(
        rows(
            &db,
            &format!(
                "SELECT name FROM read_parquet('{}')",
                parquet.to_string_lossy()
            )
        ),
        vec![vec!["Ann"], vec!["Max"], vec!["Zed"]]
    );
}

#[test]
fn a_quote_inside_a_plain_value_does_not_shift_later_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Line 2 has a quote inside a plain value (DuckDB reads it as text), lines 3-4 are
    // one record, line 5 is blank and line 6 has a bad amount.
    write(
        d,
        "data/people.csv",
        "id,name,amount\n1,O\"Brien,5\n2,\"two\nlines\",6\n\n3,x,seven\n",
    );
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}  - name: people
    path: data/people.csv
    format: csv
    columns:
      - {{ name: id, type: integer }}
      - {{ name: name, type: string }}
      - {{ name: amount, type: integer }}
"
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id::VARCHAR, name FROM people ORDER BY id"),
        vec![vec!["1", "O\"Brien"], vec!["2", "two\nlines"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, raw_text FROM salespipe.rejects"
        ),
        vec![vec!["6", "amount", "type", "3,x,seven"]]
    );
}

#[test]
fn a_changed_declaration_reads_the_source_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(d, "data/items.csv", "id,amount,note\n1,10,a\n2,20,b\n");
    let pipeline = |extra: &str, note: bool| {
        format!(
            "{PIPELINE_HEAD}  - name: items
    path: data/items.csv
    format: csv
    extra_columns: ignore
    columns:
      - {{ name: id, type: integer }}
      - {{ name: amount, type: integer{extra} }}
{}",
            if note {
                "      - { name: note, type: string }\n"
            } else {
                ""
            }
        )
    };
    write(d, "pipeline.yaml", pipeline("", false));
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // Same file, a new rule: the loaded rows were cleaned without it, so all are read
    // again and row 2 is now a reject.
    write(d, "pipeline.yaml", pipeline(", max: 15", false));
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // Same file, a new column: the table gains it.
    write(d, "pipeline.yaml", pipeline(", max: 15", true));
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // Nothing changed: nothing is read.
    let out = salespipe_ok(d, &["run", "pipeline.yaml"]);
    assert!(out.contains("unchanged since the last load"), "{out}");
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id::VARCHAR, amount::VARCHAR, note FROM items"),
        vec![vec!["1", "10", "a"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, line::VARCHAR, rule FROM salespipe.rejects ORDER BY run_id"
        ),
        vec![vec!["2", "3", "max"], vec!["3", "3", "max"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, rows_read::VARCHAR FROM salespipe.run_sources ORDER BY run_id"
        ),
        vec![
            vec!["1", "2"],
            vec!["2", "2"],
            vec!["3", "2"],
            vec!["4", "0"]
        ]
    );
}

#[test]
fn a_utf16_file_is_named_as_such_and_loads_when_declared() {
    let dir = ragged_fixture();
    let d = dir.path();
    // "id,name,amount\n1,Zoë,10\n2,Łódź,20\n" as UTF-16LE with its byte-order mark.
    let text = "id,name,amount\n1,Zoë,10\n2,Łódź,20\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let err = ragged_run_fails(d, bytes);
    assert_eq!(
        err,
        format!(
            "error: `{}`: starts with a utf-16le byte-order mark, but source `ragged` is read \
             as utf-8; set `encoding: utf-16le`",
            d.join("data/ragged.csv").display()
        )
    );
    let pipeline = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap();
    write(
        d,
        "pipeline.yaml",
        pipeline.replacen(
            "path: data/ragged.csv\n",
            "path: data/ragged.csv\n    encoding: utf-16le\n",
            1,
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, name, amount::VARCHAR FROM ragged ORDER BY id"
        ),
        vec![vec!["1", "Zoë", "10"], vec!["2", "Łódź", "20"]]
    );
    drop(db);
    // Big-endian, with a bad record: its reject keeps its line.
    let text = "id,name,amount\n1,Zoë,10\n2,x\n3,Łódź,30\n";
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    let err = ragged_run_fails(d, bytes);
    assert!(
        err.contains(
            "starts with a utf-16be byte-order mark, but source `ragged` is read as utf-16le; \
             set `encoding: utf-16be`"
        ),
        "{err}"
    );
    let pipeline = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap();
    write(
        d,
        "pipeline.yaml",
        pipeline.replacen("encoding: utf-16le", "encoding: utf-16be", 1),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id::VARCHAR, name FROM ragged ORDER BY id"),
        vec![vec!["1", "Zoë"], vec!["3", "Łódź"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, message FROM salespipe.rejects
             WHERE source = 'ragged' AND run_id = (SELECT max(run_id) FROM salespipe.run_log)"
        ),
        vec![vec!["3", "expected 3 fields, found 2"]]
    );
}

#[test]
fn an_empty_ndjson_or_json_export_is_an_empty_load_not_missing_columns() {
    // No record at all: the load judges it (a first load creates the empty table with a
    // warning, a later one would empty the table and stops); never "columns missing".
    for (file, bytes) in [("data/events.ndjson", "\n"), ("data/array.json", "[]")] {
        let dir = formats_fixture();
        write(dir.path(), file, bytes);
        let out = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {err}");
        assert!(!err.contains("missing"), "{file}: {err}");
        let source = if file.ends_with(".ndjson") {
            "events"
        } else {
            "array"
        };
        assert!(
            err.contains(&format!(
                "source `{source}`: no rows to load (0 read); its table is created empty"
            )),
            "{file}: {err}"
        );
    }
}

#[test]
fn a_changed_declaration_does_not_silently_drop_rotated_incremental_files() {
    let dir = orders_fixture("incremental");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nC,open,2026-01-02 09:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // The first delta is rotated away (the table keeps A and B), then the declaration
    // changes: reading the source again from the one file left would drop A and B.
    std::fs::remove_file(d.join("data/orders_2026-01-01.csv")).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let yaml = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap();
    std::fs::write(
        d.join("pipeline.yaml"),
        yaml.replace(
            "    load: incremental\n",
            "    load: incremental\n    max_reject_rate: 0.9\n",
        ),
    )
    .unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "its declaration changed, and reading it again from the files present \
             would drop the rows of 1 loaded file(s) no longer there"
        ) && err.contains("orders_2026-01-01.csv"),
        "{err}"
    );
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id FROM orders ORDER BY id"),
        vec![vec!["A"], vec!["B"], vec!["C"]]
    );
    drop(db);
    // --full-refresh keeps what the present files hold, as asked.
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id FROM orders ORDER BY id"),
        vec![vec!["C"]]
    );
}

#[test]
fn a_renamed_appended_file_is_not_appended_again() {
    let dir = orders_fixture("append");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,shipped,2026-01-02 09:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // A log shipper renames the first file: same bytes, new name. It is that file, not
    // a new one, and its rows are not appended a second time; a file that is really new
    // still is.
    std::fs::rename(
        d.join("data/orders_2026-01-01.csv"),
        d.join("data/orders_2026-01-01.done.csv"),
    )
    .unwrap();
    write(
        d,
        "data/orders_2026-01-03.csv",
        "id,status,updated_at\nC,open,2026-01-03 09:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id, status"),
        vec![
            vec!["A", "open"],
            vec!["B", "open"],
            vec!["B", "shipped"],
            vec!["C", "open"]
        ]
    );
    // The renamed file was not read at all (its rows would otherwise be dropped as exact
    // copies of the table's, hiding a failed rename detection): run 3 read C only, and
    // the manifest keeps the renamed file's first run.
    assert_eq!(
        rows(
            &db,
            "SELECT rows_read::VARCHAR, rows_exact_duplicate::VARCHAR FROM salespipe.run_sources
             WHERE run_id = 3 AND source = 'orders'"
        ),
        vec![vec!["1", "0"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT arrived::VARCHAR FROM salespipe.manifest
             WHERE source = 'orders' AND file LIKE '%orders_2026-01-01.done.csv'"
        ),
        vec![vec!["1"]]
    );
    drop(db);
    // And the next run knows it under its new name.
    let out = salespipe_ok(d, &["run", "pipeline.yaml"]);
    assert!(out.contains("unchanged since the last load"), "{out}");
}

#[test]
fn a_renamed_file_is_not_missing_when_the_declaration_changes() {
    let dir = orders_fixture("incremental");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    std::fs::rename(
        d.join("data/orders_2026-01-01.csv"),
        d.join("data/orders_2026-01-01.done.csv"),
    )
    .unwrap();
    let yaml = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap();
    std::fs::write(
        d.join("pipeline.yaml"),
        yaml.replace(
            "    load: incremental\n",
            "    load: incremental\n    max_reject_rate: 0.9\n",
        ),
    )
    .unwrap();
    // Its content is all there under the new name: read again in full, nothing lost.
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id FROM orders ORDER BY id"),
        vec![vec!["A"], vec!["B"]]
    );
}
