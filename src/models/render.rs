//! Rendering a SQL model with Tera: `{{ ref("x") }}` becomes the quoted relation, the
//! template variables of [`TemplateVars`] are in scope. Also finds the `ref()` calls of a
//! template (with their positions) for the graph.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::vars::TemplateVars;
use crate::error::{Error, Result};
use crate::sql::qualified;

/// Every `ref("name")` / `ref('name')` with its 1-based line and column.
pub fn find_refs(text: &str) -> Vec<(String, usize, usize)> {
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

/// The column in `line` (1-based) of what is at `column` in `named_refs(line)`: each
/// `name=` inserted before it shifted it 5 to the right.
fn original_column(line: &str, column: usize) -> usize {
    let mut shift = 0;
    let mut at = 0;
    let mut rest = line;
    while let Some(i) = rest.find("ref(") {
        let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        at += i + 4;
        rest = &rest[i + 4..];
        let trimmed = rest.trim_start();
        if before_ok && (trimmed.starts_with('"') || trimmed.starts_with('\'')) {
            // `name=` goes at `at` in the original, `at + shift` rewritten (in characters,
            // as Tera counts columns).
            if line[..at].chars().count() + shift + 1 > column {
                break;
            }
            shift += 5;
        }
    }
    column.saturating_sub(shift).max(1)
}

/// Error E040 for model `name` at a 1-based place of its file.
fn located(path: &Path, line: usize, column: usize, message: String) -> Error {
    Error::Config(crate::error::ConfigError {
        diagnostics: vec![crate::error::Diagnostic {
            file: crate::models::shown(path),
            line,
            column,
            code: "E040",
            message,
        }],
    })
}

/// Tera's parser error for `template` (`--> LINE:COLUMN` and `= what was expected`) as
/// error E040 at that place of the file, with a hint for a `ref()` without quotes.
fn syntax_error(name: &str, path: &Path, template: &str, err: &tera::Error) -> Error {
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        text.push('\n');
        text.push_str(&c.to_string());
        cause = c.source();
    }
    let (line, column) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|at| at.split_once(':'))
        .and_then(|(l, c)| Some((l.trim().parse::<usize>().ok()?, c.trim().parse().ok()?)))
        .unwrap_or((0, 0));
    let source_line = template.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let column = if line > 0 {
        original_column(source_line, column)
    } else {
        0
    };
    let what = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .unwrap_or("the template does not parse");
    let hint = if what.contains("keyword argument") && source_line.contains("ref(") {
        "; `ref()` takes the relation's name in quotes: `ref(\"orders\")`"
    } else {
        ""
    };
    located(
        path,
        line,
        column,
        format!("model `{name}`: template syntax error: {what}{hint}"),
    )
}

/// Where `needle` first appears inside a `{{ }}` or `{% %}` of `template` (1-based).
fn position_in_tags(template: &str, needle: &str) -> (usize, usize) {
    for (i, line) in template.lines().enumerate() {
        let mut from = 0;
        while let Some(j) = line[from..].find(needle) {
            let at = from + j;
            let open = line[..at].rfind("{{").max(line[..at].rfind("{%"));
            let close = line[..at].rfind("}}").max(line[..at].rfind("%}"));
            if open.is_some() && open > close {
                return (i + 1, line[..at].chars().count() + 1);
            }
            from = at + needle.len();
        }
    }
    (0, 0)
}

