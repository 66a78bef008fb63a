//! NDJSON and JSON arrays through DuckDB's JSON functions.
//!
//! NDJSON is read as physical lines (so line numbers are exact and a malformed line, or
//! one that is not valid UTF-8, is a reject with its raw text, not a failed file); each
//! valid object's keys are extracted as text. A JSON array is read element by element;
//! a broken one stops the run, naming the file and the place.

use std::path::Path;

use super::{check_columns, encoding};
use crate::config::ResolvedSource;
use crate::error::{DbContext, Error, Result};
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
    let mut available = keys(wh, objects, path, label)?;
    if available.is_empty() {
        // No object with a key: no records at all (an empty export, which the load
        // judges: `allow_empty`), or only malformed ones, each a reject. Neither is a
        // file without the declared columns.
        available = source
            .config
            .columns
            .iter()
            .map(|c| c.from.clone().unwrap_or_else(|| c.name.clone()))
            .collect();
    }
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

/// The NDJSON records of the file `$1`: one per non-blank physical line, numbered by
/// line. Lines listed in the temp table `bad_lines` (when given) were not valid UTF-8:
/// each is a `parse` failure with its (lossy) text.
fn ndjson_objects(bad_lines: Option<&str>) -> String {
    let (bad, not_bad) = match bad_lines {
        Some(t) => (
            format!(
                "WHEN _rn IN (SELECT line FROM {t}) THEN {} ",
                literal(NOT_UTF8)
            ),
            format!(" AND _rn NOT IN (SELECT line FROM {t})"),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        "SELECT _rn, _text, _text AS _j,
                CASE {bad}WHEN _type IS NULL THEN 'not valid JSON'
                     WHEN _type <> 'OBJECT' THEN 'not a JSON object' END AS _err,
                coalesce(_type = 'OBJECT'{not_bad}, false) AS _ok
         FROM (SELECT _rn, _text, CASE WHEN json_valid(_text) THEN json_type(_text) END AS _type
               FROM (SELECT row_number() OVER () AS _rn, column0 AS _text
                     FROM read_csv($1, columns = {{'column0': 'VARCHAR'}}, header = false,
                                   delim = chr(1), quote = '', escape = '', auto_detect = false,
                                   strict_mode = false))
               WHERE _text IS NOT NULL AND trim(_text) <> '')"
    )
}

/// The `parse` message of an NDJSON line that is not valid UTF-8.
const NOT_UTF8: &str = "not valid UTF-8 text (bytes that are not shown as U+FFFD in raw_text)";

/// One object per line; blank lines are skipped but counted. A line that is not valid
/// UTF-8 is a `parse` reject at its line, its raw text read lossily, and the rest of the
/// file loads: when DuckDB cannot read the file, it is read again from a copy where
/// those lines are lossy (valid files are read once, as they are).
pub fn read_ndjson(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    let err = match insert(wh, source, &ndjson_objects(None), path, label, table) {
        Ok(extra) => return Ok(extra),
        Err(e) => e,
    };
    // A failed statement changed nothing: the file is read again whole.
    let Some((copy, bad)) = encoding::lossy_lines(path)? else {
        return Err(err);
    };
    let list: Vec<String> = bad.iter().map(u64::to_string).collect();
    wh.conn
        .execute(
            "CREATE OR REPLACE TEMP TABLE _bad_lines AS
             SELECT CAST(unnest(string_split(?, ',')) AS BIGINT) AS line",
            [list.join(",")],
        )
        .ctx(|| format!("reading `{label}`"))?;
    let extra = insert(
        wh,
        source,
        &ndjson_objects(Some("_bad_lines")),
        copy.path(),
        label,
        table,
    )?;
    wh.exec("DROP TABLE _bad_lines")?;
    Ok(extra)
}

/// A JSON array of objects; the "line" is the element index from 1. A file that is not
/// a valid JSON array stops the run; the message names the file and where it breaks
/// (DuckDB's own names an offset inside its read buffer).
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
        .map_err(|err| array_error(path, label).unwrap_or(err))
}

/// Why the file at `path` is not a JSON array, when it can be said more clearly than
/// DuckDB did: bytes that are not UTF-8 (offset and line), or the first syntax error
/// (line and column), as serde_json finds them streaming through the file.
fn array_error(path: &Path, label: &str) -> Option<Error> {
    match encoding::first_invalid_utf8(path) {
        Ok(Some((at, line))) => {
            return Some(Error::Run(format!(
                "`{label}`: not valid UTF-8 text at byte {at} (line {line}); check the \
                 source's `encoding`"
            )))
        }
        Ok(None) => {}
        Err(e) => return Some(e),
    }
    let file = std::fs::File::open(path).ok()?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed =
        serde::de::Deserialize::deserialize(&mut de).and_then(|_: serde::de::IgnoredAny| de.end());
    parsed
        .err()
        .map(|e| Error::Run(format!("`{label}`: not a valid JSON array: {e}")))
}
