//! Extract: read each file of a source into a temp table of raw text, one row per
//! record, with the file and the line where the record starts.
//!
//! DuckDB does the reading for CSV/TSV, NDJSON, JSON and Parquet, so whole files are
//! scanned vectorised and nothing is typed here. XLSX sheets are read with calamine and
//! GBK/GB18030 files are transcoded (strictly: a malformed byte stops the run) into a
//! temporary UTF-8 copy first; both then take the CSV path.
//!
//! Each file's rows go through the source's [`Checker`] into the checked table as it is
//! read: a CSV/TSV file in one pass from `read_csv` (no raw table is materialised), other
//! formats (and sources whose outlier rules need the raw text later) through the raw
//! table.
//!
//! The raw table `_raw_<source>` has `_file`, `_line`, `_parse_error` (a record the
//! reader could not split into fields), `_raw_text` (the record as delivered, when the
//! reader keeps it) and one VARCHAR column per declared column, named by its target.
//! "Line" is the physical line where the record starts (header = line 1; a quoted
//! newline does not shift later records), the NDJSON line, the JSON array element
//! (from 1), the XLSX sheet row, or the Parquet row (from 1).

mod csv;
mod csv_shape;
mod encoding;
mod json;
mod xlsx;

use std::collections::BTreeSet;
use std::path::Path;

use crate::clean::Checker;
use crate::config::{Encoding, ExtraColumns, Format, ResolvedSource, SourceConfig};
use crate::error::{DbContext, Error, Result};
use crate::sql::ident;
use crate::warehouse::Warehouse;

/// Name of the temp table holding a source's raw rows.
pub fn raw_table(source: &str) -> String {
    ident(&format!("_raw_{source}"))
}

/// The type of the `_file` column of the raw and checked tables: an ENUM of the
/// source's file labels in load order (the order of `files`: see `run::plan_source`),
/// so every row holds a one- or two-byte code instead of the path (10M rows of one file:
/// about 2 s of a 26 s run), sorting by `_file` follows the load order ("the newer
/// file" of the dedupe), and copies into VARCHAR columns see the path.
fn file_type(files: &[std::path::PathBuf]) -> String {
    let mut seen = BTreeSet::new();
    let values: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .filter(|l| seen.insert(l.clone()))
        .map(|l| crate::sql::literal(&l))
        .collect();
    if values.is_empty() {
        return "VARCHAR".to_string();
    }
    format!("ENUM({})", values.join(", "))
}

/// Drops a source's raw table once the clean stage no longer needs it.
pub fn release(wh: &Warehouse, source: &str) -> Result<()> {
    wh.exec(&format!("DROP TABLE IF EXISTS {}", raw_table(source)))
}

/// What was read for one source.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Files read.
    pub files: usize,
    /// Records read (data rows, header excluded).
    pub rows: i64,
    /// Columns found in the files that no declared column reads (sorted, distinct).
    pub extra_columns: Vec<String>,
}

/// Reads every file of `source` and checks its rows with `checker` into the checked
/// table (through `temp._raw_<name>` for the formats that need it).
pub fn extract(wh: &Warehouse, source: &ResolvedSource, checker: &Checker) -> Result<Extracted> {
    let cfg = &source.config;
    let table = raw_table(&cfg.name);
    let mut cols = String::new();
    for c in &cfg.columns {
        cols.push_str(&format!(", {} VARCHAR", ident(&c.name)));
    }
    wh.exec(&format!(
        "CREATE OR REPLACE TEMP TABLE {table}
         (_file {}, _line BIGINT, _parse_error VARCHAR, _raw_text VARCHAR{cols})",
        file_type(&source.files)
    ))?;
    checker.create(wh, &table)?;
    let mut extra = BTreeSet::new();
    for file in &source.files {
        let label = file.to_string_lossy();
        let empty = std::fs::metadata(file)
            .map_err(|e| Error::io(file, e))?
            .len()
            == 0;
        if empty {
            return Err(empty_file_error(cfg, &label));
        }
        // A file whose byte-order mark says another encoding (UTF-16 of either byte
        // order, or UTF-8 read as GBK) would only show as missing columns or garbled text.
        let text = !matches!(cfg.format, Format::Parquet | Format::Xlsx);
        let wrong_mark = if text {
            encoding::bom(file)?.filter(|found| *found != cfg.encoding)
        } else {
            None
        };
        if let Some(found) = wrong_mark {
            return Err(wrong_mark_error(cfg, &label, found));
        }
        // A transcoded copy lives as long as this iteration.
        let utf8 = match (cfg.format, cfg.encoding) {
            (Format::Parquet | Format::Xlsx, _) | (_, Encoding::Utf8) => None,
            (_, enc) => Some(encoding::to_utf8(file, enc)?),
        };
        let path = utf8.as_ref().map_or(file.as_path(), |t| t.path());
        let found = match cfg.format {
            Format::Csv | Format::Tsv if checker.fused => {
                csv::read(wh, source, path, &label, &table, Some(checker))?
            }
            Format::Csv | Format::Tsv => csv::read(wh, source, path, &label, &table, None)?,
            Format::Ndjson => json::read_ndjson(wh, source, path, &label, &table)?,
            Format::Json => json::read_array(wh, source, path, &label, &table)?,
            Format::Parquet => read_parquet(wh, source, path, &label, &table)?,
            Format::Xlsx => xlsx::read(wh, source, path, &label, &table)?,
        };
        extra.extend(found);
    }
    if !(checker.fused && matches!(cfg.format, Format::Csv | Format::Tsv)) {
        checker.insert_from(wh, &table)?;
    }
    let rows = wh.count(&checker.checked)?;
    Ok(Extracted {
        files: source.files.len(),
        rows,
        extra_columns: extra.into_iter().collect(),
    })
}

