//! The KPI models on a small hand-made company (`tests/fixtures/kpi_small`, as of
//! 2025-06-30, churn window 2 months), run end to end through the binary with the
//! repository's `sql/models`. Every expected figure is worked out by hand below, with
//! the edge cases of issue 5: a month with no sales (February; May has only a
//! cancelled order), a rep with no target (R3), a rep who moved region (R2: South A
//! until 2025-03-31, West A from 2025-04-01), zero average inventory (P3), customers
//! who churn and come back (C1, C2), a campaign with no spend (CMP2) and an order in a
//! foreign currency (SO2, EUR at 1.10).
//!
//! The data (lines net = quantity x price x (100 - discount) / 100):
//! ```text
//! SO1 2025-01-10 C1 North SMB  R1 online      CMP1 WH-EAST    completed, shipped 01-12 (promised 01-13)
//!     /1 P1 Furniture 2 x 100.00 -10 % = 180.00 (gross 200.00), cogs 2 x 60.00 = 120.00
//!     /2 P2 Paper    10 x  10.00       = 100.00,                cogs 10 x 4.00 =  40.00
//! SO2 2025-01-20 C2 South Ent. R2 distributor      WH-CENTRAL completed, shipped 01-25 (promised 01-23: late)
//!     /1 P1 1 x 90.00 EUR = 90.00 EUR x 1.10 = 99.00 USD, cogs 60.00
//! SO3 2025-03-05 C1 R3 retail WH-EAST shipped 03-06 (promised 03-06)
//!     /1 P2 5 x 10.00 -20 % = 40.00 (gross 50.00), cogs 20.00
//! SO4 2025-04-15 C2 R2 direct CMP2 WH-CENTRAL shipped 04-18 (promised 04-18)
//!     /1 P1 3 x 100.00 = 300.00, cogs 180.00
//! SO5 2025-05-02 C3 cancelled: left out everywhere
//! SO6 2025-06-10 C1 R1 online WH-EAST shipped 06-11 /1 P2 4 x 10.00 = 40.00, cogs 16.00
//! SO7 2025-06-28 C1 R1 online WH-EAST open (waiting for stock) /1 P3 1 x 50.00 = 50.00,
//!     cogs 30.00 (P3 has no standard cost row: products.unit_cost)
//! RT1 2025-03-10 return of SO1/2, 2 units defective: 2 x 10.00 = 20.00, cogs 2 x 4.00 = 8.00
//! ```
//! Net revenue by month (sales dated in it - returns dated in it): Jan 180 + 100 + 99 =
//! 379.00; Feb 0; Mar 40 - 20 = 20.00; Apr 300.00; May 0; Jun 40 + 50 = 90.00; to date
//! 789.00.

use crate::common::*;

/// Rows of `sql` with every column cast to text (NULL as "NULL").
fn q(db: &duckdb::Connection, sql: &str) -> Vec<Vec<String>> {
    rows(db, &format!("SELECT COLUMNS(*)::VARCHAR FROM ({sql})"))
}

