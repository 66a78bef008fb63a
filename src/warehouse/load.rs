//! Load: move a source's clean rows into its warehouse table, so that the table changes
//! only inside the run's data transaction, per the source's load mode:
//! - `snapshot`: the extract is the whole truth, the table is replaced;
//! - `incremental`: rows are merged by key into the table, the latest version wins
//!   (by `latest_by`, then the newer load);
//! - `append`: rows are appended.
//!
//! An incremental source with `delete_when` treats a row whose status column holds one
//! of the listed values as a deletion marker: it is not loaded, and when it is the latest
//! version of its key the key leaves the table. With `latest_by`, the winning markers are
//! kept as tombstones in `salespipe.deleted_<source>` (key, `latest_by`, the marker's
//! `_file` and `_line`), so that an older version of a deleted key arriving later is
//! superseded by the deletion instead of bringing the key back (see
//! [`crate::clean::clean`]); a newer version brings it back and drops the tombstone.
//!
//! A table rebuilt from the clean rows (a snapshot or incremental source, any first load,
//! `--full-refresh`, an append source rebuilt from all its files) is built in two steps.
//! [`stage`] writes the table's new version as a staged table in `main`, committed before
//! the data transaction begins, so the clean stage's temp tables can be dropped and their
//! memory freed (a temp table dropped inside a transaction keeps its memory until the
//! commit, which left a 10M-row run's export sorting in a third of its memory). [`load`],
//! inside the transaction, swaps the staged table in: the old table is dropped and the
//! staged one renamed, both undone by a rollback, after which [`discard`] drops the staged
//! tables. Rows appended to an existing append table are inserted inside the
//! transaction, straight from the clean rows.

use super::Warehouse;
use crate::clean::{clean_table, typed_expr};
use crate::config::{LoadMode, SourceConfig};
use crate::error::{DbContext, Result};
use crate::sql::{ident, literal, qualified};
use crate::warehouse::META_SCHEMA;

/// The condition true for a deletion marker (`delete_when`), over unqualified columns.
pub fn deletion_marker(source: &SourceConfig) -> Option<String> {
    let d = source.delete_when.as_ref()?;
    let c = source.columns.iter().find(|c| c.name == d.column)?;
    let values: Vec<String> = d
        .values
        .iter()
        .map(|v| typed_expr(c, &literal(v)))
        .collect();
    Some(format!(
        "coalesce({} IN ({}), false)",
        ident(&c.name),
        values.join(", ")
    ))
}

/// Whether `source` keeps tombstones (its deleted keys): an
/// incremental source with `delete_when`, a key and `latest_by` (without `latest_by` a
/// newer load always wins, so a deletion needs no memory).
pub fn keeps_tombstones(source: &SourceConfig) -> bool {
    source.delete_when.is_some() && source.latest_by.is_some() && !source.key.is_empty()
}

/// The name of `source`'s tombstone table in the `salespipe` schema.
pub fn tombstone_table(source: &str) -> String {
    format!("deleted_{source}")
}

/// The clean rows of this run that mark a deletion (0 without `delete_when`).
pub fn deletion_markers(wh: &Warehouse, source: &SourceConfig) -> Result<i64> {
    let Some(marker) = deletion_marker(source) else {
        return Ok(0);
    };
    let sql = format!(
        "SELECT count(*) FROM {} WHERE {marker}",
        clean_table(&source.name)
    );
    wh.conn
        .query_row(&sql, [], |r| r.get(0))
        .ctx(|| format!("counting the deletions of `{}`", source.name))
}

/// Prefix of the staged tables' names (see the module documentation). `$` is not allowed
/// in source names, so a staged table's name is no source's or model's.
const STAGED_PREFIX: &str = "_salespipe_stage$";

/// The staged new version of `source`'s table.
fn staged(source: &str) -> String {
    qualified("main", &format!("{STAGED_PREFIX}{source}"))
}

/// The staged new version of `source`'s tombstones.
fn staged_tombstones(source: &str) -> String {
    qualified("main", &format!("{STAGED_PREFIX}deleted${source}"))
}

