//! Tests of the sample generator, reading back the written files in their own formats (CSV, CSV
//! with a BOM, GBK CSV, NDJSON, XLSX): determinism, every truth row shows its defect, every other
//! row is clean, the dirt is plentiful and spread out, and the cross-file invariants hold.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use calamine::{open_workbook_from_rs, Data as Cell, Reader, Xlsx};
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::{write_sample, SampleOptions, SampleSummary};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("salespipe-sample-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Splits one CSV record (no embedded newlines; quotes doubled inside quoted fields).
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            _ => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

const SURVEY: &str = "marketing/survey_responses.ndjson";
const SURVEY_HEADER: [&str; 7] = [
    "response_id",
    "response_date",
    "region",
    "sku",
    "customer_id",
    "csat",
    "nps",
];
const INVOICES: &str = "finance/invoices.xlsx";
const MARKET: &str = "marketing/market_size_cn.csv";
const REPS: &str = "sales/reps.csv";
const CUSTOMERS: &str = "sales/customers.csv";
const ORDERS: &str = "sales/orders.csv";
const LINES: &str = "sales/order_lines.csv";
const REGIONS: [&str; 5] = ["North", "South", "East", "West", "Central"];

/// Excel's day zero.
fn excel_day(serial: f64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).unwrap() + Days::new(serial as u64)
}

/// One file read back as a header and records of text fields, with the record's 1-based line
/// (for XLSX the sheet row; for NDJSON the line, there is no header line).
struct File {
    header: Vec<String>,
    /// (line, fields, raw text of the line or a rendering of the row).
    records: Vec<(usize, Vec<String>, String)>,
    /// XLSX only: (line, column) of cells stored as text in date columns.
    text_dates: BTreeSet<(usize, usize)>,
}

impl File {
    fn read(path: &str, bytes: &[u8]) -> Self {
        if path.ends_with(".xlsx") {
            return Self::xlsx(bytes);
        }
        let text = if path == MARKET {
            let (text, _, errors) = encoding_rs::GBK.decode(bytes);
            assert!(!errors, "{path} does not decode as GBK");
            text.into_owned()
        } else {
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        assert!(!text.contains('\r'), "{path} has CR characters");
        if path.ends_with(".ndjson") {
            let records = text
                .lines()
                .enumerate()
                .map(|(i, line)| {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    let obj = v.as_object().unwrap();
                    assert_eq!(obj.len(), SURVEY_HEADER.len(), "{path}:{}", i + 1);
                    let fields = SURVEY_HEADER
                        .iter()
                        .map(|k| match &obj[*k] {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        })
                        .collect();
                    (i + 1, fields, line.to_string())
                })
                .collect();
            return File {
                header: SURVEY_HEADER.iter().map(|s| s.to_string()).collect(),
                records,
                text_dates: BTreeSet::new(),
            };
        }
        let mut lines = text.lines();
        let header = split(lines.next().unwrap());
        let records = lines
            .enumerate()
            .map(|(i, l)| (i + 2, split(l), l.to_string()))
            .collect();
        File {
            header,
            records,
            text_dates: BTreeSet::new(),
        }
    }

    fn xlsx(bytes: &[u8]) -> Self {
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        assert_eq!(book.sheet_names(), vec!["Invoices".to_string()]);
        let range = book.worksheet_range("Invoices").unwrap();
        let mut rows = range.rows();
        let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        let mut text_dates = BTreeSet::new();
        let mut records = Vec::new();
        for (i, row) in rows.enumerate() {
            let line = i + 2;
            let fields: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, cell)| match cell {
                    Cell::DateTime(d) => excel_day(d.as_f64()).to_string(),
                    Cell::Float(f) => format!("{f:.2}"),
                    Cell::Int(n) => n.to_string(),
                    Cell::String(s) => {
                        if header[c].ends_with("_date") {
                            text_dates.insert((line, c));
                        }
                        s.clone()
                    }
                    Cell::Empty => String::new(),
                    other => panic!("unexpected cell {other:?} at row {line}"),
                })
                .collect();
            let raw = fields.join("|");
            records.push((line, fields, raw));
        }
        File {
            header,
            records,
            text_dates,
        }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn at(&self, line: usize) -> &(usize, Vec<String>, String) {
        let first = self.records.first().map_or(0, |r| r.0);
        let r = &self.records[line - first];
        assert_eq!(r.0, line);
        r
    }

