//! Rendering the generated entities into extract tables: one function per file, with the file's
//! path, header, format and row order.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::calendar::{day_index, iso, span_days, span_months, FIRST_DAY};
use super::campaigns::{campaign_id, CAMPAIGNS};
use super::company::{FxRates, CURRENCIES, REGIONS};
use super::dirt::Effective;
use super::finance::{Invoice, Payment};
use super::funnel::{Opportunity, PROBABILITY, STAGES};
use super::marketing::{budget, Lead, Response, CATEGORIES_CN, REGIONS_CN};
use super::orders::WAREHOUSES;
use super::reps::{rep_id, team_region, Roster, TEAMS};
use super::returns::{Return, REASONS};
use super::salesforce::{self, Activity};
use super::stock::Supply;
use super::table::{Format, Kind, Table};
use super::Data;

/// The five sales-core extracts.
pub(crate) struct Core {
    pub customers: Table,
    pub products: Table,
    pub orders: Table,
    pub lines: Table,
    pub fx: Table,
}

/// Every other extract, in file order.
pub(crate) struct Extracts {
    pub reps: Table,
    pub targets: Table,
    pub company_targets: Table,
    pub distribution: Table,
    pub activities: Table,
    pub opportunities: Table,
    pub stages: Table,
    pub returns: Table,
    pub costs: Table,
    pub invoices: Table,
    pub payments: Table,
    pub campaigns: Table,
    pub spend: Table,
    pub leads: Table,
    pub survey: Table,
    pub market: Table,
    pub opening: Table,
    pub receipts: Table,
    pub snapshots: Table,
}

impl Extracts {
    pub(crate) fn into_vec(self) -> Vec<Table> {
        vec![
            self.reps,
            self.targets,
            self.company_targets,
            self.distribution,
            self.activities,
            self.opportunities,
            self.stages,
            self.returns,
            self.costs,
            self.invoices,
            self.payments,
            self.campaigns,
            self.spend,
            self.leads,
            self.survey,
            self.market,
            self.opening,
            self.receipts,
            self.snapshots,
        ]
    }
}

const CUSTOMERS_HEADER: &[&str] = &[
    "customer_id",
    "customer_name",
    "industry",
    "size",
    "region",
    "segment",
    "created_on",
    "updated_at",
];
const PRODUCTS_HEADER: &[&str] = &[
    "sku",
    "product_name",
    "category",
    "subcategory",
    "list_price",
    "unit_cost",
];
const ORDERS_HEADER: &[&str] = &[
    "order_id",
    "order_date",
    "promised_date",
    "ship_date",
    "ship_mode",
    "channel",
    "status",
    "currency",
    "customer_id",
    "rep_id",
    "updated_at",
    "campaign_id",
    "warehouse",
];
const LINES_HEADER: &[&str] = &[
    "order_id",
    "line_no",
    "sku",
    "quantity",
    "unit_price",
    "discount_pct",
    "updated_at",
];
const FX_HEADER: &[&str] = &["month", "currency", "rate_to_usd"];

