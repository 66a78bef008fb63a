//! Forecasts as nodes of the model graph: each `forecasts:` declaration of the pipeline
//! becomes computed nodes that SQL models `ref()` like any other.
//!
//! For a declaration named `N`:
//! - `N`: the forecast of the run's as-of date, one row per key and future period
//!   (`point`, 80 % and 95 % bounds, the model, `periods_ahead`, `as_of`);
//! - `N_accuracy`: per key, the model chosen, its rolling-origin backtest (MASE, WAPE,
//!   bias, origins), the gaps filled with zero, whether the series was too short for a
//!   backtest (`fallback`) and the reason for the choice;
//! - `N_realised`: the forecasts of earlier as-of dates for periods closed since, with
//!   the actuals that arrived (error, absolute error, inside the 80 % / 95 % bands);
//! - with `vs_target`, a table (default `forecast_vs_target`) of projected period-end
//!   attainment per key, per roll-up level and in total, with the probability of
//!   reaching the target.
//!
//! Every as-of date's forecast and accuracy are kept in `salespipe.N_history` and
//! `salespipe.N_accuracy_history`, rewritten for the same as-of date, inside the run's
//! data transaction (a failed run rolls them back too). `N` and `N_accuracy` are the
//! current as-of date's rows of those.
//!
//! Periods: the input's `period` is truncated to the grain; the last closed period is
//! the one ending on or before the as-of date (as of 2026-09-30 monthly: September; as
//! of 2026-09-15: August). Rows in later periods are not read (a partial period would
//! look like a drop). Each key's series runs from its first period to the last closed
//! one, missing periods filled with zero and counted. The series are read from DuckDB as
//! Arrow, fitted in parallel with [`fit_many`], and written back with the Arrow
//! appender. With `reconcile: top_down` the total of all series is forecast too and the
//! series are scaled to it ([`reconcile::top_down`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDate};
use duckdb::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, StringArray,
};
use duckdb::arrow::datatypes::{DataType, Field, Schema};
use duckdb::arrow::record_batch::RecordBatch;

use super::{fit_many, reconcile, ForecastSpec, Reconcile, Series, SeriesForecast};
use crate::config::{ForecastConfig, Grain, Pipeline, ResolvedForecast};
use crate::error::{ConfigError, DbContext, Diagnostic, Error, Result};
use crate::models::{self, ComputedNode, ComputedSpec, ModelGraph, TemplateVars};
use crate::sql::{ident, qualified};
use crate::warehouse::{Warehouse, META_SCHEMA};

/// The 97.5 % quantile of the standard normal: sigma = (hi95 - lo95) / (2 x Z95).
pub const Z95: f64 = 1.959_963_984_540_054;

/// The model graph of `pipeline`: its SQL models plus its forecast nodes.
pub fn discover(pipeline: &Pipeline) -> std::result::Result<ModelGraph, ConfigError> {
    let sources: Vec<String> = pipeline
        .sources
        .iter()
        .map(|s| s.config.name.clone())
        .collect();
    models::discover_with(&pipeline.models_dir, &sources, specs(pipeline))
}

/// The computed nodes of every forecast declaration of `pipeline`.
pub fn specs(pipeline: &Pipeline) -> Vec<ComputedSpec> {
    let mut out = Vec::new();
    for f in &pipeline.forecasts {
        let decl = Arc::new(Decl::new(f, pipeline.file.clone()));
        let c = &decl.cfg;
        let keys = c.keys.clone();
        let with = |extra: &[&str]| -> Vec<String> {
            keys.iter()
                .cloned()
                .chain(extra.iter().map(|s| s.to_string()))
                .collect()
        };
        let mut tables = vec![
            (
                Table::Forecast,
                c.name.clone(),
                vec![c.input.clone()],
                with(&["period"]),
                format!(
                    "Forecast of sum({}) of `{}` by {} per {}, {} periods ahead, as of the run's \
                     date: point, 80 % and 95 % bounds, model chosen by backtest {}",
                    c.measure,
                    c.input,
                    key_list(&c.keys),
                    c.grain.as_str(),
                    c.horizon,
                    metric_name(c)
                ),
            ),
            (
                Table::Accuracy,
                format!("{}_accuracy", c.name),
                vec![c.name.clone()],
                with(&[]),
                format!(
                    "Per series of `{}`: the model chosen, its rolling-origin backtest (MASE, \
                     WAPE, bias, origins), gaps filled with zero, short-series fallback and \
                     the reason",
                    c.name
                ),
            ),
            (
                Table::Realised,
                format!("{}_realised", c.name),
                vec![c.name.clone(), c.input.clone()],
                std::iter::once("forecast_as_of".to_string())
                    .chain(with(&["period"]))
                    .collect(),
                format!(
                    "Forecasts of `{}` made at earlier as-of dates against the actuals that \
                     arrived since",
                    c.name
                ),
            ),
        ];
        if let Some(v) = &c.vs_target {
            tables.push((
                Table::VsTarget,
                v.name.clone(),
                vec![c.name.clone(), c.input.clone(), v.targets.clone()],
                ["period_type", "period_start", "level", "entity"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                format!(
                    "Projected period-end attainment of `{}` against `{}`: actuals of closed \
                     periods plus the forecast of the rest, and the probability of reaching \
                     the target (normal, sigma from the 95 % bands: a key's months fully \
                     correlated, keys independent)",
                    c.name, v.targets
                ),
            ));
        }
        if let (Some(user), Some(first)) = (&c.description, tables.first_mut()) {
            first.4 = format!("{user}. {}", first.4);
        }
        for (table, name, deps, order_by, description) in tables {
            let mut dep_at = BTreeMap::new();
            for d in &deps {
                let field = if *d == c.input {
                    "input"
                } else if c.vs_target.as_ref().is_some_and(|v| v.targets == *d) {
                    "vs_target.targets"
                } else {
                    "name"
                };
                dep_at.insert(d.clone(), decl.at(field));
            }
            let at = match table {
                Table::VsTarget => decl.at("vs_target.name"),
                _ => decl.at("name"),
            };
            out.push(ComputedSpec {
                name,
                deps: deps.into_iter().collect(),
                description: Some(description),
                declared_in: pipeline.file.clone(),
                at,
                dep_at,
                partition_by: Vec::new(),
                order_by,
                tests: Vec::new(),
                node: Arc::new(ForecastNode {
                    decl: decl.clone(),
                    table,
                }),
            });
        }
    }
    out
}

fn key_list(keys: &[String]) -> String {
    if keys.is_empty() {
        "nothing (one series)".into()
    } else {
        keys.join(" x ")
    }
}

fn metric_name(c: &ForecastConfig) -> &'static str {
    match c.metric {
        super::Metric::Mase => "MASE",
        super::Metric::Wape => "WAPE",
    }
}

/// One declaration, shared by its nodes.
#[derive(Debug)]
struct Decl {
    cfg: ForecastConfig,
    file: PathBuf,
    positions: BTreeMap<String, (usize, usize)>,
    spec: ForecastSpec,
}

