//! The tiny hand-made company in `tests/fixtures/tiny`, run end to end through the
//! binary. Every expected figure is worked out by hand below.
//!
//! orders.csv (header = line 1)
//!   2 SO-1 2026-09-03 USD C1(North) completed
//!   3 SO-2 05/09/2026 (dd/mm/yyyy -> 2026-09-05) EUR customer " c2 " -> C2 (South)
//!   4 SO-3 shipped -> superseded by line 7 (cancelled, later updated_at)
//!   5 SO-4 2026-08-20 USD C2, previous month
//!   6 exact duplicate of line 2
//!   7 SO-3 cancelled (latest version): excluded from revenue
//!   8 SO-5 order_date 2026-13-01: rejected (type)
//!   read 7 = rejected 1 + exact 1 + superseded 1 + loaded 4
//! order_lines.csv
//!   2 SO-1/1 SKU-A 2 x 200.00 -10 % = 360.00, cogs 2 x 120 = 240.00  (Furniture, North)
//!   3 SO-1/2 qty 10: superseded by line 7 (qty 12, later updated_at)
//!   4 SO-2/1 sku-b -> SKU-B, 4 x 3.00 -5 % = 11.40 EUR x 1.10 = 12.54 USD, cogs 4.00
//!   5 SO-3/1 belongs to the cancelled order: excluded
//!   6 SO-4/1 190.00, cogs 120.00 (August)
//!   7 SO-1/2 12 x 2.50 = 30.00, cogs 12.00 (Office Supplies, North)
//!   8 quantity `abc`: rejected (type)
//!   9 SKU-Z: rejected (references)
//!  10 quantity -1: rejected (min)
//!  11 exact duplicate of line 2
//!  12 SO-5/1: loaded, but its order was rejected, so it joins nothing
//!   read 11 = rejected 3 + exact 1 + superseded 1 + loaded 6
//! products.csv: lines 3-4 are one record with a quoted newline; line 5 (SKU-D,
//!   unit_cost `n/a`) is rejected at line 5, not 4.
//!
//! September 2026: net revenue 360.00 + 30.00 + 12.54 = 402.54; units 2 + 12 + 4 = 18;
//! COGS 240.00 + 12.00 + 4.00 = 256.00; gross profit 146.54; orders 2.
//! By region x category: North/Furniture 360.00 (2 units, cogs 240.00, GP 120.00);
//! North/Office Supplies 30.00 (12, 12.00, 18.00); South/Office Supplies 12.54 (4,
//! 4.00, 8.54). August 2026: 190.00, 1 unit, cogs 120.00, GP 70.00.

use crate::common::*;

