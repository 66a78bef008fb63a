//! Deterministic sample data: a fictional office-products company's sales, finance, marketing and
//! inventory extracts for 2022-01-01 to 2026-09-30, with planted stories listed in `stories.csv`
//! and planted dirt listed row by row in `truth.csv`.
//!
//! The same seed and scale always produce byte-identical files: every draw comes from a seeded
//! `ChaCha8Rng` (one stream per stage), the clock is never read, only ordered collections are
//! iterated, and nothing depends on thread scheduling (the XLSX writer assembles its one sheet on
//! a helper thread, into a fixed place). `sample_data/README.md` documents the files, columns,
//! stories and dirt.
//!
//! Stages: master data ([`company`], [`reps`]) -> story entities ([`stories`]) -> orders
//! ([`orders`]) -> stock-outs ([`stock`]) -> campaign attribution and funnel ([`marketing`],
//! [`funnel`]) -> sales-core dirt and what loads ([`dirt`]) -> everything derived from the loaded
//! sales (inventory, invoices, payments, returns, survey) -> dirt in the other extracts
//! ([`dirt_domains`]) -> files ([`table`]).

mod calendar;
mod campaigns;
mod company;
mod dirt;
mod dirt_domains;
mod draw;
mod finance;
mod funnel;
mod marketing;
mod orders;
mod render;
mod reps;
mod returns;
mod salesforce;
mod stock;
mod stories;
mod table;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use company::{Customer, Product};
use dirt::{Finding, Planter};
use orders::{Line, Order, World};
use table::{Layout, Table};

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleOptions {
    /// Seed of the random generator.
    pub seed: u64,
    /// Volume multiplier (>= 1): orders and everything derived from them scale linearly,
    /// customers modestly.
    pub scale: u32,
}

impl Default for SampleOptions {
    /// The committed data set: seed 42, scale 1.
    fn default() -> Self {
        SampleOptions { seed: 42, scale: 1 }
    }
}

/// What was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleSummary {
    /// Each file's path relative to the output directory and its number of data rows.
    pub files: Vec<(PathBuf, usize)>,
}

/// Writes the sample files under `out` (created if missing), overwriting existing ones.
pub fn write_sample(out: &Path, opts: &SampleOptions) -> io::Result<SampleSummary> {
    if opts.scale == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "sample scale must be at least 1",
        ));
    }
    let (tables, findings, stories) = generate(opts);
    let mut files = Vec::new();
    let mut layouts = Vec::new();
    for table in &tables {
        let layout = table.layout();
        write_file(out, table.path, &table.bytes(&layout)?)?;
        files.push((PathBuf::from(table.path), table.data_rows()));
        layouts.push((table, layout));
    }
    let truth = truth_table(&findings, &layouts);
    write_file(out, truth.path, &truth.bytes(&truth.layout())?)?;
    files.push((PathBuf::from(truth.path), truth.data_rows()));
    write_file(out, stories.path, &stories.bytes(&stories.layout())?)?;
    files.push((PathBuf::from(stories.path), stories.data_rows()));
    Ok(SampleSummary { files })
}

fn write_file(out: &Path, relative: &str, bytes: &[u8]) -> io::Result<()> {
    let path = out.join(relative);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, bytes)
}

/// The clean sales entities most extracts are derived from.
pub(crate) struct Data {
    pub customers: Vec<Customer>,
    pub products: Vec<Product>,
    pub orders: Vec<Order>,
    pub lines: Vec<Line>,
}

const TRUTH_HEADER: &[&str] = &[
    "file",
    "line",
    "kind",
    "column",
    "related_line",
    "expected",
    "note",
];
const STORIES_HEADER: &[&str] = &["story_id", "kind", "entity", "period", "expected_signal"];

/// Column positions in `sales/customers.csv`.
pub(crate) mod ccol {
    pub const REGION: usize = 4;
}

/// Column positions in `sales/orders.csv`.
pub(crate) mod ocol {
    pub const ORDER_DATE: usize = 1;
    pub const SHIP_DATE: usize = 3;
    pub const STATUS: usize = 6;
    pub const CUSTOMER_ID: usize = 8;
    pub const UPDATED_AT: usize = 10;
}

/// Column positions in `sales/order_lines.csv`.
pub(crate) mod lcol {
    pub const SKU: usize = 2;
    pub const QUANTITY: usize = 3;
    pub const UNIT_PRICE: usize = 4;
    pub const UPDATED_AT: usize = 6;
}

/// One independent random stream per stage, so changing one stage leaves the others alone.
fn stream(seed: u64, stage: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stage);
    rng
}

