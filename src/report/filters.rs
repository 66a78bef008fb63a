//! The filters a report's templates use, read from Tera's parsed templates, so that a
//! misspelt filter (`| cnt`) is found by `validate` and before a run does its work,
//! not when the report renders at the end of the run and rolls everything back.

use std::collections::BTreeSet;

use tera::ast::{Expr, ExprVal, Node};

/// `(template, filter)` for every filter that a template in `roots`, or one they
/// include, extend or import, uses and `tera` does not have; sorted.
pub fn unknown(tera: &tera::Tera, roots: &[String]) -> Vec<(String, String)> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<String> = roots.to_vec();
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        let Some(template) = tera.templates.get(&name) else {
            continue;
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut used = Used::default();
        used.nodes(&template.ast);
        for m in template.macros.values() {
            used.nodes(&m.body);
        }
        todo.extend(used.templates);
        for f in used.filters {
            if !tera.filters.contains_key(&f) {
                out.insert((name.clone(), f));
            }
        }
    }
    out.into_iter().collect()
}

/// What a template refers to.
#[derive(Default)]
struct Used {
    filters: BTreeSet<String>,
    templates: Vec<String>,
}

impl Used {
    fn nodes(&mut self, list: &[Node]) {
        for node in list {
            match node {
                Node::VariableBlock(_, e) => self.expr(e),
                Node::MacroDefinition(_, m, _) => {
                    m.args.values().flatten().for_each(|e| self.expr(e));
                    self.nodes(&m.body);
                }
                Node::Set(_, s) => self.expr(&s.value),
                Node::FilterSection(_, f, _) => {
                    // Tera's renderer applies `safe` itself in a filter section, but not
                    // `default`.
                    if f.filter.name != "safe" {
                        self.filters.insert(f.filter.name.clone());
                    }
                    f.filter.args.values().for_each(|e| self.expr(e));
                    self.nodes(&f.body);
                }
                Node::Block(_, b, _) => self.nodes(&b.body),
                Node::Forloop(_, f, _) => {
                    self.expr(&f.container);
                    self.nodes(&f.body);
                    if let Some(body) = &f.empty_body {
                        self.nodes(body);
                    }
                }
                Node::If(i, _) => {
                    for (_, cond, body) in &i.conditions {
                        self.expr(cond);
                        self.nodes(body);
                    }
                    if let Some((_, body)) = &i.otherwise {
                        self.nodes(body);
                    }
                }
                Node::Include(_, names, _) => self.templates.extend(names.iter().cloned()),
                Node::Extends(_, name) | Node::ImportMacro(_, name, _) => {
                    self.templates.push(name.clone())
                }
                _ => {}
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        for f in &e.filters {
            // In an expression Tera's renderer applies `safe` and `default` itself.
            if f.name != "safe" && f.name != "default" {
                self.filters.insert(f.name.clone());
            }
            f.args.values().for_each(|a| self.expr(a));
        }
        self.value(&e.val);
    }

    fn value(&mut self, v: &ExprVal) {
        match v {
            ExprVal::Math(m) => {
                self.expr(&m.lhs);
                self.expr(&m.rhs);
            }
            ExprVal::Logic(l) => {
                self.expr(&l.lhs);
                self.expr(&l.rhs);
            }
            ExprVal::In(i) => {
                self.expr(&i.lhs);
                self.expr(&i.rhs);
            }
            ExprVal::Test(t) => t.args.iter().for_each(|a| self.expr(a)),
            ExprVal::MacroCall(m) => m.args.values().for_each(|a| self.expr(a)),
            ExprVal::FunctionCall(f) => f.args.values().for_each(|a| self.expr(a)),
            ExprVal::Array(items) => items.iter().for_each(|a| self.expr(a)),
            ExprVal::StringConcat(s) => s.values.iter().for_each(|x| self.value(x)),
            _ => {}
        }
    }
}

/// 1-based line and column of the first use of `filter` inside a `{{ }}` or `{% %}` tag
/// of `text` (after a `|`, or as `filter NAME`); comments and text are not searched.
pub fn first_use(text: &str, filter: &str) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(open) = text[from..].find('{').map(|i| from + i) {
        let close = match text.get(open..open + 2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            Some("{#") => "#}",
            _ => {
                from = open + 1;
                continue;
            }
        };
        let end = text[open + 2..]
            .find(close)
            .map_or(text.len(), |i| open + 2 + i);
        if close != "#}" {
            let tag = &text[open..end];
            for (j, _) in tag.match_indices(filter) {
                let before = tag[..j].trim_end();
                let after = tag[j + filter.len()..].chars().next();
                let called = before.ends_with('|') || before.ends_with(" filter");
                if called && after.is_none_or(|c| !is_word(c)) {
                    let at = open + j;
                    let line = text[..at].matches('\n').count() + 1;
                    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
                    return Some((line, column));
                }
            }
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_found_in_every_kind_of_node_and_included_template() {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(vec![
            (
                "t.md",
                "{{ a | upper | default(value=1) | safe }}{% for x in xs | sort %}{{ x | cnt }}\
                 {% else %}{{ y | nope1(n=z | nope2) }}{% endfor %}\
                 {% if b | length > 1 %}{% set c = d | nope3 %}{% endif %}\
                 {% filter nope4 %}text{% endfilter %}{% filter default %}x{% endfilter %}\
                 {{ [e | nope5] }}{{ f is containing(g | nope6) }}{% if h | nope7 in i %}{% endif %}\
                 {{ now(k = l | nope8) }}{% include \"part.md\" %}",
            ),
            ("part.md", "{{ m | nope9 }}"),
            ("unused.md", "{{ n | nope10 }}"),
        ])
        .unwrap();
        tera.register_filter("cnt", |v: &tera::Value, _: &_| Ok(v.clone()));
        let found: Vec<(String, String)> = unknown(&tera, &["t.md".to_string()]);
        let names: Vec<&str> = found.iter().map(|(_, f)| f.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "nope9", "default", "nope1", "nope2", "nope3", "nope4", "nope5", "nope6", "nope7",
                "nope8"
            ]
        );
        assert_eq!(found[0].0, "part.md");
    }

    #[test]
    fn first_use_is_inside_a_tag() {
        let text = "| cnt | text |\n{# x | cnt #}\n| a | {{ x |\n  cnt }} |\n";
        assert_eq!(first_use(text, "cnt"), Some((4, 3)));
        assert_eq!(first_use("{% filter up %}", "up"), Some((1, 11)));
        assert_eq!(first_use("{{ x | cntx }}", "cnt"), None);
    }
}
