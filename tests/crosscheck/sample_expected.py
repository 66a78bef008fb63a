#!/usr/bin/env python3
"""Independent cross-check of the committed sample company (sample_data/).

Reads the generated CSVs directly (not the Rust generator's internals), applies the
cleaning rules the pipeline documents, and computes the figures the pipeline must
report for the as-of month 2026-09 (and the total of 2026-08). Writes them to
tests/fixtures/sample_expected.json, which `tests/sample.rs` compares with the
warehouse. It also checks that the rows it rejects, drops as exact duplicates and
drops as superseded are exactly the rows `truth.csv` says so.

Python standard library only for the figures. Usage (from anywhere):

    python3 tests/crosscheck/sample_expected.py [--sample DIR] [--out FILE] [--parquet DIR]

With `--parquet out/parquet` (after `salespipe run pipelines/daily.yaml`), it also reads
every Parquet export back with pandas + pyarrow and records its rows, DECIMAL(p,s) and DATE
columns under `parquet` (compared by tests/kpi_sample.rs with the warehouse and the files).

Only the five sales-core files are cleaned here (customers, products, orders, order
lines, FX rates); truth.csv rows for the other extracts are left to tests/sample_stories.rs.

Cleaning rules:
- every field is trimmed; sku is upper-cased; a blank field is missing;
- customers: region is normalised case-insensitively, with the aliases N., S., E., W., C.
  standing for North, South, East, West, Central; any other value is rejected;
- exact duplicate raw rows: the first is kept, later copies are duplicates;
- rows failing a rule are rejected;
- then per key the row with the greatest updated_at is kept (tie: the later line),
  the others are superseded;
- orders: order_id, order_date, customer_id required; customer_id must be a loaded
  customer; order_date parsed with %Y-%m-%d, %d/%m/%Y, %Y/%m/%d in that order
  (non-padded month/day accepted); extra columns (campaign_id, warehouse) are ignored;
- order_lines: order_id, line_no, sku, quantity, unit_price required; quantity an
  integer >= 1; unit_price a decimal; discount_pct a decimal (blank = 0); sku must
  be a loaded product;
- products (key sku), customers (key customer_id), fx_rates (key month+currency).
Rows truth.csv marks `flag` (real outliers) must load like any clean row.

Whole KPI tables (`kpi.tables`, compared cell by cell): net revenue and gross profit by
month x region and month x category, attainment per rep per month, CSAT/NPS per year x
region, ROAS/ROI per campaign, 2025 turnover per SKU, DSO per month, retention and churn
per cohort x month.

KPI figures (the `kpi` key, compared by tests/kpi_sample.rs with the KPI tables): the
other extracts the KPIs need are cleaned the same way and checked against truth.csv
(returns: return order must be a loaded order, dates also %d/%m/%Y; reps read past the
byte-order mark; invoices.xlsx read from its sheet XML, date cells as serials or text,
amounts rounded to cents; payments: `$`, `€`, `£` and `,` stripped, invoice must
exist; campaign spend: campaign must exist; survey NDJSON: csat 1-5, nps 0-10, region
aliases; receipts: dates also %d/%m/%Y). Then, as the README's KPI definitions say:
net revenue = sales booked on the order date (non-cancelled orders) - returns on the
return date, valued at the sale's price, discount and FX rate; COGS at the standard
cost in effect on the order date; targets decomposed by the distribution over the
months the rep is employed with cumulative rounding, achievement by the rep (or the
rep's team at the time of the sale); CSAT % of 4-5 and NPS = 100 x (promoters -
detractors) / responses; ROAS = attributed sales / spend, ROI = (attributed gross
profit - spend) / spend; inventory turnover = COGS of units shipped / average daily
stock at cost (opening + receipts - shipments, day by day); DSO = open receivables at
the period end (USD at the invoice month's rate) / credit sales (gross) x days; yearly
retention = customers active in both years / active in the year before; cohort
retention of the January 2022 cohort 12 and 24 months on. Ratios are rounded half up.
Figures: revenue is booked on the order date (month); lines of cancelled orders
(latest version) and of rejected or missing orders are left out; the customer's
region is used. line net = ROUND_HALF_UP(quantity * unit_price * (100 - discount_pct)
/ 100, 2); net_revenue = ROUND_HALF_UP(line net * rate_to_usd(order month,
currency), 2); cogs = quantity * unit_cost; gross_profit = net_revenue - cogs;
orders = distinct orders with at least one counted line.
"""

import argparse
import csv
import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-09"
PREVIOUS = "2026-08"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
INTEGER = re.compile(r"[+-]?[0-9]+")
DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")

CUSTOMERS = "sales/customers.csv"
PRODUCTS = "sales/products.csv"
ORDERS = "sales/orders.csv"
LINES = "sales/order_lines.csv"
FX = "finance/fx_rates.csv"
CORE = (CUSTOMERS, PRODUCTS, ORDERS, LINES, FX)
REGIONS = ("North", "South", "East", "West", "Central")
REGION_ALIASES = {r[0] + ".": r for r in REGIONS}


class Reject(Exception):
    """A row fails a cleaning rule."""


def fail(message):
    sys.exit(f"sample_expected.py: {message}")


