//! Planting dirt in the sales-core tables (customers, orders, order lines): exact duplicates,
//! re-exported changed rows, blank, bad, unknown and mistyped values, region aliases and real
//! outliers, each recorded as a [`Finding`] that becomes a row of `truth.csv`. Also works out the
//! [`Effective`] sales: what a correct cleaning loads, which the inventory, invoices and returns
//! are built from.
//!
//! Rules: one defect per dirty row; a dirty row is never also the original of a duplicate or a
//! re-export; nothing is planted on a cancelled order or its lines; lines of rejected orders stay
//! clean; orders carrying a stock-out SKU or placed by a churn-story customer are left alone. A
//! few rows of every kind fall in the as-of month (September 2026).

use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{add_days_capped, days_in_month, in_last_month, iso, LAST_DAY};
use super::company::REGIONS;
use super::draw::distinct;
use super::orders::Status;
use super::stories::{StoryPlan, DECLINING_REGION, SEASONAL_CATEGORY, STAR_REP, UNDER_REPS};
use super::table::{Slot, Table};
use super::{ccol, lcol, ocol, Data};

/// What the pipeline is expected to do with a dirty row.
pub(crate) const REJECT: &str = "reject";
pub(crate) const DEDUPE: &str = "dedupe";
pub(crate) const SUPERSEDES: &str = "supersedes";
pub(crate) const FIX: &str = "fix";
pub(crate) const FLAG: &str = "flag";

/// One planted defect.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub file: &'static str,
    pub at: Slot,
    pub kind: &'static str,
    pub column: &'static str,
    pub related: Option<Slot>,
    pub expected: &'static str,
    pub note: String,
}

/// Rows of a kind to plant: `per_mille` of the natural rows, at least three.
pub(crate) fn count(rows: usize, per_mille: usize) -> usize {
    ((rows * per_mille + 500) / 1000).max(3)
}

/// Plants defects and records them.
pub(crate) struct Planter<'r> {
    pub rng: &'r mut ChaCha8Rng,
    pub findings: Vec<Finding>,
}

impl Planter<'_> {
    /// `n` unused rows satisfying `ok`, at least one (about 1 in 15) in the as-of month.
    pub(crate) fn pick(
        &mut self,
        used: &mut [bool],
        n: usize,
        ok: impl Fn(usize) -> bool,
        last_month: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let pool: Vec<usize> = (0..used.len()).filter(|&i| !used[i] && ok(i)).collect();
        let recent: Vec<usize> = pool.iter().copied().filter(|&i| last_month(i)).collect();
        let mut picked = distinct(self.rng, &recent, (n / 15).clamp(1, n));
        for &i in &picked {
            used[i] = true;
        }
        let rest: Vec<usize> = pool.into_iter().filter(|&i| !used[i]).collect();
        let more = distinct(self.rng, &rest, n - picked.len());
        for &i in &more {
            used[i] = true;
        }
        picked.extend(more);
        picked.sort_unstable();
        picked
    }

    /// A byte-identical copy of natural row `i`, placed later.
    pub(crate) fn duplicate(&mut self, table: &mut Table, i: usize, note: String) {
        let after = self.rng.random_range(i..table.rows.len());
        let at = table.push_extra(after, table.rows[i].clone());
        self.findings.push(Finding {
            file: table.path,
            at,
            kind: "exact_duplicate",
            column: "",
            related: Some(Slot::Row(i)),
            expected: DEDUPE,
            note,
        });
    }

    /// A changed copy of natural row `i` (the new version), placed later.
    pub(crate) fn reexport(
        &mut self,
        table: &mut Table,
        i: usize,
        fields: Vec<String>,
        column: &'static str,
        note: String,
    ) {
        let after = self.rng.random_range(i..table.rows.len());
        let at = table.push_extra(after, fields);
        self.findings.push(Finding {
            file: table.path,
            at,
            kind: "reexported_changed",
            column,
            related: Some(Slot::Row(i)),
            expected: SUPERSEDES,
            note,
        });
    }

    /// Records a defect of `kind` in field `col` of natural row `i` without changing its text
    /// (the defect is in how the value is stored, e.g. a date typed as text in a spreadsheet).
    pub(crate) fn mark(
        &mut self,
        table: &Table,
        (i, col): (usize, usize),
        (kind, expected): (&'static str, &'static str),
        note: String,
    ) {
        self.findings.push(Finding {
            file: table.path,
            at: Slot::Row(i),
            kind,
            column: table.header[col],
            related: None,
            expected,
            note,
        });
    }

    /// Replaces field `col` of natural row `i` with a defect of `kind` (kind, expected action).
    pub(crate) fn edit(
        &mut self,
        table: &mut Table,
        (i, col): (usize, usize),
        value: String,
        (kind, expected): (&'static str, &'static str),
        note: String,
    ) {
        table.rows[i][col] = value;
        self.findings.push(Finding {
            file: table.path,
            at: Slot::Row(i),
            kind,
            column: table.header[col],
            related: None,
            expected,
            note,
        });
    }
}