#[test]
fn tiny_company_end_to_end() {
    let dir = fixture("tiny");
    let out = salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--summary-json", "summary.json"],
    );
    assert!(out.contains("succeeded"), "{out}");

    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    let cells = rows(
        &db,
        "SELECT region, category, net_revenue::VARCHAR, units::VARCHAR, cogs::VARCHAR,
                gross_profit::VARCHAR, orders::VARCHAR
         FROM mart_monthly_sales WHERE month = DATE '2026-09-01' ORDER BY ALL",
    );
    assert_eq!(
        cells,
        vec![
            vec!["North", "Furniture", "360.00", "2", "240.00", "120.00", "1"],
            vec![
                "North",
                "Office Supplies",
                "30.00",
                "12",
                "12.00",
                "18.00",
                "1"
            ],
            vec![
                "South",
                "Office Supplies",
                "12.54",
                "4",
                "4.00",
                "8.54",
                "1"
            ],
        ]
    );
    let aug = rows(
        &db,
        "SELECT sum(net_revenue)::VARCHAR, sum(units)::VARCHAR, sum(cogs)::VARCHAR,
                sum(gross_profit)::VARCHAR
         FROM mart_monthly_sales WHERE month = DATE '2026-08-01'",
    );
    assert_eq!(aug, vec![vec!["190.00", "1", "120.00", "70.00"]]);

    // Rejects: file, line, column and rule, one row per failed rule.
    let rejects = rows(
        &db,
        "SELECT source, regexp_extract(file, '[^/]+$'), line::VARCHAR, column_name, rule, value
         FROM salespipe.rejects ORDER BY source, line",
    );
    assert_eq!(
        rejects,
        vec![
            vec![
                "order_lines",
                "order_lines.csv",
                "8",
                "quantity",
                "type",
                "abc"
            ],
            vec![
                "order_lines",
                "order_lines.csv",
                "9",
                "sku",
                "references",
                "SKU-Z"
            ],
            vec![
                "order_lines",
                "order_lines.csv",
                "10",
                "quantity",
                "min",
                "-1"
            ],
            vec![
                "orders",
                "orders.csv",
                "8",
                "order_date",
                "type",
                "2026-13-01"
            ],
            vec!["products", "products.csv", "5", "unit_cost", "type", "n/a"],
        ]
    );
    let raw = scalar(
        &db,
        "SELECT raw_text FROM salespipe.rejects WHERE source = 'products'",
    );
    assert_eq!(raw, "SKU-D,Lamp,Furniture,Lamps,40.00,n/a");

    let dups = rows(
        &db,
        "SELECT source, line::VARCHAR, kind, kept_line::VARCHAR FROM salespipe.duplicates
         ORDER BY source, line",
    );
    assert_eq!(
        dups,
        vec![
            vec!["order_lines", "3", "superseded", "7"],
            vec!["order_lines", "11", "exact", "2"],
            vec!["orders", "4", "superseded", "7"],
            vec!["orders", "6", "exact", "2"],
        ]
    );

    // Run log: one succeeded run with per-source counts that add up.
    let log = rows(
        &db,
        "SELECT run_id::VARCHAR, pipeline, as_of::VARCHAR, status FROM salespipe.run_log",
    );
    assert_eq!(log, vec![vec!["1", "tiny", "2026-09-30", "succeeded"]]);
    let counts = rows(
        &db,
        "SELECT source, rows_read::VARCHAR, rows_rejected::VARCHAR, rows_exact_duplicate::VARCHAR,
                rows_superseded::VARCHAR, rows_loaded::VARCHAR
         FROM salespipe.run_sources WHERE rows_read > 0 ORDER BY source",
    );
    assert_eq!(
        counts,
        vec![
            vec!["customers", "2", "0", "0", "0", "2"],
            vec!["fx_rates", "4", "0", "0", "0", "4"],
            vec!["order_lines", "11", "3", "1", "1", "6"],
            vec!["orders", "7", "1", "1", "1", "4"],
            vec!["products", "4", "1", "0", "0", "3"],
        ]
    );
    // The quoted newline survives in the loaded value.
    let chair = scalar(&db, "SELECT product_name FROM products WHERE sku = 'SKU-C'");
    assert_eq!(chair, "Chair, ergonomic\n(black)");
    drop(db);

    // Parquet at stable per-table paths, readable by another reader.
    let parquet = dir.path().join("out/parquet");
    // fct_order_lines by year and month, mart_monthly_sales by year, rejects whole.
    for (table, file) in [
        (
            "fct_order_lines",
            "year=2026/month=2026-09-01/data_0.parquet",
        ),
        ("mart_monthly_sales", "year=2026/data_0.parquet"),
        ("rejects", "data.parquet"),
    ] {
        let link = parquet.join(table);
        assert!(link.is_symlink(), "{table} is published as a link");
        assert!(link.join(file).is_file(), "{table}/{file}");
    }
    let mem = duckdb::Connection::open_in_memory().unwrap();
    let total = scalar(
        &mem,
        &format!(
            "SELECT sum(net_revenue)::VARCHAR FROM read_parquet('{}/mart_monthly_sales/**/*.parquet')
             WHERE month = DATE '2026-09-01'",
            parquet.display()
        ),
    );
    assert_eq!(total, "402.54");

    // The report shows the as-of month's figures.
    let md =
        std::fs::read_to_string(dir.path().join("out/reports/monthly_sales-2026-09.md")).unwrap();
    assert!(
        md.contains("| Net sales (booked) | 402.54 | 190.00 | 111.9 % |"),
        "{md}"
    );
    // No returns in the tiny company: net revenue after returns is the same.
    assert!(md.contains("| Returns | 0.00 | 0.00 | |"), "{md}");
    assert!(
        md.contains("| Net revenue | 402.54 | 190.00 | 111.9 % |"),
        "{md}"
    );
    assert!(md.contains("| Net units | 18 | 1 | |"), "{md}");
    assert!(
        md.contains("| Gross profit | 146.54 | 70.00 | 109.3 % |"),
        "{md}"
    );
    assert!(md.contains("| COGS | 256.00 | 120.00 | |"), "{md}");
    assert!(md.contains("| Orders | 2 | 1 | |"), "{md}");
    assert!(
        md.contains("| South | Office Supplies | 12.54 | 0.00 | 12.54 | 4 | 4.00 | 8.54 | 1 |"),
        "{md}"
    );
    let html =
        std::fs::read_to_string(dir.path().join("out/reports/monthly_sales-2026-09.html")).unwrap();
    assert!(html.contains("<td class=\"n\">402.54</td>"), "{html}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["status"], "succeeded");
    assert_eq!(summary["as_of"], "2026-09-30");
}

