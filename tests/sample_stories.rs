//! The committed sample's planted stories, each shown by a direct DuckDB query over the RAW
//! extracts in `sample_data/` (no pipeline involved): `read_csv` and `read_json` on the files,
//! the GBK market-size file decoded to a temporary UTF-8 copy, the XLSX invoices read with
//! calamine. Every `story_id` of `sample_data/stories.csv` has a test here.
//!
//! The queries clean only as much as the story needs, the way `sample_data/README.md` says:
//! latest version per key (greatest `updated_at`), exact duplicates dropped, dates in the three
//! documented formats, rows that fail to parse or join left out, region aliases mapped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use duckdb::types::Value;
use duckdb::Connection;

use crate::common::*;

/// The raw sample as views in an in-memory DuckDB, plus the temp folder the decoded copies
/// live in.
struct Raw {
    conn: Connection,
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn path(p: &Path) -> String {
    p.display().to_string().replace('\'', "''")
}

/// Normalised region: trimmed, case-insensitive, `N.`-style aliases.
const REGION: &str = "CASE upper(trim(region)) WHEN 'N.' THEN 'North' WHEN 'S.' THEN 'South'
    WHEN 'E.' THEN 'East' WHEN 'W.' THEN 'West' WHEN 'C.' THEN 'Central'
    ELSE upper(substr(trim(region), 1, 1)) || lower(substr(trim(region), 2)) END";

/// A date in any of the three documented formats.
fn any_date(column: &str) -> String {
    format!(
        "coalesce(try_strptime({column}, '%Y-%m-%d'), try_strptime({column}, '%d/%m/%Y'),
                  try_strptime({column}, '%Y/%m/%d'))::DATE"
    )
}

