//! The `run` command: extract -> clean -> load -> models -> export -> report, with the
//! data transaction, the run log and the end-of-run summary.
//!
//! Order of effects, so a failure at any point leaves the warehouse as it was:
//! 1. the run log row is opened (`running`);
//! 2. every source is read, cleaned and judged for abnormal values into temp tables
//!    (nothing persistent yet);
//! 3. the tables rebuilt from the sources' rows are staged under names no data table
//!    has (see `warehouse::load`), and the clean stage's temp tables dropped;
//! 4. one transaction swaps the staged tables in (or appends), builds the models,
//!    writes Parquet into new version folders and renders the reports in memory, then
//!    commits; after a failure, the staged tables are dropped;
//! 5. the Parquet links are swapped and the report files renamed into place;
//! 6. a second transaction closes the run log row with counts, rejects, duplicates,
//!    anomalies and data-test failures, whether the run succeeded or not.
//!
//! A run stopped before step 1 (its configuration or model graph is wrong) is logged as
//! failed when the warehouse exists ([`record_early_failure`]).
//!
//! With `--select`, only the selected models are rebuilt, tested and exported; the
//! sources load as usual (their files are read only when they changed), and the other
//! models stay as they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::clean;
use crate::config::{AsOf, LoadMode, Pipeline, ResolvedSource};
use crate::error::{DbContext, Error, Result};
use crate::models::{self, ModelGraph, ModelStats, TemplateVars, TestOutcome};
use crate::progress::Progress;
use crate::report;
use crate::sql::{ident, qualified};
use crate::warehouse::export::{self, ExportSpec, PublishInfo, StagedExport};
use crate::warehouse::load;
use crate::warehouse::lock::RunLock;
use crate::warehouse::manifest::{
    config_fingerprint, fingerprint, ArrivalIndex, Fingerprint, CONFIG_ENTRY,
};
use crate::warehouse::runlog::RunStatus;
use crate::warehouse::{EngineSettings, Warehouse, META_SCHEMA};
use crate::{extract, util};

/// Options of one run, resolved at the edge (the CLI).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--as-of`, which wins over the pipeline's `as_of`.
    pub as_of: Option<AsOf>,
    /// The date used when neither the command line nor the pipeline gives one.
    pub today: NaiveDate,
    /// The wall-clock time recorded as the run's start (logging only).
    pub started_at: NaiveDateTime,
    /// Hide progress.
    pub quiet: bool,
    /// Extra template variables (`--var key=value`), over the pipeline's `vars`.
    pub vars: BTreeMap<String, String>,
    /// Ignore the manifest: re-read every file and rebuild every source table.
    pub full_refresh: bool,
    /// `--select` values (`NAME`, `NAME+`, `+NAME`); empty builds every model.
    pub select: Vec<String>,
}

/// Per-source counts of a run.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SourceSummary {
    /// Source name.
    pub name: String,
    /// Files read.
    pub files: usize,
    /// Records read.
    pub rows_read: i64,
    /// Records set aside in `rejects` (including values rejected as anomalies).
    pub rows_rejected: i64,
    /// Rows loaded with failures of `warn` rules, listed in `warnings`.
    pub rows_warned: i64,
    /// Rows with an abnormal value listed in `anomalies` (flagged or rejected).
    pub rows_anomalous: i64,
    /// Exact duplicates dropped.
    pub rows_exact_duplicate: i64,
    /// Older versions of a key dropped.
    pub rows_superseded: i64,
    /// Deletion markers (`delete_when`): not loaded, their keys removed from the table.
    pub rows_deleted: i64,
    /// Rows written to the warehouse table.
    pub rows_loaded: i64,
    /// No file changed since the last load: nothing was read, the table is untouched.
    pub unchanged: bool,
    /// Columns of the files that no declared column reads (not loaded).
    pub extra_columns: Vec<String>,
    /// Declared columns missing from a file (the run stopped).
    pub missing_columns: Vec<String>,
}

/// What a run did; printed at the end and written by `--summary-json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Run id in `salespipe.run_log`.
    pub run_id: i64,
    /// Pipeline name.
    pub pipeline: String,
    /// The as-of date used.
    pub as_of: Option<NaiveDate>,
    /// `succeeded` or `failed`.
    pub status: String,
    /// Why the run failed.
    pub reason: Option<String>,
    /// Per-source counts.
    pub sources: Vec<SourceSummary>,
    /// Models built.
    pub models: Vec<ModelStats>,
    /// The models `--select` chose, when it was given.
    pub selected: Option<Vec<String>>,
    /// Data tests run, with their failing-row counts.
    pub tests: Vec<TestOutcome>,
    /// Parquet tables and reports written.
    pub files_written: Vec<PathBuf>,
    /// Wall time in seconds.
    pub elapsed_seconds: f64,
}

impl RunSummary {
    /// The summary of a run just opened in the run log: succeeded so far, nothing done.
    fn opened(run_id: i64, pipeline: &str, as_of: Option<NaiveDate>) -> RunSummary {
        RunSummary {
            run_id,
            pipeline: pipeline.to_string(),
            as_of,
            status: RunStatus::Succeeded.as_str().into(),
            reason: None,
            sources: Vec::new(),
            models: Vec::new(),
            selected: None,
            tests: Vec::new(),
            files_written: Vec::new(),
            elapsed_seconds: 0.0,
        }
    }
}

/// A failed run: the error, and the summary recorded in the run log (`None` when
/// nothing could be recorded, e.g. no warehouse yet or another run holding it).
#[derive(Debug)]
pub struct Failed {
    /// Why the run failed.
    pub error: Error,
    /// The failed run's summary, as written to the run log.
    pub summary: Option<RunSummary>,
}

impl From<Error> for Box<Failed> {
    fn from(error: Error) -> Box<Failed> {
        Box::new(Failed {
            error,
            summary: None,
        })
    }
}