/// The `k`-th alias of a region name: `N.` (initial and a dot), `north` (lower case) or
/// ` North ` (padded), in turn.
pub(crate) fn region_alias(k: usize, region: &str) -> String {
    match k % 3 {
        0 => format!("{}.", region.get(..1).unwrap_or_default()),
        1 => region.to_lowercase(),
        _ => format!(" {region} "),
    }
}

/// What a correct cleaning of the sales core loads.
#[derive(Clone, Debug)]
pub(crate) struct Effective {
    /// Whether each order's row loads (not rejected).
    pub order_loaded: Vec<bool>,
    /// Each order's status in its latest version.
    pub status: Vec<Status>,
    /// Each line's quantity in its latest version, `None` if the line is rejected.
    pub quantity: Vec<Option<i64>>,
}

impl Effective {
    /// Quantity of a line that loads and whose order loads, `None` otherwise.
    pub(crate) fn loaded_quantity(&self, data: &Data, line: usize) -> Option<i64> {
        let order = data.lines[line].order;
        if self.order_loaded[order] {
            self.quantity[line]
        } else {
            None
        }
    }

    /// Quantity shipped by a line: it loads, its order loads and is shipped or delivered.
    pub(crate) fn shipped_quantity(&self, data: &Data, line: usize) -> Option<i64> {
        let order = data.lines[line].order;
        if self.status[order].is_shipped() {
            self.loaded_quantity(data, line)
        } else {
            None
        }
    }
}

/// Plants every kind of sales-core dirt; returns what loads.
pub(crate) fn plant(
    planter: &mut Planter,
    data: &Data,
    plan: &StoryPlan,
    tables: (&mut Table, &mut Table, &mut Table),
) -> Effective {
    let (customers, orders, lines) = tables;
    plant_customers(planter, data, customers);
    let protected: Vec<bool> = data
        .orders
        .iter()
        .map(|o| {
            plan.is_churner(o.customer)
                || data.lines[o.lines()]
                    .iter()
                    .any(|l| plan.is_stockout(l.product))
        })
        .collect();
    let mut effective = Effective {
        order_loaded: vec![true; data.orders.len()],
        status: data.orders.iter().map(|o| o.status).collect(),
        quantity: data.lines.iter().map(|l| Some(l.quantity)).collect(),
    };
    let blocked = plant_orders(planter, data, &protected, orders, &mut effective);
    plant_lines(
        planter,
        data,
        plan,
        (&blocked, &protected),
        lines,
        &mut effective,
    );
    effective
}

fn plant_customers(p: &mut Planter, data: &Data, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    let picked = p.pick(&mut used, count(n, 10), |_| true, |_| false);
    for i in picked {
        p.duplicate(table, i, format!("copy of {}", data.customers[i].id));
    }
    let picked = p.pick(&mut used, count(n, 30), |_| true, |_| false);
    for (k, i) in picked.into_iter().enumerate() {
        let region = REGIONS[data.customers[i].region];
        let value = region_alias(k, region);
        let note = format!("{} region {region}", data.customers[i].id);
        p.edit(table, (i, ccol::REGION), value, ("region_alias", FIX), note);
    }
}