impl Raw {
    fn open() -> Self {
        let dir = repo().join("sample_data");
        let tmp = tempfile::tempdir().unwrap();
        let gbk = std::fs::read(dir.join("marketing/market_size_cn.csv")).unwrap();
        let (utf8, _, errors) = encoding_rs::GBK.decode(&gbk);
        assert!(!errors, "market_size_cn.csv is not valid GBK");
        let market = tmp.path().join("market_size_utf8.csv");
        std::fs::write(&market, utf8.as_bytes()).unwrap();

        let conn = Connection::open_in_memory().unwrap();
        let f = |rel: &str| path(&dir.join(rel));
        let sql = format!(
            "
            CREATE VIEW customers AS
            SELECT DISTINCT trim(customer_id) AS customer_id, {REGION} AS region
            FROM read_csv('{customers}', all_varchar = true);
            CREATE VIEW products AS SELECT * FROM read_csv('{products}', all_varchar = true);
            CREATE VIEW orders AS
            SELECT order_id, {order_date} AS order_date,
                   try_cast(promised_date AS DATE) AS promised_date,
                   try_cast(ship_date AS DATE) AS ship_date, ship_mode, status, currency,
                   trim(customer_id) AS customer_id, rep_id, campaign_id, warehouse
            FROM read_csv('{orders}', all_varchar = true)
            QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY updated_at DESC) = 1;
            CREATE VIEW lines AS
            SELECT order_id, line_no, upper(trim(sku)) AS sku,
                   try_cast(quantity AS INTEGER) AS quantity,
                   try_cast(unit_price AS DECIMAL(18,2)) AS unit_price,
                   try_cast(discount_pct AS INTEGER) AS discount_pct
            FROM read_csv('{lines}', all_varchar = true)
            QUALIFY row_number() OVER (PARTITION BY order_id, line_no ORDER BY updated_at DESC) = 1;
            CREATE VIEW fx AS
            SELECT month::DATE AS month, currency, rate_to_usd::DECIMAL(18,6) AS rate
            FROM read_csv('{fx}', all_varchar = true);
            -- Order lines that load, with USD net revenue, the product's category and the
            -- customer's region (cancelled orders left out).
            CREATE VIEW sales AS
            SELECT o.*, l.line_no, l.sku, l.quantity, p.category, c.region,
                   round(round(l.quantity * l.unit_price * (100 - l.discount_pct) * 0.01, 2)
                         * fx.rate, 2)::DOUBLE AS usd
            FROM orders o
            JOIN lines l USING (order_id)
            JOIN products p ON p.sku = l.sku
            JOIN customers c ON c.customer_id = o.customer_id
            JOIN fx ON fx.month = date_trunc('month', o.order_date)::DATE
                   AND fx.currency = o.currency
            WHERE o.status <> 'cancelled' AND l.quantity > 0 AND l.unit_price IS NOT NULL
              AND o.order_date IS NOT NULL;
            CREATE VIEW reps AS SELECT * FROM read_csv('{reps}', all_varchar = true);
            CREATE VIEW attainment AS
            WITH t AS (SELECT year::INT AS year, rep_id, annual_target::DOUBLE AS target
                       FROM read_csv('{targets}', all_varchar = true)),
                 q AS (SELECT year::INT AS year, (month::INT - 1) // 3 + 1 AS q,
                              sum(pct::DOUBLE) AS pct
                       FROM read_csv('{distribution}', all_varchar = true) GROUP BY ALL),
                 a AS (SELECT year(order_date) AS year, quarter(order_date) AS q, rep_id,
                              sum(usd) AS revenue
                       FROM sales GROUP BY ALL)
            SELECT t.year, q.q, t.rep_id,
                   100 * coalesce(a.revenue, 0) / (t.target * q.pct / 100) AS pct
            FROM t JOIN q USING (year)
            LEFT JOIN a ON a.year = t.year AND a.q = q.q AND a.rep_id = t.rep_id;
            CREATE VIEW market AS
            SELECT year::INT AS year,
                   CASE region WHEN '華北' THEN 'North' WHEN '華南' THEN 'South'
                        WHEN '華東' THEN 'East' WHEN '華西' THEN 'West' WHEN '華中' THEN 'Central'
                   END AS region,
                   category, market_size::DOUBLE AS size
            FROM read_csv('{market}', all_varchar = true);
            CREATE VIEW opening AS
            SELECT sku, warehouse, on_hand::INT AS on_hand
            FROM read_csv('{opening}', all_varchar = true);
            CREATE VIEW receipts AS
            SELECT DISTINCT receipt_id, sku, warehouse, {received} AS day, quantity::INT AS qty
            FROM read_csv('{receipts}', all_varchar = true);
            CREATE VIEW snapshots AS
            SELECT month_end::DATE AS day, sku, warehouse, on_hand::INT AS on_hand
            FROM read_csv('{snapshots}', all_varchar = true);
            CREATE VIEW survey AS
            SELECT DISTINCT response_id, response_date::DATE AS day, {REGION} AS region, sku,
                   customer_id, csat, nps
            FROM read_json('{survey}', format = 'newline_delimited',
                           columns = {{response_id: 'VARCHAR', response_date: 'VARCHAR',
                                      region: 'VARCHAR', sku: 'VARCHAR',
                                      customer_id: 'VARCHAR', csat: 'INTEGER',
                                      nps: 'INTEGER'}})
            WHERE csat BETWEEN 1 AND 5 AND nps BETWEEN 0 AND 10;
            CREATE VIEW returns AS
            SELECT DISTINCT return_id, order_id, line_no, quantity::INT AS qty, reason
            FROM read_csv('{returns}', all_varchar = true);
            CREATE VIEW opportunities AS
            SELECT opportunity_id, rep_id, {created} AS created
            FROM read_csv('{opportunities}', all_varchar = true);
            CREATE VIEW stages AS
            SELECT DISTINCT opportunity_id, lower(trim(stage)) AS stage
            FROM read_csv('{stages}', all_varchar = true);
            CREATE VIEW spend AS
            SELECT campaign_id, sum(spend::DOUBLE) AS spend
            FROM (SELECT DISTINCT * FROM read_csv('{spend}', all_varchar = true)) GROUP BY ALL;
            ",
            customers = f("sales/customers.csv"),
            products = f("sales/products.csv"),
            orders = f("sales/orders.csv"),
            order_date = any_date("order_date"),
            lines = f("sales/order_lines.csv"),
            fx = f("finance/fx_rates.csv"),
            reps = f("sales/reps.csv"),
            targets = f("sales/targets.csv"),
            distribution = f("sales/target_distribution.csv"),
            market = path(&market),
            opening = f("inventory/opening_stock.csv"),
            received = any_date("received_on"),
            receipts = f("inventory/receipts.csv"),
            snapshots = f("inventory/month_end_snapshots.csv"),
            survey = f("marketing/survey_responses.ndjson"),
            returns = f("sales/returns.csv"),
            created = any_date("created_on"),
            opportunities = f("sales/opportunities.csv"),
            stages = f("sales/opportunity_stages.csv"),
            spend = f("marketing/campaign_spend.csv"),
        );
        conn.execute_batch(&sql).unwrap();
        Raw { conn, tmp, dir }
    }

    /// Rows of a query as DuckDB values.
    fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .unwrap_or_else(|e| panic!("{e}\n{sql}"));
        let mut rows = stmt.query([]).unwrap();
        let n = rows.as_ref().unwrap().column_count();
        let mut out = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            out.push((0..n).map(|i| r.get::<_, Value>(i).unwrap()).collect());
        }
        out
    }

    /// A query's (text key, number) pairs.
    fn pairs(&self, sql: &str) -> BTreeMap<String, f64> {
        self.query(sql)
            .into_iter()
            .map(|r| (text(&r[0]), num(&r[1])))
            .collect()
    }

    /// A query's single number.
    fn number(&self, sql: &str) -> f64 {
        num(&self.query(sql)[0][0])
    }

    /// The entities of a story, e.g. `["R012", "R016"]` for `S01`.
    fn entities(&self, story: &str) -> Vec<String> {
        let stories = path(&self.dir.join("stories.csv"));
        self.query(&format!(
            "SELECT entity FROM read_csv('{stories}', all_varchar = true)
             WHERE story_id = '{story}'"
        ))
        .into_iter()
        .map(|r| text(&r[0]).split_once(' ').unwrap().1.to_string())
        .collect()
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Double(x) => *x,
        Value::Float(x) => f64::from(*x),
        Value::BigInt(x) => *x as f64,
        Value::Int(x) => f64::from(*x),
        Value::HugeInt(x) => *x as f64,
        Value::UBigInt(x) => *x as f64,
        Value::Null => f64::NAN,
        other => panic!("not a number: {other:?}"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Null => "NULL".to_string(),
        other => format!("{other:?}"),
    }
}