#[test]
fn as_of_on_the_command_line_wins() {
    let dir = fixture("tiny");
    salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--as-of", "2026-08-31"],
    );
    let md =
        std::fs::read_to_string(dir.path().join("out/reports/monthly_sales-2026-08.md")).unwrap();
    assert!(md.contains("| Net sales (booked) | 190.00 |"), "{md}");
    // July had no sale: its figures are 0.00, not blanks, and changes over them blank.
    assert!(
        md.contains("| Net sales (booked) | 190.00 | 0.00 | – |"),
        "{md}"
    );
    assert!(md.contains("| Orders | 1 | 0 | |"), "{md}");
    assert!(
        md.contains("| South | 190.00 | 1 | 70.00 | 36.8 % | 0.00 | – |"),
        "{md}"
    );
    // `latest` is the newest loaded order date: 2026-09-10 (SO-3; SO-5 was rejected).
    salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--as-of", "latest"],
    );
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    assert_eq!(
        scalar(
            &db,
            "SELECT as_of::VARCHAR FROM salespipe.run_log WHERE run_id = 2"
        ),
        "2026-09-10"
    );
}

/// Appends a new order line to the tiny fixture's extract, so the next run has data to
/// load.
fn add_order_line(dir: &std::path::Path) {
    let lines = dir.join("data/order_lines.csv");
    let mut text = std::fs::read_to_string(&lines).unwrap();
    text.push_str("SO-4,2,SKU-B,100,2.50,0,2026-08-24 12:00:00\n");
    std::fs::write(&lines, text).unwrap();
}

/// Runs the pipeline expecting run 2 to fail with `needle` in its message; checks that
/// `order_lines` kept its 6 rows and the run log says failed. Returns the warehouse and
/// the logged reason.
fn run_2_fails(dir: &std::path::Path, needle: &str) -> (duckdb::Connection, String) {
    let out = salespipe(dir, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{err}");
    let db = open_db(&dir.join("out/warehouse.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM order_lines"),
        "6"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, status FROM salespipe.run_log ORDER BY run_id"
        ),
        vec![vec!["1", "succeeded"], vec!["2", "failed"]]
    );
    let reason = scalar(&db, "SELECT reason FROM salespipe.run_log WHERE run_id = 2");
    assert!(reason.contains(needle), "{reason}");
    // The tables staged before the data transaction are dropped with it.
    assert_eq!(staged_tables(&db), Vec::<Vec<String>>::new());
    (db, reason)
}

/// The staged tables (`_salespipe_stage$<source>`) in a warehouse.
fn staged_tables(db: &duckdb::Connection) -> Vec<Vec<String>> {
    rows(
        db,
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '_salespipe_stage$')
         ORDER BY ALL",
    )
}

#[test]
fn a_killed_runs_staged_table_is_dropped_by_the_next_run() {
    let dir = fixture("tiny");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    // A run killed between staging `order_lines` and its data transaction leaves the
    // staged table behind (it is committed); the tables themselves are untouched.
    {
        let db = duckdb::Connection::open(dir.path().join("out/warehouse.duckdb")).unwrap();
        db.execute_batch(
            "CREATE TABLE \"_salespipe_stage$order_lines\" AS SELECT * FROM order_lines LIMIT 1;
             CREATE TABLE \"_salespipe_stage$products\" AS SELECT * FROM products;
             CREATE TABLE \"_salespipe_stage$a_source_since_removed\" AS SELECT 1 AS x",
        )
        .unwrap();
    }
    add_order_line(dir.path());
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    assert_eq!(staged_tables(&db), Vec::<Vec<String>>::new());
    // Only order_lines changed: its 6 rows and the new line, none of the leftover.
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM order_lines"),
        "7"
    );
    assert_eq!(
        rows(
            &db,
            "SELECT order_id, line_no::VARCHAR, quantity::VARCHAR FROM order_lines
             WHERE order_id = 'SO-4' ORDER BY ALL"
        ),
        vec![vec!["SO-4", "1", "1"], vec!["SO-4", "2", "100"]]
    );
}

#[test]
fn a_failing_model_rolls_back_and_is_logged() {
    let dir = fixture("tiny");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let mart = dir.path().join("out/parquet/mart_monthly_sales");
    let before = std::fs::read_link(&mart).unwrap();
    // Break a downstream model and change an extract: nothing of it may land.
    std::fs::write(
        dir.path().join("sql/models/marts/zz_broken.sql"),
        "SELECT no_such_column FROM {{ ref(\"orders\") }}",
    )
    .unwrap();
    add_order_line(dir.path());
    let (db, reason) = run_2_fails(dir.path(), "zz_broken");
    assert!(reason.contains("no_such_column"), "{reason}");
    // The failed run's rejects are still recorded: only order_lines changed, so only it
    // was read again (lines 8, 9, 10).
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.rejects WHERE run_id = 2"
        ),
        "3"
    );
    assert_eq!(
        std::fs::read_link(&mart).unwrap(),
        before,
        "Parquet link unchanged"
    );
    assert!(!dir
        .path()
        .join("out/parquet/.versions/mart_monthly_sales/run-2")
        .exists());
}

