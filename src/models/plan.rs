//! `plan` (and `run --dry-run`): render every model and bind it against the warehouse
//! schema without writing anything.
//!
//! Binding happens in a private in-memory database: the warehouse file is attached
//! read-only, each source becomes an empty table with the warehouse's columns (or, when
//! the warehouse has no such table yet, the columns declared in the pipeline), and each
//! model becomes a view in build order, which makes DuckDB resolve every name and type
//! of its SQL without computing a row. The data tests are prepared (bound) too. Errors
//! are collected, placed in the model file (`sql/models/x.sql:LINE:COL`), and the nodes
//! downstream of a failed one are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use super::datatest::TestKind;
use super::locate::{locate, locate_offset, short_message};
use super::{render, shown, Materialized, ModelGraph, Node, NodeKind, TemplateVars};
use crate::config::{AsOf, ColumnType, Pipeline};
use crate::error::{DbContext, Diagnostic, Result};
use crate::sql::{ident, literal, qualified};
use crate::warehouse::Warehouse;

/// Options of a plan, resolved at the edge like a run's.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// `--as-of`, over the pipeline's `as_of`.
    pub as_of: Option<AsOf>,
    /// The date used when neither gives one (or `latest` finds nothing).
    pub today: NaiveDate,
    /// Variables over the pipeline's `vars`.
    pub vars: BTreeMap<String, String>,
    /// `--select`: other nodes that exist in the warehouse keep their columns there.
    pub selected: Option<BTreeSet<String>>,
}

/// How one node fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlanStatus {
    /// Rendered and bound.
    Ok,
    /// Not selected: its columns are the warehouse's.
    Existing,
    /// Its SQL or a data test does not bind.
    Failed,
    /// Not bound because a node it reads failed.
    Skipped,
    /// Not selected and not in the warehouse: the run would not build it, and what
    /// reads it fails.
    NotBuilt,
}

/// One node of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedNode {
    /// Node name.
    pub name: String,
    /// `sql` or `rust`.
    pub kind: &'static str,
    /// Table or view.
    pub materialized: Materialized,
    /// Outcome.
    pub status: PlanStatus,
    /// Columns and DuckDB types of the result.
    pub columns: Vec<(String, String)>,
    /// Data tests bound.
    pub tests: usize,
}

/// What `plan` found.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// The as-of date the models were rendered with.
    pub as_of: NaiveDate,
    /// True when bound against the warehouse's tables; false when only the pipeline's
    /// declared source columns were available.
    pub against_warehouse: bool,
    /// Nodes in build order.
    pub nodes: Vec<PlannedNode>,
    /// Things that bind but are probably not meant (e.g. a DECIMAL(38) column).
    pub warnings: Vec<String>,
    /// Errors, each placed in a file.
    #[serde(skip)]
    pub errors: Vec<Diagnostic>,
}

/// The DuckDB type of a declared source column.
fn duck_type(t: ColumnType) -> String {
    match t {
        ColumnType::String => "VARCHAR".into(),
        ColumnType::Integer => "BIGINT".into(),
        ColumnType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        ColumnType::Date => "DATE".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
    }
}

