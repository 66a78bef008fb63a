//! Clean sales orders and order lines: volumes with seasonality, growth and a yearly promotion;
//! customers and their account reps over time; channels, currencies, ship modes, warehouses,
//! fulfilment dates and statuses as of the extract day. The sales stories are built in here:
//! the declining region, the strong-Q4 category, the churned customers, the under- and
//! over-performing reps, and the ship-mode change.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::{Datelike, NaiveDate, Weekday};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};

use super::calendar::{
    add_days, add_days_capped, month_index, span_months, Month, Stamp, LAST_DAY,
};
use super::campaigns::{in_promotion, PROMO_LIFT_PCT};
use super::company::{Customer, FxRates, Product};
use super::draw::{chance, cumulative, from_cumulative, geometric, weighted};
use super::reps::Roster;
use super::stories::{
    StoryPlan, CHURN_FROM, DECLINE_TO, DECLINING_REGION, LATE_FROM, LATE_REGION, RETURN_FROM,
    SEASONAL_CATEGORY, SEASONAL_LIFT, STAR_EXTRA, STAR_REP, UNDER_KEEP, UNDER_REPS,
};

/// Orders at scale 1 over the whole span.
const ORDERS_PER_SCALE: f64 = 7_000.0;
/// Relative order volume by calendar month: a summer dip and a strong fourth quarter.
pub(crate) const SEASON: [f64; 12] = [
    0.85, 0.88, 1.0, 0.98, 0.98, 0.92, 0.82, 0.85, 1.0, 1.1, 1.25, 1.35,
];
/// Month-over-month growth of order volume: 1.12 ^ (1/12), about 12 % a year.
pub(crate) const MONTHLY_GROWTH: f64 = 1.009_488_8;

/// Warehouses; an order ships from its customer's region's warehouse.
pub(crate) const WAREHOUSES: [&str; 3] = ["WH-EAST", "WH-CENTRAL", "WH-WEST"];

/// The warehouse serving a region (North, East -> WH-EAST; South, Central -> WH-CENTRAL;
/// West -> WH-WEST).
pub(crate) fn warehouse_of(region: usize) -> usize {
    match region {
        0 | 2 => 0,
        1 | 4 => 1,
        _ => 2,
    }
}

/// Where an order stands on the extract day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Completed,
    Shipped,
    Open,
    Cancelled,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Shipped => "shipped",
            Status::Open => "open",
            Status::Cancelled => "cancelled",
        }
    }

    /// Shipped or delivered.
    pub(crate) fn is_shipped(self) -> bool {
        matches!(self, Status::Completed | Status::Shipped)
    }
}

/// One sales order header.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub id: String,
    pub date: NaiveDate,
    /// Promised ship date.
    pub promised: NaiveDate,
    pub ship: Option<NaiveDate>,
    pub ship_mode: &'static str,
    pub channel: &'static str,
    pub status: Status,
    pub currency: usize,
    pub customer: usize,
    pub rep: usize,
    pub warehouse: usize,
    /// Attributed marketing campaign.
    pub campaign: Option<usize>,
    /// When the order was keyed in.
    pub entered_at: Stamp,
    /// When it was marked shipped (shipped and completed orders).
    pub shipped_at: Option<Stamp>,
    pub updated_at: Stamp,
    /// The day it would ship if every item were in stock.
    pub natural_ship: NaiveDate,
    /// Days from shipment to delivery.
    pub transit: u64,
    /// The day the customer cancels (drawn when the order is entered).
    pub cancelled_on: Option<NaiveDate>,
    /// Held back at the end of the span (stays open).
    pub backordered: bool,
    /// Net revenue in USD (sum of its lines).
    pub usd: Decimal,
    /// Index of its first line in the line list.
    pub first_line: usize,
    pub line_count: usize,
}

impl Order {
    pub(crate) fn lines(&self) -> Range<usize> {
        self.first_line..self.first_line + self.line_count
    }

    /// Delivery day of a completed order.
    pub(crate) fn delivered(&self) -> Option<NaiveDate> {
        match (self.status, self.ship) {
            (Status::Completed, Some(ship)) => Some(add_days(ship, self.transit)),
            _ => None,
        }
    }

    /// Shipped after the promised ship date.
    pub(crate) fn late(&self) -> bool {
        self.ship.is_some_and(|s| s > self.promised)
    }
}

/// One order line.
#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub order: usize,
    pub line_no: usize,
    pub product: usize,
    pub quantity: i64,
    /// In the order's currency.
    pub unit_price: Decimal,
    pub discount_pct: u32,
    pub updated_at: Stamp,
}

