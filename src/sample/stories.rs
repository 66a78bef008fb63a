//! The planted stories: which reps, region, category, SKUs, campaigns, team and customers carry
//! them, over which periods, and the rows of `stories.csv` that name each one.
//!
//! Fixed entities (reps, region, team, campaigns) are constants; entities that depend on the
//! drawn data (SKUs by popularity, customers by buying volume) are chosen by [`plan`].

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::calendar::{add_days, random_date, span_days, ymd, FIRST_DAY};
use super::company::{Customer, Product, REGIONS};
use super::draw::distinct;
use super::reps::{rep_id, TEAMS};

/// Reps far below target in [`REP_STORY_FROM`]..=[`REP_STORY_TO`]: `R012` (South A), `R016`
/// (North B).
pub(crate) const UNDER_REPS: [usize; 2] = [11, 15];
/// The rep far above target in the same two quarters: `R013` (East A).
pub(crate) const STAR_REP: usize = 12;
/// First day of the two quarters of the rep stories (2025-Q2).
pub(crate) const REP_STORY_FROM: NaiveDate = ymd(2025, 4, 1);
/// Last day of the rep stories (end of 2025-Q3).
pub(crate) const REP_STORY_TO: NaiveDate = ymd(2025, 9, 30);
/// Share of an under-performer's orders kept in the story quarters.
pub(crate) const UNDER_KEEP: f64 = 0.15;
/// Extra orders for the star's accounts in the story quarters, per order they would place.
pub(crate) const STAR_EXTRA: f64 = 2.5;

/// The region whose market share falls: West. Its customers buy less every month, from 100 %
/// of their normal volume in January 2022 to 15 % in September 2026, while its market grows
/// faster than the others.
pub(crate) const DECLINING_REGION: usize = 3;
/// Buying volume of the declining region's customers in the last month, relative to the first.
pub(crate) const DECLINE_TO: f64 = 0.15;

/// The category with a strong fourth quarter, and how much more often it is picked then.
pub(crate) const SEASONAL_CATEGORY: &str = "Technology";
pub(crate) const SEASONAL_LIFT: f64 = 2.6;

/// The region whose default ship mode changed to `Economy` (slow, mostly late) on
/// [`LATE_FROM`]: South.
pub(crate) const LATE_REGION: usize = 1;
pub(crate) const LATE_FROM: NaiveDate = ymd(2025, 4, 1);

/// The team whose qualified -> proposal conversion collapses: North A.
pub(crate) const COLLAPSE_TEAM: usize = 0;
pub(crate) const COLLAPSE_FROM: NaiveDate = ymd(2025, 7, 1);
pub(crate) const COLLAPSE_TO: NaiveDate = ymd(2026, 6, 30);

/// Churned customers stop ordering on this day; the returners order again from
/// [`RETURN_FROM`].
pub(crate) const CHURN_FROM: NaiveDate = ymd(2024, 4, 1);
pub(crate) const RETURN_FROM: NaiveDate = ymd(2025, 10, 1);
/// Customers in the churn story, of whom [`RETURNER_COUNT`] come back.
const CHURNER_COUNT: usize = 12;
const RETURNER_COUNT: usize = 3;

/// The returns spike: lines of the spike SKU shipped in this window are often returned as
/// defective.
pub(crate) const SPIKE_FROM: NaiveDate = ymd(2025, 5, 1);
pub(crate) const SPIKE_TO: NaiveDate = ymd(2025, 10, 31);

/// Campaign indexes (into `marketing::CAMPAIGNS`) of the money-losing and the high-ROAS campaign.
pub(crate) const LOSS_CAMPAIGN: usize = 6;
pub(crate) const HIGH_ROAS_CAMPAIGN: usize = 11;

/// Number of supplier shortages per stock-out SKU.
const EPISODES: usize = 5;

