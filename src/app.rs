//! The application layer: turns parsed command-line options into calls to the library
//! and prints results. `main` maps the returned error to an exit code.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Write as _};

use crate::cli::{Cli, Command};
use crate::config::{self, AsOf};
use crate::error::{Error, Result};
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
        } => {
            let as_of = as_of
                .map(|s| s.parse::<AsOf>().map_err(Error::Usage))
                .transpose()?;
            let vars = parse_vars(&vars)?;
            let pipeline = config::load(&pipeline)?;
            let now = chrono::Local::now().naive_local();
            let opts = RunOptions {
                as_of,
                today: now.date(),
                started_at: now,
                quiet,
                vars,
                full_refresh,
            };
            let summary = run::run(&pipeline, &opts)?;
            if let Some(path) = summary_json {
                let json = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Error::Run(e.to_string()))?;
                std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
            }
            if !quiet {
                print!("{}", run::render_summary(&summary));
            }
            Ok(())
        }
        Command::Validate { pipeline } => {
            let p = config::load(&pipeline)?;
            let sources: Vec<String> = p.sources.iter().map(|s| s.config.name.clone()).collect();
            let graph = crate::models::discover(&p.models_dir, &sources)?;
            for r in &p.reports {
                crate::report::check_templates(r)?;
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

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>> {
    vars.iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| Error::Usage(format!("--var `{kv}`: expected key=value")))
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
