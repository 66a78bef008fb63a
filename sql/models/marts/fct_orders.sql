-- materialized: table
-- description: One row per loaded order (all statuses) with its line totals in USD (net_revenue, cogs, gross_profit as in fct_order_lines; zero-line orders have 0), lines and units; days_to_ship = ship_date - order_date; is_late = shipped after promised_date (NULL while not shipped); is_shipped = status shipped or completed.
-- order_by: order_id
-- test: { unique: [order_id] }
-- partition_by: year, month
SELECT
    o.order_id,
    o.order_date,
    o.month,
    CAST(year(o.order_date) AS INTEGER) AS year,
    o.promised_date,
    o.ship_date,
    o.ship_mode,
    o.channel,
    o.status,
    o.is_cancelled,
    o.status IN ('shipped', 'completed') AS is_shipped,
    o.currency,
    o.rate_to_usd,
    o.customer_id,
    o.region,
    o.segment,
    o.rep_id,
    o.rep_team,
    o.rep_region,
    o.campaign_id,
    o.warehouse,
    CAST(count(l.line_no) AS INTEGER) AS lines,
    CAST(coalesce(sum(l.quantity), 0) AS BIGINT) AS units,
    CAST(coalesce(sum(l.net_local), 0) AS DECIMAL(18, 2)) AS net_local,
    CAST(coalesce(sum(l.net_revenue), 0) AS DECIMAL(18, 2)) AS net_revenue,
    CAST(coalesce(sum(l.cogs), 0) AS DECIMAL(18, 2)) AS cogs,
    CAST(coalesce(sum(l.net_revenue), 0) - coalesce(sum(l.cogs), 0) AS DECIMAL(18, 2)) AS gross_profit,
    CAST(o.ship_date - o.order_date AS INTEGER) AS days_to_ship,
    CASE WHEN o.ship_date IS NOT NULL THEN o.ship_date > o.promised_date END AS is_late
FROM {{ ref("stg_orders") }} AS o
LEFT JOIN {{ ref("stg_order_lines") }} AS l ON l.order_id = o.order_id
GROUP BY ALL
