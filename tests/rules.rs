//! Rules beyond typing: `pattern`, `allowed` and `default` on columns, cross-column
//! `rules` (SQL checks), `warn` severities and `salespipe.warnings`, PII masking,
//! `delete_when` on incremental sources and CSV comment lines; and the configuration
//! errors of each, with their locations. Fixture files are written by the test itself.

use std::path::Path;

use crate::common::*;

fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

const PIPELINE_HEAD: &str = "version: 1
name: rules
as_of: 2026-01-31
warehouse: { database: out/w.duckdb, parquet_dir: out/parquet, reports_dir: out/reports }
models: { path: models }
";

/// The orders source of the rules tests:
/// line 2: clean; `channel` blank -> the default `web`
/// line 3: qty 0 (min, warn) and shipped before ordered (rule, reject): rejected, both listed
/// line 4: status `closed` not allowed: rejected
/// line 5: qty -1 (min, warn) and a malformed email (pattern, warn): loaded, two warnings
/// line 6: shipped 15 days after ordering (rule `ships_within_10_days`, warn): loaded
/// line 7: qty `x` (type) and channel `fax` (allowed, warn): rejected, both listed
/// line 8: line 5 again: an exact duplicate, dropped; its warnings are not listed twice
const ORDERS: &str = "id,status,qty,email,order_date,ship_date,channel
1,open,5,a@x.com,2026-01-02,2026-01-03,
2,OPEN,0,b@x.com,2026-01-02,2026-01-01,web
3,closed,2,c@x.com,2026-01-05,,web
4,shipped,-1,bad-email,2026-01-05,2026-01-06,store
5,open,3,d@x.com,2026-01-05,2026-01-20,WEB
6,Open,x,e@x.com,2026-01-07,2026-01-08,fax
4,shipped,-1,bad-email,2026-01-05,2026-01-06,store
";

const ORDERS_SOURCE: &str = "sources:
  - name: orders
    path: data/orders.csv
    format: csv
    key: [id]
    columns:
      - { name: id, type: integer }
      - { name: status, type: string, case: lower, allowed: [open, shipped, cancelled] }
      - { name: qty, type: integer, min: 1, warn: [min] }
      - { name: email, type: string, pattern: '[^@ ]+@[^@ ]+\\.[a-z]+', warn: [pattern] }
      - { name: order_date, type: date, required: true }
      - { name: ship_date, type: date }
      - name: channel
        type: string
        case: lower
        default: web
        allowed: [web, store]
        warn: [allowed]
    rules:
      - name: ships_after_order
        check: ship_date >= order_date
        message: ship date before order date
      - name: ships_within_10_days
        check: ship_date <= order_date + 10
        severity: warn
";

fn orders_fixture(sources: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(d, "data/orders.csv", ORDERS);
    write(d, "pipeline.yaml", format!("{PIPELINE_HEAD}{sources}"));
    dir
}