/// Every story in `stories.csv` is one of these, each tested below.
#[test]
fn every_story_has_a_test() {
    let raw = Raw::open();
    let ids: BTreeSet<String> = raw
        .query(&format!(
            "SELECT DISTINCT story_id FROM read_csv('{}', all_varchar = true)",
            path(&raw.dir.join("stories.csv"))
        ))
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    let tested: BTreeSet<String> = (1..=15).map(|n| format!("S{n:02}")).collect();
    assert_eq!(ids, tested);
}

fn attainment(raw: &Raw, rep: &str) -> Vec<f64> {
    raw.query(&format!(
        "SELECT pct FROM attainment WHERE year = 2025 AND q IN (2, 3) AND rep_id = '{rep}'
         ORDER BY q"
    ))
    .iter()
    .map(|r| num(&r[0]))
    .collect()
}

#[test]
fn s01_two_reps_far_below_target_in_two_quarters() {
    let raw = Raw::open();
    let reps = raw.entities("S01");
    assert_eq!(reps.len(), 2);
    for rep in reps {
        let a = attainment(&raw, &rep);
        assert_eq!(a.len(), 2, "{rep}");
        assert!(a.iter().all(|p| *p < 40.0), "{rep}: {a:?}");
        // A normal year before the story.
        let before = raw.number(&format!(
            "SELECT avg(pct) FROM attainment WHERE year = 2024 AND rep_id = '{rep}'"
        ));
        assert!(before > 70.0, "{rep} 2024: {before}");
    }
}

#[test]
fn s02_one_rep_far_above_target_in_the_same_quarters() {
    let raw = Raw::open();
    let reps = raw.entities("S02");
    assert_eq!(reps.len(), 1);
    let a = attainment(&raw, &reps[0]);
    assert!(a.len() == 2 && a.iter().all(|p| *p > 150.0), "{a:?}");
}

