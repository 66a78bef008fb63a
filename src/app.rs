//! The application layer: turns parsed command-line options into calls to the library
//! and prints results. `main` maps the returned error to an exit code.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};

use crate::cli::{Cli, Command};
use crate::config::{self, AsOf, Pipeline};
use crate::error::{ConfigError, Error, Result};
use crate::models::plan::{PlanOptions, PlanStatus};
use crate::models::{self, ModelGraph};
use crate::run::{self, RunOptions};

/// Runs the command described by `cli`.
pub fn run(cli: Cli) -> Result<()> {
    init_logging(cli.verbose);
    match cli.command {
        Command::Run {
            pipeline,
            as_of,
            quiet,
            summary_json,
            vars,
            full_refresh,
            select,
            dry_run,
        } => {
            // A summary that could not be written at the end would turn a run that landed
            // into a failure for the scheduler: its folder is checked before anything runs.
            if let Some(path) = &summary_json {
                check_summary_path(path)?;
            }
            // A usage error still replaces the summary a scheduler reads.
            let usage = as_of
                .map(|s| s.parse::<AsOf>().map_err(Error::Usage))
                .transpose()
                .and_then(|a| Ok((a, parse_vars(&vars)?)));
            let (as_of, vars) = match usage {
                Ok(v) => v,
                Err(error) => {
                    let outcome: std::result::Result<run::RunSummary, _> =
                        Err(Box::new(run::Failed {
                            error,
                            summary: None,
                        }));
                    if let Some(path) = &summary_json {
                        keep_error(write_summary(path, &outcome));
                    }
                    return outcome.map(|_| ()).map_err(|f| f.error);
                }
            };
            let loaded = config::load(&pipeline);
            let now = chrono::Local::now().naive_local();
            if dry_run {
                return plan(&loaded?, as_of, now.date(), vars, &select, false);
            }
            let opts = RunOptions {
                as_of,
                today: now.date(),
                started_at: now,
                quiet,
                vars,
                full_refresh,
                select,
            };
            let outcome = match loaded {
                Ok(p) => run::run(&p, &opts),
                // A configuration that parses names its warehouse: the failure is
                // recorded there when it exists.
                Err(e) => {
                    let error = Error::from(e);
                    let summary =
                        config::locate_warehouse(&pipeline).and_then(|(name, db, file_as_of)| {
                            let as_of = run::fixed_as_of(file_as_of, &opts);
                            run::record_early_failure(&db, &name, as_of, &error, &opts)
                        });
                    Err(Box::new(run::Failed { error, summary }))
                }
            };
            if let Some(path) = summary_json {
                let written = write_summary(&path, &outcome);
                if outcome.is_ok() {
                    written?;
                } else {
                    keep_error(written);
                }
            }
            match outcome {
                Ok(summary) => {
                    if !quiet {
                        print!("{}", run::render_summary(&summary));
                    }
                    Ok(())
                }
                Err(failed) => Err(failed.error),
            }
        }
        Command::Models { pipeline, json } => {
            let p = config::load(&pipeline)?;
            let graph = discover(&p)?;
            let text = if json {
                models_json(&graph)?
            } else {
                models_text(&graph)
            };
            print!("{text}");
            Ok(())
        }
        Command::Plan {
            pipeline,
            as_of,
            vars,
            select,
            json,
        } => {
            let as_of = as_of
                .map(|s| s.parse::<AsOf>().map_err(Error::Usage))
                .transpose()?;
            let vars = parse_vars(&vars)?;
            let pipeline = config::load(&pipeline)?;
            let today = chrono::Local::now().date_naive();
            plan(&pipeline, as_of, today, vars, &select, json)
        }
        Command::Validate { pipeline } => {
            let p = config::load(&pipeline)?;
            let graph = discover(&p)?;
            let as_of = match p.config.as_of {
                Some(AsOf::Date(d)) => d,
                _ => chrono::Local::now().date_naive(),
            };
            // Model syntax and template filters, reported together.
            let mut diagnostics = models::plan::syntax_errors(&p, &graph, as_of);
            match crate::report::check_all_templates(&p.reports) {
                Ok(()) => {}
                Err(Error::Config(e)) => diagnostics.extend(e.diagnostics),
                Err(e) => return Err(e),
            }
            // The top of each CSV file: what `run` would stop on before reading a row.
            for s in &p.sources {
                for (file, message) in crate::extract::header_problems(s) {
                    diagnostics.push(crate::error::Diagnostic {
                        file,
                        line: 0,
                        column: 0,
                        code: "E070",
                        message,
                    });
                }
            }
            if !diagnostics.is_empty() {
                return Err(Error::Config(ConfigError { diagnostics }));
            }
            let files: usize = p.sources.iter().map(|s| s.files.len()).sum();
            println!(
                "{}: ok ({} sources, {} files, {} models, {} reports)",
                pipeline.display(),
                p.sources.len(),
                files,
                graph.nodes.len(),
                p.reports.len()
            );
            Ok(())
        }
        Command::Sample { out, seed, scale } => {
            let summary =
                crate::sample::write_sample(&out, &crate::sample::SampleOptions { seed, scale })
                    .map_err(|e| Error::io(&out, e))?;
            let mut stdout = std::io::stdout().lock();
            for (file, rows) in &summary.files {
                let _ = writeln!(stdout, "{:>9} rows  {}", rows, out.join(file).display());
            }
            Ok(())
        }
    }
}