/// Rounds half away from zero to cents.
pub(crate) fn money(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Net amount of a line in its order's currency: quantity x unit price less the discount.
pub(crate) fn line_net(quantity: i64, unit_price: Decimal, discount_pct: u32) -> Decimal {
    money(
        Decimal::from(quantity) * unit_price * Decimal::from(100 - discount_pct.min(100))
            / Decimal::ONE_HUNDRED,
    )
}

/// (mode, share in percent, promised ship days, transit days, percent shipped on time)
type ShipMode = (&'static str, u32, u64, (u64, u64), u32);

const SHIP_MODES: [ShipMode; 4] = [
    ("Standard", 70, 3, (2, 5), 90),
    ("Express", 20, 1, (1, 2), 90),
    ("Freight", 10, 5, (4, 9), 90),
    ("Economy", 0, 4, (3, 7), 30),
];
/// Ship-mode shares in the late region after the change.
const LATE_REGION_MODES: [u32; 4] = [10, 15, 5, 70];

const CHANNELS: [&str; 4] = ["online", "retail", "distributor", "direct"];

fn channel_weights(segment: &str) -> [u32; 4] {
    match segment {
        "Enterprise" => [15, 10, 25, 50],
        "Mid-Market" => [30, 15, 30, 25],
        _ => [45, 35, 10, 10],
    }
}

/// Lines per order: 1 to 6, mean about 2.5.
const LINES_PER_ORDER: [u32; 6] = [30, 28, 20, 12, 7, 3];

/// The context shared by all order draws.
pub(crate) struct World<'a> {
    pub customers: &'a [Customer],
    pub products: &'a [Product],
    pub fx: &'a FxRates,
    pub roster: &'a Roster,
    pub plan: &'a StoryPlan,
}

/// The generated sales.
pub(crate) struct Sales {
    pub orders: Vec<Order>,
    pub lines: Vec<Line>,
    /// Net revenue in USD per (rep, year) as it would have been without the rep stories: the
    /// basis of the annual targets.
    pub target_basis: BTreeMap<(usize, i32), Decimal>,
}

/// Relative buying volume of a customer in a month (0 when churned by then).
fn customer_weight(world: &World, c: usize, month: Month, m: usize, months: usize) -> f64 {
    let cust = &world.customers[c];
    let start = month.first_day();
    let mut w = cust.weight;
    if cust.region == DECLINING_REGION {
        w *= 1.0 - (1.0 - DECLINE_TO) * m as f64 / (months.max(2) - 1) as f64;
    }
    if cust.churned_on.is_some_and(|d| d < start) {
        w = 0.0;
    }
    if world.plan.is_churner(c) && start >= CHURN_FROM {
        if world.plan.is_returner(c) && start >= RETURN_FROM {
            w *= 1.5;
        } else {
            w = 0.0;
        }
    }
    w
}

fn product_weight(p: &Product, month: Month) -> f64 {
    if p.category == SEASONAL_CATEGORY && month.month >= 10 {
        p.weight * SEASONAL_LIFT
    } else {
        p.weight
    }
}

/// Day weights of a month: weekdays busier than weekends, promotion days lifted.
fn day_weights(month: Month) -> (Vec<u32>, f64) {
    let mut lifted = 0_u32;
    let mut plain = 0_u32;
    let weights = (1..=month.days())
        .map(|d| {
            let date = add_days(month.first_day(), u64::from(d - 1));
            let base = match date.weekday() {
                Weekday::Sat => 35,
                Weekday::Sun => 20,
                _ => 100,
            };
            let w = if in_promotion(date) {
                base * PROMO_LIFT_PCT / 100
            } else {
                base
            };
            plain += base;
            lifted += w;
            w
        })
        .collect();
    (weights, f64::from(lifted) / f64::from(plain.max(1)))
}

/// All orders of the span (ids in date order) and their lines.
pub(crate) fn orders(rng: &mut ChaCha8Rng, scale: u32, world: &World) -> Sales {
    let months = span_months();
    let mut trend = 1.0;
    let month_days: Vec<(Vec<u32>, f64)> = months.iter().map(|m| day_weights(*m)).collect();
    let weights: Vec<f64> = months
        .iter()
        .zip(&month_days)
        .map(|(m, (_, lift))| {
            let weight =
                SEASON[m.month as usize - 1] * trend * lift * (0.94 + 0.12 * rng.random::<f64>());
            trend *= MONTHLY_GROWTH;
            weight
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let target = ORDERS_PER_SCALE * f64::from(scale);
    let created: Vec<NaiveDate> = world.customers.iter().map(|c| c.created_on).collect();

    let mut sales = Sales {
        orders: Vec::new(),
        lines: Vec::new(),
        target_basis: BTreeMap::new(),
    };
    for (m, month) in months.iter().enumerate() {
        let cust_weights: Vec<f64> = (0..world.customers.len())
            .map(|c| customer_weight(world, c, *month, m, months.len()))
            .collect();
        let customer_cum = cumulative(cust_weights.iter().copied());
        let product_cum = cumulative(world.products.iter().map(|p| product_weight(p, *month)));
        let count = (target * weights[m] / total).round() as usize;

        // The star's accounts order more during the rep story.
        let start = month.first_day();
        let star_cum = if StoryPlan::in_rep_story(start) {
            let star: Vec<f64> = world
                .customers
                .iter()
                .enumerate()
                .map(|(c, cust)| {
                    let owner = world
                        .roster
                        .account_rep(&cust.rep_preference, cust.region, start);
                    if owner == STAR_REP && cust.created_on <= start {
                        cust_weights[c]
                    } else {
                        0.0
                    }
                })
                .collect();
            cumulative(star)
        } else {
            Vec::new()
        };
        let all: f64 = customer_cum.last().copied().unwrap_or(0.0);
        let star_share = star_cum.last().map_or(0.0, |s| s / all.max(1e-9));
        let extra = (count as f64 * star_share * STAR_EXTRA).round() as usize;

        let day_w = &month_days[m].0;
        let mut draws: Vec<(NaiveDate, bool)> = (0..count + extra)
            .map(|k| {
                let date = add_days(start, weighted(rng, day_w) as u64);
                (date, k >= count)
            })
            .collect();
        draws.sort_unstable();
        for (date, is_extra) in draws {
            let customer = if is_extra {
                from_cumulative(rng, &star_cum, star_cum.len())
            } else {
                let eligible = created.partition_point(|&c| c <= date);
                pick_customer(rng, world.customers, &customer_cum, eligible, date)
            };
            let index = sales.orders.len();
            let mut order = order_header(rng, index, date, customer, world);
            if is_extra {
                order.rep = STAR_REP;
            }
            order.first_line = sales.lines.len();
            order.line_count = weighted(rng, &LINES_PER_ORDER) + 1;
            let mut chosen: Vec<usize> = Vec::with_capacity(order.line_count);
            while chosen.len() < order.line_count {
                let p = from_cumulative(rng, &product_cum, product_cum.len());
                if !chosen.contains(&p) {
                    chosen.push(p);
                }
            }
            let lines: Vec<Line> = chosen
                .into_iter()
                .enumerate()
                .map(|(n, product)| order_line(rng, &order, index, n + 1, product, world))
                .collect();
            let rate = world.fx.rate(month_index(date), order.currency);
            order.usd = lines
                .iter()
                .map(|l| money(line_net(l.quantity, l.unit_price, l.discount_pct) * rate))
                .sum();
            if order.cancelled_on.is_none() && !is_extra {
                *sales
                    .target_basis
                    .entry((order.rep, date.year()))
                    .or_default() += order.usd;
            }
            let dropped = !is_extra
                && UNDER_REPS.contains(&order.rep)
                && StoryPlan::in_rep_story(date)
                && !chance(rng, UNDER_KEEP);
            if dropped {
                continue;
            }
            let ship = order.natural_ship;
            settle(rng, &mut order, ship);
            sales.lines.extend(lines);
            sales.orders.push(order);
        }
    }
    sales
}

/// A customer created on or before `date`, by buying weight, preferring ones not churned.
fn pick_customer(
    rng: &mut ChaCha8Rng,
    customers: &[Customer],
    cumulative: &[f64],
    eligible: usize,
    date: NaiveDate,
) -> usize {
    let mut pick = 0;
    for _ in 0..12 {
        pick = from_cumulative(rng, cumulative, eligible.max(1));
        if customers[pick].churned_on.is_none_or(|churn| date < churn) {
            break;
        }
    }
    pick
}

fn order_header(
    rng: &mut ChaCha8Rng,
    index: usize,
    date: NaiveDate,
    customer: usize,
    world: &World,
) -> Order {
    let cust = &world.customers[customer];
    let owner = world
        .roster
        .account_rep(&cust.rep_preference, cust.region, date);
    let rep = if chance(rng, 0.95) {
        owner
    } else {
        let others: Vec<usize> = world
            .roster
            .reps_in(cust.region, date)
            .into_iter()
            .filter(|&r| r != owner)
            .collect();
        if others.is_empty() {
            owner
        } else {
            others[rng.random_range(0..others.len())]
        }
    };
    let channel = CHANNELS[weighted(rng, &channel_weights(cust.segment))];
    let currency = match rng.random_range(0..100) {
        0..94 => 0,
        94..98 => 1,
        _ => 2,
    };
    let mode_weights: Vec<u32> = if cust.region == LATE_REGION && date >= LATE_FROM {
        LATE_REGION_MODES.to_vec()
    } else {
        SHIP_MODES.iter().map(|m| m.1).collect()
    };
    let (ship_mode, _, promise_days, (transit_lo, transit_hi), on_time_pct) =
        SHIP_MODES[weighted(rng, &mode_weights)];
    let promised = add_days(date, promise_days);
    let processing = if rng.random_range(0..100) < on_time_pct {
        rng.random_range(0..=promise_days)
    } else if ship_mode == "Economy" {
        promise_days + rng.random_range(2..=8)
    } else {
        promise_days + rng.random_range(1..=5)
    };
    let natural_ship = add_days(date, processing);
    let transit = rng.random_range(transit_lo..=transit_hi);
    let entered_at = Stamp::during(rng, date, 8, 18);
    let backordered = add_days(date, 21) > LAST_DAY && chance(rng, 0.12);
    let cancelled_on = chance(rng, 0.04).then(|| add_days_capped(date, rng.random_range(0..=6)));
    Order {
        id: format!("SO-{:06}", index + 1),
        date,
        promised,
        ship: None,
        ship_mode,
        channel,
        status: Status::Open,
        currency,
        customer,
        rep,
        warehouse: warehouse_of(cust.region),
        campaign: None,
        entered_at,
        shipped_at: None,
        updated_at: entered_at,
        natural_ship,
        transit,
        cancelled_on,
        backordered,
        usd: Decimal::ZERO,
        first_line: 0,
        line_count: 0,
    }
}

/// Sets status, ship date and timestamps for an order that can ship on `ship` (or later than
/// the span, then it stays open).
pub(crate) fn settle(rng: &mut ChaCha8Rng, order: &mut Order, ship: NaiveDate) {
    if let Some(when) = order.cancelled_on {
        order.status = Status::Cancelled;
        order.ship = None;
        order.shipped_at = None;
        order.updated_at = order.entered_at.later_on(rng, when);
    } else if ship > LAST_DAY || order.backordered {
        order.status = Status::Open;
        order.ship = None;
        order.shipped_at = None;
        order.updated_at = order.entered_at;
    } else {
        let shipped_at = order.entered_at.later_on(rng, ship);
        let delivered = add_days(ship, order.transit);
        order.ship = Some(ship);
        order.shipped_at = Some(shipped_at);
        if delivered > LAST_DAY {
            order.status = Status::Shipped;
            order.updated_at = shipped_at;
        } else {
            order.status = Status::Completed;
            order.updated_at = shipped_at.later_on(rng, delivered);
        }
    }
}

fn order_line(
    rng: &mut ChaCha8Rng,
    order: &Order,
    order_index: usize,
    line_no: usize,
    product: usize,
    world: &World,
) -> Line {
    let prod = &world.products[product];
    let quantity = if prod.bulk {
        if chance(rng, 0.015) {
            rng.random_range(41..=150)
        } else {
            1 + geometric(rng, 6.0, 39)
        }
    } else if prod.list_price >= Decimal::from(300) {
        1 + geometric(rng, 0.6, 4)
    } else {
        1 + geometric(rng, 1.5, 11)
    };
    let rate = world.fx.rate(month_index(order.date), order.currency);
    let basis_points = if order.currency == 0 && chance(rng, 0.7) {
        10_000
    } else {
        rng.random_range(9_700..=10_300)
    };
    let unit_price =
        money(prod.list_price * Decimal::from(basis_points) / Decimal::from(10_000) / rate)
            .max(Decimal::new(1, 2));
    let discount_weights = if order.channel == "distributor" {
        [30, 20, 25, 15, 10]
    } else {
        [60, 15, 12, 8, 5]
    };
    Line {
        order: order_index,
        line_no,
        product,
        quantity,
        unit_price,
        discount_pct: 5 * weighted(rng, &discount_weights) as u32,
        updated_at: order.entered_at,
    }
}
