//! Integration tests, built as one binary (linking DuckDB once). Each module runs the
//! real `salespipe` binary on fixture folders copied into a temp directory.

// Test code panics on unexpected errors by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Abnormal values: robust z and IQR by hand, small groups, reject, failed runs, config.
mod anomalies;
/// Shared helpers: fixture setup, running the binary, reading the warehouse.
mod common;
/// Config errors: syntax/type errors and collected semantic errors with locations.
mod config_errors;
/// Forecast nodes: exact seasonal naive values, gaps, fallbacks, clamps, forecast vs
/// target, per-as-of history and realised accuracy, config errors.
mod forecast;
/// Ingestion: readers, normalisation, reject lines, manifest, load modes, lock.
mod ingest;
/// KPI models on a small hand-made company: every formula and edge case worked out by hand.
mod kpi;
/// KPI models on the sample company: the independent cross-check and every planted story.
mod kpi_sample;
/// The model graph: order, cycles, select, plan errors, data tests, template variables,
/// the Parquet manifest and files read back with the `parquet` crate.
mod models;
/// Period close: snapshots per as-of, restatement after late data, rerun, failed run.
mod period_close;
/// Column and cross-column rules, warnings, PII masking, deletions, CSV comments.
mod rules;
/// The tiny hand-made company: exact figures, rejects, duplicates, outputs, run log.
mod run;
/// The sample generator and the committed sample: determinism, truth file, cross-check.
mod sample;
/// Every planted story of the sample is visible by a direct query over the raw files.
mod sample_stories;
/// Fixture folders with their expected rejects, duplicates and loaded tables beside them.
mod scenarios;