    /// Distinct values of a column.
    fn values(&self, name: &str) -> BTreeSet<String> {
        let c = self.col(name);
        self.records.iter().map(|r| r.1[c].clone()).collect()
    }
}

/// A generated data set read back.
struct Sample {
    _dir: TempDir,
    bytes: BTreeMap<String, Vec<u8>>,
    files: BTreeMap<String, File>,
    summary: SampleSummary,
}

impl Sample {
    fn generate(tag: &str, opts: SampleOptions) -> Self {
        let dir = TempDir::new(tag);
        let summary = write_sample(&dir.0, &opts).unwrap();
        let mut bytes = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (path, rows) in &summary.files {
            let b = std::fs::read(dir.0.join(path)).unwrap();
            let key = path.to_str().unwrap().replace('\\', "/");
            let file = File::read(&key, &b);
            assert_eq!(file.records.len(), *rows, "{key}");
            files.insert(key.clone(), file);
            bytes.insert(key, b);
        }
        Sample {
            _dir: dir,
            bytes,
            files,
            summary,
        }
    }

    fn truth(&self) -> Vec<Truth> {
        let t = &self.files["truth.csv"];
        t.records
            .iter()
            .map(|(_, f, _)| Truth {
                file: f[0].clone(),
                line: f[1].parse().unwrap(),
                kind: f[2].clone(),
                column: f[3].clone(),
                related: (!f[4].is_empty()).then(|| f[4].parse().unwrap()),
                expected: f[5].clone(),
            })
            .collect()
    }
}

#[derive(Debug)]
struct Truth {
    file: String,
    line: usize,
    kind: String,
    column: String,
    related: Option<usize>,
    expected: String,
}

fn parse_date_any(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s.trim(), f).ok())
}

fn is_iso_date(s: &str) -> bool {
    s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// The region a (possibly aliased) region name stands for.
fn region_of(s: &str) -> Option<&'static str> {
    let t = s.trim();
    REGIONS.iter().copied().find(|r| {
        r.eq_ignore_ascii_case(t) || (t.len() == 2 && t.ends_with('.') && r.starts_with(&t[..1]))
    })
}

/// An amount with a currency symbol and thousands separators as a decimal.
fn amount(s: &str) -> Option<Decimal> {
    let t: String = s
        .trim()
        .trim_start_matches(['$', '€', '£'])
        .chars()
        .filter(|c| *c != ',')
        .collect();
    Decimal::from_str(&t).ok()
}

#[test]
fn same_seed_and_scale_give_identical_bytes() {
    let opts = SampleOptions { seed: 7, scale: 1 };
    let a = Sample::generate("det-a", opts);
    let b = Sample::generate("det-b", opts);
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.bytes, b.bytes, "two runs differ");
    let c = Sample::generate("det-c", SampleOptions { seed: 8, scale: 1 });
    assert_ne!(a.bytes[ORDERS], c.bytes[ORDERS]);
    assert_ne!(a.bytes[INVOICES], c.bytes[INVOICES]);
}

#[test]
fn scale_zero_is_rejected() {
    let dir = TempDir::new("zero");
    assert!(write_sample(&dir.0, &SampleOptions { seed: 1, scale: 0 }).is_err());
}

