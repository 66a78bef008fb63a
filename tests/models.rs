//! The model graph of `tests/fixtures/models`, run through the binary: build order,
//! cycles, `--select`, `plan` errors with file and line, data tests at both severities,
//! template variables, the Parquet manifest and the files read back with the `parquet`
//! crate.
//!
//! data/sales.csv (5 sales; `amount` DECIMAL(18,2))
//!   S1 2026-08-03 North online 100.00 x1
//!   S2 2026-08-15 South retail 250.50 x2
//!   S3 2026-09-01 North retail  80.25 x1
//!   S4 2026-09-10 East  fax     40.00 x4   <- `fax` is not an accepted channel (warn);
//!                                             East is not in regions.csv (warn)
//!   S5 2026-09-20 South online  19.99 x1
//! Graph: sales -> stg_sales (view) -> fct_sales (table, hive year/month) ->
//!        mart_channel, mart_period, mart_region (+ regions).
//! mart_region: East 40.00 (4 units, no manager); North 100.00 + 80.25 = 180.25 (2);
//!              South 250.50 + 19.99 = 270.49 (3).
//! As of 2026-09-30 with fiscal_year_start_month 4: FY2027 (2026-04-01 .. 2027-03-31),
//! its 2nd quarter; FYTD revenue = all five sales = 490.74.
//! fct_sales partitions: year=2026/month=8 holds S1, S2; year=2026/month=9 S3, S4, S5.

use std::fs::File;
use std::path::Path;

use parquet::basic::LogicalType;
use parquet::file::reader::{FileReader, SerializedFileReader};

use crate::common::*;

const MODELS_IN_ORDER: [&str; 5] = [
    "stg_sales",
    "fct_sales",
    "mart_channel",
    "mart_period",
    "mart_region",
];

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `build` stamp (the `--var build=N` of the run that built it) of each mart.
fn stamps(dir: &Path) -> Vec<(String, String)> {
    let db = open_db(&dir.join("out/warehouse.duckdb"));
    ["fct_sales", "mart_channel", "mart_period", "mart_region"]
        .iter()
        .map(|t| {
            (
                t.to_string(),
                scalar(
                    &db,
                    &format!("SELECT string_agg(DISTINCT build, ',') FROM {t}"),
                ),
            )
        })
        .collect()
}

