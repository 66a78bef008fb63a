//! Finance extracts: standard costs by year, invoices with sales tax for shipped orders, and
//! customer payments (most on time, some late, some partial, recent ones still open).

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::calendar::{add_days, LAST_DAY};
use super::company::Product;
use super::dirt::Effective;
use super::draw::chance;
use super::orders::{line_net, money};
use super::Data;

/// Standard cost rows: (product, year, cost). The 2026 cost is the catalogue's `unit_cost`;
/// each earlier year is 1.5-6 % cheaper than the next.
pub(crate) fn standard_costs(
    rng: &mut ChaCha8Rng,
    products: &[Product],
) -> Vec<(usize, i32, Decimal)> {
    let mut out = Vec::new();
    for (p, product) in products.iter().enumerate() {
        let mut costs = vec![product.unit_cost];
        for _ in 2022..2026 {
            let later = costs.last().copied().unwrap_or(product.unit_cost);
            let bp = rng.random_range(150..=600);
            costs.push(money(
                later * Decimal::from(10_000) / Decimal::from(10_000 + bp),
            ));
        }
        costs.reverse();
        for (k, cost) in costs.into_iter().enumerate() {
            out.push((p, 2022 + k as i32, cost));
        }
    }
    out
}

/// Sales tax in basis points by customer region (North, South, East, West, Central); orders in
/// EUR and GBP are exports without tax.
const TAX_BP: [i64; 5] = [625, 700, 600, 725, 550];

/// One invoice.
#[derive(Clone, Debug)]
pub(crate) struct Invoice {
    pub order: usize,
    pub date: NaiveDate,
    pub due: NaiveDate,
    pub net: Decimal,
    pub tax: Decimal,
    pub gross: Decimal,
    pub currency: usize,
}

/// One invoice per order shipped in its latest version, dated on the ship day. The net amount is
/// the sum of the order's lines that load (latest quantities), in the order's currency.
pub(crate) fn invoices(data: &Data, effective: &Effective) -> Vec<Invoice> {
    let mut out = Vec::new();
    for (o, order) in data.orders.iter().enumerate() {
        let Some(date) = order.ship.filter(|_| effective.status[o].is_shipped()) else {
            continue;
        };
        let mut net = Decimal::ZERO;
        let mut any = false;
        for l in order.lines() {
            if let Some(q) = effective.quantity[l] {
                let line = &data.lines[l];
                net += line_net(q, line.unit_price, line.discount_pct);
                any = true;
            }
        }
        if !any {
            continue;
        }
        let customer = &data.customers[order.customer];
        let bp = if order.currency == 0 {
            TAX_BP[customer.region.min(4)]
        } else {
            0
        };
        let tax = money(net * Decimal::from(bp) / Decimal::from(10_000));
        let terms = if customer.segment == "Enterprise" {
            45
        } else {
            30
        };
        out.push(Invoice {
            order: o,
            date,
            due: add_days(date, terms),
            net,
            tax,
            gross: net + tax,
            currency: order.currency,
        });
    }
    out.sort_by_key(|i| (i.date, i.order));
    out
}

/// One payment: (invoice index, day, amount in the invoice currency).
pub(crate) type Payment = (usize, NaiveDate, Decimal);

/// Payments: about 15 % of customers pay late habitually; 8 % of invoices are paid in two parts;
/// payments after the extract day are not in the file (the invoice is still open).
pub(crate) fn payments(rng: &mut ChaCha8Rng, data: &Data, invoices: &[Invoice]) -> Vec<Payment> {
    let late_payer: Vec<bool> = data.customers.iter().map(|_| chance(rng, 0.15)).collect();
    let mut out = Vec::new();
    for (i, inv) in invoices.iter().enumerate() {
        let customer = data.orders[inv.order].customer;
        let first = if late_payer[customer] {
            add_days(inv.due, rng.random_range(5..=60))
        } else if chance(rng, 0.08) {
            add_days(inv.due, rng.random_range(1..=20))
        } else {
            let early = add_days(inv.date, 5).min(inv.due);
            add_days(
                early,
                rng.random_range(0..=(inv.due - early).num_days().max(0) as u64 + 3),
            )
        };
        if chance(rng, 0.08) && inv.gross > Decimal::from(50) {
            let part =
                money(inv.gross * Decimal::from(rng.random_range(30..=70)) / Decimal::ONE_HUNDRED);
            let second = add_days(first, rng.random_range(10..=45));
            if first <= LAST_DAY {
                out.push((i, first, part));
            }
            if second <= LAST_DAY {
                out.push((i, second, inv.gross - part));
            }
        } else if first <= LAST_DAY {
            out.push((i, first, inv.gross));
        }
    }
    out.sort_by_key(|(i, day, _)| (*day, *i));
    out
}