/// `&[&[&str]]` as owned rows, for comparing with [`q`].
fn t(want: &[&[&str]]) -> Vec<Vec<String>> {
    want.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn small_company_kpis_match_hand_computation() {
    let dir = fixture("kpi_small");
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    sales(&db);
    growth(&db);
    targets(&db);
    customers(&db);
    satisfaction(&db);
    marketing(&db);
    fulfilment_and_returns(&db);
    inventory(&db);
    finance(&db);
    market_and_process(&db);
    parquet_exports(&db, &dir.path().join("out/parquet"));
}

/// Every staging, mart and KPI table is published as Parquet with the same rows and
/// column types (DECIMAL precision included) as in the warehouse.
fn parquet_exports(db: &duckdb::Connection, parquet: &std::path::Path) {
    let tables = q(
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'
           AND regexp_matches(table_name, '^(stg|dim|fct|mart|kpi)_') ORDER BY table_name",
    );
    assert!(tables.len() >= 40, "{tables:?}");
    let mem = duckdb::Connection::open_in_memory().unwrap();
    for t in tables.iter().map(|r| &r[0]) {
        // Partitioned tables hold their partition columns inside the files too.
        let files = format!(
            "read_parquet('{}/{t}/**/*.parquet', hive_partitioning = false)",
            parquet.display()
        );
        let schema = |conn: &duckdb::Connection, rel: &str| {
            q(
                conn,
                &format!("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {rel})"),
            )
        };
        assert_eq!(schema(&mem, &files), schema(db, t), "{t}: Parquet schema");
        assert_eq!(
            scalar(&mem, &format!("SELECT count(*)::VARCHAR FROM {files}")),
            scalar(db, &format!("SELECT count(*)::VARCHAR FROM {t}")),
            "{t}: Parquet rows"
        );
    }
}

/// fct_order_lines and kpi_sales_monthly.
fn sales(db: &duckdb::Connection) {
    // SO5 is cancelled: 7 lines of 8 load into the fact. SO2 in USD: 90.00 x 1.10.
    assert_eq!(
        q(
            db,
            "SELECT order_id, line_no, net_local, net_revenue, standard_cost, cogs, rep_team
             FROM fct_order_lines ORDER BY order_id, line_no"
        ),
        t(&[
            &["SO1", "1", "180.00", "180.00", "60.00", "120.00", "North A"],
            &["SO1", "2", "100.00", "100.00", "4.00", "40.00", "North A"],
            &["SO2", "1", "90.00", "99.00", "60.00", "60.00", "South A"],
            &["SO3", "1", "40.00", "40.00", "4.00", "20.00", "North A"],
            &["SO4", "1", "300.00", "300.00", "60.00", "180.00", "West A"],
            &["SO6", "1", "40.00", "40.00", "4.00", "16.00", "North A"],
            &["SO7", "1", "50.00", "50.00", "30.00", "30.00", "North A"],
        ])
    );
    // January, Furniture, North, SMB, online, R1: SO1/1. gross 200.00, discount 20.00
    // (10 %), GP 180 - 120 = 60.00, GM 60 / 180 = 0.3333, AOV 180.00.
    // January, Furniture, South (SO2 in EUR): 99.00, COGS 60.00, GP 39.00, GM 0.3939.
    // March: SO3 (R3, retail) and the return of SO1/2 in its own cell (R1, online):
    // net -20.00, COGS -8.00, GP -12.00, units -2.
    assert_eq!(
        q(
            db,
            "SELECT month, category, region, channel, rep_id, gross_revenue, discount_amount,
                    discount_pct, sales_revenue, returns_revenue, net_revenue, net_units, cogs,
                    gross_profit, gm_pct, orders, aov
             FROM kpi_sales_monthly ORDER BY month, category, region, channel"
        ),
        t(&[
            &[
                "2025-01-01",
                "Furniture",
                "North",
                "online",
                "R1",
                "200.00",
                "20.00",
                "0.1000",
                "180.00",
                "0.00",
                "180.00",
                "2",
                "120.00",
                "60.00",
                "0.3333",
                "1",
                "180.00"
            ],
            &[
                "2025-01-01",
                "Furniture",
                "South",
                "distributor",
                "R2",
                "99.00",
                "0.00",
                "0.0000",
                "99.00",
                "0.00",
                "99.00",
                "1",
                "60.00",
                "39.00",
                "0.3939",
                "1",
                "99.00"
            ],
            &[
                "2025-01-01",
                "Paper",
                "North",
                "online",
                "R1",
                "100.00",
                "0.00",
                "0.0000",
                "100.00",
                "0.00",
                "100.00",
                "10",
                "40.00",
                "60.00",
                "0.6000",
                "1",
                "100.00"
            ],
            &[
                "2025-03-01",
                "Paper",
                "North",
                "online",
                "R1",
                "0.00",
                "0.00",
                "NULL",
                "0.00",
                "20.00",
                "-20.00",
                "-2",
                "-8.00",
                "-12.00",
                "0.6000",
                "0",
                "NULL"
            ],
            &[
                "2025-03-01",
                "Paper",
                "North",
                "retail",
                "R3",
                "50.00",
                "10.00",
                "0.2000",
                "40.00",
                "0.00",
                "40.00",
                "5",
                "20.00",
                "20.00",
                "0.5000",
                "1",
                "40.00"
            ],
            &[
                "2025-04-01",
                "Furniture",
                "South",
                "direct",
                "R2",
                "300.00",
                "0.00",
                "0.0000",
                "300.00",
                "0.00",
                "300.00",
                "3",
                "180.00",
                "120.00",
                "0.4000",
                "1",
                "300.00"
            ],
            &[
                "2025-06-01",
                "Paper",
                "North",
                "online",
                "R1",
                "40.00",
                "0.00",
                "0.0000",
                "40.00",
                "0.00",
                "40.00",
                "4",
                "16.00",
                "24.00",
                "0.6000",
                "1",
                "40.00"
            ],
            &[
                "2025-06-01",
                "Technology",
                "North",
                "online",
                "R1",
                "50.00",
                "0.00",
                "0.0000",
                "50.00",
                "0.00",
                "50.00",
                "1",
                "30.00",
                "20.00",
                "0.4000",
                "1",
                "50.00"
            ],
        ])
    );
    // The rep who moved: R2's January sale stays in South A, April's is West A's.
    assert_eq!(
        q(
            db,
            "SELECT month, rep_team, rep_region, region FROM kpi_sales_monthly
             WHERE rep_id = 'R2' ORDER BY month"
        ),
        t(&[
            &["2025-01-01", "South A", "South", "South"],
            &["2025-04-01", "West A", "West", "South"],
        ])
    );
    // Quarterly = the months added: Q1 net 379 + 20 = 399.00, Q2 300 + 90 = 390.00.
    assert_eq!(
        q(
            db,
            "SELECT quarter, sum(net_revenue), sum(cogs), sum(gross_profit) FROM kpi_sales_quarterly
             GROUP BY quarter ORDER BY quarter"
        ),
        t(&[
            &["2025-01-01", "399.00", "232.00", "167.00"],
            &["2025-04-01", "390.00", "226.00", "164.00"],
        ])
    );
}

/// kpi_sales_growth, total breakdown.
fn growth(db: &duckdb::Connection) {
    // The pipeline's fiscal year starts in April: March 2025 closes FY2025, April opens
    // FY2026, July is its second quarter.
    assert_eq!(
        q(
            db,
            "SELECT date_day, fiscal_year, fiscal_quarter FROM dim_date
             WHERE date_day IN (DATE '2025-01-01', DATE '2025-03-31', DATE '2025-04-01',
                 DATE '2025-07-01', DATE '2025-12-31') ORDER BY date_day"
        ),
        t(&[
            &["2025-01-01", "2025", "4"],
            &["2025-03-31", "2025", "4"],
            &["2025-04-01", "2026", "1"],
            &["2025-07-01", "2026", "2"],
            &["2025-12-31", "2026", "3"],
        ])
    );
    // The calendar runs to the end of the as-of date's fiscal year, not only to 31
    // December: all four quarters of FY2026.
    assert_eq!(
        q(db, "SELECT max(date_day), count(DISTINCT fiscal_quarter) FILTER (WHERE fiscal_year = 2026) FROM dim_date"),
        t(&[&["2026-03-31", "4"]])
    );
    // dim_date starts on 1 January of the first order's year: no 2024 months.
    // MoM: Feb 0 / 379 - 1 = -1.0000; Mar over a zero February: NULL; Apr 300 / 20 - 1 =
    // 14.0000; May -1.0000; Jun over zero: NULL. YTD: 379, 379, 399, 699, 699, 789.
    // Nothing a year earlier: YoY and YTD growth NULL.
    assert_eq!(
        q(
            db,
            "SELECT period_start, net_revenue, prev_net_revenue, pop_growth_pct, yoy_growth_pct,
                    ytd_net_revenue, prior_ytd_net_revenue, ytd_growth_pct
             FROM kpi_sales_growth WHERE period_type = 'month' AND breakdown = 'total'
             ORDER BY period_start"
        ),
        t(&[
            &[
                "2025-01-01",
                "379.00",
                "0.00",
                "NULL",
                "NULL",
                "379.00",
                "0.00",
                "NULL"
            ],
            &[
                "2025-02-01",
                "0.00",
                "379.00",
                "-1.0000",
                "NULL",
                "379.00",
                "0.00",
                "NULL"
            ],
            &[
                "2025-03-01",
                "20.00",
                "0.00",
                "NULL",
                "NULL",
                "399.00",
                "0.00",
                "NULL"
            ],
            &[
                "2025-04-01",
                "300.00",
                "20.00",
                "14.0000",
                "NULL",
                "699.00",
                "0.00",
                "NULL"
            ],
            &[
                "2025-05-01",
                "0.00",
                "300.00",
                "-1.0000",
                "NULL",
                "699.00",
                "0.00",
                "NULL"
            ],
            &[
                "2025-06-01",
                "90.00",
                "0.00",
                "NULL",
                "NULL",
                "789.00",
                "0.00",
                "NULL"
            ],
        ])
    );
    // QoQ: Q2 390 / Q1 399 - 1 = -0.022556 -> -0.0226. South: 99 in Q1, 300 in Q2.
    assert_eq!(
        q(
            db,
            "SELECT breakdown, member, net_revenue, prev_net_revenue, pop_growth_pct
             FROM kpi_sales_growth WHERE period_type = 'quarter' AND period_start = DATE '2025-04-01'
               AND (breakdown = 'total' OR member = 'South') ORDER BY breakdown"
        ),
        t(&[
            &["region", "South", "300.00", "99.00", "2.0303"],
            &["total", "All", "390.00", "399.00", "-0.0226"],
        ])
    );
}

/// fct_targets_monthly, kpi_target_attainment and kpi_commission.
fn targets(db: &duckdb::Connection) {
    // 2025 distribution: 8.00 % a month, 12.00 % in December. R1 12,000 -> 960.00 a
    // month, 1,440.00 in December; R2 6,000 -> 480.00 and 720.00. 2024 has no
    // distribution: R1's 1,200 is split evenly, 100.00 a month. R2's months follow his
    // team: South A to March, West A from April.
    assert_eq!(
        q(
            db,
            "SELECT rep_id, year, count(*), sum(monthly_target), min(monthly_target),
                    max(monthly_target), string_agg(DISTINCT team, ',' ORDER BY team)
             FROM fct_targets_monthly GROUP BY rep_id, year ORDER BY rep_id, year"
        ),
        t(&[
            &["R1", "2024", "12", "1200.00", "100.00", "100.00", "North A"],
            &["R1", "2025", "12", "12000.00", "960.00", "1440.00", "North A"],
            &[
                "R2",
                "2025",
                "12",
                "6000.00",
                "480.00",
                "720.00",
                "South A,West A"
            ],
        ])
    );
    // Q1 2025: R1 target 3 x 960 = 2,880.00, achieved SO1 280.00 - the March return
    // 20.00 = 260.00, attainment 0.0903, red. R2 in South A: 3 x 480 = 1,440.00 against
    // SO2's 99.00 = 0.06875 -> 0.0688. R3 has no target: 40.00 achieved, no
    // attainment, no RAG. North A = R1's target, R1 + R3's sales = 300.00 -> 0.1042.
    // Q2: R1 90.00 / 2,880 = 0.03125 -> 0.0313; R2 now in West A: 300 / 1,440 = 0.2083;
    // South A has no Q2 row (nobody there). Company Q1 4,320.00 vs 399.00 -> 0.0924.
    assert_eq!(
        q(
            db,
            "SELECT level, entity, period_start, status, target, achieved, variance,
                    attainment_pct, rag
             FROM kpi_target_attainment WHERE period_type = 'quarter' AND year = 2025
               AND status = 'closed' ORDER BY level, entity, period_start"
        ),
        t(&[
            &[
                "company",
                "Company",
                "2025-01-01",
                "closed",
                "4320.00",
                "399.00",
                "-3921.00",
                "0.0924",
                "red"
            ],
            &[
                "company",
                "Company",
                "2025-04-01",
                "closed",
                "4320.00",
                "390.00",
                "-3930.00",
                "0.0903",
                "red"
            ],
            &[
                "region",
                "North",
                "2025-01-01",
                "closed",
                "2880.00",
                "300.00",
                "-2580.00",
                "0.1042",
                "red"
            ],
            &[
                "region",
                "North",
                "2025-04-01",
                "closed",
                "2880.00",
                "90.00",
                "-2790.00",
                "0.0313",
                "red"
            ],
            &[
                "region",
                "South",
                "2025-01-01",
                "closed",
                "1440.00",
                "99.00",
                "-1341.00",
                "0.0688",
                "red"
            ],
            &[
                "region",
                "West",
                "2025-04-01",
                "closed",
                "1440.00",
                "300.00",
                "-1140.00",
                "0.2083",
                "red"
            ],
            &[
                "rep",
                "R1",
                "2025-01-01",
                "closed",
                "2880.00",
                "260.00",
                "-2620.00",
                "0.0903",
                "red"
            ],
            &[
                "rep",
                "R1",
                "2025-04-01",
                "closed",
                "2880.00",
                "90.00",
                "-2790.00",
                "0.0313",
                "red"
            ],
            &[
                "rep",
                "R2",
                "2025-01-01",
                "closed",
                "1440.00",
                "99.00",
                "-1341.00",
                "0.0688",
                "red"
            ],
            &[
                "rep",
                "R2",
                "2025-04-01",
                "closed",
                "1440.00",
                "300.00",
                "-1140.00",
                "0.2083",
                "red"
            ],
            &[
                "rep",
                "R3",
                "2025-01-01",
                "closed",
                "0.00",
                "40.00",
                "40.00",
                "NULL",
                "NULL"
            ],
            &[
                "team",
                "North A",
                "2025-01-01",
                "closed",
                "2880.00",
                "300.00",
                "-2580.00",
                "0.1042",
                "red"
            ],
            &[
                "team",
                "North A",
                "2025-04-01",
                "closed",
                "2880.00",
                "90.00",
                "-2790.00",
                "0.0313",
                "red"
            ],
            &[
                "team",
                "South A",
                "2025-01-01",
                "closed",
                "1440.00",
                "99.00",
                "-1341.00",
                "0.0688",
                "red"
            ],
            &[
                "team",
                "West A",
                "2025-04-01",
                "closed",
                "1440.00",
                "300.00",
                "-1140.00",
                "0.2083",
                "red"
            ],
        ])
    );
    // The year 2025 is current on 2025-06-30: 181 of 365 days elapsed. Company target
    // 18,000.00, achieved 789.00; run rate 789 x 365 / 181 = 1,591.08, projected
    // 1,591.0773 / 18,000 = 0.0884; target to date = six whole months of 960 + 480 =
    // 8,640.00, pace 789 / 8,640 = 0.0913 -> red. Team targets of the moved rep: South A
    // gets Jan-Mar (1,440.00), West A Apr-Dec (8 x 480 + 720 = 4,560.00).
    assert_eq!(
        q(
            db,
            "SELECT level, entity, status, elapsed_days, period_days, target, achieved,
                    run_rate_projection, projected_attainment_pct, target_to_date, pace_pct, rag
             FROM kpi_target_attainment WHERE period_type = 'year' AND year = 2025
               AND (level IN ('company', 'team')) ORDER BY level, entity"
        ),
        t(&[
            &[
                "company", "Company", "current", "181", "365", "18000.00", "789.00", "1591.08",
                "0.0884", "8640.00", "0.0913", "red"
            ],
            &[
                "team", "North A", "current", "181", "365", "12000.00", "390.00", "786.46",
                "0.0655", "5760.00", "0.0677", "red"
            ],
            &[
                "team", "South A", "current", "181", "365", "1440.00", "99.00", "199.64", "0.1386",
                "1440.00", "0.0688", "red"
            ],
            &[
                "team", "West A", "current", "181", "365", "4560.00", "300.00", "604.97", "0.1327",
                "1440.00", "0.2083", "red"
            ],
        ])
    );
    // Commission (marginal tiers 2 % to 80 %, 3 %, 5 %, 7 %): everybody is below 80 %, so
    // 2 % of the achieved: R1 Q1 260 x 0.02 = 5.20; R2 Q2 300 x 0.02 = 6.00; R3 has no
    // target and earns the first rate on 40.00 = 0.80.
    assert_eq!(
        q(
            db,
            "SELECT rep_id, period_start, commission, top_tier_rate FROM kpi_commission
             WHERE period_type = 'quarter' AND period_start = DATE '2025-01-01' OR
                   (rep_id = 'R2' AND period_type = 'quarter' AND period_start = DATE '2025-04-01')
             ORDER BY rep_id, period_start"
        ),
        t(&[
            &["R1", "2025-01-01", "5.20", "0.0200"],
            &["R2", "2025-01-01", "1.98", "0.0200"],
            &["R2", "2025-04-01", "6.00", "0.0200"],
            &["R3", "2025-01-01", "0.80", "0.0200"],
        ])
    );
}

/// fct_customer_months, kpi_customers_monthly, kpi_cohort_retention,
/// kpi_customer_retention_yearly and kpi_customer_rfm.
fn customers(db: &duckdb::Connection) {
    // Churn window 2 months. C1 orders Jan, Mar, Jun; C2 Jan, Apr; C3 only a cancelled
    // order (never a customer).
    //        ordering  new repeat react. churned base  churn rate
    // Jan    C1 C2     2   0      0      0       2     -
    // Feb    -         0   0      0      0       2     0 / 2
    // Mar    C1        0   1      0      1 (C2)  1     1 / 2
    // Apr    C2        0   1      1 (C2) 0       2     0 / 1
    // May    -         0   0      0      1 (C1)  1     1 / 2
    // Jun    C1 (x2)   0   1      1 (C1) 1 (C2)  1     1 / 1
    assert_eq!(
        q(
            db,
            "SELECT month, ordering_customers, new_customers, repeat_customers,
                    reactivated_customers, churned_customers, customer_base, churn_rate,
                    new_revenue, repeat_revenue, orders, aov, purchase_frequency
             FROM kpi_customers_monthly WHERE region = 'All' ORDER BY month"
        ),
        t(&[
            &[
                "2025-01-01",
                "2",
                "2",
                "0",
                "0",
                "0",
                "2",
                "NULL",
                "379.00",
                "0.00",
                "2",
                "189.50",
                "1.0000"
            ],
            &[
                "2025-02-01",
                "0",
                "0",
                "0",
                "0",
                "0",
                "2",
                "0.0000",
                "0.00",
                "0.00",
                "0",
                "NULL",
                "NULL"
            ],
            &[
                "2025-03-01",
                "1",
                "0",
                "1",
                "0",
                "1",
                "1",
                "0.5000",
                "0.00",
                "40.00",
                "1",
                "40.00",
                "1.0000"
            ],
            &[
                "2025-04-01",
                "1",
                "0",
                "1",
                "1",
                "0",
                "2",
                "0.0000",
                "0.00",
                "300.00",
                "1",
                "300.00",
                "1.0000"
            ],
            &[
                "2025-05-01",
                "0",
                "0",
                "0",
                "0",
                "1",
                "1",
                "0.5000",
                "0.00",
                "0.00",
                "0",
                "NULL",
                "NULL"
            ],
            &[
                "2025-06-01",
                "1",
                "0",
                "1",
                "1",
                "1",
                "1",
                "1.0000",
                "0.00",
                "90.00",
                "2",
                "45.00",
                "2.0000"
            ],
        ])
    );
    // Cohort 2025-01 (C1, C2): ordering 2, 0, 1, 1, 0, 1; active in the 2-month window
    // 2, 2, 1 (C1), 2, 1 (C2), 1 (C1).
    assert_eq!(
        q(
            db,
            "SELECT months_since_first, cohort_size, ordering_customers, retention_pct,
                    active_customers, churned_customers, churn_pct
             FROM kpi_cohort_retention WHERE cohort_month = DATE '2025-01-01'
             ORDER BY months_since_first"
        ),
        t(&[
            &["0", "2", "2", "1.0000", "2", "0", "0.0000"],
            &["1", "2", "0", "0.0000", "2", "0", "0.0000"],
            &["2", "2", "1", "0.5000", "1", "1", "0.5000"],
            &["3", "2", "1", "0.5000", "2", "0", "0.0000"],
            &["4", "2", "0", "0.0000", "1", "1", "0.5000"],
            &["5", "2", "1", "0.5000", "1", "1", "0.5000"],
        ])
    );
    // No year before 2025: 2 active, both new, no retention rate.
    assert_eq!(
        q(
            db,
            "SELECT year, active_customers, prior_active_customers, retention_pct, new_customers
             FROM kpi_customer_retention_yearly WHERE region = 'All'"
        ),
        t(&[&["2025", "2", "0", "NULL", "2"]])
    );
    // RFM with two customers (score = 1 + floor(5 x (rank - 1) / 2): 1 or 3).
    // C1: last order 06-28 -> recency 2, 4 orders, 410 - 20 = 390.00; C2: 04-15 -> 76
    // days, 2 orders, 399.00. Recency ranked oldest first: C2 1, C1 3; frequency C2 1,
    // C1 3; monetary C1 1, C2 3. C1 r3 f3 = Loyal, C2 r1 f1 = Lost. AOV 410 / 4 = 102.50
    // and 399 / 2 = 199.50. C1's gross profit 60 + 60 + 20 + 24 + 20 - (20 - 8) =
    // 172.00 over a tenure below one year (counted as 1): 172.00 a year. No complete
    // earlier year, so no churn rate and no CLV.
    assert_eq!(
        q(
            db,
            "SELECT customer_id, recency_days, frequency, monetary, r_score, f_score, m_score,
                    rfm_score, rfm_segment, aov, gross_profit, annual_gross_profit, clv
             FROM kpi_customer_rfm ORDER BY customer_id"
        ),
        t(&[
            &[
                "C1", "2", "4", "390.00", "3", "3", "1", "331", "Loyal", "102.50", "172.00",
                "172.00", "NULL"
            ],
            &[
                "C2", "76", "2", "399.00", "1", "1", "3", "113", "Lost", "199.50", "159.00",
                "159.00", "NULL"
            ],
        ])
    );
}

/// kpi_satisfaction.
fn satisfaction(db: &duckdb::Connection) {
    // S1 North P1 csat 5 nps 10; S2 South P1 2, 3; S3 North P2 4, 8; S4 South P1 4, 9.
    // 2025: satisfied 3 / 4 = 0.7500, avg 15 / 4 = 3.75; promoters 2, passives 1,
    // detractors 1: NPS 100 x (2 - 1) / 4 = 25.00. Q1 (S1-S3): 2 / 3, NPS 0.00. South:
    // 1 / 2, NPS 0.00. P1 (S1, S2, S4): 2 / 3, NPS 100 x 1 / 3 = 33.33.
    assert_eq!(
        q(
            db,
            "SELECT period_type, breakdown, member, csat_responses, satisfied, csat_pct, avg_csat,
                    promoters, passives, detractors, nps
             FROM kpi_satisfaction
             WHERE (period_type = 'year' AND member IN ('All', 'South', 'P1'))
                OR (period_type = 'quarter' AND period_start = DATE '2025-01-01' AND member = 'All')
             ORDER BY period_type, breakdown, member"
        ),
        t(&[
            &["quarter", "total", "All", "3", "2", "0.6667", "3.6667", "1", "1", "1", "0.00"],
            &["year", "region", "South", "2", "1", "0.5000", "3.0000", "1", "0", "1", "0.00"],
            &["year", "sku", "P1", "3", "2", "0.6667", "3.6667", "2", "0", "1", "33.33"],
            &["year", "total", "All", "4", "3", "0.7500", "3.7500", "2", "1", "1", "25.00"],
        ])
    );
}

/// kpi_campaigns and kpi_marketing_monthly.
fn marketing(db: &duckdb::Connection) {
    // CMP1: spend 20 + 30 = 50.00; SO1 attributed: 280.00, GP 280 - 160 = 120.00;
    // ROAS 280 / 50 = 5.6000; ROI (120 - 50) / 50 = 1.4000; C1's first order -> 1 new
    // customer, CAC 50.00; leads L1 (converted, OP1) and L2: 2 leads, 1 opportunity,
    // won 1. Uplift: no sales in the 15 days before 1 January: no baseline, NULL;
    // 280 / 15 = 18.67 a day, incremental 280.00.
    // CMP2 (no spend): SO4 300.00, GP 120.00, no ROAS, ROI or CAC (C2's first order
    // is SO2). Baseline 2 to 31 March: SO3 40.00 / 30 = 1.33 a day; April 300 / 30 =
    // 10.00; uplift 10 / 1.3333 - 1 = 6.5000; incremental (10 - 1.3333) x 30 = 260.00.
    assert_eq!(
        q(
            db,
            "SELECT campaign_id, spend, orders, attributed_revenue, attributed_gross_profit, roas,
                    roi, new_customers, cac, leads, converted_leads, opportunities,
                    won_opportunities, lead_to_opportunity_pct, baseline_daily_revenue,
                    campaign_daily_revenue, uplift_pct, incremental_revenue
             FROM kpi_campaigns ORDER BY campaign_id"
        ),
        t(&[
            &[
                "CMP1", "50.00", "1", "280.00", "120.00", "5.6000", "1.4000", "1", "50.00", "2",
                "1", "1", "1", "0.5000", "0.00", "18.67", "NULL", "280.00"
            ],
            &[
                "CMP2", "0.00", "1", "300.00", "120.00", "NULL", "NULL", "0", "NULL", "1", "0",
                "0", "0", "0.0000", "1.33", "10.00", "6.5000", "260.00"
            ],
        ])
    );
    // January online: 280.00 of 379.00 sold = 0.7388; April offline: no spend, no ROAS.
    assert_eq!(
        q(
            db,
            "SELECT month, channel, spend, attributed_revenue, total_revenue, attributed_share,
                    roas, leads
             FROM kpi_marketing_monthly WHERE channel <> 'All' ORDER BY month, channel"
        ),
        t(&[
            &[
                "2025-01-01",
                "online",
                "50.00",
                "280.00",
                "379.00",
                "0.7388",
                "5.6000",
                "2"
            ],
            &[
                "2025-04-01",
                "offline",
                "0.00",
                "300.00",
                "300.00",
                "1.0000",
                "NULL",
                "1"
            ],
        ])
    );
}

/// kpi_fulfilment, kpi_returns_by_product and kpi_returns_by_reason.
fn fulfilment_and_returns(db: &duckdb::Connection) {
    // Jan: SO1 ships in 2 days on time, SO2 in 5 days after its promise: 3.50 days,
    // on time 1 / 2. Every line was in stock at the start of its order day (P1 East 5,
    // P2 East 20, P1 Central 4). Mar: SO3 in 1 day, on time. Apr: SO4 in 3 days. Jun:
    // SO6 ships in 1 day (P2 East held 15); SO7 is open and P3 was never stocked: unit
    // fill 4 / 5 = 0.8000, order fill 1 / 2 = 0.5000.
    assert_eq!(
        q(
            db,
            "SELECT month, orders, shipped_orders, avg_days_to_ship, on_time_orders, on_time_rate,
                    open_orders, unit_fill_rate, order_fill_rate
             FROM kpi_fulfilment WHERE ship_mode = 'All' AND region = 'All' ORDER BY month"
        ),
        t(&[
            &[
                "2025-01-01",
                "2",
                "2",
                "3.50",
                "1",
                "0.5000",
                "0",
                "1.0000",
                "1.0000"
            ],
            &[
                "2025-03-01",
                "1",
                "1",
                "1.00",
                "1",
                "1.0000",
                "0",
                "1.0000",
                "1.0000"
            ],
            &[
                "2025-04-01",
                "1",
                "1",
                "3.00",
                "1",
                "1.0000",
                "0",
                "1.0000",
                "1.0000"
            ],
            &[
                "2025-06-01",
                "2",
                "1",
                "1.00",
                "1",
                "1.0000",
                "1",
                "0.8000",
                "0.5000"
            ],
        ])
    );
    // The March return counts against January's sale of P2: 2 of 10 units = 0.2000.
    assert_eq!(
        q(
            db,
            "SELECT sku, sale_month, units_sold, units_returned, return_rate, returned_revenue,
                    defective_units
             FROM kpi_returns_by_product WHERE sku = 'P2' ORDER BY sale_month"
        ),
        t(&[
            &["P2", "2025-01-01", "10", "2", "0.2000", "20.00", "2"],
            &["P2", "2025-03-01", "5", "0", "0.0000", "0.00", "0"],
            &["P2", "2025-06-01", "4", "0", "0.0000", "0.00", "0"],
        ])
    );
    // Processed 4 days after the return (03-10 -> 03-14).
    assert_eq!(
        q(
            db,
            "SELECT return_month, category, reason, returns, units_returned, returned_revenue,
                    pending, avg_processing_days
             FROM kpi_returns_by_reason ORDER BY ALL"
        ),
        t(&[
            &["2025-03-01", "All", "All", "1", "2", "20.00", "0", "4.00"],
            &[
                "2025-03-01",
                "All",
                "defective",
                "1",
                "2",
                "20.00",
                "0",
                "4.00"
            ],
            &["2025-03-01", "Paper", "All", "1", "2", "20.00", "0", "4.00"],
            &[
                "2025-03-01",
                "Paper",
                "defective",
                "1",
                "2",
                "20.00",
                "0",
                "4.00"
            ],
        ])
    );
}

/// fct_inventory_daily, kpi_inventory_reconciliation, kpi_inventory_turnover and
/// kpi_inventory_status.
fn inventory(db: &duckdb::Connection) {
    // P2 East: 20, 10 after SO1 (01-12), +10 on 03-01, -5 on 03-06 = 15 at the end of
    // March; the count says 14: the one mismatch.
    assert_eq!(
        q(
            db,
            "SELECT month_end, sku, warehouse, counted_on_hand, book_on_hand, difference,
                    difference_cost
             FROM kpi_inventory_reconciliation WHERE is_mismatch"
        ),
        t(&[&["2025-03-31", "P2", "WH-EAST", "14", "15", "-1", "-4.00"]])
    );
    // 2025 to date = 181 days. P1 unit-days: East 11 x 5 + 170 x 3 = 565; Central
    // 24 x 4 + 75 x 3 + 8 x 6 + 74 x 3 = 591; 1,156 -> 6.39 units, at 60.00 = 69,360 /
    // 181 = 383.20. COGS shipped 6 x 60 = 360.00; turnover 360 / 383.2044 = 0.9394; days
    // of inventory 383.2044 / 360 x 181 = 192.67; sell-through 6 / (9 + 3) = 0.5000.
    // P2: 11 x 20 + 48 x 10 + 5 x 20 + 97 x 15 + 20 x 11 = 2,475 unit-days -> 13.67,
    // x 4.00 / 181 = 54.70; COGS 19 x 4 = 76.00; turnover 76 / 54.6961 = 1.3895; days
    // 130.26; sell-through 19 / 30 = 0.6333. P3 never held stock: average inventory 0,
    // no turnover or days, stock-out every day (1.0000). Total: 79,260 / 181 = 437.90,
    // COGS 436.00, turnover 0.9957, days 79,260 / 436 = 181.79, stock-out 181 / 724 =
    // 0.2500, sell-through 25 / (29 + 13) = 0.5952.
    assert_eq!(
        q(
            db,
            "SELECT level, member, days, avg_on_hand_units, avg_inventory_cost, units_shipped, cogs,
                    turnover, days_of_inventory, stockout_days, stockout_rate, sell_through
             FROM kpi_inventory_turnover WHERE period_type = 'year' ORDER BY level, member"
        ),
        t(&[
            &[
                "category",
                "Furniture",
                "181",
                "6.39",
                "383.20",
                "6",
                "360.00",
                "0.9394",
                "192.67",
                "0",
                "0.0000",
                "0.5000"
            ],
            &[
                "category", "Paper", "181", "13.67", "54.70", "19", "76.00", "1.3895", "130.26",
                "0", "0.0000", "0.6333"
            ],
            &[
                "category",
                "Technology",
                "181",
                "0.00",
                "0.00",
                "0",
                "0.00",
                "NULL",
                "NULL",
                "181",
                "1.0000",
                "NULL"
            ],
            &[
                "sku", "P1", "181", "6.39", "383.20", "6", "360.00", "0.9394", "192.67", "0",
                "0.0000", "0.5000"
            ],
            &[
                "sku", "P2", "181", "13.67", "54.70", "19", "76.00", "1.3895", "130.26", "0",
                "0.0000", "0.6333"
            ],
            &[
                "sku", "P3", "181", "0.00", "0.00", "0", "0.00", "NULL", "NULL", "181", "1.0000",
                "NULL"
            ],
            &[
                "total", "All", "181", "20.06", "437.90", "25", "436.00", "0.9957", "181.79",
                "181", "0.2500", "0.5952"
            ],
        ])
    );
    // On 2025-06-30, over the 90 days from 04-02: P2 East shipped 4 units (06-11):
    // demand 4 / 90 = 0.0444 a day, cover 11 / 0.0444 = 247.50 days > 180: overstock.
    // Daily sd = sqrt(16 / 90 - (4 / 90)^2) = 0.4193; safety stock ceil(1.65 x 0.4193 x
    // sqrt(14)) = ceil(2.589) = 3; reorder point ceil(0.0444 x 14 + 3) = 4. Slow
    // movers: the lowest fifth of window units (0, 0, 3, 4): P1 East and P3 East.
    assert_eq!(
        q(
            db,
            "SELECT sku, warehouse, on_hand, window_units_shipped, avg_daily_demand, days_of_cover,
                    safety_stock, reorder_point, below_reorder_point, is_overstock, is_slow_mover
             FROM kpi_inventory_status ORDER BY sku, warehouse"
        ),
        t(&[
            &[
                "P1",
                "WH-CENTRAL",
                "3",
                "3",
                "0.0333",
                "90.00",
                "2",
                "3",
                "true",
                "false",
                "false"
            ],
            &["P1", "WH-EAST", "3", "0", "0.0000", "NULL", "0", "0", "false", "true", "true"],
            &["P2", "WH-EAST", "11", "4", "0.0444", "247.50", "3", "4", "false", "true", "false"],
            &["P3", "WH-EAST", "0", "0", "0.0000", "NULL", "0", "0", "true", "false", "true"],
        ])
    );
}

/// fct_invoices, kpi_dso, kpi_receivables_aging and kpi_order_invoice_reconciliation.
fn finance(db: &duckdb::Connection) {
    // INV2 (EUR 90.00 at January's 1.10 = 99.00 USD) is paid in two parts: 40.00 on
    // 02-20 and 50.00 on 04-15 (80 days after the invoice). Open on 06-30: INV3 43.56
    // (86 days past due), INV5 42.50 and INV6 10.00 (not due).
    assert_eq!(
        q(
            db,
            "SELECT invoice_id, gross_usd, paid_amount, open_usd, fully_paid_on, days_to_pay,
                    days_past_due
             FROM fct_invoices ORDER BY invoice_id"
        ),
        t(&[
            &[
                "INV1",
                "297.50",
                "297.50",
                "0.00",
                "2025-01-30",
                "18",
                "NULL"
            ],
            &["INV2", "99.00", "90.00", "0.00", "2025-04-15", "80", "NULL"],
            &["INV3", "43.56", "0.00", "43.56", "NULL", "NULL", "86"],
            &[
                "INV4",
                "321.00",
                "321.00",
                "0.00",
                "2025-05-01",
                "13",
                "NULL"
            ],
            &["INV5", "42.50", "0.00", "42.50", "NULL", "NULL", "-11"],
            &["INV6", "10.00", "0.00", "10.00", "NULL", "NULL", "-1"],
        ])
    );
    // DSO = receivables at the period end / credit sales of the period x days.
    // Feb: no sales, INV2's 50 EUR open = 55.00. Mar: 55.00 + 43.56 = 98.56 / 43.56 x 31
    // = 70.14, overdue INV2 (due 03-11) 55.00 = 0.5580. Jun: 96.06 / 52.50 x 30 =
    // 54.89, overdue INV3 = 43.56 / 96.06 = 0.4535. Q1: 98.56 / 440.06 x 90 = 20.16.
    // 2025 to date: 96.06 / 813.56 x 181 = 21.37.
    assert_eq!(
        q(
            db,
            "SELECT period_type, period_start, days, credit_sales, receivables, dso,
                    overdue_receivables, overdue_pct
             FROM kpi_dso
             WHERE period_start IN (DATE '2025-02-01', DATE '2025-03-01', DATE '2025-06-01')
                OR period_type <> 'month' AND period_start = DATE '2025-01-01'
             ORDER BY period_type, period_start"
        ),
        t(&[
            &[
                "month",
                "2025-02-01",
                "28",
                "0.00",
                "55.00",
                "NULL",
                "0.00",
                "0.0000"
            ],
            &[
                "month",
                "2025-03-01",
                "31",
                "43.56",
                "98.56",
                "70.14",
                "55.00",
                "0.5580"
            ],
            &[
                "month",
                "2025-06-01",
                "30",
                "52.50",
                "96.06",
                "54.89",
                "43.56",
                "0.4535"
            ],
            &[
                "quarter",
                "2025-01-01",
                "90",
                "440.06",
                "98.56",
                "20.16",
                "55.00",
                "0.5580"
            ],
            &[
                "year",
                "2025-01-01",
                "181",
                "813.56",
                "96.06",
                "21.37",
                "43.56",
                "0.4535"
            ],
        ])
    );
    assert_eq!(
        q(
            db,
            "SELECT region, age_band, invoices, open_usd, share FROM kpi_receivables_aging
             WHERE region = 'All' ORDER BY band_order"
        ),
        t(&[
            &["All", "not due", "2", "52.50", "0.5465"],
            &["All", "61-90", "1", "43.56", "0.4535"],
            &["All", "All", "3", "96.06", "1.0000"],
        ])
    );
    // INV3 says 41.00 for SO3's 40.00 of lines; INV6 bills an order that does not exist.
    assert_eq!(
        q(
            db,
            "SELECT issue, order_id, invoice_id, order_net_local, invoice_net_amount, difference
             FROM kpi_order_invoice_reconciliation ORDER BY issue"
        ),
        t(&[
            &["amount_differs", "SO3", "INV3", "40.00", "41.00", "1.00"],
            &[
                "invoice_without_order",
                "SO9",
                "INV6",
                "NULL",
                "10.00",
                "10.00"
            ],
        ])
    );
}

/// kpi_market_share, kpi_rep_activity, kpi_funnel_conversion and kpi_pipeline.
fn market_and_process(db: &duckdb::Connection) {
    // 2024 has a market estimate for South Furniture but no sales: share 0, so the
    // change to 2025 has no base and is NULL (not an error dividing by zero).
    assert_eq!(
        q(
            db,
            "SELECT year, share_pct, share_change_pct FROM kpi_market_share
             WHERE region = 'South' AND category = 'Furniture' ORDER BY year"
        ),
        t(&[&["2024", "0.000000", "NULL"], &["2025", "0.079800", "NULL"]])
    );
    // 2025 to date by customer region: North Furniture 180.00 of 10,000 = 0.018000;
    // North Paper 100 + 40 + 40 - 20 = 160.00 of 1,000 = 0.160000 (annualised x 365 /
    // 181 = 0.322652); South Furniture 99 + 300 = 399.00 of 5,000 = 0.079800 (0.160923).
    assert_eq!(
        q(
            db,
            "SELECT region, category, net_revenue, market_size, share_pct, is_partial_year,
                    annualised_share_pct
             FROM kpi_market_share WHERE region <> 'All' AND category <> 'All' ORDER BY ALL"
        ),
        t(&[
            &[
                "North",
                "Furniture",
                "180.00",
                "10000.00",
                "0.018000",
                "true",
                "0.036298"
            ],
            &["North", "Paper", "160.00", "1000.00", "0.160000", "true", "0.322652"],
            &[
                "North",
                "Technology",
                "50.00",
                "NULL",
                "NULL",
                "true",
                "NULL"
            ],
            &[
                "South",
                "Furniture",
                "0.00",
                "5000.00",
                "0.000000",
                "false",
                "0.000000"
            ],
            &[
                "South",
                "Furniture",
                "399.00",
                "5000.00",
                "0.079800",
                "true",
                "0.160923"
            ],
        ])
    );
    // R1 in January: a visit that placed an order and a call; SO1 booked. R3 in March: a
    // visit without an order, SO3 booked. R2 logged nothing.
    assert_eq!(
        q(
            db,
            "SELECT month, rep_id, team, visits, calls, visits_with_order, visit_to_order_pct,
                    orders, orders_per_visit, net_revenue
             FROM kpi_rep_activity ORDER BY month, rep_id"
        ),
        t(&[
            &[
                "2025-01-01",
                "R1",
                "North A",
                "1",
                "1",
                "1",
                "1.0000",
                "1",
                "1.0000",
                "280.00"
            ],
            &[
                "2025-01-01",
                "R2",
                "South A",
                "0",
                "0",
                "0",
                "NULL",
                "1",
                "NULL",
                "99.00"
            ],
            &[
                "2025-03-01",
                "R3",
                "North A",
                "1",
                "0",
                "0",
                "0.0000",
                "1",
                "1.0000",
                "40.00"
            ],
            &[
                "2025-04-01",
                "R2",
                "West A",
                "0",
                "0",
                "0",
                "NULL",
                "1",
                "NULL",
                "300.00"
            ],
            &[
                "2025-06-01",
                "R1",
                "North A",
                "0",
                "0",
                "0",
                "NULL",
                "2",
                "NULL",
                "90.00"
            ],
        ])
    );
    // OP1 goes lead -> won, OP2 (R2, South A) is lost after qualified, OP3 is open at
    // qualified. qualified -> proposal: 1 of 3 (OP3 still open) = the bottleneck.
    assert_eq!(
        q(
            db,
            "SELECT step_no, from_stage, to_stage, entered, converted, still_open, conversion_pct,
                    is_bottleneck
             FROM kpi_funnel_conversion WHERE team = 'All' AND cohort_quarter = 'All'
             ORDER BY step_no"
        ),
        t(&[
            &["1", "lead", "qualified", "3", "3", "0", "1.0000", "false"],
            &[
                "2",
                "qualified",
                "proposal",
                "3",
                "1",
                "1",
                "0.3333",
                "true"
            ],
            &[
                "3",
                "proposal",
                "negotiation",
                "1",
                "1",
                "0",
                "1.0000",
                "false"
            ],
            &["4", "negotiation", "won", "1", "1", "0", "1.0000", "false"],
        ])
    );
    // Win rate 1 / (1 + 1); cycle 01-02 -> 01-10 = 8 days; OP3's latest stage amount
    // 1,200.00 x 0.25 = 300.00 weighted.
    assert_eq!(
        q(
            db,
            "SELECT team, created, won, lost, open, win_rate, avg_cycle_days, won_amount,
                    open_amount, weighted_pipeline
             FROM kpi_pipeline WHERE created_quarter = 'All' ORDER BY team"
        ),
        t(&[
            &["All", "3", "1", "1", "1", "0.5000", "8.00", "280.00", "1200.00", "300.00"],
            &["North A", "2", "1", "0", "1", "1.0000", "8.00", "280.00", "1200.00", "300.00"],
            &["South A", "1", "0", "1", "0", "0.0000", "NULL", "0.00", "0.00", "0.00"],
        ])
    );
}

#[test]
fn attainment_counts_nothing_after_an_earlier_as_of_date() {
    // The extracts run to June; as of 2025-03-31 the company's 2025 has achieved its
    // January to March only: 379 + 0 + 20 = 399 (kpi_sales_growth's year to date), not
    // the 789 of the half year, and the run says the data goes further.
    let dir = fixture("kpi_small");
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--as-of", "2025-03-31"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("as-of 2025-03-31 is before the newest orders.order_date (2025-06-"),
        "{err}"
    );
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    assert_eq!(
        q(
            &db,
            "SELECT period_type, period_start, achieved, status FROM kpi_target_attainment
             WHERE level = 'company' AND period_start BETWEEN DATE '2025-01-01' AND DATE '2025-04-01'
                 AND period_type IN ('quarter', 'year')
             ORDER BY period_type, period_start"
        ),
        t(&[
            &["quarter", "2025-01-01", "399.00", "closed"],
            &["quarter", "2025-04-01", "0.00", "future"],
            &["year", "2025-01-01", "399.00", "current"],
        ])
    );
}

#[test]
fn an_as_of_date_a_week_after_the_data_warns_of_a_stale_extract() {
    let dir = fixture("kpi_small");
    let newest = |d: &str| {
        let out = salespipe(
            dir.path(),
            &["run", "pipeline.yaml", "--quiet", "--as-of", d],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The newest order of the fixture's orders.csv is dated 2025-06-28.
    let err = newest("2025-07-05");
    assert!(
        err.contains(
            "as-of 2025-07-05 is 7 days after the newest orders.order_date (2025-06-28): those \
             days count as no sales"
        ),
        "{err}"
    );
    let err = newest("2025-07-04");
    assert!(!err.contains("days after"), "{err}");
}
