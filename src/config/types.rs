//! Serde types of the pipeline YAML (`version: 1`). Every struct denies unknown fields;
//! the doc comments double as the configuration reference in the README.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

/// A whole pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Config format version; only `1` exists.
    pub version: u32,
    /// The pipeline's name, recorded in the run log.
    pub name: String,
    /// Free text shown by `validate`.
    #[serde(default)]
    pub description: Option<String>,
    /// Default as-of date (`YYYY-MM-DD` or `latest`); `--as-of` on the command line wins.
    #[serde(default)]
    pub as_of: Option<AsOf>,
    /// Where `as_of: latest` looks: `source.column` of a date column, e.g.
    /// `orders.order_date`.
    #[serde(default)]
    pub latest_from: Option<String>,
    /// Where the warehouse and its outputs live.
    pub warehouse: WarehouseConfig,
    /// The extracts to load.
    pub sources: Vec<SourceConfig>,
    /// The SQL models.
    pub models: ModelsConfig,
    /// The reports to render.
    #[serde(default)]
    pub reports: Vec<ReportConfig>,
    /// First month of the fiscal year (1-12, default 1); models see `fiscal_year`,
    /// `fiscal_year_start`, `fiscal_quarter`, ... of the as-of date.
    #[serde(default = "default_fiscal_year_start_month")]
    pub fiscal_year_start_month: u32,
    /// Extra template variables for models and reports (`{{ var.name }}`).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// What happens to the values of columns marked `pii: true`.
    #[serde(default)]
    pub privacy: PrivacyConfig,
    /// Forecast nodes of the model graph, computed in Rust (README, "Forecasts").
    #[serde(default)]
    pub forecasts: Vec<ForecastConfig>,
}

/// Handling of personal data (columns marked `pii: true`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyConfig {
    /// Replace the values of PII columns by `***` wherever salespipe copies values out of
    /// the source tables: `rejects` and `warnings` (`value` and `raw_text`), `anomalies`
    /// (`value`, `group_key`) and the Parquet exports of models (columns of a PII name).
    /// The warehouse tables keep the values. Default false.
    #[serde(default)]
    pub mask_pii: bool,
}

fn default_fiscal_year_start_month() -> u32 {
    1
}

/// A date, or the keyword `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AsOf {
    /// A fixed date.
    Date(NaiveDate),
    /// The latest date found in `latest_from` after loading.
    Latest,
}

impl TryFrom<String> for AsOf {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl std::str::FromStr for AsOf {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Ok(AsOf::Latest);
        }
        // Exactly YYYY-MM-DD: chrono alone takes `26-09-30` as the year 26. Years outside
        // 1900-2199 are refused too: the date spines of the models would run for ages.
        let shaped = s.len() == 10
            && s.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        let invalid =
            || format!("invalid as-of `{s}`: expected a date like 2026-09-30 or `latest`");
        let date = shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(invalid)?;
        if !(1900..=2199).contains(&date.year()) {
            return Err(format!(
                "invalid as-of `{s}`: the year must be between 1900 and 2199"
            ));
        }
        Ok(AsOf::Date(date))
    }
}

/// Warehouse location and engine settings. Relative paths resolve against the folder of
/// the pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseConfig {
    /// The DuckDB database file.
    pub database: String,
    /// Folder of the Parquet outputs; each table is published at `<parquet_dir>/<table>/`.
    pub parquet_dir: String,
    /// Folder of the rendered reports.
    pub reports_dir: String,
    /// DuckDB `memory_limit`, e.g. `2GB`.
    #[serde(default)]
    pub memory_limit: Option<String>,
    /// DuckDB worker threads.
    #[serde(default)]
    pub threads: Option<u32>,
}

/// File format of an extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma (or `csv.delimiter`) separated values.
    Csv,
    /// Tab separated values.
    Tsv,
    /// One JSON object per line; "line" in rejects is the file line.
    Ndjson,
    /// A JSON array of objects; "line" in rejects is the element index (from 1).
    Json,
    /// Parquet; "line" in rejects is the row index (from 1).
    Parquet,
    /// An Excel workbook sheet; "line" in rejects is the sheet row.
    Xlsx,
}

