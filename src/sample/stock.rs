//! Inventory: supplier shortages that make the stock-out SKUs run dry (their orders wait for stock
//! and ship late), receipts planned for every other SKU so that stock never runs out (and piles
//! up for the overstock SKUs), and the opening stock and month-end snapshots, which reconcile
//! with receipts and shipments by construction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{add_days, day_index, from_day_index, span_days, span_months, ymd, LAST_DAY};
use super::company::Product;
use super::orders::{settle, Sales, WAREHOUSES};
use super::stories::StoryPlan;

/// Days from a purchase order to its delivery.
const LEAD_DAYS: usize = 10;
/// Stock of the stock-out SKUs is reviewed weekly.
const REVIEW_DAYS: usize = 7;
/// Safety stock of the stock-out SKUs, in days of demand.
const SAFETY_DAYS: usize = 7;
/// Demand is averaged over this many days.
const DEMAND_WINDOW: usize = 56;
/// Overstock SKUs: purchasing over-orders from this day on.
const PILEUP_FROM: NaiveDate = ymd(2024, 1, 1);

/// One purchase delivery.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Receipt {
    pub day: NaiveDate,
    pub product: usize,
    pub warehouse: usize,
    pub quantity: i64,
}

/// Opening stock (start of 2022-01-01) per (product, warehouse), and receipts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Supply {
    pub opening: BTreeMap<(usize, usize), i64>,
    pub receipts: Vec<Receipt>,
}

/// Case size: bulk items come in tens.
fn pack(product: &Product) -> i64 {
    if product.bulk {
        10
    } else {
        1
    }
}

fn round_up(quantity: i64, pack: i64) -> i64 {
    (quantity + pack - 1) / pack * pack
}

/// An order needing stock-out items: (natural ship day, order index, (pair, quantity) needs).
type Waiting = (usize, usize, Vec<(usize, i64)>);