fn table(path: &'static str, header: &'static [&'static str], rows: Vec<Vec<String>>) -> Table {
    let mut t = Table::new(path, header);
    t.rows = rows;
    t
}

fn dec(value: Decimal) -> String {
    format!("{value:.2}")
}

/// Customers, products, orders, order lines and FX rates.
pub(crate) fn core(data: &Data, fx: &FxRates) -> Core {
    let customers = data
        .customers
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.name.clone(),
                c.industry.to_string(),
                c.size.to_string(),
                REGIONS[c.region].to_string(),
                c.segment.to_string(),
                iso(c.created_on),
                c.updated_at.format(),
            ]
        })
        .collect();
    let products = data
        .products
        .iter()
        .map(|p| {
            vec![
                p.sku.clone(),
                p.name.clone(),
                p.category.to_string(),
                p.subcategory.to_string(),
                dec(p.list_price),
                dec(p.unit_cost),
            ]
        })
        .collect();
    let orders = data
        .orders
        .iter()
        .map(|o| {
            vec![
                o.id.clone(),
                iso(o.date),
                iso(o.promised),
                o.ship.map(iso).unwrap_or_default(),
                o.ship_mode.to_string(),
                o.channel.to_string(),
                o.status.as_str().to_string(),
                CURRENCIES[o.currency].to_string(),
                data.customers[o.customer].id.clone(),
                rep_id(o.rep),
                o.updated_at.format(),
                o.campaign.map(campaign_id).unwrap_or_default(),
                WAREHOUSES[o.warehouse].to_string(),
            ]
        })
        .collect();
    let lines = data
        .lines
        .iter()
        .map(|l| {
            vec![
                data.orders[l.order].id.clone(),
                l.line_no.to_string(),
                data.products[l.product].sku.clone(),
                l.quantity.to_string(),
                dec(l.unit_price),
                l.discount_pct.to_string(),
                l.updated_at.format(),
            ]
        })
        .collect();
    let mut fx_rows = Vec::new();
    for (m, month) in span_months().into_iter().enumerate() {
        for (c, currency) in CURRENCIES.iter().enumerate() {
            fx_rows.push(vec![
                iso(month.first_day()),
                currency.to_string(),
                format!("{:.6}", fx.rate(m, c)),
            ]);
        }
    }
    Core {
        customers: table("sales/customers.csv", CUSTOMERS_HEADER, customers),
        products: table("sales/products.csv", PRODUCTS_HEADER, products),
        orders: table("sales/orders.csv", ORDERS_HEADER, orders),
        lines: table("sales/order_lines.csv", LINES_HEADER, lines),
        fx: table("finance/fx_rates.csv", FX_HEADER, fx_rows),
    }
}

/// Units shipped per product, warehouse and day by what loads.
pub(crate) fn shipped_units(data: &Data, effective: &Effective) -> Vec<Vec<Vec<i64>>> {
    let n = span_days();
    let mut out = vec![vec![vec![0_i64; n]; WAREHOUSES.len()]; data.products.len()];
    for (l, line) in data.lines.iter().enumerate() {
        let order = &data.orders[line.order];
        if let (Some(q), Some(ship)) = (effective.shipped_quantity(data, l), order.ship) {
            out[line.product][order.warehouse][day_index(ship)] += q;
        }
    }
    out
}

/// `sales/reps.csv`, with a UTF-8 byte-order mark.
pub(crate) fn reps(roster: &Roster) -> Table {
    let rows = roster
        .assignments
        .iter()
        .map(|a| {
            vec![
                rep_id(a.rep),
                roster.names[a.rep].clone(),
                TEAMS[a.team].0.to_string(),
                REGIONS[team_region(a.team)].to_string(),
                roster.manager(a).map(rep_id).unwrap_or_default(),
                iso(a.from),
                a.to.map(iso).unwrap_or_default(),
                iso(roster.hired[a.rep]),
            ]
        })
        .collect();
    table(
        "sales/reps.csv",
        &[
            "rep_id",
            "rep_name",
            "team",
            "region",
            "manager_id",
            "valid_from",
            "valid_to",
            "hired_on",
        ],
        rows,
    )
    .with_format(Format::CsvBom)
}

/// `sales/targets.csv`.
pub(crate) fn targets(targets: &BTreeMap<(i32, usize), Decimal>) -> Table {
    let rows = targets
        .iter()
        .map(|((year, rep), t)| vec![year.to_string(), rep_id(*rep), dec(*t)])
        .collect();
    table(
        "sales/targets.csv",
        &["year", "rep_id", "annual_target"],
        rows,
    )
}

