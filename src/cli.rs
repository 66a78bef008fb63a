//! The command line (clap derive). Doc comments are the `--help` text; each command's
//! long help ends with an example.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Batch ETL and reporting for sales management: YAML pipelines load sales, finance,
/// marketing and inventory extracts into a DuckDB + Parquet warehouse, SQL models
/// compute the KPIs, and Tera renders the reports.
#[derive(Debug, Parser)]
#[command(name = "salespipe", version, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug with statement timings, -vvv every
    /// statement in full).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a pipeline: extract, clean, load, build models, export Parquet, render reports.
    ///
    /// Everything is written in one transaction: if any step fails, the warehouse
    /// tables and Parquet outputs stay as they were, and the run log records why.
    /// Exit code 0 on success, 1 if the run failed, 2 for an invalid configuration.
    ///
    /// Example:
    ///   salespipe run pipelines/daily.yaml --as-of 2026-09-30
    #[command(verbatim_doc_comment)]
    Run {
        /// The pipeline file (YAML).
        pipeline: PathBuf,
        /// The reporting date: YYYY-MM-DD, or `latest` for the newest date in the
        /// pipeline's `latest_from` column. Overrides the pipeline's `as_of`.
        #[arg(long, value_name = "DATE|latest")]
        as_of: Option<String>,
        /// No progress and no summary on the terminal.
        #[arg(short, long)]
        quiet: bool,
        /// Also write the end-of-run summary as JSON to this file (for schedulers).
        #[arg(long, value_name = "PATH")]
        summary_json: Option<PathBuf>,
        /// Re-read every file and rebuild every source table, ignoring the manifest of
        /// files already loaded.
        #[arg(long)]
        full_refresh: bool,
        /// A template variable for models and reports, `key=value` (repeatable).
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
        /// Rebuild only these models: `NAME`, `NAME+` (and everything downstream),
        /// `+NAME` (and everything upstream), `+NAME+` (both); a source name with `+`
        /// (`orders+`) selects the models that read it. Repeatable, or comma-separated.
        /// Sources load as usual; the other models, and their Parquet outputs, stay as
        /// they are.
        #[arg(short, long = "select", value_name = "SELECTOR")]
        select: Vec<String>,
        /// Do not run: render and bind every model against the warehouse, like `plan`.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the model graph in build order: kind, materialisation, dependencies, data
    /// tests and description of each node.
    ///
    /// Example:
    ///   salespipe models pipelines/daily.yaml
    #[command(verbatim_doc_comment)]
    Models {
        /// The pipeline file (YAML).
        pipeline: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Render every model and bind it against the warehouse schema without writing
    /// anything: unknown tables or columns, type errors and broken data tests are
    /// reported as `sql/models/x.sql:LINE:COL: ...`, all of them. Exit code 2 if any.
    ///
    /// Example:
    ///   salespipe plan pipelines/daily.yaml --as-of 2026-09-30
    #[command(verbatim_doc_comment)]
    Plan {
        /// The pipeline file (YAML).
        pipeline: PathBuf,
        /// The as-of date the models are rendered with (as for `run`).
        #[arg(long, value_name = "DATE|latest")]
        as_of: Option<String>,
        /// A template variable, `key=value` (repeatable).
        #[arg(long = "var", value_name = "KEY=VALUE")]
        vars: Vec<String>,
        /// Plan as for `run --select`: the other models keep the warehouse's columns.
        #[arg(short, long = "select", value_name = "SELECTOR")]
        select: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a pipeline without touching the warehouse: the YAML, the files it names,
    /// the SQL models and their references, and the report templates.
    ///
    /// Every problem is listed with file, line and column. Exit code 2 if any.
    ///
    /// Example:
    ///   salespipe validate pipelines/daily.yaml
    #[command(verbatim_doc_comment)]
    Validate {
        /// The pipeline file (YAML).
        pipeline: PathBuf,
    },
    /// Write the sample company's extracts (deterministic: same seed, same bytes),
    /// with `truth.csv` listing every planted dirty row.
    ///
    /// Example:
    ///   salespipe sample --out /tmp/sample --seed 42
    #[command(verbatim_doc_comment)]
    Sample {
        /// Output folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Volume multiplier for benchmarks (1 = the committed sample, about 16,000 order
        /// lines). At most 100: the data set is built in memory, about 30 MB per unit
        /// (scale 20: 0.6 GB, 66 MB of files).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
        scale: u32,
    },
}