/// Runs the pipeline. `Ok` carries the summary of a successful run; a failed run
/// returns the error after recording it in the run log (a failure before any data is
/// touched, such as a model that refs nothing, is recorded when the warehouse exists).
pub fn run(pipeline: &Pipeline, opts: &RunOptions) -> std::result::Result<RunSummary, Box<Failed>> {
    let clock = Instant::now();
    let sources: Vec<String> = pipeline
        .sources
        .iter()
        .map(|s| s.config.name.clone())
        .collect();
    // The model graph, the report templates' filters and the models' template syntax: a
    // mistake in any stops the run before it opens the warehouse.
    let prepared = crate::forecast::node::discover(pipeline)
        .map_err(Error::from)
        .and_then(|graph| {
            report::check_all_templates(&pipeline.reports)?;
            let syntax = models::render::syntax_errors(&graph);
            if !syntax.is_empty() {
                return Err(Error::Config(crate::error::ConfigError {
                    diagnostics: syntax,
                }));
            }
            Ok(graph)
        });
    let graph = match prepared {
        Ok(g) => g,
        Err(error) => {
            let summary = record_early_failure(
                &pipeline.database,
                &pipeline.config.name,
                fixed_as_of(pipeline.config.as_of, opts),
                &error,
                opts,
            );
            return Err(Box::new(Failed { error, summary }));
        }
    };
    models::warn_unused_vars(pipeline, &graph, &opts.vars);
    // A `--select` that names nothing is a usage error, not a run.
    let selected = if opts.select.is_empty() {
        None
    } else {
        Some(models::select::resolve(&graph, &sources, &opts.select)?)
    };
    let w = &pipeline.config.warehouse;
    let settings = EngineSettings {
        memory_limit: w.memory_limit.clone(),
        threads: w.threads,
    };
    if let Some(dir) = pipeline.database.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let owner = format!(
        "pipeline `{}` started {}",
        pipeline.config.name, opts.started_at
    );
    let _lock = RunLock::acquire(&pipeline.database, &owner)?;
    let wh = Warehouse::open(&pipeline.database, &settings, &pipeline.parquet_dir)?;
    let run_id = wh.start_run(&pipeline.config.name, opts.started_at)?;
    let _watch = crate::interrupt::watch(wh.conn.interrupt_handle());
    let mut progress = Progress::for_run(opts.quiet, &sources);
    let mut summary = RunSummary::opened(
        run_id,
        &pipeline.config.name,
        fixed_as_of(pipeline.config.as_of, opts),
    );
    summary.selected = selected.as_ref().map(|s| s.iter().cloned().collect());
    let mut staged = Vec::new();
    let result = execute(
        &wh,
        pipeline,
        Models {
            graph: &graph,
            selected: selected.as_ref(),
        },
        opts,
        &mut progress,
        &mut summary,
        &mut staged,
    );
    // A statement stopped by Ctrl-C fails with DuckDB's words: the reason is the key.
    let result = result.map_err(|e| {
        if crate::interrupt::interrupted() {
            Error::Interrupted
        } else {
            e
        }
    });
    // Committed or about to be rolled back: the log is written whatever is pressed.
    crate::interrupt::finishing();
    let (status, reason) = match &result {
        Ok(()) => (RunStatus::Succeeded, None),
        Err(e) => {
            wh.rollback();
            export::discard(&staged);
            // The log is written whatever: a staged table left here is dropped by the
            // next run before it stages its own.
            if let Err(d) = load::discard(&wh) {
                tracing::warn!("dropping the staged tables of the failed run: {d}");
            }
            (RunStatus::Failed, Some(e.to_string()))
        }
    };
    summary.status = status.as_str().into();
    summary.reason = reason.clone();
    // The failing rows kept for BI tools show personal data masked, as the exports do,
    // whether the tests passed or stopped the run.
    let pii = pii_names(pipeline, &graph);
    for t in summary.tests.iter_mut() {
        if let Some(names) = pii.get(&t.model).filter(|n| !n.is_empty()) {
            for row in t.rows.iter_mut() {
                *row = mask_json_row(row, names);
            }
        }
    }
    progress.stage("recording the run");
    stage_run_stats(&wh, &summary)?;
    summary.elapsed_seconds = clock.elapsed().as_secs_f64();
    let json = serde_json::to_string(&summary).unwrap_or_default();
    wh.finish_run(
        run_id,
        summary.as_of,
        status,
        reason.as_deref(),
        &json,
        now_after(opts, clock),
    )?;
    if let Err(error) = result {
        return Err(Box::new(Failed {
            error,
            summary: Some(summary),
        }));
    }
    if let Err(error) = publish_meta(&wh, pipeline, &graph, &mut summary) {
        return Err(Box::new(Failed {
            error,
            summary: Some(summary),
        }));
    }
    summary.elapsed_seconds = clock.elapsed().as_secs_f64();
    Ok(summary)
}

/// Exports the run-log tables BI tools read (rejects; test failures, warnings and
/// anomalies when the pipeline can have them) after a successful run.
fn publish_meta(
    wh: &Warehouse,
    pipeline: &Pipeline,
    graph: &ModelGraph,
    summary: &mut RunSummary,
) -> Result<()> {
    let run_id = summary.run_id;
    // The rejects (and warnings or anomalies, when a source has warn or outlier rules) of
    // every run, for BI tools; outside the data transaction because the log transaction
    // writes them.
    let mut meta = vec!["rejects"];
    if graph.has_tests() {
        meta.push("test_failures");
    }
    if pipeline.sources.iter().any(|s| s.config.has_warnings()) {
        meta.push("warnings");
    }
    if pipeline
        .sources
        .iter()
        .any(|s| !s.config.anomalies.is_empty())
    {
        meta.push("anomalies");
    }
    // Whatever else the manifest lists is no longer produced: a deleted model, a
    // forecast taken out, tests removed.
    let keep: std::collections::BTreeSet<String> = graph
        .nodes
        .iter()
        .map(|n| n.name.clone())
        .chain(meta.iter().map(|m| m.to_string()))
        .collect();
    let gone = export::unpublish_others(&pipeline.parquet_dir, &keep)?;
    if !gone.is_empty() {
        let mut in_warehouse = Vec::new();
        for t in &gone {
            if wh.table_exists(t)? {
                in_warehouse.push(t.as_str());
            }
        }
        tracing::warn!(
            "no longer produced by the pipeline, taken out of the Parquet folder and its \
             manifest: {}{}",
            gone.join(", "),
            if in_warehouse.is_empty() {
                String::new()
            } else {
                format!(
                    "; the warehouse keeps {} (DROP TABLE to remove)",
                    in_warehouse.join(", ")
                )
            }
        );
    }
    let mut exports = Vec::new();
    for table in meta {
        let relation = qualified(META_SCHEMA, table);
        let spec = ExportSpec {
            table,
            relation: &relation,
            partition_by: &[],
            order_by: &[],
            description: None,
        };
        exports.push(export::stage(wh, &pipeline.parquet_dir, &spec, run_id)?);
    }
    let info = PublishInfo {
        pipeline: &pipeline.config.name,
        run_id,
        as_of: summary.as_of,
    };
    summary
        .files_written
        .extend(export::publish(&pipeline.parquet_dir, &exports, &info)?);
    summary
        .files_written
        .push(pipeline.parquet_dir.join(export::MANIFEST));
    Ok(())
}

