//! Forecast nodes on `tests/fixtures/forecast`: four regions of monthly sales forecast
//! by seasonal naive only, so every figure is worked out by hand below.
//!
//! - North: 2024 = 10, 20, ..., 120 (January in two rows, 4 + 6); 2025 = 2024 + 1, so
//!   every lag-12 residual is 1 (sigma 1); 2026: January 13, February 20, a partial
//!   March 99.
//! - South: 2024 all 5; 2025 = 8, 2, 8, 2, ...: residuals +-3 (sigma 3); 2026: 7, 3.
//! - Central: 30 a month in 2024 without May, 40 in 2025 without December: two gaps.
//! - East: new in September 2025 (5, 7, 6, 8), then 9 and 10 in 2026.
//! - Targets for 2026 Q1 per region and month: North 20, South 6, Central 30, East 5,
//!   West (no sales) 5; zones: A = North + South, B = the rest.

use std::path::Path;

use crate::common::*;

const Z95: f64 = 1.959_963_984_540_054;
const Z80: f64 = 1.281_551_565_544_600_5;

/// Standard normal CDF by Simpson's rule on the density (independent of the SQL's
/// polynomial approximation).
fn phi(x: f64) -> f64 {
    if x < -12.0 {
        return 0.0;
    }
    let (a, n) = (-12.0, 20_000);
    let h = (x - a) / n as f64;
    let f = |t: f64| (-t * t / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(a) + f(x);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

fn num(db: &duckdb::Connection, sql: &str) -> f64 {
    db.query_row(sql, [], |r| r.get::<_, f64>(0)).unwrap()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (+- {tol})"
    );
}

fn run(dir: &Path, as_of: Option<&str>) {
    let mut args = vec!["run", "pipeline.yaml", "--quiet"];
    if let Some(d) = as_of {
        args.extend(["--as-of", d]);
    }
    salespipe_ok(dir, &args);
}

fn db(dir: &Path) -> duckdb::Connection {
    open_db(&dir.join("out/warehouse.duckdb"))
}

#[test]
fn forecast_node_feeds_a_sql_model_with_exact_seasonal_naive_values() {
    let dir = fixture("forecast");
    let models = salespipe_ok(dir.path(), &["models", "pipeline.yaml"]);
    for line in [
        "fc_region (rust, table)",
        "fc_region_accuracy (rust, table)",
        "fc_region_realised (rust, table)",
        "forecast_vs_target (rust, table)",
        "fc_total (sql, table)",
    ] {
        assert!(models.contains(line), "{line}:\n{models}");
    }
    let plan = salespipe_ok(dir.path(), &["plan", "pipeline.yaml"]);
    assert!(plan.contains("ok       fc_total"), "{plan}");
    run(dir.path(), None);
    let db = db(dir.path());
    // North repeats 2025 (11, 21, 31) with sigma 1; the 2026 rows are after the as-of
    // date (2025-12-31) and not read.
    let north = rows(
        &db,
        "SELECT period::VARCHAR, periods_ahead::VARCHAR, point::VARCHAR, model, as_of::VARCHAR
         FROM fc_region WHERE region = 'North' ORDER BY period",
    );
    assert_eq!(
        north,
        vec![
            vec!["2026-01-01", "1", "11.0", "seasonal_naive", "2025-12-31"],
            vec!["2026-02-01", "2", "21.0", "seasonal_naive", "2025-12-31"],
            vec!["2026-03-01", "3", "31.0", "seasonal_naive", "2025-12-31"],
        ]
    );
    let band = |col: &str| {
        num(
            &db,
            &format!("SELECT {col} FROM fc_region WHERE region = 'North' AND periods_ahead = 1"),
        )
    };
    close("lo95", band("lo95"), 11.0 - Z95, 1e-9);
    close("hi95", band("hi95"), 11.0 + Z95, 1e-9);
    close("lo80", band("lo80"), 11.0 - Z80, 1e-9);
    // The downstream SQL model: 11 + 8 + 40 + 8, 21 + 2 + 40 + 8, 31 + 8 + 40 + 8.
    assert_eq!(
        rows(
            &db,
            "SELECT period::VARCHAR, point::VARCHAR, regions::VARCHAR FROM fc_total ORDER BY period"
        ),
        vec![
            vec!["2026-01-01", "67.0", "4"],
            vec!["2026-02-01", "71.0", "4"],
            vec!["2026-03-01", "87.0", "4"],
        ]
    );
    // North's backtest: 3 origins x 3 months, each forecast 1 below the actual: MASE 1
    // (scale: the lag-12 MAE of 1), bias -1, WAPE 9 / (81+91+101 + 91+101+111 +
    // 101+111+121).
    let acc = rows(
        &db,
        "SELECT model, origins::VARCHAR, backtest_horizon::VARCHAR, n_periods::VARCHAR,
             filled::VARCHAR, fallback::VARCHAR
         FROM fc_region_accuracy WHERE region = 'North'",
    );
    assert_eq!(
        acc,
        vec![vec!["seasonal_naive", "3", "3", "24", "0", "false"]]
    );
    let one = |col: &str| {
        num(
            &db,
            &format!("SELECT {col} FROM fc_region_accuracy WHERE region = 'North'"),
        )
    };
    close("mase", one("mase"), 1.0, 1e-12);
    close("bias", one("bias"), -1.0, 1e-12);
    close("wape", one("wape"), 9.0 / 909.0, 1e-12);
    // Parquet exports and the manifest.
    let manifest = std::fs::read_to_string(dir.path().join("out/parquet/_manifest.json")).unwrap();
    for t in [
        "fc_region",
        "fc_region_accuracy",
        "fc_region_realised",
        "forecast_vs_target",
        "fc_total",
    ] {
        assert!(manifest.contains(&format!("\"name\": \"{t}\"")), "{t}");
        assert!(dir.path().join("out/parquet").join(t).exists(), "{t}");
    }
}

#[test]
fn gaps_are_filled_and_counted_short_series_fall_back_and_bounds_stay_non_negative() {
    let dir = fixture("forecast");
    run(dir.path(), None);
    let db = db(dir.path());
    // Central: May 2024 missing inside, December 2025 missing at the end: 2 zeros.
    let central = rows(
        &db,
        "SELECT filled::VARCHAR, n_periods::VARCHAR, first_period::VARCHAR,
             last_period::VARCHAR, (reason LIKE '2 missing periods filled with 0;%')::VARCHAR
         FROM fc_region_accuracy WHERE region = 'Central'",
    );
    assert_eq!(
        central,
        vec![vec!["2", "24", "2024-01-01", "2025-12-01", "true"]]
    );
    // Its forecast repeats January to March 2025.
    assert_eq!(
        rows(
            &db,
            "SELECT point::VARCHAR FROM fc_region WHERE region = 'Central' ORDER BY period"
        ),
        vec![vec!["40.0"], vec!["40.0"], vec!["40.0"]]
    );
    // East, a new series of 4 months: too short for a backtest, naive on the last value.
    let east = rows(
        &db,
        "SELECT model, fallback::VARCHAR, origins::VARCHAR, coalesce(mase::VARCHAR, 'NULL'),
             reason
         FROM fc_region_accuracy WHERE region = 'East'",
    );
    assert_eq!(
        east,
        vec![vec![
            "naive",
            "true",
            "0",
            "NULL",
            "only 4 points, too short for a backtest (needs 7): naive"
        ]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT point::VARCHAR FROM fc_region WHERE region = 'East' ORDER BY period"
        ),
        vec![vec!["8.0"], vec!["8.0"], vec!["8.0"]]
    );
    // South in February: 2 - 1.96 x 3 < 0, clamped at zero (non_negative); the upper
    // bound keeps its width.
    let feb = |col: &str| {
        num(
            &db,
            &format!(
                "SELECT {col} FROM fc_region WHERE region = 'South' AND period = DATE '2026-02-01'"
            ),
        )
    };
    assert_eq!(feb("point"), 2.0);
    assert_eq!(feb("lo95"), 0.0);
    assert_eq!(feb("lo80"), 0.0);
    close("hi95", feb("hi95"), 2.0 + 3.0 * Z95, 1e-9);
    close(
        "January lo95",
        num(
            &db,
            "SELECT lo95 FROM fc_region WHERE region = 'South' AND period = DATE '2026-01-01'",
        ),
        8.0 - 3.0 * Z95,
        1e-9,
    );
    assert_eq!(
        num(&db, "SELECT min(least(point, lo80, lo95)) FROM fc_region"),
        0.0
    );
}

/// Regression: a key whose measure is NULL in every row vanished from the forecast
/// tables without a word. It is a series with no value: forecast 0, with the reason.
#[test]
fn a_key_whose_measure_is_always_null_is_forecast_zero_with_a_reason() {
    let dir = fixture("forecast");
    let d = dir.path();
    let path = d.join("pipeline.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        r#"{ name: amount, type: "decimal(18,2)", required: true }"#,
        r#"{ name: amount, type: "decimal(18,2)" }"#,
    );
    std::fs::write(&path, text).unwrap();
    let sales = d.join("data/sales.csv");
    let mut csv = std::fs::read_to_string(&sales).unwrap();
    csv.push_str("S9001,2025-03-10,Lake,\nS9002,2025-06-10,Lake,\n");
    std::fs::write(&sales, csv).unwrap();
    run(d, None);
    let db = db(d);
    assert_eq!(
        rows(
            &db,
            "SELECT model, filled::VARCHAR, reason FROM fc_region_accuracy WHERE region = 'Lake'"
        ),
        vec![vec![
            "naive",
            "1",
            "1 missing period filled with 0; no value of the measure in the history (every \
             one missing or NULL): forecast 0"
        ]]
    );
    assert_eq!(
        rows(
            &db,
            "SELECT count(*)::VARCHAR, max(abs(point) + abs(hi95) + abs(lo95))::VARCHAR
             FROM fc_region WHERE region = 'Lake'"
        ),
        vec![vec!["3", "0.0"]]
    );
}

#[test]
fn forecast_vs_target_projects_and_gives_the_probability_from_the_bands() {
    let dir = fixture("forecast");
    run(dir.path(), None);
    let db = db(dir.path());
    let row = |level: &str, entity: &str, period_type: &str, start: &str| {
        let r = rows(
            &db,
            &format!(
                "SELECT status, target::VARCHAR, actual_to_date::VARCHAR, forecast_rest::VARCHAR,
                     projected::VARCHAR, projected_attainment_pct::VARCHAR,
                     sigma::VARCHAR, probability::VARCHAR
                 FROM forecast_vs_target WHERE level = '{level}' AND entity = '{entity}'
                     AND period_type = '{period_type}' AND period_start = DATE '{start}'"
            ),
        );
        assert_eq!(r.len(), 1, "{level} {entity} {period_type} {start}");
        r.into_iter().next().unwrap()
    };
    let f = |s: &str| s.parse::<f64>().unwrap();
    // North Q1: 11 + 21 + 31 = 63 against 60; three months of sigma 1, one series's
    // errors taken as fully correlated across the months of a period: 1 + 1 + 1 = 3.
    let north = row("region", "North", "quarter", "2026-01-01");
    assert_eq!(
        &north[..6],
        &["future", "60.00", "0.00", "63.00", "63.00", "1.0500"]
    );
    close("sigma", f(&north[6]), 3.0, 1e-9);
    close("P", f(&north[7]), phi(3.0 / 3.0), 1e-6);
    // South Q1: 8 + 2 + 8 = 18, exactly the target: a coin toss. February's band is
    // clamped at 0, so its sigma comes from the upper half: still 3; 3 x 3 = 9.
    let south = row("region", "South", "quarter", "2026-01-01");
    assert_eq!(&south[1..5], &["18.00", "0.00", "18.00", "18.00"]);
    close("sigma", f(&south[6]), 9.0, 1e-9);
    close("P", f(&south[7]), 0.5, 1e-6);
    // Zone A = North + South, independent of each other: 81 against 78, variance
    // 3^2 + 9^2 = 90.
    let zone = row("zone", "A", "quarter", "2026-01-01");
    assert_eq!(&zone[1..5], &["78.00", "0.00", "81.00", "81.00"]);
    close("sigma", f(&zone[6]), 90f64.sqrt(), 1e-9);
    close("P", f(&zone[7]), phi(3.0 / 90f64.sqrt()), 1e-6);
    // West has a target and no sales: nothing forecast, no uncertainty, probability 0.
    let west = row("region", "West", "quarter", "2026-01-01");
    assert_eq!(
        &west[1..8],
        &["15.00", "0.00", "0.00", "0.00", "0.0000", "0.0", "0.0"]
    );
    // North in January: 11 against 20 with sigma 1.
    let jan = row("region", "North", "month", "2026-01-01");
    close("P", f(&jan[7]), phi(-9.0), 1e-9);
    // The company: every region's points, and per region the square of its months'
    // sigmas added up, from the forecast table (sigma from the 95 % band, its upper half
    // where the lower bound was clamped at 0).
    let (rest, var) = db
        .query_row(
            "SELECT sum(point), sum(sd * sd) FROM (
                 SELECT region, sum(point) AS point, sum(CASE WHEN lo95 <= 0
                     THEN (hi95 - point) / $1 ELSE (hi95 - lo95) / (2 * $1) END) AS sd
                 FROM fc_region GROUP BY region)",
            [Z95],
            |r| Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?)),
        )
        .unwrap();
    assert_eq!(rest, 63.0 + 18.0 + 120.0 + 24.0);
    let company = row("company", "all", "quarter", "2026-01-01");
    assert_eq!(&company[1..5], &["198.00", "0.00", "225.00", "225.00"]);
    close("sigma", f(&company[6]), var.sqrt(), 1e-9);
    close("P", f(&company[7]), phi(27.0 / var.sqrt()), 1e-6);
    // The year is not covered by a 3-month horizon; only Q1's months have targets.
    assert_eq!(
        rows(
            &db,
            "SELECT DISTINCT period_type || ' ' || period_start::VARCHAR FROM forecast_vs_target
             ORDER BY 1"
        ),
        vec![
            vec!["month 2026-01-01"],
            vec!["month 2026-02-01"],
            vec!["month 2026-03-01"],
            vec!["quarter 2026-01-01"],
        ]
    );
}