impl Decl {
    fn new(f: &ResolvedForecast, file: PathBuf) -> Decl {
        let c = &f.config;
        Decl {
            spec: ForecastSpec {
                horizon: c.horizon,
                season_length: c.season_length.unwrap_or(c.grain.season()),
                candidates: c.candidates.clone(),
                origins: c.origins,
                step: c.step,
                metric: c.metric,
            },
            cfg: c.clone(),
            file,
            positions: f.positions.clone(),
        }
    }

    fn at(&self, field: &str) -> (usize, usize) {
        self.positions
            .get(field)
            .or_else(|| self.positions.get("name"))
            .copied()
            .unwrap_or((0, 0))
    }

    fn diag(&self, field: &str, message: String) -> Diagnostic {
        let (line, column) = self.at(field);
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            code: "E051",
            message,
        }
    }

    fn history(&self) -> String {
        qualified(META_SCHEMA, &format!("{}_history", self.cfg.name))
    }

    fn accuracy_history(&self) -> String {
        qualified(META_SCHEMA, &format!("{}_accuracy_history", self.cfg.name))
    }

    fn stage(&self, what: &str) -> (String, String) {
        let name = format!("_{}_{what}", self.cfg.name);
        (qualified(META_SCHEMA, &name), name)
    }

    /// `k1, k2, ` (with the trailing separator) with a prefix, or nothing without keys.
    fn keys(&self, prefix: &str) -> String {
        self.cfg
            .keys
            .iter()
            .map(|k| format!("{prefix}{}, ", ident(k)))
            .collect()
    }

    /// Null-safe equality of the keys of `a` and `b`.
    fn key_match(&self, a: &str, b: &str) -> String {
        if self.cfg.keys.is_empty() {
            return "TRUE".into();
        }
        self.cfg
            .keys
            .iter()
            .map(|k| format!("{a}.{k} IS NOT DISTINCT FROM {b}.{k}", k = ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The input's key columns with their types, after checking that the declared
    /// columns exist with usable types.
    fn input_keys(
        &self,
        wh: &Warehouse,
    ) -> std::result::Result<Vec<(String, String)>, Vec<Diagnostic>> {
        let c = &self.cfg;
        let cols = describe(wh, &c.input)
            .map_err(|e| vec![self.diag("input", format!("cannot read `{}`: {e}", c.input))])?;
        let mut diags = Vec::new();
        let mut keys = Vec::new();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let missing = |field: &str, col: &str, what: &str| {
            let mut msg = format!("`{col}` ({what}) is not a column of `{}`", c.input);
            if let Some(s) = crate::util::suggest(col, names.iter().copied()) {
                msg.push_str(&format!("; did you mean `{s}`?"));
            }
            self.diag(field, msg)
        };
        for (i, k) in c.keys.iter().enumerate() {
            match cols.iter().find(|(n, _)| n == k) {
                Some(col) => keys.push(col.clone()),
                None => diags.push(missing(&format!("keys[{i}]"), k, "a key")),
            }
            if FIXED.contains(&k.as_str()) {
                diags.push(self.diag(
                    &format!("keys[{i}]"),
                    format!(
                        "key `{k}` has the name of a column the forecast tables add ({}); \
                         rename it in `{}`",
                        FIXED.join(", "),
                        c.input
                    ),
                ));
            }
        }
        match cols.iter().find(|(n, _)| *n == c.period) {
            None => diags.push(missing("period", &c.period, "the period")),
            Some((_, t)) if !is_date(t) => diags.push(self.diag(
                "period",
                format!(
                    "`period: {}` is {t}; expected a DATE or TIMESTAMP column",
                    c.period
                ),
            )),
            Some(_) => {}
        }
        match cols.iter().find(|(n, _)| *n == c.measure) {
            None => diags.push(missing("measure", &c.measure, "the measure")),
            Some((_, t)) if !is_numeric(t) => diags.push(self.diag(
                "measure",
                format!("`measure: {}` is {t}; expected a numeric column", c.measure),
            )),
            Some(_) => {}
        }
        if diags.is_empty() {
            Ok(keys)
        } else {
            Err(diags)
        }
    }

    /// Checks the targets model of `vs_target`.
    fn check_targets(&self, wh: &Warehouse) -> std::result::Result<(), Vec<Diagnostic>> {
        let Some(v) = &self.cfg.vs_target else {
            return Ok(());
        };
        let cols = describe(wh, &v.targets).map_err(|e| {
            vec![self.diag(
                "vs_target.targets",
                format!("cannot read `{}`: {e}", v.targets),
            )]
        })?;
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let mut diags = Vec::new();
        let period = v.period.as_deref().unwrap_or(&self.cfg.period);
        let mut wanted: Vec<(String, &str)> = self
            .cfg
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (format!("keys[{i}]"), k.as_str()))
            .collect();
        wanted.push(("vs_target.period".into(), period));
        wanted.push(("vs_target.target".into(), &v.target));
        for (i, l) in v.levels.iter().enumerate() {
            wanted.push((format!("vs_target.levels[{i}]"), l));
        }
        for (field, col) in wanted {
            match cols.iter().find(|(n, _)| n == col) {
                None => {
                    let mut msg = format!("`{col}` is not a column of `{}`", v.targets);
                    if let Some(s) = crate::util::suggest(col, names.iter().copied()) {
                        msg.push_str(&format!("; did you mean `{s}`?"));
                    }
                    diags.push(self.diag(&field, msg));
                }
                Some((_, t)) if col == period && !is_date(t) => diags.push(self.diag(
                    &field,
                    format!("`{col}` of `{}` is {t}; expected a DATE", v.targets),
                )),
                Some((_, t)) if col == v.target && !is_numeric(t) => diags.push(self.diag(
                    &field,
                    format!("`{col}` of `{}` is {t}; expected a number", v.targets),
                )),
                Some(_) => {}
            }
        }
        if diags.is_empty() {
            Ok(())
        } else {
            Err(diags)
        }
    }

    /// The last closed period and the first day of the next one, as of `as_of`.
    fn closed(&self, as_of: NaiveDate) -> (i64, NaiveDate) {
        let g = self.cfg.grain;
        let open = period_index(g, as_of + Duration::days(1));
        (open - 1, period_start(g, open))
    }
}

/// Columns the forecast tables add beside the keys.
const FIXED: [&str; 24] = [
    "period",
    "periods_ahead",
    "point",
    "lo80",
    "hi80",
    "lo95",
    "hi95",
    "model",
    "as_of",
    "family",
    "mase",
    "wape",
    "bias",
    "origins",
    "backtest_horizon",
    "n_periods",
    "first_period",
    "last_period",
    "filled",
    "fallback",
    "intervals",
    "reason",
    "forecast_as_of",
    "actual",
];

fn is_date(t: &str) -> bool {
    t == "DATE" || t.starts_with("TIMESTAMP")
}

fn is_numeric(t: &str) -> bool {
    t.starts_with("DECIMAL")
        || [
            "TINYINT",
            "SMALLINT",
            "INTEGER",
            "BIGINT",
            "HUGEINT",
            "UTINYINT",
            "USMALLINT",
            "UINTEGER",
            "UBIGINT",
            "FLOAT",
            "DOUBLE",
        ]
        .contains(&t)
}

/// Column names and types of `main.<name>`.
fn describe(wh: &Warehouse, name: &str) -> std::result::Result<Vec<(String, String)>, String> {
    wh.describe(&qualified("main", name))
        .map_err(|e| e.to_string())
}

/// The consecutive number of the period containing `d`.
pub fn period_index(grain: Grain, d: NaiveDate) -> i64 {
    match grain {
        Grain::Month => i64::from(d.year()) * 12 + i64::from(d.month0()),
        Grain::Quarter => i64::from(d.year()) * 4 + i64::from(d.month0() / 3),
        Grain::Week => (d - monday_zero()).num_days().div_euclid(7),
    }
}

/// The first day of period number `index`.
pub fn period_start(grain: Grain, index: i64) -> NaiveDate {
    let ym = |year: i64, month0: i64| {
        NaiveDate::from_ymd_opt(year as i32, month0 as u32 + 1, 1).unwrap_or(NaiveDate::MIN)
    };
    match grain {
        Grain::Month => ym(index.div_euclid(12), index.rem_euclid(12)),
        Grain::Quarter => ym(index.div_euclid(4), index.rem_euclid(4) * 3),
        Grain::Week => monday_zero() + Duration::days(index * 7),
    }
}

/// 1970-01-05, a Monday: week 0.
fn monday_zero() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 5).unwrap_or(NaiveDate::MIN)
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)).num_days() as i32
}

