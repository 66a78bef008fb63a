//! In-memory extract tables for the sample generator: natural rows, extra rows slotted in at
//! later positions (duplicates, re-exports), physical line numbers, and writing in each export
//! format (CSV, CSV with a UTF-8 BOM, CSV in GBK, NDJSON, XLSX).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format as CellFormat, Workbook, XlsxError};

/// How a column is typed where the format has types (NDJSON, XLSX); CSV writes text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    Decimal,
    Date,
}

/// The file format of an extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// UTF-8 CSV, LF line endings.
    Csv,
    /// UTF-8 CSV starting with a byte-order mark.
    CsvBom,
    /// CSV encoded in GBK.
    CsvGbk,
    /// One JSON object per line, no header line; blank fields are `null`.
    Ndjson(&'static [Kind]),
    /// One worksheet, header in row 1; dates are real Excel dates, numbers are numbers.
    Xlsx {
        sheet: &'static str,
        kinds: &'static [Kind],
    },
}

/// A row appended after natural row `after` (so always at a later line than that row).
#[derive(Clone, Debug)]
pub(crate) struct Extra {
    pub after: usize,
    pub fields: Vec<String>,
}

/// Where a row lives before line numbers are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Slot {
    Row(usize),
    Extra(usize),
}

/// One CSV file: a header, natural rows in output order, and extra rows.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub path: &'static str,
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<String>>,
    pub extras: Vec<Extra>,
    pub format: Format,
    /// XLSX cells written as text even where the column holds dates (planted defects).
    pub text_cells: Vec<(Slot, usize)>,
}

/// Physical line numbers (header = line 1) of every natural and extra row.
pub(crate) struct Layout {
    rows: Vec<usize>,
    extras: Vec<usize>,
    /// Output order.
    order: Vec<Slot>,
}

impl Layout {
    pub(crate) fn line(&self, slot: Slot) -> usize {
        match slot {
            Slot::Row(i) => self.rows.get(i).copied().unwrap_or(0),
            Slot::Extra(i) => self.extras.get(i).copied().unwrap_or(0),
        }
    }
}

impl Table {
    pub(crate) fn new(path: &'static str, header: &'static [&'static str]) -> Self {
        Table {
            path,
            header,
            rows: Vec::new(),
            extras: Vec::new(),
            format: Format::Csv,
            text_cells: Vec::new(),
        }
    }

    /// The same table in another format.
    pub(crate) fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Index of a column by name.
    pub(crate) fn col(&self, name: &str) -> usize {
        self.header.iter().position(|h| *h == name).unwrap_or(0)
    }

    /// The 1-based line (CSV, XLSX: the header is line 1; NDJSON: the first record is line 1).
    pub(crate) fn line(&self, layout: &Layout, slot: Slot) -> usize {
        let line = layout.line(slot);
        match self.format {
            Format::Ndjson(_) => line.saturating_sub(1),
            _ => line,
        }
    }

    /// The whole file as bytes.
    pub(crate) fn bytes(&self, layout: &Layout) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        match self.format {
            Format::Csv => self.write(layout, &mut out)?,
            Format::CsvBom => {
                out.extend_from_slice(b"\xEF\xBB\xBF");
                self.write(layout, &mut out)?;
            }
            Format::CsvGbk => {
                let mut utf8 = Vec::new();
                self.write(layout, &mut utf8)?;
                let text = String::from_utf8(utf8).map_err(io::Error::other)?;
                let (encoded, _, unmappable) = encoding_rs::GBK.encode(&text);
                if unmappable {
                    return Err(io::Error::other(format!(
                        "{}: a character has no GBK encoding",
                        self.path
                    )));
                }
                out = encoded.into_owned();
            }
            Format::Ndjson(kinds) => self.write_ndjson(layout, kinds, &mut out)?,
            Format::Xlsx { sheet, kinds } => {
                out = self.xlsx(layout, sheet, kinds).map_err(io::Error::other)?;
            }
        }
        Ok(out)
    }

