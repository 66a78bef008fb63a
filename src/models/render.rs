//! Rendering a SQL model with Tera: `{{ ref("x") }}` becomes the quoted relation, the
//! template variables of [`TemplateVars`] are in scope. Also finds the `ref()` calls of a
//! template (with their positions) for the graph.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::vars::TemplateVars;
use crate::error::{Error, Result};
use crate::sql::qualified;

/// Whether byte `at` of `text` is inside a Tera tag (`{{ }}` or `{% %}`): a `ref(` in
/// the SQL around them (a string, a comment) is text, not a call.
fn in_tag(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let open = before.rfind("{{").max(before.rfind("{%"));
    let close = before.rfind("}}").max(before.rfind("%}"));
    open.is_some() && open > close
}

/// The byte offsets of the `ref(` calls of `text` that take a quoted name inside a tag.
fn ref_calls(text: &str) -> Vec<usize> {
    text.match_indices("ref(")
        .map(|(i, _)| i)
        .filter(|&i| {
            let before_ok =
                i == 0 || !text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let after = text[i + 4..].trim_start();
            before_ok && (after.starts_with('"') || after.starts_with('\'')) && in_tag(text, i)
        })
        .collect()
}

/// Every `ref("name")` / `ref('name')` inside a tag, with its 1-based line and column.
pub fn find_refs(text: &str) -> Vec<(String, usize, usize)> {
    ref_calls(text)
        .into_iter()
        .filter_map(|i| {
            let after = text[i + 4..].trim_start();
            let q = after.chars().next()?;
            let end = after[1..].find(q)?;
            let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
            let line = text[..i].matches('\n').count() + 1;
            let column = text[line_start..i].chars().count() + 1;
            Some((after[1..1 + end].to_string(), line, column))
        })
        .collect()
}

/// Tera functions take named arguments only: `ref("x")` becomes `ref(name="x")` (in
/// tags only: the SQL around them is left as written).
fn named_refs(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut from = 0;
    for i in ref_calls(text) {
        out.push_str(&text[from..i + 4]);
        out.push_str("name=");
        from = i + 4;
    }
    out.push_str(&text[from..]);
    out
}

/// The column in line `line` (1-based) of `template` of what is at `column` in
/// `named_refs(template)`: each `name=` inserted before it on that line shifted it 5 to
/// the right (columns in characters, as Tera counts them).
fn original_column(template: &str, line: usize, column: usize) -> usize {
    let line_start: usize = template
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let line_end = template[line_start..]
        .find('\n')
        .map_or(template.len(), |n| line_start + n);
    let mut shift = 0;
    for i in ref_calls(template)
        .into_iter()
        .filter(|&i| i >= line_start && i < line_end)
    {
        // `name=` goes after `ref(`, at this character of the original line.
        let at = template[line_start..i + 4].chars().count();
        if at + shift + 1 > column {
            break;
        }
        shift += 5;
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
        original_column(template, line, column)
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
        // `FROM {{ ref(name="a") }} JOIN {{ ref(name="b") }`: the unclosed `}` is at 48
        // rewritten, 38 in the file; between the two refs, one shift; before the first
        // `ref(`, none.
        assert_eq!(original_column(line, 1, 48), 38);
        assert_eq!(original_column(line, 1, 26), 21);
        assert_eq!(original_column(line, 1, 3), 3);
        // Line 2, `-- éééééééééé {{ ref(name="a" }}`: the `name=` goes after 21
        // characters (31 bytes); what is at 31 rewritten is at 26 in the file. Counting
        // bytes would put the insertion after it and leave 31.
        let accented = "SELECT 1\n-- éééééééééé {{ ref(\"a\" }}";
        assert_eq!(original_column(accented, 2, 31), 26);
    }

    #[test]
    fn refs_become_named_arguments() {
        assert_eq!(
            named_refs("{{ ref(\"a\") }} {{ ref(name='b') }} pref('c')"),
            "{{ ref(name=\"a\") }} {{ ref(name='b') }} pref('c')"
        );
        // Outside a tag (a SQL string, a comment) it is text: left as written, and not
        // a dependency.
        let sql = "SELECT 'see ref(\"a\")' -- ref('b')\nFROM {{ ref(\"c\") }}";
        assert_eq!(
            named_refs(sql),
            "SELECT 'see ref(\"a\")' -- ref('b')\nFROM {{ ref(name=\"c\") }}"
        );
        assert_eq!(find_refs(sql), vec![("c".to_string(), 2, 9)]);
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