#[test]
fn forecasts_are_kept_per_as_of_and_a_later_run_reports_realised_accuracy() {
    let dir = fixture("forecast");
    run(dir.path(), None);
    run(dir.path(), Some("2026-02-28"));
    let db = db(dir.path());
    let hist = "SELECT as_of::VARCHAR, count(*)::VARCHAR FROM salespipe.fc_region_history
                GROUP BY ALL ORDER BY 1";
    assert_eq!(
        rows(&db, hist),
        vec![vec!["2025-12-31", "12"], vec!["2026-02-28", "12"]]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT string_agg(DISTINCT as_of::VARCHAR, ',') FROM fc_region"
        ),
        "2026-02-28"
    );
    // January and February 2026 have closed since the first run; March has not.
    let realised = rows(
        &db,
        "SELECT forecast_as_of::VARCHAR, region, period::VARCHAR, periods_ahead::VARCHAR,
             point::VARCHAR, actual::VARCHAR, error::VARCHAR, abs_error::VARCHAR,
             within80::VARCHAR, within95::VARCHAR, as_of::VARCHAR
         FROM fc_region_realised ORDER BY region, period",
    );
    let want = [
        // Central stopped selling: its actuals are zero.
        [
            "Central",
            "2026-01-01",
            "1",
            "40.0",
            "0.0",
            "40.0",
            "40.0",
            "false",
            "false",
        ],
        [
            "Central",
            "2026-02-01",
            "2",
            "40.0",
            "0.0",
            "40.0",
            "40.0",
            "false",
            "false",
        ],
        [
            "East",
            "2026-01-01",
            "1",
            "8.0",
            "9.0",
            "-1.0",
            "1.0",
            "true",
            "true",
        ],
        [
            "East",
            "2026-02-01",
            "2",
            "8.0",
            "10.0",
            "-2.0",
            "2.0",
            "true",
            "true",
        ],
        // 13 is 2 above 11 +- 1.96; 20 is 1 below 21, inside +- 1.28.
        [
            "North",
            "2026-01-01",
            "1",
            "11.0",
            "13.0",
            "-2.0",
            "2.0",
            "false",
            "false",
        ],
        [
            "North",
            "2026-02-01",
            "2",
            "21.0",
            "20.0",
            "1.0",
            "1.0",
            "true",
            "true",
        ],
        [
            "South",
            "2026-01-01",
            "1",
            "8.0",
            "7.0",
            "1.0",
            "1.0",
            "true",
            "true",
        ],
        [
            "South",
            "2026-02-01",
            "2",
            "2.0",
            "3.0",
            "-1.0",
            "1.0",
            "true",
            "true",
        ],
    ];
    let want: Vec<Vec<String>> = want
        .iter()
        .map(|w| {
            std::iter::once("2025-12-31".to_string())
                .chain(w.iter().map(|s| s.to_string()))
                .chain(std::iter::once("2026-02-28".to_string()))
                .collect()
        })
        .collect();
    assert_eq!(realised, want);
    // Q1 is now current: North has 13 + 20 = 33 so far and March's forecast repeats
    // March 2025 (31); lag-12 residuals 1 (x12), 2, -1: sigma sqrt(17 / 14).
    let north = rows(
        &db,
        "SELECT status, actual_to_date::VARCHAR, forecast_rest::VARCHAR, projected::VARCHAR,
             sigma::VARCHAR, probability::VARCHAR
         FROM forecast_vs_target WHERE level = 'region' AND entity = 'North'
             AND period_type = 'quarter'",
    );
    assert_eq!(&north[0][..4], &["current", "33.00", "31.00", "64.00"]);
    let sigma = (17.0f64 / 14.0).sqrt();
    close("sigma", north[0][4].parse().unwrap(), sigma, 1e-9);
    close("P", north[0][5].parse().unwrap(), phi(4.0 / sigma), 1e-6);
    // Central is zero-filled through February now: 4 periods filled.
    assert_eq!(
        scalar(
            &db,
            "SELECT filled::VARCHAR FROM fc_region_accuracy WHERE region = 'Central'"
        ),
        "4"
    );
    drop(db);
    // The same as-of date again rewrites its rows instead of adding to them.
    run(dir.path(), Some("2026-02-28"));
    assert_eq!(
        rows(&self::db(dir.path()), hist),
        vec![vec!["2025-12-31", "12"], vec!["2026-02-28", "12"]]
    );
}

