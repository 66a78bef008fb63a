//! The model graph: SQL models discovered under the models folder, plus nodes computed
//! in Rust (forecasts), ordered by their dependencies and built inside the run's data
//! transaction, each followed by its data tests.
//!
//! - [`settings`]: a model's header comments and its `<model>.yml`: materialisation,
//!   description, export partitioning and order, data tests;
//! - [`render`]: Tera rendering, `{{ ref("x") }}` and the template variables of [`vars`];
//! - [`select`]: `--select NAME`, `NAME+`, `+NAME`;
//! - [`build`]: materialising nodes and running their [`datatest`]s;
//! - [`plan`]: rendering and binding every model without writing (`plan`, `--dry-run`),
//!   with DuckDB errors placed in the template by [`locate`];
//! - [`snapshot`]: period close, a copy per as-of of the models marked `snapshot: true`.
//!
//! A node is built by whatever its [`NodeKind`] says: a SQL model is rendered and
//! materialised as a table or view; a [`ComputedNode`] writes its table from Rust. SQL
//! models `ref()` either kind the same way.

pub mod build;
pub mod datatest;
pub mod locate;
pub mod plan;
pub mod render;
pub mod select;
pub mod settings;
pub mod snapshot;
pub mod vars;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use build::{build, ModelStats};
pub use datatest::{DataTest, Severity, TestKind, TestOutcome};
pub use vars::TemplateVars;

use crate::error::{ConfigError, Diagnostic, Result};
use crate::sql::is_valid_ident;
use crate::warehouse::Warehouse;

/// How a node is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Materialized {
    /// A table rebuilt each run.
    #[default]
    Table,
    /// A view.
    View,
}

impl Materialized {
    /// `table` or `view`.
    pub fn as_str(self) -> &'static str {
        match self {
            Materialized::Table => "table",
            Materialized::View => "view",
        }
    }
}

impl std::str::FromStr for Materialized {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "table" => Ok(Materialized::Table),
            "view" => Ok(Materialized::View),
            other => Err(format!("`materialized: {other}`: expected table or view")),
        }
    }
}

/// A table computed in Rust (forecasts): it reads its dependencies from the warehouse
/// and writes one table, inside the run's data transaction.
pub trait ComputedNode: fmt::Debug + Send + Sync {
    /// The columns of the table it writes (name, DuckDB type), so that `plan` can bind
    /// the models downstream before any data exists. `wh` holds its dependencies (as
    /// empty tables or views when planning), so the node can check the columns it reads;
    /// problems come back placed in the file that declares it.
    fn columns(
        &self,
        wh: &Warehouse,
    ) -> std::result::Result<Vec<(String, String)>, Vec<Diagnostic>>;
    /// Creates (or replaces) the table `relation`, already quoted, e.g.
    /// `"main"."forecasts"`.
    fn build(&self, wh: &Warehouse, relation: &str, vars: &TemplateVars) -> Result<()>;
    /// Creates an empty `relation` with the columns it would have, for `plan`, given
    /// what [`ComputedNode::columns`] returned; by default a table of those columns.
    fn plan(
        &self,
        wh: &Warehouse,
        relation: &str,
        columns: &[(String, String)],
        _vars: &TemplateVars,
    ) -> Result<()> {
        let cols: Vec<String> = columns
            .iter()
            .map(|(n, t)| format!("{} {t}", crate::sql::ident(n)))
            .collect();
        wh.exec(&format!("CREATE TABLE {relation} ({})", cols.join(", ")))
    }
}

/// A computed node declared to the graph, e.g. from the pipeline's forecast settings.
#[derive(Debug, Clone)]
pub struct ComputedSpec {
    /// Table name.
    pub name: String,
    /// Relations it reads (sources and models).
    pub deps: BTreeSet<String>,
    /// What it computes.
    pub description: Option<String>,
    /// The file that declares it (for messages).
    pub declared_in: PathBuf,
    /// Line and column of the declaration (for messages).
    pub at: (usize, usize),
    /// Line and column where each dependency is named, when known.
    pub dep_at: BTreeMap<String, (usize, usize)>,
    /// Hive partition columns of its export.
    pub partition_by: Vec<String>,
    /// Sort columns of its export.
    pub order_by: Vec<String>,
    /// Its data tests.
    pub tests: Vec<DataTest>,
    /// The code that builds it.
    pub node: Arc<dyn ComputedNode>,
}