#[test]
fn a_failed_run_writes_its_summary_and_a_bad_config_is_logged_when_the_warehouse_exists() {
    let dir = fixture("tiny");
    let d = dir.path();
    let pipeline = d.join("pipeline.yaml");
    let good = std::fs::read_to_string(&pipeline).unwrap();
    let missing = good.replace("path: data/order_lines.csv", "path: data/missing.csv");
    let set_pipeline = |text: &str| std::fs::write(&pipeline, text).unwrap();
    // Runs with `--summary-json NAME` and `extra`; the exit code and the summary.
    let run = |name: &str, extra: &[&str]| -> (Option<i32>, serde_json::Value) {
        let mut args = vec!["run", "pipeline.yaml", "--quiet", "--summary-json", name];
        args.extend(extra);
        let code = salespipe(d, &args).status.code();
        let text = std::fs::read_to_string(d.join(name)).unwrap();
        (code, serde_json::from_str(&text).unwrap())
    };
    let null = serde_json::Value::Null;
    let failed: serde_json::Value = "failed".into();

    // No warehouse yet: a configuration error creates none, and the summary still says
    // why the run failed (not recorded anywhere else, so no run id).
    set_pipeline(&missing);
    let (code, s) = run("s1.json", &[]);
    assert_eq!(code, Some(2));
    assert!(!d.join("out/warehouse.duckdb").exists());
    assert_eq!(
        (&s["status"], &s["run_id"], &s["exit_code"]),
        (&failed, &null, &2.into())
    );
    assert!(
        s["reason"].as_str().unwrap().contains("no file matches"),
        "{s}"
    );

    // With a warehouse, the same error is a failed run in the run log, with its as-of,
    // and the data is untouched.
    set_pipeline(&good);
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    set_pipeline(&missing);
    let (code, s) = run("s2.json", &[]);
    assert_eq!(
        (code, &s["status"], &s["run_id"]),
        (Some(2), &failed, &2.into())
    );
    // A model that refs nothing fails before any data is read: logged the same way.
    set_pipeline(&good);
    let orphan = d.join("sql/models/marts/zz_orphan.sql");
    std::fs::write(&orphan, "SELECT * FROM {{ ref(\"nowhere\") }}").unwrap();
    let (code, s) = run("s3.json", &[]);
    assert_eq!(
        (code, &s["status"], &s["run_id"]),
        (Some(2), &failed, &3.into())
    );
    std::fs::remove_file(&orphan).unwrap();
    // An unknown key stops the typed reading of the pipeline; its warehouse is still
    // found, and the failure logged there.
    set_pipeline(&good.replacen("name: tiny\n", "name: tiny\ncolour: red\n", 1));
    let (code, s) = run("s4.json", &[]);
    assert_eq!(
        (code, &s["status"], &s["run_id"]),
        (Some(2), &failed, &4.into())
    );
    assert!(s["error"].as_str().unwrap().contains("colour"), "{s}");
    set_pipeline(&good);
    // Usage errors (a bad --as-of, a --select naming nothing) are not runs: nothing is
    // logged, but the summary a scheduler reads says so.
    std::fs::write(d.join("s5.json"), "stale").unwrap();
    let (code, s) = run("s5.json", &["--as-of", "26-09-30"]);
    assert_eq!(
        (code, &s["status"], &s["run_id"], &s["exit_code"]),
        (Some(2), &failed, &null, &2.into())
    );
    let (code, s) = run("s7.json", &["--select", "no_such_model"]);
    assert_eq!(
        (code, &s["status"], &s["run_id"], &s["exit_code"]),
        (Some(2), &failed, &null, &2.into())
    );
    assert!(
        s["error"].as_str().unwrap().contains("no_such_model"),
        "{s}"
    );
    // A run that fails on its data: the summary is the logged one.
    std::fs::write(
        d.join("sql/models/marts/zz_broken.sql"),
        "SELECT no_such_column FROM {{ ref(\"orders\") }}",
    )
    .unwrap();
    let (code, s) = run("s6.json", &[]);
    assert_eq!(
        (
            code,
            &s["status"],
            &s["run_id"],
            &s["as_of"],
            &s["exit_code"]
        ),
        (Some(1), &failed, &5.into(), &"2026-09-30".into(), &1.into())
    );
    assert!(
        s["reason"].as_str().unwrap().contains("no_such_column"),
        "{s}"
    );
    assert!(
        s["sources"].as_array().is_some_and(|a| !a.is_empty()),
        "{s}"
    );

    let db = open_db(&d.join("out/warehouse.duckdb"));
    let log = rows(
        &db,
        "SELECT run_id::VARCHAR, as_of::VARCHAR, status, coalesce(reason, '') \
         FROM salespipe.run_log ORDER BY run_id",
    );
    let expected = [
        ("succeeded", ""),
        ("failed", "no file matches `data/missing.csv`"),
        ("failed", "refs unknown relation `nowhere`"),
        ("failed", "unknown field `colour`"),
        ("failed", "no_such_column"),
    ];
    assert_eq!(log.len(), expected.len(), "{log:?}");
    for (i, (row, (status, reason))) in log.iter().zip(expected).enumerate() {
        assert_eq!(
            (row[0].as_str(), row[1].as_str(), row[2].as_str()),
            ((i + 1).to_string().as_str(), "2026-09-30", status)
        );
        if reason.is_empty() {
            assert_eq!(row[3], "", "{row:?}");
        } else {
            assert!(row[3].contains(reason), "{row:?}");
        }
    }
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM order_lines"),
        "6"
    );
    drop(db);
    // Another run holds the warehouse: the failure is not logged (the holder owns it),
    // and the summary says nothing was.
    let lock = d.join("out/warehouse.duckdb.lock");
    std::fs::write(
        &lock,
        format!("pid={}\npipeline `other`\n", std::process::id()),
    )
    .unwrap();
    set_pipeline(&missing);
    let (code, s) = run("s6.json", &[]);
    assert_eq!(
        (code, &s["status"], &s["run_id"]),
        (Some(2), &failed, &null)
    );
    assert!(
        s["reason"].as_str().unwrap().contains("no file matches"),
        "{s}"
    );
    std::fs::remove_file(&lock).unwrap();
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM salespipe.run_log"),
        "5"
    );
}