#[test]
fn column_and_cross_column_rules_reject_or_warn_at_exact_lines() {
    let dir = orders_fixture(ORDERS_SOURCE);
    let d = dir.path();
    let out = salespipe_ok(d, &["run", "pipeline.yaml", "--summary-json", "s.json"]);
    let db = open_db(&d.join("out/w.duckdb"));
    let failures = |table: &str| {
        rows(
            &db,
            &format!(
                "SELECT line::VARCHAR, coalesce(column_name, '-'), rule, value, message
                 FROM salespipe.{table} ORDER BY line, column_name NULLS LAST"
            ),
        )
    };
    assert_eq!(
        failures("rejects"),
        vec![
            vec!["3", "qty", "min", "0", "must be at least 1"],
            vec![
                "3",
                "-",
                "ships_after_order",
                "ship_date=2026-01-01, order_date=2026-01-02",
                "ship date before order date"
            ],
            vec![
                "4",
                "status",
                "allowed",
                "closed",
                "not one of the allowed values: open, shipped, cancelled"
            ],
            vec![
                "7",
                "channel",
                "allowed",
                "fax",
                "not one of the allowed values: web, store"
            ],
            vec!["7", "qty", "type", "x", "not a valid integer"],
        ]
    );
    assert_eq!(
        failures("warnings"),
        vec![
            vec![
                "5",
                "email",
                "pattern",
                "bad-email",
                "does not match the pattern [^@ ]+@[^@ ]+\\.[a-z]+"
            ],
            vec!["5", "qty", "min", "-1", "must be at least 1"],
            vec![
                "6",
                "-",
                "ships_within_10_days",
                "ship_date=2026-01-20, order_date=2026-01-05",
                "check failed: ship_date <= order_date + 10"
            ],
        ]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT DISTINCT raw_text FROM salespipe.warnings WHERE line = 5"
        ),
        "4,shipped,-1,bad-email,2026-01-05,2026-01-06,store"
    );
    // Warned rows are loaded as they are; the blank channel took its default.
    assert_eq!(
        rows(
            &db,
            "SELECT id::VARCHAR, status, qty::VARCHAR, email, ship_date::VARCHAR, channel
             FROM orders ORDER BY id"
        ),
        vec![
            vec!["1", "open", "5", "a@x.com", "2026-01-03", "web"],
            vec!["4", "shipped", "-1", "bad-email", "2026-01-06", "store"],
            vec!["5", "open", "3", "d@x.com", "2026-01-20", "web"],
        ]
    );
    // read 7 = rejected 3 + exact duplicate 1 + loaded 3, of which 2 warned.
    assert_eq!(
        rows(
            &db,
            "SELECT rows_read::VARCHAR, rows_rejected::VARCHAR, rows_warned::VARCHAR,
                    rows_exact_duplicate::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources"
        ),
        vec![vec!["7", "3", "2", "1", "3"]]
    );
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("orders "))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells,
        ["orders", "1", "7", "3", "2", "0", "1", "0", "0", "3"],
        "{out}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert_eq!(summary["sources"][0]["rows_warned"], 2);
    let parquet = d.join("out/parquet/warnings/data.parquet");
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT count(*)::VARCHAR FROM read_parquet('{}')",
                parquet.display()
            )
        ),
        "3"
    );
}

#[test]
fn a_source_without_warn_rules_writes_no_warnings_export() {
    let dir = orders_fixture(
        &ORDERS_SOURCE
            .replace(", warn: [min]", "")
            .replace(", warn: [pattern]", "")
            .replace("        warn: [allowed]\n", "")
            .replace("        severity: warn\n", ""),
    );
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/w.duckdb"));
    // Every failure rejects now: lines 3 to 8 (8 repeats 5).
    assert_eq!(
        rows(
            &db,
            "SELECT DISTINCT line::VARCHAR FROM salespipe.rejects ORDER BY 1"
        ),
        vec![
            vec!["3"],
            vec!["4"],
            vec!["5"],
            vec!["6"],
            vec!["7"],
            vec!["8"]
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM salespipe.warnings"),
        "0"
    );
    assert!(!dir.path().join("out/parquet/warnings").exists());
}

/// Runs `validate` on `pipeline` (written with the orders data) and returns stderr,
/// asserting exit code 2.
fn invalid(sources: &str) -> (String, String) {
    let dir = orders_fixture(sources);
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        format!("{PIPELINE_HEAD}{sources}"),
    )
}

/// 1-based line and column of the first occurrence of `needle`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn rule_errors_are_located_and_all_collected() {
    let sources = "sources:
  - name: orders
    path: data/orders.csv
    format: csv
    csv: { comment: '\"' }
    key: [id]
    delete_when: { column: status, values: [gone] }
    columns:
      - { name: id, type: integer, allowed: [1, x] }
      - { name: status, type: string, case: lower, allowed: [Open], pattern: '(ab' }
      - { name: qty, type: integer, min: 1, default: 0, warn: [max] }
      - { name: email, type: string }
      - { name: order_date, type: date }
      - { name: ship_date, type: date }
      - { name: channel, type: string }
    rules:
      - name: min
        check: ship_date >= order_date
      - name: ships_after_order
        check: qty > 0 AND ship_dat >= order_date
      - name: not_boolean
        check: qty + 1