/// The data-dependent story entities.
#[derive(Clone, Debug)]
pub(crate) struct StoryPlan {
    /// Top sellers that stock out repeatedly (product indexes, ascending).
    pub stockout: Vec<usize>,
    /// Supplier shortages per stock-out SKU (same order): first and last day nothing arrives.
    pub shortages: Vec<Vec<(NaiveDate, NaiveDate)>>,
    /// Products whose stock piles up (purchasing keeps over-ordering from 2024).
    pub pileup: Vec<usize>,
    /// The product with the returns spike.
    pub spike: usize,
    /// Customers who stop ordering on [`CHURN_FROM`] (returners included).
    pub churners: Vec<usize>,
    /// Churned customers who order again from [`RETURN_FROM`].
    pub returners: Vec<usize>,
}

impl StoryPlan {
    pub(crate) fn is_stockout(&self, product: usize) -> bool {
        self.stockout.contains(&product)
    }

    /// Whether a product takes part in an inventory or returns story.
    pub(crate) fn is_story_product(&self, product: usize) -> bool {
        self.stockout.contains(&product) || self.pileup.contains(&product) || product == self.spike
    }

    pub(crate) fn is_churner(&self, customer: usize) -> bool {
        self.churners.contains(&customer)
    }

    pub(crate) fn is_returner(&self, customer: usize) -> bool {
        self.returners.contains(&customer)
    }

    /// Whether a story rep's orders carry the rep story on `date`.
    pub(crate) fn in_rep_story(date: NaiveDate) -> bool {
        (REP_STORY_FROM..=REP_STORY_TO).contains(&date)
    }
}

/// Expected units of a product per line, for ranking top sellers.
fn units_weight(p: &Product) -> f64 {
    p.weight * if p.bulk { 7.0 } else { 2.5 }
}

/// Chooses the data-dependent entities; takes the churners out of the random churn.
pub(crate) fn plan(
    rng: &mut ChaCha8Rng,
    customers: &mut [Customer],
    products: &[Product],
    scale: u32,
) -> StoryPlan {
    let mut by_units: Vec<usize> = (0..products.len()).collect();
    by_units.sort_by(|&a, &b| units_weight(&products[b]).total_cmp(&units_weight(&products[a])));
    let mut by_lines: Vec<usize> = (0..products.len()).collect();
    by_lines.sort_by(|&a, &b| products[b].weight.total_cmp(&products[a].weight));
    let not_seasonal = |p: usize| products[p].category != SEASONAL_CATEGORY;

    // Stock-outs: items sold by the piece among the ten most ordered products.
    let top: Vec<usize> = by_lines
        .iter()
        .copied()
        .take(10)
        .filter(|&p| not_seasonal(p) && !products[p].bulk)
        .collect();
    let stockout = distinct(rng, &top, 3);
    let shortages = stockout.iter().map(|_| shortages(rng)).collect();

    let spike = by_lines
        .iter()
        .copied()
        .find(|&p| !products[p].bulk && not_seasonal(p) && !stockout.contains(&p))
        .unwrap_or(0);
    let middle: Vec<usize> = by_units[by_units.len() * 3 / 8..by_units.len() * 7 / 8]
        .iter()
        .copied()
        .filter(|&p| !stockout.contains(&p) && p != spike)
        .collect();
    let pileup = distinct(rng, &middle, 3);

    // Churners: established accounts (opened before 2021) that buy often, but not the biggest.
    let total: f64 = customers.iter().map(|c| c.weight).sum();
    let mut by_weight: Vec<usize> = (0..customers.len()).collect();
    by_weight.sort_by(|&a, &b| customers[b].weight.total_cmp(&customers[a].weight));
    let eligible: Vec<usize> = by_weight
        .iter()
        .copied()
        .skip(10)
        .filter(|&c| {
            let cust = &customers[c];
            // About 110 orders a month (at scale 1) over the 27 months before the churn.
            let orders = 110.0 * f64::from(scale) * 27.0;
            cust.created_on < ymd(2021, 1, 1) && cust.weight / total * orders >= 12.0
        })
        .collect();
    let churners = distinct(rng, &eligible, CHURNER_COUNT);
    let mut heaviest = churners.clone();
    heaviest.sort_by(|&a, &b| customers[b].weight.total_cmp(&customers[a].weight));
    let mut returners: Vec<usize> = heaviest.into_iter().take(RETURNER_COUNT).collect();
    returners.sort_unstable();
    for &c in &churners {
        customers[c].churned_on = None;
    }
    StoryPlan {
        stockout,
        shortages,
        pileup,
        spike,
        churners,
        returners,
    }
}