/// Which table of a declaration a node writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Forecast,
    Accuracy,
    Realised,
    VsTarget,
}

/// One table of a forecast declaration.
#[derive(Debug)]
struct ForecastNode {
    decl: Arc<Decl>,
    table: Table,
}

fn cols(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
}

impl ForecastNode {
    fn table_columns(&self, keys: &[(String, String)]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let tail = match self.table {
            Table::Forecast => {
                out.extend(keys.iter().cloned());
                cols(&[
                    ("period", "DATE"),
                    ("periods_ahead", "INTEGER"),
                    ("point", "DOUBLE"),
                    ("lo80", "DOUBLE"),
                    ("hi80", "DOUBLE"),
                    ("lo95", "DOUBLE"),
                    ("hi95", "DOUBLE"),
                    ("model", "VARCHAR"),
                    ("as_of", "DATE"),
                ])
            }
            Table::Accuracy => {
                out.extend(keys.iter().cloned());
                cols(&[
                    ("model", "VARCHAR"),
                    ("family", "VARCHAR"),
                    ("mase", "DOUBLE"),
                    ("wape", "DOUBLE"),
                    ("bias", "DOUBLE"),
                    ("origins", "INTEGER"),
                    ("backtest_horizon", "INTEGER"),
                    ("n_periods", "INTEGER"),
                    ("first_period", "DATE"),
                    ("last_period", "DATE"),
                    ("filled", "INTEGER"),
                    ("fallback", "BOOLEAN"),
                    ("intervals", "VARCHAR"),
                    ("reason", "VARCHAR"),
                    ("as_of", "DATE"),
                ])
            }
            Table::Realised => {
                out.push(("forecast_as_of".into(), "DATE".into()));
                out.extend(keys.iter().cloned());
                cols(&[
                    ("period", "DATE"),
                    ("periods_ahead", "INTEGER"),
                    ("model", "VARCHAR"),
                    ("point", "DOUBLE"),
                    ("lo80", "DOUBLE"),
                    ("hi80", "DOUBLE"),
                    ("lo95", "DOUBLE"),
                    ("hi95", "DOUBLE"),
                    ("actual", "DOUBLE"),
                    ("error", "DOUBLE"),
                    ("abs_error", "DOUBLE"),
                    ("within80", "BOOLEAN"),
                    ("within95", "BOOLEAN"),
                    ("as_of", "DATE"),
                ])
            }
            Table::VsTarget => cols(&[
                ("level", "VARCHAR"),
                ("entity", "VARCHAR"),
                ("period_type", "VARCHAR"),
                ("period_start", "DATE"),
                ("period_end", "DATE"),
                ("status", "VARCHAR"),
                ("target", "DECIMAL(18,2)"),
                ("actual_to_date", "DECIMAL(18,2)"),
                ("forecast_rest", "DECIMAL(18,2)"),
                ("projected", "DECIMAL(18,2)"),
                ("projected_attainment_pct", "DECIMAL(18,4)"),
                ("sigma", "DOUBLE"),
                ("probability", "DOUBLE"),
                ("as_of", "DATE"),
            ]),
        };
        out.extend(tail);
        out
    }

    fn create(&self, wh: &Warehouse, relation: &str, columns: &[(String, String)]) -> Result<()> {
        let list: Vec<String> = columns
            .iter()
            .map(|(n, t)| format!("{} {t}", ident(n)))
            .collect();
        wh.exec(&format!("CREATE TABLE {relation} ({})", list.join(", ")))
    }

    /// The input's keys at run time (a column problem becomes a configuration error).
    fn keys_or_error(&self, wh: &Warehouse) -> Result<Vec<(String, String)>> {
        self.decl
            .input_keys(wh)
            .map_err(|diagnostics| Error::Config(ConfigError { diagnostics }))
    }

