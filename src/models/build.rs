//! Building the graph inside the run's data transaction: each selected node in order,
//! replacing whatever relation had its name, then the data tests that are ready (a
//! `relationships` test waits until the relation it reads is built too). A failed
//! error-severity test stops the build once the ready tests have all run.

use std::collections::BTreeSet;

use duckdb::OptionalExt;
use serde::Serialize;

use super::datatest::{self, Severity, TestOutcome};
use super::locate::locate;
use super::{render, shown, DataTest, Materialized, ModelGraph, Node, NodeKind, TemplateVars};
use crate::error::{DbContext, Error, Result};
use crate::sql::qualified;
use crate::warehouse::Warehouse;

/// What building one node produced.
#[derive(Debug, Clone, Serialize)]
pub struct ModelStats {
    /// Node name.
    pub name: String,
    /// Table or view.
    pub materialized: Materialized,
    /// Rows in the result.
    pub rows: i64,
}

/// Builds the nodes of `graph` in `selected` (every node when `None`) in order inside the
/// current transaction, running their data tests. Every test outcome is pushed to
/// `tests`, also when the build then fails.
pub fn build(
    wh: &Warehouse,
    graph: &ModelGraph,
    vars: &TemplateVars,
    selected: Option<&BTreeSet<String>>,
    tests: &mut Vec<TestOutcome>,
) -> Result<Vec<ModelStats>> {
    let chosen = |name: &str| selected.is_none_or(|s| s.contains(name));
    let todo: Vec<&Node> = graph.nodes.iter().filter(|n| chosen(&n.name)).collect();
    for node in &todo {
        for d in &node.deps {
            if graph.get(d).is_some() && !chosen(d) && !wh.table_exists(d)? {
                return Err(Error::Run(format!(
                    "model `{}` reads `{d}`, which is not selected and has not been built \
                     yet; select it too (`--select +{}`)",
                    node.name, node.name
                )));
            }
        }
    }
    let mut stats = Vec::new();
    let mut built: BTreeSet<&str> = BTreeSet::new();
    let mut pending: Vec<(&Node, &DataTest)> = Vec::new();
    for node in todo {
        crate::interrupt::check()?;
        let rel = qualified("main", &node.name);
        build_node(wh, node, &rel, vars)?;
        stats.push(ModelStats {
            name: node.name.clone(),
            materialized: node.materialized,
            rows: wh.count(&rel)?,
        });
        built.insert(&node.name);
        pending.extend(node.tests.iter().map(|t| (node, t)));
        let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, t)| {
            t.needs()
                .is_none_or(|r| built.contains(r) || graph.get(r).is_none_or(|n| !chosen(&n.name)))
        });
        pending = waiting;
        let first = tests.len();
        for (n, t) in ready {
            let o = datatest::run(wh, &n.name, &qualified("main", &n.name), t, vars)?;
            if o.failing > 0 {
                tracing::warn!(
                    "model `{}`: data test `{}` ({}) found {} failing row(s)",
                    o.model,
                    o.test,
                    o.severity.as_str(),
                    o.failing
                );
            }
            tests.push(o);
        }
        let failed: Vec<&TestOutcome> = tests[first..]
            .iter()
            .filter(|o| o.failing > 0 && o.severity == Severity::Error)
            .collect();
        if !failed.is_empty() {
            return Err(Error::Run(datatest::failure_message(&failed)));
        }
    }
    Ok(stats)
}

/// Replaces the relation `rel` of `node`.
fn build_node(wh: &Warehouse, node: &Node, rel: &str, vars: &TemplateVars) -> Result<()> {
    drop_relation(wh, &node.name)?;
    match &node.kind {
        NodeKind::Sql { template } => {
            let sql = render::render(&node.name, &node.path, template, &node.deps, vars)?;
            let kind = match node.materialized {
                Materialized::Table => "TABLE",
                Materialized::View => "VIEW",
            };
            // The statement prefix stays on the template's first line so DuckDB's LINE
            // numbers match the rendered text.
            let prefix = format!("CREATE {kind} {rel} AS ");
            let query = format!("{prefix}{sql}");
            wh.conn.execute_batch(&query).map_err(|e| {
                let at = locate(&e.to_string(), &query, prefix.len(), template);
                // An error DuckDB does not place (a runtime one) names the file only.
                let place = if at.line > 0 {
                    format!("{}:{}:{}", shown(&node.path).display(), at.line, at.column)
                } else {
                    shown(&node.path).display().to_string()
                };
                Error::db(format!("building model `{}` ({place})", node.name), e)
            })
        }
        NodeKind::Computed(c) => {
            c.build(wh, rel, vars)?;
            if wh.table_exists(&node.name)? {
                Ok(())
            } else {
                Err(Error::Run(format!(
                    "computed node `{}` did not write its table",
                    node.name
                )))
            }
        }
    }
}