/// [`EPISODES`] supplier shortages of 60-80 days, one in each equal slice of the span.
fn shortages(rng: &mut ChaCha8Rng) -> Vec<(NaiveDate, NaiveDate)> {
    let slice = span_days() / EPISODES;
    (0..EPISODES)
        .map(|k| {
            let from = add_days(FIRST_DAY, (k * slice + 60) as u64);
            let to = add_days(FIRST_DAY, ((k + 1) * slice - 110) as u64);
            let start = random_date(rng, from, to);
            let end = add_days(start, rng.random_range(60..=80));
            (start, end)
        })
        .collect()
}

/// One row of `stories.csv`.
pub(crate) struct Story {
    pub id: &'static str,
    pub kind: &'static str,
    pub entity: String,
    pub period: &'static str,
    pub signal: String,
}

/// Everything the story rows need to name their entities.
pub(crate) struct Names<'a> {
    pub skus: Vec<&'a str>,
    pub customer_ids: Vec<&'a str>,
    pub campaign_ids: Vec<String>,
}

/// The rows of `stories.csv`, one per story entity.
pub(crate) fn rows(plan: &StoryPlan, names: &Names) -> Vec<Story> {
    let sku = |p: usize| names.skus.get(p).copied().unwrap_or_default().to_string();
    let customer = |c: usize| {
        names
            .customer_ids
            .get(c)
            .copied()
            .unwrap_or_default()
            .to_string()
    };
    let campaign = |c: usize| names.campaign_ids.get(c).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for &r in &UNDER_REPS {
        out.push(Story {
            id: "S01",
            kind: "rep_below_target",
            entity: format!("rep {}", rep_id(r)),
            period: "2025-Q2..2025-Q3",
            signal: "quarterly attainment < 40 % in both quarters (net revenue in USD of orders \
                     with this rep_id booked in the quarter / (annual_target x the quarter's \
                     target_distribution pct)); their 2024 average is > 70 %"
                .to_string(),
        });
    }
    out.push(Story {
        id: "S02",
        kind: "rep_above_target",
        entity: format!("rep {}", rep_id(STAR_REP)),
        period: "2025-Q2..2025-Q3",
        signal: "quarterly attainment > 150 % in both quarters (same measure as S01)".to_string(),
    });
    out.push(Story {
        id: "S03",
        kind: "market_share_decline",
        entity: format!("region {}", REGIONS[DECLINING_REGION]),
        period: "2022..2025",
        signal: "share of market (net revenue in USD / market_size of 華西) in 2025 < 70 % of \
                 2022; every other region's 2025 share >= 90 % of its 2022 share"
            .to_string(),
    });
    out.push(Story {
        id: "S04",
        kind: "seasonal_category",
        entity: format!("category {SEASONAL_CATEGORY}"),
        period: "Q4 of 2022..2025",
        signal: "Q4 net revenue >= 2.0 x the mean of Q1-Q3 in every year 2022-2025; every \
                 other category < 1.7 x"
            .to_string(),
    });
    for &p in &plan.stockout {
        out.push(Story {
            id: "S05",
            kind: "stockout",
            entity: format!("sku {}", sku(p)),
            period: "2022-01..2026-09",
            signal: "one of the 10 SKUs on most order lines; end-of-day on-hand (opening + \
                     receipts - shipments) is 0 on >= 60 days in >= 4 separate spells of >= 7 \
                     days (over its warehouses) and orders with it ship late about twice as \
                     often; no SKU outside S05 is ever at 0, none is ever negative"
                .to_string(),
        });
    }
    for &p in &plan.pileup {
        out.push(Story {
            id: "S06",
            kind: "overstock",
            entity: format!("sku {}", sku(p)),
            period: "2026-01..2026-09",
            signal: "days of inventory (mean month-end on_hand / mean daily shipped units, \
                     2026) > 8 x the median SKU's; every SKU outside S06 < 6 x"
                .to_string(),
        });
    }
    out.push(Story {
        id: "S07",
        kind: "campaign_loses_money",
        entity: format!("campaign {}", campaign(LOSS_CAMPAIGN)),
        period: "campaign dates + 30 days",
        signal: "attributed net revenue in USD (orders with this campaign_id) < total spend \
                 (ROAS < 1)"
            .to_string(),
    });
    out.push(Story {
        id: "S08",
        kind: "campaign_high_roas",
        entity: format!("campaign {}", campaign(HIGH_ROAS_CAMPAIGN)),
        period: "campaign dates + 30 days",
        signal: "attributed net revenue in USD / total spend > 8; every other campaign < 8"
            .to_string(),
    });
    out.push(Story {
        id: "S09",
        kind: "nps_drop_after_ship_mode_change",
        entity: format!("region {}", REGIONS[LATE_REGION]),
        period: "2025-04..2026-09",
        signal: "from 2025-04 most (> 50 %) South orders ship by the new mode Economy (never \
                 used before) and > 40 % ship after promised_date (< 20 % before); South NPS \
                 (survey responses before vs from 2025-04-01) falls by > 30 points to below 0; \
                 every other region's NPS stays above 0 and falls by < 25 points"
            .to_string(),
    });
    out.push(Story {
        id: "S10",
        kind: "returns_spike",
        entity: format!("sku {}", sku(plan.spike)),
        period: "2025-05..2025-10",
        signal: "returned units / shipped units of its completed lines shipped in the period \
                 >= 20 % (< 5 % for its lines shipped outside it); reason defective >= 70 % of \
                 those returns"
            .to_string(),
    });
    out.push(Story {
        id: "S11",
        kind: "funnel_stage_collapse",
        entity: format!("team {}", TEAMS[COLLAPSE_TEAM].0),
        period: "2025-07..2026-06",
        signal: "of the team's opportunities created in the period that reached qualified, \
                 < 35 % reached proposal (>= 50 % for every other team in the period and for \
                 every team, this one included, before it)"
            .to_string(),
    });
    for &c in &plan.churners {
        let (id, kind, signal) = if plan.is_returner(c) {
            (
                "S13",
                "customer_returns",
                ">= 5 orders before 2024-04-01, none from 2024-04-01 to 2025-09-30, >= 2 \
                 from 2025-10-01",
            )
        } else {
            (
                "S12",
                "customer_churn",
                ">= 5 orders before 2024-04-01, none from 2024-04-01 to 2026-09-30",
            )
        };
        out.push(Story {
            id,
            kind,
            entity: format!("customer {}", customer(c)),
            period: "2024-04..2026-09",
            signal: signal.to_string(),
        });
    }
    out.push(Story {
        id: "S14",
        kind: "rep_moves_region",
        entity: format!("rep {}", rep_id(super::reps::MOVER)),
        period: "2024-07-01",
        signal: "two rows in reps.csv (East B until 2024-06-30, West B from 2024-07-01); the \
                 rep's orders are for East customers before and West customers after"
            .to_string(),
    });
    out.push(Story {
        id: "S15",
        kind: "rep_joins_late",
        entity: format!("rep {}", rep_id(super::reps::LATE_JOINER)),
        period: "2024-04-01",
        signal: "hired_on 2024-04-01; no orders before it; targets from 2024 only".to_string(),
    });
    out.sort_by(|a, b| a.id.cmp(b.id));
    out
}
