//! The second pass over a parsed pipeline: resolve paths against the pipeline file's
//! folder, expand globs, and check names and references. Every problem is collected
//! (not just the first) and reported with the line and column of the offending key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::types::*;
use super::yaml::{self, Positions};
use crate::error::{ConfigError, Diagnostic};
use crate::sql::is_valid_ident;
use crate::util::suggest;

/// A validated pipeline with every path resolved.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline file as given on the command line.
    pub file: PathBuf,
    /// The parsed configuration.
    pub config: PipelineFile,
    /// The DuckDB database file.
    pub database: PathBuf,
    /// Root of the Parquet outputs.
    pub parquet_dir: PathBuf,
    /// Folder of rendered reports.
    pub reports_dir: PathBuf,
    /// Folder of the SQL models.
    pub models_dir: PathBuf,
    /// Sources in load order: a source comes after every source it references.
    pub sources: Vec<ResolvedSource>,
    /// Reports with resolved template and query paths.
    pub reports: Vec<ResolvedReport>,
    /// Forecast declarations with the positions of their keys, for later messages.
    pub forecasts: Vec<ResolvedForecast>,
}

/// A forecast declaration and where its fields are in the pipeline file.
#[derive(Debug, Clone)]
pub struct ResolvedForecast {
    /// The declaration.
    pub config: ForecastConfig,
    /// Line and column of each field by its path inside the declaration (`name`,
    /// `input`, `keys[0]`, `vs_target.targets`, ...).
    pub positions: BTreeMap<String, (usize, usize)>,
}

impl ResolvedForecast {
    /// Line and column of `field` (falls back to the declaration's `name`).
    pub fn at(&self, field: &str) -> (usize, usize) {
        self.positions
            .get(field)
            .or_else(|| self.positions.get("name"))
            .copied()
            .unwrap_or((0, 0))
    }
}

/// A source with its files found on disk.
#[derive(Debug, Clone)]
pub struct ResolvedSource {
    /// The source's configuration.
    pub config: SourceConfig,
    /// The files matching `path`, sorted.
    pub files: Vec<PathBuf>,
}

/// A report with resolved paths.
#[derive(Debug, Clone)]
pub struct ResolvedReport {
    /// The report's configuration.
    pub config: ReportConfig,
    /// Folder of the templates.
    pub templates_dir: PathBuf,
    /// Query name -> SQL file.
    pub queries: BTreeMap<String, PathBuf>,
}

impl Pipeline {
    /// The source called `name`.
    pub fn source(&self, name: &str) -> Option<&ResolvedSource> {
        self.sources.iter().find(|s| s.config.name == name)
    }
}

/// Reads, parses and validates the pipeline at `path`.
pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        diagnostics: vec![Diagnostic {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            code: "E000",
            message: format!("cannot read pipeline file: {e}"),
        }],
    })?;
    let config: PipelineFile = yaml::parse(&text, path)?;
    let positions = Positions::index(&text);
    Checker {
        file: path,
        text: &text,
        positions,
        diagnostics: Vec::new(),
        duck: None,
    }
    .check(config)
}

/// `p` resolved against the folder of the pipeline file `file`, absolute.
fn resolve_against(file: &Path, p: &str) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("."));
    let joined = dir.join(p);
    normalize(&std::path::absolute(&joined).unwrap_or(joined))
}

/// The pipeline's name, warehouse file and `as_of`, when the file at `path` parses
/// (whether or not it validates): where a run that fails on its configuration is
/// recorded.
pub fn locate_warehouse(path: &Path) -> Option<(String, PathBuf, Option<AsOf>)> {
    let text = std::fs::read_to_string(path).ok()?;
    if let Ok(config) = yaml::parse::<PipelineFile>(&text, path) {
        let database = resolve_against(path, &config.warehouse.database);
        return Some((config.name, database, config.as_of));
    }
    // A file the typed reading refused (an unknown key, a wrong type elsewhere) may still
    // name its warehouse: read just that, so that the failure is logged there too.
    let value: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
    let name = value.get("name")?.as_str()?.to_string();
    let database = value.get("warehouse")?.get("database")?.as_str()?;
    let as_of = value
        .get("as_of")
        .and_then(serde_yaml::Value::as_str)
        .and_then(|s| s.parse::<AsOf>().ok());
    Some((name, resolve_against(path, database), as_of))
}

struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    positions: Positions,
    diagnostics: Vec<Diagnostic>,
    /// An in-memory DuckDB for the checks that need the engine (regular expressions,
    /// typed values, rule expressions), opened on first use.
    duck: Option<duckdb::Connection>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, code: &'static str, message: String) {
        let pos = self.positions.key(path);
        self.error_at(pos, code, message);
    }

    fn error_at(&mut self, pos: yaml::Pos, code: &'static str, message: String) {
        self.diagnostics.push(Diagnostic {
            file: self.file.to_path_buf(),
            line: pos.line,
            column: pos.column,
            code,
            message,
        });
    }

    /// Position of byte `offset` of the scalar `value` at `path`, when the scalar is
    /// written on one line as it is (plain or quoted without escapes); else the
    /// position of the value.
    fn value_offset(&self, path: &str, value: &str, offset: Option<usize>) -> yaml::Pos {
        let pos = self.positions.value(path);
        let Some(offset) = offset.filter(|&o| o <= value.len() && value.is_char_boundary(o)) else {
            return pos;
        };
        let line = self
            .text
            .lines()
            .nth(pos.line.saturating_sub(1))
            .unwrap_or("");
        let rest: String = line.chars().skip(pos.column.saturating_sub(1)).collect();
        let quoted = rest.starts_with(['"', '\'']) && rest[1..].starts_with(value);
        if !rest.starts_with(value) && !quoted {
            return pos;
        }
        yaml::Pos {
            line: pos.line,
            column: pos.column + usize::from(quoted) + value[..offset].chars().count(),
        }
    }

    fn duck(&mut self) -> Option<&duckdb::Connection> {
        if self.duck.is_none() {
            self.duck = duckdb::Connection::open_in_memory().ok();
        }
        self.duck.as_ref()
    }

    /// An absolute, lexically normalised path: relative paths resolve against the
    /// pipeline file's folder.
    fn resolve(&self, p: &str) -> PathBuf {
        resolve_against(self.file, p)
    }

    fn check(mut self, config: PipelineFile) -> Result<Pipeline, ConfigError> {
        if config.version != 1 {
            self.error(
                "version",
                "E002",
                format!("unsupported `version: {}`; only 1 exists", config.version),
            );
        }
        if !(1..=12).contains(&config.fiscal_year_start_month) {
            self.error(
                "fiscal_year_start_month",
                "E002",
                format!(
                    "`fiscal_year_start_month: {}`: expected a month number, 1 to 12",
                    config.fiscal_year_start_month
                ),
            );
        }
        if config.vars.contains_key("fiscal_year_start_month") {
            self.error(
                "vars.fiscal_year_start_month",
                "E002",
                "`vars.fiscal_year_start_month` is not read: the fiscal year is set by \
                 `fiscal_year_start_month:` at the top of the pipeline"
                    .to_string(),
            );
        }
        let models_dir = self.resolve(&config.models.path);
        if !models_dir.is_dir() {
            self.error(
                "models.path",
                "E015",
                format!("models folder `{}` does not exist", models_dir.display()),
            );
        }
        let sources = self.check_sources(&config.sources);
        self.check_latest_from(&config);
        let reports = self.check_reports(&config.reports);
        let forecasts = self.check_forecasts(&config);
        let order = match load_order(&sources) {
            Ok(order) => order,
            Err(cycle) => {
                let names: Vec<&str> = cycle
                    .iter()
                    .map(|&i| sources[i].config.name.as_str())
                    .collect();
                let at = format!("sources[{}]", cycle[0]);
                self.error(
                    &at,
                    "E014",
                    format!(
                        "sources reference each other in a cycle: {}",
                        names.join(" -> ")
                    ),
                );
                Vec::new()
            }
        };
        let mut diagnostics = std::mem::take(&mut self.diagnostics);
        if !diagnostics.is_empty() {
            diagnostics.sort_by_key(|d| (d.line, d.column));
            return Err(ConfigError { diagnostics });
        }
        let w = &config.warehouse;
        Ok(Pipeline {
            file: self.file.to_path_buf(),
            database: self.resolve(&w.database),
            parquet_dir: self.resolve(&w.parquet_dir),
            reports_dir: self.resolve(&w.reports_dir),
            models_dir,
            sources: order.into_iter().map(|i| sources[i].clone()).collect(),
            reports,
            forecasts,
            config,
        })
    }

    /// Forecast declarations (E050): names of the tables they write, columns named as
    /// identifiers, settings in range. The input's columns are checked when the graph is
    /// planned or built.
    fn check_forecasts(&mut self, config: &PipelineFile) -> Vec<ResolvedForecast> {
        let sources: BTreeSet<&str> = config.sources.iter().map(|s| s.name.as_str()).collect();
        let mut tables: BTreeMap<String, String> = BTreeMap::new();
        let mut out = Vec::new();
        for (i, f) in config.forecasts.iter().enumerate() {
            let at = format!("forecasts[{i}]");
            let mut own: Vec<(String, String)> = vec![(format!("{at}.name"), f.name.clone())];
            for suffix in ["accuracy", "realised"] {
                own.push((format!("{at}.name"), format!("{}_{suffix}", f.name)));
            }
            if let Some(v) = &f.vs_target {
                own.push((format!("{at}.vs_target.name"), v.name.clone()));
            }
            for (path, table) in &own {
                if !is_valid_ident(table) {
                    self.error(
                        path,
                        "E050",
                        format!(
                            "invalid forecast table name `{table}`: use letters, digits and `_` \
                             (at most 63 characters)"
                        ),
                    );
                } else if sources.contains(table.as_str()) {
                    self.error(
                        path,
                        "E050",
                        format!("forecast table `{table}` has the name of a source"),
                    );
                } else if let Some(other) = tables.get(table) {
                    self.error(
                        path,
                        "E050",
                        format!("forecast table `{table}` is also written by `{other}`"),
                    );
                } else {
                    tables.insert(table.clone(), f.name.clone());
                }
            }
            let mut idents: Vec<(String, &str, &str)> = vec![
                (format!("{at}.input"), "input", f.input.as_str()),
                (format!("{at}.period"), "period", f.period.as_str()),
                (format!("{at}.measure"), "measure", f.measure.as_str()),
            ];
            for (k, key) in f.keys.iter().enumerate() {
                idents.push((format!("{at}.keys[{k}]"), "keys", key.as_str()));
            }
            if let Some(v) = &f.vs_target {
                idents.push((
                    format!("{at}.vs_target.targets"),
                    "vs_target.targets",
                    &v.targets,
                ));
                idents.push((
                    format!("{at}.vs_target.target"),
                    "vs_target.target",
                    &v.target,
                ));
                if let Some(p) = &v.period {
                    idents.push((format!("{at}.vs_target.period"), "vs_target.period", p));
                }
                for (k, l) in v.levels.iter().enumerate() {
                    idents.push((format!("{at}.vs_target.levels[{k}]"), "vs_target.levels", l));
                }
            }
            for (path, field, value) in &idents {
                if !is_valid_ident(value) {
                    self.error(
                        path,
                        "E050",
                        format!("invalid name `{value}` in `{field}`: use letters, digits and `_`"),
                    );
                }
            }
            let mut seen = BTreeSet::new();
            let named = f
                .keys
                .iter()
                .enumerate()
                .map(|(k, c)| (format!("{at}.keys[{k}]"), c))
                .chain([
                    (format!("{at}.period"), &f.period),
                    (format!("{at}.measure"), &f.measure),
                ]);
            for (path, c) in named {
                if !seen.insert(c.as_str()) {
                    self.error(
                        &path,
                        "E050",
                        format!("column `{c}` is named twice among `keys`, `period` and `measure`"),
                    );
                }
            }
            if own.iter().any(|(_, t)| *t == f.input) {
                self.error(
                    &format!("{at}.input"),
                    "E050",
                    format!(
                        "forecast `{}` cannot read its own table `{}`",
                        f.name, f.input
                    ),
                );
            }
            let spec = crate::forecast::ForecastSpec {
                horizon: f.horizon,
                season_length: f.season_length.unwrap_or(f.grain.season()),
                candidates: f.candidates.clone(),
                origins: f.origins,
                step: f.step,
                metric: f.metric,
            };
            for (field, bad) in [
                ("horizon", f.horizon == 0),
                ("season_length", spec.season_length == 0),
                ("origins", f.origins == 0),
                ("step", f.step == 0),
            ] {
                if bad {
                    self.error(
                        &format!("{at}.{field}"),
                        "E050",
                        format!("`{field}` must be at least 1"),
                    );
                }
            }
            if f.candidates.is_empty() {
                self.error(
                    &format!("{at}.candidates"),
                    "E050",
                    "`candidates` is empty; list at least one model, e.g. [naive, ets]".into(),
                );
            }
            let mut kinds = BTreeSet::new();
            for (k, c) in f.candidates.iter().enumerate() {
                if !kinds.insert(c.name()) {
                    self.error(
                        &format!("{at}.candidates[{k}]"),
                        "E050",
                        format!("model `{c}` is listed twice in `candidates`"),
                    );
                }
            }
            if let Some(v) = &f.vs_target {
                if f.grain == Grain::Week {
                    self.error(
                        &format!("{at}.vs_target"),
                        "E050",
                        "`vs_target` needs a monthly or quarterly forecast (`grain: month` or \
                         `grain: quarter`)"
                            .into(),
                    );
                }
                for (k, l) in v.levels.iter().enumerate() {
                    if f.keys.contains(l) {
                        self.error(
                            &format!("{at}.vs_target.levels[{k}]"),
                            "E050",
                            format!("level `{l}` is a key of the forecast; levels roll keys up"),
                        );
                    }
                }
            }
            let mut positions = BTreeMap::new();
            let mut fields: Vec<String> = [
                "name",
                "input",
                "period",
                "measure",
                "vs_target",
                "vs_target.name",
                "vs_target.targets",
                "vs_target.period",
                "vs_target.target",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            fields.extend((0..f.keys.len()).map(|k| format!("keys[{k}]")));
            if let Some(v) = &f.vs_target {
                fields.extend((0..v.levels.len()).map(|k| format!("vs_target.levels[{k}]")));
            }
            for field in fields {
                let pos = self.positions.value(&format!("{at}.{field}"));
                positions.insert(field, (pos.line, pos.column));
            }
            out.push(ResolvedForecast {
                config: f.clone(),
                positions,
            });
        }
        out
    }

    fn check_sources(&mut self, sources: &[SourceConfig]) -> Vec<ResolvedSource> {
        let mut seen = BTreeSet::new();
        let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
        let mut out = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            let at = format!("sources[{i}]");
            if !is_valid_ident(&s.name) {
                self.error(
                    &format!("{at}.name"),
                    "E010",
                    format!(
                        "invalid source name `{}`: use letters, digits and `_`",
                        s.name
                    ),
                );
            } else if !seen.insert(s.name.as_str()) {
                self.error(
                    &format!("{at}.name"),
                    "E010",
                    format!("duplicate source name `{}`", s.name),
                );
            }
            let files = self.expand(&at, &s.path);
            self.check_format_options(&at, s);
            self.check_columns(&at, s);
            self.check_column_rules(&at, s);
            self.check_rules(&at, s);
            self.check_delete_when(&at, s);
            self.check_anomalies(&at, s);
            for (j, r) in s.columns.iter().enumerate() {
                if let Some(target) = &r.references {
                    self.check_reference(
                        &format!("{at}.columns[{j}].references"),
                        target,
                        sources,
                        &names,
                    );
                }
            }
            out.push(ResolvedSource {
                config: s.clone(),
                files,
            });
        }
        out
    }

    fn expand(&mut self, at: &str, pattern: &str) -> Vec<PathBuf> {
        let full = self.resolve(pattern);
        let text = full.to_string_lossy().to_string();
        let mut files: Vec<PathBuf> = match glob::glob(&text) {
            Ok(paths) => paths
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect(),
            Err(e) => {
                self.error(
                    &format!("{at}.path"),
                    "E011",
                    format!("invalid glob `{pattern}`: {e}"),
                );
                return Vec::new();
            }
        };
        files.sort();
        if files.is_empty() {
            self.error(
                &format!("{at}.path"),
                "E011",
                format!("no file matches `{pattern}` (looked for `{text}`)"),
            );
        }
        files
    }

    fn check_format_options(&mut self, at: &str, s: &SourceConfig) {
        let text = matches!(s.format, Format::Csv | Format::Tsv);
        if s.csv.is_some() && !text {
            self.error(
                &format!("{at}.csv"),
                "E012",
                format!(
                    "`csv` options apply to csv and tsv sources, not {:?}",
                    s.format
                ),
            );
        }
        if s.load == LoadMode::Incremental && s.key.is_empty() {
            self.error(
                &format!("{at}.load"),
                "E012",
                format!("`load: incremental` needs a `key` to merge `{}` by", s.name),
            );
        }
        if let Some(csv) = &s.csv {
            let delim = csv
                .delimiter
                .unwrap_or(if s.format == Format::Tsv { '\t' } else { ',' });
            match csv.comment.as_deref() {
                Some("") => self.error(
                    &format!("{at}.csv.comment"),
                    "E012",
                    "`comment` needs the text that starts a comment line, e.g. \"#\"".to_string(),
                ),
                Some(c) if c.starts_with(csv.quote) || c.starts_with(delim) => self.error(
                    &format!("{at}.csv.comment"),
                    "E012",
                    format!(
                        "`comment: {c}` starts like a record (with the quote or the delimiter); \
                         choose another prefix, e.g. \"#\""
                    ),
                ),
                _ => {}
            }
        }
        if s.xlsx.is_some() && s.format != Format::Xlsx {
            self.error(
                &format!("{at}.xlsx"),
                "E012",
                "`xlsx` options apply to xlsx sources".to_string(),
            );
        }
        if s.encoding != Encoding::Utf8 && matches!(s.format, Format::Parquet | Format::Xlsx) {
            self.error(
                &format!("{at}.encoding"),
                "E012",
                format!("`encoding` does not apply to {:?} files", s.format),
            );
        }
    }

    fn check_columns(&mut self, at: &str, s: &SourceConfig) {
        let mut seen = BTreeSet::new();
        for (j, c) in s.columns.iter().enumerate() {
            let cat = format!("{at}.columns[{j}]");
            if !is_valid_ident(&c.name) {
                self.error(
                    &format!("{cat}.name"),
                    "E012",
                    format!(
                        "invalid column name `{}`: use letters, digits and `_`",
                        c.name
                    ),
                );
            } else if !seen.insert(c.name.as_str()) {
                self.error(
                    &format!("{cat}.name"),
                    "E012",
                    format!("duplicate column `{}` in source `{}`", c.name, s.name),
                );
            }
            let temporal = matches!(c.ty, ColumnType::Date | ColumnType::Timestamp);
            if !c.formats.is_empty() && !temporal {
                self.error(
                    &format!("{cat}.formats"),
                    "E012",
                    format!(
                        "`formats` applies to date and timestamp columns, not `{}` ({})",
                        c.name, c.ty
                    ),
                );
            }
            let numeric = matches!(c.ty, ColumnType::Integer | ColumnType::Decimal(..));
            for (key, v) in [("min", c.min), ("max", c.max)] {
                if v.is_some() && !numeric {
                    self.error(
                        &format!("{cat}.{key}"),
                        "E012",
                        format!(
                            "`{key}` applies to numeric columns, not `{}` ({})",
                            c.name, c.ty
                        ),
                    );
                }
            }
            if (c.strip.is_some() || c.parentheses_negative) && !numeric {
                self.error(
                    &format!("{cat}.strip"),
                    "E012",
                    format!(
                        "`strip` and `parentheses_negative` apply to numeric columns, not `{}`",
                        c.name
                    ),
                );
            }
            if c.case.is_some() && c.ty != ColumnType::String {
                self.error(
                    &format!("{cat}.case"),
                    "E012",
                    format!("`case` applies to string columns, not `{}`", c.name),
                );
            }
        }
        let cols: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        for (k, key) in s.key.iter().enumerate() {
            if !cols.contains(&key.as_str()) {
                let msg = unknown_column(key, &format!("{}.key", s.name), &cols);
                self.error(&format!("{at}.key[{k}]"), "E012", msg);
            }
        }
        if let Some(l) = &s.latest_by {
            if !cols.contains(&l.as_str()) {
                let msg = unknown_column(l, &format!("{}.latest_by", s.name), &cols);
                self.error(&format!("{at}.latest_by"), "E012", msg);
            }
        }
    }

    /// Column rules (E021): `pattern` compiles, `allowed` values and the `default` are
    /// valid values of the column (the default passes the column's own rules), and each
    /// `warn` entry names a rule the column has.
    fn check_column_rules(&mut self, at: &str, s: &SourceConfig) {
        for (j, c) in s.columns.iter().enumerate() {
            let cat = format!("{at}.columns[{j}]");
            let key = s.key.contains(&c.name);
            if let Some(p) = &c.pattern {
                let sql = format!("SELECT regexp_full_match('', {})", crate::sql::literal(p));
                if let Some(Err(e)) = self.duck().map(|d| d.execute_batch(&sql)) {
                    let why = e.to_string();
                    let why = why.lines().next().unwrap_or_default();
                    let why = why.strip_prefix("Invalid Input Error: ").unwrap_or(why);
                    self.error(
                        &format!("{cat}.pattern"),
                        "E021",
                        format!("invalid `pattern` of `{}`: {why}", c.name),
                    );
                }
            }
            if let Some(values) = &c.allowed {
                if values.is_empty() {
                    self.error(
                        &format!("{cat}.allowed"),
                        "E021",
                        format!("`allowed` of `{}` lists no value", c.name),
                    );
                }
                for (k, v) in values.iter().enumerate() {
                    if let Some(msg) = self.loaded_value(c, v, "allowed value") {
                        self.error(&format!("{cat}.allowed[{k}]"), "E021", msg);
                    }
                }
            }
            if let Some(d) = &c.default {
                let path = format!("{cat}.default");
                if key {
                    self.error(
                        &path,
                        "E021",
                        format!(
                            "key column `{}` cannot have a `default`: every blank key would \
                             become one row",
                            c.name
                        ),
                    );
                } else if c.required {
                    self.error(
                        &path,
                        "E021",
                        format!(
                            "`{}` has both `required` and `default`, so `required` never fails; \
                             drop one",
                            c.name
                        ),
                    );
                }
                let sql = crate::clean::literal_failures_sql(c, d);
                let failed = self
                    .duck()
                    .map(|conn| conn.query_row(&sql, [], |r| r.get::<_, duckdb::types::Value>(0)));
                if let Some(Ok(duckdb::types::Value::List(list))) = failed {
                    let reasons: Vec<String> = list
                        .into_iter()
                        .filter_map(|x| match x {
                            duckdb::types::Value::Text(t) => Some(t),
                            _ => None,
                        })
                        .collect();
                    if !reasons.is_empty() {
                        self.error(
                            &path,
                            "E021",
                            format!(
                                "`default: {d}` of `{}` fails the column's own rules: {}",
                                c.name,
                                reasons.join("; ")
                            ),
                        );
                    }
                }
            }
            for (k, kind) in c.warn.iter().enumerate() {
                let has = match kind {
                    RuleKind::Required => c.required || key,
                    RuleKind::Type => c.ty != ColumnType::String,
                    RuleKind::Scale => matches!(c.ty, ColumnType::Decimal(..)),
                    RuleKind::Min => c.min.is_some(),
                    RuleKind::Max => c.max.is_some(),
                    RuleKind::Pattern => c.pattern.is_some(),
                    RuleKind::Allowed => c.allowed.is_some(),
                    RuleKind::References => c.references.is_some(),
                };
                let path = format!("{cat}.warn[{k}]");
                let name = kind.as_str();
                if !has {
                    self.error(
                        &path,
                        "E021",
                        format!("`warn: [{name}]`: column `{}` has no `{name}` rule", c.name),
                    );
                } else if key && matches!(kind, RuleKind::Required | RuleKind::Type) {
                    self.error(
                        &path,
                        "E021",
                        format!(
                            "`warn: [{name}]`: `{}` is a key column, and a row without its key \
                             cannot be loaded",
                            c.name
                        ),
                    );
                }
            }
        }
    }

    /// Why `value` cannot be a loaded value of `c` (an `allowed` or `delete_when` value):
    /// it does not convert to the type, or a string column's `case` changes it.
    fn loaded_value(&mut self, c: &ColumnConfig, value: &str, what: &str) -> Option<String> {
        let typed = crate::clean::typed_expr(c, &crate::sql::literal(value));
        let sql = format!("SELECT CAST({typed} AS VARCHAR)");
        let loaded: Option<String> = self.duck()?.query_row(&sql, [], |r| r.get(0)).ok()?;
        match loaded {
            None => Some(format!(
                "{what} `{value}` of `{}` is not a valid {}",
                c.name, c.ty
            )),
            Some(l) if c.ty == ColumnType::String && l != value => Some(format!(
                "{what} `{value}` of `{}` can never match: its `case` loads every value as `{l}`",
                c.name
            )),
            Some(_) => None,
        }
    }

    /// Cross-column rules (E022): valid unique names and a check that parses and binds
    /// over the declared columns.
    fn check_rules(&mut self, at: &str, s: &SourceConfig) {
        const BUILT_IN: [&str; 10] = [
            "required",
            "type",
            "scale",
            "min",
            "max",
            "pattern",
            "allowed",
            "references",
            "parse",
            "anomaly",
        ];
        let mut seen = BTreeSet::new();
        for (j, r) in s.rules.iter().enumerate() {
            let rat = format!("{at}.rules[{j}]");
            if !is_valid_ident(&r.name) {
                self.error(
                    &format!("{rat}.name"),
                    "E022",
                    format!(
                        "invalid rule name `{}`: use letters, digits and `_`",
                        r.name
                    ),
                );
            } else if BUILT_IN.contains(&r.name.as_str()) {
                self.error(
                    &format!("{rat}.name"),
                    "E022",
                    format!(
                        "rule name `{}` is a built-in rule of `rejects`; choose another",
                        r.name
                    ),
                );
            } else if !seen.insert(r.name.as_str()) {
                self.error(
                    &format!("{rat}.name"),
                    "E022",
                    format!("duplicate rule `{}` in source `{}`", r.name, s.name),
                );
            }
            let Some(conn) = self.duck() else { continue };
            if let Err(e) = crate::clean::expr::parse(conn, &r.check, &s.columns, "t") {
                let path = format!("{rat}.check");
                let pos = self.value_offset(&path, &r.check, e.offset);
                self.error_at(
                    pos,
                    "E022",
                    format!("rule `{}` of `{}`: {}", r.name, s.name, e.message),
                );
            }
        }
    }

    /// `delete_when` (E023): an incremental source, a declared non-key column and values
    /// it can hold.
    fn check_delete_when(&mut self, at: &str, s: &SourceConfig) {
        let Some(d) = &s.delete_when else { return };
        let dat = format!("{at}.delete_when");
        if s.load != LoadMode::Incremental {
            self.error(
                &dat,
                "E023",
                format!(
                    "`delete_when` applies to `load: incremental` sources, not `load: {}`",
                    format!("{:?}", s.load).to_lowercase()
                ),
            );
        }
        let cols: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        let Some(c) = s.columns.iter().find(|c| c.name == d.column) else {
            let msg = unknown_column(&d.column, &format!("{}.delete_when", s.name), &cols);
            self.error(&format!("{dat}.column"), "E023", msg);
            return;
        };
        if s.key.contains(&c.name) {
            self.error(
                &format!("{dat}.column"),
                "E023",
                format!(
                    "`delete_when.column` `{}` is part of the key; name the status column",
                    c.name
                ),
            );
        }
        if d.values.is_empty() {
            self.error(
                &format!("{dat}.values"),
                "E023",
                "`delete_when.values` lists no value".to_string(),
            );
        }
        for (k, v) in d.values.iter().enumerate() {
            if let Some(msg) = self.loaded_value(c, v, "`delete_when` value") {
                self.error(&format!("{dat}.values[{k}]"), "E023", msg);
            }
        }
    }

    /// Outlier rules: a declared numeric column, declared group columns, a positive
    /// threshold and a group size of at least 2.
    fn check_anomalies(&mut self, at: &str, s: &SourceConfig) {
        let cols: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        for (j, a) in s.anomalies.iter().enumerate() {
            let aat = format!("{at}.anomalies[{j}]");
            let context = format!("{}.anomalies", s.name);
            match s.columns.iter().find(|c| c.name == a.column) {
                None => {
                    let msg = unknown_column(&a.column, &context, &cols);
                    self.error(&format!("{aat}.column"), "E020", msg);
                }
                Some(c) if !matches!(c.ty, ColumnType::Integer | ColumnType::Decimal(..)) => {
                    self.error(
                        &format!("{aat}.column"),
                        "E020",
                        format!(
                            "anomalies apply to numeric columns (integer or decimal), not `{}` ({})",
                            c.name, c.ty
                        ),
                    );
                }
                Some(_) => {}
            }
            for (k, g) in a.group_by.iter().enumerate() {
                if !cols.contains(&g.as_str()) {
                    let msg = unknown_column(g, &format!("{context}.group_by"), &cols);
                    self.error(&format!("{aat}.group_by[{k}]"), "E020", msg);
                }
            }
            if let Some(t) = a.threshold {
                if !(t.is_finite() && t > 0.0) {
                    self.error(
                        &format!("{aat}.threshold"),
                        "E020",
                        format!(
                            "`threshold: {t}` must be a number above 0 (a z-score for robust_z, \
                             the fence multiplier k for iqr)"
                        ),
                    );
                }
            }
            if a.min_group_size < 2 {
                self.error(
                    &format!("{aat}.min_group_size"),
                    "E020",
                    format!(
                        "`min_group_size: {}` must be at least 2: one value is never abnormal \
                         within its own group",
                        a.min_group_size
                    ),
                );
            }
        }
    }

    fn check_reference(
        &mut self,
        path: &str,
        target: &str,
        sources: &[SourceConfig],
        names: &[&str],
    ) {
        let Some((src, col)) = target.split_once('.') else {
            self.error(
                path,
                "E013",
                format!("invalid reference `{target}`: write `source.column`"),
            );
            return;
        };
        let Some(s) = sources.iter().find(|s| s.name == src) else {
            let mut msg = format!("unknown source `{src}` in reference `{target}`");
            if let Some(h) = suggest(src, names.iter().copied()) {
                msg.push_str(&format!("; did you mean `{h}`?"));
            }
            self.error(path, "E013", msg);
            return;
        };
        let cols: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).collect();
        if !cols.contains(&col) {
            let msg = unknown_column(col, &format!("reference `{target}`"), &cols);
            self.error(path, "E013", msg);
        } else if s.key != [col] {
            self.error(
                path,
                "E013",
                format!("reference `{target}` must name the single key column of `{src}`"),
            );
        }
    }

    fn check_latest_from(&mut self, config: &PipelineFile) {
        match (&config.latest_from, config.as_of) {
            (None, Some(AsOf::Latest)) => self.error(
                "as_of",
                "E019",
                "`as_of: latest` needs `latest_from: source.column`".to_string(),
            ),
            (Some(target), _) => {
                let ok = target.split_once('.').and_then(|(s, c)| {
                    let src = config.sources.iter().find(|x| x.name == s)?;
                    src.columns
                        .iter()
                        .find(|x| x.name == c && x.ty == ColumnType::Date)
                });
                if ok.is_none() {
                    self.error(
                        "latest_from",
                        "E019",
                        format!(
                            "`latest_from: {target}` must name a date column as `source.column`"
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    fn check_reports(&mut self, reports: &[ReportConfig]) -> Vec<ResolvedReport> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, r) in reports.iter().enumerate() {
            let at = format!("reports[{i}]");
            if !is_valid_ident(&r.name) {
                self.error(
                    &format!("{at}.name"),
                    "E016",
                    format!("invalid report name `{}`", r.name),
                );
            } else if !seen.insert(r.name.as_str()) {
                self.error(
                    &format!("{at}.name"),
                    "E016",
                    format!("duplicate report name `{}`", r.name),
                );
            }
            let templates_dir = self.resolve(&r.templates);
            for f in &r.formats {
                let t = templates_dir.join(format!("{}.{}.tera", r.template, f.extension()));
                if !t.is_file() {
                    self.error(
                        &format!("{at}.template"),
                        "E016",
                        format!("template `{}` not found for format {:?}", t.display(), f),
                    );
                }
            }
            let mut queries = BTreeMap::new();
            for (name, file) in &r.queries {
                let p = self.resolve(file);
                let path = format!("{at}.queries.{name}");
                match std::fs::read_to_string(&p) {
                    Err(e) => self.error(&path, "E017", format!("query file `{}`: {e}", p.display())),
                    Ok(sql) if !has_order_by(&sql) => self.error(
                        &path,
                        "E018",
                        format!("report query `{name}` ({}) has no ORDER BY; report output must be deterministic", p.display()),
                    ),
                    Ok(_) => {}
                }
                if !is_valid_ident(name) {
                    self.error(&path, "E017", format!("invalid query name `{name}`"));
                }
                queries.insert(name.clone(), p);
            }
            out.push(ResolvedReport {
                config: r.clone(),
                templates_dir,
                queries,
            });
        }
        out
    }
}

/// Removes `.` and `name/..` pairs without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn unknown_column(name: &str, context: &str, cols: &[&str]) -> String {
    let mut msg = format!("unknown column `{name}` in `{context}`");
    if let Some(h) = suggest(name, cols.iter().copied()) {
        msg.push_str(&format!("; did you mean `{h}`?"));
    }
    msg
}

/// True when the SQL text has an `ORDER BY` outside comments.
fn has_order_by(sql: &str) -> bool {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let words: Vec<&str> = code.split_whitespace().collect();
    words.windows(2).any(|w| w[0] == "ORDER" && w[1] == "BY")
}

/// Sources ordered so each comes after the sources it references (stable otherwise);
/// `Err` names the sources caught in a reference cycle.
fn load_order(sources: &[ResolvedSource]) -> Result<Vec<usize>, Vec<usize>> {
    let deps: Vec<BTreeSet<usize>> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.config
                .columns
                .iter()
                .filter_map(|c| c.references.as_deref()?.split_once('.'))
                .filter_map(|(src, _)| sources.iter().position(|x| x.config.name == src))
                .filter(|&d| d != i)
                .collect()
        })
        .collect();
    let mut done = vec![false; sources.len()];
    let mut order = Vec::new();
    while order.len() < sources.len() {
        let before = order.len();
        for i in 0..sources.len() {
            if !done[i] && deps[i].iter().all(|&d| done[d]) {
                done[i] = true;
                order.push(i);
            }
        }
        if order.len() == before {
            return Err((0..sources.len()).filter(|&i| !done[i]).collect());
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }

    #[test]
    fn order_by_detection_ignores_comments() {
        assert!(has_order_by("select 1\norder  by 1"));
        assert!(!has_order_by("select 1 -- order by 1"));
    }
}
