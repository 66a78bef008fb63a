//! The shape of a CSV file, read without DuckDB's sniffer: the header (which fixes the
//! number of fields), and the records that do not fit it.
//!
//! DuckDB reads the file with `store_rejects`, so a record with too few or too many
//! fields, an unterminated quote or an over-long line is set aside in a reject table
//! instead of stopping the file. [`place_rejects`] turns those into raw rows with a
//! `_parse_error` (the clean stage makes them `parse` rejects) at their exact physical
//! line, and renumbers the file's other records, whose ordinals the skipped records
//! shifted, from a scan of the file.
//!
//! The scan follows DuckDB's reading: a quote opens a quoted value only at the start of
//! a field (`O"Brien` is plain text), a doubled quote inside quotes is a quote, a
//! newline inside quotes continues the record, and after a malformed quoted value the
//! record ends at the next newline.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use duckdb::types::Value;

use crate::config::{Format, SourceConfig};
use crate::error::{DbContext, Error, Result};
use crate::warehouse::Warehouse;

/// DuckDB's table of rejected CSV lines for the current file (a temp table).
const ERRORS_TABLE: &str = "_csv_reject_errors";
/// DuckDB's table of CSV scans with rejects (a temp table).
const SCANS_TABLE: &str = "_csv_reject_scans";

/// The `read_csv` options that set malformed records aside (after [`reset`]).
pub fn reject_options() -> String {
    format!(
        ", store_rejects = true, rejects_table = '{ERRORS_TABLE}', rejects_scan = '{SCANS_TABLE}'"
    )
}

/// Drops the reject tables of the previous file.
pub fn reset(wh: &Warehouse) -> Result<()> {
    wh.exec(&format!(
        "DROP TABLE IF EXISTS temp.{ERRORS_TABLE}; DROP TABLE IF EXISTS temp.{SCANS_TABLE};"
    ))
}

/// The delimiter and quote of a CSV/TSV source.
pub fn dialect(cfg: &SourceConfig) -> (char, char) {
    let csv = cfg.csv.clone().unwrap_or_default();
    let delim = csv
        .delimiter
        .unwrap_or(if cfg.format == Format::Tsv { '\t' } else { ',' });
    (delim, csv.quote)
}

/// The field names of the header (after `skip_rows` lines), named as DuckDB's sniffer
/// names them: surrounding blanks trimmed, a blank name is `column<j>`, a repeated name
/// gets `_1`, `_2`, ...; without a header, `column<j>` for each field of the first
/// record. Empty when the file has no record.
pub fn header(path: &Path, cfg: &SourceConfig, label: &str) -> Result<Vec<String>> {
    let csv = cfg.csv.clone().unwrap_or_default();
    let (delim, quote) = dialect(cfg);
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut skipped = Vec::new();
    for _ in 0..csv.skip_rows {
        skipped.clear();
        reader
            .read_until(b'\n', &mut skipped)
            .map_err(|e| Error::io(path, e))?;
    }
    // DuckDB drops a UTF-8 byte-order mark at the start of the file.
    if csv.skip_rows == 0 {
        let start = reader.fill_buf().map_err(|e| Error::io(path, e))?;
        if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
            reader.consume(3);
        }
    }
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(ascii(delim, "delimiter", label)?)
        .quote(ascii(quote, "quote", label)?)
        .from_reader(reader);
    let mut record = ::csv::ByteRecord::new();
    let found = rdr
        .read_byte_record(&mut record)
        .map_err(|e| Error::Run(format!("`{label}`: cannot read the header: {e}")))?;
    if !found {
        return Ok(Vec::new());
    }
    let width = record.len().saturating_sub(1).to_string().len();
    let generated = |j: usize| format!("column{j:0width$}");
    let mut names: Vec<String> = Vec::with_capacity(record.len());
    for (j, field) in record.iter().enumerate() {
        let text = String::from_utf8_lossy(field).trim().to_string();
        let name = if !csv.header || text.is_empty() {
            generated(j)
        } else {
            text
        };
        let mut unique = name.clone();
        let mut k = 1;
        while names.contains(&unique) {
            unique = format!("{name}_{k}");
            k += 1;
        }
        names.push(unique);
    }
    Ok(names)
}

fn ascii(c: char, what: &str, label: &str) -> Result<u8> {
    u8::try_from(c)
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| Error::Run(format!("`{label}`: the CSV {what} `{c}` must be ASCII")))
}

/// One record DuckDB set aside, as read back from its reject table.
struct Rejected {
    /// Byte offset where the record starts (leading blank lines skipped).
    offset: u64,
    /// The record as in the file, without its line break.
    raw: String,
    /// Why it was set aside.
    message: String,
    /// An encoding error: the file stops the run instead.
    encoding: bool,
}