/// Drops whatever kind of relation `main.<name>` is.
fn drop_relation(wh: &Warehouse, name: &str) -> Result<()> {
    let existing: Option<String> = wh
        .conn
        .query_row(
            "SELECT table_type FROM information_schema.tables
             WHERE table_schema = 'main' AND table_name = ?",
            [name],
            |r| r.get(0),
        )
        .optional()
        .ctx(|| "reading the catalog".into())?;
    let rel = qualified("main", name);
    match existing.as_deref() {
        Some("VIEW") => wh.exec(&format!("DROP VIEW {rel}")),
        Some(_) => wh.exec(&format!("DROP TABLE {rel}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;
    use std::sync::Arc;

    use chrono::NaiveDate;

    use super::*;
    use crate::models::{discover_with, ComputedNode, ComputedSpec, TestKind};

    /// A stand-in for a forecast: one row per region of `sales`, doubled.
    #[derive(Debug)]
    struct Doubler;

    impl ComputedNode for Doubler {
        fn columns(
            &self,
            _wh: &Warehouse,
        ) -> std::result::Result<Vec<(String, String)>, Vec<crate::error::Diagnostic>> {
            Ok(vec![
                ("region".into(), "VARCHAR".into()),
                ("amount".into(), "DECIMAL(18,2)".into()),
            ])
        }
        fn build(&self, wh: &Warehouse, relation: &str, _vars: &TemplateVars) -> Result<()> {
            wh.exec(&format!(
                "CREATE TABLE {relation} AS SELECT region, CAST(amount * 2 AS DECIMAL(18,2))
                 AS amount FROM main.sales"
            ))
        }
    }

    #[test]
    fn a_sql_model_reads_a_computed_node() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("report.sql"),
            "-- test: { row_count: { min: 2, max: 2 } }\n\
             SELECT region, amount FROM {{ ref(\"doubled\") }} ORDER BY region",
        )
        .unwrap();
        let spec = ComputedSpec {
            name: "doubled".into(),
            deps: ["sales".to_string()].into(),
            description: Some("sales x 2".into()),
            declared_in: PathBuf::from("pipeline.yaml"),
            at: (1, 1),
            dep_at: Default::default(),
            partition_by: Vec::new(),
            order_by: Vec::new(),
            tests: vec![DataTest {
                name: "positive".into(),
                kind: TestKind::Expression("amount > 0".into()),
                severity: Severity::Warn,
                file: PathBuf::from("pipeline.yaml"),
                line: 1,
                column: 1,
            }],
            node: Arc::new(Doubler),
        };
        let graph = discover_with(dir.path(), &["sales".into()], vec![spec]).unwrap();
        let order: Vec<(&str, &str)> = graph
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.kind_name()))
            .collect();
        assert_eq!(order, vec![("doubled", "rust"), ("report", "sql")]);

        let wh = Warehouse::in_memory().unwrap();
        wh.exec(
            "CREATE TABLE sales (region VARCHAR, amount DECIMAL(18,2));
             INSERT INTO sales VALUES ('North', 10.50), ('South', -1.00);",
        )
        .unwrap();
        let vars = TemplateVars::new(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        let mut tests = Vec::new();
        let stats = build(&wh, &graph, &vars, None, &mut tests).unwrap();
        assert_eq!(stats.iter().map(|s| s.rows).collect::<Vec<_>>(), vec![2, 2]);
        let outcomes: Vec<(&str, &str, i64)> = tests
            .iter()
            .map(|o| (o.model.as_str(), o.status(), o.failing))
            .collect();
        assert_eq!(
            outcomes,
            vec![("doubled", "warn", 1), ("report", "pass", 0)]
        );
        let north: String = wh
            .conn
            .query_row(
                "SELECT amount::VARCHAR FROM report WHERE region = 'North'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(north, "21.00");
    }
}
