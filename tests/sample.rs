//! The sample generator and the committed sample company.
//! - `salespipe sample` is deterministic and reproduces the committed `sample_data/`;
//! - the truth file's planted rows are exactly the rows the daily pipeline sets aside
//!   and deduplicates;
//! - the planted outliers are exactly the values the daily pipeline flags as anomalies;
//! - the report month's figures equal those computed independently by
//!   `tests/crosscheck/sample_expected.py` (Python csv + decimal), committed as
//!   `tests/fixtures/sample_expected.json`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::*;

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn sample_is_deterministic_and_matches_the_committed_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    salespipe_ok(
        tmp.path(),
        &["sample", "--out", a.to_str().unwrap(), "--seed", "42"],
    );
    salespipe_ok(
        tmp.path(),
        &["sample", "--out", b.to_str().unwrap(), "--seed", "42"],
    );
    let files = files_under(&a);
    assert_eq!(files, files_under(&b));
    assert!(files.iter().any(|f| f == "truth.csv"), "{files:?}");
    let committed = repo().join("sample_data");
    for f in &files {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(
            x,
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs"
        );
        assert_eq!(
            x,
            std::fs::read(committed.join(f)).unwrap(),
            "sample_data/{f} is stale: regenerate with `salespipe sample --out sample_data`"
        );
    }
    // Identical whatever the thread count.
    let one = tmp.path().join("one-thread");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_salespipe"))
        .args(["sample", "--out", one.to_str().unwrap(), "--seed", "42"])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    for f in &files {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(one.join(f)).unwrap(),
            "{f}"
        );
    }
    let c = tmp.path().join("c");
    salespipe_ok(
        tmp.path(),
        &["sample", "--out", c.to_str().unwrap(), "--seed", "7"],
    );
    assert_ne!(
        std::fs::read(a.join("sales/orders.csv")).unwrap(),
        std::fs::read(c.join("sales/orders.csv")).unwrap(),
        "another seed gives other data"
    );
}

/// The repository's daily pipeline run on a copy of the committed sample.
fn run_daily() -> tempfile::TempDir {
    let dir = sample_project();
    salespipe_ok(dir.path(), &["run", "pipelines/daily.yaml", "--quiet"]);
    dir
}

/// (file relative to sample_data, line) pairs from a query returning file, line.
fn located(conn: &duckdb::Connection, sql: &str, root: &Path) -> BTreeSet<(String, String)> {
    let root = format!("{}/", root.display());
    rows(conn, sql)
        .into_iter()
        .map(|r| {
            (
                r[0].strip_prefix(&root).unwrap_or(&r[0]).to_string(),
                r[1].clone(),
            )
        })
        .collect()
}

#[test]
fn truth_file_matches_rejects_and_duplicates_row_by_row() {
    let dir = run_daily();
    let root = dir.path().join("sample_data");
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    let truth_csv = dir.path().join("sample_data/truth.csv");
    // Planted rows of the files the pipeline loads (the manifest lists them).
    let truth = |kind: &str, col: &str| -> BTreeSet<(String, String)> {
        rows(
            &db,
            &format!(
                "SELECT file, {col}::VARCHAR FROM read_csv('{}', all_varchar = true)
                 WHERE expected = '{kind}'
                   AND '{}/' || file IN (SELECT file FROM salespipe.manifest)",
                truth_csv.display(),
                root.display()
            ),
        )
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
    };
    let rejected = located(
        &db,
        "SELECT DISTINCT file, line::VARCHAR FROM salespipe.rejects",
        &root,
    );
    let exact = located(
        &db,
        "SELECT file, line::VARCHAR FROM salespipe.duplicates WHERE kind = 'exact'",
        &root,
    );
    let superseded = located(
        &db,
        "SELECT file, line::VARCHAR FROM salespipe.duplicates WHERE kind = 'superseded'",
        &root,
    );
    assert!(!rejected.is_empty() && !exact.is_empty() && !superseded.is_empty());
    assert_eq!(rejected, truth("reject", "line"));
    assert_eq!(exact, truth("dedupe", "line"));
    assert_eq!(superseded, truth("supersedes", "related_line"));
    // Rows planted to be fixed were loaded: none of them is set aside.
    let fixed = truth("fix", "line");
    assert!(!fixed.is_empty());
    assert!(
        fixed.is_disjoint(&rejected),
        "a row with a declared fix was rejected"
    );
    // The pipeline's value lists, patterns and cross-column rules hold on every planted
    // `fix` row and every clean row: nothing beyond the truth is rejected or warned.
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM salespipe.warnings"),
        "0"
    );
}