";
    let (err, text) = invalid(sources);
    let at = |needle: &str| {
        let (l, c) = position(&text, needle);
        format!("pipeline.yaml:{l}:{c}: error")
    };
    for expected in [
        format!(
            "{}[E012]: `comment: \"` starts like a record",
            at("comment")
        ),
        format!(
            "{}[E023]: `delete_when` applies to `load: incremental` sources, not `load: snapshot`",
            at("delete_when")
        ),
        format!(
            "{}[E021]: allowed value `x` of `id` is not a valid integer",
            at("x] }")
        ),
        format!(
            "{}[E021]: allowed value `Open` of `status` can never match: its `case` loads every \
             value as `open`",
            at("Open]")
        ),
        format!(
            "{}[E021]: invalid `pattern` of `status`: missing ): (ab",
            at("pattern: '(ab'")
        ),
        format!(
            "{}[E021]: `default: 0` of `qty` fails the column's own rules: min: must be at least 1",
            at("default: 0")
        ),
        format!(
            "{}[E021]: `warn: [max]`: column `qty` has no `max` rule",
            at("max]")
        ),
        format!(
            "{}[E022]: rule name `min` is a built-in rule of `rejects`; choose another",
            at("name: min")
        ),
        // Located at the unknown name inside the check.
        format!(
            "{}[E022]: rule `ships_after_order` of `orders`: unknown column `ship_dat`; did you \
             mean `ship_date`?",
            at("ship_dat ")
        ),
        format!(
            "{}[E022]: rule `not_boolean` of `orders`: must be a boolean expression (true when \
             the row is valid), not BIGINT",
            at("qty + 1")
        ),
    ] {
        assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
    }
    // `gone` is a valid status: no error for the delete_when value.
    assert!(err.contains("10 configuration errors"), "{err}");
}

#[test]
fn pii_is_masked_in_rejects_and_model_exports_but_kept_in_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Line 3: a malformed email (rejected); line 4: an age that is not a number.
    write(
        d,
        "data/customers.csv",
        "id,name,email,age\n1,Ann,ann@x.com,34\n2,Bob,bob-at-x,41\n3,Cy,cy@x.com,abc\n",
    );
    // NDJSON: line 2 is not JSON (masked whole); line 3 has a bad qty.
    write(
        d,
        "data/events.ndjson",
        "{\"id\": 1, \"email\": \"ann@x.com\", \"qty\": 2}\n{\"id\": 2, \"email\": \"bob@\n{\"id\": 3, \"email\": \"cy@x.com\", \"qty\": \"x\"}\n",
    );
    write(
        d,
        "models/contacts.sql",
        "-- order_by: id\nSELECT id, name, email, age FROM {{ ref(\"customers\") }}\n",
    );
    write(
        d,
        "models/renamed.sql",
        "-- pii: contact\n-- order_by: id\nSELECT id, email AS contact FROM {{ ref(\"contacts\") }}\n",
    );
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}privacy: {{ mask_pii: true }}
sources:
  - name: customers
    path: data/customers.csv
    format: csv
    key: [id]
    columns:
      - {{ name: id, type: integer }}
      - {{ name: name, type: string, pii: true }}
      - {{ name: email, type: string, pii: true, pattern: '[^@]+@[^@]+' }}
      - {{ name: age, type: integer }}
  - name: events
    path: data/events.ndjson
    format: ndjson
    columns:
      - {{ name: id, type: integer }}
      - {{ name: email, type: string, pii: true }}
      - {{ name: qty, type: integer }}
"
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT source, line::VARCHAR, column_name, rule, coalesce(value, '-'), raw_text
             FROM salespipe.rejects ORDER BY source, line"
        ),
        vec![
            vec!["customers", "3", "email", "pattern", "***", "2,***,***,41"],
            vec!["customers", "4", "age", "type", "abc", "3,***,***,abc"],
            vec!["events", "2", "NULL", "parse", "-", "***"],
            vec![
                "events",
                "3",
                "qty",
                "type",
                "x",
                "{\"id\":\"3\",\"email\":\"***\",\"qty\":\"x\"}"
            ],
        ]
    );
    // The warehouse keeps the values; the Parquet exports do not.
    assert_eq!(
        rows(&db, "SELECT name, email FROM customers"),
        vec![vec!["Ann", "ann@x.com"]]
    );
    let parquet = |t: &str| {
        rows(
            &db,
            &format!(
                "SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{}')",
                d.join("out/parquet").join(t).join("data.parquet").display()
            ),
        )
    };
    assert_eq!(parquet("contacts"), vec![vec!["1", "***", "***", "34"]]);
    assert_eq!(parquet("renamed"), vec![vec!["1", "***"]]);
    let rejects = parquet("rejects");
    assert!(
        !rejects.is_empty(),
        "the rejects export holds the masked rows"
    );
    assert!(
        rejects
            .iter()
            .flatten()
            .all(|v| !v.contains("Bob") && !v.contains("bob")),
        "{rejects:?}"
    );
}