    fn rows_in_order<'a>(
        &'a self,
        layout: &'a Layout,
    ) -> impl Iterator<Item = (Slot, &'a Vec<String>)> + 'a {
        layout.order.iter().filter_map(|slot| {
            let fields = match *slot {
                Slot::Row(i) => self.rows.get(i),
                Slot::Extra(i) => self.extras.get(i).map(|e| &e.fields),
            };
            fields.map(|f| (*slot, f))
        })
    }

    fn write_ndjson(
        &self,
        layout: &Layout,
        kinds: &[Kind],
        out: &mut impl Write,
    ) -> io::Result<()> {
        for (_, fields) in self.rows_in_order(layout) {
            let mut line = String::from("{");
            for (c, (name, value)) in self.header.iter().zip(fields).enumerate() {
                if c > 0 {
                    line.push(',');
                }
                line.push_str(&json_string(name));
                line.push(':');
                let kind = kinds.get(c).copied().unwrap_or(Kind::Text);
                let bare = match kind {
                    Kind::Int => value.parse::<i64>().is_ok(),
                    Kind::Decimal => Decimal::from_str(value).is_ok(),
                    Kind::Text | Kind::Date => false,
                };
                if value.is_empty() {
                    line.push_str("null");
                } else if bare {
                    line.push_str(value);
                } else {
                    line.push_str(&json_string(value));
                }
            }
            line.push_str("}\n");
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    fn xlsx(&self, layout: &Layout, sheet: &str, kinds: &[Kind]) -> Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        // Fixed document properties: the creation time is the extract day, not the clock.
        let created = ExcelDateTime::from_ymd(2026, 9, 30)?.and_hms(18, 0, 0)?;
        let properties = DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("Finance")
            .set_title("Invoices");
        workbook.set_properties(&properties);
        let bold = CellFormat::new().set_bold();
        let date_format = CellFormat::new().set_num_format("yyyy-mm-dd");
        let money_format = CellFormat::new().set_num_format("#,##0.00");
        let text_cells: BTreeSet<(Slot, usize)> = self.text_cells.iter().copied().collect();
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet)?;
        for (c, name) in self.header.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            worksheet.write_string_with_format(0, col, *name, &bold)?;
            worksheet.set_column_width(col, 14)?;
        }
        for (r, (slot, fields)) in self.rows_in_order(layout).enumerate() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, value) in fields.iter().enumerate() {
                let col = u16::try_from(c).unwrap_or(u16::MAX);
                if value.is_empty() {
                    continue;
                }
                let as_text = text_cells.contains(&(slot, c));
                match kinds.get(c).copied().unwrap_or(Kind::Text) {
                    Kind::Date if !as_text => match excel_date(value) {
                        Some(date) => {
                            worksheet.write_date_with_format(row, col, &date, &date_format)?;
                        }
                        None => {
                            worksheet.write_string(row, col, value)?;
                        }
                    },
                    Kind::Decimal if !as_text => {
                        match Decimal::from_str(value).ok().and_then(|d| d.to_f64()) {
                            Some(number) => {
                                worksheet.write_number_with_format(
                                    row,
                                    col,
                                    number,
                                    &money_format,
                                )?;
                            }
                            None => {
                                worksheet.write_string(row, col, value)?;
                            }
                        }
                    }
                    Kind::Int if !as_text => match value.parse::<i32>() {
                        Ok(number) => {
                            worksheet.write_number(row, col, f64::from(number))?;
                        }
                        Err(_) => {
                            worksheet.write_string(row, col, value)?;
                        }
                    },
                    _ => {
                        worksheet.write_string(row, col, value)?;
                    }
                }
            }
        }
        workbook.save_to_buffer()
    }

    /// Data rows written (natural plus extra).
    pub(crate) fn data_rows(&self) -> usize {
        self.rows.len() + self.extras.len()
    }

    /// Adds an extra row after natural row `after` and returns its slot.
    pub(crate) fn push_extra(&mut self, after: usize, fields: Vec<String>) -> Slot {
        self.extras.push(Extra { after, fields });
        Slot::Extra(self.extras.len() - 1)
    }

    /// Each natural row is followed by the extras placed after it, in the order they were added.
    pub(crate) fn layout(&self) -> Layout {
        let mut after: Vec<Vec<usize>> = vec![Vec::new(); self.rows.len()];
        for (e, extra) in self.extras.iter().enumerate() {
            if let Some(list) = after.get_mut(extra.after) {
                list.push(e);
            }
        }
        let mut layout = Layout {
            rows: vec![0; self.rows.len()],
            extras: vec![0; self.extras.len()],
            order: Vec::with_capacity(self.data_rows()),
        };
        let mut line = 2;
        for (i, extras) in after.iter().enumerate() {
            layout.rows[i] = line;
            layout.order.push(Slot::Row(i));
            line += 1;
            for &e in extras {
                layout.extras[e] = line;
                layout.order.push(Slot::Extra(e));
                line += 1;
            }
        }
        layout
    }

    /// Writes the header and rows as CSV, LF line endings.
    pub(crate) fn write(&self, layout: &Layout, out: &mut impl Write) -> io::Result<()> {
        write_record(out, self.header.iter().copied())?;
        for (_, fields) in self.rows_in_order(layout) {
            write_record(out, fields.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

fn write_record<'a>(out: &mut impl Write, fields: impl Iterator<Item = &'a str>) -> io::Result<()> {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(quote(field).as_bytes())?;
    }
    out.write_all(b"\n")
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// An ISO date as an Excel date.
fn excel_date(value: &str) -> Option<ExcelDateTime> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    let year = u16::try_from(date.year()).ok()?;
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

/// A CSV field, quoted only when it contains a comma or a double quote.
pub(crate) fn quote(field: &str) -> Cow<'_, str> {
    if field.contains([',', '"']) {
        Cow::Owned(format!("\"{}\"", field.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_follow_their_anchor_row() {
        let mut t = Table::new("t.csv", &["a"]);
        t.rows = vec![vec!["x".into()], vec!["y".into()], vec!["z".into()]];
        let e0 = t.push_extra(0, vec!["x2".into()]);
        let e1 = t.push_extra(2, vec!["x3".into()]);
        let e2 = t.push_extra(0, vec!["x4".into()]);
        let layout = t.layout();
        assert_eq!(layout.line(Slot::Row(0)), 2);
        assert_eq!(layout.line(e0), 3);
        assert_eq!(layout.line(e2), 4);
        assert_eq!(layout.line(Slot::Row(1)), 5);
        assert_eq!(layout.line(e1), 7);
        let mut out = Vec::new();
        t.write(&layout, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\nx\nx2\nx4\ny\nz\nx3\n");
    }

    #[test]
    fn ndjson_has_no_header_line_and_typed_fields() {
        const KINDS: &[Kind] = &[Kind::Text, Kind::Int, Kind::Int];
        let mut t = Table::new("t.ndjson", &["id", "n", "m"]).with_format(Format::Ndjson(KINDS));
        t.rows = vec![
            vec!["a\"b".into(), "3".into(), "".into()],
            vec!["c".into(), "x".into(), "-1".into()],
        ];
        let e = t.push_extra(0, t.rows[0].clone());
        let layout = t.layout();
        assert_eq!(t.line(&layout, Slot::Row(0)), 1);
        assert_eq!(t.line(&layout, e), 2);
        assert_eq!(t.line(&layout, Slot::Row(1)), 3);
        let text = String::from_utf8(t.bytes(&layout).unwrap()).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"a\\\"b\",\"n\":3,\"m\":null}\n\
             {\"id\":\"a\\\"b\",\"n\":3,\"m\":null}\n\
             {\"id\":\"c\",\"n\":\"x\",\"m\":-1}\n"
        );
    }

    #[test]
    fn gbk_and_bom_encodings() {
        let mut t = Table::new("t.csv", &["region"]).with_format(Format::CsvGbk);
        t.rows = vec![vec!["華北".into()]];
        let bytes = t.bytes(&t.layout()).unwrap();
        let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
        assert!(!errors);
        assert_eq!(text, "region\n華北\n");
        assert!(std::str::from_utf8(&bytes).is_err());
        let bom = Table::new("t.csv", &["a"]).with_format(Format::CsvBom);
        assert_eq!(bom.bytes(&bom.layout()).unwrap(), b"\xEF\xBB\xBFa\n");
    }

    #[test]
    fn xlsx_is_byte_identical_and_typed() {
        const KINDS: &[Kind] = &[Kind::Date, Kind::Decimal];
        let mut t = Table::new("t.xlsx", &["day", "amount"]).with_format(Format::Xlsx {
            sheet: "S",
            kinds: KINDS,
        });
        t.rows = vec![
            vec!["2024-02-29".into(), "1234.50".into()],
            vec!["2024-03-01".into(), "7.00".into()],
        ];
        t.text_cells.push((Slot::Row(1), 0));
        let a = t.bytes(&t.layout()).unwrap();
        let b = t.bytes(&t.layout()).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with(b"PK"));
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
