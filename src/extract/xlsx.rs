//! XLSX sheets read with calamine and written, with each record's sheet row, to a
//! temporary CSV that the CSV path then loads. Every cell becomes text: dates as
//! `YYYY-MM-DD` (or `YYYY-MM-DD HH:MM:SS`), numbers in their shortest exact form.

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

use crate::config::ResolvedSource;
use crate::error::{Error, Result};
use crate::warehouse::Warehouse;

/// The column of the temporary CSV holding the sheet row.
pub const LINE_COLUMN: &str = "__salespipe_sheet_row";

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            // Excel keeps 15 significant digits and shows no more: a formula's
            // 0.30000000000000004 is the 0.3 the sheet shows (and not a reject for the
            // scale of a DECIMAL(18,2) column).
            let f = excel_digits(*f);
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => d.to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e}"),
    }
}

/// `f` rounded to the 15 significant digits Excel stores and displays; a whole number
/// is kept as it is (an id of 16 digits written by another program).
fn excel_digits(f: f64) -> f64 {
    if !f.is_finite() || f == 0.0 || f.fract() == 0.0 {
        return f;
    }
    format!("{f:.14e}").parse().unwrap_or(f)
}

/// Reads the configured sheet of `path` into `table`.
pub fn read(
    wh: &Warehouse,
    source: &ResolvedSource,
    path: &Path,
    label: &str,
    table: &str,
) -> Result<Vec<String>> {
    let opts = source.config.xlsx.clone();
    let header_row = opts.as_ref().map_or(1, |o| o.header_row).max(1);
    let mut book = open_workbook_auto(path)
        .map_err(|e| Error::Run(format!("`{label}`: cannot open workbook: {e}")))?;
    let sheet = match opts.and_then(|o| o.sheet) {
        Some(s) => s,
        None => book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| Error::Run(format!("`{label}`: the workbook has no sheets")))?,
    };
    let range = book
        .worksheet_range(&sheet)
        .map_err(|e| Error::Run(format!("`{label}`: sheet `{sheet}`: {e}")))?;
    let (first_row, _) = range.start().unwrap_or((0, 0));
    let tmp = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    {
        let mut w = ::csv::Writer::from_path(tmp.path()).map_err(|e| Error::Run(format!("{e}")))?;
        let mut wrote_header = false;
        for (i, row) in range.rows().enumerate() {
            let sheet_row = first_row as usize + i + 1;
            if sheet_row < header_row as usize {
                continue;
            }
            if sheet_row == header_row as usize {
                let mut rec = vec![LINE_COLUMN.to_string()];
                rec.extend(row.iter().enumerate().map(|(j, c)| match cell_text(c) {
                    s if s.trim().is_empty() => format!("column{j}"),
                    s => s,
                }));
                w.write_record(&rec)
                    .map_err(|e| Error::Run(format!("{e}")))?;
                wrote_header = true;
                continue;
            }
            if row.iter().all(|c| matches!(c, Data::Empty)) {
                continue;
            }
            let mut rec = vec![sheet_row.to_string()];
            rec.extend(row.iter().map(cell_text));
            w.write_record(&rec)
                .map_err(|e| Error::Run(format!("{e}")))?;
        }
        if !wrote_header {
            return Err(Error::Run(format!(
                "`{label}`: sheet `{sheet}` has no header at row {header_row}"
            )));
        }
        w.flush().map_err(|e| Error::io(tmp.path(), e))?;
    }
    super::csv::read(wh, source, tmp.path(), label, table, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_cells_read_as_excel_shows_them() {
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2)), "0.3");
        assert_eq!(cell_text(&Data::Float(1234.5600000000002)), "1234.56");
        assert_eq!(cell_text(&Data::Float(-0.07)), "-0.07");
        assert_eq!(cell_text(&Data::Float(1e20)), "100000000000000000000");
        assert_eq!(cell_text(&Data::Float(42.0)), "42");
        assert_eq!(
            cell_text(&Data::Float(1234567890123456.0)),
            "1234567890123456"
        );
        assert_eq!(
            cell_text(&Data::Float(1.2345678901234567e-7)),
            "0.000000123456789012346"
        );
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA)), "#N/A");
    }
}