/// Plans `graph` of `pipeline`.
pub fn plan(pipeline: &Pipeline, graph: &ModelGraph, opts: &PlanOptions) -> Result<PlanReport> {
    let wh = Warehouse::in_memory()?;
    let mut warnings = Vec::new();
    let against_warehouse = attach(&wh, &pipeline.database, &mut warnings);
    let in_wh = |name: &str| -> Result<bool> {
        if !against_warehouse {
            return Ok(false);
        }
        let n: i64 = wh
            .conn
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'wh'
                 AND schema_name = 'main' AND table_name = ?",
                [name],
                |r| r.get(0),
            )
            .ctx(|| "reading the warehouse catalog".into())?;
        let v: i64 = wh
            .conn
            .query_row(
                "SELECT count(*) FROM duckdb_views() WHERE database_name = 'wh'
                 AND schema_name = 'main' AND view_name = ?",
                [name],
                |r| r.get(0),
            )
            .ctx(|| "reading the warehouse catalog".into())?;
        Ok(n + v > 0)
    };
    let copy_schema = |name: &str| {
        wh.exec(&format!(
            "CREATE TABLE {} AS SELECT * FROM wh.main.{} LIMIT 0",
            qualified("main", name),
            ident(name)
        ))
    };
    for s in &pipeline.sources {
        let name = &s.config.name;
        if in_wh(name)? {
            copy_schema(name)?;
        } else {
            let cols: Vec<String> = s
                .config
                .columns
                .iter()
                .map(|c| format!("{} {}", ident(&c.name), duck_type(c.ty)))
                .collect();
            wh.exec(&format!(
                "CREATE TABLE {} ({})",
                qualified("main", name),
                cols.join(", ")
            ))?;
        }
    }
    let as_of = resolve_as_of(&wh, pipeline, opts, against_warehouse, &mut warnings);
    let mut vars = TemplateVars::new(as_of);
    vars.vars = pipeline.config.vars.clone();
    vars.vars.extend(opts.vars.clone());
    vars.fiscal_year_start_month = pipeline.config.fiscal_year_start_month;

    let mut errors = Vec::new();
    let mut nodes = Vec::new();
    let mut bad: BTreeSet<String> = BTreeSet::new();
    let mut unbuilt: BTreeSet<String> = BTreeSet::new();
    for node in &graph.nodes {
        let mut planned = PlannedNode {
            name: node.name.clone(),
            kind: node.kind_name(),
            materialized: node.materialized,
            status: PlanStatus::Ok,
            columns: Vec::new(),
            tests: 0,
        };
        let rel = qualified("main", &node.name);
        let file = shown(&node.path);
        let selected = opts
            .selected
            .as_ref()
            .is_none_or(|s| s.contains(&node.name));
        // A selected node reading one the run would not build, nor the warehouse has.
        if let Some(d) = node.deps.iter().find(|d| selected && unbuilt.contains(*d)) {
            errors.push(diag(
                &file,
                0,
                0,
                "E040",
                format!(
                    "model `{}` reads `{d}`, which is not selected and has not been built \
                     yet; select it too (`--select +{}`)",
                    node.name, node.name
                ),
            ));
            planned.status = PlanStatus::Failed;
            bad.insert(node.name.clone());
            nodes.push(planned);
            continue;
        }
        if !selected {
            // Not rendered, but `run` checks every model's template syntax first.
            errors.extend(render::node_syntax_error(node));
        }
        if node.deps.iter().any(|d| bad.contains(d)) {
            planned.status = PlanStatus::Skipped;
            bad.insert(node.name.clone());
            nodes.push(planned);
            continue;
        }
        if !selected && in_wh(&node.name)? {
            copy_schema(&node.name)?;
            planned.status = PlanStatus::Existing;
        } else if !selected {
            planned.status = PlanStatus::NotBuilt;
            unbuilt.insert(node.name.clone());
            nodes.push(planned);
            continue;
        } else {
            match &node.kind {
                NodeKind::Sql { template } => {
                    let sql =
                        match render::render(&node.name, &node.path, template, &node.deps, &vars) {
                            Ok(sql) => sql,
                            Err(e) => {
                                match e {
                                    crate::error::Error::Config(c) => errors.extend(c.diagnostics),
                                    e => errors.push(diag(&file, 0, 0, "E040", e.to_string())),
                                }
                                planned.status = PlanStatus::Failed;
                                bad.insert(node.name.clone());
                                nodes.push(planned);
                                continue;
                            }
                        };
                    let prefix = format!("CREATE VIEW {rel} AS ");
                    let query = format!("{prefix}{sql}");
                    if let Err(e) = wh.conn.execute_batch(&query) {
                        let at = locate(&e.to_string(), &query, prefix.len(), template);
                        errors.push(diag(
                            &file,
                            at.line,
                            at.column,
                            "E040",
                            format!("model `{}`: {}", node.name, at.message),
                        ));
                        planned.status = PlanStatus::Failed;
                        bad.insert(node.name.clone());
                        nodes.push(planned);
                        continue;
                    }
                }
                NodeKind::Computed(c) => match c.columns(&wh) {
                    Ok(cols) => c.plan(&wh, &rel, &cols, &vars)?,
                    Err(diags) => {
                        errors.extend(diags.into_iter().map(|mut d| {
                            d.file = shown(&d.file);
                            d
                        }));
                        planned.status = PlanStatus::Failed;
                        bad.insert(node.name.clone());
                        nodes.push(planned);
                        continue;
                    }
                },
            }
        }
        planned.columns = wh.describe(&rel)?;
        let names: BTreeSet<&str> = planned.columns.iter().map(|(n, _)| n.as_str()).collect();
        for (key, cols) in [
            ("partition_by", &node.partition_by),
            ("order_by", &node.order_by),
        ] {
            for c in cols.iter().filter(|c| !names.contains(c.as_str())) {
                let mut msg = format!("`{key}`: `{c}` is not a column of model `{}`", node.name);
                if let Some(s) = crate::util::suggest(c, names.iter().copied()) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                let (place, line, column) = setting_place(node, key, c);
                errors.push(diag(&shown(&place), line, column, "E041", msg));
                planned.status = PlanStatus::Failed;
            }
        }
        for (c, t) in &planned.columns {
            if t == "HUGEINT" && planned.status != PlanStatus::Existing {
                warnings.push(format!(
                    "{}: column `{c}` of model `{}` is HUGEINT (what sum() of a BIGINT gives), \
                     which Parquet stores as DOUBLE; cast it, e.g. CAST(sum(x) AS BIGINT)",
                    file.display(),
                    node.name
                ));
            }
            if t.starts_with("DECIMAL(38,") && planned.status != PlanStatus::Existing {
                warnings.push(format!(
                    "{}: column `{c}` of model `{}` is {t}, the width sum() gives by \
                     default; cast it to an explicit precision, e.g. DECIMAL(18,{})",
                    file.display(),
                    node.name,
                    t.trim_start_matches("DECIMAL(38,").trim_end_matches(')')
                ));
            }
        }
        if planned.status == PlanStatus::Ok && matches!(node.kind, NodeKind::Sql { .. }) {
            if let Some(w) = order_by_warning(node) {
                warnings.push(format!("{}: {w}", file.display()));
            }
        }
        if planned.status == PlanStatus::Ok {
            for t in &node.tests {
                if t.needs().is_some_and(|r| bad.contains(r)) {
                    continue;
                }
                let bound = match t.failing_sql(&rel, &vars) {
                    Err(e) => Err(e.to_string()),
                    Ok(sql) => wh
                        .conn
                        .prepare(&format!("SELECT count(*) FROM ({sql}) AS t"))
                        .map(|_| ())
                        .map_err(|e| short_message(&e.to_string())),
                };
                match bound {
                    Ok(()) => planned.tests += 1,
                    Err(msg) => {
                        errors.push(diag(
                            &shown(&t.file),
                            t.line,
                            t.column,
                            "E042",
                            format!("data test `{}` of model `{}`: {msg}", t.name, node.name),
                        ));
                        planned.status = PlanStatus::Failed;
                    }
                }
            }
        }
        if planned.status == PlanStatus::Failed {
            bad.insert(node.name.clone());
        }
        nodes.push(planned);
    }
    // The report queries, bound against the planned models like a data test; not when a
    // model failed (its errors would echo in every query reading it).
    if bad.is_empty() {
        errors.extend(plan_report_queries(
            &wh,
            pipeline,
            against_warehouse,
            &unbuilt,
        )?);
    }
    Ok(PlanReport {
        as_of,
        against_warehouse,
        nodes,
        warnings,
        errors,
    })
}