    /// Creates the history tables when missing; fails when they exist with other columns
    /// (the declaration's keys changed).
    fn ensure_history(&self, wh: &Warehouse, keys: &[(String, String)]) -> Result<()> {
        let d = &self.decl;
        wh.exec(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            ident(META_SCHEMA)
        ))?;
        for (table, rel, kind) in [
            (
                format!("{}_history", d.cfg.name),
                d.history(),
                Table::Forecast,
            ),
            (
                format!("{}_accuracy_history", d.cfg.name),
                d.accuracy_history(),
                Table::Accuracy,
            ),
        ] {
            let want = ForecastNode {
                decl: d.clone(),
                table: kind,
            }
            .table_columns(keys);
            let have: Vec<(String, String)> = {
                let mut stmt = wh
                    .conn
                    .prepare(
                        "SELECT column_name, data_type FROM duckdb_columns()
                         WHERE database_name = current_database() AND schema_name = ?
                         AND table_name = ? ORDER BY column_index",
                    )
                    .ctx(|| "reading the catalog".into())?;
                let rows = stmt
                    .query_map([META_SCHEMA, table.as_str()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .ctx(|| "reading the catalog".into())?;
                rows.collect::<std::result::Result<_, _>>()
                    .ctx(|| "reading the catalog".into())?
            };
            if have.is_empty() {
                self.create(wh, &rel, &want)?;
            } else if have != want {
                return Err(Error::Run(format!(
                    "forecast `{}`: the kept history {rel} has the columns ({}) but the \
                     declaration now gives ({}); give the forecast a new name, or drop the \
                     history table to start it again",
                    d.cfg.name,
                    show_cols(&have),
                    show_cols(&want)
                )));
            }
        }
        Ok(())
    }

    fn build_forecast(&self, wh: &Warehouse, relation: &str, as_of: NaiveDate) -> Result<()> {
        let d = &self.decl;
        let c = &d.cfg;
        let start = Instant::now();
        let keys = self.keys_or_error(wh)?;
        self.ensure_history(wh, &keys)?;
        let (last_closed, open_start) = d.closed(as_of);
        let (obs, _) = d.stage("obs");
        let (kt, _) = d.stage("keys");
        let (pts, pts_name) = d.stage("points");
        let (acc, acc_name) = d.stage("accuracy");
        let drop_stages = || {
            wh.exec(&format!(
                "DROP TABLE IF EXISTS {obs}; DROP TABLE IF EXISTS {kt};
                 DROP TABLE IF EXISTS {pts}; DROP TABLE IF EXISTS {acc};"
            ))
        };
        drop_stages()?;
        let k = d.keys("");
        wh.conn
            .execute(
                &format!(
                    "CREATE TABLE {obs} AS SELECT {k}CAST(date_trunc('{g}', {p}) AS DATE) AS __period,
                         {value} AS __value
                     FROM {input}
                     WHERE {p} IS NOT NULL AND {p} < ?
                     GROUP BY ALL",
                    g = c.grain.as_str(),
                    p = ident(&c.period),
                    value = exact_sum(&ident(&c.measure), ""),
                    input = qualified("main", &c.input)
                ),
                [open_start],
            )
            .ctx(|| format!("forecast `{}`: reading `{}`", c.name, c.input))?;
        if c.keys.is_empty() {
            wh.exec(&format!("CREATE TABLE {kt} AS SELECT 0 AS __sid"))?;
        } else {
            let order: Vec<String> = c.keys.iter().map(|k| ident(k)).collect();
            wh.exec(&format!(
                "CREATE TABLE {kt} AS
                 SELECT CAST(row_number() OVER (ORDER BY {o}) - 1 AS INTEGER) AS __sid, {k2}
                 FROM (SELECT DISTINCT {k2} FROM {obs})",
                o = order.join(", "),
                k2 = order.join(", ")
            ))?;
        }
        // Observations per series, read as Arrow.
        let mut per_series: BTreeMap<i32, Vec<(i64, f64)>> = BTreeMap::new();
        {
            let mut stmt = wh
                .conn
                .prepare(&format!(
                    "SELECT CAST(k.__sid AS INTEGER) AS sid, o.__period, o.__value
                     FROM {obs} AS o JOIN {kt} AS k ON {on} ORDER BY 1, 2",
                    on = d.key_match("o", "k")
                ))
                .ctx(|| format!("forecast `{}`: reading the series", c.name))?;
            let batches = stmt
                .query_arrow([])
                .ctx(|| format!("forecast `{}`: reading the series", c.name))?;
            for b in batches {
                let (Some(sid), Some(period), Some(value)) = (
                    b.column(0).as_any().downcast_ref::<Int32Array>(),
                    b.column(1).as_any().downcast_ref::<Date32Array>(),
                    b.column(2).as_any().downcast_ref::<Float64Array>(),
                ) else {
                    return Err(Error::Run(format!(
                        "forecast `{}`: unexpected Arrow types reading the series",
                        c.name
                    )));
                };
                for i in 0..b.num_rows() {
                    let Some(date) = period.value_as_date(i) else {
                        continue;
                    };
                    // A period whose measure is all NULL is missing (filled with 0 and
                    // counted); a key with no value at all is still a series.
                    let obs = per_series.entry(sid.value(i)).or_default();
                    if !value.is_null(i) {
                        obs.push((period_index(c.grain, date), value.value(i)));
                    }
                }
            }
        }
        let sids: Vec<i32> = per_series.keys().copied().collect();
        let mut series: Vec<Series> = Vec::with_capacity(per_series.len());
        for (sid, obs) in &per_series {
            let s = Series::from_observations(obs, c.non_negative).map_err(|e| match e {
                super::ForecastError::NonFinite { period, value } => {
                    // Which series: its keys, read back for the message only.
                    let cols: Vec<String> = c
                        .keys
                        .iter()
                        .map(|k| format!("{}::VARCHAR", ident(k)))
                        .collect();
                    let values = (!c.keys.is_empty())
                        .then(|| {
                            wh.conn
                                .query_row(
                                    &format!(
                                        "SELECT {} FROM {kt} WHERE __sid = ?",
                                        cols.join(", ")
                                    ),
                                    [sid],
                                    |r| {
                                        (0..cols.len())
                                            .map(|i| r.get::<_, Option<String>>(i))
                                            .collect::<std::result::Result<Vec<_>, _>>()
                                    },
                                )
                                .ok()
                        })
                        .flatten();
                    let keys = values.map_or_else(String::new, |v| {
                        let pairs: Vec<String> = c
                            .keys
                            .iter()
                            .zip(v)
                            .map(|(k, v)| format!("{k} = {}", v.as_deref().unwrap_or("NULL")))
                            .collect();
                        format!(" for {}", pairs.join(", "))
                    });
                    Error::Run(format!(
                        "forecast `{}`: `{}` of `{}` is {value}{keys} in the {} of {}, not a \
                         finite number",
                        c.name,
                        c.measure,
                        c.input,
                        c.grain.as_str(),
                        period_start(c.grain, period)
                    ))
                }
                e => Error::Run(format!("forecast `{}`: {e}", c.name)),
            })?;
            series.push(s.fill_to(last_closed));
        }
        let read = start.elapsed().as_secs_f64();
        let clock = Instant::now();
        let mut fits = fit_many(&series, &d.spec)
            .map_err(|e| Error::Run(format!("forecast `{}`: {e}", c.name)))?;
        if c.reconcile == Reconcile::TopDown {
            if let Some(td) = reconcile::top_down(&series, &mut fits, &d.spec)
                .map_err(|e| Error::Run(format!("forecast `{}`: {e}", c.name)))?
            {
                tracing::info!(
                    "forecast `{}`: top-down to the total's {}; {} period(s) without a share",
                    c.name,
                    td.total.model,
                    td.kept
                );
            }
        }
        let fitted = clock.elapsed().as_secs_f64();
        wh.exec(&format!(
            "CREATE TABLE {pts} (__sid INTEGER, __period DATE, __ahead INTEGER, point DOUBLE,
                 lo80 DOUBLE, hi80 DOUBLE, lo95 DOUBLE, hi95 DOUBLE, model VARCHAR);
             CREATE TABLE {acc} (__sid INTEGER, model VARCHAR, family VARCHAR, mase DOUBLE,
                 wape DOUBLE, bias DOUBLE, origins INTEGER, backtest_horizon INTEGER,
                 n_periods INTEGER, first_period DATE, last_period DATE, filled INTEGER,
                 fallback BOOLEAN, intervals VARCHAR, reason VARCHAR);"
        ))?;
        let (points, accuracy) = batches(c.grain, &sids, &series, &fits)?;
        for (name, batch) in [(&pts_name, points), (&acc_name, accuracy)] {
            if batch.num_rows() == 0 {
                continue;
            }
            let mut app = wh
                .conn
                .appender_to_db(name, META_SCHEMA)
                .ctx(|| format!("forecast `{}`: appending", c.name))?;
            app.append_record_batch(batch)
                .ctx(|| format!("forecast `{}`: appending", c.name))?;
            app.flush()
                .ctx(|| format!("forecast `{}`: appending", c.name))?;
        }
        let hist = d.history();
        let acc_hist = d.accuracy_history();
        let kk = d.keys("k.");
        let run = |sql: String| {
            wh.conn
                .execute(&sql, [as_of])
                .map(|_| ())
                .ctx(|| format!("forecast `{}`: writing the history", c.name))
        };
        run(format!("DELETE FROM {hist} WHERE as_of = ?"))?;
        run(format!("DELETE FROM {acc_hist} WHERE as_of = ?"))?;
        run(format!(
            "INSERT INTO {hist} SELECT {kk}p.__period, p.__ahead, p.point, p.lo80, p.hi80,
                 p.lo95, p.hi95, p.model, CAST(? AS DATE)
             FROM {pts} AS p JOIN {kt} AS k USING (__sid) ORDER BY p.__sid, p.__period"
        ))?;
        run(format!(
            "INSERT INTO {acc_hist} SELECT {kk}a.model, a.family, a.mase, a.wape, a.bias,
                 a.origins, a.backtest_horizon, a.n_periods, a.first_period, a.last_period,
                 a.filled, a.fallback, a.intervals, a.reason, CAST(? AS DATE)
             FROM {acc} AS a JOIN {kt} AS k USING (__sid) ORDER BY a.__sid"
        ))?;
        drop_stages()?;
        let columns = self.table_columns(&keys);
        self.create(wh, relation, &columns)?;
        wh.conn
            .execute(
                &format!(
                    "INSERT INTO {relation} SELECT * FROM {hist} WHERE as_of = ?
                     ORDER BY {k}period"
                ),
                [as_of],
            )
            .ctx(|| format!("forecast `{}`: writing {relation}", c.name))?;
        tracing::info!(
            "forecast `{}`: {} series; read {read:.3} s, fitted {fitted:.3} s, total {:.3} s",
            c.name,
            fits.len(),
            start.elapsed().as_secs_f64()
        );
        Ok(())
    }

