//! Forecasts every series of a long CSV (`unique_id,ds,y`, rows of one series in period
//! order) with salespipe's forecasting core and writes the points as CSV: the salespipe
//! side of `bench/forecast/bench.py`. Not part of the pipeline.
//!
//! ```sh
//! cargo run --release --example forecast_csv -- IN.csv OUT.csv \
//!     [--horizon 12] [--season 12] [--origins 3] [--threads 2] [--non-negative] [--top-down] [--candidates ets,theta,...]
//! ```
//! Prints `series=N seconds=S` (fit, backtest and forecast of every series, reading and
//! writing excluded) on stdout.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use salespipe::forecast::{fit_many, reconcile, ForecastSpec, ModelKind, Series};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("forecast_csv: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut positional = Vec::new();
    let mut spec = ForecastSpec::default();
    let mut threads = 0usize;
    let mut non_negative = false;
    let mut top_down = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<usize> {
            it.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} needs a whole number"))
        };
        match a.as_str() {
            "--horizon" => spec.horizon = value("--horizon")?,
            "--season" => spec.season_length = value("--season")?,
            "--origins" => spec.origins = value("--origins")?,
            "--step" => spec.step = value("--step")?,
            "--threads" => threads = value("--threads")?,
            "--non-negative" => non_negative = true,
            "--top-down" => top_down = true,
            "--candidates" => {
                let list = it.next().context("--candidates needs a value")?;
                spec.candidates = list
                    .split(',')
                    .map(|name| {
                        ModelKind::ALL
                            .into_iter()
                            .find(|k| k.name() == name.trim())
                            .with_context(|| format!("unknown model `{name}`"))
                    })
                    .collect::<Result<_>>()?;
            }
            flag if flag.starts_with("--") => bail!("unknown flag `{flag}`"),
            path => positional.push(path.to_string()),
        }
    }
    let [input, output] = positional.as_slice() else {
        bail!("usage: forecast_csv IN.csv OUT.csv [--horizon H] [--season M] [--origins K] [--threads N] [--non-negative] [--top-down] [--candidates LIST]");
    };

    let mut reader = csv::Reader::from_path(input).with_context(|| format!("reading {input}"))?;
    let headers = reader.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{input}: no `{name}` column"))
    };
    let (id_col, y_col) = (col("unique_id")?, col("y")?);
    let mut ids: Vec<String> = Vec::new();
    let mut values: Vec<Vec<f64>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record?;
        let id = record.get(id_col).unwrap_or_default().to_string();
        let y: f64 = record
            .get(y_col)
            .unwrap_or_default()
            .parse()
            .with_context(|| format!("{input}: line {}: `y` is not a number", line + 2))?;
        let i = *index.entry(id.clone()).or_insert_with(|| {
            ids.push(id);
            values.push(Vec::new());
            ids.len() - 1
        });
        values[i].push(y);
    }
    // Every series ends at the same period (-1): with --top-down their total adds the
    // values of the same dates when the series end together.
    let series = values
        .into_iter()
        .map(|v| Series::new(-(v.len() as i64), v, non_negative))
        .collect::<Result<Vec<_>, _>>()?;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let start = Instant::now();
    let mut forecasts = pool.install(|| fit_many(&series, &spec))?;
    if top_down {
        pool.install(|| reconcile::top_down(&series, &mut forecasts, &spec))?;
    }
    let seconds = start.elapsed().as_secs_f64();

    let mut writer = csv::Writer::from_path(output).with_context(|| format!("writing {output}"))?;
    writer.write_record([
        "unique_id",
        "step",
        "point",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "model",
    ])?;
    for (id, f) in ids.iter().zip(&forecasts) {
        for (k, p) in f.points.iter().enumerate() {
            writer.write_record([
                id.clone(),
                (k + 1).to_string(),
                p.point.to_string(),
                p.lo80.to_string(),
                p.hi80.to_string(),
                p.lo95.to_string(),
                p.hi95.to_string(),
                f.model.clone(),
            ])?;
        }
    }
    writer.flush()?;
    println!("series={} seconds={seconds:.3}", forecasts.len());
    Ok(())
}
