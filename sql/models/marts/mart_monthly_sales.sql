-- materialized: table
-- description: Monthly net revenue, units, COGS and gross profit by customer region and product category (from fct_order_lines; cancelled orders excluded). gm_pct = gross_profit / net_revenue; orders = distinct orders with a line in the cell.
SELECT
    month,
    region,
    category,
    sum(net_revenue) AS net_revenue,
    sum(units) AS units,
    sum(cogs) AS cogs,
    sum(net_revenue) - sum(cogs) AS gross_profit,
    CASE WHEN sum(net_revenue) <> 0 THEN (sum(net_revenue) - sum(cogs)) / sum(net_revenue) END AS gm_pct,
    count(DISTINCT order_id) AS orders
FROM {{ ref("fct_order_lines") }}
GROUP BY month, region, category