#[test]
fn a_report_query_error_is_placed_in_its_file() {
    let dir = fixture("tiny");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let query = d.join("sql/reports/sales_totals.sql");
    let text = std::fs::read_to_string(&query).unwrap().replace(
        "sum(k.net_units), 0) AS net_units",
        "sum(k.unitz), 0) AS net_units",
    );
    std::fs::write(&query, &text).unwrap();
    let at = text.find("unitz").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!(
        "error: {}:{line}:{column}: report `monthly_sales` query `totals`: Binder Error: \
         Table \"k\" does not have a column named \"unitz\"",
        query.display()
    );
    assert!(err.contains(&want), "expected `{want}` in\n{err}");
}

/// Regression: a report query file holding two statements got DuckDB's "values were not
/// provided" from `plan`; it is named for what it is, at the second statement, by `plan`
/// and by `run`.
#[test]
fn a_report_query_of_two_statements_is_named_so() {
    let dir = fixture("tiny");
    let d = dir.path();
    let query = d.join("sql/reports/sales_trend.sql");
    let text = std::fs::read_to_string(&query).unwrap();
    let text = format!("{};\n-- a leftover\nSELECT 1;\n", text.trim_end());
    std::fs::write(&query, &text).unwrap();
    let line = text.lines().count();
    let msg = "report `monthly_sales` query `trend`: holds 2 statements; a report query is a \
               single SELECT";
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("sql/reports/sales_trend.sql:{line}:1: error[E043]: {msg}");
    assert!(err.contains(&want), "expected `{want}` in\n{err}");
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let want = format!("{}:{line}:1: {msg}", query.display());
    assert!(err.contains(&want), "expected `{want}` in\n{err}");
    // Regression: a statement that is not a SELECT passed `plan`, and `run` committed
    // it with the run (reports render inside the data transaction).
    let original = std::fs::read_to_string(repo().join("sql/reports/sales_trend.sql")).unwrap();
    std::fs::write(
        &query,
        format!("CREATE TABLE main.zz_made AS SELECT 1 AS y;\n{original}"),
    )
    .unwrap();
    let msg = "report `monthly_sales` query `trend`: is not a SELECT; a report query is a \
               single SELECT";
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(msg), "{err}");
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(msg));
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM duckdb_tables() WHERE table_name = 'zz_made'"
        ),
        "0"
    );
}

#[test]
fn a_failing_export_rolls_back_and_is_logged() {
    let dir = fixture("tiny");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let parquet = dir.path().join("out/parquet");
    let links = |names: &[&str]| -> Vec<std::path::PathBuf> {
        names
            .iter()
            .map(|n| std::fs::read_link(parquet.join(n)).unwrap())
            .collect()
    };
    let models = ["fct_order_lines", "mart_monthly_sales"];
    let before = links(&models);
    // New data arrives, and the second model's export cannot be written: a file sits
    // where run 2's version folder must go.
    add_order_line(dir.path());
    std::fs::write(
        parquet.join(".versions/mart_monthly_sales/run-2"),
        "in the way",
    )
    .unwrap();
    run_2_fails(dir.path(), "mart_monthly_sales");
    assert_eq!(links(&models), before, "Parquet links unchanged");
    // The export written before the failure is discarded.
    assert!(!parquet.join(".versions/fct_order_lines/run-2").exists());
}

