//! The sales funnel: opportunities with their stage history (lead, qualified, proposal,
//! negotiation, won or lost). Every won opportunity is a large order; lost ones are drawn around
//! it from per-stage conversion rates, which collapse at one stage for the story team.

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::calendar::{add_days, random_date, ymd, FIRST_DAY, LAST_DAY};
use super::campaigns::{ATTRIBUTION_DAYS, CAMPAIGNS};
use super::company::Customer;
use super::draw::chance;
use super::orders::{money, Order};
use super::reps::Roster;
use super::stories::{COLLAPSE_FROM, COLLAPSE_TEAM, COLLAPSE_TO};

/// Stage names, in funnel order; `won` and `lost` close an opportunity.
pub(crate) const STAGES: [&str; 6] = [
    "lead",
    "qualified",
    "proposal",
    "negotiation",
    "won",
    "lost",
];
/// Win probability the CRM shows at each stage.
pub(crate) const PROBABILITY: [&str; 6] = ["0.10", "0.25", "0.50", "0.75", "1.00", "0.00"];
const WON: usize = 4;
const LOST: usize = 5;

/// Orders at least this large in USD went through the funnel as an opportunity (most of them).
const DEAL_MIN_USD: i64 = 2_500;
/// Share of those orders that did.
const DEAL_SHARE: f64 = 0.6;

/// Normal conversion from lead -> qualified, qualified -> proposal, proposal -> negotiation and
/// negotiation -> won.
const CONVERSION: [f64; 4] = [0.70, 0.75, 0.80, 0.65];
/// The story team's qualified -> proposal conversion during the collapse.
const COLLAPSED: f64 = 0.20;

/// One stage entry.
#[derive(Clone, Debug)]
pub(crate) struct StageEntry {
    pub stage: usize,
    pub entered: NaiveDate,
    pub amount: Decimal,
}

/// One opportunity.
#[derive(Clone, Debug)]
pub(crate) struct Opportunity {
    pub customer: usize,
    pub rep: usize,
    pub campaign: Option<usize>,
    pub created: NaiveDate,
    /// The order it became (won opportunities).
    pub order: Option<usize>,
    pub stages: Vec<StageEntry>,
}

impl Opportunity {
    pub(crate) fn status(&self) -> &'static str {
        match self.stages.last().map(|s| s.stage) {
            Some(WON) => "won",
            Some(LOST) => "lost",
            _ => "open",
        }
    }

    pub(crate) fn closed(&self) -> Option<NaiveDate> {
        self.stages
            .last()
            .filter(|s| s.stage >= WON)
            .map(|s| s.entered)
    }

    pub(crate) fn amount(&self) -> Decimal {
        self.stages.last().map_or(Decimal::ZERO, |s| s.amount)
    }
}

fn conversions(team: Option<usize>, created: NaiveDate) -> [f64; 4] {
    let mut rates = CONVERSION;
    if team == Some(COLLAPSE_TEAM) && (COLLAPSE_FROM..=COLLAPSE_TO).contains(&created) {
        rates[1] = COLLAPSED;
    }
    rates
}

/// Rounds to a multiple of `step` (whole dollars).
fn round_to(value: Decimal, step: i64) -> Decimal {
    let step = Decimal::from(step);
    ((value / step).round() * step).max(step)
}

/// Stage amounts converging on the deal value `v`: rough at lead, exact at the close.
fn amounts(rng: &mut ChaCha8Rng, v: Decimal, upto: usize) -> Vec<Decimal> {
    let pct = |rng: &mut ChaCha8Rng, lo: i64, hi: i64| {
        v * Decimal::from(rng.random_range(lo..=hi)) / Decimal::ONE_HUNDRED
    };
    let lead = round_to(pct(rng, 60, 150), 500);
    let qualified = if chance(rng, 0.5) {
        lead
    } else {
        round_to(pct(rng, 80, 125), 100)
    };
    let proposal = round_to(pct(rng, 95, 115), 10);
    let negotiation = round_to(pct(rng, 100, 106), 1);
    let mut out = vec![lead, qualified, proposal, negotiation, money(v)];
    out.truncate(upto + 1);
    out
}