#[test]
fn a_failed_run_rolls_the_forecast_history_back() {
    let dir = fixture("forecast");
    run(dir.path(), None);
    std::fs::write(
        dir.path().join("models/boom.sql"),
        "SELECT CAST(region || 'x' AS INTEGER) AS n FROM {{ ref(\"fc_region\") }}",
    )
    .unwrap();
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--quiet", "--as-of", "2026-02-28"],
    );
    assert_eq!(out.status.code(), Some(1));
    let db = db(dir.path());
    assert_eq!(
        rows(
            &db,
            "SELECT DISTINCT as_of::VARCHAR FROM salespipe.fc_region_history
             UNION ALL SELECT DISTINCT as_of::VARCHAR FROM fc_region"
        ),
        vec![vec!["2025-12-31"], vec!["2025-12-31"]]
    );
}

/// Edits the forecast fixture's pipeline, asserting each `from` occurs once.
fn edited(edits: &[(&str, &str)]) -> (tempfile::TempDir, String) {
    let dir = fixture("forecast");
    let path = dir.path().join("pipeline.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}`");
        text = text.replace(from, to);
    }
    std::fs::write(&path, &text).unwrap();
    (dir, text)
}

/// `file:line:col` of the first occurrence of `needle` after `after`.
fn at(text: &str, after: &str, needle: &str) -> String {
    let start = text.find(after).unwrap();
    let i = start + text[start..].find(needle).unwrap();
    let line = text[..i].matches('\n').count() + 1;
    let col = i - text[..i].rfind('\n').map_or(0, |j| j + 1) + 1;
    format!("pipeline.yaml:{line}:{col}")
}