fn incremental_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    // E arrives already deleted: never loaded.
    write(
        d,
        "data/orders_2026-01-01.csv",
        "id,status,updated_at\nA,open,2026-01-01 10:00:00\nB,open,2026-01-01 11:00:00\n\
         C,open,2026-01-01 12:00:00\nE,deleted,2026-01-01 13:00:00\n",
    );
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: orders
    path: data/orders_*.csv
    format: csv
    load: incremental
    key: [id]
    latest_by: updated_at
    delete_when: {{ column: status, values: [deleted, purged] }}
    columns:
      - {{ name: id, type: string }}
      - {{ name: status, type: string, case: lower }}
      - {{ name: updated_at, type: timestamp }}
"
        ),
    );
    dir
}

#[test]
fn a_later_file_marking_a_key_deleted_removes_it() {
    let dir = incremental_fixture();
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // B is deleted; D is deleted before it was ever loaded; C's marker is older than the
    // loaded version, so C stays and the marker is superseded, not a deletion.
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,Deleted,2026-01-02 09:00:00\nD,purged,2026-01-02 10:00:00\n\
         C,deleted,2025-12-31 00:00:00\nF,open,2026-01-02 11:00:00\n",
    );
    salespipe_ok(
        d,
        &[
            "run",
            "pipeline.yaml",
            "--quiet",
            "--summary-json",
            "s.json",
        ],
    );
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["C", "open"], vec!["F", "open"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, rows_read::VARCHAR, rows_deleted::VARCHAR,
                    rows_superseded::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources ORDER BY run_id"
        ),
        vec![vec!["1", "4", "1", "0", "3"], vec!["2", "4", "2", "1", "1"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, kind FROM salespipe.duplicates WHERE run_id = 2"
        ),
        vec![vec!["4", "superseded"]]
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert_eq!(summary["sources"][0]["rows_deleted"], 2);
    drop(db);
    // A full refresh reads both files and ends with the same table.
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id FROM orders ORDER BY id"),
        vec![vec!["A"], vec!["C"], vec!["F"]]
    );
}

/// Regression: a deleted key came back when an older version of it arrived in a later
/// file (a late export), since nothing remembered the deletion. The winning markers are
/// kept as tombstones: an older version is superseded by the deletion (listed with the
/// marker's file and line), a newer one brings the key back, and a full refresh ends
/// with the same table.
#[test]
fn an_older_version_arriving_after_a_deletion_does_not_bring_the_key_back() {
    let dir = incremental_fixture();
    let d = dir.path();
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,deleted,2026-01-02 09:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // B deleted at 01-02 09:00 (run 1's second file), E at 01-01 13:00 (never loaded).
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT id, strftime(updated_at, '%d %H:%M'), parse_filename(_file), _line::VARCHAR
             FROM salespipe.deleted_orders ORDER BY id"
        ),
        vec![
            vec!["B", "02 09:00", "orders_2026-01-02.csv", "2"],
            vec!["E", "01 13:00", "orders_2026-01-01.csv", "5"]
        ]
    );
    drop(db);
    // Late versions: B and E older than their deletions, C newer than its version.
    write(
        d,
        "data/orders_2026-01-03.csv",
        "id,status,updated_at\nB,open,2026-01-01 20:00:00\nE,open,2025-12-31 00:00:00\n\
         C,shipped,2026-01-03 08:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["C", "shipped"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, kind, parse_filename(kept_file), kept_line::VARCHAR
             FROM salespipe.duplicates WHERE run_id = 2 ORDER BY line"
        ),
        vec![
            vec!["2", "superseded", "orders_2026-01-02.csv", "2"],
            vec!["3", "superseded", "orders_2026-01-01.csv", "5"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT rows_read::VARCHAR, rows_superseded::VARCHAR, rows_deleted::VARCHAR,
                    rows_loaded::VARCHAR
             FROM salespipe.run_sources WHERE run_id = 2"
        ),
        vec![vec!["3", "2", "0", "1"]]
    );
    drop(db);
    // A newer version brings B back and ends its tombstone.
    write(
        d,
        "data/orders_2026-01-04.csv",
        "id,status,updated_at\nB,open,2026-01-04 10:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["C", "shipped"]]
    );
    assert_eq!(
        rows(&db, "SELECT id FROM salespipe.deleted_orders ORDER BY id"),
        vec![vec!["E"]]
    );
    drop(db);
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(&db, "SELECT id, status FROM orders ORDER BY id"),
        vec![vec!["A", "open"], vec!["B", "open"], vec!["C", "shipped"]]
    );
    assert_eq!(
        rows(&db, "SELECT id FROM salespipe.deleted_orders ORDER BY id"),
        vec![vec!["E"]]
    );
}

