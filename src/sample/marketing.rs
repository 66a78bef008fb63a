//! Marketing extracts: campaign attribution of orders, daily campaign spend, leads, satisfaction
//! survey responses and market-size estimates by region, category and year.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::calendar::{add_days, month_index, random_date, LAST_DAY};
use super::campaigns::{ATTRIBUTION_DAYS, CAMPAIGNS};
use super::company::{Customer, FxRates, Product};
use super::dirt::Effective;
use super::draw::{chance, weighted};
use super::funnel::Opportunity;
use super::orders::{line_net, money, Order, Status};
use super::stories::DECLINING_REGION;
use super::Data;

/// Shuffles in place (Fisher-Yates).
fn shuffle(rng: &mut ChaCha8Rng, items: &mut [usize]) {
    for k in (1..items.len()).rev() {
        let j = rng.random_range(0..=k);
        items.swap(k, j);
    }
}

/// A campaign's budget at a scale, in USD.
pub(crate) fn budget(campaign: usize, scale: u32) -> Decimal {
    Decimal::from(CAMPAIGNS[campaign].budget) * Decimal::from(scale)
}

/// Attributes orders to campaigns: orders placed from a campaign's start to 30 days after its end,
/// drawn at random until their revenue reaches the campaign's built-in return on its budget.
pub(crate) fn attribute(rng: &mut ChaCha8Rng, orders: &mut [Order], scale: u32) {
    for (c, campaign) in CAMPAIGNS.iter().enumerate() {
        let until = add_days(campaign.end, ATTRIBUTION_DAYS);
        let mut candidates: Vec<usize> = orders
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.campaign.is_none()
                    && o.cancelled_on.is_none()
                    && campaign.start <= o.date
                    && o.date <= until
            })
            .map(|(i, _)| i)
            .collect();
        shuffle(rng, &mut candidates);
        let target = budget(c, scale) * Decimal::from(campaign.roas_pct) / Decimal::ONE_HUNDRED;
        let enough = target * Decimal::new(98, 2);
        let cap = target * Decimal::new(103, 2);
        let mut sum = Decimal::ZERO;
        for o in candidates {
            if sum >= enough {
                break;
            }
            if sum + orders[o].usd <= cap {
                sum += orders[o].usd;
                orders[o].campaign = Some(c);
            }
        }
    }
}

/// Daily spend of each campaign over its dates: (day, campaign, USD). The total is 92-106 % of
/// the budget.
pub(crate) fn spend(rng: &mut ChaCha8Rng, scale: u32) -> Vec<(NaiveDate, usize, Decimal)> {
    let mut out = Vec::new();
    for (c, campaign) in CAMPAIGNS.iter().enumerate() {
        let days = u64::try_from((campaign.end - campaign.start).num_days()).unwrap_or(0) + 1;
        let total_cents =
            i64::from(campaign.budget) * i64::from(scale) * 100 * rng.random_range(92..=106_i64)
                / 100;
        let weights: Vec<i64> = (0..days).map(|_| rng.random_range(60..=140)).collect();
        let sum: i64 = weights.iter().sum();
        let mut cents: Vec<i64> = weights.iter().map(|w| total_cents * w / sum).collect();
        let short = total_cents - cents.iter().sum::<i64>();
        if let Some(last) = cents.last_mut() {
            *last += short;
        }
        for (d, c_cents) in cents.into_iter().enumerate() {
            out.push((
                add_days(campaign.start, d as u64),
                c,
                Decimal::new(c_cents, 2),
            ));
        }
    }
    out.sort_by_key(|(day, c, _)| (*day, *c));
    out
}

/// One marketing lead.
#[derive(Clone, Debug)]
pub(crate) struct Lead {
    pub campaign: usize,
    pub created: NaiveDate,
    /// The customer it was matched to, once converted.
    pub customer: Option<usize>,
    /// Index into the opportunity list.
    pub opportunity: Option<usize>,
}

/// Leads per campaign: one per campaign opportunity, one per customer who bought through the
/// campaign without an opportunity, and many that never converted.
pub(crate) fn leads(
    rng: &mut ChaCha8Rng,
    orders: &[Order],
    opportunities: &[Opportunity],
    scale: u32,
) -> Vec<Lead> {
    let mut out = Vec::new();
    let with_opportunity: Vec<bool> = {
        let mut v = vec![false; orders.len()];
        for opp in opportunities {
            if let Some(o) = opp.order {
                v[o] = true;
            }
        }
        v
    };
    for (c, campaign) in CAMPAIGNS.iter().enumerate() {
        for (k, opp) in opportunities.iter().enumerate() {
            if opp.campaign != Some(c) {
                continue;
            }
            let from = campaign.start.max(opp.created - chrono::Days::new(10));
            out.push(Lead {
                campaign: c,
                created: random_date(rng, from.min(opp.created), opp.created),
                customer: Some(opp.customer),
                opportunity: Some(k),
            });
        }
        let mut first_order: BTreeMap<usize, NaiveDate> = BTreeMap::new();
        for (o, order) in orders.iter().enumerate() {
            if order.campaign == Some(c) && !with_opportunity[o] {
                let e = first_order.entry(order.customer).or_insert(order.date);
                *e = (*e).min(order.date);
            }
        }
        for (customer, first) in first_order {
            out.push(Lead {
                campaign: c,
                created: random_date(rng, campaign.start, first.min(campaign.end)),
                customer: Some(customer),
                opportunity: None,
            });
        }
        let cost_per_lead = rng.random_range(150..=400_u32);
        let cold = (campaign.budget * scale).div_ceil(cost_per_lead);
        for _ in 0..cold {
            out.push(Lead {
                campaign: c,
                created: random_date(rng, campaign.start, campaign.end.min(LAST_DAY)),
                customer: None,
                opportunity: None,
            });
        }
    }
    out.sort_by_key(|l| (l.created, l.campaign));
    out
}

