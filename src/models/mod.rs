//! SQL models: discovery of `*.sql` files under the models folder, their dependency
//! graph (from `{{ ref("name") }}` calls), topological order, rendering with Tera and
//! materialisation as tables or views inside the run's data transaction.
//!
//! A model file may open with header comments that configure it:
//! ```sql
//! -- materialized: table        (or view; default table)
//! -- description: Net revenue by month, region and category.
//! -- order_by: month, region    (sort of the Parquet export)
//! -- pii: contact               (masked in the Parquet export with privacy.mask_pii)
//! ```
//! The graph leaves room for nodes that are not SQL (forecasts): a [`Node`] is built by
//! whatever its kind says, and only SQL nodes exist today.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use duckdb::OptionalExt;

use crate::error::{ConfigError, Diagnostic, Error, Result};
use crate::sql::{is_valid_ident, qualified};
use crate::warehouse::Warehouse;

/// How a model is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialized {
    /// A table rebuilt each run.
    Table,
    /// A view.
    View,
}

/// One SQL model.
#[derive(Debug, Clone)]
pub struct Node {
    /// Model name = file stem = warehouse relation name.
    pub name: String,
    /// The `.sql` file.
    pub path: PathBuf,
    /// The file's text (a Tera template).
    pub template: String,
    /// Table or view.
    pub materialized: Materialized,
    /// The description from the header, if any.
    pub description: Option<String>,
    /// Relations this model refs: sources and other models, sorted.
    pub deps: BTreeSet<String>,
    /// Columns the Parquet export is hive-partitioned by (`year=2026/month=9/`).
    pub partition_by: Vec<String>,
    /// Columns the Parquet export is sorted by; empty sorts by every column. Naming a
    /// unique key keeps the files deterministic and sorts much less.
    pub order_by: Vec<String>,
    /// Columns masked in the Parquet export when the pipeline masks PII, besides those
    /// named like a PII column of what the model refs (`-- pii: contact, phone`).
    pub pii: Vec<String>,
}

/// Every model, in an order where each comes after its dependencies.
#[derive(Debug, Clone, Default)]
pub struct ModelGraph {
    /// Models in build order.
    pub nodes: Vec<Node>,
}

/// Values visible to model templates.
#[derive(Debug, Clone)]
pub struct TemplateVars {
    /// The run's as-of date.
    pub as_of: NaiveDate,
    /// User variables (`vars:` in the pipeline).
    pub vars: BTreeMap<String, String>,
}

/// Finds the models under `dir` and orders them. `sources` are the relations a model
/// may ref besides other models. All problems are collected.
pub fn discover(dir: &Path, sources: &[String]) -> Result<ModelGraph, ConfigError> {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    collect_sql(dir, &mut files);
    files.sort();
    let mut nodes: Vec<Node> = Vec::new();
    let mut refs_at: Vec<Vec<(String, usize, usize)>> = Vec::new();
    for path in files {
        let diag = |line, column, message: String| Diagnostic {
            file: path.clone(),
            line,
            column,
            code: "E030",
            message,
        };
        let template = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(diag(0, 0, format!("cannot read model: {e}")));
                continue;
            }
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if !is_valid_ident(&name) {
            diags.push(diag(
                0,
                0,
                format!("invalid model name `{name}`: use letters, digits and `_`"),
            ));
            continue;
        }
        if let Some(other) = nodes.iter().find(|n| n.name == name) {
            diags.push(diag(
                0,
                0,
                format!("model `{name}` is also defined in {}", other.path.display()),
            ));
            continue;
        }
        if sources.contains(&name) {
            diags.push(diag(
                0,
                0,
                format!("model `{name}` has the name of a source"),
            ));
            continue;
        }
        let (header, header_errs) = parse_header(&template);
        for (line, msg) in header_errs {
            diags.push(diag(line, 1, msg));
        }
        let refs = find_refs(&template);
        let deps = refs.iter().map(|(n, _, _)| n.clone()).collect();
        nodes.push(Node {
            name,
            path: path.clone(),
            template,
            materialized: header.materialized,
            description: header.description,
            deps,
            partition_by: header.partition_by,
            order_by: header.order_by,
            pii: header.pii,
        });
        refs_at.push(refs);
    }
    let known: BTreeSet<&str> = nodes
        .iter()
        .map(|n| n.name.as_str())
        .chain(sources.iter().map(String::as_str))
        .collect();
    for (node, refs) in nodes.iter().zip(&refs_at) {
        for (r, line, col) in refs {
            if !known.contains(r.as_str()) {
                let mut message = format!("model `{}` refs unknown relation `{r}`", node.name);
                if let Some(s) = crate::util::suggest(r, known.iter().copied()) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                diags.push(Diagnostic {
                    file: node.path.clone(),
                    line: *line,
                    column: *col,
                    code: "E031",
                    message,
                });
            }
        }
    }
    if diags.is_empty() {
        match topo_order(&nodes) {
            Ok(order) => {
                let mut by_name: HashMap<String, Node> =
                    nodes.into_iter().map(|n| (n.name.clone(), n)).collect();
                let nodes = order
                    .into_iter()
                    .filter_map(|n| by_name.remove(&n))
                    .collect();
                return Ok(ModelGraph { nodes });
            }
            Err(cycle) => {
                let first = nodes.iter().find(|n| n.name == cycle[0]);
                diags.push(Diagnostic {
                    file: first
                        .map(|n| n.path.clone())
                        .unwrap_or_else(|| dir.to_path_buf()),
                    line: 0,
                    column: 0,
                    code: "E032",
                    message: format!(
                        "models depend on each other in a cycle: {}",
                        cycle.join(" -> ")
                    ),
                });
            }
        }
    }
    Err(ConfigError { diagnostics: diags })
}