/// The as-of date known before any data is read: the command line's, else the
/// pipeline's, else today; `None` for `latest`, which the loaded data decides.
pub fn fixed_as_of(pipeline_as_of: Option<AsOf>, opts: &RunOptions) -> Option<NaiveDate> {
    match opts.as_of.or(pipeline_as_of) {
        Some(AsOf::Date(d)) => Some(d),
        None => Some(opts.today),
        Some(AsOf::Latest) => None,
    }
}

/// Records a run that failed before its run log row was opened (its configuration or
/// model graph is wrong) as a failed run with the reason, when the warehouse file
/// exists: an invalid configuration creates nothing. Nothing is recorded, with a
/// warning, when another run holds the warehouse. Returns the recorded summary.
pub fn record_early_failure(
    database: &Path,
    pipeline: &str,
    as_of: Option<NaiveDate>,
    error: &Error,
    opts: &RunOptions,
) -> Option<RunSummary> {
    if !database.is_file() {
        return None;
    }
    let record = || -> Result<RunSummary> {
        let owner = format!("pipeline `{pipeline}` started {}", opts.started_at);
        let _lock = RunLock::acquire(database, &owner)?;
        let wh = Warehouse::open(database, &EngineSettings::default(), Path::new(""))?;
        let run_id = wh.start_run(pipeline, opts.started_at)?;
        let mut summary = RunSummary::opened(run_id, pipeline, as_of);
        summary.status = RunStatus::Failed.as_str().into();
        summary.reason = Some(error.to_string());
        let json = serde_json::to_string(&summary).unwrap_or_default();
        wh.finish_run(
            run_id,
            as_of,
            RunStatus::Failed,
            summary.reason.as_deref(),
            &json,
            opts.started_at,
        )?;
        Ok(summary)
    };
    match record() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("could not record the failed run in the run log: {e}");
            None
        }
    }
}

fn now_after(opts: &RunOptions, clock: Instant) -> NaiveDateTime {
    opts.started_at + chrono::Duration::milliseconds(clock.elapsed().as_millis() as i64)
}

/// The model graph and the `--select`ed part of it (all when `None`).
#[derive(Clone, Copy)]
struct Models<'a> {
    graph: &'a ModelGraph,
    selected: Option<&'a BTreeSet<String>>,
}