/// The opportunities, ordered by creation day.
pub(crate) fn opportunities(
    rng: &mut ChaCha8Rng,
    orders: &[Order],
    customers: &[Customer],
    roster: &Roster,
) -> Vec<Opportunity> {
    let mut by_region: Vec<Vec<usize>> = vec![Vec::new(); 5];
    for (c, cust) in customers.iter().enumerate() {
        if let Some(list) = by_region.get_mut(cust.region) {
            list.push(c);
        }
    }
    let mut out = Vec::new();
    for (o, order) in orders.iter().enumerate() {
        if order.cancelled_on.is_some()
            || order.usd < Decimal::from(DEAL_MIN_USD)
            || order.date < ymd(2022, 3, 1)
            || !chance(rng, DEAL_SHARE)
        {
            continue;
        }
        let cycle = rng.random_range(20..=80_u64);
        let mut created = (order.date - chrono::Days::new(cycle))
            .max(FIRST_DAY)
            .max(roster.hired[order.rep]);
        if let Some(c) = order.campaign {
            created = created.max(CAMPAIGNS[c].start).min(order.date);
        }
        let span = u64::try_from((order.date - created).num_days()).unwrap_or(0);
        let weights: [u64; 4] = [
            rng.random_range(1..=4),
            rng.random_range(2..=6),
            rng.random_range(1..=4),
            rng.random_range(1..=3),
        ];
        let total: u64 = weights.iter().sum();
        let values = amounts(rng, order.usd, WON);
        let mut day = created;
        let mut elapsed = 0;
        let mut stages = Vec::with_capacity(5);
        for (s, amount) in values.into_iter().enumerate() {
            if s > 0 {
                elapsed += weights[s - 1];
                day = add_days(created, span * elapsed / total);
            }
            stages.push(StageEntry {
                stage: s,
                entered: if s == WON { order.date } else { day },
                amount,
            });
        }
        let team = roster
            .team_on(order.rep, created)
            .or_else(|| roster.team_on(order.rep, order.date));
        out.push(Opportunity {
            customer: order.customer,
            rep: order.rep,
            campaign: order.campaign,
            created,
            order: Some(o),
            stages,
        });

        // The ones lost along the way, per won one.
        let c = conversions(team, created);
        let neg = 1.0 / c[3];
        let prop = neg / c[2];
        let qual = prop / c[1];
        let lead = qual / c[0];
        let losses = [lead - qual, qual - prop, prop - neg, neg - 1.0];
        for (stage, expected) in losses.into_iter().enumerate() {
            let whole = expected.floor();
            let n = whole as usize + usize::from(chance(rng, expected - whole));
            for _ in 0..n {
                let hired = roster.hired[order.rep];
                let lost =
                    lost_opportunity(rng, order, (created, hired), stage, customers, &by_region);
                if let Some(lost) = lost {
                    out.push(lost);
                }
            }
        }
    }
    out.sort_by_key(|o| o.created);
    out
}

fn lost_opportunity(
    rng: &mut ChaCha8Rng,
    won: &Order,
    (near, earliest): (NaiveDate, NaiveDate),
    reached: usize,
    customers: &[Customer],
    by_region: &[Vec<usize>],
) -> Option<Opportunity> {
    let created = random_date(
        rng,
        (near - chrono::Days::new(30)).max(FIRST_DAY).max(earliest),
        add_days(near, 30).min(LAST_DAY),
    );
    let region = customers[won.customer].region;
    let pool: Vec<usize> = by_region[region]
        .iter()
        .copied()
        .filter(|&c| customers[c].created_on <= created)
        .collect();
    let customer = if pool.is_empty() {
        won.customer
    } else {
        pool[rng.random_range(0..pool.len())]
    };
    let value = won.usd * Decimal::from(rng.random_range(50..=150)) / Decimal::ONE_HUNDRED;
    let values = amounts(rng, value, reached);
    let mut stages = Vec::new();
    let mut day = created;
    for (s, amount) in values.into_iter().enumerate() {
        if s > 0 {
            day = add_days(day, rng.random_range(3..=15));
        }
        if day > LAST_DAY {
            break;
        }
        stages.push(StageEntry {
            stage: s,
            entered: day,
            amount,
        });
    }
    let lost_on = add_days(day, rng.random_range(5..=30));
    if stages.len() == reached + 1 && lost_on <= LAST_DAY {
        let amount = stages.last().map_or(Decimal::ZERO, |s| s.amount);
        stages.push(StageEntry {
            stage: LOST,
            entered: lost_on,
            amount,
        });
    }
    let campaign = CAMPAIGNS
        .iter()
        .position(|c| c.start <= created && created <= add_days(c.end, ATTRIBUTION_DAYS))
        .filter(|_| chance(rng, 0.25));
    (!stages.is_empty()).then_some(Opportunity {
        customer,
        rep: won.rep,
        campaign,
        created,
        order: None,
        stages,
    })
}