fn collect_sql(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_sql(&p, out);
        } else if p.extension().is_some_and(|x| x == "sql") {
            out.push(p);
        }
    }
}

/// Settings from a model's header comments.
struct Header {
    materialized: Materialized,
    description: Option<String>,
    partition_by: Vec<String>,
    order_by: Vec<String>,
    pii: Vec<String>,
}

/// A comma-separated list of column names; an invalid name is an error on line `line`.
fn column_list(
    key: &str,
    value: &str,
    line: usize,
    errors: &mut Vec<(usize, String)>,
) -> Vec<String> {
    let cols: Vec<String> = value
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if let Some(bad) = cols.iter().find(|c| !is_valid_ident(c)) {
        errors.push((line, format!("`{key}`: invalid column `{bad}`")));
    }
    cols
}

/// Reads the leading `-- key: value` comment lines.
fn parse_header(text: &str) -> (Header, Vec<(usize, String)>) {
    let mut h = Header {
        materialized: Materialized::Table,
        description: None,
        partition_by: Vec::new(),
        order_by: Vec::new(),
        pii: Vec::new(),
    };
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "materialized" => match value {
                "table" => h.materialized = Materialized::Table,
                "view" => h.materialized = Materialized::View,
                other => errors.push((
                    i + 1,
                    format!("`materialized: {other}`: expected table or view"),
                )),
            },
            "description" => h.description = Some(value.to_string()),
            "partition_by" => {
                h.partition_by = column_list("partition_by", value, i + 1, &mut errors)
            }
            "order_by" => h.order_by = column_list("order_by", value, i + 1, &mut errors),
            "pii" => h.pii = column_list("pii", value, i + 1, &mut errors),
            _ => {}
        }
    }
    (h, errors)
}

/// Every `ref("name")` / `ref('name')` with its 1-based line and column.
fn find_refs(text: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (li, line) in text.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(i) = rest.find("ref(") {
            let before_ok =
                i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let after = rest[i + 4..].trim_start();
            if before_ok {
                if let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') {
                    if let Some(end) = after[1..].find(q) {
                        out.push((after[1..1 + end].to_string(), li + 1, offset + i + 1));
                    }
                }
            }
            offset += i + 4;
            rest = &rest[i + 4..];
        }
    }
    out
}

/// Tera functions take named arguments only: `ref("x")` becomes `ref(name="x")`.
fn named_refs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find("ref(") {
        let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let trimmed = rest.trim_start();
        if before_ok && (trimmed.starts_with('"') || trimmed.starts_with('\'')) {
            out.push_str("name=");
        }
    }
    out.push_str(rest);
    out
}

/// Kahn's algorithm with names sorted for a deterministic order; `Err` is a cycle path.
fn topo_order(nodes: &[Node]) -> std::result::Result<Vec<String>, Vec<String>> {
    let names: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let deps: BTreeMap<&str, BTreeSet<&str>> = nodes
        .iter()
        .map(|n| {
            let d = n
                .deps
                .iter()
                .map(String::as_str)
                .filter(|d| names.contains(d))
                .collect();
            (n.name.as_str(), d)
        })
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::new();
    while done.len() < names.len() {
        let ready: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !done.contains(n) && deps[n].iter().all(|d| done.contains(d)))
            .collect();
        if ready.is_empty() {
            return Err(find_cycle(&deps, &done));
        }
        for n in ready {
            done.insert(n);
            order.push(n.to_string());
        }
    }
    Ok(order)
}

fn find_cycle(deps: &BTreeMap<&str, BTreeSet<&str>>, done: &BTreeSet<&str>) -> Vec<String> {
    let Some(start) = deps.keys().copied().find(|n| !done.contains(n)) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut cur = start;
    loop {
        let Some(next) = deps[cur].iter().copied().find(|d| !done.contains(d)) else {
            return path.iter().map(|s| s.to_string()).collect();
        };
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(next.to_string());
            return cycle;
        }
        path.push(next);
        cur = next;
    }
}