/// Text encoding of a CSV/TSV/NDJSON extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK (simplified/traditional Chinese, Windows code page 936).
    Gbk,
    /// GB18030, the superset of GBK.
    Gb18030,
    /// UTF-16, little-endian (what Windows tools call "Unicode"), with or without a
    /// byte-order mark.
    #[serde(rename = "utf-16le")]
    Utf16Le,
    /// UTF-16, big-endian, with or without a byte-order mark.
    #[serde(rename = "utf-16be")]
    Utf16Be,
}

impl Encoding {
    /// The name used in the pipeline, e.g. `utf-16le`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Gb18030 => "gb18030",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }
}

/// Options of the XLSX reader.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxOptions {
    /// Sheet name; default the first sheet.
    #[serde(default)]
    pub sheet: Option<String>,
    /// 1-based row of the header; default 1.
    #[serde(default = "default_header_row")]
    pub header_row: u32,
}

fn default_header_row() -> u32 {
    1
}

/// Options of the CSV/TSV reader.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvOptions {
    /// Field delimiter; default `,` (`\t` for `tsv`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Quote character; default `"`.
    #[serde(default = "default_quote")]
    pub quote: char,
    /// Whether line 1 (after `skip_rows`) is a header; default true.
    #[serde(default = "default_true")]
    pub header: bool,
    /// Lines to skip before the header.
    #[serde(default)]
    pub skip_rows: u32,
    /// Lines starting with this text (outside quoted fields) are comments: skipped, and
    /// not counted as records; later records keep their physical line numbers.
    #[serde(default)]
    pub comment: Option<String>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            quote: '"',
            header: true,
            skip_rows: 0,
            comment: None,
        }
    }
}

fn default_quote() -> char {
    '"'
}
fn default_true() -> bool {
    true
}

/// One extract (a file or a glob of files) and how to type, check and dedupe it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Table name in the warehouse; letters, digits and `_`.
    pub name: String,
    /// File path or glob, relative to the pipeline file.
    pub path: String,
    /// File format.
    pub format: Format,
    /// CSV/TSV reader options.
    #[serde(default)]
    pub csv: Option<CsvOptions>,
    /// XLSX reader options.
    #[serde(default)]
    pub xlsx: Option<XlsxOptions>,
    /// Text encoding (CSV, TSV, NDJSON, JSON); default UTF-8.
    #[serde(default)]
    pub encoding: Encoding,
    /// How the warehouse table is updated from the files: `snapshot` (default; the
    /// extract is the whole truth, the table is replaced), `incremental` (new or changed
    /// files are merged by key, latest wins) or `append` (new files are appended; event
    /// logs).
    #[serde(default)]
    pub load: LoadMode,
    /// Key columns: a row whose key is missing is rejected; among rows with the same
    /// key the latest wins.
    #[serde(default)]
    pub key: Vec<String>,
    /// Column that orders versions of a key (e.g. `updated_at`); else file order.
    #[serde(default)]
    pub latest_by: Option<String>,
    /// The columns to keep, with their types and rules.
    pub columns: Vec<ColumnConfig>,
    /// Fail the run when more than this fraction of the rows read is rejected
    /// (e.g. `0.05`); the rejects are still recorded.
    #[serde(default)]
    pub max_reject_rate: Option<f64>,
    /// Fail the run when more than this many rows are rejected.
    #[serde(default)]
    pub max_rejects: Option<u64>,
    /// Let a load that replaces the table (a snapshot, `--full-refresh`) empty it when
    /// no row is left to load. Without it such a run stops: an export with a header and
    /// nothing else is far more often a failed export than an empty business.
    #[serde(default)]
    pub allow_empty: bool,
    /// Outlier rules judged over this run's clean rows; each abnormal value is listed in
    /// `salespipe.anomalies` (and, with `action: reject`, set aside in `rejects`).
    #[serde(default)]
    pub anomalies: Vec<AnomalyConfig>,
    /// Cross-column rules: SQL boolean expressions over the typed row.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// `load: incremental` only: a status column whose values mark a key as deleted.
    #[serde(default)]
    pub delete_when: Option<DeleteWhen>,
    /// What to do with a column of a file that no declared column reads: `warn`
    /// (default: it is not loaded, with a warning naming the file and the columns),
    /// `error` (the run stops and changes nothing) or `ignore` (not loaded, no warning).
    /// Either way `run_sources.extra_columns` lists them.
    #[serde(default)]
    pub extra_columns: ExtraColumns,
}

