//! Cross-column rules (`rules: - check: ship_date >= order_date`): the user's SQL
//! boolean expression, parsed by DuckDB itself (`json_serialize_sql`) so that exactly one
//! expression over the source's declared columns reaches the generated SQL.
//!
//! [`parse`] rejects anything that is not a single expression (a `FROM`, a `;`, several
//! expressions, an alias), subqueries, window functions, `*`, parameters and every column
//! reference that is not a declared column written alone; it then qualifies each column
//! reference with the typed row's alias and lets DuckDB render the tree back to SQL
//! (`json_deserialize_sql`: no comments, nothing of the text outside the parsed tree), and
//! binds the result over an empty row of the declared types, which must give a BOOLEAN.
//! The config check and the clean stage call the same function, so what validates is
//! what runs.

use duckdb::Connection;
use serde_json::Value;

use crate::config::{ColumnConfig, ColumnType};
use crate::sql::ident;

/// A parsed cross-column check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckExpr {
    /// The expression rendered by DuckDB, in parentheses, its column references qualified
    /// by the row alias, e.g. `(t.ship_date >= t.order_date)`.
    pub sql: String,
    /// The declared columns it references, in order of first appearance.
    pub columns: Vec<String>,
}

/// Why a check is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// What is wrong, naming the item in backticks.
    pub message: String,
    /// Byte offset in the check text of the offending part, when known.
    pub offset: Option<usize>,
}

const PREFIX: &str = "SELECT ";

/// The DuckDB type of a column after cleaning.
pub fn sql_type(ty: ColumnType) -> String {
    match ty {
        ColumnType::String => "VARCHAR".into(),
        ColumnType::Integer => "BIGINT".into(),
        ColumnType::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        ColumnType::Date => "DATE".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
    }
}

fn error(message: String, offset: Option<usize>) -> CheckError {
    CheckError { message, offset }
}

