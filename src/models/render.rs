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

/// Renders the model `name` (file `path`, text `template`), whose literal `ref()`s are
/// `deps`.
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
        .map_err(|e| Error::template(&file, &e))?;
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
    tera.render(&file, &vars.context())
        .map_err(|e| Error::template(format!("rendering model `{name}` ({file})"), &e))
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
