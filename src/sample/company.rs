//! Master data of the fictional company: customers, products and monthly FX rates.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};

use super::calendar::{add_days, random_date, span_months, ymd, Stamp, FIRST_DAY, LAST_DAY};
use super::draw::{chance, distinct, skewed, weighted};
use super::reps::Roster;

/// Sales regions; a customer belongs to one.
pub(crate) const REGIONS: [&str; 5] = ["North", "South", "East", "West", "Central"];
/// Order currencies, home currency first.
pub(crate) const CURRENCIES: [&str; 3] = ["USD", "EUR", "GBP"];

/// One customer account.
#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub id: String,
    pub name: String,
    pub industry: &'static str,
    pub size: &'static str,
    pub region: usize,
    pub segment: &'static str,
    pub created_on: NaiveDate,
    /// After this day the customer stops ordering (churn).
    pub churned_on: Option<NaiveDate>,
    pub updated_at: Stamp,
    /// Relative buying volume.
    pub weight: f64,
    /// Reps who have sold in the region, in the order this account would be given to them; the
    /// account owner on a day is the first one selling in the region then.
    pub rep_preference: Vec<usize>,
}

const INDUSTRIES: [(&str, u32, [&str; 3]); 8] = [
    ("Retail", 20, ["Outfitters", "Market", "Stores"]),
    ("Manufacturing", 18, ["Industries", "Fabrication", "Works"]),
    ("Healthcare", 14, ["Health", "Medical Group", "Clinics"]),
    ("Education", 10, ["Academy", "Learning", "College"]),
    ("Hospitality", 12, ["Hotels", "Hospitality", "Resorts"]),
    ("Technology", 14, ["Systems", "Labs", "Software"]),
    ("Finance", 6, ["Capital", "Financial", "Advisors"]),
    ("Logistics", 6, ["Logistics", "Freight", "Transport"]),
];

#[rustfmt::skip]
const STEMS: [&str; 48] = [
    "Northwind", "Bluebird", "Cedar", "Summit", "Harbor", "Maple", "Ironwood", "Silverline",
    "Redstone", "Golden Gate", "Pinecrest", "Riverside", "Lakeshore", "Oakridge", "Brightwater",
    "Stonebridge", "Westfield", "Eastgate", "Highland", "Meadowbrook", "Crescent", "Falcon",
    "Granite", "Horizon", "Juniper", "Keystone", "Liberty", "Magnolia", "Nova", "Orchard",
    "Pioneer", "Quarry", "Sterling", "Timber", "Union", "Vista", "Willow", "Yellowstone", "Zenith",
    "Aspen", "Beacon", "Copper", "Driftwood", "Evergreen", "Foxglove", "Hawthorn", "Ivory",
    "Jasper",
];

const LEGAL: [&str; 6] = ["Inc", "LLC", "Co", "Ltd", "Group", "Corp"];

const SURNAMES: [&str; 16] = [
    "Harper", "Lane", "Okafor", "Nguyen", "Schmidt", "Rossi", "Patel", "Kowalski", "Moreau",
    "Tanaka", "Silva", "Brennan", "Larsen", "Haddad", "Ibarra", "Wolfe",
];

