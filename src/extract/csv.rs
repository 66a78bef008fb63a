//! CSV/TSV through DuckDB's `read_csv`, every column as VARCHAR. The header is read by
//! [`csv_shape`] (no sniffing); records that do not fit it become rejects there. With the
//! source's [`Checker`], the records are checked as they are read, straight into the
//! checked table; without, they are appended to the raw table.

use std::path::Path;

use super::{check_columns, csv_shape};
use crate::clean::Checker;
use crate::config::{CsvOptions, ResolvedSource, SourceConfig};
use crate::error::{DbContext, Result};
use crate::sql::{ident, literal};
use crate::warehouse::Warehouse;

/// Lines before the first record: skipped rows plus the header line.
fn header_lines(cfg: &SourceConfig) -> i64 {
    let csv = cfg.csv.as_ref();
    csv.map_or(0, |c| i64::from(c.skip_rows)) + i64::from(csv.is_none_or(|c| c.header))
}

/// The `read_csv` call for a source whose header has `fields` fields, named `c0`, `c1`,
/// ... (the header is read by [`csv_shape::header`], not sniffed); the file path is
/// parameter `$1`. Records that do not fit are set aside in DuckDB's reject table.
fn reader_call(source: &ResolvedSource, fields: usize) -> String {
    let cfg = &source.config;
    let csv = cfg.csv.clone().unwrap_or_default();
    let (delim, quote) = csv_shape::dialect(cfg);
    let columns: Vec<String> = (0..fields).map(|i| format!("'c{i}': 'VARCHAR'")).collect();
    format!(
        "read_csv($1, columns = {{{columns}}}, auto_detect = false, header = {header}, \
         delim = {delim}, quote = {quote}, escape = {quote}, skip = {skip}, \
         null_padding = false, strict_mode = true{rejects})",
        columns = columns.join(", "),
        header = csv.header,
        delim = literal(&delim.to_string()),
        quote = literal(&quote.to_string()),
        skip = csv.skip_rows,
        rejects = csv_shape::reject_options(),
    )
}

/// Whether `path`'s header holds `source`'s declared columns, as [`read`] would find
/// (comment lines before the header skipped); an error names the missing ones. For
/// `validate`, which reads no data.
pub fn check_header(source: &ResolvedSource, path: &Path, label: &str) -> Result<()> {
    let lifted = uncommented(source, path)?;
    let (source, path) = match &lifted {
        Some((lifted, copy)) => (lifted, copy.path()),
        None => (source, path),
    };
    let header = csv_shape::header(path, &source.config, label)?;
    check_columns(source, label, &header).map(|_| ())
}

/// With comment lines (`csv.comment`): the source as read from a copy of the file where
/// they are blank (see `blank_comments`), the lines before the header skipped; the copy
/// lives as long as the returned file.
fn uncommented(
    source: &ResolvedSource,
    path: &Path,
) -> Result<Option<(ResolvedSource, tempfile::NamedTempFile)>> {
    let Some(csv) = source.config.csv.as_ref().filter(|c| c.comment.is_some()) else {
        return Ok(None);
    };
    let (copy, leading) = blank_comments(path, csv)?;
    let mut config = source.config.clone();
    config.csv = Some(CsvOptions {
        skip_rows: leading,
        comment: None,
        ..csv.clone()
    });
    let lifted = ResolvedSource {
        config,
        files: source.files.clone(),
    };
    Ok(Some((lifted, copy)))
}

