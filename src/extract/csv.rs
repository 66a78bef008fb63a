//! CSV/TSV through DuckDB's `read_csv`, every column as VARCHAR.

use std::path::Path;

use super::{check_columns, column_names};
use crate::config::{CsvOptions, Format, ResolvedSource, SourceConfig};
use crate::error::{DbContext, Result};
use crate::sql::{ident, literal};
use crate::warehouse::Warehouse;

/// Lines before the first record: skipped rows plus the header line.
fn header_lines(cfg: &SourceConfig) -> i64 {
    let csv = cfg.csv.as_ref();
    csv.map_or(0, |c| i64::from(c.skip_rows)) + i64::from(csv.is_none_or(|c| c.header))
}

/// The `read_csv` call for a source; the file path is parameter `$1`.
fn reader_call(source: &ResolvedSource) -> String {
    let cfg = &source.config;
    let csv = cfg.csv.clone().unwrap_or_default();
    let delim = csv
        .delimiter
        .unwrap_or(if cfg.format == Format::Tsv { '\t' } else { ',' });
    format!(
        "read_csv($1, all_varchar = true, header = {header}, delim = {delim}, quote = {quote}, \
         escape = {quote}, skip = {skip}, null_padding = false, strict_mode = true)",
        header = csv.header,
        delim = literal(&delim.to_string()),
        quote = literal(&csv.quote.to_string()),
        skip = csv.skip_rows,
    )
}

/// Appends the records of one CSV file (read from `path`, recorded as `label`) to
/// `table`. When the file has the XLSX reader's line column it gives the line;
/// otherwise the line is the physical line where the record starts.
pub fn read(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<()> {
    // Comment lines: read a copy where they are blank (see `blank_comments`).
    let (uncommented, lifted);
    let (source, path) = match source.config.csv.as_ref().filter(|c| c.comment.is_some()) {
        Some(csv) => {
            let (copy, leading) = blank_comments(path, csv)?;
            let mut config = source.config.clone();
            config.csv = Some(CsvOptions {
                skip_rows: leading,
                comment: None,
                ..csv.clone()
            });
            lifted = ResolvedSource {
                config,
                files: source.files.clone(),
            };
            uncommented = copy;
            (&lifted, uncommented.path())
        }
        None => (source, path),
    };
    let cfg = &source.config;
    let call = reader_call(source);
    let header = column_names(wh, &format!("SELECT * FROM {call} LIMIT 0"), path, label)?;
    let cols = check_columns(source, label, &header)?;
    let select: Vec<String> = cols
        .iter()
        .map(|(name, found)| format!("{} AS {}", ident(found), ident(name)))
        .collect();
    let names: Vec<String> = cols.iter().map(|(name, _)| ident(name)).collect();
    let sql = if header.iter().any(|h| h == super::xlsx::LINE_COLUMN) {
        format!(
            "INSERT INTO {table}
             SELECT $2, CAST({line} AS BIGINT), NULL, NULL, {names}
             FROM (SELECT {line}, {select} FROM {call})",
            line = ident(super::xlsx::LINE_COLUMN),
            names = names.join(", "),
            select = select.join(", "),
        )
    } else {
        // Fast numbering: the record's ordinal after the header. `verify_lines` checks it
        // against the file and renumbers when quoted newlines or blank lines shift it.
        let header_lines = header_lines(cfg);
        format!(
            "INSERT INTO {table}
             SELECT $2, row_number() OVER () + {header_lines}, NULL, NULL, {names}
             FROM (SELECT {select} FROM {call})",
            names = names.join(", "),
            select = select.join(", "),
        )
    };
    let p = path.to_string_lossy();
    wh.conn
        .execute(&sql, [p.as_ref(), label])
        .ctx(|| format!("reading `{label}`"))?;
    if !header.iter().any(|h| h == super::xlsx::LINE_COLUMN) {
        verify_lines(wh, source, path, label, table)?;
    }
    Ok(())
}

/// The fast line numbers assume one physical line per record and no blank lines (DuckDB
/// skips them). Checks that the last record ends on the file's last physical line; if
/// not, renumbers the file's records from its physical lines: a line starts a record
/// when the quotes before it are balanced and it is not blank.
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
    let quote = source
        .config
        .csv
        .as_ref()
        .map_or('"', |c| c.quote)
        .to_string();
    let q = literal(&quote);
    let sql = format!(
        "CREATE OR REPLACE TEMP TABLE _relined AS
         WITH r AS (SELECT *, row_number() OVER (ORDER BY _line) AS _k FROM {table} WHERE _file = $2),
         l AS (SELECT row_number() OVER () AS ln, column0 AS t
               FROM read_csv($1, columns = {{'column0': 'VARCHAR'}}, header = false, delim = chr(1),
                             quote = '', escape = '', auto_detect = false, strict_mode = false)),
         p AS (SELECT ln, t, coalesce(sum(length(t) - length(replace(t, {q}, ''))) OVER
                   (ORDER BY ln ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) % 2 AS open
               FROM l),
         s AS (SELECT ln, row_number() OVER (ORDER BY ln) AS k FROM p
               WHERE open = 0 AND t IS NOT NULL AND trim(t, chr(13)) <> '' AND ln > {header_lines})
         SELECT r.* EXCLUDE (_line, _k), s.ln AS _line FROM r JOIN s ON s.k = r._k"
    );
    let p = path.to_string_lossy();
    wh.conn
        .execute(&sql, [p.as_ref(), label])
        .ctx(|| format!("numbering lines of `{label}`"))?;
    let (relined, total): (i64, i64) = wh
        .conn
        .query_row(
            &format!("SELECT (SELECT count(*) FROM _relined), (SELECT count(*) FROM {table} WHERE _file = $1)"),
            [label],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ctx(|| format!("numbering lines of `{label}`"))?;
    if relined == total {
        wh.conn
            .execute(&format!("DELETE FROM {table} WHERE _file = $1"), [label])
            .ctx(|| format!("numbering lines of `{label}`"))?;
        wh.exec(&format!(
            "INSERT INTO {table} BY NAME SELECT * FROM _relined"
        ))?;
    } else {
        tracing::warn!(
            "`{label}`: could not map records to physical lines; line numbers are approximate"
        );
    }
    wh.exec("DROP TABLE _relined")
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
