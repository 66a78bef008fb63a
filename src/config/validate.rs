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
        positions,
        diagnostics: Vec::new(),
    }
    .check(config)
}

struct Checker<'a> {
    file: &'a Path,
    positions: Positions,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, code: &'static str, message: String) {
        let pos = self.positions.key(path);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_path_buf(),
            line: pos.line,
            column: pos.column,
            code,
            message,
        });
    }

    /// An absolute, lexically normalised path: relative paths resolve against the
    /// pipeline file's folder.
    fn resolve(&self, p: &str) -> PathBuf {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        let joined = dir.join(p);
        normalize(&std::path::absolute(&joined).unwrap_or(joined))
    }

    fn check(mut self, config: PipelineFile) -> Result<Pipeline, ConfigError> {
        if config.version != 1 {
            self.error(
                "version",
                "E002",
                format!("unsupported `version: {}`; only 1 exists", config.version),
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
            config,
        })
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