/// Plants order dirt; returns, per order, whether its lines must stay clean (the order is
/// cancelled in its latest version or is rejected).
fn plant_orders(
    p: &mut Planter,
    data: &Data,
    protected: &[bool],
    table: &mut Table,
    effective: &mut Effective,
) -> Vec<bool> {
    let orders = &data.orders;
    let n = orders.len();
    let mut used = vec![false; n];
    let mut blocked: Vec<bool> = orders
        .iter()
        .map(|o| o.status == Status::Cancelled)
        .collect();
    let live = |i: usize| orders[i].status != Status::Cancelled;
    let free = |i: usize| live(i) && !protected[i];
    let recent = |i: usize| in_last_month(orders[i].date);

    // Re-exports: shipped -> completed, and some -> cancelled.
    let reexports = count(n, 8);
    let to_cancel = (reexports / 4).max(1);
    let completed = p.pick(
        &mut used,
        reexports - to_cancel,
        |i| orders[i].status == Status::Completed,
        recent,
    );
    for i in completed {
        let new = table.rows[i].clone();
        if let Some(shipped_at) = orders[i].shipped_at {
            table.rows[i][ocol::STATUS] = Status::Shipped.as_str().to_string();
            table.rows[i][ocol::UPDATED_AT] = shipped_at.format();
        }
        let note = format!("{} shipped -> completed", orders[i].id);
        p.reexport(table, i, new, "status", note);
    }
    let old_stamp = |i: usize| orders[i].shipped_at.unwrap_or(orders[i].entered_at);
    let cancelled = p.pick(
        &mut used,
        to_cancel,
        |i| free(i) && old_stamp(i).date < LAST_DAY,
        recent,
    );
    for i in cancelled {
        let old = old_stamp(i);
        if orders[i].status == Status::Completed {
            table.rows[i][ocol::STATUS] = Status::Shipped.as_str().to_string();
            table.rows[i][ocol::UPDATED_AT] = old.format();
        }
        let was = table.rows[i][ocol::STATUS].clone();
        let mut new = table.rows[i].clone();
        new[ocol::STATUS] = Status::Cancelled.as_str().to_string();
        new[ocol::SHIP_DATE] = String::new();
        let when = add_days_capped(old.date, p.rng.random_range(1..=5));
        new[ocol::UPDATED_AT] = old.later_on(p.rng, when).format();
        blocked[i] = true;
        effective.status[i] = Status::Cancelled;
        let note = format!("{} {was} -> cancelled", orders[i].id);
        p.reexport(table, i, new, "status", note);
    }

    for i in p.pick(&mut used, count(n, 6), live, recent) {
        p.duplicate(table, i, format!("copy of {}", orders[i].id));
    }

    for i in p.pick(&mut used, count(n, 4), free, recent) {
        blocked[i] = true;
        effective.order_loaded[i] = false;
        let note = format!("customer was {}", data.customers[orders[i].customer].id);
        p.edit(
            table,
            (i, ocol::CUSTOMER_ID),
            String::new(),
            ("blank_required", REJECT),
            note,
        );
    }

    for (k, i) in p
        .pick(&mut used, count(n, 4), free, recent)
        .into_iter()
        .enumerate()
    {
        blocked[i] = true;
        effective.order_loaded[i] = false;
        let d = orders[i].date;
        let value = match k % 3 {
            0 => format!(
                "{:04}-{:02}-{:02}",
                d.year(),
                d.month(),
                days_in_month(d.year(), d.month()) + 1
            ),
            1 => "n/a".to_string(),
            _ => format!("{:02}/13/{:04}", d.day(), d.year()),
        };
        let note = format!("true date {}", iso(d));
        p.edit(
            table,
            (i, ocol::ORDER_DATE),
            value,
            ("bad_date", REJECT),
            note,
        );
    }

    for i in p.pick(&mut used, count(n, 4), free, recent) {
        blocked[i] = true;
        effective.order_loaded[i] = false;
        let code = format!(
            "C{:05}",
            data.customers.len() + 1 + p.rng.random_range(0..5_000)
        );
        let note = format!(
            "{code} is not a customer; was {}",
            data.customers[orders[i].customer].id
        );
        p.edit(
            table,
            (i, ocol::CUSTOMER_ID),
            code,
            ("unknown_customer", REJECT),
            note,
        );
    }

    for i in p.pick(&mut used, count(n, 6), live, recent) {
        let d = orders[i].date;
        let value = format!("{:02}/{:02}/{:04}", d.day(), d.month(), d.year());
        let note = format!("dd/mm/yyyy for {}", iso(d));
        p.edit(table, (i, ocol::ORDER_DATE), value, ("date_dmy", FIX), note);
    }

    for i in p.pick(&mut used, count(n, 5), live, recent) {
        let d = orders[i].date;
        let value = format!("{}/{}/{}", d.year(), d.month(), d.day());
        let note = format!("yyyy/m/d for {}", iso(d));
        p.edit(
            table,
            (i, ocol::ORDER_DATE),
            value,
            ("date_ymd_slash", FIX),
            note,
        );
    }

    for (k, i) in p
        .pick(&mut used, count(n, 5), live, recent)
        .into_iter()
        .enumerate()
    {
        let id = &data.customers[orders[i].customer].id;
        let value = match k % 3 {
            0 => format!(" {id}"),
            1 => format!("{id} "),
            _ => format!("  {id}  "),
        };
        let note = format!("padded {id}");
        p.edit(
            table,
            (i, ocol::CUSTOMER_ID),
            value,
            ("whitespace", FIX),
            note,
        );
    }
    blocked
}