fn source_names(p: &Pipeline) -> Vec<String> {
    p.sources.iter().map(|s| s.config.name.clone()).collect()
}

fn discover(p: &Pipeline) -> Result<ModelGraph> {
    Ok(crate::forecast::node::discover(p)?)
}

/// `plan` and `run --dry-run`.
fn plan(
    pipeline: &Pipeline,
    as_of: Option<AsOf>,
    today: chrono::NaiveDate,
    vars: BTreeMap<String, String>,
    select: &[String],
    json: bool,
) -> Result<()> {
    let graph = discover(pipeline)?;
    models::warn_unused_vars(pipeline, &graph, &vars);
    let selected = if select.is_empty() {
        None
    } else {
        Some(models::select::resolve(
            &graph,
            &source_names(pipeline),
            select,
        )?)
    };
    let opts = PlanOptions {
        as_of,
        today,
        vars,
        selected,
    };
    let mut report = models::plan::plan(pipeline, &graph, &opts)?;
    // The report templates too: what `run` checks before it reads anything.
    match crate::report::check_all_templates(&pipeline.reports) {
        Ok(()) => {}
        Err(Error::Config(ConfigError { diagnostics })) => report.errors.extend(diagnostics),
        Err(e) => return Err(e),
    }
    let mut out = std::io::stdout().lock();
    if json {
        let mut value = serde_json::to_value(&report).map_err(|e| Error::Run(e.to_string()))?;
        value["errors"] = report
            .errors
            .iter()
            .map(|d| serde_json::Value::String(d.to_string()))
            .collect();
        let _ = writeln!(out, "{value:#}");
    } else {
        let _ = writeln!(
            out,
            "plan of `{}` as of {}, against {}",
            pipeline.config.name,
            report.as_of,
            if report.against_warehouse {
                models::shown(&pipeline.database).display().to_string()
            } else {
                "the declared source columns".to_string()
            }
        );
        for n in &report.nodes {
            let status = match n.status {
                PlanStatus::Ok => "ok",
                PlanStatus::Existing => "kept",
                PlanStatus::Failed => "FAILED",
                PlanStatus::Skipped => "skipped",
                PlanStatus::NotBuilt => "not built",
            };
            let detail = match n.status {
                PlanStatus::Ok => format!(
                    "{} columns, {} data test{}",
                    n.columns.len(),
                    n.tests,
                    if n.tests == 1 { "" } else { "s" }
                ),
                PlanStatus::Existing => format!("not selected: {} columns", n.columns.len()),
                PlanStatus::Failed => "see below".into(),
                PlanStatus::Skipped => "reads a model that failed".into(),
                PlanStatus::NotBuilt => "not selected, not in the warehouse".into(),
            };
            let _ = writeln!(
                out,
                "  {status:<8} {:<32} {:<4} {:<5} {detail}",
                n.name,
                n.kind,
                n.materialized.as_str()
            );
        }
        for w in &report.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
    }
    if report.errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(ConfigError {
            diagnostics: report.errors,
        }))
    }
}