impl SourceConfig {
    /// True when some rule of the source only warns, so failures carry a severity.
    pub fn has_warnings(&self) -> bool {
        self.columns.iter().any(|c| !c.warn.is_empty())
            || self.rules.iter().any(|r| r.severity == Severity::Warn)
    }

    /// The columns whose values are masked, when the pipeline masks PII.
    pub fn pii_columns(&self) -> impl Iterator<Item = &ColumnConfig> {
        self.columns.iter().filter(|c| c.pii)
    }
}

/// A cross-column rule of a source: a SQL boolean expression over the declared (typed)
/// columns, e.g. `ship_date >= order_date`. A row fails when the expression is false; a
/// NULL result passes, as in a SQL `CHECK` constraint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule's name, recorded as `rule` in `rejects` and `warnings`.
    pub name: String,
    /// The SQL boolean expression; it may reference only the source's declared columns.
    pub check: String,
    /// `reject` (default: the row is set aside) or `warn` (loaded and listed in
    /// `warnings`).
    #[serde(default)]
    pub severity: Severity,
    /// The message recorded with each failure; default `check failed: <check>`.
    #[serde(default)]
    pub message: Option<String>,
}

/// What a failed rule does to its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row is set aside in `rejects` and not loaded.
    #[default]
    Reject,
    /// The row is loaded and the failure listed in `warnings`.
    Warn,
}

impl Severity {
    /// The value of the failure's `severity` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Reject => "reject",
            Severity::Warn => "warn",
        }
    }
}

/// The status column of an incremental source that marks deletions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteWhen {
    /// A declared column, e.g. `status`.
    pub column: String,
    /// Values (as loaded: after normalisation and case) that mark the key as deleted.
    pub values: Vec<String>,
}

/// The column rules whose failure may only warn (`warn: [min, pattern]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `required: true` (not for key columns).
    Required,
    /// The value converts to the column's type (not for key columns).
    Type,
    /// No more decimals than the DECIMAL scale.
    Scale,
    /// `min`.
    Min,
    /// `max`.
    Max,
    /// `pattern`.
    Pattern,
    /// `allowed`.
    Allowed,
    /// `references`.
    References,
}

impl RuleKind {
    /// The rule's name in `rejects.rule` and in the YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Required => "required",
            RuleKind::Type => "type",
            RuleKind::Scale => "scale",
            RuleKind::Min => "min",
            RuleKind::Max => "max",
            RuleKind::Pattern => "pattern",
            RuleKind::Allowed => "allowed",
            RuleKind::References => "references",
        }
    }
}

/// What a source does with columns its files have and its declaration does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtraColumns {
    /// Ignore them with a warning.
    #[default]
    Warn,
    /// Stop the run.
    Error,
    /// Ignore them silently.
    Ignore,
}

/// One outlier rule of a source: a numeric column judged against the statistics of its
/// group (robust z-score or interquartile range), over the clean rows of the run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomalyConfig {
    /// The declared numeric (integer or decimal) column judged.
    pub column: String,
    /// `robust_z` (|x - median| / (1.4826 x MAD)) or `iqr` (outside Q1 - k x IQR,
    /// Q3 + k x IQR).
    pub method: AnomalyMethod,
    /// The z-score above which a value is abnormal (`robust_z`, default 3.5), or the
    /// fence multiplier k (`iqr`, default 1.5).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// Declared columns whose values form the groups (e.g. `[sku]`); default the whole
    /// source is one group.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Groups with fewer non-blank values than this are not judged (default 5).
    #[serde(default = "default_min_group_size")]
    pub min_group_size: u64,
    /// `flag` (default: the row is loaded and listed in `anomalies`) or `reject` (the row
    /// is also set aside in `rejects` with rule `anomaly`, and not loaded).
    #[serde(default)]
    pub action: AnomalyAction,
}

impl AnomalyConfig {
    /// The threshold in force: the configured one or the method's default.
    pub fn threshold(&self) -> f64 {
        self.threshold
            .unwrap_or_else(|| self.method.default_threshold())
    }
}

fn default_min_group_size() -> u64 {
    5
}

