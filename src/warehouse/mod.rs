//! The DuckDB warehouse: opening the database file, the bookkeeping schema
//! (`salespipe.run_log`, `run_sources`, `run_models`, `run_tests`, `test_failures`,
//! `rejects`, `warnings`, `duplicates`, `anomalies`),
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
    /// A warehouse in memory, backed by no file: for planning against a schema, and
    /// for tests.
    pub fn in_memory() -> Result<Warehouse> {
        Ok(Warehouse {
            conn: Connection::open_in_memory()
                .map_err(|e| Error::db("opening an in-memory database", e))?,
            path: PathBuf::new(),
        })
    }

    /// Opens (creating if needed) the database at `path` and makes sure the bookkeeping
    /// tables exist. When another process holds DuckDB's lock on the file (a BI tool or
    /// a notebook with the database open), the error names that process and points BI
    /// tools to the Parquet outputs in `parquet_dir`.
    pub fn open(path: &Path, settings: &EngineSettings, parquet_dir: &Path) -> Result<Warehouse> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        }
        let conn = Connection::open(path).map_err(|e| {
            let msg = e.to_string();
            match lock_holder(&msg) {
                Some(holder) => Error::Run(in_use_message(path, holder, parquet_dir)),
                None => Error::db(format!("opening warehouse `{}`", path.display()), e),
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

    /// The first column of `sql`'s rows as text, with `params` bound in order; `what`
    /// names the work in an error.
    pub fn strings(&self, sql: &str, params: &[&str], what: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql).ctx(|| what.to_string())?;
        let rows = stmt
            .query_map(duckdb::params_from_iter(params), |r| r.get::<_, String>(0))
            .ctx(|| what.to_string())?;
        rows.collect::<std::result::Result<_, _>>()
            .ctx(|| what.to_string())
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
                 rows_loaded BIGINT, rows_anomalous BIGINT, extra_columns VARCHAR[],
                 missing_columns VARCHAR[], rows_warned BIGINT, rows_deleted BIGINT);
             -- Warehouses created before these columns existed (added in this order).
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_anomalous BIGINT;
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS extra_columns VARCHAR[];
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS missing_columns VARCHAR[];
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_warned BIGINT;
             ALTER TABLE {m}.run_sources ADD COLUMN IF NOT EXISTS rows_deleted BIGINT;
             CREATE TABLE IF NOT EXISTS {m}.run_models (
                 run_id BIGINT, model VARCHAR, materialized VARCHAR, rows_built BIGINT);
             CREATE TABLE IF NOT EXISTS {m}.run_tests (
                 run_id BIGINT, model VARCHAR, test VARCHAR, severity VARCHAR, status VARCHAR,
                 failing_rows BIGINT);
             CREATE TABLE IF NOT EXISTS {m}.test_failures (
                 run_id BIGINT, model VARCHAR, test VARCHAR, severity VARCHAR,
                 failing_rows BIGINT, row_json VARCHAR);
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

    /// Column names and DuckDB types of `relation` (a quoted table or view name, or a
    /// parenthesised query), in order.
    pub fn describe(&self, relation: &str) -> Result<Vec<(String, String)>> {
        let what = || format!("describing {relation}");
        let mut stmt = self
            .conn
            .prepare(&format!("DESCRIBE SELECT * FROM {relation}"))
            .ctx(what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .ctx(what)?;
        rows.collect::<std::result::Result<_, _>>().ctx(what)
    }

    /// The first value of the first row of `sql`, for tests' checks.
    #[cfg(test)]
    #[allow(clippy::unwrap_used)]
    pub(crate) fn scalar<T: duckdb::types::FromSql>(&self, sql: &str) -> T {
        self.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// The process holding DuckDB's file lock, from DuckDB's error text: `Could not set lock
/// on file "...": Conflicting lock is held in <program> (PID <pid>)...`. `Some(None)` when
/// the error is a lock conflict that does not name the holder.
fn lock_holder(msg: &str) -> Option<Option<(String, String)>> {
    if !msg.contains("Could not set lock on file") {
        return None;
    }
    let holder = msg
        .split_once("Conflicting lock is held in ")
        .and_then(|(_, rest)| rest.split_once(" (PID "))
        .and_then(|(program, rest)| {
            let pid = rest.split_once(')')?.0;
            Some((program.trim().to_string(), pid.trim().to_string()))
        });
    Some(holder)
}

/// The message for a warehouse file held open by another program.
fn in_use_message(path: &Path, holder: Option<(String, String)>, parquet_dir: &Path) -> String {
    let who = match holder {
        Some((program, pid)) => format!("`{program}` (PID {pid})"),
        None => "another program".to_string(),
    };
    format!(
        "the warehouse `{}` is open in another program: {who}, e.g. a BI tool or a notebook. \
         A run needs the database file to itself: close it there and run again. BI tools \
         should read the Parquet outputs in `{}` (one folder per table, swapped atomically) \
         instead of the database file.",
        path.display(),
        parquet_dir.display()
    )
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
        let wh = Warehouse::in_memory().unwrap();
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
            (
                "rows_anomalous,extra_columns,missing_columns,rows_warned,rows_deleted",
                None
            )
        );
        assert_eq!(wh.count("salespipe.anomalies").unwrap(), 0);
        assert_eq!(wh.count("salespipe.warnings").unwrap(), 0);
    }

    #[test]
    fn lock_holder_is_read_from_duckdbs_message() {
        let msg = "IO Error: Could not set lock on file \"/tmp/w.duckdb\": Conflicting lock is \
                   held in /usr/bin/python3.12 (PID 4242) by user ana. See also \
                   https://duckdb.org/docs/current/connect/concurrency";
        assert_eq!(
            lock_holder(msg),
            Some(Some(("/usr/bin/python3.12".into(), "4242".into())))
        );
        assert_eq!(
            lock_holder("IO Error: Could not set lock on file \"/tmp/w.duckdb\""),
            Some(None)
        );
        assert_eq!(lock_holder("IO Error: No such file or directory"), None);
        let text = in_use_message(Path::new("out/w.duckdb"), None, Path::new("out/parquet"));
        assert!(
            text.starts_with(
                "the warehouse `out/w.duckdb` is open in another program: another program"
            ),
            "{text}"
        );
    }
}