fn empty_file_error(cfg: &SourceConfig, label: &str) -> Error {
    Error::Run(format!(
        "`{label}`: the file is empty (not even a header) for source `{}`",
        cfg.name
    ))
}

fn wrong_mark_error(cfg: &SourceConfig, label: &str, found: Encoding) -> Error {
    Error::Run(format!(
        "`{label}`: starts with a {} byte-order mark, but source `{}` is read as {}; \
         set `encoding: {}`",
        found.name(),
        cfg.name,
        cfg.encoding.name(),
        found.name()
    ))
}

/// For `validate`, which reads no data: the problems `run` would stop on at the top of
/// each file of `source`, for a CSV or TSV source read as UTF-8 (an empty file, a
/// byte-order mark of another encoding, a declared column missing from the header).
/// Other formats and encodings are only read by `run`.
pub fn header_problems(source: &ResolvedSource) -> Vec<(std::path::PathBuf, String)> {
    let cfg = &source.config;
    if !matches!(cfg.format, Format::Csv | Format::Tsv) || cfg.encoding != Encoding::Utf8 {
        return Vec::new();
    }
    let check = |file: &std::path::PathBuf| -> Result<()> {
        let label = file.to_string_lossy();
        if std::fs::metadata(file)
            .map_err(|e| Error::io(file, e))?
            .len()
            == 0
        {
            return Err(empty_file_error(cfg, &label));
        }
        if let Some(found) = encoding::bom(file)?.filter(|found| *found != cfg.encoding) {
            return Err(wrong_mark_error(cfg, &label, found));
        }
        csv::check_header(source, file, &label)
    };
    source
        .files
        .iter()
        .filter_map(|f| {
            let e = check(f).err()?.to_string();
            let prefix = format!("`{}`: ", f.to_string_lossy());
            Some((f.clone(), e.strip_prefix(&prefix).unwrap_or(&e).to_string()))
        })
        .collect()
}

/// A file's columns matched against its source's declaration.
struct Matched<'a> {
    /// Each declared column's target name and the file's column it reads.
    cols: Vec<(&'a str, String)>,
    /// The file's columns that no declared column reads (trimmed).
    extra: Vec<String>,
}