/// How an outlier rule measures how abnormal a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyMethod {
    /// Robust z-score: |x - median| / (1.4826 x MAD), MAD the median absolute deviation
    /// from the median (1.253314 x the mean absolute deviation when the MAD is 0).
    RobustZ,
    /// Tukey's fences: abnormal below Q1 - k x IQR or above Q3 + k x IQR.
    Iqr,
}

impl AnomalyMethod {
    /// The name used in the YAML and in `anomalies.method`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyMethod::RobustZ => "robust_z",
            AnomalyMethod::Iqr => "iqr",
        }
    }

    /// The threshold when none is configured: z 3.5 (Iglewicz and Hoaglin), k 1.5 (Tukey).
    pub fn default_threshold(self) -> f64 {
        match self {
            AnomalyMethod::RobustZ => 3.5,
            AnomalyMethod::Iqr => 1.5,
        }
    }
}

/// What happens to a row with an abnormal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnomalyAction {
    /// Load the row; list it in `anomalies`.
    #[default]
    Flag,
    /// List it in `anomalies` and `rejects` (rule `anomaly`); do not load it.
    Reject,
}

impl AnomalyAction {
    /// The value stored in `anomalies.action`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyAction::Flag => "flag",
            AnomalyAction::Reject => "reject",
        }
    }
}

/// How a source's table is updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Replace the table with the files' rows.
    #[default]
    Snapshot,
    /// Merge the rows of new or changed files by key; latest wins.
    Incremental,
    /// Append the rows of new files.
    Append,
}

/// Letter case normalisation of a string column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Case {
    /// Upper-case the value.
    Upper,
    /// Lower-case the value.
    Lower,
}

/// One column of a source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// Target column name.
    pub name: String,
    /// Header of the column in the file, when it differs from `name`.
    #[serde(default)]
    pub from: Option<String>,
    /// `string`, `integer`, `decimal(p,s)`, `date`, `timestamp` or `boolean`.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// A blank value rejects the row.
    #[serde(default)]
    pub required: bool,
    /// Accepted input formats of a date or timestamp (strftime patterns), tried in
    /// order; default ISO 8601.
    #[serde(default)]
    pub formats: Vec<String>,
    /// Trim surrounding whitespace (default true).
    #[serde(default = "default_true")]
    pub trim: bool,
    /// Normalise letter case.
    #[serde(default)]
    pub case: Option<Case>,
    /// Smallest accepted value (numbers).
    #[serde(default)]
    pub min: Option<Decimal>,
    /// Largest accepted value (numbers).
    #[serde(default)]
    pub max: Option<Decimal>,
    /// The value must exist in another source's key: `source.column`.
    #[serde(default)]
    pub references: Option<String>,
    /// Value aliases applied after trimming, matched ignoring case:
    /// `{ "N.": North, north: North, 華北: North }`.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
    /// Numbers: characters removed before parsing, e.g. `"$,"` for `$1,234.50`
    /// (thousands separators and currency symbols).
    #[serde(default)]
    pub strip: Option<String>,
    /// Numbers: `(12.50)` means -12.50.
    #[serde(default)]
    pub parentheses_negative: bool,
    /// A regular expression (RE2 syntax) the value must match in full, checked on the
    /// normalised text (after trimming, aliases and, for strings, case).
    #[serde(default)]
    pub pattern: Option<String>,
    /// The accepted values, written as loaded (after aliases and case).
    #[serde(default)]
    pub allowed: Option<Vec<String>>,
    /// The value used when the field is blank, before typing; it must pass the column's
    /// own rules.
    #[serde(default)]
    pub default: Option<String>,
    /// Rules of this column whose failure loads the row and lists it in `warnings`
    /// instead of rejecting it, e.g. `[min, pattern]`.
    #[serde(default)]
    pub warn: Vec<RuleKind>,
    /// Personal data: with `privacy.mask_pii`, its values are masked as `***` outside the
    /// source table.
    #[serde(default)]
    pub pii: bool,
}

impl ColumnConfig {
    /// The severity of the column's rule `kind`.
    pub fn severity(&self, kind: RuleKind) -> Severity {
        if self.warn.contains(&kind) {
            Severity::Warn
        } else {
            Severity::Reject
        }
    }
}