/// Regression: a full refresh ranked a source's files by path while the incremental
/// runs had applied them in the order they arrived, so the two disagreed on a tie
/// (no `latest_by`, or equal `latest_by`): `prices_10.csv` sorts before `prices_9.csv`
/// but arrived later; an older file that grew was read again after a newer one. A
/// rebuild now reads the files in the order they arrived, then by path.
#[test]
fn a_full_refresh_ends_as_the_incremental_runs_did_when_versions_tie() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: prices
    path: data/prices_*.csv
    format: csv
    load: incremental
    key: [sku]
    columns:
      - {{ name: sku, type: string }}
      - {{ name: price, type: integer }}
  - name: orders
    path: data/orders_*.csv
    format: csv
    load: incremental
    key: [id]
    latest_by: updated_at
    delete_when: {{ column: status, values: [deleted] }}
    columns:
      - {{ name: id, type: string }}
      - {{ name: status, type: string }}
      - {{ name: updated_at, type: timestamp }}
"
        ),
    );
    write(d, "data/prices_9.csv", "sku,price\nP1,1\n");
    write(
        d,
        "data/orders_1.csv",
        "id,status,updated_at\nA,open,2026-01-01 00:00:00\n",
    );
    write(
        d,
        "data/orders_2.csv",
        "id,status,updated_at\nA,deleted,2026-01-01 00:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    // Run 2: a later price file; the older orders file grows (re-exported): its A ties
    // with the deletion and, read later, wins as the newer load.
    write(d, "data/prices_10.csv", "sku,price\nP1,2\n");
    write(
        d,
        "data/orders_1.csv",
        "id,status,updated_at\nA,open,2026-01-01 00:00:00\nB,open,2026-01-01 00:00:00\n",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let tables = |d: &std::path::Path| {
        let db = open_db(&d.join("out/w.duckdb"));
        let t = (
            rows(&db, "SELECT sku, price::VARCHAR FROM prices ORDER BY ALL"),
            rows(&db, "SELECT id, status FROM orders ORDER BY ALL"),
            rows(&db, "SELECT id FROM salespipe.deleted_orders ORDER BY ALL"),
        );
        drop(db);
        t
    };
    let history = tables(d);
    assert_eq!(history.0, vec![vec!["P1", "2"]]);
    assert_eq!(history.1, vec![vec!["A", "open"], vec!["B", "open"]]);
    assert!(history.2.is_empty(), "{history:?}");
    // The project moved (another checkout) and rebuilt at once: the files are known by
    // their content, and keep their order.
    let moved = tempfile::tempdir().unwrap();
    let m = moved.path();
    for sub in ["data", "models"] {
        copy_dir(&d.join(sub), &m.join(sub));
    }
    std::fs::copy(d.join("pipeline.yaml"), m.join("pipeline.yaml")).unwrap();
    std::fs::create_dir_all(m.join("out")).unwrap();
    std::fs::copy(d.join("out/w.duckdb"), m.join("out/w.duckdb")).unwrap();
    salespipe_ok(
        moved.path(),
        &["run", "pipeline.yaml", "--quiet", "--full-refresh"],
    );
    assert_eq!(tables(moved.path()), history);
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    assert_eq!(tables(d), history);
    // The order survives the full refresh, which reloads every file.
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    assert_eq!(tables(d), history);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT parse_filename(file), arrived::VARCHAR FROM salespipe.manifest
             WHERE source = 'prices' AND file LIKE '%.csv' ORDER BY arrived, file"
        ),
        vec![vec!["prices_9.csv", "1"], vec!["prices_10.csv", "2"]]
    );
}