/// What builds a node.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A Tera-templated SQL `SELECT`, materialised as a table or view.
    Sql {
        /// The file's text.
        template: String,
    },
    /// A table written by Rust code.
    Computed(Arc<dyn ComputedNode>),
}

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// Node name = file stem = warehouse relation name.
    pub name: String,
    /// How it is built.
    pub kind: NodeKind,
    /// The `.sql` file (for a computed node, the file that declares it).
    pub path: PathBuf,
    /// Table or view (computed nodes are tables).
    pub materialized: Materialized,
    /// The description, if any.
    pub description: Option<String>,
    /// Relations it refs: sources and other nodes, sorted.
    pub deps: BTreeSet<String>,
    /// Columns the Parquet export is hive-partitioned by (`year=2026/month=9/`).
    pub partition_by: Vec<String>,
    /// Columns the Parquet export is sorted by; empty sorts by every column. Naming a
    /// unique key keeps the files deterministic and sorts much less.
    pub order_by: Vec<String>,
    /// Data tests run after it is built.
    pub tests: Vec<DataTest>,
    /// Columns masked in the Parquet export when the pipeline masks PII, besides those
    /// named like a PII column of what the model refs (`-- pii: contact, phone`).
    pub pii: Vec<String>,
    /// For the node holding a model's snapshots (`<model>_snapshots`), that model.
    pub snapshot_of: Option<String>,
}

impl Node {
    /// `sql` or `rust`.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Sql { .. } => "sql",
            NodeKind::Computed(_) => "rust",
        }
    }
}

/// Every node, in an order where each comes after its dependencies.
#[derive(Debug, Clone, Default)]
pub struct ModelGraph {
    /// Nodes in build order.
    pub nodes: Vec<Node>,
}

impl ModelGraph {
    /// The node called `name`.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// True when any node has data tests.
    pub fn has_tests(&self) -> bool {
        self.nodes.iter().any(|n| !n.tests.is_empty())
    }
}

/// Warns (stderr) of each `--var` that nothing reads: see [`vars::unused_vars`]; the
/// texts are the SQL models' templates, their `<model>.yml` test declarations and the
/// report templates (`*.tera` in each report's templates folder).
pub fn warn_unused_vars(
    pipeline: &crate::config::validate::Pipeline,
    graph: &ModelGraph,
    given: &std::collections::BTreeMap<String, String>,
) {
    if given.is_empty() {
        return;
    }
    let mut texts: Vec<String> = graph
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            NodeKind::Sql { template } => Some(template.clone()),
            NodeKind::Computed(_) => None,
        })
        .collect();
    // Data tests declared in `<model>.yml` are rendered with `var` too.
    let files: std::collections::BTreeSet<&Path> = graph
        .nodes
        .iter()
        .flat_map(|n| n.tests.iter().map(|t| t.file.as_path()))
        .filter(|f| f.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    texts.extend(
        files
            .into_iter()
            .filter_map(|f| std::fs::read_to_string(f).ok()),
    );
    let dirs: std::collections::BTreeSet<&Path> = pipeline
        .reports
        .iter()
        .map(|r| r.templates_dir.as_path())
        .collect();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "tera") {
                if let Ok(t) = std::fs::read_to_string(e.path()) {
                    texts.push(t);
                }
            }
        }
    }
    for w in vars::unused_vars(
        &pipeline.config.vars,
        given,
        texts.iter().map(String::as_str),
    ) {
        tracing::warn!("{w}");
    }
}