    fn build_accuracy(&self, wh: &Warehouse, relation: &str, as_of: NaiveDate) -> Result<()> {
        let d = &self.decl;
        let keys = self.keys_or_error(wh)?;
        self.ensure_history(wh, &keys)?;
        self.create(wh, relation, &self.table_columns(&keys))?;
        let order = if d.cfg.keys.is_empty() {
            "as_of".to_string()
        } else {
            d.keys("").trim_end_matches(", ").to_string()
        };
        wh.conn
            .execute(
                &format!(
                    "INSERT INTO {relation} SELECT * FROM {} WHERE as_of = ? ORDER BY {order}",
                    d.accuracy_history()
                ),
                [as_of],
            )
            .map(|_| ())
            .ctx(|| format!("forecast `{}`: writing {relation}", d.cfg.name))
    }

    fn build_realised(&self, wh: &Warehouse, relation: &str, as_of: NaiveDate) -> Result<()> {
        let d = &self.decl;
        let c = &d.cfg;
        let keys = self.keys_or_error(wh)?;
        self.ensure_history(wh, &keys)?;
        self.create(wh, relation, &self.table_columns(&keys))?;
        let (_, open_start) = d.closed(as_of);
        let actual = "coalesce(a.__actual, 0)";
        let sql = format!(
            "INSERT INTO {relation}
             WITH actual AS (
                 SELECT {k}CAST(date_trunc('{g}', {p}) AS DATE) AS __period,
                     {value} AS __actual
                 FROM {input}
                 WHERE {p} IS NOT NULL AND {m} IS NOT NULL AND {p} < $2
                 GROUP BY ALL
             )
             SELECT h.as_of, {hk}h.period, h.periods_ahead, h.model, h.point, h.lo80, h.hi80,
                 h.lo95, h.hi95, {actual}, h.point - {actual}, abs(h.point - {actual}),
                 {actual} BETWEEN h.lo80 AND h.hi80, {actual} BETWEEN h.lo95 AND h.hi95,
                 CAST($1 AS DATE)
             FROM {hist} AS h
             LEFT JOIN actual AS a ON {on} AND a.__period = h.period
             WHERE h.as_of < $1 AND h.period < $2
             ORDER BY h.as_of, {hk}h.period",
            k = d.keys(""),
            hk = d.keys("h."),
            g = c.grain.as_str(),
            p = ident(&c.period),
            m = ident(&c.measure),
            value = exact_sum(&ident(&c.measure), ""),
            input = qualified("main", &c.input),
            hist = d.history(),
            on = d.key_match("h", "a"),
        );
        wh.conn
            .execute(&sql, duckdb::params![as_of, open_start])
            .map(|_| ())
            .ctx(|| format!("forecast `{}`: writing {relation}", c.name))
    }

