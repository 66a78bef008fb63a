-- materialized: table
-- description: One row per return or exchange of a line of a non-cancelled order, with the original sale's attributes (sale date and month, customer region and segment, rep and the rep's team and region on the sale date, channel, product) so that net revenue can subtract returns in the month they are dated (return_month) and return rates can attribute them to the sale's month (sale_month). returned_revenue = round(round(quantity x unit_price x (100 - discount_pct) / 100, 2) x rate_to_usd of the sale month, 2) USD; returned_cogs = quantity x the sale's standard cost; processing_days = processed_on - return_date.
-- order_by: return_id
-- test: { unique: [return_id] }
-- partition_by: year
SELECT
    r.return_id,
    r.order_id,
    r.line_no,
    r.return_date,
    r.return_month,
    CAST(year(r.return_date) AS INTEGER) AS year,
    r.return_month AS month,
    f.order_date AS sale_date,
    f.month AS sale_month,
    f.ship_date,
    CAST(r.return_date - f.ship_date AS INTEGER) AS days_after_ship,
    f.customer_id,
    f.region,
    f.segment,
    f.rep_id,
    f.rep_team,
    f.rep_region,
    f.channel,
    f.sku,
    f.category,
    f.subcategory,
    f.units AS sold_units,
    r.returned_units,
    r.returned_revenue,
    r.returned_cogs,
    CAST(r.returned_revenue - r.returned_cogs AS DECIMAL(18, 2)) AS returned_gross_profit,
    r.reason,
    r.return_type,
    r.processed_on,
    r.processing_days
FROM {{ ref("stg_returns") }} AS r
JOIN {{ ref("fct_order_lines") }} AS f ON f.order_id = r.order_id AND f.line_no = r.line_no
