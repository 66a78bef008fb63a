//! Sales-force extracts: annual targets per rep and for the company, the monthly target
//! distribution, and CRM activities (visits and calls) per rep.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::calendar::{random_date, span_months, LAST_DAY};
use super::company::Customer;
use super::draw::{geometric, weighted};
use super::orders::{MONTHLY_GROWTH, SEASON};
use super::reps::{Roster, REP_COUNT};
use super::stories::{StoryPlan, UNDER_REPS};

/// Years with targets.
pub(crate) const TARGET_YEARS: [i32; 5] = [2022, 2023, 2024, 2025, 2026];

/// Monthly target distribution of a year in hundredths of a percent (sums to exactly 10,000):
/// the seasonal pattern with the growth inside the year, rounded by largest remainder.
pub(crate) fn distribution() -> [u32; 12] {
    let mut trend = 1.0;
    let weights: Vec<f64> = SEASON
        .iter()
        .map(|s| {
            let w = s * trend;
            trend *= MONTHLY_GROWTH;
            w
        })
        .collect();
    let total: f64 = weights.iter().sum();
    let raw: Vec<f64> = weights.iter().map(|w| w / total * 10_000.0).collect();
    let mut out = [0_u32; 12];
    for (o, r) in out.iter_mut().zip(&raw) {
        *o = r.floor() as u32;
    }
    let short = 10_000 - out.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..12).collect();
    order.sort_by(|&a, &b| {
        (raw[b] - raw[b].floor())
            .total_cmp(&(raw[a] - raw[a].floor()))
            .then(a.cmp(&b))
    });
    for &m in order.iter().take(short as usize) {
        out[m] += 1;
    }
    out
}

/// Annual targets per (year, rep) in USD: what the rep would sell without the rep stories
/// (2026 annualised from January-September by the distribution), plus 2-10 %, rounded to
/// hundreds.
pub(crate) fn targets(
    rng: &mut ChaCha8Rng,
    basis: &BTreeMap<(usize, i32), Decimal>,
) -> BTreeMap<(i32, usize), Decimal> {
    let pct = distribution();
    let jan_to_sep: u32 = pct[..9].iter().sum();
    let hundred = Decimal::ONE_HUNDRED;
    let mut out = BTreeMap::new();
    for year in TARGET_YEARS {
        for rep in 0..REP_COUNT {
            let Some(&sold) = basis.get(&(rep, year)) else {
                continue;
            };
            let annual = if year == 2026 {
                sold * Decimal::from(10_000) / Decimal::from(jan_to_sep)
            } else {
                sold
            };
            let uplift = Decimal::from(rng.random_range(102..=110));
            let target = (annual * uplift / hundred / hundred).round() * hundred;
            out.insert((year, rep), target.round_dp(2));
        }
    }
    out
}

/// One CRM activity.
#[derive(Clone, Debug)]
pub(crate) struct Activity {
    pub rep: usize,
    pub customer: usize,
    pub date: NaiveDate,
    pub visit: bool,
    pub outcome: &'static str,
}

const VISIT_OUTCOMES: [(&str, u32); 4] = [
    ("interested", 35),
    ("follow_up", 35),
    ("not_interested", 15),
    ("order_placed", 15),
];
const CALL_OUTCOMES: [(&str, u32); 4] = [
    ("interested", 20),
    ("follow_up", 30),
    ("not_interested", 15),
    ("no_answer", 35),
];

/// About four visits and calls per rep and month (times the scale) with the rep's own accounts;
/// the under-performing reps are much less active during their story quarters.
pub(crate) fn activities(
    rng: &mut ChaCha8Rng,
    customers: &[Customer],
    roster: &Roster,
    scale: u32,
) -> Vec<Activity> {
    let mut out = Vec::new();
    let visit_w: Vec<u32> = VISIT_OUTCOMES.iter().map(|o| o.1).collect();
    let call_w: Vec<u32> = CALL_OUTCOMES.iter().map(|o| o.1).collect();
    for month in span_months() {
        let start = month.first_day();
        let end = month.last_day().min(LAST_DAY);
        let mut accounts: Vec<Vec<usize>> = vec![Vec::new(); REP_COUNT];
        for (c, cust) in customers.iter().enumerate() {
            if cust.created_on <= end && cust.churned_on.is_none_or(|d| d >= start) {
                let owner = roster.account_rep(&cust.rep_preference, cust.region, start);
                accounts[owner].push(c);
            }
        }
        for (rep, own) in accounts.iter().enumerate() {
            let from = start.max(roster.hired[rep]);
            if from > end || roster.team_on(rep, from).is_none() || own.is_empty() {
                continue;
            }
            let mean = if UNDER_REPS.contains(&rep) && StoryPlan::in_rep_story(start) {
                1.5
            } else {
                4.0
            } * f64::from(scale);
            let n = geometric(rng, mean, 60 * i64::from(scale));
            for _ in 0..n {
                let visit = rng.random_range(0..100) < 40;
                let outcome = if visit {
                    VISIT_OUTCOMES[weighted(rng, &visit_w)].0
                } else {
                    CALL_OUTCOMES[weighted(rng, &call_w)].0
                };
                out.push(Activity {
                    rep,
                    customer: own[rng.random_range(0..own.len())],
                    date: random_date(rng, from, end),
                    visit,
                    outcome,
                });
            }
        }
    }
    out.sort_by_key(|a| (a.date, a.rep));
    out
}
