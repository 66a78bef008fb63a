-- materialized: table
-- description: One row per order line of every order that is not cancelled, in the home currency (USD); revenue is booked on the order date. net_local = round(quantity x unit_price x (100 - discount_pct) / 100, 2) in the order currency; net_revenue = round(net_local x rate_to_usd of the order month, 2), net of tax and discounts; gross_revenue the same before the discount, discount_amount = gross_revenue - net_revenue; cogs = quantity x the standard cost in effect on the order date; gross_profit = net_revenue - cogs. region and segment are the customer's; rep_team and rep_region are the selling rep's on the order date.
-- order_by: order_id, line_no
-- test: { unique: [order_id, line_no] }
-- partition_by: year, month
SELECT
    o.order_id,
    l.line_no,
    o.order_date,
    o.month,
    o.channel,
    o.ship_mode,
    o.status,
    o.currency,
    o.customer_id,
    o.region,
    o.segment,
    o.rep_id,
    l.sku,
    l.category,
    l.subcategory,
    l.quantity AS units,
    l.unit_price,
    l.discount_pct,
    l.net_local,
    o.rate_to_usd,
    l.net_revenue,
    l.cogs,
    CAST(l.net_revenue - l.cogs AS DECIMAL(18, 2)) AS gross_profit,
    CAST(year(o.order_date) AS INTEGER) AS year,
    CAST(date_trunc('quarter', o.order_date) AS DATE) AS quarter,
    o.rep_team,
    o.rep_region,
    o.campaign_id,
    o.warehouse,
    o.ship_date,
    l.gross_revenue,
    l.discount_amount,
    l.standard_cost
FROM {{ ref("stg_order_lines") }} AS l
JOIN {{ ref("stg_orders") }} AS o ON o.order_id = l.order_id
WHERE NOT o.is_cancelled