def money(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def required(rec, name):
    value = rec.get(name)
    if value is None:
        raise Reject(f"{name} is missing")
    return value


def integer(rec, name):
    value = required(rec, name)
    if not INTEGER.fullmatch(value):
        raise Reject(f"{name} is not an integer")
    return int(value)


def decimal(rec, name, default=None):
    value = rec.get(name)
    if value is None:
        if default is None:
            raise Reject(f"{name} is missing")
        return default
    if not DECIMAL.fullmatch(value):
        raise Reject(f"{name} is not a number")
    return Decimal(value)


def date(value):
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise Reject(f"unparseable date {value!r}")


def stamp(rec):
    """updated_at as a sortable value (missing or unparseable sorts first)."""
    value = rec.get("updated_at")
    try:
        return datetime.datetime.strptime(value, STAMP_FORMAT) if value else datetime.datetime.min
    except ValueError:
        return datetime.datetime.min


class Cleaned:
    """One file after cleaning: loaded records by key, and the line sets set aside."""

    def __init__(self, name, read, loaded, rejected, duplicates, superseded):
        self.name = name
        self.read = read
        self.loaded = loaded  # key -> (line, record)
        self.rejected = rejected
        self.duplicates = duplicates
        self.superseded = superseded

    def counts(self):
        return {
            "read": self.read,
            "rejected": len(self.rejected),
            "duplicates": len(self.duplicates),
            "superseded": len(self.superseded),
            "loaded": len(self.loaded),
        }


def read_csv(sample, name, encoding="utf-8"):
    """The header and (physical line, raw fields) of one CSV file."""
    with open(sample / name, newline="", encoding=encoding) as f:
        text = f.read()
    if "\r" in text:
        fail(f"{name} has CR characters; expected LF line endings")
    rows = list(csv.reader(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")))
    header, data = rows[0], rows[1:]
    for index, raw in enumerate(data):
        if len(raw) != len(header):
            fail(f"{name}:{index + 2} has {len(raw)} fields, header has {len(header)}")
    # one record per physical line; the header is line 1
    return header, [(index + 2, tuple(raw)) for index, raw in enumerate(data)]


def clean_rows(name, header, data, key, validate):
    """Applies dedupe, rules and latest-version selection to (line, raw fields) rows."""
    seen, rejected, duplicates, superseded = set(), set(), set(), set()
    loaded = {}
    for line, raw in data:
        if raw in seen:
            duplicates.add(line)
            continue
        seen.add(raw)
        rec = {}
        for column, value in zip(header, raw):
            value = value.strip() if value is not None else ""
            if column == "sku":
                value = value.upper()
            rec[column] = value if value else None
        try:
            rec = validate(rec)
        except Reject:
            rejected.add(line)
            continue
        k = tuple(rec[c] for c in key)
        previous = loaded.get(k)
        if previous is None:
            loaded[k] = (line, rec)
        elif stamp(rec) >= stamp(previous[1]):  # later line wins ties
            superseded.add(previous[0])
            loaded[k] = (line, rec)
        else:
            superseded.add(line)
    return Cleaned(name, len(data), loaded, rejected, duplicates, superseded)


def clean(sample, name, key, validate, encoding="utf-8"):
    """Reads one CSV and applies dedupe, rules and latest-version selection."""
    header, data = read_csv(sample, name, encoding)
    return clean_rows(name, header, data, key, validate)


def region(value):
    """A region name or alias as its canonical name."""
    for name in REGIONS:
        if value.lower() == name.lower():
            return name
    if value.upper() in REGION_ALIASES:
        return REGION_ALIASES[value.upper()]
    raise Reject(f"unknown region {value!r}")


def validate_customer(rec):
    required(rec, "customer_id")
    rec["region"] = region(required(rec, "region"))
    return rec


def validate_product(rec):
    required(rec, "sku")
    rec["unit_cost"] = decimal(rec, "unit_cost")
    rec["list_price"] = decimal(rec, "list_price")
    return rec


def validate_fx(rec):
    required(rec, "month")
    required(rec, "currency")
    rec["rate_to_usd"] = decimal(rec, "rate_to_usd")
    return rec


def order_validator(customers):
    def validate_order(rec):
        required(rec, "order_id")
        if required(rec, "customer_id") not in customers:
            raise Reject("unknown customer")
        rec["order_date"] = date(required(rec, "order_date"))
        return rec

    return validate_order


def line_validator(skus):
    def validate_line(rec):
        required(rec, "order_id")
        rec["line_no"] = integer(rec, "line_no")
        if required(rec, "sku") not in skus:
            raise Reject("unknown sku")
        rec["quantity"] = integer(rec, "quantity")
        if rec["quantity"] < 1:
            raise Reject("quantity below 1")
        rec["unit_price"] = decimal(rec, "unit_price")
        rec["discount_pct"] = decimal(rec, "discount_pct", Decimal(0))
        return rec

    return validate_line


def totals(lines):
    net = sum((l["net_revenue"] for l in lines), Decimal("0.00"))
    cogs = sum((l["cogs"] for l in lines), Decimal("0.00"))
    return {
        "net_revenue": str(money(net)),
        "units": sum(l["quantity"] for l in lines),
        "cogs": str(money(cogs)),
        "gross_profit": str(money(net - cogs)),
        "orders": len({l["order_id"] for l in lines}),
    }


def by_region_category(lines):
    groups = {}
    for l in lines:
        groups.setdefault((l["region"], l["category"]), []).append(l)
    out = []
    for (region, category), group in sorted(groups.items()):
        t = totals(group)
        del t["orders"]
        out.append({"region": region, "category": category, **t})
    return out


def check_truth(sample, cleaned):
    """The truth file and the cleaning rules must agree row for row."""
    with open(sample / "truth.csv", newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    stray = sorted({t["file"] for t in truth if not (sample / t["file"]).is_file()})
    if stray:
        fail(f"truth.csv names files that do not exist: {stray[:3]}")
    names = {c.name for c in cleaned}
    truth = [t for t in truth if t["file"] in names]
    for c in cleaned:
        rows = [t for t in truth if t["file"] == c.name]
        want = {
            "rejected": {int(t["line"]) for t in rows if t["expected"] == "reject"},
            "duplicates": {int(t["line"]) for t in rows if t["expected"] == "dedupe"},
            "superseded": {int(t["related_line"]) for t in rows if t["expected"] == "supersedes"},
        }
        got = {"rejected": c.rejected, "duplicates": c.duplicates, "superseded": c.superseded}
        for what in want:
            if got[what] != want[what]:
                fail(
                    f"{c.name}: {what} lines disagree with truth.csv: "
                    f"only computed {sorted(got[what] - want[what])[:10]}, "
                    f"only in truth {sorted(want[what] - got[what])[:10]}"
                )
        kept = {line for line, _ in c.loaded.values()}
        for t in rows:
            if t["expected"] in ("fix", "flag", "supersedes") and int(t["line"]) not in kept:
                fail(f"{c.name}:{t['line']} ({t['kind']}) should be loaded but is not")


def compute(sample):
    customers = clean(sample, CUSTOMERS, ("customer_id",), validate_customer)
    products = clean(sample, PRODUCTS, ("sku",), validate_product)
    fx = clean(sample, FX, ("month", "currency"), validate_fx)
    known_customers = {k[0] for k in customers.loaded}
    orders = clean(sample, ORDERS, ("order_id",), order_validator(known_customers))
    skus = {k[0] for k in products.loaded}
    lines = clean(sample, LINES, ("order_id", "line_no"), line_validator(skus))
    cleaned = [customers, products, orders, lines, fx]
    check_truth(sample, cleaned)

    region = {k[0]: rec["region"] for k, (_, rec) in customers.loaded.items()}
    rates = {k: rec["rate_to_usd"] for k, (_, rec) in fx.loaded.items()}
    by_month = {AS_OF: [], PREVIOUS: []}
    for (order_id, _), (_, line) in sorted(lines.loaded.items()):
        found = orders.loaded.get((order_id,))
        if found is None:
            continue  # the order was rejected or is missing
        order = found[1]
        if order["status"] == "cancelled":
            continue
        month = order["order_date"].strftime("%Y-%m")
        if month not in by_month:
            continue
        rate = rates.get((f"{month}-01", order["currency"]))
        if rate is None:
            fail(f"no FX rate for {month} {order['currency']}")
        product = products.loaded[(line["sku"],)][1]
        q = line["quantity"]
        line_net = money(q * line["unit_price"] * (100 - line["discount_pct"]) / 100)
        by_month[month].append(
            {
                "order_id": order_id,
                "region": region.get(order["customer_id"], "(unknown)"),
                "category": product["category"],
                "quantity": q,
                "net_revenue": money(line_net * rate),
                "cogs": money(q * product["unit_cost"]),
            }
        )

    kpi, extra = kpis(sample, customers, products, orders, lines, fx)
    check_truth(sample, extra)
    return {
        "kpi": kpi,
        "as_of_month": AS_OF,
        "total": totals(by_month[AS_OF]),
        "previous_total": totals(by_month[PREVIOUS]),
        "by_region_category": by_region_category(by_month[AS_OF]),
        "counts": {c.name: c.counts() for c in cleaned},
    }


# ---------------------------------------------------------------------------------------
# KPI figures (issue 5): the other extracts, cleaned by the same rules, and the KPI
# definitions of the README applied independently of the SQL models.
# ---------------------------------------------------------------------------------------

RETURNS = "sales/returns.csv"
REPS = "sales/reps.csv"
TARGETS = "sales/targets.csv"
DISTRIBUTION = "sales/target_distribution.csv"
COSTS = "finance/standard_costs.csv"
INVOICES = "finance/invoices.xlsx"
PAYMENTS = "finance/payments.csv"
CAMPAIGNS = "marketing/campaigns.csv"
SPEND = "marketing/campaign_spend.csv"
SURVEY = "marketing/survey_responses.ndjson"
OPENING = "inventory/opening_stock.csv"
RECEIPTS = "inventory/receipts.csv"
AS_OF_DATE = datetime.date(2026, 9, 30)
FAR = datetime.date(9999, 12, 31)
RATIO = Decimal("0.0001")
DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


def ratio(numerator, denominator, places=RATIO):
    """numerator / denominator rounded half up (None without a denominator)."""
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP))


def iso(value):
    return datetime.date.fromisoformat(value) if value else None


def day(value, formats=DAY_FORMATS):
    for fmt in formats:
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise Reject(f"unparseable date {value!r}")


def month_of(d):
    return d.replace(day=1)


def quarter_of(d):
    return datetime.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def read_ndjson(sample, name, header):
    """(line, raw fields) of an NDJSON file; exact duplicates are identical lines."""
    out = []
    with open(sample / name, encoding="utf-8") as f:
        for index, text in enumerate(f.read().split("\n")):
            if not text:
                continue
            obj = json.loads(text)
            fields = tuple("" if obj.get(c) is None else str(obj.get(c)) for c in header)
            out.append((index + 1, (text,) + fields))
    return ["_raw"] + list(header), out


def read_xlsx(sample, name, date_columns):
    """(sheet row, raw cells) of the first sheet; date cells become YYYY-MM-DD and
    numbers keep the text Excel stored (rounded to cents by the validator)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(sample / name) as z:
        strings = [
            "".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns)
        ]
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.find("m:sheetData", ns).findall("m:row", ns):
        cells = {}
        for c in row.findall("m:c", ns):
            col = re.match(r"[A-Z]+", c.get("r")).group(0)
            v = c.find("m:v", ns)
            kind = c.get("t")
            if kind == "s":
                cells[col] = ("s", strings[int(v.text)])
            elif kind == "inlineStr":
                cells[col] = ("s", "".join(t.text or "" for t in c.iter(f"{{{ns['m']}}}t")))
            elif v is not None:
                cells[col] = ("n", v.text)
        rows.append((int(row.get("r")), cells))
    cols = sorted({col for _, cells in rows for col in cells}, key=lambda c: (len(c), c))
    header = [rows[0][1][c][1] for c in cols]
    data = []
    for r, cells in rows[1:]:
        raw = tuple(cells.get(c) for c in cols)
        fields = []
        for h, cell in zip(header, raw):
            if cell is None:
                fields.append("")
            elif cell[0] == "n" and h in date_columns:
                serial = Decimal(cell[1])
                fields.append(str(datetime.date(1899, 12, 30) + datetime.timedelta(days=int(serial))))
            else:
                fields.append(cell[1])
        data.append((r, (repr(raw),) + tuple(fields)))
    return ["_raw"] + header, data


def validate_return(order_ids):
    def v(rec):
        if required(rec, "order_id") not in order_ids:
            raise Reject("unknown order")
        rec["line_no"] = integer(rec, "line_no")
        rec["return_date"] = day(required(rec, "return_date"))
        rec["quantity"] = integer(rec, "quantity")
        if rec["quantity"] < 1:
            raise Reject("quantity below 1")
        rec["processed_on"] = iso(rec.get("processed_on"))
        return rec

    return v


def validate_rep(rec):
    required(rec, "team")
    required(rec, "region")
    rec["hired_on"] = iso(rec.get("hired_on"))
    rec["valid_from"] = iso(rec.get("valid_from")) or rec["hired_on"]
    rec["valid_to"] = iso(rec.get("valid_to")) or FAR
    return rec


def validate_target(rec):
    rec["year"] = integer(rec, "year")
    rec["annual_target"] = decimal(rec, "annual_target")
    return rec


def validate_distribution(rec):
    rec["year"] = integer(rec, "year")
    rec["month"] = integer(rec, "month")
    rec["pct"] = decimal(rec, "pct")
    return rec


def validate_cost(rec):
    rec["valid_from"] = iso(required(rec, "valid_from"))
    rec["valid_to"] = iso(rec.get("valid_to")) or FAR
    rec["standard_cost"] = decimal(rec, "standard_cost")
    return rec


def validate_invoice(rec):
    required(rec, "invoice_id")
    required(rec, "order_id")
    rec["invoice_date"] = day(required(rec, "invoice_date"), ("%Y-%m-%d",))
    rec["due_date"] = day(required(rec, "due_date"), ("%Y-%m-%d",))
    for c in ("net_amount", "tax_amount", "gross_amount"):
        rec[c] = money(decimal(rec, c))
    return rec


def validate_payment(invoice_ids):
    def v(rec):
        if required(rec, "invoice_id") not in invoice_ids:
            raise Reject("unknown invoice")
        rec["payment_date"] = iso(required(rec, "payment_date"))
        amount = re.sub(r"[$€£,]", "", required(rec, "amount"))
        if not DECIMAL.fullmatch(amount):
            raise Reject("amount is not a number")
        rec["amount"] = Decimal(amount)
        return rec

    return v


def validate_campaign(rec):
    rec["start_date"] = iso(rec["start_date"])
    rec["end_date"] = iso(rec["end_date"])
    return rec


def validate_spend(campaign_ids):
    def v(rec):
        if required(rec, "campaign_id") not in campaign_ids:
            raise Reject("unknown campaign")
        rec["spend_date"] = iso(rec["spend_date"])
        rec["spend"] = decimal(rec, "spend")
        return rec

    return v


def validate_response(rec):
    rec["response_date"] = iso(required(rec, "response_date"))
    rec["region"] = region(rec["region"]) if rec.get("region") else None
    for c, low, high in (("csat", 1, 5), ("nps", 0, 10)):
        if rec.get(c) is not None:
            rec[c] = integer(rec, c)
            if not low <= rec[c] <= high:
                raise Reject(f"{c} out of range")
    return rec


def validate_opening(rec):
    rec["on_hand"] = integer(rec, "on_hand")
    rec["snapshot_date"] = iso(rec["snapshot_date"])
    return rec


def validate_receipt(rec):
    required(rec, "sku")
    required(rec, "warehouse")
    rec["received_on"] = day(required(rec, "received_on"))
    rec["quantity"] = integer(rec, "quantity")
    return rec


def standard_cost(costs, products, sku, d):
    for c in costs.get(sku, ()):
        if c["valid_from"] <= d <= c["valid_to"]:
            return c["standard_cost"]
    return products[sku]["unit_cost"]


def kpis(sample, customers, products, orders, lines, fx):
    """The KPI figures the models must reproduce; also returns the extra cleaned files."""
    order_recs = {k[0]: rec for k, (_, rec) in orders.loaded.items()}
    for rec in order_recs.values():
        rec["status"] = rec["status"].lower()
        rec["ship_date"] = date(rec["ship_date"]) if rec.get("ship_date") else None
        rec["currency"] = rec["currency"].upper()
        rec["campaign_id"] = rec["campaign_id"].upper() if rec.get("campaign_id") else None
        rec["rep_id"] = rec["rep_id"].upper() if rec.get("rep_id") else None
    product = {k[0]: rec for k, (_, rec) in products.loaded.items()}
    cust_region = {k[0]: rec["region"] for k, (_, rec) in customers.loaded.items()}
    rates = {(iso(k[0]), k[1]): rec["rate_to_usd"] for k, (_, rec) in fx.loaded.items()}

    extra = [
        clean(sample, RETURNS, ("return_id",), validate_return(set(order_recs))),
        clean(sample, REPS, ("rep_id", "valid_from"), validate_rep, "utf-8-sig"),
        clean(sample, TARGETS, ("year", "rep_id"), validate_target),
        clean(sample, DISTRIBUTION, ("year", "month"), validate_distribution),
        clean(sample, COSTS, ("sku", "valid_from"), validate_cost),
        clean_rows(
            INVOICES,
            *read_xlsx(sample, INVOICES, {"invoice_date", "due_date"}),
            ("invoice_id",),
            validate_invoice,
        ),
        clean(sample, CAMPAIGNS, ("campaign_id",), validate_campaign),
        clean(sample, OPENING, ("sku", "warehouse"), validate_opening),
        clean(sample, RECEIPTS, ("receipt_id",), validate_receipt),
        clean_rows(
            SURVEY,
            *read_ndjson(
                sample, SURVEY, ("response_id", "response_date", "region", "sku", "customer_id", "csat", "nps")
            ),
            ("response_id",),
            validate_response,
        ),
    ]
    by = {c.name: c for c in extra}
    invoice_ids = {k[0] for k in by[INVOICES].loaded}
    campaign_ids = {k[0] for k in by[CAMPAIGNS].loaded}
    extra.append(clean(sample, PAYMENTS, ("payment_id",), validate_payment(invoice_ids)))
    extra.append(clean(sample, SPEND, ("spend_date", "campaign_id"), validate_spend(campaign_ids)))
    by = {c.name: c for c in extra}
    recs = lambda name: [rec for _, rec in by[name].loaded.values()]

    costs = {}
    for c in recs(COSTS):
        costs.setdefault(c["sku"], []).append(c)
    reps = {}
    for r in recs(REPS):
        reps.setdefault(r["rep_id"], []).append(r)

    def team_on(rep_id, d):
        for r in reps.get(rep_id, ()):
            if r["valid_from"] <= d <= r["valid_to"]:
                return r["team"]
        return None

    # Sales lines (non-cancelled orders that loaded) and returns of those lines.
    sold = {}
    for (order_id, line_no), (_, line) in lines.loaded.items():
        order = order_recs.get(order_id)
        if order is None or order["status"] == "cancelled":
            continue
        d = order["order_date"]
        rate = rates[(month_of(d), order["currency"])]
        q = line["quantity"]
        cost = standard_cost(costs, product, line["sku"], d)
        net_local = money(q * line["unit_price"] * (100 - line["discount_pct"]) / 100)
        sold[(order_id, line_no)] = {
            "date": d,
            "order_id": order_id,
            "sku": line["sku"],
            "category": product[line["sku"]]["category"],
            "region": cust_region[order["customer_id"]],
            "customer_id": order["customer_id"],
            "rep_id": order["rep_id"],
            "team": team_on(order["rep_id"], d),
            "quantity": q,
            "unit_price": line["unit_price"],
            "discount_pct": line["discount_pct"],
            "rate": rate,
            "cost": cost,
            "net_revenue": money(net_local * rate),
            "cogs": q * cost,
            "campaign_id": order["campaign_id"],
        }
    # Revenue moves: sales on the order date, returns (negative) on the return date.
    moves = [
        {**l, "revenue": l["net_revenue"], "move_cogs": l["cogs"]} for l in sold.values()
    ]
    for _, ret in by[RETURNS].loaded.values():
        l = sold.get((ret["order_id"], ret["line_no"]))
        if l is None:
            continue
        rq = ret["quantity"]
        revenue = money(money(rq * l["unit_price"] * (100 - l["discount_pct"]) / 100) * l["rate"])
        moves.append({**l, "date": ret["return_date"], "revenue": -revenue, "move_cogs": -rq * l["cost"]})

    def total(filter_):
        net = sum((m["revenue"] for m in moves if filter_(m)), Decimal("0.00"))
        cogs = sum((m["move_cogs"] for m in moves if filter_(m)), Decimal("0.00"))
        return {"net_revenue": str(money(net)), "cogs": str(money(cogs)), "gross_profit": str(money(net - cogs))}

    months = [datetime.date(y, m, 1) for y in (2025, 2026) for m in range(1, 13) if datetime.date(y, m, 1) <= AS_OF_DATE]
    sales_by_month = [{"month": str(mo), **total(lambda x, mo=mo: month_of(x["date"]) == mo)} for mo in months]
    # The weekly report's windows (2026-W40 to its as-of Wednesday, the same days of the
    # week before and of 2025-W40), by date.
    sales_by_days = [
        {"from": str(a), "to": str(b), **total(lambda x, a=a, b=b: a <= x["date"] <= b)}
        for a, b in [
            (datetime.date(2026, 9, 28), datetime.date(2026, 9, 30)),
            (datetime.date(2026, 9, 21), datetime.date(2026, 9, 23)),
            (datetime.date(2025, 9, 29), datetime.date(2025, 10, 1)),
        ]
    ]
    sales_by_region_2025 = [
        {"region": r, **total(lambda x, r=r: x["date"].year == 2025 and x["region"] == r)} for r in REGIONS
    ]

    # Targets: annual targets decomposed by the distribution over the months in which the
    # rep has an assignment, cumulative rounding so months add up to the year.
    dist = {(d["year"], d["month"]): d["pct"] for d in recs(DISTRIBUTION)}
    monthly_target = {}
    for t in recs(TARGETS):
        y = t["year"]
        weights = []
        for m in range(1, 13):
            start = datetime.date(y, m, 1)
            end = (datetime.date(y + (m == 12), m % 12 + 1, 1)) - datetime.timedelta(days=1)
            employed = [r for r in reps.get(t["rep_id"], ()) if r["valid_from"] <= end and r["valid_to"] >= start]
            team = max(employed, key=lambda r: r["valid_from"])["team"] if employed else None
            weights.append((start, team, dist.get((y, m), Decimal(0)) if employed else Decimal(0)))
        total_w = sum(w for _, _, w in weights)
        cum, prev = Decimal(0), Decimal("0.00")
        for start, team, w in weights:
            cum += w
            now = money(t["annual_target"] * cum / total_w)
            monthly_target[(t["rep_id"], start)] = (team, now - prev)
            prev = now

    def attainment(period_start, period_end, rep=None, team=None):
        target = sum(
            (v for (r, mo), (tm, v) in monthly_target.items()
             if period_start <= mo <= period_end and (rep is None or r == rep) and (team is None or tm == team)),
            Decimal("0.00"),
        )
        achieved = money(sum(
            (m["revenue"] for m in moves
             if period_start <= m["date"] <= period_end and (rep is None or m["rep_id"] == rep)
             and (team is None or m["team"] == team)),
            Decimal("0.00"),
        ))
        return {"target": str(target), "achieved": str(achieved), "attainment_pct": ratio(achieved, target)}

    q2, q3 = (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)), (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
    attain = []
    for rep in ("R012", "R013", "R016"):
        for label, (a, b) in (("2025-04-01", q2), ("2025-07-01", q3)):
            attain.append({"level": "rep", "entity": rep, "period_type": "quarter", "period_start": label, **attainment(a, b, rep=rep)})
    attain.append({"level": "team", "entity": "West B", "period_type": "year", "period_start": "2024-01-01",
                   **attainment(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), team="West B")})
    attain.append({"level": "team", "entity": "East B", "period_type": "year", "period_start": "2024-01-01",
                   **attainment(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31), team="East B")})
    attain.append({"level": "company", "entity": "Company", "period_type": "year", "period_start": "2025-01-01",
                   **attainment(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))})

    # Satisfaction: CSAT % of 4-5, NPS = 100 x (promoters - detractors) / responses.
    responses = [r for r in recs(SURVEY) if r["response_date"] <= AS_OF_DATE]

    def satisfaction(pred):
        rs = [r for r in responses if pred(r)]
        cs = [r["csat"] for r in rs if r.get("csat") is not None]
        ns = [r["nps"] for r in rs if r.get("nps") is not None]
        promoters = sum(1 for n in ns if n >= 9)
        detractors = sum(1 for n in ns if n <= 6)
        return {
            "csat_responses": len(cs),
            "csat_pct": ratio(sum(1 for c in cs if c >= 4), len(cs)),
            "nps_responses": len(ns),
            "nps": ratio(100 * (promoters - detractors), len(ns), CENT),
        }

    sat = [
        {"period_start": "2025-01-01", "breakdown": "region", "member": "South",
         **satisfaction(lambda r: r["response_date"].year == 2025 and r["region"] == "South")},
        {"period_start": "2026-01-01", "breakdown": "total", "member": "All",
         **satisfaction(lambda r: r["response_date"].year == 2026)},
        {"period_start": "2024-01-01", "breakdown": "category", "member": "Technology",
         **satisfaction(lambda r: r["response_date"].year == 2024 and r.get("sku") in product
                        and product[r["sku"]]["category"] == "Technology")},
    ]

    # Marketing: ROAS = attributed sales / spend; ROI = (attributed GP - spend) / spend.
    spend = {}
    for sp in recs(SPEND):
        spend[sp["campaign_id"]] = spend.get(sp["campaign_id"], Decimal("0.00")) + sp["spend"]
    campaigns = []
    window = {c["campaign_id"]: (c["start_date"], c["end_date"] + datetime.timedelta(days=30))
              for c in recs(CAMPAIGNS)}
    for cid in sorted(campaign_ids):
        # Attributed: placed from the campaign's start to 30 days after its end.
        start, end = window[cid]
        ls = [l for l in sold.values() if l["campaign_id"] == cid and start <= l["date"] <= end]
        rev = sum((l["net_revenue"] for l in ls), Decimal("0.00"))
        gp = rev - sum((l["cogs"] for l in ls), Decimal("0.00"))
        sp = spend.get(cid, Decimal("0.00"))
        campaigns.append({"campaign_id": cid, "spend": str(sp), "attributed_revenue": str(rev),
                          "roas": ratio(rev, sp), "roi": ratio(gp - sp, sp)})

    # Inventory: end-of-day stock = opening + receipts - shipments (loaded lines of
    # shipped or completed orders, from the order's warehouse, on the ship date).
    delta = {}
    shipped_cogs = {}
    for (order_id, _), (_, line) in lines.loaded.items():
        order = order_recs.get(order_id)
        if order is None or order["status"] not in ("shipped", "completed") or not order["ship_date"]:
            continue
        if order["ship_date"] > AS_OF_DATE:
            continue
        key = (line["sku"], order["warehouse"])
        delta[(key, order["ship_date"])] = delta.get((key, order["ship_date"]), 0) - line["quantity"]
        c = line["quantity"] * standard_cost(costs, product, line["sku"], order["order_date"])
        shipped_cogs[(line["sku"], order["ship_date"])] = shipped_cogs.get((line["sku"], order["ship_date"]), Decimal(0)) + c
    for r in recs(RECEIPTS):
        if r["received_on"] <= AS_OF_DATE:
            key = (r["sku"], r["warehouse"])
            delta[(key, r["received_on"])] = delta.get((key, r["received_on"]), 0) + r["quantity"]
    opening = {(o["sku"], o["warehouse"]): o for o in recs(OPENING)}
    year_start, year_end = datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
    cost_days = {}
    for key, o in opening.items():
        on_hand, d = o["on_hand"], o["snapshot_date"]
        while d <= year_end:
            on_hand += delta.get((key, d), 0)
            if d >= year_start:
                cost_days[key[0]] = cost_days.get(key[0], Decimal(0)) + on_hand * standard_cost(costs, product, key[0], d)
            d += datetime.timedelta(days=1)
    days = (year_end - year_start).days + 1

    def turnover(skus):
        cd = sum((cost_days.get(s, Decimal(0)) for s in skus), Decimal(0))
        cogs = sum((v for (s, d), v in shipped_cogs.items() if s in skus and year_start <= d <= year_end), Decimal(0))
        return {
            "avg_inventory_cost": str(money(cd / days)),
            "cogs": str(money(cogs)),
            "turnover": ratio(cogs * days, cd),
            "days_of_inventory": ratio(cd, cogs, CENT),
        }

    inventory = [{"level": "total", "member": "All", **turnover(set(product))}]
    for sku in ("SKU-0003", "SKU-0005", "SKU-0046"):
        inventory.append({"level": "sku", "member": sku, **turnover({sku})})

    # DSO = open receivables at the period end / credit sales of the period x days.
    invoices = recs(INVOICES)
    payments = {}
    for p in recs(PAYMENTS):
        payments.setdefault(p["invoice_id"], []).append(p)

    def dso(start, end):
        credit, ar, overdue = Decimal("0.00"), Decimal("0.00"), Decimal("0.00")
        for inv in invoices:
            rate = rates[(month_of(inv["invoice_date"]), inv["currency"])]
            if start <= inv["invoice_date"] <= end:
                credit += money(inv["gross_amount"] * rate)
            if inv["invoice_date"] <= end:
                paid = sum((p["amount"] for p in payments.get(inv["invoice_id"], ()) if p["payment_date"] <= end), Decimal(0))
                if paid < inv["gross_amount"]:
                    open_usd = money((inv["gross_amount"] - paid) * rate)
                    ar += open_usd
                    if inv["due_date"] < end:
                        overdue += open_usd
        return {"credit_sales": str(credit), "receivables": str(ar),
                "dso": ratio(ar * ((end - start).days + 1), credit, CENT), "overdue_receivables": str(overdue)}

    dsos = [
        {"period_type": "month", "period_start": "2026-09-01", **dso(datetime.date(2026, 9, 1), AS_OF_DATE)},
        {"period_type": "year", "period_start": "2025-01-01", **dso(datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))},
    ]

    # Retention: customers with a non-cancelled order in the year (and the year before).
    active = {}
    first_month = {}
    order_months = {}
    for o in order_recs.values():
        if o["status"] == "cancelled" or o["order_date"] > AS_OF_DATE:
            continue
        c = o["customer_id"]
        active.setdefault(o["order_date"].year, set()).add(c)
        mo = month_of(o["order_date"])
        first_month[c] = min(first_month.get(c, mo), mo)
        order_months.setdefault(c, set()).add(mo)
    prior, cur = active[2024], active[2025]
    retention = {
        "year": 2025,
        "active_customers": len(cur),
        "prior_active_customers": len(prior),
        "retained_customers": len(prior & cur),
        "retention_pct": ratio(len(prior & cur), len(prior)),
        "new_customers": sum(1 for c in cur if first_month[c].year == 2025),
    }
    cohort = sorted(c for c, m in first_month.items() if m == datetime.date(2022, 1, 1))
    cohort_rows = []
    for k in (12, 24):
        mo = datetime.date(2022 + k // 12, 1, 1)
        window = {datetime.date(mo.year - 1, m, 1) for m in range(2, 13)} | {mo}  # 12 months ending at mo
        ordering = sum(1 for c in cohort if mo in order_months[c])
        active_n = sum(1 for c in cohort if order_months[c] & window)
        cohort_rows.append({"cohort_month": "2022-01-01", "months_since_first": k, "cohort_size": len(cohort),
                            "ordering_customers": ordering, "retention_pct": ratio(ordering, len(cohort)),
                            "active_customers": active_n, "churn_pct": ratio(len(cohort) - active_n, len(cohort))})

    tables = whole_tables(
        moves, monthly_target, responses, turnover, product, dso, first_month, order_months, campaigns
    )
    result = {
        "tables": tables,
        "sales_by_month": sales_by_month,
        "sales_by_days": sales_by_days,
        "sales_by_region_2025": sales_by_region_2025,
        "attainment": attain,
        "satisfaction": sat,
        "campaigns": campaigns,
        "inventory_2025": inventory,
        "dso": dsos,
        "retention_yearly": retention,
        "cohort_retention": cohort_rows,
    }
    return result, extra


def add_months(d, k):
    m = d.month - 1 + k
    return datetime.date(d.year + m // 12, m % 12 + 1, 1)


def cell(v):
    return "NULL" if v is None else str(v)


def table(columns, tolerance, rows):
    """A whole table: columns, the tolerance of each ("" = exact: money to the cent,
    counts, keys; "0.0001" = a ratio within one unit of its last decimal) and its rows,
    each as the values joined by `|` (NULL for none), sorted."""
    return {
        "columns": columns,
        "tolerance": tolerance,
        "rows": sorted("|".join(cell(v) for v in r) for r in rows),
    }


def whole_tables(moves, monthly_target, responses, turnover, product, dso, first_month, order_months, campaigns):
    """Whole KPI tables where cheap, compared cell by cell by tests/kpi_sample.rs."""
    last_month = month_of(AS_OF_DATE)
    out = {}

    # Net revenue and gross profit (sales - returns by date) by month x region and by
    # month x category, every month up to the as-of.
    for key in ("region", "category"):
        groups = {}
        for m in moves:
            mo = month_of(m["date"])
            if mo <= last_month:
                g = groups.setdefault((mo, m[key]), [Decimal("0.00"), Decimal("0.00")])
                g[0] += m["revenue"]
                g[1] += m["revenue"] - m["move_cogs"]
        out[f"sales_by_month_{key}"] = table(
            ["month", key, "net_revenue", "gross_profit"],
            ["", "", "", ""],
            [(mo, k, money(v[0]), money(v[1])) for (mo, k), v in groups.items()],
        )

    # Attainment per rep per month of every year with targets: target, achieved (net
    # revenue of the rep's orders), attainment = achieved / target (NULL without a target
    # or in the future).
    years = {mo.year for (_, mo) in monthly_target}
    achieved = {}
    for m in moves:
        mo = month_of(m["date"])
        if mo.year in years:
            k = (m["rep_id"] or "Unassigned", mo)
            achieved[k] = achieved.get(k, Decimal("0.00")) + m["revenue"]
    rows = []
    for k in set(monthly_target) | set(achieved):
        target = monthly_target.get(k, (None, Decimal("0.00")))[1]
        got = money(achieved.get(k, Decimal("0.00")))
        pct = ratio(got, target) if target > 0 and k[1] <= AS_OF_DATE else None
        rows.append((k[0], k[1], target, got, pct))
    out["attainment_rep_month"] = table(
        ["entity", "period_start", "target", "achieved", "attainment_pct"], ["", "", "", "", "0.0001"], rows
    )

    # CSAT and NPS per year x region.
    groups = {}
    for r in responses:
        if r["region"] is not None:
            groups.setdefault((datetime.date(r["response_date"].year, 1, 1), r["region"]), []).append(r)
    rows = []
    for (y, reg), rs in groups.items():
        cs = [r["csat"] for r in rs if r.get("csat") is not None]
        ns = [r["nps"] for r in rs if r.get("nps") is not None]
        promoters = sum(1 for n in ns if n >= 9)
        detractors = sum(1 for n in ns if n <= 6)
        rows.append((y, reg, len(cs), ratio(sum(1 for c in cs if c >= 4), len(cs)), len(ns),
                     ratio(100 * (promoters - detractors), len(ns), CENT)))
    out["satisfaction_region_year"] = table(
        ["period_start", "member", "csat_responses", "csat_pct", "nps_responses", "nps"],
        ["", "", "", "0.0001", "", "0.01"],
        rows,
    )

    # ROAS and ROI per campaign.
    out["campaigns"] = table(
        ["campaign_id", "spend", "attributed_revenue", "roas", "roi"],
        ["", "", "", "0.0001", "0.0001"],
        [(c["campaign_id"], c["spend"], c["attributed_revenue"], c["roas"], c["roi"]) for c in campaigns],
    )

    # Inventory turnover and days of inventory per SKU, year 2025.
    rows = []
    for sku in product:
        t = turnover({sku})
        rows.append((sku, t["cogs"], t["avg_inventory_cost"], t["turnover"], t["days_of_inventory"]))
    out["inventory_turnover_sku_2025"] = table(
        ["member", "cogs", "avg_inventory_cost", "turnover", "days_of_inventory"], ["", "", "0.01", "0.0001", "0.01"], rows
    )

    # DSO per month (the as-of month up to the as-of date).
    rows = []
    mo = datetime.date(2022, 1, 1)
    while mo <= last_month:
        end = min(add_months(mo, 1) - datetime.timedelta(days=1), AS_OF_DATE)
        d = dso(mo, end)
        rows.append((mo, d["credit_sales"], d["receivables"], d["overdue_receivables"], d["dso"]))
        mo = add_months(mo, 1)
    out["dso_month"] = table(
        ["period_start", "credit_sales", "receivables", "overdue_receivables", "dso"], ["", "", "", "", "0.01"], rows
    )

    # Retention and churn per monthly cohort and month since the first order (12-month
    # activity window).
    cohorts = {}
    for c, m in first_month.items():
        cohorts.setdefault(m, []).append(c)
    rows = []
    for cm, members in cohorts.items():
        k, mo = 0, cm
        while mo <= last_month:
            window = {add_months(mo, -i) for i in range(12)}
            ordering = sum(1 for c in members if mo in order_months[c])
            active = sum(1 for c in members if order_months[c] & window)
            n = len(members)
            rows.append((cm, k, n, ordering, active, ratio(ordering, n), ratio(n - active, n)))
            k, mo = k + 1, add_months(mo, 1)
    out["cohort_retention"] = table(
        ["cohort_month", "months_since_first", "cohort_size", "ordering_customers", "active_customers",
         "retention_pct", "churn_pct"],
        ["", "", "", "", "", "0.0001", "0.0001"],
        rows,
    )
    return out


def read_parquet_exports(folder):
    """Every table of `_manifest.json` read back with pandas (pyarrow dtypes): its rows,
    DECIMAL columns as DECIMAL(p,s) and DATE columns. The partition columns are inside the
    files, so hive-path inference is off (`partitioning=None`). Needs pandas and pyarrow
    (not the standard library), only for this section."""
    import pandas as pd

    with open(folder / "_manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    out = {}
    for t in manifest["tables"]:
        df = pd.read_parquet(folder / t["path"], partitioning=None, dtype_backend="pyarrow")
        decimals, dates = {}, []
        for name, dtype in df.dtypes.items():
            arrow = dtype.pyarrow_dtype
            if str(arrow).startswith("decimal"):
                decimals[name] = f"DECIMAL({arrow.precision},{arrow.scale})"
            elif str(arrow) == "date32[day]":
                dates.append(name)
        out[t["name"]] = {"rows": len(df), "decimals": decimals, "dates": dates}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/sample_expected.json")
    parser.add_argument(
        "--parquet",
        type=Path,
        help="the Parquet folder of a run of pipelines/daily.yaml (out/parquet), read back with "
        "pandas; without it, the `parquet` section of --out is kept as it is",
    )
    args = parser.parse_args()
    result = compute(args.sample)
    if args.parquet:
        result["parquet"] = read_parquet_exports(args.parquet)
    elif args.out.is_file():
        with open(args.out, encoding="utf-8") as f:
            result["parquet"] = json.load(f).get("parquet", {})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
    t = result["total"]
    print(
        f"{AS_OF}: net_revenue {t['net_revenue']}, units {t['units']}, cogs {t['cogs']}, "
        f"gross_profit {t['gross_profit']}, orders {t['orders']} -> {args.out}"
    )


if __name__ == "__main__":
    main()
