#!/usr/bin/env python3
"""Independent cross-check of the committed sample company (sample_data/).

Reads the generated CSVs directly (not the Rust generator's internals), applies the
cleaning rules the pipeline documents, and computes the figures the pipeline must
report for the as-of month 2026-09 (and the total of 2026-08). Writes them to
tests/fixtures/sample_expected.json, which `tests/sample.rs` compares with the
warehouse. It also checks that the rows it rejects, drops as exact duplicates and
drops as superseded are exactly the rows `truth.csv` says so.

Python standard library only. Usage (from anywhere):

    python3 tests/crosscheck/sample_expected.py [--sample DIR] [--out FILE]

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


def clean(sample, name, key, validate):
    """Reads one CSV and applies dedupe, rules and latest-version selection."""
    path = sample / name
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    if "\r" in text:
        fail(f"{name} has CR characters; expected LF line endings")
    rows = list(csv.reader(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")))
    header, data = rows[0], rows[1:]
    seen, rejected, duplicates, superseded = set(), set(), set(), set()
    loaded = {}
    for index, raw in enumerate(data):
        line = index + 2  # one record per physical line; the header is line 1
        if len(raw) != len(header):
            fail(f"{name}:{line} has {len(raw)} fields, header has {len(header)}")
        if tuple(raw) in seen:
            duplicates.add(line)
            continue
        seen.add(tuple(raw))
        rec = {}
        for column, value in zip(header, raw):
            value = value.strip()
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
    truth = [t for t in truth if t["file"] in CORE]
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

    return {
        "as_of_month": AS_OF,
        "total": totals(by_month[AS_OF]),
        "previous_total": totals(by_month[PREVIOUS]),
        "by_region_category": by_region_category(by_month[AS_OF]),
        "counts": {c.name: c.counts() for c in cleaned},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=ROOT / "sample_data")
    parser.add_argument("--out", type=Path, default=ROOT / "tests/fixtures/sample_expected.json")
    args = parser.parse_args()
    result = compute(args.sample)
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