/// The type of a column after cleaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum ColumnType {
    /// Text.
    String,
    /// 64-bit integer.
    Integer,
    /// Fixed-point decimal with precision and scale.
    Decimal(u8, u8),
    /// Calendar date.
    Date,
    /// Date and time without zone.
    Timestamp,
    /// true/false.
    Boolean,
}

impl TryFrom<String> for ColumnType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "string" | "text" | "varchar" => ColumnType::String,
            "integer" | "int" | "bigint" => ColumnType::Integer,
            "date" => ColumnType::Date,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "boolean" | "bool" => ColumnType::Boolean,
            "decimal" => ColumnType::Decimal(18, 2),
            _ => {
                let inner = t
                    .strip_prefix("decimal(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| {
                        format!(
                            "unknown column type `{s}`: expected string, integer, \
                             decimal(p,s), date, timestamp or boolean"
                        )
                    })?;
                let (p, sc) = inner
                    .split_once(',')
                    .ok_or_else(|| format!("invalid decimal type `{s}`: write decimal(18,2)"))?;
                let p: u8 = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid precision in `{s}`"))?;
                let sc: u8 = sc
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid scale in `{s}`"))?;
                if !(1..=38).contains(&p) || sc > p {
                    return Err(format!(
                        "invalid decimal type `{s}`: precision 1..38, scale <= precision"
                    ));
                }
                ColumnType::Decimal(p, sc)
            }
        })
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::String => write!(f, "string"),
            ColumnType::Integer => write!(f, "integer"),
            ColumnType::Decimal(p, s) => write!(f, "decimal({p},{s})"),
            ColumnType::Date => write!(f, "date"),
            ColumnType::Timestamp => write!(f, "timestamp"),
            ColumnType::Boolean => write!(f, "boolean"),
        }
    }
}

/// Where the SQL models live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsConfig {
    /// Folder searched recursively for `*.sql` models.
    pub path: String,
}

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// Markdown (`<template>.md.tera`).
    Markdown,
    /// HTML (`<template>.html.tera`).
    Html,
}

impl ReportFormat {
    /// The file extension of the rendered report.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
        }
    }
}

/// The period a report covers, ending at the as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportPeriod {
    /// ISO week (Monday to Sunday) containing the as-of date.
    Week,
    /// Calendar month containing the as-of date.
    Month,
    /// Calendar quarter containing the as-of date.
    Quarter,
}

/// One report.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Report name; output files are `<reports_dir>/<name>-<period>.<ext>`.
    pub name: String,
    /// Template stem in `templates`: `<template>.md.tera` and/or `<template>.html.tera`.
    pub template: String,
    /// Heading the templates see as `title` (default: the name).
    #[serde(default)]
    pub title: Option<String>,
    /// Folder of the templates, relative to the pipeline file.
    pub templates: String,
    /// Formats to render.
    pub formats: Vec<ReportFormat>,
    /// Period covered.
    pub period: ReportPeriod,
    /// Named SQL files (relative to the pipeline file) whose rows the template sees as
    /// `data.<name>`. Each must have an `ORDER BY`. Parameters `$as_of`,
    /// `$period_start`, `$period_end`, `$prev_start`, `$prev_end`, `$year_ago_start`,
    /// `$year_ago_end` are bound.
    pub queries: BTreeMap<String, String>,
}

/// The period of a forecast's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// ISO weeks, Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

impl Grain {
    /// `week`, `month` or `quarter` (also DuckDB's `date_trunc` part).
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
        }
    }

    /// Periods in a year: the default season length.
    pub fn season(self) -> usize {
        match self {
            Grain::Week => 52,
            Grain::Month => 12,
            Grain::Quarter => 4,
        }
    }
}

