//! Planting dirt in the extracts beyond the sales core: CRM activities, opportunities and their
//! stages, returns, invoices (XLSX), payments, campaign spend, leads, survey responses (NDJSON),
//! receipts and month-end snapshots. Every defect becomes a row of `truth.csv`.
//!
//! Rules as in the sales core: one defect per dirty row, duplicates after their original, and
//! the planted stories kept clean (no defect on the returns-spike product's returns or on the
//! story products' snapshots).

use rand::Rng;
use rust_decimal::Decimal;

use std::str::FromStr;

use super::dirt::{count, region_alias, Planter, FIX, FLAG, REJECT};
use super::finance::Invoice;
use super::render::Extracts;
use super::returns::Return;
use super::stories::StoryPlan;
use super::table::{Slot, Table};
use super::Data;

fn never(_: usize) -> bool {
    false
}

/// Exact copies of `per_mille` of the rows, noted by their first field.
fn duplicates(p: &mut Planter, table: &mut Table, used: &mut [bool], per_mille: usize) {
    let n = table.rows.len();
    for i in p.pick(used, count(n, per_mille), |_| true, never) {
        let note = format!("copy of {}", table.rows[i][0]);
        p.duplicate(table, i, note);
    }
}

/// Plants every kind of dirt in the other extracts.
pub(crate) fn plant(
    p: &mut Planter,
    data: &Data,
    plan: &StoryPlan,
    invoices: &[Invoice],
    returned: &[Return],
    t: &mut Extracts,
) {
    activities(p, &mut t.activities);
    opportunities(p, &mut t.opportunities);
    stages(p, &mut t.stages);
    returns(p, data, plan, returned, &mut t.returns);
    invoices_xlsx(p, &mut t.invoices);
    payments(p, invoices, &mut t.payments);
    let mut used = vec![false; t.spend.rows.len()];
    duplicates(p, &mut t.spend, &mut used, 10);
    leads(p, &mut t.leads);
    survey(p, &mut t.survey);
    receipts(p, &mut t.receipts);
    snapshots(p, data, plan, &mut t.snapshots);
}

fn activities(p: &mut Planter, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let col = table.col("activity_type");
    for (k, i) in p
        .pick(&mut used, count(n, 10), |_| true, never)
        .into_iter()
        .enumerate()
    {
        let v = table.rows[i][col].clone();
        let value = match k % 3 {
            0 => {
                let mut c = v.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
            1 => v.to_uppercase(),
            _ => format!(" {v}"),
        };
        let note = format!("{} activity_type {v}", table.rows[i][0]);
        p.edit(table, (i, col), value, ("case_variant", FIX), note);
    }
    let col = table.col("customer_id");
    for i in p.pick(&mut used, count(n, 3), |_| true, never) {
        let note = format!("{} customer was {}", table.rows[i][0], table.rows[i][col]);
        p.edit(
            table,
            (i, col),
            String::new(),
            ("blank_required", REJECT),
            note,
        );
    }
}

/// `dd/mm/yyyy` or `yyyy/m/d` text for an ISO date.
fn reformat(iso: &str, day_first: bool) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match (parts.as_slice(), day_first) {
        ([y, m, d], true) => format!("{d}/{m}/{y}"),
        ([y, m, d], false) => format!(
            "{y}/{}/{}",
            m.trim_start_matches('0'),
            d.trim_start_matches('0')
        ),
        _ => iso.to_string(),
    }
}