/// Segments a size class falls in, with weights.
type Segments = [(&'static str, u32); 2];

/// (size, share in percent, base buying weight, segments)
const SIZES: [(&str, u32, f64, Segments); 4] = [
    ("small", 45, 1.0, [("SMB", 1), ("Mid-Market", 0)]),
    ("medium", 30, 2.2, [("SMB", 1), ("Mid-Market", 1)]),
    ("large", 17, 4.5, [("Mid-Market", 7), ("Enterprise", 3)]),
    ("enterprise", 8, 9.0, [("Enterprise", 1), ("Mid-Market", 0)]),
];

/// Number of customers for a scale: 500 at scale 1, growing by 100 per extra scale step.
pub(crate) fn customer_count(scale: u32) -> usize {
    500 + 100 * (scale as usize - 1)
}

/// Customers sorted by `created_on`, with ids `C00001..` in that order.
pub(crate) fn customers(rng: &mut ChaCha8Rng, count: usize, roster: &Roster) -> Vec<Customer> {
    let mut created: Vec<NaiveDate> = (0..count)
        .map(|_| {
            if chance(rng, 0.55) {
                random_date(rng, ymd(2015, 1, 1), ymd(2021, 12, 31))
            } else {
                random_date(rng, FIRST_DAY, ymd(2026, 8, 31))
            }
        })
        .collect();
    created.sort_unstable();

    let industry_weights: Vec<u32> = INDUSTRIES.iter().map(|i| i.1).collect();
    let size_weights: Vec<u32> = SIZES.iter().map(|s| s.1).collect();
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(count);
    for (i, created_on) in created.into_iter().enumerate() {
        let (industry, _, words) = INDUSTRIES[weighted(rng, &industry_weights)];
        let (size, _, base_weight, segments) = SIZES[weighted(rng, &size_weights)];
        let segment = segments[weighted(rng, &[segments[0].1, segments[1].1])].0;
        let region = rng.random_range(0..REGIONS.len());
        let name = unique_name(rng, &mut names, words, region);
        let mut rep_preference = roster.reps_ever_in(region);
        for k in 0..rep_preference.len() {
            let j = rng.random_range(k..rep_preference.len());
            rep_preference.swap(k, j);
        }
        let churned_on = if chance(rng, 0.18) {
            let from = add_days(created_on.max(FIRST_DAY), 90);
            (from < LAST_DAY).then(|| random_date(rng, from, LAST_DAY))
        } else {
            None
        };
        let updated_on = random_date(rng, created_on.max(ymd(2021, 6, 1)), LAST_DAY);
        out.push(Customer {
            id: format!("C{:05}", i + 1),
            name,
            industry,
            size,
            region,
            segment,
            created_on,
            churned_on,
            updated_at: Stamp::during(rng, updated_on, 6, 22),
            weight: base_weight * (1.0 + skewed(rng)) / 2.0,
            rep_preference,
        });
    }
    out
}

fn unique_name(
    rng: &mut ChaCha8Rng,
    taken: &mut BTreeSet<String>,
    words: [&str; 3],
    region: usize,
) -> String {
    let style = rng.random_range(0..100);
    let base = if style < 6 {
        // "Harper, Lane & Co": has a comma, so the CSV field is quoted.
        let pair = distinct(rng, &(0..SURNAMES.len()).collect::<Vec<_>>(), 2);
        let (a, b) = (SURNAMES[pair[0]], SURNAMES[pair[1]]);
        let legal = ["Co", "Partners", "Associates"][rng.random_range(0..3)];
        format!("{a}, {b} & {legal}")
    } else if style < 8 {
        // A name with double quotes, escaped by doubling in the CSV.
        let stem = STEMS[rng.random_range(0..STEMS.len())];
        format!("The \"{stem}\" {}", words[rng.random_range(0..3)])
    } else {
        let stem = STEMS[rng.random_range(0..STEMS.len())];
        let legal = LEGAL[rng.random_range(0..LEGAL.len())];
        format!("{stem} {} {legal}", words[rng.random_range(0..3)])
    };
    let mut name = base.clone();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = if n == 2 {
            format!("{base} {}", REGIONS[region])
        } else {
            format!("{base} {n}")
        };
    }
    taken.insert(name.clone());
    name
}

/// One product of the catalogue. Prices are in USD.
#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub sku: String,
    pub name: String,
    pub category: &'static str,
    pub subcategory: &'static str,
    pub list_price: Decimal,
    pub unit_cost: Decimal,
    /// Relative popularity.
    pub weight: f64,
    /// Sold in bulk quantities (paper, pens) rather than one or two at a time.
    pub bulk: bool,
}