/// Tera's error for a variable it cannot find while rendering, as error E040 at its
/// first use, saying what the names are; `None` for another error.
fn variable_error(name: &str, path: &Path, template: &str, err: &tera::Error) -> Option<Error> {
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(c) = cause {
        text.push_str(&c.to_string());
        cause = c.source();
    }
    let var = text
        .split_once("Variable `")?
        .1
        .split_once('`')?
        .0
        .to_string();
    let (line, column) = position_in_tags(template, &var);
    let message = match var.strip_prefix("var.") {
        Some(v) => format!(
            "model `{name}`: `{var}` is not set: give it under `vars:` in the pipeline or \
             with `--var {v}=VALUE`"
        ),
        None if template.contains(&format!("ref({var})")) => format!(
            "model `{name}`: `ref({var})`: `ref()` takes the relation's name in quotes: \
             `ref(\"{var}\")`"
        ),
        None => {
            let names = TemplateVars::names();
            let hint = crate::util::suggest(&var, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            format!(
                "model `{name}`: `{var}` is not a template variable{hint} (they are {}, \
                 and `var.<name>` for the pipeline's `vars`)",
                names.join(", ")
            )
        }
    };
    Some(located(path, line, column, message))
}

/// Parses every SQL model's template (nothing rendered): its syntax errors, E040 at
/// their place. `run` checks them before it opens the warehouse; `validate` and `plan`
/// list them.
pub fn syntax_errors(graph: &super::ModelGraph) -> Vec<crate::error::Diagnostic> {
    graph.nodes.iter().filter_map(node_syntax_error).collect()
}

/// The syntax error of one SQL model's template, if any (see [`syntax_errors`]).
pub fn node_syntax_error(node: &super::Node) -> Option<crate::error::Diagnostic> {
    let super::NodeKind::Sql { template } = &node.kind else {
        return None;
    };
    let mut tera = tera::Tera::default();
    let file = node.path.to_string_lossy().to_string();
    let e = tera.add_raw_template(&file, &named_refs(template)).err()?;
    match syntax_error(&node.name, &node.path, template, &e) {
        Error::Config(c) => c.diagnostics.into_iter().next(),
        _ => None,
    }
}

/// Renders the model `name` (file `path`, text `template`), whose literal `ref()`s are
/// `deps`. A template that does not parse, or uses a variable that does not exist, is
/// error E040 at its place in the file.
pub fn render(
    name: &str,
    path: &Path,
    template: &str,
    deps: &BTreeSet<String>,
    vars: &TemplateVars,
) -> Result<String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(Vec::new());
    let file = path.to_string_lossy().to_string();
    tera.add_raw_template(&file, &named_refs(template))
        .map_err(|e| syntax_error(name, path, template, &e))?;
    let used = Arc::new(Mutex::new(BTreeSet::new()));
    let used_in = Arc::clone(&used);
    let allowed = deps.clone();
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
    tera.render(&file, &vars.context()).map_err(|e| {
        variable_error(name, path, template, &e)
            .unwrap_or_else(|| Error::template(format!("rendering model `{name}` ({file})"), &e))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn finds_refs_with_positions() {
        let refs =
            find_refs("select *\nfrom {{ ref(\"orders\") }} join {{ref('lines')}}\n-- href(x)");
        assert_eq!(refs, vec![("orders".into(), 2, 9), ("lines".into(), 2, 33)]);
    }

    /// Columns in the file from columns in the rewritten text (5 more per `name=`
    /// inserted before them), in characters.
    #[test]
    fn columns_are_mapped_back_through_the_rewrite() {
        let line = r#"FROM {{ ref("a") }} JOIN {{ ref("b") } -- é"#;
        // `FROM {{ ref(name="a") }} JOIN {{ ref(name="b") }`: the unclosed `}` is at 45
        // rewritten, 35 in the file; a column before the first `ref(` is unchanged.
        assert_eq!(original_column(line, 45), 35);
        assert_eq!(original_column(line, 3), 3);
        let accented = r#"-- é {{ ref("a") }"#;
        // `-- é {{ ref(name="a") }`: the `}` at 25 rewritten, 20 in the file.
        assert_eq!(original_column(accented, 25), 20);
    }

    #[test]
    fn refs_become_named_arguments() {
        assert_eq!(
            named_refs("{{ ref(\"a\") }} {{ ref(name='b') }} pref('c')"),
            "{{ ref(name=\"a\") }} {{ ref(name='b') }} pref('c')"
        );
    }

    #[test]
    fn renders_refs_periods_and_vars() {
        let mut vars = TemplateVars::new(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        vars.vars.insert("region".into(), "North".into());
        vars.fiscal_year_start_month = 4;
        let deps: BTreeSet<String> = ["orders".to_string()].into();
        let sql = render(
            "m",
            Path::new("m.sql"),
            "SELECT * FROM {{ ref(\"orders\") }} WHERE d BETWEEN '{{ fiscal_year_start }}' \
             AND '{{ month_end }}' AND r = '{{ var.region }}' -- FY{{ fiscal_year }}",
            &deps,
            &vars,
        )
        .unwrap();
        assert_eq!(
            sql,
            "SELECT * FROM \"main\".\"orders\" WHERE d BETWEEN '2026-04-01' AND '2026-09-30' \
             AND r = 'North' -- FY2027"
        );
    }
}