/// A CSV file just appended to a raw table by `read_csv`.
pub struct FileRead<'a> {
    /// The file read (a transcoded copy for GBK).
    pub path: &'a Path,
    /// The file as recorded in `_file`.
    pub label: &'a str,
    /// The table holding the file's records (the raw table, or the checked table when
    /// they were checked as they were read).
    pub table: &'a str,
    /// The raw table, which receives the records set aside.
    pub raw_table: &'a str,
    /// Fields of the header.
    pub fields: usize,
    /// Lines before the first record; records are numbered `header_lines + ordinal`.
    pub header_lines: i64,
    /// The XLSX reader's temporary CSV, whose first field is the sheet row: lines are
    /// sheet rows and nothing is renumbered. That CSV is written well-formed, so this
    /// is a safety net: a reject there still surfaces.
    pub sheet_rows: bool,
}

/// Turns the records DuckDB set aside while reading a file into raw rows with a
/// `_parse_error` at their exact physical line, and renumbers the file's other
/// records. Returns false when nothing was set aside (the caller's numbering stands).
///
/// A file of several records that all fail, with none fitting the header, stops the
/// run: it is not the declared kind of file (a wrong delimiter or quote, or not CSV at all). So
/// does text that is not valid UTF-8.
pub fn place_rejects(wh: &Warehouse, cfg: &SourceConfig, file: &FileRead<'_>) -> Result<bool> {
    let FileRead {
        path,
        label,
        table,
        raw_table,
        fields,
        header_lines,
        sheet_rows,
    } = *file;
    let rejected = read_rejects(wh, cfg, fields, label)?;
    if rejected.is_empty() {
        return Ok(false);
    }
    let (delim, quote) = dialect(cfg);
    let mut scan = scan(
        path,
        ascii(delim, "delimiter", label)?,
        ascii(quote, "quote", label)?,
        header_lines,
        &rejected.iter().map(|r| r.offset).collect::<Vec<_>>(),
    )?;
    if let Some((r, line)) = rejected
        .iter()
        .zip(&scan.reject_lines)
        .find(|(r, _)| r.encoding)
    {
        let at = first_invalid_utf8(path, r.offset)?;
        return Err(Error::Run(format!(
            "`{label}`: not valid UTF-8 text at byte {at} (line {line}); check the source's \
             `encoding`"
        )));
    }
    // A quote left open swallows every later line into one value: rejecting that one
    // record would drop the rest of the file without a trace, so the file stops the run.
    if let Some((line, last)) = scan.unclosed {
        return Err(Error::Run(format!(
            "`{label}`: line {line}: a quoted value opened in this record is never closed, so \
             lines {line} to {last} would be read as one record; close the quote (a quote \
             inside a quoted value is written twice: `{quote}{quote}`)"
        )));
    }
    let good: i64 = wh
        .conn
        .query_row(
            &format!("SELECT count(*) FROM {table} WHERE _file = $1"),
            [label],
            |r| r.get(0),
        )
        .ctx(|| format!("numbering lines of `{label}`"))?;
    // Several records and none fits: the file is not what the source declares. A single
    // record that does not fit is just a bad row, set aside like any other.
    if good == 0 && rejected.len() > 1 {
        let (first, line) = (&rejected[0], scan.reject_lines[0]);
        return Err(Error::Run(format!(
            "`{label}`: none of its {} records fits the header's {fields} fields (line {line}: \
             {}); check the source's `format` and `csv` options (delimiter `{}`, quote `{}`)",
            rejected.len(),
            first.message,
            delim.escape_default(),
            quote.escape_default(),
        )));
    }
    if sheet_rows {
        for (r, line) in rejected.iter().zip(scan.reject_lines.iter_mut()) {
            let row = r.raw.split(delim).next().unwrap_or_default();
            *line = row.trim_matches(quote).parse().unwrap_or_default();
        }
    } else if scan.good_records == good && scan.rejects_at_record_starts {
        renumber(wh, label, table, header_lines, &scan.segments)?;
    } else {
        tracing::warn!(
            "`{label}`: could not map records to physical lines; line numbers of its loaded \
             records are approximate"
        );
    }
    wh.exec(
        "CREATE OR REPLACE TEMP TABLE _csv_rejected (line BIGINT, message VARCHAR, raw VARCHAR)",
    )?;
    {
        let mut app = wh
            .conn
            .appender_to_catalog_and_db("_csv_rejected", "temp", "main")
            .ctx(|| format!("recording the rejects of `{label}`"))?;
        for (r, line) in rejected.iter().zip(&scan.reject_lines) {
            app.append_row(duckdb::params![line, r.message, r.raw])
                .ctx(|| format!("recording the rejects of `{label}`"))?;
        }
    }
    wh.conn
        .execute(
            &format!(
                "INSERT INTO {raw_table} (_file, _line, _parse_error, _raw_text)
                 SELECT $1, line, message, raw FROM _csv_rejected ORDER BY line"
            ),
            [label],
        )
        .ctx(|| format!("recording the rejects of `{label}`"))?;
    wh.exec("DROP TABLE _csv_rejected")?;
    Ok(true)
}