fn failing(dir: &Path, args: &[&str]) -> String {
    let out = salespipe(dir, args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn forecast_config_errors_name_file_line_and_column() {
    // A misspelt field: serde's error with its position and a suggestion.
    let (dir, text) = edited(&[("    horizon: 3\n", "    horizn: 3\n")]);
    let err = failing(dir.path(), &["validate", "pipeline.yaml"]);
    let want = format!(
        "{}: error[E001]: forecasts[0]: unknown field `horizn`",
        at(&text, "forecasts:", "horizn")
    );
    assert!(err.contains(&want), "{want}\n{err}");
    assert!(err.contains("did you mean `horizon`?"), "{err}");

    // Semantic errors, all collected: a table named like a source, a zero horizon, a
    // model listed twice.
    let (dir, text) = edited(&[
        ("  - name: fc_region\n", "  - name: sales\n"),
        ("    horizon: 3\n", "    horizon: 0\n"),
        (
            "candidates: [seasonal_naive]",
            "candidates: [seasonal_naive, seasonal_naive]",
        ),
    ]);
    let err = failing(dir.path(), &["validate", "pipeline.yaml"]);
    for (needle, msg) in [
        (
            "name: sales",
            "forecast table `sales` has the name of a source",
        ),
        (
            "input: sales",
            "forecast `sales` cannot read its own table `sales`",
        ),
        ("horizon: 0", "`horizon` must be at least 1"),
        (
            "seasonal_naive]",
            "model `seasonal_naive` is listed twice in `candidates`",
        ),
    ] {
        let want = format!("{}: error[E050]: {msg}", at(&text, "forecasts:", needle));
        assert!(err.contains(&want), "{want}\n{err}");
    }

    // A forecast named like a SQL model.
    let (dir, text) = edited(&[("  - name: fc_region\n", "  - name: fc_total\n")]);
    let err = failing(dir.path(), &["validate", "pipeline.yaml"]);
    let want = format!(
        "{}: error[E030]: computed node `fc_total` has the name of a model or source",
        at(&text, "forecasts:", "fc_total")
    );
    assert!(err.contains(&want), "{want}\n{err}");

    // An unknown input.
    let (dir, text) = edited(&[("    input: sales\n", "    input: salez\n")]);
    let err = failing(dir.path(), &["validate", "pipeline.yaml"]);
    let want = format!(
        "{}: error[E031]: model `fc_region` refs unknown relation `salez`; did you mean `sales`?",
        at(&text, "forecasts:", "salez")
    );
    assert!(err.contains(&want), "{want}\n{err}");

    // A key that is not a column of the input: found when the graph is planned (and
    // when a run reaches the node); the model downstream is skipped.
    let (dir, text) = edited(&[("    keys: [region]\n", "    keys: [regoin]\n")]);
    salespipe_ok(dir.path(), &["validate", "pipeline.yaml"]);
    let plan = salespipe(dir.path(), &["plan", "pipeline.yaml"]);
    assert_eq!(plan.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(stdout.contains("skipped  fc_total"), "{stdout}");
    let err = String::from_utf8_lossy(&plan.stderr);
    let want = format!(
        "{}: error[E051]: `regoin` (a key) is not a column of `sales`; did you mean `region`?",
        at(&text, "forecasts:", "regoin")
    );
    assert!(err.contains(&want), "{want}\n{err}");
    let err = failing(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert!(err.contains(&want), "{want}\n{err}");
}

#[test]
fn the_period_holding_the_as_of_date_is_current() {
    // As of 2026-01-15 January is not closed: it is the current month, as its quarter
    // is; February is in the future.
    let dir = fixture("forecast");
    run(dir.path(), Some("2026-01-15"));
    let db = db(dir.path());
    assert_eq!(
        rows(
            &db,
            "SELECT DISTINCT period_type, period_start::VARCHAR, status FROM forecast_vs_target
             WHERE period_start < DATE '2026-03-01' ORDER BY ALL"
        ),
        vec![
            vec!["month", "2026-01-01", "current"],
            vec!["month", "2026-02-01", "future"],
            vec!["quarter", "2026-01-01", "current"],
        ]
    );
}

#[test]
fn top_down_shares_the_totals_forecast_out_in_the_regions_proportions() {
    let (dir, _) = edited(&[(
        "    non_negative: true\n",
        "    non_negative: true\n    reconcile: top_down\n",
    )]);
    run(dir.path(), None);
    let db = db(dir.path());
    // The total of the four regions, by seasonal naive: 2025's January to March added,
    // 11 + 8 + 40 + 0 = 59, 21 + 2 + 40 + 0 = 63, 31 + 8 + 40 + 0 = 79 (East began in
    // September). The regions' own forecasts add up to 67, 71 and 87 (East, too short
    // for a season, naive at 8), so every region is scaled by 59/67, 63/71 and 79/87.
    let totals: Vec<f64> = rows(&db, "SELECT point::VARCHAR FROM fc_total ORDER BY period")
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    for (got, want) in totals.iter().zip([59.0, 63.0, 79.0]) {
        close("total", *got, want, 1e-9);
    }
    let north = |col: &str, ahead: u32| {
        num(
            &db,
            &format!(
                "SELECT {col} FROM fc_region WHERE region = 'North' AND periods_ahead = {ahead}"
            ),
        )
    };
    close("North Jan", north("point", 1), 11.0 * 59.0 / 67.0, 1e-9);
    close("North Mar", north("point", 3), 31.0 * 79.0 / 87.0, 1e-9);
    close(
        "North Jan lo95",
        north("lo95", 1),
        (11.0 - Z95) * 59.0 / 67.0,
        1e-9,
    );
    close(
        "North Jan hi80",
        north("hi80", 1),
        (11.0 + Z80) * 59.0 / 67.0,
        1e-9,
    );
    close(
        "East Feb",
        num(
            &db,
            "SELECT point FROM fc_region WHERE region = 'East' AND periods_ahead = 2",
        ),
        8.0 * 63.0 / 71.0,
        1e-9,
    );
    let acc = rows(
        &db,
        "SELECT model, reason FROM fc_region_accuracy WHERE region = 'North'",
    );
    assert_eq!(acc[0][0], "seasonal_naive, top-down");
    assert!(
        acc[0][1].ends_with(
            "top-down: scaled to the forecast of the total of all series (seasonal_naive), \
             by factors 0.881 to 0.908"
        ),
        "{}",
        acc[0][1]
    );
    // Forecast against target adds the scaled regions: the company's quarter is the
    // total's 59 + 63 + 79 = 201 against 198.
    let company = rows(
        &db,
        "SELECT target::VARCHAR, projected::VARCHAR FROM forecast_vs_target
         WHERE level = 'company' AND period_type = 'quarter'",
    );
    assert_eq!(company, vec![vec!["198.00", "201.00"]]);
}

#[test]
fn a_key_named_like_a_column_of_forecast_vs_target_changes_nothing() {
    // The regions renamed `entity` (a column forecast_vs_target computes) in the input
    // and the targets: the same table as keyed by `region`, sigmas of the roll-ups
    // included (keys independent, not added up as one).
    let plain = fixture("forecast");
    run(plain.path(), None);
    let (dir, _) = edited(&[
        (
            "    input: sales\n    keys: [region]\n",
            "    input: sales_e\n    keys: [entity]\n",
        ),
        ("      targets: targets\n", "      targets: targets_e\n"),
    ]);
    for (name, sql) in [
        (
            "sales_e",
            "SELECT sale_date, region AS entity, amount FROM {{ ref(\"sales\") }}",
        ),
        (
            "targets_e",
            "SELECT region AS entity, month, zone, target FROM {{ ref(\"targets\") }}",
        ),
    ] {
        std::fs::write(dir.path().join(format!("models/{name}.sql")), sql).unwrap();
    }
    run(dir.path(), None);
    let all = "SELECT level, entity, period_type, period_start::VARCHAR, target::VARCHAR,
                   projected::VARCHAR, round(sigma, 9)::VARCHAR, round(probability, 9)::VARCHAR
               FROM forecast_vs_target ORDER BY ALL";
    let want = rows(&db(plain.path()), all);
    let got = rows(&db(dir.path()), all);
    assert_eq!(want.len(), got.len());
    for (w, g) in want.iter().zip(&got) {
        // Only the name of the key level differs: `region` against `entity`.
        assert_eq!(&w[1..], &g[1..]);
    }
    assert!(want.iter().any(|r| r[0] == "zone"), "{want:?}");
}