fn plant_lines(
    p: &mut Planter,
    data: &Data,
    plan: &StoryPlan,
    (blocked, protected): (&[bool], &[bool]),
    table: &mut Table,
    effective: &mut Effective,
) {
    let lines = &data.lines;
    let n = lines.len();
    let mut used = vec![false; n];
    let live = |i: usize| !blocked[lines[i].order];
    let free = |i: usize| live(i) && !protected[lines[i].order];
    let recent = |i: usize| in_last_month(data.orders[lines[i].order].date);
    let key = |i: usize| {
        format!(
            "{} line {}",
            data.orders[lines[i].order].id, lines[i].line_no
        )
    };

    let picked = p.pick(
        &mut used,
        count(n, 5),
        |i| free(i) && lines[i].updated_at.date < LAST_DAY,
        recent,
    );
    for i in picked {
        let line = &lines[i];
        let delta = p.rng.random_range(1..=4);
        let quantity = if line.quantity > delta && p.rng.random_bool(0.5) {
            line.quantity - delta
        } else {
            line.quantity + delta
        };
        let when = add_days_capped(line.updated_at.date, p.rng.random_range(1..=10));
        let mut new = table.rows[i].clone();
        new[lcol::QUANTITY] = quantity.to_string();
        new[lcol::UPDATED_AT] = line.updated_at.later_on(p.rng, when).format();
        effective.quantity[i] = Some(quantity);
        let note = format!("{} quantity {} -> {quantity}", key(i), line.quantity);
        p.reexport(table, i, new, "quantity", note);
    }

    for i in p.pick(&mut used, count(n, 5), live, recent) {
        p.duplicate(table, i, format!("copy of {}", key(i)));
    }

    for i in p.pick(&mut used, count(n, 3), free, recent) {
        effective.quantity[i] = None;
        let note = format!("{} sku was {}", key(i), data.products[lines[i].product].sku);
        p.edit(
            table,
            (i, lcol::SKU),
            String::new(),
            ("blank_required", REJECT),
            note,
        );
    }

    for (k, i) in p
        .pick(&mut used, count(n, 4), free, recent)
        .into_iter()
        .enumerate()
    {
        effective.quantity[i] = None;
        let line = &lines[i];
        let price = format!("{:.2}", line.unit_price);
        let (col, value, was) = match k % 3 {
            0 => (
                lcol::QUANTITY,
                format!("{}x", line.quantity),
                line.quantity.to_string(),
            ),
            1 => (lcol::UNIT_PRICE, "abc".to_string(), price),
            _ => (lcol::UNIT_PRICE, price.replace('.', ".."), price),
        };
        let note = format!("{} {} was {was}", key(i), table.header[col]);
        p.edit(table, (i, col), value, ("bad_number", REJECT), note);
    }

    for i in p.pick(&mut used, count(n, 3), free, recent) {
        effective.quantity[i] = None;
        let value = format!("-{}", lines[i].quantity);
        let note = format!("{} quantity was {}", key(i), lines[i].quantity);
        p.edit(
            table,
            (i, lcol::QUANTITY),
            value,
            ("negative_quantity", REJECT),
            note,
        );
    }

    for i in p.pick(&mut used, count(n, 3), free, recent) {
        effective.quantity[i] = None;
        let value = format!("SKU-{}", p.rng.random_range(9_000..=9_999));
        let note = format!("{} sku was {}", key(i), data.products[lines[i].product].sku);
        p.edit(
            table,
            (i, lcol::SKU),
            value,
            ("unknown_product", REJECT),
            note,
        );
    }

    for (k, i) in p
        .pick(&mut used, count(n, 5), live, recent)
        .into_iter()
        .enumerate()
    {
        let sku = &data.products[lines[i].product].sku;
        let value = match k % 3 {
            0 => format!(" {sku}"),
            1 => format!("{sku}  "),
            _ => sku.to_lowercase(),
        };
        let note = format!("{} sku {sku}", key(i));
        p.edit(table, (i, lcol::SKU), value, ("whitespace", FIX), note);
    }

    // Real outliers: a cheap bulk item bought 100 times the usual amount (an office fit-out).
    // Kept away from the story reps, the declining region, the fourth quarter, the seasonal
    // category and the story products so that the stories stay clean.
    let outlier_ok = |i: usize| {
        let line = &lines[i];
        let order = &data.orders[line.order];
        let product = &data.products[line.product];
        free(i)
            && product.bulk
            && line.quantity <= 12
            && product.list_price <= rust_decimal::Decimal::from(15)
            && product.category != SEASONAL_CATEGORY
            && order.date.month() < 10
            && !plan.is_story_product(line.product)
            && order.rep != STAR_REP
            && !UNDER_REPS.contains(&order.rep)
            && data.customers[order.customer].region != DECLINING_REGION
    };
    let outliers = ((n * 3 + 5_000) / 10_000).max(3);
    for i in p.pick(&mut used, outliers, outlier_ok, recent) {
        let quantity = lines[i].quantity * 100;
        effective.quantity[i] = Some(quantity);
        let note = format!(
            "{} quantity {quantity} is 100 x the usual {} (real)",
            key(i),
            lines[i].quantity
        );
        p.edit(
            table,
            (i, lcol::QUANTITY),
            quantity.to_string(),
            ("outlier", FLAG),
            note,
        );
    }
}