/// Builds the clean data, plants stories and dirt, and renders every extract (in file order),
/// the findings and `stories.csv`.
fn generate(opts: &SampleOptions) -> (Vec<Table>, Vec<Finding>, Table) {
    let (seed, scale) = (opts.seed, opts.scale);
    let roster = reps::Roster::new(&mut stream(seed, 6));
    let mut customers = company::customers(
        &mut stream(seed, 1),
        company::customer_count(scale),
        &roster,
    );
    let products = company::products(&mut stream(seed, 2));
    let fx = company::fx_rates(&mut stream(seed, 3));
    let plan = stories::plan(&mut stream(seed, 7), &mut customers, &products, scale);
    let world = World {
        customers: &customers,
        products: &products,
        fx: &fx,
        roster: &roster,
        plan: &plan,
    };
    let mut sales = orders::orders(&mut stream(seed, 4), scale, &world);
    let shortages = stock::run_shortages(&mut stream(seed, 8), &mut sales, &plan, &products);
    marketing::attribute(&mut stream(seed, 9), &mut sales.orders, scale);
    let opportunities =
        funnel::opportunities(&mut stream(seed, 10), &sales.orders, &customers, &roster);
    let market = marketing::market_size(
        &mut stream(seed, 16),
        &sales.orders,
        &sales.lines,
        &products,
        &customers,
        &fx,
    );
    let target_basis = std::mem::take(&mut sales.target_basis);
    let data = Data {
        customers,
        products,
        orders: sales.orders,
        lines: sales.lines,
    };

    let mut core = render::core(&data, &fx);
    let mut core_rng = stream(seed, 5);
    let mut planter = Planter {
        rng: &mut core_rng,
        findings: Vec::new(),
    };
    let effective = dirt::plant(
        &mut planter,
        &data,
        &plan,
        (&mut core.customers, &mut core.orders, &mut core.lines),
    );
    let mut findings = planter.findings;

    let shipped = render::shipped_units(&data, &effective);
    let supply = stock::plan_receipts(
        &mut stream(seed, 11),
        &data.products,
        &plan,
        &shipped,
        shortages,
    );
    let snapshots = stock::month_ends(data.products.len(), &supply, &shipped);
    let costs = finance::standard_costs(&mut stream(seed, 12), &data.products);
    let invoices = finance::invoices(&data, &effective);
    let payments = finance::payments(&mut stream(seed, 13), &data, &invoices);
    let returned = returns::returns(&mut stream(seed, 14), &data, &effective, &plan);
    let responses = marketing::survey(&mut stream(seed, 15), &data, &effective);
    let spend = marketing::spend(&mut stream(seed, 17), scale);
    let leads = marketing::leads(&mut stream(seed, 18), &data.orders, &opportunities, scale);
    let targets = salesforce::targets(&mut stream(seed, 19), &target_basis);
    let activities = salesforce::activities(&mut stream(seed, 20), &data.customers, &roster, scale);

    let mut more = render::Extracts {
        reps: render::reps(&roster),
        targets: render::targets(&targets),
        company_targets: render::company_targets(&targets),
        distribution: render::distribution(),
        activities: render::activities(&data, &activities),
        opportunities: render::opportunities(&data, &opportunities),
        stages: render::stages(&opportunities),
        returns: render::returns(&data, &returned),
        costs: render::standard_costs(&data, &costs),
        invoices: render::invoices(&data, &invoices),
        payments: render::payments(&payments),
        campaigns: render::campaigns(scale),
        spend: render::spend(&spend),
        leads: render::leads(&data, &leads),
        survey: render::survey(&data, &responses),
        market: render::market(&market),
        opening: render::opening(&data, &supply),
        receipts: render::receipts(&data, &supply),
        snapshots: render::snapshots(&data, &snapshots),
    };
    let mut domain_rng = stream(seed, 21);
    let mut planter = Planter {
        rng: &mut domain_rng,
        findings: Vec::new(),
    };
    dirt_domains::plant(&mut planter, &data, &plan, &invoices, &returned, &mut more);
    findings.extend(planter.findings);

    let names = stories::Names {
        skus: data.products.iter().map(|p| p.sku.as_str()).collect(),
        customer_ids: data.customers.iter().map(|c| c.id.as_str()).collect(),
        campaign_ids: (0..campaigns::CAMPAIGNS.len())
            .map(campaigns::campaign_id)
            .collect(),
    };
    let mut stories_table = Table::new("stories.csv", STORIES_HEADER);
    stories_table.rows = stories::rows(&plan, &names)
        .into_iter()
        .map(|s| {
            vec![
                s.id.to_string(),
                s.kind.to_string(),
                s.entity,
                s.period.to_string(),
                s.signal,
            ]
        })
        .collect();

    let mut tables = vec![
        core.customers,
        core.products,
        core.orders,
        core.lines,
        core.fx,
    ];
    tables.extend(more.into_vec());
    (tables, findings, stories_table)
}

/// `truth.csv`: every finding with physical line numbers, ordered by file then line.
fn truth_table(findings: &[Finding], layouts: &[(&Table, Layout)]) -> Table {
    let mut rows: Vec<(usize, usize, Vec<String>)> = Vec::with_capacity(findings.len());
    for f in findings {
        let Some((file_rank, (table, layout))) = layouts
            .iter()
            .enumerate()
            .find(|(_, (table, _))| table.path == f.file)
        else {
            continue;
        };
        let line = table.line(layout, f.at);
        let related = f
            .related
            .map(|s| table.line(layout, s).to_string())
            .unwrap_or_default();
        let fields = vec![
            f.file.to_string(),
            line.to_string(),
            f.kind.to_string(),
            f.column.to_string(),
            related,
            f.expected.to_string(),
            f.note.clone(),
        ];
        rows.push((file_rank, line, fields));
    }
    rows.sort();
    let mut truth = Table::new("truth.csv", TRUTH_HEADER);
    truth.rows = rows.into_iter().map(|(_, _, fields)| fields).collect();
    truth
}
