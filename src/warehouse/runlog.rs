//! The run log: one row per run in `salespipe.run_log`, opened as `running` before any
//! data is touched and closed in its own transaction after the data transaction ends,
//! so a failed run still records why it failed, with its per-source counts and rejects.

use chrono::{NaiveDate, NaiveDateTime};
use duckdb::params;

use super::{Warehouse, META_SCHEMA};
use crate::error::{DbContext, Result};

/// Final state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Everything committed and published.
    Succeeded,
    /// The data transaction rolled back.
    Failed,
}

impl RunStatus {
    /// The value stored in `run_log.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

impl Warehouse {
    /// Marks runs left `running` by a killed process as `abandoned`, then opens a new
    /// run and returns its id.
    pub fn start_run(&self, pipeline: &str, started_at: NaiveDateTime) -> Result<i64> {
        let m = META_SCHEMA;
        self.conn
            .execute(
                &format!(
                    "UPDATE {m}.run_log SET status = 'abandoned',
                     reason = 'the process stopped before the run finished'
                     WHERE status = 'running'"
                ),
                [],
            )
            .ctx(|| "closing abandoned runs".into())?;
        let id: i64 = self
            .conn
            .query_row(
                &format!("SELECT coalesce(max(run_id), 0) + 1 FROM {m}.run_log"),
                [],
                |r| r.get(0),
            )
            .ctx(|| "allocating a run id".into())?;
        self.conn
            .execute(
                &format!(
                    "INSERT INTO {m}.run_log (run_id, pipeline, started_at, status)
                     VALUES (?, ?, ?, 'running')"
                ),
                params![id, pipeline, started_at],
            )
            .ctx(|| "opening the run log row".into())?;
        Ok(id)
    }

    /// Closes a run: status, reason and summary in `run_log`, plus the per-source and
    /// per-model counts, data-test outcomes and failing rows, rejects, warnings,
    /// duplicates and anomalies staged in the temp tables `_run_sources`, `_run_models`,
    /// `_run_tests`, `_test_failures`, `_rejects`, `_warnings`, `_duplicates` and
    /// `_anomalies` (if they exist).
    /// One transaction, separate from the data transaction.
    pub fn finish_run(
        &self,
        run_id: i64,
        as_of: Option<NaiveDate>,
        status: RunStatus,
        reason: Option<&str>,
        summary_json: &str,
        finished_at: NaiveDateTime,
    ) -> Result<()> {
        let m = META_SCHEMA;
        self.begin()?;
        let result = (|| -> Result<()> {
            self.conn
                .execute(
                    &format!(
                        "UPDATE {m}.run_log SET as_of = ?, finished_at = ?, status = ?, reason = ?,
                         summary = ? WHERE run_id = ?"
                    ),
                    params![
                        as_of,
                        finished_at,
                        status.as_str(),
                        reason,
                        summary_json,
                        run_id
                    ],
                )
                .ctx(|| "closing the run log row".into())?;
            for (temp, table) in [
                ("_run_sources", "run_sources"),
                ("_run_models", "run_models"),
                ("_run_tests", "run_tests"),
                ("_test_failures", "test_failures"),
                ("_rejects", "rejects"),
                ("_warnings", "warnings"),
                ("_duplicates", "duplicates"),
                ("_anomalies", "anomalies"),
            ] {
                if self.temp_exists(temp)? {
                    self.exec(&format!(
                        "INSERT INTO {m}.{table} BY NAME SELECT * FROM temp.main.{temp}"
                    ))?;
                }
            }
            Ok(())
        })();
        match result {
            Ok(()) => self.commit(),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// True when a temp table of this name exists on this connection.
    pub fn temp_exists(&self, name: &str) -> Result<bool> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                [name],
                |r| r.get(0),
            )
            .ctx(|| "listing temp tables".into())?;
        Ok(n > 0)
    }
}
