//! Period close: a model with `-- snapshot: true` keeps a copy of its rows per as-of
//! date, so a figure published for one as-of can be compared with its restated value
//! after late data arrives.
//!
//! The copies live in the persistent table `snapshots.<model>` (the model's columns
//! after an `as_of DATE` column). The graph gets one computed node per such model,
//! `<model>_snapshots`, built right after the model inside the run's data transaction:
//! it deletes the rows of the run's as-of, inserts the model's current rows under it and
//! exposes every snapshot as the view `main.<model>_snapshots`, which SQL models can
//! `ref()` and which is exported to Parquet like any node (hive-partitioned by `as_of`).
//! A failed run rolls the upsert back with everything else; rerunning an as-of replaces
//! its snapshot; other as-of dates are never touched.
//!
//! A column added to the model is added to the snapshot table (NULL in older snapshots);
//! a column dropped from the model stays, NULL in newer ones.

use std::collections::BTreeMap;

use super::{ComputedNode, TemplateVars};
use crate::error::{DbContext, Result};
use crate::sql::{ident, qualified};
use crate::warehouse::Warehouse;

/// Schema of the persistent snapshot tables.
pub const SCHEMA: &str = "snapshots";

/// Suffix of the node (and view) that exposes a model's snapshots.
pub const SUFFIX: &str = "_snapshots";

/// The name of the node holding the snapshots of `model`.
pub fn node_name(model: &str) -> String {
    format!("{model}{SUFFIX}")
}

/// Upserts the snapshot of one model for the run's as-of.
#[derive(Debug, Clone)]
pub struct SnapshotNode {
    /// The model whose rows are kept.
    pub model: String,
}

impl SnapshotNode {
    fn store(&self) -> String {
        qualified(SCHEMA, &self.model)
    }
}

impl ComputedNode for SnapshotNode {
    fn columns(
        &self,
        _wh: &Warehouse,
    ) -> std::result::Result<Vec<(String, String)>, Vec<crate::error::Diagnostic>> {
        // The model's columns follow; `plan` reads them from the model itself.
        Ok(vec![("as_of".into(), "DATE".into())])
    }

    fn plan(
        &self,
        wh: &Warehouse,
        relation: &str,
        _columns: &[(String, String)],
        _vars: &TemplateVars,
    ) -> Result<()> {
        wh.exec(&format!(
            "CREATE TABLE {relation} AS SELECT CAST(NULL AS DATE) AS as_of, *
             FROM {} LIMIT 0",
            qualified("main", &self.model)
        ))
    }

    fn build(&self, wh: &Warehouse, relation: &str, vars: &TemplateVars) -> Result<()> {
        let model = qualified("main", &self.model);
        let store = self.store();
        let what = || format!("keeping the snapshot of `{}`", self.model);
        wh.exec(&format!(
            "CREATE SCHEMA IF NOT EXISTS {};
             CREATE TABLE IF NOT EXISTS {store} AS
                 SELECT CAST(NULL AS DATE) AS as_of, * FROM {model} LIMIT 0;",
            ident(SCHEMA)
        ))?;
        let kept = columns(wh, SCHEMA, &self.model)?;
        for (name, ty) in columns(wh, "main", &self.model)? {
            if !kept.contains_key(&name) {
                wh.exec(&format!(
                    "ALTER TABLE {store} ADD COLUMN {} {ty}",
                    ident(&name)
                ))?;
            }
        }
        wh.conn
            .execute(
                &format!("DELETE FROM {store} WHERE as_of = ?"),
                [vars.as_of],
            )
            .ctx(what)?;
        wh.conn
            .execute(
                &format!(
                    "INSERT INTO {store} BY NAME SELECT CAST(? AS DATE) AS as_of, * FROM {model}"
                ),
                [vars.as_of],
            )
            .ctx(what)?;
        wh.exec(&format!("CREATE VIEW {relation} AS SELECT * FROM {store}"))
    }
}

/// Column names and types of `schema.table`, by name.
fn columns(wh: &Warehouse, schema: &str, table: &str) -> Result<BTreeMap<String, String>> {
    let what = || format!("listing the columns of `{schema}.{table}`");
    let mut stmt = wh
        .conn
        .prepare(
            "SELECT column_name, data_type FROM duckdb_columns()
             WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        )
        .ctx(what)?;
    let out = stmt
        .query_map([schema, table], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx(what)?
        .collect::<std::result::Result<_, _>>()
        .ctx(what)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::NaiveDate;

    use super::*;

    fn count(wh: &Warehouse, sql: &str) -> Vec<(String, String)> {
        let mut stmt = wh.conn.prepare(sql).unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn upserts_per_as_of_and_follows_new_columns() {
        let wh = Warehouse::in_memory().unwrap();
        let node = SnapshotNode { model: "m".into() };
        let rel = qualified("main", "m_snapshots");
        let day = |d| TemplateVars::new(NaiveDate::from_ymd_opt(2025, 6, d).unwrap());
        wh.exec("CREATE TABLE m AS SELECT 10.50::DECIMAL(18,2) AS amount")
            .unwrap();
        node.build(&wh, &rel, &day(30)).unwrap();
        // The next as-of, after late data: a second snapshot; the first is unchanged.
        wh.exec(
            "DROP VIEW m_snapshots; CREATE OR REPLACE TABLE m AS
             SELECT 12.00::DECIMAL(18,2) AS amount, 'x' AS note",
        )
        .unwrap();
        node.build(&wh, &rel, &day(29)).unwrap();
        // Rerunning an as-of replaces its snapshot.
        wh.exec("DROP VIEW m_snapshots; UPDATE m SET amount = 13.00")
            .unwrap();
        node.build(&wh, &rel, &day(29)).unwrap();
        assert_eq!(
            count(
                &wh,
                "SELECT as_of::VARCHAR, amount::VARCHAR || '/' || coalesce(note, 'NULL')
                 FROM m_snapshots ORDER BY as_of"
            ),
            vec![
                ("2025-06-29".into(), "13.00/x".into()),
                ("2025-06-30".into(), "10.50/NULL".into())
            ]
        );
        assert_eq!(
            count(
                &wh,
                "SELECT column_name, data_type FROM duckdb_columns()
                 WHERE schema_name = 'snapshots' ORDER BY column_index"
            ),
            vec![
                ("as_of".into(), "DATE".into()),
                ("amount".into(), "DECIMAL(18,2)".into()),
                ("note".into(), "VARCHAR".into())
            ]
        );
    }
}
