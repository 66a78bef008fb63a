//! Returns and exchanges of delivered order lines, with reasons; one product has a spike of
//! defective returns.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{add_days, LAST_DAY};
use super::dirt::Effective;
use super::draw::{chance, weighted};
use super::orders::Status;
use super::stories::{StoryPlan, SPIKE_FROM, SPIKE_TO};
use super::Data;

/// Return reasons.
pub(crate) const REASONS: [&str; 5] = [
    "defective",
    "damaged",
    "wrong_item",
    "not_as_described",
    "changed_mind",
];
const BASE_REASONS: [u32; 5] = [10, 30, 20, 15, 25];
const SPIKE_REASONS: [u32; 5] = [90, 4, 3, 3, 0];

/// One return.
#[derive(Clone, Debug)]
pub(crate) struct Return {
    pub line: usize,
    pub date: NaiveDate,
    pub quantity: i64,
    pub reason: usize,
    pub exchange: bool,
    pub processed: Option<NaiveDate>,
}

/// Returns of delivered lines that load: about 2 % of lines, 40 % of the spike product's lines
/// shipped in the spike window. Returned goods go to a quarantine area, not back on hand.
pub(crate) fn returns(
    rng: &mut ChaCha8Rng,
    data: &Data,
    effective: &Effective,
    plan: &StoryPlan,
) -> Vec<Return> {
    let mut out = Vec::new();
    for (o, order) in data.orders.iter().enumerate() {
        if !effective.order_loaded[o] || effective.status[o] != Status::Completed {
            continue;
        }
        let (Some(delivered), Some(ship)) = (order.delivered(), order.ship) else {
            continue;
        };
        for l in order.lines() {
            if effective.quantity[l].is_none() {
                continue;
            }
            let line = &data.lines[l];
            let spike = line.product == plan.spike && (SPIKE_FROM..=SPIKE_TO).contains(&ship);
            if !chance(rng, if spike { 0.4 } else { 0.02 }) {
                continue;
            }
            let date = add_days(delivered, rng.random_range(2..=30));
            if date > LAST_DAY {
                continue;
            }
            let reason = weighted(rng, if spike { &SPIKE_REASONS } else { &BASE_REASONS });
            let quantity = if spike && chance(rng, 0.7) {
                line.quantity
            } else {
                rng.random_range(1..=line.quantity.max(1))
            };
            let exchange = chance(rng, if reason <= 1 { 0.5 } else { 0.15 });
            let processed =
                Some(add_days(date, rng.random_range(1..=10))).filter(|d| *d <= LAST_DAY);
            out.push(Return {
                line: l,
                date,
                quantity,
                reason,
                exchange,
                processed,
            });
        }
    }
    out.sort_by_key(|r| (r.date, r.line));
    out
}