/// The graph as text, one block per node in build order.
fn models_text(graph: &ModelGraph) -> String {
    let mut out = String::new();
    let width = graph.nodes.len().to_string().len();
    for (i, n) in graph.nodes.iter().enumerate() {
        let pad = " ".repeat(width + 2);
        out.push_str(&format!(
            "{:>width$}. {} ({}, {})  {}\n",
            i + 1,
            n.name,
            n.kind_name(),
            n.materialized.as_str(),
            models::shown(&n.path).display()
        ));
        let deps: Vec<&str> = n.deps.iter().map(String::as_str).collect();
        out.push_str(&format!(
            "{pad}deps: {}\n",
            if deps.is_empty() {
                "-".to_string()
            } else {
                deps.join(", ")
            }
        ));
        if !n.partition_by.is_empty() || !n.order_by.is_empty() {
            out.push_str(&format!(
                "{pad}export: partition_by {}; order_by {}\n",
                list_or_dash(&n.partition_by),
                list_or_dash(&n.order_by)
            ));
        }
        if !n.tests.is_empty() {
            let tests: Vec<String> = n
                .tests
                .iter()
                .map(|t| format!("{} [{}]", t.name, t.severity.as_str()))
                .collect();
            out.push_str(&format!("{pad}tests: {}\n", tests.join(", ")));
        }
        if let Some(d) = &n.description {
            out.push_str(&format!("{pad}{d}\n"));
        }
    }
    out
}

fn list_or_dash(v: &[String]) -> String {
    if v.is_empty() {
        "-".into()
    } else {
        v.join(", ")
    }
}

/// The graph as JSON: an array of nodes in build order.
fn models_json(graph: &ModelGraph) -> Result<String> {
    let nodes: Vec<serde_json::Value> = graph
        .nodes
        .iter()
        .map(|n| {
            serde_json::json!({
                "name": n.name,
                "kind": n.kind_name(),
                "materialized": n.materialized.as_str(),
                "path": models::shown(&n.path),
                "deps": n.deps,
                "description": n.description,
                "partition_by": n.partition_by,
                "order_by": n.order_by,
                "tests": n.tests.iter().map(|t| serde_json::json!({
                    "name": t.name,
                    "severity": t.severity.as_str(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&nodes)
        .map(|s| s + "\n")
        .map_err(|e| Error::Run(e.to_string()))
}

/// After a failed run, a summary that cannot be written is a warning: the run's own
/// error (and its exit code) is the one to report.
fn keep_error(written: Result<()>) {
    if let Err(e) = written {
        tracing::warn!("could not write the summary: {e}");
    }
}

/// Writes `--summary-json`: the run's summary, also for a failed run (with its reason
/// and exit code; `run_id` is null when the failure could not be recorded).
fn write_summary(
    path: &std::path::Path,
    outcome: &std::result::Result<run::RunSummary, Box<run::Failed>>,
) -> Result<()> {
    let value = match outcome {
        Ok(summary) => serde_json::to_value(summary),
        Err(failed) => {
            let reason = failed.error.to_string();
            let mut v = match &failed.summary {
                Some(s) => serde_json::to_value(s),
                None => Ok(serde_json::json!({
                    "run_id": null,
                    "status": "failed",
                    "reason": reason,
                })),
            };
            if let Ok(serde_json::Value::Object(map)) = &mut v {
                // The status is the run log's: a run that committed and then failed to
                // publish its run-log tables stays `succeeded`, with the error beside it.
                map.insert("error".into(), reason.into());
                map.insert("exit_code".into(), failed.error.exit_code().into());
            }
            v
        }
    }
    .map_err(|e| Error::Run(e.to_string()))?;
    let json = serde_json::to_string_pretty(&value).map_err(|e| Error::Run(e.to_string()))?;
    std::fs::write(path, json).map_err(|e| Error::io(path, e))
}

/// The summary file's folder exists and the path is not a folder.
fn check_summary_path(path: &std::path::Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !parent.is_dir() {
        return Err(Error::Usage(format!(
            "--summary-json {}: the folder {} does not exist; nothing was run",
            path.display(),
            parent.display()
        )));
    }
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "--summary-json {}: is a folder, not a file; nothing was run",
            path.display()
        )));
    }
    Ok(())
}

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>> {
    vars.iter()
        .map(|kv| {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| Error::Usage(format!("--var `{kv}`: expected key=value")))?;
            if k.trim().is_empty() {
                return Err(Error::Usage(format!(
                    "--var `{kv}`: no name before `=` (expected name=value, read as \
                     `var.name` in templates)"
                )));
            }
            if k.trim() == "fiscal_year_start_month" {
                return Err(Error::Usage(format!(
                    "--var `{kv}` is not read: the fiscal year is set by \
                     `fiscal_year_start_month:` at the top of the pipeline"
                )));
            }
            Ok((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SALESPIPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(crate::progress::LogWriter)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}