/// `sales/company_targets.csv`: the sum of the reps' targets.
pub(crate) fn company_targets(targets: &BTreeMap<(i32, usize), Decimal>) -> Table {
    let mut sums: BTreeMap<i32, Decimal> = BTreeMap::new();
    for ((year, _), t) in targets {
        *sums.entry(*year).or_default() += *t;
    }
    let rows = sums
        .into_iter()
        .map(|(year, t)| vec![year.to_string(), dec(t)])
        .collect();
    table(
        "sales/company_targets.csv",
        &["year", "annual_target"],
        rows,
    )
}

/// `sales/target_distribution.csv`.
pub(crate) fn distribution() -> Table {
    let pct = distribution_pct();
    let mut rows = Vec::new();
    for year in salesforce::TARGET_YEARS {
        for (m, p) in pct.iter().enumerate() {
            rows.push(vec![year.to_string(), (m + 1).to_string(), p.clone()]);
        }
    }
    table(
        "sales/target_distribution.csv",
        &["year", "month", "pct"],
        rows,
    )
}

/// The monthly percentages as text with two decimals.
fn distribution_pct() -> Vec<String> {
    salesforce::distribution()
        .iter()
        .map(|bp| dec(Decimal::new(i64::from(*bp), 2)))
        .collect()
}

/// `sales/crm_activities.csv`.
pub(crate) fn activities(data: &Data, activities: &[Activity]) -> Table {
    let rows = activities
        .iter()
        .enumerate()
        .map(|(k, a)| {
            vec![
                format!("CA-{:06}", k + 1),
                rep_id(a.rep),
                data.customers[a.customer].id.clone(),
                iso(a.date),
                if a.visit { "visit" } else { "call" }.to_string(),
                a.outcome.to_string(),
            ]
        })
        .collect();
    table(
        "sales/crm_activities.csv",
        &[
            "activity_id",
            "rep_id",
            "customer_id",
            "activity_date",
            "activity_type",
            "outcome",
        ],
        rows,
    )
}

/// Opportunity id for an index.
pub(crate) fn opportunity_id(index: usize) -> String {
    format!("OP-{:05}", index + 1)
}