#[test]
fn planted_outliers_are_exactly_the_flagged_anomalies() {
    let dir = run_daily();
    let root = dir.path().join("sample_data");
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    let outliers: BTreeSet<(String, String)> = rows(
        &db,
        &format!(
            "SELECT file, line FROM read_csv('{}', all_varchar = true)
             WHERE kind = 'outlier' AND expected = 'flag'",
            root.join("truth.csv").display()
        ),
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].clone()))
    .collect();
    assert_eq!(outliers.len(), 5);
    // Every anomaly of the run, in any source: the rule on order_lines.quantity (robust
    // z above 50 within the SKU) finds the five planted lines and nothing else; bulk
    // items' genuine large orders (up to 150 units, z up to 39.4) stay below the bar.
    let flagged = located(
        &db,
        "SELECT file, line::VARCHAR FROM salespipe.anomalies
         WHERE source = 'order_lines' AND column_name = 'quantity' AND action = 'flag'",
        &root,
    );
    assert_eq!(flagged, outliers);
    assert_eq!(
        scalar(&db, "SELECT count(*)::VARCHAR FROM salespipe.anomalies"),
        "5"
    );
    // Flagged, not dropped: the lines are loaded with their quantities.
    assert_eq!(
        rows(
            &db,
            "SELECT a.value, a.group_key, round(a.score, 2)::VARCHAR
             FROM salespipe.anomalies a ORDER BY a.line"
        ),
        vec![
            vec!["300", "sku=SKU-0023", "66.32"],
            vec!["300", "sku=SKU-0028", "66.32"],
            vec!["300", "sku=SKU-0017", "66.32"],
            vec!["300", "sku=SKU-0076", "66.32"],
            vec!["800", "sku=SKU-0028", "178.74"],
        ]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM order_lines WHERE quantity >= 300"
        ),
        "5"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT rows_anomalous::VARCHAR FROM salespipe.run_sources
             WHERE source = 'order_lines'"
        ),
        "5"
    );
}

