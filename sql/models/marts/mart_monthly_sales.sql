-- materialized: table
-- description: Monthly sales booked by customer region and product category (from fct_order_lines; cancelled orders excluded; returns not subtracted, see kpi_sales_monthly for net revenue after returns). net_revenue, cogs (standard cost of the order date), gross_profit = net_revenue - cogs (DECIMAL(18,2)); gm_pct = gross_profit / net_revenue (a DECIMAL(18,4) fraction, 0.25 = 25 %); orders = distinct orders with a line in the cell.
-- order_by: month, region, category
-- test: { unique: [month, region, category] }
-- partition_by: year
SELECT
    month,
    CAST(year(month) AS INTEGER) AS year,
    region,
    category,
    CAST(sum(net_revenue) AS DECIMAL(18, 2)) AS net_revenue,
    CAST(sum(units) AS BIGINT) AS units,
    CAST(sum(cogs) AS DECIMAL(18, 2)) AS cogs,
    CAST(sum(net_revenue) - sum(cogs) AS DECIMAL(18, 2)) AS gross_profit,
    CAST(CASE WHEN sum(net_revenue) <> 0 THEN (sum(net_revenue) - sum(cogs)) / sum(net_revenue) END
        AS DECIMAL(18, 4)) AS gm_pct,
    CAST(count(DISTINCT order_id) AS BIGINT) AS orders
FROM {{ ref("fct_order_lines") }}
GROUP BY ALL
