//! Node selection for `run --select`: `NAME` (the node), `NAME+` (it and everything
//! downstream), `+NAME` (it and everything upstream), `+NAME+` (both). Several selectors
//! add up; one `--select` value may also hold several, separated by commas or spaces.
//! A source name selects the nodes that read it with `NAME+`. A selected model's
//! snapshot node (`<model>_snapshots`) is always selected with it.

use std::collections::{BTreeMap, BTreeSet};

use super::ModelGraph;
use crate::error::{Error, Result};

/// One parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The node (or source) name.
    pub name: String,
    /// `+NAME`: also every node it depends on.
    pub upstream: bool,
    /// `NAME+`: also every node that depends on it.
    pub downstream: bool,
}

impl std::str::FromStr for Selector {
    type Err = Error;
    fn from_str(s: &str) -> Result<Selector> {
        let upstream = s.starts_with('+');
        let downstream = s.len() > 1 && s.ends_with('+');
        let name = s.trim_start_matches('+').trim_end_matches('+');
        if name.is_empty() || name.contains('+') {
            return Err(Error::Usage(format!(
                "--select `{s}`: expected NAME, NAME+, +NAME or +NAME+"
            )));
        }
        Ok(Selector {
            name: name.to_string(),
            upstream,
            downstream,
        })
    }
}

/// The nodes selected by `values` (each may hold several selectors). `sources` are the
/// pipeline's sources.
pub fn resolve(
    graph: &ModelGraph,
    sources: &[String],
    values: &[String],
) -> Result<BTreeSet<String>> {
    let mut readers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in &graph.nodes {
        for d in &n.deps {
            readers.entry(d.as_str()).or_default().push(&n.name);
        }
    }
    let mut out = BTreeSet::new();
    for value in values {
        if value.trim_matches([',', ' ']).is_empty() {
            return Err(Error::Usage(format!(
                "--select `{value}`: names no model; expected NAME, NAME+, +NAME or +NAME+"
            )));
        }
        for part in value.split([',', ' ']).filter(|p| !p.is_empty()) {
            let sel: Selector = part.parse()?;
            let is_node = graph.get(&sel.name).is_some();
            let is_source = sources.contains(&sel.name);
            if !is_node && !is_source {
                let names = graph
                    .nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .chain(sources.iter().map(String::as_str));
                let mut msg = format!("--select `{part}`: no model called `{}`", sel.name);
                if let Some(s) = crate::util::suggest(&sel.name, names) {
                    msg.push_str(&format!("; did you mean `{s}`?"));
                }
                return Err(Error::Usage(msg));
            }
            if is_source && !sel.downstream {
                return Err(Error::Usage(format!(
                    "--select `{part}`: `{}` is a source, not a model; `{}+` selects the \
                     models that read it",
                    sel.name, sel.name
                )));
            }
            if is_node {
                out.insert(sel.name.clone());
            }
            if sel.upstream {
                let mut stack = vec![sel.name.clone()];
                while let Some(n) = stack.pop() {
                    if let Some(node) = graph.get(&n) {
                        for d in &node.deps {
                            if graph.get(d).is_some() && out.insert(d.clone()) {
                                stack.push(d.clone());
                            }
                        }
                    }
                }
            }
            if sel.downstream {
                let mut stack = vec![sel.name.clone()];
                while let Some(n) = stack.pop() {
                    for r in readers.get(n.as_str()).into_iter().flatten() {
                        if out.insert(r.to_string()) {
                            stack.push(r.to_string());
                        }
                    }
                }
            }
        }
    }
    // A model's snapshot is taken whenever the model is rebuilt.
    for n in &graph.nodes {
        if n.snapshot_of.as_ref().is_some_and(|m| out.contains(m)) {
            out.insert(n.name.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use super::*;
    use crate::models::{Materialized, Node, NodeKind};

    fn graph() -> ModelGraph {
        // orders -> a -> b -> d ; a -> c ; e alone
        let node = |name: &str, deps: &[&str]| Node {
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
        };
        ModelGraph {
            nodes: vec![
                node("a", &["orders"]),
                node("e", &[]),
                node("b", &["a"]),
                node("c", &["a"]),
                node("d", &["b"]),
            ],
        }
    }

    fn sel(values: &[&str]) -> Result<Vec<String>> {
        let v: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        resolve(&graph(), &["orders".into()], &v).map(|s| s.into_iter().collect())
    }

    #[test]
    fn selectors() {
        assert_eq!(sel(&["b"]).unwrap(), vec!["b"]);
        assert_eq!(sel(&["b+"]).unwrap(), vec!["b", "d"]);
        assert_eq!(sel(&["+b"]).unwrap(), vec!["a", "b"]);
        assert_eq!(sel(&["+b+"]).unwrap(), vec!["a", "b", "d"]);
        assert_eq!(sel(&["a+"]).unwrap(), vec!["a", "b", "c", "d"]);
        assert_eq!(sel(&["c", "e"]).unwrap(), vec!["c", "e"]);
        assert_eq!(sel(&["c,e d"]).unwrap(), vec!["c", "d", "e"]);
        assert_eq!(sel(&["orders+"]).unwrap(), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn bad_selectors_are_usage_errors() {
        let e = sel(&["bb"]).unwrap_err().to_string();
        assert!(e.contains("no model called `bb`"), "{e}");
        let e = sel(&["orders"]).unwrap_err().to_string();
        assert!(e.contains("`orders+` selects"), "{e}");
        assert!(sel(&["+"]).is_err());
        assert!(sel(&["a++b"]).is_err());
        // An empty selector (`--select ''`, a stray comma) is not "nothing to build".
        for empty in ["", " , "] {
            let e = sel(&["a", empty]).unwrap_err().to_string();
            assert!(e.contains("names no model"), "{e}");
        }
    }
}