#[test]
fn report_month_matches_the_independent_cross_check() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/sample_expected.json")).unwrap(),
    )
    .unwrap();
    let dir = run_daily();
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    let total = |month: &str| {
        rows(
            &db,
            &format!(
                "SELECT sum(net_revenue)::VARCHAR, sum(units)::VARCHAR, sum(cogs)::VARCHAR,
                        sum(gross_profit)::VARCHAR, count(DISTINCT order_id)::VARCHAR
                 FROM fct_order_lines WHERE month = DATE '{month}'"
            ),
        )
        .remove(0)
    };
    let as_strings = |t: &serde_json::Value| -> Vec<String> {
        ["net_revenue", "units", "cogs", "gross_profit", "orders"]
            .iter()
            .map(|k| match &t[*k] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    };
    assert_eq!(total("2026-09-01"), as_strings(&expected["total"]));
    assert_eq!(total("2026-08-01"), as_strings(&expected["previous_total"]));

    let cells = rows(
        &db,
        "SELECT region, category, net_revenue::VARCHAR, units::VARCHAR, cogs::VARCHAR,
                gross_profit::VARCHAR
         FROM mart_monthly_sales WHERE month = DATE '2026-09-01' ORDER BY region, category",
    );
    let want: Vec<Vec<String>> = expected["by_region_category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            [
                "region",
                "category",
                "net_revenue",
                "units",
                "cogs",
                "gross_profit",
            ]
            .iter()
            .map(|k| match &c[*k] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
        })
        .collect();
    assert_eq!(cells, want);

    // Per-file counts: read = rejected + duplicates + superseded + loaded.
    let sources = [
        ("sales/products.csv", "products"),
        ("sales/customers.csv", "customers"),
        ("finance/fx_rates.csv", "fx_rates"),
        ("sales/orders.csv", "orders"),
        ("sales/order_lines.csv", "order_lines"),
    ];
    for (file, source) in sources {
        let got = rows(
            &db,
            &format!(
                "SELECT rows_read::VARCHAR, rows_rejected::VARCHAR, rows_exact_duplicate::VARCHAR,
                        rows_superseded::VARCHAR, rows_loaded::VARCHAR
                 FROM salespipe.run_sources WHERE source = '{source}'"
            ),
        )
        .remove(0);
        let c = &expected["counts"][file];
        let want: Vec<String> = ["read", "rejected", "duplicates", "superseded", "loaded"]
            .iter()
            .map(|k| c[*k].to_string())
            .collect();
        assert_eq!(got, want, "{file}");
    }
    // Every source: nothing read is lost, and the table holds exactly what was loaded.
    let sources = rows(
        &db,
        "SELECT source, (rows_read - rows_rejected - rows_exact_duplicate - rows_superseded
                 - rows_loaded)::VARCHAR, rows_loaded::VARCHAR FROM salespipe.run_sources
         ORDER BY source",
    );
    assert_eq!(sources.len(), 24);
    for s in sources {
        assert_eq!(s[1], "0", "{}: rows read but not accounted for", s[0]);
        let n = scalar(
            &db,
            &format!("SELECT count(*)::VARCHAR FROM main.\"{}\"", s[0]),
        );
        assert_eq!(n, s[2], "{}", s[0]);
    }

    // The report shows the cross-checked headline figure.
    let md =
        std::fs::read_to_string(dir.path().join("out/reports/monthly_sales-2026-09.md")).unwrap();
    let net = expected["total"]["net_revenue"].as_str().unwrap();
    let formatted = salespipe::util::format_decimal(net.parse().unwrap(), 2);
    assert!(
        md.contains(&format!("| Net sales (booked) | {formatted} |")),
        "{formatted} not in\n{md}"
    );
    // Net revenue after returns is the KPI figure, cross-checked independently too.
    let after_returns = expected["kpi"]["sales_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-09-01")
        .unwrap()["net_revenue"]
        .as_str()
        .unwrap();
    // The month is over: it is compared with the whole of August (31 days), also
    // cross-checked.
    let month = |m: &str| {
        let v = expected["kpi"]["sales_by_month"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["month"] == m)
            .unwrap()["net_revenue"]
            .as_str()
            .unwrap();
        salespipe::util::format_decimal(v.parse().unwrap(), 2)
    };
    assert_eq!(
        month("2026-09-01"),
        salespipe::util::format_decimal(after_returns.parse().unwrap(), 2)
    );
    let want = format!(
        "| Net revenue | {} | {} |",
        month("2026-09-01"),
        month("2026-08-01")
    );
    assert!(md.contains(&want), "{want} not in\n{md}");
    // The quarterly report, from the same queries, adds up the quarter's three months of
    // the cross-check: July to September 2026.
    let quarter: rust_decimal::Decimal = expected["kpi"]["sales_by_month"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            ["2026-07-01", "2026-08-01", "2026-09-01"].contains(&m["month"].as_str().unwrap())
        })
        .map(|m| {
            m["net_revenue"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    let formatted = salespipe::util::format_decimal(quarter, 2);
    let md =
        std::fs::read_to_string(dir.path().join("out/reports/quarterly_sales-2026-Q3.md")).unwrap();
    assert!(
        md.starts_with("# Quarterly sales report: 2026-Q3\n"),
        "{md}"
    );
    assert!(
        md.contains(&format!("| Net revenue | {formatted} | ")),
        "{formatted} not in\n{md}"
    );
    // The weekly report: the ISO week holding the as-of date, Monday 28 to Wednesday 30
    // September so far, against the same three days of the week before and of 2025-W40
    // (Monday 2025-09-29); the figures from the independent cross-check, by date.
    let md =
        std::fs::read_to_string(dir.path().join("out/reports/weekly_sales-2026-W40.md")).unwrap();
    let days = |from: &str, to: &str| {
        let w = expected["kpi"]["sales_by_days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["from"] == from && w["to"] == to)
            .unwrap();
        let v: rust_decimal::Decimal = w["net_revenue"].as_str().unwrap().parse().unwrap();
        salespipe::util::format_decimal(v, 2)
    };
    assert_eq!(days("2026-09-21", "2026-09-23"), "11,423.42");
    assert!(
        md.contains(&format!(
            "| Net revenue | {} | {} |",
            days("2026-09-28", "2026-09-30"),
            days("2026-09-21", "2026-09-23")
        )),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "Same period last year (2025-W40, same days): net revenue {} ",
            days("2025-09-29", "2025-10-01")
        )),
        "{md}"
    );
    assert!(
        md.contains("2026-09-28 to 2026-09-30 (to date: the period runs to 2026-10-04;"),
        "{md}"
    );
}