#[test]
fn s03_one_region_loses_market_share() {
    let raw = Raw::open();
    let region = raw.entities("S03");
    let share = |year: i32| {
        raw.pairs(&format!(
            "WITH m AS (SELECT region, sum(size) AS size FROM market WHERE year = {year}
                        GROUP BY ALL),
                  s AS (SELECT region, sum(usd) AS revenue FROM sales
                        WHERE year(order_date) = {year} GROUP BY ALL)
             SELECT region, revenue / size FROM m JOIN s USING (region)"
        ))
    };
    let (first, last) = (share(2022), share(2025));
    assert_eq!(first.len(), 5);
    for (r, s22) in &first {
        let s25 = last[r];
        if *r == region[0] {
            assert!(s25 < 0.7 * s22, "{r}: {s22} -> {s25}");
        } else {
            assert!(s25 >= 0.9 * s22, "{r}: {s22} -> {s25}");
        }
    }
}

#[test]
fn s04_one_category_has_a_strong_fourth_quarter() {
    let raw = Raw::open();
    let category = raw.entities("S04");
    let rows = raw.query(
        "WITH c AS (SELECT category, year(order_date) AS y, quarter(order_date) AS q,
                           sum(usd) AS revenue
                    FROM sales WHERE year(order_date) <= 2025 GROUP BY ALL)
         SELECT category, y,
                sum(revenue) FILTER (WHERE q = 4) / avg(revenue) FILTER (WHERE q < 4)
         FROM c GROUP BY ALL ORDER BY ALL",
    );
    assert_eq!(rows.len(), 6 * 4);
    for r in rows {
        let (cat, ratio) = (text(&r[0]), num(&r[2]));
        if cat == category[0] {
            assert!(ratio >= 2.0, "{cat} {:?}: {ratio}", r[1]);
        } else {
            assert!(ratio < 1.7, "{cat} {:?}: {ratio}", r[1]);
        }
    }
}

/// Daily end-of-day on-hand per SKU and warehouse from opening + receipts - shipments.
fn daily_stock(raw: &Raw) {
    raw.conn
        .execute_batch(
            "CREATE OR REPLACE TABLE daily AS
             WITH days AS (SELECT range::DATE AS day
                           FROM range(DATE '2022-01-01', DATE '2026-10-01', INTERVAL 1 DAY)),
                  shipped AS (SELECT sku, warehouse, ship_date AS day, sum(quantity) AS qty
                              FROM sales WHERE status IN ('shipped', 'completed')
                              GROUP BY ALL),
                  moves AS (SELECT sku, warehouse, day, sum(qty) AS delta
                            FROM (SELECT sku, warehouse, day, qty FROM receipts
                                  UNION ALL
                                  SELECT sku, warehouse, day, -qty FROM shipped)
                            GROUP BY ALL)
             SELECT o.sku, o.warehouse, d.day,
                    o.on_hand + sum(coalesce(m.delta, 0))
                        OVER (PARTITION BY o.sku, o.warehouse ORDER BY d.day) AS level
             FROM opening o CROSS JOIN days d
             LEFT JOIN moves m ON m.sku = o.sku AND m.warehouse = o.warehouse
                              AND m.day = d.day;",
        )
        .unwrap();
}

