//! Period close on the small hand-made company (`tests/fixtures/kpi_small`, its orders
//! and order lines read from `data/orders*.csv` so that a late file can arrive): the
//! headline KPI tables keep one snapshot per as-of, a late order restates a closed month
//! by exactly its amount, rerunning an as-of replaces its snapshot, a failed run keeps
//! none, and the snapshots are published as Parquet partitioned by `as_of`.

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::common::*;

const ORDERS_HEADER: &str = "order_id,order_date,promised_date,ship_date,ship_mode,channel,\
                             status,currency,customer_id,rep_id,updated_at,campaign_id,warehouse";
const LINES_HEADER: &str = "order_id,line_no,sku,quantity,unit_price,discount_pct,updated_at";

/// Rows of `sql` with every column as text.
fn q(db: &duckdb::Connection, sql: &str) -> Vec<Vec<String>> {
    rows(db, &format!("SELECT COLUMNS(*)::VARCHAR FROM ({sql})"))
}

fn t(want: &[&[&str]]) -> Vec<Vec<String>> {
    want.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

/// Writes a late file of one order with one line.
fn late_order(dir: &Path, name: &str, order: &str, line: &str) {
    std::fs::write(
        dir.join(format!("data/orders_{name}.csv")),
        format!("{ORDERS_HEADER}\n{order}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("data/order_lines_{name}.csv")),
        format!("{LINES_HEADER}\n{line}\n"),
    )
    .unwrap();
}

fn snapshot_rows(db: &duckdb::Connection, as_of: &str) -> Vec<Vec<String>> {
    q(
        db,
        &format!(
            "SELECT * FROM kpi_sales_monthly_snapshots WHERE as_of = DATE '{as_of}' ORDER BY ALL"
        ),
    )
}

/// Rows of a Parquet file, from its footer.
fn parquet_rows(path: &Path) -> i64 {
    SerializedFileReader::new(File::open(path).unwrap())
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows()
}

#[test]
fn a_late_order_restates_the_published_close_by_its_amount() {
    let dir = fixture("kpi_small");
    let d = dir.path();
    let yaml = std::fs::read_to_string(d.join("pipeline.yaml")).unwrap();
    let yaml = yaml
        .replace("path: data/orders.csv", "path: data/orders*.csv")
        .replace("path: data/order_lines.csv", "path: data/order_lines*.csv");
    std::fs::write(d.join("pipeline.yaml"), yaml).unwrap();
    let db_path = d.join("out/warehouse.duckdb");

    // Close A: April 2025.
    salespipe_ok(d, &["run", "pipeline.yaml", "--as-of", "2025-04-30", "-q"]);
    let (published_a, monthly_rows) = {
        let db = open_db(&db_path);
        let rows = scalar(&db, "SELECT count(*)::VARCHAR FROM kpi_sales_monthly");
        (snapshot_rows(&db, "2025-04-30"), rows)
    };
    assert_eq!(
        published_a.len().to_string(),
        monthly_rows,
        "the whole table"
    );

    // Late data: SO8 of 20 March (closed at A) by R2 (then in South A) for C2 (South):
    // 3 x P2 at 20.00, no discount, USD = 60.00; COGS 3 x 4.00 = 12.00; GP 48.00.
    late_order(
        d,
        "late",
        "SO8,2025-03-20,2025-03-23,2025-03-22,Standard,direct,completed,USD,C2,R2,\
         2025-05-10 00:00:00,,WH-CENTRAL",
        "SO8,1,P2,3,20.00,0,2025-05-10 00:00:00",
    );
    // Close B: May 2025.
    salespipe_ok(d, &["run", "pipeline.yaml", "--as-of", "2025-05-31", "-q"]);
    {
        let db = open_db(&db_path);
        assert_eq!(
            snapshot_rows(&db, "2025-04-30"),
            published_a,
            "the snapshot published at A is kept as it was"
        );
        // March as published at A: SO3 40.00 - the return of SO1/2 20.00 = 20.00; COGS
        // 20.00 - 8.00 = 12.00, GP 8.00; units 5 - 2 = 3. Restated: + 60.00, GP + 48.00,
        // units + 3. South had nothing in March. January and April are unchanged; the
        // current as-of B restates nothing; May (not closed at A) is not compared at A.
        assert_eq!(
            q(
                &db,
                "SELECT as_of, month, region, published_net_revenue, restated_net_revenue,
                        net_revenue_restatement, published_gross_profit,
                        restated_gross_profit, gross_profit_restatement, published_net_units,
                        restated_net_units, net_units_restatement
                 FROM kpi_sales_restatements
                 WHERE region IN ('All', 'South') AND month = DATE '2025-03-01'
                 ORDER BY as_of, region"
            ),
            t(&[
                &[
                    "2025-04-30",
                    "2025-03-01",
                    "All",
                    "20.00",
                    "80.00",
                    "60.00",
                    "8.00",
                    "56.00",
                    "48.00",
                    "3",
                    "6",
                    "3"
                ],
                &[
                    "2025-04-30",
                    "2025-03-01",
                    "South",
                    "0.00",
                    "60.00",
                    "60.00",
                    "0.00",
                    "48.00",
                    "48.00",
                    "0",
                    "3",
                    "3"
                ],
                &[
                    "2025-05-31",
                    "2025-03-01",
                    "All",
                    "80.00",
                    "80.00",
                    "0.00",
                    "56.00",
                    "56.00",
                    "0.00",
                    "6",
                    "6",
                    "0"
                ],
                &[
                    "2025-05-31",
                    "2025-03-01",
                    "South",
                    "60.00",
                    "60.00",
                    "0.00",
                    "48.00",
                    "48.00",
                    "0.00",
                    "3",
                    "3",
                    "0"
                ],
            ])
        );
        assert_eq!(
            q(
                &db,
                "SELECT as_of, month, region, net_revenue_restatement FROM kpi_sales_restatements
                 WHERE net_revenue_restatement <> 0 OR gross_profit_restatement <> 0
                    OR net_units_restatement <> 0 ORDER BY ALL"
            ),
            t(&[
                &["2025-04-30", "2025-03-01", "All", "60.00"],
                &["2025-04-30", "2025-03-01", "South", "60.00"],
            ]),
            "only the late order's month and region, only at the earlier close"
        );
        assert_eq!(
            q(
                &db,
                "SELECT DISTINCT as_of, month FROM kpi_sales_restatements
                 WHERE as_of = DATE '2025-04-30' ORDER BY month"
            ),
            t(&[
                &["2025-04-30", "2025-01-01"],
                &["2025-04-30", "2025-03-01"],
                &["2025-04-30", "2025-04-01"],
            ]),
            "the months closed at A that have sales (February had none)"
        );
        // Targets: R2's March and first quarter (closed at A) gain the late 60.00, in
        // the rep's team and region at the time of the sale (South A, South). Company
        // Q1 at A: January 180.00 + 100.00 + 99.00, March 20.00 = 399.00; R2's Q1: SO2
        // 99.00.
        assert_eq!(
            q(
                &db,
                "SELECT level, entity, period_type, period_start, published_achieved,
                        restated_achieved, achieved_restatement
                 FROM kpi_attainment_restatements
                 WHERE as_of = DATE '2025-04-30' AND achieved_restatement <> 0
                 ORDER BY level, period_type, entity"
            ),
            t(&[
                &[
                    "company",
                    "Company",
                    "month",
                    "2025-03-01",
                    "20.00",
                    "80.00",
                    "60.00"
                ],
                &[
                    "company",
                    "Company",
                    "quarter",
                    "2025-01-01",
                    "399.00",
                    "459.00",
                    "60.00"
                ],
                &[
                    "region",
                    "South",
                    "month",
                    "2025-03-01",
                    "0.00",
                    "60.00",
                    "60.00"
                ],
                &[
                    "region",
                    "South",
                    "quarter",
                    "2025-01-01",
                    "99.00",
                    "159.00",
                    "60.00"
                ],
                &["rep", "R2", "month", "2025-03-01", "0.00", "60.00", "60.00"],
                &[
                    "rep",
                    "R2",
                    "quarter",
                    "2025-01-01",
                    "99.00",
                    "159.00",
                    "60.00"
                ],
                &[
                    "team",
                    "South A",
                    "month",
                    "2025-03-01",
                    "0.00",
                    "60.00",
                    "60.00"
                ],
                &[
                    "team",
                    "South A",
                    "quarter",
                    "2025-01-01",
                    "99.00",
                    "159.00",
                    "60.00"
                ],
            ])
        );
    }

    // Rerunning B with one more late order (SO9, 2 April, 1 x P2 at 20.00) replaces B's
    // snapshot instead of adding a second copy; A's is still untouched.
    late_order(
        d,
        "later",
        "SO9,2025-04-02,2025-04-05,2025-04-03,Standard,direct,completed,USD,C2,R2,\
         2025-06-01 00:00:00,,WH-CENTRAL",
        "SO9,1,P2,1,20.00,0,2025-06-01 00:00:00",
    );
    salespipe_ok(d, &["run", "pipeline.yaml", "--as-of", "2025-05-31", "-q"]);
    {
        let db = open_db(&db_path);
        assert_eq!(snapshot_rows(&db, "2025-04-30"), published_a);
        assert_eq!(
            q(
                &db,
                "SELECT as_of, count(*) FROM kpi_sales_monthly_snapshots GROUP BY ALL ORDER BY ALL"
            ),
            t(&[
                &["2025-04-30", monthly_rows.as_str()],
                // SO8 and SO9 each add a cell: March and April x Paper x South x direct x
                // R2 (South A in March, West A in April).
                &[
                    "2025-05-31",
                    &(monthly_rows.parse::<i64>().unwrap() + 2).to_string()
                ],
            ])
        );
        assert_eq!(
            scalar(
                &db,
                "SELECT count(*)::VARCHAR FROM kpi_sales_monthly_snapshots
                 WHERE as_of = DATE '2025-05-31'"
            ),
            scalar(&db, "SELECT count(*)::VARCHAR FROM kpi_sales_monthly"),
        );
        assert_eq!(
            q(
                &db,
                "SELECT as_of, published_net_revenue, restated_net_revenue, net_revenue_restatement
                 FROM kpi_sales_restatements WHERE month = DATE '2025-04-01' AND region = 'All'
                 ORDER BY as_of"
            ),
            // April at A: SO4 300.00. SO9 restates it by 20.00; B was rerun with it.
            t(&[
                &["2025-04-30", "300.00", "320.00", "20.00"],
                &["2025-05-31", "320.00", "320.00", "0.00"],
            ])
        );

        // Parquet: one folder per as-of, the partition column inside the files too.
        let parquet = d.join("out/parquet/kpi_sales_monthly_snapshots");
        for as_of in ["2025-04-30", "2025-05-31"] {
            let file = parquet
                .join(format!("as_of={as_of}"))
                .join("data_0.parquet");
            assert_eq!(
                parquet_rows(&file).to_string(),
                scalar(
                    &db,
                    &format!(
                        "SELECT count(*)::VARCHAR FROM kpi_sales_monthly_snapshots
                         WHERE as_of = DATE '{as_of}'"
                    )
                ),
                "{as_of}"
            );
        }
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(d.join("out/parquet/_manifest.json")).unwrap(),
        )
        .unwrap();
        let entry = manifest["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "kpi_target_attainment_snapshots")
            .unwrap();
        assert_eq!(
            entry["partitioning"]["columns"],
            serde_json::json!(["as_of"])
        );
    }

    // A run that fails after the snapshots were taken keeps none of them.
    std::fs::write(
        d.join("sql/models/kpi/zz_fails.sql"),
        "SELECT error('the close fails') AS x FROM {{ ref(\"kpi_sales_monthly_snapshots\") }}",
    )
    .unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--as-of", "2025-06-30", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    let db = open_db(&db_path);
    assert_eq!(
        q(
            &db,
            "SELECT DISTINCT as_of FROM snapshots.kpi_sales_monthly ORDER BY 1"
        ),
        t(&[&["2025-04-30"], &["2025-05-31"]])
    );
    assert_eq!(snapshot_rows(&db, "2025-04-30"), published_a);
}

#[test]
fn rerunning_an_earlier_close_restates_nothing_in_the_later_ones() {
    // Close May, then rerun April's close on the same data: nothing arrived, so no close
    // may show a restatement or a RAG change. The rerun counts sales up to 30 April
    // only, so May (closed at 31 May, not at 30 April) has no restated figure yet and
    // is left out, not compared with a partial one.
    let dir = fixture("kpi_small");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--as-of", "2025-05-31", "-q"]);
    salespipe_ok(d, &["run", "pipeline.yaml", "--as-of", "2025-04-30", "-q"]);
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        q(
            &db,
            "SELECT as_of, count(*) FILTER (WHERE achieved_restatement <> 0 OR rag_changed),
                 max(period_end)
             FROM kpi_attainment_restatements GROUP BY as_of ORDER BY as_of"
        ),
        t(&[
            &["2025-04-30", "0", "2025-04-30"],
            &["2025-05-31", "0", "2025-04-30"],
        ])
    );
}