/// Prepares every report query (binding names and types, running nothing) against the
/// planned models; the run's bookkeeping tables (`salespipe.*`) are the warehouse's.
/// Errors are E043, placed in the query file.
fn plan_report_queries(
    wh: &Warehouse,
    pipeline: &Pipeline,
    against_warehouse: bool,
    unbuilt: &BTreeSet<String>,
) -> Result<Vec<Diagnostic>> {
    if !against_warehouse {
        // No warehouse yet: the bookkeeping tables a run creates, empty.
        wh.ensure_meta()?;
    } else {
        let meta = wh.strings(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'wh'
             AND schema_name = ? ORDER BY table_name",
            &[crate::warehouse::META_SCHEMA],
            "reading the warehouse catalog",
        )?;
        let schema = ident(crate::warehouse::META_SCHEMA);
        wh.exec(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))?;
        for t in meta {
            wh.exec(&format!(
                "CREATE VIEW {schema}.{t} AS SELECT * FROM wh.{schema}.{t}",
                t = ident(&t)
            ))?;
        }
    }
    let mut errors = Vec::new();
    let mut seen: BTreeSet<&Path> = BTreeSet::new();
    for r in &pipeline.reports {
        for (name, path) in &r.queries {
            // A query file shared by several reports is bound (and reported) once.
            if !seen.insert(path.as_path()) {
                continue;
            }
            let Ok(sql) = std::fs::read_to_string(path) else {
                continue; // `validate` reports a query file that cannot be read
            };
            if let Some(shape) = crate::report::query_shape(wh, &sql) {
                let (line, column) = crate::report::query_shape_place(&shape);
                errors.push(diag(
                    &shown(path),
                    line,
                    column,
                    "E043",
                    format!(
                        "report `{}` query `{name}`: {}",
                        r.config.name,
                        crate::report::query_shape_message(&shape)
                    ),
                ));
                continue;
            }
            let stmt = match wh.conn.prepare(&sql) {
                Ok(stmt) => stmt,
                Err(e) => {
                    let at = locate(&e.to_string(), &sql, 0, &sql);
                    // DuckDB's `Table with name X does not exist`, X a model not built.
                    let missing = at
                        .message
                        .split_once("Table with name ")
                        .and_then(|(_, rest)| rest.split_once(' '))
                        .map(|(name, _)| name.trim_matches('"'));
                    let hint = if missing.is_some_and(|m| unbuilt.contains(m)) {
                        " (a model it reads is not selected and not in the warehouse: run \
                         without `--select` first)"
                    } else {
                        ""
                    };
                    errors.push(diag(
                        &shown(path),
                        at.line,
                        at.column,
                        "E043",
                        format!(
                            "report `{}` query `{name}`: {}{hint}",
                            r.config.name, at.message
                        ),
                    ));
                    continue;
                }
            };
            // Every `$name` must be one the report binds.
            for i in 1..=stmt.parameter_count() {
                let Ok(p) = stmt.parameter_name(i) else {
                    continue;
                };
                if crate::report::PARAMETERS.contains(&p.as_str()) {
                    continue;
                }
                // `$p` itself, not the start of a longer name (`$prev` in `$prev_start`).
                let needle = format!("${p}");
                let offset = sql.match_indices(&needle).map(|(i, _)| i).find(|&i| {
                    !sql[i + needle.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                });
                let (line, column) = offset.map_or((0, 0), |offset| {
                    let at = locate_offset(String::new(), offset, &sql, &sql);
                    (at.line, at.column)
                });
                let hint = crate::util::suggest(&p, crate::report::PARAMETERS.iter().copied())
                    .map(|s| format!("; did you mean `${s}`?"))
                    .unwrap_or_default();
                errors.push(diag(
                    &shown(path),
                    line,
                    column,
                    "E043",
                    format!(
                        "report `{}` query `{name}`: unknown parameter `${p}`{hint}",
                        r.config.name
                    ),
                ));
            }
        }
    }
    Ok(errors)
}