#[test]
fn s05_top_sellers_stock_out_repeatedly() {
    let raw = Raw::open();
    daily_stock(&raw);
    let skus = raw.entities("S05");
    assert_eq!(skus.len(), 3);
    assert_eq!(
        raw.number("SELECT count(*) FROM daily WHERE level < 0"),
        0.0
    );
    let at_zero: BTreeSet<String> = raw
        .query("SELECT DISTINCT sku FROM daily WHERE level = 0")
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    assert_eq!(
        at_zero,
        skus.iter().cloned().collect(),
        "only the story SKUs run dry"
    );
    let top10: Vec<String> = raw
        .query("SELECT sku FROM lines GROUP BY sku ORDER BY count(*) DESC, sku LIMIT 10")
        .iter()
        .map(|r| text(&r[0]))
        .collect();
    let late = |filter: &str| {
        raw.number(&format!(
            "SELECT (count(DISTINCT order_id) FILTER (WHERE ship_date > promised_date))::DOUBLE
                    / count(DISTINCT order_id)
             FROM sales WHERE ship_date IS NOT NULL AND {filter}"
        ))
    };
    let others: Vec<String> = skus.iter().map(|s| format!("'{s}'")).collect();
    let late_elsewhere = late(&format!(
        "order_id NOT IN (SELECT order_id FROM sales WHERE sku IN ({}))",
        others.join(", ")
    ));
    for sku in &skus {
        assert!(top10.contains(sku), "{sku} is not a top-10 SKU: {top10:?}");
        let spells = raw.query(&format!(
            "WITH z AS (SELECT warehouse, day,
                               day - (row_number() OVER (PARTITION BY warehouse ORDER BY day))::INT
                                   AS grp
                        FROM daily WHERE sku = '{sku}' AND level = 0)
             SELECT count(*) AS len FROM z GROUP BY warehouse, grp"
        ));
        let lengths: Vec<f64> = spells.iter().map(|r| num(&r[0])).collect();
        let long = lengths.iter().filter(|l| **l >= 7.0).count();
        let days: f64 = lengths.iter().sum();
        assert!(
            long >= 4 && days >= 60.0,
            "{sku}: {long} long spells, {days} days at 0"
        );
        let late_here = late(&format!("sku = '{sku}'"));
        assert!(
            late_here > 1.6 * late_elsewhere,
            "{sku}: {late_here} vs {late_elsewhere}"
        );
    }
}

#[test]
fn s06_overstocked_skus_pile_up() {
    let raw = Raw::open();
    let skus = raw.entities("S06");
    assert_eq!(skus.len(), 3);
    let doi = raw.pairs(
        "WITH s AS (SELECT sku, avg(on_hand) AS on_hand FROM snapshots
                    WHERE day >= DATE '2026-01-01' GROUP BY sku),
              u AS (SELECT sku, sum(quantity) / 273.0 AS per_day FROM sales
                    WHERE status IN ('shipped', 'completed') AND ship_date >= DATE '2026-01-01'
                    GROUP BY sku)
         SELECT sku, on_hand / per_day FROM s JOIN u USING (sku)",
    );
    let mut all: Vec<f64> = doi.values().copied().collect();
    all.sort_by(f64::total_cmp);
    let median = all[all.len() / 2];
    for (sku, d) in &doi {
        if skus.contains(sku) {
            assert!(*d > 8.0 * median, "{sku}: {d} vs median {median}");
        } else {
            assert!(*d < 6.0 * median, "{sku}: {d} vs median {median}");
        }
    }
}

fn roas(raw: &Raw) -> BTreeMap<String, f64> {
    raw.pairs(
        "WITH r AS (SELECT campaign_id, sum(usd) AS revenue FROM sales
                    WHERE campaign_id IS NOT NULL GROUP BY ALL)
         SELECT campaign_id, coalesce(revenue, 0) / spend FROM spend
         LEFT JOIN r USING (campaign_id)",
    )
}

#[test]
fn s07_one_campaign_loses_money() {
    let raw = Raw::open();
    let roas = roas(&raw);
    assert_eq!(roas.len(), 20);
    for c in raw.entities("S07") {
        assert!(roas[&c] < 1.0, "{c}: {}", roas[&c]);
    }
}

#[test]
fn s08_one_campaign_has_a_high_roas() {
    let raw = Raw::open();
    let roas = roas(&raw);
    let high = raw.entities("S08");
    for (c, r) in &roas {
        if high.contains(c) {
            assert!(*r > 8.0, "{c}: {r}");
        } else {
            assert!(*r < 8.0, "{c}: {r}");
        }
    }
}