struct Subcategory {
    category: &'static str,
    name: &'static str,
    noun: &'static str,
    price_cents: (u32, u32),
    bulk: bool,
    descriptors: [&'static str; 4],
}

const fn sub(
    category: &'static str,
    name: &'static str,
    noun: &'static str,
    price_cents: (u32, u32),
    bulk: bool,
    descriptors: [&'static str; 4],
) -> Subcategory {
    Subcategory {
        category,
        name,
        noun,
        price_cents,
        bulk,
        descriptors,
    }
}

#[rustfmt::skip]
const SUBCATEGORIES: [Subcategory; 17] = [
    sub("Furniture", "Chairs", "Chair", (6_000, 65_000), false,
        ["Ergonomic", "Mesh", "Executive", "Stacking"]),
    sub("Furniture", "Desks", "Desk", (15_000, 140_000), false,
        ["Standing", "Corner", "Compact", "Executive"]),
    sub("Furniture", "Bookcases", "Bookcase", (8_000, 60_000), false,
        ["Oak", "Modular", "Open", "Glass-Door"]),
    sub("Office Supplies", "Binders", "Binder", (300, 3_500), true,
        ["Ring", "Heavy-Duty", "View", "Presentation"]),
    sub("Office Supplies", "Pens", "Pen Set", (150, 2_500), true,
        ["Gel", "Ballpoint", "Fountain", "Highlighter"]),
    sub("Office Supplies", "Fasteners", "Clip Pack", (100, 1_200), true,
        ["Binder", "Paper", "Bulldog", "Magnetic"]),
    sub("Technology", "Phones", "Phone", (8_000, 110_000), false,
        ["Conference", "VoIP", "Smart", "Cordless"]),
    sub("Technology", "Computers", "Laptop", (40_000, 240_000), false,
        ["Business", "Ultralight", "Workstation", "Rugged"]),
    sub("Technology", "Accessories", "Keyboard", (1_000, 18_000), false,
        ["Wireless", "Mechanical", "Compact", "Ergonomic"]),
    sub("Appliances", "Coffee Makers", "Coffee Maker", (2_500, 45_000), false,
        ["Drip", "Espresso", "Pod", "Cold-Brew"]),
    sub("Appliances", "Shredders", "Shredder", (4_000, 70_000), false,
        ["Cross-Cut", "Micro-Cut", "Strip-Cut", "Auto-Feed"]),
    sub("Appliances", "Air Purifiers", "Air Purifier", (6_000, 50_000), false,
        ["HEPA", "Quiet", "Tower", "Desktop"]),
    sub("Paper", "Copy Paper", "Copy Paper", (400, 6_000), true,
        ["Multipurpose", "Premium", "Recycled", "Bright White"]),
    sub("Paper", "Notebooks", "Notebook", (200, 2_500), true,
        ["Spiral", "Hardcover", "Legal", "Grid"]),
    sub("Storage", "Filing Cabinets", "Filing Cabinet", (9_000, 90_000), false,
        ["Lateral", "Vertical", "Mobile", "Fireproof"]),
    sub("Storage", "Boxes", "Storage Box", (300, 4_000), true,
        ["Archive", "Stackable", "Clear", "Heavy-Duty"]),
    sub("Storage", "Shelving", "Shelf Unit", (4_000, 45_000), false,
        ["Steel", "Wire", "Wall-Mounted", "Adjustable"]),
];

#[rustfmt::skip]
const BRANDS: [&str; 12] = [
    "Apex", "Brightline", "Corvid", "Deltaform", "Evergreen", "Fulcrum", "Granite", "Halcyon",
    "Ionic", "Juniper", "Kestrel", "Lumen",
];

/// Number of products in the catalogue (independent of scale).
pub(crate) const PRODUCT_COUNT: usize = 80;

/// The catalogue, ordered by category and subcategory, with skus `SKU-0001..`.
pub(crate) fn products(rng: &mut ChaCha8Rng) -> Vec<Product> {
    let base = PRODUCT_COUNT / SUBCATEGORIES.len();
    let extra = PRODUCT_COUNT - base * SUBCATEGORIES.len();
    let bonus = distinct(rng, &(0..SUBCATEGORIES.len()).collect::<Vec<_>>(), extra);
    let mut out = Vec::with_capacity(PRODUCT_COUNT);
    for (s, sub) in SUBCATEGORIES.iter().enumerate() {
        let count = base + usize::from(bonus.contains(&s));
        for _ in 0..count {
            let i = out.len();
            let brand = BRANDS[rng.random_range(0..BRANDS.len())];
            let descriptor = sub.descriptors[rng.random_range(0..4)];
            let model = 100 + 37 * i % 900;
            let name = if sub.name == "Copy Paper" {
                let pack = ["1 Ream", "5 Reams", "10 Reams"][rng.random_range(0..3)];
                format!("{brand} {descriptor} Copy Paper {model}, {pack}")
            } else {
                format!("{brand} {descriptor} {} {model}", sub.noun)
            };
            let list_price = list_price(rng, sub.price_cents);
            let unit_cost = unit_cost(list_price, rng.random_range(45..=75_u32));
            out.push(Product {
                sku: format!("SKU-{:04}", i + 1),
                name,
                category: sub.category,
                subcategory: sub.name,
                list_price,
                unit_cost,
                weight: skewed(rng) * if sub.bulk { 1.4 } else { 1.0 },
                bulk: sub.bulk,
            });
        }
    }
    out
}

/// `pct` percent of the list price in cents, kept within 45-75 % after rounding.
fn unit_cost(list_price: Decimal, pct: u32) -> Decimal {
    let share = |pct: u32, strategy| {
        (list_price * Decimal::from(pct) / Decimal::ONE_HUNDRED).round_dp_with_strategy(2, strategy)
    };
    let lo = share(45, RoundingStrategy::AwayFromZero);
    let hi = share(75, RoundingStrategy::ToZero);
    share(pct, RoundingStrategy::MidpointAwayFromZero)
        .max(lo)
        .min(hi)
}

/// A price in the range, skewed to the low end, in whole cents; prices above $20 end in .99.
fn list_price(rng: &mut ChaCha8Rng, (lo, hi): (u32, u32)) -> Decimal {
    let u = rng.random::<f64>();
    let mut cents = (f64::from(lo) + f64::from(hi - lo) * u * u).round() as i64;
    if cents > 2_000 {
        cents = (cents + 50) / 100 * 100 - 1;
    }
    Decimal::new(cents.max(1), 2)
}

/// Monthly FX rates: for each month of the span, units of USD per unit of each currency.
pub(crate) struct FxRates {
    pub rates: Vec<[Decimal; 3]>,
}

impl FxRates {
    /// Rate for a month index and currency index.
    pub(crate) fn rate(&self, month: usize, currency: usize) -> Decimal {
        self.rates
            .get(month)
            .map_or(Decimal::ONE, |r| r[currency.min(CURRENCIES.len() - 1)])
    }
}

/// Mean-reverting random walks for EUR and GBP; USD is always 1.
pub(crate) fn fx_rates(rng: &mut ChaCha8Rng) -> FxRates {
    let (mut eur, mut gbp) = (1.13_f64, 1.35_f64);
    let mut rates = Vec::new();
    for _ in span_months() {
        rates.push([Decimal::ONE, micros(eur), micros(gbp)]);
        eur = (eur + (1.09 - eur) * 0.08 + (rng.random::<f64>() - 0.5) * 0.04).clamp(0.96, 1.22);
        gbp = (gbp + (1.27 - gbp) * 0.08 + (rng.random::<f64>() - 0.5) * 0.045).clamp(1.08, 1.42);
    }
    FxRates { rates }
}

fn micros(rate: f64) -> Decimal {
    Decimal::new((rate * 1_000_000.0).round() as i64, 6)
}