fn dates(
    p: &mut Planter,
    table: &mut Table,
    used: &mut [bool],
    column: &str,
    (dmy, ymd): (usize, usize),
) {
    let n = table.rows.len();
    let col = table.col(column);
    for i in p.pick(used, count(n, dmy), |_| true, never) {
        let iso = table.rows[i][col].clone();
        let note = format!("{} dd/mm/yyyy for {iso}", table.rows[i][0]);
        p.edit(
            table,
            (i, col),
            reformat(&iso, true),
            ("date_dmy", FIX),
            note,
        );
    }
    if ymd == 0 {
        return;
    }
    for i in p.pick(used, count(n, ymd), |_| true, never) {
        let iso = table.rows[i][col].clone();
        let note = format!("{} yyyy/m/d for {iso}", table.rows[i][0]);
        p.edit(
            table,
            (i, col),
            reformat(&iso, false),
            ("date_ymd_slash", FIX),
            note,
        );
    }
}

fn opportunities(p: &mut Planter, table: &mut Table) {
    let mut used = vec![false; table.rows.len()];
    dates(p, table, &mut used, "created_on", (10, 5));
}

fn stages(p: &mut Planter, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let col = table.col("stage");
    for (k, i) in p
        .pick(&mut used, count(n, 5), |_| true, never)
        .into_iter()
        .enumerate()
    {
        let v = table.rows[i][col].clone();
        let value = match k % 3 {
            0 => {
                let mut c = v.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }
            1 => v.to_uppercase(),
            _ => format!(" {v} "),
        };
        let note = format!("{} stage {v}", table.rows[i][0]);
        p.edit(table, (i, col), value, ("case_variant", FIX), note);
    }
}

fn returns(p: &mut Planter, data: &Data, plan: &StoryPlan, returned: &[Return], table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    // Returns of the spike product stay clean.
    let spike: Vec<bool> = returned
        .iter()
        .map(|r| data.lines[r.line].product == plan.spike)
        .collect();
    duplicates(p, table, &mut used, 10);
    let col = table.col("order_id");
    for i in p.pick(&mut used, count(n, 10), |i| !spike[i], never) {
        let code = format!(
            "SO-{:06}",
            data.orders.len() + 1 + p.rng.random_range(0..50_000)
        );
        let note = format!(
            "{} order {code} does not exist; was {}",
            table.rows[i][0], table.rows[i][col]
        );
        p.edit(table, (i, col), code, ("unknown_order", REJECT), note);
    }
    dates(p, table, &mut used, "return_date", (10, 0));
}

fn invoices_xlsx(p: &mut Planter, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let col = table.col("invoice_date");
    for i in p.pick(&mut used, count(n, 5), |_| true, never) {
        table.text_cells.push((Slot::Row(i), col));
        let note = format!(
            "{} invoice_date {} is a text cell",
            table.rows[i][0], table.rows[i][col]
        );
        p.mark(table, (i, col), ("date_as_text", FIX), note);
    }
}