/// Where a model's setting `key` names `value`: its `-- key:` header line in the model
/// file, or its line in `<model>.yml` beside it; the model file without a place when
/// neither says it.
fn setting_place(node: &Node, key: &str, value: &str) -> (std::path::PathBuf, usize, usize) {
    let find = |text: &str, header: bool| {
        text.lines().enumerate().find_map(|(i, l)| {
            let t = l.trim_start();
            let names_key = if header {
                t.strip_prefix("--")
                    .is_some_and(|r| r.trim_start().starts_with(&format!("{key}:")))
            } else {
                t.starts_with(&format!("{key}:"))
            };
            let at = l.find(value).filter(|_| names_key)?;
            Some((i + 1, l[..at].chars().count() + 1))
        })
    };
    if let NodeKind::Sql { template } = &node.kind {
        if let Some((line, column)) = find(template, true) {
            return (node.path.clone(), line, column);
        }
    }
    let yml = node.path.with_extension("yml");
    if let Some((line, column)) = std::fs::read_to_string(&yml)
        .ok()
        .and_then(|t| find(&t, false))
    {
        return (yml, line, column);
    }
    (node.path.clone(), 0, 0)
}

fn diag(
    file: &Path,
    line: usize,
    column: usize,
    code: &'static str,
    message: String,
) -> Diagnostic {
    Diagnostic {
        file: file.to_path_buf(),
        line,
        column,
        code,
        message,
    }
}