    fn build_vs_target(&self, wh: &Warehouse, relation: &str, as_of: NaiveDate) -> Result<()> {
        let d = &self.decl;
        let c = &d.cfg;
        let Some(v) = &c.vs_target else {
            return Err(Error::Run(format!(
                "forecast `{}` has no vs_target",
                c.name
            )));
        };
        self.keys_or_error(wh)?;
        d.check_targets(wh)
            .map_err(|diagnostics| Error::Config(ConfigError { diagnostics }))?;
        self.create(wh, relation, &self.table_columns(&[]))?;
        let (_, open_start) = d.closed(as_of);
        let g = c.grain.as_str();
        let k = d.keys("");
        let tp = ident(v.period.as_deref().unwrap_or(&c.period));
        let lv: Vec<String> = v.levels.iter().map(|l| ident(l)).collect();
        let lv_arg: String = lv
            .iter()
            .map(|l| format!("CAST(arg_max({l}, {tp}) AS VARCHAR) AS {l}, "))
            .collect();
        let lv_latest: String = lv
            .iter()
            .map(|l| format!("arg_max({l}, __period) AS {l}, "))
            .collect();
        let lv_mapped: String = lv
            .iter()
            .enumerate()
            .map(|(i, l)| format!("coalesce(t.{l}, l.{l}, 'Unassigned') AS __l{i}, "))
            .collect();
        let key_level = v.key_level.clone().unwrap_or_else(|| c.keys.join("_"));
        let mut levels = Vec::new();
        if !c.keys.is_empty() {
            let entity: Vec<String> = (0..c.keys.len())
                .map(|i| format!("coalesce(CAST(__k{i} AS VARCHAR), 'Unassigned')"))
                .collect();
            levels.push(format!(
                "SELECT {} AS level, concat_ws(' / ', {}) AS entity, * FROM mapped",
                crate::sql::literal(&key_level),
                entity.join(", ")
            ));
        }
        for (i, name) in v.levels.iter().enumerate() {
            levels.push(format!(
                "SELECT {} AS level, __l{i} AS entity, * FROM mapped",
                crate::sql::literal(name)
            ));
        }
        levels.push(format!(
            "SELECT {} AS level, 'all' AS entity, * FROM mapped",
            crate::sql::literal(&v.total_level)
        ));
        // The keys under internal names from `mapped` on: a key may be named like a
        // column computed here (`entity`, `level`, `period_start`...).
        let bk: String = c
            .keys
            .iter()
            .enumerate()
            .map(|(i, key)| format!("b.{} AS __k{i}, ", ident(key)))
            .collect();
        let kk: String = (0..c.keys.len()).map(|i| format!("__k{i}, ")).collect();
        let mut periods = Vec::new();
        let types: &[(&str, u32)] = match c.grain {
            Grain::Month => &[("month", 1), ("quarter", 3), ("year", 12)],
            _ => &[("quarter", 3), ("year", 12)],
        };
        for (t, months) in types {
            periods.push(format!(
                "SELECT level, entity, '{t}' AS period_type,
                     CAST(date_trunc('{t}', __period) AS DATE) AS period_start,
                     CAST(date_trunc('{t}', __period) + INTERVAL {months} MONTH
                         - INTERVAL 1 DAY AS DATE) AS period_end,
                     {kk}__period, __target, __actual, __point, __var
                 FROM levels"
            ));
        }
        let on = d.key_match("b", "t");
        let on_latest = d.key_match("b", "l");
        let latest_join = if lv.is_empty() {
            String::new()
        } else {
            format!("LEFT JOIN latest AS l ON {on_latest}")
        };
        let latest_cte = if lv.is_empty() {
            "latest AS (SELECT 1 AS __none),".to_string()
        } else {
            format!(
                "latest AS (SELECT {k}{lv_latest} FROM tgt GROUP BY ALL),",
                lv_latest = lv_latest.trim_end_matches(", ")
            )
        };
        let sigma = if c.non_negative {
            format!("CASE WHEN lo95 <= 0 THEN (hi95 - point) / {Z95} ELSE (hi95 - lo95) / (2 * {Z95}) END")
        } else {
            format!("(hi95 - lo95) / (2 * {Z95})")
        };
        let sql = format!(
            "INSERT INTO {relation}
             WITH tgt AS (
                 SELECT {k}CAST(date_trunc('{g}', {tp}) AS DATE) AS __period, {lv_arg}
                     CAST(sum({target} ORDER BY {target}) AS DECIMAL(18, 2)) AS __target
                 FROM {targets} WHERE {tp} IS NOT NULL GROUP BY ALL
             ),
             {latest_cte}
             act AS (
                 SELECT {k}CAST(date_trunc('{g}', {p}) AS DATE) AS __period,
                     CAST(sum({m} ORDER BY {m}) AS DECIMAL(18, 2)) AS __actual
                 FROM {input} WHERE {p} IS NOT NULL AND {m} IS NOT NULL AND {p} < $2
                 GROUP BY ALL
             ),
             fc AS (
                 SELECT {k}period AS __period, point AS __point, pow({sigma}, 2) AS __var
                 FROM {fc}
             ),
             base AS (
                 SELECT {k}__period, sum(__target) AS __target, sum(__actual) AS __actual,
                     {point} AS __point, {var} AS __var
                 FROM (
                     SELECT {k}__period, __target FROM tgt
                     UNION ALL BY NAME SELECT {k}__period, __actual FROM act
                     UNION ALL BY NAME SELECT {k}__period, __point, __var FROM fc
                 )
                 GROUP BY ALL
             ),
             mapped AS (
                 SELECT {bk}{lv_mapped}b.__period, b.__target, b.__actual, b.__point, b.__var
                 FROM base AS b
                 LEFT JOIN tgt AS t ON {on} AND t.__period = b.__period
                 {latest_join}
             ),
             levels AS ({levels}),
             periods AS ({periods}),
             horizon AS (SELECT max(period) AS last FROM {fc}),
             per_key AS (
                 SELECT level, entity, period_type, period_start, period_end, {kk}
                     sum(__target) AS __target,
                     sum(__actual) FILTER (WHERE __period < $2) AS __actual,
                     {rest} AS __rest, {sd_rest} AS __sd
                 FROM periods
                 GROUP BY ALL
             ),
             agg AS (
                 SELECT level, entity, period_type, period_start, period_end,
                     CASE WHEN period_start <= CAST($1 AS DATE) THEN 'current' ELSE 'future' END
                         AS status,
                     CAST(coalesce(sum(__target), 0) AS DECIMAL(18, 2)) AS target,
                     CAST(coalesce(sum(__actual), 0) AS DECIMAL(18, 2)) AS actual_to_date,
                     coalesce({rest_keys}, 0) AS rest,
                     sqrt(coalesce({var_keys}, 0)) AS sigma
                 FROM per_key
                 GROUP BY ALL
             ),
             measured AS (
                 SELECT *, CAST(actual_to_date AS DOUBLE) + rest - CAST(target AS DOUBLE) AS gap,
                     abs(CAST(actual_to_date AS DOUBLE) + rest - CAST(target AS DOUBLE))
                         / nullif(sigma, 0) AS z
                 FROM agg
                 WHERE period_end >= $2 AND target > 0
                     AND CAST(date_trunc('{g}', period_end) AS DATE)
                         <= (SELECT last FROM horizon)
             ),
             tail AS (
                 SELECT *, exp(-z * z / 2) / sqrt(2 * pi()) * t * (0.319381530 + t * (-0.356563782
                     + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429)))) AS upper
                 FROM (SELECT *, 1 / (1 + 0.2316419 * z) AS t FROM measured)
             )
             SELECT level, entity, period_type, period_start, period_end, status, target,
                 actual_to_date, CAST(rest AS DECIMAL(18, 2)),
                 CAST(actual_to_date + CAST(rest AS DECIMAL(18, 2)) AS DECIMAL(18, 2)),
                 CAST((CAST(actual_to_date AS DOUBLE) + rest) / CAST(target AS DOUBLE)
                     AS DECIMAL(18, 4)),
                 sigma,
                 CASE
                     WHEN z IS NULL THEN CASE WHEN gap >= 0 THEN 1.0 ELSE 0.0 END
                     WHEN gap >= 0 THEN 1 - upper
                     ELSE upper
                 END,
                 CAST($1 AS DATE)
             FROM tail
             ORDER BY period_type, period_start, level, entity",
            target = ident(&v.target),
            targets = qualified("main", &v.targets),
            p = ident(&c.period),
            m = ident(&c.measure),
            input = qualified("main", &c.input),
            fc = qualified("main", &c.name),
            bk = bk,
            lv_arg = lv_arg,
            point = exact_sum("__point", ""),
            var = exact_sum("__var", ""),
            rest = exact_sum("__point", " FILTER (WHERE __period >= $2)"),
            sd_rest = exact_sum("sqrt(__var)", " FILTER (WHERE __period >= $2)"),
            rest_keys = exact_sum("__rest", ""),
            var_keys = exact_sum("__sd * __sd", ""),
            levels = levels.join(" UNION ALL "),
            periods = periods.join(" UNION ALL "),
        );
        wh.conn
            .execute(&sql, duckdb::params![as_of, open_start])
            .map(|_| ())
            .ctx(|| format!("forecast `{}`: writing {relation}", c.name))
    }
}