/// Regression: the data was committed before the reports were written and the Parquet
/// links switched, so a report that could not be written (a full disk, a read-only
/// folder) logged a failed run whose data had landed, its Parquet published. Both are
/// now written before the commit: a failure there changes nothing.
#[test]
fn a_report_or_link_that_cannot_be_written_changes_nothing() {
    let dir = fixture("tiny");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let parquet = d.join("out/parquet");
    let report = d.join("out/reports/monthly_sales-2026-09.md");
    let link = || std::fs::read_link(parquet.join("fct_order_lines")).unwrap();
    let (link_before, report_before) = (link(), std::fs::read(&report).unwrap());
    let manifest_before = std::fs::read(parquet.join("_manifest.json")).unwrap();
    add_order_line(d);
    // Where the report's temporary file goes, a folder (any write error would do).
    let blocker = d.join("out/reports/monthly_sales-2026-09.md.tmp");
    std::fs::create_dir_all(&blocker).unwrap();
    run_2_fails(d, "monthly_sales-2026-09.md.tmp");
    assert_eq!(link(), link_before, "Parquet link unchanged");
    assert_eq!(std::fs::read(&report).unwrap(), report_before);
    assert_eq!(
        std::fs::read(parquet.join("_manifest.json")).unwrap(),
        manifest_before
    );
    // Nothing left half-made: no temporary link or manifest, no run-2 version.
    let leftovers: Vec<String> = std::fs::read_dir(&parquet)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-tmp") || n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!parquet.join(".versions/fct_order_lines/run-2").exists());
    std::fs::remove_dir(&blocker).unwrap();
    // A folder where the report itself goes would fail its rename after the commit:
    // found before it.
    std::fs::remove_file(&report).unwrap();
    std::fs::create_dir(&report).unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("monthly_sales-2026-09.md: a folder is where the report goes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(link(), link_before, "Parquet link unchanged");
    assert!(!d.join("out/reports/monthly_sales-2026-09.md.tmp").exists());
    // Out of the way, the next run lands it all.
    std::fs::remove_dir(&report).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_ne!(link(), link_before);
}

#[test]
fn progress_is_silent_when_stderr_is_not_a_terminal() {
    // The test harness captures stderr through a pipe: no bars, no spinner, no escape
    // codes; the summary still goes to stdout unless `--quiet`.
    let dir = fixture("tiny");
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--as-of", "2026-09-10"],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("run 1 of `tiny` (as of 2026-09-10): succeeded\n"),
        "{stdout}"
    );
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--as-of", "2026-09-10"],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
}