/// Simulates the stock-out SKUs day by day: weekly order-up-to purchasing (nothing arrives during
/// a supplier shortage); waiting orders are served oldest first, each as soon as all its
/// stock-out items are on hand (a smaller order may go ahead of a larger one). Orders that had to wait get their later ship date (and status).
pub(crate) fn run_shortages(
    rng: &mut ChaCha8Rng,
    sales: &mut Sales,
    plan: &StoryPlan,
    products: &[Product],
) -> Supply {
    let n = span_days();
    let skus = &plan.stockout;
    let wh = WAREHOUSES.len();
    let pair = |slot: usize, w: usize| slot * wh + w;
    let pairs = skus.len() * wh;

    // Orders waiting for a stock-out SKU, with their needs (pair, quantity).
    let mut queue: Vec<Waiting> = Vec::new();
    let mut requested = vec![vec![0_i64; n]; pairs];
    for (o, order) in sales.orders.iter().enumerate() {
        if order.cancelled_on.is_some() || order.backordered || order.natural_ship > LAST_DAY {
            continue;
        }
        let needs: Vec<(usize, i64)> = sales.lines[order.lines()]
            .iter()
            .filter_map(|l| {
                let slot = skus.iter().position(|&s| s == l.product)?;
                Some((pair(slot, order.warehouse), l.quantity))
            })
            .collect();
        if needs.is_empty() {
            continue;
        }
        let day = day_index(order.natural_ship);
        for &(p, q) in &needs {
            requested[p][day] += q;
        }
        queue.push((day, o, needs));
    }
    queue.sort_unstable();

    let level = |p: usize, d: usize| -> i64 {
        let (from, to) = if d >= DEMAND_WINDOW {
            (d - DEMAND_WINDOW, d)
        } else {
            (0, DEMAND_WINDOW.min(n))
        };
        let sum: i64 = requested[p][from..to].iter().sum();
        let days = (LEAD_DAYS + REVIEW_DAYS + SAFETY_DAYS) as i64;
        (sum * days + DEMAND_WINDOW as i64 - 1) / DEMAND_WINDOW as i64
    };
    let pack_of = |p: usize| pack(&products[skus[p / wh]]);
    let in_shortage = |p: usize, d: usize| {
        let date = from_day_index(d);
        plan.shortages[p / wh]
            .iter()
            .any(|&(from, to)| from <= date && date <= to)
    };

    let mut supply = Supply::default();
    let mut on_hand: Vec<i64> = (0..pairs)
        .map(|p| round_up(level(p, 0), pack_of(p)))
        .collect();
    for (p, &q) in on_hand.iter().enumerate() {
        supply.opening.insert((skus[p / wh], p % wh), q);
    }
    let mut arrivals = vec![vec![0_i64; n]; pairs];
    let mut in_transit = vec![0_i64; pairs];
    let mut backlog = vec![0_i64; pairs];
    let mut shipped_on: BTreeMap<usize, usize> = BTreeMap::new();
    let mut pending: Vec<usize> = Vec::new();
    let mut next = 0;
    for d in 0..n {
        for p in 0..pairs {
            on_hand[p] += arrivals[p][d];
            in_transit[p] -= arrivals[p][d];
        }
        while next < queue.len() && queue[next].0 <= d {
            for &(p, q) in &queue[next].2 {
                backlog[p] += q;
            }
            pending.push(next);
            next += 1;
        }
        for p in 0..pairs {
            let arrival = d + LEAD_DAYS;
            if (d + p) % REVIEW_DAYS != 0 || arrival >= n || in_shortage(p, arrival) {
                continue;
            }
            let position = on_hand[p] + in_transit[p] - backlog[p];
            let want = level(p, d);
            if want > position {
                let q = round_up(want - position, pack_of(p));
                arrivals[p][arrival] += q;
                in_transit[p] += q;
                supply.receipts.push(Receipt {
                    day: from_day_index(arrival),
                    product: skus[p / wh],
                    warehouse: p % wh,
                    quantity: q,
                });
            }
        }
        let mut waiting = Vec::with_capacity(pending.len());
        for &k in &pending {
            let needs = &queue[k].2;
            if needs.iter().all(|&(p, q)| on_hand[p] >= q) {
                for &(p, q) in needs {
                    on_hand[p] -= q;
                    backlog[p] -= q;
                }
                shipped_on.insert(queue[k].1, d);
            } else {
                waiting.push(k);
            }
        }
        pending = waiting;
    }
    for (_, o, _) in &queue {
        let ship = shipped_on
            .get(o)
            .map_or(add_days(LAST_DAY, 1), |&d| from_day_index(d));
        let order = &mut sales.orders[*o];
        if ship != order.natural_ship {
            settle(rng, order, ship);
        }
    }
    supply.receipts.sort();
    supply
}

/// Plans receipts for every product not in the stock-out story from its daily shipments
/// (`shipped[product][warehouse][day]`): a delivery every few weeks covering the demand until the
/// next one plus a safety stock, so stock never reaches zero; the overstock SKUs get far more
/// than they need from 2024. The stock-out SKUs keep their simulated supply.
pub(crate) fn plan_receipts(
    rng: &mut ChaCha8Rng,
    products: &[Product],
    plan: &StoryPlan,
    shipped: &[Vec<Vec<i64>>],
    shortages: Supply,
) -> Supply {
    let n = span_days();
    let mut supply = shortages;
    let pileup_from = day_index(PILEUP_FROM);
    for (p, product) in products.iter().enumerate() {
        if plan.is_stockout(p) {
            continue;
        }
        let pack = pack(product);
        for (w, daily) in shipped[p].iter().enumerate() {
            let total: i64 = daily.iter().sum();
            let per_day = total as f64 / n as f64;
            let cycle = if per_day >= 3.0 {
                21
            } else if per_day >= 0.75 {
                35
            } else {
                56
            };
            let offset = rng.random_range(1..=cycle);
            let safety_days = rng.random_range(10..=20) as f64;
            let buffer = ((per_day * safety_days).ceil() as i64).max(2 * pack);
            let extra = if plan.pileup.contains(&p) {
                round_up((per_day * cycle as f64 * 0.7).ceil() as i64, pack)
            } else {
                0
            };
            let days: Vec<usize> = (offset..n).step_by(cycle).collect();
            let demand = |from: usize, to: usize| -> i64 { daily[from..to.min(n)].iter().sum() };
            let first = days.first().copied().unwrap_or(n);
            let mut on_hand = round_up(demand(0, first) + buffer, pack);
            supply.opening.insert((p, w), on_hand);
            let mut last = 0;
            // Stock bought beyond need (overstock SKUs), which planning then ignores.
            let mut excess = 0;
            for (k, &r) in days.iter().enumerate() {
                on_hand -= demand(last, r);
                let next = days.get(k + 1).copied().unwrap_or(n);
                let need = demand(r, next) + buffer - (on_hand - excess);
                let mut q = if need > 0 { round_up(need, pack) } else { 0 };
                if r >= pileup_from {
                    q += extra;
                    excess += extra;
                }
                if q > 0 {
                    on_hand += q;
                    supply.receipts.push(Receipt {
                        day: from_day_index(r),
                        product: p,
                        warehouse: w,
                        quantity: q,
                    });
                }
                last = r;
            }
        }
    }
    supply.receipts.sort();
    supply
}