/// Renumbers every record of a file DuckDB read without rejects from a scan of the file
/// (quoted newlines or blank lines shifted their ordinals); `records` is how many the
/// raw table holds. When the scan disagrees, the numbers stay and a warning says so.
pub fn renumber_all(
    wh: &Warehouse,
    cfg: &SourceConfig,
    file: &FileRead<'_>,
    records: i64,
) -> Result<()> {
    let (delim, quote) = dialect(cfg);
    let scan = scan(
        file.path,
        ascii(delim, "delimiter", file.label)?,
        ascii(quote, "quote", file.label)?,
        file.header_lines,
        &[],
    )?;
    if scan.good_records == records {
        renumber(
            wh,
            file.label,
            file.table,
            file.header_lines,
            &scan.segments,
        )
    } else {
        tracing::warn!(
            "`{}`: could not map records to physical lines; line numbers are approximate",
            file.label
        );
        Ok(())
    }
}

/// The records DuckDB set aside, one per record (DuckDB reports some twice), in file
/// order.
fn read_rejects(
    wh: &Warehouse,
    cfg: &SourceConfig,
    fields: usize,
    label: &str,
) -> Result<Vec<Rejected>> {
    if !wh.temp_exists(ERRORS_TABLE)? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT line_byte_position, any_value(csv_line),
                list(DISTINCT error_type::VARCHAR ORDER BY error_type::VARCHAR),
                min(error_message)
         FROM temp.{ERRORS_TABLE} GROUP BY line_byte_position ORDER BY line_byte_position"
    );
    let mut stmt = wh
        .conn
        .prepare(&sql)
        .ctx(|| format!("reading the rejects of `{label}`"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Value>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .ctx(|| format!("reading the rejects of `{label}`"))?;
    let (delim, quote) = dialect(cfg);
    let mut out = Vec::new();
    for row in rows {
        let (position, line, kinds, duckdb_message) =
            row.ctx(|| format!("reading the rejects of `{label}`"))?;
        let kinds: Vec<String> = match kinds {
            Value::List(items) => items
                .into_iter()
                .filter_map(|v| match v {
                    Value::Text(t) => Some(t),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let line = line.unwrap_or_default();
        // `csv_line` starts at `line_byte_position` (1-based) and may begin with the
        // blank lines (or the `\n` of a CRLF) before the record.
        let text = line.trim_start_matches(['\r', '\n']);
        let offset = (position - 1).max(0) as u64 + (line.len() - text.len()) as u64;
        let raw = text.trim_end_matches(['\r', '\n']).to_string();
        let counts = kinds
            .iter()
            .all(|k| k == "MISSING COLUMNS" || k == "TOO MANY COLUMNS");
        let message = if counts {
            format!(
                "expected {fields} fields, found {}",
                count_fields(&raw, delim, quote)
            )
        } else if kinds.iter().any(|k| k == "UNQUOTED VALUE") {
            "a quoted value is not closed, or text follows its closing quote".to_string()
        } else {
            duckdb_message.unwrap_or_else(|| kinds.join(", "))
        };
        let encoding = kinds.iter().any(|k| k.starts_with("INVALID"));
        out.push(Rejected {
            offset,
            raw,
            message,
            encoding,
        });
    }
    Ok(out)
}

/// Offset of the first byte at or after `from` that is not valid UTF-8 (`from` when
/// none is found within the next 64 KiB).
fn first_invalid_utf8(path: &Path, from: u64) -> Result<u64> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    f.seek(SeekFrom::Start(from))
        .map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(1 << 16);
    f.take(1 << 16)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok(match std::str::from_utf8(&buf) {
        Err(e) if e.error_len().is_some() => from + e.valid_up_to() as u64,
        _ => from,
    })
}

/// Number of fields of one record's text.
fn count_fields(raw: &str, delim: char, quote: char) -> usize {
    let (Ok(d), Ok(q)) = (u8::try_from(delim), u8::try_from(quote)) else {
        return 0;
    };
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(d)
        .quote(q)
        .from_reader(raw.as_bytes());
    let mut record = ::csv::ByteRecord::new();
    match rdr.read_byte_record(&mut record) {
        Ok(true) => record.len(),
        _ => 0,
    }
}

/// What a scan of the file found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Scan {
    /// The physical line of each rejected record, in the order of the offsets given.
    reject_lines: Vec<i64>,
    /// Runs of consecutive lines starting good records: (first good record's ordinal
    /// from 1, its line). Record `j` of a run starting at `(j0, l0)` is on line
    /// `l0 + j - j0`.
    segments: Vec<(i64, i64)>,
    /// Records that start a line and are not rejected.
    good_records: i64,
    /// Every rejected record starts where the scan sees a record start.
    rejects_at_record_starts: bool,
    /// The file ends inside a quoted value opened on an earlier line: (the line where
    /// that record starts, the file's last line).
    unclosed: Option<(i64, i64)>,
}

/// Where a CSV scanner is within a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// In a value without quotes.
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// After a quote inside quotes: a second quote, a delimiter or the line's end follows.
    QuoteSeen,
    /// After a malformed quoted value: the record ends at the next newline.
    Malformed,
}

/// Scans `path` once: the physical line of each byte offset in `offsets` (sorted) and
/// the lines where records start after the `header_lines`.
fn scan(path: &Path, delim: u8, quote: u8, header_lines: i64, offsets: &[u64]) -> Result<Scan> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut out = Scan {
        reject_lines: vec![0; offsets.len()],
        rejects_at_record_starts: true,
        ..Scan::default()
    };
    let mut next = 0usize; // next offset to place
    let mut state = State::FieldStart;
    let mut pos: u64 = 0; // byte offset of `line`'s first byte
    let mut ln: i64 = 0;
    let mut line = Vec::new();
    let mut record_line: i64 = 0; // line where the current record starts
    let mut last_text_line: i64 = 0; // last line that is not blank
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        ln += 1;
        let end = pos + n as u64;
        let at_start = state == State::FieldStart;
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let starts_record = at_start && ln > header_lines && !body.is_empty();
        if starts_record {
            record_line = ln;
        }
        if !body.is_empty() {
            last_text_line = ln;
        }
        let mut rejected_here = false;
        while next < offsets.len() && offsets[next] < end {
            out.reject_lines[next] = ln;
            rejected_here = true;
            if !(starts_record && offsets[next] == pos) {
                out.rejects_at_record_starts = false;
            }
            next += 1;
        }
        if starts_record && !rejected_here {
            out.good_records += 1;
            match out.segments.last() {
                Some(&(j0, l0)) if l0 + (out.good_records - j0) == ln => {}
                _ => out.segments.push((out.good_records, ln)),
            }
        }
        if ln <= header_lines {
            // Skipped lines and the header: DuckDB skips them as lines.
            state = State::FieldStart;
        } else {
            for &b in &line {
                state = step(state, b, delim, quote);
            }
        }
        pos = end;
    }
    for l in &mut out.reject_lines[next..] {
        *l = ln;
    }
    // Blank lines after the quote swallow nothing.
    if state == State::Quoted && record_line > 0 && last_text_line > record_line {
        out.unclosed = Some((record_line, ln));
    }
    Ok(out)
}