/// Every Parquet file under `root` (following the table links, skipping `.versions`),
/// by path relative to `root`.
fn parquet_files(root: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap() == ".versions" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_sample_run_writes_the_same_bytes_from_a_fresh_warehouse() {
    // The daily pipeline on the sample, twice from nothing in the same folder: every
    // Parquet output (models, forecasts, rejects) is byte for byte the same. The
    // forecasts once differed in their last bits from run to run (their input was summed
    // as doubles, in DuckDB's thread order).
    let dir = sample_project();
    let out = dir.path().join("out");
    salespipe_ok(dir.path(), &["run", "pipelines/daily.yaml", "--quiet"]);
    let first = parquet_files(&out.join("parquet"));
    std::fs::remove_dir_all(&out).unwrap();
    salespipe_ok(dir.path(), &["run", "pipelines/daily.yaml", "--quiet"]);
    let second = parquet_files(&out.join("parquet"));
    assert!(
        first
            .keys()
            .any(|k| k.starts_with("forecast_category_region/")),
        "{:?}",
        first.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    let differing: Vec<&String> = first
        .iter()
        .filter(|(k, v)| second.get(*k) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    assert!(differing.is_empty(), "{differing:?}");
}

#[test]
fn markdown_reports_escape_what_markdown_would_read_as_markup() {
    // A category holding `|` would split its table cell in Markdown and shift every
    // figure after it one column; `*` would start emphasis. Escaped with a backslash in
    // the Markdown report, printed as it is (HTML-escaped) in the HTML one.
    let dir = fixture("tiny");
    let d = dir.path();
    let products = d.join("data/products.csv");
    let text = std::fs::read_to_string(&products)
        .unwrap()
        .replace(",Office Supplies,", ",Office | *Supplies*,");
    std::fs::write(&products, text).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let md = std::fs::read_to_string(d.join("out/reports/monthly_sales-2026-09.md")).unwrap();
    assert!(
        md.contains(
            "| South | Office \\| \\*Supplies\\* | 12.54 | 0.00 | 12.54 | 4 | 4.00 | 8.54 | 1 |"
        ),
        "{md}"
    );
    let html = std::fs::read_to_string(d.join("out/reports/monthly_sales-2026-09.html")).unwrap();
    assert!(html.contains("<td>Office | *Supplies*</td>"), "{html}");
}

#[test]
fn an_extract_with_a_header_only_does_not_empty_its_table() {
    let dir = fixture("tiny");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let fx = d.join("data/fx_rates.csv");
    let header = std::fs::read_to_string(&fx)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&fx, format!("{header}\n")).unwrap();
    // The snapshot would replace 4 rows with none: the run stops, changes nothing and
    // says why in the run log.
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!(
        "error: source `fx_rates`: its files hold no data rows ({}), and loading would \
         empty its table, which has 4 rows. If the extract really is empty, set \
         `allow_empty: true` on the source; the tables are unchanged",
        fx.display()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&want), "{err}");
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM fx_rates"), "4");
    assert_eq!(
        rows(
            &db,
            "SELECT status, (reason LIKE '%its files hold no data rows%')::VARCHAR
             FROM salespipe.run_log WHERE run_id = 2"
        ),
        vec![vec!["failed", "true"]]
    );
    drop(db);
    // A first load loses nothing: it creates the empty table, and says so.
    let fresh = fixture("tiny");
    std::fs::write(
        fresh.path().join("data/fx_rates.csv"),
        format!("{header}\n"),
    )
    .unwrap();
    let out = salespipe(fresh.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("source `fx_rates`: no rows to load (0 read); its table is created empty"),
        "{err}"
    );
    // Said to be empty, it empties.
    let p = d.join("pipeline.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace(
        "    path: data/fx_rates.csv\n",
        "    path: data/fx_rates.csv\n    allow_empty: true\n",
    );
    std::fs::write(&p, text).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM fx_rates"), "0");
}

#[test]
fn a_summary_path_that_cannot_be_written_stops_before_the_run() {
    // Checked first: a run that landed must not end as a failure because its summary
    // could not be written.
    let dir = fixture("tiny");
    let d = dir.path();
    let out = salespipe(
        d,
        &[
            "run",
            "pipeline.yaml",
            "--quiet",
            "--summary-json",
            "missing/summary.json",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--summary-json missing/summary.json: the folder missing does not exist; nothing was run"),
        "{err}"
    );
    assert!(!d.join("out/warehouse.duckdb").exists());
    std::fs::create_dir(d.join("here")).unwrap();
    let out = salespipe(
        d,
        &["run", "pipeline.yaml", "--quiet", "--summary-json", "here"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("out/warehouse.duckdb").exists());
}

#[test]
fn a_model_taken_out_of_the_pipeline_is_taken_out_of_the_parquet_folder() {
    let dir = fixture("tiny");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let parquet = d.join("out/parquet");
    assert!(parquet.join("dim_channel").is_dir());
    std::fs::remove_file(d.join("sql/models/marts/dim_channel.sql")).unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no longer produced by the pipeline, taken out of the Parquet folder and its \
             manifest: dim_channel; the warehouse keeps dim_channel (DROP TABLE to remove)"
        ),
        "{err}"
    );
    // No link, no versions, no manifest entry; every other table is still published.
    assert!(!parquet.join("dim_channel").exists());
    assert!(!parquet.join(".versions/dim_channel").exists());
    let manifest = std::fs::read_to_string(parquet.join("_manifest.json")).unwrap();
    assert!(!manifest.contains("\"dim_channel\""), "{manifest}");
    for t in ["dim_date", "kpi_sales_monthly", "rejects"] {
        assert!(manifest.contains(&format!("\"name\": \"{t}\"")), "{t}");
        assert!(parquet.join(t).is_dir(), "{t}");
    }
}

#[test]
fn plan_binds_the_report_queries() {
    let dir = fixture("tiny");
    let d = dir.path();
    let query = d.join("sql/reports/sales_trend.sql");
    let good = std::fs::read_to_string(&query).unwrap();
    let text = good.replace(
        "sum(gross_profit) AS gross_profit",
        "sum(gross_proft) AS gross_profit",
    );
    std::fs::write(&query, &text).unwrap();
    let at = text.find("gross_proft").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').unwrap();
    let want = format!(
        "sql/reports/sales_trend.sql:{line}:{column}: error[E043]: report `monthly_sales` query \
         `trend`: Binder Error: Referenced column \"gross_proft\" not found"
    );
    // Before any run (against the declared source columns), and as a dry run.
    for args in [
        &["plan", "pipeline.yaml"][..],
        &["run", "pipeline.yaml", "--dry-run"],
    ] {
        let out = salespipe(d, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&want), "{args:?}: expected `{want}` in\n{err}");
    }
    // A parameter the report does not bind, and a template filter that does not exist:
    // found by plan as by run.
    let trend = good.replace("$period_to", "$period_too");
    std::fs::write(&query, &trend).unwrap();
    let template = d.join("report_templates/sales_report.md.tera");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, text.replacen("| count }}", "| cnt }}", 1)).unwrap();
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let at = trend.find("$period_too").unwrap();
    let line = trend[..at].matches('\n').count() + 1;
    let column = at - trend[..at].rfind('\n').unwrap();
    assert!(
        err.contains(&format!(
            "sql/reports/sales_trend.sql:{line}:{column}: error[E043]: report `monthly_sales` \
             query `trend`: unknown parameter `$period_too`; did you mean `$period_to`?"
        )),
        "{err}"
    );
    assert!(
        err.contains("error[E060]: filter `cnt` does not exist"),
        "{err}"
    );
    std::fs::write(&template, text).unwrap();
    // Against a warehouse, a query may read the run's bookkeeping tables too.
    std::fs::write(&query, &good).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    std::fs::write(
        d.join("sql/reports/sales_totals.sql"),
        "SELECT count(*) AS runs FROM salespipe.run_log WHERE as_of <= $as_of ORDER BY 1\n",
    )
    .unwrap();
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn plan_binds_a_report_query_on_the_bookkeeping_tables_before_any_run() {
    // No warehouse yet: the run's bookkeeping tables are known to plan, empty. An
    // unknown parameter is placed at itself, not at a longer name it begins.
    let dir = fixture("tiny");
    let d = dir.path();
    let query = d.join("sql/reports/sales_totals.sql");
    std::fs::write(
        &query,
        "SELECT source, count(*) AS n FROM salespipe.rejects\n\
         WHERE run_id > 0 AND $prev_start IS NOT NULL\n\
         GROUP BY source ORDER BY source\n",
    )
    .unwrap();
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        &query,
        "SELECT count(*) AS n FROM salespipe.rejects\n\
         WHERE $prev_start IS NOT NULL\n\
         AND $prev IS NOT NULL ORDER BY 1\n",
    )
    .unwrap();
    let out = salespipe(d, &["plan", "pipeline.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sql/reports/sales_totals.sql:3:5: error[E043]: report `monthly_sales` query `totals`: unknown parameter `$prev`"),
        "{err}"
    );
}