/// On hand at the end of each month of the span, per (month index, product, warehouse).
pub(crate) fn month_ends(
    products: usize,
    supply: &Supply,
    shipped: &[Vec<Vec<i64>>],
) -> Vec<Vec<Vec<i64>>> {
    let n = span_days();
    let wh = WAREHOUSES.len();
    let mut delta = vec![vec![vec![0_i64; n]; wh]; products];
    for r in &supply.receipts {
        delta[r.product][r.warehouse][day_index(r.day)] += r.quantity;
    }
    let months = span_months();
    let mut out = vec![vec![vec![0_i64; wh]; products]; months.len()];
    for p in 0..products {
        for w in 0..wh {
            let mut level = supply.opening.get(&(p, w)).copied().unwrap_or(0);
            let mut d = 0;
            for (m, month) in months.iter().enumerate() {
                let end = day_index(month.last_day());
                while d <= end && d < n {
                    level += delta[p][w][d] - shipped[p][w][d];
                    d += 1;
                }
                out[m][p][w] = level;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rust_decimal::Decimal;

    use super::super::stories::StoryPlan;

    fn product(bulk: bool) -> Product {
        Product {
            sku: "SKU-0001".into(),
            name: "x".into(),
            category: "Paper",
            subcategory: "Copy Paper",
            list_price: Decimal::ONE,
            unit_cost: Decimal::ONE,
            weight: 1.0,
            bulk,
        }
    }

    #[test]
    fn planned_stock_never_runs_out_and_overstock_piles_up() {
        let n = span_days();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let products = vec![product(true), product(false)];
        // Lumpy demand: a burst every few days, a huge one now and then.
        let daily: Vec<i64> = (0..n)
            .map(|d| match d % 13 {
                0 => 40,
                5 => 3,
                _ if d % 401 == 7 => 600,
                _ => 0,
            })
            .collect();
        let shipped = vec![vec![daily.clone(); 3], vec![daily; 3]];
        let plan = StoryPlan {
            stockout: vec![],
            shortages: vec![],
            pileup: vec![1],
            spike: 0,
            churners: vec![],
            returners: vec![],
        };
        let supply = plan_receipts(&mut rng, &products, &plan, &shipped, Supply::default());
        let levels = month_ends(2, &supply, &shipped);
        let mut delta = vec![vec![0_i64; n]; 2];
        for r in supply.receipts.iter().filter(|r| r.warehouse == 0) {
            delta[r.product][day_index(r.day)] += r.quantity;
            assert_eq!(r.quantity % pack(&products[r.product]), 0, "{r:?}");
        }
        for p in 0..2 {
            let mut level = supply.opening[&(p, 0)];
            for d in 0..n {
                level += delta[p][d] - shipped[p][0][d];
                assert!(level > 0, "product {p} ran out on day {d}");
            }
        }
        let last = levels.len() - 1;
        assert!(
            levels[last][1][0] > 5 * levels[last][0][0],
            "{:?}",
            levels[last]
        );
    }
}
