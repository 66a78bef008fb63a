//! The DuckDB warehouse: opening the database file, the bookkeeping schema
//! (`salespipe.run_log`, `run_sources`, `run_models`, `rejects`, `warnings`,
//! `duplicates`, `anomalies`),
//! transactions, and the Parquet exports.

pub mod export;
pub mod load;
pub mod lock;
pub mod manifest;
pub mod runlog;

use std::path::{Path, PathBuf};

use duckdb::Connection;

use crate::error::{DbContext, Error, Result};

/// Name of the schema holding salespipe's own tables.
pub const META_SCHEMA: &str = "salespipe";

/// An open warehouse.
pub struct Warehouse {
    /// The connection; `Send` but not `Sync`.
    pub conn: Connection,
    /// The database file.
    pub path: PathBuf,
}

/// Engine settings applied when the warehouse is opened.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// DuckDB `memory_limit`, e.g. `2GB`.
    pub memory_limit: Option<String>,
    /// DuckDB worker threads.
    pub threads: Option<u32>,
}

impl Warehouse {
    /// Opens (creating if needed) the database at `path` and makes sure the bookkeeping
    /// tables exist.
    pub fn open(path: &Path, settings: &EngineSettings) -> Result<Warehouse> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        }
        let conn = Connection::open(path).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("lock") {
                Error::Run(format!(
                    "warehouse `{}` is locked by another program ({msg}). Close it, or let BI \
                     tools read the Parquet outputs instead of the database file.",
                    path.display()
                ))
            } else {
                Error::db(format!("opening warehouse `{}`", path.display()), e)
            }
        })?;
        let wh = Warehouse {
            conn,
            path: path.to_path_buf(),
        };
        wh.configure(settings)?;
        wh.ensure_meta()?;
        Ok(wh)
    }

    fn configure(&self, settings: &EngineSettings) -> Result<()> {
        self.exec("SET enable_progress_bar = false")?;
        if let Some(limit) = &settings.memory_limit {
            // SET does not take parameters; the value is a quoted literal.
            self.exec(&format!(
                "SET memory_limit = {}",
                crate::sql::literal(limit)
            ))?;
        }
        if let Some(t) = settings.threads {
            self.exec(&format!("SET threads = {t}"))?;
        }
        Ok(())
    }

    /// Runs one or more statements without parameters.
    pub fn exec(&self, sql: &str) -> Result<()> {
        let t = std::time::Instant::now();
        let r = self
            .conn
            .execute_batch(sql)
            .ctx(|| format!("running `{}`", first_line(sql)));
        tracing::debug!("{:.3} s: {}", t.elapsed().as_secs_f64(), first_line(sql));
        tracing::trace!("full statement:\n{sql}");
        r
    }

    pub(crate) fn ensure_meta(&self) -> Result<()> {
        self.exec(&format!(
            "CREATE SCHEMA IF NOT EXISTS {m};
             CREATE TABLE IF NOT EXISTS {m}.run_log (
                 run_id BIGINT PRIMARY KEY, pipeline VARCHAR NOT NULL, as_of DATE,
                 started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL,
                 reason VARCHAR, summary JSON);
             CREATE TABLE IF NOT EXISTS {m}.run_sources (
                 run_id BIGINT, source VARCHAR, files BIGINT, rows_read BIGINT,
                 rows_rejected BIGINT, rows_exact_duplicate BIGINT, rows_superseded BIGINT,
                 rows_loaded BIGINT, rows_anomalous BIGINT, rows_warned BIGINT,
                 rows_deleted BIGINT);
             -- Added after the first release: warehouses created before have no column.
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_anomalous BIGINT;
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_warned BIGINT;
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_deleted BIGINT;
             CREATE TABLE IF NOT EXISTS {m}.run_models (
                 run_id BIGINT, model VARCHAR, materialized VARCHAR, rows_built BIGINT);
             CREATE TABLE IF NOT EXISTS {m}.rejects (
                 run_id BIGINT, source VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR,
                 rule VARCHAR, value VARCHAR, message VARCHAR, raw_text VARCHAR);
             CREATE TABLE IF NOT EXISTS {m}.warnings (
                 run_id BIGINT, source VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR,
                 rule VARCHAR, value VARCHAR, message VARCHAR, raw_text VARCHAR);
             CREATE TABLE IF NOT EXISTS {m}.duplicates (
                 run_id BIGINT, source VARCHAR, file VARCHAR, line BIGINT, kind VARCHAR,
                 kept_file VARCHAR, kept_line BIGINT);
             CREATE TABLE IF NOT EXISTS {m}.anomalies (
                 run_id BIGINT, source VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR,
                 method VARCHAR, value VARCHAR, group_key VARCHAR, group_size BIGINT,
                 median DOUBLE, mad_or_iqr DOUBLE, lower DOUBLE, upper DOUBLE, score DOUBLE,
                 action VARCHAR);",
            m = META_SCHEMA
        ))
    }

    /// Starts the data transaction of a run.
    pub fn begin(&self) -> Result<()> {
        self.exec("BEGIN TRANSACTION")
    }

    /// Commits the current transaction.
    pub fn commit(&self) -> Result<()> {
        self.exec("COMMIT")
    }

    /// Rolls back the current transaction, ignoring "no transaction is active".
    pub fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Number of rows in a table or view.
    pub fn count(&self, table: &str) -> Result<i64> {
        let sql = format!("SELECT count(*) FROM {table}");
        self.conn
            .query_row(&sql, [], |r| r.get(0))
            .ctx(|| format!("counting rows of {table}"))
    }
}

fn first_line(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or("");
    if line.len() > 80 {
        format!(
            "{}...",
            &line[..line.char_indices().nth(77).map_or(line.len(), |(i, _)| i)]
        )
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_warehouse_from_before_anomalies_gains_the_count_columns() {
        let wh = Warehouse {
            conn: Connection::open_in_memory().unwrap(),
            path: PathBuf::new(),
        };
        wh.exec(
            "CREATE SCHEMA salespipe;
             CREATE TABLE salespipe.run_sources (run_id BIGINT, source VARCHAR, files BIGINT,
                 rows_read BIGINT, rows_rejected BIGINT, rows_exact_duplicate BIGINT,
                 rows_superseded BIGINT, rows_loaded BIGINT);
             INSERT INTO salespipe.run_sources VALUES (1, 'orders', 1, 3, 0, 0, 0, 3);",
        )
        .unwrap();
        wh.ensure_meta().unwrap();
        wh.ensure_meta().unwrap();
        let (last, value): (String, Option<i64>) = wh
            .conn
            .query_row(
                "SELECT string_agg(column_name, ',' ORDER BY column_index),
                        (SELECT rows_anomalous FROM salespipe.run_sources)
                 FROM duckdb_columns() WHERE table_name = 'run_sources' AND column_index > 8",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        // The same column order as a new warehouse: the run log copies by position.
        assert_eq!(
            (last.as_str(), value),
            ("rows_anomalous,rows_warned,rows_deleted", None)
        );
        assert_eq!(wh.count("salespipe.anomalies").unwrap(), 0);
        assert_eq!(wh.count("salespipe.warnings").unwrap(), 0);
    }
}