/// The first line of a DuckDB error (its messages carry a caret drawing below).
fn duck_message(e: &duckdb::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// Parses `check` against `columns`, qualifying column references with `alias`.
pub fn parse(
    conn: &Connection,
    check: &str,
    columns: &[ColumnConfig],
    alias: &str,
) -> Result<CheckExpr, CheckError> {
    let json: String = conn
        .query_row(
            "SELECT json_serialize_sql(?)",
            [format!("{PREFIX}{check}")],
            |r| r.get(0),
        )
        .map_err(|e| error(duck_message(&e), None))?;
    let mut doc: Value =
        serde_json::from_str(&json).map_err(|e| error(format!("parsing the check: {e}"), None))?;
    if doc["error"] == Value::Bool(true) {
        let offset = doc["position"]
            .as_str()
            .and_then(|p| p.parse::<usize>().ok())
            .map(|p| p.saturating_sub(PREFIX.len()));
        let msg = doc["error_message"].as_str().unwrap_or("syntax error");
        return Err(error(format!("not a valid SQL expression: {msg}"), offset));
    }
    let single = "must be one SQL expression over the row (no `FROM`, `WHERE`, alias, `;` \
                  or list of expressions)";
    let statements = doc["statements"].as_array().map_or(0, Vec::len);
    let node = &doc["statements"][0]["node"];
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    let plain = statements == 1
        && node["type"] == "SELECT_NODE"
        && empty(&node["modifiers"])
        && empty(&node["cte_map"]["map"])
        && node["select_list"].as_array().map_or(0, Vec::len) == 1
        && node["from_table"]["type"] == "EMPTY"
        && empty(&node["where_clause"])
        && empty(&node["group_expressions"])
        && empty(&node["group_sets"])
        && empty(&node["having"])
        && empty(&node["qualify"])
        && empty(&node["sample"])
        && node["select_list"][0]["alias"] == "";
    if !plain {
        return Err(error(single.to_string(), None));
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut refs = Vec::new();
    let expr = &mut doc["statements"][0]["node"]["select_list"][0];
    walk(expr, &names, alias, &mut refs)?;
    refs.sort();
    let mut used: Vec<String> = Vec::new();
    for (_, name) in refs {
        if !used.contains(&name) {
            used.push(name);
        }
    }
    let rendered: String = conn
        .query_row(
            "SELECT json_deserialize_sql(?::JSON)",
            [doc.to_string()],
            |r| r.get(0),
        )
        .map_err(|e| error(duck_message(&e), None))?;
    let body = rendered
        .strip_prefix(PREFIX)
        .ok_or_else(|| error(format!("unexpected rendering `{rendered}`"), None))?;
    let sql = format!("({body})");
    // Bind over an empty row of the declared types, in a WHERE clause (which refuses
    // aggregates) and as a result column (whose type must be BOOLEAN).
    let row: Vec<String> = columns
        .iter()
        .map(|c| format!("CAST(NULL AS {}) AS {}", sql_type(c.ty), ident(&c.name)))
        .collect();
    let probe = format!(
        "DESCRIBE SELECT {sql} AS _check FROM (SELECT {}) {} WHERE {sql} IS NULL OR true",
        row.join(", "),
        ident(alias)
    );
    let ty: String = conn
        .query_row(&probe, [], |r| r.get(1))
        .map_err(|e| error(format!("does not bind: {}", duck_message(&e)), None))?;
    if ty != "BOOLEAN" {
        return Err(error(
            format!("must be a boolean expression (true when the row is valid), not {ty}"),
            None,
        ));
    }
    Ok(CheckExpr { sql, columns: used })
}

/// Checks every node of the expression tree and qualifies column references; collects
/// `(offset, column)` of each reference.
fn walk(
    v: &mut Value,
    names: &[&str],
    alias: &str,
    refs: &mut Vec<(usize, String)>,
) -> Result<(), CheckError> {
    match v {
        Value::Array(items) => {
            for item in items {
                walk(item, names, alias, refs)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            let offset = map
                .get("query_location")
                .and_then(Value::as_u64)
                .and_then(|l| usize::try_from(l).ok())
                .and_then(|l| l.checked_sub(PREFIX.len()));
            let class = map.get("class").and_then(Value::as_str).unwrap_or_default();
            let refused = match class {
                "SUBQUERY" => Some("subqueries are not allowed: a rule sees only its own row"),
                "WINDOW" => Some("window functions are not allowed: a rule sees only its own row"),
                "STAR" => Some("`*` and `COLUMNS(...)` are not allowed: name the columns"),
                "PARAMETER" => Some("parameters are not allowed"),
                _ => None,
            };
            if let Some(msg) = refused {
                return Err(error(msg.to_string(), offset));
            }
            if class == "COLUMN_REF" {
                let parts: Vec<String> = map
                    .get("column_names")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let [name] = parts.as_slice() else {
                    return Err(error(
                        format!(
                            "write the column name alone, not `{}`: a rule sees only its own row",
                            parts.join(".")
                        ),
                        offset,
                    ));
                };
                // DuckDB resolves identifiers ignoring case.
                let Some(found) = names.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
                    let mut msg = format!("unknown column `{name}`");
                    if let Some(s) = crate::util::suggest(name, names.iter().copied()) {
                        msg.push_str(&format!("; did you mean `{s}`?"));
                    }
                    return Err(error(msg, offset));
                };
                refs.push((offset.unwrap_or(usize::MAX), found.to_string()));
                map.insert(
                    "column_names".into(),
                    Value::Array(vec![
                        Value::String(alias.to_string()),
                        Value::String(found.to_string()),
                    ]),
                );
                return Ok(());
            }
            for (_, child) in map.iter_mut() {
                walk(child, names, alias, refs)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::config::yaml;

    fn columns() -> Vec<ColumnConfig> {
        let text = "
- { name: order_date, type: date }
- { name: ship_date, type: date }
- { name: qty, type: integer }
- { name: note, type: string }
";
        yaml::parse(text, std::path::Path::new("t.yaml")).unwrap()
    }

    fn check(expr: &str) -> Result<CheckExpr, CheckError> {
        let conn = Connection::open_in_memory().unwrap();
        parse(&conn, expr, &columns(), "t")
    }

    #[test]
    fn qualifies_columns_and_drops_comments() {
        let c = check("ship_date >= Order_Date -- shipped after ordering").unwrap();
        assert_eq!(c.sql, "((t.ship_date >= t.order_date))");
        assert_eq!(c.columns, ["ship_date", "order_date"]);
        let c = check("qty > 0 AND note IS NOT NULL OR note LIKE 'x%'").unwrap();
        assert_eq!(c.columns, ["qty", "note"]);
    }

    #[test]
    fn unknown_column_is_located_and_suggested() {
        let e = check("ship_dat >= order_date").unwrap_err();
        assert_eq!(
            e.message,
            "unknown column `ship_dat`; did you mean `ship_date`?"
        );
        assert_eq!(e.offset, Some(0));
        let e = check("qty > 1 AND shipdate > order_date").unwrap_err();
        assert_eq!(e.offset, Some(12));
    }

    #[test]
    fn refuses_what_is_not_one_row_expression() {
        for (expr, start) in [
            ("qty > 0; SELECT 1", "must be one SQL expression"),
            ("qty > 0; DROP TABLE x", "not a valid SQL expression"),
            ("qty > 0 FROM other", "must be one SQL expression"),
            ("qty > 0, qty < 9", "must be one SQL expression"),
            ("qty > 0 AS ok", "must be one SQL expression"),
            ("qty > (SELECT 1)", "subqueries are not allowed"),
            ("qty > avg(qty) OVER ()", "window functions are not allowed"),
            ("o.qty > 0", "write the column name alone, not `o.qty`"),
            ("sum(qty) > 0", "does not bind"),
            (
                "qty + 1",
                "must be a boolean expression (true when the row is valid), not BIGINT",
            ),
            ("qty >", "not a valid SQL expression"),
            ("qty) OR (true", "not a valid SQL expression"),
        ] {
            let e = check(expr).unwrap_err();
            assert!(e.message.starts_with(start), "{expr}: {}", e.message);
        }
    }
}