/// `1234567.50` as `1,234,567.50`.
fn with_separators(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut grouped = String::new();
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

fn payments(p: &mut Planter, invoices: &[Invoice], table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let amount_col = table.col("amount");
    let big: Vec<bool> = table
        .rows
        .iter()
        .map(|r| Decimal::from_str(&r[amount_col]).is_ok_and(|a| a >= Decimal::from(1_000)))
        .collect();
    for i in p.pick(&mut used, count(n, 15), |i| big[i], never) {
        let v = table.rows[i][amount_col].clone();
        let note = format!("{} amount {v}", table.rows[i][0]);
        p.edit(
            table,
            (i, amount_col),
            with_separators(&v),
            ("thousands_separator", FIX),
            note,
        );
    }
    let invoice_col = table.col("invoice_id");
    for i in p.pick(&mut used, count(n, 15), |_| true, never) {
        let v = table.rows[i][amount_col].clone();
        let currency = table.rows[i][invoice_col]
            .strip_prefix("INV-")
            .and_then(|d| d.parse::<usize>().ok())
            .and_then(|k| invoices.get(k.wrapping_sub(1)))
            .map_or(0, |inv| inv.currency);
        let symbol = ["$", "€", "£"][currency.min(2)];
        let note = format!("{} amount {v}", table.rows[i][0]);
        p.edit(
            table,
            (i, amount_col),
            format!("{symbol}{}", with_separators(&v)),
            ("currency_symbol", FIX),
            note,
        );
    }
    for i in p.pick(&mut used, count(n, 3), |_| true, never) {
        let code = format!(
            "INV-{:06}",
            invoices.len() + 1 + p.rng.random_range(0..50_000)
        );
        let note = format!(
            "{} invoice {code} does not exist; was {}",
            table.rows[i][0], table.rows[i][invoice_col]
        );
        p.edit(
            table,
            (i, invoice_col),
            code,
            ("unknown_invoice", REJECT),
            note,
        );
    }
}

fn leads(p: &mut Planter, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let col = table.col("campaign_id");
    for i in p.pick(&mut used, count(n, 5), |_| true, never) {
        let code = format!("CMP-{}", p.rng.random_range(50..=99));
        let note = format!(
            "{} campaign {code} does not exist; was {}",
            table.rows[i][0], table.rows[i][col]
        );
        p.edit(table, (i, col), code, ("unknown_campaign", REJECT), note);
    }
}

fn survey(p: &mut Planter, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    duplicates(p, table, &mut used, 5);
    let (csat, nps) = (table.col("csat"), table.col("nps"));
    for (k, i) in p
        .pick(&mut used, count(n, 5), |_| true, never)
        .into_iter()
        .enumerate()
    {
        let (col, value) = match k % 4 {
            0 => (csat, "0"),
            1 => (csat, "6"),
            2 => (nps, "11"),
            _ => (nps, "-1"),
        };
        let note = format!(
            "{} {} {} is out of range; was {}",
            table.rows[i][0], table.header[col], value, table.rows[i][col]
        );
        p.edit(
            table,
            (i, col),
            value.to_string(),
            ("out_of_range", REJECT),
            note,
        );
    }
    let col = table.col("region");
    for (k, i) in p
        .pick(&mut used, count(n, 10), |_| true, never)
        .into_iter()
        .enumerate()
    {
        let region = table.rows[i][col].clone();
        let note = format!("{} region {region}", table.rows[i][0]);
        p.edit(
            table,
            (i, col),
            region_alias(k, &region),
            ("region_alias", FIX),
            note,
        );
    }
}

fn receipts(p: &mut Planter, table: &mut Table) {
    let mut used = vec![false; table.rows.len()];
    duplicates(p, table, &mut used, 5);
    dates(p, table, &mut used, "received_on", (5, 0));
}

fn snapshots(p: &mut Planter, data: &Data, plan: &StoryPlan, table: &mut Table) {
    let n = table.rows.len();
    let mut used = vec![false; n];
    let story_skus: Vec<&str> = data
        .products
        .iter()
        .enumerate()
        .filter(|(i, _)| plan.is_story_product(*i))
        .map(|(_, prod)| prod.sku.as_str())
        .collect();
    let sku_col = table.col("sku");
    let on_hand = table.col("on_hand");
    let ok: Vec<bool> = table
        .rows
        .iter()
        .map(|r| !story_skus.contains(&r[sku_col].as_str()))
        .collect();
    let mismatches = ((n * 5 + 5_000) / 10_000).max(3);
    for i in p.pick(&mut used, mismatches, |i| ok[i], never) {
        let was: i64 = table.rows[i][on_hand].parse().unwrap_or(0);
        let delta = p.rng.random_range(1..=5_i64);
        let now = if was >= 6 && p.rng.random_bool(0.5) {
            was - delta
        } else {
            was + delta
        };
        let note = format!(
            "{} {} {}: counted {now}, books say {was} ({:+})",
            table.rows[i][0],
            table.rows[i][sku_col],
            table.rows[i][table.col("warehouse")],
            now - was
        );
        p.edit(
            table,
            (i, on_hand),
            now.to_string(),
            ("snapshot_mismatch", FLAG),
            note,
        );
    }
}