/// Regression: a row sent again in a later file of an `append` source was appended
/// again, while a rebuild (a file that grew, `--full-refresh`) dropped it as an exact
/// duplicate, so the table depended on its history: a row identical to one already in
/// the table is an exact duplicate (kept row blank: the table's), for an incremental
/// source too.
#[test]
fn a_row_sent_again_in_a_later_file_is_an_exact_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: events
    path: data/ev_*.csv
    format: csv
    load: append
    columns:
      - {{ name: event_id, type: string }}
      - {{ name: qty, type: integer }}
  - name: prices
    path: data/prices_*.csv
    format: csv
    load: incremental
    key: [sku]
    columns:
      - {{ name: sku, type: string }}
      - {{ name: price, type: integer }}
"
        ),
    );
    write(d, "data/ev_1.csv", "event_id,qty\nE1,1\nE0,\n");
    write(d, "data/prices_1.csv", "sku,price\nP1,1\nP2,1\n");
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    write(d, "data/ev_2.csv", "event_id,qty\nE1,1\nE2,2\nE0,\n");
    write(d, "data/prices_2.csv", "sku,price\nP2,1\nP1,3\n");
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    let events = "SELECT event_id, coalesce(qty::VARCHAR, '-') FROM events ORDER BY ALL";
    assert_eq!(
        rows(&db, events),
        vec![vec!["E0", "-"], vec!["E1", "1"], vec!["E2", "2"]]
    );
    // Run 2: E1 and E0 (a blank compared as equal) of ev_2, P2 of prices_2.
    assert_eq!(
        rows(
            &db,
            "SELECT source, rows_read::VARCHAR, rows_exact_duplicate::VARCHAR,
                    rows_loaded::VARCHAR
             FROM salespipe.run_sources WHERE run_id = 2 ORDER BY source"
        ),
        vec![vec!["events", "3", "2", "1"], vec!["prices", "2", "1", "1"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT source, parse_filename(file), line::VARCHAR, kind,
                    coalesce(kept_file, '-'), coalesce(kept_line::VARCHAR, '-')
             FROM salespipe.duplicates WHERE run_id = 2 ORDER BY source, line"
        ),
        vec![
            vec!["events", "ev_2.csv", "2", "exact", "-", "-"],
            vec!["events", "ev_2.csv", "4", "exact", "-", "-"],
            vec!["prices", "prices_2.csv", "2", "exact", "-", "-"]
        ]
    );
    drop(db);
    // ev_2 grows: the source is rebuilt from both files, to the same rows plus E3.
    write(d, "data/ev_2.csv", "event_id,qty\nE1,1\nE2,2\nE0,\nE3,3\n");
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    let want = vec![
        vec!["E0", "-"],
        vec!["E1", "1"],
        vec!["E2", "2"],
        vec!["E3", "3"],
    ];
    assert_eq!(rows(&db, events), want);
    drop(db);
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet", "--full-refresh"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(rows(&db, events), want);
    assert_eq!(
        rows(&db, "SELECT sku, price::VARCHAR FROM prices ORDER BY ALL"),
        vec![vec!["P1", "3"], vec!["P2", "1"]]
    );
}

