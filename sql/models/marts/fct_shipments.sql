-- materialized: table
-- description: Shipped order lines (orders shipped or completed in their latest version, shipped on or before the as-of date) leaving the order's warehouse on its ship_date: units, cogs (units x the standard cost of the order date) and net_revenue (USD) per line; is_late = shipped after the promised date.
-- order_by: order_id, line_no
-- test: { unique: [order_id, line_no] }
-- partition_by: year, month
SELECT
    o.ship_date,
    CAST(year(o.ship_date) AS INTEGER) AS year,
    CAST(date_trunc('month', o.ship_date) AS DATE) AS month,
    o.warehouse,
    l.sku,
    l.category,
    o.order_id,
    l.line_no,
    o.order_date,
    o.promised_date,
    o.ship_mode,
    o.region,
    l.quantity AS units,
    l.cogs,
    l.net_revenue,
    o.ship_date > o.promised_date AS is_late
FROM {{ ref("stg_order_lines") }} AS l
JOIN {{ ref("stg_orders") }} AS o ON o.order_id = l.order_id
WHERE o.status IN ('shipped', 'completed') AND o.ship_date IS NOT NULL AND o.ship_date <= DATE '{{ as_of }}'
