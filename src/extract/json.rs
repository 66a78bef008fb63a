//! NDJSON and JSON arrays through DuckDB's JSON functions.
//!
//! NDJSON is read as physical lines (so line numbers are exact and a malformed line is
//! a reject with its raw text, not a failed file); each valid object's keys are
//! extracted as text. A JSON array is read element by element.

use std::path::Path;

use super::check_columns;
use crate::config::ResolvedSource;
use crate::error::{DbContext, Result};
use crate::sql::literal;
use crate::warehouse::Warehouse;

/// JSON path of a top-level key: `$."key"`.
fn key_path(key: &str) -> String {
    literal(&format!("$.\"{}\"", key.replace('"', "\\\"")))
}

/// The keys present in any object of `objects` (a query yielding column `_j`).
fn keys(wh: &Warehouse, objects: &str, path: &Path, label: &str) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT DISTINCT k FROM (SELECT unnest(json_keys(_j)) AS k FROM ({objects})
         WHERE _ok) ORDER BY k"
    );
    let mut stmt = wh.conn.prepare(&sql).ctx(|| format!("reading `{label}`"))?;
    let p = path.to_string_lossy();
    let rows = stmt
        .query_map([p.as_ref()], |r| r.get::<_, String>(0))
        .ctx(|| format!("reading `{label}`"))?;
    rows.collect::<std::result::Result<Vec<_>, _>>()
        .ctx(|| format!("reading `{label}`"))
}

fn insert(
    wh: &Warehouse,
    source: &ResolvedSource,
    objects: &str,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    let available = keys(wh, objects, path, label)?;
    let matched = check_columns(source, label, &available)?;
    let values: Vec<String> = matched
        .cols
        .iter()
        .map(|(_, key)| {
            format!(
                "CASE WHEN _ok THEN json_extract_string(_j, {}) END",
                key_path(key)
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table}
         SELECT $2, _rn, _err, _text, {values} FROM ({objects}) ORDER BY _rn",
        values = values.join(", ")
    );
    let p = path.to_string_lossy();
    wh.conn
        .execute(&sql, [p.as_ref(), label])
        .ctx(|| format!("reading `{label}`"))?;
    Ok(matched.extra)
}

/// One object per line; blank lines are skipped but counted.
pub fn read_ndjson(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    let objects = "SELECT _rn, _text, _text AS _j,
                CASE WHEN _type IS NULL THEN 'not valid JSON'
                     WHEN _type <> 'OBJECT' THEN 'not a JSON object' END AS _err,
                coalesce(_type = 'OBJECT', false) AS _ok
         FROM (SELECT _rn, _text, CASE WHEN json_valid(_text) THEN json_type(_text) END AS _type
               FROM (SELECT row_number() OVER () AS _rn, column0 AS _text
                     FROM read_csv($1, columns = {'column0': 'VARCHAR'}, header = false,
                                   delim = chr(1), quote = '', escape = '', auto_detect = false,
                                   strict_mode = false))
               WHERE _text IS NOT NULL AND trim(_text) <> '')";
    insert(wh, source, objects, path, label, table)
}

/// A JSON array of objects; the "line" is the element index from 1.
pub fn read_array(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    let objects = "SELECT row_number() OVER () AS _rn, CAST(json AS VARCHAR) AS _text, json AS _j,
                CASE WHEN json_type(json) <> 'OBJECT' THEN 'not a JSON object' END AS _err,
                json_type(json) = 'OBJECT' AS _ok
         FROM read_json_objects($1, format = 'array')";
    insert(wh, source, objects, path, label, table)
}
