//! The filters a report's templates use, read from Tera's parsed templates, so that a
//! misspelt filter (`| cnt`) is found by `validate` and before a run does its work,
//! not when the report renders at the end of the run and rolls everything back.

use std::collections::BTreeSet;

use tera::ast::{Expr, ExprVal, Node};

/// Filters Tera's renderer handles itself, without registering them.
const IN_RENDERER: [&str; 2] = ["safe", "default"];

/// `(template, filter)` for every filter a template of `tera` uses that `tera` does not
/// have, sorted.
pub fn unknown(tera: &tera::Tera) -> Vec<(String, String)> {
    let mut out = BTreeSet::new();
    for (name, template) in &tera.templates {
        let mut used = BTreeSet::new();
        nodes(&template.ast, &mut used);
        for m in template.macros.values() {
            nodes(&m.body, &mut used);
        }
        for f in used {
            if !tera.filters.contains_key(&f) && !IN_RENDERER.contains(&f.as_str()) {
                out.insert((name.clone(), f));
            }
        }
    }
    out.into_iter().collect()
}

/// 1-based line and column of the first `| filter` (or `filter filter`) in `text`.
pub fn first_use(text: &str, filter: &str) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    for (i, line) in text.lines().enumerate() {
        for (j, _) in line.match_indices(filter) {
            let before = line[..j].trim_end();
            let after = line[j + filter.len()..].chars().next();
            let called = before.ends_with('|') || before.ends_with("filter");
            if called && after.is_none_or(|c| !is_word(c)) {
                return Some((i + 1, j + 1));
            }
        }
    }
    None
}

fn nodes(list: &[Node], used: &mut BTreeSet<String>) {
    for node in list {
        match node {
            Node::VariableBlock(_, e) => expr(e, used),
            Node::MacroDefinition(_, m, _) => {
                m.args.values().flatten().for_each(|e| expr(e, used));
                nodes(&m.body, used);
            }
            Node::Set(_, s) => expr(&s.value, used),
            Node::FilterSection(_, f, _) => {
                used.insert(f.filter.name.clone());
                f.filter.args.values().for_each(|e| expr(e, used));
                nodes(&f.body, used);
            }
            Node::Block(_, b, _) => nodes(&b.body, used),
            Node::Forloop(_, f, _) => {
                expr(&f.container, used);
                nodes(&f.body, used);
                if let Some(body) = &f.empty_body {
                    nodes(body, used);
                }
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    expr(cond, used);
                    nodes(body, used);
                }
                if let Some((_, body)) = &i.otherwise {
                    nodes(body, used);
                }
            }
            _ => {}
        }
    }
}

fn expr(e: &Expr, used: &mut BTreeSet<String>) {
    for f in &e.filters {
        used.insert(f.name.clone());
        f.args.values().for_each(|a| expr(a, used));
    }
    value(&e.val, used);
}

fn value(v: &ExprVal, used: &mut BTreeSet<String>) {
    match v {
        ExprVal::Math(m) => {
            expr(&m.lhs, used);
            expr(&m.rhs, used);
        }
        ExprVal::Logic(l) => {
            expr(&l.lhs, used);
            expr(&l.rhs, used);
        }
        ExprVal::In(i) => {
            expr(&i.lhs, used);
            expr(&i.rhs, used);
        }
        ExprVal::Test(t) => t.args.iter().for_each(|a| expr(a, used)),
        ExprVal::MacroCall(m) => m.args.values().for_each(|a| expr(a, used)),
        ExprVal::FunctionCall(f) => f.args.values().for_each(|a| expr(a, used)),
        ExprVal::Array(items) => items.iter().for_each(|a| expr(a, used)),
        ExprVal::StringConcat(s) => s.values.iter().for_each(|x| value(x, used)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_found_in_every_kind_of_node() {
        let mut tera = tera::Tera::default();
        tera.add_raw_template(
            "t.md",
            "{{ a | upper | default(value=1) | safe }}{% for x in xs | sort %}{{ x | cnt }}{% else %}{{ y | nope1(n=z | nope2) }}{% endfor %}\
             {% if b | length > 1 %}{% set c = d | nope3 %}{% endif %}\
             {% filter nope4 %}text{% endfilter %}{{ [e | nope5] }}",
        )
        .unwrap();
        tera.register_filter("cnt", |v: &tera::Value, _: &_| Ok(v.clone()));
        let found: Vec<String> = unknown(&tera).into_iter().map(|(_, f)| f).collect();
        assert_eq!(found, vec!["nope1", "nope2", "nope3", "nope4", "nope5"]);
    }

    #[test]
    fn first_use_is_after_a_bar() {
        let text = "cnt is text\n| a | {{ x | cnt }} |\n";
        assert_eq!(first_use(text, "cnt"), Some((2, 14)));
        assert_eq!(first_use("{% filter up %}", "up"), Some((1, 11)));
        assert_eq!(first_use("{{ x | cntx }}", "cnt"), None);
    }
}