#[test]
fn s09_nps_drops_in_one_region_after_its_ship_mode_change() {
    let raw = Raw::open();
    let region = raw.entities("S09");
    let nps = |after: bool| {
        let op = if after { ">=" } else { "<" };
        raw.pairs(&format!(
            "SELECT region, 100.0 * (count(*) FILTER (WHERE nps >= 9)
                                     - count(*) FILTER (WHERE nps <= 6)) / count(*)
             FROM survey WHERE day {op} DATE '2025-04-01' GROUP BY region"
        ))
    };
    let shipping = |after: bool, what: &str| {
        let op = if after { ">=" } else { "<" };
        raw.pairs(&format!(
            "SELECT c.region, 100.0 * count(*) FILTER (WHERE {what}) / count(*)
             FROM orders o JOIN customers c USING (customer_id)
             WHERE o.ship_date IS NOT NULL AND o.status <> 'cancelled'
               AND o.order_date {op} DATE '2025-04-01'
             GROUP BY c.region"
        ))
    };
    let (before, after) = (nps(false), nps(true));
    let late = (
        shipping(false, "ship_date > promised_date"),
        shipping(true, "ship_date > promised_date"),
    );
    let economy = (
        shipping(false, "ship_mode = 'Economy'"),
        shipping(true, "ship_mode = 'Economy'"),
    );
    assert_eq!(before.len(), 5);
    for (r, b) in &before {
        let a = after[r];
        if *r == region[0] {
            assert!(a < 0.0 && b - a > 30.0, "{r} NPS {b} -> {a}");
            assert!(
                late.0[r] < 20.0 && late.1[r] > 40.0,
                "{r} late {} -> {}",
                late.0[r],
                late.1[r]
            );
            assert!(economy.0[r] == 0.0 && economy.1[r] > 50.0, "{r} Economy");
        } else {
            assert!(a > 0.0 && b - a < 25.0, "{r} NPS {b} -> {a}");
            assert_eq!(economy.1[r], 0.0, "{r} Economy");
        }
    }
}

#[test]
fn s10_one_product_has_a_returns_spike_with_one_reason() {
    let raw = Raw::open();
    let sku = &raw.entities("S10")[0];
    let rows = raw.query(&format!(
        "SELECT s.ship_date BETWEEN DATE '2025-05-01' AND DATE '2025-10-31' AS spike,
                sum(s.quantity)::DOUBLE, coalesce(sum(r.qty), 0)::DOUBLE,
                (count(*) FILTER (WHERE r.reason = 'defective'))::DOUBLE
                    / greatest(count(r.qty), 1)
         FROM sales s LEFT JOIN returns r USING (order_id, line_no)
         WHERE s.sku = '{sku}' AND s.status = 'completed'
         GROUP BY ALL ORDER BY ALL"
    ));
    assert_eq!(rows.len(), 2);
    let rate = |r: &Vec<Value>| num(&r[2]) / num(&r[1]);
    assert!(rate(&rows[0]) < 0.05, "outside: {}", rate(&rows[0]));
    assert!(rate(&rows[1]) >= 0.20, "in the spike: {}", rate(&rows[1]));
    assert!(
        num(&rows[1][3]) >= 0.7,
        "defective share {}",
        num(&rows[1][3])
    );
}

#[test]
fn s11_one_teams_funnel_stage_collapses() {
    let raw = Raw::open();
    let team = &raw.entities("S11")[0];
    let rows = raw.query(
        "WITH t AS (SELECT o.opportunity_id, o.created, r.team
                    FROM opportunities o JOIN reps r ON r.rep_id = o.rep_id
                     AND o.created >= r.valid_from::DATE
                     AND (r.valid_to IS NULL OR o.created <= r.valid_to::DATE))
         SELECT team, created >= DATE '2025-07-01' AS collapse,
                (count(*) FILTER (WHERE s.stage = 'proposal'))::DOUBLE
                    / count(*) FILTER (WHERE s.stage = 'qualified')
         FROM t JOIN stages s USING (opportunity_id)
         WHERE created < DATE '2026-07-01'
         GROUP BY ALL",
    );
    assert_eq!(
        raw.number("SELECT count(*) FROM opportunities WHERE created IS NULL"),
        0.0
    );
    assert_eq!(rows.len(), 20, "10 teams, before and during");
    for r in rows {
        let (t, during, conv) = (text(&r[0]), r[1] == Value::Boolean(true), num(&r[2]));
        if t == *team && during {
            assert!(conv < 0.35, "{t}: {conv}");
        } else {
            assert!(conv >= 0.5, "{t} (during: {during}): {conv}");
        }
    }
}

