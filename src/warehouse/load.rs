//! Load: move a source's clean rows into its warehouse table inside the run's data
//! transaction, per the source's load mode:
//! - `snapshot`: the extract is the whole truth, the table is replaced;
//! - `incremental`: rows are merged by key into the table, the latest version wins
//!   (by `latest_by`, then the newer load);
//! - `append`: rows are appended.

use super::Warehouse;
use crate::clean::clean_table;
use crate::config::{LoadMode, SourceConfig};
use crate::error::Result;
use crate::sql::{ident, qualified};

/// Loads the clean rows of `source`; `replace` rebuilds the table from them whatever
/// the mode (a snapshot, a first load or `--full-refresh`).
pub fn load(wh: &Warehouse, source: &SourceConfig, replace: bool) -> Result<()> {
    let cols: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
    let cols = cols.join(", ");
    let table = qualified("main", &source.name);
    let clean = clean_table(&source.name);
    let fresh = replace || !wh.table_exists(&source.name)?;
    match source.load {
        _ if fresh || source.load == LoadMode::Snapshot => {
            wh.exec(&format!(
                "CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {clean}"
            ))?;
        }
        LoadMode::Append => {
            wh.exec(&format!("INSERT INTO {table} SELECT {cols} FROM {clean}"))?;
        }
        LoadMode::Incremental | LoadMode::Snapshot => {
            let key: Vec<String> = source.key.iter().map(|k| ident(k)).collect();
            let latest = source
                .latest_by
                .as_ref()
                .map(|l| format!("{} DESC NULLS LAST, ", ident(l)))
                .unwrap_or_default();
            wh.exec(&format!(
                "CREATE OR REPLACE TABLE {table} AS
                 SELECT {cols} FROM (
                     SELECT {cols}, 0 AS _batch, row_number() OVER () AS _ord FROM {table}
                     UNION ALL BY NAME
                     SELECT {cols}, 1 AS _batch, row_number() OVER (ORDER BY _file, _line) AS _ord
                     FROM {clean}
                 )
                 QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {latest}_batch DESC) = 1
                 ORDER BY _batch, _ord",
                key = key.join(", ")
            ))?;
        }
    }
    Ok(())
}