/// `sales/opportunities.csv`.
pub(crate) fn opportunities(data: &Data, opportunities: &[Opportunity]) -> Table {
    let rows = opportunities
        .iter()
        .enumerate()
        .map(|(k, o)| {
            vec![
                opportunity_id(k),
                data.customers[o.customer].id.clone(),
                rep_id(o.rep),
                o.campaign.map(campaign_id).unwrap_or_default(),
                iso(o.created),
                dec(o.amount()),
                o.status().to_string(),
                o.closed().map(iso).unwrap_or_default(),
                o.order
                    .map(|i| data.orders[i].id.clone())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        "sales/opportunities.csv",
        &[
            "opportunity_id",
            "customer_id",
            "rep_id",
            "campaign_id",
            "created_on",
            "amount",
            "status",
            "closed_on",
            "order_id",
        ],
        rows,
    )
}

/// `sales/opportunity_stages.csv`.
pub(crate) fn stages(opportunities: &[Opportunity]) -> Table {
    let mut rows = Vec::new();
    for (k, o) in opportunities.iter().enumerate() {
        for s in &o.stages {
            rows.push(vec![
                opportunity_id(k),
                STAGES[s.stage].to_string(),
                iso(s.entered),
                dec(s.amount),
                PROBABILITY[s.stage].to_string(),
            ]);
        }
    }
    table(
        "sales/opportunity_stages.csv",
        &[
            "opportunity_id",
            "stage",
            "entered_on",
            "amount",
            "probability",
        ],
        rows,
    )
}

/// `sales/returns.csv`.
pub(crate) fn returns(data: &Data, returns: &[Return]) -> Table {
    let rows = returns
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let line = &data.lines[r.line];
            vec![
                format!("RT-{:05}", k + 1),
                data.orders[line.order].id.clone(),
                line.line_no.to_string(),
                iso(r.date),
                r.quantity.to_string(),
                REASONS[r.reason].to_string(),
                if r.exchange { "exchange" } else { "return" }.to_string(),
                r.processed.map(iso).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        "sales/returns.csv",
        &[
            "return_id",
            "order_id",
            "line_no",
            "return_date",
            "quantity",
            "reason",
            "return_type",
            "processed_on",
        ],
        rows,
    )
}

/// `finance/standard_costs.csv`.
pub(crate) fn standard_costs(data: &Data, costs: &[(usize, i32, Decimal)]) -> Table {
    let rows = costs
        .iter()
        .map(|(p, year, cost)| {
            vec![
                data.products[*p].sku.clone(),
                format!("{year}-01-01"),
                if *year == 2026 {
                    String::new()
                } else {
                    format!("{year}-12-31")
                },
                dec(*cost),
            ]
        })
        .collect();
    table(
        "finance/standard_costs.csv",
        &["sku", "valid_from", "valid_to", "standard_cost"],
        rows,
    )
}

/// Invoice id for an index.
pub(crate) fn invoice_id(index: usize) -> String {
    format!("INV-{:06}", index + 1)
}

/// Column types of `finance/invoices.xlsx`.
const INVOICE_KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Text,
    Kind::Date,
    Kind::Date,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Decimal,
    Kind::Text,
];

/// `finance/invoices.xlsx`, sheet `Invoices`.
pub(crate) fn invoices(data: &Data, invoices: &[Invoice]) -> Table {
    let rows = invoices
        .iter()
        .enumerate()
        .map(|(k, i)| {
            vec![
                invoice_id(k),
                data.orders[i.order].id.clone(),
                iso(i.date),
                iso(i.due),
                dec(i.net),
                dec(i.tax),
                dec(i.gross),
                CURRENCIES[i.currency].to_string(),
            ]
        })
        .collect();
    table(
        "finance/invoices.xlsx",
        &[
            "invoice_id",
            "order_id",
            "invoice_date",
            "due_date",
            "net_amount",
            "tax_amount",
            "gross_amount",
            "currency",
        ],
        rows,
    )
    .with_format(Format::Xlsx {
        sheet: "Invoices",
        kinds: INVOICE_KINDS,
    })
}

/// `finance/payments.csv`.
pub(crate) fn payments(payments: &[Payment]) -> Table {
    let rows = payments
        .iter()
        .enumerate()
        .map(|(k, (i, day, amount))| {
            vec![
                format!("PY-{:06}", k + 1),
                invoice_id(*i),
                iso(*day),
                dec(*amount),
            ]
        })
        .collect();
    table(
        "finance/payments.csv",
        &["payment_id", "invoice_id", "payment_date", "amount"],
        rows,
    )
}

/// `marketing/campaigns.csv`.
pub(crate) fn campaigns(scale: u32) -> Table {
    let rows = CAMPAIGNS
        .iter()
        .enumerate()
        .map(|(k, c)| {
            vec![
                campaign_id(k),
                c.name.to_string(),
                c.channel.to_string(),
                iso(c.start),
                iso(c.end),
                dec(budget(k, scale)),
            ]
        })
        .collect();
    table(
        "marketing/campaigns.csv",
        &[
            "campaign_id",
            "campaign_name",
            "channel",
            "start_date",
            "end_date",
            "budget",
        ],
        rows,
    )
}

/// `marketing/campaign_spend.csv`.
pub(crate) fn spend(spend: &[(chrono::NaiveDate, usize, Decimal)]) -> Table {
    let rows = spend
        .iter()
        .map(|(day, c, amount)| vec![iso(*day), campaign_id(*c), dec(*amount)])
        .collect();
    table(
        "marketing/campaign_spend.csv",
        &["spend_date", "campaign_id", "spend"],
        rows,
    )
}

/// `marketing/leads.csv`.
pub(crate) fn leads(data: &Data, leads: &[Lead]) -> Table {
    let rows = leads
        .iter()
        .enumerate()
        .map(|(k, l)| {
            vec![
                format!("LD-{:05}", k + 1),
                campaign_id(l.campaign),
                iso(l.created),
                l.customer
                    .map(|c| data.customers[c].id.clone())
                    .unwrap_or_default(),
                l.opportunity.map(opportunity_id).unwrap_or_default(),
            ]
        })
        .collect();
    table(
        "marketing/leads.csv",
        &[
            "lead_id",
            "campaign_id",
            "created_on",
            "customer_id",
            "opportunity_id",
        ],
        rows,
    )
}

/// Field types of `marketing/survey_responses.ndjson`.
const SURVEY_KINDS: &[Kind] = &[
    Kind::Text,
    Kind::Date,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Int,
];

/// `marketing/survey_responses.ndjson`.
pub(crate) fn survey(data: &Data, responses: &[Response]) -> Table {
    let rows = responses
        .iter()
        .enumerate()
        .map(|(k, r)| {
            vec![
                format!("SR-{:06}", k + 1),
                iso(r.date),
                REGIONS[data.customers[r.customer].region].to_string(),
                data.products[r.product].sku.clone(),
                data.customers[r.customer].id.clone(),
                r.csat.to_string(),
                r.nps.to_string(),
            ]
        })
        .collect();
    table(
        "marketing/survey_responses.ndjson",
        &[
            "response_id",
            "response_date",
            "region",
            "sku",
            "customer_id",
            "csat",
            "nps",
        ],
        rows,
    )
    .with_format(Format::Ndjson(SURVEY_KINDS))
}

/// `marketing/market_size_cn.csv`, encoded in GBK.
pub(crate) fn market(market: &[(i32, usize, usize, Decimal)]) -> Table {
    let rows = market
        .iter()
        .map(|(year, region, category, size)| {
            vec![
                year.to_string(),
                REGIONS_CN[*region].to_string(),
                CATEGORIES_CN[*category].1.to_string(),
                format!("{size:.0}"),
            ]
        })
        .collect();
    table(
        "marketing/market_size_cn.csv",
        &["year", "region", "category", "market_size"],
        rows,
    )
    .with_format(Format::CsvGbk)
}

/// `inventory/opening_stock.csv`.
pub(crate) fn opening(data: &Data, supply: &Supply) -> Table {
    let rows = supply
        .opening
        .iter()
        .map(|((p, w), q)| {
            vec![
                data.products[*p].sku.clone(),
                WAREHOUSES[*w].to_string(),
                q.to_string(),
                iso(FIRST_DAY),
            ]
        })
        .collect();
    table(
        "inventory/opening_stock.csv",
        &["sku", "warehouse", "on_hand", "snapshot_date"],
        rows,
    )
}

/// `inventory/receipts.csv`.
pub(crate) fn receipts(data: &Data, supply: &Supply) -> Table {
    let rows = supply
        .receipts
        .iter()
        .enumerate()
        .map(|(k, r)| {
            vec![
                format!("RC-{:06}", k + 1),
                data.products[r.product].sku.clone(),
                WAREHOUSES[r.warehouse].to_string(),
                iso(r.day),
                r.quantity.to_string(),
            ]
        })
        .collect();
    table(
        "inventory/receipts.csv",
        &["receipt_id", "sku", "warehouse", "received_on", "quantity"],
        rows,
    )
}

/// `inventory/month_end_snapshots.csv`.
pub(crate) fn snapshots(data: &Data, levels: &[Vec<Vec<i64>>]) -> Table {
    let mut rows = Vec::new();
    for (month, by_product) in span_months().into_iter().zip(levels) {
        for (p, by_wh) in by_product.iter().enumerate() {
            for (w, q) in by_wh.iter().enumerate() {
                rows.push(vec![
                    iso(month.last_day()),
                    data.products[p].sku.clone(),
                    WAREHOUSES[w].to_string(),
                    q.to_string(),
                ]);
            }
        }
    }
    table(
        "inventory/month_end_snapshots.csv",
        &["month_end", "sku", "warehouse", "on_hand"],
        rows,
    )
}