/// Renders every SQL model of `graph` (as of `as_of`, with the pipeline's `vars`) and
/// parses it with DuckDB's `json_serialize_sql`, which parses and runs nothing: the
/// syntax errors `validate` reports, placed in the model file. Names are not resolved
/// (that is `plan`'s binding), and a model that does not render without the run's
/// `--var`s is left to `plan` and `run`.
pub fn syntax_errors(pipeline: &Pipeline, graph: &ModelGraph, as_of: NaiveDate) -> Vec<Diagnostic> {
    let mut vars = TemplateVars::new(as_of);
    vars.vars = pipeline.config.vars.clone();
    vars.fiscal_year_start_month = pipeline.config.fiscal_year_start_month;
    let Ok(conn) = duckdb::Connection::open_in_memory() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for node in &graph.nodes {
        let NodeKind::Sql { template } = &node.kind else {
            continue;
        };
        let sql = match render::render(&node.name, &node.path, template, &node.deps, &vars) {
            Ok(sql) => sql,
            // A template that does not parse, or names a variable that does not exist;
            // a `var.*` not set may come with `--var` at run time: left to `plan`.
            Err(crate::error::Error::Config(c)) => {
                out.extend(
                    c.diagnostics
                        .into_iter()
                        .filter(|d| !d.message.contains("` is not set: give it under `vars:`")),
                );
                continue;
            }
            Err(_) => continue,
        };
        let Ok(json) = conn.query_row("SELECT json_serialize_sql(?)", [&sql], |r| {
            r.get::<_, String>(0)
        }) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&json) else {
            continue;
        };
        if v["error"] != true || v["error_type"] != "parser" {
            continue;
        }
        let message = format!(
            "model `{}`: Parser Error: {}",
            node.name,
            v["error_message"].as_str().unwrap_or_default()
        );
        let position = v["position"].as_str().and_then(|p| p.parse().ok());
        let at = match position {
            Some(p) => locate_offset(message, p, &sql, template),
            None => super::locate::Located {
                line: 0,
                column: 0,
                message,
            },
        };
        out.push(diag(
            &shown(&node.path),
            at.line,
            at.column,
            "E040",
            at.message,
        ));
    }
    out
}

/// A warning when `order_by` is given but no `unique` test covers it (checks a subset
/// of its columns): rows tying on it may be written in either order from run to run,
/// so the Parquet files would not be byte-identical.
fn order_by_warning(node: &Node) -> Option<String> {
    if node.order_by.is_empty() {
        return None;
    }
    let covered = node.tests.iter().any(|t| match &t.kind {
        TestKind::Unique(cols) => cols.iter().all(|c| node.order_by.contains(c)),
        _ => false,
    });
    (!covered).then(|| {
        format!(
            "`order_by` ({}) of model `{}` has no `unique` test on those columns: rows that \
             tie on them may be exported in another order from run to run; add \
             `-- test: {{ unique: [{}] }}` if they are a key",
            node.order_by.join(", "),
            node.name,
            node.order_by.join(", ")
        )
    })
}

/// Attaches the warehouse read-only as `wh`; false (with a warning) when it cannot.
fn attach(wh: &Warehouse, database: &Path, warnings: &mut Vec<String>) -> bool {
    if !database.is_file() {
        warnings.push(format!(
            "no warehouse at {} yet: binding against the columns declared in the pipeline",
            shown(database).display()
        ));
        return false;
    }
    let sql = format!(
        "ATTACH {} AS wh (READ_ONLY)",
        literal(&database.to_string_lossy())
    );
    match wh.exec(&sql) {
        Ok(()) => true,
        Err(e) => {
            let w = format!(
                "cannot open the warehouse {} read-only ({e}): binding against the columns \
                 declared in the pipeline, not the warehouse's tables",
                shown(database).display()
            );
            // Said on stderr too: a check passing against the declared columns alone is
            // not the check asked for (another process may hold the file).
            tracing::warn!("{w}");
            warnings.push(w);
            false
        }
    }
}

fn resolve_as_of(
    wh: &Warehouse,
    pipeline: &Pipeline,
    opts: &PlanOptions,
    attached: bool,
    warnings: &mut Vec<String>,
) -> NaiveDate {
    let today = opts.today;
    match opts.as_of.or(pipeline.config.as_of) {
        Some(AsOf::Date(d)) => d,
        None => today,
        Some(AsOf::Latest) => {
            let found = pipeline
                .config
                .latest_from
                .as_deref()
                .and_then(|t| t.split_once('.'))
                .filter(|_| attached)
                .and_then(|(src, col)| {
                    wh.conn
                        .query_row(
                            &format!("SELECT max({}) FROM wh.main.{}", ident(col), ident(src)),
                            [],
                            |r| r.get::<_, Option<NaiveDate>>(0),
                        )
                        .ok()
                        .flatten()
                });
            found.unwrap_or_else(|| {
                warnings.push(format!(
                    "`as_of: latest` has no loaded data to look at; rendering with {today}"
                ));
                today
            })
        }
    }
}