fn show_cols(cols: &[(String, String)]) -> String {
    cols.iter()
        .map(|(n, t)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ComputedNode for ForecastNode {
    fn columns(
        &self,
        wh: &Warehouse,
    ) -> std::result::Result<Vec<(String, String)>, Vec<Diagnostic>> {
        let keys = self.decl.input_keys(wh)?;
        if self.table == Table::VsTarget {
            self.decl.check_targets(wh)?;
        }
        Ok(self.table_columns(&keys))
    }

    fn build(&self, wh: &Warehouse, relation: &str, vars: &TemplateVars) -> Result<()> {
        match self.table {
            Table::Forecast => self.build_forecast(wh, relation, vars.as_of),
            Table::Accuracy => self.build_accuracy(wh, relation, vars.as_of),
            Table::Realised => self.build_realised(wh, relation, vars.as_of),
            Table::VsTarget => self.build_vs_target(wh, relation, vars.as_of),
        }
    }
}

/// The points and the accuracy of every series as two Arrow batches keyed by `__sid`.
fn batches(
    grain: Grain,
    sids: &[i32],
    series: &[Series],
    fits: &[SeriesForecast],
) -> Result<(RecordBatch, RecordBatch)> {
    let mut p_sid = Vec::new();
    let mut p_period = Vec::new();
    let mut p_ahead = Vec::new();
    let mut p_vals: [Vec<f64>; 5] = Default::default();
    let mut p_model = Vec::new();
    for (&sid, f) in sids.iter().zip(fits) {
        for (i, pt) in f.points.iter().enumerate() {
            p_sid.push(sid);
            p_period.push(days(period_start(grain, pt.period)));
            p_ahead.push(i as i32 + 1);
            for (v, x) in p_vals
                .iter_mut()
                .zip([pt.point, pt.lo80, pt.hi80, pt.lo95, pt.hi95])
            {
                v.push(x);
            }
            p_model.push(f.model.clone());
        }
    }
    let [point, lo80, hi80, lo95, hi95] = p_vals;
    let float = |v: Vec<f64>| Arc::new(Float64Array::from(v)) as ArrayRef;
    let points = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("__sid", DataType::Int32, false),
            Field::new("__period", DataType::Date32, false),
            Field::new("__ahead", DataType::Int32, false),
            Field::new("point", DataType::Float64, false),
            Field::new("lo80", DataType::Float64, false),
            Field::new("hi80", DataType::Float64, false),
            Field::new("lo95", DataType::Float64, false),
            Field::new("hi95", DataType::Float64, false),
            Field::new("model", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int32Array::from(p_sid)),
            Arc::new(Date32Array::from(p_period)),
            Arc::new(Int32Array::from(p_ahead)),
            float(point),
            float(lo80),
            float(hi80),
            float(lo95),
            float(hi95),
            Arc::new(StringArray::from(p_model)),
        ],
    )
    .map_err(|e| Error::Run(format!("building the forecast batch: {e}")))?;

    let acc = |f: &SeriesForecast, get: fn(&super::Accuracy) -> Option<f64>| {
        f.accuracy.as_ref().and_then(get)
    };
    let n = fits.len();
    let accuracy = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("__sid", DataType::Int32, false),
            Field::new("model", DataType::Utf8, false),
            Field::new("family", DataType::Utf8, false),
            Field::new("mase", DataType::Float64, true),
            Field::new("wape", DataType::Float64, true),
            Field::new("bias", DataType::Float64, true),
            Field::new("origins", DataType::Int32, false),
            Field::new("backtest_horizon", DataType::Int32, false),
            Field::new("n_periods", DataType::Int32, false),
            Field::new("first_period", DataType::Date32, false),
            Field::new("last_period", DataType::Date32, false),
            Field::new("filled", DataType::Int32, false),
            Field::new("fallback", DataType::Boolean, false),
            Field::new("intervals", DataType::Utf8, false),
            Field::new("reason", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int32Array::from(sids.to_vec())),
            Arc::new(StringArray::from_iter_values(
                fits.iter().map(|f| f.model.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                fits.iter().map(|f| f.kind.name()),
            )),
            Arc::new(Float64Array::from_iter(
                fits.iter().map(|f| acc(f, |a| Some(a.mase))),
            )),
            Arc::new(Float64Array::from_iter(
                fits.iter().map(|f| acc(f, |a| a.wape)),
            )),
            Arc::new(Float64Array::from_iter(
                fits.iter().map(|f| acc(f, |a| Some(a.bias))),
            )),
            Arc::new(Int32Array::from_iter_values(
                fits.iter()
                    .map(|f| f.accuracy.as_ref().map_or(0, |a| a.origins as i32)),
            )),
            Arc::new(Int32Array::from_iter_values(
                fits.iter()
                    .map(|f| f.accuracy.as_ref().map_or(0, |a| a.horizon as i32)),
            )),
            Arc::new(Int32Array::from_iter_values(
                series.iter().map(|s| s.len() as i32),
            )),
            Arc::new(Date32Array::from_iter_values(
                series.iter().map(|s| days(period_start(grain, s.start()))),
            )),
            Arc::new(Date32Array::from_iter_values(
                series.iter().map(|s| days(period_start(grain, s.end()))),
            )),
            Arc::new(Int32Array::from_iter_values(
                fits.iter().map(|f| f.filled as i32),
            )),
            Arc::new(BooleanArray::from_iter(
                fits.iter().map(|f| Some(f.accuracy.is_none())),
            )),
            Arc::new(StringArray::from_iter_values(
                fits.iter().map(|f| interval_name(f.intervals)),
            )),
            Arc::new(StringArray::from_iter_values(
                fits.iter().map(|f| f.reason.as_str()),
            )),
        ],
    )
    .map_err(|e| Error::Run(format!("building the accuracy batch: {e}")))?;
    debug_assert_eq!(accuracy.num_rows(), n);
    Ok((points, accuracy))
}

/// `sum(expr)` as a DOUBLE under the aggregate filter `filter` (`""` for none), added in
/// the order of the values, not in the order DuckDB's threads meet the rows: a sum of
/// doubles depends on that order, and the same rows gave forecasts that differed in their
/// last bits from run to run. A DECIMAL or integer measure is summed exactly in its own
/// type before the cast; NaN and infinities go through, for the series to report.
fn exact_sum(expr: &str, filter: &str) -> String {
    format!("CAST(sum({expr} ORDER BY {expr}){filter} AS DOUBLE)")
}