/// Matches the declared columns to the columns a file offers (`available`: its header,
/// keys or field names). A missing declared column stops the run naming the file and
/// the column; undeclared columns are handled per the source's `extra_columns`.
fn check_columns<'a>(
    source: &'a ResolvedSource,
    label: &str,
    available: &[String],
) -> Result<Matched<'a>> {
    let cfg = &source.config;
    let mut cols = Vec::new();
    let mut missing = Vec::new();
    for c in &cfg.columns {
        let from = c.from.as_deref().unwrap_or(&c.name);
        match available.iter().find(|h| h.trim() == from) {
            Some(found) => cols.push((c.name.as_str(), found.clone())),
            None => missing.push(from),
        }
    }
    let mut extra: Vec<String> = Vec::new();
    for h in available {
        let h = h.trim();
        let declared = cfg
            .columns
            .iter()
            .any(|c| c.from.as_deref().unwrap_or(&c.name) == h);
        if !declared && h != xlsx::LINE_COLUMN && !extra.iter().any(|e| e == h) {
            extra.push(h.to_string());
        }
    }
    let columns_error = |message: String| Error::Columns {
        source_name: cfg.name.clone(),
        missing: missing.iter().map(|m| m.to_string()).collect(),
        extra: extra.clone(),
        message,
    };
    if !missing.is_empty() {
        let hint = |m: &str| crate::util::suggest(m, available.iter().map(|h| h.trim()));
        let msg = if let [m] = missing.as_slice() {
            let mut msg = format!(
                "`{label}`: column `{m}` of source `{}` is missing from the file",
                cfg.name
            );
            if let Some(h) = hint(m) {
                msg.push_str(&format!("; did you mean `{h}`?"));
            }
            msg
        } else {
            let names: Vec<String> = missing
                .iter()
                .map(|m| match hint(m) {
                    Some(h) => format!("`{m}` (did you mean `{h}`?)"),
                    None => format!("`{m}`"),
                })
                .collect();
            format!(
                "`{label}`: columns {} of source `{}` are missing from the file",
                names.join(", "),
                cfg.name
            )
        };
        return Err(columns_error(msg));
    }
    if !extra.is_empty() {
        let list = backticked(&extra);
        let s = if extra.len() == 1 { "" } else { "s" };
        match cfg.extra_columns {
            ExtraColumns::Error => {
                return Err(columns_error(format!(
                    "`{label}`: extra column{s} {list} not declared in source `{}` \
                     (`extra_columns: error`); declare {} or set `extra_columns: warn` to \
                     ignore {}",
                    cfg.name,
                    if extra.len() == 1 { "it" } else { "them" },
                    if extra.len() == 1 { "it" } else { "them" },
                )));
            }
            ExtraColumns::Warn => tracing::warn!(
                "`{label}`: extra column{s} {list} not declared in source `{}`: not loaded",
                cfg.name
            ),
            ExtraColumns::Ignore => {}
        }
    }
    Ok(Matched { cols, extra })
}

/// `a`, `b` -> "`a`, `b`".
fn backticked(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Column names of a query's result.
fn column_names(wh: &Warehouse, sql: &str, path: &Path, label: &str) -> Result<Vec<String>> {
    let mut stmt = wh.conn.prepare(sql).ctx(|| format!("reading `{label}`"))?;
    // Executing the statement makes its result columns known.
    drop(
        stmt.query([path.to_string_lossy().as_ref()])
            .ctx(|| format!("reading `{label}`"))?,
    );
    Ok(stmt.column_names())
}

fn read_parquet(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    // The header without the `file_row_number` column the numbered scan adds.
    let names = column_names(wh, "SELECT * FROM read_parquet($1) LIMIT 0", path, label)?;
    let matched = check_columns(source, label, &names)?;
    let select: Vec<String> = matched
        .cols
        .iter()
        .map(|(_, found)| format!("CAST({} AS VARCHAR)", ident(found)))
        .collect();
    let sql = format!(
        "INSERT INTO {table} SELECT $2, file_row_number + 1, NULL, NULL, {} FROM
         read_parquet($1, file_row_number = true) ORDER BY file_row_number",
        select.join(", ")
    );
    let p = path.to_string_lossy();
    wh.conn
        .execute(&sql, [p.as_ref(), label])
        .ctx(|| format!("reading `{label}`"))?;
    Ok(matched.extra)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::PathBuf;

    use super::*;

    /// The file ENUM lists each label once, quoted, in the order given (the load order),
    /// and DuckDB orders `_file` by it, not as text.
    #[test]
    fn file_enum_orders_like_the_files_given() {
        assert_eq!(file_type(&[]), "VARCHAR");
        let labels = [
            "b.csv", "a b.csv", "B.csv", "it's.csv", "é.csv", "a.csv", "b.csv",
        ];
        let files: Vec<PathBuf> = labels.iter().map(PathBuf::from).collect();
        let ty = file_type(&files);
        assert_eq!(
            ty,
            "ENUM('b.csv', 'a b.csv', 'B.csv', 'it''s.csv', 'é.csv', 'a.csv')"
        );
        let wh = Warehouse::in_memory().unwrap();
        wh.exec(&format!("CREATE TABLE t (f {ty}, s VARCHAR)"))
            .unwrap();
        for l in &labels {
            wh.conn
                .execute("INSERT INTO t VALUES (?, ?)", [l, l])
                .unwrap();
        }
        let order: String =
            wh.scalar("SELECT string_agg(s, ' | ' ORDER BY f) FROM (SELECT DISTINCT f, s FROM t)");
        assert_eq!(order, "b.csv | a b.csv | B.csv | it's.csv | é.csv | a.csv");
        let back: String = wh.scalar("SELECT CAST(f AS VARCHAR) FROM t WHERE f = 'it''s.csv'");
        assert_eq!(back, "it's.csv");
    }
}