/// One survey response.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub date: NaiveDate,
    pub customer: usize,
    pub product: usize,
    pub csat: u32,
    pub nps: u32,
}

/// Survey responses to about 35 % of delivered orders, 1-14 days after delivery. Late shipments
/// make detractors.
pub(crate) fn survey(rng: &mut ChaCha8Rng, data: &Data, effective: &Effective) -> Vec<Response> {
    let mut out = Vec::new();
    for (o, order) in data.orders.iter().enumerate() {
        if !effective.order_loaded[o] || effective.status[o] != Status::Completed {
            continue;
        }
        let Some(delivered) = order.delivered() else {
            continue;
        };
        if !chance(rng, 0.35) {
            continue;
        }
        let date = add_days(delivered, rng.random_range(1..=14));
        let loaded: Vec<usize> = order
            .lines()
            .filter(|&l| effective.quantity[l].is_some())
            .collect();
        if date > LAST_DAY || loaded.is_empty() {
            continue;
        }
        let line = loaded[rng.random_range(0..loaded.len())];
        // Detractor (0-6), passive (7-8), promoter (9-10).
        let class = if order.late() {
            weighted(rng, &[65, 25, 10])
        } else {
            weighted(rng, &[12, 33, 55])
        };
        let (nps, csat) = match class {
            0 => (
                weighted(rng, &[2, 2, 3, 4, 6, 8, 10]) as u32,
                1 + weighted(rng, &[20, 40, 40]) as u32,
            ),
            1 => (
                7 + weighted(rng, &[50, 50]) as u32,
                3 + weighted(rng, &[40, 60]) as u32,
            ),
            _ => (
                9 + weighted(rng, &[55, 45]) as u32,
                4 + weighted(rng, &[40, 60]) as u32,
            ),
        };
        out.push(Response {
            date,
            customer: order.customer,
            product: data.lines[line].product,
            csat,
            nps,
        });
    }
    out.sort_by_key(|r| r.date);
    out
}

/// Chinese names of the regions, in the order of `REGIONS` (North, South, East, West, Central).
pub(crate) const REGIONS_CN: [&str; 5] = ["華北", "華南", "華東", "華西", "華中"];
/// Categories and their Chinese names in the market-size extract.
pub(crate) const CATEGORIES_CN: [(&str, &str); 6] = [
    ("Furniture", "家具"),
    ("Office Supplies", "辦公用品"),
    ("Technology", "科技產品"),
    ("Appliances", "家用電器"),
    ("Paper", "紙品"),
    ("Storage", "收納用品"),
];

/// Market size in USD per (year, region, category index): the company holds 4-6 % of each market
/// in 2022; markets grow 8 % a year (the declining region's 11 %), +/- 3 % noise.
pub(crate) fn market_size(
    rng: &mut ChaCha8Rng,
    orders: &[Order],
    lines: &[super::orders::Line],
    products: &[Product],
    customers: &[Customer],
    fx: &FxRates,
) -> Vec<(i32, usize, usize, Decimal)> {
    let mut revenue = [[Decimal::ZERO; 6]; 5];
    for order in orders {
        if order.date.year() != 2022 || order.cancelled_on.is_some() {
            continue;
        }
        let rate = fx.rate(month_index(order.date), order.currency);
        let region = customers[order.customer].region;
        for line in &lines[order.lines()] {
            let category = CATEGORIES_CN
                .iter()
                .position(|(c, _)| *c == products[line.product].category)
                .unwrap_or(0);
            revenue[region][category] +=
                money(line_net(line.quantity, line.unit_price, line.discount_pct) * rate);
        }
    }
    let share_bp: Vec<Vec<i64>> = (0..5)
        .map(|_| (0..6).map(|_| rng.random_range(400..=600)).collect())
        .collect();
    let thousand = Decimal::from(1_000);
    let mut out = Vec::new();
    for year in 2022..=2026 {
        for region in 0..5 {
            for category in 0..6 {
                let mut size = revenue[region][category] * Decimal::from(10_000)
                    / Decimal::from(share_bp[region][category]);
                let growth = if region == DECLINING_REGION { 111 } else { 108 };
                for _ in 2022..year {
                    size = size * Decimal::from(growth) / Decimal::ONE_HUNDRED;
                }
                size = size * Decimal::from(rng.random_range(97..=103)) / Decimal::ONE_HUNDRED;
                let size = ((size / thousand).round() * thousand).max(thousand);
                out.push((year, region, category, size));
            }
        }
    }
    out
}