fn execute(
    wh: &Warehouse,
    pipeline: &Pipeline,
    nodes: Models<'_>,
    opts: &RunOptions,
    progress: &mut Progress,
    summary: &mut RunSummary,
    staged: &mut Vec<StagedExport>,
) -> Result<()> {
    wh.ensure_manifest()?;
    load::discard(wh)?;
    clean::prepare(wh)?;
    let mut plans: Vec<Option<LoadPlan>> = Vec::new();
    let mut moves: Vec<Vec<(String, PathBuf)>> = Vec::new();
    for (i, s) in pipeline.sources.iter().enumerate() {
        crate::interrupt::check()?;
        let SourcePlan {
            load: plan,
            moves: m,
        } = plan_source(wh, s, opts.full_refresh)?;
        moves.push(m);
        let mut sum = SourceSummary {
            name: s.config.name.clone(),
            ..SourceSummary::default()
        };
        let Some(plan) = plan else {
            sum.unchanged = true;
            progress.unchanged(i);
            clean::expose_keys(wh, &s.config, clean::KeySource::Table)?;
            summary.sources.push(sum);
            plans.push(None);
            continue;
        };
        let subset = ResolvedSource {
            config: s.config.clone(),
            files: plan.files.iter().map(|f| f.path.clone()).collect(),
        };
        progress.reading(i, subset.files.len());
        let mask = pipeline.config.privacy.mask_pii;
        let checker = clean::Checker::new(wh, &subset, mask)?;
        let ex = match extract::extract(wh, &subset, &checker) {
            Ok(ex) => ex,
            Err(e) => {
                // The run log names the source that stopped the run (with the columns,
                // when they did).
                sum.files = subset.files.len();
                if let Error::Columns { missing, extra, .. } = &e {
                    sum.missing_columns = missing.clone();
                    sum.extra_columns = extra.clone();
                }
                summary.sources.push(sum);
                return Err(e);
            }
        };
        progress.read(i, ex.rows);
        // Rows merged into or appended to the table are judged against its rows too.
        let merge = !plan.replace && s.config.load != LoadMode::Snapshot;
        let st = clean::clean(wh, &subset, summary.run_id, mask, merge)?;
        extract::release(wh, &s.config.name)?;
        let rejected = st.rejected;
        progress.cleaned(i, rejected, st.exact_duplicates + st.superseded);
        let limits = check_reject_limits(wh, &s.config, ex.rows, rejected);
        let keys = if plan.replace {
            clean::KeySource::Clean
        } else {
            clean::KeySource::Both
        };
        clean::expose_keys(wh, &s.config, keys)?;
        sum.files = ex.files;
        sum.rows_read = ex.rows;
        sum.extra_columns = ex.extra_columns;
        sum.rows_rejected = rejected;
        if s.config.has_warnings() {
            sum.rows_warned = clean::warned_rows(wh, &s.config.name)?;
        }
        sum.rows_anomalous = st.anomalous;
        sum.rows_exact_duplicate = st.exact_duplicates;
        sum.rows_superseded = st.superseded;
        sum.rows_deleted = load::deletion_markers(wh, &s.config)?;
        sum.rows_loaded = st.clean - sum.rows_deleted;
        if let Err(e) = limits {
            // Stopped by its reject limits: the run log still has what was read.
            summary.sources.push(sum);
            return Err(e);
        }
        let replaces = plan.replace || s.config.load == LoadMode::Snapshot;
        // Rows the load would throw away (`Some(0)`: the table is empty already, nothing
        // lost), or `None` for a first load, which would create an empty table.
        let emptied = if replaces && sum.rows_loaded == 0 && !s.config.allow_empty {
            if wh.table_exists(&s.config.name)? {
                Some(wh.count(&qualified("main", &s.config.name))?)
            } else {
                None
            }
        } else {
            Some(0)
        };
        let read = sum.rows_read;
        summary.sources.push(sum);
        if emptied.is_none() {
            // Nothing is lost on a first load: said, not stopped (a new source may well be
            // empty yet; `allow_empty: true` says so and silences this).
            tracing::warn!(
                "source `{}`: no rows to load ({} read); its table is created empty",
                s.config.name,
                read
            );
        } else if emptied != Some(0) {
            let files: Vec<String> = subset
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect();
            let why = if read == 0 {
                "its files hold no data rows".to_string()
            } else {
                format!("none of the {read} rows read is left to load ({rejected} rejected)")
            };
            return Err(Error::Run(format!(
                "source `{}`: {why} ({}), and loading would empty its table, which has {} \
                 rows. If the extract really is empty, set `allow_empty: true` on the source; \
                 the tables are unchanged",
                s.config.name,
                files.join(", "),
                emptied.unwrap_or_default()
            )));
        }
        plans.push(Some(plan));
    }
    // The new tables are staged before the data transaction, and the clean stage's temp
    // tables dropped, so the models and exports get their memory (see `load`).
    let mut staged_tables = Vec::with_capacity(plans.len());
    for (i, (s, plan)) in pipeline.sources.iter().zip(&plans).enumerate() {
        let Some(plan) = plan else {
            staged_tables.push(false);
            continue;
        };
        crate::interrupt::check()?;
        progress.loading(i);
        let staged_table = load::stage(wh, &s.config, plan.replace)?;
        if staged_table {
            clean::release(wh, &s.config.name)?;
        }
        staged_tables.push(staged_table);
    }
    wh.begin()?;
    for (i, ((((s, sum), plan), &staged_table), moved)) in pipeline
        .sources
        .iter()
        .zip(summary.sources.iter_mut())
        .zip(&plans)
        .zip(&staged_tables)
        .zip(&moves)
        .enumerate()
    {
        wh.relocate_manifest(&s.config.name, moved)?;
        let Some(plan) = plan else { continue };
        if !staged_table {
            // An append: the rows are copied now (a staged table is only renamed).
            progress.loading(i);
        }
        load::load(wh, &s.config, staged_table)?;
        if !staged_table {
            clean::release(wh, &s.config.name)?;
        }
        progress.loaded(i, sum.rows_loaded);
        let forget = plan.replace || s.config.load == LoadMode::Snapshot;
        let mut entries = plan.files.clone();
        entries.push(plan.declaration.clone());
        wh.record_manifest(&s.config.name, &entries, summary.run_id, forget)?;
    }
    let as_of = resolve_as_of(wh, pipeline, opts)?;
    summary.as_of = Some(as_of);
    warn_as_of_outside_data(wh, pipeline, as_of)?;
    let mut vars = pipeline.config.vars.clone();
    vars.extend(opts.vars.clone());
    let tvars = TemplateVars {
        as_of,
        vars: vars.clone(),
        fiscal_year_start_month: pipeline.config.fiscal_year_start_month,
    };
    let Models { graph, selected } = nodes;
    let chosen = |name: &str| selected.is_none_or(|s| s.contains(name));
    let n = graph.nodes.iter().filter(|m| chosen(&m.name)).count();
    progress.stage(&format!("building {n} models"));
    summary.models = models::build(wh, graph, &tvars, selected, &mut summary.tests)?;
    let pii = pii_names(pipeline, graph);
    for m in graph.nodes.iter().filter(|m| chosen(&m.name)) {
        crate::interrupt::check()?;
        progress.stage(&format!("exporting {}", m.name));
        let table = qualified("main", &m.name);
        let (rel, order_by) = match pii.get(&m.name) {
            Some(names) if !names.is_empty() => masked_relation(wh, &m.name, names, &m.order_by)?,
            _ => (table, m.order_by.clone()),
        };
        let spec = ExportSpec {
            table: &m.name,
            relation: &rel,
            partition_by: &m.partition_by,
            order_by: &order_by,
            description: m.description.as_deref(),
        };
        staged.push(export::stage(
            wh,
            &pipeline.parquet_dir,
            &spec,
            summary.run_id,
        )?);
    }
    let mut rendered = Vec::new();
    for r in &pipeline.reports {
        crate::interrupt::check()?;
        progress.stage(&format!("rendering {}", r.config.name));
        rendered.extend(report::render(wh, r, as_of, &vars, &pipeline.reports_dir)?);
    }
    // Everything that can fail for want of permission or space is written before the
    // commit (the Parquet links and manifest, the reports, under temporary names), so a
    // failure rolls the run back with nothing changed; after it, only renames.
    progress.stage("publishing outputs");
    let prepared = export::prepare(
        &pipeline.parquet_dir,
        staged,
        &PublishInfo {
            pipeline: &pipeline.config.name,
            run_id: summary.run_id,
            as_of: Some(as_of),
        },
    )?;
    let mut reports: Vec<(PathBuf, PathBuf)> = Vec::new();
    let written = rendered.iter().try_for_each(|r| {
        let tmp = write_temp(&r.path, &r.text)?;
        reports.push((tmp, r.path.clone()));
        Ok(())
    });
    // The last moment Ctrl-C can stop the run: DuckDB does not interrupt a commit, so
    // from here a press is told the data is settling, not that it is rolled back.
    let written = written.and_then(|()| crate::interrupt::check());
    if written.is_ok() {
        crate::interrupt::finishing();
    }
    if let Err(e) = written.and_then(|()| wh.commit()) {
        prepared.discard();
        for (tmp, _) in &reports {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    // Committed: the staged versions are now the truth and must not be discarded. A
    // rename failing now cannot undo the run: it is said, not made a failure.
    let _committed = std::mem::take(staged);
    match prepared.finish() {
        Ok(files) => summary.files_written.extend(files),
        Err(e) => tracing::warn!("the run is committed, but publishing its Parquet failed: {e}"),
    }
    for (tmp, path) in reports {
        match std::fs::rename(&tmp, &path) {
            Ok(()) => summary.files_written.push(path),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(
                    "the run is committed, but its report {} could not be put in place: {e}",
                    path.display()
                )
            }
        }
    }
    Ok(())
}

/// With `privacy.mask_pii`, the PII column names of each model: those of the sources
/// and models it refs (PII columns keep their names through `SELECT *` and joins) plus
/// its `-- pii:` header. Empty without masking.
fn pii_names(
    pipeline: &Pipeline,
    graph: &ModelGraph,
) -> BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut out: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    if !pipeline.config.privacy.mask_pii {
        return out;
    }
    for s in &pipeline.sources {
        let names = s.config.pii_columns().map(|c| c.name.clone()).collect();
        out.insert(s.config.name.clone(), names);
    }
    // Nodes are in build order: a model's deps are already known.
    for m in &graph.nodes {
        let mut names: std::collections::BTreeSet<String> = m.pii.iter().cloned().collect();
        for d in &m.deps {
            if let Some(n) = out.get(d) {
                names.extend(n.iter().cloned());
            }
        }
        out.insert(m.name.clone(), names);
    }
    out
}