fn orders_of(raw: &Raw, customer: &str) -> [f64; 3] {
    let r = &raw.query(&format!(
        "SELECT count(*) FILTER (WHERE order_date < DATE '2024-04-01'),
                count(*) FILTER (WHERE order_date BETWEEN DATE '2024-04-01' AND DATE '2025-09-30'),
                count(*) FILTER (WHERE order_date >= DATE '2025-10-01')
         FROM orders WHERE customer_id = '{customer}'"
    ))[0];
    [num(&r[0]), num(&r[1]), num(&r[2])]
}

#[test]
fn s12_a_group_of_customers_churns() {
    let raw = Raw::open();
    let churned = raw.entities("S12");
    assert!(churned.len() >= 5, "{churned:?}");
    for c in churned {
        let [before, gap, after] = orders_of(&raw, &c);
        assert!(
            before >= 5.0 && gap == 0.0 && after == 0.0,
            "{c}: {before} {gap} {after}"
        );
    }
}

#[test]
fn s13_a_few_churned_customers_come_back() {
    let raw = Raw::open();
    let back = raw.entities("S13");
    assert!(!back.is_empty());
    for c in back {
        let [before, gap, after] = orders_of(&raw, &c);
        assert!(
            before >= 5.0 && gap == 0.0 && after >= 2.0,
            "{c}: {before} {gap} {after}"
        );
    }
}

#[test]
fn s14_s15_rep_history_moves_and_joins() {
    let raw = Raw::open();
    let mover = &raw.entities("S14")[0];
    let rows = raw.query(&format!(
        "SELECT region, valid_from, coalesce(valid_to, '') FROM reps
         WHERE rep_id = '{mover}' ORDER BY valid_from"
    ));
    assert_eq!(rows.len(), 2);
    let (from, to) = (text(&rows[0][0]), text(&rows[1][0]));
    assert_ne!(from, to);
    let regions = raw.query(&format!(
        "SELECT DISTINCT o.order_date >= DATE '{}' AS after, c.region
         FROM orders o JOIN customers c USING (customer_id)
         WHERE o.rep_id = '{mover}' AND o.order_date IS NOT NULL ORDER BY ALL",
        text(&rows[1][1])
    ));
    let got: Vec<(bool, String)> = regions
        .iter()
        .map(|r| (r[0] == Value::Boolean(true), text(&r[1])))
        .collect();
    assert_eq!(got, vec![(false, from), (true, to)]);

    let joiner = &raw.entities("S15")[0];
    let hired = text(
        &raw.query(&format!(
            "SELECT hired_on FROM reps WHERE rep_id = '{joiner}'"
        ))[0][0],
    );
    assert!(hired.as_str() > "2023-12-31", "{hired}");
    let early = raw.number(&format!(
        "SELECT count(*) FROM orders WHERE rep_id = '{joiner}' AND order_date < DATE '{hired}'"
    ));
    assert_eq!(early, 0.0);
    let later = raw.number(&format!(
        "SELECT count(*) FROM orders WHERE rep_id = '{joiner}'"
    ));
    assert!(later > 50.0, "{later}");
}

/// The month-end snapshots equal opening + receipts - shipments, except exactly the rows
/// `truth.csv` lists as `snapshot_mismatch`.
#[test]
fn inventory_reconciles_except_the_planted_mismatches() {
    let raw = Raw::open();
    daily_stock(&raw);
    let diffs: BTreeSet<(String, String, String)> = raw
        .query(
            "SELECT s.day::VARCHAR, s.sku, s.warehouse FROM snapshots s
             JOIN daily d USING (sku, warehouse, day) WHERE s.on_hand <> d.level",
        )
        .iter()
        .map(|r| (text(&r[0]), text(&r[1]), text(&r[2])))
        .collect();
    assert_eq!(
        raw.number("SELECT count(*) FROM snapshots s JOIN daily d USING (sku, warehouse, day)"),
        57.0 * 240.0
    );
    let file = std::fs::read_to_string(raw.dir.join("inventory/month_end_snapshots.csv")).unwrap();
    let lines: Vec<&str> = file.lines().collect();
    let planted: BTreeSet<(String, String, String)> =
        truth_rows(&raw, "inventory/month_end_snapshots.csv")
            .into_iter()
            .map(|(line, kind, expected)| {
                assert_eq!(
                    (kind.as_str(), expected.as_str()),
                    ("snapshot_mismatch", "flag")
                );
                let f: Vec<&str> = lines[line - 1].split(',').collect();
                (f[0].to_string(), f[1].to_string(), f[2].to_string())
            })
            .collect();
    assert!(!planted.is_empty());
    assert_eq!(diffs, planted);
}