/// Appends the records of one CSV file (read from `path`, recorded as `label`) to the
/// raw table `table`, or with `checker` checks them into its checked table in the same
/// pass (the records set aside by the reader then go through `table`), returning the
/// file's extra columns. When the file has the XLSX reader's
/// line column it gives the line; otherwise the line is the physical line where the
/// record starts. A record with more or fewer fields than the header (or a malformed
/// quote) is a raw row with a `_parse_error` at its line; the rest of the file loads.
pub fn read(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
    checker: Option<&Checker>,
) -> Result<Vec<String>> {
    let lifted = uncommented(source, path)?;
    let (source, path) = match &lifted {
        Some((lifted, copy)) => (lifted, copy.path()),
        None => (source, path),
    };
    let cfg = &source.config;
    let header = csv_shape::header(path, cfg, label)?;
    let matched = check_columns(source, label, &header)?;
    let call = reader_call(source, header.len());
    let field = |found: &str| {
        let i = header.iter().position(|h| h == found).unwrap_or_default();
        ident(&format!("c{i}"))
    };
    let cols = &matched.cols;
    let select: Vec<String> = cols
        .iter()
        .map(|(name, found)| format!("{} AS {}", field(found), ident(name)))
        .collect();
    let names: Vec<String> = cols.iter().map(|(name, _)| ident(name)).collect();
    let xlsx = header.iter().any(|h| h == super::xlsx::LINE_COLUMN);
    let by_rowid = !xlsx && checker.is_some_and(|c| c.keeps_order);
    let header_lines = header_lines(cfg);
    let sql = if xlsx {
        format!(
            "INSERT INTO {table}
             SELECT $2, CAST({line} AS BIGINT), NULL, NULL, {names}
             FROM (SELECT {line}, {select} FROM {call})",
            line = field(super::xlsx::LINE_COLUMN),
            names = names.join(", "),
            select = select.join(", "),
        )
    } else {
        // Fast numbering: the record's ordinal after the header. `verify_lines` checks it
        // against the file and renumbers when quoted newlines or blank lines shift it.
        // Checked in the same pass, the records are numbered after the insert, from their
        // row ids (the insert keeps the file's order unless the checks join referenced
        // keys): `row_number() OVER ()` would hold the read and every check to one thread.
        let line = if by_rowid {
            "NULL::BIGINT".to_string()
        } else {
            format!("row_number() OVER () + {header_lines}")
        };
        let numbered = format!(
            "SELECT CAST($2 AS VARCHAR) AS _file, {line} AS _line,
                    NULL::VARCHAR AS _parse_error, NULL::VARCHAR AS _raw_text, {names}
             FROM (SELECT {select} FROM {call})",
            names = names.join(", "),
            select = select.join(", "),
        );
        match checker {
            Some(c) => c.insert_sql(&format!("({numbered})")),
            None => format!("INSERT INTO {table} {numbered}"),
        }
    };
    // Where the file's records land.
    let records = checker.map_or(table, |c| c.checked.as_str());
    csv_shape::reset(wh)?;
    let p = path.to_string_lossy();
    let t = std::time::Instant::now();
    wh.conn
        .execute(&sql, [p.as_ref(), label])
        .ctx(|| format!("reading `{label}`"))?;
    if by_rowid {
        let first: Option<i64> = wh
            .conn
            .query_row(
                &format!("SELECT min(rowid) FROM {records} WHERE _file = $1 AND _line IS NULL"),
                [label],
                |r| r.get(0),
            )
            .ctx(|| format!("numbering lines of `{label}`"))?;
        let first = first.unwrap_or_default();
        wh.conn
            .execute(
                &format!(
                    "UPDATE {records} SET _line = rowid - $2 + {header_lines} + 1
                     WHERE _file = $1 AND _line IS NULL"
                ),
                duckdb::params![label, first],
            )
            .ctx(|| format!("numbering lines of `{label}`"))?;
    }
    tracing::debug!("{:.3} s: read `{label}`", t.elapsed().as_secs_f64());
    let file = csv_shape::FileRead {
        path,
        label,
        table: records,
        raw_table: table,
        fields: header.len(),
        header_lines,
        sheet_rows: xlsx,
    };
    let t = std::time::Instant::now();
    let placed = csv_shape::place_rejects(wh, cfg, &file)?;
    if !xlsx && !placed {
        verify_lines(wh, source, path, label, records)?;
    }
    if let (Some(c), true) = (checker, placed) {
        // The records set aside, now raw rows with a `_parse_error`, checked in turn.
        c.insert_from(wh, table)?;
        wh.exec(&format!("DELETE FROM {table}"))?;
    }
    tracing::debug!(
        "{:.3} s: line numbers of `{label}`",
        t.elapsed().as_secs_f64()
    );
    Ok(matched.extra)
}

/// The fast line numbers assume one physical line per record and no blank lines (DuckDB
/// skips them). Checks that the records and the lines before them add up to the file's
/// lines; if not, renumbers the file's records from a scan of the file.
fn verify_lines(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<()> {
    let physical = physical_lines(path)?;
    // Every record on its own line and no blank line exactly when the records and the
    // lines before them add up to the file's lines (a record spanning lines, or a
    // skipped blank line, makes the sum fall short).
    let records: i64 = wh
        .conn
        .query_row(
            &format!("SELECT count(*) FROM {table} WHERE _file = $1"),
            [label],
            |r| r.get(0),
        )
        .ctx(|| format!("checking line numbers of `{label}`"))?;
    let header_lines = header_lines(&source.config);
    if records + header_lines == physical {
        return Ok(());
    }
    csv_shape::renumber_all(
        wh,
        &source.config,
        &csv_shape::FileRead {
            path,
            label,
            table,
            raw_table: table,
            fields: source.config.columns.len(),
            header_lines,
            sheet_rows: false,
        },
        records,
    )
}

/// A copy of the file in which every comment line (starting with `csv.comment`, outside
/// a quoted field) after the header is blank: the reader skips blank lines and the line
/// numbering treats them as such, so later records keep their physical lines. Returns
/// the copy and the lines to skip before the header: `skip_rows` plus the comment lines
/// right after them.
fn blank_comments(path: &Path, csv: &CsvOptions) -> Result<(tempfile::NamedTempFile, u32)> {
    use std::io::{BufRead, Write};
    let io = |e| crate::error::Error::io(path, e);
    let prefix = csv.comment.as_deref().unwrap_or_default().as_bytes();
    let mut quote = [0u8; 4];
    let quote = csv.quote.encode_utf8(&mut quote).as_bytes().to_vec();
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let copy = tempfile::NamedTempFile::new().map_err(io)?;
    let mut out = std::io::BufWriter::new(copy.as_file());
    let (mut n, mut leading, mut open) = (0u32, csv.skip_rows, false);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            break;
        }
        n += 1;
        let comment = !open && n > csv.skip_rows && line.starts_with(prefix);
        if comment && n == leading + 1 {
            // Before the header (or the first record): skipped by the reader.
            leading += 1;
            out.write_all(&line).map_err(io)?;
            continue;
        }
        if comment {
            // Keep only the line break.
            let keep = if line.ends_with(b"\r\n") {
                2
            } else {
                usize::from(line.ends_with(b"\n"))
            };
            out.write_all(&line[line.len() - keep..]).map_err(io)?;
            continue;
        }
        // A doubled quote (the escape) counts twice and leaves the parity unchanged.
        open ^= memchr::memmem::find_iter(&line, &quote).count() % 2 == 1;
        out.write_all(&line).map_err(io)?;
    }
    out.flush().map_err(io)?;
    drop(out);
    Ok((copy, leading))
}

/// Number of physical lines (a last line without a newline counts).
fn physical_lines(path: &Path) -> Result<i64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| crate::error::Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0i64, b'\n');
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| crate::error::Error::io(path, e))?;
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as i64;
        last = buf[n - 1];
    }
    Ok(if last == b'\n' { lines } else { lines + 1 })
}