/// Builds the new version of `source`'s table from its clean rows as a staged table,
/// outside the data transaction; `replace` rebuilds it from them whatever the mode (a
/// snapshot, a first load or `--full-refresh`). Returns whether it staged: an append
/// source that already has its table is loaded by [`load`] alone.
pub fn stage(wh: &Warehouse, source: &SourceConfig, replace: bool) -> Result<bool> {
    let cols: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
    let cols = cols.join(", ");
    let table = qualified("main", &source.name);
    let stage = staged(&source.name);
    let clean = clean_table(&source.name);
    let fresh = replace || !wh.table_exists(&source.name)?;
    let marker = deletion_marker(source);
    match source.load {
        _ if fresh || source.load == LoadMode::Snapshot => {
            let keep = marker
                .map(|m| format!(" WHERE NOT {m}"))
                .unwrap_or_default();
            wh.exec(&format!(
                "CREATE OR REPLACE TABLE {stage} AS SELECT {cols} FROM {clean}{keep}"
            ))?;
        }
        LoadMode::Append => return Ok(false),
        LoadMode::Incremental | LoadMode::Snapshot => {
            let key: Vec<String> = source.key.iter().map(|k| ident(k)).collect();
            let latest = source
                .latest_by
                .as_ref()
                .map(|l| format!("{} DESC NULLS LAST, ", ident(l)))
                .unwrap_or_default();
            // The window sees every version; only then are deleted keys left out.
            let keep = marker.map(|m| format!(" AND NOT {m}")).unwrap_or_default();
            wh.exec(&format!(
                "CREATE OR REPLACE TABLE {stage} AS
                 SELECT {cols} FROM (
                     SELECT {cols}, 0 AS _batch, row_number() OVER () AS _ord FROM {table}
                     UNION ALL BY NAME
                     SELECT {cols}, 1 AS _batch, row_number() OVER (ORDER BY _file, _line) AS _ord
                     FROM {clean}
                 )
                 QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {latest}_batch DESC) = 1{keep}
                 ORDER BY _batch, _ord",
                key = key.join(", ")
            ))?;
        }
    }
    if let (true, Some(marker), Some(latest)) = (
        keeps_tombstones(source),
        deletion_marker(source),
        source.latest_by.as_deref(),
    ) {
        let name = tombstone_table(&source.name);
        // The markers of this run (each the latest version of its key: older ones were
        // dropped as superseded), and the earlier tombstones of keys this run does not
        // touch.
        let key: Vec<String> = source.key.iter().map(|k| ident(k)).collect();
        let key = key.join(", ");
        let cols = format!(
            "{key}, {}, CAST(_file AS VARCHAR) AS _file, _line",
            ident(latest)
        );
        let kept = if !fresh && wh.table_exists_in(META_SCHEMA, &name)? {
            format!(
                "SELECT {cols} FROM {} ANTI JOIN (SELECT {key} FROM {clean}) USING ({key})
                 UNION ALL ",
                qualified(META_SCHEMA, &name)
            )
        } else {
            String::new()
        };
        wh.exec(&format!(
            "CREATE OR REPLACE TABLE {} AS {kept}SELECT {cols} FROM {clean} WHERE {marker}",
            staged_tombstones(&source.name)
        ))?;
    }
    Ok(true)
}

/// Inside the data transaction: swaps `source`'s staged table in, or (`staged` false)
/// appends its clean rows to its table.
pub fn load(wh: &Warehouse, source: &SourceConfig, staged_table: bool) -> Result<()> {
    let table = qualified("main", &source.name);
    if staged_table {
        wh.exec(&format!(
            "DROP TABLE IF EXISTS {table}; ALTER TABLE {} RENAME TO {}",
            staged(&source.name),
            ident(&source.name)
        ))?;
        let tombs = qualified(META_SCHEMA, &tombstone_table(&source.name));
        if keeps_tombstones(source) {
            // Another schema: copied, not renamed.
            let key: Vec<String> = source.key.iter().map(|k| ident(k)).collect();
            let staged = staged_tombstones(&source.name);
            wh.exec(&format!(
                "CREATE OR REPLACE TABLE {tombs} AS SELECT * FROM {staged} ORDER BY {};
                     DROP TABLE {staged}",
                key.join(", ")
            ))
        } else {
            // `delete_when` or `latest_by` taken out: the tombstones no longer apply.
            wh.exec(&format!("DROP TABLE IF EXISTS {tombs}"))
        }
    } else {
        let cols: Vec<String> = source.columns.iter().map(|c| ident(&c.name)).collect();
        wh.exec(&format!(
            "INSERT INTO {table} SELECT {} FROM {}",
            cols.join(", "),
            clean_table(&source.name)
        ))
    }
}

/// Drops every staged table: after a failed run's rollback, and before a run stages
/// anything (a killed run's, whatever its sources were).
pub fn discard(wh: &Warehouse) -> Result<()> {
    let names = wh.strings(
        "SELECT table_name FROM duckdb_tables()
         WHERE database_name = current_database() AND schema_name = 'main'
             AND starts_with(table_name, ?)
         ORDER BY table_name",
        &[STAGED_PREFIX],
        "listing staged tables",
    )?;
    for name in names {
        wh.exec(&format!(
            "DROP TABLE IF EXISTS {}",
            qualified("main", &name)
        ))?;
    }
    Ok(())
}