/// One forecast node: a measure of a SQL model (or source) summed per key and period,
/// forecast per key. It writes the tables `<name>` (the points with their intervals),
/// `<name>_accuracy` (the model chosen per key and its backtest) and `<name>_realised`
/// (earlier runs' forecasts against the actuals that have arrived since).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastConfig {
    /// Name of the forecast table; also the prefix of its other tables.
    pub name: String,
    /// Free text shown by `salespipe models`.
    #[serde(default)]
    pub description: Option<String>,
    /// The model or source read.
    pub input: String,
    /// Columns identifying one series, e.g. `[category, region]`; empty for one series.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Date (or timestamp) column; rows are grouped into the period containing it.
    pub period: String,
    /// Numeric column summed per key and period.
    pub measure: String,
    /// `week`, `month` or `quarter`.
    pub grain: Grain,
    /// Periods forecast after the last closed one.
    pub horizon: usize,
    /// Periods in a season (default: 52, 12 or 4 by grain; 1 for none).
    #[serde(default)]
    pub season_length: Option<usize>,
    /// Model families that compete, in tie-breaking order (default: all but naive).
    #[serde(default = "default_candidates")]
    pub candidates: Vec<crate::forecast::ModelKind>,
    /// Rolling-origin backtest windows (default 3; the earliest are dropped when the
    /// first would be too short for a seasonal ETS form).
    #[serde(default = "default_origins")]
    pub origins: usize,
    /// Periods between backtest origins (default 1).
    #[serde(default = "default_step")]
    pub step: usize,
    /// `mase` (default) or `wape`: the backtest measure that picks the model.
    #[serde(default)]
    pub metric: crate::forecast::Metric,
    /// The measure is never below zero: points and bounds are clamped at 0.
    #[serde(default)]
    pub non_negative: bool,
    /// `none` (default) or `top_down`: forecast the total of all series too and share
    /// it out in the proportions of the series' forecasts, so that a season visible only
    /// in the total is kept and the series add up to the total's forecast.
    #[serde(default)]
    pub reconcile: crate::forecast::Reconcile,
    /// Projected period-end attainment against a targets model.
    #[serde(default)]
    pub vs_target: Option<VsTargetConfig>,
}

/// Forecast against target: per key and per roll-up level, for the months, quarters and
/// years not yet closed, the actuals so far plus the forecast of the rest, against the
/// sum of the targets, and the probability of reaching the target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VsTargetConfig {
    /// Table name (default `forecast_vs_target`).
    #[serde(default = "default_vs_target_name")]
    pub name: String,
    /// The model (or source) of targets, with the forecast's key columns.
    pub targets: String,
    /// Its date column, one row per key and period (default: the forecast's `period`).
    #[serde(default)]
    pub period: Option<String>,
    /// Its target column.
    pub target: String,
    /// Its columns that roll keys up, e.g. `[team, region]`, taken from the target row
    /// of each month.
    #[serde(default)]
    pub levels: Vec<String>,
    /// The `level` value of the key rows (default: the keys joined by `_`).
    #[serde(default)]
    pub key_level: Option<String>,
    /// The `level` value of the grand total (default `total`).
    #[serde(default = "default_total_level")]
    pub total_level: String,
}

fn default_candidates() -> Vec<crate::forecast::ModelKind> {
    crate::forecast::ModelKind::defaults()
}

fn default_origins() -> usize {
    3
}

fn default_step() -> usize {
    1
}

fn default_vs_target_name() -> String {
    "forecast_vs_target".into()
}

fn default_total_level() -> String {
    "total".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_names_are_the_ones_the_pipeline_reads() {
        for e in [
            Encoding::Utf8,
            Encoding::Gbk,
            Encoding::Gb18030,
            Encoding::Utf16Le,
            Encoding::Utf16Be,
        ] {
            assert_eq!(serde_yaml::from_str::<Encoding>(e.name()).unwrap(), e);
        }
    }

    #[test]
    fn as_of_is_exactly_a_four_digit_year_date_or_latest() {
        let date = |s: &str| s.parse::<AsOf>();
        assert_eq!(
            date("2026-09-30"),
            Ok(AsOf::Date(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap()))
        );
        assert_eq!(date(" Latest "), Ok(AsOf::Latest));
        for bad in [
            "26-09-30",
            "2026-9-30",
            "2026-09-31",
            "20260930",
            "2026-09-30x",
            "",
        ] {
            assert_eq!(
                date(bad),
                Err(format!(
                    "invalid as-of `{}`: expected a date like 2026-09-30 or `latest`",
                    bad.trim()
                )),
                "{bad}"
            );
        }
        assert_eq!(
            date("9999-12-31"),
            Err("invalid as-of `9999-12-31`: the year must be between 1900 and 2199".into())
        );
        assert!(date("1899-12-31").is_err());
        assert!(date("2199-12-31").is_ok());
    }
}