fn interval_name(m: super::IntervalMethod) -> &'static str {
    match m {
        super::IntervalMethod::Analytic => "analytic",
        super::IntervalMethod::Simulated => "simulated",
        super::IntervalMethod::Empirical => "empirical",
        super::IntervalMethod::None => "none",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn decl(grain: Grain, keys: &[&str]) -> ResolvedForecast {
        let text = format!(
            "{{ name: fc, input: t, keys: [{}], period: d, measure: v, grain: {}, horizon: 2,
                candidates: [naive], non_negative: true }}",
            keys.join(", "),
            grain.as_str()
        );
        let cfg: ForecastConfig =
            crate::config::yaml::parse(&text, std::path::Path::new("t.yaml")).unwrap();
        ResolvedForecast {
            config: cfg,
            positions: BTreeMap::new(),
        }
    }

    fn memory() -> Warehouse {
        Warehouse::in_memory().unwrap()
    }

    /// Builds the monthly forecast table `fc` of table `t` (`d`, `v`, `keys`) as of
    /// 2026-04-01.
    fn build_monthly(wh: &Warehouse, keys: &[&str]) -> Result<()> {
        let f = decl(Grain::Month, keys);
        let d = Arc::new(Decl::new(&f, PathBuf::from("p.yaml")));
        let vars = TemplateVars::new(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        ForecastNode {
            decl: d,
            table: Table::Forecast,
        }
        .build(wh, &qualified("main", "fc"), &vars)
    }

    #[test]
    fn weekly_series_without_keys_ends_at_the_last_closed_week() {
        // Ten weeks from Monday 2026-07-06, value = week number (1..10) split over two
        // days; as of Wednesday 2026-09-16, the week of 09-14 (week 11) is still open
        // and its row is not read: the last closed week is 09-07 (value 10).
        let wh = memory();
        wh.exec(
            "CREATE TABLE t AS
             SELECT DATE '2026-07-06' + INTERVAL (7 * (w - 1)) DAY + INTERVAL (k) DAY AS d,
                 CAST(w AS DOUBLE) / 2 AS v
             FROM range(1, 12) AS a(w), range(0, 2) AS b(k)",
        )
        .unwrap();
        let f = decl(Grain::Week, &[]);
        let d = Arc::new(Decl::new(&f, PathBuf::from("p.yaml")));
        let node = |table| ForecastNode {
            decl: d.clone(),
            table,
        };
        let vars = TemplateVars::new(NaiveDate::from_ymd_opt(2026, 9, 16).unwrap());
        let cols = node(Table::Forecast).columns(&wh).unwrap();
        assert_eq!(cols[0], ("period".to_string(), "DATE".to_string()));
        for (t, name) in [
            (Table::Forecast, "fc"),
            (Table::Accuracy, "fc_accuracy"),
            (Table::Realised, "fc_realised"),
        ] {
            node(t).build(&wh, &qualified("main", name), &vars).unwrap();
        }
        let mut stmt = wh
            .conn
            .prepare("SELECT period::VARCHAR, periods_ahead, point FROM fc ORDER BY period")
            .unwrap();
        let got: Vec<(String, i32, f64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-09-14".to_string(), 1, 10.0),
                ("2026-09-21".to_string(), 2, 10.0)
            ]
        );
        let (n, last, fallback): (i32, String, bool) = wh
            .conn
            .query_row(
                "SELECT n_periods, last_period::VARCHAR, fallback FROM fc_accuracy",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((n, last.as_str(), fallback), (10, "2026-09-07", false));
        assert_eq!(wh.count("fc_realised").unwrap(), 0);
    }

    #[test]
    fn each_period_of_a_decimal_measure_is_summed_exactly() {
        // Three months of 0.10 + 0.20 + 0.30: added as doubles in this order the months
        // are 0.6000000000000001 (in the reverse order, 0.6); summed as decimals, 0.6.
        let wh = memory();
        wh.exec(
            "CREATE TABLE t AS
             SELECT DATE '2026-01-01' + INTERVAL (m) MONTH AS d, CAST(v AS DECIMAL(18, 2)) AS v
             FROM range(0, 3) AS a(m), (VALUES (0.10), (0.20), (0.30)) AS b(v)
             ORDER BY m, v",
        )
        .unwrap();
        build_monthly(&wh, &[]).unwrap();
        let points: Vec<f64> = wh
            .conn
            .prepare("SELECT point FROM fc ORDER BY period")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(points, vec![0.6, 0.6]);
    }

    #[test]
    fn sums_of_doubles_follow_the_values_not_the_row_order() {
        // 1e16 + 1 - 1e16 + 1 in doubles is 1 in the first row order and 0 in others:
        // whatever it comes to, it must be the same for every row order. And small
        // values must not be rounded away (a DECIMAL(38, 9) cast once did).
        let wh = memory();
        let sum = |rows: &str| -> f64 {
            wh.scalar(&format!(
                "SELECT {} FROM (SELECT v FROM (VALUES {rows}) t(i, v) ORDER BY i)",
                exact_sum("v", "")
            ))
        };
        let a = sum("(1, 1e16::DOUBLE), (2, 1.0), (3, -1e16), (4, 1.0)");
        let b = sum("(1, 1.0), (2, -1e16::DOUBLE), (3, 1.0), (4, 1e16)");
        let c = sum("(1, -1e16::DOUBLE), (2, 1e16), (3, 1.0), (4, 1.0)");
        assert_eq!((a, b), (c, c));
        assert_eq!(sum("(1, 1e-12::DOUBLE), (2, 2e-12)"), 3e-12);
        let filtered: f64 = wh.scalar(&format!(
            "SELECT {} FROM (VALUES (1, 2.5::DOUBLE), (2, 4.0)) t(i, v)",
            exact_sum("v", " FILTER (WHERE i > 1)")
        ));
        assert_eq!(filtered, 4.0);
    }

    #[test]
    fn a_value_that_is_not_a_number_is_reported_with_its_period() {
        let err = |keys: &[&str]| {
            let wh = memory();
            wh.exec(
                "CREATE TABLE t AS
                 SELECT r AS region, 'x' AS team, DATE '2026-01-01' + INTERVAL (m) MONTH AS d,
                     CASE WHEN m = 1 AND r = 'South' THEN 'NaN'::DOUBLE ELSE 1.5 END AS v
                 FROM range(0, 3) AS a(m), (VALUES ('North'), ('South')) AS b(r)",
            )
            .unwrap();
            build_monthly(&wh, keys).unwrap_err().to_string()
        };
        assert_eq!(
            err(&[]),
            "forecast `fc`: `v` of `t` is NaN in the month of 2026-02-01, not a finite number"
        );
        // With keys, the series is named too.
        assert_eq!(
            err(&["region", "team"]),
            "forecast `fc`: `v` of `t` is NaN for region = South, team = x in the month of \
             2026-02-01, not a finite number"
        );
    }

    #[test]
    fn a_key_named_like_an_output_column_is_refused() {
        let wh = memory();
        wh.exec("CREATE TABLE t (model VARCHAR, d DATE, v DOUBLE)")
            .unwrap();
        let f = decl(Grain::Month, &["model"]);
        let d = Arc::new(Decl::new(&f, PathBuf::from("p.yaml")));
        let err = ForecastNode {
            decl: d,
            table: Table::Forecast,
        }
        .columns(&wh)
        .unwrap_err();
        assert_eq!(err.len(), 1);
        assert!(err[0]
            .message
            .starts_with("key `model` has the name of a column"));
    }

    #[test]
    fn periods_number_consecutively_and_map_back() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(period_index(Grain::Month, d(2026, 1, 31)), 2026 * 12);
        assert_eq!(period_index(Grain::Month, d(2025, 12, 1)), 2026 * 12 - 1);
        assert_eq!(period_start(Grain::Month, 2026 * 12 + 8), d(2026, 9, 1));
        assert_eq!(period_index(Grain::Quarter, d(2026, 9, 30)), 2026 * 4 + 2);
        assert_eq!(period_start(Grain::Quarter, 2026 * 4 + 3), d(2026, 10, 1));
        // 2026-09-28 is a Monday; the Sunday before belongs to the previous week.
        let w = period_index(Grain::Week, d(2026, 9, 28));
        assert_eq!(period_index(Grain::Week, d(2026, 10, 4)), w);
        assert_eq!(period_index(Grain::Week, d(2026, 9, 27)), w - 1);
        assert_eq!(period_start(Grain::Week, w), d(2026, 9, 28));
        assert_eq!(period_start(Grain::Week, 0), d(1970, 1, 5));
        assert_eq!(period_index(Grain::Week, d(1970, 1, 4)), -1);
    }
}