#[test]
fn a_failing_tests_kept_rows_show_personal_data_masked() {
    // customer_name is personal data; a data test of severity error fails on it and
    // stops the run: its kept rows, in test_failures, show the name masked.
    let dir = fixture("tiny");
    let d = dir.path();
    let p = d.join("pipeline.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replacen(
        "      - { name: customer_name, type: string }\n",
        "      - { name: customer_name, type: string, pii: true }\n",
        1,
    );
    std::fs::write(&p, format!("{text}\nprivacy: {{ mask_pii: true }}\n")).unwrap();
    std::fs::write(
        d.join("sql/models/marts/zz_names.sql"),
        "-- test: { expression: \"customer_name = 'nobody'\" }\n\
         SELECT customer_id, customer_name FROM {{ ref(\"customers\") }}\n",
    )
    .unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = open_db(&d.join("out/warehouse.duckdb"));
    let kept = rows(
        &db,
        "SELECT row_json FROM salespipe.test_failures WHERE model = 'zz_names' ORDER BY 1",
    );
    assert!(!kept.is_empty());
    for r in &kept {
        assert!(r[0].contains("\"customer_name\":\"***\""), "{r:?}");
        assert!(!r[0].contains("Acme") && !r[0].contains("Beta"), "{r:?}");
    }
}

/// Ctrl-C during a run (found by a black-box review: the process died, the run log said
/// `running`, the lock and the staged tables stayed): the run is rolled back, logged as
/// failed (`interrupted`), its lock released and nothing staged left; exit code 130.
#[test]
fn ctrl_c_rolls_the_run_back_and_logs_it() {
    let dir = sample_project();
    let d = dir.path();
    salespipe_ok(d, &["run", "pipelines/daily.yaml", "--quiet"]);
    let db = open_db(&d.join("out/warehouse.duckdb"));
    let count = "SELECT count(*)::VARCHAR FROM order_lines";
    let before = scalar(&db, count);
    drop(db);
    // A full refresh of the same files would leave the same count whether it rolled back
    // or not: the Parquet link and run 2's bookkeeping tell.
    let link = || std::fs::read_link(d.join("out/parquet/fct_order_lines")).unwrap();
    let link_before = link();
    // A full refresh takes about 5 s here: interrupted 1.5 s in, mid-run.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_salespipe"))
        .args(["run", "pipelines/daily.yaml", "--quiet", "--full-refresh"])
        .current_dir(d)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("error: interrupted (Ctrl-C): the run was rolled back"),
        "{err}"
    );
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, status, coalesce(reason, '') FROM salespipe.run_log
             ORDER BY run_id"
        ),
        vec![
            vec!["1", "succeeded", ""],
            vec![
                "2",
                "failed",
                "interrupted (Ctrl-C): the run was rolled back"
            ]
        ]
    );
    assert_eq!(scalar(&db, count), before);
    assert_eq!(staged_tables(&db), Vec::<Vec<String>>::new());
    assert_eq!(
        scalar(
            &db,
            "SELECT ((SELECT count(*) FROM salespipe.manifest WHERE run_id = 2)
                 + (SELECT count(*) FROM salespipe.run_models WHERE run_id = 2))::VARCHAR"
        ),
        "0"
    );
    assert_eq!(link(), link_before);
    drop(db);
    // The lock is released: the next run starts at once, with no abandoned run.
    salespipe_ok(d, &["run", "pipelines/daily.yaml", "--quiet"]);
}
