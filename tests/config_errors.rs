//! Configuration errors: the first syntax or type error with its line and column, then
//! every semantic error collected, each with the location of the offending key.
//! Each case edits the valid tiny pipeline and checks `validate` (and `run`) exit 2.

use crate::common::*;

/// Replaces `from` (which must occur once) in the tiny pipeline, runs `validate`, and
/// returns stderr after asserting exit code 2.
fn validate_with(edits: &[(&str, &str)]) -> (String, String) {
    let dir = fixture("tiny");
    let path = dir.path().join("pipeline.yaml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "edit target `{from}` must be unique"
        );
        text = text.replace(from, to);
    }
    std::fs::write(&path, &text).unwrap();
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let run = salespipe(dir.path(), &["run", "pipeline.yaml", "--quiet"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        !dir.path().join("out/warehouse.duckdb").exists(),
        "an invalid config touches nothing"
    );
    (String::from_utf8_lossy(&out.stderr).into_owned(), text)
}

/// 1-based line and column of the first occurrence of `needle`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[test]
fn unknown_field_names_file_line_column_and_suggests() {
    let (err, text) = validate_with(&[(
        "- { name: segment, type: string }",
        "- { name: segment, tpye: string }",
    )]);
    let (line, col) = position(&text, "tpye");
    let expected = format!(
        "pipeline.yaml:{line}:{col}: error[E001]: sources[1].columns[5]: unknown field `tpye`"
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
    assert!(err.contains("did you mean `type`?"), "{err}");
}

#[test]
fn wrong_type_names_file_line_column() {
    let (err, text) = validate_with(&[("version: 1", "version: one")]);
    let (line, col) = position(&text, "one");
    assert!(
        err.contains(&format!(
            "pipeline.yaml:{line}:{col}: error[E001]: version: invalid type"
        )),
        "{err}"
    );
}

#[test]
fn bad_column_type_is_explained() {
    let (err, text) = validate_with(&[("type: \"decimal(18,6)\"", "type: \"decmal(18,6)\"")]);
    let (line, _) = position(&text, "decmal");
    assert!(err.contains(&format!("pipeline.yaml:{line}:")), "{err}");
    assert!(err.contains("unknown column type `decmal(18,6)`"), "{err}");
}

#[test]
fn unknown_extra_columns_policy_is_located() {
    let (err, text) = validate_with(&[(
        "    path: data/fx_rates.csv\n",
        "    path: data/fx_rates.csv\n    extra_columns: sometimes\n",
    )]);
    let (line, col) = position(&text, "sometimes");
    let expected = format!(
        "pipeline.yaml:{line}:{col}: error[E001]: sources[2].extra_columns: unknown variant \
         `sometimes`, expected one of `warn`, `error`, `ignore`"
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn missing_file_is_reported_at_its_path_key() {
    let (err, text) = validate_with(&[("path: data/customers.csv", "path: data/nope.csv")]);
    let (line, col) = position(&text, "path: data/nope.csv");
    let expected =
        format!("pipeline.yaml:{line}:{col}: error[E011]: no file matches `data/nope.csv`");
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn semantic_errors_are_all_collected() {
    let (err, text) = validate_with(&[
        ("key: [order_id]\n", "key: [order_idd]\n"),
        ("references: products.sku", "references: prodcts.sku"),
        ("template: sales_report", "template: sales_repor"),
    ]);
    let (l1, c1) = position(&text, "order_idd");
    let (l2, c2) = position(&text, "references: prodcts");
    let (l3, c3) = position(&text, "template: sales_repor");
    for expected in [
        format!(
            "pipeline.yaml:{l1}:{c1}: error[E012]: unknown column `order_idd` in `orders.key`; did you mean `order_id`?"
        ),
        format!(
            "pipeline.yaml:{l2}:{c2}: error[E013]: unknown source `prodcts` in reference `prodcts.sku`; did you mean `products`?"
        ),
        format!("pipeline.yaml:{l3}:{c3}: error[E016]: template `"),
    ] {
        assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
    }
    assert!(err.contains("4 configuration errors"), "{err}");
}

#[test]
fn model_ref_to_unknown_relation_is_located() {
    let dir = fixture("tiny");
    std::fs::write(
        dir.path().join("sql/models/marts/extra.sql"),
        "-- materialized: view\nSELECT *\nFROM {{ ref(\"order_line\") }}\n",
    )
    .unwrap();
    let out = salespipe(dir.path(), &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("extra.sql:3:9: error[E031]: model `extra` refs unknown relation `order_line`; did you mean `order_lines`?"),
        "{err}"
    );
}

#[test]
fn a_valid_pipeline_validates() {
    let dir = fixture("tiny");
    let out = salespipe_ok(dir.path(), &["validate", "pipeline.yaml"]);
    assert!(
        // 5 extracts with rows plus 19 header-only ones for the KPI models.
        out.contains("ok (24 sources, 24 files, ") && out.contains(" models, 1 reports)"),
        "{out}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "validate does not touch the warehouse"
    );
}

/// `validate` reads the top of each CSV file: a declared column missing from a header,
/// or an empty file, was only found by `run` (which stops, changing nothing). Every
/// such file is listed.
#[test]
fn validate_reads_the_csv_headers() {
    let dir = fixture("tiny");
    let d = dir.path();
    let lines = d.join("data/order_lines.csv");
    let text = std::fs::read_to_string(&lines).unwrap();
    std::fs::write(&lines, text.replacen("quantity", "qty", 1)).unwrap();
    std::fs::write(d.join("data/returns.csv"), "").unwrap();
    let out = salespipe(d, &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        format!(
            "{}: error[E070]: column `quantity` of source `order_lines` is missing from the file",
            lines.display()
        ),
        format!(
            "{}: error[E070]: the file is empty (not even a header) for source `returns`",
            d.join("data/returns.csv").display()
        ),
        "2 configuration errors".to_string(),
    ] {
        assert!(err.contains(&want), "expected `{want}` in:\n{err}");
    }
    assert!(
        !d.join("out").exists(),
        "validate does not touch the warehouse"
    );
}

/// Regression: `validate` said ok for a model template that does not parse (an
/// unclosed `{{ }}`, a `ref()` without quotes) or names a variable that does not exist;
/// `run` created the warehouse, then failed in Tera's words about a rewritten line
/// (`ref(name="stg_orders")`, its column shifted). Each is E040 at its place in the
/// file, from `validate`, `plan` and `run` (before it opens the warehouse).
#[test]
fn model_template_errors_are_placed_in_the_file() {
    let cases = [
        (
            r#"{{ ref("stg_orders") }"#,
            "9:27: error[E040]: model `dim_channel`: template syntax error: expected",
        ),
        (
            "{{ ref(stg_orders) }}",
            "9:13: error[E040]: model `dim_channel`: template syntax error: expected a keyword \
             argument: `key=value` where `value` can be any expressions; `ref()` takes the \
             relation's name in quotes: `ref(\"orders\")`",
        ),
        (
            r#"{{ ref("stg_orders") }} -- {{ as_off }}"#,
            "9:36: error[E040]: model `dim_channel`: `as_off` is not a template variable; did \
             you mean `as_of`?",
        ),
    ];
    for (line, want) in cases {
        let dir = fixture("tiny");
        let d = dir.path();
        let model = d.join("sql/models/marts/dim_channel.sql");
        let text = std::fs::read_to_string(&model).unwrap();
        assert!(text
            .lines()
            .nth(8)
            .unwrap()
            .contains(r#"{{ ref("stg_orders") }}"#));
        std::fs::write(&model, text.replacen(r#"{{ ref("stg_orders") }}"#, line, 1)).unwrap();
        for cmd in ["validate", "plan", "run"] {
            let out = salespipe(
                d,
                &[cmd, "pipeline.yaml", "--quiet"][..if cmd == "run" { 3 } else { 2 }],
            );
            assert_eq!(out.status.code(), Some(2), "{cmd} {line}");
            let err = String::from_utf8_lossy(&out.stderr);
            let want = format!("sql/models/marts/dim_channel.sql:{want}");
            assert!(err.contains(&want), "{cmd}: expected `{want}` in\n{err}");
        }
        // A syntax error stops `run` before it opens (creates) the warehouse.
        if !line.contains("as_off") {
            assert!(!d.join("out/warehouse.duckdb").exists(), "{line}");
        }
    }
    // `plan --select` of another model says so too, as `run --select` would stop on it.
    let dir = fixture("tiny");
    let d = dir.path();
    salespipe_ok(d, &["run", "pipeline.yaml", "--quiet"]);
    let model = d.join("sql/models/marts/dim_channel.sql");
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(
        &model,
        text.replacen(r#"{{ ref("stg_orders") }}"#, r#"{{ ref("stg_orders") }"#, 1),
    )
    .unwrap();
    for cmd in ["plan", "run"] {
        let out = salespipe(d, &[cmd, "pipeline.yaml", "--select", "kpi_sales_growth"]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("sql/models/marts/dim_channel.sql:9:27: error[E040]"),
            "{cmd}: {err}"
        );
    }
}

#[test]
fn an_invalid_as_of_is_located_at_its_value() {
    // serde places a value's own conversion error at the start of the mapping; the
    // message must point at the value instead.
    let (err, text) = validate_with(&[("as_of: 2026-09-30", "as_of: 26-09-30")]);
    let (line, col) = position(&text, "26-09-30");
    let expected = format!(
        "pipeline.yaml:{line}:{col}: error[E001]: invalid as-of `26-09-30`: expected a date like \
         2026-09-30 or `latest`"
    );
    assert!(err.contains(&expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn validate_parses_the_sql_models() {
    let dir = fixture("tiny");
    let d = dir.path();
    std::fs::write(
        d.join("sql/models/marts/zz_syntax.sql"),
        "-- materialized: view\nSELECT\n  CAST(sum(units AS BIGINT) AS u\nFROM {{ ref(\"orders\") }}\n",
    )
    .unwrap();
    let out = salespipe(d, &["validate", "pipeline.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "sql/models/marts/zz_syntax.sql:3:18: error[E040]: model `zz_syntax`: Parser Error: \
             syntax error at or near \"AS\""
        ),
        "{err}"
    );
    // Names are plan's to resolve: an unknown column parses. A variable given only by a
    // run's --var is left to plan and run. Parsing runs nothing.
    for model in [
        "SELECT no_such_column, {{ var.only_at_run_time }} FROM {{ ref(\"orders\") }}\n",
        "COPY (SELECT 1) TO 'copied.csv';\nSELECT 1 AS x FROM {{ ref(\"orders\") }}\n",
    ] {
        std::fs::write(d.join("sql/models/marts/zz_syntax.sql"), model).unwrap();
        salespipe_ok(d, &["validate", "pipeline.yaml"]);
    }
    assert!(!d.join("copied.csv").exists());
}

#[test]
fn an_unknown_template_filter_is_found_before_the_run() {
    let dir = fixture("tiny");
    let d = dir.path();
    let template = d.join("report_templates/sales_report.md.tera");
    let text = std::fs::read_to_string(&template)
        .unwrap()
        .replacen("| count }}", "| cnt }}", 1);
    std::fs::write(&template, &text).unwrap();
    let at = text.find("| cnt }}").unwrap() + 2;
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    let want = format!(
        "{}:{line}:{column}: error[E060]: filter `cnt` does not exist",
        template.display()
    );
    for args in [
        &["validate", "pipeline.yaml"][..],
        &["run", "pipeline.yaml", "--quiet"],
    ] {
        let command = args[0];
        let out = salespipe(d, args);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&want),
            "{command}: expected `{want}` in\n{err}"
        );
    }
    // Before reading anything: no warehouse was created.
    assert!(!d.join("out/warehouse.duckdb").exists());
    // With a model syntax error too, validate lists both.
    std::fs::write(d.join("sql/models/marts/zz_syntax.sql"), "SELECT (1\n").unwrap();
    let out = salespipe(d, &["validate", "pipeline.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&want) && err.contains("zz_syntax.sql:"),
        "{err}"
    );
    assert!(err.contains("2 configuration errors"), "{err}");
}

#[test]
fn a_template_syntax_error_is_placed_and_listed_with_the_others() {
    let dir = fixture("tiny");
    let d = dir.path();
    let template = d.join("report_templates/sales_report.md.tera");
    let text = std::fs::read_to_string(&template).unwrap().replacen(
        "{% for r in data.by_region -%}",
        "{% for r in data.by_region -%",
        1,
    );
    std::fs::write(&template, &text).unwrap();
    let at = text.find("{% for r in data.by_region -%\n").unwrap();
    let line = text[..at].matches('\n').count() + 1;
    let want = format!(
        "{}:{line}:29: error[E061]: template syntax error: expected",
        template.display()
    );
    for args in [
        &["validate", "pipeline.yaml"][..],
        &["run", "pipeline.yaml", "--quiet"],
    ] {
        let out = salespipe(d, args);
        assert_eq!(out.status.code(), Some(2), "{}", args[0]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&want),
            "{}: expected `{want}` in\n{err}",
            args[0]
        );
    }
    assert!(!d.join("out/warehouse.duckdb").exists());
    std::fs::write(d.join("sql/models/marts/zz_syntax.sql"), "SELECT (1\n").unwrap();
    let out = salespipe(d, &["validate", "pipeline.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&want) && err.contains("zz_syntax.sql:"),
        "{err}"
    );
    assert!(err.contains("2 configuration errors"), "{err}");
}