/// One byte of the scanner.
fn step(state: State, b: u8, delim: u8, quote: u8) -> State {
    use State::*;
    match (state, b) {
        (Quoted, b) if b == quote => QuoteSeen,
        (Quoted, _) => Quoted,
        (_, b'\n') => FieldStart,
        (FieldStart, b) if b == quote => Quoted,
        (FieldStart | Unquoted | QuoteSeen, b) if b == delim => FieldStart,
        (FieldStart | Unquoted, _) => Unquoted,
        (QuoteSeen, b) if b == quote => Quoted,
        (QuoteSeen, b'\r') => QuoteSeen,
        (QuoteSeen | Malformed, _) => Malformed,
    }
}

/// Gives the good records of the file `label` (numbered `header_lines + j`) the line of
/// the `j`-th good record start.
fn renumber(
    wh: &Warehouse,
    label: &str,
    table: &str,
    header_lines: i64,
    segments: &[(i64, i64)],
) -> Result<()> {
    wh.exec("CREATE OR REPLACE TEMP TABLE _csv_segments (j0 BIGINT, l0 BIGINT)")?;
    {
        let mut app = wh
            .conn
            .appender_to_catalog_and_db("_csv_segments", "temp", "main")
            .ctx(|| format!("numbering lines of `{label}`"))?;
        for (j0, l0) in segments {
            app.append_row([j0, l0])
                .ctx(|| format!("numbering lines of `{label}`"))?;
        }
    }
    let sql = format!(
        "CREATE OR REPLACE TEMP TABLE _csv_relined AS
         SELECT r.* EXCLUDE (_line, _j), s.l0 + r._j - s.j0 AS _line
         FROM (SELECT *, _line - {header_lines} AS _j FROM {table} WHERE _file = $1) r
         ASOF JOIN _csv_segments s ON r._j >= s.j0"
    );
    wh.conn
        .execute(&sql, [label])
        .ctx(|| format!("numbering lines of `{label}`"))?;
    wh.conn
        .execute(&format!("DELETE FROM {table} WHERE _file = $1"), [label])
        .ctx(|| format!("numbering lines of `{label}`"))?;
    wh.exec(&format!(
        "INSERT INTO {table} BY NAME SELECT * FROM _csv_relined ORDER BY _line;
         DROP TABLE _csv_relined; DROP TABLE _csv_segments;"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(text: &str, header_lines: i64, offsets: &[u64]) -> Scan {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        scan(f.path(), b',', b'"', header_lines, offsets).unwrap()
    }

    #[test]
    fn scan_finds_record_starts_across_quotes_blank_lines_and_crlf() {
        // 1 header, 2 a, 3-4 quoted newline, 5 blank, 6 O"Brien (plain text), 7 ragged,
        // 8-9 malformed quote spanning a newline, 10 x.
        let text = "h1,h2\na,1\n\"b\nb\",2\n\nO\"Brien,3\nshort\n\"m\nm\"x,4\nx,5\n";
        let ragged = text.find("short").unwrap() as u64;
        let malformed = text.find("\"m").unwrap() as u64;
        let s = scan_text(text, 1, &[ragged, malformed]);
        assert_eq!(s.reject_lines, vec![7, 8]);
        assert!(s.rejects_at_record_starts);
        assert_eq!(s.good_records, 4);
        // Good records on lines 2, 3 (one run), 6 and 10.
        assert_eq!(s.segments, vec![(1, 2), (3, 6), (4, 10)]);
        let crlf = text.replace('\n', "\r\n");
        let s = scan_text(&crlf, 1, &[]);
        assert_eq!(s.good_records, 6);
        // Lines 2-3, 6-8 and 10.
        assert_eq!(s.segments, vec![(1, 2), (3, 6), (6, 10)]);
    }

    #[test]
    fn an_unterminated_quote_runs_to_the_end_of_the_file() {
        let text = "h\n\"open,1\nb,2\nc,3\n";
        let s = scan_text(text, 1, &[2]);
        assert_eq!(s.reject_lines, vec![2]);
        assert_eq!(s.good_records, 0);
        assert!(s.segments.is_empty());
        assert_eq!(s.unclosed, Some((2, 4)));
        // Closed, or open only on the last line: no unclosed quote.
        assert_eq!(scan_text("h\n\"a\nb\",1\nc,2\n", 1, &[]).unclosed, None);
        assert_eq!(scan_text("h\na,1\n\"open,2\n", 1, &[]).unclosed, None);
        assert_eq!(scan_text("h\na,1\n\"open,2\n\n\r\n", 1, &[]).unclosed, None);
        // CRLF, and a title line skipped before the header.
        assert_eq!(
            scan_text("title\r\nh\r\na,1\r\n\"open,2\r\nb,3\r\n", 2, &[]).unclosed,
            Some((4, 5))
        );
        assert_eq!(
            scan_text("h\na,1\n\"open,2\nb,3\n", 1, &[]).unclosed,
            Some((3, 4))
        );
    }

    #[test]
    fn header_names_follow_duckdb() {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "\u{feff}a,,a,a,a_1, b ,\"q,\"\"x\"\"\"\n1,2\n").unwrap();
        let mut cfg: SourceConfig = serde_yaml::from_str(
            "{ name: s, path: x, format: csv, columns: [{ name: a, type: string }] }",
        )
        .unwrap();
        assert_eq!(
            header(f.path(), &cfg, "f").unwrap(),
            vec!["a", "column1", "a_1", "a_2", "a_1_1", "b", "q,\"x\""]
        );
        cfg.csv = Some(crate::config::CsvOptions {
            header: false,
            skip_rows: 1,
            ..Default::default()
        });
        assert_eq!(
            header(f.path(), &cfg, "f").unwrap(),
            vec!["column0", "column1"]
        );
    }
}