/// `path` relative to the current folder when it is inside it (for messages).
pub fn shown(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// Finds the SQL models under `dir` and orders them. `sources` are the relations a
/// model may ref besides other models. All problems are collected.
pub fn discover(dir: &Path, sources: &[String]) -> Result<ModelGraph, ConfigError> {
    discover_with(dir, sources, Vec::new())
}

/// [`discover`], with computed nodes added to the graph.
pub fn discover_with(
    dir: &Path,
    sources: &[String],
    computed: Vec<ComputedSpec>,
) -> Result<ModelGraph, ConfigError> {
    let mut diags = Vec::new();
    let mut files = Vec::new();
    let mut yamls = Vec::new();
    collect_files(dir, &mut files, &mut yamls);
    files.sort();
    yamls.sort();
    for y in &yamls {
        if !y.with_extension("sql").is_file() {
            diags.push(Diagnostic {
                file: y.clone(),
                line: 0,
                column: 0,
                code: "E033",
                message: format!(
                    "model settings without a model: no `{}` beside it",
                    y.with_extension("sql")
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_default()
                ),
            });
        }
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut refs_at: Vec<Vec<(String, usize, usize)>> = Vec::new();
    let mut snapshots = Vec::new();
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
        let s = settings::read(&path, &template, &mut diags);
        let refs = render::find_refs(&template);
        let deps = refs.iter().map(|(n, _, _)| n.clone()).collect();
        if s.snapshot {
            if s.materialized == Materialized::View {
                diags.push(diag(
                    0,
                    0,
                    format!("model `{name}`: `snapshot: true` needs `materialized: table`"),
                ));
            }
            snapshots.push(snapshot_spec(&name, &path, &s.order_by));
        }
        nodes.push(Node {
            name,
            kind: NodeKind::Sql { template },
            path: path.clone(),
            materialized: s.materialized,
            description: s.description,
            deps,
            partition_by: s.partition_by,
            order_by: s.order_by,
            tests: s.tests,
            pii: s.pii,
            snapshot_of: None,
        });
        refs_at.push(refs);
    }
    let computed: Vec<(ComputedSpec, Option<String>)> = snapshots
        .into_iter()
        .chain(computed.into_iter().map(|c| (c, None)))
        .collect();
    for (c, snapshot_of) in computed {
        if nodes.iter().any(|n| n.name == c.name) || sources.contains(&c.name) {
            diags.push(Diagnostic {
                file: c.declared_in.clone(),
                line: c.at.0,
                column: c.at.1,
                code: "E030",
                message: format!(
                    "computed node `{}` has the name of a model or source",
                    c.name
                ),
            });
            continue;
        }
        refs_at.push(
            c.deps
                .iter()
                .map(|d| {
                    let (line, col) = c.dep_at.get(d).copied().unwrap_or(c.at);
                    (d.clone(), line, col)
                })
                .collect(),
        );
        nodes.push(Node {
            name: c.name,
            kind: NodeKind::Computed(c.node),
            path: c.declared_in,
            // A snapshot node is a view over the kept copies; forecasts write tables.
            materialized: if snapshot_of.is_some() {
                Materialized::View
            } else {
                Materialized::Table
            },
            description: c.description,
            deps: c.deps,
            partition_by: c.partition_by,
            order_by: c.order_by,
            tests: c.tests,
            pii: Vec::new(),
            snapshot_of,
        });
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
        for t in &node.tests {
            if let Some(r) = t.needs().filter(|r| !known.contains(r)) {
                let mut message = format!(
                    "data test `{}` of model `{}` refers to unknown relation `{r}`",
                    t.name, node.name
                );
                if let Some(s) = crate::util::suggest(r, known.iter().copied()) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                diags.push(Diagnostic {
                    file: t.file.clone(),
                    line: t.line,
                    column: t.column,
                    code: "E034",
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
                // Placed at the first model's `ref()` of the next one in the cycle.
                let (line, column) = first
                    .and_then(|n| match &n.kind {
                        NodeKind::Sql { template } => render::find_refs(template)
                            .into_iter()
                            .find(|(name, _, _)| cycle.get(1) == Some(name))
                            .map(|(_, l, c)| (l, c)),
                        NodeKind::Computed(_) => None,
                    })
                    .unwrap_or((0, 0));
                diags.push(Diagnostic {
                    file: first
                        .map(|n| n.path.clone())
                        .unwrap_or_else(|| dir.to_path_buf()),
                    line,
                    column,
                    code: "E032",
                    message: format!(
                        "models depend on each other in a cycle: {}",
                        cycle.join(" -> ")
                    ),
                });
            }
        }
    }
    for d in &mut diags {
        d.file = shown(&d.file);
    }
    Err(ConfigError { diagnostics: diags })
}

/// The node keeping the snapshots of model `name` (see [`snapshot`]): exported
/// hive-partitioned by `as_of`, sorted by as-of then the model's order. PII columns of
/// the model are masked in its export like the model's (they are its dependency's).
fn snapshot_spec(name: &str, path: &Path, order_by: &[String]) -> (ComputedSpec, Option<String>) {
    let mut order = Vec::new();
    if !order_by.is_empty() {
        order.push("as_of".to_string());
        order.extend(order_by.iter().cloned());
    }
    (
        ComputedSpec {
            name: snapshot::node_name(name),
            deps: [name.to_string()].into(),
            description: Some(format!(
                "Period close: the rows of `{name}` as published by each as-of date (the \
                 run's as-of in `as_of`, the other columns as in `{name}`). A run replaces \
                 the snapshot of its own as-of and keeps the others."
            )),
            declared_in: path.to_path_buf(),
            at: (1, 1),
            dep_at: BTreeMap::new(),
            partition_by: vec!["as_of".into()],
            order_by: order,
            tests: Vec::new(),
            node: Arc::new(snapshot::SnapshotNode {
                model: name.to_string(),
            }),
        },
        Some(name.to_string()),
    )
}

fn collect_files(dir: &Path, sql: &mut Vec<PathBuf>, yml: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, sql, yml);
        } else if p.extension().is_some_and(|x| x == "sql") {
            sql.push(p);
        } else if p.extension().is_some_and(|x| x == "yml") {
            yml.push(p);
        }
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn node(name: &str, deps: &[&str]) -> Node {
        Node {
            name: name.into(),
            kind: NodeKind::Sql {
                template: String::new(),
            },
            path: PathBuf::from(format!("{name}.sql")),
            materialized: Materialized::Table,
            description: None,
            deps: deps.iter().map(|s| s.to_string()).collect(),
            partition_by: Vec::new(),
            order_by: Vec::new(),
            tests: Vec::new(),
            pii: Vec::new(),
            snapshot_of: None,
        }
    }

    #[test]
    fn a_snapshot_model_gets_its_snapshot_node_right_after_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kpi.sql"),
            "-- order_by: month\n-- snapshot: true\nSELECT * FROM {{ ref(\"orders\") }}",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("later.sql"),
            "SELECT * FROM {{ ref(\"kpi_snapshots\") }}",
        )
        .unwrap();
        let graph = discover(dir.path(), &["orders".into()]).unwrap();
        let got: Vec<(&str, &str, Option<&str>)> = graph
            .nodes
            .iter()
            .map(|n| (n.name.as_str(), n.kind_name(), n.snapshot_of.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("kpi", "sql", None),
                ("kpi_snapshots", "rust", Some("kpi")),
                ("later", "sql", None)
            ]
        );
        let snap = graph.get("kpi_snapshots").unwrap();
        // A view over the kept copies, as the warehouse has it.
        assert_eq!(snap.materialized, Materialized::View);
        assert_eq!(snap.partition_by, vec!["as_of"]);
        assert_eq!(snap.order_by, vec!["as_of", "month"]);
        // Selecting the model takes its snapshot too.
        let sel = select::resolve(&graph, &["orders".into()], &["kpi".into()]).unwrap();
        assert_eq!(
            sel.into_iter().collect::<Vec<_>>(),
            vec!["kpi".to_string(), "kpi_snapshots".to_string()]
        );

        std::fs::write(
            dir.path().join("kpi.sql"),
            "-- materialized: view\n-- snapshot: true\nSELECT 1",
        )
        .unwrap();
        let err = discover(dir.path(), &[]).unwrap_err();
        assert!(
            err.to_string()
                .contains("`snapshot: true` needs `materialized: table`"),
            "{err}"
        );
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
}