fn expect_stamps(dir: &Path, expected: [&str; 4]) {
    let got = stamps(dir);
    let want: Vec<(String, String)> = ["fct_sales", "mart_channel", "mart_period", "mart_region"]
        .iter()
        .zip(expected)
        .map(|(t, s)| (t.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn models_lists_the_graph_in_build_order() {
    let dir = fixture("models");
    let out = salespipe_ok(dir.path(), &["models", "pipeline.yaml"]);
    let heads: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        heads,
        vec![
            "1. stg_sales (sql, view)  models/staging/stg_sales.sql",
            "2. fct_sales (sql, table)  models/marts/fct_sales.sql",
            "3. mart_channel (sql, table)  models/marts/mart_channel.sql",
            "4. mart_period (sql, table)  models/marts/mart_period.sql",
            "5. mart_region (sql, table)  models/marts/mart_region.sql",
        ],
        "{out}"
    );
    assert!(out.contains("   deps: fct_sales, regions\n"), "{out}");
    assert!(
        out.contains("   export: partition_by year, month; order_by sale_id\n"),
        "{out}"
    );
    assert!(
        out.contains("accepted_values(channel) [warn], relationships(region -> regions.region) [warn], expression(amount > 0) [error]"),
        "{out}"
    );
    assert!(
        out.contains("   One row per sale; amount in DECIMAL(18,2).\n"),
        "{out}"
    );

    let json: serde_json::Value = serde_json::from_str(&salespipe_ok(
        dir.path(),
        &["models", "pipeline.yaml", "--json"],
    ))
    .unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, MODELS_IN_ORDER);
    assert_eq!(json[0]["kind"], "sql");
    assert_eq!(json[0]["materialized"], "view");
    assert_eq!(json[1]["tests"].as_array().unwrap().len(), 7);
}

#[test]
fn a_cycle_is_reported_with_its_path() {
    let dir = fixture("models");
    // fct_sales now also reads mart_region, which reads fct_sales.
    std::fs::write(
        dir.path().join("models/marts/fct_sales.sql"),
        "SELECT s.*, '{{ var.build }}' AS build\nFROM {{ ref(\"stg_sales\") }} AS s\n\
         WHERE s.region IN (SELECT region FROM {{ ref(\"mart_region\") }})\n",
    )
    .unwrap();
    for cmd in ["models", "validate", "run", "plan"] {
        let out = salespipe(dir.path(), &[cmd, "pipeline.yaml"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = stderr(&out);
        // Placed at fct_sales's ref() of mart_region.
        assert!(
            err.contains(
                "models/marts/fct_sales.sql:3:42: error[E032]: models depend on each other in \
                 a cycle: fct_sales -> mart_region -> fct_sales"
            ),
            "{cmd}: {err}"
        );
    }
    assert!(!dir.path().join("out/warehouse.duckdb").exists());
}

/// An `order_by` or `partition_by` naming a column the model does not have is placed at
/// the setting: in `<model>.yml` or in the model's header (it was E041 without a place).
#[test]
fn a_setting_naming_a_missing_column_is_placed_at_the_setting() {
    // In `<model>.yml` (the models reading fct_sales are then skipped).
    let dir = fixture("models");
    let yml = dir.path().join("models/marts/fct_sales.yml");
    let text = std::fs::read_to_string(&yml).unwrap();
    std::fs::write(
        &yml,
        text.replace("order_by: [sale_id]", "order_by: [sale_idd]"),
    )
    .unwrap();
    let out = salespipe(dir.path(), &["plan", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let want = "models/marts/fct_sales.yml:3:12: error[E041]: `order_by`: `sale_idd` is not a \
                column of model `fct_sales`; did you mean `sale_id`?";
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
    // In the model's header.
    let dir = fixture("models");
    let sql = dir.path().join("models/marts/mart_region.sql");
    let text = std::fs::read_to_string(&sql).unwrap();
    std::fs::write(&sql, format!("-- partition_by: regoin\n{text}")).unwrap();
    let out = salespipe(dir.path(), &["plan", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let want = "models/marts/mart_region.sql:1:18: error[E041]: `partition_by`: `regoin` is not \
                a column of model `mart_region`; did you mean `region`?";
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
}

#[test]
fn select_rebuilds_only_the_chosen_models() {
    let dir = fixture("models");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    expect_stamps(d, ["1", "1", "1", "1"]);
    let parquet = d.join("out/parquet");
    let link = |t: &str| std::fs::read_link(parquet.join(t)).unwrap();
    let fct_v1 = link("fct_sales");

    // One model.
    let out = salespipe_ok(
        d,
        &[
            "run",
            "pipeline.yaml",
            "--var",
            "build=2",
            "--select",
            "mart_region",
        ],
    );
    assert!(
        out.contains("models built: 1 (3 rows) (selected with --select; the others are unchanged)"),
        "{out}"
    );
    expect_stamps(d, ["1", "1", "1", "2"]);
    assert_eq!(link("fct_sales"), fct_v1, "fct_sales export untouched");
    assert!(link("mart_region").ends_with("run-2"));

    // It and everything downstream.
    salespipe_ok(
        d,
        &[
            "run",
            "pipeline.yaml",
            "-q",
            "--var",
            "build=3",
            "--select",
            "fct_sales+",
        ],
    );
    expect_stamps(d, ["3", "3", "3", "3"]);

    // It and everything upstream; two selectors, one of them a list.
    salespipe_ok(
        d,
        &[
            "run",
            "pipeline.yaml",
            "-q",
            "--var",
            "build=4",
            "--select",
            "+mart_channel",
            "-s",
            "mart_period,stg_sales",
        ],
    );
    expect_stamps(d, ["4", "4", "4", "3"]);

    // A source with `+`: the models that read it, directly or not.
    salespipe_ok(
        d,
        &[
            "run",
            "pipeline.yaml",
            "-q",
            "--var",
            "build=5",
            "--select",
            "regions+",
        ],
    );
    expect_stamps(d, ["4", "4", "4", "5"]);

    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT run_id::VARCHAR, string_agg(model, ' ' ORDER BY model)
             FROM salespipe.run_models GROUP BY run_id ORDER BY run_id"
        ),
        vec![
            vec![
                "1",
                "fct_sales mart_channel mart_period mart_region stg_sales"
            ],
            vec!["2", "mart_region"],
            vec!["3", "fct_sales mart_channel mart_period mart_region"],
            vec!["4", "fct_sales mart_channel mart_period stg_sales"],
            vec!["5", "mart_region"],
        ]
    );
    drop(db);

    // The manifest keeps the tables a run did not touch, with the run that wrote them.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(parquet.join("_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["run_id"], 5);
    let run_of: Vec<(String, i64)> = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().into(),
                t["run_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        run_of,
        vec![
            ("fct_sales".into(), 4),
            ("mart_channel".into(), 4),
            ("mart_period".into(), 4),
            ("mart_region".into(), 5),
            ("rejects".into(), 5),
            ("stg_sales".into(), 4),
            ("test_failures".into(), 5),
        ]
    );

    // Unknown names and bare sources are usage errors, before anything runs.
    let out = salespipe(d, &["run", "pipeline.yaml", "--select", "mart_regoin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no model called `mart_regoin`; did you mean `mart_region`?"),
        "{}",
        stderr(&out)
    );
    let out = salespipe(d, &["run", "pipeline.yaml", "--select", "sales"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`sales+` selects"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_selected_model_needs_its_unbuilt_parents() {
    let dir = fixture("models");
    let want = "model `mart_region` reads `fct_sales`, which is not selected and has not been \
                built yet; select it too (`--select +mart_region`)";
    // `plan` says so first (it bound the parent as if it would be built).
    let out = salespipe(
        dir.path(),
        &["plan", "pipeline.yaml", "--select", "mart_region"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--select", "mart_region"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(want), "{}", stderr(&out));
}

/// Regression: `plan --select` on a fresh warehouse said ok, then `run --select` failed
/// rendering a report that reads a model the selection does not build.
#[test]
fn plan_says_when_a_selection_leaves_a_report_without_its_models() {
    let dir = fixture("tiny");
    let out = salespipe(
        dir.path(),
        &["plan", "pipeline.yaml", "--select", "+dim_channel"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(
            "sql/reports/sales_totals.sql: error[E043]: report `monthly_sales` query `totals`: \
             Catalog Error: Table with name kpi_sales_daily does not exist!"
        ) && err.contains(
            "(a model it reads is not selected and not in the warehouse: run without \
             `--select` first)"
        ),
        "{err}"
    );
    // Once the warehouse has them, the same selection plans.
    salespipe_ok(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    salespipe_ok(
        dir.path(),
        &["plan", "pipeline.yaml", "--select", "+dim_channel"],
    );
}

/// Regression: `run` reported a data test on a missing column, or an unknown `$param`
/// of a report query, in DuckDB's words about generated SQL, naming no file; `plan`
/// placed them. `run` now places them too.
#[test]
fn run_places_a_broken_data_test_and_an_unknown_report_parameter() {
    let dir = fixture("tiny");
    let d = dir.path();
    let model = d.join("sql/models/marts/dim_channel.sql");
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(
        &model,
        text.replacen(
            "-- test: { unique: [channel] }",
            "-- test: { unique: [chanel] }",
            1,
        ),
    )
    .unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "sql/models/marts/dim_channel.sql:4:10: data test `unique(chanel)` of model \
             `dim_channel`: Binder Error: Referenced column \"chanel\" not found"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::write(&model, text).unwrap();
    let query = d.join("sql/reports/sales_by_region.sql");
    let q = std::fs::read_to_string(&query).unwrap();
    std::fs::write(&query, q.replace("$prev_start", "$prev_begin")).unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    let want = format!(
        "{}: report `monthly_sales` query `by_region`: unknown query parameter \
         `$prev_begin`; did you mean `$prev_end`?",
        query.display()
    );
    assert!(stderr(&out).contains(&want), "{}", stderr(&out));
}

/// Regression: `--var rag_gren=1.2` (a typo of `rag_green`) and `--var =1` were taken
/// without a word.
#[test]
fn a_var_nothing_reads_is_warned_and_a_nameless_one_refused() {
    let dir = fixture("tiny");
    let d = dir.path();
    let out = salespipe(d, &["plan", "pipeline.yaml", "--var", "rag_gren=1.2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "--var `rag_gren` is not read by any model or report (not under `vars:`); did you \
             mean `rag_green`?"
        ),
        "{}",
        stderr(&out)
    );
    // One a model reads is not warned of.
    let out = salespipe(
        d,
        &["plan", "pipeline.yaml", "--var", "churn_window_months=6"],
    );
    assert!(!stderr(&out).contains("is not read"), "{}", stderr(&out));
    let out = salespipe(d, &["run", "pipeline.yaml", "--quiet", "--var", "=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--var `=1`: no name before `=`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn plan_reports_errors_with_file_and_line() {
    let dir = fixture("models");
    let d = dir.path();
    // The loop drops a line when rendered: the bad column is on rendered line 5 and
    // template line 6, column 5.
    std::fs::write(
        d.join("models/marts/zz_broken.sql"),
        "-- description: broken on purpose\nSELECT\n{%- for c in [\"sale_id\", \"region\"] %}\n    {{ c }},\n{%- endfor %}\n    no_such_column\nFROM {{ ref(\"fct_sales\") }}\n",
    )
    .unwrap();
    std::fs::write(
        d.join("models/marts/zz_downstream.sql"),
        "SELECT * FROM {{ ref(\"zz_broken\") }}\n",
    )
    .unwrap();
    // A data test over a column the model does not have (YAML line 3).
    std::fs::write(
        d.join("models/marts/mart_channel.yml"),
        "tests:\n  - unique: channel\n  - not_null: chanel\n",
    )
    .unwrap();
    for args in [
        vec!["plan", "pipeline.yaml"],
        vec!["run", "pipeline.yaml", "--dry-run"],
    ] {
        let out = salespipe(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(
                "models/marts/zz_broken.sql:6:5: error[E040]: model `zz_broken`: Binder Error: \
                 Referenced column \"no_such_column\" not found"
            ),
            "{err}"
        );
        assert!(
            err.contains(
                "models/marts/mart_channel.yml:3:5: error[E042]: data test `not_null(chanel)` \
                 of model `mart_channel`: Binder Error: Referenced column \"chanel\" not found"
            ),
            "{err}"
        );
        assert!(err.contains("2 configuration errors"), "{err}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("against the declared source columns"),
            "{stdout}"
        );
        assert!(
            stdout.contains(
                "ok       fct_sales                        sql  table 9 columns, 7 data tests"
            ),
            "{stdout}"
        );
        assert!(stdout.contains("FAILED   zz_broken"), "{stdout}");
        assert!(
            stdout.contains(
                "skipped  zz_downstream                    sql  table reads a model that failed"
            ),
            "{stdout}"
        );
    }
    // Nothing was written.
    assert!(!d.join("out").exists());

    // Against a built warehouse, with a clean graph, the plan passes and still writes
    // nothing.
    std::fs::remove_file(d.join("models/marts/zz_broken.sql")).unwrap();
    std::fs::remove_file(d.join("models/marts/zz_downstream.sql")).unwrap();
    std::fs::remove_file(d.join("models/marts/mart_channel.yml")).unwrap();
    salespipe_ok(d, &["run", "pipeline.yaml", "-q"]);
    let db_file = d.join("out/warehouse.duckdb");
    let before = std::fs::read(&db_file).unwrap();
    let out = salespipe_ok(d, &["plan", "pipeline.yaml", "--as-of", "2027-01-15"]);
    assert!(
        out.contains("plan of `graph` as of 2027-01-15, against out/warehouse.duckdb"),
        "{out}"
    );
    assert_eq!(out.matches("\n  ok ").count(), 5, "{out}");
    assert!(!out.contains("warning"), "{out}");
    assert_eq!(std::fs::read(&db_file).unwrap(), before);

    // Sums left at DuckDB's default widths bind, with a warning each.
    std::fs::write(
        d.join("models/marts/mart_loose.sql"),
        "-- order_by: region\nSELECT region, sum(amount) AS revenue, sum(qty) AS units\nFROM {{ ref(\"fct_sales\") }}\nGROUP BY ALL\n",
    )
    .unwrap();
    // An order_by that a unique test covers (a subset of its columns) is not warned of.
    std::fs::write(
        d.join("models/marts/mart_keyed.sql"),
        "-- order_by: region, revenue\n-- test: { unique: [region] }\nSELECT region, CAST(sum(amount) AS DECIMAL(18,2)) AS revenue\nFROM {{ ref(\"fct_sales\") }}\nGROUP BY ALL\n",
    )
    .unwrap();
    let out = salespipe_ok(d, &["plan", "pipeline.yaml"]);
    assert!(
        out.contains(
            "warning: models/marts/mart_loose.sql: `order_by` (region) of model `mart_loose` has \
             no `unique` test on those columns: rows that tie on them may be exported in another \
             order from run to run; add `-- test: { unique: [region] }` if they are a key"
        ),
        "{out}"
    );
    assert!(
        !out.lines()
            .any(|l| l.starts_with("warning") && l.contains("mart_keyed")),
        "{out}"
    );
    assert!(
        out.contains(
            "warning: models/marts/mart_loose.sql: column `revenue` of model `mart_loose` is \
             DECIMAL(38,2), the width sum() gives by default; cast it to an explicit precision, \
             e.g. DECIMAL(18,2)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "column `units` of model `mart_loose` is HUGEINT (what sum() of a BIGINT gives), \
             which Parquet stores as DOUBLE; cast it, e.g. CAST(sum(x) AS BIGINT)"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read(&db_file).unwrap(), before);
}

#[test]
fn model_settings_errors_are_located() {
    let dir = fixture("models");
    let d = dir.path();
    std::fs::write(
        d.join("models/marts/fct_sales.yml"),
        "description: x\ntests:\n  - unique: sale_id\n    sevrity: warn\n",
    )
    .unwrap();
    std::fs::write(
        d.join("models/marts/mart_channel.sql"),
        "-- materialised: view\n-- test: { relationships: { column: channel, to: chanels.name } }\nSELECT 1 AS channel\n",
    )
    .unwrap();
    std::fs::write(d.join("models/marts/orphan.yml"), "description: nobody\n").unwrap();
    let out = salespipe(d, &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for expected in [
        "models/marts/fct_sales.yml:4:5: error[E001]: tests[0]: unknown field `sevrity`",
        "did you mean `severity`?",
        "models/marts/mart_channel.sql:1:4: error[E033]: unknown model setting `materialised`; did you mean `materialized`?",
        "models/marts/mart_channel.sql:2:10: error[E034]: data test `relationships(channel -> chanels.name)` of model `mart_channel` refers to unknown relation `chanels`",
        "models/marts/orphan.yml: error[E033]: model settings without a model: no `orphan.sql` beside it",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn fiscal_year_start_month_is_checked() {
    let dir = fixture("models");
    let p = dir.path().join("pipeline.yaml");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("fiscal_year_start_month: 4", "fiscal_year_start_month: 13");
    std::fs::write(&p, text).unwrap();
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "pipeline.yaml:6:1: error[E002]: `fiscal_year_start_month: 13`: expected a month number, 1 to 12"
        ),
        "{}",
        stderr(&out)
    );
    // The setting is not a `var`: set as one, under `vars:` or with `--var`, it is
    // refused rather than silently ignored.
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("fiscal_year_start_month: 13", "fiscal_year_start_month: 4");
    std::fs::write(
        &p,
        text.replace("vars:\n", "vars:\n  fiscal_year_start_month: \"4\"\n"),
    )
    .unwrap();
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "pipeline.yaml:14:3: error[E002]: `vars.fiscal_year_start_month` is not read"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::write(&p, &text).unwrap();
    let out = salespipe(
        dir.path(),
        &["run", "pipeline.yaml", "--var", "fiscal_year_start_month=4"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--var `fiscal_year_start_month=4` is not read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn warn_tests_are_recorded_and_the_run_succeeds() {
    let dir = fixture("models");
    let out = salespipe_ok(
        dir.path(),
        &["run", "pipeline.yaml", "--summary-json", "summary.json"],
    );
    assert!(
        out.contains("data tests: 6 passed, 2 warned, 0 failed"),
        "{out}"
    );
    assert!(
        out.contains("    warn  fct_sales: accepted_values(channel) (1 failing row)"),
        "{out}"
    );
    let db = open_db(&dir.path().join("out/warehouse.duckdb"));
    assert_eq!(
        rows(
            &db,
            "SELECT model, test, severity, status, failing_rows::VARCHAR FROM salespipe.run_tests
             WHERE run_id = 1 ORDER BY model, test"
        ),
        vec![
            vec!["fct_sales", "accepted_values(channel)", "warn", "warn", "1"],
            vec!["fct_sales", "expression(amount > 0)", "error", "pass", "0"],
            vec!["fct_sales", "not_null(amount)", "error", "pass", "0"],
            vec!["fct_sales", "not_null(sale_id)", "error", "pass", "0"],
            vec![
                "fct_sales",
                "relationships(region -> regions.region)",
                "warn",
                "warn",
                "1"
            ],
            vec!["fct_sales", "row_count(1..1000)", "error", "pass", "0"],
            vec!["fct_sales", "unique(sale_id)", "error", "pass", "0"],
            vec!["mart_region", "unique(region)", "error", "pass", "0"],
        ]
    );
    // S4 is the row behind both warnings.
    assert_eq!(
        rows(
            &db,
            "SELECT test, failing_rows::VARCHAR, row_json::JSON->>'sale_id',
                    row_json::JSON->>'channel', row_json::JSON->>'region'
             FROM salespipe.test_failures ORDER BY test"
        ),
        vec![
            vec!["accepted_values(channel)", "1", "S4", "fax", "East"],
            vec![
                "relationships(region -> regions.region)",
                "1",
                "S4",
                "fax",
                "East"
            ],
        ]
    );
    assert_eq!(
        scalar(&db, "SELECT status FROM salespipe.run_log WHERE run_id = 1"),
        "succeeded"
    );
    // The failures are published for BI tools too.
    let mem = duckdb::Connection::open_in_memory().unwrap();
    assert_eq!(
        scalar(
            &mem,
            &format!(
                "SELECT count(*)::VARCHAR FROM '{}/out/parquet/test_failures/data.parquet'",
                dir.path().display()
            )
        ),
        "2"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["tests"][3]["test"], "accepted_values(channel)");
    assert_eq!(summary["tests"][3]["severity"], "warn");
    assert_eq!(summary["tests"][3]["failing"], 1);
}

#[test]
fn an_error_test_fails_the_run_and_keeps_its_failures() {
    let dir = fixture("models");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "-q"]);
    let link = d.join("out/parquet/fct_sales");
    let before = std::fs::read_link(&link).unwrap();
    // Two refunds booked as negative sales break `expression(amount > 0)` (error).
    let sales = d.join("data/sales.csv");
    let mut text = std::fs::read_to_string(&sales).unwrap();
    text.push_str("S6,2026-09-25,North,online,-5.00,1\nS7,2026-09-26,South,retail,-7.50,1\n");
    std::fs::write(&sales, text).unwrap();
    let out = salespipe(d, &["run", "pipeline.yaml", "-q", "--var", "build=2"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(
            "model `fct_sales`: data test `expression(amount > 0)` failed with 2 failing rows \
             (severity error; the rows are in salespipe.test_failures)"
        ),
        "{err}"
    );

    let db = open_db(&d.join("out/warehouse.duckdb"));
    // The data rolled back: the source and every model are as run 1 left them.
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM sales"), "5");
    assert_eq!(scalar(&db, "SELECT count(*)::VARCHAR FROM fct_sales"), "5");
    assert_eq!(
        scalar(&db, "SELECT string_agg(DISTINCT build, ',') FROM fct_sales"),
        "1"
    );
    // The failures of run 2 are kept, with the run log.
    assert_eq!(
        rows(
            &db,
            "SELECT test, severity, failing_rows::VARCHAR, row_json::JSON->>'sale_id'
             FROM salespipe.test_failures WHERE run_id = 2 ORDER BY ALL"
        ),
        vec![
            vec!["accepted_values(channel)", "warn", "1", "S4"],
            vec!["expression(amount > 0)", "error", "2", "S6"],
            vec!["expression(amount > 0)", "error", "2", "S7"],
            vec!["relationships(region -> regions.region)", "warn", "1", "S4"],
        ]
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT status || ': ' || reason FROM salespipe.run_log WHERE run_id = 2"
        ),
        "failed: model `fct_sales`: data test `expression(amount > 0)` failed with 2 failing \
         rows (severity error; the rows are in salespipe.test_failures)"
    );
    // mart_region (built after fct_sales) never ran its tests in run 2.
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*)::VARCHAR FROM salespipe.run_tests WHERE run_id = 2
             AND model = 'mart_region'"
        ),
        "0"
    );
    assert_eq!(std::fs::read_link(&link).unwrap(), before);
    assert!(!d.join("out/parquet/.versions/fct_sales/run-2").exists());
}

#[test]
fn template_variables_reach_models() {
    let dir = fixture("models");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "-q", "--var", "build=7"]);
    let db = open_db(&d.join("out/warehouse.duckdb"));
    let period = "SELECT as_of::VARCHAR, month_start::VARCHAR, month_end::VARCHAR,
                         quarter_start::VARCHAR, fiscal_year_start::VARCHAR,
                         fiscal_year_end::VARCHAR, fiscal_year::VARCHAR,
                         fiscal_quarter::VARCHAR, fytd_revenue::VARCHAR, build
                  FROM mart_period";
    assert_eq!(
        rows(&db, period),
        vec![vec![
            "2026-09-30",
            "2026-09-01",
            "2026-09-30",
            "2026-07-01",
            "2026-04-01",
            "2027-03-31",
            "2027",
            "2",
            "490.74",
            "7"
        ]]
    );
    drop(db);
    // February 2026 is in FY2026 (2025-04-01 .. 2026-03-31), its 4th quarter; no sale
    // falls between 2025-04-01 and 2026-02-28.
    salespipe_ok(d, &["run", "pipeline.yaml", "-q", "--as-of", "2026-02-28"]);
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        rows(&db, period),
        vec![vec![
            "2026-02-28",
            "2026-02-01",
            "2026-02-28",
            "2026-01-01",
            "2025-04-01",
            "2026-03-31",
            "2026",
            "4",
            "NULL",
            "1"
        ]]
    );
}

#[test]
fn manifest_lists_every_published_table() {
    let dir = fixture("models");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "-q"]);
    let parquet = d.join("out/parquet");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(parquet.join("_manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["pipeline"], "graph");
    assert_eq!(manifest["run_id"], 1);
    assert_eq!(manifest["as_of"], "2026-09-30");
    let db = open_db(&d.join("out/warehouse.duckdb"));
    let tables = manifest["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        vec![
            "fct_sales",
            "mart_channel",
            "mart_period",
            "mart_region",
            "rejects",
            "stg_sales",
            "test_failures"
        ]
    );
    for t in tables {
        let name = t["name"].as_str().unwrap();
        let relation = match name {
            "rejects" | "test_failures" => format!("salespipe.{name}"),
            _ => name.to_string(),
        };
        let count: i64 = scalar(&db, &format!("SELECT count(*)::VARCHAR FROM {relation}"))
            .parse()
            .unwrap();
        assert_eq!(t["rows"].as_i64().unwrap(), count, "{name}");
        let in_files: i64 = t["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rows"].as_i64().unwrap())
            .sum();
        assert_eq!(in_files, count, "{name}");
        assert_eq!(t["run_id"], 1);
        assert_eq!(t["as_of"], "2026-09-30");
        // The schema is DuckDB's.
        let described = rows(
            &db,
            &format!("SELECT column_name, column_type FROM (DESCRIBE {relation})"),
        );
        let listed: Vec<Vec<String>> = t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                vec![
                    c["name"].as_str().unwrap().to_string(),
                    c["type"].as_str().unwrap().to_string(),
                ]
            })
            .collect();
        assert_eq!(listed, described, "{name}");
    }
    let fct = &tables[0];
    assert_eq!(
        fct["partitioning"],
        serde_json::json!({"style": "hive", "columns": ["year", "month"], "columns_in_files": true})
    );
    assert_eq!(fct["order_by"], serde_json::json!(["sale_id"]));
    assert_eq!(
        fct["description"],
        "One row per sale; amount in DECIMAL(18,2)."
    );
    let files: Vec<(&str, i64)> = fct["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["rows"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        files,
        vec![
            ("year=2026/month=8/data_0.parquet", 2),
            ("year=2026/month=9/data_0.parquet", 3)
        ]
    );
    assert!(fct["files"][0]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(tables[3]["partitioning"], serde_json::Value::Null);
    assert_eq!(tables[3]["files"][0]["path"], "data.parquet");
    // No temporary file is left behind.
    let leftovers: Vec<String> = std::fs::read_dir(&parquet)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// What the footer of one Parquet file says.
struct ParquetFacts {
    rows: i64,
    /// DECIMAL columns: name, precision, scale.
    decimals: Vec<(String, i32, i32)>,
    columns: Vec<String>,
    row_groups: usize,
}

fn parquet_facts(path: &Path) -> ParquetFacts {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let mut decimals = Vec::new();
    let mut columns = Vec::new();
    for c in schema.columns() {
        columns.push(c.name().to_string());
        if let Some(LogicalType::Decimal(d)) = c.logical_type_ref() {
            decimals.push((c.name().to_string(), d.precision, d.scale));
        }
    }
    ParquetFacts {
        rows: meta.file_metadata().num_rows(),
        decimals,
        columns,
        row_groups: meta.num_row_groups(),
    }
}

#[test]
fn parquet_exports_read_back_with_the_parquet_crate() {
    let dir = fixture("models");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "-q"]);
    let parquet = d.join("out/parquet");

    // Partitioned: one file per year/month, partition columns inside, exact decimals.
    let mut total = 0;
    for (part, expected_rows) in [("year=2026/month=8", 2), ("year=2026/month=9", 3)] {
        let folder = parquet.join("fct_sales").join(part);
        let files: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
        assert_eq!(files.len(), 1, "{part}: one file");
        let f = parquet_facts(&folder.join("data_0.parquet"));
        assert_eq!(f.rows, expected_rows, "{part}");
        assert_eq!(f.row_groups, 1, "{part}: one row group, not one per row");
        assert_eq!(f.decimals, vec![("amount".to_string(), 18, 2)], "{part}");
        assert!(
            f.columns.contains(&"year".to_string()) && f.columns.contains(&"month".to_string())
        );
        total += f.rows;
    }
    let db = open_db(&d.join("out/warehouse.duckdb"));
    assert_eq!(
        total.to_string(),
        scalar(&db, "SELECT count(*)::VARCHAR FROM fct_sales")
    );

    // Unpartitioned mart: one file; sums cast to DECIMAL(18,2) stay DECIMAL(18,2).
    let f = parquet_facts(&parquet.join("mart_region/data.parquet"));
    assert_eq!(
        f.rows.to_string(),
        scalar(&db, "SELECT count(*)::VARCHAR FROM mart_region")
    );
    assert_eq!(f.row_groups, 1);
    assert_eq!(f.decimals, vec![("revenue".to_string(), 18, 2)]);

    // DuckDB reads the hive layout back with the same totals.
    let mem = duckdb::Connection::open_in_memory().unwrap();
    assert_eq!(
        rows(
            &mem,
            &format!(
                "SELECT count(*)::VARCHAR, sum(amount)::VARCHAR, typeof(sum(amount))
                 FROM read_parquet('{}/fct_sales/**/*.parquet', hive_partitioning = true)",
                parquet.display()
            )
        ),
        vec![vec!["5", "490.74", "DECIMAL(38,2)"]]
    );
}