/// A failing row kept as JSON (`{"column": value, ...}`) with the values of the columns
/// named in `pii` replaced by `***` (NULLs stay NULL); text that is not a JSON object is
/// kept as it is.
fn mask_json_row(row: &str, pii: &std::collections::BTreeSet<String>) -> String {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str::<serde_json::Value>(row)
    else {
        return row.to_string();
    };
    for (k, v) in map.iter_mut() {
        if pii.contains(k) && !v.is_null() {
            *v = serde_json::Value::String("***".into());
        }
    }
    serde_json::Value::Object(map).to_string()
}

/// The model `name` with its columns named in `pii` masked as `***`, and the order of
/// its export: sorting by a masked column would leave ties in any order, so a model
/// ordered by one is sorted by every (masked) column instead.
fn masked_relation(
    wh: &Warehouse,
    name: &str,
    pii: &std::collections::BTreeSet<String>,
    order_by: &[String],
) -> Result<(String, Vec<String>)> {
    let columns = wh.table_columns(name)?;
    let hidden: Vec<&String> = columns.iter().filter(|c| pii.contains(*c)).collect();
    let table = qualified("main", name);
    if hidden.is_empty() {
        return Ok((table, order_by.to_vec()));
    }
    let replace: Vec<String> = hidden
        .iter()
        .map(|c| format!("{} AS {}", clean::masked(&ident(c)), ident(c)))
        .collect();
    let order = if order_by.iter().any(|o| pii.contains(o)) {
        Vec::new()
    } else {
        order_by.to_vec()
    };
    Ok((
        format!("(SELECT * REPLACE ({}) FROM {table})", replace.join(", ")),
        order,
    ))
}

/// Stops the run when a source rejects more rows than its limits allow, naming the rate
/// and the most frequent rules.
fn check_reject_limits(
    wh: &Warehouse,
    cfg: &crate::config::SourceConfig,
    read: i64,
    rejected: i64,
) -> Result<()> {
    let rate = if read > 0 {
        rejected as f64 / read as f64
    } else {
        0.0
    };
    let over_rate = cfg.max_reject_rate.is_some_and(|max| rate > max);
    let over_count = cfg.max_rejects.is_some_and(|max| rejected as u64 > max);
    if !over_rate && !over_count {
        return Ok(());
    }
    let mut stmt = wh
        .conn
        .prepare(
            "SELECT coalesce(column_name || ': ', '') || rule, count(*) AS n FROM _rejects
             WHERE source = ? GROUP BY ALL ORDER BY n DESC, 1 LIMIT 3",
        )
        .ctx(|| "summarising rejects".into())?;
    let top: Vec<String> = stmt
        .query_map([&cfg.name], |r| {
            Ok(format!(
                "{} ({})",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?
            ))
        })
        .ctx(|| "summarising rejects".into())?
        .collect::<std::result::Result<_, _>>()
        .ctx(|| "summarising rejects".into())?;
    let limit = match (cfg.max_reject_rate, cfg.max_rejects) {
        (Some(r), Some(n)) => format!("max_reject_rate {:.2} %, max_rejects {n}", r * 100.0),
        (Some(r), None) => format!("max_reject_rate {:.2} %", r * 100.0),
        (None, Some(n)) => format!("max_rejects {n}"),
        (None, None) => String::new(),
    };
    Err(Error::Run(format!(
        "source `{}`: {rejected} of {read} rows rejected ({:.2} %), over {limit}; top rules: {}",
        cfg.name,
        rate * 100.0,
        top.join(", ")
    )))
}

/// The files a source reads this run and whether its table is rebuilt from them.
/// What to do with a source: the files to load (`None`: nothing to read), and the
/// manifest entries found under a moved folder, `(old path, new path)`, renamed in the
/// data transaction whatever is loaded.
struct SourcePlan {
    load: Option<LoadPlan>,
    moves: Vec<(String, PathBuf)>,
}

struct LoadPlan {
    files: Vec<Fingerprint>,
    replace: bool,
    /// The manifest entry of the source's declaration, recorded with the files.
    declaration: Fingerprint,
}