/// Regression: `references` checked against every row of the referenced source,
/// deletion markers included, so a line of a deleted order passed. Only the keys the
/// table holds after loading count: on a first load (E, a marker only) and on a later
/// load whose file deletes a loaded key (B).
#[test]
fn a_reference_to_a_deleted_key_is_rejected() {
    let dir = incremental_fixture();
    let d = dir.path();
    let pipeline = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap()
        + "  - name: lines
    path: data/lines.csv
    format: csv
    columns:
      - { name: order_id, type: string, references: orders.id }
      - { name: qty, type: integer }
";
    write(d, "pipeline.yaml", pipeline);
    write(d, "data/lines.csv", "order_id,qty\nA,1\nE,2\nB,3\n");
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, line::VARCHAR, column_name, rule, value
             FROM salespipe.rejects ORDER BY run_id, line"
        ),
        vec![vec!["1", "3", "order_id", "references", "E"]]
    );
    drop(db);
    // B is deleted by the new orders file; the new lines file refers to B and C.
    write(
        d,
        "data/orders_2026-01-02.csv",
        "id,status,updated_at\nB,deleted,2026-01-02 09:00:00\n",
    );
    write(d, "data/lines.csv", "order_id,qty\nB,4\nC,5\n");
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, line::VARCHAR, column_name, rule, value
             FROM salespipe.rejects ORDER BY run_id, line"
        ),
        vec![
            vec!["1", "3", "order_id", "references", "E"],
            vec!["2", "2", "order_id", "references", "B"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT order_id, qty::VARCHAR FROM lines ORDER BY order_id"
        ),
        vec![vec!["C", "5"]]
    );
}

#[test]
fn csv_comment_lines_are_skipped_and_later_lines_keep_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    // 1 comment before the header; 4 a comment holding a quote; 5-6 one record whose
    // quoted name holds a line starting with `#` (data, not a comment); 7 a `#` inside a
    // field; 8 a comment; 9 a bad amount; 10 a last record.
    write(
        d,
        "data/items.csv",
        "# exported 2026-01-31\nid,name,amount\n1,a,10\n# a \"quoted comment\n2,\"b\n#not a comment\",x\n\
         3,c #5,30\n#end\n4,d,oops\n5,e,50\n",
    );
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: items
    path: data/items.csv
    format: csv
    csv: {{ comment: \"#\" }}
    key: [id]
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
        rows(
            &db,
            "SELECT id::VARCHAR, name, amount::VARCHAR FROM items ORDER BY id"
        ),
        vec![
            vec!["1", "a", "10"],
            vec!["3", "c #5", "30"],
            vec!["5", "e", "50"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value FROM salespipe.rejects ORDER BY line"
        ),
        vec![
            vec!["5", "amount", "type", "x"],
            vec!["9", "amount", "type", "oops"]
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT rows_read::VARCHAR FROM salespipe.run_sources"),
        "5"
    );
}

#[test]
fn a_warned_row_rejected_as_an_anomaly_lists_its_warnings_in_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("models")).unwrap();
    // Quantities 1..9 and 40 (line 11, robust z 9.31); line 2 (qty 1) is below the
    // warned minimum; line 11 also has a note that fails its warned pattern.
    let mut csv = String::from("id,qty,note\n");
    for i in 1..=9 {
        csv.push_str(&format!("{i},{i},ok\n"));
    }
    csv.push_str("10,40,BAD\n");
    write(d, "data/lines.csv", csv);
    write(
        d,
        "pipeline.yaml",
        format!(
            "{PIPELINE_HEAD}sources:
  - name: lines
    path: data/lines.csv
    format: csv
    key: [id]
    columns:
      - {{ name: id, type: integer }}
      - {{ name: qty, type: integer, min: 2, warn: [min] }}
      - {{ name: note, type: string, pattern: '[a-z]+', warn: [pattern] }}
    anomalies:
      - {{ column: qty, method: robust_z, action: reject }}
"
        ),
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/w.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value FROM salespipe.rejects
             ORDER BY line, rule"
        ),
        vec![
            vec!["11", "qty", "anomaly", "40"],
            vec!["11", "note", "pattern", "BAD"]
        ]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT line::VARCHAR, column_name, rule, value FROM salespipe.warnings"
        ),
        vec![vec!["2", "qty", "min", "1"]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT rows_rejected::VARCHAR, rows_warned::VARCHAR, rows_loaded::VARCHAR
             FROM salespipe.run_sources"
        ),
        vec![vec!["1", "1", "9"]]
    );
}