#[test]
fn formats_and_encodings_are_as_documented() {
    let s = Sample::generate("formats", SampleOptions::default());
    assert!(
        s.bytes[REPS].starts_with(b"\xEF\xBB\xBF"),
        "reps.csv has a BOM"
    );
    for (path, b) in &s.bytes {
        if path != REPS {
            assert!(!b.starts_with(b"\xEF\xBB\xBF"), "{path} has a BOM");
        }
    }
    assert!(
        std::str::from_utf8(&s.bytes[MARKET]).is_err(),
        "market_size_cn.csv is GBK, not UTF-8"
    );
    let market = &s.files[MARKET];
    let regions = market.values("region");
    assert_eq!(
        regions,
        ["華北", "華南", "華東", "華西", "華中"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert_eq!(market.values("category").len(), 6);
    assert!(
        s.bytes[INVOICES].starts_with(b"PK"),
        "invoices.xlsx is a zip"
    );
    let survey = std::str::from_utf8(&s.bytes[SURVEY]).unwrap();
    assert!(survey
        .lines()
        .all(|l| l.starts_with("{\"response_id\":\"SR-")));
    let total: usize = s.bytes.values().map(Vec::len).sum();
    assert!(total < 5_000_000, "{total} bytes");
}

#[test]
fn every_truth_row_shows_its_defect() {
    let s = Sample::generate("truth", SampleOptions::default());
    let skus = s.files["sales/products.csv"].values("sku");
    let customers = s.files[CUSTOMERS].values("customer_id");
    let orders = s.files[ORDERS].values("order_id");
    let invoices = s.files[INVOICES].values("invoice_id");
    let campaigns = s.files["marketing/campaigns.csv"].values("campaign_id");
    let truth = s.truth();
    assert!(truth.len() > 1_000);
    for t in &truth {
        let file = &s.files[&t.file];
        let (_, row, raw) = file.at(t.line);
        assert_eq!(row.len(), file.header.len(), "{t:?}");
        let field = |name: &str| row[file.col(name)].clone();
        let col = || field(&t.column);
        let want = match t.kind.as_str() {
            "exact_duplicate" => {
                let original = t.related.unwrap();
                assert!(original < t.line, "{t:?}");
                assert_eq!(&file.at(original).2, raw, "{t:?}");
                "dedupe"
            }
            "reexported_changed" => {
                let old = &file.at(t.related.unwrap()).1;
                assert!(t.related.unwrap() < t.line, "{t:?}");
                let key = if t.file == ORDERS { 1 } else { 2 };
                assert_eq!(old[..key], row[..key], "{t:?}");
                let at = file.col("updated_at");
                assert!(row[at] > old[at], "{t:?}");
                let c = file.col(&t.column);
                assert_ne!(row[c], old[c], "{t:?}");
                if t.file == ORDERS && field("status") == "cancelled" {
                    assert_eq!(field("ship_date"), "", "{t:?}");
                }
                "supersedes"
            }
            "blank_required" => {
                assert_eq!(col(), "", "{t:?}");
                "reject"
            }
            "bad_date" => {
                assert!(parse_date_any(&col()).is_none(), "{t:?}");
                "reject"
            }
            "bad_number" => {
                let v = col();
                match t.column.as_str() {
                    "quantity" => assert!(v.parse::<i64>().is_err(), "{t:?}"),
                    _ => assert!(Decimal::from_str(&v).is_err(), "{t:?}"),
                }
                "reject"
            }
            "negative_quantity" => {
                assert!(col().parse::<i64>().unwrap() < 0, "{t:?}");
                "reject"
            }
            "unknown_product" => {
                let v = col();
                assert!(
                    !v.is_empty() && !skus.contains(&v.trim().to_uppercase()),
                    "{t:?}"
                );
                "reject"
            }
            "unknown_customer" => {
                let v = col();
                assert!(!v.is_empty() && !customers.contains(v.trim()), "{t:?}");
                "reject"
            }
            "unknown_order" => {
                assert!(!orders.contains(&col()), "{t:?}");
                "reject"
            }
            "unknown_invoice" => {
                assert!(!invoices.contains(&col()), "{t:?}");
                "reject"
            }
            "unknown_campaign" => {
                assert!(!campaigns.contains(&col()), "{t:?}");
                "reject"
            }
            "out_of_range" => {
                let v: i64 = col().parse().unwrap();
                let range = if t.column == "csat" { 1..=5 } else { 0..=10 };
                assert!(!range.contains(&v), "{t:?}");
                "reject"
            }
            "date_dmy" => {
                let v = col();
                assert!(NaiveDate::parse_from_str(&v, "%Y-%m-%d").is_err(), "{t:?}");
                assert!(NaiveDate::parse_from_str(&v, "%d/%m/%Y").is_ok(), "{t:?}");
                "fix"
            }
            "date_ymd_slash" => {
                let v = col();
                assert!(NaiveDate::parse_from_str(&v, "%d/%m/%Y").is_err(), "{t:?}");
                assert!(NaiveDate::parse_from_str(&v, "%Y/%m/%d").is_ok(), "{t:?}");
                "fix"
            }
            "date_as_text" => {
                let c = file.col(&t.column);
                assert!(file.text_dates.contains(&(t.line, c)), "{t:?}");
                assert!(is_iso_date(&col()), "{t:?}");
                "fix"
            }
            "whitespace" => {
                let v = col();
                let fixed = v.trim().to_uppercase();
                assert!(v != v.trim() || v != v.to_uppercase(), "{t:?}");
                let known = if t.column == "sku" { &skus } else { &customers };
                assert!(known.contains(&fixed), "{t:?}");
                "fix"
            }
            "region_alias" => {
                let v = col();
                assert!(!REGIONS.contains(&v.as_str()), "{t:?}");
                assert!(region_of(&v).is_some(), "{t:?}");
                "fix"
            }
            "case_variant" => {
                let v = col();
                let fixed = v.trim().to_lowercase();
                assert_ne!(v, fixed, "{t:?}");
                let allowed: &[&str] = if t.column == "stage" {
                    &[
                        "lead",
                        "qualified",
                        "proposal",
                        "negotiation",
                        "won",
                        "lost",
                    ]
                } else {
                    &["visit", "call"]
                };
                assert!(allowed.contains(&fixed.as_str()), "{t:?}");
                "fix"
            }
            "thousands_separator" => {
                let v = col();
                assert!(v.contains(',') && Decimal::from_str(&v).is_err(), "{t:?}");
                assert!(amount(&v).unwrap() >= Decimal::from(1_000), "{t:?}");
                "fix"
            }
            "currency_symbol" => {
                let v = col();
                assert!(v.starts_with(['$', '€', '£']), "{t:?}");
                assert!(amount(&v).is_some(), "{t:?}");
                "fix"
            }
            "outlier" => {
                let q: i64 = col().parse().unwrap();
                assert!(q >= 100 && q % 100 == 0 && q <= 1_200, "{t:?}");
                "flag"
            }
            "snapshot_mismatch" => {
                assert!(col().parse::<i64>().unwrap() >= 0, "{t:?}");
                "flag"
            }
            other => panic!("unexpected kind {other}"),
        };
        assert_eq!(t.expected, want, "{t:?}");
    }
}

/// What a clean field of a column looks like.
#[derive(Clone, Copy)]
enum Check {
    Date,
    OptDate,
    Int,
    Dec,
    OneOf(&'static [&'static str]),
    Ref(&'static str, &'static str),
    OptRef(&'static str, &'static str),
}

const CLEAN_RULES: &[(&str, &[(&str, Check)])] = &[
    (
        ORDERS,
        &[
            ("order_date", Check::Date),
            ("promised_date", Check::Date),
            ("ship_date", Check::OptDate),
            (
                "status",
                Check::OneOf(&["completed", "shipped", "open", "cancelled"]),
            ),
            ("currency", Check::OneOf(&["USD", "EUR", "GBP"])),
            ("customer_id", Check::Ref(CUSTOMERS, "customer_id")),
            ("rep_id", Check::Ref(REPS, "rep_id")),
            (
                "campaign_id",
                Check::OptRef("marketing/campaigns.csv", "campaign_id"),
            ),
            (
                "warehouse",
                Check::OneOf(&["WH-EAST", "WH-CENTRAL", "WH-WEST"]),
            ),
        ],
    ),
    (
        LINES,
        &[
            ("sku", Check::Ref("sales/products.csv", "sku")),
            ("quantity", Check::Int),
            ("unit_price", Check::Dec),
            ("discount_pct", Check::OneOf(&["0", "5", "10", "15", "20"])),
        ],
    ),
    (
        CUSTOMERS,
        &[
            ("region", Check::OneOf(&REGIONS)),
            ("created_on", Check::Date),
        ],
    ),
    (
        REPS,
        &[
            ("valid_from", Check::Date),
            ("valid_to", Check::OptDate),
            ("hired_on", Check::Date),
            ("region", Check::OneOf(&REGIONS)),
            ("manager_id", Check::OptRef(REPS, "rep_id")),
        ],
    ),
    (
        "sales/targets.csv",
        &[
            ("rep_id", Check::Ref(REPS, "rep_id")),
            ("annual_target", Check::Dec),
        ],
    ),
    (
        "sales/company_targets.csv",
        &[("annual_target", Check::Dec)],
    ),
    ("sales/target_distribution.csv", &[("pct", Check::Dec)]),
    (
        "sales/crm_activities.csv",
        &[
            ("rep_id", Check::Ref(REPS, "rep_id")),
            ("customer_id", Check::Ref(CUSTOMERS, "customer_id")),
            ("activity_date", Check::Date),
            ("activity_type", Check::OneOf(&["visit", "call"])),
        ],
    ),
    (
        "sales/opportunities.csv",
        &[
            ("customer_id", Check::Ref(CUSTOMERS, "customer_id")),
            ("rep_id", Check::Ref(REPS, "rep_id")),
            (
                "campaign_id",
                Check::OptRef("marketing/campaigns.csv", "campaign_id"),
            ),
            ("created_on", Check::Date),
            ("amount", Check::Dec),
            ("status", Check::OneOf(&["open", "won", "lost"])),
            ("closed_on", Check::OptDate),
            ("order_id", Check::OptRef(ORDERS, "order_id")),
        ],
    ),
    (
        "sales/opportunity_stages.csv",
        &[
            (
                "opportunity_id",
                Check::Ref("sales/opportunities.csv", "opportunity_id"),
            ),
            (
                "stage",
                Check::OneOf(&[
                    "lead",
                    "qualified",
                    "proposal",
                    "negotiation",
                    "won",
                    "lost",
                ]),
            ),
            ("entered_on", Check::Date),
            ("amount", Check::Dec),
            ("probability", Check::Dec),
        ],
    ),
    (
        "sales/returns.csv",
        &[
            ("order_id", Check::Ref(ORDERS, "order_id")),
            ("line_no", Check::Int),
            ("return_date", Check::Date),
            ("quantity", Check::Int),
            ("return_type", Check::OneOf(&["return", "exchange"])),
            ("processed_on", Check::OptDate),
        ],
    ),
    (
        "finance/standard_costs.csv",
        &[
            ("sku", Check::Ref("sales/products.csv", "sku")),
            ("valid_from", Check::Date),
            ("valid_to", Check::OptDate),
            ("standard_cost", Check::Dec),
        ],
    ),
    (
        INVOICES,
        &[
            ("order_id", Check::Ref(ORDERS, "order_id")),
            ("invoice_date", Check::Date),
            ("due_date", Check::Date),
            ("net_amount", Check::Dec),
            ("tax_amount", Check::Dec),
            ("gross_amount", Check::Dec),
        ],
    ),
    (
        "finance/payments.csv",
        &[
            ("invoice_id", Check::Ref(INVOICES, "invoice_id")),
            ("payment_date", Check::Date),
            ("amount", Check::Dec),
        ],
    ),
    (
        "marketing/campaign_spend.csv",
        &[
            ("spend_date", Check::Date),
            (
                "campaign_id",
                Check::Ref("marketing/campaigns.csv", "campaign_id"),
            ),
            ("spend", Check::Dec),
        ],
    ),
    (
        "marketing/leads.csv",
        &[
            (
                "campaign_id",
                Check::Ref("marketing/campaigns.csv", "campaign_id"),
            ),
            ("created_on", Check::Date),
            ("customer_id", Check::OptRef(CUSTOMERS, "customer_id")),
            (
                "opportunity_id",
                Check::OptRef("sales/opportunities.csv", "opportunity_id"),
            ),
        ],
    ),
    (
        SURVEY,
        &[
            ("response_date", Check::Date),
            ("region", Check::OneOf(&REGIONS)),
            ("sku", Check::Ref("sales/products.csv", "sku")),
            ("customer_id", Check::Ref(CUSTOMERS, "customer_id")),
            ("csat", Check::OneOf(&["1", "2", "3", "4", "5"])),
            ("nps", Check::Int),
        ],
    ),
    (MARKET, &[("market_size", Check::Int)]),
    (
        "inventory/opening_stock.csv",
        &[("on_hand", Check::Int), ("snapshot_date", Check::Date)],
    ),
    (
        "inventory/receipts.csv",
        &[
            ("sku", Check::Ref("sales/products.csv", "sku")),
            ("received_on", Check::Date),
            ("quantity", Check::Int),
        ],
    ),
    (
        "inventory/month_end_snapshots.csv",
        &[("month_end", Check::Date), ("on_hand", Check::Int)],
    ),
];

#[test]
fn rows_not_in_truth_are_clean() {
    let s = Sample::generate("clean", SampleOptions::default());
    let dirty: BTreeSet<(String, usize)> =
        s.truth().into_iter().map(|t| (t.file, t.line)).collect();
    for (path, file) in &s.files {
        let mut seen = BTreeSet::new();
        for (line, fields, raw) in &file.records {
            assert_eq!(fields.len(), file.header.len(), "{path}:{line}");
            if !dirty.contains(&(path.clone(), *line)) {
                assert!(
                    seen.insert(raw.clone()),
                    "unplanted duplicate {path}:{line}"
                );
            }
        }
    }
    let mut refs: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for (_, rules) in CLEAN_RULES {
        for (_, check) in rules.iter() {
            if let Check::Ref(f, c) | Check::OptRef(f, c) = check {
                refs.entry((f, c)).or_insert_with(|| s.files[*f].values(c));
            }
        }
    }
    let mut checked = 0;
    for (path, rules) in CLEAN_RULES {
        let file = &s.files[*path];
        for (line, fields, _) in &file.records {
            if dirty.contains(&(path.to_string(), *line)) {
                continue;
            }
            for (column, check) in rules.iter() {
                let v = &fields[file.col(column)];
                let ok = match check {
                    Check::Date => is_iso_date(v),
                    Check::OptDate => v.is_empty() || is_iso_date(v),
                    Check::Int => v.parse::<i64>().is_ok_and(|n| n >= 0),
                    Check::Dec => Decimal::from_str(v).is_ok_and(|d| d >= Decimal::ZERO),
                    Check::OneOf(allowed) => allowed.contains(&v.as_str()),
                    Check::Ref(f, c) => refs[&(*f, *c)].contains(v),
                    Check::OptRef(f, c) => v.is_empty() || refs[&(*f, *c)].contains(v),
                };
                assert!(ok, "{path}:{line} {column} = {v:?}");
                checked += 1;
            }
        }
    }
    assert!(checked > 250_000, "{checked}");
    // Clean orders: shipped ones have a ship date and nothing is dated before it was ordered.
    let orders = &s.files[ORDERS];
    for (line, r, _) in &orders.records {
        if dirty.contains(&(ORDERS.to_string(), *line)) {
            continue;
        }
        let shipped = matches!(r[6].as_str(), "completed" | "shipped");
        assert_eq!(shipped, is_iso_date(&r[3]), "{ORDERS}:{line}");
        assert!(r[10][..10] >= *r[1], "{ORDERS}:{line}");
        assert!(r[3].is_empty() || r[3] >= r[1], "{ORDERS}:{line}");
    }
}

#[test]
fn dirt_is_plentiful_spread_and_never_on_cancelled_or_rejected_orders() {
    let s = Sample::generate("spread", SampleOptions::default());
    let truth = s.truth();
    let orders = &s.files[ORDERS];

    // Latest status and order date per order id, from the files.
    let mut latest: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut order_date: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for (_, r, _) in &orders.records {
        if let Some(d) = parse_date_any(&r[1]) {
            order_date.entry(r[0].clone()).or_insert(d);
        }
        let e = latest.entry(r[0].clone()).or_default();
        if r[10] >= e.0 {
            *e = (r[10].clone(), r[6].clone());
        }
    }
    let rejected: BTreeSet<String> = truth
        .iter()
        .filter(|t| t.file == ORDERS && t.expected == "reject")
        .map(|t| orders.at(t.line).1[0].clone())
        .collect();
    let september = |id: &str| {
        order_date
            .get(id)
            .is_some_and(|d| *d >= NaiveDate::from_ymd_opt(2026, 9, 1).unwrap())
    };

    let mut per_kind: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for t in &truth {
        let row = &s.files[&t.file].at(t.line).1;
        let entry = per_kind
            .entry((t.file.clone(), t.kind.clone()))
            .or_default();
        entry.0 += 1;
        if t.file == ORDERS || t.file == LINES {
            entry.1 += usize::from(september(&row[0]));
            let touches_cancel = t.file == ORDERS && t.kind == "reexported_changed";
            if !touches_cancel {
                assert_ne!(latest[&row[0]].1, "cancelled", "{t:?}");
            }
        }
        if t.file == LINES {
            assert!(!rejected.contains(&row[0]), "{t:?}");
        }
    }
    let expected_kinds: &[(&str, &str)] = &[
        (CUSTOMERS, "exact_duplicate"),
        (CUSTOMERS, "region_alias"),
        (ORDERS, "exact_duplicate"),
        (ORDERS, "reexported_changed"),
        (ORDERS, "blank_required"),
        (ORDERS, "bad_date"),
        (ORDERS, "unknown_customer"),
        (ORDERS, "date_dmy"),
        (ORDERS, "date_ymd_slash"),
        (ORDERS, "whitespace"),
        (LINES, "exact_duplicate"),
        (LINES, "reexported_changed"),
        (LINES, "blank_required"),
        (LINES, "bad_number"),
        (LINES, "negative_quantity"),
        (LINES, "unknown_product"),
        (LINES, "whitespace"),
        (LINES, "outlier"),
        ("sales/crm_activities.csv", "exact_duplicate"),
        ("sales/crm_activities.csv", "case_variant"),
        ("sales/crm_activities.csv", "blank_required"),
        ("sales/opportunities.csv", "date_dmy"),
        ("sales/opportunities.csv", "date_ymd_slash"),
        ("sales/opportunity_stages.csv", "exact_duplicate"),
        ("sales/opportunity_stages.csv", "case_variant"),
        ("sales/returns.csv", "exact_duplicate"),
        ("sales/returns.csv", "unknown_order"),
        ("sales/returns.csv", "date_dmy"),
        (INVOICES, "exact_duplicate"),
        (INVOICES, "date_as_text"),
        ("finance/payments.csv", "exact_duplicate"),
        ("finance/payments.csv", "thousands_separator"),
        ("finance/payments.csv", "currency_symbol"),
        ("finance/payments.csv", "unknown_invoice"),
        ("marketing/campaign_spend.csv", "exact_duplicate"),
        ("marketing/leads.csv", "exact_duplicate"),
        ("marketing/leads.csv", "unknown_campaign"),
        (SURVEY, "exact_duplicate"),
        (SURVEY, "out_of_range"),
        (SURVEY, "region_alias"),
        ("inventory/receipts.csv", "exact_duplicate"),
        ("inventory/receipts.csv", "date_dmy"),
        ("inventory/month_end_snapshots.csv", "snapshot_mismatch"),
    ];
    let got: BTreeSet<(String, String)> = per_kind.keys().cloned().collect();
    let want: BTreeSet<(String, String)> = expected_kinds
        .iter()
        .map(|(f, k)| (f.to_string(), k.to_string()))
        .collect();
    assert_eq!(got, want);
    for (file, kind) in expected_kinds {
        let (n, in_september) = per_kind[&(file.to_string(), kind.to_string())];
        let rows = s.files[*file].records.len();
        assert!(
            n >= 3 && n * 1000 <= rows * 30 + 3000,
            "{file} {kind}: {n} of {rows}"
        );
        let core = *file == ORDERS || *file == LINES;
        if core && *kind != "bad_date" && *kind != "outlier" {
            assert!(
                in_september >= 1,
                "{file} {kind} has none in September 2026"
            );
        }
    }
}

#[test]
fn cross_file_invariants_hold() {
    let s = Sample::generate("invariants", SampleOptions::default());
    let dec = |v: &str| Decimal::from_str(v).unwrap();

    // Targets: the company target is the sum of the reps'; each year's distribution is 100 %.
    let targets = &s.files["sales/targets.csv"];
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for (_, r, _) in &targets.records {
        *sums.entry(r[0].clone()).or_default() += dec(&r[2]);
    }
    for (_, r, _) in &s.files["sales/company_targets.csv"].records {
        assert_eq!(sums[&r[0]], dec(&r[1]), "{r:?}");
    }
    let mut pct: BTreeMap<String, Decimal> = BTreeMap::new();
    for (_, r, _) in &s.files["sales/target_distribution.csv"].records {
        *pct.entry(r[0].clone()).or_default() += dec(&r[2]);
    }
    assert_eq!(pct.len(), 5);
    assert!(pct.values().all(|p| *p == Decimal::from(100)), "{pct:?}");

    // Reps: one mover with two rows, one late joiner; managers are leads of the same team.
    let reps = &s.files[REPS];
    let rows_of = |id: &str| -> Vec<Vec<String>> {
        reps.records
            .iter()
            .filter(|r| r.1[0] == id)
            .map(|r| r.1.clone())
            .collect()
    };
    let mover = rows_of("R008");
    assert_eq!(mover.len(), 2);
    assert_eq!(
        (mover[0][3].as_str(), mover[1][3].as_str()),
        ("East", "West")
    );
    assert_eq!(mover[0][6], "2024-06-30");
    assert_eq!(mover[1][5], "2024-07-01");
    assert_eq!(rows_of("R025")[0][7], "2024-04-01");
    assert_eq!(reps.records.len(), 26);
    for (_, r, _) in &reps.records {
        if !r[4].is_empty() {
            let lead = rows_of(&r[4]);
            assert!(
                lead.iter().any(|l| l[2] == r[2] && l[4].is_empty()),
                "{r:?}"
            );
        }
    }
    assert!(targets
        .records
        .iter()
        .all(|r| r.1[1] != "R025" || r.1[0].as_str() >= "2024"));

    // Invoices: gross = net + tax; one per order; due after the invoice.
    let invoices = &s.files[INVOICES];
    let mut per_order = BTreeSet::new();
    let mut gross: BTreeMap<String, Decimal> = BTreeMap::new();
    let dirty: BTreeSet<(String, usize)> =
        s.truth().into_iter().map(|t| (t.file, t.line)).collect();
    for (line, r, _) in &invoices.records {
        gross.insert(r[0].clone(), dec(&r[6]));
        if dirty.contains(&(INVOICES.to_string(), *line)) {
            continue;
        }
        assert_eq!(dec(&r[4]) + dec(&r[5]), dec(&r[6]), "{r:?}");
        assert!(r[3] > r[2], "{r:?}");
        assert!(per_order.insert(r[1].clone()), "two invoices for {}", r[1]);
    }
    // Payments never exceed the invoice.
    let mut paid: BTreeMap<String, Decimal> = BTreeMap::new();
    for (line, r, _) in &s.files["finance/payments.csv"].records {
        if !dirty.contains(&("finance/payments.csv".to_string(), *line)) {
            *paid.entry(r[1].clone()).or_default() += dec(&r[3]);
        }
    }
    for (inv, amount) in &paid {
        assert!(
            *amount <= gross[inv],
            "{inv} paid {amount} of {}",
            gross[inv]
        );
    }
    let fully = paid.iter().filter(|(i, a)| **a == gross[*i]).count();
    assert!(
        fully * 10 > paid.len() * 8,
        "most invoices are paid in full"
    );

    // Opportunities: won ones have an order; stages ascend in date; probabilities by stage.
    let opps = &s.files["sales/opportunities.csv"];
    for (_, r, _) in &opps.records {
        assert_eq!(r[6] == "won", !r[8].is_empty(), "{r:?}");
        assert_eq!(r[6] == "open", r[7].is_empty(), "{r:?}");
    }
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for (line, r, _) in &s.files["sales/opportunity_stages.csv"].records {
        if dirty.contains(&("sales/opportunity_stages.csv".to_string(), *line)) {
            continue;
        }
        let stage = r[1].trim().to_lowercase();
        let p = match stage.as_str() {
            "lead" => "0.10",
            "qualified" => "0.25",
            "proposal" => "0.50",
            "negotiation" => "0.75",
            "won" => "1.00",
            _ => "0.00",
        };
        assert_eq!(r[4], p, "{r:?}");
        let prev = last.insert(r[0].clone(), r[2].clone());
        assert!(prev.is_none_or(|p| p <= r[2]), "{r:?}");
    }

    // Stock never goes negative in the snapshots (mismatches included).
    for (_, r, _) in &s.files["inventory/month_end_snapshots.csv"].records {
        assert!(r[3].parse::<i64>().unwrap() >= 0, "{r:?}");
    }
    assert_eq!(
        s.files["inventory/month_end_snapshots.csv"].records.len(),
        57 * 80 * 3
    );

    // Stories name entities that exist.
    let stories = &s.files["stories.csv"];
    let ids: BTreeSet<String> = stories.values("story_id");
    assert_eq!(ids.len(), 15, "{ids:?}");
    for (_, r, _) in &stories.records {
        let (kind, name) = r[2].split_once(' ').unwrap();
        let known = match kind {
            "rep" => s.files[REPS].values("rep_id").contains(name),
            "sku" => s.files["sales/products.csv"].values("sku").contains(name),
            "customer" => s.files[CUSTOMERS].values("customer_id").contains(name),
            "campaign" => s.files["marketing/campaigns.csv"]
                .values("campaign_id")
                .contains(name),
            "region" => REGIONS.contains(&name),
            "team" => s.files[REPS].values("team").contains(name),
            "category" => s.files["sales/products.csv"]
                .values("category")
                .contains(name),
            _ => false,
        };
        assert!(known, "{r:?}");
    }
}

#[test]
fn larger_scales_grow_the_volumes() {
    let one = Sample::generate("scale1", SampleOptions { seed: 3, scale: 1 });
    let two = Sample::generate("scale2", SampleOptions { seed: 3, scale: 2 });
    for file in [
        ORDERS,
        LINES,
        INVOICES,
        "finance/payments.csv",
        "sales/crm_activities.csv",
    ] {
        let (a, b) = (one.files[file].records.len(), two.files[file].records.len());
        assert!(b * 10 > a * 17 && b * 10 < a * 23, "{file}: {a} -> {b}");
    }
}