/// Compares the source's files with the manifest. `None`: nothing to read, the table
/// stays as it is (unchanged snapshot, or no new file for incremental/append).
fn plan_source(wh: &Warehouse, s: &ResolvedSource, full_refresh: bool) -> Result<SourcePlan> {
    let files: Vec<Fingerprint> = s
        .files
        .iter()
        .map(|f| fingerprint(f))
        .collect::<Result<_>>()?;
    let declaration = config_fingerprint(&s.config);
    let arrivals = wh.arrivals(&s.config.name)?;
    let reload = |files: Vec<Fingerprint>| {
        Some(LoadPlan {
            files: in_load_order(files, &arrivals, s.config.load),
            replace: true,
            declaration: declaration.clone(),
        })
    };
    if full_refresh || !wh.table_exists(&s.config.name)? {
        return Ok(SourcePlan {
            load: reload(files),
            moves: Vec::new(),
        });
    }
    let previous: BTreeMap<String, String> = arrivals
        .iter()
        .map(|(path, (hash, _))| (path.clone(), hash.clone()))
        .collect();
    // A changed declaration (columns, rules, ...) reads the whole source again: the rows
    // loaded were cleaned under the old one. Warehouses from before the declaration was
    // recorded are compared by their columns.
    let declared: Vec<&str> = s.config.columns.iter().map(|c| c.name.as_str()).collect();
    let changed_declaration = match previous.get(CONFIG_ENTRY) {
        Some(hash) => hash != &declaration.hash,
        None => wh.table_columns(&s.config.name)? != declared,
    };
    if changed_declaration {
        // An incremental or append table holds the rows of every file loaded, and the
        // files present may be fewer (daily deltas rotated away): reading them again
        // would drop the others without a word.
        if s.config.load != LoadMode::Snapshot {
            let missing = rotated_away(&previous, &files);
            if !missing.is_empty() {
                return Err(Error::Run(format!(
                    "`{}`: its declaration changed, and reading it again from the files \
                     present would drop the rows of {} loaded file(s) no longer there ({}); \
                     restore them, or run with `--full-refresh` to keep only what the \
                     present files hold",
                    s.config.name,
                    missing.len(),
                    missing.join(", ")
                )));
            }
        }
        tracing::info!(
            "`{}`: its declaration changed since the last load; reading it again in full",
            s.config.name
        );
        return Ok(SourcePlan {
            load: reload(files),
            moves: Vec::new(),
        });
    }
    let loaded_files = previous.keys().filter(|k| *k != CONFIG_ENTRY).count();
    // A file is known by its path or, when none of the loaded files is where it was
    // (the project moved: another checkout, a renamed folder), by its file name among
    // them: without this an `append` source would append every file again.
    let gone = previous
        .keys()
        .filter(|p| *p != CONFIG_ENTRY)
        .all(|p| !Path::new(p).exists());
    // New path -> (old path, old hash).
    let mut relocated: BTreeMap<&str, (&str, &String)> = if gone {
        files
            .iter()
            .filter(|f| !previous.contains_key(f.path.to_string_lossy().as_ref()))
            .filter_map(|f| {
                let name = f.path.file_name()?;
                let mut same = previous
                    .iter()
                    .filter(|(p, _)| Path::new(p.as_str()).file_name() == Some(name));
                match (same.next(), same.next()) {
                    (Some((old, hash)), None) => Some((f.path.to_str()?, (old.as_str(), hash))),
                    _ => None,
                }
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    // A file renamed (a log shipper's rotation): a new path with the very content of a
    // loaded file that is no longer at its path is that file, not a new one.
    let present: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    for f in &files {
        let Some(new) = f.path.to_str() else { continue };
        if previous.contains_key(new) || relocated.contains_key(new) {
            continue;
        }
        let taken: BTreeSet<&str> = relocated.values().map(|(old, _)| *old).collect();
        let mut same = previous.iter().filter(|(p, h)| {
            *p != CONFIG_ENTRY
                && **h == f.hash
                && !present.contains(Path::new(p.as_str()))
                && !taken.contains(p.as_str())
        });
        if let (Some((old, hash)), None) = (same.next(), same.next()) {
            tracing::info!(
                "`{}`: {new} holds exactly the loaded file {old}: taken as renamed",
                s.config.name
            );
            relocated.insert(new, (old.as_str(), hash));
        }
    }
    if !relocated.is_empty() {
        tracing::info!(
            "`{}`: {} loaded file(s) found under a new path (a moved folder or a renamed file)",
            s.config.name,
            relocated.len()
        );
    }
    let known = |f: &Fingerprint| -> Option<&String> {
        let path = f.path.to_string_lossy();
        previous
            .get(path.as_ref())
            .or_else(|| relocated.get(path.as_ref()).map(|(_, h)| *h))
    };
    let changed: Vec<Fingerprint> = files
        .iter()
        .filter(|f| known(f) != Some(&f.hash))
        .cloned()
        .collect();
    let moves: Vec<(String, PathBuf)> = relocated
        .iter()
        .map(|(new, (old, _))| (old.to_string(), PathBuf::from(new)))
        .collect();
    let load = match s.config.load {
        LoadMode::Snapshot if changed.is_empty() && loaded_files == files.len() => None,
        LoadMode::Snapshot => reload(files),
        LoadMode::Incremental | LoadMode::Append if changed.is_empty() => None,
        // An appended file that changed (a log that grew) would append its old rows
        // twice: the source is rebuilt from all its files instead.
        LoadMode::Append if changed.iter().any(|f| known(f).is_some()) => {
            // The rebuild reads the files present: rows appended from files that have
            // since gone (rotated away) would vanish without a word, so it stops instead.
            let present: BTreeSet<String> = files
                .iter()
                .map(|f| f.path.to_string_lossy().into_owned())
                .collect();
            let moved_from: BTreeSet<&str> = relocated.values().map(|(old, _)| *old).collect();
            let missing: Vec<&str> = previous
                .keys()
                .map(String::as_str)
                .filter(|p| *p != CONFIG_ENTRY && !present.contains(*p) && !moved_from.contains(p))
                .collect();
            if !missing.is_empty() {
                return Err(Error::Run(format!(
                    "`{}`: a file already appended has changed, and rebuilding the table from \
                     the files present would drop the rows of {} file(s) no longer there \
                     ({}); restore them, or run with `--full-refresh` to keep only what the \
                     present files hold",
                    s.config.name,
                    missing.len(),
                    missing.join(", ")
                )));
            }
            tracing::info!(
                "`{}`: a file already appended has changed; rebuilding the source from all its files",
                s.config.name
            );
            reload(files)
        }
        LoadMode::Incremental | LoadMode::Append => Some(LoadPlan {
            files: changed,
            replace: false,
            declaration,
        }),
    };
    Ok(SourcePlan { load, moves })
}

/// The files of a rebuild in the order their rows compete ("the newer file" wins a tie
/// of the dedupe): for an incremental or append source, the order they arrived in over
/// the runs (a file already loaded with this content, at its path or another, keeps its
/// run; a new or changed one comes last), then by path, as the incremental runs applied
/// them; for a snapshot
/// (the files present are the whole truth), by path.
fn in_load_order(
    mut files: Vec<Fingerprint>,
    arrivals: &BTreeMap<String, (String, i64)>,
    load: LoadMode,
) -> Vec<Fingerprint> {
    if load != LoadMode::Snapshot {
        let index = ArrivalIndex::new(arrivals);
        files.sort_by_cached_key(|f| (index.of(f).unwrap_or(i64::MAX), f.path.clone()));
    }
    files
}

/// The loaded files of `previous` (the manifest, path -> content hash) that none of
/// `files` is: not at their path, nor holding their exact content under another path (a
/// renamed file), nor, when no loaded file is where it was (a moved project), under
/// their file name.
fn rotated_away(previous: &BTreeMap<String, String>, files: &[Fingerprint]) -> Vec<String> {
    let paths: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let names: BTreeSet<&std::ffi::OsStr> =
        files.iter().filter_map(|f| f.path.file_name()).collect();
    let loaded: Vec<(&String, &String)> = previous
        .iter()
        .filter(|(p, _)| *p != CONFIG_ENTRY)
        .collect();
    let gone = loaded
        .iter()
        .all(|(p, _)| !paths.contains(Path::new(p.as_str())));
    // Hashes of the files at a path no loaded file had.
    let new_hashes: BTreeSet<&str> = files
        .iter()
        .filter(|f| !f.path.to_str().is_some_and(|p| previous.contains_key(p)))
        .map(|f| f.hash.as_str())
        .collect();
    loaded
        .into_iter()
        .filter(|(p, hash)| {
            let p = Path::new(p.as_str());
            let here = paths.contains(p)
                || new_hashes.contains(hash.as_str())
                || (gone && p.file_name().is_some_and(|n| names.contains(n)));
            !here
        })
        .map(|(p, _)| p.clone())
        .collect()
}

/// Command line, then the pipeline's `as_of`, then `today`; `latest` reads the maximum
/// of `latest_from` in the freshly loaded data.
fn resolve_as_of(wh: &Warehouse, pipeline: &Pipeline, opts: &RunOptions) -> Result<NaiveDate> {
    match fixed_as_of(pipeline.config.as_of, opts) {
        Some(d) => Ok(d),
        None => {
            let target = pipeline.config.latest_from.as_deref().unwrap_or_default();
            let (src, col) = target.split_once('.').ok_or_else(|| {
                Error::Usage(
                    "`--as-of latest` needs `latest_from: source.column` in the pipeline".into(),
                )
            })?;
            let sql = format!("SELECT max({}) FROM {}", ident(col), qualified("main", src));
            let d: Option<NaiveDate> = wh
                .conn
                .query_row(&sql, [], |r| r.get(0))
                .ctx(|| format!("finding the latest {target}"))?;
            d.ok_or_else(|| Error::Run(format!("`as_of: latest`: `{target}` has no values")))
        }
    }
}

/// Days without data before the as-of date from which a run warns of a stale extract.
const STALE_DAYS: i64 = 7;

/// Warns when the as-of date is not at the end of the data `latest_from` names: before
/// its first date (the period's reports will be empty), before its newest one (the KPI
/// tables list the later periods too) or a week or more after it (a stale extract?).
fn warn_as_of_outside_data(wh: &Warehouse, pipeline: &Pipeline, as_of: NaiveDate) -> Result<()> {
    let Some((src, col)) = pipeline
        .config
        .latest_from
        .as_deref()
        .and_then(|t| t.split_once('.'))
    else {
        return Ok(());
    };
    if !wh.table_exists(src)? {
        return Ok(());
    }
    let sql = format!(
        "SELECT CAST(min({c}) AS DATE), CAST(max({c}) AS DATE) FROM {t}",
        c = ident(col),
        t = qualified("main", src)
    );
    let (first, last): (Option<NaiveDate>, Option<NaiveDate>) = wh
        .conn
        .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .ctx(|| format!("finding the dates of {src}.{col}"))?;
    match (first, last) {
        (Some(first), _) if as_of < first => tracing::warn!(
            "as-of {as_of} is before the first {src}.{col} ({first}): there is nothing to \
             report for its period"
        ),
        (_, Some(last)) if as_of < last => tracing::warn!(
            "as-of {as_of} is before the newest {src}.{col} ({last}): the KPI tables list \
             the later periods too; target attainment and the forecasts count nothing after \
             the as-of date"
        ),
        // A week without data before the as-of date: more likely a stale extract than a
        // week without business, and its days count as no sales everywhere.
        (_, Some(last)) if (as_of - last).num_days() >= STALE_DAYS => tracing::warn!(
            "as-of {as_of} is {} days after the newest {src}.{col} ({last}): those days \
             count as no sales (forecasts fill them with zeros, attainment closes periods at \
             0); is an extract stale?",
            (as_of - last).num_days()
        ),
        _ => {}
    }
    Ok(())
}

fn stage_run_stats(wh: &Warehouse, summary: &RunSummary) -> Result<()> {
    wh.exec(
        "CREATE OR REPLACE TEMP TABLE _run_sources (run_id BIGINT, source VARCHAR, files BIGINT,
             rows_read BIGINT, rows_rejected BIGINT, rows_exact_duplicate BIGINT,
             rows_superseded BIGINT, rows_loaded BIGINT, rows_anomalous BIGINT,
             extra_columns VARCHAR[], missing_columns VARCHAR[], rows_warned BIGINT,
             rows_deleted BIGINT);
         CREATE OR REPLACE TEMP TABLE _run_models (run_id BIGINT, model VARCHAR,
             materialized VARCHAR, rows_built BIGINT);
         CREATE OR REPLACE TEMP TABLE _run_tests (run_id BIGINT, model VARCHAR, test VARCHAR,
             severity VARCHAR, status VARCHAR, failing_rows BIGINT);
         CREATE OR REPLACE TEMP TABLE _test_failures (run_id BIGINT, model VARCHAR,
             test VARCHAR, severity VARCHAR, failing_rows BIGINT, row_json VARCHAR);",
    )?;
    for s in &summary.sources {
        wh.conn
            .execute(
                "INSERT INTO _run_sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,
                     from_json(?, '[\"VARCHAR\"]'), from_json(?, '[\"VARCHAR\"]'), ?, ?)",
                duckdb::params![
                    summary.run_id,
                    s.name,
                    s.files as i64,
                    s.rows_read,
                    s.rows_rejected,
                    s.rows_exact_duplicate,
                    s.rows_superseded,
                    s.rows_loaded,
                    s.rows_anomalous,
                    serde_json::to_string(&s.extra_columns).unwrap_or_default(),
                    serde_json::to_string(&s.missing_columns).unwrap_or_default(),
                    s.rows_warned,
                    s.rows_deleted
                ],
            )
            .ctx(|| "recording source counts".into())?;
    }
    for m in &summary.models {
        let kind = match m.materialized {
            models::Materialized::Table => "table",
            models::Materialized::View => "view",
        };
        wh.conn
            .execute(
                "INSERT INTO _run_models VALUES (?, ?, ?, ?)",
                duckdb::params![summary.run_id, m.name, kind, m.rows],
            )
            .ctx(|| "recording model counts".into())?;
    }
    for t in &summary.tests {
        wh.conn
            .execute(
                "INSERT INTO _run_tests VALUES (?, ?, ?, ?, ?, ?)",
                duckdb::params![
                    summary.run_id,
                    t.model,
                    t.test,
                    t.severity.as_str(),
                    t.status(),
                    t.failing
                ],
            )
            .ctx(|| "recording data tests".into())?;
        for row in &t.rows {
            wh.conn
                .execute(
                    "INSERT INTO _test_failures VALUES (?, ?, ?, ?, ?, ?)",
                    duckdb::params![
                        summary.run_id,
                        t.model,
                        t.test,
                        t.severity.as_str(),
                        t.failing,
                        row
                    ],
                )
                .ctx(|| "recording data test failures".into())?;
        }
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file and a rename.
/// Writes `text` beside `path` under a temporary name (its folder created), returned:
/// renamed over `path` once the run is committed.
fn write_temp(path: &Path, text: &str) -> Result<PathBuf> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    // What would stop the rename after the commit, found before it.
    if path.is_dir() {
        return Err(Error::Run(format!(
            "{}: a folder is where the report goes; move it away",
            path.display()
        )));
    }
    // `x.md.tmp`, not `x.tmp`: a report's Markdown and HTML share their stem.
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    if let Err(e) = std::fs::write(&tmp, text) {
        // A partly written file (a full disk) is not left behind.
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    Ok(tmp)
}

/// The end-of-run summary as a text table.
pub fn render_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    let as_of = s.as_of.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    out.push_str(&format!(
        "run {} of `{}` (as of {as_of}): {}\n",
        s.run_id, s.pipeline, s.status
    ));
    out.push_str(&format!(
        "  {:<20} {:>6} {:>11} {:>10} {:>8} {:>9} {:>10} {:>11} {:>8} {:>11}\n",
        "source",
        "files",
        "read",
        "rejected",
        "warned",
        "anomalies",
        "exact dup",
        "superseded",
        "deleted",
        "loaded"
    ));
    for x in &s.sources {
        if x.unchanged {
            out.push_str(&format!("  {:<20} unchanged since the last load\n", x.name));
            continue;
        }
        out.push_str(&format!(
            "  {:<20} {:>6} {:>11} {:>10} {:>8} {:>9} {:>10} {:>11} {:>8} {:>11}\n",
            x.name,
            x.files,
            util::format_count(x.rows_read),
            util::format_count(x.rows_rejected),
            util::format_count(x.rows_warned),
            util::format_count(x.rows_anomalous),
            util::format_count(x.rows_exact_duplicate),
            util::format_count(x.rows_superseded),
            util::format_count(x.rows_deleted),
            util::format_count(x.rows_loaded)
        ));
    }
    for x in s.sources.iter().filter(|x| !x.extra_columns.is_empty()) {
        let names: Vec<String> = x.extra_columns.iter().map(|c| format!("`{c}`")).collect();
        out.push_str(&format!(
            "  {}: {} extra column{} not loaded: {}\n",
            x.name,
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    let rows: i64 = s.models.iter().map(|m| m.rows).sum();
    out.push_str(&format!(
        "  models built: {} ({} rows){}\n",
        s.models.len(),
        util::format_count(rows),
        if s.selected.is_some() {
            " (selected with --select; the others are unchanged)"
        } else {
            ""
        }
    ));
    if !s.tests.is_empty() {
        let count = |st: &str| s.tests.iter().filter(|t| t.status() == st).count();
        out.push_str(&format!(
            "  data tests: {} passed, {} warned, {} failed\n",
            count("pass"),
            count("warn"),
            count("fail")
        ));
        for t in s.tests.iter().filter(|t| t.failing > 0) {
            out.push_str(&format!(
                "    {:<5} {}: {} ({} failing row{})\n",
                t.severity.as_str(),
                t.model,
                t.test,
                util::format_count(t.failing),
                if t.failing == 1 { "" } else { "s" }
            ));
        }
    }
    out.push_str("  files written:\n");
    for f in &s.files_written {
        out.push_str(&format!("    {}\n", f.display()));
    }
    out.push_str(&format!("  elapsed: {:.2} s\n", s.elapsed_seconds));
    out
}

#[cfg(test)]
mod tests {
    use super::mask_json_row;

    #[test]
    fn a_failing_rows_personal_data_is_masked() {
        let pii = ["contact".to_string()].into_iter().collect();
        assert_eq!(
            mask_json_row(r#"{"id":3,"contact":"Eve Green","amount":45.5}"#, &pii),
            r#"{"amount":45.5,"contact":"***","id":3}"#
        );
        assert_eq!(
            mask_json_row(r#"{"contact":null}"#, &pii),
            r#"{"contact":null}"#
        );
        assert_eq!(mask_json_row("not json", &pii), "not json");
    }
}