/// (line, kind, expected) of the truth rows for one file.
fn truth_rows(raw: &Raw, file: &str) -> Vec<(usize, String, String)> {
    raw.query(&format!(
        "SELECT line::BIGINT, kind, expected FROM read_csv('{}', all_varchar = true)
         WHERE file = '{file}' ORDER BY line::BIGINT",
        path(&raw.dir.join("truth.csv"))
    ))
    .iter()
    .map(|r| (num(&r[0]) as usize, text(&r[1]), text(&r[2])))
    .collect()
}

/// The XLSX invoices tie to the order lines that load: net = the sum of their net amounts.
#[test]
fn invoices_tie_to_the_loaded_order_lines() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let raw = Raw::open();
    let mut book: Xlsx<_> = open_workbook(raw.dir.join("finance/invoices.xlsx")).unwrap();
    let range = book.worksheet_range("Invoices").unwrap();
    let mut csv = String::from("invoice_id,order_id,net_amount\n");
    for row in range.rows().skip(1) {
        let net = match &row[4] {
            Data::Float(f) => format!("{f:.2}"),
            other => panic!("net_amount {other:?}"),
        };
        csv.push_str(&format!("{},{},{net}\n", row[0], row[1]));
    }
    let copy = raw.tmp.path().join("invoices.csv");
    std::fs::write(&copy, csv).unwrap();
    let mismatches = raw.query(&format!(
        "WITH i AS (SELECT DISTINCT * FROM read_csv('{}', all_varchar = true)),
              l AS (SELECT order_id,
                           sum(round(quantity * unit_price * (100 - discount_pct) * 0.01, 2))
                               AS net
                    FROM lines WHERE quantity > 0 AND unit_price IS NOT NULL
                      AND sku IN (SELECT sku FROM products)
                    GROUP BY ALL)
         SELECT i.invoice_id, i.net_amount, l.net FROM i LEFT JOIN l USING (order_id)
         WHERE l.net IS NULL OR i.net_amount::DECIMAL(18,2) <> l.net",
        path(&copy)
    ));
    assert!(
        mismatches.is_empty(),
        "{:?}",
        &mismatches[..mismatches.len().min(5)]
    );
    assert!(range.rows().count() > 5_000);
}

/// Every truth row points at an existing line of its file (the defects themselves are checked
/// row by row by the generator's unit tests).
#[test]
fn truth_rows_point_at_existing_lines() {
    let raw = Raw::open();
    let files = raw.query(&format!(
        "SELECT file, max(line::BIGINT), count(*) FROM read_csv('{}', all_varchar = true)
         GROUP BY file ORDER BY file",
        path(&raw.dir.join("truth.csv"))
    ));
    assert_eq!(files.len(), 14, "{files:?}");
    for r in files {
        let (file, max) = (text(&r[0]), num(&r[1]) as usize);
        let lines = if file.ends_with(".xlsx") {
            use calamine::{open_workbook, Reader, Xlsx};
            let mut book: Xlsx<_> = open_workbook(raw.dir.join(&file)).unwrap();
            book.worksheet_range("Invoices").unwrap().rows().count()
        } else {
            std::fs::read(raw.dir.join(&file))
                .unwrap()
                .iter()
                .filter(|b| **b == b'\n')
                .count()
        };
        assert!(max <= lines, "{file}: line {max} of {lines}");
    }
}