/// Renders a model's SQL: `ref("x")` becomes the quoted relation, `as_of` and `var.*`
/// are available.
pub fn render(node: &Node, vars: &TemplateVars) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::new());
    let name = node.path.to_string_lossy().to_string();
    tera.add_raw_template(&name, &named_refs(&node.template))
        .map_err(|e| Error::template(&name, &e))?;
    let used = Arc::new(Mutex::new(BTreeSet::new()));
    let used_in = Arc::clone(&used);
    let allowed = node.deps.clone();
    tera.register_function("ref", move |args: &HashMap<String, tera::Value>| {
        let target = args
            .get("name")
            .or_else(|| args.values().next())
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                tera::Error::msg("ref() needs a relation name, e.g. ref(name=\"orders\")")
            })?;
        if !allowed.contains(target) {
            return Err(tera::Error::msg(format!(
                "ref(`{target}`) must be written literally"
            )));
        }
        if let Ok(mut u) = used_in.lock() {
            u.insert(target.to_string());
        }
        Ok(tera::Value::String(qualified("main", target)))
    });
    let mut ctx = tera::Context::new();
    ctx.insert("as_of", &vars.as_of.format("%Y-%m-%d").to_string());
    ctx.insert("var", &vars.vars);
    tera.render(&name, &ctx)
        .map_err(|e| Error::template(format!("rendering model `{}`", node.name), &e))
}

/// What building one model produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelStats {
    /// Model name.
    pub name: String,
    /// Table or view.
    pub materialized: Materialized,
    /// Rows in the result.
    pub rows: i64,
}

/// Builds every model in order inside the current transaction.
pub fn build(wh: &Warehouse, graph: &ModelGraph, vars: &TemplateVars) -> Result<Vec<ModelStats>> {
    let mut out = Vec::new();
    for node in &graph.nodes {
        let sql = render(node, vars)?;
        let rel = qualified("main", &node.name);
        let kind = match node.materialized {
            Materialized::Table => "TABLE",
            Materialized::View => "VIEW",
        };
        // Drop whatever kind of relation had the name before.
        let existing: Option<String> = wh
            .conn
            .query_row(
                "SELECT table_type FROM information_schema.tables
                 WHERE table_schema = 'main' AND table_name = ?",
                [&node.name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| Error::db("reading the catalog", e))?;
        match existing.as_deref() {
            Some("VIEW") => wh.exec(&format!("DROP VIEW {rel}"))?,
            Some(_) => wh.exec(&format!("DROP TABLE {rel}"))?,
            None => {}
        }
        // The statement prefix stays on the template's first line so DuckDB's LINE
        // numbers match the file.
        wh.conn
            .execute_batch(&format!("CREATE {kind} {rel} AS {sql}"))
            .map_err(|e| {
                Error::db(
                    format!("building model `{}` ({})", node.name, node.path.display()),
                    e,
                )
            })?;
        let rows = wh.count(&rel)?;
        out.push(ModelStats {
            name: node.name.clone(),
            materialized: node.materialized,
            rows,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, deps: &[&str]) -> Node {
        Node {
            name: name.into(),
            path: PathBuf::from(format!("{name}.sql")),
            template: String::new(),
            materialized: Materialized::Table,
            description: None,
            deps: deps.iter().map(|s| s.to_string()).collect(),
            partition_by: Vec::new(),
            order_by: Vec::new(),
            pii: Vec::new(),
        }
    }

    #[test]
    fn finds_refs_with_positions() {
        let refs =
            find_refs("select *\nfrom {{ ref(\"orders\") }} join {{ref('lines')}}\n-- href(x)");
        assert_eq!(refs, vec![("orders".into(), 2, 9), ("lines".into(), 2, 33)]);
    }

    #[test]
    fn orders_topologically_and_reports_cycles() {
        let nodes = vec![
            node("c", &["b"]),
            node("b", &["a", "orders"]),
            node("a", &[]),
        ];
        assert_eq!(topo_order(&nodes).unwrap(), vec!["a", "b", "c"]);
        let cyc = vec![node("a", &["b"]), node("b", &["a"]), node("z", &[])];
        assert_eq!(topo_order(&cyc).unwrap_err(), vec!["a", "b", "a"]);
    }

    #[test]
    fn refs_become_named_arguments() {
        assert_eq!(
            named_refs("{{ ref(\"a\") }} {{ ref(name='b') }} pref('c')"),
            "{{ ref(name=\"a\") }} {{ ref(name='b') }} pref('c')"
        );
    }

    #[test]
    fn header_sets_materialization() {
        let (h, e) = parse_header(
            "-- materialized: view\n-- description: x y\n-- partition_by: year, month\n-- order_by: id\nselect 1",
        );
        assert_eq!(h.materialized, Materialized::View);
        assert_eq!(h.description.as_deref(), Some("x y"));
        assert_eq!(h.partition_by, vec!["year", "month"]);
        assert_eq!(h.order_by, vec!["id"]);
        assert!(e.is_empty());
    }
}
